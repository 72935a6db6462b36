"""The Pythonic async API: `Session`, `Response`, `Headers` and an error hierarchy.

    async with purecurl.aio.Session(max_host_connections=4, timeout=10) as s:
        r = await s.get("http://127.0.0.1:8080/", params={"q": "x"})
        print(r.status, r.headers["content-type"], await r.read())

Theory of operation
-------------------
A `Session` is one `AsyncCurlMulti` (so one connection pool and one set of connection limits)
on the running loop. Each request runs on a `Curl` handle whose HEADERFUNCTION and
WRITEFUNCTION feed its `Response`; a handle whose transfer ended is kept for a later request
(`_Handle`), which sets only the options that differ, so a run of similar requests reuses what
the library derived from them.

* Header lines are parsed here (status line, fields), because libcurl refuses `getinfo` from
  inside callbacks. A request read whole gathers the lines and body chunks with `list.append`
  (no Python code per callback) and finds its final head once the transfer has ended: the
  last head delivered (after 1xx heads, a proxy's CONNECT answer, followed redirects); field
  lines after its blank line are trailers. A streamed request follows the heads line by line:
  a header block ends the response head when its status is final: not 1xx, not a redirect
  libcurl is about to follow, and, for https:// URLs, not possibly a proxy's CONNECT answer
  (libcurl hands those to HEADERFUNCTION too); in the last case the head is known at the
  first body byte. The transfer's end also ends the head. Fields are parsed when first read.
* The body goes into a queue of chunks. Without `stream=True` the request returns once the
  transfer has ended and the whole body is queued. With `stream=True` it returns at the end of
  the head, and the queue is bounded: when `stream_buffer` bytes wait unread, WRITEFUNCTION
  answers WRITEFUNC_PAUSE (libcurl keeps that piece and stops reading the socket); once the
  reader has taken the queue down to half, `Curl.pause(PAUSE_CONT)` resumes the transfer.
* A failed transfer's CURLcode becomes an exception of the `Error` hierarchy (`error_for`),
  with the `pycurl.error` as `__cause__`; before the head it is raised by the request, after it
  by `read()` / `stream()`, once the chunks that did arrive have been read.
* Cancelling a task waiting in `request()`, `read()` or `stream()` removes the transfer from the
  multi before the cancellation propagates: no callback of that transfer runs afterwards and its
  connection is closed. `Session.aclose()` does the same for every transfer still running and
  closes the pool.

The session uses only the pycurl API: `Session(curl_module=pycurl)` runs it on the real pycurl.
"""

from __future__ import annotations

import asyncio
import builtins
import enum
import json as _json
import os
import warnings
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Literal, overload
from urllib.parse import urlencode, urljoin

from purecurl.async_multi import AsyncClosing, AsyncCurlMulti

__all__ = [
    "ConnectError",
    "Error",
    "HTTPStatusError",
    "Headers",
    "InvalidURL",
    "NetworkError",
    "ProtocolError",
    "Request",
    "Response",
    "Session",
    "TLSError",
    "TimeoutError",
    "TooManyRedirects",
    "error_for",
]

# ---------------------------------------------------------------------------------------------
# Errors


class Error(Exception):
    """A request failed. `code` is libcurl's CURLcode (22 for `HTTPStatusError`), `message`
    libcurl's error text, `url` the request's URL. The `pycurl.error` is the `__cause__`."""

    def __init__(self, code: int, message: str, url: str = "") -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.url = url

    def __str__(self) -> str:
        where = f" ({self.url})" if self.url else ""
        return f"[{self.code}] {self.message}{where}"


class ConnectError(Error):
    """No connection: the name did not resolve (6, proxy: 5) or the connect failed (7, 97)."""


class TimeoutError(Error, builtins.TimeoutError):
    """A timeout ran out (28): `timeout`, `connect_timeout`, or a low-speed limit.

    Also a builtin `TimeoutError`, so `except TimeoutError` catches it either way."""


class TLSError(Error):
    """The TLS handshake or certificate check failed (35, 53, 54, 58, 59, 60, 64, 66, 77, 80,
    82, 83, 90, 91, 98)."""


class TooManyRedirects(Error):
    """More redirects than `max_redirects` (47)."""


class InvalidURL(Error):
    """The URL is malformed (3) or its scheme is not supported (1)."""


class ProtocolError(Error):
    """The server's answer broke HTTP (8, 16, 61, 92, 100...)."""


class NetworkError(Error):
    """The connection broke during the transfer: nothing received (52), send (55) or receive
    (56) failed, or the body ended early (18)."""


class HTTPStatusError(Error):
    """The response has a 4xx or 5xx status (raised only by `raise_for_status`); code 22."""

    def __init__(self, response: Response) -> None:
        super().__init__(22, f"The requested URL returned error: {response.status}", response.url)
        self.response = response


_ERRORS_BY_CODE: dict[int, type[Error]] = {
    1: InvalidURL,
    3: InvalidURL,
    5: ConnectError,
    6: ConnectError,
    7: ConnectError,
    97: ConnectError,
    28: TimeoutError,
    47: TooManyRedirects,
    8: ProtocolError,
    16: ProtocolError,
    61: ProtocolError,
    92: ProtocolError,
    100: ProtocolError,
    18: NetworkError,
    52: NetworkError,
    55: NetworkError,
    56: NetworkError,
    **dict.fromkeys((35, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91, 98), TLSError),
}


def error_for(code: int, message: str, url: str = "") -> Error:
    """The `Error` (subclass) instance for CURLcode `code`; plain `Error` for unmapped codes."""
    return _ERRORS_BY_CODE.get(code, Error)(code, message, url)


# ---------------------------------------------------------------------------------------------
# Headers


class Headers(Mapping[str, str]):
    """The fields of a response head, in order, with case-insensitive lookup.

    A multi-dict: `h["Set-Cookie"]` is the FIRST value (KeyError when absent), `h.getall(name)`
    every value, `h.get(name, default)` the first or `default`. Iteration, `keys()` and `items()`
    give every field in received order with the server's spelling (a repeated name comes more
    than once); `len()` counts fields; `name in h` ignores case.
    """

    __slots__ = ("_fields", "_index")

    def __init__(self, fields: Iterable[tuple[str, str]] = ()) -> None:
        self._fields: list[tuple[str, str]] = list(fields)
        self._index: dict[str, list[str]] = {}
        for name, value in self._fields:
            self._index.setdefault(name.lower(), []).append(value)

    def __getitem__(self, name: str) -> str:
        values = self._index.get(name.lower())
        if not values:
            raise KeyError(name)
        return values[0]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def getall(self, name: str) -> list[str]:
        """Every value of field `name` in received order ([] when absent)."""
        return list(self._index.get(name.lower(), ()))

    def raw_items(self) -> list[tuple[str, str]]:
        """Every (name, value) pair in received order."""
        return list(self._fields)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._fields == other._fields
        return NotImplemented

    def __repr__(self) -> str:
        return f"Headers({self._fields!r})"


def _parse_fields(lines: Iterable[bytes]) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    for raw in lines:
        line = raw.decode("latin-1").rstrip("\r\n")
        if line[:1] in (" ", "\t") and fields:  # obs-fold (RFC 9112 section 5.2)
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if colon:
            fields.append((name.strip(), value.strip(" \t")))
    return fields


# ---------------------------------------------------------------------------------------------
# Requests

HeaderInput = Mapping[str, str] | Sequence[tuple[str, str]]
ParamInput = Mapping[str, Any] | Sequence[tuple[str, Any]]
DataInput = bytes | bytearray | memoryview | str | Mapping[str, Any] | Sequence[tuple[str, Any]]


class _Default(enum.Enum):
    TOKEN = 0


_DEFAULT = _Default.TOKEN
_REDIRECTS = frozenset((301, 302, 303, 307, 308))
# Where the header callback is: inside a head, between heads (none yet, or an interim or
# redirect head ended), or past the final head (only trailer fields can come).
_IN_HEAD, _BETWEEN, _FINAL = range(3)


@dataclass(frozen=True)
class Request:
    """One request for `Session.gather`; the fields are `Session.request`'s arguments."""

    method: str
    url: str
    params: ParamInput | None = None
    headers: HeaderInput | None = None
    data: DataInput | None = None
    json: Any = None
    timeout: float | _Default | None = field(default=_DEFAULT)


def _header_items(headers: HeaderInput | None) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if isinstance(headers, Mapping):
        return [(str(k), str(v)) for k, v in headers.items()]
    return [(str(k), str(v)) for k, v in headers]


def _with_params(url: str, params: ParamInput | None) -> str:
    if not params:
        return url
    query = urlencode(list(params.items()) if isinstance(params, Mapping) else params, doseq=True)
    base, hash_, fragment = url.partition("#")
    sep = "&" if "?" in base else "?"
    if base.endswith(("?", "&")):
        sep = ""
    return f"{base}{sep}{query}{hash_}{fragment}"


def _body(data: DataInput | None, json: Any, headers: list[tuple[str, str]]) -> bytes | None:
    """The request body, adding a Content-Type to `headers` where one is implied."""
    if data is not None and json is not None:
        raise ValueError("give data= or json=, not both")
    if json is not None:
        headers.append(("Content-Type", "application/json"))
        return _json.dumps(json, separators=(",", ":")).encode()
    if data is None:
        return None
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, str):
        return data.encode()
    pairs = list(data.items()) if isinstance(data, Mapping) else list(data)
    headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    return urlencode(pairs, doseq=True).encode()


def _form(mod: ModuleType, data: DataInput | None, files: Mapping[str, Any]) -> list[Any]:
    """An HTTPPOST list for a multipart/form-data body: `data`'s fields, then `files`.

    A file value is a path (str or os.PathLike: streamed from disk), bytes (sent with the
    field name as the file name), or a tuple (filename, bytes or path[, content type]).
    """
    pairs: list[Any] = []
    if isinstance(data, (bytes, bytearray, memoryview, str)):
        raise ValueError("with files=, data= must be form fields (a mapping or pairs)")
    if data is not None:
        for name, value in data.items() if isinstance(data, Mapping) else data:
            pairs.append((str(name), str(value)))
    for name, value in files.items():
        ctype = None
        if isinstance(value, tuple):
            filename, content, *rest = value
            ctype = rest[0] if rest else None
        else:
            filename, content = None, value
        if isinstance(content, (bytes, bytearray, memoryview)):
            spec: tuple[Any, ...] = (
                mod.FORM_BUFFER,
                str(filename or name),
                mod.FORM_BUFFERPTR,
                bytes(content),
            )
        else:
            spec = (mod.FORM_FILE, os.fspath(content))
            if filename is not None:
                spec += (mod.FORM_FILENAME, str(filename))
        if ctype is not None:
            spec += (mod.FORM_CONTENTTYPE, str(ctype))
        pairs.append((str(name), spec))
    return pairs


def _merge_headers(
    base: list[tuple[str, str]], override: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    """`base` without the names `override` sets, then `override` (case-insensitive names)."""
    names = {name.lower() for name, _ in override}
    return [item for item in base if item[0].lower() not in names] + override


def _header_lines(items: list[tuple[str, str]]) -> list[str]:
    # libcurl: "Name:" removes a header it would send, "Name;" sends one with an empty value.
    return [f"{name}: {value}" if value else f"{name};" for name, value in items]


# ---------------------------------------------------------------------------------------------
# Responses


class _Handle:
    """A `Curl` handle the session reuses, with the options it holds now.

    A request that reads its body whole (no `stream=True`) gathers its header lines and body
    chunks with the `append` of two lists (no Python code runs per callback) and has them
    parsed once, when its transfer ends. A streamed request's callbacks go to its `Response`,
    which follows the heads line by line. Either way the callbacks belong to the handle, not
    to one response, so a handle given the same options again is not set up again: the
    library reuses the settings it derived from them (purecurl: the transfer's `Config`).
    """

    __slots__ = ("chunks", "curl", "lines", "opts", "response")

    def __init__(self, curl: Any) -> None:
        self.curl = curl
        self.opts: dict[int, Any] = {}
        self.lines: list[bytes] = []
        self.chunks: list[bytes] = []
        self.response: Response | None = None

    def on_line(self, line: bytes) -> None:
        response = self.response
        if response is not None:
            response._on_header(line)

    def on_body(self, data: bytes) -> int | None:
        response = self.response
        return None if response is None else response._on_body(data)

    def configure(self, want: dict[int, Any]) -> None:
        """Give the handle the options `want`, set in its order: only those whose value
        changed, or all of them after `reset()` when one it holds is not wanted any more (the
        pycurl API cannot unset every option). A form (HTTPPOST) is always set anew: its
        files are read when the transfer runs."""
        have = self.opts
        form = _HTTPPOST in want
        if want == have and not form:
            return
        curl = self.curl
        self.opts = {}  # until every option is set: a failed setopt leaves a handle to drop
        if form or not have.keys() <= want.keys():
            curl.reset()
            have = {}
        if form:
            with warnings.catch_warnings():
                # pycurl calls HTTPPOST deprecated; it is the form API both modules share
                warnings.simplefilter("ignore", DeprecationWarning)
                for option, value in want.items():
                    curl.setopt(option, value)
        else:
            for option, value in want.items():
                if option not in have or have[option] != value:
                    curl.setopt(option, value)
        self.opts = want

    def take(self) -> tuple[list[bytes], list[bytes]]:
        """The header lines and body chunks gathered since the last call, and empty lists."""
        lines = self.lines[:]
        chunks = self.chunks[:]
        self.lines.clear()
        self.chunks.clear()
        return lines, chunks


# libcurl's number of CURLOPT_HTTPPOST (the same in every pycurl-compatible module)
_HTTPPOST = 10024
_BLANK_LINES = (b"\r\n", b"\n")


def _blank_after(lines: list[bytes], start: int) -> int:
    """The index of the first blank line (a head's end) at or after `start`; len() if none."""
    end = len(lines)
    for blank in _BLANK_LINES:
        try:
            end = lines.index(blank, start, end)
        except ValueError:
            pass
    return end


class Response(AsyncClosing):
    """A response. `status`, `reason`, `http_version` and `headers` are set when the request
    returns; the body is read with `await read()` (all of it) or `async for chunk in stream()`.

    Without `stream=True` the body has arrived already and `read()` returns it at once. With
    it, the transfer goes on behind the response, paused while `stream_buffer` bytes wait
    unread; close the response (`async with`, `aclose()`, or reading it to the end) to free the
    connection. `url` is the effective URL (after redirects), `elapsed` the transfer's total
    time in seconds once it has ended (else None). `trailers` holds a chunked body's trailer
    fields once it has been read.
    """

    def __init__(
        self,
        session: Session,
        handle: _Handle,
        method: str,
        url: str,
        follow: bool,
        limit: int | None,
    ) -> None:
        self.method = method
        self.url = url
        self.status = 0
        self.reason = ""
        self.http_version = ""
        self.elapsed: float | None = None
        self._session = session
        self._handle: _Handle | None = handle
        self._follow = follow
        self._limit = limit
        # the final head's field lines and trailer lines, parsed when first asked for
        self._field_lines: list[bytes] = []
        self._trailer_lines: list[bytes] = []
        self._headers: Headers | None = None
        self._trailers: Headers | None = None
        self._head_state = _BETWEEN
        self._head_waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._chunks: deque[bytes] = deque()
        self._queued = 0
        self._paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._transfer: asyncio.Future[Any] | None = None
        self._finished = False  # the transfer ended (well or not) or was aborted
        self._error: BaseException | None = None
        self._content: bytes | None = None
        self._consuming = False

    def __repr__(self) -> str:
        return f"<Response [{self.status} {self.reason}] {self.method} {self.url}>"

    @property
    def headers(self) -> Headers:
        """The final head's fields."""
        headers = self._headers
        if headers is None:
            headers = self._headers = Headers(_parse_fields(self._field_lines))
        return headers

    @property
    def trailers(self) -> Headers:
        """A chunked body's trailer fields (empty until the body has been read)."""
        trailers = self._trailers
        if trailers is None:
            trailers = Headers(_parse_fields(self._trailer_lines))
            if self._finished:
                self._trailers = trailers
        return trailers

    @property
    def ok(self) -> bool:
        """True for a status below 400."""
        return 0 < self.status < 400

    @property
    def is_closed(self) -> bool:
        """True once the transfer has ended or was aborted (the connection is free)."""
        return self._finished

    def raise_for_status(self) -> Response:
        """Raise `HTTPStatusError` for a 4xx/5xx status; return self otherwise."""
        if self.status >= 400:
            raise HTTPStatusError(self)
        return self

    # -- reading --------------------------------------------------------------------------------

    async def read(self) -> bytes:
        """The whole body (waiting for the rest of it). Raises the transfer's `Error` if it
        failed; RuntimeError if `stream()` has taken part of the body already."""
        if self._content is not None:
            return self._content
        if self._consuming:
            raise RuntimeError("the body is being read by stream(); read() cannot have it")
        self._consuming = True
        chunks = [chunk async for chunk in _Chunks(self)]
        self._content = b"".join(chunks)
        return self._content

    async def text(self, encoding: str | None = None, errors: str = "strict") -> str:
        """The body decoded with `encoding`, else the Content-Type's charset, else UTF-8."""
        body = await self.read()
        if encoding is None:
            encoding = self._charset() or "utf-8"
        return body.decode(encoding, errors)

    async def json(self) -> Any:
        """The body parsed as JSON."""
        return _json.loads(await self.read())

    def stream(self) -> AsyncIterator[bytes]:
        """The body as it arrives: `async for chunk in r.stream()`. Each chunk is taken once;
        after the last one the transfer's `Error`, if any, is raised. Read whole already, the
        body is yielded as one chunk."""
        if self._content is not None:
            return _Replay(self._content)
        if self._consuming:
            raise RuntimeError("the body is being read already")
        self._consuming = True
        return _Chunks(self)

    async def aclose(self) -> None:
        """Abort the transfer if it is still running; the unread body is dropped."""
        self._abort()

    def _charset(self) -> str | None:
        content_type = self.headers.get("content-type", "")
        for param in content_type.split(";")[1:]:
            key, _, value = param.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip('"')
        return None

    async def _next_chunk(self) -> bytes | None:
        """The next body chunk; None at the end; raises the transfer's error after the last."""
        while True:
            if self._chunks:
                chunk = self._chunks.popleft()
                self._queued -= len(chunk)
                self._maybe_resume()
                return chunk
            if self._finished:
                if self._error is not None:
                    raise self._error
                return None
            waiter = asyncio.get_running_loop().create_future()
            self._waiter = waiter
            try:
                await waiter
            except BaseException:
                self._abort()
                raise
            finally:
                self._waiter = None

    # -- a whole body's head: parsed once, at the transfer's end -------------------------------

    def _take_heads(self, lines: list[bytes]) -> None:
        """Find the final head in every header line the transfer delivered: each head starts
        with a status line and ends with a blank line, and the last head is the final one
        (interim 1xx heads, proxy CONNECT answers and followed redirects come before it);
        field lines after its end are a chunked body's trailers."""
        start = end = -1
        i = 0
        n = len(lines)
        while i < n and lines[i].startswith(b"HTTP/"):
            start = i
            end = _blank_after(lines, i)
            i = end + 1
        if start < 0:
            return  # no head at all (HTTP/0.9): status 0, no fields
        self._status_line(lines[start])
        self._field_lines = lines[start + 1 : end]
        self._trailer_lines = [line for line in lines[end + 1 :] if line.strip()]

    def _status_line(self, line: bytes) -> None:
        parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        self.http_version = parts[0]
        try:
            self.status = int(parts[1]) if len(parts) > 1 else 0
        except ValueError:
            self.status = 0
        self.reason = parts[2] if len(parts) > 2 else ""

    # -- a streamed body's callbacks (run inside socket_action: bookkeeping only) -------------

    def _on_header(self, line: bytes) -> None:
        if line.startswith(b"HTTP/"):
            # A status line starts a head, even after one taken as final: that one was a
            # proxy's CONNECT answer (a field name cannot contain "/", so no trailer matches).
            self._start_head(line)
        elif self._head_state == _IN_HEAD:
            if line in _BLANK_LINES:
                self._end_head()
            else:
                self._field_lines.append(line)
        elif line.strip():
            # After the head: a chunked body's trailer fields.
            self._trailer_lines.append(line)
            self._head_ready()

    def _start_head(self, status_line: bytes) -> None:
        self._status_line(status_line)
        self._field_lines = []
        self._headers = None
        self._head_state = _IN_HEAD

    def _end_head(self) -> None:
        status = self.status
        self._head_state = _BETWEEN
        if status < 200:
            return  # 1xx: an interim response, the real one follows
        if self._follow and status in _REDIRECTS:
            location = self.headers.get("location")
            if location:
                self.url = urljoin(self.url, location)
                return  # libcurl follows it: another head comes
        if 200 <= status < 300 and self.url[:6].lower() == "https:":
            # Maybe a proxy's CONNECT answer: the head is known at the first body byte (or
            # at the end of the transfer, or when the next status line comes).
            return
        self._head_ready()

    def _head_ready(self) -> None:
        self._head_state = _FINAL
        if not self._head_waiter.done():
            self._head_waiter.set_result(None)

    def _on_body(self, data: bytes) -> int | None:
        if self._finished:
            return None  # aborted; the transfer is being removed
        if not self._head_waiter.done():
            self._head_ready()
        limit = self._limit
        if limit is not None and self._queued >= limit:
            # libcurl keeps this piece and hands it over again after PAUSE_CONT.
            self._paused = True
            return int(self._session._mod.WRITEFUNC_PAUSE)
        self._chunks.append(data)
        self._queued += len(data)
        self._wake()
        return None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _maybe_resume(self) -> None:
        limit = self._limit
        handle = self._handle
        if not self._paused or self._finished or limit is None or self._queued > limit // 2:
            return
        self._paused = False
        # May hand the held piece to _on_body before it returns (and pause again).
        assert handle is not None
        handle.curl.pause(self._session._mod.PAUSE_CONT)
        self._session._transfer_may_have_ended()

    # -- the end -------------------------------------------------------------------------------

    def _attach(self, transfer: asyncio.Future[Any]) -> None:
        self._transfer = transfer
        transfer.add_done_callback(self._on_transfer_done)

    def _on_transfer_done(self, transfer: asyncio.Future[Any]) -> None:
        if self._finished:
            return
        self._finished = True
        handle = self._handle
        assert handle is not None
        if self._limit is None:
            lines, chunks = handle.take()
            self._take_heads(lines)
            if chunks:
                self._chunks.append(b"".join(chunks))
        mod = self._session._mod
        reusable = False
        if transfer.cancelled():
            self._error = Error(42, "the transfer was cancelled", self.url)
        else:
            exc = transfer.exception()
            if exc is not None:
                args = exc.args  # pycurl.error(code, message)
                code = args[0] if args and isinstance(args[0], int) else 0
                message = str(args[1]) if len(args) > 1 else str(exc)
                err = error_for(code, message, self.url)
                err.__cause__ = exc
                self._error = err
            else:
                curl = handle.curl
                self.url = curl.getinfo(mod.EFFECTIVE_URL) or self.url
                self.elapsed = float(curl.getinfo(mod.TOTAL_TIME))
                reusable = not self._paused
        self._release(reusable)
        if not self._head_waiter.done():
            if self._error is not None:
                self._head_waiter.set_exception(self._error)
                # Marked retrieved: a cancelled request() nobody awaits must not log it.
                self._head_waiter.exception()
            else:
                self._head_waiter.set_result(None)
        self._wake()

    def _abort(self) -> None:
        """Stop the transfer now (removing it from the multi) and free the handle."""
        if self._finished:
            return
        self._finished = True
        if self._error is None:
            self._error = Error(42, "the response was closed before its end", self.url)
        transfer = self._transfer
        if transfer is not None and not transfer.done():
            transfer.cancel()  # removes the handle from the multi before returning
        self._chunks.clear()
        self._queued = 0
        self._release(False)
        if not self._head_waiter.done():
            self._head_waiter.cancel()
        self._wake()

    def _release(self, reusable: bool) -> None:
        handle, self._handle = self._handle, None
        self._session._live.discard(self)
        if handle is not None:
            self._session._put_handle(handle, reusable)


class _Chunks:
    """`Response.stream()`'s iterator (a class, not a generator: nothing to finalize)."""

    def __init__(self, response: Response) -> None:
        self._response = response

    def __aiter__(self) -> _Chunks:
        return self

    async def __anext__(self) -> bytes:
        chunk = await self._response._next_chunk()
        if chunk is None:
            raise StopAsyncIteration
        return chunk


class _Replay:
    def __init__(self, content: bytes) -> None:
        self._content: bytes | None = content or None

    def __aiter__(self) -> _Replay:
        return self

    async def __anext__(self) -> bytes:
        content, self._content = self._content, None
        if content is None:
            raise StopAsyncIteration
        return content


# ---------------------------------------------------------------------------------------------
# Session


# Session(http_version=...) -> the HTTP_VERSION constant's name
# idle handles a session keeps for its next requests (more are closed)
_MAX_IDLE_HANDLES = 256
_HTTP_VERSIONS = {
    "1.1": "CURL_HTTP_VERSION_1_1",
    "2": "CURL_HTTP_VERSION_2_0",
    "2-prior-knowledge": "CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE",
}


class Session(AsyncClosing):
    """A pool of connections and the defaults for the requests made through it.

    `max_host_connections` / `max_connections`: connection limits (0 = none; requests over a
    limit wait in libcurl's queue, and `timeout` counts that wait). `timeout` (seconds, whole
    transfer) and `connect_timeout` map to TIMEOUT_MS / CONNECTTIMEOUT_MS; None = no limit.
    `headers` are sent with every request (a request's own headers replace same-named ones).
    `follow_redirects` / `max_redirects` map to FOLLOWLOCATION / MAXREDIRS (None: libcurl's
    default). `raise_for_status` makes every request raise `HTTPStatusError` on 4xx/5xx.
    `verify=False` skips TLS certificate checks; a str is a CA bundle path (CAINFO).
    `decompress` asks for and decodes compressed bodies (ACCEPT_ENCODING ""). `stream_buffer`
    is how many unread bytes a `stream=True` response holds before its transfer pauses.
    `http_version`: None leaves libcurl's choice (HTTP/1.1 for http://, HTTP/2 offered by ALPN
    for https://); "1.1" asks for HTTP/1.1 only; "2" for HTTP/2 (ALPN for https://, an
    `Upgrade: h2c` for http://); "2-prior-knowledge" speaks HTTP/2 to http:// servers at once
    (h2c). With "2" and "2-prior-knowledge", requests made together wait for the first
    connection to the host and share it as streams (PIPEWAIT) instead of opening one each.
    `curl_module` is the pycurl-compatible module to use (default purecurl; the real `pycurl`
    works too).

    Use `async with`, or `await aclose()`: it aborts what still runs and closes the pool.
    """

    def __init__(
        self,
        *,
        max_host_connections: int = 0,
        max_connections: int = 0,
        timeout: float | None = None,
        connect_timeout: float | None = None,
        headers: HeaderInput | None = None,
        follow_redirects: bool = True,
        max_redirects: int | None = None,
        raise_for_status: bool = False,
        verify: bool | str = True,
        decompress: bool = True,
        user_agent: str | None = None,
        stream_buffer: int = 1 << 20,
        http_version: Literal["1.1", "2", "2-prior-knowledge"] | None = None,
        curl_module: ModuleType | None = None,
    ) -> None:
        if stream_buffer < 1:
            raise ValueError("stream_buffer must be at least 1")
        if http_version is not None and http_version not in _HTTP_VERSIONS:
            raise ValueError(
                f"http_version must be one of None, {', '.join(map(repr, _HTTP_VERSIONS))}"
            )
        if curl_module is None:
            import purecurl as curl_module
        mod: Any = curl_module
        self._mod = mod
        self._http_version = (
            None if http_version is None else getattr(mod, _HTTP_VERSIONS[http_version])
        )
        multi = mod.CurlMulti()
        if max_host_connections:
            multi.setopt(mod.M_MAX_HOST_CONNECTIONS, max_host_connections)
        if max_connections:
            multi.setopt(mod.M_MAX_TOTAL_CONNECTIONS, max_connections)
        self._multi = AsyncCurlMulti(multi=multi)
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.headers = _header_items(headers)
        self.follow_redirects = follow_redirects
        self.max_redirects = max_redirects
        self.raise_for_status = raise_for_status
        self.verify = verify
        self.decompress = decompress
        self.user_agent = user_agent
        self.stream_buffer = stream_buffer
        self._live: set[Response] = set()
        self._idle: list[_Handle] = []  # handles whose transfer ended, for the next requests
        self._closed = False

    def __repr__(self) -> str:
        if self._closed:
            return "<Session closed>"
        return f"<Session live={len(self._live)} idle={len(self._idle)}>"

    @property
    def closed(self) -> bool:
        return self._closed

    async def aclose(self) -> None:
        """Abort every running transfer and close the connection pool. Idempotent."""
        if self._closed:
            return
        self._closed = True
        for response in list(self._live):
            response._abort()
        idle, self._idle = self._idle, []
        for handle in idle:
            handle.curl.close()
        await self._multi.aclose()

    # -- requests ------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: ParamInput | None = None,
        headers: HeaderInput | None = None,
        data: DataInput | None = None,
        json: Any = None,
        files: Any = None,
        timeout: float | _Default | None = _DEFAULT,
        follow_redirects: bool | None = None,
        raise_for_status: bool | None = None,
        stream: bool = False,
    ) -> Response:
        """Send a request; return its `Response`.

        Without `stream`, returns once the whole body has arrived; with it, once the response
        head has (read the body with `read()`/`stream()`, or close the response). `data`: bytes,
        str (UTF-8) or form fields (a mapping or pairs, sent urlencoded); `json`: an object
        sent as JSON. `timeout` overrides the session's (None: no limit).

        Raises an `Error` subclass when the transfer fails (before the head; after it, `read()`
        and `stream()` raise), `HTTPStatusError` with `raise_for_status`, ValueError for
        `data` and `json` together (or `files` with `json` or a raw `data`), RuntimeError on a
        closed session. `files`: a mapping of field name to a path, bytes, or
        (filename, bytes or path[, content type]), sent as multipart/form-data with `data`'s
        fields. Cancelling the caller removes the transfer.
        """
        if self._closed:
            raise RuntimeError("the session is closed")
        method = method.upper()
        mod = self._mod
        full_url = _with_params(url, params)
        extra: list[tuple[str, str]] = []
        form: list[Any] | None = None
        if files is not None:
            if json is not None:
                raise ValueError("give files= or json=, not both")
            form = _form(mod, data, files)
            body = None
        else:
            body = _body(data, json, extra)
        items = _merge_headers(self.headers, _merge_headers(extra, _header_items(headers)))
        lines = _header_lines(items)
        has_body = body is not None or form is not None
        if has_body and not any(name.lower() == "expect" for name, _ in items):
            # libcurl sends "Expect: 100-continue" for bodies over 1 MiB and waits for the
            # answer; the body is in memory, so send it straight away.
            lines.append("Expect:")  # "Name:" with no value: libcurl leaves the header out
        follow = self.follow_redirects if follow_redirects is None else follow_redirects
        limit = self.stream_buffer if stream else None

        handle = self._get_handle()
        try:
            response = Response(self, handle, method, full_url, follow, limit)
            handle.response = response
            handle.configure(
                self._options(handle, stream, method, full_url, lines, body, timeout, follow, form)
            )
        except BaseException:
            self._put_handle(handle, False)
            raise
        self._live.add(response)
        try:
            response._attach(self._multi.add_handle(handle.curl))
            await response._head_waiter
            if not stream:
                await response.read()
        except BaseException:
            response._abort()
            raise
        check = self.raise_for_status if raise_for_status is None else raise_for_status
        if check and response.status >= 400:
            response._abort()
            raise HTTPStatusError(response)
        return response

    def _get_handle(self) -> _Handle:
        idle = self._idle
        if idle:
            return idle.pop()
        return _Handle(self._mod.Curl())

    def _put_handle(self, handle: _Handle, reusable: bool) -> None:
        """Keep a handle whose transfer ended normally for the next request; close others."""
        handle.response = None
        if reusable and not self._closed and len(self._idle) < _MAX_IDLE_HANDLES:
            self._idle.append(handle)
        else:
            handle.curl.close()

    def _options(
        self,
        handle: _Handle,
        stream: bool,
        method: str,
        url: str,
        header_lines: list[str],
        body: bytes | None,
        timeout: float | _Default | None,
        follow: bool,
        form: list[Any] | None = None,
    ) -> dict[int, Any]:
        """The options of one request, in the order they are set."""
        mod = self._mod
        opts: dict[int, Any] = {mod.URL: url, mod.NOSIGNAL: 1}
        if stream:
            opts[mod.HEADERFUNCTION] = handle.on_line
            opts[mod.WRITEFUNCTION] = handle.on_body
        else:
            opts[mod.HEADERFUNCTION] = handle.lines.append
            opts[mod.WRITEFUNCTION] = handle.chunks.append
        if header_lines:
            opts[mod.HTTPHEADER] = header_lines
        if method == "HEAD":
            opts[mod.NOBODY] = 1
        elif form is not None:
            opts[mod.HTTPPOST] = form
            if method != "POST":
                opts[mod.CUSTOMREQUEST] = method
        elif body is not None:
            opts[mod.POSTFIELDSIZE] = len(body)
            opts[mod.POSTFIELDS] = body
            if method != "POST":
                opts[mod.CUSTOMREQUEST] = method
        elif method != "GET":
            opts[mod.CUSTOMREQUEST] = method
        seconds = self.timeout if isinstance(timeout, _Default) else timeout
        if seconds is not None:
            opts[mod.TIMEOUT_MS] = max(1, round(seconds * 1000))
        if self.connect_timeout is not None:
            opts[mod.CONNECTTIMEOUT_MS] = max(1, round(self.connect_timeout * 1000))
        if follow:
            opts[mod.FOLLOWLOCATION] = 1
            if self.max_redirects is not None:
                opts[mod.MAXREDIRS] = self.max_redirects
        if self.decompress:
            opts[mod.ACCEPT_ENCODING] = ""
        if self.user_agent is not None:
            opts[mod.USERAGENT] = self.user_agent
        if self.verify is False:
            opts[mod.SSL_VERIFYPEER] = 0
            opts[mod.SSL_VERIFYHOST] = 0
        elif isinstance(self.verify, str):
            opts[mod.CAINFO] = self.verify
        if self._http_version is not None:
            opts[mod.HTTP_VERSION] = self._http_version
            if self._http_version != mod.CURL_HTTP_VERSION_1_1:
                opts[mod.PIPEWAIT] = 1
        return opts

    def _transfer_may_have_ended(self) -> None:
        # A resumed transfer can end inside Curl.pause(); have the driver look for its message.
        driver = self._multi.driver
        if driver is not None:
            driver.collect_soon()

    async def get(self, url: str, **kwargs: Any) -> Response:
        """`request("GET", url, ...)`."""
        return await self.request("GET", url, **kwargs)

    async def head(self, url: str, **kwargs: Any) -> Response:
        """`request("HEAD", url, ...)`."""
        return await self.request("HEAD", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> Response:
        """`request("POST", url, ...)`."""
        return await self.request("POST", url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> Response:
        """`request("PUT", url, ...)`."""
        return await self.request("PUT", url, **kwargs)

    async def patch(self, url: str, **kwargs: Any) -> Response:
        """`request("PATCH", url, ...)`."""
        return await self.request("PATCH", url, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> Response:
        """`request("DELETE", url, ...)`."""
        return await self.request("DELETE", url, **kwargs)

    async def options(self, url: str, **kwargs: Any) -> Response:
        """`request("OPTIONS", url, ...)`."""
        return await self.request("OPTIONS", url, **kwargs)

    # -- many at once --------------------------------------------------------------------------

    @overload
    async def gather(
        self,
        requests: Iterable[str | Request],
        *,
        limit: int = ...,
        return_exceptions: Literal[False] = ...,
    ) -> list[Response]: ...

    @overload
    async def gather(
        self,
        requests: Iterable[str | Request],
        *,
        limit: int = ...,
        return_exceptions: Literal[True],
    ) -> list[Response | Error]: ...

    async def gather(
        self,
        requests: Iterable[str | Request],
        *,
        limit: int = 10,
        return_exceptions: bool = False,
    ) -> list[Response] | list[Response | Error]:
        """Run many requests, at most `limit` at a time; return their responses in order.

        An item is a URL (GET) or a `Request`. Each response is read whole. With
        `return_exceptions`, a failed request's `Error` takes its place in the list; without,
        the first failure cancels the others (their transfers are removed) and is raised.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        items = [Request("GET", item) if isinstance(item, str) else item for item in requests]
        results: list[Response | Error | None] = [None] * len(items)
        jobs = iter(enumerate(items))

        async def worker() -> None:
            for index, item in jobs:
                try:
                    results[index] = await self.request(
                        item.method,
                        item.url,
                        params=item.params,
                        headers=item.headers,
                        data=item.data,
                        json=item.json,
                        timeout=item.timeout,
                    )
                except Error as exc:
                    if not return_exceptions:
                        raise
                    results[index] = exc

        workers = [asyncio.ensure_future(worker()) for _ in range(min(limit, len(items)))]
        try:
            await asyncio.gather(*workers)
        except BaseException:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            raise
        if return_exceptions:
            return [r for r in results if r is not None]
        return [r for r in results if isinstance(r, Response)]
