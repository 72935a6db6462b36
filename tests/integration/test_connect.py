"""Name resolution and TCP over loopback: localhost, RESOLVE, CONNECT_TO, IPRESOLVE, refused
and hanging connects, unix sockets, INTERFACE/LOCALPORT, TCP_NODELAY.

Each test runs on purecurl and the real pycurl (fixture `mod`); messages are libcurl 8.23's.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
from collections.abc import Iterator
from types import ModuleType

import pytest

from tests.integration._util import fetch, free_port, one_shot, read_head
from tests.servers import HttpServer, ServerConnection, ServerFactory


@pytest.fixture
def blackhole() -> Iterator[int]:
    """A port on 127.0.0.1 where a connect never completes: a listener with backlog 0 whose
    accept queue is filled by connections nobody accepts, so the kernel drops new SYNs."""
    listener = socket.socket()
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        for _ in range(3):
            filler = socket.socket()
            fillers.append(filler)
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        yield port
    finally:
        for sock in fillers:
            sock.close()
        listener.close()


def test_localhost(mod: ModuleType, server: HttpServer) -> None:
    """localhost resolves (to ::1 and 127.0.0.1; happy eyeballs falls back to the address that
    answers: the server listens on 127.0.0.1 only)."""
    out = fetch(mod, f"http://localhost:{server.port}/hello")
    assert (out.code, out.body, out.primary_ip) == (0, b"hello\n", "127.0.0.1")


def test_resolve_made_up_name(mod: ModuleType, server: HttpServer) -> None:
    """RESOLVE "name:port:addr" answers for a name DNS does not know; Host keeps the name."""
    name = "made-up.purecurl.invalid"
    out = fetch(
        mod,
        f"http://{name}:{server.port}/hello",
        [("RESOLVE", [f"{name}:{server.port}:127.0.0.1"])],
    )
    assert (out.code, out.body, out.primary_ip) == (0, b"hello\n", "127.0.0.1")
    assert server.requests[0].header("host") == f"{name}:{server.port}"


def test_connect_to(mod: ModuleType, server: HttpServer) -> None:
    """CONNECT_TO "host:port:connhost:connport" connects elsewhere; the request (Host, target)
    is still the URL's."""
    out = fetch(
        mod,
        "http://example.invalid/hello",
        [("CONNECT_TO", [f"example.invalid:80:127.0.0.1:{server.port}"])],
    )
    assert (out.code, out.body) == (0, b"hello\n")
    assert server.requests[0].header("host") == "example.invalid"


def test_ipresolve_v4(mod: ModuleType, server: HttpServer) -> None:
    """IPRESOLVE_V4 uses only IPv4 addresses of localhost."""
    out = fetch(mod, f"http://localhost:{server.port}/hello", [("IPRESOLVE", mod.IPRESOLVE_V4)])
    assert (out.code, out.primary_ip) == (0, "127.0.0.1")


def test_unresolvable_name(mod: ModuleType) -> None:
    """A name that cannot resolve: 6, "Could not resolve host: NAME" (RFC 6761: .invalid)."""
    out = fetch(mod, "http://256.1.1.1:1/")
    assert (out.code, out.message) == (6, "Could not resolve host: 256.1.1.1")


def test_connection_refused(mod: ModuleType) -> None:
    """Nothing listens: 7 (CURLE_COULDNT_CONNECT) with libcurl's message."""
    port = free_port()
    out = fetch(mod, f"http://127.0.0.1:{port}/")
    assert out.code == 7
    assert re.fullmatch(
        rf"Failed to connect to 127\.0\.0\.1:{port} after \d+ ms: Could not connect to server",
        out.message,
    ), out.message


def test_connection_refused_code(mod: ModuleType) -> None:
    """Nothing listens: 7 and a message naming the address and the port."""
    port = free_port()
    out = fetch(mod, f"http://127.0.0.1:{port}/")
    assert out.code == 7
    assert out.message.startswith("Failed to connect to 127.0.0.1") and str(port) in out.message


def test_connecttimeout(mod: ModuleType, blackhole: int) -> None:
    """CONNECTTIMEOUT_MS ends a connect that never completes with 28 (CURLE_OPERATION_TIMEDOUT)
    near the limit: "Connection timed out after N milliseconds"."""
    out = fetch(mod, f"http://127.0.0.1:{blackhole}/", [("CONNECTTIMEOUT_MS", 200)])
    assert out.code == 28
    match = re.fullmatch(r"Connection timed out after (\d+) milliseconds", out.message)
    assert match is not None, out.message
    assert 190 <= int(match.group(1)) < 1500, out.message


def test_unix_socket_path(mod: ModuleType) -> None:
    """UNIX_SOCKET_PATH connects to a unix socket; the URL's host still names Host."""
    heads: list[bytes] = []

    def handler(sock: socket.socket) -> None:
        heads.append(read_head(sock))
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nunix")

    with tempfile.TemporaryDirectory(prefix="pc") as tmp:
        path = os.path.join(tmp, "s")
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(path)
        with one_shot(listener, handler):
            out = fetch(mod, "http://unix.invalid/u", [("UNIX_SOCKET_PATH", path)])
    assert (out.code, out.body) == (0, b"unix")
    assert heads[0].startswith(b"GET /u HTTP/1.1\r\nHost: unix.invalid\r\n")


def test_interface_and_localport(mod: ModuleType, scripted: ServerFactory) -> None:
    """INTERFACE binds the local address (127.0.0.2 is loopback too on Linux) and LOCALPORT /
    LOCALPORTRANGE the local port; LOCAL_IP/LOCAL_PORT report them."""
    peers: list[tuple[str, int]] = []

    def handler(conn: ServerConnection) -> None:
        while conn.read_request() is not None:
            peers.append(conn.peer)
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    srv = scripted(handler)
    base = free_port()
    out = fetch(
        mod,
        srv.url("/"),
        [("INTERFACE", "127.0.0.2"), ("LOCALPORT", base), ("LOCALPORTRANGE", 50)],
    )
    assert (out.code, out.body) == (0, b"ok")
    assert peers[0][0] == "127.0.0.2"
    assert base <= peers[0][1] < base + 50
    assert out.local_port == peers[0][1]


def test_tcp_nodelay_default_on(mod: ModuleType, server: HttpServer) -> None:
    """TCP_NODELAY is on by default (CURLOPT_TCP_NODELAY, since 7.50.2) before SOCKOPTFUNCTION
    runs; setting it to 0 leaves Nagle on."""
    seen: list[int] = []

    def sockopt(fd: int, purpose: int) -> int:
        with socket.socket(fileno=os.dup(fd)) as sock:
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        return 0

    assert fetch(mod, server.url("/hello"), [("SOCKOPTFUNCTION", sockopt)]).code == 0
    opts = [("SOCKOPTFUNCTION", sockopt), ("TCP_NODELAY", 0)]
    assert fetch(mod, server.url("/hello"), opts).code == 0
    assert seen == [1, 0]


def test_opensocketfunction_own_socket(mod: ModuleType, server: HttpServer) -> None:
    """OPENSOCKETFUNCTION(purpose, address) may return the application's own socket; the
    transfer runs on it (the server sees its local port)."""
    mine: list[socket.socket] = []

    def opensocket(purpose: int, address: object) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        mine.append(sock)
        return sock

    try:
        out = fetch(mod, server.url("/hello"), [("OPENSOCKETFUNCTION", opensocket)])
        assert (out.code, out.body) == (0, b"hello\n")
        assert out.local_port == mine[0].getsockname()[1]
    finally:
        for sock in mine:
            sock.close()
