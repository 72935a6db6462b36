"""`AsyncCurlMulti`: pycurl 7.47+'s asyncio face of a multi handle, on the asyncio driver.

Theory of operation
-------------------
pycurl documents the class this way (its docstrings are the contract followed here): each
`Curl` added gets an `asyncio.Future` that resolves to the same `Curl` when its transfer succeeds
and raises `error(code, message)` when it fails; `perform(curl)` is `await add_handle(curl)`.
The loop is captured by the first `add_handle` and the instance stays bound to it; `aclose()`
(or `async with`) cancels what is pending and closes the multi. The multi's socket and timer
callbacks belong to the instance (`setopt` refuses them with ValueError).

The work is done by `purecurl.drivers.asyncio.AsyncioDriver`; this module keeps the futures.
A finished transfer's handle is removed from the multi before its future resolves, so it can be
added again at once.

Cancellation removes the transfer at once: the futures handed out are a `Future` subclass whose
`cancel()` removes the handle from the multi before the future is marked cancelled, so neither
the transfer's callbacks nor its socket events come after the cancel (a task awaiting
`perform()` cancels its future the same way). Only a cancel issued from inside one of the
multi's own callbacks, where `remove_handle` is refused (rule 19), is deferred to the next loop
turn. pycurl documents removal "on the next event-loop tick"; doing it at once is stricter.

`multi=` (a purecurl extension) wraps a multi made elsewhere, the real `pycurl.CurlMulti`
included; failures are then raised as that module's `error`.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from purecurl._errors import error
from purecurl.drivers.asyncio import M_SOCKETFUNCTION, M_TIMERFUNCTION, AsyncioDriver, check_loop
from purecurl.multi import CurlMulti

__all__ = ["AsyncCurlMulti"]


class _TransferFuture(asyncio.Future[Any]):
    """The future of one transfer: cancelling it removes the transfer from its multi first."""

    _owner: AsyncCurlMulti | None
    _curl: Any

    def cancel(self, msg: Any | None = None) -> bool:
        if self.done():
            return False
        owner, self._owner = self._owner, None
        if owner is not None:
            owner._forget(self._curl)
        return super().cancel(msg)


def _error_class(multi: Any) -> type[Exception]:
    """The `error` class of the module `multi` comes from (pycurl's for a pycurl multi)."""
    package = type(multi).__module__.partition(".")[0]
    try:
        cls = getattr(importlib.import_module(package), "error", None)
    except ImportError:
        cls = None
    if isinstance(cls, type) and issubclass(cls, Exception):
        return cls
    return error


_Self = TypeVar("_Self", bound="AsyncClosing")


class AsyncClosing:
    """`async with x:` gives x and awaits `x.aclose()` on the way out, however it is left."""

    if TYPE_CHECKING:

        async def aclose(self) -> None: ...

    async def __aenter__(self: _Self) -> _Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class AsyncCurlMulti(AsyncClosing):
    """AsyncCurlMulti(close_handles=False) -> an asyncio-driven wrapper of a `CurlMulti`.

    `close_handles` is passed to the `CurlMulti` (handles still added at `aclose()` are then
    closed too). `multi` (keyword only, purecurl extension) wraps an existing multi instead,
    e.g. a real `pycurl.CurlMulti()`; `close_handles` is then ignored.

    The constructor needs no running loop. Use `async with`, or call `aclose()`.
    """

    def __init__(self, close_handles: bool = False, *, multi: Any | None = None) -> None:
        self._multi: Any = CurlMulti(close_handles=close_handles) if multi is None else multi
        self._error = _error_class(self._multi)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._driver: AsyncioDriver | None = None
        self._futures: dict[Any, _TransferFuture] = {}  # in add order
        self._closed = False
        owned = {M_SOCKETFUNCTION, M_TIMERFUNCTION}
        notify = getattr(self._multi, "M_NOTIFYFUNCTION", None)
        if isinstance(notify, int):
            owned.add(notify)
        self._owned_options = frozenset(owned)

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"pending={len(self._futures)}"
        return f"<AsyncCurlMulti {state} driver={self._driver!r}>"

    @property
    def closed(self) -> bool:
        """Whether the underlying multi handle is closed."""
        return self._closed

    @property
    def multi(self) -> Any:
        """The wrapped `CurlMulti` (purecurl extension; do not set its callbacks)."""
        return self._multi

    @property
    def driver(self) -> AsyncioDriver | None:
        """The driver, once the first `add_handle` bound the instance to a loop."""
        return self._driver

    # -- transfers -----------------------------------------------------------------------------

    def add_handle(self, curl: Any) -> asyncio.Future[Any]:
        """Schedule `curl`; return a Future resolving to `curl`, or raising `error` on failure.

        Cancelling the future removes the handle. Raises RuntimeError outside a running loop,
        after `aclose()`, on a loop other than the first one used, or if `curl` is registered
        already (NotImplementedError, a RuntimeError, on a loop without `add_reader`); `error`
        when the multi refuses the handle.
        """
        if self._closed:
            raise RuntimeError("AsyncCurlMulti is closed")
        loop = asyncio.get_running_loop()
        if self._loop is None:
            check_loop(loop)
            self._loop = loop
            self._driver = AsyncioDriver(self._multi, self._on_done, loop=loop)
        elif loop is not self._loop:
            raise RuntimeError("AsyncCurlMulti is bound to another event loop")
        if curl in self._futures:
            raise RuntimeError("Curl handle is already registered")
        future = _TransferFuture(loop=loop)
        future._owner = self
        future._curl = curl
        self._multi.add_handle(curl)
        self._futures[curl] = future
        return future

    async def perform(self, curl: Any) -> Any:
        """Run `curl` to its end; return it. Raises `error(code, message)` on failure."""
        return await self.add_handle(curl)

    def remove_handle(self, curl: Any) -> None:
        """Remove `curl` and cancel its future. RuntimeError if not registered or closed."""
        if self._closed:
            raise RuntimeError("AsyncCurlMulti is closed")
        future = self._futures.get(curl)
        if future is None:
            raise RuntimeError("Curl handle is not registered")
        future._owner = None
        self._futures.pop(curl)
        self._multi.remove_handle(curl)
        future.cancel()

    def futures(self, curls: Iterable[Any] | None = None) -> tuple[asyncio.Future[Any], ...]:
        """The futures of registered transfers: all in add order, or those of `curls` in order.

        KeyError if a handle of `curls` is not registered.
        """
        if curls is None:
            return tuple(self._futures.values())
        return tuple(self._futures[curl] for curl in curls)

    def setopt(self, option: int, value: Any) -> None:
        """`CurlMulti.setopt`, except the callbacks this class owns (ValueError)."""
        if option in self._owned_options:
            raise ValueError("AsyncCurlMulti owns M_SOCKETFUNCTION/M_TIMERFUNCTION")
        self._multi.setopt(option, value)

    async def aclose(self) -> None:
        """Cancel pending transfers, unregister watchers, close the multi. Idempotent."""
        if self._closed:
            return
        self._closed = True
        pending = list(self._futures.items())
        self._futures.clear()
        for curl, future in pending:
            future._owner = None
            try:
                self._multi.remove_handle(curl)
            except Exception:  # closed by the user meanwhile: nothing left to remove
                pass
            future.cancel()
        try:
            self._multi.close()
        finally:
            if self._driver is not None:
                self._driver.close()

    # -- driver and future callbacks -----------------------------------------------------------

    def _on_done(self, curl: Any, code: int, message: str) -> None:
        future = self._futures.pop(curl, None)
        if future is None:
            return
        future._owner = None
        if future.done():
            return
        if code == 0:
            future.set_result(curl)
            return
        exc = self._error(code, message)
        cause = getattr(curl, "callback_error", None)
        if isinstance(cause, BaseException):
            exc.__cause__ = cause
        future.set_exception(exc)

    def _forget(self, curl: Any) -> None:
        """A future is being cancelled: remove its transfer now, or next turn if refused."""
        if self._futures.pop(curl, None) is None or self._closed:
            return
        try:
            self._multi.remove_handle(curl)
        except self._error:
            # Refused from inside the multi's own callbacks (rule 19): retry outside them.
            assert self._loop is not None
            self._loop.call_soon(self._remove_later, curl)

    def _remove_later(self, curl: Any) -> None:
        if self._closed:
            return
        try:
            self._multi.remove_handle(curl)
        except self._error:  # it finished and the driver removed it meanwhile
            pass
