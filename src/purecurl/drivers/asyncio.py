"""A `CurlMulti` driven by an asyncio event loop through its two callbacks.

Theory of operation
-------------------
libcurl's multi_socket contract (SEMANTICS.md, rules 1-18) maps onto an asyncio loop one to one:

* `M_SOCKETFUNCTION(what, fd, multi, socketp)` becomes `loop.add_reader` / `add_writer` /
  `remove_reader` / `remove_writer`. The driver keeps the interest it registered per fd and
  applies only the difference, so a `POLL_INOUT` -> `POLL_IN` change removes just the writer, and
  `POLL_REMOVE` (always sent before the engine closes the socket, rule 10) removes both.
* `M_TIMERFUNCTION(timeout_ms)` becomes one `loop.call_later` handle: each call replaces the
  last, -1 cancels it, 0 schedules the expiry for the next loop turn. The timer callback never
  calls `socket_action` itself (rule 15: "as soon as possible, but not from inside the callback").
* A ready fd calls `socket_action(fd, CSELECT_IN or CSELECT_OUT)`, the timer calls
  `socket_action(SOCKET_TIMEOUT, 0)`; after each, `info_read` is drained and every finished
  transfer is handed to `on_done(curl, code, message)` (code 0: success).

All of it runs in loop callbacks, never inside `socket_action`, so `on_done` may add and remove
handles freely (rule 19). The driver uses nothing but the pycurl API: it drives the real `pycurl`
as well as purecurl.

Loops: any loop whose `add_reader`/`add_writer` work on sockets: asyncio's selector loops (the
default on Unix) and uvloop. Windows' default `ProactorEventLoop` has no readiness API; the
driver refuses it up front with `NotImplementedError` (a `RuntimeError` subclass) saying what to
use instead, rather than failing inside the first socket callback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from purecurl.drivers import finished

__all__ = ["AsyncioDriver", "check_loop", "run"]

POLL_IN = 1
POLL_OUT = 2
POLL_REMOVE = 4
CSELECT_IN = 1
CSELECT_OUT = 2
SOCKET_TIMEOUT = -1
M_SOCKETFUNCTION = 20001
M_TIMERFUNCTION = 20004

OnDone = Callable[[Any, int, str], None]


def check_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Raise NotImplementedError when `loop` cannot watch sockets for readiness.

    `add_reader`/`add_writer` are optional in asyncio: `AbstractEventLoop` defines them to raise
    NotImplementedError and the proactor loops (Windows' default since 3.8) keep that. Returns
    None for selector loops and uvloop.
    """
    impl = getattr(type(loop), "add_reader", None)
    if impl is None or impl is asyncio.AbstractEventLoop.add_reader:
        raise NotImplementedError(
            f"purecurl's asyncio driver needs loop.add_reader()/add_writer(), which "
            f"{type(loop).__module__}.{type(loop).__qualname__} does not implement (Windows' "
            "default ProactorEventLoop has no readiness API). Run on a selector loop instead: "
            "asyncio.run(main(), loop_factory=asyncio.SelectorEventLoop) on Python 3.12+, or "
            "asyncio.set_event_loop_policy(asyncio.WindowsSelectorEventLoopPolicy()) before "
            "asyncio.run(); or drive the multi with purecurl.drivers.selector.SelectorDriver."
        )


class AsyncioDriver:
    """Runs a multi's transfers on an asyncio event loop.

    Becomes the multi's socket and timer callback. `loop` defaults to the running loop
    (RuntimeError when there is none); a loop without `add_reader` raises NotImplementedError.
    `on_done(curl, code, message)` is called for each finished transfer from a loop callback;
    with `remove_done` (the default) the handle has been removed from the multi by then.
    An exception raised by `on_done` goes to the loop's exception handler and the driver goes on.

    `close()` unregisters every fd, cancels the timer and stops being the multi's callbacks; it
    neither removes handles nor closes the multi (call it after `multi.close()`, or before,
    as suits: a closed driver ignores late events).
    """

    def __init__(
        self,
        multi: Any,
        on_done: OnDone | None = None,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        remove_done: bool = True,
    ) -> None:
        if loop is None:
            loop = asyncio.get_running_loop()
        check_loop(loop)
        self.multi = multi
        self.loop = loop
        self.on_done = on_done
        self.remove_done = remove_done
        self.running = 0
        self.closed = False
        self.socket_calls = 0
        self.timer_calls = 0
        self.actions = 0
        # fd -> POLL_IN/POLL_OUT bits registered with the loop (POLL_IN is the read bit,
        # POLL_OUT the write bit, as in libcurl).
        self._watched: dict[int, int] = {}
        self._timer: asyncio.Handle | None = None
        self._collect_pending = False
        multi.setopt(M_SOCKETFUNCTION, self._on_socket)
        multi.setopt(M_TIMERFUNCTION, self._on_timer)

    def __repr__(self) -> str:
        timer = "armed" if self._timer is not None else "none"
        state = "closed" if self.closed else f"running={self.running}"
        return f"<AsyncioDriver {state} watched={len(self._watched)} timer={timer}>"

    @property
    def watched(self) -> dict[int, int]:
        """A copy of {fd: POLL_IN | POLL_OUT bits} registered with the loop now."""
        return dict(self._watched)

    @property
    def timer_armed(self) -> bool:
        """True while a timer expiry is scheduled on the loop."""
        return self._timer is not None

    # -- the multi's callbacks: bookkeeping only, never socket_action -------------------------

    def _on_socket(self, what: int, fd: int, multi: Any, socketp: Any) -> None:
        self.socket_calls += 1
        if self.closed:
            return
        old = self._watched.get(fd, 0)
        new = 0 if what == POLL_REMOVE else what & (POLL_IN | POLL_OUT)
        loop = self.loop
        if new & POLL_IN and not old & POLL_IN:
            loop.add_reader(fd, self._ready, fd, CSELECT_IN)
        elif old & POLL_IN and not new & POLL_IN:
            loop.remove_reader(fd)
        if new & POLL_OUT and not old & POLL_OUT:
            loop.add_writer(fd, self._ready, fd, CSELECT_OUT)
        elif old & POLL_OUT and not new & POLL_OUT:
            loop.remove_writer(fd)
        if new:
            self._watched[fd] = new
        else:
            self._watched.pop(fd, None)

    def _on_timer(self, timeout_ms: int) -> None:
        self.timer_calls += 1
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.closed or timeout_ms < 0:
            return
        if timeout_ms == 0:
            self._timer = self.loop.call_soon(self._expired)
        else:
            self._timer = self.loop.call_later(timeout_ms / 1000.0, self._expired)

    # -- loop callbacks ------------------------------------------------------------------------

    def _ready(self, fd: int, mask: int) -> None:
        self._action(fd, mask)

    def _expired(self) -> None:
        self._timer = None
        self._action(SOCKET_TIMEOUT, 0)

    def _action(self, fd: int, mask: int) -> None:
        if self.closed:
            return
        self.actions += 1
        try:
            _, self.running = self.multi.socket_action(fd, mask)
        except Exception as exc:
            # A callback aborted the call (rule 14): every transfer then ends with
            # E_ABORTED_BY_CALLBACK through info_read, which the collect below delivers.
            self.loop.call_exception_handler(
                {"message": "purecurl asyncio driver: socket_action failed", "exception": exc}
            )
        self.collect()

    def collect(self) -> None:
        """Drain `info_read` and call `on_done` for each finished transfer.

        The driver does this after every `socket_action`; call it (or `collect_soon`) after an
        API call that may end a transfer outside `socket_action`.
        """
        self._collect_pending = False
        if self.closed:
            return
        for curl, code, message in finished(self.multi):
            self._done(curl, code, message)

    def collect_soon(self) -> None:
        """Schedule `collect` for the next loop turn (once, however often this is called)."""
        if not self._collect_pending and not self.closed:
            self._collect_pending = True
            self.loop.call_soon(self.collect)

    def _done(self, curl: Any, code: int, message: str) -> None:
        if self.remove_done:
            self.multi.remove_handle(curl)
        if self.on_done is None:
            return
        try:
            self.on_done(curl, code, message)
        except Exception as exc:
            self.loop.call_exception_handler(
                {"message": "purecurl asyncio driver: on_done raised", "exception": exc}
            )

    # -- teardown ------------------------------------------------------------------------------

    def close(self) -> None:
        """Unregister every fd, cancel the timer, stop being the multi's callbacks. Idempotent."""
        if self.closed:
            return
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        loop = self.loop
        for fd, bits in self._watched.items():
            try:
                if bits & POLL_IN:
                    loop.remove_reader(fd)
                if bits & POLL_OUT:
                    loop.remove_writer(fd)
            except RuntimeError:  # the loop is closed already: nothing is watched any more
                pass
        self._watched.clear()
        try:
            self.multi.setopt(M_SOCKETFUNCTION, None)
            self.multi.setopt(M_TIMERFUNCTION, None)
        except Exception:  # a closed multi refuses setopt; it calls nobody any more either
            pass


async def run(multi: Any, handles: list[Any]) -> list[tuple[Any, int, str]]:
    """Run `handles` on `multi` on the running loop; return [(curl, code, message)] in end order.

    Each handle is removed from the multi when it ends. Cancelling the awaiting task removes
    the handles still running.
    """
    loop = asyncio.get_running_loop()
    results: list[tuple[Any, int, str]] = []
    finished = loop.create_future()
    pending = set(map(id, handles))

    def on_done(curl: Any, code: int, message: str) -> None:
        results.append((curl, code, message))
        pending.discard(id(curl))
        if not pending and not finished.done():
            finished.set_result(None)

    driver = AsyncioDriver(multi, on_done, loop=loop)
    added: list[Any] = []
    try:
        for curl in handles:
            multi.add_handle(curl)
            added.append(curl)
        if handles:
            await finished
    finally:
        done_ids = {id(curl) for curl, _, _ in results}
        for curl in added:
            if id(curl) not in done_ids:
                multi.remove_handle(curl)
        driver.close()
    return results
