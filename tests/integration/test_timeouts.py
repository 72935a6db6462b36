"""Timeouts over real sockets, each through Curl.perform and through the selectors driver
(socket_action): SEMANTICS.md rule 18 (every timeout lives in the one deadline structure) and
the known trap "a timeout enforced by perform but not by socket_action".

Each test runs on purecurl and the real pycurl (fixture `mod`); messages are libcurl 8.23's.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from types import ModuleType

import pytest

from tests.integration._util import Opts, Outcome, fetch, make_curl, run_multi
from tests.servers import ServerConnection, ServerFactory

DRIVERS = ["perform", "socket_action"]


def transfer(mod: ModuleType, driver: str, url: str, opts: Opts) -> tuple[Outcome, float]:
    """Run one transfer with `driver`; return its Outcome and the seconds it took."""
    start = time.monotonic()
    if driver == "perform":
        out = fetch(mod, url, opts)
    else:
        c, _ = make_curl(mod, url, opts)
        try:
            (out,) = run_multi(mod, [c], timeout=10)
        finally:
            c.close()
    return out, time.monotonic() - start


def stall_after(data: bytes) -> Callable[[ServerConnection], None]:
    def handler(conn: ServerConnection) -> None:
        if conn.read_request() is not None:
            if data:
                conn.send(data)
            conn.sleep(10)  # until the server stops

    return handler


@pytest.mark.parametrize("driver", DRIVERS)
def test_timeout_ms_slow_body(mod: ModuleType, scripted: ServerFactory, driver: str) -> None:
    """TIMEOUT_MS ends a transfer whose body stalls: 28, "Operation timed out after N
    milliseconds with X out of Y bytes received", the bytes that came delivered."""
    srv = scripted(stall_after(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhello"))
    out, took = transfer(mod, driver, srv.url("/"), [("TIMEOUT_MS", 300)])
    assert (out.code, out.body, out.response_code) == (28, b"hello", 200)
    match = re.fullmatch(
        r"Operation timed out after (\d+) milliseconds with 5 out of 100 bytes received",
        out.message,
    )
    assert match is not None, out.message
    assert 300 <= int(match.group(1)) < 1500
    assert 0.29 <= took < 1.5


@pytest.mark.parametrize("driver", DRIVERS)
def test_timeout_ms_no_answer(mod: ModuleType, scripted: ServerFactory, driver: str) -> None:
    """A server that accepts and never answers: TIMEOUT_MS gives 28 with 0 bytes received."""
    srv = scripted(stall_after(b""))
    out, took = transfer(mod, driver, srv.url("/"), [("TIMEOUT_MS", 200)])
    assert (out.code, out.body) == (28, b"")
    assert re.fullmatch(
        r"Operation timed out after \d+ milliseconds with 0 bytes received", out.message
    ), out.message
    assert 0.19 <= took < 1.5


@pytest.mark.slow
@pytest.mark.parametrize("driver", DRIVERS)
def test_low_speed_drip(mod: ModuleType, scripted: ServerFactory, driver: str) -> None:
    """LOW_SPEED_LIMIT/LOW_SPEED_TIME: a body dripping below the limit for the whole period
    ends with 28, "Operation too slow. Less than L bytes/sec transferred the last T seconds"."""

    def handler(conn: ServerConnection) -> None:
        if conn.read_request() is None:
            return
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        while not conn.sleep(0.05):
            conn.send(b"x")

    srv = scripted(handler)
    opts = [("LOW_SPEED_LIMIT", 1000), ("LOW_SPEED_TIME", 1)]
    out, took = transfer(mod, driver, srv.url("/"), opts)
    assert out.code == 28
    assert out.message == (
        "Operation too slow. Less than 1000 bytes/sec transferred the last 1 seconds"
    )
    assert 0 < len(out.body) < 100
    assert 0.95 <= took < 1.8


@pytest.mark.parametrize("driver", DRIVERS)
def test_connecttimeout_through_driver(mod: ModuleType, driver: str) -> None:
    """CONNECTTIMEOUT_MS against a connect that never completes (a listener whose backlog is
    full drops SYNs): 28, "Connection timed out after N milliseconds"."""
    listener = socket.socket()
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        for _ in range(3):
            filler = socket.socket()
            fillers.append(filler)
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        out, took = transfer(mod, driver, f"http://127.0.0.1:{port}/", [("CONNECTTIMEOUT_MS", 200)])
    finally:
        for sock in fillers:
            sock.close()
        listener.close()
    assert out.code == 28
    assert re.fullmatch(r"Connection timed out after \d+ milliseconds", out.message), out.message
    assert 0.19 <= took < 1.5


@pytest.mark.parametrize("driver", DRIVERS)
def test_timeout_not_hit_by_fast_transfer(
    mod: ModuleType, scripted: ServerFactory, driver: str
) -> None:
    """A transfer that finishes inside TIMEOUT_MS succeeds, and its handle's next transfer on
    the same connection is not hit by a stale deadline."""
    srv = scripted.http()
    out, _ = transfer(mod, driver, srv.url("/bytes/100000"), [("TIMEOUT_MS", 2000)])
    assert (out.code, len(out.body)) == (0, 100000)
