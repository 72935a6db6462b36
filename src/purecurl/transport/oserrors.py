"""OS errors to CURLcodes: the one place where an `OSError` becomes a transfer failure.

Theory of operation: transport code catches `OSError` (and its subclasses) at the socket call,
decides which CURLcode the failure means in that context (a send is `E_SEND_ERROR`, a receive
`E_RECV_ERROR`, a connect `E_COULDNT_CONNECT`) and calls `curl_error` to build the libcurl-style
`CurlError`, keeping the original exception as `__cause__`. `errno_of` gives the number that
`OS_ERRNO` (CURLINFO_OS_ERRNO) reports.
"""

from __future__ import annotations

import os

from purecurl._errors import CurlError


def errno_of(exc: BaseException) -> int:
    """Return the errno carried by `exc`, or 0 when it has none (CURLINFO_OS_ERRNO)."""
    number = getattr(exc, "errno", None)
    return number if isinstance(number, int) else 0


def strerror(exc: BaseException) -> str:
    """Return the OS's text for `exc` ("Connection refused"), as libcurl's Curl_strerror does."""
    text = getattr(exc, "strerror", None)
    if isinstance(text, str) and text:
        return text
    number = errno_of(exc)
    if number:
        return os.strerror(number)
    return str(exc) or type(exc).__name__


def curl_error(exc: BaseException, code: int, what: str) -> CurlError:
    """Return `CurlError(code, "<what>: <strerror>")` with `__cause__` set to `exc`.

    Example: `curl_error(ConnectionResetError(104, ...), E_SEND_ERROR, "Send failure")` gives
    "Send failure: Connection reset by peer", the text libcurl's failf writes for that case.
    """
    err = CurlError(code, f"{what}: {strerror(exc)}")
    err.__cause__ = exc
    return err
