"""purecurl's own version, and the version strings software written for pycurl parses."""

from __future__ import annotations

import ssl
import zlib

__version__ = "0.1.0"

# The libcurl and pycurl versions whose behaviour purecurl follows (PYCURL-API.md).
LIBCURL_VERSION = "8.23.0"
LIBCURL_VERSION_NUM = 0x081700
PYCURL_VERSION = "7.49.0"

USER_AGENT = f"purecurl/{__version__}"


def _ssl_name() -> str:
    # "OpenSSL 3.0.11 19 Sep 2023" -> "OpenSSL/3.0.11"
    parts = ssl.OPENSSL_VERSION.split()
    return f"{parts[0]}/{parts[1]}" if len(parts) >= 2 else ssl.OPENSSL_VERSION


SSL_VERSION = _ssl_name()
ZLIB_VERSION = zlib.ZLIB_RUNTIME_VERSION

# Shaped like pycurl's ("PycURL/7.49.0 libcurl/8.23.0 OpenSSL/... zlib/..."), but saying what
# it is: parsers that split on spaces and "/" still find libcurl's version and the libraries.
VERSION = (
    f"PycURL/{PYCURL_VERSION} libcurl/{LIBCURL_VERSION} {SSL_VERSION} zlib/{ZLIB_VERSION}"
    f" purecurl/{__version__}"
)
