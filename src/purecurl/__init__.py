"""purecurl: libcurl's multi interface in pure Python, with pycurl's API.

`import purecurl as pycurl` gives `Curl`, `CurlMulti`, `CurlShare`, `error`, the constants with
libcurl's numbers, `version`, `version_info()` and the global functions.
"""

from __future__ import annotations

import platform as _platform
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from h2 import __version__ as _h2_version

from purecurl import _options
from purecurl._codes import easy_strerror, multi_strerror, share_strerror
from purecurl._errors import error
from purecurl._version import LIBCURL_VERSION as _LIBCURL_VERSION
from purecurl._version import LIBCURL_VERSION_NUM as _LIBCURL_VERSION_NUM
from purecurl._version import SSL_VERSION as _SSL_VERSION
from purecurl._version import VERSION as _VERSION
from purecurl._version import ZLIB_VERSION as _ZLIB_VERSION
from purecurl._version import __version__
from purecurl.easy import Curl
from purecurl.engine.multi import CurlSockAddr
from purecurl.mime import CurlMime, CurlMimePart
from purecurl.multi import CurlMulti
from purecurl.proto.decoding import codec_versions as _codec_versions
from purecurl.share import CurlShare

# libcurl names its content codecs and its HTTP/2 library (nghttp2/x.y) in the version string;
# so does purecurl, with the optional brotli / zstd modules when they are there.
version = " ".join([_VERSION, *_codec_versions(), f"h2/{_h2_version}"])
COMPILE_SSL_LIB = "openssl"

# Every int constant, generated from the one option table (COMPILE_LIBCURL_VERSION_NUM and
# COMPILE_PY_VERSION_HEX among them).
globals().update(_options.PUBLIC_CONSTANTS)


if _TYPE_CHECKING:
    from purecurl.async_multi import AsyncCurlMulti


def __getattr__(name: str) -> int:
    # AsyncCurlMulti is imported on first use: it brings in asyncio (a tenth of the import
    # time), which the pycurl face and its users mostly never need.
    if name == "AsyncCurlMulti":
        from purecurl.async_multi import AsyncCurlMulti as cls

        globals()[name] = cls
        return cls  # type: ignore[return-value]
    # Every constant is set above; this also tells type checkers that the module's upper-case
    # names (generated from the option table) are ints.
    raise AttributeError(f"module 'purecurl' has no attribute {name!r}")


_GLOBAL_FLAGS = 0x1 | 0x2 | 0x4 | 0x8  # SSL, WIN32, ACK_EINTR, (reserved)


def global_init(flags: int) -> None:
    """curl_global_init: nothing to set up; ValueError on flags libcurl does not know."""
    if not isinstance(flags, int) or flags & ~_GLOBAL_FLAGS:
        raise ValueError("invalid option to global_init")


def global_cleanup() -> None:
    """curl_global_cleanup: nothing to release."""


def version_info() -> tuple[_Any, ...]:
    """pycurl's 12-tuple: (age, version, version_num, host, features, ssl_version,
    ssl_version_num, libz_version, protocols, ares, ares_num, libidn)."""
    features = (
        _options.PUBLIC_CONSTANTS.get("VERSION_IPV6", 1)
        | _options.PUBLIC_CONSTANTS.get("VERSION_ASYNCHDNS", 1 << 7)
        | _options.PUBLIC_CONSTANTS.get("VERSION_LARGEFILE", 1 << 9)
        | _options.PUBLIC_CONSTANTS.get("VERSION_UNIX_SOCKETS", 1 << 19)
        | _options.PUBLIC_CONSTANTS.get("VERSION_HTTP2", 1 << 16)
    )
    host = f"{_platform.machine()}-pc-{_platform.system().lower()}-purecurl"
    return (
        11,
        _LIBCURL_VERSION,
        _LIBCURL_VERSION_NUM,
        host,
        features,
        _SSL_VERSION,
        0,
        _ZLIB_VERSION,
        ("file", "http", "https"),
        None,
        0,
        None,
    )


__all__ = [
    "AsyncCurlMulti",
    "Curl",
    "CurlMime",
    "CurlMimePart",
    "CurlMulti",
    "CurlShare",
    "CurlSockAddr",
    "__version__",
    "easy_strerror",
    "error",
    "global_cleanup",
    "global_init",
    "multi_strerror",
    "share_strerror",
    "version",
    "version_info",
]
