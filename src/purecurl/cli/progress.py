"""Progress display: curl's classic meter, its `-#` bar, its parallel meter, and a live
multi-transfer view for terminals.

Theory of operation: the runner keeps one `Progress` per transfer (byte counts from the
handle's XFERINFOFUNCTION) and calls a display's `update(now)` as the loop turns and `done()`
at the end; each display decides itself how often to redraw (curl redraws its meter once a
second, the bar ten times a second). The formats follow curl: the meter's columns are
lib/progress.c's (sizes in at most five characters: `12345`, `1234k`, `12.3M`; times as
`H:MM:SS` or `--:--:--`), the parallel meter's are src/tool_progress.c's. The terminal view
is purecurl's own: one line per running transfer with a bar, and a total line (bytes, rate,
ETA, done/failed counts), redrawn in place with ANSI cursor movement.
"""

from __future__ import annotations

import collections
import os
import shutil
from dataclasses import dataclass, field
from typing import TextIO

KB = 1024
MB = KB * 1024
GB = MB * 1024
TB = GB * 1024


def size5(n: int) -> str:
    """A byte count in at most five characters, as curl's meter prints it."""
    n = max(0, int(n))
    if n < 100000:
        return f"{n:5d}"
    if n < 10000 * KB:
        return f"{n // KB:4d}k"
    if n < 100 * MB:
        return f"{n // MB:2d}.{(n % MB) // (MB // 10)}M"
    if n < 10000 * MB:
        return f"{n // MB:4d}M"
    if n < 100 * GB:
        return f"{n // GB:2d}.{(n % GB) // (GB // 10)}G"
    if n < 10000 * GB:
        return f"{n // GB:4d}G"
    if n < 10000 * TB:
        return f"{n // TB:4d}T"
    return f"{n // (TB * 1024):4d}P"


def time8(seconds: float | None) -> str:
    """A duration in eight characters: ` H:MM:SS`, `HHHh MMm`, `DDDd HHh`, or `--:--:--`."""
    if seconds is None or seconds < 1:
        return "--:--:--"
    s = int(seconds)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    if h < 100:
        return f"{h:2d}:{m:02d}:{sec:02d}"
    d, h = divmod(h, 24)
    if d < 1000:
        return f"{d:3d}d {h:02d}h"
    return f"{d:7d}d"


@dataclass
class Progress:
    """Byte counts of one transfer, as XFERINFOFUNCTION reports them."""

    name: str = ""
    dltotal: int = 0
    dlnow: int = 0
    ultotal: int = 0
    ulnow: int = 0
    started: float = 0.0
    finished: bool = False
    failed: bool = False

    def set(self, dltotal: int, dlnow: int, ultotal: int, ulnow: int) -> None:
        self.dltotal, self.dlnow, self.ultotal, self.ulnow = dltotal, dlnow, ultotal, ulnow


@dataclass
class _Rate:
    """Current speed: bytes over the last few seconds, as curl's "Current Speed"."""

    window: float = 5.0
    samples: collections.deque[tuple[float, int]] = field(default_factory=collections.deque)

    def add(self, now: float, total: int) -> float:
        self.samples.append((now, total))
        while len(self.samples) > 2 and now - self.samples[1][0] >= self.window:
            self.samples.popleft()
        t0, b0 = self.samples[0]
        return (total - b0) / (now - t0) if now > t0 else 0.0


class ClassicMeter:
    """curl's default meter on stderr for one transfer (libcurl's progress.c columns)."""

    HEADER = (
        "  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"
        "                                 Dload  Upload   Total   Spent    Left  Speed\n"
    )

    def __init__(self, out: TextIO, progress: Progress, now: float) -> None:
        self.out = out
        self.p = progress
        self.start = now
        self.last_draw: float | None = None
        self.rate = _Rate()
        self.header_shown = False

    def line(self, now: float) -> str:
        p = self.p
        spent = max(0.0, now - self.start)
        dl_known = p.dltotal > 0
        ul_known = p.ultotal > 0
        expected = (p.dltotal if dl_known else p.dlnow) + (p.ultotal if ul_known else p.ulnow)
        current = p.dlnow + p.ulnow
        total_pct = current * 100 // expected if expected > 0 else 0
        dl_pct = p.dlnow * 100 // p.dltotal if dl_known else 0
        ul_pct = p.ulnow * 100 // p.ultotal if ul_known else 0
        dl_speed = int(p.dlnow / spent) if spent > 0 else 0
        ul_speed = int(p.ulnow / spent) if spent > 0 else 0
        speed = self.rate.add(now, current)
        left: float | None = None
        total_time: float | None = None
        avg = dl_speed + ul_speed
        if (dl_known or ul_known) and avg > 0:
            left = max(0, expected - current) / avg
            total_time = spent + left
        return (
            f"\r{total_pct:3d} {size5(expected)}  {dl_pct:3d} {size5(p.dlnow)}  "
            f"{ul_pct:3d} {size5(p.ulnow)}  {size5(dl_speed)}  {size5(ul_speed)} "
            f"{time8(total_time)} {time8(spent)} {time8(left)} {size5(int(speed))}"
        )

    @property
    def drawn(self) -> bool:
        """Whether anything was shown yet."""
        return self.header_shown

    def update(self, now: float) -> None:
        if self.last_draw is not None and now - self.last_draw < 1.0:
            return
        self.draw(now)

    def draw(self, now: float) -> None:
        if not self.header_shown:
            self.out.write(self.HEADER)
            self.header_shown = True
        self.out.write(self.line(now))
        self.out.flush()
        self.last_draw = now

    def done(self, now: float) -> None:
        self.draw(now)
        self.out.write("\n")
        self.out.flush()


def terminal_width(default: int = 79) -> int:
    """The width curl uses for its bar: $COLUMNS, the terminal's, or 79."""
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 20:
        return int(env)
    size = shutil.get_terminal_size((default + 1, 24))
    return max(20, size.columns - 1)


class ProgressBar:
    """curl's `-#` bar: hashes and a percentage, ten redraws a second at most."""

    def __init__(self, out: TextIO, progress: Progress, now: float, width: int = 0) -> None:
        self.out = out
        self.p = progress
        self.width = width or terminal_width()
        self.last_draw: float | None = None
        self.tick = 0

    def text(self) -> str:
        p = self.p
        total = p.dltotal + p.ultotal
        point = p.dlnow + p.ulnow
        barwidth = self.width - 7
        if total <= 0:
            # Size unknown: a marker bouncing across the line.
            self.tick += 1
            span = max(1, barwidth - 5)
            pos = self.tick % (2 * span)
            pos = pos if pos < span else 2 * span - pos
            return "\r" + (" " * pos + "-=O=-").ljust(barwidth + 7)
        frac = min(1.0, point / total)
        hashes = "#" * int(barwidth * frac)
        return f"\r{hashes:<{barwidth}} {frac * 100:5.1f}%"

    @property
    def drawn(self) -> bool:
        """Whether anything was shown yet."""
        return self.last_draw is not None

    def update(self, now: float) -> None:
        if self.last_draw is not None and now - self.last_draw < 0.1:
            return
        self.out.write(self.text())
        self.out.flush()
        self.last_draw = now

    def done(self, now: float) -> None:
        if self.p.dltotal + self.p.ultotal <= 0 and self.p.dlnow + self.p.ulnow > 0:
            # Size never known: show it complete.
            self.p.dltotal = self.p.dlnow
            self.p.ultotal = self.p.ulnow
        self.out.write(self.text() + "\n")
        self.out.flush()


@dataclass
class Totals:
    """What a parallel run has done so far."""

    transfers: int = 0  # all transfers of the run, started or not
    started: int = 0
    running: int = 0
    done: int = 0
    failed: int = 0
    # bytes of transfers that already finished (running ones are summed from their Progress)
    finished_dl: int = 0
    finished_ul: int = 0


class ParallelMeter:
    """curl's meter for `-Z` when stderr is not a terminal (src/tool_progress.c)."""

    HEADER = "DL% UL%  Dled  Uled  Xfers  Live Total     Current  Left    Speed\n"

    def __init__(self, out: TextIO, now: float) -> None:
        self.out = out
        self.start = now
        self.last_draw: float | None = None
        self.rate = _Rate()
        self.header_shown = False

    def line(self, now: float, totals: Totals, running: list[Progress]) -> str:
        dlnow = totals.finished_dl + sum(p.dlnow for p in running)
        ulnow = totals.finished_ul + sum(p.ulnow for p in running)
        sizes_known = bool(running) and all(p.dltotal > 0 for p in running)
        done_all = totals.done + totals.failed == totals.transfers and totals.transfers > 0
        if done_all:
            dl_pct = "100"
        elif sizes_known:
            total = sum(p.dltotal for p in running)
            dl_pct = f"{sum(p.dlnow for p in running) * 100 // total:3d}"
        else:
            dl_pct = "-- "
        ul_pct = "-- "
        spent = now - self.start
        speed = self.rate.add(now, dlnow + ulnow)
        return (
            f"\r{dl_pct:<3} {ul_pct:<3} {size5(dlnow)} {size5(ulnow)} "
            f"{totals.started:5d} {totals.running:5d}  "
            f"{time8(None)} {time8(spent)} {time8(None)} {size5(int(speed))}      "
        )

    def update(
        self, now: float, totals: Totals, running: list[Progress], force: bool = False
    ) -> None:
        if not force and self.last_draw is not None and now - self.last_draw < 0.5:
            return
        if not self.header_shown:
            self.out.write(self.HEADER)
            self.header_shown = True
        self.out.write(self.line(now, totals, running))
        self.out.flush()
        self.last_draw = now

    def done(self, now: float, totals: Totals) -> None:
        self.update(now, totals, [], force=True)
        self.out.write("\n")
        self.out.flush()


def _rate_text(bps: float) -> str:
    return size5(int(bps)).strip() + "/s"


class LiveDisplay:
    """purecurl's terminal view of a parallel run: a bar per running transfer and a total."""

    def __init__(self, out: TextIO, now: float, max_rows: int = 10, width: int = 0) -> None:
        self.out = out
        self.start = now
        self.max_rows = max_rows
        self.width = width or terminal_width()
        self.drawn_lines = 0
        self.last_draw: float | None = None
        self.rate = _Rate(window=3.0)

    def _bar(self, frac: float, width: int) -> str:
        filled = int(width * min(1.0, max(0.0, frac)))
        return "#" * filled + "-" * (width - filled)

    def lines(self, now: float, totals: Totals, running: list[Progress]) -> list[str]:
        dl = totals.finished_dl + sum(p.dlnow for p in running)
        ul = totals.finished_ul + sum(p.ulnow for p in running)
        speed = self.rate.add(now, dl + ul)
        spent = now - self.start
        remaining = sum(max(0, p.dltotal - p.dlnow) for p in running)
        queued = totals.transfers - totals.started
        eta: float | None = None
        if speed > 0 and totals.done:
            average = (totals.finished_dl + totals.finished_ul) / max(1, totals.done)
            eta = (remaining + queued * average) / speed
        width = self.width
        out = []
        shown = sorted(running, key=lambda p: p.started)[: self.max_rows]
        bar_width = max(10, min(30, width - 50))
        name_width = max(10, width - bar_width - 30)
        for p in shown:
            frac = p.dlnow / p.dltotal if p.dltotal > 0 else 0.0
            pct = f"{frac * 100:3.0f}%" if p.dltotal > 0 else "  ?%"
            name = p.name if len(p.name) <= name_width else "..." + p.name[-(name_width - 3) :]
            out.append(
                f"{name:<{name_width}} [{self._bar(frac, bar_width)}] {pct} {size5(p.dlnow)}"
            )
        hidden = len(running) - len(shown)
        if hidden > 0:
            out.append(f"... and {hidden} more running")
        out.append(
            f"[{totals.done + totals.failed}/{totals.transfers}] done {totals.done}"
            f" failed {totals.failed} running {totals.running} | {size5(dl).strip()}B"
            f" at {_rate_text(speed)} | {time8(spent).strip()} elapsed"
            f" | ETA {time8(eta).strip()}"
        )
        return [line[:width] for line in out]

    def update(
        self, now: float, totals: Totals, running: list[Progress], force: bool = False
    ) -> None:
        if not force and self.last_draw is not None and now - self.last_draw < 0.1:
            return
        lines = self.lines(now, totals, running)
        # Keep the height drawn so far (blank lines below) so the cursor always ends just
        # under the view and whatever is printed next never overwrites it.
        lines += [""] * (self.drawn_lines - len(lines))
        parts = []
        if self.drawn_lines:
            parts.append(f"\x1b[{self.drawn_lines}F")  # back to the first line drawn
        for line in lines:
            parts.append("\x1b[2K" + line + "\n")
        self.out.write("".join(parts))
        self.out.flush()
        self.drawn_lines = len(lines)
        self.last_draw = now

    def done(self, now: float, totals: Totals) -> None:
        self.update(now, totals, [], force=True)
        # The view shrank to its total line over blank ones: back up over the blanks, so
        # that what is printed next (the demo's next part, its summary) follows the total.
        blanks = self.drawn_lines - 1
        if blanks > 0:
            self.out.write(f"\x1b[{blanks}F")
            self.out.flush()
            self.drawn_lines = 1
