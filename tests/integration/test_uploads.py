"""Uploads through the engine, on purecurl and the real pycurl alike: READFUNCTION bodies with
Content-Length or chunked, PUT via UPLOAD, Expect: 100-continue, the read callback's special
answers, rewinding for a redirect, ranges, MAXFILESIZE and the speed limits.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.integration._util import fetch, make_curl, perform, run_multi
from tests.servers import HttpServer, Request, Response, ScriptedServer, ServerConnection


@pytest.fixture
def server() -> Iterator[HttpServer]:
    def echo_method(request: Request) -> Response:
        return Response(body=request.method.encode() + b" " + request.body)

    with HttpServer({"/m": echo_method, "/307": Response(307, [("Location", "/m")])}) as s:
        yield s


def _reader(data: bytes) -> Any:
    return io.BytesIO(data).read


def test_put_with_size(mod: ModuleType, server: HttpServer) -> None:
    out = fetch(
        mod,
        server.url("/m"),
        [("UPLOAD", 1), ("READFUNCTION", _reader(b"hello")), ("INFILESIZE", 5)],
    )
    assert (out.code, out.body) == (0, b"PUT hello")
    request = server.requests[0]
    assert request.header("content-length") == "5"
    assert request.header("expect") is None
    assert request.header("content-type") is None
    assert request.header("transfer-encoding") is None


def test_put_unknown_size_is_chunked_and_expects_100(mod: ModuleType, server: HttpServer) -> None:
    data = bytes(range(256)) * 1000
    out = fetch(mod, server.url("/m"), [("UPLOAD", 1), ("READFUNCTION", _reader(data))])
    assert (out.code, out.body) == (0, b"PUT " + data)
    request = server.requests[0]
    assert request.header("transfer-encoding") == "chunked"
    assert request.header("expect") == "100-continue"
    assert request.header("content-length") is None
    # the 100 Continue reaches the header callback as libcurl passes it on
    assert out.headers[0].startswith(b"HTTP/1.1 100")


def test_post_readfunction_tornado_style(mod: ModuleType, server: HttpServer) -> None:
    """Tornado's curl client: POST + POSTFIELDSIZE + READFUNCTION + IOCTLFUNCTION, "Expect:"."""
    body = io.BytesIO(b"a=1&b=2")
    restarts: list[int] = []

    def ioctl(cmd: int) -> None:
        restarts.append(cmd)
        body.seek(0)

    c, out = make_curl(
        mod,
        server.url("/m"),
        [
            ("POST", 1),
            ("POSTFIELDSIZE", 7),
            ("READFUNCTION", body.read),
            ("HTTPHEADER", ["Expect:"]),
        ],
    )
    with pytest.warns(DeprecationWarning, match="IOCTLFUNCTION is deprecated"):
        c.setopt(mod.IOCTLFUNCTION, ioctl)  # pycurl warns too
    try:
        result = perform(mod, c)
        assert c.getinfo(mod.SIZE_UPLOAD_T) == 7
    finally:
        c.close()
    assert (result.code, out.body) == (0, b"POST a=1&b=2")
    request = server.requests[0]
    assert request.header("content-type") == "application/x-www-form-urlencoded"
    assert request.header("content-length") == "7"
    assert request.header("expect") is None
    assert restarts == []


def test_large_body_waits_for_100_then_sends_anyway(mod: ModuleType) -> None:
    """A body over 1 MiB asks for 100-continue; a server that never answers it gets the body
    after EXPECT_100_TIMEOUT_MS."""
    size = 1024 * 1024 + 1
    seen: dict[str, Any] = {}

    def handler(conn: ServerConnection) -> None:
        head = conn.read_head()
        assert head is not None
        start = time.monotonic()
        request = conn.read_body(head, answer_continue=False)
        seen["waited"] = time.monotonic() - start
        seen["expect"] = head.header("expect")
        seen["length"] = len(request.body)
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    with ScriptedServer(handler) as s:
        out = fetch(
            mod,
            s.url("/"),
            [
                ("UPLOAD", 1),
                ("READFUNCTION", _reader(b"x" * size)),
                ("INFILESIZE_LARGE", size),
                ("EXPECT_100_TIMEOUT_MS", 300),
            ],
        )
    assert (out.code, out.body) == (0, b"ok")
    assert seen["expect"] == "100-continue"
    assert seen["length"] == size
    assert seen["waited"] >= 0.2


def test_final_answer_instead_of_100_stops_the_upload(mod: ModuleType) -> None:
    def handler(conn: ServerConnection) -> None:
        head = conn.read_head()
        assert head is not None
        conn.send(b"HTTP/1.1 413 Too Large\r\nContent-Length: 4\r\n\r\nnope")
        conn.read_until_eof()  # the client closes: it cannot reuse this connection

    reads: list[int] = []

    def read(n: int) -> bytes:
        reads.append(n)
        return b"y" * n

    with ScriptedServer(handler) as s:
        out = fetch(mod, s.url("/"), [("UPLOAD", 1), ("READFUNCTION", read)])
    assert (out.code, out.response_code, out.body) == (0, 413, b"nope")
    assert reads == []  # the body was never read


def _failing(mod: ModuleType, server: HttpServer, read: Any, size: int = -1) -> tuple[int, str]:
    opts: list[tuple[str, Any]] = [("UPLOAD", 1), ("READFUNCTION", read)]
    if size >= 0:
        opts.append(("INFILESIZE", size))
    out = fetch(mod, server.url("/m"), opts)
    return out.code, out.message


def test_read_abort(mod: ModuleType, server: HttpServer) -> None:
    got = _failing(mod, server, lambda n: mod.READFUNC_ABORT)
    assert got == (mod.E_ABORTED_BY_CALLBACK, "operation aborted by callback")


def test_read_short_of_the_size(mod: ModuleType, server: HttpServer) -> None:
    got = _failing(mod, server, _reader(b"abc"), size=10)
    assert got == (
        mod.E_READ_ERROR,
        "client read function EOF fail, only 3/10 of needed bytes read",
    )


def test_read_returns_too_much(mod: ModuleType, server: HttpServer) -> None:
    code, _ = _failing(mod, server, lambda n: b"z" * (n + 1))
    assert code == mod.E_ABORTED_BY_CALLBACK


def test_read_raises(mod: ModuleType, server: HttpServer) -> None:
    def read(n: int) -> bytes:
        raise RuntimeError("boom")

    c, _ = make_curl(mod, server.url("/m"), [("UPLOAD", 1), ("READFUNCTION", read)])
    try:
        out = perform(mod, c)
        if mod.__name__ == "purecurl":
            assert isinstance(c.callback_error, RuntimeError)
    finally:
        c.close()
    assert out.code == mod.E_ABORTED_BY_CALLBACK


def test_redirect_307_rewinds_with_seek(mod: ModuleType, server: HttpServer) -> None:
    body = io.BytesIO(b"payload")
    seeks: list[tuple[int, int]] = []

    def seek(offset: int, origin: int) -> int:
        seeks.append((offset, origin))
        body.seek(offset, origin)
        return 0

    out = fetch(
        mod,
        server.url("/307"),
        [
            ("FOLLOWLOCATION", 1),
            ("UPLOAD", 1),
            ("READFUNCTION", body.read),
            ("SEEKFUNCTION", seek),
            ("INFILESIZE", 7),
        ],
    )
    assert (out.code, out.body) == (0, b"PUT payload")
    assert seeks == [(0, 0)]
    assert [r.method for r in server.requests] == ["PUT", "PUT"]


def test_redirect_307_without_a_way_to_rewind(mod: ModuleType, server: HttpServer) -> None:
    out = fetch(
        mod,
        server.url("/307"),
        [
            ("FOLLOWLOCATION", 1),
            ("UPLOAD", 1),
            ("READFUNCTION", _reader(b"payload")),
            ("INFILESIZE", 7),
        ],
    )
    assert (out.code, out.message) == (
        mod.E_SEND_FAIL_REWIND,
        "necessary data rewind was not possible",
    )


def test_seek_refuses(mod: ModuleType, server: HttpServer) -> None:
    out = fetch(
        mod,
        server.url("/307"),
        [
            ("FOLLOWLOCATION", 1),
            ("UPLOAD", 1),
            ("READFUNCTION", _reader(b"payload")),
            ("SEEKFUNCTION", lambda offset, origin: mod.SEEKFUNC_CANTSEEK),
            ("INFILESIZE", 7),
        ],
    )
    assert (out.code, out.message) == (mod.E_SEND_FAIL_REWIND, "seek callback returned error 2")


def test_read_pause_and_resume(mod: ModuleType, server: HttpServer) -> None:
    pieces = [b"one-", mod.READFUNC_PAUSE, b"two", b""]

    def read(n: int) -> Any:
        return pieces.pop(0)

    c, out = make_curl(mod, server.url("/m"), [("UPLOAD", 1), ("READFUNCTION", read)])
    m = mod.CurlMulti()
    m.add_handle(c)
    try:
        deadline = time.monotonic() + 10
        resumed = False
        while time.monotonic() < deadline:
            _, running = m.perform()
            if not running:
                break
            if not resumed and pieces[0] == b"two":
                time.sleep(0.05)
                c.pause(mod.PAUSE_CONT)
                resumed = True
            m.select(0.05)
        _, ok, failed = m.info_read()
        assert (ok, failed) == ([c], [])
    finally:
        m.remove_handle(c)
        m.close()
        c.close()
    assert out.body == b"PUT one-two"


def test_many_uploads_in_one_multi(mod: ModuleType, server: HttpServer) -> None:
    handles = []
    for i in range(20):
        data = str(i).encode() * (1000 * i + 1)
        c, _ = make_curl(mod, server.url("/m"), [("UPLOAD", 1), ("READFUNCTION", _reader(data))])
        c.expected = b"PUT " + data
        handles.append(c)
    try:
        results = run_multi(mod, handles)
        for c, result in zip(handles, results, strict=True):
            assert (result.code, result.body) == (0, c.expected)
    finally:
        for c in handles:
            c.close()


# -- ranges and sizes


def test_range_header(mod: ModuleType, server: HttpServer) -> None:
    fetch(mod, server.url("/bytes/10"), [("RANGE", "2-5")])
    assert server.requests[0].header("range") == "bytes=2-5"


def test_resume_refused_by_server(mod: ModuleType, server: HttpServer) -> None:
    out = fetch(mod, server.url("/bytes/10"), [("RESUME_FROM", 4)])
    assert server.requests[0].header("range") == "bytes=4-"
    assert (out.code, out.message) == (
        mod.E_RANGE_ERROR,
        "HTTP server does not seem to support byte ranges. Cannot resume.",
    )


def test_resume_honoured(mod: ModuleType) -> None:
    def partial(request: Request) -> Response:
        return Response(206, [("Content-Range", "bytes 4-9/10")], body=b"456789")

    with HttpServer({"/r": partial}) as s:
        out = fetch(mod, s.url("/r"), [("RESUME_FROM_LARGE", 4)])
    assert (out.code, out.response_code, out.body) == (0, 206, b"456789")


def test_maxfilesize_from_content_length(mod: ModuleType, server: HttpServer) -> None:
    out = fetch(mod, server.url("/bytes/100"), [("MAXFILESIZE", 50)])
    assert (out.code, out.message, out.body) == (
        mod.E_FILESIZE_EXCEEDED,
        "Maximum file size exceeded",
        b"",
    )


def test_maxfilesize_during_chunked_body(mod: ModuleType, server: HttpServer) -> None:
    out = fetch(mod, server.url("/chunked/100000"), [("MAXFILESIZE", 50000)])
    assert out.code == mod.E_FILESIZE_EXCEEDED
    assert len(out.body) <= 50000


def test_max_recv_speed_waits_on_the_timer(mod: ModuleType, server: HttpServer) -> None:
    # A lower bound only: 1 MB at 2 MB/s takes about 0.5 s, less what the last reads bring
    # in at once (purecurl reads up to 256 KiB per recv).
    start = time.monotonic()
    out = fetch(mod, server.url("/bytes/1000000"), [("MAX_RECV_SPEED_LARGE", 2_000_000)])
    elapsed = time.monotonic() - start
    assert (out.code, len(out.body)) == (0, 1000000)
    assert elapsed >= 0.3


def test_max_send_speed(mod: ModuleType, server: HttpServer) -> None:
    # libcurl lets a body smaller than one second's worth go at once; 300 KB at 250 KB/s
    # takes about 1.2 s on both.
    data = b"s" * 300_000
    start = time.monotonic()
    out = fetch(
        mod,
        server.url("/m"),
        [
            ("UPLOAD", 1),
            ("READFUNCTION", _reader(data)),
            ("INFILESIZE", len(data)),
            ("MAX_SEND_SPEED_LARGE", 250_000),
        ],
    )
    elapsed = time.monotonic() - start
    assert (out.code, out.body) == (0, b"PUT " + data)
    assert elapsed >= 0.8


def test_transfer_decoding_off_hands_over_the_chunks(mod: ModuleType, server: HttpServer) -> None:
    def chunked(request: Request) -> Response:
        return Response(body=b"abcdefghij", chunked=True, chunk_size=4, trailers=[("T", "1")])

    server.routes["/c"] = chunked
    out = fetch(mod, server.url("/c"), [("HTTP_TRANSFER_DECODING", 0)])
    assert out.code == 0
    assert out.body == b"4\r\nabcd\r\n4\r\nefgh\r\n2\r\nij\r\n0\r\nT: 1\r\n\r\n"
    out = fetch(mod, server.url("/c"))
    assert out.body == b"abcdefghij"
