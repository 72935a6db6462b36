"""`CurlShare`: data shared between handles (pycurl's `pycurl.CurlShare`).

Theory of operation: a share object owns the data that its handles agree to share. In this
release that is the DNS cache (`LOCK_DATA_DNS`): every engine a sharing handle runs in resolves
through the share's one `DnsCache`. The other kinds (`LOCK_DATA_COOKIE`, `LOCK_DATA_SSL_SESSION`,
`LOCK_DATA_CONNECT`) are accepted and recorded, and take effect with the features that own that
data (cookies, TLS sessions, a shared connection pool); README's option table says so.
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
from purecurl.engine.multi import MultiEngine
from purecurl.transport.resolver import DnsCache

_SOPT = {o.name: o.number for o in SHARE_OPTIONS.values()}
SH_SHARE = _SOPT["SH_SHARE"]
SH_UNSHARE = _SOPT["SH_UNSHARE"]
LOCK_DATA_DNS = SHARE_CONSTANTS["LOCK_DATA_DNS"]
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

    @property
    def closed(self) -> bool:
        return bool(self._closed)

    def close(self) -> None:
        self.__dict__["_closed"] = True


register_class(Kind.SHARE, CurlShare)

CurlShare._export_constants(SHARE_CONSTANTS)
