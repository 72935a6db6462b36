"""TcpConnector (real sockets on 127.0.0.1 and AF_UNIX only) and the OS-error mapping."""

from __future__ import annotations

import errno
import os
import re
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from purecurl._codes import (
    E_ABORTED_BY_CALLBACK,
    E_COULDNT_CONNECT,
    E_INTERFACE_FAILED,
    E_SEND_ERROR,
)
from purecurl._errors import CurlError
from purecurl.transport.connect import (
    SOCKOPT_ERROR,
    TcpConnector,
    _interleave,
)
from purecurl.transport.oserrors import curl_error, errno_of
from purecurl.transport.resolver import Address

V4 = socket.AF_INET
V6 = socket.AF_INET6


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture(autouse=True)
def no_fd_leaks() -> Iterator[None]:
    before = _fds()
    yield
    assert _fds() == before


class Closer:
    """The engine's close_socket: records what it was handed, then closes it."""

    def __init__(self) -> None:
        self.closed: list[int] = []

    def __call__(self, sock: Any) -> None:
        self.closed.append(sock.fileno())
        sock.close()


@pytest.fixture
def closer() -> Closer:
    return Closer()


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    s = socket.socket(V4, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    yield s
    s.close()


def _free_port() -> int:
    with socket.socket(V4, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _v4(port: int, ip: str = "127.0.0.1") -> Address:
    return Address(V4, (ip, port))


def drive(conn: TcpConnector, limit: float = 3.0) -> socket.socket:
    """What the engine does: step, wait for POLL_OUT on the pollset or the deadline, repeat."""
    end = time.monotonic() + limit
    while True:
        now = time.monotonic()
        assert now < end, "connector made no progress"
        sock = conn.step(now)
        if sock is not None:
            return sock
        fds = conn.pollset()
        due = conn.deadline()
        wait = 0.05 if due is None else max(0.0, min(0.05, due - now))
        select.select([], fds, fds, wait)


def test_connects_to_a_listening_socket(listener: socket.socket, closer: Closer) -> None:
    port = listener.getsockname()[1]
    conn = TcpConnector([_v4(port)], time.monotonic(), close_socket=closer, host="h", port=port)
    sock = drive(conn)
    try:
        assert sock.getpeername() == ("127.0.0.1", port)
        assert sock.getblocking() is False
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        assert conn.log[0] == f"  Trying 127.0.0.1:{port}..."
        assert conn.log[-1] == f"Connected to h (127.0.0.1) port {port}"
        assert conn.primary == _v4(port)
        assert conn.step(time.monotonic()) is sock  # idempotent once connected
        assert conn.pollset() == []
        assert closer.closed == []
        assert "connected" in repr(conn)
    finally:
        sock.close()
        listener.accept()[0].close()


def test_refused_port_is_code_7_with_libcurl_message(closer: Closer) -> None:
    port = _free_port()
    t0 = time.monotonic()
    conn = TcpConnector([_v4(port)], t0, close_socket=closer, host="localhost", port=port)
    with pytest.raises(CurlError) as info:
        drive(conn)
    assert info.value.code == E_COULDNT_CONNECT
    assert re.fullmatch(
        rf"Failed to connect to localhost:{port} after \d+ ms: Could not connect to server",
        info.value.message,
    )
    assert conn.os_errno == errno.ECONNREFUSED
    assert len(closer.closed) == 1  # the attempt socket went through the engine's closer
    assert any("failed: Connection refused" in line for line in conn.log)
    with pytest.raises(CurlError):  # stays failed
        conn.step(time.monotonic())


def test_every_address_is_tried(listener: socket.socket, closer: Closer) -> None:
    port = listener.getsockname()[1]
    dead = _free_port()
    conn = TcpConnector(
        [_v4(dead), _v4(dead, "127.0.0.2"), _v4(port)], 0.0, close_socket=closer, host="h", port=1
    )
    sock = drive(conn)
    try:
        assert sock.getpeername()[1] == port
        assert [a.state for a in conn.attempts] == ["failed", "failed", "connected"]
        assert len(closer.closed) == 2
    finally:
        sock.close()
        listener.accept()[0].close()


def test_interleave_is_rfc8305_order() -> None:
    a6 = [Address(V6, (f"2001:db8::{i}", 1, 0, 0)) for i in range(3)]
    a4 = [_v4(1, f"192.0.2.{i}") for i in range(2)]
    assert _interleave([a6[0], a6[1], a6[2], a4[0], a4[1]]) == [
        a6[0],
        a4[0],
        a6[1],
        a4[1],
        a6[2],
    ]
    assert _interleave([a4[0], a6[0], a4[1]]) == [a4[0], a6[0], a4[1]]
    assert _interleave([]) == []


class FakeSock:
    """An attempt socket that never answers (a black hole): its fd is a pipe's read end,
    which never polls writable. connect_ex reports `connect_rc`."""

    def __init__(self, connect_rc: int = errno.EINPROGRESS) -> None:
        self._r, self._w = os.pipe()
        self.connect_rc = connect_rc
        self.connected_to: Any = None

    def fileno(self) -> int:
        return self._r

    def setblocking(self, flag: bool) -> None:
        pass

    def setsockopt(self, *args: Any) -> None:
        pass

    def connect_ex(self, addr: Any) -> int:
        self.connected_to = addr
        return self.connect_rc

    def getsockname(self) -> tuple[str, int]:
        return ("::", 0)

    def close(self) -> None:
        os.close(self._r)
        os.close(self._w)


def test_happy_eyeballs_starts_the_other_family_after_the_delay(
    listener: socket.socket, closer: Closer
) -> None:
    port = listener.getsockname()[1]
    blackhole = FakeSock()
    opened: list[int] = []

    def open_socket(family: int, socktype: int, proto: int, addr: tuple[Any, ...]) -> Any:
        opened.append(family)
        if family == V6:
            return blackhole
        return socket.socket(family, socktype, proto)

    v6 = Address(V6, ("2001:db8::1", port, 0, 0))
    conn = TcpConnector(
        [v6, _v4(port)],
        100.0,
        open_socket=cast(Any, open_socket),
        close_socket=closer,
        host="dual.test",
        port=port,
        happy_eyeballs_timeout=0.2,
    )
    assert conn.step(100.0) is None
    assert opened == [V6]
    assert conn.pollset() == [blackhole.fileno()]
    assert conn.deadline() == pytest.approx(100.2)
    assert conn.step(100.1) is None  # delay not passed: still one attempt
    assert opened == [V6]
    # the delay passed: the IPv4 attempt starts next to the IPv6 one
    due = conn.deadline()
    assert due is not None
    now = due
    sock = conn.step(now)
    assert opened == [V6, V4]
    while sock is None:
        assert len(conn.pollset()) == 2
        assert conn.deadline() is None  # nothing left to start
        select.select([], conn.pollset(), [], 1.0)
        now += 0.01
        sock = conn.step(now)
    try:
        assert sock.getpeername()[1] == port
        # the loser went to the engine's closer, the winner did not
        assert closer.closed == [blackhole._r]
        assert conn.log[:2] == [
            f"  Trying [2001:db8::1]:{port}...",
            f"  Trying 127.0.0.1:{port}...",
        ]
    finally:
        sock.close()
        listener.accept()[0].close()


def test_an_immediate_failure_starts_the_next_address_at_once(
    listener: socket.socket, closer: Closer
) -> None:
    port = listener.getsockname()[1]
    refused = FakeSock(connect_rc=errno.ENETUNREACH)

    def open_socket(family: int, socktype: int, proto: int, addr: tuple[Any, ...]) -> Any:
        return refused if family == V6 else socket.socket(family, socktype, proto)

    conn = TcpConnector(
        [Address(V6, ("2001:db8::1", port, 0, 0)), _v4(port)],
        0.0,
        open_socket=cast(Any, open_socket),
        close_socket=closer,
        host="h",
        port=port,
    )
    conn.step(0.0)
    assert conn.attempts[0].state == "failed"
    assert len(conn.attempts) == 2  # no 200 ms wait after a failure
    sock = drive(conn)
    sock.close()
    listener.accept()[0].close()
    assert conn.os_errno == errno.ENETUNREACH


def test_abort_hands_attempts_to_the_closer(closer: Closer) -> None:
    hole = FakeSock()
    conn = TcpConnector(
        [Address(V6, ("2001:db8::1", 80, 0, 0))],
        0.0,
        open_socket=cast(Any, lambda *a: hole),
        close_socket=closer,
        host="h",
        port=80,
    )
    assert conn.step(0.0) is None
    conn.abort()
    assert closer.closed == [hole._r]
    assert conn.pollset() == []
    with pytest.raises(CurlError):
        conn.step(1.0)


def test_open_socket_refusal_is_code_7(closer: Closer) -> None:
    conn = TcpConnector(
        [_v4(1)], 0.0, open_socket=lambda *a: None, close_socket=closer, host="h", port=1
    )
    with pytest.raises(CurlError) as info:
        conn.step(0.0)
    assert info.value.code == E_COULDNT_CONNECT
    assert closer.closed == []


def test_sockopt_error_aborts(closer: Closer) -> None:
    conn = TcpConnector(
        [_v4(1)], 0.0, sockopt=lambda s: SOCKOPT_ERROR, close_socket=closer, host="h", port=1
    )
    with pytest.raises(CurlError) as info:
        conn.step(0.0)
    assert info.value.code == E_ABORTED_BY_CALLBACK
    assert len(closer.closed) == 1


def test_empty_address_list_fails(closer: Closer) -> None:
    conn = TcpConnector([], 0.0, close_socket=closer, host="h", port=1)
    with pytest.raises(CurlError) as info:
        conn.step(0.5)
    assert info.value.code == E_COULDNT_CONNECT
    # libcurl 8.23 (checked with pycurl 7.49.0): host:port, curl_easy_strerror() of the code.
    assert (
        info.value.message == "Failed to connect to h:1 after 500 ms: Could not connect to server"
    )


def test_ipv6_host_is_named_without_brackets(closer: Closer) -> None:
    # pycurl 7.49.0 / libcurl 8.23 on http://[::1]:1/ says "Failed to connect to ::1:1 ...".
    conn = TcpConnector([], 0.0, close_socket=closer, host="::1", port=1)
    with pytest.raises(CurlError) as info:
        conn.step(0.0)
    assert (
        info.value.message == "Failed to connect to ::1:1 after 0 ms: Could not connect to server"
    )


# --- INTERFACE / LOCALPORT ------------------------------------------------------------------


@pytest.mark.parametrize("interface", ["host!192.0.2.1", "if!nosuchif0", "192.0.2.1"])
def test_bind_failure_is_code_45(listener: socket.socket, closer: Closer, interface: str) -> None:
    port = listener.getsockname()[1]
    conn = TcpConnector(
        [_v4(port)], 0.0, interface=interface, close_socket=closer, host="h", port=port
    )
    with pytest.raises(CurlError) as info:
        conn.step(0.0)
    assert info.value.code == E_INTERFACE_FAILED
    # pycurl 7.49.0 / libcurl 8.23 with INTERFACE "if!nosuchif0", "192.0.2.77", "host!x.invalid"
    assert info.value.message == (
        f"Failed to connect to h:{port} after 0 ms: Failed binding local connection end"
    )
    assert len(closer.closed) == 1
    assert any(line.startswith(("bind failed", "Couldn't bind")) for line in conn.log)


def test_busy_local_port_is_code_45(listener: socket.socket, closer: Closer) -> None:
    port = listener.getsockname()[1]
    conn = TcpConnector([_v4(port)], 0.0, local_port=port, close_socket=closer, host="h", port=port)
    with pytest.raises(CurlError) as info:
        conn.step(0.0)
    assert info.value.code == E_INTERFACE_FAILED
    assert conn.os_errno == errno.EADDRINUSE


def test_local_port_range_and_interface_address(listener: socket.socket, closer: Closer) -> None:
    port = listener.getsockname()[1]
    busy = listener.getsockname()[1]  # the first port of the range is taken
    conn = TcpConnector(
        [_v4(port)],
        0.0,
        interface="127.0.0.1",
        local_port=busy,
        local_port_range=20,
        close_socket=closer,
        host="h",
        port=port,
    )
    sock = drive(conn)
    try:
        local_ip, local_port = sock.getsockname()
        assert local_ip == "127.0.0.1"
        assert busy < local_port < busy + 20
        assert any(line.startswith(f"Bind to local port {busy} failed") for line in conn.log)
    finally:
        sock.close()
        listener.accept()[0].close()


# --- UNIX_SOCKET_PATH -----------------------------------------------------------------------


def test_unix_socket_path(tmp_path: Path, closer: Closer) -> None:
    path = str(tmp_path / "s")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    try:
        conn = TcpConnector(
            [_v4(1)], 0.0, unix_path=path, close_socket=closer, host="localhost", port=80
        )
        sock = drive(conn)
        assert sock.family == socket.AF_UNIX
        assert sock.getpeername() == path
        assert conn.log[0] == f"  Trying {path}:0..."
        sock.close()
        server.accept()[0].close()
    finally:
        server.close()


def test_missing_unix_socket_is_code_7(tmp_path: Path, closer: Closer) -> None:
    conn = TcpConnector(
        [], 0.0, unix_path=str(tmp_path / "nope"), close_socket=closer, host="localhost", port=80
    )
    with pytest.raises(CurlError) as info:
        drive(conn)
    assert info.value.code == E_COULDNT_CONNECT
    assert conn.os_errno == errno.ENOENT


# --- oserrors -------------------------------------------------------------------------------


def test_curl_error_keeps_the_cause() -> None:
    exc = ConnectionResetError(errno.ECONNRESET, os.strerror(errno.ECONNRESET))
    err = curl_error(exc, E_SEND_ERROR, "Send failure")
    assert err.code == E_SEND_ERROR
    assert err.message == "Send failure: Connection reset by peer"
    assert err.__cause__ is exc
    assert errno_of(exc) == errno.ECONNRESET
    assert errno_of(OSError("no errno")) == 0
    assert curl_error(OSError(errno.EPIPE, ""), E_SEND_ERROR, "x").message == "x: Broken pipe"
