"""SEMANTICS.md rules 24 (timeout/fdset/select) and 25 (limits, queueing, idle pool)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from tests.engine.conftest import Recorder, gated_handler
from tests.servers import HttpServer, ServerFactory, wait_until

Recorders = Callable[..., Recorder]
Handles = Callable[..., Any]


def test_timeout_values(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Rule 24: timeout() is -1 with no timer, 0 when work is due (just added), else the ms
    left (at most the TIMEOUT set)."""
    release = threading.Event()
    srv = scripted(gated_handler(release))
    rec = recorders(mod)
    assert rec.multi.timeout() == -1
    c = handles(mod, srv.url("/"), TIMEOUT_MS=3000)
    rec.multi.add_handle(c)
    assert rec.multi.timeout() == 0
    rec.kick()
    fd = rec.only_tcp_fd()
    rec.ready(fd)
    assert 0 < rec.multi.timeout() <= 3000
    release.set()
    rec.run_all()
    assert rec.multi.timeout() == -1


def test_fdset_matches_what_is_watched(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Rule 24: fdset() returns the read/write/except fd lists of what is watched now, which
    is what the socket callback announced."""
    release = threading.Event()
    srv = scripted(gated_handler(release))
    rec = recorders(mod)
    assert rec.multi.fdset() == ([], [], [])
    cs = [handles(mod, srv.url("/")) for _ in range(2)]
    for c in cs:
        rec.multi.add_handle(c)
    rec.kick()
    fds = sorted(rec.tcp_watched())

    def check() -> None:
        r, w, _ = rec.multi.fdset()
        assert sorted(r) == sorted(fd for fd, what in rec.watched.items() if what & 1)
        assert sorted(w) == sorted(fd for fd, what in rec.watched.items() if what & 2)

    check()
    rec.ready(fds[0])  # one connected and sent: now reading; the other still connecting
    check()
    rec.ready(fds[1])
    check()
    release.set()
    rec.run_all()
    r, w, _ = rec.multi.fdset()
    assert not set(r) & rec.tcp and not set(w) & rec.tcp


def test_select_waits_on_watched_fds(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Rule 24: select(t) waits on the watched fds at most t seconds: 0 ready while the server
    is silent, >= 1 as soon as the response arrives; 0 at once when nothing is watched."""
    rec = recorders(mod)
    t0 = time.monotonic()
    assert rec.multi.select(1.0) == 0
    assert time.monotonic() - t0 < 0.5
    release = threading.Event()
    srv = scripted(gated_handler(release))
    c = handles(mod, srv.url("/"))
    rec.multi.add_handle(c)
    rec.kick()
    rec.ready(rec.only_tcp_fd())
    t0 = time.monotonic()
    assert rec.multi.select(0.1) in (0, 1)  # 1 only if libcurl's resolver fd is still set
    assert 0.05 < time.monotonic() - t0 < 1.0
    release.set()
    assert rec.multi.select(2.0) >= 1
    rec.run_all()


def test_no_limits_by_default(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Rule 25: M_MAX_HOST_CONNECTIONS and M_MAX_TOTAL_CONNECTIONS default to 0 (no limit):
    six transfers to one host connect at once."""
    release = threading.Event()
    srv = scripted(gated_handler(release))
    rec = recorders(mod)
    cs = [handles(mod, srv.url("/")) for _ in range(6)]
    for c in cs:
        rec.multi.add_handle(c)
    rec.kick()
    assert len(rec.tcp_watched()) == 6
    release.set()
    rec.run_all()
    assert srv.connections_accepted == 6


def test_host_limit_queues_and_counts_running(
    mod: ModuleType, server: HttpServer, recorders: Recorders, handles: Handles
) -> None:
    """Rule 25: transfers over M_MAX_HOST_CONNECTIONS wait in a queue and count as running;
    they run as connections become free."""
    rec = recorders(mod)
    rec.multi.setopt(mod.M_MAX_HOST_CONNECTIONS, 2)
    cs = [handles(mod, server.url("/hello")) for _ in range(5)]
    for c in cs:
        rec.multi.add_handle(c)
    assert rec.kick() == (0, 5)
    assert len(rec.tcp_watched()) == 2
    rec.run_all()
    assert [b"".join(c.body) for c in cs] == [b"hello\n"] * 5
    assert server.max_concurrent <= 2


def test_timeout_includes_queue_time(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Rule 25: TIMEOUT includes the time a transfer waits in the queue: a queued transfer
    ends with 28 while the one holding the only connection still runs."""
    release = threading.Event()
    srv = scripted(gated_handler(release))
    rec = recorders(mod)
    rec.multi.setopt(mod.M_MAX_TOTAL_CONNECTIONS, 1)
    first = handles(mod, srv.url("/"))
    queued = handles(mod, srv.url("/"), TIMEOUT_MS=200)
    rec.multi.add_handle(first)
    rec.multi.add_handle(queued)
    assert rec.kick() == (0, 2)
    fd = rec.only_tcp_fd()
    rec.ready(fd)
    rec.run(lambda: rec.running == 1, timeout=2.0)
    _, _, err = rec.multi.info_read()
    assert [(h, code) for h, code, _ in err] == [(queued, 28)]
    assert srv.connections_accepted == 1
    release.set()
    rec.run_all()
    assert b"".join(first.body) == b"hello"


def test_maxconnects_closes_oldest_idle(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Rule 25: M_MAXCONNECTS caps the idle pool; when a third connection goes idle with a cap
    of 2, the oldest one is closed; no callback announces idle connections."""
    servers = [scripted.http({"/": b"hi"}) for _ in range(3)]
    rec = recorders(mod)
    rec.multi.setopt(mod.M_MAXCONNECTS, 2)
    for n, srv in enumerate(servers, 1):
        c = handles(mod, srv.url("/"))
        rec.multi.add_handle(c)
        rec.run_all()
        rec.multi.remove_handle(c)
        assert b"".join(c.body) == b"hi"
        expected = [1, 1, 0][:n] if n < 3 else [0, 1, 1]

        def pool_is(expected: list[int] = expected, n: int = n) -> bool:
            return [s.open_connections for s in servers][:n] == expected

        assert wait_until(pool_is), [s.open_connections for s in servers]
    assert rec.tcp_watched() == {}
