"""A bounded soak run: mixed HTTP/1.1, HTTPS and HTTP/2 traffic with injected faults, through
one `CurlMulti` driven by purecurl's selectors driver, for N minutes.

    python -m tools.soak --minutes 5 [--concurrency 64] [--interval 10] [--seed 1]

Theory of operation
-------------------
Loopback servers from the test suite run in this process: a keep-alive `HttpServer`, a
`TlsHttpServer` (certificates from tests/tls_certs.py, made in a temporary directory), a fault
server answering each request with the fault its path names (reset, truncated body, empty
reply, garbage, bad chunk, conflicting Content-Length, a stall cut by TIMEOUT_MS), and two
HTTP/2 servers from tests/h2server.py: an `H2Server` (h2c, prior knowledge) and a
`TlsH2Server` (ALPN h2). `--concurrency` transfers are kept in flight, each of a kind drawn
from MIX: each finished one is checked (a healthy one must have its exact body, and an HTTP/2
one must have been HTTP/2; a faulty one the code its fault gives) and replaced by a new random
one. HTTP/2 transfers set PIPEWAIT, so they share the servers' connections as streams, and
the HTTP/2 faults are RST_STREAMs on some of those streams (before the headers, or halfway
through the body): 92, with the other streams of the connection unharmed.

Besides, every GOAWAY_EVERY seconds a GOAWAY episode runs: a fresh HTTP/2 server (h2c or TLS,
in turn) that sends GOAWAY(last_stream_id=GOAWAY_LAST) once GOAWAY_STREAMS requests are open
on its first connection. GOAWAY_STREAMS transfers with PIPEWAIT are added at once, so they all
wait for that connection and go out on it; the streams above GOAWAY_LAST were not processed
and must go out again on a new connection, so every transfer must succeed with its exact body
and the server must have accepted exactly two connections. The server is stopped when the
episode's transfers are done; its connections end with a lingering close (`lingering_close`).

Every `--interval` seconds and at the end it prints the transfers done, failures by CURLcode,
transfers by kind, GOAWAY episodes, unexpected outcomes, the open file descriptors and the
RSS (after `malloc_trim`, so that it follows the memory in use). The exit status is 1 if any
transfer had an unexpected outcome or the descriptors at the end (after the servers stop)
exceed those at the start.

Not part of the test run (it takes minutes by design).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import ctypes
import os
import random
import select
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.h2server import Goaway, H2Response, H2Route, H2Server, TlsH2Server, h2_context
from tests.servers import HttpServer, ScriptedServer, ServerConnection, pattern_bytes
from tests.tls_certs import Pki, make_pki
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
# kind -> its share of the transfers the loop starts
MIX: dict[str, float] = {
    "http": 0.22,
    "https": 0.18,
    "h1-fault": 0.15,
    "h2c": 0.15,
    "h2-tls": 0.15,
    "h2-reset": 0.15,
}
E_HTTP2_STREAM = 92
HTTP_VERSION_2 = 3  # what INFO_HTTP_VERSION says for an HTTP/2 transfer
# RST_STREAM error codes (RFC 9113 section 7) the servers end streams with: libcurl's
# "HTTP/2 stream N reset by server (error 0x.. NAME)", 92. Not NO_ERROR, and not
# REFUSED_STREAM (libcurl retries that one).
H2_RESET_CODES = (0x1, 0x2, 0x8, 0xB)
# A reset halfway through the body: the headers and 50,000 bytes arrive first.
H2_ROUTES: dict[str, H2Route] = {
    "/reset-mid": H2Response(generated_length=100_000, reset=0x8, reset_after=50_000),
}
GOAWAY_EVERY = 0.5  # seconds between the end of a GOAWAY episode and the start of the next
GOAWAY_STREAMS = 6
GOAWAY_LAST = 5  # streams 1, 3 and 5 are answered; 7, 9 and 11 must go to a new connection
LINGER = 2.0  # seconds a GOAWAY server waits for the client to close (lingering_close)


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
    """The resident set size in MiB, once glibc gave back the free heap it keeps.

    The servers' threads and the client share this process and glibc keeps freed heap: without
    the trim the figure stays at its high-water mark (745 MiB at the end of one run, 86 MiB
    after a trim), so it would not show memory being given back.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Expect:
    """What a finished transfer must show: its exact body (and HTTP/2 when `h2`), or one of
    `codes`."""

    kind: str
    body: bytes | None = None
    codes: frozenset[int] = frozenset()
    h2: bool = False


def lingering_close(conn: ServerConnection, stopping: threading.Event) -> None:
    """Close as nginx's lingering_close does: the FIN first, then read and drop what the client
    still sends until it closes (at most LINGER seconds or until the server stops).

    The test servers drain the socket and then close it, so a frame the client sends in
    between (purecurl's RST_STREAMs for the streams a GOAWAY refused, its WINDOW_UPDATEs) turns
    the close into a TCP RST that destroys the response bytes still in flight: the client's
    last streams fail with 56. A real server lingers; so do the GOAWAY episodes' servers.
    """
    sock = conn.sock
    end = time.monotonic() + LINGER
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)  # on an SSLSocket this also leaves TLS: fine, we drop
        while not stopping.is_set() and (left := end - time.monotonic()) > 0:
            readable, _, _ = select.select([sock], [], [], min(left, 0.05))
            if readable and not sock.recv(1 << 16):
                return


class GoawayH2Server(H2Server):
    """An `H2Server` whose connections end with `lingering_close`."""

    def _serve_connection(self, conn: ServerConnection) -> None:
        super()._serve_connection(conn)
        lingering_close(conn, self._stopping)


class GoawayTlsH2Server(TlsH2Server):
    """A `TlsH2Server` whose connections end with `lingering_close`."""

    def _serve_connection(self, conn: ServerConnection) -> None:
        super()._serve_connection(conn)
        lingering_close(conn, self._stopping)


class Soak:
    """Keeps `concurrency` random transfers in flight and tallies what they give."""

    def __init__(
        self,
        servers: dict[str, ScriptedServer],
        pki: Pki,
        concurrency: int,
        seed: int,
    ) -> None:
        self.servers = servers
        self.pki = pki
        self.ca_file = str(pki.ca.cert_pem)
        self.concurrency = concurrency
        self.rng = random.Random(seed)
        self.kinds = list(MIX)
        self.weights = [MIX[k] for k in self.kinds]
        self.multi = purecurl.CurlMulti()
        self.driver = SelectorDriver(self.multi, self._done)
        self.done = 0
        self.by_code: collections.Counter[int] = collections.Counter()
        self.by_kind: collections.Counter[str] = collections.Counter()
        self.unexpected: list[str] = []
        self.free: list[Any] = []
        self.episode: H2Server | None = None  # the GOAWAY server of the running episode
        self.episode_left = 0  # its transfers not finished yet
        self.next_episode = 0.0
        self.episodes = 0

    # -- starting transfers -----------------------------------------------------------------

    def _curl(self, url: str, timeout_ms: int) -> Any:
        c = self.free.pop() if self.free else purecurl.Curl()
        c.reset()
        c.setopt(purecurl.URL, url)
        c.setopt(purecurl.TIMEOUT_MS, timeout_ms)
        if url.startswith("https:"):
            c.setopt(purecurl.CAINFO, self.ca_file)
        return c

    def _h2(self, c: Any, tls: bool) -> None:
        """HTTP/2 as curl -Z asks for it: ALPN h2 or prior knowledge, and PIPEWAIT."""
        c.setopt(
            purecurl.HTTP_VERSION,
            purecurl.CURL_HTTP_VERSION_2TLS
            if tls
            else purecurl.CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE,
        )
        c.setopt(purecurl.PIPEWAIT, 1)

    def _add(self, c: Any, expect: Expect) -> None:
        chunks: list[bytes] = []
        c.setopt(purecurl.WRITEFUNCTION, chunks.append)
        c.soak = (expect, chunks)
        self.driver.add(c)

    def _new(self) -> None:
        kind = self.rng.choices(self.kinds, self.weights)[0]
        size = self.rng.randrange(0, 200_000)
        if kind == "h1-fault":
            fault = self.rng.choice(list(FAULTS))
            url = self.servers["faulty"].url(f"/{fault}")
            c = self._curl(url, 300 if fault == "stall" else 5000)
            self._add(c, Expect(f"h1-{fault}", codes=FAULTS[fault][1]))
        elif kind in ("http", "https"):
            c = self._curl(self.servers[kind].url(f"/bytes/{size}"), 10_000)
            self._add(c, Expect(kind, body=pattern_bytes(size)))
        elif kind in ("h2c", "h2-tls"):
            tls = kind == "h2-tls"
            c = self._curl(self._h2_url(tls, f"/bytes/{size}"), 10_000)
            self._h2(c, tls)
            self._add(c, Expect(kind, body=pattern_bytes(size), h2=True))
        else:  # h2-reset: before the headers, or halfway through the body
            tls = self.rng.random() < 0.5
            if self.rng.random() < 0.5:
                kind, path = "h2-reset", f"/reset/{self.rng.choice(H2_RESET_CODES)}"
            else:
                kind, path = "h2-reset-mid", "/reset-mid"
            c = self._curl(self._h2_url(tls, path), 10_000)
            self._h2(c, tls)
            self._add(c, Expect(kind, codes=frozenset({E_HTTP2_STREAM})))

    def _h2_url(self, tls: bool, path: str) -> str:
        return self.servers["h2-tls" if tls else "h2c"].url(path)

    def _start_episode(self) -> None:
        """A GOAWAY server, h2c and TLS in turn, and GOAWAY_STREAMS transfers to it."""
        tls = self.episodes % 2 == 1
        goaway = Goaway(after_requests=GOAWAY_STREAMS, last_stream_id=GOAWAY_LAST)
        server: H2Server
        if tls:
            server = GoawayTlsH2Server(h2_context(self.pki), goaway=goaway).start()
        else:
            server = GoawayH2Server(goaway=goaway).start()
        self.episode = server
        self.episode_left = GOAWAY_STREAMS
        self.episodes += 1
        for i in range(GOAWAY_STREAMS):
            size = self.rng.randrange(0, 200_000)
            c = self._curl(server.url(f"/bytes/{size}?{i}"), 10_000)
            self._h2(c, tls)
            self._add(c, Expect("h2-goaway", body=pattern_bytes(size), h2=True))

    def _end_episode(self) -> None:
        """Check what the episode's server saw, and stop it."""
        server = self.episode
        assert server is not None
        self.episode = None
        self.next_episode = time.monotonic() + GOAWAY_EVERY
        try:
            server.stop()
        except Exception as exc:
            self.unexpected.append(f"h2-goaway: the server failed: {exc!r}")
        records = sorted(server.h2_connections, key=lambda r: r.number)
        if server.connections_accepted != 2 or not records or not records[0].goaway_sent:
            self.unexpected.append(
                f"h2-goaway: {server.connections_accepted} connections (2 expected),"
                f" streams per connection {[r.stream_ids for r in records]}"
            )

    # -- finished transfers -----------------------------------------------------------------

    def _done(self, c: Any, code: int, message: str) -> None:
        expect, chunks = c.soak
        kind = expect.kind
        self.done += 1
        self.by_code[code] += 1
        self.by_kind[kind] += 1
        if expect.body is not None:
            ok = code == 0 and b"".join(chunks) == expect.body
            if ok and expect.h2 and c.getinfo(purecurl.INFO_HTTP_VERSION) != HTTP_VERSION_2:
                ok, message = False, "not HTTP/2"
        else:
            ok = code in expect.codes
        if not ok:
            url = c.getinfo(purecurl.EFFECTIVE_URL)
            got = sum(map(len, chunks))
            self.unexpected.append(f"{kind}: {code} {message!r} ({url}, {got} bytes)")
        del c.soak
        self.free.append(c)
        if kind == "h2-goaway":
            self.episode_left -= 1
            if self.episode_left == 0:
                self._end_episode()

    # -- the loop ---------------------------------------------------------------------------

    def run(self, seconds: float, interval: float) -> None:
        end = time.monotonic() + seconds
        next_report = time.monotonic() + interval
        while time.monotonic() < end:
            while self.driver.running < self.concurrency:
                self._new()
            if self.episode is None and time.monotonic() >= self.next_episode:
                self._start_episode()
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
            f"goaway episodes {self.episodes} | unexpected {len(self.unexpected)} | "
            f"fds {open_fds()} | RSS {rss_mib():.1f} MiB",
            flush=True,
        )

    def close(self) -> None:
        self.driver.close()
        self.multi.close()
        for c in self.free:
            c.close()
        if self.episode is not None:
            self.episode.stop(raise_errors=False)
            self.episode = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--minutes", type=float, required=True, help="how long to run")
    parser.add_argument("--concurrency", type=int, default=64, help="transfers in flight")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between reports")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(
        "HTTP/1.1, HTTPS, HTTP/2 (h2c and TLS, multiplexed) with injected faults, and GOAWAY"
        " episodes."
    )
    fds_start = open_fds()
    with tempfile.TemporaryDirectory() as tmp:
        pki = make_pki(Path(tmp))
        servers: dict[str, ScriptedServer] = {
            "http": HttpServer().start(),
            "https": TlsHttpServer(server_context(pki.server)).start(),
            "faulty": ScriptedServer(fault_handler).start(),
            "h2c": H2Server(H2_ROUTES).start(),
            "h2-tls": TlsH2Server(h2_context(pki), H2_ROUTES).start(),
        }
        soak = Soak(servers, pki, args.concurrency, args.seed)
        try:
            soak.run(args.minutes * 60, args.interval)
        finally:
            soak.close()
            for name, server in servers.items():
                try:
                    server.stop(raise_errors=name.startswith("h2"))
                except Exception as exc:
                    soak.unexpected.append(f"{name} server: {exc!r}")
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
