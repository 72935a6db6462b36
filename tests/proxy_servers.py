"""Scripted proxy servers on 127.0.0.1 for integration tests: SOCKS4/4a/5 and HTTP.

Theory of operation
-------------------
Both are `ScriptedServer`s (tests/servers.py): one thread per accepted connection runs the
proxy's handler on a `ServerConnection`. What the client sent is recorded for the test to
assert on (`handshakes` of the SOCKS server, `requests` of the HTTP proxy, each with the raw
bytes), and what the proxy answers can be scripted: a SOCKS reply, an auth method choice, a
CONNECT response. When the script says "succeed", the proxy opens a real TCP connection to the
target and relays bytes both ways until either side closes, so a transfer through it reaches a
real `HttpServer`.

The relay waits on a selector holding both sockets; `stop()` shuts the client socket down,
which wakes the relay, which then closes the upstream socket: nothing is left behind.
"""

from __future__ import annotations

import http.client
import ipaddress
import selectors
import socket
import struct
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from tests.servers import Request, ScriptedServer, ServerConnection

__all__ = [
    "HttpProxy",
    "SocksHandshake",
    "SocksServer",
    "relay",
]

_RELAY_SIZE = 1 << 16


def relay(conn: ServerConnection, upstream: socket.socket) -> None:
    """Copy bytes between `conn` and `upstream` until either side ends; close `upstream`.

    Bytes `conn` already buffered (sent by the client right after its handshake) go first.
    """
    try:
        # The client may have pipelined its first bytes behind the handshake.
        pending = bytes(conn._buf)
        conn._buf.clear()
        if pending:
            upstream.sendall(pending)
        with selectors.DefaultSelector() as selector:
            selector.register(conn.sock, selectors.EVENT_READ, upstream)
            selector.register(upstream, selectors.EVENT_READ, conn.sock)
            while not conn.server._stopping.is_set():
                for key, _ in selector.select(conn.server.io_timeout):
                    source = key.fileobj
                    assert isinstance(source, socket.socket)
                    data = source.recv(_RELAY_SIZE)
                    if not data:
                        return
                    key.data.sendall(data)
    except OSError:
        pass  # either side went away: the relay ends
    finally:
        upstream.close()


def _connect(host: str, port: int, timeout: float) -> socket.socket:
    return socket.create_connection((host, port), timeout=timeout)


# -- SOCKS ------------------------------------------------------------------------------------


@dataclass
class SocksHandshake:
    """What a SOCKS client sent: version (4 or 5), target, credentials, and the raw bytes."""

    version: int
    host: str
    port: int
    atyp: int = 0  # SOCKS5 address type (1 IPv4, 3 name, 4 IPv6); 0 for SOCKS4
    methods: bytes = b""  # SOCKS5 methods offered
    user: bytes | None = None
    password: bytes | None = None
    raw: bytes = b""
    socks4a: bool = False


class SocksServer(ScriptedServer):
    """A SOCKS4/4a/5 server (RFC 1928, RFC 1929; the SOCKS4 and SOCKS4A protocol notes).

    Script: `method` is the SOCKS5 method byte to choose (None: 0x02 when offered, else 0x00;
    negative: close instead);
    `credentials` the (user, password) accepted by RFC 1929 auth (None: any); `auth_reply`
    replaces the RFC 1929 reply bytes; `reply` replaces the final reply bytes (the target is then
    not connected); `target` overrides where to connect, so a test can name a host that only the
    proxy "resolves". Every handshake received is in `handshakes`.
    """

    def __init__(
        self,
        *,
        method: int | None = None,
        credentials: tuple[bytes, bytes] | None = None,
        auth_reply: bytes | None = None,
        reply: bytes | None = None,
        target: tuple[str, int] | None = None,
        io_timeout: float = 10.0,
    ) -> None:
        super().__init__(self._serve_socks, io_timeout=io_timeout)
        self.method = method
        self.credentials = credentials
        self.auth_reply = auth_reply
        self.reply = reply
        self.target = target
        self.handshakes: list[SocksHandshake] = []

    def _serve_socks(self, conn: ServerConnection) -> None:
        first = conn.read_exact(1)
        if first == b"\x04":
            shake = self._socks4(conn)
        elif first == b"\x05":
            shake = self._socks5(conn)
        else:
            return
        if shake is None:
            return
        with self._state_lock:
            self.handshakes.append(shake)
        if self.reply is not None:
            conn.send(self.reply)
            return
        host, port = self.target or (shake.host, shake.port)
        try:
            upstream = _connect(host, port, self.io_timeout)
        except OSError:
            conn.send(b"\x00\x5b" + bytes(6) if shake.version == 4 else _socks5_reply(5))
            return
        if shake.version == 4:
            conn.send(b"\x00\x5a" + struct.pack(">H", shake.port) + bytes(4))
        else:
            conn.send(_socks5_reply(0))
        relay(conn, upstream)

    def _socks4(self, conn: ServerConnection) -> SocksHandshake | None:
        head = conn.read_exact(7)
        if head[0] != 1:
            return None
        port = struct.unpack(">H", head[1:3])[0]
        user = conn.read_until(b"\x00")
        raw = b"\x04" + head + user
        ip = head[3:7]
        socks4a = ip[:3] == b"\x00\x00\x00" and ip[3] != 0
        if socks4a:
            name = conn.read_until(b"\x00")
            raw += name
            host = name[:-1].decode("ascii")
        else:
            host = socket.inet_ntoa(ip)
        return SocksHandshake(4, host, port, user=user[:-1], raw=raw, socks4a=socks4a)

    def _socks5(self, conn: ServerConnection) -> SocksHandshake | None:
        count = conn.read_exact(1)
        methods = conn.read_exact(count[0])
        raw = b"\x05" + count + methods
        method = self.method
        if method is None:
            method = 2 if 2 in methods else 0
        if method < 0:  # scripted: close before choosing a method
            return None
        conn.send(bytes((5, method)))
        user = password = None
        if method == 2:
            ver_ulen = conn.read_exact(2)
            user = conn.read_exact(ver_ulen[1])
            plen = conn.read_exact(1)
            password = conn.read_exact(plen[0])
            raw += ver_ulen + user + plen + password
            answer = self.auth_reply
            if answer is None:
                ok = self.credentials is None or self.credentials == (user, password)
                answer = b"\x01\x00" if ok else b"\x01\x01"
            conn.send(answer)
            if answer[1:2] != b"\x00":
                return None
        elif method != 0:
            return None
        req = conn.read_exact(4)
        raw += req
        atyp = req[3]
        if atyp == 1:
            addr = conn.read_exact(4)
            host = socket.inet_ntoa(addr)
        elif atyp == 4:
            addr = conn.read_exact(16)
            host = str(ipaddress.IPv6Address(addr))
        elif atyp == 3:
            length = conn.read_exact(1)
            addr = length + conn.read_exact(length[0])
            host = addr[1:].decode("ascii")
        else:
            return None
        port_bytes = conn.read_exact(2)
        raw += addr + port_bytes
        port = struct.unpack(">H", port_bytes)[0]
        return SocksHandshake(5, host, port, atyp, methods, user, password, raw)


def _socks5_reply(rep: int) -> bytes:
    return bytes((5, rep, 0, 1, 127, 0, 0, 1, 0, 0))


# -- HTTP proxy -------------------------------------------------------------------------------


ConnectAnswer = Callable[[Request], bytes | None]


class HttpProxy(ScriptedServer):
    """An HTTP proxy: CONNECT tunnels (RFC 9110 section 9.3.6) and absolute-form forwarding.

    `connect_response` is the reply to a CONNECT (bytes, or a function of the request returning
    bytes, or None to accept with "HTTP/1.1 200 Connection established"); a 2xx reply opens the
    tunnel (to `target` when given, else to the request's authority). A request in absolute form
    is forwarded to its origin with http.client and the response is sent back with a
    Content-Length, the connection kept alive. Every request received is in `requests`.
    """

    def __init__(
        self,
        *,
        connect_response: bytes | ConnectAnswer | None = None,
        target: tuple[str, int] | None = None,
        io_timeout: float = 10.0,
    ) -> None:
        super().__init__(self._serve_proxy, io_timeout=io_timeout)
        self.connect_response = connect_response
        self.target = target
        self._lock = threading.Lock()

    def _serve_proxy(self, conn: ServerConnection) -> None:
        while True:
            request = conn.read_request()
            if request is None:
                return
            if request.method == "CONNECT":
                self._tunnel(conn, request)
                return
            if not self._forward(conn, request):
                return

    def _tunnel(self, conn: ServerConnection, request: Request) -> None:
        answer = self.connect_response
        if callable(answer):
            answer = answer(request)
        if answer is None:
            answer = b"HTTP/1.1 200 Connection established\r\n\r\n"
        if self.target is not None:
            host, port = self.target
        else:
            host, _, port_text = request.target.rpartition(":")
            host, port = host.strip("[]"), int(port_text)
        if not answer.startswith((b"HTTP/1.1 2", b"HTTP/1.0 2")):
            conn.send(answer)
            return
        try:
            upstream = _connect(host, port, self.io_timeout)
        except OSError:
            conn.send(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        conn.send(answer)
        relay(conn, upstream)

    def _forward(self, conn: ServerConnection, request: Request) -> bool:
        """Forward one absolute-form request; return whether the connection stays open."""
        if not request.target.startswith("http://"):
            conn.send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return False
        parts = urllib.parse.urlsplit(request.target)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        origin = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=5)
        try:
            skip = {"proxy-connection", "proxy-authorization", "host", "content-length"}
            headers = {k: v for k, v in request.headers if k.lower() not in skip}
            origin.request(request.method, path, request.body or None, headers)
            response = origin.getresponse()
            body = b"" if request.method == "HEAD" else response.read()
            lines = [f"HTTP/1.1 {response.status} {response.reason}\r\n".encode("latin-1")]
            for name, value in response.getheaders():
                if name.lower() not in ("connection", "transfer-encoding", "content-length"):
                    lines.append(f"{name}: {value}\r\n".encode("latin-1"))
            lines.append(f"Content-Length: {len(body)}\r\n\r\n".encode("ascii"))
            conn.send(b"".join(lines) + body)
        except OSError:
            conn.send(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
        finally:
            origin.close()
        return True
