"""proto.http2: the sans-IO HTTP/2 client session against an in-memory h2 server."""

from __future__ import annotations

import pytest
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.events import DataReceived, RequestReceived, StreamEnded, StreamReset
from h2.settings import SettingCodes
from hyperframe.frame import GoAwayFrame
from hypothesis import given, settings
from hypothesis import strategies as st

from purecurl import _codes as C
from purecurl._errors import CurlError
from purecurl.proto.http1 import Body, End, Head
from purecurl.proto.http2 import GoAway, H2Session, Reset, error_name, h2_request_fields


def _head(path: bytes = b"/x", extra: bytes = b"") -> bytes:
    return (
        b"GET " + path + b" HTTP/1.1\r\nHost: example.com:8443\r\nUser-Agent: t\r\n"
        b"Accept: */*\r\n" + extra + b"\r\n"
    )


class Pair:
    """A client session wired to an h2 server connection, bytes moved by hand."""

    def __init__(self, stream_window: int = 1 << 20) -> None:
        self.client = H2Session(stream_window=stream_window)
        self.server = H2Connection(H2Configuration(client_side=False, header_encoding=None))
        self.server.initiate_connection()
        self.server_events: list[object] = []
        self.to_server()
        self.to_client()

    def to_server(self) -> None:
        data = self.client.outgoing()
        if data:
            self.server_events.extend(self.server.receive_data(data))

    def to_client(self, bytewise: bool = False) -> list[tuple[int, object]]:
        data = self.server.data_to_send()
        if not bytewise:
            return list(self.client.feed(data))
        out: list[tuple[int, object]] = []
        for i in range(len(data)):
            out.extend(self.client.feed(data[i : i + 1]))
        return out

    def request(self, path: bytes = b"/x") -> int:
        fields = h2_request_fields(_head(path), b"https", b"example.com:8443", False)
        sid = self.client.request(fields, end_stream=True)
        self.to_server()
        return sid


def test_request_fields_follow_curl_http_req_to_h2() -> None:
    head = _head(
        b"/p?q=1",
        b"Connection: keep-alive\r\nTransfer-Encoding: chunked\r\nTE: gzip\r\n"
        b"Expect: 100-continue\r\nX-Custom:  v  \r\n",
    )
    fields = h2_request_fields(head, b"https", b"fallback", drop_expect=True)
    assert fields == [
        (b":method", b"GET"),
        (b":scheme", b"https"),
        (b":authority", b"example.com:8443"),
        (b":path", b"/p?q=1"),
        (b"user-agent", b"t"),
        (b"accept", b"*/*"),
        (b"x-custom", b"v"),
    ]
    kept = h2_request_fields(_head(extra=b"TE: trailers\r\n"), b"https", b"a", drop_expect=False)
    assert (b"te", b"trailers") in kept


def test_authority_from_the_url_when_host_was_removed() -> None:
    head = b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"
    fields = h2_request_fields(head, b"http", b"h:1", False)
    assert fields[2] == (b":authority", b"h:1")


@pytest.mark.parametrize("bytewise", [False, True])
def test_response_head_body_trailers_as_curl_hands_them_over(bytewise: bool) -> None:
    p = Pair()
    sid = p.request()
    assert any(isinstance(e, RequestReceived) for e in p.server_events)
    p.server.send_headers(sid, [(b":status", b"200"), (b"content-length", b"5"), (b"x-a", b"1")])
    p.server.send_data(sid, b"hello")
    p.server.send_headers(sid, [(b"x-trailer", b"t")], end_stream=True)
    events = p.to_client(bytewise)
    heads = [e for _, e in events if isinstance(e, Head)]
    assert len(heads) == 1
    head = heads[0]
    assert head.status == 200 and head.version == 20 and head.content_length == 5
    assert head.lines == [b"HTTP/2 200 \r\n", b"content-length: 5\r\n", b"x-a: 1\r\n", b"\r\n"]
    assert head.size == sum(map(len, head.lines))
    body = b"".join(e.data for _, e in events if isinstance(e, Body))
    assert body == b"hello"
    ends = [e for _, e in events if isinstance(e, End)]
    assert len(ends) == 1 and ends[0].trailers == [b"x-trailer: t\r\n"]
    assert {s for s, _ in events} == {sid}


def test_a_paused_stream_gets_no_more_than_its_window() -> None:
    p = Pair(stream_window=1000)
    sid = p.request()
    assert p.server.local_flow_control_window(sid) == 1000
    p.server.send_headers(sid, [(b":status", b"200")])
    p.server.send_data(sid, b"x" * 1000)
    p.to_client()
    p.to_server()
    assert p.server.local_flow_control_window(sid) == 0  # nothing consumed: no more window
    p.client.consumed(sid, 1000)
    p.to_server()
    assert p.server.local_flow_control_window(sid) > 0


def test_connection_window_is_opened_wide() -> None:
    p = Pair()
    assert p.server.outbound_flow_control_window > 1 << 29


def test_stream_reset_is_a_stream_event() -> None:
    p = Pair()
    a = p.request(b"/a")
    b = p.request(b"/b")
    p.server.reset_stream(a, ErrorCodes.INTERNAL_ERROR)
    p.server.send_headers(b, [(b":status", b"204")], end_stream=True)
    events = p.to_client()
    resets = [(s, e) for s, e in events if isinstance(e, Reset)]
    assert len(resets) == 1 and resets[0][0] == a
    assert resets[0][1].error_code == ErrorCodes.INTERNAL_ERROR and resets[0][1].remote
    assert any(s == b and isinstance(e, End) for s, e in events)
    assert error_name(2) == "INTERNAL_ERROR" and error_name(999) == "unknown"


def test_streams_up_to_goaway_last_id_still_complete() -> None:
    p = Pair()
    a = p.request(b"/a")
    b = p.request(b"/b")
    p.server.send_headers(a, [(b":status", b"200")])
    before = p.server.data_to_send()
    # h2's server side sends nothing after its own GOAWAY, so the frame is made by hand
    goaway = GoAwayFrame(0, last_stream_id=a).serialize()
    p.server.send_data(a, b"late", end_stream=True)  # RFC 9113 §6.8: may still complete
    events = list(p.client.feed(before + goaway + p.server.data_to_send()))
    assert isinstance(p.client.goaway, GoAway)
    assert p.client.goaway.last_stream_id == a < b
    assert b"".join(e.data for s, e in events if isinstance(e, Body) and s == a) == b"late"
    assert any(s == a and isinstance(e, End) for s, e in events)


def test_protocol_violation_is_e_http2() -> None:
    p = Pair()
    p.request()
    with pytest.raises(CurlError) as info:
        p.client.feed(b"\x00\x00\x04\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00")  # bad WINDOW_UPDATE
    assert info.value.code == C.E_HTTP2
    assert info.value.message == "nghttp2 shuts down connection with error 1: PROTOCOL_ERROR"
    assert p.client.outgoing()  # the GOAWAY h2 owes the peer


def test_an_overlong_frame_is_refused_at_its_header() -> None:
    p = Pair()
    p.request()
    with pytest.raises(CurlError) as info:
        p.client.feed(b"HTTP/1.1 200 OK\r\n")  # a 4.7 MB "frame": no need to wait for it
    assert (info.value.code, info.value.message) == (
        C.E_HTTP2,
        "nghttp2 shuts down connection with error 6: FRAME_SIZE_ERROR",
    )


def test_push_is_refused() -> None:
    p = Pair()
    sid = p.request()
    # The server ignores our SETTINGS_ENABLE_PUSH=0: a connection error, as with nghttp2.
    p.server.local_settings.acknowledge()
    p.server.remote_settings.update({2: 1})  # pretend push was allowed, to be able to send it
    p.server.remote_settings.acknowledge()
    p.server.push_stream(
        sid,
        2,
        [
            (b":method", b"GET"),
            (b":scheme", b"https"),
            (b":authority", b"example.com"),
            (b":path", b"/pushed"),
        ],
    )
    with pytest.raises(CurlError) as info:
        p.to_client()
    # libcurl fails the stream the push came on with 92, in nghttp2's words
    assert info.value.code == C.E_HTTP2_STREAM
    assert f"[HTTP2] [{sid}] received invalid frame: FRAME[PUSH_PROMISE" in info.value.message


def test_upload_respects_the_send_window() -> None:
    p = Pair()
    fields = h2_request_fields(
        b"POST /u HTTP/1.1\r\nHost: h\r\n\r\n", b"https", b"h", drop_expect=False
    )
    sid = p.client.request(fields, end_stream=False)
    window = p.client.send_window(sid)
    assert window == 65535
    data = memoryview(b"y" * 100_000)
    sent = p.client.send_body(sid, data, end_stream=False)
    assert sent == window
    p.to_server()
    got = sum(len(e.data) for e in p.server_events if isinstance(e, DataReceived))
    assert got == window
    p.server.acknowledge_received_data(got, sid)
    p.to_client()
    rest = p.client.send_body(sid, data[sent:], end_stream=True)
    assert sent + rest == 100_000
    p.to_server()
    assert any(isinstance(e, StreamEnded) for e in p.server_events)


def test_header_block_memo_only_for_blocks_that_leave_no_table_state() -> None:
    """The block memo (proto.http2._MemoDecoder) gives hpack's own answer: a block that leaves
    the dynamic table empty is served from the memo the second time; one that adds entries,
    or resizes the table, is decoded every time, and a later block that refers to an entry
    gets that connection's entry, never a memo of another connection's."""
    from hpack import Decoder, Encoder, HPACKDecodingError
    from hpack.struct import NeverIndexedHeaderTuple

    from purecurl.proto import http2

    http2._BLOCK_MEMO.clear()
    plain = [(b":status", b"200"), NeverIndexedHeaderTuple(b"x-plain", b"1")]
    no_index = Encoder()
    block = no_index.encode(plain, huffman=False)
    first, second = http2._MemoDecoder(), http2._MemoDecoder()
    assert first.decode(block, raw=True) == Decoder().decode(block, raw=True)
    assert len(http2._BLOCK_MEMO) == 1
    assert second.decode(block, raw=True) == Decoder().decode(block, raw=True)

    # an indexing encoder: its first block adds entries, its second refers to them
    indexing = Encoder()
    adds = indexing.encode([(b"x-a", b"one")])
    refers = indexing.encode([(b"x-a", b"one")])
    assert refers != adds
    http2._BLOCK_MEMO.clear()
    dec = http2._MemoDecoder()
    assert dec.decode(adds, raw=True) == [(b"x-a", b"one")]
    assert dec.decode(refers, raw=True) == [(b"x-a", b"one")]
    assert not http2._BLOCK_MEMO  # nothing state-bound was kept
    # a fresh decoder cannot resolve the reference: no memo answers for it
    with pytest.raises(HPACKDecodingError, match="Invalid table index 62"):
        http2._MemoDecoder().decode(refers, raw=True)

    # a table size update changes the decoder's state: not memoised
    resized = Encoder()
    resized.header_table_size = 1024
    update = resized.encode([(b":status", b"204")])
    dec = http2._MemoDecoder()
    assert dec.decode(update, raw=True) == [(b":status", b"204")]
    assert dec.header_table.maxsize == 1024
    assert not http2._BLOCK_MEMO


_FIELD_POOL = [
    (b":method", b"GET"),
    (b":path", b"/a"),
    (b":path", b"/b"),
    (b":authority", b"example.com"),
    (b"user-agent", b"purecurl"),
    (b"x-long", b"v" * 3000),
    (b"x-n", b"1"),
    (b"x-n", b"2"),
]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.lists(st.sampled_from(_FIELD_POOL), min_size=1, max_size=6),
            st.sampled_from([256, 4096, 0]),
        ),
        max_size=25,
    )
)
def test_header_encoder_memo_matches_hpack(steps: list[list[tuple[bytes, bytes]] | int]) -> None:
    """The request block memo (proto.http2._MemoEncoder) run in lockstep with hpack's own
    encoder: every block is the same bytes, whatever adds, evictions and table resizes came
    between two requests with the same fields, and a decoder reading them gets the fields."""
    from hpack import Decoder, Encoder

    from purecurl.proto import http2

    memo = Encoder()
    memo.__class__ = http2._MemoEncoder
    assert isinstance(memo, http2._MemoEncoder)
    memo._memo = {}
    plain, decoder = Encoder(), Decoder()
    for step in steps:
        if isinstance(step, int):
            # (setting the size it has already loses a pending change in hpack: not ours)
            if step != plain.header_table_size:
                memo.header_table_size = plain.header_table_size = step
            continue
        block = memo.encode(list(step))
        assert block == plain.encode(list(step))
        assert decoder.decode(block, raw=True) == step


def test_header_encoder_memo_serves_repeats_and_skips_never_indexed() -> None:
    """A repeated request's block comes from the memo once its fields are in the table;
    fields marked never-indexed (HeaderTuple subclasses) are always encoded afresh."""
    from hpack import Encoder
    from hpack.struct import NeverIndexedHeaderTuple

    from purecurl.proto import http2

    enc = Encoder()
    enc.__class__ = http2._MemoEncoder
    assert isinstance(enc, http2._MemoEncoder)
    enc._memo = {}
    fields = [(b":method", b"GET"), (b"x-a", b"1")]
    first = enc.encode(list(fields))  # adds x-a: changes the table, not kept
    assert not enc._memo
    second = enc.encode(list(fields))
    assert second != first and len(enc._memo) == 1
    assert enc.encode(list(fields)) is second
    secret = [(b":method", b"GET"), NeverIndexedHeaderTuple(b"authorization", b"k")]
    enc.encode(secret)
    assert len(enc._memo) == 1


def test_ended_streams_are_dropped_in_bounded_batches_and_the_peer_limit_holds() -> None:
    """_ClientConnection.open_outbound_streams skips h2's visit of every stream while few are
    held: ended streams are still dropped (at most _STREAM_SCAN_AT held at once), and the
    peer's SETTINGS_MAX_CONCURRENT_STREAMS is still enforced once it is near."""
    from h2.exceptions import TooManyStreamsError

    from purecurl.proto import http2

    p = Pair()
    for _ in range(3 * http2._STREAM_SCAN_AT):
        sid = p.request()
        p.server.send_headers(sid, [(b":status", b"204")], end_stream=True)
        assert [type(e) for _, e in p.to_client()] == [Head, End]
        assert len(p.client._h2.streams) <= http2._STREAM_SCAN_AT
    assert p.client.open_streams == 0

    p.server.update_settings({SettingCodes.MAX_CONCURRENT_STREAMS: 2})
    p.to_client()
    p.to_server()
    p.request()
    p.request()
    assert p.client.open_streams == 2
    with pytest.raises(TooManyStreamsError):
        p.request()


def test_a_refused_field_on_a_cancelled_stream_leaves_the_connection_up() -> None:
    """A head with a field nghttp2 refuses, for a stream the client has reset already, is
    treated as any frame on an ended stream: no event, no connection error; the next stream
    gets its response."""
    from hpack import Encoder
    from hpack.struct import NeverIndexedHeaderTuple
    from hyperframe.frame import HeadersFrame

    p = Pair()
    sid = p.request()
    p.client.cancel(sid)
    p.to_server()
    assert p.client.open_streams == 0  # h2's visit of the streams has dropped the reset one
    late = HeadersFrame(sid)
    late.data = Encoder().encode(
        [NeverIndexedHeaderTuple(b":status", b"200"), NeverIndexedHeaderTuple(b"X-Bad", b"v")]
    )
    late.flags.add("END_HEADERS")
    assert p.client.feed(late.serialize()) == []
    nxt = p.request()
    p.server.send_headers(nxt, [(b":status", b"204")], end_stream=True)
    assert [(s, type(e)) for s, e in p.to_client()] == [(nxt, Head), (nxt, End)]


def test_a_refused_field_fails_only_its_stream() -> None:
    """An upper-case field name resets that stream (PROTOCOL_ERROR) and gives a Failed event
    with libcurl's words and the lines before it; another stream goes on."""
    from hpack import Encoder
    from hpack.struct import NeverIndexedHeaderTuple
    from hyperframe.frame import HeadersFrame

    from purecurl.proto.http2 import Failed

    p = Pair()
    bad, good = p.request(), p.request()
    frame = HeadersFrame(bad)
    frame.data = Encoder().encode(
        [
            NeverIndexedHeaderTuple(b":status", b"200"),
            NeverIndexedHeaderTuple(b"x-ok", b"1"),
            NeverIndexedHeaderTuple(b"X-Bad", b"v"),
        ]
    )
    frame.flags.add("END_HEADERS")
    ((sid, failed),) = p.client.feed(frame.serialize())
    assert sid == bad and isinstance(failed, Failed)
    assert (failed.code, failed.status) == (92, 200)
    assert failed.message == (
        f"Invalid HTTP header field was received: frame type: 1, stream: {bad},"
        " name: [X-Bad], value: [v]"
    )
    assert failed.lines == [b"HTTP/2 200 \r\n", b"x-ok: 1\r\n"]
    p.server.send_headers(good, [(b":status", b"204")], end_stream=True)
    assert [(s, type(e)) for s, e in p.to_client()] == [(good, Head), (good, End)]
    p.to_server()
    resets = [e for e in p.server_events if isinstance(e, StreamReset)]
    assert [(r.stream_id, r.error_code) for r in resets] == [(bad, ErrorCodes.PROTOCOL_ERROR)]
