"""Proxy tunnels as connection filters: the I/O half of proto.proxy (CONNECT) and proto.socks.

Theory of operation
-------------------
A connection is a stack of filters (STYLE.md): TCP, then, for a proxied connection, the
proxy's own TLS, a tunnel, and the origin's TLS. Each filter that has a handshake exposes the
same small surface, which the engine drives while the transfer is CONNECTING:

    step() -> bool      advance without blocking; True once the filter is established
    want_write          after step() returned False: wait for POLL_OUT (else POLL_IN)
    sock                the socket the next filter and the transfer use
    log                 verbose lines produced so far (the engine empties it)

`transport.tls.TlsHandshake` is one; `ConnectTunnel` (HTTP CONNECT, lib/http_proxy.c) and
`SocksTunnel` (lib/socks.c) are the others. The protocol bytes come from the sans-IO modules;
here is only the sending and receiving, with EAGAIN (and the `ssl` module's want-read and
want-write) turned into socket interest, and OS errors mapped in one place
(transport.oserrors). The engine owns the clock: a stalled proxy ends with the connect
timeout, not here.
"""

from __future__ import annotations

import socket
import ssl

from purecurl._codes import E_COULDNT_CONNECT, E_PROXY, E_RECV_ERROR, E_SEND_ERROR
from purecurl._errors import CurlError
from purecurl.proto.http1 import Head
from purecurl.proto.proxy import ConnectResponseReader, connect_result
from purecurl.proto.socks import SocksError, SocksHandshake
from purecurl.transport.oserrors import curl_error

__all__ = ["ConnectTunnel", "SocksTunnel"]

_WOULD_BLOCK = (BlockingIOError, InterruptedError)
_RECV_SIZE = 16384


class _Io:
    """Sending a queue of bytes and receiving, for a handshake on `sock`."""

    __slots__ = ("log", "out", "sock", "want_write")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.out = b""
        self.want_write = False
        self.log: list[str] = []

    def _flush(self) -> bool:
        """Send what is queued; True when all of it went out."""
        while self.out:
            try:
                n = self.sock.send(self.out)
            except _WOULD_BLOCK:
                self.want_write = True
                return False
            except ssl.SSLWantWriteError:
                self.want_write = True
                return False
            except ssl.SSLWantReadError:
                self.want_write = False
                return False
            except OSError as exc:
                raise curl_error(exc, E_SEND_ERROR, "Send failure") from exc
            self.out = self.out[n:]
        return True

    def _recv(self) -> bytes | None:
        """Read what is there: bytes, b"" at EOF, None when nothing is (interest set)."""
        try:
            data = self.sock.recv(_RECV_SIZE)
        except _WOULD_BLOCK:
            self.want_write = False
            return None
        except ssl.SSLWantReadError:
            self.want_write = False
            return None
        except ssl.SSLWantWriteError:
            self.want_write = True
            return None
        except OSError as exc:
            raise curl_error(exc, E_RECV_ERROR, "Recv failure") from exc
        return data


class ConnectTunnel(_Io):
    """An HTTP CONNECT tunnel through a proxy on `sock` (plain or TLS to the proxy).

    `request` is the CONNECT head (proto.proxy.build_connect_request). Once `step()` returned
    True, `head` is the proxy's 2xx answer (its lines go to HEADERFUNCTION, its status is
    CURLINFO_HTTP_CONNECTCODE). A non-2xx answer raises CurlError(E_COULDNT_CONNECT) after
    `head` is set; a close before the answer raises E_RECV_ERROR as libcurl does.
    """

    __slots__ = ("head", "reader", "request")

    def __init__(self, sock: socket.socket, request: bytes) -> None:
        super().__init__(sock)
        self.request = request
        self.out = request
        self.reader = ConnectResponseReader()
        self.head: Head | None = None

    def __repr__(self) -> str:
        return f"<ConnectTunnel sent={not self.out} head={self.head is not None}>"

    def step(self) -> bool:
        if not self._flush():
            return False
        while True:
            data = self._recv()
            if data is None:
                return False
            if not data:
                raise CurlError(E_RECV_ERROR, "Proxy CONNECT aborted")
            head = self.reader.feed(data)
            if head is None:
                continue
            if 100 <= head.status < 200:
                # An interim answer: the final one follows (its bytes may have come along).
                rest = self.reader.leftover
                self.reader = ConnectResponseReader()
                if rest:
                    head = self.reader.feed(rest)
                    if head is None:
                        continue
                else:
                    continue
            self.head = head
            connect_result(head)
            if self.reader.leftover:
                # Tunnel bytes before we sent anything: no protocol we speak does that.
                raise CurlError(E_COULDNT_CONNECT, "Proxy CONNECT followed by unexpected data")
            self.log.append("CONNECT tunnel established, response " + str(head.status))
            return True


class SocksTunnel(_Io):
    """A SOCKS4/4a/5/5h handshake (proto.socks.SocksHandshake) on `sock`."""

    __slots__ = ("hs",)

    def __init__(self, sock: socket.socket, hs: SocksHandshake) -> None:
        super().__init__(sock)
        self.hs = hs

    def __repr__(self) -> str:
        return f"<SocksTunnel {self.hs!r}>"

    def step(self) -> bool:
        hs = self.hs
        while not hs.done:
            self.out += hs.data_to_send()
            if not self._flush():
                return False
            data = self._recv()
            if data is None:
                return False
            if not data:
                hs.receive_eof()
                raise CurlError(E_PROXY, "Failed to receive SOCKS response")
            hs.receive(data)
        if hs.leftover:
            raise SocksError(0, "SOCKS proxy sent data after its reply")
        return True
