"""The progress display of `purecurl-batch`: done/failed, bytes, rate and per worker, on stderr.

Theory of operation: `fetch` calls the display with a `BatchProgress` a few times a second
(counts of the records the workers' journals hold so far). On a terminal the display redraws
a block in place (a total line and one line per worker, ANSI cursor movement) at most ten
times a second; elsewhere (a log file, CI) it writes the total line every `interval` seconds
and the per-worker lines once at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TextIO

from purecurl.batch.coordinator import BatchProgress, WorkerStats

__all__ = ["ProgressDisplay", "human_bytes", "human_time"]

_MAX_WORKER_LINES = 16


def human_bytes(n: float) -> str:
    """`n` bytes in at most four significant digits: `512 B`, `12.3 KiB`, `1.50 GiB`."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            if unit == "B":
                return f"{int(value)} B"
            return f"{value:.3g} {unit}" if value < 100 else f"{value:.0f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def human_time(seconds: float) -> str:
    s = int(seconds)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def total_line(p: BatchProgress) -> str:
    line = (
        f"{p.recorded}/{p.total} done, {p.failed} failed, {human_bytes(p.bytes)}, "
        f"{p.rate:.1f} URLs/s, {human_bytes(p.byte_rate)}/s, {human_time(p.elapsed)}"
    )
    if p.skipped:
        line += f", {p.skipped} skipped"
    if p.partitions:
        line += f", partitions {p.partitions_done}/{p.partitions}"
    return line


def worker_lines(workers: Mapping[str, WorkerStats]) -> list[str]:
    """One line per worker (the first 16 by name): its ok and failed counts and bytes."""
    names = sorted(workers)
    width = max((len(n) for n in names), default=0)
    lines = []
    for name in names[:_MAX_WORKER_LINES]:
        w = workers[name]
        lines.append(f"  {name:<{width}}  {w.done} ok, {w.failed} failed, {human_bytes(w.bytes)}")
    if len(names) > _MAX_WORKER_LINES:
        lines.append(f"  ... and {len(names) - _MAX_WORKER_LINES} more workers")
    return lines


class ProgressDisplay:
    """A `progress` callback for `fetch` writing to `stream` (see the module doc)."""

    def __init__(
        self,
        stream: TextIO,
        *,
        tty: bool | None = None,
        interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.interval = 0.1 if self.tty else interval
        self.clock = clock
        self.last = -1e9
        self.drawn = 0

    def __call__(self, p: BatchProgress) -> None:
        now = self.clock()
        if not p.finished and now - self.last < self.interval:
            return
        self.last = now
        head = f"purecurl-batch: {total_line(p)}"
        if self.tty:
            lines = [head, *worker_lines(p.workers)]
            # Up to the first line drawn last time, clear to the end, draw anew.
            prefix = f"\x1b[{self.drawn}F\x1b[J" if self.drawn else ""
            self.stream.write(prefix + "".join(f"{line}\n" for line in lines))
            self.drawn = len(lines)
        else:
            text = head + "\n"
            if p.finished:
                text += "".join(f"{line}\n" for line in worker_lines(p.workers))
            self.stream.write(text)
        self.stream.flush()
