"""`CurlMulti`: the pycurl-compatible multi handle over `engine.multi.MultiEngine`.

Theory of operation: this face adapts pycurl's calling conventions to the engine (callback
signatures `socket(what, fd, multi, socketp)` and `timer(timeout_ms)`, return tuples, error
shapes) and enforces the API rules that are about the caller rather than the transfers:
re-entrancy (SEMANTICS rule 19: while a callback runs, only `assign` and `Curl.pause` may be
called), handle membership (rules 20-21), and the multi keeping its handles alive.
"""

from __future__ import annotations

import select as _select
from collections.abc import Callable
from typing import Any

from purecurl import _codes as C
from purecurl._errors import error
from purecurl._object import PycurlObject
from purecurl._options import MULTI_CONSTANTS, MULTI_OPTIONS, check_multi_value
from purecurl.easy import Curl
from purecurl.engine.multi import MultiAborted, MultiEngine
from purecurl.engine.transfer import Transfer

_MOPT = {o.name: o.number for o in MULTI_OPTIONS.values()}
M_SOCKETFUNCTION = _MOPT["M_SOCKETFUNCTION"]
M_TIMERFUNCTION = _MOPT["M_TIMERFUNCTION"]
M_MAXCONNECTS = _MOPT["M_MAXCONNECTS"]
M_MAX_HOST_CONNECTIONS = _MOPT["M_MAX_HOST_CONNECTIONS"]
M_MAX_TOTAL_CONNECTIONS = _MOPT["M_MAX_TOTAL_CONNECTIONS"]
M_PIPELINING = _MOPT["M_PIPELINING"]
M_MAX_CONCURRENT_STREAMS = _MOPT.get("M_MAX_CONCURRENT_STREAMS", 16)


class CurlMulti(PycurlObject):
    """A multi handle, as pycurl's `pycurl.CurlMulti`."""

    def __init__(self, *, close_handles: bool = False) -> None:
        d = self.__dict__
        d["_engine"] = MultiEngine()
        d["_handles"] = {}
        d["_close_handles"] = bool(close_handles)
        d["_closed"] = False
        d["_socket_fn"] = None
        d["_timer_fn"] = None
        d["_opts"] = {}

    def __contains__(self, curl: object) -> bool:
        return curl in self._handles

    def __enter__(self) -> CurlMulti:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<purecurl.CurlMulti {self._engine!r}>"

    # -- guards
    def _guard(self, what: str) -> MultiEngine:
        eng: MultiEngine = self._engine
        if eng.busy:
            if what in ("add_handle", "remove_handle"):
                raise error("cannot add/remove handle - multi_perform() already running")
            raise error(f"cannot invoke {what}() - multi_perform() is currently running")
        return eng

    def _check_open(self, what: str) -> None:
        if self._closed:
            raise error(f"cannot invoke {what}() - no multi handle")

    def _call(self, eng: MultiEngine, failure: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Run an engine entry point with the re-entrancy guard, mapping aborts to errors."""
        eng.busy = True
        try:
            return fn(*args)
        except MultiAborted as exc:
            raise error(C.E_MULTI_ABORTED_BY_CALLBACK, failure) from exc.cause
        finally:
            eng.busy = False

    # -- options
    def setopt(self, option: int, value: Any) -> None:
        """Set a multi option (M_*)."""
        self._check_open("setopt")
        eng = self._guard("setopt")
        norm = check_multi_value(option, value)
        if option == M_SOCKETFUNCTION:
            self.__dict__["_socket_fn"] = norm
            eng.socket_cb = self._socket_adapter if norm is not None else None
        elif option == M_TIMERFUNCTION:
            self.__dict__["_timer_fn"] = norm
            eng.timer_cb = norm if callable(norm) else None
        else:
            opts = self._opts
            if norm is None:
                opts.pop(option, None)
            else:
                opts[option] = norm
            if option == M_PIPELINING:
                eng.pipelining = _as_int(norm, 0)
            elif option == M_MAX_CONCURRENT_STREAMS:
                eng.max_concurrent_streams = _as_int(norm, 100)
            else:
                eng.set_limits(
                    _as_int(opts.get(M_MAX_HOST_CONNECTIONS), 0),
                    _as_int(opts.get(M_MAX_TOTAL_CONNECTIONS), 0),
                    _as_int(opts.get(M_MAXCONNECTS), 0),
                )
                eng.table.flush()

    def _socket_adapter(self, what: int, fd: int, socketp: Any) -> Any:
        fn = self._socket_fn
        if fn is None:
            return 0
        return fn(what, fd, self, socketp)

    # -- handles
    def add_handle(self, curl: Curl) -> None:
        """Add an easy handle; schedules it and calls the timer callback (rule 1, 21)."""
        if not isinstance(curl, Curl):
            raise TypeError("invalid arguments to add_handle")
        if self._closed:
            raise error("cannot add/remove handle - multi-stack is closed")
        if curl.closed:
            raise error("curl object already closed")
        if curl in self._handles:
            raise error("curl object already on this multi-stack")
        if curl._multi is not None:
            raise error("cannot add/remove handle - curl object already on another multi-stack")
        eng = self._guard("add_handle")
        t = curl._new_transfer()
        curl.__dict__["_multi"] = self
        self._handles[curl] = t
        share = curl._share
        if share is not None:
            share._attach(eng)
        try:
            self._call(eng, "curl_multi_add_handle() failed due to internal errors", eng.add, t)
        except error:
            if t not in eng.transfers:
                del self._handles[curl]
                curl.__dict__["_multi"] = None
            raise

    def remove_handle(self, curl: Curl) -> None:
        """Remove an easy handle, stopping its transfer (rule 20)."""
        if self._closed:
            raise error("cannot add/remove handle - multi-stack is closed")
        if getattr(curl, "closed", False) and curl not in self._handles:
            return  # pycurl: removing a closed handle is a no-op
        t: Transfer | None = self._handles.get(curl)
        if t is None:
            raise error("curl object not on this multi-stack")
        eng = self._guard("remove_handle")
        try:
            self._call(eng, "remove_handle failed", eng.remove, t)
        finally:
            del self._handles[curl]
            curl.__dict__["_multi"] = None
            curl._after(t)
            curl._detach(t)

    # -- driving
    def perform(self) -> tuple[int, int]:
        """curl_multi_perform: returns (E_MULTI_OK, running_handles)."""
        self._check_open("perform")
        eng = self._guard("perform")
        running: int = self._call(eng, "perform failed", eng.perform)
        return C.E_MULTI_OK, running

    def socket_action(self, fd: int, ev_bitmask: int) -> tuple[int, int]:
        """curl_multi_socket_action: returns (E_MULTI_OK, running_handles)."""
        self._check_open("socket_action")
        eng = self._guard("socket_action")
        running: int = self._call(
            eng, "multi_socket_action failed", eng.socket_action, fd, ev_bitmask
        )
        return C.E_MULTI_OK, running

    def socket_all(self) -> tuple[int, int]:
        """curl_multi_socket_all (deprecated): re-check every socket and transfer."""
        import warnings

        warnings.warn(
            "socket_all is deprecated; use socket_action", DeprecationWarning, stacklevel=2
        )
        self._check_open("socket_all")
        eng = self._guard("socket_all")
        running: int = self._call(eng, "perform failed", eng.socket_all)
        return C.E_MULTI_OK, running

    def _guarded_pause(self, t: Transfer, bitmask: int) -> None:
        eng: MultiEngine = self._engine
        self._call(eng, "pause failed", eng.pause, t, bitmask, True)

    def timeout(self) -> int:
        """curl_multi_timeout in ms: 0 = act now, -1 = no timer (rule 24)."""
        self._check_open("timeout")
        eng = self._guard("timeout")
        return eng.timeout_ms()

    def info_read(self, max_objects: int = 2**31 - 1) -> tuple[int, list[Curl], list[Any]]:
        """Pop DONE messages: (still_queued, ok_handles, [(handle, code, message), ...])."""
        self._check_open("info_read")
        if max_objects <= 0:
            raise error("argument to info_read must be greater than zero")
        eng: MultiEngine = self._engine
        ok: list[Curl] = []
        err: list[tuple[Curl, int, str]] = []
        for t in eng.info_read(max_objects):
            curl = t.handle
            curl._after(t)
            if t.result:
                err.append((curl, t.result, t.errmsg))
            else:
                ok.append(curl)
        return len(eng.msgs), ok, err

    def fdset(self) -> tuple[list[int], list[int], list[int]]:
        """(read_fds, write_fds, except_fds) watched now."""
        self._check_open("fdset")
        eng = self._guard("fdset")
        return eng.fdset()

    def select(self, timeout: float) -> int:
        """Wait up to `timeout` s for the watched fds; the number ready (0 at once if none)."""
        self._check_open("select")
        eng = self._guard("select")
        if timeout < 0:
            raise OverflowError("invalid timeout period")
        r, w, x = eng.fdset()
        if not r and not w and not x:
            return 0
        rr, ww, xx = _select.select(r, w, x, timeout)
        return len(rr) + len(ww) + len(xx)

    def assign(self, fd: int, obj: Any) -> None:
        """Associate `obj` with fd for the socket callback (allowed everywhere, rule 11)."""
        eng: MultiEngine = self._engine
        if not eng.assign(fd, obj):
            raise error(C.E_MULTI_BAD_SOCKET, "assign failed")

    def unassign(self, fd: int) -> None:
        """assign(fd, None)."""
        self.assign(fd, None)

    @property
    def closed(self) -> bool:
        return bool(self._closed)

    def close(self) -> None:
        """Remove (and with close_handles, close) every handle, then shut the pool (rule 22)."""
        if self._closed:
            return
        eng = self._guard("close")
        for curl in list(self._handles):
            if self._close_handles:
                curl.close()
            else:
                self.remove_handle(curl)
        eng.busy = True
        try:
            eng.close()
        finally:
            eng.busy = False
        d = self.__dict__
        d["_closed"] = True
        d["_socket_fn"] = None
        d["_timer_fn"] = None

    def __del__(self) -> None:
        try:
            if not self.__dict__.get("_closed", True):
                eng = self.__dict__.get("_engine")
                if eng is not None and not eng.busy:
                    eng.socket_cb = None
                    eng.timer_cb = None
                    eng.close()
        except Exception:
            pass


def _as_int(value: object, default: int) -> int:
    return value if isinstance(value, int) and value else default


CurlMulti._export_constants(MULTI_CONSTANTS)
