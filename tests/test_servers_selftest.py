"""The test servers themselves, checked with plain sockets, and the leak check they rely on."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.conftest import ResourceSnapshot, check_leaks
from tests.nginx import FILES, Nginx
from tests.servers import (
    CLOSE,
    RESET,
    HttpServer,
    Request,
    Response,
    ScriptedServer,
    ServerConnection,
    ServerFactory,
    pattern_bytes,
    wait_until,
)


class RawClient:
    """A minimal HTTP/1.1 client on one socket: sends bytes, parses responses."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("server closed the connection")
        self.buf += data

    def _until(self, delimiter: bytes) -> bytes:
        while delimiter not in self.buf:
            self._fill()
        data, _, self.buf = self.buf.partition(delimiter)
        return data

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def get(self, target: str, extra: bytes = b"") -> tuple[int, dict[str, str], bytes]:
        self.sock.sendall(b"GET %s HTTP/1.1\r\nHost: t\r\n%s\r\n" % (target.encode(), extra))
        return self.response()

    def response(self, head_only: bool = False) -> tuple[int, dict[str, str], bytes]:
        """Read one response; return (status, lower-cased headers, decoded body)."""
        lines = self._until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.lower()] = value.strip()
        if head_only or status in (204, 304):
            return status, headers, b""
        if headers.get("transfer-encoding") == "chunked":
            body = b""
            while size := int(self._until(b"\r\n").split(b";")[0], 16):
                body += self._exact(size)
                assert self._exact(2) == b"\r\n"
            assert self._until(b"\r\n") == b""  # no trailers
            return status, headers, body
        return status, headers, self._exact(int(headers["content-length"]))

    def at_eof(self) -> bool:
        """True if the server closed the connection (after any buffered bytes)."""
        return not self.buf and self.sock.recv(1) == b""


# -- HttpServer ---------------------------------------------------------------------------------


def test_keep_alive_serves_three_requests_on_one_connection(server: HttpServer) -> None:
    with RawClient(server.port) as client:
        for _ in range(3):
            status, headers, body = client.get("/hello")
            assert (status, body) == (200, b"hello\n")
            assert headers["content-length"] == "6"
    assert server.connections_accepted == 1
    assert [r.target for r in server.requests] == ["/hello"] * 3
    assert wait_until(lambda: server.open_connections == 0)


def test_chunked_response_and_generated_bodies(server: HttpServer) -> None:
    with RawClient(server.port) as client:
        status, headers, body = client.get("/chunked/100000")
        assert status == 200
        assert headers["transfer-encoding"] == "chunked"
        assert "content-length" not in headers
        assert body == pattern_bytes(100000)
        status, headers, body = client.get("/bytes/1048577")
        assert (status, headers["content-length"]) == (200, "1048577")
        assert body == pattern_bytes(1048577)
        assert client.get("/bytes/0")[1:] == ({"content-length": "0"}, b"")
    assert pattern_bytes(300)[255:258] == b"\xff\x00\x01"


def test_routes_callables_trailers_and_status(scripted: ServerFactory) -> None:
    def whoami(request: Request) -> Response:
        return Response(body=(request.header("user-agent") or "").encode())

    http = scripted.http(
        {
            "/me": whoami,
            "/raw": b"raw body",
            "/trail": Response(body=b"abc", chunked=True, chunk_size=1, trailers=[("X-T", "1")]),
            "/q?x=1": Response(201),
        }
    )
    with RawClient(http.port) as client:
        assert client.get("/me", b"User-Agent: me\r\n")[2] == b"me"
        assert client.get("/raw?ignored")[2] == b"raw body"
        assert client.get("/q?x=1")[0] == 201
        assert client.get("/status/418")[0] == 418
        assert client.get("/nowhere")[0] == 404
        assert client.get("/empty")[0] == 404  # DEFAULT_ROUTES belong to the `server` fixture
        status, headers, _ = client.get("/redirect/2")
        assert (status, headers["location"]) == (302, "/redirect/1")
        client.sock.sendall(b"GET /trail HTTP/1.1\r\nHost: t\r\n\r\n")
        client._until(b"\r\n\r\n")
        assert client._until(b"0\r\nX-T: 1\r\n\r\n") == b"1\r\na\r\n1\r\nb\r\n1\r\nc\r\n"


def test_head_204_and_close(server: HttpServer) -> None:
    with RawClient(server.port) as client:
        client.sock.sendall(b"HEAD /bytes/10 HTTP/1.1\r\nHost: t\r\n\r\n")
        status, headers, _ = client.response(head_only=True)
        assert (status, headers["content-length"]) == (200, "10")
        status, headers, _ = client.get("/empty")
        assert status == 204 and "content-length" not in headers
        status, headers, body = client.get("/close")
        assert (status, headers["connection"], body) == (200, "close", b"closing\n")
        assert client.at_eof()


def test_http10_and_connection_close_requests_close(server: HttpServer) -> None:
    with RawClient(server.port) as client:
        client.sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert client.response()[2] == b"hello\n"
        assert client.at_eof()
    with RawClient(server.port) as client:
        assert client.get("/", b"Connection: close\r\n")[1]["connection"] == "close"
        assert client.at_eof()


def test_request_bodies_pipelining_and_100_continue(server: HttpServer) -> None:
    with RawClient(server.port) as client:
        client.sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
            b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: y\r\n\r\n"
        )
        assert client.response()[2] == b"hello"
        assert client.response()[2] == b"abcde"
        client.sock.sendall(
            b"PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"
        )
        assert client.response(head_only=True)[0] == 100
        client.sock.sendall(b"xyz")
        assert client.response()[2] == b"xyz"
    posted = server.requests[1]
    assert (posted.method, posted.body) == ("POST", b"abcde")
    assert posted.raw.endswith(b"0\r\nX-Trailer: y\r\n\r\n")
    assert posted.header("TRANSFER-ENCODING") == "chunked"


def test_bad_request_gets_400_and_close(server: HttpServer) -> None:
    with RawClient(server.port) as client:
        client.sock.sendall(b"NONSENSE\r\n\r\n")
        assert client.response()[0] == 400
        assert client.at_eof()


def test_delay_is_interrupted_by_stop() -> None:
    http = HttpServer({"/slow": Response(body=b"late", delay=30)}).start()
    with RawClient(http.port) as client:
        client.sock.sendall(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
        assert wait_until(lambda: len(http.requests) == 1)
        started = time.monotonic()
        http.stop()
        assert time.monotonic() - started < 1
        assert client.at_eof()


def test_thousand_requests_on_one_connection_and_many_connections(server: HttpServer) -> None:
    started = time.monotonic()
    with RawClient(server.port) as client:
        for _ in range(1000):
            assert client.get("/bytes/128")[2] == pattern_bytes(128)
    clients = [RawClient(server.port) for _ in range(100)]
    try:
        for client in clients:
            assert client.get("/")[0] == 200
    finally:
        for client in clients:
            client.close()
    assert time.monotonic() - started < 5
    assert server.connections_accepted == 101
    assert len(server.requests) == 1100
    assert server.max_concurrent == 100
    assert wait_until(lambda: server.open_connections == 0)


# -- ScriptedServer -----------------------------------------------------------------------------

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"


def test_responses_script_is_shared_and_runs_out(scripted: ServerFactory) -> None:
    srv = scripted(responses=[OK, OK])
    with RawClient(srv.port) as first, RawClient(srv.port) as second:
        assert first.get("/a")[2] == b"hi"
        assert second.get("/b")[2] == b"hi"
        first.sock.sendall(b"GET /c HTTP/1.1\r\nHost: t\r\n\r\n")
        assert first.at_eof()  # the script ran out: closed without a response
    assert [r.target for r in srv.requests] == ["/a", "/b", "/c"]
    assert srv.url("x") == f"http://127.0.0.1:{srv.port}/x"


def test_script_close_and_reset(scripted: ServerFactory) -> None:
    srv = scripted(responses=[CLOSE, RESET])
    with RawClient(srv.port) as client:
        client.sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        assert client.at_eof()
    with RawClient(srv.port) as client:
        client.sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            client.sock.recv(1)


def test_handler_reset_sends_rst(scripted: ServerFactory) -> None:
    def handler(conn: ServerConnection) -> None:
        assert conn.read_request() is not None
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
        conn.reset()

    srv = scripted(handler)
    with RawClient(srv.port) as client:
        client.sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            while True:
                client._fill()


def test_handler_error_is_raised_by_stop() -> None:
    def handler(conn: ServerConnection) -> None:
        raise AssertionError("handler saw something wrong")

    srv = ScriptedServer(handler).start()
    with RawClient(srv.port) as client:
        assert client.at_eof()
    with pytest.raises(AssertionError, match="handler saw"):
        srv.stop()


def test_stop_wakes_blocked_handlers_quickly() -> None:
    entered = threading.Barrier(3, timeout=5)

    def reader(conn: ServerConnection) -> None:
        entered.wait()
        conn.read_request()  # blocks: the client sends nothing

    def sleeper(conn: ServerConnection) -> None:
        entered.wait()
        conn.sleep(30)

    with ScriptedServer(reader) as srv_a, ScriptedServer(sleeper) as srv_b:
        clients = [RawClient(srv_a.port), RawClient(srv_b.port)]
        entered.wait()
        assert srv_a.max_concurrent == srv_b.max_concurrent == 1
        started = time.monotonic()
        srv_a.stop()
        srv_b.stop()
        assert time.monotonic() - started < 1
        for client in clients:
            assert client.at_eof()
            client.close()


def test_constructor_requires_one_behaviour() -> None:
    with pytest.raises(TypeError):
        ScriptedServer()
    with pytest.raises(TypeError):
        ScriptedServer(lambda conn: None, responses=[OK])


# -- the leak check -----------------------------------------------------------------------------


def test_servers_leave_no_threads_or_descriptors() -> None:
    before = ResourceSnapshot.take()
    with HttpServer() as srv, RawClient(srv.port) as client:
        assert client.get("/bytes/5")[0] == 200
    assert check_leaks(before, grace=1.0) == []


def test_leak_check_reports_socket_and_thread() -> None:
    before = ResourceSnapshot.take()
    leaked = socket.socket()
    release = threading.Event()
    thread = threading.Thread(target=release.wait, name="leaky")
    thread.start()
    try:
        leaks = check_leaks(before, grace=0.05)
        assert any("'leaky'" in leak for leak in leaks)
        assert any("1 file descriptor(s)" in leak and "socket:" in leak for leak in leaks)
    finally:
        release.set()
        thread.join()
        leaked.close()
    assert check_leaks(before, grace=1.0) == []


# -- nginx --------------------------------------------------------------------------------------


def test_nginx_serves_files_with_keep_alive(nginx: Nginx) -> None:
    with RawClient(nginx.port) as client:
        for _ in range(3):
            status, headers, body = client.get("/128")
            assert status == 200
            assert headers.get("connection") == "keep-alive"
            assert body == Nginx.expected_body("/128")
        status, _, body = client.get("/1m")
        assert (status, len(body)) == (200, FILES["/1m"])
        assert body == pattern_bytes(1 << 20)
    assert nginx.url("1k") == f"http://127.0.0.1:{nginx.port}/1k"
