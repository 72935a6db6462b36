"""TLS inside TLS (transport.tls_in_tls): https:// to an origin through an HTTPS proxy's tunnel.

Every test runs a TLS origin and an HTTPS proxy (`TlsHttpProxy`, whose CONNECT tunnels relay
the bytes inside its TLS session to the origin) on loopback, and drives purecurl's filters the
way the engine does: `TlsHandshake` to the proxy, `ConnectTunnel` over it, `TlsHandshake` to
the origin over that (its `sock` is then a `TlsOverTls`), then requests and responses, each
waiting on a selector for the interest the last would-block named. A read loop stops, as the
engine's does, when a read came back short and `pending()` says nothing is buffered: a
`pending()` that forgot buffered bytes would leave the loop waiting on an fd that never
becomes readable, and the test fails on its deadline.

Failures are compared with the same failure on a direct TLS connection to the same origin:
the CURLcode and the message must not depend on the proxy in between.
"""

from __future__ import annotations

import hashlib
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Iterator

import pytest

from purecurl._codes import E_PEER_FAILED_VERIFICATION, E_RECV_ERROR
from purecurl._errors import CurlError
from purecurl.proto.proxy import build_connect_request
from purecurl.transport.tls import TlsHandshake, TlsSettings, build_context, recv_error
from purecurl.transport.tls_in_tls import TlsOverTls
from purecurl.transport.tunnel import ConnectTunnel
from tests.servers import ServerConnection, pattern_bytes, wait_until
from tests.tls_certs import Issued, Pki
from tests.tls_servers import (
    DEADLINE,
    TlsClient,
    TlsHttpProxy,
    TlsHttpServer,
    TlsScriptedServer,
    send_close_notify,
    server_context,
)

BIG = 8 * 1024 * 1024 + 12345  # several MB and not a multiple of any record or buffer size


@pytest.fixture
def proxy(pki: Pki) -> Iterator[TlsHttpProxy]:
    with TlsHttpProxy(server_context(pki.server)) as server:
        yield server


@pytest.fixture
def client() -> Iterator[TlsClient]:
    c = TlsClient()
    yield c
    c.close()


class Sockets:
    """The client sockets a test opened; `close()` closes them all (closing twice is fine)."""

    def __init__(self) -> None:
        self.open: list[socket.socket | TlsOverTls] = []

    def close(self) -> None:
        for sock in self.open:
            sock.close()


@pytest.fixture
def sockets() -> Iterator[Sockets]:
    s = Sockets()
    yield s
    s.close()


def trusting(pki: Pki) -> TlsSettings:
    return TlsSettings(cainfo=str(pki.ca.cert_pem))


def origin_server(cert: Issued, *, chain: bool = False) -> TlsHttpServer:
    return TlsHttpServer(server_context(cert, chain=chain))


# -- driving, as the engine does ----------------------------------------------------------


def wait(sock: socket.socket | TlsOverTls, write: bool, deadline: float) -> None:
    """Wait until `sock` is writable (`write`) or readable; TimeoutError at `deadline`."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("the loopback peers did not answer in time")
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_WRITE if write else selectors.EVENT_READ)
        selector.select(remaining)


def establish(step: TlsHandshake | ConnectTunnel) -> None:
    """Step a filter until it is established, waiting as its `want_write` says."""
    deadline = time.monotonic() + DEADLINE
    while not step.step():
        wait(step.sock, step.want_write, deadline)


def tunnel_to(
    proxy: TlsHttpProxy,
    port: int,
    pki: Pki,
    sockets: Sockets,
    *,
    sndbuf: int | None = None,
    rcvbuf: int | None = None,
) -> ssl.SSLSocket:
    """TLS to `proxy`, then a CONNECT tunnel to localhost:`port`; return the TLS socket."""
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sockets.open.append(raw)
    # Small buffers, set before connecting, make the kernel take and give little at a time.
    if sndbuf is not None:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    if rcvbuf is not None:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    raw.settimeout(DEADLINE)
    raw.connect(proxy.address)
    raw.setblocking(False)
    settings = trusting(pki)
    hs = TlsHandshake(raw, build_context(settings), "localhost", settings)
    outer = hs.sock
    assert isinstance(outer, ssl.SSLSocket)
    sockets.open.append(outer)
    establish(hs)
    establish(ConnectTunnel(outer, build_connect_request("localhost", port)))
    return outer


def origin_handshake(
    outer: ssl.SSLSocket,
    settings: TlsSettings,
    sockets: Sockets,
    session: ssl.SSLSession | None = None,
) -> TlsHandshake:
    """Start the origin's handshake inside `outer` (not stepped yet)."""
    hs = TlsHandshake(outer, build_context(settings), "localhost", settings, session)
    assert isinstance(hs.sock, TlsOverTls)
    sockets.open.append(hs.sock)
    return hs


def send_all(sock: TlsOverTls, data: bytes, deadline: float) -> int:
    """Send `data` the engine's way (retrying with the same bytes); return the number of
    times the outer socket was full."""
    view = memoryview(data)
    full = 0
    while view:
        try:
            n = sock.send(view)
        except ssl.SSLWantWriteError:
            full += 1
            assert sock.want_write
            wait(sock, True, deadline)
            continue
        except ssl.SSLWantReadError:
            wait(sock, False, deadline)
            continue
        assert 0 < n <= len(view)
        view = view[n:]
    return full


def read_response(sock: TlsOverTls, bufsize: int, deadline: float) -> tuple[bytes, bytes]:
    """Read one Content-Length response the engine's way; return (head, body)."""
    buf = bytearray(bufsize)
    data = bytearray()
    need = -1
    while need < 0 or len(data) < need:
        try:
            n = sock.recv_into(buf)
        except ssl.SSLWantReadError:
            wait(sock, False, deadline)
            continue
        except ssl.SSLWantWriteError:
            wait(sock, True, deadline)
            continue
        assert n, "the stream ended before the response did"
        data += buf[:n]
        if need < 0 and b"\r\n\r\n" in data:
            head = bytes(data[: data.index(b"\r\n\r\n") + 4])
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            need = len(head) + length
        if n < bufsize and not sock.pending() and (need < 0 or len(data) < need):
            wait(sock, False, deadline)  # the engine's POLL_IN: nothing may be left buffered
    head = bytes(data[: data.index(b"\r\n\r\n") + 4])
    return head, bytes(data[len(head) :])


def get(sock: TlsOverTls, path: str, bufsize: int = 16384) -> tuple[bytes, bytes]:
    deadline = time.monotonic() + DEADLINE
    send_all(sock, f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode(), deadline)
    return read_response(sock, bufsize, deadline)


def read_to_end(sock: TlsOverTls) -> tuple[bytes, OSError | None]:
    """Read until the stream ends; return what came and the exception that ended it."""
    deadline = time.monotonic() + DEADLINE
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ssl.SSLWantReadError:
            wait(sock, False, deadline)
            continue
        except OSError as exc:
            return data, exc
        if not chunk:
            return data, None
        data += chunk


# -- the tests ------------------------------------------------------------------------------


def test_get_through_https_proxy(pki: Pki, proxy: TlsHttpProxy, sockets: Sockets) -> None:
    with origin_server(pki.server) as origin:
        outer = tunnel_to(proxy, origin.port, pki, sockets)
        hs = origin_handshake(outer, trusting(pki), sockets)
        establish(hs)
        assert hs.sock.fileno() == outer.fileno()
        assert (hs.version, hs.alpn, hs.verify_result) == ("TLSv1.3", "http/1.1", 0)
        assert "SSL certificate verified via OpenSSL." in hs.log
        assert "  subject: C=SE; O=purecurl tests; CN=localhost" in hs.log
        assert isinstance(hs.sock, TlsOverTls)
        head, body = get(hs.sock, "/bytes/5000")
        assert head.startswith(b"HTTP/1.1 200 ")
        assert body == pattern_bytes(5000)
        # The proxy saw the CONNECT only; the origin saw the name as SNI, and the GET.
        assert [r.method + " " + r.target for r in proxy.requests] == [
            f"CONNECT localhost:{origin.port}"
        ]
        assert origin.sessions[0].server_name == "localhost"
        assert [r.target for r in origin.requests] == ["/bytes/5000"]


def test_tls_over_tls_driven_directly(pki: Pki, proxy: TlsHttpProxy, sockets: Sockets) -> None:
    with origin_server(pki.chained, chain=True) as origin:
        outer = tunnel_to(proxy, origin.port, pki, sockets)
        ctx = ssl.create_default_context(cafile=str(pki.ca.cert_pem))
        ctx.set_alpn_protocols(["http/1.1"])
        tls = TlsOverTls(outer, ctx, "localhost")
        sockets.open.append(tls)
        deadline = time.monotonic() + DEADLINE
        waits = []
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                waits.append("in")
                wait(tls, False, deadline)
            except ssl.SSLWantWriteError:
                waits.append("out")
                wait(tls, True, deadline)
        # (the ClientHello went out first: no wait for POLL_OUT on an empty socket buffer)
        assert "out" not in waits
        assert not tls.want_write and tls.pending() == 0
        assert tls.getpeercert(binary_form=True) == pki.chained.cert_der
        cert = tls.getpeercert()
        assert cert is not None and (("commonName", "localhost"),) in cert["subject"]
        assert (tls.version(), tls.selected_alpn_protocol()) == ("TLSv1.3", "http/1.1")
        cipher = tls.cipher()
        assert cipher is not None and cipher[1] == "TLSv1.3"
        assert tls.session is not None and tls.session_reused is False
        assert tls.server_hostname == "localhost" and tls.context is ctx
        assert tls.gettimeout() == 0.0
        assert f"fd={outer.fileno()} version=TLSv1.3" in repr(tls)
        head, body = get(tls, "/hello")
        assert head.startswith(b"HTTP/1.1 404 ") and body == b"not found\n"
        tls.close()
        assert outer.fileno() == -1 and tls.fileno() == -1


@pytest.mark.parametrize(
    ("cert", "verify_result"),
    # a wrong name fails before the verify result is recorded: libcurl's 1 (unspecified)
    [("self_signed", 18), ("expired", 10), ("wrong_host", 1)],
)
def test_origin_verification_fails_as_without_proxy(
    pki: Pki,
    proxy: TlsHttpProxy,
    sockets: Sockets,
    client: TlsClient,
    cert: str,
    verify_result: int,
) -> None:
    issued: Issued = getattr(pki, cert)
    with origin_server(issued) as origin:
        with pytest.raises(CurlError) as direct:
            client.handshake(origin.address, trusting(pki))
        outer = tunnel_to(proxy, origin.port, pki, sockets)
        hs = origin_handshake(outer, trusting(pki), sockets)
        with pytest.raises(CurlError) as tunneled:
            establish(hs)
    assert tunneled.value.code == direct.value.code == E_PEER_FAILED_VERIFICATION
    assert str(tunneled.value) == str(direct.value)
    assert isinstance(tunneled.value.__cause__, ssl.SSLError) or cert == "wrong_host"
    assert hs.verify_result == client.handshakes[0].verify_result == verify_result


def test_origin_name_is_checked_not_the_proxy_name(
    pki: Pki, proxy: TlsHttpProxy, sockets: Sockets
) -> None:
    """The origin's certificate is checked against the origin's name: a name only the proxy's
    certificate would match fails."""
    with origin_server(pki.server) as origin:
        outer = tunnel_to(proxy, origin.port, pki, sockets)
        settings = trusting(pki)
        hs = TlsHandshake(outer, build_context(settings), "origin.example", settings)
        sockets.open.append(hs.sock)
        with pytest.raises(CurlError) as err:
            establish(hs)
        assert err.value.code == E_PEER_FAILED_VERIFICATION
        assert "'origin.example'" in str(err.value)
        # the server records the handshake a moment after the client gave up on it
        assert wait_until(lambda: len(origin.sessions) == 1)
        assert origin.sessions[0].server_name == "origin.example"


@pytest.mark.parametrize("bufsize", [1000, 16384, 100000])
def test_big_body_in_short_reads(
    pki: Pki, proxy: TlsHttpProxy, sockets: Sockets, bufsize: int
) -> None:
    with origin_server(pki.server) as origin:
        outer = tunnel_to(proxy, origin.port, pki, sockets, rcvbuf=4096)
        hs = origin_handshake(outer, trusting(pki), sockets)
        establish(hs)
        assert isinstance(hs.sock, TlsOverTls)
        head, body = get(hs.sock, f"/bytes/{BIG}", bufsize)
        assert head.startswith(b"HTTP/1.1 200 ")
        assert len(body) == BIG and body == pattern_bytes(BIG)
        # keep-alive: the connection carries a second request
        assert get(hs.sock, "/bytes/10", bufsize)[1] == pattern_bytes(10)


def test_big_upload_echoed(pki: Pki, proxy: TlsHttpProxy, sockets: Sockets) -> None:
    size = 3 * 1024 * 1024 + 7
    with origin_server(pki.server) as origin:
        outer = tunnel_to(proxy, origin.port, pki, sockets, sndbuf=4096, rcvbuf=4096)
        hs = origin_handshake(outer, trusting(pki), sockets)
        establish(hs)
        assert isinstance(hs.sock, TlsOverTls)
        deadline = time.monotonic() + DEADLINE
        head = f"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: {size}\r\n\r\n"
        send_all(hs.sock, head.encode() + pattern_bytes(size), deadline)
        _, body = read_response(hs.sock, 16384, deadline)
        assert body == pattern_bytes(size)
        assert len(origin.requests[0].body) == size


def test_send_retries_when_the_tunnel_is_full(
    pki: Pki, proxy: TlsHttpProxy, sockets: Sockets
) -> None:
    """While the origin reads nothing, the buffers between fill up: `send` raises
    SSLWantWriteError with `want_write` set, and the same data sent again goes out once the
    origin reads, acknowledged as one chunk; nothing is lost or sent twice."""
    gate = threading.Event()
    size = 48 * 1024 * 1024

    def handler(conn: ServerConnection) -> None:
        if not gate.wait(DEADLINE):
            return
        request = conn.read_request()
        if request is None:
            return
        digest = hashlib.sha256(request.body).hexdigest().encode()
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(digest), digest))

    body = pattern_bytes(size)
    with TlsScriptedServer(server_context(pki.server), handler) as origin:
        outer = tunnel_to(proxy, origin.port, pki, sockets)
        hs = origin_handshake(outer, trusting(pki), sockets)
        establish(hs)
        tls = hs.sock
        assert isinstance(tls, TlsOverTls)
        deadline = time.monotonic() + DEADLINE
        view = memoryview(f"POST / HTTP/1.1\r\nContent-Length: {size}\r\n\r\n".encode() + body)
        stuck_at = -1
        try:
            while view:
                try:
                    n = tls.send(view)
                except ssl.SSLWantWriteError:
                    assert tls.want_write
                    if stuck_at < 0:
                        with selectors.DefaultSelector() as selector:
                            selector.register(tls, selectors.EVENT_WRITE)
                            if not selector.select(0.5):  # full while the origin reads nothing
                                stuck_at = size - len(view)
                                gate.set()
                    else:
                        wait(tls, True, deadline)
                    continue
                # a retry gets the length of the chunk it first took, never another
                assert n == min(len(view), 65536)
                view = view[n:]
        finally:
            gate.set()
        assert 0 < stuck_at < size // 2, "the tunnel never filled up"
        _, answer = read_response(tls, 16384, deadline)
        assert answer == hashlib.sha256(body).hexdigest().encode()


def test_records_already_received_are_read_without_waiting(
    pki: Pki, proxy: TlsHttpProxy, sockets: Sockets
) -> None:
    """Many small origin records arriving in one outer record: after the first short read
    the rest is in the incoming BIO, the fd will not become readable again, and only
    `pending()` tells the reader to go on."""
    pieces = [b"piece %02d;" % i for i in range(40)]

    def small_records(conn: ServerConnection) -> None:
        if conn.read_request() is None:
            return
        length = sum(map(len, pieces))
        sock = conn.sock
        # Corked: the origin's records leave as one segment, so the proxy relays them at once.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % length)
        for piece in pieces:
            conn.send(piece)  # one TLS record each
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
        conn.read_request()  # until the client closes

    if not hasattr(socket, "TCP_CORK"):
        pytest.skip("needs TCP_CORK (Linux)")
    with TlsScriptedServer(server_context(pki.server), small_records) as origin:
        outer = tunnel_to(proxy, origin.port, pki, sockets)
        hs = origin_handshake(outer, trusting(pki), sockets)
        establish(hs)
        assert isinstance(hs.sock, TlsOverTls)
        _, body = get(hs.sock, "/", 16384)
        assert body == b"".join(pieces)


def truncating(conn: ServerConnection) -> None:
    if conn.read_request() is not None:
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..")
    conn.close()  # no close_notify


def test_eof_without_close_notify_is_56_as_without_proxy(
    pki: Pki, proxy: TlsHttpProxy, sockets: Sockets, client: TlsClient
) -> None:
    with TlsScriptedServer(server_context(pki.server), truncating) as origin:
        direct_hs = client.handshake(origin.address, trusting(pki))
        direct_data, direct_exc = read_to_end_ssl(direct_hs.sock)
        outer = tunnel_to(proxy, origin.port, pki, sockets)
        hs = origin_handshake(outer, trusting(pki), sockets)
        establish(hs)
        assert isinstance(hs.sock, TlsOverTls)
        send_all(hs.sock, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", time.monotonic() + 5)
        data, exc = read_to_end(hs.sock)
    assert data == direct_data and data.endswith(b"only ten..")
    assert isinstance(exc, ssl.SSLEOFError) and isinstance(direct_exc, ssl.SSLEOFError)
    err, direct_err = recv_error(exc), recv_error(direct_exc)
    assert err is not None and direct_err is not None
    assert err.code == E_RECV_ERROR and str(err) == str(direct_err)
    assert "unexpected eof while reading" in str(err)


def read_to_end_ssl(sock: ssl.SSLSocket | TlsOverTls) -> tuple[bytes, OSError | None]:
    """`read_to_end` for the direct connection (a plain `ssl.SSLSocket`)."""
    deadline = time.monotonic() + DEADLINE
    view = memoryview(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    while view:
        try:
            view = view[sock.send(view) :]
        except ssl.SSLWantWriteError:
            wait(sock, True, deadline)
        except ssl.SSLWantReadError:
            wait(sock, False, deadline)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ssl.SSLWantReadError:
            wait(sock, False, deadline)
            continue
        except OSError as exc:
            return data, exc
        if not chunk:
            return data, None
        data += chunk


def test_close_notify_is_the_end_of_the_stream(
    pki: Pki, proxy: TlsHttpProxy, sockets: Sockets
) -> None:
    def closing(conn: ServerConnection) -> None:
        if conn.read_request() is not None:
            conn.send(b"HTTP/1.1 200 OK\r\n\r\nto the end")
            send_close_notify(conn)
        conn.close()

    with TlsScriptedServer(server_context(pki.server), closing) as origin:
        outer = tunnel_to(proxy, origin.port, pki, sockets)
        hs = origin_handshake(outer, trusting(pki), sockets)
        establish(hs)
        assert isinstance(hs.sock, TlsOverTls)
        send_all(hs.sock, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", time.monotonic() + 5)
        data, exc = read_to_end(hs.sock)
        assert (data, exc) == (b"HTTP/1.1 200 OK\r\n\r\nto the end", None)
        assert hs.sock.recv_into(bytearray(10)) == 0  # and stays ended


def test_session_resumed_inside_the_tunnel(pki: Pki, proxy: TlsHttpProxy, sockets: Sockets) -> None:
    settings = trusting(pki)
    ctx = build_context(settings)
    with origin_server(pki.server) as origin:
        first = TlsHandshake(
            tunnel_to(proxy, origin.port, pki, sockets), ctx, "localhost", settings
        )
        sockets.open.append(first.sock)
        establish(first)
        assert isinstance(first.sock, TlsOverTls)
        get(first.sock, "/hello")  # TLS 1.3 tickets come after the handshake
        session = first.session
        assert session is not None and session.has_ticket
        outer = tunnel_to(proxy, origin.port, pki, sockets)
        second = TlsHandshake(outer, ctx, "localhost", settings, session)
        sockets.open.append(second.sock)
        establish(second)
        assert second.session_reused
        assert wait_until(lambda: len(origin.sessions) == 2)  # the server's side ends later
        assert [s.session_reused for s in origin.sessions] == [False, True]
