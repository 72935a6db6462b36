"""SEMANTICS.md "Known traps" (each was a real libcurl bug) and the callback items of
"Observed in libcurl 8.23"."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from tests.engine.conftest import FakeClock, Recorder, gated_handler
from tests.servers import HttpServer, Response, ServerFactory

Recorders = Callable[..., Recorder]
Handles = Callable[..., Any]


def _readable(fd: int) -> bool:
    r, _, _ = select.select([fd], [], [], 0)
    return bool(r)


def test_remove_sent_before_fd_number_is_reused(
    mod: ModuleType, server: HttpServer, recorders: Recorders, handles: Handles
) -> None:
    """Trap "REMOVE sent after close": with FORBID_REUSE each transfer closes its socket and
    the next one gets the same fd number; for every fd the REMOVE comes while the old socket is
    still open and before the new socket on that number is announced."""
    rec = recorders(mod)
    for _ in range(3):
        c = handles(mod, server.url("/hello"), FORBID_REUSE=1)
        rec.multi.add_handle(c)
        rec.run_all()
        rec.multi.remove_handle(c)
        assert b"".join(c.body) == b"hello\n"
    assert all(is_open for fd, is_open in rec.open_at_remove if fd in rec.tcp)
    state: dict[int, int] = {}
    for what, fd in rec.sockets(rec.events):
        if what == 4:
            assert state.pop(fd, 0), f"REMOVE of an fd not watched: {rec.events}"
        else:
            state[fd] = what
    assert state == {}
    assert server.connections_accepted == 3


def test_paused_transfer_does_not_keep_poll_in(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Trap "a paused transfer that keeps POLL_IN spins": a transfer paused by its write
    callback while more data waits in its socket is not watched, although the socket is
    readable; fdset() does not list it; unpaused it completes."""
    size = 4 << 20
    srv = scripted.http({"/": Response(generated_length=size)})
    rec = recorders(mod)
    offered: list[int] = []
    got: list[int] = []
    c = handles(mod, srv.url("/"))

    def write(data: bytes) -> int | None:
        if not offered:
            offered.append(len(data))
            return int(mod.WRITEFUNC_PAUSE)  # not consumed: delivered again after unpause
        got.append(len(data))
        return None

    c.setopt(mod.WRITEFUNCTION, write)
    rec.multi.add_handle(c)
    rec.kick()
    fd = rec.only_tcp_fd()
    rec.ready(fd)
    while not offered:  # the head may come in a read of its own
        rec.ready(fd)
    assert rec.running == 1
    assert rec.tcp_watched() == {}
    time.sleep(0.05)
    assert _readable(fd)  # what would spin the loop
    r, w, _ = rec.multi.fdset()
    assert fd not in r and fd not in w
    assert rec.multi.select(0.05) in (0, 1)  # 1 only for libcurl's own resolver fd
    c.pause(mod.PAUSE_CONT)
    rec.run_all()
    assert len(offered) == 1
    assert sum(got) == size


def _slow_resolver(monkeypatch: pytest.MonkeyPatch, gates: dict[str, threading.Event]) -> None:
    real = socket.getaddrinfo

    def fake(host: Any, port: Any, *args: Any, **kw: Any) -> Any:
        gate = gates.get(host)
        if gate is not None:
            gate.wait(5)
            return real("127.0.0.1", port, *args, **kw)
        return real(host, port, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


@pytest.mark.parametrize("path", ["perform", "socket_action"])
def test_wakeup_fd_drained_on_every_driving_path(
    pure: ModuleType,
    server: HttpServer,
    recorders: Recorders,
    handles: Handles,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
) -> None:
    """Trap "an internal wake-up fd that is not drained spins the loop" (rule 12): when a
    lookup finishes, one perform() or one socket_action on the wake-up fd leaves it
    non-readable while another lookup keeps it watched."""
    gates = {"one.example": threading.Event(), "two.example": threading.Event()}
    _slow_resolver(monkeypatch, gates)
    rec = recorders(pure)
    c1 = handles(pure, f"http://one.example:{server.port}/hello")
    c2 = handles(pure, f"http://two.example:{server.port}/hello")
    rec.multi.add_handle(c1)
    rec.multi.add_handle(c2)
    rec.kick()
    wfds = [fd for fd in rec.watched if fd in rec.other]
    assert len(wfds) == 1
    wfd = wfds[0]
    gates["one.example"].set()
    rec.wait_ready(wfd)
    if path == "perform":
        rec.multi.perform()
    else:
        rec.action(wfd, 1)
    assert rec.watched.get(wfd) == 1  # two.example is still being looked up
    assert not _readable(wfd)
    assert len(rec.tcp_watched()) == 1  # one.example connects
    gates["two.example"].set()
    rec.run_all()
    assert [b"".join(c.body) for c in (c1, c2)] == [b"hello\n"] * 2


def test_no_stale_zero_timer_after_remove(
    mod: ModuleType, server: HttpServer, recorders: Recorders, handles: Handles
) -> None:
    """Trap "a stale 0 ms timer left after remove_handle": handles added (timer 0) and removed
    before running leave the timer deleted (-1), and timeout() agrees."""
    rec = recorders(mod)
    cs = [handles(mod, server.url("/hello")) for _ in range(2)]
    for c in cs:
        rec.multi.add_handle(c)
    rec.multi.remove_handle(cs[0])
    assert rec.multi.timeout() == 0  # cs[1] is still due
    rec.multi.remove_handle(cs[1])
    assert rec.timers(rec.take())[-1] == -1
    assert rec.multi.timeout() == -1


def test_deadline_reannounced_after_early_timer(
    pure: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Trap "a deadline not re-announced after SOCKET_TIMEOUT" (rule 6, fake clock): a timer
    that fires 1 ms early gets the deadline announced again (1 ms), so the application never
    waits without a timer; the next firing ends the transfer."""
    release = threading.Event()
    srv = scripted(gated_handler(release))
    rec = recorders(pure)
    clock = FakeClock()
    rec.multi._engine.clock = clock
    c = handles(pure, srv.url("/"), TIMEOUT_MS=500, CONNECTTIMEOUT_MS=60000)
    rec.multi.add_handle(c)
    rec.kick()
    rec.ready(rec.only_tcp_fd())
    rec.take()
    clock.advance(0.499)
    assert rec.kick() == (0, 1)
    assert rec.take() == [("timer", 1)]
    clock.advance(0.001)
    assert rec.kick() == (0, 0)
    _, _, err = rec.multi.info_read()
    assert [(h, code) for h, code, _ in err] == [(c, 28)]


def test_cleanup_callbacks_see_a_whole_multi(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Trap "callbacks fired during cleanup into a half-torn-down multi" (rule 22): callbacks
    fired by CurlMulti.close find a multi whose calls either work (assign, info_read) or are
    refused with pycurl.error, never crash; after close no callback fires any more."""
    release = threading.Event()
    srv = scripted(gated_handler(release))
    rec = recorders(mod)
    cs = [handles(mod, srv.url("/"), TIMEOUT_MS=5000) for _ in range(2)]
    for c in cs:
        rec.multi.add_handle(c)
    rec.kick()
    for fd in list(rec.tcp_watched()):
        rec.ready(fd)
    rec.take()
    outcomes: list[str] = []

    def probe(multi: Any) -> None:
        calls: list[tuple[str, Callable[[], Any]]] = [
            ("assign", lambda: multi.assign(next(iter(rec.tcp)), None)),
            ("info_read", lambda: multi.info_read()),
            ("timeout", lambda: multi.timeout()),
            ("fdset", lambda: multi.fdset()),
            ("perform", lambda: multi.perform()),
        ]
        for name, call in calls:
            try:
                call()
                outcomes.append(f"{name} ok")
            except mod.error:
                outcomes.append(f"{name} refused")

    rec.on_socket = lambda what, fd, multi, sp: probe(multi)
    rec.on_timer = lambda ms: probe(rec.multi)
    rec.multi.close()
    assert len(rec.sockets(rec.take())) == 2
    assert outcomes
    assert {o for o in outcomes if o.startswith(("perform", "timeout", "fdset"))} <= {
        "perform refused",
        "timeout refused",
        "fdset refused",
    }
    # closed: handles leave quietly
    for c in cs:
        c.close()
    assert rec.take() == []


@pytest.mark.parametrize("driver", ["socket_action", "perform"])
def test_timeout_enforced_by_every_driver(
    mod: ModuleType,
    scripted: ServerFactory,
    recorders: Recorders,
    handles: Handles,
    driver: str,
) -> None:
    """Trap "a timeout enforced by perform but not by socket_action" (rule 18): TIMEOUT ends a
    stalled transfer with 28 whether the application drives with socket_action (timer only)
    or with perform."""
    release = threading.Event()
    srv = scripted(gated_handler(release))
    rec = recorders(mod)
    c = handles(mod, srv.url("/"), TIMEOUT_MS=150)
    rec.multi.add_handle(c)
    rec.kick()
    rec.ready(rec.only_tcp_fd())
    deadline = time.monotonic() + 2
    while True:
        assert time.monotonic() < deadline, rec.events
        if driver == "perform":
            time.sleep(0.01)
            running = rec.multi.perform()[1]
        else:
            assert rec.timer_ms is not None, rec.events
            time.sleep(max(0.0, rec.timer_set_at + rec.timer_ms / 1000 - time.monotonic()))
            running = rec.kick()[1]
        if not running:
            break
    _, _, err = rec.multi.info_read()
    assert [(h, code) for h, code, _ in err] == [(c, 28)]


def test_response_at_once_may_finish_unannounced(
    mod: ModuleType, server: HttpServer, recorders: Recorders, handles: Handles
) -> None:
    """Observed in libcurl 8.23: on a reused connection whose response is already there, the
    transfer may complete before its socket is announced; then no REMOVE is sent for it
    (only announced sockets are un-announced, rule 10)."""
    rec = recorders(mod)
    c = handles(mod, server.url("/hello"))
    rec.multi.add_handle(c)
    rec.run_all()
    rec.multi.remove_handle(c)
    rec.take()
    c2 = handles(mod, server.url("/hello"))
    rec.multi.add_handle(c2)
    rec.run_all()
    whats = [w for w, _ in rec.sockets(rec.take())]
    assert whats in ([1, 4], [])
    assert b"".join(c2.body) == b"hello\n"


def test_unpause_announces_run_now_timer(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Rules 13, 16 (observed in libcurl 8.23): Curl.pause(PAUSE_CONT) from outside callbacks
    calls the socket callback (POLL_IN again) and the timer callback with 0: the application's
    timer agrees with timeout()."""
    release = threading.Event()
    srv = scripted(gated_handler(release))
    rec = recorders(mod)
    c = handles(mod, srv.url("/"))
    rec.multi.add_handle(c)
    rec.kick()
    fd = rec.only_tcp_fd()
    rec.ready(fd)
    c.pause(mod.PAUSE_ALL)
    rec.take()
    c.pause(mod.PAUSE_CONT)
    events = rec.net(rec.take())
    assert ("socket", 1, fd) in events
    assert ("timer", 0) in events
    assert rec.multi.timeout() == 0
    release.set()
    rec.run_all()
