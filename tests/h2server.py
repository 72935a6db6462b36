"""A scripted HTTP/2 server for tests, on the `h2` library (tests/servers.py's machinery).

Theory of operation
-------------------
`H2Server` is an `HttpServer` (tests/servers.py): the same accept thread, one thread per
connection, the same `stop()` that leaves no socket or thread behind and re-raises a handler's
exception. Only the handler differs. On a cleartext connection it peeks at the first bytes: the
HTTP/2 connection preface (RFC 9113 section 3.4, "prior knowledge") starts an HTTP/2 session;
anything else is served as HTTP/1.1 by `HttpServer` (its built-in routes), optionally accepting
an `Upgrade: h2c` request (RFC 7540 section 3.2, `h2c_upgrade=True`). `TlsH2Server` adds the
TLS of tests/tls_servers.py; there ALPN decides: "h2" starts a session, anything else is
HTTP/1.1. `h2_context(pki)` makes a server context that offers h2 then http/1.1.

An HTTP/2 session (`_Session`) runs in the connection's thread as a small event loop on a
non-blocking socket: `select` for readable (and writable while output is queued), feed what
arrives to the `h2.H2Connection`, and between reads advance every response that may move (its
delay passed, the peer's flow-control window open), one DATA frame per stream per round, so
concurrent responses interleave on the wire the way a real server's do. Output is queued only
up to a high-water mark, so a stream the client stops reading (a paused transfer) holds back
only itself, through flow control.

What the client may see is scripted per route (`H2Response`: status, headers, body or a
generated length, trailers, a delay, a dribble interval, a RST_STREAM instead of an end, a
PUSH_PROMISE, raw bytes instead of frames) and per server (SETTINGS_MAX_CONCURRENT_STREAMS,
the initial window and max frame size it announces, a `Goaway` sent while streams are in
flight, `hold`: answer nothing on a connection until that many streams are open at once).
Frames the h2 state machine would refuse to send (a GOAWAY after which streams still finish, a
PUSH_PROMISE the client disabled, garbage) are serialised by hand and queued in order with h2's
own output.

What happened is recorded per connection (`H2ConnectionRecord`: protocol, every request, the
most streams open at once, the client's SETTINGS, the RST_STREAMs and GOAWAY it sent) and per
server (`connections_accepted`, `h2_connections`, `streams`, `max_open_streams`). Records are
written by the connection threads and may trail the client by a scheduling slice (use
`tests.servers.wait_until`). A frame from the client that h2 calls a protocol error is a
handler error: `stop()` re-raises it.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import struct
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
from hyperframe.frame import GoAwayFrame, PushPromiseFrame

from tests.servers import (
    PATTERN,
    HeaderList,
    HeaderLookup,
    HttpServer,
    Request,
    ServerConnection,
    _render,
    answer_route,
    pattern_bytes,
)
from tests.tls_certs import Pki
from tests.tls_servers import _TlsServing, server_context

__all__ = [
    "GARBAGE",
    "PREFACE",
    "VIOLATION",
    "Goaway",
    "H2ConnectionRecord",
    "H2Request",
    "H2Response",
    "H2Route",
    "H2Server",
    "TlsH2Server",
    "h2_context",
    "pattern_bytes",
]

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
# An HTTP/1.1 response where a frame is due: read as a frame header, it announces a frame of
# 0x485454 bytes, far over SETTINGS_MAX_FRAME_SIZE (RFC 9113 section 4.2: FRAME_SIZE_ERROR).
GARBAGE = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
# A DATA frame on stream 0 (RFC 9113 section 6.1: a connection error of type PROTOCOL_ERROR).
VIOLATION = struct.pack(">I", 4)[1:] + b"\x00\x00" + struct.pack(">I", 0) + b"oops"

_RECV_SIZE = 1 << 16
_HIGH_WATER = 1 << 17  # queued output bytes beyond which no more frames are made this round
_TICK = 0.05  # seconds between checks of the server's stop flag while nothing happens
_SLOW_PIECES = 10
_SLOW_INTERVAL = 0.02
_SWITCHING = b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"


@dataclass(frozen=True)
class H2Request(HeaderLookup):
    """One request stream as the server received it. Header names are lower case (HTTP/2
    requires it); `headers` holds the regular fields, `pseudo` the ":name" ones."""

    connection: int  # ServerConnection.number
    stream_id: int
    method: str
    target: str  # :path
    authority: str | None
    scheme: str | None
    headers: list[tuple[str, str]]
    body: bytes
    trailers: list[tuple[str, str]]
    pseudo: dict[str, str]

    def header_values(self, name: str) -> list[str]:
        """Return every value of header `name` (case-insensitive), in order."""
        lname = name.lower()
        return [value for key, value in self.headers if key == lname]


@dataclass(frozen=True)
class H2Response:
    """What an `H2Server` route answers on a stream.

    content-length is added (unless `content_length` is false or the headers carry one) for
    every status that may have content; HEAD, 1xx, 204 and 304 get headers only. The body is
    `body`, or `generated_length` pattern bytes; it goes out in DATA frames of at most
    `chunk_size` bytes (and the client's max frame size), `interval` seconds apart, within the
    client's flow-control windows. `trailers` follow it in a HEADERS frame. `delay` seconds
    pass before the response starts.

    Scripted misbehaviour: with `reset` (an error code), the stream ends in RST_STREAM with that
    code instead, before the headers when `reset_after` is None, else once `reset_after` body
    bytes went out. With `push`, a PUSH_PROMISE for that path comes first (a protocol error if
    the client disabled push, as libcurl does without a push callback); the promised stream
    gets a `/bytes/N`-style answer when allowed. With `raw`, those bytes go out instead of the
    response, outside h2's knowledge (see GARBAGE, VIOLATION); the stream stays open. With
    `block`, the head is exactly those fields (pseudo-header fields included, names as given,
    no content-length added) and it and `trailers` go out without h2's checks of outbound
    fields: for heads that break HTTP/2's field rules.
    """

    status: int = 200
    headers: HeaderList = ()
    body: bytes = b""
    generated_length: int | None = None
    trailers: Sequence[tuple[str, str]] = ()
    delay: float = 0.0
    chunk_size: int = 16384
    interval: float = 0.0
    content_length: bool = True
    reset: int | None = None
    reset_after: int | None = None
    push: str | None = None
    raw: bytes | None = None
    block: Sequence[tuple[bytes, bytes]] | None = None

    def header_items(self) -> list[tuple[str, str]]:
        items = self.headers.items() if isinstance(self.headers, Mapping) else self.headers
        return [(name.lower(), value) for name, value in items]

    @property
    def length(self) -> int:
        return len(self.body) if self.generated_length is None else self.generated_length


H2Route = H2Response | bytes | Callable[[H2Request], H2Response]


@dataclass(frozen=True)
class Goaway:
    """A GOAWAY the server sends on connection number `connection` once `after_requests`
    requests arrived on it (or `H2Server.hold_timeout` passed since the first), before it
    answers any of them. Streams up to `last_stream_id` (default: all received) are then
    answered; the others never are. The connection is closed when the answered ones are done.
    """

    after_requests: int
    last_stream_id: int | None = None
    error_code: int = 0
    connection: int = 1


@dataclass
class H2ConnectionRecord:
    """What happened on one accepted connection (appended to `H2Server.h2_connections`)."""

    number: int
    protocol: str  # "h2" (TLS, ALPN), "h2c" (prior knowledge), "h2c-upgrade", "http/1.1"
    requests: list[H2Request] = field(default_factory=list)
    stream_ids: list[int] = field(default_factory=list)  # streams the client opened, in order
    max_open_streams: int = 0
    client_settings: dict[int, int] = field(default_factory=dict)
    resets_received: list[tuple[int, int]] = field(default_factory=list)  # (stream, code)
    goaway_received: int | None = None  # the error code of the client's GOAWAY
    goaway_sent: bool = False
    pushes_promised: int = 0
    closed: bool = False


def h2_context(pki: Pki, *, alpn: Sequence[str] = ("h2", "http/1.1")) -> ssl.SSLContext:
    """Return a server context presenting the PKI's server certificate, offering `alpn`."""
    return server_context(pki.server, alpn=alpn)


def _generated_route(request: H2Request) -> H2Response | None:
    """The built-in routes; None when `request` names none of them."""
    path = request.path
    _, _, tail = path[1:].partition("/")
    try:
        if path.startswith("/bytes/"):
            return H2Response(generated_length=int(tail))
        if path.startswith("/status/"):
            return H2Response(status=int(tail))
        if path.startswith("/slow/"):
            n = int(tail)
            return H2Response(
                generated_length=n,
                chunk_size=max(1, -(-n // _SLOW_PIECES)),
                interval=_SLOW_INTERVAL,
            )
        if path.startswith("/reset/"):
            return H2Response(reset=int(tail))
    except ValueError:
        return H2Response(400, body=b"bad number\n")
    if path == "/echo":
        return H2Response(
            headers=[
                ("content-type", request.header("content-type") or "application/octet-stream"),
                ("x-method", request.method),
            ],
            body=request.body,
        )
    if path == "/trailers":
        return H2Response(
            headers=[("content-type", "text/plain")],
            body=b"trailers follow\n",
            trailers=[("x-checksum", "abc123"), ("x-trailer", "yes")],
        )
    if path == "/push":
        return H2Response(body=b"pushed\n", push="/bytes/10")
    if path == "/garbage":
        return H2Response(raw=GARBAGE)
    if path == "/violation":
        return H2Response(raw=VIOLATION)
    return None


class H2Server(HttpServer):
    """An HTTP/2 server on 127.0.0.1 answering from `routes` (h2c prior knowledge; HTTP/1.1
    for anything else, with `h2c_upgrade` accepting `Upgrade: h2c`).

    A route is looked up by the full target, then by the path; its value is an `H2Response`,
    bytes (a 200 with that body) or a function of the `H2Request`. Unmatched paths fall through
    (with `builtin_routes`) to `/bytes/N`, `/status/N`, `/echo` (the body back, with the method
    in x-method), `/trailers`, `/slow/N` (N bytes in 10 DATA frames 20 ms apart), `/reset/N`
    (RST_STREAM with code N), `/push`, `/garbage`, `/violation`; anything else is a 404.
    HTTP/1.1 connections get tests/servers.py's built-in routes.

    Settings the server announces: `max_concurrent_streams`, `initial_window_size` (each
    stream's receive window), `max_frame_size`; `connection_window` raises the connection's
    receive window to that size at the start. `hold`: on each connection, answer nothing until
    that many streams are open at once (at most `hold_timeout` seconds after the first
    request), so that a test can see them open together. `goaway`: see `Goaway`.
    """

    def __init__(
        self,
        routes: Mapping[str, H2Route] | None = None,
        *,
        builtin_routes: bool = True,
        max_concurrent_streams: int | None = None,
        initial_window_size: int | None = None,
        max_frame_size: int | None = None,
        connection_window: int | None = None,
        hold: int = 0,
        hold_timeout: float = 2.0,
        goaway: Goaway | None = None,
        h2c_upgrade: bool = False,
        io_timeout: float = 10.0,
        stop_timeout: float = 5.0,
    ) -> None:
        super().__init__(
            None, builtin_routes=builtin_routes, io_timeout=io_timeout, stop_timeout=stop_timeout
        )
        self._handler = self._serve_connection
        self.h2_routes: dict[str, H2Route] = dict(routes or {})
        self.max_concurrent_streams = max_concurrent_streams
        self.initial_window_size = initial_window_size
        self.max_frame_size = max_frame_size
        self.connection_window = connection_window
        self.hold = hold
        self.hold_timeout = hold_timeout
        self.goaway = goaway
        self.h2c_upgrade = h2c_upgrade
        self.h2_connections: list[H2ConnectionRecord] = []

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} port={self._port} accepted={self.connections_accepted}"
            f" streams={len(self.streams)} max_open={self.max_open_streams}>"
        )

    # -- bookkeeping ------------------------------------------------------------------------

    @property
    def streams(self) -> list[H2Request]:
        """Every HTTP/2 request received: connection by connection (in order of acceptance
        of the record), each in order of arrival."""
        with self._state_lock:
            records = list(self.h2_connections)
        found = [r for record in records for r in record.requests]
        return found

    @property
    def max_open_streams(self) -> int:
        """The most streams one connection had open at once."""
        with self._state_lock:
            return max((r.max_open_streams for r in self.h2_connections), default=0)

    def protocols(self) -> list[str]:
        """The protocol of each connection, in order of acceptance."""
        with self._state_lock:
            return [r.protocol for r in sorted(self.h2_connections, key=lambda r: r.number)]

    def h2_route(self, request: H2Request) -> H2Response:
        """Return the response `request` gets."""
        generated = _generated_route if self.builtin_routes else None
        return answer_route(self.h2_routes, request, H2Response, generated)

    def _new_record(self, conn: ServerConnection, protocol: str) -> H2ConnectionRecord:
        record = H2ConnectionRecord(conn.number, protocol)
        with self._state_lock:
            self.h2_connections.append(record)
        return record

    # -- serving ----------------------------------------------------------------------------

    def _serve_connection(self, conn: ServerConnection) -> None:
        if isinstance(conn.sock, ssl.SSLSocket):
            if conn.sock.selected_alpn_protocol() == "h2":
                _Session(self, conn, self._new_record(conn, "h2")).run()
            else:
                self._new_record(conn, "http/1.1")
                self._serve_http(conn)
            return
        if self._peek_preface(conn):
            _Session(self, conn, self._new_record(conn, "h2c")).run()
            return
        self._serve_http1(conn)

    def _peek_preface(self, conn: ServerConnection) -> bool:
        """True when the client's first bytes are the HTTP/2 preface (left unread)."""
        seen = b""
        while len(seen) < len(PREFACE):
            seen = conn.sock.recv(len(PREFACE), socket.MSG_PEEK)
            if not seen or not PREFACE.startswith(seen):
                return False
            if len(seen) < len(PREFACE) and conn.sleep(0.001):
                return False
        return True

    def _serve_http1(self, conn: ServerConnection) -> None:
        record = self._new_record(conn, "http/1.1")
        if not self.h2c_upgrade:
            self._serve_http(conn)
            return
        request = conn.read_request()
        if request is None:
            return
        settings = request.header("http2-settings")
        tokens = [t.strip() for t in (request.header("upgrade") or "").lower().split(",")]
        if "h2c" not in tokens or settings is None:
            response = self.route(request)
            for piece in _render(response, request.method == "HEAD", False):
                conn.send(piece)
            self._serve_http(conn)
            return
        # RFC 7540 section 3.2: 101, then the server's preface, then the answer on stream 1.
        conn.send(_SWITCHING)
        record.protocol = "h2c-upgrade"
        leftover = bytes(conn._buf)
        conn._buf.clear()
        session = _Session(self, conn, record, upgrade_settings=settings.strip())
        session.upgraded_request(request)
        session.run(leftover)


class TlsH2Server(_TlsServing, H2Server):
    """An `H2Server` speaking TLS with `context` (see `h2_context`): ALPN "h2" gets HTTP/2,
    anything else HTTP/1.1. The handshakes are recorded in `sessions`."""

    def __init__(
        self,
        context: ssl.SSLContext,
        routes: Mapping[str, H2Route] | None = None,
        **options: Any,
    ) -> None:
        H2Server.__init__(self, routes, **options)
        self._init_tls(context)


@dataclass
class _Outgoing:
    """A response in progress on one stream."""

    stream_id: int
    response: H2Response
    head_only: bool
    not_before: float
    headers_sent: bool = False
    sent: int = 0


def _split_headers(
    raw: Sequence[tuple[bytes, bytes]],
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Return the pseudo-header fields and the regular ones of a received header block."""
    pseudo: dict[str, str] = {}
    headers: list[tuple[str, str]] = []
    for name_b, value_b in raw:
        name, value = name_b.decode("latin-1"), value_b.decode("latin-1")
        if name.startswith(":"):
            pseudo[name] = value
        else:
            headers.append((name, value))
    return pseudo, headers


class _H2Connection(h2.connection.H2Connection):
    """h2's connection without its own SETTINGS_MAX_CONCURRENT_STREAMS check.

    h2 treats a stream over the limit as a connection error, even one a client opened before
    it could read the limit (RFC 9113 section 5.1.2 makes it a stream error, and a client
    learns the limit only from our SETTINGS). `_Session` does the counting instead, so a test
    sees how many streams the client really opened.
    """

    @property
    def open_inbound_streams(self) -> int:
        h2.connection.H2Connection.open_inbound_streams.fget(self)  # type: ignore[attr-defined]
        return 0


class _Session:
    """One HTTP/2 connection, served in the connection's thread (see the module docstring)."""

    def __init__(
        self,
        server: H2Server,
        conn: ServerConnection,
        record: H2ConnectionRecord,
        *,
        upgrade_settings: str | None = None,
    ) -> None:
        self.server = server
        self.conn = conn
        self.record = record
        self.h2 = _H2Connection(h2.config.H2Configuration(client_side=False, header_encoding=None))
        self.out = bytearray()
        self.open: set[int] = set()
        self.jobs: dict[int, _Outgoing] = {}
        self.partial: dict[int, tuple[dict[str, str], list[tuple[str, str]], bytearray]] = {}
        self.trailers: dict[int, list[tuple[str, str]]] = {}
        self.first_request_at: float | None = None
        self.requests_here = 0
        goaway = server.goaway
        self.goaway = goaway if goaway is not None and goaway.connection == conn.number else None
        self.released = server.hold <= 1 and self.goaway is None
        self.answer_up_to: int | None = None  # after our GOAWAY: the last stream we answer
        self.closing = False
        # The server's settings go out in its first SETTINGS frame, as real servers send them
        # (`_H2Connection` leaves the stream limit to us).
        initial: dict[h2.settings.SettingCodes, int] = {}
        if server.max_concurrent_streams is not None:
            initial[h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS] = server.max_concurrent_streams
        if server.max_frame_size is not None:
            initial[h2.settings.SettingCodes.MAX_FRAME_SIZE] = server.max_frame_size
        self.h2.local_settings = h2.settings.Settings(client=False, initial_values=initial)
        if upgrade_settings is not None:
            padded = upgrade_settings + "=" * (-len(upgrade_settings) % 4)
            self.h2.initiate_upgrade_connection(padded.encode("ascii"))
            self._opened(1)
        else:
            self.h2.initiate_connection()
        if server.initial_window_size is not None:
            # In a second SETTINGS frame right behind the first, which h2 applies when the
            # client acknowledges it: the client may send up to the default window before it
            # reads ours (RFC 9113 section 6.9.2), and h2 would call that a flow-control error
            # if the value were in force from the start.
            self.h2.update_settings(
                {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: server.initial_window_size}
            )
        if server.connection_window is not None and server.connection_window > 65535:
            self.h2.increment_flow_control_window(server.connection_window - 65535)
        self._flush_h2()

    # -- the loop ---------------------------------------------------------------------------

    def run(self, initial: bytes = b"") -> None:
        sock = self.conn.sock
        sock.setblocking(False)
        try:
            if initial:
                self._received(initial)
            while not self.server._stopping.is_set():
                now = time.monotonic()
                self._advance(now)
                if self.closing and not self.out:
                    return
                # Decrypted bytes TLS holds back are not seen by select.
                pending = isinstance(sock, ssl.SSLSocket) and sock.pending() > 0
                wait = 0.0 if pending else self._next_wakeup(now)
                readable, writable, _ = select.select([sock], [sock] if self.out else [], [], wait)
                if writable:
                    self._write()
                if (readable or pending) and not self._read():
                    return
        finally:
            self.record.closed = True

    def _next_wakeup(self, now: float) -> float:
        # Jobs that could run but did not are blocked on flow control (a WINDOW_UPDATE will
        # wake us) or on the queued output (the socket turning writable will).
        wait = _TICK
        for job in self.jobs.values():
            if job.not_before > now:
                wait = min(wait, job.not_before - now)
        if not self.released and self.first_request_at is not None:
            wait = min(wait, max(0.0, self.first_request_at + self.server.hold_timeout - now))
        return max(0.0, wait)

    def _read(self) -> bool:
        """Receive what is there; return False at the end of the stream."""
        sock = self.conn.sock
        total = 0
        while total < (1 << 20):
            try:
                data = sock.recv(_RECV_SIZE)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                return True
            except ssl.SSLError:
                return False
            if not data:
                return False
            total += len(data)
            self._received(data)
        return True

    def _write(self) -> None:
        sock = self.conn.sock
        while self.out:
            try:
                n = sock.send(self.out[:_RECV_SIZE])
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                return
            del self.out[:n]

    def _flush_h2(self) -> None:
        self.out += self.h2.data_to_send()

    # -- input ------------------------------------------------------------------------------

    def _received(self, data: bytes) -> None:
        if self.closing and self.record.goaway_received is not None:
            return
        events = self.h2.receive_data(data)  # ProtocolError: a handler error (see docstring)
        for event in events:
            self._event(event)
        self._flush_h2()

    def _opened(self, stream_id: int) -> None:
        self.open.add(stream_id)
        record = self.record
        record.stream_ids.append(stream_id)
        record.max_open_streams = max(record.max_open_streams, len(self.open))

    def _closed(self, stream_id: int) -> None:
        self.open.discard(stream_id)
        self.jobs.pop(stream_id, None)

    def _event(self, event: h2.events.Event) -> None:
        if isinstance(event, h2.events.RequestReceived):
            assert event.stream_id is not None and event.headers is not None
            self._opened(event.stream_id)
            pseudo, headers = _split_headers(event.headers)
            self.partial[event.stream_id] = (pseudo, headers, bytearray())
        elif isinstance(event, h2.events.DataReceived):
            assert event.stream_id is not None and event.data is not None
            if event.stream_id in self.partial:
                self.partial[event.stream_id][2].extend(event.data)
            if event.flow_controlled_length:
                # Acknowledge at once: the window reopens as the bytes are "consumed".
                with contextlib.suppress(h2.exceptions.StreamClosedError):
                    self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.TrailersReceived):
            assert event.stream_id is not None and event.headers is not None
            _, trailers = _split_headers(event.headers)
            self.trailers[event.stream_id] = trailers
        elif isinstance(event, h2.events.StreamEnded):
            assert event.stream_id is not None
            self._request_complete(event.stream_id)
        elif isinstance(event, h2.events.StreamReset):
            assert event.stream_id is not None
            self.record.resets_received.append((event.stream_id, int(event.error_code or 0)))
            self.partial.pop(event.stream_id, None)
            self._closed(event.stream_id)
        elif isinstance(event, h2.events.RemoteSettingsChanged):
            for code, setting in event.changed_settings.items():
                self.record.client_settings[int(code)] = setting.new_value
        elif isinstance(event, h2.events.SettingsAcknowledged):
            self._reopen_windows()
        elif isinstance(event, h2.events.ConnectionTerminated):
            # h2's state machine is closed now: nothing more may be sent, only what is queued.
            self.record.goaway_received = int(event.error_code or 0)
            self.jobs.clear()
            self.closing = True

    def _reopen_windows(self) -> None:
        """Refill the receive windows a smaller INITIAL_WINDOW_SIZE left empty or negative.

        The client sent under the old window until it read our SETTINGS; when it acknowledges
        them, h2 applies the difference, which can leave an uploading stream's window at or
        below zero with every received byte already acknowledged. h2 only sends a
        WINDOW_UPDATE when more data is acknowledged, and none can come: both sides would
        wait forever.
        """
        size = self.server.initial_window_size
        if size is None:
            return
        for sid in list(self.partial):
            stream = self.h2.streams.get(sid)
            if stream is None:
                continue
            window = stream.inbound_flow_control_window
            if window < size // 2:
                with contextlib.suppress(h2.exceptions.StreamClosedError):
                    self.h2.increment_flow_control_window(size - window, sid)

    def upgraded_request(self, request: Request) -> None:
        """Take `request` (the HTTP/1.1 request that carried `Upgrade: h2c`) as stream 1."""
        headers = [(name.lower(), value) for name, value in request.headers]
        pseudo = {":method": request.method, ":path": request.target, ":scheme": "http"}
        host = request.header("host")
        if host is not None:
            pseudo[":authority"] = host
        self.partial[1] = (pseudo, headers, bytearray(request.body))
        self._request_complete(1)

    def _request_complete(self, stream_id: int) -> None:
        parts = self.partial.pop(stream_id, None)
        if parts is None:
            return
        pseudo, headers, body = parts
        request = H2Request(
            connection=self.conn.number,
            stream_id=stream_id,
            method=pseudo.get(":method", ""),
            target=pseudo.get(":path", ""),
            authority=pseudo.get(":authority"),
            scheme=pseudo.get(":scheme"),
            headers=headers,
            body=bytes(body),
            trailers=self.trailers.pop(stream_id, []),
            pseudo=pseudo,
        )
        with self.server._state_lock:
            self.record.requests.append(request)
        now = time.monotonic()
        if self.first_request_at is None:
            self.first_request_at = now
        self.requests_here += 1
        response = self.server.h2_route(request)
        self.jobs[stream_id] = _Outgoing(
            stream_id, response, request.method == "HEAD", now + response.delay
        )

    # -- output -----------------------------------------------------------------------------

    def _release(self, now: float) -> None:
        """Decide whether held responses may start (`hold`, `goaway`), sending the GOAWAY."""
        if self.released or self.first_request_at is None:
            return
        timed_out = now >= self.first_request_at + self.server.hold_timeout
        if self.goaway is not None:
            if self.requests_here < self.goaway.after_requests and not timed_out:
                return
            last = self.goaway.last_stream_id
            if last is None:
                last = max(self.record.stream_ids, default=0)
            # h2 would close its state machine on a GOAWAY it sends, refusing to finish the
            # streams below last_stream_id (RFC 9113 section 6.8 lets them finish), so the
            # frame is made by hand.
            self._flush_h2()
            self.out += GoAwayFrame(
                0, last_stream_id=last, error_code=self.goaway.error_code
            ).serialize()
            self.record.goaway_sent = True
            self.answer_up_to = last
            self.released = True
            return
        if len(self.open) >= self.server.hold or timed_out:
            self.released = True

    def _may_answer(self, stream_id: int) -> bool:
        return self.answer_up_to is None or stream_id <= self.answer_up_to

    def _advance(self, now: float) -> None:
        if self.record.goaway_received is not None:
            return
        self._release(now)
        if not self.released:
            return
        progress = True
        while progress and len(self.out) < _HIGH_WATER:
            progress = False
            for job in list(self.jobs.values()):
                if job.not_before > now or not self._may_answer(job.stream_id):
                    continue
                if self._step(job, now):
                    progress = True
                self._flush_h2()
        if self.answer_up_to is not None and not any(self._may_answer(sid) for sid in self.jobs):
            self.closing = True

    def _step(self, job: _Outgoing, now: float) -> bool:
        """Send the next piece of `job`'s response; return True if anything went out."""
        response, sid = job.response, job.stream_id
        if not job.headers_sent:
            if response.raw is not None:
                self._flush_h2()
                self.out += response.raw
                self.jobs.pop(sid, None)  # the stream stays open, unanswered
                return True
            if response.push is not None:
                self._push(sid, response.push)
            if response.reset is not None and response.reset_after is None:
                self.h2.reset_stream(sid, response.reset)
                self._closed(sid)
                return True
            bodyless = job.head_only or response.status < 200 or response.status in (204, 304)
            headers: list[tuple[Any, Any]] = [
                (":status", str(response.status)),
                *response.header_items(),
            ]
            names = {name for name, _ in headers}
            may_have_content = not (response.status < 200 or response.status in (204, 304))
            if response.content_length and "content-length" not in names and may_have_content:
                headers.append(("content-length", str(response.length)))
            if response.block is not None:
                headers = list(response.block)
            ends = bodyless or (
                response.length == 0 and not response.trailers and response.reset is None
            )
            self._send_headers(sid, headers, ends, unchecked=response.block is not None)
            job.headers_sent = True
            if ends:
                self._closed(sid)
            return True
        reset_after = response.reset_after
        if (
            response.reset is not None
            and reset_after is not None
            and job.sent >= min(reset_after, response.length)
        ):
            self.h2.reset_stream(sid, response.reset)
            self._closed(sid)
            return True
        remaining = response.length - job.sent
        if remaining > 0:
            window = self.h2.local_flow_control_window(sid)
            n = min(remaining, window, self.h2.max_outbound_frame_size, response.chunk_size)
            if response.reset_after is not None:
                n = min(n, response.reset_after - job.sent)
            if n <= 0:
                return False  # blocked on flow control
            if response.generated_length is None:
                data = response.body[job.sent : job.sent + n]
            else:
                start = job.sent % len(PATTERN)
                n = min(n, len(PATTERN) - start)
                data = PATTERN[start : start + n]
            job.sent += n
            ends = job.sent == response.length and not response.trailers
            ends = ends and response.reset is None
            self.h2.send_data(sid, data, end_stream=ends)
            if ends:
                self._closed(sid)
            elif response.interval:
                job.not_before = now + response.interval
            return True
        if response.reset is not None:
            return False  # handled above on the next step
        self._send_headers(sid, list(response.trailers), True, response.block is not None)
        self._closed(sid)
        return True

    def _send_headers(
        self, sid: int, headers: list[tuple[Any, Any]], end_stream: bool, unchecked: bool
    ) -> None:
        """h2's send_headers; `unchecked`: without its checks and lower-casing of fields."""
        config = self.h2.config
        saved = config.validate_outbound_headers, config.normalize_outbound_headers
        if unchecked:
            config.validate_outbound_headers = config.normalize_outbound_headers = False
        try:
            self.h2.send_headers(sid, headers, end_stream=end_stream)
        finally:
            config.validate_outbound_headers, config.normalize_outbound_headers = saved

    def _push(self, stream_id: int, path: str) -> None:
        """Promise `path` on `stream_id`: through h2 when the client allows pushes, by hand
        (a protocol violation) when it does not."""
        self.record.pushes_promised += 1
        authority = self.server.address[0] + ":" + str(self.server.port)
        request_headers = [
            (":method", "GET"),
            (":path", path),
            (":scheme", "https" if isinstance(self.conn.sock, ssl.SSLSocket) else "http"),
            (":authority", authority),
        ]
        if self.h2.remote_settings.enable_push:
            promised = self.h2.get_next_available_stream_id()
            self.h2.push_stream(stream_id, promised, request_headers)
            request = H2Request(
                self.conn.number, promised, "GET", path, authority, None, [], b"", [], {}
            )
            response = _generated_route(request) or H2Response(404)
            self.jobs[promised] = _Outgoing(promised, response, False, time.monotonic())
            return
        self._flush_h2()
        frame = PushPromiseFrame(stream_id, promised_stream_id=2, flags=["END_HEADERS"])
        frame.data = self.h2.encoder.encode(request_headers)
        self.out += frame.serialize()
