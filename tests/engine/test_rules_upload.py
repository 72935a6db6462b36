"""SEMANTICS rules 9, 13 and 18 for uploads, on purecurl and the real pycurl: a paused
upload stops asking for POLL_OUT (no spin) until `pause(PAUSE_CONT)`, and the wait for
"100 Continue" is a deadline announced through the timer callback."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from tests.engine.conftest import Recorder
from tests.servers import HttpServer, ScriptedServer, ServerConnection


def test_paused_upload_is_not_watched_for_writing(
    mod: ModuleType,
    recorders: Callable[..., Recorder],
    handles: Callable[..., Any],
    server: HttpServer,
) -> None:
    """Rules 9 and 13: READFUNC_PAUSE takes POLL_OUT away (the read callback is not called
    again while paused), and pause(PAUSE_CONT) gives it back; the body arrives whole."""
    calls: list[int] = []
    pieces: list[Any] = [b"one-", mod.READFUNC_PAUSE, b"two", b""]

    def read(n: int) -> Any:
        calls.append(n)
        return pieces.pop(0)

    rec = recorders(mod)
    c = handles(mod, server.url("/echo"), UPLOAD=1, READFUNCTION=read)
    rec.multi.add_handle(c)
    rec.kick()
    rec.run(lambda: len(calls) == 2)
    watched = rec.tcp_watched()
    assert all(not mask & mod.POLL_OUT for mask in watched.values()), watched
    for _ in range(5):  # the loop goes on; the paused upload is not polled
        rec.step(0.05)
    assert len(calls) == 2
    c.pause(mod.PAUSE_CONT)
    rec.run(lambda: rec.running == 0)
    assert b"".join(c.body) == b"one-two"
    rec.multi.remove_handle(c)


def test_expect_100_wait_is_a_timer_deadline(
    mod: ModuleType, recorders: Callable[..., Recorder], handles: Callable[..., Any]
) -> None:
    """Rule 18: with no "100 Continue", the engine announces the EXPECT_100_TIMEOUT_MS wait
    through the timer callback, and the body goes when that timer fires."""
    received: dict[str, Any] = {}

    def handler(conn: ServerConnection) -> None:
        head = conn.read_head()
        if head is None:
            return
        received["head_at"] = time.monotonic()
        request = conn.read_body(head, answer_continue=False)
        received["body_at"] = time.monotonic()
        received["body"] = request.body
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    with ScriptedServer(handler) as srv:
        rec = recorders(mod)
        data = iter([b"payload", b""])
        c = handles(
            mod,
            srv.url("/"),
            UPLOAD=1,
            READFUNCTION=lambda n: next(data),
            EXPECT_100_TIMEOUT_MS=400,
        )
        rec.multi.add_handle(c)
        rec.kick()
        rec.run(lambda: "head_at" in received)
        rec.step(0.1)  # the engine has sent the head and waits
        rec.run(lambda: rec.running == 0, timeout=5)
        rec.multi.remove_handle(c)
    timers = rec.timers(rec.take())
    assert any(200 <= ms <= 400 for ms in timers), timers
    assert received["body"] == b"payload"
    assert received["body_at"] - received["head_at"] >= 0.3
    assert b"".join(c.body) == b"ok"


def test_rate_limit_waits_on_the_timer(
    mod: ModuleType,
    recorders: Callable[..., Recorder],
    handles: Callable[..., Any],
    server: HttpServer,
) -> None:
    """Rule 18 for MAX_RECV_SPEED_LARGE: the engine does not sleep; at some point it watches
    no socket for the transfer and waits on a timer it announced."""
    rec = recorders(mod)
    c = handles(mod, server.url("/bytes/1000000"), MAX_RECV_SPEED_LARGE=2_000_000)
    rec.multi.add_handle(c)
    rec.kick()
    waited_on_timer = False
    deadline = time.monotonic() + 10
    while rec.running != 0:
        assert time.monotonic() < deadline
        if rec.running == 1 and not rec.tcp_watched() and rec.timer_ms:
            waited_on_timer = True
        rec.step(0.5)
    assert waited_on_timer
    assert len(b"".join(c.body)) == 1000000
    rec.multi.remove_handle(c)
