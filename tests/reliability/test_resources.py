"""Resources (issue 9): faults and long runs leave no file descriptor, socket, thread or memory
behind, and `CurlMulti.close()` with transfers in flight releases every socket.

These are purecurl's resources (fixture `pure`): what libcurl does with its own is not ours to
test. The servers run in this process, so their sockets and threads are in /proc/self/fd and
`threading.enumerate()` too: counts are taken before the servers start and after they stop, and
server threads are told apart by name.
"""

from __future__ import annotations

import gc
import os
import random
import threading
import tracemalloc
from types import ModuleType
from typing import Any

import pytest

from tests.integration._util import make_curl, run_multi
from tests.servers import HttpServer, ServerConnection, ServerFactory, pattern_bytes, wait_until

_FD_DIR = "/proc/self/fd"

# kind -> (the response bytes, or what the server does; the codes libcurl gives for it).
# A fault arriving on a reused connection may be retried once on a fresh one (libcurl's
# transparent retry), and garbage on a reused connection is "Invalid status line" (8) rather
# than HTTP/0.9 (1): hence sets of codes.
FAULT_KINDS: dict[str, tuple[bytes | str, set[int]]] = {
    "ok": (b"", {0}),
    "reset": ("reset", {56}),
    "empty": ("close", {52}),
    "truncated": (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", {18}),
    "garbage": (b"garbage\r\n\r\n", {1, 8}),
    "bad-chunk": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", {56}),
    "conflicting-length": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        {8},
    ),
    "reset-mid-body": ("reset-mid-body", {56}),
    "stall": ("stall", {28}),
}


def _fd_count() -> int:
    return len(os.listdir(_FD_DIR))


def _client_threads(before: set[threading.Thread]) -> list[str]:
    """Threads started since `before` that are not a test server's."""
    return [
        t.name
        for t in threading.enumerate()
        if t not in before and t.is_alive() and "Server-" not in t.name
    ]


def fault_server(conn: ServerConnection) -> None:
    """Serves /ok/N with keep-alive and answers /KIND with the fault of FAULT_KINDS."""
    while True:
        request = conn.read_request()
        if request is None:
            return
        kind, _, size = request.path[1:].partition("/")
        if kind == "ok":
            n = int(size)
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % n + pattern_bytes(n))
            continue
        action = FAULT_KINDS[kind][0]
        if action == "reset":
            conn.reset()
        elif action == "reset-mid-body":
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 5000)
            conn.sleep(0.02)
            conn.reset()
        elif action == "stall":
            conn.read_until_eof()  # until the client gives up (TIMEOUT_MS)
        elif isinstance(action, bytes):
            conn.send(action)
        return


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_random_faults_leave_nothing_behind(pure: ModuleType) -> None:
    """10,000 transfers, about a third of them hitting a random fault, through one multi in
    batches (M_MAX_TOTAL_CONNECTIONS=32): each ends with its fault's code, every healthy body is
    intact, and once the multi and the handles are closed and the server stopped, the process
    has the file descriptors and threads it had before."""
    rng = random.Random(9)
    kinds = [k for k in FAULT_KINDS if k != "ok"]
    fds_before = _fd_count()
    threads_before = set(threading.enumerate())
    factory = ServerFactory()
    try:
        srv = factory(fault_server)
        m = pure.CurlMulti()
        m.setopt(pure.M_MAX_TOTAL_CONNECTIONS, 32)
        done = 0
        for _ in range(50):
            plan = []
            for _ in range(200):
                kind = "ok" if rng.random() < 0.65 else rng.choice(kinds)
                plan.append((kind, rng.randrange(0, 40_000)))
            handles = []
            for kind, n in plan:
                path = f"/ok/{n}" if kind == "ok" else f"/{kind}"
                c, _ = make_curl(
                    pure, srv.url(path), [("TIMEOUT_MS", 2000 if kind != "stall" else 150)]
                )
                handles.append(c)
            try:
                outs = run_multi(pure, handles, multi=m, timeout=30)
            finally:
                for c in handles:
                    c.close()
            for (kind, n), out in zip(plan, outs, strict=True):
                assert out.code in FAULT_KINDS[kind][1], (kind, out.code, out.message)
                if kind == "ok":
                    assert out.body == pattern_bytes(n)
            done += len(plan)
            with srv._state_lock:
                srv.requests.clear()
        m.close()
        assert done == 10_000
        assert _client_threads(threads_before) == []
    finally:
        factory.stop_all()
    assert wait_until(lambda: _fd_count() <= fds_before, timeout=3.0), (_fd_count(), fds_before)


def _run_batch(mod: ModuleType, multi: Any, handles: list[Any]) -> None:
    for c in handles:
        c.outcome.chunks.clear()
        c.outcome.headers.clear()
    outs = run_multi(mod, handles, multi=multi, timeout=30)
    assert all(o.code == 0 and len(o.body) == 512 for o in outs)


def _purecurl_bytes() -> int:
    """Bytes allocated by purecurl's own code and still alive (tracemalloc), after a collect."""
    gc.collect()
    snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, "*/purecurl/*")])
    return sum(stat.size for stat in snapshot.statistics("filename"))


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_memory_flat_across_keepalive_transfers(pure: ModuleType, server: HttpServer) -> None:
    """100,000 keep-alive transfers against one server (25 handles reused on one multi): the
    memory purecurl's code holds (tracemalloc, filtered to purecurl's files) after the last
    25,000 is within 256 KiB of what it held after the first 25,000."""
    m = pure.CurlMulti()
    # M_MAXCONNECTS pins the idle pool: see test_idle_pool_survives_handle_removal.
    m.setopt(pure.M_MAXCONNECTS, 25)
    handles = [make_curl(pure, server.url("/bytes/512"))[0] for _ in range(25)]
    tracemalloc.start()
    try:
        marks = []
        for _ in range(4):
            for _ in range(1000):  # 1,000 batches of 25 = 25,000 transfers
                _run_batch(pure, m, handles)
            with server._state_lock:
                server.requests.clear()
            marks.append(_purecurl_bytes())
    finally:
        tracemalloc.stop()
        for c in handles:
            c.close()
        m.close()
    growth = marks[-1] - marks[0]
    assert growth < 256 * 1024, marks
    assert server.connections_accepted <= 25


def test_multi_close_with_transfers_in_flight(pure: ModuleType, scripted: ServerFactory) -> None:
    """`CurlMulti.close()` while 20 transfers are connected and waiting for an answer closes
    every socket the multi owned: the server sees all 20 connections end, and none of the
    descriptors the socket callback announced is still open on the same socket."""

    def answer_never(conn: ServerConnection) -> None:
        if conn.read_request() is not None:
            conn.read_until_eof()

    srv = scripted(answer_never)
    m = pure.CurlMulti()
    announced: dict[int, str] = {}

    def on_socket(what: int, fd: int, multi: Any, socketp: Any) -> None:
        if what != pure.POLL_REMOVE:
            try:
                announced[fd] = os.readlink(f"{_FD_DIR}/{fd}")
            except OSError:
                pass

    m.setopt(pure.M_SOCKETFUNCTION, on_socket)
    handles = [make_curl(pure, srv.url(f"/{i}"))[0] for i in range(20)]
    try:
        for c in handles:
            m.add_handle(c)
        # Drive until every request has reached the server.
        assert wait_until(lambda: m.perform()[1] == 20 and len(srv.requests) == 20, 5.0)
        assert srv.open_connections == 20
        m.close()
        assert wait_until(lambda: srv.open_connections == 0, 3.0)
        still_open = []
        for fd, target in announced.items():
            try:
                if os.readlink(f"{_FD_DIR}/{fd}") == target:
                    still_open.append(fd)
            except OSError:
                pass
        assert still_open == []
        assert len(announced) >= 20
    finally:
        for c in handles:
            c.close()


def test_idle_pool_survives_handle_removal(mod: ModuleType, server: HttpServer) -> None:
    """25 handles run 20 times on one multi through the selectors driver, which removes each
    handle when it is done: libcurl keeps the 25 connections idle between batches and reuses
    them (25 connections for 500 transfers)."""
    m = mod.CurlMulti()
    handles = [make_curl(mod, server.url("/bytes/512"))[0] for _ in range(25)]
    try:
        for _ in range(20):
            _run_batch(mod, m, handles)
    finally:
        for c in handles:
            c.close()
        m.close()
    assert server.connections_accepted == 25
