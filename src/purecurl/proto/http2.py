"""HTTP/2 client sessions on the h2 library: requests in, per-stream response events out.

Theory of operation
-------------------
h2 owns the framing, HPACK and the stream state machine (STYLE habit 5); this module is the thin
sans-IO layer between it and the engine, the part of libcurl's cf-h2 filter that is not I/O:

- `H2Session.request(head, ...)` takes the HTTP/1.1 request head the engine already builds
  (auth, cookies, the user's headers and removals are all in it) and turns it into an HTTP/2
  header list, as libcurl's `Curl_http_req_to_h2` does: the request line becomes `:method`,
  `:scheme`, `:authority` (from Host) and `:path`; names are lower-cased; the fields RFC 9113
  §8.2.2 forbids (Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade, TE other
  than "trailers") are dropped.
- `feed(data)` hands received bytes to h2 and returns `(stream id, event)` pairs in order, where
  the events are the ones the engine already delivers for HTTP/1 (`Head`, `Body`, `End` from
  `proto.http1`) plus `Reset` and `Failed`; connection-wide news comes back as `GoAway`. A `Head`
  carries the lines libcurl hands to HEADERFUNCTION for HTTP/2: `HTTP/2 200 \\r\\n`, then
  `name: value\\r\\n` per field, then `\\r\\n`.
- Flow control: the connection window is opened wide at once and every stream gets
  `stream_window`. Received DATA is acknowledged (`consumed`) only once the application took
  it, so a paused stream stops granting window for itself alone while the others flow (the
  connection window is far larger than the streams' sum). Padding is acknowledged at once.
- `outgoing()` returns the bytes h2 wants sent; the engine owns the socket.

A violation of the protocol by the peer raises `CurlError(E_HTTP2)` from `feed`; h2 has then
queued the GOAWAY it owes the peer, which `outgoing()` returns. Received header fields get
nghttp2's checks instead of h2's (`_screen`): some fields are dropped, others reset their
stream only, which `feed` reports as a `Failed` event with libcurl's code and words.

Three memos keep h2's and hpack's Python off the per-request path where the answer cannot
differ: Huffman strings, whole response header blocks that leave the decoder's dynamic table
as it was (empty), and request header blocks made while the encoder's table is unchanged.
"""

from __future__ import annotations

from typing import Any

import hpack.hpack as _hpack
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.events import (
    ConnectionTerminated,
    DataReceived,
    Event,
    InformationalResponseReceived,
    ResponseReceived,
    StreamEnded,
    StreamReset,
    TrailersReceived,
)
from h2.exceptions import H2Error, ProtocolError, StreamClosedError
from h2.frame_buffer import FrameBuffer
from h2.settings import SettingCodes
from hpack.huffman_table import decode_huffman as _huffman_decode
from hyperframe.frame import (
    FRAMES,
    ExtensionFrame,
    Frame,
    GoAwayFrame,
    HeadersFrame,
    PushPromiseFrame,
)

from purecurl import _codes as C
from purecurl._errors import CurlError
from purecurl.proto.http1 import NOTABLE, Body, End, Head

# hpack decodes Huffman-coded strings bit by bit in Python, for every literal of every response
# head: nginx indexes nothing in its responses, so each of its heads costs ~8 such decodes.
# Most are the same strings again (server, content-type, the date of this second): a bounded
# memo in front of hpack's decoder makes them a dict lookup (bench E: -25 % CPU/request). The
# decoder is a pure function of its input, so the memo changes no result.
_HUFFMAN_MEMO: dict[bytes, bytes] = {}


def _memo_decode_huffman(data: bytes | bytearray | memoryview | None) -> bytes:
    key = bytes(data or b"")
    out = _HUFFMAN_MEMO.get(key)
    if out is None:
        out = _huffman_decode(key)
        if len(key) <= 64:
            if len(_HUFFMAN_MEMO) >= 4096:
                _HUFFMAN_MEMO.clear()
            _HUFFMAN_MEMO[key] = out
    return out


_hpack.__dict__["decode_huffman"] = _memo_decode_huffman

# A header block decoded while the dynamic table is empty, and that leaves it empty (and its
# size unchanged), decodes the same every time: its result depends on its bytes alone (the
# static table). nginx's response heads are such blocks, and the same bytes for every response
# of one resource within a second (bench E: about 15 us of hpack's Python per response).
_BLOCK_MEMO: dict[tuple[bytes, bool, int], tuple[Any, ...]] = {}
_BLOCK_MEMO_MAX = 1024
_BLOCK_MEMO_LONGEST = 4096


# nghttp2's checks of received header fields, as libcurl sets it up (nghttp2_http_on_header;
# libcurl turns off RFC 9113's leading/trailing-whitespace rule). h2's own validation is off:
# it makes every violation a connection error (16) and tests each byte in Python, where
# nghttp2 ignores some fields and resets the stream (92) for others.
#   name: a lower-case token (nghttp2_check_header_name); a name that is not is ignored,
#       unless it has an upper-case letter or starts with ":" (refused)
#   value: HTAB, SP, visible ASCII or obs-text (nghttp2_check_header_value); else ignored
#   refused: connection-specific fields (RFC 9113 8.2.2), TE other than "trailers", a second
#       or non-numeric Content-Length, a pseudo-header other than one :status of three digits
#       (100-599 but 101) before every regular field
_NAME_CHARS = b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"
_VALUE_CHARS = bytes([9, *range(0x20, 0x7F), *range(0x80, 0x100)])
_CONNECTION_SPECIFIC = frozenset(
    (b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade")
)
_SCREENED = _CONNECTION_SPECIFIC | {b"te", b"content-length"}


class _RefusedField(Exception):
    """A received field nghttp2 resets the stream for (raised once the block is decoded,
    so hpack's table stays in step); `kept` are the fields accepted before it."""

    def __init__(self, name: bytes, value: bytes, kept: list[tuple[bytes, bytes]]) -> None:
        super().__init__(name, value)
        self.name = name
        self.value = value
        self.kept = kept


def _status_ok(value: bytes) -> bool:
    return len(value) == 3 and value.isdigit() and value[0] != 48 and value != b"101"


def _screen(headers: Any) -> list[Any]:
    """The fields of a decoded block nghttp2 keeps; raises _RefusedField at one it refuses."""
    names = [field[0] for field in headers]
    rest = names[1:] if names and names[0] == b":status" else names
    if (
        (rest is names or _status_ok(headers[0][1]))
        and b"" not in rest
        and not b"".join(rest).translate(None, _NAME_CHARS)
        and not b"".join([field[1] for field in headers]).translate(None, _VALUE_CHARS)
    ):
        screened = _SCREENED.intersection(rest)
        if not screened:
            return list(headers)
        if (
            screened == {b"content-length"}
            and names.count(b"content-length") == 1
            and headers[names.index(b"content-length")][1].isdigit()
        ):
            return list(headers)
    return _screen_fields(headers)


def _screen_fields(headers: Any) -> list[Any]:
    """_screen, field by field, in nghttp2's order of checks."""
    kept: list[Any] = []
    regular = status = length = False
    for field in headers:
        name, value = field[0], field[1]
        if name[:1] == b":":
            if name != b":status" or regular or status or not _status_ok(value):
                raise _RefusedField(name, value, kept)
            status = True
            kept.append(field)
            continue
        regular = True  # nghttp2 refuses pseudo-headers after any other field, even ignored
        if not name or name.translate(None, _NAME_CHARS):
            if name.lower() != name:
                raise _RefusedField(name, value, kept)
            continue
        if value.translate(None, _VALUE_CHARS):
            continue
        if name in _SCREENED:
            if name in _CONNECTION_SPECIFIC or (name == b"te" and value.lower() != b"trailers"):
                raise _RefusedField(name, value, kept)
            if name == b"content-length":
                if length or not value.isdigit():
                    raise _RefusedField(name, value, kept)
                length = True
        kept.append(field)
    return kept


class _MemoDecoder(_hpack.Decoder):
    """hpack's decoder with _BLOCK_MEMO in front of it, for blocks that leave no state, and
    nghttp2's field checks (_screen) after it. `block_length` is the last block's size."""

    block_length = 0

    def decode(self, data: bytes, raw: bool = False) -> Any:
        self.block_length = len(data)
        table = self.header_table
        if table.dynamic_entries or len(data) > _BLOCK_MEMO_LONGEST or not raw:
            headers = super().decode(data, raw)
            return _screen(headers) if raw else headers
        key = (bytes(data), raw, self.max_header_list_size)
        hit = _BLOCK_MEMO.get(key)
        if hit is not None:
            self._assert_valid_table_size()  # the table's size limit may have changed since
            return list(hit)
        size = table.maxsize
        headers = _screen(super().decode(data, raw))
        if not table.dynamic_entries and table.maxsize == size:
            if len(_BLOCK_MEMO) >= _BLOCK_MEMO_MAX:
                _BLOCK_MEMO.clear()
            _BLOCK_MEMO[key] = tuple(headers)
        return headers


__all__ = [
    "Failed",
    "GoAway",
    "H2Session",
    "PushRefused",
    "Reset",
    "error_name",
    "h2_request_fields",
    "upgrade_settings",
]

# Fields that only mean something to one HTTP/1.1 connection (RFC 9113 §8.2.2).
_CONNECTION_FIELDS = frozenset(
    (b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade", b"host")
)
_MAX_WINDOW = (1 << 31) - 1
_DEFAULT_WINDOW = 65535


class Reset:
    """The peer reset the stream (RST_STREAM), or h2 reset it for a stream-level error."""

    __slots__ = ("error_code", "remote")

    def __init__(self, error_code: int, remote: bool) -> None:
        self.error_code = error_code
        self.remote = remote

    def __repr__(self) -> str:
        return f"Reset({error_name(self.error_code)}, remote={self.remote})"


class GoAway:
    """The peer is closing the connection: streams above `last_stream_id` were not processed
    and may be retried elsewhere (RFC 9113 §6.8)."""

    __slots__ = ("error_code", "last_stream_id")

    def __init__(self, last_stream_id: int, error_code: int) -> None:
        self.last_stream_id = last_stream_id
        self.error_code = error_code

    def __repr__(self) -> str:
        return f"GoAway(last={self.last_stream_id}, {error_name(self.error_code)})"


class Failed:
    """The stream broke an HTTP rule that nghttp2 resets it for (we sent RST_STREAM with
    PROTOCOL_ERROR): the transfer fails with `code` and libcurl's `message`. `lines` are the
    head lines libcurl had handed to HEADERFUNCTION before the offending field, `status` the
    response code it had taken (0: none)."""

    __slots__ = ("code", "lines", "message", "status")

    def __init__(self, code: int, message: str, lines: list[bytes], status: int) -> None:
        self.code = code
        self.message = message
        self.lines = lines
        self.status = status

    def __repr__(self) -> str:
        return f"Failed({self.code}, {self.message!r})"


StreamEvent = Head | Body | End | Reset | Failed


def error_name(code: int) -> str:
    """The RFC 9113 §7 name of an HTTP/2 error code (nghttp2_http2_strerror's words)."""
    try:
        return ErrorCodes(code).name
    except ValueError:
        return "unknown"


def h2_request_fields(
    head: bytes, scheme: bytes, authority: bytes, drop_expect: bool
) -> list[tuple[bytes, bytes]]:
    """The HTTP/2 header list of an HTTP/1.1 request head (libcurl's Curl_http_req_to_h2).

    `authority` is used when the head has no Host line; `drop_expect` removes the
    `Expect: 100-continue` the engine adds for HTTP/1.1 only.
    """
    lines = head.split(b"\r\n")
    method, _, rest = lines[0].partition(b" ")
    path = rest.rpartition(b" ")[0]
    fields: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            continue
        name = name.strip().lower()
        value = value.strip()
        if name in _CONNECTION_FIELDS:
            if name == b"host":
                authority = value
            continue
        if name == b"te" and value.lower() != b"trailers":
            continue
        if drop_expect and name == b"expect" and value.lower() == b"100-continue":
            continue
        fields.append((name, value))
    return [
        (b":method", method),
        (b":scheme", scheme),
        (b":authority", authority),
        (b":path", path),
        *fields,
    ]


def _short_repr(frame: Frame) -> str:
    return type(frame).__name__


# h2 formats every frame it receives for a trace log (`logger.trace("...", repr(frame))`,
# evaluated even when nothing logs): hyperframe's repr renders the flags and a hex dump of the
# payload, about 5 us per frame (bench E: two or three frames per request). Received frames
# are given these subclasses, alike but for a one-line repr; h2 dispatches on the exact class,
# so _ClientConnection maps each to its base's handler.
_QUIET_FRAMES: dict[type[Frame], type[Frame]] = {
    cls: type(cls.__name__, (cls,), {"__repr__": _short_repr, "__slots__": ()})
    for cls in (*FRAMES.values(), ExtensionFrame)
}


def _table_state(table: Any) -> tuple[int, int, int, bool]:
    return (len(table.dynamic_entries), table._current_size, table._maxsize, table.resized)


class _MemoEncoder(_hpack.Encoder):
    """hpack's encoder with a memo of the blocks that changed nothing in its table.

    A request's fields are the same from one request to the next, and once they are in the
    dynamic table their block is a list of indexes that adds nothing: the same bytes for as
    long as the table stays as it was. The memo keeps such a block with the table's state it
    was made in: its newest entry (the object itself, held, so that an entry added since is
    told apart even if equal in value), its length, size, limit and pending-resize flag. Lists
    of plain 2-tuples only (what h2_request_fields makes): HeaderTuple subclasses carry the
    never-index flag, which tuple equality ignores.
    """

    _memo: dict[tuple[tuple[tuple[bytes, bytes], ...], bool], tuple[Any, Any, bytes]]

    def encode(self, headers: Any, huffman: bool = True) -> bytes:
        if type(headers) is not list or set(map(type, headers)) != {tuple}:
            return super().encode(headers, huffman)
        table = self.header_table
        entries = table.dynamic_entries
        newest = entries[0] if entries else None
        state = _table_state(table)
        key = (tuple(headers), huffman)
        memo = self._memo
        hit = memo.get(key)
        if hit is not None and hit[0] is newest and hit[1] == state:
            return hit[2]
        block = super().encode(headers, huffman)
        entries = table.dynamic_entries
        if (entries[0] if entries else None) is newest and _table_state(table) == state:
            if len(memo) >= 64:
                memo.clear()
            memo[key] = (newest, state, block)
        return block


class _EagerFrameBuffer(FrameBuffer):
    """h2's frame buffer, except that a frame longer than SETTINGS_MAX_FRAME_SIZE is refused
    as soon as its header is in, as nghttp2 does, instead of after buffering all of it (up
    to 16 MiB held for a frame that will be refused); and frames come out with a cheap repr
    (_QUIET_FRAMES)."""

    def __next__(self) -> Frame:
        data = self._data
        if len(data) >= 9:
            self._validate_frame_length(int.from_bytes(data[:3], "big"))
        frame = super().__next__()
        quiet = _QUIET_FRAMES.get(type(frame))
        if quiet is not None:
            frame.__class__ = quiet
        return frame


class PushRefused(ProtocolError):
    """A PUSH_PROMISE although SETTINGS_ENABLE_PUSH is 0 (RFC 9113 §8.4)."""

    def __init__(self, stream_id: int, length: int) -> None:
        super().__init__("Received pushed stream")
        self.stream_id = stream_id
        self.length = length


_STREAM_SCAN_AT = 128


class _FieldRefused(Event):
    """The stream was reset for a refused field (an event of our own among h2's)."""

    def __init__(self, stream_id: int, refused: _RefusedField) -> None:
        self.stream_id = stream_id
        self.refused = refused


class _ClientConnection(H2Connection):
    """h2's connection, except that a GOAWAY leaves the streams up to its last stream id
    running (RFC 9113 §6.8: "streams ... with identifiers lower than or equal to the
    identifier in the GOAWAY frame might still complete"). h2 4.x closes its connection state
    machine on receipt, after which every frame of those streams is a protocol error, and
    drops the frames not yet sent (our WINDOW_UPDATEs among them)."""

    def __init__(self, config: H2Configuration) -> None:
        super().__init__(config)
        self.incoming_buffer.__class__ = _EagerFrameBuffer
        self.decoder.__class__ = _MemoDecoder
        encoder = self.encoder
        encoder.__class__ = _MemoEncoder
        assert isinstance(encoder, _MemoEncoder)
        encoder._memo = {}
        table = self._frame_dispatch_table
        for base, quiet in _QUIET_FRAMES.items():
            if base in table:
                table[quiet] = table[base]

    def _receive_push_promise_frame(
        self, frame: PushPromiseFrame
    ) -> tuple[list[Frame], list[Event]]:
        if not self.local_settings.enable_push:
            raise PushRefused(frame.stream_id, 4 + len(frame.data))
        return super()._receive_push_promise_frame(frame)

    @property
    def open_outbound_streams(self) -> int:
        """h2 counts the open streams by visiting every stream it holds (dropping the closed
        ones on the way) each time it opens one, to check the peer's limit: O(streams) per
        request. While fewer streams are held, closed or not, than that limit and
        _STREAM_SCAN_AT, their number is an upper bound that passes the check; the visit is
        made only beyond (so closed streams are still dropped, a bounded number at a time)."""
        held = len(self.streams)
        if held < min(self.remote_settings.max_concurrent_streams, _STREAM_SCAN_AT):
            return held
        return self.count_open_streams()

    def count_open_streams(self) -> int:
        """The exact number of open streams (h2's visit)."""
        return self._open_streams(int(self.config.client_side))

    def _receive_headers_frame(self, frame: HeadersFrame) -> tuple[list[Frame], list[Event]]:
        try:
            return super()._receive_headers_frame(frame)
        except _RefusedField as refused:
            sid = frame.stream_id
            stream = self.streams.get(sid)
            if stream is None or stream.closed:
                if stream is not None or sid in self._closed_streams:
                    # a stream already over (one we reset, say): h2's own handling of any
                    # frame on it (_receive_frame answers a reset stream's with RST_STREAM)
                    raise StreamClosedError(sid) from refused
                raise ProtocolError(f"refused header field on stream {sid}") from refused
            self.reset_stream(sid, ErrorCodes.PROTOCOL_ERROR)
            return [], [_FieldRefused(sid, refused)]

    def _receive_goaway_frame(self, frame: GoAwayFrame) -> tuple[list[Frame], list[Event]]:
        event = ConnectionTerminated()
        event.error_code = _error_code(frame.error_code)
        event.last_stream_id = frame.last_stream_id
        event.additional_data = frame.additional_data or None
        return [], [event]


def _error_code(code: int) -> ErrorCodes | int:
    try:
        return ErrorCodes(code)
    except ValueError:
        return code


class H2Session:
    """One HTTP/2 client connection's protocol state."""

    __slots__ = ("_h2", "_trailers", "goaway", "settings_header", "stream_window")

    def __init__(
        self, stream_window: int = 1 << 20, conn_window: int = 1 << 30, upgrade: bool = False
    ) -> None:
        """`upgrade`: the connection was upgraded from HTTP/1.1 (`Upgrade: h2c`, a 101
        answer); the request that asked for it is stream 1, its request already sent."""
        config = H2Configuration(
            client_side=True,
            header_encoding=None,
            validate_outbound_headers=False,
            validate_inbound_headers=False,  # _screen does nghttp2's checks instead
            normalize_outbound_headers=False,
        )
        h2 = self._h2 = _ClientConnection(config)
        self.stream_window = stream_window
        h2.local_settings = type(h2.local_settings)(
            client=True,
            initial_values={
                # libcurl sends these three: no push without a PUSHFUNCTION, its stream cap
                SettingCodes.ENABLE_PUSH: 0,
                SettingCodes.MAX_CONCURRENT_STREAMS: 100,
                SettingCodes.INITIAL_WINDOW_SIZE: stream_window,
            },
        )
        self.settings_header = b""
        if upgrade:
            self.settings_header = h2.initiate_upgrade_connection() or b""
        else:
            h2.initiate_connection()
        if conn_window > _DEFAULT_WINDOW:
            h2.increment_flow_control_window(min(conn_window, _MAX_WINDOW) - _DEFAULT_WINDOW)
        self._trailers: dict[int, list[bytes]] = {}
        self.goaway: GoAway | None = None

    def __repr__(self) -> str:
        return f"<H2Session open={self.open_streams} goaway={self.goaway!r}>"

    # -- the peer's limits

    @property
    def open_streams(self) -> int:
        return self._h2.count_open_streams()

    def max_streams(self, local_cap: int) -> int:
        """How many streams may be open at once: the peer's SETTINGS_MAX_CONCURRENT_STREAMS
        and the multi's M_MAX_CONCURRENT_STREAMS, the smaller."""
        remote = self._h2.remote_settings.max_concurrent_streams
        return min(int(remote), local_cap) if local_cap > 0 else int(remote)

    def send_window(self, stream_id: int) -> int:
        """How many body bytes the stream may send now (0 when the stream is gone)."""
        try:
            return int(self._h2.local_flow_control_window(stream_id))
        except H2Error:
            return 0

    # -- requests

    def request(self, fields: list[tuple[bytes, bytes]], end_stream: bool) -> int:
        """Open a stream with `fields` as its HEADERS; returns the stream id."""
        h2 = self._h2
        sid = int(h2.get_next_available_stream_id())
        h2.send_headers(sid, fields, end_stream=end_stream)
        return sid

    def send_body(self, stream_id: int, data: memoryview, end_stream: bool) -> int:
        """Queue as much of `data` as flow control allows; returns how many bytes went.
        `end_stream` closes the stream when all of `data` went."""
        h2 = self._h2
        n = min(len(data), h2.local_flow_control_window(stream_id))
        step = h2.max_outbound_frame_size
        sent = 0
        while sent < n:
            piece = min(step, n - sent)
            last = end_stream and sent + piece == len(data)
            h2.send_data(stream_id, data[sent : sent + piece].tobytes(), end_stream=last)
            sent += piece
        if end_stream and not data:
            h2.end_stream(stream_id)
        return sent

    def end_stream(self, stream_id: int) -> None:
        self._h2.end_stream(stream_id)

    def cancel(self, stream_id: int) -> None:
        """RST_STREAM for a stream the application gave up (a no-op once closed); with
        STREAM_CLOSED, the code libcurl 8.23 sends when a handle is removed mid-stream."""
        self._trailers.pop(stream_id, None)
        try:
            self._h2.reset_stream(stream_id, ErrorCodes.STREAM_CLOSED)
        except H2Error:
            pass

    def close(self) -> None:
        """GOAWAY(NO_ERROR) before the connection is closed."""
        try:
            self._h2.close_connection()
        except H2Error:
            pass

    def _reset(self, stream_id: int) -> None:
        """RST_STREAM(PROTOCOL_ERROR), as nghttp2 sends for a stream that broke HTTP's rules."""
        self._trailers.pop(stream_id, None)
        try:
            self._h2.reset_stream(stream_id, ErrorCodes.PROTOCOL_ERROR)
        except H2Error:
            pass

    def consumed(self, stream_id: int, n: int) -> None:
        """The application took `n` bytes of the stream's DATA: grant them again."""
        if n:
            self._h2.acknowledge_received_data(n, stream_id)

    def outgoing(self) -> bytes:
        return bytes(self._h2.data_to_send())

    # -- responses

    def feed(self, data: bytes) -> list[tuple[int, StreamEvent]]:
        """Received bytes in; the streams' events out, in order.

        Raises CurlError(E_HTTP2) when the peer broke the protocol (the connection is over).
        """
        try:
            events = self._h2.receive_data(data)
        except PushRefused as exc:
            # libcurl fails the stream the push came on, in nghttp2's words
            raise CurlError(
                C.E_HTTP2_STREAM,
                f"[HTTP2] [{exc.stream_id}] received invalid frame: FRAME[PUSH_PROMISE,"
                f" len={exc.length}, hend=1], error -505: Protocol error",
            ) from exc
        except ProtocolError as exc:
            code = int(getattr(exc, "error_code", ErrorCodes.PROTOCOL_ERROR))
            raise CurlError(
                C.E_HTTP2,
                f"nghttp2 shuts down connection with error {code}: {error_name(code)}",
            ) from exc
        out: list[tuple[int, StreamEvent]] = []
        for ev in events:
            tp = type(ev)
            if tp is DataReceived:
                assert isinstance(ev, DataReceived)
                sid = ev.stream_id
                data_ = ev.data
                pad = ev.flow_controlled_length - len(data_)
                if pad:
                    self._h2.acknowledge_received_data(pad, sid)
                if data_:
                    out.append((sid, Body(data_)))
            elif tp is ResponseReceived or tp is InformationalResponseReceived:
                assert isinstance(ev, (ResponseReceived, InformationalResponseReceived))
                head = _head(ev.headers)
                if head.status:
                    out.append((ev.stream_id, head))
                    continue
                # no :status (nghttp2: "Violation in HTTP messaging rule"; libcurl: 8)
                sid = ev.stream_id
                eos = int(getattr(ev, "stream_ended", None) is not None)
                length = getattr(self._h2.decoder, "block_length", 0)
                frame = f"FRAME[HEADERS, len={length}, hend=1, eos={eos}]"
                message = f"received invalid frame: {frame}, error -532"
                self._reset(sid)
                text = f"[HTTP2] [{sid}] {message}: Violation in HTTP messaging rule"
                out.append((sid, Failed(C.E_WEIRD_SERVER_REPLY, text, [], 0)))
            elif tp is _FieldRefused:
                assert isinstance(ev, _FieldRefused)
                bad = ev.refused
                status = 0
                lines: list[bytes] = []
                for name, value in bad.kept:
                    if name == b":status":
                        status = int(value)
                        lines.append(b"HTTP/2 %03d \r\n" % status)
                    else:
                        lines.append(name + b": " + value + b"\r\n")
                self._trailers.pop(ev.stream_id, None)  # h2 has reset the stream already
                out.append(
                    (ev.stream_id, _field_failure(ev.stream_id, bad.name, bad.value, lines, status))
                )
            elif tp is StreamEnded:
                assert isinstance(ev, StreamEnded)
                sid = ev.stream_id
                out.append((sid, End(self._trailers.pop(sid, []), True)))
            elif tp is TrailersReceived:
                assert isinstance(ev, TrailersReceived)
                sid = ev.stream_id
                pseudo = [(n, v) for n, v in ev.headers if n[:1] == b":"]
                if pseudo:  # nghttp2 refuses pseudo-headers in trailers
                    failed = _field_failure(sid, *pseudo[0])
                    self._reset(sid)
                    out.append((sid, failed))
                    continue
                self._trailers[sid] = [n + b": " + v + b"\r\n" for n, v in ev.headers]
            elif tp is StreamReset:
                assert isinstance(ev, StreamReset)
                self._trailers.pop(ev.stream_id, None)
                out.append((ev.stream_id, Reset(int(ev.error_code), bool(ev.remote_reset))))
            elif tp is ConnectionTerminated:
                assert isinstance(ev, ConnectionTerminated)
                last = ev.last_stream_id if ev.last_stream_id is not None else 0
                self.goaway = GoAway(int(last), int(ev.error_code or 0))
        return out


def _field_failure(
    stream_id: int, name: bytes, value: bytes, lines: list[bytes] | None = None, status: int = 0
) -> Failed:
    """libcurl's failure for a field nghttp2 refused (its error callback's words), after the
    head `lines` (and `status`) HEADERFUNCTION had had before it."""
    return Failed(
        C.E_HTTP2_STREAM,
        f"Invalid HTTP header field was received: frame type: 1, stream: {stream_id},"
        f" name: [{name.decode('latin-1')}], value: [{value.decode('latin-1')}]",
        [] if lines is None else lines,
        status,
    )


def _head(headers: list[tuple[bytes, bytes]]) -> Head:
    """A response head as the engine takes it from HTTP/1, from h2's (bytes) header list."""
    status = 0
    fields: list[tuple[bytes, bytes]] = []
    notable: list[int] = []
    content_length: int | None = None
    for name, value in headers:
        if name[:1] == b":":
            if name == b":status":
                status = int(value)
            continue
        if name in NOTABLE:
            notable.append(len(fields))
            if name == b"content-length" and value.isdigit():
                content_length = int(value)
        fields.append((name, value))
    lines = [b"HTTP/2 %03d \r\n" % status]
    lines += [name + b": " + value + b"\r\n" for name, value in fields]
    lines.append(b"\r\n")
    return Head(
        status,
        b"",
        20,
        fields,
        lines,
        sum(map(len, lines)),
        content_length,
        chunked=False,
        keep_alive=True,
        notable=notable,
    )


_UPGRADE_SETTINGS: list[bytes] = []


def upgrade_settings() -> bytes:
    """The HTTP2-Settings value of an `Upgrade: h2c` request (RFC 7540 §3.2.1): the SETTINGS
    every H2Session sends, base64url-encoded."""
    if not _UPGRADE_SETTINGS:
        _UPGRADE_SETTINGS.append(H2Session(upgrade=True).settings_header)
    return _UPGRADE_SETTINGS[0]
