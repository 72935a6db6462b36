"""TLS variants of the scripted test servers (tests/servers.py), and their certificates.

Theory of operation
-------------------
`TlsScriptedServer` and `TlsHttpServer` are the servers of tests/servers.py with one change:
before the handler runs, each accepted connection is wrapped in the server's `ssl.SSLContext`
and the handshake is done (blocking, bounded by the server's `io_timeout`, in the connection's
own thread). The wrapped socket replaces `conn.sock` under the connection's lock, so `stop()`
interrupts a handshake in progress exactly as it interrupts a `recv`.

A handshake that fails (the client rejected our certificate, we rejected the client's) is not
a handler error: it is recorded in `handshake_errors` and the connection is closed, because
most TLS tests are about such failures. What the handshake agreed is recorded per connection
in `sessions` (`HandshakeRecord`: version, ALPN, reuse, the client's certificate).

`server_context(...)` builds a server context from the files of tests/tls_certs.py;
`pki_in(tmp_path_factory)` makes the test PKI for a session-scoped fixture.

The servers never send close_notify: `ServerConnection.close` shuts the TCP side down, so a
client reading to the end sees an EOF without close_notify, which libcurl (and
purecurl.transport.tls.recv_error) treat as the end of the stream.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pytest

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
    "HandshakeRecord",
    "TlsHttpServer",
    "TlsScriptedServer",
    "pki_in",
    "server_context",
]


@dataclass(frozen=True)
class HandshakeRecord:
    """What one accepted connection's handshake agreed."""

    version: str | None
    alpn: str | None
    session_reused: bool
    client_cert_der: bytes | None


def pki_in(factory: pytest.TempPathFactory) -> Pki:
    """Return the test PKI written to a new temporary directory of `factory`."""
    return make_pki(factory.mktemp("pki"))


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

    def _init_tls(self, context: ssl.SSLContext) -> None:
        self.context = context
        self.handshake_errors = []
        self.sessions = []
        self._tls_lock = threading.Lock()

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
            conn.close()
            return
        sock = conn.sock
        record = HandshakeRecord(
            sock.version(),
            sock.selected_alpn_protocol(),
            bool(sock.session_reused),
            sock.getpeercert(binary_form=True),
        )
        with self._tls_lock:
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
