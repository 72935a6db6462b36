"""Sans-IO HTTP/1.x response parser (RFC 9112) with libcurl 8.x's tolerances and error codes.

Theory of operation
-------------------
`ResponseParser.feed(data)` takes the bytes of one recv and returns the events they complete:
`Head` (one per response head, 1xx heads included), `Body` (a slice of the received bytes) and
`End` (the response is complete; trailers and whether the connection can be reused).
`feed_eof()` tells the parser the peer closed. The parser never touches a socket or a clock.

States: HEAD -> one of LENGTH / CHUNK_SIZE / CLOSE (or straight to DONE) -> DONE. Chunked
bodies cycle CHUNK_SIZE -> (CHUNK_EXT) -> CHUNK_DATA -> CHUNK_CRLF -> CHUNK_SIZE until the
last chunk, then TRAILER -> DONE. After DONE, bytes are kept in `leftover` unparsed.

Speed: the common keep-alive response arrives whole in one recv. Its head is found with two
C-level `find`s, checked for anything unusual (NUL, stray CR, folding, size limits) with a few
more C-level scans, split once with `splitlines(keepends=True)` and parsed one `partition` per
header. Anything unusual goes to a slower line-by-line path that reproduces libcurl's order of
checks and messages. A head that arrives in pieces is accumulated in a bytearray and searched
incrementally (`_scan`), and the size limits are checked on the new bytes only, so a hostile
300 KiB head fed one byte at a time costs linear time. Body bytes are never copied when a
whole recv is body (the `bytes` object is handed through), and sliced once otherwise.

libcurl facts this follows (lib/http.c, lib/http_chunks.c, lib/sendf.c of curl 8.x; the
behaviours were measured against curl 8.21 by other projects and agree with the source):
- the first bytes must match "HTTP/" (case-insensitively, first 5 bytes), else the response is
  HTTP/0.9: refused with CURLE_UNSUPPORTED_PROTOCOL "Received HTTP/0.9 when not allowed", or,
  after a 1xx head or on a reused connection, CURLE_WEIRD_SERVER_REPLY "Invalid status line";
- "HTTP/1.0" / "HTTP/1.1", a blank, three digits (the rest of the line is the reason, even
  without a blank: "200OK"); anything else after "HTTP/1" is CURLE_UNSUPPORTED_PROTOCOL
  "Unsupported HTTP/1 subversion in response"; "HTTP/<not 1, 2, 3>" is "Unsupported HTTP
  version in response"; a status below 100 "Unsupported response code in HTTP response".
  "HTTP/2", "HTTP/3" and lower-case "http/" on an HTTP/1 connection read as 200, HTTP/1.0;
- header lines end in CRLF or a bare LF; a CR elsewhere is CURLE_WEIRD_SERVER_REPLY "Carriage
  return found in header", a NUL "NUL byte in header", no colon "Header without colon";
- obsolete line folding (RFC 9112 5.2) is unfolded as libcurl does before HEADERFUNCTION sees
  it: the previous line loses its line ending and trailing blanks, one space is added, the
  continuation loses its leading blanks and keeps its line ending. A continuation straight
  after the status line is "Header without colon";
- one line (after unfolding) of CURL_MAX_HTTP_HEADER (100 KiB) bytes or more is CURLE_TOO_LARGE;
  all heads of a response (1xx included) above 300 KiB are CURLE_RECV_ERROR
  "Too large response headers: N > 307200";
- Content-Length is a comma list of equal decimal numbers, else CURLE_WEIRD_SERVER_REPLY
  "Invalid Content-Length: value"; a value above 2^63-1 is ignored ("Overflow Content-Length")
  and the body is read until close;
- Transfer-Encoding: "chunked" must be last; "identity" is ignored; any other coding is
  CURLE_BAD_CONTENT_ENCODING "Unsolicited Transfer-Encoding (x) found" unless the transfer asked
  for transfer decoding (CURLOPT_TRANSFER_ENCODING); chunked wins over Content-Length
  (RFC 9112 6.3) and the connection is not reused afterwards;
- chunk sizes: at most 17 hex digits, extensions ignored up to the LF, CR* LF after the data;
  trailers are passed on with CRLF appended, as libcurl passes them to HEADERFUNCTION;
- EOF: nothing at all, or no complete non-1xx status line, is CURLE_GOT_NOTHING "Empty reply
  from server"; EOF among the headers ends the head there (the partial line is dropped); a short
  Content-Length body is CURLE_PARTIAL_FILE "end of response with N bytes missing" ("transfer
  closed with N bytes remaining to read" when the head itself was cut), an unfinished chunked
  body "transfer closed with outstanding read data remaining".
"""

from __future__ import annotations

from typing import TypeAlias

from .._codes import (
    E_BAD_CONTENT_ENCODING,
    E_GOT_NOTHING,
    E_PARTIAL_FILE,
    E_RECV_ERROR,
    E_TOO_LARGE,
    E_UNSUPPORTED_PROTOCOL,
    E_WEIRD_SERVER_REPLY,
)
from .._errors import CurlError

__all__ = ["Body", "End", "Event", "Head", "ResponseError", "ResponseParser"]

# libcurl: MAX_HTTP_RESP_HEADER_SIZE (lib/http.h) and CURL_MAX_HTTP_HEADER (curl.h).
MAX_HEADER_TOTAL = 300 * 1024
MAX_HEADER_LINE = 100 * 1024
# libcurl: DYN_H1_TRAILER (lib/dynbuf.h), one trailer line including the CRLF it appends.
MAX_TRAILER_LINE = 4096
_MAX_OFF_T = (1 << 63) - 1
_HEX = b"0123456789abcdefABCDEF"
_BLANKS = b" \t"
_TOO_LARGE_MSG = "A value or data field grew larger than allowed"
_MALFORMED_CHUNK = "Malformed encoding found in chunked-encoding"
# Transfer codings libcurl can decode when CURLOPT_TRANSFER_ENCODING is set (content_encoding.c).
_DECODABLE = frozenset((b"gzip", b"x-gzip", b"deflate", b"br", b"zstd"))

# Parser states.
_HEAD = 0
_LENGTH = 1
_CHUNK_SIZE = 2
_CHUNK_EXT = 3
_CHUNK_DATA = 4
_CHUNK_CRLF = 5
_TRAILER = 6
_CLOSE = 7
_DONE = 8


class Head:
    """One response head, 1xx heads included.

    `lines` are the lines exactly as libcurl hands them to HEADERFUNCTION (status line first,
    each with its line ending, folded lines unfolded, then the blank line); `size` is their
    total length (CURLINFO_HEADER_SIZE counts these). `headers` are (lower-cased name, value
    without surrounding blanks) in order, duplicates kept; `notable` are the indexes in
    `headers` of the ones named in NOTABLE (framing, and what the engine acts on), in order,
    so that the engine need not look at every header of every response.
    """

    __slots__ = (
        "chunked",
        "content_length",
        "headers",
        "keep_alive",
        "lines",
        "notable",
        "reason",
        "size",
        "status",
        "transfer_codings",
        "version",
    )

    def __init__(
        self,
        status: int,
        reason: bytes,
        version: int,
        headers: list[tuple[bytes, bytes]],
        lines: list[bytes],
        size: int,
        content_length: int | None,
        chunked: bool,
        keep_alive: bool,
        transfer_codings: tuple[bytes, ...] = (),
        notable: list[int] | None = None,
    ) -> None:
        self.status = status
        self.reason = reason
        self.version = version
        self.headers = headers
        self.lines = lines
        self.size = size
        self.content_length = content_length
        self.chunked = chunked
        self.keep_alive = keep_alive
        # Transfer codings other than chunked/identity, in order: the engine must decode them
        # (only possible when the parser was built with transfer_decoding=True).
        self.transfer_codings = transfer_codings
        if notable is None:
            notable = [i for i, (name, _) in enumerate(headers) if name in NOTABLE]
        self.notable = notable

    def __repr__(self) -> str:
        return (
            f"Head(status={self.status}, version={self.version}, headers={self.headers!r}, "
            f"content_length={self.content_length}, chunked={self.chunked}, "
            f"keep_alive={self.keep_alive})"
        )


class Body:
    """A piece of the response body, after chunked framing is removed."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"Body({self.data[:40]!r}{'...' if len(self.data) > 40 else ''})"


class End:
    """The response is complete. `trailers`: raw trailer lines, each ending in CRLF."""

    __slots__ = ("keep_alive", "trailers")

    def __init__(self, trailers: list[bytes], keep_alive: bool) -> None:
        self.trailers = trailers
        self.keep_alive = keep_alive

    def __repr__(self) -> str:
        return f"End(trailers={self.trailers!r}, keep_alive={self.keep_alive})"


Event: TypeAlias = Head | Body | End


class ResponseError(CurlError):
    """A protocol violation in a response.

    `events` are the events completed by the same `feed`/`feed_eof` call before the violation
    (deliver them, then fail the transfer, as libcurl writes what came before). `lines` are the
    lines of the failing head before the offending one, which libcurl had already passed to
    HEADERFUNCTION (empty when the failure is not inside a head).
    """

    def __init__(self, code: int, message: str, lines: list[bytes] | None = None) -> None:
        super().__init__(code, message)
        self.events: list[Event] = []
        self.lines: list[bytes] = lines if lines is not None else []


def _head_end(buf: bytes | bytearray, start: int) -> int:
    """Index just past the blank line that ends a head starting at or before `start`, or -1.

    A blank line is LF followed by LF or by CR LF; the first of either wins.
    """
    i = buf.find(b"\n\r\n", start)
    if i >= 0:
        j = buf.find(b"\n\n", start, i + 1)
        return j + 2 if j >= 0 else i + 3
    j = buf.find(b"\n\n", start)
    return j + 2 if j >= 0 else -1


def _status_line(line: bytes, lines: list[bytes]) -> tuple[int, int, bytes]:
    """Parse a status line that starts with "HTTP/" (any case): (version, status, reason)."""
    if line.startswith(b"HTTP/1."):
        minor = line[7:8]
        if (minor == b"1" or minor == b"0") and line[8:9] in (b" ", b"\t"):
            code = line[9:12]
            if len(code) == 3 and code.isdigit():
                status = int(code)
                if status < 100:
                    raise ResponseError(
                        E_UNSUPPORTED_PROTOCOL, "Unsupported response code in HTTP response", lines
                    )
                return (11 if minor == b"1" else 10), status, line[12:].strip()
        raise ResponseError(
            E_UNSUPPORTED_PROTOCOL, "Unsupported HTTP/1 subversion in response", lines
        )
    if line.startswith(b"HTTP/") and line[5:6] not in (b"2", b"3"):
        raise ResponseError(E_UNSUPPORTED_PROTOCOL, "Unsupported HTTP version in response", lines)
    # libcurl's HTTP200ALIASES fallback: a line that passed the case-insensitive "HTTP/" prefix
    # check but is not a usable HTTP/1 status line reads as "200, HTTP/1.0" (measured, 8.21).
    return 10, 200, b""


def _content_length(value: bytes) -> int:
    """Parse a Content-Length value; -1 means "overflow, ignore". Raises on an invalid value."""
    if value.isdigit():
        n = int(value)
        return n if n <= _MAX_OFF_T else -1
    # libcurl accepts a list of equal numbers ("5, 5"); each item may have blanks around it.
    found = -2
    for item in value.split(b","):
        item = item.strip(_BLANKS)
        if not item.isdigit():
            raise ResponseError(E_WEIRD_SERVER_REPLY, "Invalid Content-Length: value")
        n = int(item)
        if n > _MAX_OFF_T:
            n = -1
        if found != -2 and n != found:
            raise ResponseError(E_WEIRD_SERVER_REPLY, "Invalid Content-Length: value")
        found = n
    return found


class ResponseParser:
    """Incremental parser for the responses of one HTTP/1.x request (1xx heads, then one final).

    Keyword arguments: `head_request` (the request was HEAD: no body), `http09_allowed`
    (CURLOPT_HTTP09_ALLOWED), `max_header_total` / `max_header_line` (libcurl's limits),
    `reused` (the connection served an earlier request, so HTTP/0.9 is never accepted),
    `transfer_decoding` (CURLOPT_TRANSFER_ENCODING: gzip/deflate/br/zstd transfer codings are
    allowed and reported in `Head.transfer_codings` for the engine to decode).
    """

    __slots__ = (
        "_acc",
        "_chunk_digits",
        "_cl_and_te",
        "_head_lines",
        "_http09",
        "_keep",
        "_line_start",
        "_max_line",
        "_max_total",
        "_no_body",
        "_pending",
        "_prefix_ok",
        "_prior",
        "_raw",
        "_remaining",
        "_reused",
        "_scan",
        "_seen_head",
        "_state",
        "_te_decoding",
        "_trailer_total",
        "_trailers",
        "leftover",
        "received_any",
    )

    def __init__(
        self,
        *,
        head_request: bool = False,
        http09_allowed: bool = False,
        max_header_total: int = MAX_HEADER_TOTAL,
        max_header_line: int = MAX_HEADER_LINE,
        reused: bool = False,
        transfer_decoding: bool = False,
        raw_chunked: bool = False,
    ) -> None:
        self._state = _HEAD
        # CURLOPT_HTTP_TRANSFER_DECODING off: a chunked body is delivered as it came, framing
        # and trailers included (the parser still finds its end)
        self._raw = raw_chunked
        self._no_body = head_request
        self._http09 = http09_allowed
        self._max_total = max_header_total
        self._max_line = max_header_line
        self._reused = reused
        self._te_decoding = transfer_decoding
        self._acc: bytearray | None = None  # partial head being accumulated
        self._scan = 0  # where to resume the search for the end of the partial head
        self._line_start = 0  # start of the partial line in _acc
        self._prefix_ok = False  # the current head's first bytes matched "HTTP/"
        self._prior = 0  # bytes of earlier (1xx) heads of this response
        self._seen_head = False  # a status line was accepted (HTTP/0.9 is then impossible)
        self._head_lines: list[bytes] = []  # lines of the last head (for EOF handling)
        self._remaining = 0
        self._pending = b""  # a partial chunk-size or trailer line
        self._chunk_digits = 0
        self._keep = True
        self._cl_and_te = False
        self._trailers: list[bytes] = []
        self._trailer_total = 0
        self.leftover = b""
        self.received_any = False

    def __repr__(self) -> str:
        names = [
            "HEAD",
            "LENGTH",
            "CHUNK_SIZE",
            "CHUNK_EXT",
            "CHUNK_DATA",
            "CHUNK_CRLF",
            "TRAILER",
            "CLOSE",
            "DONE",
        ]
        return f"<ResponseParser {names[self._state]} remaining={self._remaining}>"

    def partial_head_lines(self) -> list[bytes]:
        """The complete lines of a head cut short (the connection failed in it): libcurl has
        handed each of them to HEADERFUNCTION by then, and taken the status from the first."""
        acc = self._acc
        if self._state != _HEAD or acc is None or not self._prefix_ok:
            return []
        cut = acc.rfind(b"\n") + 1
        return bytes(acc[:cut]).splitlines(True)

    def expect_no_body(self) -> None:
        """The request's response cannot have a body (HEAD, or the engine knows better)."""
        self._no_body = True

    @property
    def done(self) -> bool:
        """Whether End was produced."""
        return self._state == _DONE

    # --- input ---------------------------------------------------------------------------

    def feed(self, data: bytes) -> list[Event]:
        """Parse `data`; return the events it completes.

        Raises ResponseError (a CurlError) on a protocol violation; its `events` holds what
        this call completed before it.
        """
        if not data:
            return []
        self.received_any = True
        state = self._state
        if state == _LENGTH and len(data) < self._remaining:
            # The bulk of a large Content-Length body: hand the recv through, no copy.
            self._remaining -= len(data)
            return [Body(data)]
        if state == _DONE:
            self.leftover += data
            return []
        events: list[Event] = []
        try:
            acc = self._acc
            if acc is not None:
                old = len(acc)
                acc += data
                if self._prefix_ok and _head_end(acc, self._scan) < 0:
                    self._grow_head(acc, old)
                    return events
                self._acc = None
                data = bytes(acc)
            self._process(data, events)
        except ResponseError as exc:
            exc.events = events
            self._state = _DONE
            raise
        return events

    def feed_eof(self) -> list[Event]:
        """The peer closed the connection: return the final events, or raise ResponseError."""
        events: list[Event] = []
        state = self._state
        self._state = _DONE
        try:
            if state == _DONE:
                return events
            if state == _HEAD:
                self._eof_in_head(events)
            elif state == _LENGTH:
                raise ResponseError(
                    E_PARTIAL_FILE, f"end of response with {self._remaining} bytes missing"
                )
            elif state == _CLOSE:
                events.append(End([], False))
            else:
                raise ResponseError(
                    E_PARTIAL_FILE, "transfer closed with outstanding read data remaining"
                )
        except ResponseError as exc:
            exc.events = events
            raise
        return events

    # --- the state machine ---------------------------------------------------------------

    def _process(self, buf: bytes, events: list[Event]) -> None:
        if self._raw and _CHUNK_SIZE <= self._state <= _TRAILER:
            self._process_raw(buf, events)
            return
        pos = 0
        n = len(buf)
        while pos < n:
            state = self._state
            if state == _LENGTH or state == _CHUNK_DATA:  # noqa: SIM109 - faster than `in`
                rem = self._remaining
                avail = n - pos
                if avail < rem:
                    events.append(Body(buf[pos:] if pos else buf))
                    self._remaining = rem - avail
                    return
                events.append(Body(buf[pos : pos + rem] if pos or rem != n else buf))
                pos += rem
                self._remaining = 0
                if state == _LENGTH:
                    self._finish(events)
                else:
                    self._state = _CHUNK_CRLF
            elif state == _HEAD:
                pos = self._head(buf, pos, events)
                if pos < 0:
                    return
                if self._raw and self._state == _CHUNK_SIZE:
                    self._process_raw(buf[pos:], events)
                    return
            elif state == _CHUNK_CRLF:
                # libcurl CHUNK_POSTLF: any number of CRs, then LF.
                c = buf[pos]
                if c == 10:
                    self._state = _CHUNK_SIZE
                elif c != 13:
                    raise ResponseError(E_RECV_ERROR, _MALFORMED_CHUNK)
                pos += 1
            elif state == _CHUNK_SIZE:
                pos = self._chunk_size(buf, pos)
                if pos < 0:
                    return
            elif state == _CHUNK_EXT:
                nl = buf.find(b"\n", pos)
                if nl < 0:
                    return
                pos = nl + 1
                self._chunk_start(self._chunk_digits)
            elif state == _TRAILER:
                pos = self._trailer(buf, pos, events)
                if pos < 0:
                    return
            elif state == _CLOSE:
                events.append(Body(buf[pos:] if pos else buf))
                return
            else:  # _DONE
                self.leftover += buf[pos:]
                return

    def _process_raw(self, buf: bytes, events: list[Event]) -> None:
        """Run the chunked states over `buf`, handing over the bytes they consumed as they
        were instead of the decoded chunks."""
        found: list[Event] = []
        before = len(self.leftover)
        self._raw = False
        try:
            self._process(buf, found)
        finally:
            self._raw = True
        used = len(buf) - (len(self.leftover) - before)
        if used:
            events.append(Body(buf[:used] if used < len(buf) else buf))
        for ev in found:
            if type(ev) is End:
                assert isinstance(ev, End)
                ev.trailers = []  # they were in the raw body
                events.append(ev)

    def _finish(self, events: list[Event]) -> None:
        events.append(End(self._trailers, self._keep))
        self._state = _DONE

    # --- heads ---------------------------------------------------------------------------

    def _head(self, buf: bytes, pos: int, events: list[Event]) -> int:
        """Parse a head at `pos`; return the position after it, or -1 when more data is needed."""
        n = len(buf)
        if not self._prefix_ok:
            k = n - pos
            if k > 5:
                k = 5
            if buf[pos : pos + k].upper() != b"HTTP/"[:k]:
                return self._not_http(buf, pos, events)
            if k < 5:
                self._acc = bytearray(buf[pos:])
                return -1
            self._prefix_ok = True
        end = _head_end(buf, pos)
        if end < 0:
            acc = self._acc = bytearray(buf[pos:])
            self._line_start = 0
            self._scan = 0
            self._grow_head(acc, 0)
            return -1
        self._complete_head(buf[pos:end], True, events)
        return end

    def _not_http(self, buf: bytes, pos: int, events: list[Event]) -> int:
        # lib/http.c: no HTTP/0.9 once a status line was seen or on a reused connection.
        if self._seen_head or self._reused:
            raise ResponseError(E_WEIRD_SERVER_REPLY, "Invalid status line")
        if not self._http09:
            raise ResponseError(E_UNSUPPORTED_PROTOCOL, "Received HTTP/0.9 when not allowed")
        self._seen_head = True
        self._keep = False
        # libcurl reports RESPONSE_CODE 0 for an HTTP/0.9 reply (measured with 8.23)
        events.append(Head(0, b"", 9, [], [], 0, None, False, False))
        self._state = _CLOSE
        return pos

    def _grow_head(self, acc: bytearray, old: int) -> None:
        """Account for bytes added to a partial head at `old`; enforce the limits on them."""
        self._scan = len(acc) - 2 if len(acc) > 2 else 0
        nl = acc.rfind(b"\n", old)
        if nl >= 0:
            start = self._line_start
            self._line_start = nl + 1
            if nl + 1 - start >= self._max_line or self._prior + nl + 1 > self._max_total:
                # Some line just completed is too long, or the total passed the limit:
                # let the line-by-line path find which and say it as libcurl does.
                self._slow_lines(bytes(acc[: nl + 1]))
        if len(acc) - self._line_start >= self._max_line:
            raise ResponseError(E_TOO_LARGE, _TOO_LARGE_MSG)

    def _eof_in_head(self, events: list[Event]) -> None:
        acc = self._acc
        if acc is None or not self._prefix_ok:
            # Nothing, or not even "HTTP/" yet, or only 1xx heads: libcurl says 52.
            raise ResponseError(E_GOT_NOTHING, "Empty reply from server")
        cut = acc.rfind(b"\n") + 1
        if cut == 0:
            raise ResponseError(E_GOT_NOTHING, "Empty reply from server")
        self._state = _HEAD
        self._complete_head(bytes(acc[:cut]), False, events)
        state = self._state
        self._state = _DONE
        if state == _HEAD:
            # Cut inside a 1xx head: there is no final response (measured, curl 8.21).
            raise ResponseError(E_GOT_NOTHING, "Empty reply from server")
        if state == _LENGTH:
            raise ResponseError(
                E_PARTIAL_FILE, f"transfer closed with {self._remaining} bytes remaining to read"
            )
        if state == _CLOSE:
            self._finish(events)
        elif state == _DONE:
            end = events[-1]
            if isinstance(end, End):
                end.keep_alive = False  # the peer has closed: nothing to reuse
        else:  # chunked
            raise ResponseError(
                E_PARTIAL_FILE, "transfer closed with outstanding read data remaining"
            )

    def _slow_lines(self, block: bytes) -> list[bytes]:
        """Split a head line by line in libcurl's order of checks; return the lines as
        HEADERFUNCTION sees them (unfolded). Raises ResponseError for the first bad line."""
        max_line = self._max_line
        max_total = self._max_total
        out: list[bytes] = []
        total = self._prior
        parts = block.split(b"\n")
        last = len(parts) - 1  # parts[last] is what follows the final LF (b"" here)
        for i in range(last):
            line = parts[i] + b"\n"
            if len(line) >= max_line:
                raise ResponseError(E_TOO_LARGE, _TOO_LARGE_MSG, out)
            total += len(line)
            if total > max_total:
                # libcurl counts a line after HEADERFUNCTION had it (Curl_bump_headersize),
                # so the line that crosses the limit is delivered too
                raise ResponseError(
                    E_RECV_ERROR, f"Too large response headers: {total} > {max_total}", [*out, line]
                )
            content = parts[i]
            if content.endswith(b"\r"):
                content = content[:-1]
            if i == 0:
                _status_line(content, out)
                if b"\r" in content:
                    raise ResponseError(E_WEIRD_SERVER_REPLY, "Carriage return found in header")
                out.append(line)
                continue
            if b"\r" in content:
                raise ResponseError(E_WEIRD_SERVER_REPLY, "Carriage return found in header", out)
            if b"\0" in content:
                raise ResponseError(E_WEIRD_SERVER_REPLY, "NUL byte in header", out)
            if not content:
                out.append(line)
                break
            if content[0] in _BLANKS:
                if len(out) == 1:
                    raise ResponseError(E_WEIRD_SERVER_REPLY, "Header without colon", out)
                prev = out[-1].rstrip(b"\r\n").rstrip(_BLANKS)
                line = prev + b" " + content.lstrip(_BLANKS) + line[len(content) :]
                if len(line) >= max_line:
                    raise ResponseError(E_TOO_LARGE, _TOO_LARGE_MSG, out[:-1])
                out[-1] = line
                continue
            if b":" not in content:
                raise ResponseError(E_WEIRD_SERVER_REPLY, "Header without colon", out)
            out.append(line)
        return out

    def _complete_head(self, block: bytes, complete: bool, events: list[Event]) -> None:
        """Parse one whole head (`complete`: it ends with its blank line) and set up the body."""
        size = len(block)
        if (
            size >= self._max_line
            or self._prior + size > self._max_total
            or b"\0" in block
            or b"\n " in block
            or b"\n\t" in block
            or block.count(b"\r") != block.count(b"\r\n")
        ):
            lines = self._slow_lines(block)
            size = sum(map(len, lines))
        else:
            lines = block.splitlines(True)
        self._prior += len(block)
        self._seen_head = True
        self._prefix_ok = False
        self._head_lines = lines
        sl = lines[0]
        code = sl[9:12]
        if sl[:9] == b"HTTP/1.1 " and code.isdigit() and code[0] != 48:  # 48: "0"
            version = 11
            status = int(code)
            reason = sl[12:].strip()
        else:
            version, status, reason = _status_line(sl.rstrip(b"\r\n"), [])

        headers: list[tuple[bytes, bytes]] = []
        notable: list[int] = []
        hl = lines[1:-1] if complete else lines[1:]
        for line in hl:
            name, sep, value = line.partition(b":")
            if not sep:
                raise ResponseError(
                    E_WEIRD_SERVER_REPLY, "Header without colon", lines[: len(headers) + 1]
                )
            # Only "Name:" is the header: libcurl matches "Content-Length:" exactly, so
            # "Content-Length :" frames nothing (RFC 9112 5.1 rejects such names).
            name = name.lower()
            if name in NOTABLE:
                notable.append(len(headers))
            headers.append((name, value.strip()))

        bodyless = 100 <= status < 200 or status == 204 or status == 304
        content_length: int | None = None
        chunked = False
        codings: list[bytes] = []
        close = False
        keep_token = False
        idx = 0
        try:
            for idx in notable:
                name, value = headers[idx]
                if name == b"content-length":
                    if bodyless:
                        continue
                    n = int(value) if value.isdigit() else _content_length(value)
                    if n > _MAX_OFF_T:
                        n = -1
                    if content_length is not None and n != content_length:
                        raise ResponseError(E_WEIRD_SERVER_REPLY, "Invalid Content-Length: value")
                    content_length = n
                elif name == b"transfer-encoding":
                    if not bodyless:
                        chunked = self._transfer_codings(value, chunked, codings)
                elif name == b"connection":
                    v = value.lower()
                    if v == b"keep-alive":
                        keep_token = True
                    elif v == b"close":
                        close = True
                    elif b"," in v:
                        tokens = {t.strip() for t in v.split(b",")}
                        close = close or b"close" in tokens
                        keep_token = keep_token or b"keep-alive" in tokens
        except ResponseError as exc:
            exc.lines = lines[: idx + 1]
            raise

        keep = (not close) if version == 11 else (keep_token and not close)
        if content_length == -1:
            content_length = None
            keep = False  # libcurl: streamclose on "Overflow Content-Length: value"
        if chunked:
            if content_length is not None:
                # RFC 9112 6.3: chunked overrides Content-Length. The RFC lets a client close
                # such a connection; libcurl 8.23 keeps and reuses it (the chunked framing
                # did end the message), and so does purecurl.
                content_length = None
        elif codings:
            keep = False  # a transfer coding without chunked: the body ends at close
        elif content_length is None and not bodyless and not self._no_body:
            keep = False

        head = Head(
            status,
            reason,
            version,
            headers,
            lines,
            size,
            content_length,
            chunked,
            keep,
            tuple(codings),
            notable,
        )
        events.append(head)
        self._keep = keep
        if 100 <= status < 200 and status != 101:
            return  # an informational head: the real one follows (RFC 9110 15.2)
        if status == 101:
            # Switching Protocols: what follows is not HTTP/1.1 any more.
            self._keep = False
            head.keep_alive = False
            self._finish(events)
        elif bodyless or self._no_body:
            self._finish(events)
        elif chunked:
            self._state = _CHUNK_SIZE
        elif codings or content_length is None:
            self._state = _CLOSE
        elif content_length:
            self._remaining = content_length
            self._state = _LENGTH
        else:
            self._finish(events)

    def _transfer_codings(self, value: bytes, chunked: bool, codings: list[bytes]) -> bool:
        """Apply one Transfer-Encoding value (content_encoding.c rules); return `chunked`."""
        for item in value.split(b","):
            raw = item.strip(_BLANKS)
            if not raw:
                continue
            coding = raw.lower()
            name = raw.decode("latin-1")
            if chunked and coding == b"chunked":
                continue  # libcurl: "ignoring duplicate 'chunked' decoder"
            if chunked:
                raise ResponseError(
                    E_BAD_CONTENT_ENCODING, f"A Transfer-Encoding ({name}) was listed after chunked"
                )
            if coding == b"chunked":
                chunked = True
            elif coding == b"identity":
                continue
            elif not self._te_decoding:
                raise ResponseError(
                    E_BAD_CONTENT_ENCODING, f"Unsolicited Transfer-Encoding ({name}) found"
                )
            elif coding not in _DECODABLE:
                raise ResponseError(E_BAD_CONTENT_ENCODING, "Unrecognized content encoding type")
            else:
                codings.append(coding)
                if len(codings) > 5:
                    raise ResponseError(
                        E_BAD_CONTENT_ENCODING,
                        "Reject response exceeding limit of 5 transfer encodings",
                    )
        return chunked

    # --- chunked -------------------------------------------------------------------------

    def _chunk_size(self, buf: bytes, pos: int) -> int:
        nl = buf.find(b"\n", pos)
        if nl < 0:
            part = self._pending + buf[pos:]
            digits = _hex_digits(part)
            if digits < len(part):
                # The size ended (extension or blank follows): skip to the LF unbuffered.
                self._pending = b""
                self._chunk_digits = _chunk_value(part, digits)
                self._state = _CHUNK_EXT
            else:
                self._pending = part
            return -1
        if self._pending:
            line = self._pending + buf[pos:nl]
            self._pending = b""
        else:
            line = buf[pos:nl]
        # An empty size line fails on its LF, as in libcurl.
        digits = _hex_digits(line or b"\n")
        self._chunk_start(_chunk_value(line, digits))
        return nl + 1

    def _chunk_start(self, size: int) -> None:
        if size:
            self._remaining = size
            self._state = _CHUNK_DATA
        else:
            self._state = _TRAILER

    def _trailer(self, buf: bytes, pos: int, events: list[Event]) -> int:
        nl = buf.find(b"\n", pos)
        if nl < 0:
            part = self._pending + buf[pos:]
            if b"\r" in part[:-1]:
                raise ResponseError(E_RECV_ERROR, _MALFORMED_CHUNK)
            if len(part) + 2 >= MAX_TRAILER_LINE:
                raise ResponseError(E_TOO_LARGE, "Out of memory in chunked-encoding")
            self._pending = part
            return -1
        if self._pending:
            line = self._pending + buf[pos:nl]
            self._pending = b""
        else:
            line = buf[pos:nl]
        if line.endswith(b"\r"):
            line = line[:-1]
        if b"\r" in line:
            raise ResponseError(E_RECV_ERROR, _MALFORMED_CHUNK)
        if not line:
            self._finish(events)
            return nl + 1
        # libcurl passes each trailer with CRLF appended (lib/http_chunks.c).
        line += b"\r\n"
        if len(line) >= MAX_TRAILER_LINE:
            raise ResponseError(E_TOO_LARGE, "Out of memory in chunked-encoding")
        # Not a libcurl limit: trailers are bounded like heads so that an endless trailer
        # section cannot grow memory without bound.
        self._trailer_total += len(line)
        if self._trailer_total > self._max_total:
            raise ResponseError(
                E_RECV_ERROR,
                f"Too large response headers: {self._trailer_total} > {self._max_total}",
            )
        self._trailers.append(line)
        return nl + 1


# Headers the parser frames the body by, and those the engine acts on (engine/multi._on_head).
NOTABLE = frozenset(
    (
        b"content-length",
        b"transfer-encoding",
        b"connection",
        b"content-type",
        b"content-encoding",
        b"location",
        b"set-cookie",
        b"content-range",
    )
)


def _hex_digits(part: bytes) -> int:
    """Count the leading hex digits of a chunk-size line; raise as libcurl does when invalid."""
    digits = len(part) - len(part.lstrip(_HEX))
    if digits == 0 and part:
        raise ResponseError(E_RECV_ERROR, f"chunk hex-length char not a hex digit: 0x{part[0]:x}")
    if digits > 17:  # libcurl 8.23 reads 17 hex digits (measured), a value over 2^63-1 fails
        raise ResponseError(E_RECV_ERROR, "chunk hex-length longer than 17")
    return digits


def _chunk_value(part: bytes, digits: int) -> int:
    value = int(part[:digits], 16)
    if value > _MAX_OFF_T:
        raise ResponseError(
            E_RECV_ERROR, f"invalid chunk size: '{part[:digits].decode('latin-1')}'"
        )
    return value
