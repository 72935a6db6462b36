"""`CurlShare`: data shared between handles (pycurl's `pycurl.CurlShare`).

Theory of operation: a share object owns the data that its handles agree to share: the DNS
cache (`LOCK_DATA_DNS`) and the TLS session cache (`LOCK_DATA_SSL_SESSION`), which every engine
a sharing handle runs in uses, and the cookie jar (`LOCK_DATA_COOKIE`), which every handle that
sets CURLOPT_SHARE uses as its own. With `LOCK_DATA_CONNECT` the share holds the connection
pool: an idle connection left by one handle (or multi) is reused by another, and closes with
the share. A multi switches to the share's pool only while it has no connection of its own.
Everything runs on the thread of the loop that drives the handles, so the share needs no locks.
"""

from __future__ import annotations

from typing import Any

from purecurl._errors import error
from purecurl._object import PycurlObject
from purecurl._options import (
    SHARE_CONSTANTS,
    SHARE_OPTIONS,
    Kind,
    check_share_value,
    register_class,
)
from purecurl.engine.multi import MultiEngine, close_idle_socket
from purecurl.engine.pool import ConnectionPool
from purecurl.engine.transfer import Connection, HandleState
from purecurl.proto.cookies import CookieJar
from purecurl.transport.resolver import DnsCache
from purecurl.transport.tls import TlsSessionCache

_SOPT = {o.name: o.number for o in SHARE_OPTIONS.values()}
SH_SHARE = _SOPT["SH_SHARE"]
SH_UNSHARE = _SOPT["SH_UNSHARE"]
LOCK_DATA_DNS = SHARE_CONSTANTS["LOCK_DATA_DNS"]
LOCK_DATA_COOKIE = SHARE_CONSTANTS["LOCK_DATA_COOKIE"]
LOCK_DATA_SSL_SESSION = SHARE_CONSTANTS["LOCK_DATA_SSL_SESSION"]
LOCK_DATA_CONNECT = SHARE_CONSTANTS["LOCK_DATA_CONNECT"]
_KNOWN_DATA = frozenset(
    SHARE_CONSTANTS[n]
    for n in ("LOCK_DATA_COOKIE", "LOCK_DATA_DNS", "LOCK_DATA_SSL_SESSION", "LOCK_DATA_CONNECT")
    if n in SHARE_CONSTANTS
)


class CurlShare(PycurlObject):
    """A share handle."""

    def __init__(self) -> None:
        d = self.__dict__
        d["_shared"] = set()
        d["_dns"] = DnsCache()
        d["_cookies"] = CookieJar()
        d["_tls_sessions"] = TlsSessionCache()
        d["_pool"] = ConnectionPool[Connection]()
        d["_closed"] = False

    def __enter__(self) -> CurlShare:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def setopt(self, option: int, value: Any) -> None:
        """SH_SHARE / SH_UNSHARE a LOCK_DATA_* kind."""
        if self._closed:
            raise error("cannot invoke setopt() - no share handle")
        norm = check_share_value(option, value)
        if option in (SH_SHARE, SH_UNSHARE):
            if norm not in _KNOWN_DATA:
                raise error(1, "CURLSHcode bad option")  # CURLSHE_BAD_OPTION
            if option == SH_SHARE:
                self._shared.add(norm)
            else:
                self._shared.discard(norm)

    def _attach(self, eng: MultiEngine) -> None:
        """Make `eng` use the shared data this share holds."""
        if LOCK_DATA_DNS in self._shared:
            eng.dns_cache = self._dns
        if LOCK_DATA_SSL_SESSION in self._shared:
            eng.tls_sessions = self._tls_sessions
        # Only a multi with no connection yet changes pools: a connection is counted by the
        # pool that opened it until it closes.
        if LOCK_DATA_CONNECT in self._shared and eng.pool is not self._pool and eng.pool.total == 0:
            eng.pool = self._pool
            eng.shared_pool = True

    def _attach_handle(self, hs: HandleState) -> None:
        """A handle set CURLOPT_SHARE: its cookies live in the share's jar."""
        if LOCK_DATA_COOKIE in self._shared:
            hs.cookies = self._cookies

    @property
    def closed(self) -> bool:
        return bool(self._closed)

    def close(self) -> None:
        """Close the share; the idle connections it keeps (LOCK_DATA_CONNECT) close too."""
        if self._closed:
            return
        self.__dict__["_closed"] = True
        pool = self._pool
        for conn in pool.idle_connections():
            pool.closed(conn)
            conn.closed = True
            sock = conn.sock
            conn.sock = None
            if sock is not None:
                close_idle_socket(conn, sock)


register_class(Kind.SHARE, CurlShare)

CurlShare._export_constants(SHARE_CONSTANTS)
