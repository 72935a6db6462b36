"""`purecurl --demo`: a parallel workload against embedded local servers, and a summary.

Theory of operation: two servers run in threads on 127.0.0.1. A `ThreadingHTTPServer`
(HTTP/1.1, keep-alive) and an h2c server (h2c_server.py: HTTP/2 with prior knowledge, on the
h2 library) both serve generated bodies at `/files/<size>/<n>` (a repeating byte pattern, so
nothing is stored). The workload is a realistic mix, many small files and a few large ones,
fetched twice with `-Z` through the same `Runner` the command uses (so the progress display
is the real one): over HTTP/1.1, where each transfer in flight needs a connection of its own,
then over HTTP/2 (`--http2-prior-knowledge`), where the runner's PIPEWAIT (curl's default in
parallel mode) makes the transfers wait for the first connection and share it as streams.
Bodies go to memory-less sinks (`/dev/null`-like: bytes are counted and checked, not kept).
The summary has a column per protocol: transfers, bytes, connections (the sum of
NUM_CONNECTS), the most streams the server saw open at once on one connection, requests/s,
MB/s and failures (failed transfers, plus one if the bytes received are not the bytes sent).
No network is needed.
"""

from __future__ import annotations

import dataclasses
import http.server
import io
import os
import random
import re
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

from purecurl.cli.args import GlobalConfig, Operation, UrlNode
from purecurl.cli.h2c_server import H2cServer
from purecurl.cli.operate import Runner, RunStats, build_jobs

_PATTERN = bytes(range(256)) * 256  # 64 KiB
_PATH = re.compile(r"^/files/(\d+)/\d+$")


def _body_size(path: str) -> int | None:
    """The size a `/files/<size>/<n>` path names, None for any other path."""
    m = _PATH.match(path)
    return None if m is None else int(m.group(1))


def _body_chunks(size: int) -> list[memoryview]:
    view = memoryview(_PATTERN)
    chunks = []
    left = size
    while left > 0:
        n = min(left, len(_PATTERN))
        chunks.append(view[:n])
        left -= n
    return chunks


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # the head and the body are two writes: without this, Nagle holds the body back
    # until the client's delayed ACK (40 ms a response)
    disable_nagle_algorithm = True
    server_version = "purecurl-demo/1"

    def do_GET(self) -> None:
        size = _body_size(self.path)
        if size is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        for chunk in _body_chunks(size):
            self.wfile.write(chunk)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    # socketserver's default listen backlog is 5: fifty clients connecting at once would see
    # their SYNs dropped and retried a second or more later.
    request_queue_size = 1024


class DemoServer:
    """The embedded servers (HTTP/1.1 on `port`, h2c on `h2_port`), started in threads; a
    context manager that stops them."""

    def __init__(self) -> None:
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.h2 = H2cServer(_body_size)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def h2_port(self) -> int:
        return self.h2.port

    def __enter__(self) -> DemoServer:
        self.thread.start()
        self.h2.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.h2.stop()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def workload(count: int, seed: int = 7) -> list[int]:
    """File sizes: mostly small (1-64 KiB), some medium (256 KiB-1 MiB), a few of 8 MiB."""
    rng = random.Random(seed)
    sizes = []
    for i in range(count):
        if i % 50 == 49:
            sizes.append(8 << 20)
        elif i % 10 == 9:
            sizes.append(rng.randint(256 << 10, 1 << 20))
        else:
            sizes.append(rng.randint(1 << 10, 64 << 10))
    return sizes


class _CountingStdout(io.RawIOBase):
    """Where the demo's bodies go: counted, never kept."""

    def __init__(self) -> None:
        self.count = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        n = len(data)
        self.count += n
        return n

    def isatty(self) -> bool:
        return False


@dataclasses.dataclass
class PhaseResult:
    """One protocol's part of the demo: the runner's stats and what was measured around it."""

    protocol: str
    stats: RunStats
    parallel_max: int
    elapsed: float
    wrong: int  # 1 when the bytes received are not the bytes the server sent
    code: int  # the runner's exit code
    max_streams: int = 1  # the most streams the server saw open at once on one connection

    @property
    def failures(self) -> int:
        return self.stats.failed + self.wrong


def run_phase(
    g: GlobalConfig,
    protocol: str,
    base_url: str,
    http_version: str,
    sizes: list[int],
    err: TextIO,
    how: str = "",
) -> PhaseResult:
    """Fetch `sizes` from `base_url` with `-Z` and `g`'s -s, --parallel-max, -# and
    --parallel-immediate; `http_version` is Operation's ("1.1", "2-prior"...), `how` is
    said after the protocol's name in the line that announces the part."""
    op = Operation()
    op.http_version = http_version
    op.nodes = [
        UrlNode(url=f"{base_url}files/{size}/{i}", outfile="-") for i, size in enumerate(sizes)
    ]
    demo = GlobalConfig(operations=[op])
    demo.silent = g.silent
    demo.progress_meter = g.progress_meter
    demo.progress_bar = g.progress_bar
    demo.parallel = True
    demo.parallel_max = g.parallel_max
    demo.parallel_immediate = g.parallel_immediate
    sink = _CountingStdout()
    if not g.silent:
        err.write(
            f"purecurl demo: {len(sizes)} transfers ({sum(sizes) / 1e6:.1f} MB) over"
            f" {protocol}{how} from {base_url}, at most {demo.parallel_max} at once\n"
        )
        err.flush()
    runner = Runner(demo, stdout=sink, stderr=err)  # type: ignore[arg-type]
    start = time.perf_counter()
    code = runner.run(build_jobs(demo))
    elapsed = time.perf_counter() - start
    wrong = 0 if sink.count == sum(sizes) else 1
    return PhaseResult(protocol, runner.stats, demo.parallel_max, elapsed, wrong, code)


def _rate(amount: float, elapsed: float, fmt: str) -> str:
    return format(amount / elapsed, fmt) if elapsed > 0 else "-"


_MEASURES: list[tuple[str, Callable[[PhaseResult], str]]] = [
    ("transfers", lambda p: f"{p.stats.transfers}"),
    ("bytes", lambda p: f"{p.stats.bytes_down:,}"),
    ("connections", lambda p: f"{p.stats.connects}"),
    ("max streams/conn", lambda p: f"{p.max_streams}"),
    ("parallel max", lambda p: f"{p.parallel_max}"),
    ("elapsed", lambda p: f"{p.elapsed:.2f} s"),
    ("requests/s", lambda p: _rate(p.stats.transfers, p.elapsed, ",.0f")),
    ("MB/s", lambda p: _rate(p.stats.bytes_down / 1e6, p.elapsed, ",.1f")),
    ("failures", lambda p: f"{p.failures}"),
]


def summary(phases: list[PhaseResult]) -> str:
    """The summary table: a row per measure, a column per protocol."""
    rows = [["", *(p.protocol for p in phases)]]
    rows += [[name, *(cell(p) for p in phases)] for name, cell in _MEASURES]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def render(row: list[str]) -> str:
        cells = [f" {row[0]:<{widths[0]}} "]
        cells += [f" {value:>{width}} " for value, width in zip(row[1:], widths[1:], strict=True)]
        return "|" + "|".join(cells) + "|"

    return "\n".join([line, render(rows[0]), line, *map(render, rows[1:]), line])


def run_demo(g: GlobalConfig, *, stderr: TextIO | None = None, out: TextIO | None = None) -> int:
    """Run the demo with the command's global options (-s, --parallel-max, -#...); return
    the exit code (the first part's failure, else the second's, else 1 for wrong bytes)."""
    err = stderr if stderr is not None else sys.stderr
    out = out if out is not None else sys.stdout
    sizes = workload(g.demo_transfers or 300)
    with DemoServer() as server:
        http1 = run_phase(g, "HTTP/1.1", f"http://127.0.0.1:{server.port}/", "1.1", sizes, err)
        h2c = f"http://127.0.0.1:{server.h2_port}/"
        http2 = run_phase(g, "HTTP/2", h2c, "2-prior", sizes, err, how=" (h2c prior knowledge)")
        http2.max_streams = server.h2.max_open_streams
    out.write(summary([http1, http2]) + os.linesep)
    out.flush()
    return http1.code or http2.code or (1 if http1.wrong or http2.wrong else 0)
