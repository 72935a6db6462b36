"""Real servers on 127.0.0.1 whose bytes each test scripts.

Theory of operation
-------------------
`ScriptedServer` listens on 127.0.0.1 with an ephemeral port. One accept thread waits on a
selector holding the listening socket and the read end of a wake-up socketpair; each accepted
connection is handed to a new thread that runs the test's handler with a `ServerConnection`
(buffered reads of whole requests, `send`, `close`, `reset`, interruptible `sleep`).

`stop()` is the only way resources go away, and it leaves none behind: it wakes the accept thread
through the socketpair, closes the listening socket, shuts down every open connection (which wakes
any handler blocked in `recv` or `sendall`), joins every thread within a bound and closes every
socket. The leak check in conftest.py holds the servers to that.

A handler's exception is recorded and re-raised by `stop()` so that a failed assertion inside a
handler fails the test; OS errors (the client went away) and anything raised after `stop()` began
(the stop itself broke the handler's socket) are not failures.

`HttpServer` is a `ScriptedServer` whose handler serves HTTP/1.1 with keep-alive from a table of
routes, plus generated routes (`/bytes/N`, `/chunked/N`, `/echo`, `/status/N`, `/redirect/N`,
`/close`) so a test can fetch N bytes without storing them.
"""

from __future__ import annotations

import contextlib
import enum
import http
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol, TypeVar, cast

__all__ = [
    "CLOSE",
    "PATTERN",
    "RESET",
    "Action",
    "BadRequest",
    "HttpServer",
    "Request",
    "Response",
    "ScriptedServer",
    "ServerConnection",
    "ServerFactory",
    "pattern_bytes",
    "wait_until",
]

# 64 KiB of bytes(range(256)) repeated: generated bodies are slices of it, so they contain every
# byte value (CR, LF and NUL included) and any prefix of length N is `pattern_bytes(N)`.
PATTERN = bytes(range(256)) * 256
_MAX_HEAD = 1 << 20
_RECV_SIZE = 1 << 16
_BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def pattern_bytes(n: int) -> bytes:
    """Return the first `n` bytes of the generated-body pattern (what `/bytes/N` serves)."""
    whole, rest = divmod(n, len(PATTERN))
    return PATTERN * whole + PATTERN[:rest]


def wait_until(
    predicate: Callable[[], bool], timeout: float = 2.0, interval: float = 0.005
) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds pass; return its last value.

    For server bookkeeping that trails the client by a scheduling slice (a close the server has
    not seen yet).
    """
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


class BadRequest(ValueError):
    """The bytes received are not an HTTP/1.1 request (raised by `read_request`)."""


class Action(enum.Enum):
    """What a `responses=` script entry may do instead of sending bytes."""

    CLOSE = "close"  # close the connection without a response
    RESET = "reset"  # abort the connection with a TCP RST


CLOSE = Action.CLOSE
RESET = Action.RESET


class HeaderLookup:
    """`path` and `header()` of a recorded request (HTTP/1 here, HTTP/2 in tests/h2server)."""

    target: str
    headers: list[tuple[str, str]]

    @property
    def path(self) -> str:
        """The target without its query string."""
        return self.target.partition("?")[0]

    def header(self, name: str) -> str | None:
        """Return the first value of header `name` (case-insensitive), or None."""
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None


@dataclass(frozen=True)
class Request(HeaderLookup):
    """One request as the server received it; header names keep the client's spelling."""

    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes
    raw: bytes

    def header_values(self, name: str) -> list[str]:
        """Return every value of header `name` (case-insensitive), in order."""
        lname = name.lower()
        return [value for key, value in self.headers if key.lower() == lname]


class ServerConnection:
    """The server's side of one accepted connection, given to a handler.

    Reads are buffered: `read_request` may receive more than one request's bytes, and the rest
    stays for the next call (pipelining works).
    """

    def __init__(self, server: ScriptedServer, sock: socket.socket, number: int) -> None:
        self.server = server
        self.sock = sock
        self.number = number  # 1 for the first connection the server accepted
        try:
            self.peer: tuple[str, int] = sock.getpeername()
        except OSError:  # the client already reset the connection
            self.peer = ("", 0)
        self._buf = bytearray()
        self._lock = threading.Lock()
        self._closed = False
        self._eof = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<ServerConnection #{self.number} from {self.peer[1]} {state}>"

    @property
    def closed(self) -> bool:
        return self._closed

    # -- reading ---------------------------------------------------------------------------

    def _fill(self) -> bool:
        """Receive more bytes into the buffer; return False at end of stream."""
        if self._eof:
            return False
        data = self.sock.recv(_RECV_SIZE)
        if not data:
            self._eof = True
            return False
        self._buf += data
        return True

    def recv(self, max_bytes: int = _RECV_SIZE) -> bytes:
        """Return up to `max_bytes` bytes (buffered ones first); b"" at end of stream."""
        if not self._buf and not self._fill():
            return b""
        data = bytes(self._buf[:max_bytes])
        del self._buf[:max_bytes]
        return data

    def read_exact(self, n: int) -> bytes:
        """Return exactly `n` bytes; raise ConnectionError if the stream ends first."""
        while len(self._buf) < n:
            if not self._fill():
                raise ConnectionError(f"end of stream after {len(self._buf)} of {n} bytes")
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data

    def read_until(self, delimiter: bytes, limit: int = _MAX_HEAD) -> bytes:
        """Return the bytes up to and including `delimiter`.

        Raises ConnectionError if the stream ends first, BadRequest past `limit` bytes.
        """
        start = 0
        while True:
            index = self._buf.find(delimiter, start)
            if index >= 0:
                end = index + len(delimiter)
                data = bytes(self._buf[:end])
                del self._buf[:end]
                return data
            if len(self._buf) > limit:
                raise BadRequest(f"no {delimiter!r} within {limit} bytes")
            start = max(0, len(self._buf) - len(delimiter) + 1)
            if not self._fill():
                raise ConnectionError(f"end of stream before {delimiter!r}")

    def read_until_eof(self) -> bytes:
        """Return everything until the client closes its side."""
        while self._fill():
            pass
        data = bytes(self._buf)
        self._buf.clear()
        return data

    def read_head(self) -> Request | None:
        """Read a request line and header fields; return them with an empty body.

        Returns None if the client closed the connection before sending a byte of a request.
        Raises BadRequest for malformed input, ConnectionError for a stream cut mid-request.
        """
        # RFC 9112 section 2.2: a server SHOULD ignore empty lines received before the
        # request-line.
        while True:
            while len(self._buf) < 2:
                if not self._fill():
                    if self._buf:
                        raise ConnectionError("end of stream inside a request head")
                    return None
            if self._buf[:2] != b"\r\n":
                break
            del self._buf[:2]
        head = self.read_until(b"\r\n\r\n")
        lines = head[:-4].split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
            raise BadRequest(f"bad request line {lines[0]!r}")
        headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon or not name or name != name.strip():
                raise BadRequest(f"bad header line {line!r}")
            headers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
        method, target, version = (p.decode("latin-1") for p in parts)
        return Request(method, target, version, headers, b"", head)

    def read_body(self, head: Request, answer_continue: bool = True) -> Request:
        """Read the body `head` announces (Content-Length or chunked); return the whole request.

        With `answer_continue`, a request carrying `Expect: 100-continue` is first answered with
        an interim 100 response (RFC 9110 section 10.1.1), as a server that wants the body does.
        """
        te = head.header("transfer-encoding")
        cl = head.header("content-length")
        chunked = te is not None and te.lower().rsplit(",", 1)[-1].strip() == "chunked"
        if not chunked and cl is None:
            return head
        if answer_continue and (head.header("expect") or "").lower() == "100-continue":
            self.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        raw = [head.raw]
        if chunked:
            body = []
            while True:
                line = self.read_until(b"\r\n")
                raw.append(line)
                size_text = line[:-2].partition(b";")[0].strip()
                try:
                    size = int(size_text, 16)
                except ValueError:
                    raise BadRequest(f"bad chunk size line {line!r}") from None
                if size == 0:
                    break
                data = self.read_exact(size + 2)
                raw.append(data)
                if data[-2:] != b"\r\n":
                    raise BadRequest("chunk data not followed by CRLF")
                body.append(data[:-2])
            while True:  # trailer section, ended by an empty line
                line = self.read_until(b"\r\n")
                raw.append(line)
                if line == b"\r\n":
                    break
            data = b"".join(body)
        else:
            assert cl is not None
            try:
                length = int(cl)
            except ValueError:
                raise BadRequest(f"bad Content-Length {cl!r}") from None
            data = self.read_exact(length)
            raw.append(data)
        return Request(head.method, head.target, head.version, head.headers, data, b"".join(raw))

    def read_request(self, answer_continue: bool = True) -> Request | None:
        """Read one whole request (head and body) and record it in `server.requests`.

        Returns None if the client closed the connection cleanly between requests.
        Raises BadRequest for malformed input, ConnectionError for a stream cut mid-request.
        """
        head = self.read_head()
        if head is None:
            return None
        request = self.read_body(head, answer_continue)
        self.server._record(request)
        return request

    # -- writing and closing ----------------------------------------------------------------

    def send(self, data: bytes | bytearray | memoryview) -> None:
        """Send all of `data`; raises OSError if the client is gone."""
        self.sock.sendall(data)

    def sleep(self, seconds: float) -> bool:
        """Wait `seconds`, or less if the server stops; return True if it was stopped."""
        return self.server._stopping.wait(seconds)

    def close(self) -> None:
        """Close the connection with a FIN. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            # Drain what the client already sent: closing with unread data makes the kernel send
            # an RST, which can destroy the response the client has not read yet.
            self.sock.setblocking(False)
            with contextlib.suppress(OSError):
                while self.sock.recv(_RECV_SIZE):
                    pass
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_WR)
        finally:
            self.sock.close()
            self.server._connection_closed(self)

    def reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER with a zero timeout). Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        finally:
            self.sock.close()
            self.server._connection_closed(self)

    def _abort_io(self) -> None:
        """Wake a thread blocked on this socket (used by `stop`); the thread then closes it."""
        with self._lock:
            if self._closed:
                return
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)


Handler = Callable[[ServerConnection], None]
ScriptEntry = bytes | Action
_S = TypeVar("_S", bound="ScriptedServer")


class ScriptedServer:
    """A threaded TCP server on 127.0.0.1 running `handler(conn)` for each connection.

    Give either `handler`, or `responses`: a script shared by all connections, one entry per
    request received in order. An entry is the bytes to send back (the connection then stays
    open, unless they contain `Connection: close`), `CLOSE` or `RESET`. When the script runs out,
    the server closes a connection on its next request.

    Use as a context manager, or call `start()` and `stop()`. Bookkeeping a test can assert on:
    `connections_accepted`, `requests`, `max_concurrent`, `open_connections`, `errors`.
    """

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        responses: Iterable[ScriptEntry] | None = None,
        io_timeout: float = 10.0,
        stop_timeout: float = 5.0,
    ) -> None:
        if (handler is None) == (responses is None):
            raise TypeError("give exactly one of handler or responses")
        self._script: list[ScriptEntry] = [] if responses is None else list(responses)
        self._handler: Handler = handler if handler is not None else self._run_script
        self.io_timeout = io_timeout
        self.stop_timeout = stop_timeout
        self.connections_accepted = 0
        self.requests: list[Request] = []
        self.max_concurrent = 0
        self.errors: list[BaseException] = []
        self._state_lock = threading.Lock()
        self._conns: set[ServerConnection] = set()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._port = 0
        self._stopped = False

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} port={self._port} accepted={self.connections_accepted}"
            f" open={self.open_connections} requests={len(self.requests)}>"
        )

    # -- lifecycle --------------------------------------------------------------------------

    def start(self: _S) -> _S:
        """Bind 127.0.0.1 on a free port and start accepting; return self."""
        if self._listener is not None or self._stopped:
            raise RuntimeError("a ScriptedServer starts once")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind(("127.0.0.1", 0))
            listener.listen(1024)
            listener.setblocking(False)
            self._wake_r, self._wake_w = socket.socketpair()
        except BaseException:
            listener.close()
            raise
        self._listener = listener
        self._port = listener.getsockname()[1]
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"{type(self).__name__}-{self._port}-accept", daemon=True
        )
        self._accept_thread.start()
        return self

    def stop(self, *, raise_errors: bool = True) -> None:
        """Close the listener and every connection, join every thread. Idempotent.

        Raises RuntimeError if a handler thread does not finish within `stop_timeout`, and with
        `raise_errors` re-raises the first exception a handler raised before the stop.
        """
        if self._stopped:
            return
        self._stopped = True
        self._stopping.set()
        deadline = time.monotonic() + self.stop_timeout
        if self._wake_w is not None:
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")
        if self._accept_thread is not None:
            self._accept_thread.join(self.stop_timeout)
        for sock in (self._listener, self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()
        with self._state_lock:
            conns = list(self._conns)
            threads = list(self._threads)
        for conn in conns:
            conn._abort_io()
        stuck = []
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                stuck.append(thread.name)
        with self._state_lock:
            conns = list(self._conns)
        for conn in conns:  # only connections whose thread is stuck remain
            conn.close()
        if self._accept_thread is not None and self._accept_thread.is_alive():
            stuck.append(self._accept_thread.name)
        if stuck:
            raise RuntimeError(f"server threads still running after stop(): {stuck}")
        if raise_errors and self.errors:
            raise self.errors[0]

    def __enter__(self: _S) -> _S:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # When the test body already failed, its exception is the one to see.
        self.stop(raise_errors=exc is None)

    # -- addresses and bookkeeping ----------------------------------------------------------

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("server not started")
        return self._port

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def url(self, path: str = "/") -> str:
        """Return "http://127.0.0.1:PORT/path" (a leading slash is added when missing)."""
        if not path.startswith("/"):
            path = "/" + path
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def open_connections(self) -> int:
        """Connections accepted and not yet closed by the server."""
        with self._state_lock:
            return len(self._conns)

    def _record(self, request: Request) -> None:
        with self._state_lock:
            self.requests.append(request)

    def _connection_closed(self, conn: ServerConnection) -> None:
        with self._state_lock:
            self._conns.discard(conn)

    # -- threads ----------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        assert self._listener is not None and self._wake_r is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r:
                        return
                    self._accept_ready()

    def _accept_ready(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # ECONNABORTED and the like: the client gave up already
                continue
            try:
                sock.settimeout(self.io_timeout)
                # Responses go out in several sends (head, chunks); Nagle plus delayed ACKs
                # would stall each by ~40 ms.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with self._state_lock:
                    self.connections_accepted += 1
                    conn = ServerConnection(self, sock, self.connections_accepted)
                    self._conns.add(conn)
                    self.max_concurrent = max(self.max_concurrent, len(self._conns))
                    if len(self._threads) % 128 == 127:  # keep the list short; stop() joins
                        self._threads = [t for t in self._threads if t.is_alive()]
                    thread = threading.Thread(
                        target=self._serve,
                        args=(conn,),
                        name=f"{type(self).__name__}-{self._port}-conn-{conn.number}",
                        daemon=True,
                    )
                    self._threads.append(thread)
            except OSError:  # the peer vanished before the socket options were set
                sock.close()
                continue
            thread.start()

    def _serve(self, conn: ServerConnection) -> None:
        try:
            self._handler(conn)
        except OSError:
            pass  # the client went away, or stop() shut the socket down
        except BaseException as exc:
            if not self._stopping.is_set():
                with self._state_lock:
                    self.errors.append(exc)
        finally:
            conn.close()

    def _next_entry(self) -> ScriptEntry | None:
        with self._state_lock:
            return self._script.pop(0) if self._script else None

    def _run_script(self, conn: ServerConnection) -> None:
        while True:
            request = conn.read_request()
            if request is None:
                return
            entry = self._next_entry()
            if entry is None or entry is CLOSE:
                return
            if entry is RESET:
                conn.reset()
                return
            assert isinstance(entry, bytes)
            conn.send(entry)
            head = entry.partition(b"\r\n\r\n")[0].lower()
            if b"\r\nconnection: close" in head:
                return


HeaderList = Sequence[tuple[str, str]] | Mapping[str, str]


@dataclass(frozen=True)
class Response:
    """What an `HttpServer` route answers.

    Content-Length is added unless the response is `chunked` (then the body goes out in chunks
    of `chunk_size` bytes, followed by `trailers`) or the headers already carry one. `delay`
    seconds pass before the response is sent; `close` closes the connection after it.
    """

    status: int = 200
    headers: HeaderList = ()
    body: bytes = b""
    chunked: bool = False
    delay: float = 0.0
    close: bool = False
    chunk_size: int = 16384
    trailers: Sequence[tuple[str, str]] = ()
    reason: str | None = None
    # Generated bodies: when set, `body` is ignored and this many pattern bytes are sent.
    generated_length: int | None = None

    def header_items(self) -> list[tuple[str, str]]:
        if isinstance(self.headers, Mapping):
            return list(self.headers.items())
        return list(self.headers)


Route = Response | bytes | Callable[[Request], Response]


class Routed(Protocol):
    """What a route table looks requests up by."""

    @property
    def target(self) -> str: ...

    @property
    def path(self) -> str: ...


Resp = TypeVar("Resp")
Req = TypeVar("Req", bound=Routed)


def answer_route(
    routes: Mapping[str, Resp | bytes | Callable[[Req], Resp]],
    request: Req,
    kind: type[Resp],
    generated: Callable[[Req], Resp | None] | None,
) -> Resp:
    """The answer of a server's route table (`kind`: HTTP/1 `Response` or HTTP/2
    `H2Response`): the route of the full target, else of the path, else a generated one, else
    404. A route is a response, bytes (a 200 with that body) or a function of the request."""
    make = cast(Callable[..., Resp], kind)
    route = routes.get(request.target)
    if route is None:
        route = routes.get(request.path)
    if route is None:
        answer = generated(request) if generated is not None else None
        return answer if answer is not None else make(404, body=b"not found\n")
    if isinstance(route, kind):
        return route
    if isinstance(route, bytes):
        return make(body=route)
    assert callable(route)
    return route(request)


def _generated_routes(request: Request) -> Response | None:
    """The built-in routes; None when `request` names none of them."""
    path = request.path
    _, _, tail = path[1:].partition("/")
    try:
        if path.startswith("/bytes/"):
            return Response(generated_length=int(tail))
        if path.startswith("/chunked/"):
            return Response(generated_length=int(tail), chunked=True)
        if path.startswith("/status/"):
            return Response(status=int(tail))
        if path.startswith("/redirect/"):
            hops = int(tail)
            if hops <= 0:
                return Response(body=b"redirected\n")
            return Response(302, [("Location", f"/redirect/{hops - 1}")])
    except ValueError:
        return Response(400, body=b"bad number\n")
    if path == "/echo":
        content_type = request.header("content-type") or "application/octet-stream"
        return Response(headers=[("Content-Type", content_type)], body=request.body)
    if path == "/close":
        return Response(body=b"closing\n", close=True)
    return None


class HttpServer(ScriptedServer):
    """An HTTP/1.1 server with keep-alive that answers from `routes`.

    A route is looked up by the full target, then by the path without its query string. Its
    value is a `Response`, bytes (a 200 with that body), or a function of the `Request`
    returning a `Response`. With `builtin_routes`, unmatched paths fall through to:
    `/bytes/N` (N pattern bytes, see `pattern_bytes`), `/chunked/N` (the same, chunked),
    `/echo` (the request body back), `/status/N`, `/redirect/N` (N 302 hops to
    `/redirect/0`), `/close` (then closes). Anything else is a 404.
    """

    def __init__(
        self,
        routes: Mapping[str, Route] | None = None,
        *,
        builtin_routes: bool = True,
        io_timeout: float = 10.0,
        stop_timeout: float = 5.0,
    ) -> None:
        super().__init__(self._serve_http, io_timeout=io_timeout, stop_timeout=stop_timeout)
        self.routes: dict[str, Route] = dict(routes or {})
        self.builtin_routes = builtin_routes

    def route(self, request: Request) -> Response:
        """Return the response `request` gets."""
        generated = _generated_routes if self.builtin_routes else None
        return answer_route(self.routes, request, Response, generated)

    def _serve_http(self, conn: ServerConnection) -> None:
        while True:
            try:
                request = conn.read_request()
            except BadRequest:
                conn.send(
                    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
                return
            if request is None:
                return
            response = self.route(request)
            if response.delay and conn.sleep(response.delay):
                return
            client_close = (request.header("connection") or "").lower() == "close"
            # RFC 9112 section 9.3: an HTTP/1.0 client keeps the connection only if it asked.
            if request.version == "HTTP/1.0":
                client_close = (request.header("connection") or "").lower() != "keep-alive"
            close = response.close or client_close
            for piece in _render(response, request.method == "HEAD", close):
                conn.send(piece)
            if close:
                return


def _render(response: Response, head_only: bool, close: bool) -> Iterator[bytes | memoryview]:
    """Yield the bytes of `response`: the head, then the body in pieces."""
    status = response.status
    reason = response.reason
    if reason is None:
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
    headers = response.header_items()
    names = {name.lower() for name, _ in headers}
    # RFC 9110 section 6.4.1: 1xx, 204 and 304 responses never carry content.
    bodyless = status < 200 or status in (204, 304)
    length = response.generated_length
    if length is None:
        length = len(response.body)
    if not bodyless:
        if response.chunked:
            if "transfer-encoding" not in names:
                headers.append(("Transfer-Encoding", "chunked"))
        elif "content-length" not in names:
            headers.append(("Content-Length", str(length)))
    if close and "connection" not in names:
        headers.append(("Connection", "close"))
    lines = [f"HTTP/1.1 {status} {reason}\r\n"]
    lines.extend(f"{name}: {value}\r\n" for name, value in headers)
    lines.append("\r\n")
    head = "".join(lines).encode("latin-1")
    if bodyless or head_only:
        yield head
        return
    pieces = _body_pieces(response, length)
    if not response.chunked:
        if length <= len(PATTERN):
            # One send for a small response: head and body reach the client in one segment.
            yield head + b"".join(pieces)
            return
        yield head
        yield from pieces
        return
    yield head
    for piece in pieces:
        yield b"%x\r\n" % len(piece) + bytes(piece) + b"\r\n"
    trailer = "".join(f"{name}: {value}\r\n" for name, value in response.trailers)
    yield b"0\r\n" + trailer.encode("latin-1") + b"\r\n"


def _body_pieces(response: Response, length: int) -> Iterator[bytes | memoryview]:
    """Yield the body in pieces of at most `chunk_size` (chunked) or 64 KiB bytes."""
    size = response.chunk_size if response.chunked else len(PATTERN)
    if size <= 0:
        raise ValueError("chunk_size must be positive")
    if response.generated_length is None:
        body = memoryview(response.body)
        for offset in range(0, length, size):
            yield body[offset : offset + size]
        return
    pattern = memoryview(PATTERN)
    sent = 0
    while sent < length:
        # PATTERN's length is a multiple of 256, so the pattern restarts at each 64 KiB; pieces
        # of other sizes pick up at the current offset.
        start = sent % len(PATTERN)
        n = min(size, length - sent, len(PATTERN) - start)
        yield pattern[start : start + n]
        sent += n


class ServerFactory:
    """Starts servers for one test and stops them all at its end (the `scripted` fixture)."""

    def __init__(self) -> None:
        self.servers: list[ScriptedServer] = []

    def __call__(
        self,
        handler: Handler | None = None,
        *,
        responses: Iterable[ScriptEntry] | None = None,
        io_timeout: float = 10.0,
    ) -> ScriptedServer:
        """Return a started `ScriptedServer`; see its constructor."""
        server = ScriptedServer(handler, responses=responses, io_timeout=io_timeout)
        self.servers.append(server)
        return server.start()

    def http(
        self,
        routes: Mapping[str, Route] | None = None,
        *,
        builtin_routes: bool = True,
        io_timeout: float = 10.0,
    ) -> HttpServer:
        """Return a started `HttpServer`; see its constructor."""
        server = HttpServer(routes, builtin_routes=builtin_routes, io_timeout=io_timeout)
        self.servers.append(server)
        return server.start()

    def stop_all(self, *, raise_errors: bool = True) -> None:
        """Stop every server; then raise the first error any of them raised."""
        servers = list(self.servers)
        self.servers.clear()
        stop_all(servers, raise_errors=raise_errors)


def stop_all(servers: Iterable[Any], **stop_kwargs: Any) -> None:
    """Call `stop(**stop_kwargs)` on every server, then raise the first error any raised: one
    failing server does not leave the others running."""
    failure: BaseException | None = None
    for server in servers:
        try:
            server.stop(**stop_kwargs)
        except BaseException as exc:
            failure = failure or exc
    if failure is not None:
        raise failure
