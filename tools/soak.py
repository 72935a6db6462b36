"""A bounded soak run: mixed HTTP/1.1 and HTTPS traffic with injected faults, through one
`CurlMulti` driven by purecurl's selectors driver, for N minutes.

    python -m tools.soak --minutes 5 [--concurrency 64] [--interval 10] [--seed 1]

Theory of operation
-------------------
Three loopback servers from the test suite run in this process: a keep-alive `HttpServer`, a
`TlsHttpServer` (certificates from tests/tls_certs.py, made in a temporary directory) and a
fault server answering each request with the fault its path names (reset, truncated body,
empty reply, garbage, bad chunk, conflicting Content-Length, a stall cut by TIMEOUT_MS).
`--concurrency` transfers are kept in flight: each finished one is checked (a healthy one must
have its exact body, a faulty one the code its fault gives) and replaced by a new random one.

Every `--interval` seconds and at the end it prints the transfers done, failures by CURLcode,
unexpected outcomes, the open file descriptors and the RSS. The exit status is 1 if any
transfer had an unexpected outcome or the descriptors at the end (after the servers stop)
exceed those at the start.

HTTP/2 is not built yet in purecurl: the soak has no HTTP/2 traffic until it is.

Not part of the test run (it takes minutes by design).
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.servers import HttpServer, ScriptedServer, ServerConnection, pattern_bytes
from tests.tls_certs import make_pki
from tests.tls_servers import TlsHttpServer, server_context

import purecurl
from purecurl.drivers.selector import SelectorDriver

# fault -> (what the fault server does, the codes a transfer hitting it may end with). A fault
# met on a reused connection may be retried once, and garbage there is "Invalid status line".
FAULTS: dict[str, tuple[bytes | str, frozenset[int]]] = {
    "reset": ("reset", frozenset({56})),
    "empty": ("close", frozenset({52})),
    "truncated": (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", frozenset({18})),
    "garbage": (b"garbage\r\n\r\n", frozenset({1, 8})),
    "bad-chunk": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", frozenset({56})),
    "conflicting-length": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        frozenset({8}),
    ),
    "stall": ("stall", frozenset({28})),
}
FAULT_SHARE = 0.2
HTTPS_SHARE = 0.3


def fault_handler(conn: ServerConnection) -> None:
    """Answer /FAULT with that fault from FAULTS (then the connection ends)."""
    request = conn.read_request()
    if request is None:
        return
    action = FAULTS[request.path[1:]][0]
    if action == "reset":
        conn.reset()
    elif action == "stall":
        conn.read_until_eof()
    elif isinstance(action, bytes):
        conn.send(action)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Soak:
    """Keeps `concurrency` random transfers in flight and tallies what they give."""

    def __init__(
        self,
        http: HttpServer,
        https: TlsHttpServer,
        faulty: ScriptedServer,
        ca_file: Path,
        concurrency: int,
        seed: int,
    ) -> None:
        self.http, self.https, self.faulty = http, https, faulty
        self.ca_file = str(ca_file)
        self.concurrency = concurrency
        self.rng = random.Random(seed)
        self.multi = purecurl.CurlMulti()
        self.driver = SelectorDriver(self.multi, self._done)
        self.done = 0
        self.by_code: collections.Counter[int] = collections.Counter()
        self.by_kind: collections.Counter[str] = collections.Counter()
        self.unexpected: list[str] = []
        self.free: list[Any] = []

    def _new(self) -> None:
        c = self.free.pop() if self.free else purecurl.Curl()
        c.reset()
        chunks: list[bytes] = []
        c.setopt(purecurl.WRITEFUNCTION, chunks.append)
        roll = self.rng.random()
        if roll < FAULT_SHARE:
            kind = self.rng.choice(list(FAULTS))
            c.setopt(purecurl.URL, self.faulty.url(f"/{kind}"))
            c.setopt(purecurl.TIMEOUT_MS, 300 if kind == "stall" else 5000)
            expect: bytes | frozenset[int] = FAULTS[kind][1]
        else:
            size = self.rng.randrange(0, 200_000)
            tls = roll < FAULT_SHARE + HTTPS_SHARE
            kind = "https" if tls else "http"
            server = self.https if tls else self.http
            c.setopt(purecurl.URL, server.url(f"/bytes/{size}"))
            c.setopt(purecurl.TIMEOUT_MS, 10_000)
            if tls:
                c.setopt(purecurl.CAINFO, self.ca_file)
            expect = pattern_bytes(size)
        c.soak = (kind, expect, chunks)
        self.driver.add(c)

    def _done(self, c: Any, code: int, message: str) -> None:
        kind, expect, chunks = c.soak
        self.done += 1
        self.by_code[code] += 1
        self.by_kind[kind] += 1
        if isinstance(expect, bytes):
            ok = code == 0 and b"".join(chunks) == expect
        else:
            ok = code in expect
        if not ok:
            self.unexpected.append(f"{kind}: {code} {message}")
        del c.soak
        self.free.append(c)

    def run(self, seconds: float, interval: float) -> None:
        end = time.monotonic() + seconds
        next_report = time.monotonic() + interval
        while time.monotonic() < end:
            while self.driver.running < self.concurrency:
                self._new()
            self.driver.step(0.5)
            if time.monotonic() >= next_report:
                self.report("progress")
                next_report += interval
        self.driver.run(30)  # let the last transfers finish

    def report(self, label: str) -> None:
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(self.by_code.items()))
        kinds = ", ".join(f"{kind}: {n}" for kind, n in sorted(self.by_kind.items()))
        print(
            f"[{label}] transfers {self.done} | by code {{{codes}}} | by kind {{{kinds}}} | "
            f"unexpected {len(self.unexpected)} | fds {open_fds()} | RSS {rss_mib():.1f} MiB",
            flush=True,
        )

    def close(self) -> None:
        self.driver.close()
        self.multi.close()
        for c in self.free:
            c.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--minutes", type=float, required=True, help="how long to run")
    parser.add_argument("--concurrency", type=int, default=64, help="transfers in flight")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between reports")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print("HTTP/1.1 and HTTPS with injected faults; HTTP/2 is not built yet in purecurl.")
    fds_start = open_fds()
    with tempfile.TemporaryDirectory() as tmp:
        pki = make_pki(Path(tmp))
        http = HttpServer().start()
        https = TlsHttpServer(server_context(pki.server)).start()
        faulty = ScriptedServer(fault_handler).start()
        soak = Soak(http, https, faulty, pki.ca.cert_pem, args.concurrency, args.seed)
        try:
            soak.run(args.minutes * 60, args.interval)
        finally:
            soak.close()
            for server in (http, https, faulty):
                server.stop(raise_errors=False)
    time.sleep(0.5)  # server threads' sockets finish closing
    soak.report("end")
    fds_end = open_fds()
    for line in soak.unexpected[:20]:
        print("unexpected:", line)
    leaked = fds_end > fds_start
    print(f"fds at start {fds_start}, at end {fds_end}" + (" (LEAK)" if leaked else ""))
    return 1 if soak.unexpected or leaked else 0


if __name__ == "__main__":
    sys.exit(main())
