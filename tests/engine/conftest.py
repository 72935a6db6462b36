"""Shared helpers of the engine tests: a callback recorder, a hand-driven loop and a fake clock.

Theory of operation
-------------------
A `Recorder` owns a multi handle and IS its socket and timer callbacks: every call is logged as
`("socket", what, fd)` or `("timer", ms)` in `events`, and the recorder keeps what an
application keeps (the watched fds with their masks, the last timer). Tests drive the multi by
hand: `rec.kick()` is "the timer fired" (`socket_action(SOCKET_TIMEOUT, 0)`), `rec.ready(fd)`
waits until a watched fd is really ready and reports it, so each step's callbacks are known.
`take()` returns and clears the log.

libcurl 8.23 announces its resolver's wake-up descriptor (an eventfd) for every transfer, even
for a numeric host; SEMANTICS rule 12 allows such extra fds but does not require them. So each
announced fd is classified when first seen, and `net(events)` keeps only the socket events of
TCP sockets (and all timer events): tests that assert a socket sequence assert it on those.

`mod` yields `purecurl` always and the real `pycurl` when importable: a test that passes on both
asserts libcurl's behaviour. `@pytest.mark.pure_xfail(reason=...)` makes the purecurl run of such
a test a strict xfail (the pycurl run still proves the assertion right).

`FakeClock` replaces `multi._engine.clock` (purecurl only): time moves only when a test says so.
"""

from __future__ import annotations

import os
import select
import socket
import stat
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.module_fixtures import mod as mod
from tests.module_fixtures import pure as pure

SOCKET = "socket"
TIMER = "timer"

Event = tuple[Any, ...]


class FakeClock:
    """A clock that moves only by `advance`; replaces `multi._engine.clock`."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _is_tcp(fd: int) -> bool:
    """True when `fd` is an AF_INET/AF_INET6 socket (not a resolver eventfd/socketpair)."""
    try:
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            return False
        s = socket.socket(fileno=os.dup(fd))
    except OSError:
        return False
    try:
        return s.family in (socket.AF_INET, socket.AF_INET6)
    finally:
        s.close()


def fd_is_open(fd: int) -> bool:
    """True when `fd` is an open descriptor of this process."""
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


class Recorder:
    """A multi handle whose socket and timer callbacks log into `events` (see module doc)."""

    def __init__(self, mod: ModuleType, multi: Any = None) -> None:
        self.mod = mod
        self.multi: Any = multi if multi is not None else mod.CurlMulti()
        self.events: list[Event] = []
        self.watched: dict[int, int] = {}
        self.tcp: set[int] = set()
        self.other: set[int] = set()
        self.socketps: list[tuple[int, int, Any]] = []
        self.open_at_remove: list[tuple[int, bool]] = []
        self.timer_ms: int | None = None
        self.timer_set_at = 0.0
        self.running = -1  # the running count the last socket_action returned
        # hooks a test may set: called after logging; their return value is the callback's
        self.on_socket: Callable[[int, int, Any, Any], Any] | None = None
        self.on_timer: Callable[[int], Any] | None = None
        self.multi.setopt(mod.M_SOCKETFUNCTION, self.socket_cb)
        self.multi.setopt(mod.M_TIMERFUNCTION, self.timer_cb)

    # -- the callbacks
    def socket_cb(self, what: int, fd: int, multi: Any, socketp: Any) -> Any:
        self.events.append((SOCKET, what, fd))
        self.socketps.append((what, fd, socketp))
        if what == 4:
            self.open_at_remove.append((fd, fd_is_open(fd)))
            self.watched.pop(fd, None)
        else:
            if fd not in self.tcp and fd not in self.other:
                (self.tcp if _is_tcp(fd) else self.other).add(fd)
            self.watched[fd] = what
        if self.on_socket is not None:
            return self.on_socket(what, fd, multi, socketp)
        return 0

    def timer_cb(self, ms: int) -> Any:
        self.events.append((TIMER, ms))
        self.timer_ms = None if ms < 0 else ms
        self.timer_set_at = time.monotonic()
        if self.on_timer is not None:
            return self.on_timer(ms)
        return 0

    # -- reading the log
    def take(self) -> list[Event]:
        """Return the events logged since the last take, and forget them."""
        out, self.events = self.events, []
        return out

    def net(self, events: list[Event]) -> list[Event]:
        """`events` without the socket events of non-TCP fds (resolver wake-up fds)."""
        return [e for e in events if e[0] == TIMER or e[2] not in self.other]

    def sockets(self, events: list[Event]) -> list[tuple[int, int]]:
        """The (what, fd) of the TCP socket events in `events`."""
        return [(e[1], e[2]) for e in events if e[0] == SOCKET and e[2] not in self.other]

    def timers(self, events: list[Event]) -> list[int]:
        """The ms values of the timer events in `events`."""
        return [e[1] for e in events if e[0] == TIMER]

    def tcp_watched(self) -> dict[int, int]:
        """The watched TCP fds and their masks."""
        return {fd: w for fd, w in self.watched.items() if fd not in self.other}

    def only_tcp_fd(self) -> int:
        """The one TCP fd watched now (fails the test if there is not exactly one)."""
        fds = list(self.tcp_watched())
        assert len(fds) == 1, f"expected one watched TCP fd, got {self.watched}"
        return fds[0]

    # -- driving
    def kick(self) -> tuple[int, int]:
        """The timer fired: socket_action(SOCKET_TIMEOUT, 0)."""
        return self.action(self.mod.SOCKET_TIMEOUT, 0)

    def action(self, fd: int, mask: int) -> tuple[int, int]:
        """socket_action(fd, mask); remembers the running count in `running`."""
        result: tuple[int, int] = self.multi.socket_action(fd, mask)
        self.running = result[1]
        return result

    def wait_ready(self, fd: int, timeout: float = 2.0) -> int:
        """Block until watched `fd` is ready for what it is watched for; return the CSELECT mask."""
        what = self.watched.get(fd, 0)
        rd = [fd] if what & 1 else []
        wr = [fd] if what & 2 else []
        assert rd or wr, f"fd {fd} is not watched: {self.watched}"
        r, w, _ = select.select(rd, wr, [], timeout)
        assert r or w, f"fd {fd} not ready within {timeout} s"
        return (1 if r else 0) | (2 if w else 0)

    def ready(self, fd: int, mask: int | None = None) -> tuple[int, int]:
        """Wait for `fd`, then socket_action(fd, mask) (the real readiness when mask is None)."""
        got = self.wait_ready(fd)
        return self.action(fd, got if mask is None else mask)

    def step(self, timeout: float = 2.0) -> bool:
        """One loop iteration: report ready fds, or the timer when due; False when idle."""
        if self.timer_ms == 0:
            self.timer_ms = None
            self.kick()
            return True
        rd = [fd for fd, w in self.watched.items() if w & 1]
        wr = [fd for fd, w in self.watched.items() if w & 2]
        wait = timeout
        if self.timer_ms is not None:
            due = self.timer_set_at + self.timer_ms / 1000.0
            wait = max(0.0, min(timeout, due - time.monotonic()))
        if not rd and not wr and self.timer_ms is None:
            return False
        r, w, _ = select.select(rd, wr, [], wait)
        if not r and not w:
            if self.timer_ms is not None:
                self.timer_ms = None
                self.kick()
                return True
            return False
        for fd in sorted(set(r) | set(w)):
            if fd in self.watched:
                self.action(fd, (1 if fd in r else 0) | (2 if fd in w else 0))
        return True

    def run(self, until: Callable[[], bool], timeout: float = 5.0) -> None:
        """Step until `until()` is true; fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not until():
            assert time.monotonic() < deadline, f"not done in {timeout} s: {self.events}"
            self.step(0.2)

    def run_all(self, timeout: float = 5.0) -> None:
        """Kick the timer (always harmless), then step until no transfer is running."""
        self.kick()
        self.run(lambda: self.running == 0, timeout)

    def close(self) -> None:
        self.multi.close()


@pytest.fixture
def recorders() -> Iterator[Callable[..., Recorder]]:
    """A factory of `Recorder`s; their multis are closed at the end of the test."""
    made: list[Recorder] = []

    def make(mod: ModuleType, multi: Any = None) -> Recorder:
        rec = Recorder(mod, multi)
        made.append(rec)
        return rec

    yield make
    for rec in made:
        rec.on_socket = None
        rec.on_timer = None
        rec.close()


@pytest.fixture
def handles() -> Iterator[Callable[..., Any]]:
    """A factory of easy handles: `make(mod, url, **opts)`; closed at the end of the test.

    Each handle gets `.body` (a list the write callback appends to) unless WRITEFUNCTION is in
    `opts`.
    """
    made: list[Any] = []

    def make(mod: ModuleType, url: str, **opts: Any) -> Any:
        c = mod.Curl()
        c.setopt(mod.URL, url)
        chunks: list[bytes] = []
        if "WRITEFUNCTION" not in opts:
            c.setopt(mod.WRITEFUNCTION, chunks.append)
        for name, value in opts.items():
            c.setopt(getattr(mod, name), value)
        c.body = chunks
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


OK_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


def gated_handler(release: Any, response: bytes = OK_RESPONSE) -> Callable[[Any], None]:
    """A ScriptedServer handler that reads each request and answers only once `release` is set.

    `release` is a threading.Event, or a list of them: the n-th request of a connection waits
    for the n-th (the last one for any further request). The handler gives up when the server
    stops.
    """
    gates = release if isinstance(release, list) else [release]

    def handler(conn: Any) -> None:
        n = 0
        while True:
            if conn.read_request() is None:
                return
            gate = gates[min(n, len(gates) - 1)]
            n += 1
            while not gate.wait(0.01):
                if conn.sleep(0):
                    return
            conn.send(response)

    return handler
