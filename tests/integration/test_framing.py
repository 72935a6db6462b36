"""Response framing over real loopback sockets: what the user receives for each way an HTTP/1
response can end (RFC 9112 section 6.3), and whether the connection is kept for the next one.

Every test runs on purecurl and on the real pycurl (fixture `mod`), so each assertion is
libcurl's behaviour.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from types import ModuleType

import pytest

from tests.integration._util import fetch, make_curl, perform, run_multi
from tests.servers import HttpServer, Response, ServerConnection, ServerFactory, pattern_bytes


def send_then_close(*responses: bytes) -> Callable[[ServerConnection], None]:
    """A handler answering the i-th request of a connection with responses[i], then closing."""

    def handler(conn: ServerConnection) -> None:
        for data in responses:
            if conn.read_request() is None:
                return
            conn.send(data)

    return handler


def test_content_length_body(mod: ModuleType, scripted: ServerFactory) -> None:
    """RFC 9112 6.3 rule 6: Content-Length delimits the body; bytes after it are not body."""
    srv = scripted(responses=[b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"])
    out = fetch(mod, srv.url("/"))
    assert (out.code, out.body, out.response_code) == (0, b"hello", 200)
    assert out.headers == [b"HTTP/1.1 200 OK\r\n", b"Content-Length: 5\r\n", b"\r\n"]


def test_chunked_with_extensions_and_trailers(mod: ModuleType, scripted: ServerFactory) -> None:
    """RFC 9112 7.1: chunk extensions are ignored; trailer fields reach HEADERFUNCTION after the
    head's blank line (libcurl passes each trailer line, but not the blank line ending them)."""
    srv = scripted(
        responses=[
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;ext=1\r\nhello\r\n"
            b'6;name="q z"\r\n world\r\n'
            b"0\r\nX-Trailer: yes\r\nX-Sum: 42\r\n\r\n"
        ]
    )
    out = fetch(mod, srv.url("/"))
    assert (out.code, out.body) == (0, b"hello world")
    assert out.headers == [
        b"HTTP/1.1 200 OK\r\n",
        b"Transfer-Encoding: chunked\r\n",
        b"\r\n",
        b"X-Trailer: yes\r\n",
        b"X-Sum: 42\r\n",
    ]


def test_chunked_connection_is_reused(mod: ModuleType, server: HttpServer) -> None:
    """RFC 9112 7.1: the last chunk and trailers end the message; the connection stays open, so
    a second perform on the handle reuses it (one connection on the server)."""
    c, out = make_curl(mod, server.url("/chunked/100000"))
    try:
        first = perform(mod, c)
        assert (first.code, first.body) == (0, pattern_bytes(100000))
        out.chunks.clear()
        second = perform(mod, c)
        assert (second.code, second.body, second.num_connects) == (0, pattern_bytes(100000), 0)
    finally:
        c.close()
    assert server.connections_accepted == 1


@pytest.mark.parametrize(
    "head",
    [b"HTTP/1.0 200 OK\r\n\r\n", b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"],
    ids=["http10", "http11-close"],
)
def test_close_delimited_body(mod: ModuleType, scripted: ServerFactory, head: bytes) -> None:
    """RFC 9112 6.3 rule 8: without length or chunking the body runs until the server closes;
    the whole body arrives and the transfer succeeds."""
    body = pattern_bytes(300_000)
    srv = scripted(send_then_close(head + body))
    out = fetch(mod, srv.url("/"))
    assert (out.code, out.response_code, len(out.body)) == (0, 200, len(body))
    assert out.body == body


def test_nobody_head_keeps_connection(mod: ModuleType, server: HttpServer) -> None:
    """RFC 9110 9.3.2: a HEAD response has no body whatever Content-Length says; with NOBODY
    libcurl sends HEAD, receives the head only and keeps the connection for the next request."""
    server.routes["/big"] = Response(body=b"x" * 1000)
    c, _ = make_curl(mod, server.url("/big"), [("NOBODY", 1)])
    try:
        first = perform(mod, c)
        assert (first.code, first.body, first.response_code) == (0, b"", 200)
        assert b"Content-Length: 1000\r\n" in first.headers
        c.setopt(mod.NOBODY, 0)
        second = perform(mod, c)
        assert (second.code, second.body) == (0, b"x" * 1000)
    finally:
        c.close()
    assert [r.method for r in server.requests] == ["HEAD", "GET"]
    assert server.connections_accepted == 1


def test_interim_1xx_responses_before_final(mod: ModuleType, scripted: ServerFactory) -> None:
    """RFC 9110 15.2: 1xx responses (100 Continue, 103 Early Hints) come before the final one;
    their lines reach HEADERFUNCTION, the body and RESPONSE_CODE are the final response's."""
    srv = scripted(
        responses=[
            b"HTTP/1.1 100 Continue\r\n\r\n"
            b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        ]
    )
    out = fetch(mod, srv.url("/"))
    assert (out.code, out.body, out.response_code) == (0, b"ok", 200)
    assert out.headers == [
        b"HTTP/1.1 100 Continue\r\n",
        b"\r\n",
        b"HTTP/1.1 103 Early Hints\r\n",
        b"Link: </s.css>; rel=preload\r\n",
        b"\r\n",
        b"HTTP/1.1 200 OK\r\n",
        b"Content-Length: 2\r\n",
        b"\r\n",
    ]


@pytest.mark.parametrize(
    "status_line",
    [b"HTTP/1.1 204 No Content", b"HTTP/1.1 304 Not Modified"],
    ids=["204", "304"],
)
def test_bodyless_status_then_reuse(
    mod: ModuleType, scripted: ServerFactory, status_line: bytes
) -> None:
    """RFC 9112 6.3 rule 1: 204 and 304 end at the blank line (a 304's Content-Length describes
    the selected representation, not this message); the connection serves the next request."""
    first = status_line + b"\r\nContent-Length: 10\r\n\r\n"
    if status_line.startswith(b"HTTP/1.1 204"):
        first = status_line + b"\r\n\r\n"
    srv = scripted(responses=[first, b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"])
    c, out = make_curl(mod, srv.url("/"))
    try:
        one = perform(mod, c)
        assert (one.code, one.body, one.response_code) == (0, b"", int(status_line[9:12]))
        out.chunks.clear()
        two = perform(mod, c)
        assert (two.code, two.body, two.response_code) == (0, b"abc", 200)
    finally:
        c.close()
    assert srv.connections_accepted == 1


def test_http10_server_not_reused(mod: ModuleType, scripted: ServerFactory) -> None:
    """RFC 9112 9.3: an HTTP/1.0 response without keep-alive means the connection closes after
    it; libcurl reports INFO_HTTP_VERSION 1.0 and opens a new connection for the next request."""
    srv = scripted(send_then_close(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\none"))
    c, out = make_curl(mod, srv.url("/"))
    try:
        one = perform(mod, c)
        assert (one.code, one.body, one.http_version) == (0, b"one", mod.CURL_HTTP_VERSION_1_0)
        out.chunks.clear()
        two = perform(mod, c)
        assert (two.code, two.body, two.num_connects) == (0, b"one", 1)
    finally:
        c.close()
    assert srv.connections_accepted == 2


def test_http_version_1_0_request(mod: ModuleType, server: HttpServer) -> None:
    """HTTP_VERSION = CURL_HTTP_VERSION_1_0 sends an HTTP/1.0 request line; the response (which
    the server closes, RFC 9112 9.3) is read to its end."""
    out = fetch(mod, server.url("/bytes/5000"), [("HTTP_VERSION", mod.CURL_HTTP_VERSION_1_0)])
    assert (out.code, out.body) == (0, pattern_bytes(5000))
    assert server.requests[0].version == "HTTP/1.0"


@pytest.mark.slow
def test_large_body_intact_in_big_writes(pure: ModuleType, server: HttpServer) -> None:
    """purecurl's BUFFERSIZE default is large (issue 2: "read in big chunks, never byte by
    byte"): 32 MiB arrive intact in far fewer write calls than libcurl's 16 KiB pieces."""
    size = 32 * 1024 * 1024
    out = fetch(pure, server.url(f"/bytes/{size}"))
    assert out.code == 0
    assert hashlib.sha256(out.body).digest() == hashlib.sha256(pattern_bytes(size)).digest()
    assert len(out.chunks) < size // (16 * 1024) // 4


def test_large_body_chunks_within_libcurl_cap(mod: ModuleType, server: HttpServer) -> None:
    """A 4 MiB Content-Length body arrives intact, each WRITEFUNCTION call at most the receive
    buffer size (CURLOPT_WRITEFUNCTION: at most CURL_MAX_WRITE_SIZE = 16 KiB in libcurl; the
    purecurl default buffer is larger, so only the total and the bytes are common)."""
    size = 4 * 1024 * 1024
    out = fetch(mod, server.url(f"/bytes/{size}"))
    assert out.code == 0
    assert out.body == pattern_bytes(size)
    assert all(out.chunks)


@pytest.mark.parametrize("path", ["/bytes/200000", "/chunked/200000"])
def test_buffersize_caps_write_size(mod: ModuleType, server: HttpServer, path: str) -> None:
    """CURLOPT_BUFFERSIZE is the receive buffer: no WRITEFUNCTION call is larger than it."""
    out = fetch(mod, server.url(path), [("BUFFERSIZE", 1024)])
    assert (out.code, out.body) == (0, pattern_bytes(200000))
    assert max(len(chunk) for chunk in out.chunks) <= 1024


FRAMINGS = [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", b"hello"),
    (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n",
        b"abc",
    ),
    (b"HTTP/1.0 200 OK\r\n\r\n" + pattern_bytes(70000), pattern_bytes(70000)),
    (b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close", b"until close"),
    (b"HTTP/1.1 204 No Content\r\n\r\n", b""),
    (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", b"ok"),
]


def test_framings_through_socket_action(mod: ModuleType, scripted: ServerFactory) -> None:
    """The same framings driven at once through the selectors driver (socket_action): each
    transfer gets exactly its body (RFC 9112 6.3), none waits for another."""
    servers = [scripted(send_then_close(raw)) for raw, _ in FRAMINGS]
    handles = [make_curl(mod, srv.url("/"))[0] for srv in servers]
    try:
        outs = run_multi(mod, handles, timeout=5)
    finally:
        for c in handles:
            c.close()
    assert [(o.code, o.body) for o in outs] == [(0, body) for _, body in FRAMINGS]
