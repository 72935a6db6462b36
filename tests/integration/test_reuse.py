"""Connection reuse over real loopback sockets: keep-alive across performs and across the
handles of one multi, FORBID_REUSE, FRESH_CONNECT, dead idle connections, the safe retry of a
request whose reused connection closed, and the pool limits (SEMANTICS.md rule 25).

Each test runs on purecurl and the real pycurl (fixture `mod`); the server's counts are the
assertion (a connection the client reused is one the server accepted once).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from types import ModuleType
from typing import Any

import pytest

from tests.engine.conftest import FakeClock
from tests.integration._util import Opts, make_curl, perform, run_multi
from tests.servers import HttpServer, Response, ServerConnection, ServerFactory, wait_until

OK2 = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def perform_n(mod: ModuleType, url: str, n: int, opts: Opts = ()) -> list[tuple[int, bytes, int]]:
    """Run `n` performs on one handle; return (code, body, NUM_CONNECTS) of each."""
    c, out = make_curl(mod, url, opts)
    results = []
    try:
        for _ in range(n):
            out.chunks.clear()
            got = perform(mod, c)
            results.append((got.code, got.body, got.num_connects))
    finally:
        c.close()
    return results


def test_keepalive_across_performs(mod: ModuleType, server: HttpServer) -> None:
    """Sequential performs on one handle reuse its connection: the server accepts one, and
    NUM_CONNECTS is 1 then 0 (CURLINFO_NUM_CONNECTS counts new connections)."""
    assert perform_n(mod, server.url("/hello"), 3) == [
        (0, b"hello\n", 1),
        (0, b"hello\n", 0),
        (0, b"hello\n", 0),
    ]
    assert server.connections_accepted == 1
    assert len(server.requests) == 3


def test_keepalive_across_handles_of_one_multi(mod: ModuleType, server: HttpServer) -> None:
    """The pool belongs to the multi: handles run one after another on one multi share one
    connection (SEMANTICS.md rule 25, the keep-alive pool shared by the multi's transfers)."""
    m = mod.CurlMulti()
    handles = []
    try:
        for _ in range(4):
            c, _ = make_curl(mod, server.url("/bytes/1000"))
            handles.append(c)
            (out,) = run_multi(mod, [c], multi=m)
            assert out.code == 0 and len(out.body) == 1000
        assert [c.outcome.num_connects for c in handles] == [1, 0, 0, 0]
    finally:
        for c in handles:
            c.close()
        m.close()
    assert server.connections_accepted == 1


def test_forbid_reuse(mod: ModuleType, server: HttpServer) -> None:
    """FORBID_REUSE closes the connection after each transfer: a new one each time, and the
    server sees every one closed."""
    results = perform_n(mod, server.url("/hello"), 3, [("FORBID_REUSE", 1)])
    assert results == [(0, b"hello\n", 1)] * 3
    assert server.connections_accepted == 3
    assert wait_until(lambda: server.open_connections == 0)


def test_fresh_connect(mod: ModuleType, server: HttpServer) -> None:
    """FRESH_CONNECT makes the next transfer use a new connection instead of the idle one."""
    c, _ = make_curl(mod, server.url("/hello"))
    try:
        assert perform(mod, c).num_connects == 1
        c.setopt(mod.FRESH_CONNECT, 1)
        second = perform(mod, c)
        assert (second.code, second.num_connects) == (0, 1)
    finally:
        c.close()
    assert server.connections_accepted == 2


@pytest.mark.parametrize("driver", ["perform", "socket_action"])
def test_idle_connection_closed_by_server(
    mod: ModuleType, scripted: ServerFactory, driver: str
) -> None:
    """A pooled connection the server closed while idle is found dead before reuse: the next
    transfer opens a new connection at once and succeeds, and the request is sent once."""

    def handler(conn: ServerConnection) -> None:
        if conn.read_request() is not None:
            conn.send(OK2)  # keep-alive by HTTP/1.1 default, then close while idle

    srv = scripted(handler)
    m = mod.CurlMulti()
    c, out = make_curl(mod, srv.url("/"))
    try:
        if driver == "perform":
            assert perform(mod, c).code == 0
        else:
            assert run_multi(mod, [c], multi=m)[0].code == 0
        assert wait_until(lambda: srv.open_connections == 0)
        out.chunks.clear()
        start = time.monotonic()
        if driver == "perform":
            second = perform(mod, c)
        else:
            (second,) = run_multi(mod, [c], multi=m, timeout=1.5)
        took = time.monotonic() - start
        assert (second.code, second.body, second.num_connects) == (0, b"ok", 1)
    finally:
        c.close()
        m.close()
    assert srv.connections_accepted == 2
    assert len(srv.requests) == 2
    assert took < 0.5


RETRY_STALL = (
    "engine/multi.py:469: _run's deadlines.clear_expired(t, now) drops the RUN_NOW deadline "
    "that _retry (multi.py:1084) set during the same _run, so the retried transfer (RESOLVING, "
    "no socket) has no timer: socket_action users hang forever, Curl.perform stalls 1 s"
)


@pytest.mark.parametrize("driver", ["perform", "socket_action"])
def test_reused_connection_closed_at_request_is_retried(
    mod: ModuleType, scripted: ServerFactory, driver: str
) -> None:
    """A reused connection that closes after the request is sent but before any response byte
    is retried once on a new connection (libcurl's "Connection died, retrying a fresh
    connect"), at once, and the transfer succeeds; the server saw the request twice."""

    def handler(conn: ServerConnection) -> None:
        if conn.read_request() is None:
            return
        conn.send(OK2)
        if conn.number == 1:
            conn.read_request()  # the second request arrives, and the server closes instead
            return
        while conn.read_request() is not None:
            conn.send(OK2)

    srv = scripted(handler)
    m = mod.CurlMulti()
    c, out = make_curl(mod, srv.url("/"))
    try:
        if driver == "perform":
            assert perform(mod, c).code == 0
            out.chunks.clear()
            start = time.monotonic()
            second = perform(mod, c)
        else:
            assert run_multi(mod, [c], multi=m)[0].code == 0
            out.chunks.clear()
            start = time.monotonic()
            (second,) = run_multi(mod, [c], multi=m, timeout=1.5)
        took = time.monotonic() - start
        assert (second.code, second.body) == (0, b"ok")
    finally:
        c.close()
        m.close()
    assert srv.connections_accepted == 2
    assert len(srv.requests) == 3
    assert took < 0.5


def _slow_server(scripted: ServerFactory) -> HttpServer:
    return scripted.http({"/slow": Response(body=b"s" * 100, delay=0.05)})


def test_max_host_connections(mod: ModuleType, scripted: ServerFactory) -> None:
    """M_MAX_HOST_CONNECTIONS=2: ten concurrent transfers to one host never use more than two
    connections; the others wait in the queue and then reuse them (rule 25)."""
    srv = _slow_server(scripted)
    m = mod.CurlMulti()
    m.setopt(mod.M_MAX_HOST_CONNECTIONS, 2)
    handles = [make_curl(mod, srv.url("/slow"))[0] for _ in range(10)]
    try:
        outs = run_multi(mod, handles, multi=m)
    finally:
        for c in handles:
            c.close()
        m.close()
    assert [(o.code, o.body) for o in outs] == [(0, b"s" * 100)] * 10
    assert srv.connections_accepted == 2
    assert srv.max_concurrent == 2


class SocketCounter:
    """OPENSOCKETFUNCTION/CLOSESOCKETFUNCTION pair counting the client's open sockets."""

    def __init__(self) -> None:
        self.open = 0
        self.max_open = 0
        self.opened = 0
        self._lock = threading.Lock()

    def opensocket(self, purpose: int, address: Any) -> int:
        sock = socket.socket(address[0], address[1], address[2])
        with self._lock:
            self.open += 1
            self.opened += 1
            self.max_open = max(self.max_open, self.open)
        return sock.detach()  # the library owns the descriptor and closes it through us

    def closesocket(self, fd: int) -> int:
        with self._lock:
            self.open -= 1
        os.close(fd)
        return 0

    def opts(self) -> Opts:
        return [("OPENSOCKETFUNCTION", self.opensocket), ("CLOSESOCKETFUNCTION", self.closesocket)]


def test_max_total_connections_one_host(mod: ModuleType, scripted: ServerFactory) -> None:
    """M_MAX_TOTAL_CONNECTIONS=3: ten concurrent transfers use at most three connections."""
    srv = _slow_server(scripted)
    m = mod.CurlMulti()
    m.setopt(mod.M_MAX_TOTAL_CONNECTIONS, 3)
    handles = [make_curl(mod, srv.url("/slow"))[0] for _ in range(10)]
    try:
        outs = run_multi(mod, handles, multi=m)
    finally:
        for c in handles:
            c.close()
        m.close()
    assert [(o.code, o.body) for o in outs] == [(0, b"s" * 100)] * 10
    assert srv.connections_accepted == 3
    assert srv.max_concurrent == 3


def test_max_total_connections_across_hosts(pure: ModuleType, scripted: ServerFactory) -> None:
    """M_MAX_TOTAL_CONNECTIONS=3 over two hosts: the client never holds more than three
    sockets at once (idle ones to the other host are closed to make room), all succeed.

    purecurl only: the real pycurl fails to run CLOSESOCKETFUNCTION for some closes ("failed
    to acquire thread"), so its count is not observable this way."""
    mod = pure
    servers = [_slow_server(scripted), _slow_server(scripted)]
    counter = SocketCounter()
    m = mod.CurlMulti()
    m.setopt(mod.M_MAX_TOTAL_CONNECTIONS, 3)
    handles = [make_curl(mod, servers[i % 2].url("/slow"), counter.opts())[0] for i in range(12)]
    try:
        outs = run_multi(mod, handles, multi=m)
    finally:
        for c in handles:
            c.close()
        m.close()
    assert [(o.code, o.body) for o in outs] == [(0, b"s" * 100)] * 12
    assert counter.max_open <= 3
    assert counter.open == 0
    assert sum(s.max_concurrent for s in servers) >= 3  # the limit was reached, not avoided


def test_multi_maxconnects_caps_idle_pool(mod: ModuleType, scripted: ServerFactory) -> None:
    """M_MAXCONNECTS=2: after five concurrent transfers end, at most two connections stay
    idle in the pool; the rest are closed (oldest first, rule 25)."""
    srv = _slow_server(scripted)
    m = mod.CurlMulti()
    m.setopt(mod.M_MAXCONNECTS, 2)
    handles = [make_curl(mod, srv.url("/slow"))[0] for _ in range(5)]
    try:
        outs = run_multi(mod, handles, multi=m)
        assert all(o.code == 0 for o in outs)
        assert srv.connections_accepted == 5
        assert wait_until(lambda: srv.open_connections == 2)
        assert srv.open_connections == 2
    finally:
        for c in handles:
            c.close()
        m.close()


def test_easy_maxconnects_one(mod: ModuleType, scripted: ServerFactory) -> None:
    """MAXCONNECTS=1 on an easy handle caps its private pool at one connection: going to host
    A, then B, then A again needs a new connection to A (CURLOPT_MAXCONNECTS)."""
    assert _a_b_a_connections(mod, scripted, 1) == 2


def test_easy_default_pool_keeps_both_hosts(mod: ModuleType, scripted: ServerFactory) -> None:
    """With the default MAXCONNECTS the private pool keeps A's connection while B is used."""
    assert _a_b_a_connections(mod, scripted, None) == 1


def _a_b_a_connections(mod: ModuleType, scripted: ServerFactory, maxconnects: int | None) -> int:
    """Fetch from A, B, A on one handle; return how many connections A accepted."""
    a, b = scripted.http(), scripted.http()
    c, _ = make_curl(mod, a.url("/hello"))
    if maxconnects is not None:
        c.setopt(mod.MAXCONNECTS, maxconnects)
    try:
        for url in (a.url("/hello"), b.url("/hello"), a.url("/hello")):
            c.setopt(mod.URL, url)
            assert perform(mod, c).code == 0
    finally:
        c.close()
    return a.connections_accepted


def test_dead_idle_connections_are_pruned_when_a_connection_is_made(pure: ModuleType) -> None:
    """libcurl's prune_dead_connections: an idle connection whose server went away is closed
    (its fd freed) when the multi next sets up a connection, not left until the pool
    overflows."""
    m = pure.CurlMulti()
    with HttpServer() as gone, HttpServer() as other:
        a, _ = make_curl(pure, gone.url("/bytes/10"))
        b, _ = make_curl(pure, other.url("/bytes/10"))
        try:
            (out,) = run_multi(pure, [a], multi=m, timeout=10.0)
            assert out.code == 0
            eng = m._engine
            assert eng.pool.idle_count == 1
            gone.stop()  # the idle connection's peer closes it
            time.sleep(1.1)  # the prune runs at most once a second
            (out,) = run_multi(pure, [b], multi=m, timeout=10.0)
            assert out.code == 0
            assert eng.pool.idle_count == 1  # b's connection; a's dead one was closed
        finally:
            a.close()
            b.close()
            m.close()


def test_idle_connection_probed_before_reuse_at_most_once_a_second(
    pure: ModuleType, server: HttpServer
) -> None:
    """As libcurl 8.23 (curl PR 22169; strace shows no probe on a quick reuse): an HTTP/1
    connection is probed for liveness before a reuse only when its last check is a second old
    (fake clock); every request still goes over the one connection."""
    m = pure.CurlMulti()
    eng = m._engine
    clock = FakeClock()
    eng.clock = clock
    probes: list[int] = []
    alive = eng._alive

    def counting_alive(conn: Any, now: float) -> bool:
        probes.append(conn.id)
        result: bool = alive(conn, now)
        return result

    eng._alive = counting_alive
    c, _ = make_curl(pure, server.url("/bytes/10"))
    try:
        seen = []
        for step in (0.0, 0.5, 0.6, 0.1):  # at 0, 0.5, 1.1 and 1.2 s
            clock.advance(step)
            (out,) = run_multi(pure, [c], multi=m, timeout=10.0)
            seen.append((out.code, out.num_connects, len(probes)))
        # the first request connects; the reuse at 0.5 s is not probed, the one at 1.1 s is,
        # and that probe counts as a check: the reuse at 1.2 s is not probed again
        assert seen == [(0, 1, 0), (0, 0, 0), (0, 0, 1), (0, 0, 1)]
        assert server.connections_accepted == 1
    finally:
        c.close()
        m.close()
