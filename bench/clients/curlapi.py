"""The pycurl-API client: the SAME code drives purecurl and the real pycurl.

    python -m bench.clients.curlapi SPEC_JSON MODULE LOOP

MODULE is `purecurl` or `pycurl` (imported by name, so no line differs between the two);
LOOP is `socket` (curl_multi_socket_action driven by a `selectors` loop through the socket and
timer callbacks, the way Tornado and other event loops use libcurl) or `perform` (the classic
`perform()` + `select()` loop of pycurl's examples).

Theory of operation
-------------------
`concurrency` easy handles are made once and recycled: when one finishes it is removed and, if
requests remain, added again, so the multi always has `concurrency` transfers in flight and the
work per request is the engine's, not handle construction. Bodies go to a WRITEFUNCTION that
only counts bytes (the body is discarded, never joined). Scenario knobs map to options the way
a libcurl user would set them: a new connection per request is FORBID_REUSE plus "Connection:
close"; HTTP/2 is HTTP_VERSION (prior knowledge for http://) plus PIPEWAIT so that 64 streams
share one connection, as `curl --parallel` does.

With the `socket` loop the client also counts, over the timed part, the socket_action calls
it makes and the socket and timer callbacks it receives, reported per request in the result's
`extra` (libcurl makes about 1, 2 and 3 of them per keep-alive request): the same counters
run for both modules, so they cost both the same.

A library that lacks a feature is detected by the probe request (an option it refuses, a
transfer that fails, a response that is not HTTP/2 when HTTP/2 was asked for) and reported as
"unavailable".
"""

from __future__ import annotations

import importlib
import selectors
import time
from typing import Any

from bench.clients.common import Result, Spec, Stopwatch, main

__all__ = ["CurlApiClient"]

_PROBE_TIMEOUT = 10.0
_RUN_TIMEOUT = 900.0
# CURL_POLL_* -> selector events; CURL_POLL_REMOVE (4) is handled apart.
_EVENTS = {1: selectors.EVENT_READ, 2: selectors.EVENT_WRITE, 3: 3}


class CurlApiClient:
    """A multi handle, its recycled easy handles and one of the two driving loops."""

    def __init__(self, module: Any, spec: Spec, loop: str) -> None:
        if loop not in ("socket", "perform"):
            raise ValueError(f"unknown loop {loop!r}")
        self.mod = module
        self.spec = spec
        self.loop = loop
        self.received = 0
        self.errors = 0
        self.last_error = ""
        self.sel = selectors.DefaultSelector()
        self.deadline: float | None = None
        self.multi = module.CurlMulti()
        if loop == "socket":
            self.multi.setopt(module.M_SOCKETFUNCTION, self._on_socket)
            self.multi.setopt(module.M_TIMERFUNCTION, self._on_timer)
        self.handles: list[Any] = []
        self.n_socket_cb = self.n_timer_cb = self.n_socket_action = 0

    # -- callbacks (hot path: keep them minimal, identical for both modules)
    def _on_socket(self, what: int, fd: int, multi: Any, socketp: Any) -> None:
        self.n_socket_cb += 1
        if what == 4:
            self.sel.unregister(fd)
        elif socketp is None:
            self.sel.register(fd, _EVENTS[what])
            multi.assign(fd, True)
        else:
            self.sel.modify(fd, _EVENTS[what])

    def _on_timer(self, ms: int) -> None:
        self.n_timer_cb += 1
        self.deadline = None if ms < 0 else time.monotonic() + ms / 1000.0

    def _write(self, data: bytes) -> None:
        self.received += len(data)

    # -- setup
    def new_handle(self) -> Any:
        """Return an easy handle configured for the scenario (setopt errors propagate)."""
        mod, spec = self.mod, self.spec
        c = mod.Curl()
        c.setopt(mod.URL, spec.url)
        c.setopt(mod.WRITEFUNCTION, self._write)
        if spec.new_connection:
            c.setopt(mod.FORBID_REUSE, 1)
            c.setopt(mod.HTTPHEADER, ["Connection: close"])
        if spec.cainfo:
            c.setopt(mod.CAINFO, spec.cainfo)
        if spec.http2:
            version = (
                mod.CURL_HTTP_VERSION_2_0
                if spec.url.startswith("https:")
                else mod.CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
            )
            c.setopt(mod.HTTP_VERSION, version)
            c.setopt(mod.PIPEWAIT, 1)
        return c

    def probe(self) -> str:
        """Do one request; return "" if it worked as the scenario needs, else why not."""
        try:
            c = self.new_handle()
            self.handles.append(c)
            self.run_batch(1, 1, _PROBE_TIMEOUT)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        if self.errors:
            return f"probe request failed: {self.last_error}"
        if c.getinfo(self.mod.RESPONSE_CODE) != 200:
            return f"probe got HTTP {c.getinfo(self.mod.RESPONSE_CODE)}"
        if self.spec.http2:
            try:
                version = c.getinfo(self.mod.INFO_HTTP_VERSION)
            except Exception as exc:
                return f"cannot tell the HTTP version: {exc}"
            if version != self.mod.CURL_HTTP_VERSION_2_0:
                return f"asked for HTTP/2, got HTTP_VERSION {version}"
        return ""

    # -- the loops
    def run_batch(self, total: int, concurrency: int, timeout: float) -> None:
        """Do `total` requests, `concurrency` at once; raise TimeoutError after `timeout` s."""
        while len(self.handles) < min(concurrency, total):
            self.handles.append(self.new_handle())
        m = self.multi
        started = done = 0
        for c in self.handles[:concurrency]:
            if started < total:
                m.add_handle(c)
                started += 1
        give_up = time.monotonic() + timeout
        step = self._step_socket if self.loop == "socket" else self._step_perform
        while done < total:
            step()
            while True:
                queued, ok, err = m.info_read()
                for e in err:
                    self.errors += 1
                    self.last_error = f"({e[1]}) {e[2]}"
                for c in ok + [e[0] for e in err]:
                    done += 1
                    m.remove_handle(c)
                    if started < total:
                        m.add_handle(c)
                        started += 1
                if not queued:
                    break
            if time.monotonic() > give_up:
                raise TimeoutError(f"{done}/{total} requests done after {timeout:.0f} s")

    def _step_socket(self) -> None:
        m, sel = self.multi, self.sel
        d = self.deadline
        wait = 1.0 if d is None else max(0.0, d - time.monotonic())
        events = sel.select(wait)
        self.n_socket_action += len(events)
        for key, mask in events:
            m.socket_action(
                key.fd,
                (1 if mask & selectors.EVENT_READ else 0)
                | (2 if mask & selectors.EVENT_WRITE else 0),
            )
        d = self.deadline
        if d is not None and time.monotonic() >= d:
            self.deadline = None
            self.n_socket_action += 1
            m.socket_action(self.mod.SOCKET_TIMEOUT, 0)

    def _step_perform(self) -> None:
        m = self.multi
        while True:
            ret, _running = m.perform()
            if ret != self.mod.E_CALL_MULTI_PERFORM:
                break
        ms = m.timeout()
        m.select(1.0 if ms < 0 else ms / 1000.0)

    def close(self) -> None:
        """Close every handle and the multi."""
        for c in self.handles:
            c.close()
        self.multi.close()
        self.sel.close()


def run(spec: Spec, args: list[str]) -> Result:
    """Probe, warm up and time `spec` with the module and loop named in `args`."""
    modname, loop = args[0], args[1]
    try:
        mod = importlib.import_module(modname)
    except ImportError as exc:
        return Result("unavailable", reason=f"cannot import {modname}: {exc}")
    client = CurlApiClient(mod, spec, loop)
    try:
        reason = client.probe()
        if reason:
            return Result("unavailable", reason=reason)
        if spec.warmup:
            client.run_batch(spec.warmup, spec.concurrency, _RUN_TIMEOUT)
        client.received = client.errors = 0
        client.n_socket_cb = client.n_timer_cb = client.n_socket_action = 0
        watch = Stopwatch()
        watch.start()
        client.run_batch(spec.requests, spec.concurrency, _RUN_TIMEOUT)
        watch.stop()
        return Result(
            "ok" if not client.errors else "error",
            requests=spec.requests,
            bytes=client.received,
            errors=client.errors,
            wall=watch.wall,
            cpu=watch.cpu,
            reason=client.last_error,
            extra={
                "version": str(getattr(mod, "version", "")),
                **(
                    {
                        "socket_action_per_req": client.n_socket_action / spec.requests,
                        "socket_cb_per_req": client.n_socket_cb / spec.requests,
                        "timer_cb_per_req": client.n_timer_cb / spec.requests,
                    }
                    if loop == "socket"
                    else {}
                ),
            },
        )
    finally:
        client.close()


if __name__ == "__main__":
    main(run)
