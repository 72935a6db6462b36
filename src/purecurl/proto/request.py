"""HTTP/1.x request head serialisation, with libcurl's rules for CURLOPT_HTTPHEADER.

Theory of operation
-------------------
`build_request_head` returns the bytes of a request line and header block, in the order
libcurl 8.x writes them (lib/http.c, `Curl_http` / `http_req_send`):

    request line, Host, Proxy-Authorization, Authorization, Range, User-Agent, Accept, TE,
    Accept-Encoding, Referer, Proxy-Connection, Transfer-Encoding, Alt-Used, Cookie,
    If-*-Since, then the user's CURLOPT_HTTPHEADER lines in their order, then Content-Length,
    Content-Type, Expect, then the blank line.

The internal headers the caller passes (`default_headers`, `user_agent`, `referer`,
`content_length`) are placed by that rank, so callers need not know the order. User headers
follow the CURLOPT_HTTPHEADER documentation and `Curl_add_custom_headers`:

- "Name: value" is sent verbatim and suppresses an internal header of the same name
  (case-insensitive);
- "Name:" (nothing but blanks after the colon) suppresses the internal header, sends nothing;
- "Name;" sends "Name:" with an empty value (and suppresses the internal one);
- a line with neither colon nor semicolon, a line starting with ":" and "Name; value" are not
  headers: libcurl ignores them, and so do we;
- a user Host header takes Host's place (second line) as "Host:" + what followed the colon.

CR, LF or NUL inside the method, target, host or any header: libcurl sends user strings as
they are (curl_slist lines are documented as "must not be CRLF-terminated"), so a CRLF in one
splits the request, which is request smuggling by the application's own hand. We refuse with
CURLE_BAD_FUNCTION_ARGUMENT instead; CRLF in a URL never gets here (the URL parser refuses it
with CURLE_URL_MALFORMAT, as libcurl's does).

Repeated keep-alive requests with the same options rebuild nothing: the work is memoised on
the (hashable) arguments in a small LRU cache, measured in bench/bench_parser.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from .._codes import E_BAD_FUNCTION_ARGUMENT
from .._errors import CurlError

__all__ = ["DEFAULT_HEADERS", "build_request_head", "host_header_value", "user_header"]

DEFAULT_HEADERS: tuple[tuple[str, str], ...] = (("Accept", "*/*"),)

# Position of an internal header in libcurl's request (lower-case name -> rank). Ranks below
# _CUSTOM go before the user's headers, ranks above after them.
_RANK = {
    "proxy-authorization": 1,
    "authorization": 2,
    "range": 3,
    "user-agent": 4,
    "accept": 5,
    "te": 6,
    "accept-encoding": 7,
    "referer": 8,
    "proxy-connection": 9,
    "transfer-encoding": 10,
    "alt-used": 11,
    "cookie": 12,
    "if-modified-since": 13,
    "if-unmodified-since": 13,
    "last-modified": 13,
    "content-length": 21,
    "content-type": 22,
    "expect": 23,
}
_UNKNOWN_RANK = 14  # other internal headers: after the ones libcurl names, before the user's
_CUSTOM = 20


def host_header_value(hostname: str, port: int | None = None, default_port: int = 80) -> str:
    """The Host header value: an IPv6 literal in brackets, the port only when not the default."""
    if ":" in hostname and not hostname.startswith("["):
        hostname = f"[{hostname}]"
    if port is not None and port != default_port:
        return f"{hostname}:{port}"
    return hostname


def build_request_head(
    method: str,
    target: str,
    host: str,
    *,
    http10: bool = False,
    user_headers: Sequence[bytes] = (),
    default_headers: Sequence[tuple[str, str]] = DEFAULT_HEADERS,
    content_length: int | None = None,
    user_agent: str | None = None,
    referer: str | None = None,
    port: int | None = None,
    default_port: int = 80,
) -> bytes:
    """Serialise a request head (request line through the blank line) as bytes.

    `host` is the host name (an IPv6 literal gets brackets; `port` is appended unless it is
    `default_port`). `default_headers` are internal headers (name, value); they, `user_agent`,
    `referer` and `content_length` are placed in libcurl's order and dropped when a user header
    names them. `user_headers` are CURLOPT_HTTPHEADER lines (bytes, no line ending).
    Returns the head, ending in CRLF CRLF. Raises CurlError(E_BAD_FUNCTION_ARGUMENT) on CR, LF
    or NUL in any part, or characters outside latin-1.
    """
    try:
        return _build(
            method,
            target,
            host,
            http10,
            tuple(user_headers),
            tuple(default_headers),
            content_length,
            user_agent,
            referer,
            port,
            default_port,
        )
    except TypeError:
        # Unhashable arguments (lists inside default_headers): build without the cache.
        return _build.__wrapped__(
            method,
            target,
            host,
            http10,
            tuple(user_headers),
            tuple(tuple(h) for h in default_headers),
            content_length,
            user_agent,
            referer,
            port,
            default_port,
        )


def user_header(line: bytes) -> tuple[bytes, bytes | None] | None:
    """One CURLOPT_HTTPHEADER line as libcurl reads it: (name, value after the colon), or
    (name, None) for "Name;" (send the header empty), or None when the line is no header
    (no colon or semicolon, a colon first, "Name; value")."""
    colon = line.find(b":")
    if colon < 0:
        semi = line.find(b";")
        # Only "Name;" followed by nothing but blanks is a header (empty value).
        if semi <= 0 or line[semi + 1 :].strip():
            return None
        return line[:semi], None
    if colon == 0:
        return None  # no name: libcurl requires the colon not to be first
    return line[:colon], line[colon + 1 :]


def _bad(what: str) -> CurlError:
    return CurlError(E_BAD_FUNCTION_ARGUMENT, f"CR, LF or NUL in {what} of an HTTP request")


def _clean(value: str, what: str) -> bytes:
    if "\r" in value or "\n" in value or "\0" in value:
        raise _bad(what)
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        raise CurlError(
            E_BAD_FUNCTION_ARGUMENT, f"{what} of an HTTP request is not latin-1"
        ) from None


@lru_cache(maxsize=512)
def _build(
    method: str,
    target: str,
    host: str,
    http10: bool,
    user_headers: tuple[bytes, ...],
    default_headers: tuple[tuple[str, str], ...],
    content_length: int | None,
    user_agent: str | None,
    referer: str | None,
    port: int | None,
    default_port: int,
) -> bytes:
    suppressed: set[bytes] = set()
    custom: list[bytes] = []
    host_line: bytes | None = None
    host_removed = False
    for h in user_headers:
        if b"\r" in h or b"\n" in h or b"\0" in h:
            raise _bad("a custom header")
        parsed = user_header(h)
        if parsed is None:
            continue
        name, value = parsed
        lname = name.lower()
        suppressed.add(lname)
        if value is None:  # "Name;"
            if lname == b"host":
                host_line = b"Host:"
            else:
                custom.append(name + b":")
            continue
        if lname == b"host":
            if value.strip():
                host_line = b"Host:" + value
            else:
                host_removed = True
            continue
        if value.strip():
            custom.append(h)

    internal: list[tuple[int, bytes, bytes]] = []
    extra: list[tuple[str, str]] = list(default_headers)
    if user_agent is not None:
        extra.append(("User-Agent", user_agent))
    if referer is not None:
        extra.append(("Referer", referer))
    if content_length is not None:
        extra.append(("Content-Length", str(content_length)))
    for name_s, value_s in extra:
        bname = _clean(name_s, "a header name")
        lname = bname.lower()
        if lname in suppressed:
            continue
        rank = _RANK.get(name_s.lower(), _UNKNOWN_RANK)
        internal.append((rank, bname, _clean(value_s, "a header value")))
    internal.sort(key=lambda item: item[0])  # stable: equal ranks keep the caller's order

    out = [
        _clean(method, "the method"),
        b" ",
        _clean(target, "the target"),
        b" HTTP/1.0\r\n" if http10 else b" HTTP/1.1\r\n",
    ]
    if host_line is not None:
        out += (host_line, b"\r\n")
    elif not host_removed:
        out += (b"Host: ", _clean(host_header_value(host, port, default_port), "the host"), b"\r\n")
    i = 0
    n = len(internal)
    while i < n and internal[i][0] < _CUSTOM:
        out += (internal[i][1], b": ", internal[i][2], b"\r\n")
        i += 1
    for line in custom:
        out += (line, b"\r\n")
    while i < n:
        out += (internal[i][1], b": ", internal[i][2], b"\r\n")
        i += 1
    out.append(b"\r\n")
    return b"".join(out)
