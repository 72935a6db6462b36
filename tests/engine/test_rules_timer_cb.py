"""SEMANTICS.md rules 15-18: the timer callback (one timer, only on change, rounding, one
deadline structure enforced by socket_action alone)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.engine.conftest import FakeClock, Recorder, gated_handler
from tests.servers import HttpServer, ServerConnection, ServerFactory

Recorders = Callable[..., Recorder]
Handles = Callable[..., Any]


def _timer_only(rec: Recorder, limit: float = 3.0) -> float:
    """Drive `rec` by its timer alone (never report an fd) until nothing runs; return seconds."""
    t0 = time.monotonic()
    while True:
        assert time.monotonic() - t0 < limit, rec.events
        assert rec.timer_ms is not None, f"nothing to wait on: {rec.events}"
        due = rec.timer_set_at + rec.timer_ms / 1000.0
        time.sleep(max(0.0, due - time.monotonic()))
        if rec.kick()[1] == 0:
            return time.monotonic() - t0


@pytest.fixture
def blackhole() -> Iterator[int]:
    """A port on 127.0.0.1 whose listen queue is full: a connect to it hangs (SYN dropped)."""
    lst = socket.socket()
    fillers: list[socket.socket] = []
    try:
        lst.bind(("127.0.0.1", 0))
        lst.listen(0)
        port = lst.getsockname()[1]
        for _ in range(3):
            s = socket.socket()
            fillers.append(s)
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
        time.sleep(0.02)
        yield port
    finally:
        for s in fillers:
            s.close()
        lst.close()


def test_timer_zero_then_delete_when_done(
    mod: ModuleType, server: HttpServer, recorders: Recorders, handles: Handles
) -> None:
    """Rule 15: 0 means "as soon as possible" (add_handle), -1 deletes the timer: after the
    last transfer ends, the last timer call is -1 and timeout() says -1."""
    rec = recorders(mod)
    c = handles(mod, server.url("/hello"), TIMEOUT_MS=5000)
    rec.multi.add_handle(c)
    assert rec.timers(rec.events) == [0]
    rec.run_all()
    timers = rec.timers(rec.events)
    assert timers[-1] == -1
    assert all(ms >= 0 for ms in timers[:-1])
    assert rec.multi.timeout() == -1


def test_timer_not_called_without_deadline_change(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Rule 16: socket events that change no deadline do not call the timer callback."""
    release = threading.Event()
    srv = scripted(gated_handler(release))
    rec = recorders(mod)
    c = handles(mod, srv.url("/"), TIMEOUT_MS=5000)
    rec.multi.add_handle(c)
    rec.kick()
    fd = rec.only_tcp_fd()
    rec.ready(fd)
    rec.take()
    for mask in (1, 1, 0, 1):
        rec.action(fd, mask)
    assert rec.take() == []
    release.set()
    rec.run_all()


def test_timer_deleted_after_last_handle_removed(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Rule 16: remove_handle checks the deadline: removing the last (running) handle
    un-announces its socket and deletes the timer (-1); timeout() is then -1."""
    release = threading.Event()
    srv = scripted(gated_handler(release))
    rec = recorders(mod)
    c = handles(mod, srv.url("/"), TIMEOUT_MS=5000)
    rec.multi.add_handle(c)
    rec.kick()
    fd = rec.only_tcp_fd()
    rec.ready(fd)
    rec.take()
    rec.multi.remove_handle(c)
    events = rec.net(rec.take())
    assert events == [("socket", 4, fd), ("timer", -1)]
    assert rec.multi.timeout() == -1


def test_timer_deleted_when_removed_before_start(
    mod: ModuleType, server: HttpServer, recorders: Recorders, handles: Handles
) -> None:
    """Rule 16 (trap "stale 0 ms timer after remove_handle"): a handle added (timer 0) and
    removed before it ran leaves no timer behind: the timer callback gets -1."""
    rec = recorders(mod)
    c = handles(mod, server.url("/hello"))
    rec.multi.add_handle(c)
    assert rec.take() == [("timer", 0)]
    rec.multi.remove_handle(c)
    assert rec.take() == [("timer", -1)]
    assert rec.multi.timeout() == -1


def test_ms_rounded_up(
    pure: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Rule 17 (fake clock): milliseconds are rounded up: 1099.7 ms left is announced as 1100,
    and a timer that fires after exactly those 1100 ms finds the transfer expired."""
    release = threading.Event()
    srv = scripted(gated_handler(release))
    rec = recorders(pure)
    clock = FakeClock(1000.0)
    rec.multi._engine.clock = clock
    c = handles(pure, srv.url("/"), TIMEOUT_MS=1500, CONNECTTIMEOUT_MS=60000)
    rec.multi.add_handle(c)
    rec.kick()
    fd = rec.only_tcp_fd()
    rec.ready(fd)
    rec.take()
    clock.advance(0.4003)
    rec.kick()
    assert rec.take() == [("timer", 1100)]
    assert rec.multi.timeout() == 1100
    clock.advance(1.1)
    assert rec.kick() == (0, 0)
    assert rec.net(rec.take()) == [("socket", 4, fd), ("timer", -1)]
    _, _, err = rec.multi.info_read()
    assert [(h, code) for h, code, _ in err] == [(c, 28)]


def test_timer_on_time_finds_expired_work(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Rule 17: an application that sleeps exactly the announced ms and then calls
    socket_action(SOCKET_TIMEOUT) finds the transfer expired: no extra 0 ms round."""
    release = threading.Event()
    srv = scripted(gated_handler(release))
    rec = recorders(mod)
    c = handles(mod, srv.url("/"), TIMEOUT_MS=150)
    rec.multi.add_handle(c)
    rec.kick()
    fd = rec.only_tcp_fd()
    rec.ready(fd)
    rec.take()
    rec.kick()
    ms = rec.timers(rec.take())[-1]
    time.sleep(ms / 1000.0)
    assert rec.kick() == (0, 0)
    assert 0 not in rec.timers(rec.events)
    _, _, err = rec.multi.info_read()
    assert [(h, code) for h, code, _ in err] == [(c, 28)]


def test_connect_timeout_by_socket_action_alone(
    mod: ModuleType, blackhole: int, recorders: Recorders, handles: Handles
) -> None:
    """Rule 18: the connect timeout lives in the deadline structure: a connect that hangs ends
    with 28 when the application only ever reacts to its timer."""
    rec = recorders(mod)
    c = handles(mod, f"http://127.0.0.1:{blackhole}/", CONNECTTIMEOUT_MS=200)
    rec.multi.add_handle(c)
    took = _timer_only(rec)
    assert 0.15 < took < 1.0
    _, _, err = rec.multi.info_read()
    assert [(h, code) for h, code, _ in err] == [(c, 28)]
    assert err[0][2].startswith("Connection timed out after 2")


def test_total_timeout_by_socket_action_alone(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Rule 18: TIMEOUT lives in the deadline structure: a silent server's transfer ends with 28
    through socket_action(SOCKET_TIMEOUT) alone."""
    release = threading.Event()
    srv = scripted(gated_handler(release))
    rec = recorders(mod)
    c = handles(mod, srv.url("/"), TIMEOUT_MS=200)
    rec.multi.add_handle(c)
    rec.kick()
    fd = rec.only_tcp_fd()
    rec.ready(fd)
    took = _timer_only(rec)
    assert took < 1.0
    _, _, err = rec.multi.info_read()
    assert [(h, code) for h, code, _ in err] == [(c, 28)]
    assert err[0][2].startswith("Operation timed out after 2")


def _trickle(release: threading.Event) -> Callable[[ServerConnection], None]:
    """Answer with a head announcing 50000 bytes and 5 of them, then stall."""

    def handler(conn: ServerConnection) -> None:
        if conn.read_request() is None:
            return
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 50000\r\n\r\nhello")
        while not release.wait(0.01):
            if conn.sleep(0):
                return

    return handler


@pytest.mark.slow
def test_low_speed_by_socket_action_alone(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Rule 18: LOW_SPEED_LIMIT/TIME is enforced through the deadline structure: a stalled
    transfer ends with 28 about LOW_SPEED_TIME after it stalled, by socket_action alone (no
    timer is needed for progress callbacks, one is for the speed check)."""
    release = threading.Event()
    srv = scripted(_trickle(release))
    rec = recorders(mod)
    c = handles(mod, srv.url("/"), LOW_SPEED_LIMIT=1000, LOW_SPEED_TIME=1)
    rec.multi.add_handle(c)
    rec.kick()
    fd = rec.only_tcp_fd()
    rec.ready(fd)
    rec.ready(fd)  # the head and 5 bytes: then the server stalls
    assert b"".join(c.body) == b"hello"
    took = _timer_only(rec)
    assert took < 1.5
    _, _, err = rec.multi.info_read()
    assert err == [
        (c, 28, "Operation too slow. Less than 1000 bytes/sec transferred the last 1 seconds")
    ]


def test_low_speed_fake_clock(
    pure: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Rule 18 (fake clock): a transfer that stalls at t ends with 28 at the first timer call
    at or after t + LOW_SPEED_TIME (libcurl 8.23: after 1.0 s for LOW_SPEED_TIME=1)."""
    release = threading.Event()
    srv = scripted(_trickle(release))
    rec = recorders(pure)
    clock = FakeClock()
    rec.multi._engine.clock = clock
    c = handles(pure, srv.url("/"), LOW_SPEED_LIMIT=1000, LOW_SPEED_TIME=1)
    rec.multi.add_handle(c)
    rec.kick()
    fd = rec.only_tcp_fd()
    rec.ready(fd)
    rec.ready(fd)
    assert b"".join(c.body) == b"hello"
    for _ in range(4):
        if rec.running == 0:
            break
        assert rec.timer_ms is not None
        clock.advance(rec.timer_ms / 1000.0)
        rec.kick()
        if clock.now - 1000.0 > 1.0:
            break
    assert rec.running == 0
    assert clock.now - 1000.0 <= 1.0 + 1e-9
