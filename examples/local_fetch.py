"""Fetch many URLs at once from an embedded local server, through the multi_socket engine.

    python examples/local_fetch.py [--transfers N] [--parallel P] [--size BYTES]

Starts an HTTP/1.1 keep-alive server on 127.0.0.1 (no network needed), runs N transfers with
at most P at once through `purecurl.CurlMulti` and the selectors driver, checks every body, and
prints a summary: transfers, bytes, connections used, requests/s, MB/s, failures.
"""

from __future__ import annotations

import argparse
import http.server
import io
import threading
import time
from typing import Any

import purecurl as pycurl
from purecurl.drivers.selector import SelectorDriver


def make_server(size: int) -> http.server.ThreadingHTTPServer:
    body = bytes(range(256)) * (size // 256) + bytes(range(size % 256))

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # the head and the body are two writes: without this, Nagle holds the body back
        # until the client's delayed ACK (40 ms a response)
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(http.server.ThreadingHTTPServer):
        request_queue_size = 1024  # socketserver's 5 would drop SYNs under parallel connects

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--transfers", type=int, default=500)
    ap.add_argument("--parallel", type=int, default=16)
    ap.add_argument("--size", type=int, default=16 * 1024)
    args = ap.parse_args()

    server = make_server(args.size)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    multi = pycurl.CurlMulti()
    multi.setopt(pycurl.M_MAX_TOTAL_CONNECTIONS, args.parallel)
    results: list[tuple[int, int]] = []
    connects = 0
    total_bytes = 0

    def done(curl: Any, code: int, msg: str) -> None:
        nonlocal connects, total_bytes
        connects += curl.getinfo(pycurl.NUM_CONNECTS)
        size = len(curl.buf.getvalue())
        total_bytes += size
        results.append((code, size))
        if code:
            print(f"failed: {curl.getinfo(pycurl.EFFECTIVE_URL)} ({code}) {msg}")
        curl.close()

    start = time.perf_counter()
    with SelectorDriver(multi, done) as driver:
        for i in range(args.transfers):
            c = pycurl.Curl()
            c.buf = io.BytesIO()
            c.setopt(pycurl.URL, f"http://127.0.0.1:{port}/file/{i}")
            c.setopt(pycurl.WRITEDATA, c.buf)
            driver.add(c)
        driver.run(timeout=300)
    elapsed = time.perf_counter() - start
    multi.close()
    server.shutdown()
    server.server_close()

    failures = sum(1 for code, _ in results if code)
    wrong = sum(1 for code, size in results if not code and size != args.size)
    print(f"transfers      {len(results)}")
    print(f"bytes          {total_bytes}")
    print(f"connections    {connects}")
    print(f"requests/s     {len(results) / elapsed:.0f}")
    print(f"MB/s           {total_bytes / elapsed / 1e6:.1f}")
    print(f"failures       {failures + wrong}")
    return 1 if failures or wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
