"""`-v`, `--trace`, `--trace-ascii` and `--trace-time`: curl's renderings of DEBUGFUNCTION calls.

Theory of operation: the engine reports what a transfer does through DEBUGFUNCTION as
(infotype, bytes). `TraceFormatter.format` turns one call into the bytes curl's tool writes for
it (src/tool_cb_dbg.c), with no I/O, so the formats are tested on their own:

- plain (`-v`): each line gets a "* " (text), "> " (header out) or "< " (header in) marker and
  keeps its own bytes, CRLF included; body data shows as one `{ [N bytes data]` line per run of
  data calls, and not at all when stdout is a terminal and the trace goes to stdout or stderr.
  Whether a line is still open and whether data was already noted are remembered across calls,
  and across transfers, as curl's static flags are.
- ascii (`--trace-ascii`): a title per call (`=> Send header, 75 bytes (0x4b)`) then the bytes
  64 to a line with a hex offset; a CRLF ends a line and is not shown; info text is
  `== Info: ...`.
- bin (`--trace`): the same with 16 bytes a line, in hex and as characters.

`--trace-time` puts the local time (`HH:MM:SS.uuuuuu `) before every plain line, and before
each title and info line of the other two. `TraceOutput` is where the bytes go: "-" is stdout,
"%" stderr (what `-v` uses), anything else a file opened at the first call, as curl does; a
file that cannot be created sends the trace to stderr (curl falls back the same way).
"""

from __future__ import annotations

import contextlib
import datetime
import time
from collections.abc import Callable
from typing import IO, BinaryIO, TextIO

INFO_TEXT, HEADER_IN, HEADER_OUT, DATA_IN, DATA_OUT, SSL_DATA_IN, SSL_DATA_OUT = range(7)

PLAIN, ASCII, BIN = "plain", "ascii", "bin"

# src/tool_cb_dbg.c log_line_start(): the marker of each infotype in plain mode.
_MARKS = (b"* ", b"< ", b"> ", b"{ ", b"} ", b"{ ", b"} ")
_TITLES = {
    HEADER_OUT: "=> Send header",
    DATA_OUT: "=> Send data",
    HEADER_IN: "<= Recv header",
    DATA_IN: "<= Recv data",
    SSL_DATA_IN: "<= Recv SSL data",
    SSL_DATA_OUT: "=> Send SSL data",
}


def time_prefix(now: float) -> bytes:
    """`--trace-time`'s stamp for wall-clock time `now`: local `HH:MM:SS.uuuuuu `."""
    stamp = datetime.datetime.fromtimestamp(now)
    return stamp.strftime("%H:%M:%S.%f ").encode("ascii")


def dump(title: str, data: bytes, kind: str, prefix: bytes = b"") -> bytes:
    """One call in `--trace` (kind BIN) or `--trace-ascii` (kind ASCII) form: src/tool_cb_dbg.c
    dump(), byte for byte."""
    width = 0x40 if kind == ASCII else 0x10
    size = len(data)
    out = bytearray(prefix + f"{title}, {size} bytes (0x{size:x})\n".encode("ascii"))
    i = 0
    while i < size:
        out += b"%04x: " % i
        if kind == BIN:
            for c in range(width):
                out += b"%02x " % data[i + c] if i + c < size else b"   "
        next_line = i + width
        c = 0
        while c < width and i + c < size:
            if kind == ASCII and i + c + 1 < size and data[i + c : i + c + 2] == b"\r\n":
                # A CRLF ends the output line and is not shown.
                next_line = i + c + 2
                break
            byte = data[i + c]
            out.append(byte if 0x20 <= byte < 0x7F else 0x2E)
            if kind == ASCII and i + c + 2 < size and data[i + c + 1 : i + c + 3] == b"\r\n":
                # Checked again here so that a CRLF right at the width adds no empty line.
                next_line = i + c + 3
                break
            c += 1
        out += b"\n"
        i = next_line
    return bytes(out)


class TraceFormatter:
    """Renders DEBUGFUNCTION calls in one of curl's three trace forms; see the module doc."""

    def __init__(
        self,
        kind: str,
        *,
        show_data: bool = True,
        with_time: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.kind = kind
        # Plain mode's "[N bytes data]" lines: curl leaves them out when the body goes to a
        # terminal and the trace to stdout or stderr (the body is visible there).
        self.show_data = show_data
        self.with_time = with_time
        self.clock = clock
        self._open_line = False  # plain: the last call did not end its line
        self._data_noted = False  # plain: "[N bytes data]" already shown for this run

    def _prefix(self) -> bytes:
        return time_prefix(self.clock()) if self.with_time else b""

    def format(self, infotype: int, data: bytes) -> bytes:
        """The bytes curl writes for one DEBUGFUNCTION call (b"" for nothing)."""
        if self.kind == PLAIN:
            return self._plain(infotype, data)
        if infotype == INFO_TEXT:
            return self._prefix() + b"== Info: " + data
        title = _TITLES.get(infotype)
        if title is None:
            return b""
        return dump(title, data, self.kind, self._prefix())

    def _start(self, infotype: int) -> bytes:
        return self._prefix() + _MARKS[infotype]

    def _plain(self, infotype: int, data: bytes) -> bytes:
        out = bytearray()
        if infotype == HEADER_OUT:
            # Every line of an outgoing header block gets its own marker.
            start = 0
            for i in range(len(data) - 1):
                if data[i] == 0x0A:
                    if not self._open_line:
                        out += self._start(infotype)
                    out += data[start : i + 1]
                    start = i + 1
                    self._open_line = False
            if data:
                if not self._open_line:
                    out += self._start(infotype)
                out += data[start:]
            self._open_line = bool(data) and not data.endswith(b"\n")
            self._data_noted = False
        elif infotype in (INFO_TEXT, HEADER_IN):
            if not self._open_line:
                out += self._start(infotype)
            out += data
            self._open_line = bool(data) and not data.endswith(b"\n")
            self._data_noted = False
        elif infotype in (DATA_IN, DATA_OUT, SSL_DATA_IN, SSL_DATA_OUT):
            if not self._data_noted and self.show_data:
                if not self._open_line:
                    out += self._start(infotype)
                out += b"[%d bytes data]\n" % len(data)
                self._open_line = False
                self._data_noted = True
        else:
            self._open_line = False
            self._data_noted = False
        return bytes(out)


class TraceOutput:
    """Where trace bytes go: stdout ("-"), stderr ("%"), or a file opened at the first write."""

    def __init__(
        self,
        target: str,
        stdout: BinaryIO,
        stderr: TextIO,
        before_stderr: Callable[[], None] = lambda: None,
    ) -> None:
        self.target = target
        self.stdout = stdout
        self.stderr = stderr
        self.before_stderr = before_stderr
        self.file: IO[bytes] | None = None
        self.failed = False

    @property
    def to_std_stream(self) -> bool:
        """True when the trace shares stdout or stderr (curl then hides data lines on a tty)."""
        return self.target in ("-", "%") or self.failed

    def write(self, data: bytes) -> None:
        if not data:
            return
        if self.target == "-":
            self.stdout.write(data)
            self.stdout.flush()
            return
        if self.target != "%" and not self.failed:
            if self.file is None:
                try:
                    self.file = open(self.target, "wb")  # noqa: SIM115
                except OSError:
                    self.failed = True
            if self.file is not None:
                self.file.write(data)
                self.file.flush()
                return
        write_stderr(self.stderr, data, self.before_stderr)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


def write_stderr(stream: TextIO, data: bytes, before: Callable[[], None] = lambda: None) -> None:
    """Write raw bytes to a text stream (its binary buffer when it has one, as curl writes
    header bytes as they came)."""
    before()
    buffer = getattr(stream, "buffer", None)
    if buffer is not None:
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
        buffer.write(data)
        buffer.flush()
    else:
        stream.write(data.decode("latin-1"))
        stream.flush()
