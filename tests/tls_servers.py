"""TLS variants of the scripted test servers (tests/servers.py), and a client for them.

Theory of operation
-------------------
`TlsScriptedServer` and `TlsHttpServer` are the servers of tests/servers.py with one change:
before the handler runs, each accepted connection is wrapped in the server's `ssl.SSLContext`
and the handshake is done (blocking, bounded by the server's `io_timeout`, in the connection's
own thread). The wrapped socket replaces `conn.sock` under the connection's lock, so `stop()`
interrupts a handshake in progress exactly as it interrupts a `recv`.

A handshake that fails (the client rejected our certificate, we rejected the client's) is not
a handler error: it is recorded in `handshake_errors` and the connection is closed once the
client closed its side (so that the client reads our alert, never a reset), because most TLS
tests are about such failures. What the handshake agreed is recorded per connection
in `sessions` (`HandshakeRecord`: version, ALPN, reuse, the SNI name, the client's
certificate); a record is appended after the server's side of the handshake ended, which may
be a moment after the client's (use `tests.servers.wait_until`).

`server_context(...)` builds a server context from the files of tests/tls_certs.py;
`pki_in(tmp_path_factory)` makes the test PKI for a session-scoped fixture.

The client side, for tests of purecurl.transport.tls itself: `TlsClient` opens loopback
connections and wraps them in `TlsHandshake`s, `drive` steps one to completion the way the
engine does (a non-blocking socket, `select()` on the interest `want_write` names) and
`exchange` sends a request and reads the answer. Each waits at most `DEADLINE` seconds.

The servers send no close_notify unless a handler calls `send_close_notify(conn)`:
`ServerConnection.close` shuts the TCP side down, so a client reading to the end sees an EOF
without close_notify. libcurl (and purecurl.transport.tls.recv_error) report that as error 56
("unexpected eof while reading") when they read to the end, which a response with a
Content-Length or chunked body never makes them do.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pytest

from purecurl.transport.tls import TlsHandshake, TlsSettings, build_context
from purecurl.transport.tls_in_tls import TlsOverTls
from tests.proxy_servers import HttpProxy
from tests.servers import (
    Handler,
    HttpServer,
    Route,
    ScriptedServer,
    ScriptEntry,
    ServerConnection,
)
from tests.tls_certs import Issued, Pki, make_pki

__all__ = [
    "DEADLINE",
    "HandshakeRecord",
    "TlsClient",
    "TlsHttpProxy",
    "TlsHttpServer",
    "TlsScriptedServer",
    "drive",
    "exchange",
    "pki_in",
    "send_close_notify",
    "server_context",
]


DEADLINE = 5.0  # seconds a loopback handshake or exchange may take


@dataclass(frozen=True)
class HandshakeRecord:
    """What one accepted connection's handshake agreed."""

    version: str | None
    alpn: str | None
    session_reused: bool
    client_cert_der: bytes | None
    server_name: str | None  # what the client sent as SNI; None when it sent none


def pki_in(factory: pytest.TempPathFactory) -> Pki:
    """Return the test PKI written to a new temporary directory of `factory`."""
    return make_pki(factory.mktemp("pki"))


def send_close_notify(conn: ServerConnection) -> None:
    """Send the TLS close_notify alert on `conn` without waiting for the client's.

    `SSLSocket.unwrap` sends ours, then waits for the peer's; on a non-blocking socket the
    wait ends at once in SSLWantReadError, with ours sent.
    """
    sock = conn.sock
    assert isinstance(sock, ssl.SSLSocket)
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        sock.unwrap()
    except ssl.SSLWantReadError:
        pass
    finally:
        sock.settimeout(timeout)


def server_context(
    cert: Issued,
    *,
    chain: bool = False,
    client_ca: Issued | None = None,
    require_client_cert: bool = True,
    alpn: Iterable[str] = ("http/1.1",),
    minimum: ssl.TLSVersion | None = None,
    maximum: ssl.TLSVersion | None = None,
) -> ssl.SSLContext:
    """Return a server context presenting `cert` (with its intermediates when `chain`).

    With `client_ca`, client certificates issued by it are asked for (and required unless
    `require_client_cert` is false).
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert.chain_pem if chain else cert.cert_pem), str(cert.key_pem))
    ctx.set_alpn_protocols(list(alpn))
    if minimum is not None:
        ctx.minimum_version = minimum
    if maximum is not None:
        ctx.maximum_version = maximum
    if client_ca is not None:
        ctx.load_verify_locations(str(client_ca.cert_pem))
        ctx.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_OPTIONAL
    return ctx


class _TlsServing(ScriptedServer):
    """The TLS part shared by the servers below: wrap, handshake, record, then serve."""

    context: ssl.SSLContext
    handshake_errors: list[BaseException]
    sessions: list[HandshakeRecord]
    _tls_lock: threading.Lock
    _sni: weakref.WeakKeyDictionary[ssl.SSLSocket | ssl.SSLObject, str]

    def _init_tls(self, context: ssl.SSLContext) -> None:
        self.context = context
        self.handshake_errors = []
        self.sessions = []
        self._tls_lock = threading.Lock()
        self._sni = weakref.WeakKeyDictionary()
        if context.sni_callback is None:  # the server owns its context while it runs
            context.sni_callback = self._record_sni

    def _record_sni(
        self, sock: ssl.SSLSocket | ssl.SSLObject, name: str | None, ctx: ssl.SSLContext
    ) -> None:
        if name is not None:
            with self._tls_lock:
                self._sni[sock] = name

    def url(self, path: str = "/") -> str:
        """Return "https://127.0.0.1:PORT/path" (a leading slash is added when missing)."""
        return "https" + super().url(path)[4:]

    def _serve(self, conn: ServerConnection) -> None:
        try:
            with conn._lock:
                if conn.closed:
                    return
                conn.sock = self.context.wrap_socket(
                    conn.sock, server_side=True, do_handshake_on_connect=False
                )
            assert isinstance(conn.sock, ssl.SSLSocket)
            conn.sock.do_handshake()
        except (OSError, ValueError) as exc:
            with self._tls_lock:
                self.handshake_errors.append(exc)
            # Our alert is out; read until the client closes. Closing at once, with bytes the
            # client sends next unread (its request, after a TLS 1.3 handshake that looked
            # done to it), would reset the connection, and the client would see the reset
            # instead of the alert, or not, as the race goes.
            with contextlib.suppress(OSError, ValueError):
                conn.sock.shutdown(socket.SHUT_WR)  # an SSLSocket drops its TLS layer here
                while conn.sock.recv(65536):
                    pass
            conn.close()
            return
        sock = conn.sock
        with self._tls_lock:
            try:
                record = HandshakeRecord(
                    sock.version(),
                    sock.selected_alpn_protocol(),
                    bool(sock.session_reused),
                    sock.getpeercert(binary_form=True),
                    self._sni.pop(sock, None),
                )
            except (AttributeError, OSError, ValueError):
                # stop() closed the connection right after the handshake (its SSL object is
                # gone): nothing to record or serve.
                conn.close()
                return
            self.sessions.append(record)
        super()._serve(conn)


class TlsScriptedServer(_TlsServing):
    """A `ScriptedServer` speaking TLS with `context`; see `ScriptedServer` for the rest."""

    def __init__(
        self,
        context: ssl.SSLContext,
        handler: Handler | None = None,
        *,
        responses: Iterable[ScriptEntry] | None = None,
        io_timeout: float = 10.0,
        stop_timeout: float = 5.0,
    ) -> None:
        super().__init__(
            handler, responses=responses, io_timeout=io_timeout, stop_timeout=stop_timeout
        )
        self._init_tls(context)


class TlsHttpServer(_TlsServing, HttpServer):
    """An `HttpServer` speaking TLS with `context`; see `HttpServer` for the routes."""

    def __init__(
        self,
        context: ssl.SSLContext,
        routes: Mapping[str, Route] | None = None,
        *,
        builtin_routes: bool = True,
        io_timeout: float = 10.0,
        stop_timeout: float = 5.0,
    ) -> None:
        HttpServer.__init__(
            self,
            routes,
            builtin_routes=builtin_routes,
            io_timeout=io_timeout,
            stop_timeout=stop_timeout,
        )
        self._init_tls(context)


class TlsHttpProxy(_TlsServing, HttpProxy):
    """An `HttpProxy` spoken to over TLS with `context` (an HTTPS proxy); its CONNECT tunnels
    relay the bytes inside that TLS session to a plain TCP connection to the target."""

    def __init__(
        self,
        context: ssl.SSLContext,
        *,
        connect_response: bytes | None = None,
        target: tuple[str, int] | None = None,
        io_timeout: float = 10.0,
    ) -> None:
        HttpProxy.__init__(
            self, connect_response=connect_response, target=target, io_timeout=io_timeout
        )
        self._init_tls(context)


# -- the client side: purecurl's TlsHandshake, driven as the engine does ---------------------


def _wait(sock: socket.socket | TlsOverTls, write: bool, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("the loopback peer did not answer in time")
    select.select([] if write else [sock], [sock] if write else [], [], remaining)


def drive(hs: TlsHandshake) -> list[bool]:
    """Step `hs` to completion, waiting as `want_write` says; return the interests seen."""
    deadline = time.monotonic() + DEADLINE
    interests = []
    while not hs.step():
        interests.append(hs.want_write)
        _wait(hs.sock, hs.want_write, deadline)
    return interests


def exchange(
    sock: ssl.SSLSocket | TlsOverTls, request: bytes, until: bytes
) -> tuple[bytes, OSError | None]:
    """Send `request`, read until `until` arrives (b"": to the end of the stream); return what
    was read and the exception that ended the stream, if one did."""
    deadline = time.monotonic() + DEADLINE
    view = memoryview(request)
    while view:
        try:
            view = view[sock.send(view) :]
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError) as exc:
            _wait(sock, isinstance(exc, ssl.SSLWantWriteError), deadline)
    data = b""
    while not until or until not in data:
        try:
            chunk = sock.recv(65536)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError) as exc:
            _wait(sock, isinstance(exc, ssl.SSLWantWriteError), deadline)
            continue
        except OSError as exc:
            return data, exc
        if not chunk:
            break
        data += chunk
    return data, None


class TlsClient:
    """Makes `TlsHandshake`s to loopback servers; `close()` closes all their sockets."""

    def __init__(self) -> None:
        self.handshakes: list[TlsHandshake] = []

    def start(
        self,
        address: tuple[str, int],
        settings: TlsSettings,
        host: str = "localhost",
        *,
        ctx: ssl.SSLContext | None = None,
        session: ssl.SSLSession | None = None,
    ) -> TlsHandshake:
        """Connect to `address` and wrap the socket for `host` (`build_context(settings)`
        unless `ctx` is given); the handshake has not begun."""
        ctx = ctx or build_context(settings)  # before the socket: it may raise
        sock = socket.create_connection(address, timeout=DEADLINE)
        sock.setblocking(False)
        hs = TlsHandshake(sock, ctx, host, settings, session)
        self.handshakes.append(hs)
        return hs

    def handshake(
        self,
        address: tuple[str, int],
        settings: TlsSettings,
        host: str = "localhost",
        *,
        ctx: ssl.SSLContext | None = None,
        session: ssl.SSLSession | None = None,
    ) -> TlsHandshake:
        """`start` a handshake and `drive` it to completion (CurlError if it fails)."""
        hs = self.start(address, settings, host, ctx=ctx, session=session)
        drive(hs)
        return hs

    def get(self, hs: TlsHandshake, until: bytes) -> bytes:
        """Send "GET /" over `hs`, read until `until` arrives; return what was read."""
        data, err = exchange(hs.sock, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", until)
        if err is not None:
            raise err
        assert until in data, f"the stream ended before {until!r}"
        return data

    def close(self) -> None:
        for hs in self.handshakes:
            hs.sock.close()
