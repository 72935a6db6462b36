"""The reference event loop: a `CurlMulti` driven through its two callbacks on `selectors`.

Theory of operation: the driver registers itself as the multi's socket callback (watch fd for
POLL_IN/OUT/INOUT, forget it on POLL_REMOVE) and timer callback (one absolute deadline; -1
clears it), then loops: wait on the selector until the earliest of the deadline and readiness,
report readiness with `socket_action(fd, CSELECT_*)`, report an expired deadline with
`socket_action(SOCKET_TIMEOUT, 0)`, and hand finished transfers to `on_done` via `info_read`.
It uses nothing but the pycurl API, so the same code drives the real pycurl.
"""

from __future__ import annotations

import selectors
import time
from collections.abc import Callable
from typing import Any

from purecurl.drivers import finished

POLL_IN = 1
POLL_OUT = 2
POLL_INOUT = 3
POLL_REMOVE = 4
CSELECT_IN = 1
CSELECT_OUT = 2
SOCKET_TIMEOUT = -1
M_SOCKETFUNCTION = 20001
M_TIMERFUNCTION = 20004

_EVENTS = {
    POLL_IN: selectors.EVENT_READ,
    POLL_OUT: selectors.EVENT_WRITE,
    POLL_INOUT: selectors.EVENT_READ | selectors.EVENT_WRITE,
}

OnDone = Callable[[Any, int, str], None]


class SelectorDriver:
    """Runs a multi's transfers on a `selectors.DefaultSelector`.

    `on_done(curl, code, message)` is called for each finished transfer (code 0 = success);
    the handle stays in the multi unless `remove_done` is true (the default), in which case
    the driver removes it first.
    """

    def __init__(self, multi: Any, on_done: OnDone | None = None, *, remove_done: bool = True):
        self.multi = multi
        self.on_done = on_done
        self.remove_done = remove_done
        self.selector = selectors.DefaultSelector()
        self.deadline: float | None = None
        self.running = 0
        self.timer_calls = 0
        self.socket_calls = 0
        multi.setopt(M_SOCKETFUNCTION, self._on_socket)
        multi.setopt(M_TIMERFUNCTION, self._on_timer)

    def __enter__(self) -> SelectorDriver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _on_socket(self, what: int, fd: int, multi: Any, socketp: Any) -> None:
        self.socket_calls += 1
        sel = self.selector
        if what == POLL_REMOVE:
            try:
                sel.unregister(fd)
            except (KeyError, ValueError):
                pass
            return
        events = _EVENTS[what]
        try:
            sel.modify(fd, events)
        except KeyError:
            sel.register(fd, events)

    def _on_timer(self, timeout_ms: int) -> None:
        self.timer_calls += 1
        if timeout_ms < 0:
            self.deadline = None
        else:
            self.deadline = time.monotonic() + timeout_ms / 1000.0

    def add(self, curl: Any) -> None:
        """Add a handle to the multi (it starts on the next loop turn)."""
        self.multi.add_handle(curl)
        self.running += 1

    def _collect(self) -> None:
        for curl, code, msg in finished(self.multi):
            self._done(curl, code, msg)

    def _done(self, curl: Any, code: int, msg: str) -> None:
        if self.remove_done:
            self.multi.remove_handle(curl)
        if self.on_done is not None:
            self.on_done(curl, code, msg)

    def step(self, max_wait: float | None = None) -> int:
        """One loop turn: wait, dispatch, collect. Returns running_handles."""
        deadline = self.deadline
        now = time.monotonic()
        timeout = None if deadline is None else max(0.0, deadline - now)
        if max_wait is not None:
            timeout = max_wait if timeout is None else min(timeout, max_wait)
        multi = self.multi
        running = self.running
        if self.selector.get_map():
            ready = self.selector.select(timeout)
        else:
            if timeout:
                time.sleep(timeout)
            ready = []
        for key, mask in ready:
            ev = (CSELECT_IN if mask & selectors.EVENT_READ else 0) | (
                CSELECT_OUT if mask & selectors.EVENT_WRITE else 0
            )
            _, running = multi.socket_action(key.fd, ev)
        deadline = self.deadline
        if deadline is not None and time.monotonic() >= deadline:
            self.deadline = None
            _, running = multi.socket_action(SOCKET_TIMEOUT, 0)
        self.running = running
        self._collect()
        return running

    def run(self, timeout: float | None = None) -> None:
        """Loop until no transfer runs (or `timeout` seconds pass: TimeoutError)."""
        end = None if timeout is None else time.monotonic() + timeout
        while self.running > 0 or self.deadline is not None:
            if end is not None:
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError("transfers still running")
                self.step(left)
            else:
                self.step()
            if self.running == 0:
                self._collect()
                break

    def close(self) -> None:
        """Stop being the multi's callbacks; the selector is closed."""
        try:
            self.multi.setopt(M_SOCKETFUNCTION, None)
            self.multi.setopt(M_TIMERFUNCTION, None)
        except Exception:
            pass
        self.selector.close()


def run(multi: Any, handles: list[Any], timeout: float | None = None) -> list[tuple[Any, int, str]]:
    """Run `handles` on `multi` to completion; returns [(curl, code, message)] in end order."""
    results: list[tuple[Any, int, str]] = []
    with SelectorDriver(multi, lambda c, code, msg: results.append((c, code, msg))) as drv:
        for h in handles:
            drv.add(h)
        drv.run(timeout)
    return results
