"""The error classes.

Theory of operation: two kinds of failure exist. Misuse of the API raises `error` (pycurl's
exception, args `(code, message)` or `(message,)`) or `TypeError`/`ValueError` at the call.
A transfer that fails is not an exception for the application: protocol and transport code
raise `CurlError(code, message)` internally, the engine catches it in one place and the transfer
ends with that CURLcode, reported through `info_read` (or raised as `error` by `Curl.perform`).
"""

from __future__ import annotations


class error(Exception):
    """pycurl.error: args are `(code, message)` for libcurl failures, `(message,)` otherwise."""


class CurlError(Exception):
    """A transfer failure: a CURLcode and a libcurl-style message.

    Raised by protocol and transport code; the engine turns it into the transfer's result.
    """

    def __init__(self, code: int, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message
