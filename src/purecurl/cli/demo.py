"""`purecurl --demo`: a parallel workload against an embedded local server, and a summary.

Theory of operation: a `ThreadingHTTPServer` on 127.0.0.1 (HTTP/1.1, keep-alive) serves
generated bodies at `/files/<size>/<n>` (a repeating byte pattern, so nothing is stored). The
workload is a realistic mix, many small files and a few large ones, fetched with `-Z` through
the same `Runner` the command uses (so the progress display is the real one), into memory-less
sinks (`/dev/null`-like: bytes are counted and checked, not kept). The summary counts
transfers, bytes, connections (the sum of NUM_CONNECTS), requests/s, MB/s and failures.
No network is needed.
"""

from __future__ import annotations

import http.server
import io
import os
import random
import re
import sys
import threading
import time
from typing import Any, TextIO

from purecurl.cli.args import GlobalConfig, Operation, UrlNode
from purecurl.cli.operate import Runner, build_jobs

_PATTERN = bytes(range(256)) * 256  # 64 KiB
_PATH = re.compile(r"^/files/(\d+)/\d+$")


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
        m = _PATH.match(self.path)
        if m is None:
            self.send_error(404)
            return
        size = int(m.group(1))
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
    """The embedded server, started in a thread; a context manager that stops it."""

    def __init__(self) -> None:
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def __enter__(self) -> DemoServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
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


def run_demo(g: GlobalConfig, *, stderr: TextIO | None = None, out: TextIO | None = None) -> int:
    """Run the demo with the command's global options (-s, --parallel-max, -#...)."""
    err = stderr if stderr is not None else sys.stderr
    out = out if out is not None else sys.stdout
    count = g.demo_transfers or 300
    sizes = workload(count)
    with DemoServer() as server:
        op = Operation()
        op.nodes = [
            UrlNode(url=f"http://127.0.0.1:{server.port}/files/{size}/{i}", outfile="-")
            for i, size in enumerate(sizes)
        ]
        demo = GlobalConfig(operations=[op])
        demo.silent = g.silent
        demo.progress_meter = g.progress_meter
        demo.parallel = True
        demo.parallel_max = g.parallel_max
        sink = _CountingStdout()
        if not g.silent:
            err.write(
                f"purecurl demo: {count} transfers ({sum(sizes) / 1e6:.1f} MB) from"
                f" http://127.0.0.1:{server.port}/, at most {demo.parallel_max} at once\n"
            )
            err.flush()
        runner = Runner(demo, stdout=sink, stderr=err)  # type: ignore[arg-type]
        start = time.perf_counter()
        code = runner.run(build_jobs(demo))
        elapsed = time.perf_counter() - start
    stats = runner.stats
    wrong = 0 if sink.count == sum(sizes) else 1
    rows = [
        ("transfers", f"{stats.transfers}"),
        ("bytes", f"{stats.bytes_down:,}"),
        ("connections", f"{stats.connects}"),
        ("parallel max", f"{demo.parallel_max}"),
        ("elapsed", f"{elapsed:.2f} s"),
        ("requests/s", f"{stats.transfers / elapsed:,.0f}" if elapsed > 0 else "-"),
        ("MB/s", f"{stats.bytes_down / elapsed / 1e6:,.1f}" if elapsed > 0 else "-"),
        ("failures", f"{stats.failed + wrong}"),
    ]
    width = max(len(k) for k, _ in rows)
    vwidth = max(len(v) for _, v in rows)
    line = f"+-{'-' * width}-+-{'-' * vwidth}-+"
    table = [line]
    table += [f"| {k:<{width}} | {v:>{vwidth}} |" for k, v in rows]
    table.append(line)
    out.write("\n".join(table) + os.linesep)
    out.flush()
    return code or (1 if wrong else 0)
