"""Helpers shared by the integration tests: run one transfer and keep what the user sees."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

Opts = Sequence[tuple[str, Any]]


@dataclass
class Outcome:
    """What one transfer gave its user: result, body pieces, header lines, a few infos."""

    code: int
    message: str
    chunks: list[bytes] = field(default_factory=list)
    headers: list[bytes] = field(default_factory=list)
    response_code: int = 0
    num_connects: int = 0
    http_version: int = 0
    primary_ip: str = ""
    local_port: int = 0

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)


def make_curl(mod: ModuleType, url: str | None, opts: Opts = ()) -> tuple[Any, Outcome]:
    """Return a new handle set up for `url` and `opts`, and the Outcome it fills as it runs."""
    out = Outcome(0, "")
    c = mod.Curl()
    if url is not None:
        c.setopt(mod.URL, url)
    c.setopt(mod.WRITEFUNCTION, out.chunks.append)
    c.setopt(mod.HEADERFUNCTION, out.headers.append)
    for name, value in opts:
        c.setopt(getattr(mod, name), value)
    c.outcome = out
    return c, out


def finish(mod: ModuleType, c: Any, code: int = 0, message: str = "") -> Outcome:
    """Fill the handle's Outcome with `code`, `message` and its infos; return it."""
    out: Outcome = c.outcome
    out.code, out.message = code, message
    out.response_code = c.getinfo(mod.RESPONSE_CODE)
    out.num_connects = c.getinfo(mod.NUM_CONNECTS)
    out.http_version = c.getinfo(mod.INFO_HTTP_VERSION)
    out.primary_ip = c.getinfo(mod.PRIMARY_IP) or ""
    out.local_port = c.getinfo(mod.LOCAL_PORT)
    return out


def perform(mod: ModuleType, c: Any) -> Outcome:
    """Run `c` with Curl.perform; return its Outcome (a failure is a code, not an exception)."""
    try:
        c.perform()
    except mod.error as exc:
        return finish(mod, c, exc.args[0], exc.args[1])
    return finish(mod, c)


def fetch(mod: ModuleType, url: str | None, opts: Opts = ()) -> Outcome:
    """Run one transfer with a fresh handle through Curl.perform; return what it gave."""
    c, _ = make_curl(mod, url, opts)
    try:
        return perform(mod, c)
    finally:
        c.close()


def run_multi(
    mod: ModuleType, handles: Sequence[Any], multi: Any | None = None, timeout: float = 30.0
) -> list[Outcome]:
    """Run `handles` on one multi through the selectors driver; return their Outcomes in order.

    The driver only uses the pycurl API, so it drives the real pycurl too.
    """
    from purecurl.drivers.selector import run

    own = multi is None
    m = mod.CurlMulti() if multi is None else multi
    try:
        for c, code, msg in run(m, list(handles), timeout):
            finish(mod, c, code, msg)
    finally:
        if own:
            m.close()
    return [c.outcome for c in handles]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on (just released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class OneShotServer:
    """A minimal server on any socket family: each accepted connection gets `handler(sock)`.

    For what `ScriptedServer` cannot do (IPv6, unix sockets). Stops and joins on exit.
    """

    def __init__(self, listener: socket.socket, handler: Callable[[socket.socket], None]) -> None:
        self.listener = listener
        self.handler = handler
        self.accepted = 0
        self.errors: list[BaseException] = []
        listener.listen(16)
        listener.settimeout(0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            with sock:
                sock.settimeout(5)
                try:
                    self.handler(sock)
                except OSError:
                    pass
                except BaseException as exc:
                    self.errors.append(exc)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.listener.close()
        if self.errors:
            raise self.errors[0]


@contextlib.contextmanager
def one_shot(
    listener: socket.socket, handler: Callable[[socket.socket], None]
) -> Iterator[OneShotServer]:
    """Serve `handler` on `listener` for the block; see OneShotServer."""
    server = OneShotServer(listener, handler)
    try:
        yield server
    finally:
        server.close()


def read_head(sock: socket.socket) -> bytes:
    """Read a request head (to the blank line) from a blocking socket; return its bytes."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        if not more:
            break
        data += more
    return data
