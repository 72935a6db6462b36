"""SOCKS4, SOCKS4a and SOCKS5 client handshakes, sans-IO.

Theory of operation
-------------------
A `SocksHandshake` is built for one tunnel (proxy version, target host and port, the target's
address when the name was resolved locally, credentials). The engine loops:

    while not hs.done:
        send hs.data_to_send() to the proxy (may be b"")
        hs.receive(bytes read from the proxy)      # or hs.receive_eof() when it closed

until `done`; then `leftover` holds bytes the proxy sent after its reply (already tunnel data).
A failure raises `SocksError` (a CurlError with code E_PROXY, libcurl 8.23's message, and the
CURLPX_* detail in `proxy_code` for CURLINFO_PROXY_ERROR). Checks that need no reply (name
too long, SOCKS4 to an IPv6 address) fail in the constructor, before a byte is sent.

States, as a table of what is awaited (lib/socks.c):

    SOCKS4/4a:  REPLY4 (8 bytes) -> DONE
    SOCKS5:     METHOD (2) -> [AUTH (2)] -> REPLY5 (4 + address + 2) -> DONE

The whole request of a state is queued at once; replies are parsed only when complete, so a
reply fed byte by byte and one fed whole give the same result.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from purecurl._codes import E_PROXY
from purecurl._errors import CurlError

__all__ = ["SocksError", "SocksHandshake"]

# CURLproxycode (include/curl/curl.h), for CURLINFO_PROXY_ERROR.
PX_OK = 0
PX_BAD_ADDRESS_TYPE = 1
PX_BAD_VERSION = 2
PX_CLOSED = 3
PX_GSSAPI = 4
PX_GSSAPI_PERMSG = 5
PX_GSSAPI_PROTECTION = 6
PX_IDENTD = 7
PX_IDENTD_DIFFER = 8
PX_LONG_HOSTNAME = 9
PX_LONG_PASSWD = 10
PX_LONG_USER = 11
PX_NO_AUTH = 12
PX_RECV_ADDRESS = 13
PX_RECV_AUTH = 14
PX_RECV_CONNECT = 15
PX_RECV_REQACK = 16
PX_REPLY_ADDRESS_TYPE_NOT_SUPPORTED = 17
PX_REPLY_COMMAND_NOT_SUPPORTED = 18
PX_REPLY_CONNECTION_REFUSED = 19
PX_REPLY_GENERAL_SERVER_FAILURE = 20
PX_REPLY_HOST_UNREACHABLE = 21
PX_REPLY_NETWORK_UNREACHABLE = 22
PX_REPLY_NOT_ALLOWED = 23
PX_REPLY_TTL_EXPIRED = 24
PX_REPLY_UNASSIGNED = 25
PX_REQUEST_FAILED = 26
PX_RESOLVE_HOST = 27
PX_SEND_AUTH = 28
PX_SEND_CONNECT = 29
PX_SEND_REQUEST = 30
PX_UNKNOWN_FAIL = 31
PX_UNKNOWN_MODE = 32
PX_USER_REJECTED = 33

# RFC 1928 section 6 REP values 1..8, as lib/socks.c maps them; 9 and up are "unassigned".
_SOCKS5_REPLY_CODES = (
    PX_OK,
    PX_REPLY_GENERAL_SERVER_FAILURE,
    PX_REPLY_NOT_ALLOWED,
    PX_REPLY_NETWORK_UNREACHABLE,
    PX_REPLY_HOST_UNREACHABLE,
    PX_REPLY_CONNECTION_REFUSED,
    PX_REPLY_TTL_EXPIRED,
    PX_REPLY_COMMAND_NOT_SUPPORTED,
    PX_REPLY_ADDRESS_TYPE_NOT_SUPPORTED,
)
# SOCKS4 CD values 91..93 (the SOCKS4 protocol note), and libcurl's texts for them.
_SOCKS4_REJECTS = {
    91: (PX_REQUEST_FAILED, "request rejected or failed."),
    92: (
        PX_IDENTD,
        "request rejected because SOCKS server cannot connect to identd on the client.",
    ),
    93: (
        PX_IDENTD_DIFFER,
        "request rejected because the client program and identd report different user-ids.",
    ),
}

_METHOD, _AUTH, _REPLY4, _REPLY5, _DONE = range(5)
_STATE_NAMES = ("METHOD", "AUTH", "REPLY4", "REPLY5", "DONE")
_VERSIONS = ("socks4", "socks4a", "socks5", "socks5h")


class SocksError(CurlError):
    """A SOCKS handshake failure: code E_PROXY, `proxy_code` a CURLPX_* value."""

    def __init__(self, proxy_code: int, message: str) -> None:
        super().__init__(E_PROXY, message)
        self.proxy_code = proxy_code


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]").partition("%")[0])
    except ValueError:
        return None


class SocksHandshake:
    """The client side of one SOCKS handshake.

    `version` is "socks4", "socks4a", "socks5" or "socks5h"; `host`/`port` the target as in
    the URL (IPv6 with or without brackets); `addr` the target's locally resolved address as a
    socket address tuple (`addr[0]` is the IP text), required for socks4 and socks5 and ignored
    by socks4a and socks5h, which send the name for the proxy to resolve. `user`/`password` are
    the proxy credentials (decoded): SOCKS4 sends the user as USERID; SOCKS5 offers RFC 1929
    user/password auth when `user` is not None. GSS-API is never offered.

    Raises SocksError at construction for what libcurl rejects before sending: SOCKS4 to an
    address with no IPv4 form, a SOCKS4 user longer than 255 bytes, a socks4a name longer than
    254 bytes, a socks5h name longer than 255 bytes, SOCKS5 credentials longer than 255 bytes.
    """

    __slots__ = (
        "_auth",
        "_buf",
        "_need",
        "_out",
        "_request",
        "_state",
        "host",
        "leftover",
        "port",
        "version",
    )

    def __init__(
        self,
        version: str,
        host: str,
        port: int,
        addr: tuple[Any, ...] | None = None,
        user: str | None = None,
        password: str | None = None,
    ) -> None:
        if version not in _VERSIONS:
            raise ValueError(f"unknown SOCKS version {version!r}")
        self.version = version
        self.host = host = host.strip("[]") if host.startswith("[") else host
        self.port = port
        self.leftover = b""
        self._buf = b""
        self._auth: bytes | None = None  # the RFC 1929 request, when credentials were given
        self._request = b""  # the SOCKS5 CONNECT request, sent after the method choice
        if version.startswith("socks4"):
            self._out = self._socks4_request(addr, user)
            self._state, self._need = _REPLY4, 8
        else:
            self._out = self._socks5_greeting(user, password, addr)
            self._state, self._need = _METHOD, 2

    def __repr__(self) -> str:
        return (
            f"<SocksHandshake {self.version} to {self.host}:{self.port}"
            f" {_STATE_NAMES[self._state]}>"
        )

    # --- the API ---------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """The proxy granted the tunnel; bytes from now on are the target's."""
        return self._state == _DONE

    @property
    def needs_more(self) -> bool:
        """A reply from the proxy is awaited (read from the socket, then `receive`)."""
        return self._state != _DONE

    def data_to_send(self) -> bytes:
        """Return the bytes to send to the proxy now (b"" when there are none); each byte is
        returned once."""
        out, self._out = self._out, b""
        return out

    def receive(self, data: bytes) -> None:
        """Take bytes read from the proxy. Raises SocksError when the proxy refuses."""
        if self._state == _DONE:
            self.leftover += data
            return
        buf = self._buf + data if self._buf else data
        while self._state != _DONE and len(buf) >= self._need:
            buf = self._step(buf)
        if self._state == _DONE:
            self.leftover, self._buf = buf, b""
        else:
            self._buf = buf

    def receive_eof(self) -> None:
        """The proxy closed the connection. Raises SocksError unless the handshake is done."""
        if self._state != _DONE:
            # libcurl 8.23 reports a close in any state with one message and CURLPX_RECV_CONNECT
            # (checked: close before the method choice, mid-auth, mid-reply, SOCKS4 and 5).
            raise SocksError(
                PX_RECV_CONNECT, "Failed to receive SOCKS response, proxy closed connection"
            )

    # --- building requests -----------------------------------------------------------------

    def _socks4_request(self, addr: tuple[Any, ...] | None, user: str | None) -> bytes:
        # SOCKS4: VN=4 CD=1 DSTPORT DSTIP USERID NUL; SOCKS4A: DSTIP 0.0.0.1, then the name NUL.
        userid = b"" if user is None else user.encode("utf-8", "surrogateescape")
        if len(userid) > 255:
            # lib/socks.c: no limit in the protocol, but SOCKS5's 255 is assumed sane.
            raise SocksError(PX_LONG_USER, "Too long SOCKS proxy username")
        head = b"\x04\x01" + self.port.to_bytes(2, "big")
        if self.version == "socks4a":
            name = self.host.encode("idna" if not self.host.isascii() else "ascii")
            if len(name) + 1 > 255:
                raise SocksError(PX_LONG_HOSTNAME, "SOCKS4: too long hostname")
            return head + b"\x00\x00\x00\x01" + userid + b"\x00" + name + b"\x00"
        ip = _ip_literal(str(addr[0])) if addr is not None else _ip_literal(self.host)
        if ip is None or ip.version != 4:
            # SOCKS4 carries IPv4 only (lib/socks.c picks the first IPv4 address).
            raise SocksError(PX_RESOLVE_HOST, f"SOCKS4 connection to {self.host} not supported")
        return head + ip.packed + userid + b"\x00"

    def _socks5_greeting(
        self, user: str | None, password: str | None, addr: tuple[Any, ...] | None
    ) -> bytes:
        # Everything that can fail before the first byte is checked here.
        if user is not None:
            ubytes = user.encode("utf-8", "surrogateescape")
            pbytes = (password or "").encode("utf-8", "surrogateescape")
            if len(ubytes) > 255:
                raise SocksError(PX_LONG_USER, "Excessive username length for proxy auth")
            if len(pbytes) > 255:
                raise SocksError(PX_LONG_PASSWD, "Excessive password length for proxy auth")
            # RFC 1929 section 2: VER=1 ULEN UNAME PLEN PASSWD.
            self._auth = bytes((1, len(ubytes))) + ubytes + bytes((len(pbytes),)) + pbytes
        self._request = b"\x05\x01\x00" + self._address(addr) + self.port.to_bytes(2, "big")
        # RFC 1928 section 3: VER NMETHODS METHODS; 0 = no auth, 2 = user/password.
        return b"\x05\x02\x00\x02" if self._auth is not None else b"\x05\x01\x00"

    def _address(self, addr: tuple[Any, ...] | None) -> bytes:
        # RFC 1928 section 5: ATYP 1 IPv4, 3 name (one length byte), 4 IPv6.
        ip = _ip_literal(self.host)
        if self.version == "socks5" and ip is None:
            if addr is None:
                raise ValueError("socks5 resolves locally: give the target's address")
            ip = _ip_literal(str(addr[0]))
            if ip is None:
                raise ValueError(f"not an IP address: {addr[0]!r}")
        if ip is not None:
            return (b"\x01" if ip.version == 4 else b"\x04") + ip.packed
        name = self.host.encode("idna" if not self.host.isascii() else "ascii")
        if len(name) > 255:
            raise SocksError(
                PX_LONG_HOSTNAME,
                "SOCKS5: the destination hostname is too long to be resolved remotely by "
                "the proxy.",
            )
        return b"\x03" + bytes((len(name),)) + name

    # --- parsing replies -------------------------------------------------------------------

    def _step(self, buf: bytes) -> bytes:
        """Handle one complete reply (or grow `_need` when its length is now known); return
        the bytes after what was consumed."""
        state = self._state
        if state == _REPLY4:
            self._socks4_reply(buf[:8])
            self._state = _DONE
            return buf[8:]
        if state == _METHOD:
            self._method(buf[0], buf[1])
            return buf[2:]
        if state == _AUTH:
            # RFC 1929 section 2: VER STATUS; libcurl ignores VER, any STATUS but 0 fails.
            if buf[1]:
                raise SocksError(
                    PX_USER_REJECTED,
                    f"User was rejected by the SOCKS5 server ({buf[0]} {buf[1]}).",
                )
            self._send_request()
            return buf[2:]
        # _REPLY5: VER REP RSV ATYP BND.ADDR BND.PORT (RFC 1928 section 6)
        if self._need == 4:
            self._socks5_reply_head(buf)
            atyp = buf[3]
            if atyp == 1:
                self._need = 4 + 4 + 2
            elif atyp == 4:
                self._need = 4 + 16 + 2
            else:  # a name: the length byte comes first
                self._need = 5
            return buf
        if self._need == 5 and buf[3] == 3:
            self._need = 5 + buf[4] + 2  # the loop in `receive` waits for the rest
            return buf
        end = self._need
        self._state = _DONE
        return buf[end:]

    def _socks4_reply(self, reply: bytes) -> None:
        # VN CD DSTPORT DSTIP; VN must be 0, CD 90 is "granted".
        if reply[0] != 0:
            raise SocksError(PX_BAD_VERSION, "SOCKS4 reply has wrong version, version should be 0.")
        cd = reply[1]
        if cd == 90:
            return
        code, text = _SOCKS4_REJECTS.get(cd, (PX_UNKNOWN_FAIL, "Unknown."))
        where = f"{reply[4]}.{reply[5]}.{reply[6]}.{reply[7]}:{int.from_bytes(reply[2:4], 'big')}"
        raise SocksError(
            code, f"[SOCKS] cannot complete SOCKS4 connection to {where}. ({cd}), {text}"
        )

    def _method(self, version: int, method: int) -> None:
        if version != 5:
            raise SocksError(PX_BAD_VERSION, "Received invalid version in initial SOCKS5 response.")
        if method == 0:
            self._send_request()
        elif method == 2:
            # A proxy may pick user/password though it was not offered; libcurl then sends
            # empty credentials (checked: 01 00 00).
            self._out += self._auth if self._auth is not None else b"\x01\x00\x00"
            self._state, self._need = _AUTH, 2
        elif method == 1:
            raise SocksError(
                PX_GSSAPI_PERMSG, "SOCKS5 GSSAPI per-message authentication is not enabled."
            )
        elif method == 255:
            raise SocksError(PX_NO_AUTH, "No authentication method was acceptable.")
        else:
            raise SocksError(PX_UNKNOWN_MODE, "Unknown SOCKS5 mode attempted to be used by server.")

    def _send_request(self) -> None:
        self._out += self._request
        self._state, self._need = _REPLY5, 4

    def _socks5_reply_head(self, buf: bytes) -> None:
        if buf[0] != 5:
            raise SocksError(PX_BAD_VERSION, "SOCKS5 reply has wrong version, version should be 5.")
        rep = buf[1]
        if rep:
            code = _SOCKS5_REPLY_CODES[rep] if rep < 9 else PX_REPLY_UNASSIGNED
            raise SocksError(code, f"cannot complete SOCKS5 connection to {self.host}. ({rep})")
        if buf[3] not in (1, 3, 4):
            raise SocksError(PX_BAD_ADDRESS_TYPE, "SOCKS5 reply has wrong address type.")
