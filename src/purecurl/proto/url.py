"""URL parsing and normalisation, as libcurl's URL API does it (lib/urlapi.c).

Theory of operation: `parse_url` is what `curl_easy_setopt(CURLOPT_URL)` leads to in libcurl 8:
lib/url.c calls `curl_url_set(CURLUPART_URL)` with `CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME`,
reads the normalised URL back with `curl_url_get(CURLUPART_URL, 0)` (that string becomes
CURLINFO_EFFECTIVE_URL), and only then checks the scheme against the protocols it may use
(`findprotocol`). `resolve_reference` is what a redirect does (`Curl_follow`): a relative Location
is glued onto the current URL by string surgery (urlapi.c `redirect_url`), URL-encoded, and the
result parsed again with `CURLU_URLENCODE | CURLU_ALLOW_SPACE`.

One parse is a straight walk, left to right, like urlapi.c `parseurl`:
junk scan -> scheme -> (file: special) -> slashes -> authority (userinfo, port, host) ->
fragment -> query -> path (dot segments removed, RFC 3986 section 5.2.4). Nothing is decoded or
re-encoded except what libcurl touches: a %XX in a host name is decoded (then checked), an IPv4
address in any of the inet_aton forms is rewritten as a dotted quad, an IPv6 literal is rewritten
by inet_ntop. Paths, queries and credentials keep their bytes exactly.

Strings are byte strings in disguise: libcurl works on bytes, and so does this module when each
character stands for one byte (decode a bytes URL as latin-1 to get that). Characters above
U+00FF are treated like the non-ASCII bytes libcurl lets through.

Failures raise `CurlError` with libcurl's CURLcode and message: "URL rejected: <urlapi reason>"
for CURLOPT_URL, "The redirect target URL could not be parsed: <reason>" for a Location.
"""

from __future__ import annotations

import dataclasses
import re
import socket

from purecurl._codes import (
    E_LOGIN_DENIED,
    E_UNSUPPORTED_PROTOCOL,
    E_URL_MALFORMAT,
)
from purecurl._errors import CurlError

__all__ = [
    "BUILT_SCHEMES",
    "KNOWN_SCHEMES",
    "MAX_HOSTNAME_LEN",
    "MAX_INPUT_LENGTH",
    "Url",
    "check_scheme",
    "default_port",
    "parse_url",
    "resolve_reference",
]

# The default port of every scheme libcurl has a handler for (the `defport` of each
# `Curl_handler`, lib/*.c). A scheme not in this table is one urlapi.c does not know.
_DEFAULT_PORTS: dict[str, int] = {
    "dict": 2628,
    "file": 0,
    "ftp": 21,
    "ftps": 990,
    "gopher": 70,
    "gophers": 70,
    "http": 80,
    "https": 443,
    "imap": 143,
    "imaps": 993,
    "ldap": 389,
    "ldaps": 636,
    "mqtt": 1883,
    "pop3": 110,
    "pop3s": 995,
    "rtmp": 1935,
    "rtmpe": 1935,
    "rtmps": 443,
    "rtmpt": 80,
    "rtmpte": 80,
    "rtmpts": 443,
    "rtsp": 554,
    "scp": 22,
    "sftp": 22,
    "smb": 445,
    "smbs": 445,
    "smtp": 25,
    "smtps": 465,
    "telnet": 23,
    "tftp": 69,
    "ws": 80,
    "wss": 443,
}

KNOWN_SCHEMES: frozenset[str] = frozenset(_DEFAULT_PORTS)
"""Schemes libcurl knows: an unknown one in a redirect is "Unsupported URL scheme"."""

BUILT_SCHEMES: frozenset[str] = frozenset({"http", "https"})
"""Schemes purecurl implements: the default when no allowed set is given to `check_scheme`."""

MAX_INPUT_LENGTH = 8_000_000
"""CURL_MAX_INPUT_LENGTH (lib/urldata.h): a longer URL is malformed input."""

MAX_HOSTNAME_LEN = 0xFFFF
"""MAX_URL_LEN in lib/url.c: a longer host name fails the transfer."""


def default_port(scheme: str) -> int:
    """Return the default port of `scheme` (lower-case), or 0 for a scheme libcurl does not know."""
    return _DEFAULT_PORTS.get(scheme, 0)


# CURLUcode numbers (include/curl/urlapi.h) and curl_url_strerror() texts of libcurl 8.23
# (lib/strerror.c). Since libcurl 8.x a control byte or space is refused by the part it is in,
# so each part has its own code.
_UC_MALFORMED_INPUT = 3
_UC_BAD_PORT_NUMBER = 4
_UC_UNSUPPORTED_SCHEME = 5
_UC_USER_NOT_ALLOWED = 8
_UC_NO_HOST = 14
_UC_BAD_FILE_URL = 19
_UC_BAD_FRAGMENT = 20
_UC_BAD_HOSTNAME = 21
_UC_BAD_IPV6 = 22
_UC_BAD_PASSWORD = 24
_UC_BAD_PATH = 25
_UC_BAD_QUERY = 26
_UC_BAD_SCHEME = 27
_UC_BAD_SLASHES = 28
_UC_BAD_USER = 29
_UC_BAD_BACKSLASH = 32

_UC_TEXT: dict[int, str] = {
    _UC_MALFORMED_INPUT: "Malformed input to a URL function",
    _UC_BAD_PORT_NUMBER: "Port number was not a decimal number between 0 and 65535",
    _UC_UNSUPPORTED_SCHEME: "Unsupported URL scheme",
    _UC_USER_NOT_ALLOWED: "Credentials was passed in the URL when prohibited",
    _UC_NO_HOST: "No host present",
    _UC_BAD_FILE_URL: "Bad file:// URL",
    _UC_BAD_FRAGMENT: "Bad fragment",
    _UC_BAD_HOSTNAME: "Bad hostname",
    _UC_BAD_IPV6: "Bad IPv6 address",
    _UC_BAD_PASSWORD: "Bad password",
    _UC_BAD_PATH: "Bad path",
    _UC_BAD_QUERY: "Bad query",
    _UC_BAD_SCHEME: "Bad scheme",
    _UC_BAD_SLASHES: "Unsupported number of slashes following scheme",
    _UC_BAD_USER: "Bad user",
    _UC_BAD_BACKSLASH: "Found a backslash where a forward slash was expected",
}


class _Rejected(Exception):
    """Internal: a CURLUcode, turned into a CurlError by the public entry points."""

    def __init__(self, uc: int) -> None:
        super().__init__(uc)
        self.uc = uc


def _curlcode(uc: int) -> int:
    # lib/url.c Curl_uc_to_curlcode().
    if uc == _UC_UNSUPPORTED_SCHEME:
        return E_UNSUPPORTED_PROTOCOL
    if uc == _UC_USER_NOT_ALLOWED:
        return E_LOGIN_DENIED
    return E_URL_MALFORMAT


@dataclasses.dataclass(frozen=True, slots=True)
class Url:
    """A parsed, normalised URL. Build one with `parse_url` or `resolve_reference`."""

    scheme: str
    """Lower-case scheme, e.g. "http"."""
    user: str | None
    """User name from the URL, percent-encoding as given; "" for "http://@host/"."""
    password: str | None
    """Password from the URL, percent-encoding as given; None when there was no ":"."""
    host: str
    """Host name as given (libcurl keeps its case), %XX decoded; IPv4 as a dotted quad; IPv6
    without brackets and without the zone; "" for file: URLs."""
    zone: str | None
    """IPv6 zone id ("eth0" from "[fe80::1%25eth0]"), or None."""
    port: int
    """The explicit port, else the scheme's default (0 when the scheme has none)."""
    explicit_port: bool
    path: str
    """Path, "/" when empty; percent-encoding as given; dot segments removed."""
    query: str | None
    """Query without "?"; "" when the URL ends in a bare "?"; None when there is none."""
    fragment: str | None
    """Fragment without "#"; "" when the URL ends in a bare "#"; None when there is none.
    Never sent in a request."""
    is_ipv6: bool

    def target(self) -> str:
        """Return the origin-form request-target: path, then "?" and the query if there is one.

        lib/url.c reads the path with `curl_url_get(CURLUPART_PATH, CURLU_URLENCODE)`, which
        writes every %xx with upper-case hex digits and encodes bytes above 0x7f; the query is
        read with CURLU_GET_EMPTY and sent as it is (an empty query gives a trailing "?", as
        curl PR #21584 restored).
        """
        path = self.path
        if not path.isascii() or "%" in path:
            path = _TARGET_ENCODE.sub(_target_char, path)
        if self.query is None:
            return path
        return f"{path}?{self.query}"

    def host_header(self) -> str:
        """Return the Host header value libcurl sends (lib/http.c): the host, IPv6 in brackets
        and without its zone, then ":port" only when the port is not the scheme's default."""
        host = f"[{self.host}]" if self.is_ipv6 else self.host
        if self.port == _DEFAULT_PORTS.get(self.scheme, -1):
            return host
        return f"{host}:{self.port}"

    def authority(self) -> str:
        """Return "host:port" with IPv6 in brackets (no zone) and the port always present, the
        form of a CONNECT request-target (lib/http_proxy.c)."""
        host = f"[{self.host}]" if self.is_ipv6 else self.host
        return f"{host}:{self.port}"

    def url(self) -> str:
        """Return the URL as CURLINFO_EFFECTIVE_URL shows it in libcurl 8.23.

        That is `curl_url_get(CURLUPART_URL, CURLU_GET_EMPTY)` after the credentials were
        taken out of the handle: no user or password, an explicit port kept (even the default
        one), "?" and "#" kept even when empty. A file: URL is "file://" + path, query and
        fragment.
        """
        return self._compose(False)

    def _compose(self, credentials: bool) -> str:
        frag = "" if self.fragment is None else "#" + self.fragment
        query = "" if self.query is None else "?" + self.query
        if self.scheme == "file":
            return f"file://{self.path}{query}{frag}"
        userinfo = ""
        if credentials and (self.user is not None or self.password is not None):
            if self.password is None:
                userinfo = f"{self.user}@"
            else:
                userinfo = f"{self.user or ''}:{self.password}@"
        if self.is_ipv6:
            host = f"[{self.host}%25{self.zone}]" if self.zone else f"[{self.host}]"
        else:
            host = self.host
        port = f":{self.port}" if self.explicit_port else ""
        return f"{self.scheme}://{userinfo}{host}{port}{self.path}{query}{frag}"


# --- scanning tables -----------------------------------------------------------------------------

# Curl_is_absolute_url(): RFC 3986 section 3.1 scheme, at most MAX_SCHEME_LEN (40) letters.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,39}:")
# The authority ends at the first of these (urlapi.c: strcspn(hostp, "/?#")).
_AUTHORITY_END = re.compile(r"[/?#]")
# Bytes no part of a URL may hold (libcurl 8.x checks each part on its own, and a space only
# when CURLU_ALLOW_SPACE is not set).
_CTRL = re.compile(r"[\x00-\x1f\x7f]")
_CTRL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")
# hostname_check(): characters a host name may not hold.
_BAD_HOST_CHAR = re.compile(r"[\x00-\x20\x7f/:#?!@{}\[\]\\$'\"^`*<>=;,+&()%|]")
# An IPv6 zone id may hold RFC 3986 unreserved characters and non-ASCII bytes.
_BAD_ZONE_CHAR = re.compile(r"[^A-Za-z0-9._~\-\x80-\U0010ffff]")
_CTRL_ONLY = re.compile(r"[\x00-\x1f]")
_PERCENT_HEX = re.compile(r"%([0-9A-Fa-f]{2})")
_LEADING_DIGITS = re.compile(r"[0-9]*")
# The common shape, parsed by one regex before the general walk: http(s), a plain host name or
# IPv4 address, an optional decimal port, a path and query free of junk, no fragment. Whatever
# does not match (credentials, IPv6, %XX in the host, errors) takes the general road.
_COMMON = re.compile(
    r"(https?)://([A-Za-z0-9][A-Za-z0-9._~-]*)(?::([0-9]{1,5}))?"
    r"(/[^?#\x00-\x20\x7f]*)?(?:\?([^#\x00-\x20\x7f]*))?",
    re.ASCII,
)
# A dotted quad that is already as ipv4_normalize() would print it: the common case, checked first.
_CANONICAL_IPV4 = re.compile(
    r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)", re.ASCII
)
_IPV6_CHARS = frozenset("0123456789abcdefABCDEF:.")
_OCT_DIGITS = frozenset("01234567")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_DEC_DIGITS = frozenset("0123456789")
# CURLU_URLENCODE when setting a part (redirect targets): controls, space and every non-ASCII
# byte are encoded, and an existing %xx gets upper-case hex digits.
_SET_ENCODE = re.compile(r"%[0-9A-Fa-f]{2}|[\x00-\x20\x7f-\U0010ffff]")
# CURLU_URLENCODE when reading the path back (the request-target): the same, minus the bytes a
# stored path cannot hold.
_TARGET_ENCODE = re.compile(r"%[0-9A-Fa-f]{2}|[\x80-\U0010ffff]")
# STARTS_WITH_URL_DRIVE_PREFIX(): "c:" or "c|" then "/", "\" or the end.
_DRIVE = re.compile(r"[A-Za-z][:|](?:[/\\]|\Z)")
# The legacy host-name guess of CURLU_GUESS_SCHEME, urlapi.c parseurl().
_GUESSES = (
    ("ftp.", "ftp"),
    ("dict.", "dict"),
    ("ldap.", "ldap"),
    ("imap.", "imap"),
    ("smtp.", "smtp"),
    ("pop3.", "pop3"),
)


def _junk(text: str, allow_space: bool) -> bool:
    """True when `text` holds a control byte, or a space unless `allow_space`."""
    # ASCII and printable is the common case and two C-level calls.
    if text.isascii() and text.isprintable():
        return not allow_space and " " in text
    return (_CTRL if allow_space else _CTRL_OR_SPACE).search(text) is not None


def _scheme_of(url: str, guess: bool) -> str | None:
    """Curl_is_absolute_url(): the lower-cased scheme, or None for a URL without one.

    In guessing mode a scheme must be followed by "/", so "host:80" is a host and a port (and
    "http:\\\\host" a host "http" with a bad port).
    """
    m = _SCHEME.match(url)
    if m is None:
        return None
    end = m.end()
    if guess and url[end : end + 1] != "/":
        return None
    return url[: end - 1].lower()


# --- host -----------------------------------------------------------------------------------------


def _ipv4_part(text: str) -> int:
    """strtoul(text, &end, 0) over a whole part, or -1 if it is not all one number."""
    if text[:2] in ("0x", "0X"):
        digits = text[2:]
        # "0x" alone: strtoul stops after the "0" and the "x" makes it a name.
        if not digits or not _HEX_DIGITS.issuperset(digits):
            return -1
        return int(digits, 16)
    if text[0] == "0":
        return int(text, 8) if _OCT_DIGITS.issuperset(text) else -1
    if not _DEC_DIGITS.issuperset(text):
        return -1
    # More than 10 decimal digits is above 32 bits anyway; this also keeps int() away from
    # its limit on long digit strings.
    return int(text) if len(text) <= 10 else -1


def _ipv4_normalize(host: str) -> str | None:
    """urlapi.c ipv4_normalize(): the dotted quad for a numeric IPv4 form, or None for a name.

    The inet_aton forms: "a" (32 bits), "a.b" (8.24), "a.b.c" (8.8.16), "a.b.c.d", each part
    decimal, octal ("0" prefix) or hex ("0x" prefix), and one trailing dot allowed (the
    fully qualified form). Anything else is a host name.
    """
    if _CANONICAL_IPV4.fullmatch(host) is not None:
        return host
    parts = (host[:-1] if host[-1] == "." else host).split(".")
    if len(parts) > 4:
        return None
    nums = []
    for p in parts:
        # Each part must start with a digit: no sign, no empty part.
        if not p or p[0] not in _DEC_DIGITS:
            return None
        n = _ipv4_part(p)
        if n < 0 or n > 0xFFFFFFFF:
            return None
        nums.append(n)
    last = nums[-1]
    if any(n > 0xFF for n in nums[:-1]) or last >= 1 << (8 * (5 - len(nums))):
        return None
    nums[-1:] = [(last >> s) & 0xFF for s in range(8 * (4 - len(nums)), -1, -8)]
    return "%d.%d.%d.%d" % tuple(nums)  # noqa: UP031 - four ints, the fastest spelling


def _ipv6_parse(host: str) -> tuple[str, str | None]:
    """urlapi.c ipv6_parse() on "[...]": the address without brackets, and the zone id."""
    if len(host) < 4:  # "[::]" is the shortest
        raise _Rejected(_UC_BAD_IPV6)
    inner = host[1:-1]
    n = 0
    for ch in inner:
        if ch not in _IPV6_CHARS:
            break
        n += 1
    zone = None
    if n != len(inner):
        if inner[n] != "%":
            raise _Rejected(_UC_BAD_IPV6)
        zone = inner[n + 1 :]
        # "%25" is the encoded "%" RFC 6874 asks for; a bare "%" is accepted too. The zone is
        # then %XX-decoded (a control byte is a bad host name) and must be 1 to 15 unreserved
        # or non-ASCII characters (it is copied into a 16-byte buffer).
        if zone.startswith("25"):
            zone = zone[2:]
        if "%" in zone or not zone.isprintable():
            zone = _decode_host(zone)
        if not 0 < len(zone) < 16 or _BAD_ZONE_CHAR.search(zone) is not None:
            raise _Rejected(_UC_BAD_IPV6)
    addr = inner[:n]
    try:
        packed = socket.inet_pton(socket.AF_INET6, addr)
    except (OSError, ValueError):
        raise _Rejected(_UC_BAD_IPV6) from None
    # libcurl writes inet_ntop()'s text back into the buffer the address came in, sized to the
    # address: when the canonical form does not fit, inet_ntop fails and the address stays as
    # written ("[::ffff:a:b]" is not turned into the longer dotted form).
    canon = socket.inet_ntop(socket.AF_INET6, packed)
    if len(canon) <= len(addr):
        addr = canon
    return addr, zone


def _decode_host(host: str) -> str:
    """urlapi.c urldecode_host(): %XX decoded; a "%" not followed by two hex digits, or a
    decoded control byte, is a bad host name."""

    if _CTRL_ONLY.search(host) is not None:
        raise _Rejected(_UC_BAD_HOSTNAME)

    def byte(m: re.Match[str]) -> str:
        c = int(m.group(1), 16)
        if c < 0x20:  # REJECT_CTRL
            raise _Rejected(_UC_BAD_HOSTNAME)
        return chr(c)

    # A "%" left over (not followed by two hex digits, or a decoded "%25") is then refused by
    # hostname_check().
    return _PERCENT_HEX.sub(byte, host)


def _check_host(host: str) -> str:
    """A host name (not "[IPv6]"): decoded, IPv4 forms normalised, checked; returns it."""
    if "%" in host:
        host = _decode_host(host)
    if host[0] in _DEC_DIGITS:
        quad = _ipv4_normalize(host)
        if quad is not None:
            return quad
    # hostname_check(): no reserved characters, and not "." or a name ending in "..": one
    # trailing dot marks a fully qualified name, more make an empty label.
    if _BAD_HOST_CHAR.search(host) is not None or host == "." or host.endswith(".."):
        raise _Rejected(_UC_BAD_HOSTNAME)
    return host


# --- path -----------------------------------------------------------------------------------------


def _dot_segment(seg: str) -> str:
    # dedotdotify() takes "%2e" (either case) as a dot: "/a/%2e%2E/b" is "/b".
    if "%" in seg and len(seg) <= 6:
        return seg.lower().replace("%2e", ".")
    return seg


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4 on an absolute path, as urlapi.c dedotdotify() does it."""
    if "/." not in path and "/%2" not in path:
        return path
    out: list[str] = []
    segments = path.split("/")
    last = len(segments) - 1
    for i in range(1, last + 1):
        seg = segments[i]
        dots = _dot_segment(seg)
        if dots == ".":
            if i == last:
                out.append("")  # "/a/." -> "/a/"
        elif dots == "..":
            if out:
                out.pop()
            if i == last:
                out.append("")  # "/a/b/.." -> "/a/"
        else:
            out.append(seg)
    return "/" + "/".join(out)


def _hex_bytes(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return "%%%02X" % code  # noqa: UP031
    return "".join("%%%02X" % b for b in ch.encode("utf-8"))  # noqa: UP031


def _target_char(m: re.Match[str]) -> str:
    text = m.group()
    return text.upper() if text[0] == "%" else _hex_bytes(text)


def _set_char_path(m: re.Match[str]) -> str:
    text = m.group()
    if text[0] == "%" and len(text) == 3:
        return text.upper()
    return _hex_bytes(text)


def _set_char_query(m: re.Match[str]) -> str:
    text = m.group()
    if text == " ":
        return "+"
    if text[0] == "%" and len(text) == 3:
        return text.upper()
    return _hex_bytes(text)


def _urlencode(text: str, query: bool) -> str:
    """urlapi.c urlencode_str() as CURLU_URLENCODE applies it to a path, query or fragment:
    controls, space and non-ASCII bytes become %XX (a space is "+" in a query), and every
    %xx is written with upper-case hex digits."""
    if text.isascii() and text.isprintable() and "%" not in text and " " not in text:
        return text
    return _SET_ENCODE.sub(_set_char_query if query else _set_char_path, text)


# --- the parse ------------------------------------------------------------------------------------


def _parse_common(url: str, path_as_is: bool) -> Url | None:
    """The fast path for `_COMMON` URLs, or None to take the general one."""
    m = _COMMON.fullmatch(url)
    if m is None:
        return None
    scheme, host, port_text, path, query = m.groups()
    if host[-1] == ".":
        return None  # "h..", "1.2.3.4.": the general road decides
    if host[0] in _DEC_DIGITS:
        quad = _ipv4_normalize(host)
        if quad is not None:
            host = quad
    if port_text is None:
        port = 80 if scheme == "http" else 443
    else:
        port = int(port_text)
        if port > 0xFFFF:
            return None
    if path is None or len(path) < 2:
        path = "/"
    elif not path_as_is:
        path = _remove_dot_segments(path)
    return Url(
        scheme, None, None, host, None, port, port_text is not None, path, query, None, False
    )


def _parse(
    url: str,
    *,
    guess: bool,
    non_support: bool,
    encode: bool,
    allow_space: bool,
    disallow_user: bool,
    path_as_is: bool,
) -> Url:
    """urlapi.c parseurl() with the CURLU flags named by the keyword arguments.

    The parts are checked in libcurl 8.23's order: scheme and slashes, user, password, port,
    host, then fragment, query and path; the first bad one names the error.
    """
    if len(url) > MAX_INPUT_LENGTH or "\x00" in url:
        # A NUL would end libcurl's C string; past CURL_MAX_INPUT_LENGTH is refused outright.
        raise _Rejected(_UC_MALFORMED_INPUT)
    if url.startswith("http://"):
        scheme: str | None = "http"
    elif url.startswith("https://"):
        scheme = "https"
    else:
        scheme = _scheme_of(url, guess)

    if scheme == "file":
        return _parse_file(url, encode, allow_space, path_as_is)

    if scheme is not None:
        start = len(scheme) + 1
        if scheme not in _DEFAULT_PORTS and not non_support:
            raise _Rejected(_UC_UNSUPPORTED_SCHEME)
        slashes = 0
        while slashes < 4 and url[start + slashes : start + slashes + 1] == "/":
            slashes += 1
        if not 1 <= slashes <= 3:
            raise _Rejected(_UC_BAD_SLASHES)
        start += slashes
    elif not guess:
        raise _Rejected(_UC_BAD_SCHEME)
    else:
        start = 0

    m = _AUTHORITY_END.search(url, start)
    end = len(url) if m is None else m.start()

    # parse_authority(): userinfo, then port, then host.
    auth = url[start:end]
    user = password = None
    at = auth.find("@")
    if at >= 0:
        # Curl_parse_login_details(): the user is everything before the first ":" (it may be
        # empty), the password everything after it.
        user, colon, pw = auth[:at].partition(":")
        if _junk(user, allow_space):
            raise _Rejected(_UC_BAD_USER)
        if colon:
            if _junk(pw, allow_space):
                raise _Rejected(_UC_BAD_PASSWORD)
            password = pw
        if disallow_user:
            raise _Rejected(_UC_USER_NOT_ALLOWED)
        host = auth[at + 1 :]
    else:
        host = auth

    # Curl_parse_port()
    port = -1
    if host[:1] == "[":
        close = host.find("]")
        if close < 0:
            raise _Rejected(_UC_BAD_IPV6)
        if close + 1 < len(host):
            if host[close + 1] != ":":
                raise _Rejected(_UC_BAD_PORT_NUMBER)
            colon_at = close + 1
        else:
            colon_at = -1
    else:
        colon_at = host.find(":")
    if colon_at >= 0:
        port_text = host[colon_at + 1 :]
        host = host[:colon_at]
        if not host:
            raise _Rejected(_UC_NO_HOST)
        digits = _LEADING_DIGITS.match(port_text).group()  # type: ignore[union-attr]
        if digits:
            value = digits.lstrip("0") or "0"
            if len(value) > 5 or int(value) > 0xFFFF:
                raise _Rejected(_UC_BAD_PORT_NUMBER)
            port = int(value)
        if len(digits) < len(port_text):
            # "host:80\" is the Windows-path mistake libcurl 8.x names; other junk is a port error.
            bad = port_text[len(digits)]
            raise _Rejected(_UC_BAD_BACKSLASH if bad == "\\" else _UC_BAD_PORT_NUMBER)
        if not digits and scheme is None:
            # "host:" means the default port, browser style, but only after a real scheme so
            # that "foo:" does not pass for a host name.
            raise _Rejected(_UC_BAD_PORT_NUMBER)
    if not host:
        raise _Rejected(_UC_NO_HOST)

    zone = None
    is_ipv6 = host[0] == "["
    if is_ipv6:
        if "%" in host and _CTRL_ONLY.search(host) is not None:
            # A host with a "%" is decoded (REJECT_CTRL) before it is looked at as IPv6.
            raise _Rejected(_UC_BAD_HOSTNAME)
        host, zone = _ipv6_parse(host)
    else:
        host = _check_host(host)

    if scheme is None:
        lower = host.lower()
        scheme = "http"
        for prefix, guessed in _GUESSES:
            if lower.startswith(prefix):
                scheme = guessed
                break

    path, query, fragment = _split_rest(url, end, encode, allow_space)
    if not path_as_is:
        path = _remove_dot_segments(path)
    return Url(
        scheme=scheme,
        user=user,
        password=password,
        host=host,
        zone=zone,
        port=port if port >= 0 else _DEFAULT_PORTS.get(scheme, 0),
        explicit_port=port >= 0,
        path=path,
        query=query,
        fragment=fragment,
        is_ipv6=is_ipv6,
    )


def _split_rest(
    url: str, start: int, encode: bool, allow_space: bool
) -> tuple[str, str | None, str | None]:
    """Path, query and fragment of url[start:] (which starts with "/", "?", "#" or is empty).

    Checked fragment first, then query, then path, as libcurl 8.23 does; with `encode`
    (CURLU_URLENCODE) bad bytes are percent-encoded instead of refused.
    """
    rest = url[start:]
    fragment = None
    if "#" in rest:
        rest, _, fragment = rest.partition("#")
        if encode:
            fragment = _urlencode(fragment, False)
        elif _junk(fragment, allow_space):
            raise _Rejected(_UC_BAD_FRAGMENT)
    query = None
    if "?" in rest:
        rest, _, query = rest.partition("?")
        if encode:
            query = _urlencode(query, True)
        elif _junk(query, allow_space):
            raise _Rejected(_UC_BAD_QUERY)
    if encode:
        rest = _urlencode(rest, False)
    elif _junk(rest, allow_space):
        raise _Rejected(_UC_BAD_PATH)
    return (rest if len(rest) > 1 else "/"), query, fragment


def _parse_file(url: str, encode: bool, allow_space: bool, path_as_is: bool) -> Url:
    """The file: branch of urlapi.c parseurl() (RFC 8089), POSIX flavour."""
    if len(url) <= 6:  # "file:/" is not enough
        raise _Rejected(_UC_BAD_FILE_URL)
    start = 5
    if url.startswith("//", start):
        start += 2
        # An authority must be empty, "localhost" or "127.0.0.1" (case-insensitive); a
        # Windows drive letter there is let through, to be refused just below.
        if url[start : start + 1] != "/" and _DRIVE.match(url, start) is None:
            head = url[start : start + 10].lower()
            if head not in ("localhost/", "127.0.0.1/"):
                raise _Rejected(_UC_BAD_FILE_URL)
            start += 9
    # Drive letters ("file:///c:/x") are for Windows builds only.
    if _DRIVE.match(url, start) is not None or (
        url[start : start + 1] == "/" and _DRIVE.match(url, start + 1) is not None
    ):
        raise _Rejected(_UC_BAD_FILE_URL)
    path, query, fragment = _split_rest(url, start, encode, allow_space)
    if not path_as_is:
        path = _remove_dot_segments(path)
    return Url(
        scheme="file",
        user=None,
        password=None,
        host="",
        zone=None,
        port=0,
        explicit_port=False,
        path=path,
        query=query,
        fragment=fragment,
        is_ipv6=False,
    )


# --- public entry points --------------------------------------------------------------------------


def check_scheme(
    scheme: str, allowed_schemes: frozenset[str] | None, *, in_redirect: bool = False
) -> None:
    """lib/url.c findprotocol(): raise unless `scheme` may be used.

    `allowed_schemes` None means purecurl's `BUILT_SCHEMES`. Raises
    `CurlError(E_UNSUPPORTED_PROTOCOL, 'Protocol "x" is disabled')` for a scheme libcurl knows but
    may not use, 'Protocol "x" not supported' for one it does not know; a redirect adds
    " (in redirect)".
    """
    allowed = BUILT_SCHEMES if allowed_schemes is None else allowed_schemes
    if scheme in allowed:
        return
    why = "is disabled" if scheme in _DEFAULT_PORTS else "not supported"
    where = " (in redirect)" if in_redirect else ""
    raise CurlError(E_UNSUPPORTED_PROTOCOL, f'Protocol "{scheme}" {why}{where}')


def _check_host_length(u: Url) -> None:
    if len(u.host) > MAX_HOSTNAME_LEN:
        raise CurlError(E_URL_MALFORMAT, f"Too long hostname (maximum is {MAX_HOSTNAME_LEN})")


def parse_url(
    url: str,
    *,
    default_scheme: str | None = None,
    allowed_schemes: frozenset[str] | None = None,
    disallow_user: bool = False,
    path_as_is: bool = False,
) -> Url:
    """Parse and normalise `url` as CURLOPT_URL is, and return the `Url`.

    `default_scheme` is CURLOPT_DEFAULT_PROTOCOL: when given, a URL without "scheme:/" is
    prefixed with "<default_scheme>://". When None (the libcurl default) the scheme of such a
    URL is guessed from the host name: "ftp." -> ftp, "dict.", "ldap.", "imap.", "smtp.",
    "pop3." likewise, anything else http. `allowed_schemes` None skips the scheme check; a set
    is checked as by `check_scheme`. `disallow_user` is CURLOPT_DISALLOW_USERNAME_IN_URL,
    `path_as_is` is CURLOPT_PATH_AS_IS (keep dot segments).

    Raises CurlError: E_URL_MALFORMAT "URL rejected: <reason>" for a malformed URL,
    E_UNSUPPORTED_PROTOCOL for a scheme not allowed, E_LOGIN_DENIED for credentials with
    `disallow_user`.
    """
    if not url:
        # curl_url_set(): "a blank URL is not a valid URL".
        raise CurlError(E_URL_MALFORMAT, "URL rejected: " + _UC_TEXT[_UC_MALFORMED_INPUT])
    if default_scheme is not None and _scheme_of(url, True) is None:
        url = f"{default_scheme}://{url}"
    if len(url) < 2048:
        u = _parse_common(url, path_as_is)
        if u is not None:
            if allowed_schemes is not None:
                check_scheme(u.scheme, allowed_schemes)
            return u
    try:
        u = _parse(
            url,
            guess=True,
            non_support=True,
            encode=False,
            allow_space=False,
            disallow_user=disallow_user,
            path_as_is=path_as_is,
        )
    except _Rejected as e:
        raise CurlError(_curlcode(e.uc), "URL rejected: " + _UC_TEXT[e.uc]) from None
    _check_host_length(u)
    if allowed_schemes is not None:
        check_scheme(u.scheme, allowed_schemes)
    return u


def resolve_reference(
    base: Url,
    reference: str,
    *,
    allowed_schemes: frozenset[str] | None = None,
    path_as_is: bool = False,
) -> Url:
    """Resolve a redirect's Location `reference` against `base`, as libcurl's Curl_follow does.

    An absolute reference ("scheme:...") replaces the URL; otherwise it is joined to the base
    URL (with its credentials) by urlapi.c redirect_url(): "//host/x" keeps the scheme, "/x"
    the authority, "?q" the path, "#f" path and query, anything else replaces the last path
    segment. Controls, spaces and non-ASCII bytes are percent-encoded, every %xx gets
    upper-case hex digits, dot segments are removed (RFC 3986 section 5.2).
    `allowed_schemes` is CURLOPT_REDIR_PROTOCOLS_STR: None skips the check.

    Raises CurlError: E_URL_MALFORMAT or E_UNSUPPORTED_PROTOCOL with "The redirect target URL
    could not be parsed: <reason>", or E_UNSUPPORTED_PROTOCOL 'Protocol "x" is disabled (in
    redirect)' from the scheme check.
    """
    flags = {
        "guess": False,
        "non_support": False,
        "encode": True,
        "allow_space": True,
        "disallow_user": False,
        "path_as_is": path_as_is,
    }
    try:
        if not reference:
            raise _Rejected(_UC_MALFORMED_INPUT)  # a blank URL is not a valid URL
        if _scheme_of(reference, False) is not None:
            u = _parse(reference, **flags)
        else:
            # Dot segments of the joined URL are always removed (redirect_url() clears
            # CURLU_PATH_AS_IS).
            flags["path_as_is"] = False
            u = _parse(_join(base._compose(True), reference), **flags)
    except _Rejected as e:
        raise CurlError(
            _curlcode(e.uc), "The redirect target URL could not be parsed: " + _UC_TEXT[e.uc]
        ) from None
    _check_host_length(u)
    if allowed_schemes is not None:
        check_scheme(u.scheme, allowed_schemes, in_redirect=True)
    return u


def _join(base: str, ref: str) -> str:
    """urlapi.c redirect_url(): the string surgery that glues a relative reference on."""
    protsep = base.find("//")
    protsep = 0 if protsep < 0 else protsep + 2
    head, tail = base[:protsep], base[protsep:]
    host_changed = False
    use = ref
    if ref[0] not in "/#":
        # Cut off the query, or failing that the fragment ...
        cut = tail.find("?")
        if cut < 0:
            cut = tail.find("#")
        if cut >= 0:
            tail = tail[:cut]
        # ... and unless only the query changes, the last path segment (keep the slash).
        if ref[0] != "?":
            slash = tail.rfind("/")
            if slash >= 0:
                tail = tail[: slash + 1]
    elif ref[0] == "/":
        if ref[1:2] == "/":
            # "//host/x": only the scheme is kept; the new slashes replace the old.
            tail = ""
            use = ref[2:]
            host_changed = True
        else:
            slash = tail.find("/")
            if slash >= 0:
                tail = tail[:slash]
    else:
        cut = tail.find("#")
        if cut >= 0:
            tail = tail[:cut]
    if host_changed:
        # urlencode_str(relative=FALSE): the host part up to find_host_sep() goes in as is.
        sep = _host_sep(use)
        return head + use[:sep] + _urlencode_relative(use[sep:])
    return head + tail + _urlencode_relative(use)


def _urlencode_relative(text: str) -> str:
    """urlencode_str(relative=TRUE): a space is "%20" before the first "?" and "+" after it."""
    path, q, query = text.partition("?")
    if not q:
        return _urlencode(path, False)
    return _urlencode(path, False) + "?" + _urlencode(query, True)


def _host_sep(url: str) -> int:
    """urlapi.c find_host_sep(): where the host name ends ("/" or "?") after any "//"."""
    start = url.find("//")
    start = 0 if start < 0 else start + 2
    ends = [i for i in (url.find("/", start), url.find("?", start)) if i >= 0]
    return min(ends) if ends else len(url)
