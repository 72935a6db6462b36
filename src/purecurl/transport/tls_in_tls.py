"""TLS inside TLS: the origin's TLS session carried through the TLS session to an HTTPS proxy.

Theory of operation
-------------------
For https:// through an https:// proxy the filter stack is TCP -> TLS to the proxy -> CONNECT
tunnel -> TLS to the origin (libcurl's cf-ssl over cf-h1-proxy over cf-ssl-proxy). `ssl` can
wrap a socket only once, so the inner session is an `ssl.SSLObject` over two `MemoryBIO`s, and
`TlsOverTls` moves its ciphertext through the outer `ssl.SSLSocket`:

    inner SSLObject --outgoing BIO--> _out --outer.send--> proxy tunnel
    inner SSLObject <--incoming BIO-- outer.recv_into <--- proxy tunnel

To the engine it is one more non-blocking TLS socket: `do_handshake`, `send`, `recv_into`,
`recv`, `pending`, `fileno`, `close` and the handshake's results behave as `ssl.SSLSocket`'s,
raising `ssl.SSLWantReadError` / `ssl.SSLWantWriteError` when the outer socket would block, and
the errors of either layer unchanged (`ssl.SSLError`, `OSError`), so `transport.tls`
(`TlsHandshake`, `recv_error`, `send_error`) maps them to the same CURLcodes as a direct TLS
connection. The fd to wait on is the outer socket's.

Three rules keep it from stalling or losing bytes:

- Reading: when the inner session wants more ciphertext, the outer socket is read until the
  inner session has what it needs or the outer would block. The outer may hold decrypted
  bytes the fd no longer signals (`outer.pending()`), and the incoming BIO may hold whole
  records the inner session has not read: `pending()` counts both, so a caller that stops
  reading when a read came back short and `pending()` is 0 never leaves data behind.
- Writing follows OpenSSL's SSL_write retry rule (SSL_write(3)): `send(data)` encrypts a
  chunk of `data` and returns its length only once all its ciphertext went to the outer
  socket. When the outer socket fills up, the rest stays in `_out` and `send` raises
  `SSLWantWriteError`; the caller calls `send` again with the same data (as `SSLSocket` also
  requires) and gets the chunk's length once `_out` drained. A request therefore never looks
  sent while part of it is still here, and the caller's POLL_OUT interest stays right.
- The handshake is complete only when the inner session says so AND its last flight (the
  client Finished) left `_out`.

Ciphertext the inner session makes by itself while reading (a TLS 1.3 KeyUpdate answer) is
flushed at once when the outer socket takes it; else it waits in `_out` (`want_write`) and
goes out before anything else. Nothing here blocks, sleeps or reads the clock.

Not done: `close()` sends no close_notify in either layer (as `SSLSocket.close`), and there is
no `unwrap()`.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Literal, cast, overload

if TYPE_CHECKING:
    from ssl import _PeerCertRetDictType

    from _typeshed import ReadableBuffer, WriteableBuffer

__all__ = ["TlsOverTls"]

# Ciphertext read from the outer socket at once: more than one record's plaintext (16 KiB,
# RFC 8446 s5.1), so a read never leaves part of a record in the outer session.
_READ_SIZE = 65536
# Plaintext encrypted per send(): bounds `_out` (and memory) for a large upload buffer.
_WRITE_SIZE = 65536


class TlsOverTls:
    """A client TLS session to the origin, run over `outer`, a TLS socket to a proxy.

    `outer` is a connected non-blocking `ssl.SSLSocket` whose handshake is done (and whose
    tunnel, if any, is open); from now on this object owns it: `close()` closes it. The inner
    handshake is made by calling `do_handshake()` until it stops raising.
    """

    __slots__ = ("_in", "_obj", "_out", "_outer", "_outgoing", "_rbuf", "_rview", "_unacked")

    def __init__(
        self,
        outer: ssl.SSLSocket,
        ctx: ssl.SSLContext,
        server_hostname: str | bytes | None,
        session: ssl.SSLSession | None = None,
    ) -> None:
        """Raises ValueError for a `server_hostname` `ssl` refuses, or a `session` made by
        another context; `outer` is then left to the caller."""
        self._in = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._obj = ctx.wrap_bio(
            self._in, self._outgoing, server_hostname=server_hostname, session=session
        )
        self._outer = outer
        self._out = bytearray()  # ciphertext the outer socket has not taken yet
        self._unacked = 0  # plaintext length of a send() whose ciphertext is in `_out`
        self._rbuf = bytearray(_READ_SIZE)
        self._rview = memoryview(self._rbuf)

    def __repr__(self) -> str:
        return (
            f"<TlsOverTls fd={self._outer.fileno()} version={self._obj.version()}"
            f" unsent={len(self._out)} buffered={self._in.pending}>"
        )

    def __enter__(self) -> TlsOverTls:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- moving ciphertext

    def _fill(self) -> None:
        """Move what the outer socket has into the incoming BIO (EOF too).

        Raises what `outer.recv_into` raises: SSLWantReadError when there is nothing yet.
        """
        if self._in.eof:
            # The inner session asked for more after the end: never expected of OpenSSL, but
            # a second SSLWantReadError would make the caller wait for an fd at EOF forever.
            raise ssl.SSLEOFError(ssl.SSL_ERROR_EOF, "EOF occurred in violation of protocol")
        n = self._outer.recv_into(self._rbuf)
        if n:
            self._in.write(self._rview[:n])
        else:  # the proxy's close_notify (an EOF without it raises in the outer session)
            self._in.write_eof()

    def _flush(self) -> None:
        """Hand all ciphertext to the outer socket; raises SSLWantWriteError (or
        SSLWantReadError) with the rest kept in `_out` when it cannot take it all."""
        out = self._out
        if self._outgoing.pending:
            out += self._outgoing.read()
        while out:
            # Unsent bytes stay at the front of `out` until a send succeeds: after a
            # want-write, OpenSSL must be offered the same bytes again (SSL_write(3)).
            n = self._outer.send(out)
            del out[:n]

    def _flush_if_possible(self) -> None:
        """`_flush`, leaving what does not go out now for the next call."""
        try:
            self._flush()
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            pass

    # -- the socket surface the engine and TlsHandshake use

    @property
    def want_write(self) -> bool:
        """True while ciphertext waits for the outer socket: wait for POLL_OUT."""
        return bool(self._out) or bool(self._outgoing.pending)

    def do_handshake(self) -> None:
        """Advance the inner handshake; return once it is complete and its last flight is out.

        Raises SSLWantReadError / SSLWantWriteError while the outer socket must be waited
        for, SSLCertVerificationError when the origin's chain fails, SSLError and OSError
        for the rest (either layer's).
        """
        while True:
            try:
                self._obj.do_handshake()
            except ssl.SSLWantReadError:
                self._flush()
                self._fill()
                continue
            break
        self._flush()

    def send(self, data: ReadableBuffer, flags: int = 0) -> int:
        """Encrypt up to 64 KiB of `data`; return how much once its ciphertext is out.

        Raises SSLWantWriteError (SSLWantReadError) while the outer socket cannot take it:
        call again with the same data (`SSLSocket`'s rule). Other errors as `SSLSocket.send`.
        """
        if flags:
            raise ValueError("non-zero flags not allowed in calls to send() on TlsOverTls")
        if not self._unacked:
            if self._out or self._outgoing.pending:
                self._flush()  # earlier ciphertext keeps its place in the stream
            view = memoryview(data).cast("B")
            self._unacked = self._obj.write(view[:_WRITE_SIZE])
            if not self._unacked:
                return 0
        self._flush()
        n, self._unacked = self._unacked, 0
        return n

    def recv_into(self, buffer: WriteableBuffer, nbytes: int | None = None, flags: int = 0) -> int:
        """Read up to `nbytes` (default: the buffer's size) of the origin's data into `buffer`.

        Returns 0 at the origin's close_notify. Raises SSLWantReadError (SSLWantWriteError)
        when nothing is there, SSLEOFError when the stream ended without close_notify, and
        the errors of either layer as `SSLSocket.recv_into` does.
        """
        if flags:
            raise ValueError("non-zero flags not allowed in calls to recv_into() on TlsOverTls")
        size = nbytes or memoryview(buffer).nbytes
        # `SSLObject.read` returns the count (not bytes) when given a buffer.
        return cast(int, self._read(size, buffer))

    def recv(self, bufsize: int = 1024, flags: int = 0) -> bytes:
        """`recv_into`, returning the bytes (b"" at the origin's close_notify)."""
        if flags:
            raise ValueError("non-zero flags not allowed in calls to recv() on TlsOverTls")
        return self._read(bufsize, None)

    def _read(self, size: int, buffer: WriteableBuffer | None) -> bytes:
        if self._out:
            self._flush_if_possible()
        while True:
            try:
                data = self._obj.read(size, buffer)
            except ssl.SSLWantReadError:
                self._fill()
                continue
            if self._outgoing.pending:
                self._flush_if_possible()
            return data

    def pending(self) -> int:
        """Non-zero when a read may return data without the fd becoming readable: decrypted
        origin bytes, ciphertext not yet decrypted, or outer plaintext not yet moved in."""
        return self._obj.pending() + self._in.pending + self._outer.pending()

    def fileno(self) -> int:
        """The outer socket's descriptor (-1 once closed): the one to wait on."""
        return self._outer.fileno()

    def gettimeout(self) -> float | None:
        """The outer socket's timeout: 0.0, as it must be non-blocking."""
        return self._outer.gettimeout()

    def close(self) -> None:
        """Close the outer socket (and so the connection); no close_notify is sent."""
        self._outer.close()

    def detach(self) -> int:
        """Give up the descriptor without closing it (CLOSESOCKETFUNCTION); return it."""
        return self._outer.detach()

    # -- what the inner handshake agreed, as `ssl.SSLSocket` gives it

    @overload
    def getpeercert(self, binary_form: Literal[False] = False) -> _PeerCertRetDictType | None: ...

    @overload
    def getpeercert(self, binary_form: Literal[True]) -> bytes | None: ...

    def getpeercert(self, binary_form: bool = False) -> _PeerCertRetDictType | bytes | None:
        """The origin's certificate: DER with `binary_form`, else the decoded dict."""
        return self._obj.getpeercert(binary_form)

    def version(self) -> str | None:
        return self._obj.version()

    def cipher(self) -> tuple[str, str, int] | None:
        return self._obj.cipher()

    def shared_ciphers(self) -> list[tuple[str, str, int]] | None:
        return self._obj.shared_ciphers()

    def compression(self) -> str | None:
        return self._obj.compression()

    def selected_alpn_protocol(self) -> str | None:
        return self._obj.selected_alpn_protocol()

    def get_channel_binding(self, cb_type: str = "tls-unique") -> bytes | None:
        return self._obj.get_channel_binding(cb_type)

    def get_unverified_chain(self) -> list[bytes]:
        """The origin's chain as sent, DER, leaf first; [] before Python 3.13."""
        chain = getattr(self._obj, "get_unverified_chain", None)
        return list(chain() or ()) if chain is not None else []

    @property
    def server_hostname(self) -> str | None:
        return self._obj.server_hostname

    @property
    def context(self) -> ssl.SSLContext:
        return self._obj.context

    @property
    def session(self) -> ssl.SSLSession | None:
        """The inner session, to resume later; settable before the handshake (ValueError
        when it belongs to another context)."""
        return self._obj.session

    @session.setter
    def session(self, session: ssl.SSLSession | None) -> None:
        self._obj.session = session

    @property
    def session_reused(self) -> bool:
        return self._obj.session_reused
