"""`purecurl.aio` over loopback: requests and responses, gather with a limit, streaming with
backpressure, cancellation, and CURLcodes mapped to the error hierarchy. Tests marked with the
`mod` fixture run the session on purecurl and on the real pycurl (`curl_module=`)."""

from __future__ import annotations

import asyncio
import builtins
import gzip
import json
import threading
import time
from collections.abc import Callable, Coroutine
from types import ModuleType
from typing import Any, TypeVar

import pytest

from purecurl import aio
from tests.servers import (
    HttpServer,
    Request,
    Response,
    ServerConnection,
    ServerFactory,
    pattern_bytes,
    wait_until,
)

T = TypeVar("T")


@pytest.fixture(scope="session", autouse=True)
def _uvloop_warm() -> None:
    """uvloop keeps a process-wide pipe pair from its first loop on: open it before the leak
    check's snapshot."""
    try:
        import uvloop
    except ImportError:
        return
    uvloop.new_event_loop().close()


@pytest.fixture(params=["asyncio", "uvloop"])
def loop_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    if kind == "uvloop":
        pytest.importorskip("uvloop")
    return kind


def run_on(loop_kind: str, main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    if loop_kind == "uvloop":
        import uvloop

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()


def echo_request(request: Request) -> Response:
    """Answer with the request as JSON: method, target, headers, body."""
    info = {
        "method": request.method,
        "target": request.target,
        "headers": request.headers,
        "body": request.body.decode("latin-1"),
    }
    return Response(headers=[("Content-Type", "application/json")], body=json.dumps(info).encode())


@pytest.fixture
def echo(scripted: ServerFactory) -> HttpServer:
    srv = scripted.http(
        {
            "/echo-request": echo_request,
            "/multi": Response(
                headers=[("Set-Cookie", "a=1"), ("X-Thing", "x"), ("set-cookie", "b=2")],
                body=b"ok",
            ),
            "/trailers": Response(body=b"abc", chunked=True, trailers=[("X-Sum", "42")]),
            "/gzip": Response(
                headers=[
                    ("Content-Encoding", "gzip"),
                    ("Content-Type", "text/plain; charset=latin-1"),
                ],
                body=gzip.compress("café".encode("latin-1")),
            ),
        }
    )
    return srv


def stall_after(data: bytes, closed: threading.Event | None = None) -> Any:
    def handler(conn: ServerConnection) -> None:
        if conn.read_request() is None:
            return
        if data:
            conn.send(data)
        try:
            while conn.recv():
                pass
        finally:
            if closed is not None:
                closed.set()

    return handler


# -- requests and responses ---------------------------------------------------------------------


def test_get_params_headers(mod: ModuleType, echo: HttpServer) -> None:
    """params are urlencoded onto the URL; session and request headers are merged (the
    request's win, case-insensitively); status, reason, version and headers are set."""

    async def main() -> tuple[aio.Response, Any]:
        async with aio.Session(curl_module=mod, headers={"X-A": "session", "X-B": "b"}) as s:
            r = await s.get(
                echo.url("/echo-request?z=1"),
                params={"q": "a b", "n": [1, 2]},
                headers={"x-a": "request"},
            )
            return r, await r.json()

    r, info = asyncio.run(main())
    assert (r.status, r.reason, r.http_version, r.ok) == (200, "OK", "HTTP/1.1", True)
    assert r.headers["content-TYPE"] == "application/json"
    assert info["method"] == "GET"
    assert info["target"] == "/echo-request?z=1&q=a+b&n=1&n=2"
    sent = {k.lower(): v for k, v in info["headers"]}
    assert (sent["x-a"], sent["x-b"]) == ("request", "b")
    assert r.elapsed is not None and r.elapsed >= 0


def test_post_bodies(mod: ModuleType, echo: HttpServer) -> None:
    """data= bytes (NULs kept), str (UTF-8), form fields (urlencoded), json= (compact JSON
    with its Content-Type); other methods carry a body with CUSTOMREQUEST; no Expect wait."""
    big = pattern_bytes(2_000_000)

    async def main() -> list[Any]:
        out = []
        async with aio.Session(curl_module=mod) as s:
            for kwargs in (
                {"data": b"a\0b"},
                {"data": "é"},
                {"data": {"k": "v w", "n": ["1", "2"]}},
                {"json": {"x": [1, None]}},
            ):
                r = await s.post(echo.url("/echo-request"), **kwargs)
                out.append(await r.json())
            r = await s.put(echo.url("/echo-request"), data=b"put")
            out.append(await r.json())
            r = await s.post(echo.url("/echo"), data=big)
            out.append(await r.read() == big)
        return out

    raw, text, form, js, put, big_ok = asyncio.run(main())
    assert (raw["method"], raw["body"]) == ("POST", "a\0b")
    assert text["body"].encode("latin-1") == "é".encode()
    assert form["body"] == "k=v+w&n=1&n=2"
    assert ("Content-Type", "application/x-www-form-urlencoded") in [
        tuple(h) for h in form["headers"]
    ]
    assert js["body"] == '{"x":[1,null]}'
    assert ("Content-Type", "application/json") in [tuple(h) for h in js["headers"]]
    assert (put["method"], put["body"]) == ("PUT", "put")
    assert big_ok
    assert all(k.lower() != "expect" for k, _ in map(tuple, put["headers"]))


def test_methods_and_misuse(echo: HttpServer) -> None:
    """HEAD has no body, DELETE/OPTIONS go as CUSTOMREQUEST; data= and json= together, or
    files= with raw data=, is a ValueError."""

    async def main() -> None:
        async with aio.Session() as s:
            r = await s.head(echo.url("/bytes/10"))
            assert (r.status, r.headers["content-length"], await r.read()) == (200, "10", b"")
            for method in ("DELETE", "OPTIONS", "PATCH"):
                r = await s.request(method, echo.url("/echo-request"))
                assert (await r.json())["method"] == method
            with pytest.raises(ValueError, match="form fields"):
                await s.post(echo.url("/echo"), data=b"raw", files={"f": b"x"})
            with pytest.raises(ValueError):
                await s.post(echo.url("/echo"), data=b"x", json=1)
        with pytest.raises(RuntimeError, match="closed"):
            await s.get(echo.url("/"))

    asyncio.run(main())


def test_files_multipart(echo: HttpServer, tmp_path: Any) -> None:
    """files= sends multipart/form-data: data= fields, then bytes, paths and tuples."""
    path = tmp_path / "doc.txt"
    path.write_bytes(b"from disk")

    async def main() -> bytes:
        async with aio.Session() as s:
            r = await s.post(
                echo.url("/echo"),
                data={"field": "value"},
                files={"a": b"in memory", "b": path, "c": ("c.bin", b"\x00\x01", "x/y")},
            )
            assert r.status == 200
            assert r.headers["content-type"].startswith("multipart/form-data; boundary=")
            return await r.read()

    body = asyncio.run(main())
    assert b'name="field"\r\n\r\nvalue\r\n' in body
    assert b'name="a"; filename="a"\r\nContent-Type: application/octet-stream' in body
    assert b'name="b"; filename="doc.txt"\r\nContent-Type: text/plain\r\n\r\nfrom disk' in body
    assert b'name="c"; filename="c.bin"\r\nContent-Type: x/y\r\n\r\n\x00\x01' in body


def test_headers_multidict(echo: HttpServer) -> None:
    """Headers: first value by [], every value by getall, fields in order with the server's
    spelling; trailers of a chunked body; gzip decoded, charset from Content-Type."""

    async def main() -> None:
        async with aio.Session() as s:
            r = await s.get(echo.url("/multi"))
            h = r.headers
            assert h["SET-COOKIE"] == "a=1" and h.getall("set-cookie") == ["a=1", "b=2"]
            assert list(h)[:3] == ["Set-Cookie", "X-Thing", "set-cookie"]
            assert "x-thing" in h and "nope" not in h and h.get("nope") is None
            with pytest.raises(KeyError):
                h["nope"]
            r = await s.get(echo.url("/trailers"))
            assert await r.read() == b"abc" and r.trailers["x-sum"] == "42"
            r = await s.get(echo.url("/gzip"))
            assert await r.text() == "café"

    asyncio.run(main())


def test_handles_reused_without_leftovers(mod: ModuleType, echo: HttpServer, tmp_path: Any) -> None:
    """A session reuses a finished request's handle for the next one, setting only the
    options that differ: nothing of a request (body, headers, method, form, stream mode)
    leaks into the next, and one handle serves the whole sequence."""
    url = echo.url("/echo-request")
    path = tmp_path / "f.txt"
    path.write_bytes(b"file body")

    async def main() -> list[Any]:
        out: list[Any] = []
        async with aio.Session(curl_module=mod) as s:
            r = await s.post(url, json={"a": 1}, headers={"X-First": "1"})
            out.append(await r.json())
            out.append(await (await s.get(url)).json())
            r = await s.head(echo.url("/bytes/10"))
            out.append((r.status, r.headers["content-length"], await r.read()))
            out.append(await (await s.get(url)).json())
            out.append(await (await s.delete(url)).json())
            out.append(await (await s.get(url)).json())
            async with await s.get(echo.url("/bytes/100"), stream=True) as r:
                out.append(b"".join([c async for c in r.stream()]))
            r = await s.post(echo.url("/echo"), files={"f": path})
            out.append(await r.read())
            out.append(await (await s.get(url)).json())
            out.append(repr(s))
        return out

    first, get1, head, get2, delete, get3, streamed, form, get4, state = asyncio.run(main())
    assert (first["method"], first["body"]) == ("POST", '{"a":1}')
    assert ("X-First", "1") in [tuple(h) for h in first["headers"]]
    for get in (get1, get2, get3, get4):
        assert (get["method"], get["target"], get["body"]) == ("GET", "/echo-request", "")
        names = {k.lower() for k, _ in get["headers"]}
        assert not names & {"x-first", "content-type", "content-length"}
    assert head == (200, "10", b"")
    assert delete["method"] == "DELETE"
    assert streamed == pattern_bytes(100)
    assert b"file body" in form
    assert state == "<Session live=0 idle=1>"


def test_interim_and_final_heads(mod: ModuleType, scripted: ServerFactory) -> None:
    """Interim (1xx) heads before the final one: status, headers and trailers are the final
    head's, read whole or streamed."""

    def handler(conn: ServerConnection) -> None:
        while conn.read_request() is not None:
            conn.send(
                b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
                b"HTTP/1.1 200 OK\r\nX-Final: yes\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"2\r\nok\r\n0\r\nX-Sum: 7\r\n\r\n"
            )

    srv = scripted(handler)

    async def main() -> list[Any]:
        out: list[Any] = []
        async with aio.Session(curl_module=mod) as s:
            for stream in (False, True):
                r = await s.get(srv.url("/"), stream=stream)
                body = await r.read()
                out.append((r.status, r.reason, dict(r.headers.raw_items()), body))
                out.append(dict(r.trailers.raw_items()))
        return out

    whole, whole_trailers, streamed, streamed_trailers = asyncio.run(main())
    final = (200, "OK", {"X-Final": "yes", "Transfer-Encoding": "chunked"}, b"ok")
    assert whole == streamed == final
    assert whole_trailers == streamed_trailers == {"X-Sum": "7"}


# -- many at once -------------------------------------------------------------------------------


def test_gather_limit(mod: ModuleType, loop_kind: str, scripted: ServerFactory) -> None:
    """gather() runs every request, at most `limit` at once (the server never sees more
    connections), and returns the responses, read, in input order."""
    srv = scripted.http({"/slow": Response(body=b"s", delay=0.05)})

    async def main() -> list[aio.Response]:
        async with aio.Session(curl_module=mod) as s:
            urls: list[str | aio.Request] = [srv.url(f"/bytes/{i}") for i in range(120)]
            urls += [aio.Request("GET", srv.url("/slow")) for _ in range(12)]
            return await s.gather(urls, limit=6)

    responses = run_on(loop_kind, main)
    assert len(responses) == 132
    assert [r._content for r in responses[:120]] == [pattern_bytes(i) for i in range(120)]
    assert srv.max_concurrent <= 6


def test_max_host_connections(scripted: ServerFactory) -> None:
    """max_host_connections queues the rest in libcurl: 30 concurrent gets, 3 connections."""
    srv = scripted.http({"/slow": Response(body=b"s", delay=0.02)})

    async def main() -> list[aio.Response]:
        async with aio.Session(max_host_connections=3) as s:
            return await asyncio.gather(*(s.get(srv.url("/slow")) for _ in range(30)))

    responses = asyncio.run(main())
    assert [r.status for r in responses] == [200] * 30
    assert srv.max_concurrent <= 3


def test_gather_failure_cancels_the_rest(scripted: ServerFactory) -> None:
    """Without return_exceptions the first failure is raised and the other requests are
    cancelled (their connections closed); with it, the Error takes the request's place."""
    closed = threading.Event()
    stall = scripted(stall_after(b"", closed))
    ok = scripted.http()

    async def main() -> list[aio.Response | aio.Error]:
        async with aio.Session() as s:
            with pytest.raises(aio.ConnectError):
                await s.gather([stall.url("/"), "http://127.0.0.1:1/"], limit=2)
            assert await asyncio.get_running_loop().run_in_executor(None, closed.wait, 5)
            return await s.gather(
                [ok.url("/bytes/3"), "http://127.0.0.1:1/"], return_exceptions=True
            )

    first, second = asyncio.run(main())
    assert isinstance(first, aio.Response) and first.status == 200
    assert isinstance(second, aio.ConnectError) and second.code == 7


# -- streaming ----------------------------------------------------------------------------------


def test_stream_backpressure(mod: ModuleType, loop_kind: str, scripted: ServerFactory) -> None:
    """stream=True: a consumer that stops reading pauses the transfer (the server's sends
    stall well before the body's end while the client holds ~stream_buffer); reading on
    resumes it and every byte arrives in order."""
    total = 48 << 20
    sent = [0]

    def handler(conn: ServerConnection) -> None:
        if conn.read_request() is None:
            return
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % total)
        piece = pattern_bytes(1 << 16)
        while sent[0] < total:
            conn.send(piece)
            sent[0] += len(piece)

    srv = scripted(handler)
    limit = 256 << 10

    async def main() -> tuple[int, int, int, bool]:
        async with aio.Session(curl_module=mod, stream_buffer=limit) as s:
            r = await s.get(srv.url("/"), stream=True)
            assert r.status == 200 and not r.is_closed
            it = r.stream()
            first = await it.__anext__()
            await asyncio.sleep(0.3)  # the consumer is behind
            queued_while_behind = r._queued
            sent_while_behind = sent[0]
            received = len(first)
            ok = first == pattern_bytes(len(first))
            peak = 0
            async for chunk in it:
                peak = max(peak, r._queued)
                offset = received % (1 << 16)
                ok = ok and chunk[:16] == pattern_bytes(offset + 16)[offset:]
                received += len(chunk)
            return queued_while_behind, sent_while_behind, received, ok and r.is_closed

    queued, sent_behind, received, ok = run_on(loop_kind, main)
    assert received == total and ok
    assert queued <= limit + (1 << 20)  # the buffer, plus at most one piece libcurl handed over
    assert sent_behind < total // 2  # paused: the kernel buffers filled and the server stalled


def test_read_and_stream_exclusive(echo: HttpServer) -> None:
    """A body read whole replays as one chunk through stream(); a body being streamed cannot
    be read(); closing a streamed response early frees its connection."""

    async def main() -> None:
        async with aio.Session() as s:
            r = await s.get(echo.url("/bytes/100"))
            assert [c async for c in r.stream()] == [pattern_bytes(100)]
            r = await s.get(echo.url("/bytes/3000000"), stream=True)
            it = r.stream()
            await it.__anext__()
            with pytest.raises(RuntimeError):
                await r.read()
            async with r:
                pass
            assert r.is_closed and s._live == set()
            with pytest.raises(aio.Error):
                await it.__anext__()

    asyncio.run(main())


# -- errors -------------------------------------------------------------------------------------


def test_errors_mapped(mod: ModuleType, scripted: ServerFactory, echo: HttpServer) -> None:
    """CURLcodes become the hierarchy: 7 ConnectError, 28 TimeoutError (a builtin
    TimeoutError too), 47 TooManyRedirects, 1 InvalidURL, 18 NetworkError (after the head:
    raised by read()), HTTPStatusError (22) only with raise_for_status; the pycurl.error is the
    __cause__."""
    stall = scripted(stall_after(b""))
    short = scripted(
        stall_after(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nab")
    )

    def cut_short(conn: ServerConnection) -> None:
        if conn.read_request() is not None:
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab")

    cut = scripted(cut_short)

    async def main() -> None:
        async with aio.Session(curl_module=mod, timeout=5) as s:
            with pytest.raises(aio.ConnectError) as info:
                await s.get("http://127.0.0.1:1/")
            assert info.value.code == 7 and isinstance(info.value.__cause__, mod.error)
            start = time.monotonic()
            with pytest.raises(builtins.TimeoutError) as tinfo:
                await s.get(stall.url("/"), timeout=0.2)
            assert isinstance(tinfo.value, aio.TimeoutError) and tinfo.value.code == 28
            assert time.monotonic() - start < 2
            r = await s.get(echo.url("/redirect/5"))
            assert (r.status, r.url) == (200, echo.url("/redirect/0"))
            s.max_redirects = 1
            with pytest.raises(aio.TooManyRedirects) as rinfo:
                await s.get(echo.url("/redirect/3"))
            assert rinfo.value.code == 47
            s.max_redirects = None
            with pytest.raises(aio.InvalidURL):
                await s.get("nope://127.0.0.1/")
            r = await s.get(cut.url("/"), stream=True)
            assert r.status == 200
            with pytest.raises(aio.NetworkError) as ninfo:
                await r.read()
            assert ninfo.value.code == 18
            with pytest.raises(aio.Error):
                await s.get(short.url("/"), timeout=0.3)
            r = await s.get(echo.url("/status/404"))
            assert r.status == 404 and not r.ok
            with pytest.raises(aio.HTTPStatusError) as hinfo:
                r.raise_for_status()
            assert hinfo.value.response is r and hinfo.value.code == 22
            with pytest.raises(aio.HTTPStatusError):
                await s.get(echo.url("/status/503"), raise_for_status=True)

    asyncio.run(main())


def test_error_for_table() -> None:
    """error_for: each mapped code to its class, anything else to plain Error."""
    cases = {
        6: aio.ConnectError,
        7: aio.ConnectError,
        28: aio.TimeoutError,
        35: aio.TLSError,
        60: aio.TLSError,
        98: aio.TLSError,
        47: aio.TooManyRedirects,
        3: aio.InvalidURL,
        8: aio.ProtocolError,
        56: aio.NetworkError,
        23: aio.Error,
    }
    for code, cls in cases.items():
        err = aio.error_for(code, "m", "http://x/")
        assert type(err) is cls and err.code == code and err.message == "m"
        assert str(err) == f"[{code}] m (http://x/)"


# -- cancellation -------------------------------------------------------------------------------


def test_cancel_request_frees_connection(
    mod: ModuleType, loop_kind: str, scripted: ServerFactory
) -> None:
    """Cancelling a task waiting for the head, or one reading a stream, removes the transfer:
    the server sees the connection close, nothing stays watched, and the session is empty
    (the leak check holds the fds)."""
    closed_head = threading.Event()
    closed_body = threading.Event()
    no_head = scripted(stall_after(b"", closed_head))
    no_body = scripted(stall_after(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nx", closed_body))

    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with aio.Session(curl_module=mod) as s:
            task = asyncio.ensure_future(s.get(no_head.url("/")))
            await asyncio.sleep(0.1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert s._live == set()
            assert await loop.run_in_executor(None, closed_head.wait, 5)

            r = await s.get(no_body.url("/"), stream=True)

            async def consume() -> list[bytes]:
                return [c async for c in r.stream()]

            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(consume(), 0.2)
            assert r.is_closed and s._live == set()
            driver = s._multi.driver
            assert driver is not None and driver.watched == {}
            assert await loop.run_in_executor(None, closed_body.wait, 5)

    run_on(loop_kind, main)


def test_session_close_aborts_streams(scripted: ServerFactory) -> None:
    """Leaving the session aborts responses still streaming and closes the pool."""
    closed = threading.Event()
    srv = scripted(stall_after(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nx", closed))

    async def main() -> aio.Response:
        async with aio.Session() as s:
            r = await s.get(srv.url("/"), stream=True)
        return r

    r = asyncio.run(main())
    assert r.is_closed
    assert wait_until(closed.is_set)
