"""libcurl's cookie engine (lib/cookie.c, lib/parsedate.c of curl 8.23) in sans-IO form.

Theory of operation
-------------------
A `CookieJar` is libcurl's `struct CookieInfo`: 63 buckets (COOKIE_HASH_SIZE), each a list of
`Cookie`s in insertion order. A cookie lives in the bucket of its domain's last two labels
(`cookiehash`: an upper-cased djb2 variant, modulo 63; an IP address or a missing domain is
bucket 0). The bucket layout is not an implementation detail: CURLINFO_COOKIELIST walks the
buckets in index order, and a request only looks at the bucket of its host, so both the order of
`netscape_lines()` and which cookies a host can see follow from it.

Everything that reads the clock in libcurl takes `now` (seconds since the epoch) here. Nothing
here touches a file either: the caller reads a cookie file and hands over its text (`load`), and
writes what `dump` returns.

Receiving. `set_cookie` is `Curl_cookie_add` for a `Set-Cookie:` header. The header is split at
`;` into `name=value` pairs (a name ends at `;`, CR, LF or `=`; a value at `;`, CR or LF; both
lose surrounding blanks). The first pair is the cookie; a control byte or TAB in any name or
value, a first pair without `=` or with an empty name, name + value above 4096 bytes (MAX_NAME)
or a line above 5000 bytes (MAX_COOKIE_LINE) drops the whole cookie. Attributes,
case-insensitively, last one wins:

- `Secure` (with or without a value) is refused, with the whole cookie, unless the origin is a
  secure context (https/wss, or the host is localhost, 127.0.0.1 or ::1: `secure_context`);
- `HttpOnly` (with or without a value) is kept and written as the `#HttpOnly_` jar prefix;
- `Path` is sanitised (one pair of quotes dropped, must start with `/` else `/`, one trailing
  `/` dropped); empty or absent means the request path up to its last `/`, sanitised;
- `Domain` loses one leading dot; without libpsl libcurl requires a dot that is not the last
  byte, or exactly "localhost" (`bad_domain`); then the host must tail-match it (be it or end
  in ".domain"), or equal it exactly when the host is an IP address. A refused Domain drops the
  cookie. A Domain makes the cookie match subdomains (`tailmatch`), unless the host is an IP;
- `Max-Age` wins over `Expires` whatever their order: digits (one leading quote skipped),
  0, negative or junk mean "already expired" (expires = 1), overflow saturates;
- `Expires` is read by libcurl's lenient date parser (`parse_date`) when under 80 bytes; a date
  it cannot read leaves a session cookie (expires = 0);
- any expiry further than 400 days away is capped to now + 400 days, rounded to a minute;
- everything else (SameSite, Version, Comment, ...) is ignored.

Then `__Secure-` names must be Secure, `__Host-` names Secure, with path `/` and no Domain
(case-sensitive prefixes). A cookie with the same name, domain (case-insensitive), tailmatch and
path (case-sensitive) replaces the old one and inherits its creation order; a non-Secure cookie
from an insecure origin may not overlay a Secure one of a related domain whose path shares its
first segment; a cookie read from a file never replaces one received from a server ("live").
Expired cookies are swept before each add (except while a file loads; then once after it).

Sending. `cookie_header` is `Curl_cookie_getlist` plus the `Cookie:` line of lib/http.c. The
host's bucket is scanned in insertion order for cookies that are not Secure or the request is a
secure context, whose domain is missing, tail-matches the host (tailmatch cookies, non-IP
hosts) or equals it case-insensitively, and whose path is missing, `/`, the request path, or a
prefix of it ending at a `/` (case-sensitive). At most 150 are taken (MAX_COOKIE_SEND_AMOUNT),
then sorted by path length, domain length and name length, all longest first, then newest
first. They are joined as `name=value` with "; " until the next one would make
"Cookie: " + value reach 8190 bytes (MAX_COOKIE_HEADER_LEN); CURLOPT_COOKIE's string follows
unless that cap was hit.

Files. `load` reads a Netscape cookie file (7 TAB-separated fields: domain, include subdomains,
path, secure, expires, name, value; `#` comments; `#HttpOnly_` lines) in which a line starting
with `Set-Cookie:` (any case) is parsed as a header instead. With `session=True`
(CURLOPT_COOKIESESSION) cookies without an expiry are skipped. `dump` is the CURLOPT_COOKIEJAR
file: libcurl's three comment lines, a blank line, then one line per cookie, newest first.
`netscape_lines` is CURLINFO_COOKIELIST, in bucket order. `cookielist` runs a CURLOPT_COOKIELIST
string: ALL, SESS, a `Set-Cookie:` line or a Netscape line; FLUSH and RELOAD need files, so they
are returned to the caller.

Limits per request: at most 50 cookies are stored per request (MAX_SET_COOKIE_AMOUNT), counted
in a `SetCookieTally` the caller keeps per request (libcurl's `data->req.setcookies`). Only
cookies stored from header-style lines count, but once 50 are counted every add is refused,
Netscape lines included.

Strings are `str` holding one character per byte (latin-1), as the header bytes were; `bytes`
arguments are decoded that way. A NUL ends a line, as it ends a C string.

Measured against libcurl 8.23 (pycurl, tests/unit/test_cookies.py); where that differs from the
8.x source read for this module, the measurement won: `Secure`/`HttpOnly` count with any value,
control bytes and TABs are refused in attribute names and values too, `__Secure-`/`__Host-` are
case-sensitive in Netscape lines as in headers, time zone names in dates are case-sensitive,
only name + value is limited (4096), the Secure-overlay rule compares related domains (either
domain-matches the other) and paths with case, replacement compares paths with case, and a
cookie-file line longer than 5047 bytes fails the transfer with CURLE_TOO_LARGE.

The pycurl build links libpsl; this module is libcurl *without* libpsl (`bad_domain`). Four
differences follow: a Domain that is a multi-label public suffix (co.uk) is accepted here and
refused there; a Domain equal to a single-label host (localhost) keeps tailmatch here and loses
it there; a Domain on an IPv6 host is refused here (no dot) and accepted there; and a dotless
Domain in a cookie file or CURLOPT_COOKIELIST line (no host to check) is refused here and taken
as written there.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from .._codes import E_TOO_LARGE, easy_strerror
from .._errors import CurlError

__all__ = [
    "COOKIES_MAXAGE",
    "COOKIE_HASH_SIZE",
    "JAR_HEADER",
    "MAX_COOKIE_HEADER_LEN",
    "MAX_COOKIE_LINE",
    "MAX_COOKIE_SEND_AMOUNT",
    "MAX_NAME",
    "MAX_SET_COOKIE_AMOUNT",
    "Cookie",
    "CookieJar",
    "CookieListAction",
    "SetCookieTally",
    "parse_date",
    "secure_context",
]

# lib/cookie.h
MAX_COOKIE_LINE = 5000  # longest Set-Cookie line (after "Set-Cookie:"), line ending included
MAX_NAME = 4096  # name and value together at most this long
MAX_SET_COOKIE_AMOUNT = 50  # cookies stored per request
MAX_COOKIE_HEADER_LEN = 8190  # "Cookie: " + value stays below this
MAX_COOKIE_SEND_AMOUNT = 150  # cookies sent per request
COOKIE_HASH_SIZE = 63
# lib/cookie.c
COOKIES_MAXAGE = 400 * 24 * 3600  # RFC 6265bis: no expiry further than 400 days
_MAX_DATE_LENGTH = 80
# A cookie-file line (its LF included) longer than this fails the transfer with
# CURLE_TOO_LARGE. Measured on libcurl 8.23: Curl_get_line's buffer refuses the line.
_MAX_FILE_LINE = 5047
_FGETS_CHUNK = 127  # Curl_get_line reads with fgets into a 128-byte buffer

_INT64_MAX = (1 << 63) - 1
_UINT64_MASK = (1 << 64) - 1

JAR_HEADER = (
    "# Netscape HTTP Cookie File\n"
    "# https://curl.se/docs/http-cookies.html\n"
    "# This file was generated by libcurl! Edit at your own risk.\n"
    "\n"
)

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _lower(text: str) -> str:
    """ASCII-only lower case, as curl's Curl_raw_tolower (no locale, no Unicode folding)."""
    return text.translate(_ASCII_LOWER)


def _text(data: str | bytes) -> str:
    """`data` as a C string: bytes decoded one character per byte, cut at the first NUL."""
    if isinstance(data, bytes):
        data = data.decode("latin-1")
    nul = data.find("\0")
    return data if nul < 0 else data[:nul]


# -- small helpers of lib/cookie.c -------------------------------------------------------------


def _is_ipv4(host: str) -> bool:
    """curl's inet_pton(AF_INET): exactly four decimal octets, no leading zeros."""
    octets = 0
    current = 0
    saw_digit = False
    for ch in host:
        if "0" <= ch <= "9":
            if saw_digit and current == 0:
                return False
            current = current * 10 + (ord(ch) - 48)
            if current > 255:
                return False
            if not saw_digit:
                octets += 1
                if octets > 4:
                    return False
                saw_digit = True
        elif ch == "." and saw_digit:
            if octets == 4:
                return False
            current = 0
            saw_digit = False
        else:
            return False
    return octets == 4


def _is_ipnum(host: str) -> bool:
    """Curl_host_is_ipnum: an IPv4 or IPv6 address literal (no brackets, no zone)."""
    if _is_ipv4(host):
        return True
    if ":" not in host or "%" in host:
        return False
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return True


def _tailmatch(cookie_domain: str, host: str) -> bool:
    """cookie_tailmatch: `host` is `cookie_domain` or ends in "." + it, ignoring ASCII case."""
    if len(host) < len(cookie_domain):
        return False
    at = len(host) - len(cookie_domain)
    if _lower(host[at:]) != _lower(cookie_domain):
        return False
    return at == 0 or host[at - 1] == "."


def _pathmatch(cookie_path: str, uri_path: str) -> bool:
    """pathmatch (RFC 6265 5.1.4 without its last-slash step): prefix up to a `/`, with case."""
    if len(cookie_path) == 1:
        return True
    if not uri_path.startswith("/"):
        uri_path = "/"
    if not uri_path.startswith(cookie_path):
        return False
    return len(uri_path) == len(cookie_path) or uri_path[len(cookie_path)] == "/"


def _top_domain(domain: str) -> str:
    """get_top_domain: the part after the second-to-last dot (the whole name if none)."""
    last = domain.rfind(".")
    if last < 0:
        return domain
    first = domain.rfind(".", 0, last)
    return domain if first < 0 else domain[first + 1 :]


def _bucket(domain: str | None) -> int:
    """cookiehash: the bucket of a domain or host; 0 for none and for IP addresses."""
    if domain is None or _is_ipnum(domain):
        return 0
    h = 5381
    for ch in _top_domain(domain).translate(_ASCII_UPPER):
        h = (h + (h << 5)) & _UINT64_MASK  # size_t arithmetic wraps
        h ^= ord(ch)
    return h % COOKIE_HASH_SIZE


def _sanitize_path(path: str) -> str:
    """sanitize_cookie_path: drop one pair of quotes (the closing one only after an opening
    one), fall back to "/" unless it starts with "/", drop one trailing "/"."""
    if path.startswith('"'):
        path = path[1:]
        if path.endswith('"'):
            path = path[:-1]
    if not path.startswith("/"):
        return "/"
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    return path


def _bad_domain(domain: str) -> bool:
    """bad_domain (libcurl built without libpsl): no dot before the last byte, not localhost."""
    if _lower(domain) == "localhost":
        return False
    dot = domain.find(".")
    return not (0 <= dot < len(domain) - 1)


def _invalid_octets(text: str) -> bool:
    """A control byte (TAB included) or DEL: libcurl drops such a cookie."""
    return any(ch < " " or ch == "\x7f" for ch in text)


def _number(text: str) -> int | None:
    """curlx_str_number from the start of `text`: the value of its leading decimal digits,
    2**63 (one past curl_off_t's maximum) for an overflow, None when there is no digit."""
    end = 0
    while end < len(text) and "0" <= text[end] <= "9":
        end += 1
    if end == 0:
        return None
    digits = text[:end].lstrip("0") or "0"
    if len(digits) > 19:  # also keeps int() away from its digit limit
        return _INT64_MAX + 1
    return min(int(digits), _INT64_MAX + 1)


def _cap_expires(now: int, expires: int) -> int:
    """cap_expires: no expiry beyond now + 400 days, rounded to the nearest minute."""
    if expires and now < _INT64_MAX - COOKIES_MAXAGE - 30:
        cap = now + COOKIES_MAXAGE
        if expires > cap:
            return ((cap + 30) // 60) * 60
    return expires


def secure_context(scheme: str, host: str) -> bool:
    """Curl_secure_context: may Secure cookies be set and sent for this request?

    True over https and wss, and for the hosts "localhost" (any case), "127.0.0.1" and "::1"
    whatever the scheme (measured on libcurl 8.23: 127.0.0.2 is not secure). `host` is the
    URL's host without IPv6 brackets.
    """
    return (
        _lower(scheme) in ("https", "wss")
        or _lower(host) == "localhost"
        or host in ("127.0.0.1", "::1")
    )


# -- lib/parsedate.c ---------------------------------------------------------------------------

_WEEKDAY_TAILS = ("day", "sday", "nesday", "rsday", "day", "urday", "day")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DST = -60
# Offsets in minutes to add to get UTC. Case-sensitive names, as libcurl's checktz.
_TZ_NAMES = {
    "UT": 0, "NT": 660,
    "ADT": 240 + _DST, "AST": 240, "BST": 0 + _DST, "CAT": 600, "CCT": -480,
    "CDT": 360 + _DST, "CET": -60, "CST": 360, "EDT": 300 + _DST, "EET": -120, "EST": 300,
    "FST": -60 + _DST, "FWT": -60, "GMT": 0, "GST": -600, "HDT": 600 + _DST, "HST": 600,
    "JST": -540, "MDT": 420 + _DST, "MET": -60, "MST": 420, "NZT": -720, "PDT": 480 + _DST,
    "PST": 480, "UTC": 0, "WAT": 60, "WET": 0, "YDT": 540 + _DST, "YST": 540,
    "AHST": 600, "CEST": -60 + _DST, "EADT": -600 + _DST, "EAST": -600, "IDLE": -720,
    "IDLW": 720, "MEST": -60 + _DST, "MESZ": -60 + _DST, "MEWT": -60, "NZDT": -720 + _DST,
    "NZST": -720, "WADT": -420 + _DST, "WAST": -420,
}  # fmt: skip
# Military zones A-Z (no J): A is UTC+1, so -60 minutes to get UTC; N is UTC-1.
_TZ_NAMES.update({letter: -60 * hours for hours, letter in enumerate("ABCDEFGHI", 1)})
_TZ_NAMES.update({letter: -60 * hours for hours, letter in enumerate("KLM", 10)})
_TZ_NAMES.update({letter: 60 * hours for hours, letter in enumerate("NOPQRSTUVWXY", 1)})
_TZ_NAMES["Z"] = 0
_CUMULATIVE_DAYS = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)
_NAME_LEN = 12  # a run of 12 letters is longer than any name the parser knows


def _isdigit(ch: str) -> bool:
    return "0" <= ch <= "9"


def _isalpha(ch: str) -> bool:
    return "a" <= ch <= "z" or "A" <= ch <= "Z"


def _checkday(word: str) -> int:
    if len(word) < 3:
        return -1
    abbrev = _lower(word[:3])
    for day, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun")):
        if abbrev == name:
            if len(word) > 3 and _lower(word[3:]) != _WEEKDAY_TAILS[day]:
                return -1
            return day
    return -1


def _checkmonth(word: str) -> int:
    if len(word) != 3:
        return -1
    lowered = _lower(word)
    return _MONTHS.index(lowered) if lowered in _MONTHS else -1


def _match_time(text: str, pos: int) -> tuple[int, int, int, int] | None:
    """HH:MM[:SS] with one- or two-digit parts at `pos` -> (hour, min, sec, end) or None."""

    def digits(at: int) -> tuple[int, int]:
        if at + 1 < len(text) and _isdigit(text[at + 1]):
            return int(text[at : at + 2]), at + 2
        return int(text[at]), at + 1

    hour, p = digits(pos)
    if hour < 24 and p + 1 < len(text) and text[p] == ":" and _isdigit(text[p + 1]):
        minute, p = digits(p + 1)
        if minute < 60:
            if p + 1 < len(text) and text[p] == ":" and _isdigit(text[p + 1]):
                second, p = digits(p + 1)
                if second <= 60:
                    return hour, minute, second, p
            else:
                return hour, minute, 0, p
    return None


def parse_date(text: str) -> int | None:
    """libcurl's date parser (Curl_getdate_capped): seconds since the epoch, or None.

    Accepts RFC 1123, RFC 850 and asctime dates and the lenient forms libcurl documents: any
    order of week day, month name, day, year and time, any non-alphanumeric separators, 2-digit
    years (70-99 are 19xx), YYYYMMDD, HH:MM without seconds, case-sensitive zone names (GMT, UTC,
    EST, CEST, military letters) or +HHMM/-HHMM. At most six parts are read. Years before 1583
    fail; a missing time is midnight; a missing zone is UTC.
    """
    wday = mon = mday = hour = minute = sec = year = tzoff = -1
    dignext_mday = True
    pos = 0
    part = 0
    n = len(text)
    while pos < n and part < 6:
        while pos < n and not (_isalpha(text[pos]) or _isdigit(text[pos])):
            pos += 1
        if pos < n and _isalpha(text[pos]):
            end = pos
            while end < n and _isalpha(text[end]) and end - pos < _NAME_LEN:
                end += 1
            word = text[pos:end]
            found = False
            if len(word) != _NAME_LEN:
                if wday == -1:
                    wday = _checkday(word)
                    found = wday != -1
                if not found and mon == -1:
                    mon = _checkmonth(word)
                    found = mon != -1
                if not found and tzoff == -1:
                    zone = _TZ_NAMES.get(word)
                    if zone is not None:
                        tzoff = zone * 60
                        found = True
            if not found:
                return None
            pos = end
        elif pos < n:  # a digit
            timestamp = _match_time(text, pos) if sec == -1 else None
            if timestamp is not None:
                hour, minute, sec, pos = timestamp
            else:
                end = pos
                while end < n and _isdigit(text[end]):
                    end += 1
                number = _number(text[pos:end])
                if number is None or number > 99999999:
                    return None
                val = number
                found = False
                if (
                    tzoff == -1
                    and end - pos == 4
                    and val <= 1400
                    and pos > 0
                    and text[pos - 1] in "+-"
                ):
                    found = True
                    tzoff = (val // 100 * 60 + val % 100) * 60
                    if text[pos - 1] == "+":
                        tzoff = -tzoff
                elif end - pos == 8 and year == -1 and mon == -1 and mday == -1:
                    found = True
                    year = val // 10000
                    mon = (val % 10000) // 100 - 1
                    mday = val % 100
                if not found and dignext_mday and mday == -1:
                    if 0 < val < 32:
                        mday = val
                        found = True
                    dignext_mday = False
                if not found and not dignext_mday and year == -1:
                    year = val
                    found = True
                    if year < 100:
                        year += 1900 if year > 70 else 2000
                    if mday == -1:
                        dignext_mday = True
                if not found:
                    return None
                pos = end
        part += 1

    if sec == -1:
        sec = minute = hour = 0
    if mday == -1 or mon == -1 or year == -1 or year < 1583:
        return None
    if mday > 31 or mon > 11 or hour > 23 or minute > 59 or sec > 60:
        return None
    y = year - (1 if mon <= 1 else 0)
    leap_days = y // 4 - y // 100 + y // 400 - 477  # 477 leap days before 1969
    days = (year - 1970) * 365 + leap_days + _CUMULATIVE_DAYS[mon] + mday - 1
    seconds = ((days * 24 + hour) * 60 + minute) * 60 + sec
    if tzoff == -1:
        tzoff = 0
    if tzoff > 0 and seconds > _INT64_MAX - tzoff:
        return _INT64_MAX
    return seconds + tzoff


# -- the cookie and the jar --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cookie:
    """One stored cookie (libcurl's `struct Cookie`), immutable.

    `domain` has no leading dot; None only for a cookie added without a host (a Set-Cookie
    line from a file or CURLOPT_COOKIELIST without Domain): it matches every host of bucket 0
    and is neither listed nor saved. `path` is sanitised; None likewise matches every path.
    `expires` is seconds since the epoch, 0 for a session cookie. `live` is False for a cookie
    read from a file. `creation` orders cookies (bigger is newer; a replacement keeps it).
    """

    name: str
    value: str
    domain: str | None
    path: str | None
    expires: int = 0
    tailmatch: bool = False
    secure: bool = False
    httponly: bool = False
    live: bool = True
    creation: int = 0

    def netscape_line(self) -> str:
        """The cookie as a Netscape cookie-file line, without newline (get_netscape_format)."""
        domain = self.domain
        if domain is None:
            domain = "unknown"
        elif self.tailmatch and not domain.startswith("."):
            domain = "." + domain
        return "\t".join(
            (
                ("#HttpOnly_" if self.httponly else "") + domain,
                "TRUE" if self.tailmatch else "FALSE",
                "/" if self.path is None else self.path,
                "TRUE" if self.secure else "FALSE",
                str(self.expires),
                self.name,
                self.value,
            )
        )


@dataclass
class SetCookieTally:
    """Cookies stored during one request (libcurl's `data->req.setcookies`).

    The caller makes one per request (a redirect is a new request) and passes it to every add
    made while that request is current: `set_cookie`, and `cookielist`/`load` as libcurl counts
    those against the handle's current request too.
    """

    stored: int = 0


@dataclass(slots=True)
class _Parsed:
    """What a parser found, before Curl_cookie_add's checks."""

    cookie: Cookie
    prefix_secure: bool = False
    prefix_host: bool = False


CookieListAction = Literal["FLUSH", "RELOAD"]


class CookieJar:
    """libcurl's cookie store. See the module docstring for the rules.

    Every method that can drop expired cookies takes `now` (seconds since the epoch). Malformed
    input raises nothing: a cookie libcurl would refuse is not stored (`set_cookie` returns
    None). The one error is libcurl's: `load` raises CurlError(CURLE_TOO_LARGE) for a line
    too long, which fails the transfer.
    """

    __slots__ = ("_buckets", "_count", "_lastct", "_next_expiry", "_running")

    def __init__(self) -> None:
        self._buckets: list[list[Cookie]] = [[] for _ in range(COOKIE_HASH_SIZE)]
        self._count = 0
        self._lastct = 0  # creation counter
        # No cookie expires before this (libcurl's next_expiration): a sweep before it finds
        # nothing, so it is skipped. Adds lower it, sweeps recompute it, and removals can only
        # leave it low, so it holds from the empty jar on (libcurl also sweeps whenever it is
        # at its maximum; that finds nothing either).
        self._next_expiry = _INT64_MAX
        self._running = True  # False while a cookie file is loading

    def __repr__(self) -> str:
        domains = {_lower(c.domain) for c in self if c.domain is not None}
        session = sum(1 for c in self if not c.expires)
        return f"<CookieJar cookies={self._count} session={session} domains={len(domains)}>"

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Cookie]:
        """The cookies in bucket order, then insertion order (expired ones included)."""
        for bucket in self._buckets:
            yield from bucket

    # -- receiving ------------------------------------------------------------------------

    def set_cookie(
        self,
        line: str | bytes,
        *,
        host: str,
        path: str,
        secure: bool,
        now: int,
        tally: SetCookieTally | None = None,
    ) -> Cookie | None:
        """Store the cookie of a `Set-Cookie:` response header; return it, or None if refused.

        `line` is what followed "Set-Cookie:" in the received header line: libcurl measures the
        5000-byte limit on it with its leading blanks and its CRLF, so pass those when you have
        them. `host` is the request's host as libcurl has it (without IPv6 brackets; the custom
        Host: header's name when one was set), `path` the URL path without query,
        `secure` is `secure_context(scheme, host)`.
        """
        return self._add(
            _text(line),
            header=True,
            host=host,
            path=path,
            secure=secure,
            now=now,
            noexpire=False,
            tally=tally,
            session=False,
        )

    def cookielist(
        self, command: str | bytes, *, now: int, tally: SetCookieTally | None = None
    ) -> CookieListAction | None:
        """Run a CURLOPT_COOKIELIST string.

        "ALL" erases every cookie, "SESS" every session cookie (any case). "FLUSH" and "RELOAD"
        are returned for the caller, which owns the files: FLUSH writes `dump()` to
        CURLOPT_COOKIEJAR, RELOAD `load`s each CURLOPT_COOKIEFILE. Anything else is a cookie:
        a "Set-Cookie:" line (any case) or a Netscape line, added as from a server but with no
        host to check a Domain against (libcurl passes no host, and so does this).
        """
        text = _text(command)
        word = text.translate(_ASCII_UPPER)
        if word == "ALL":
            self.clear_all()
        elif word == "SESS":
            self.clear_session()
        elif word in ("FLUSH", "RELOAD"):
            return "FLUSH" if word == "FLUSH" else "RELOAD"
        else:
            header = _lower(text[:11]) == "set-cookie:"
            self._add(
                text[11:] if header else text,
                header=header,
                host=None,
                path=None,
                secure=True,
                now=now,
                noexpire=False,
                tally=tally,
                session=False,
            )
        return None

    def load(
        self,
        data: str | bytes,
        *,
        now: int,
        session: bool = False,
        tally: SetCookieTally | None = None,
    ) -> None:
        """Read a cookie file's contents (CURLOPT_COOKIEFILE) into the jar.

        Netscape lines and "Set-Cookie:" lines may be mixed; other lines are ignored. Cookies
        read here never replace ones received from a server. `session` is CURLOPT_COOKIESESSION:
        skip cookies without an expiry. libcurl reads every CURLOPT_COOKIEFILE again at the start
        of every transfer (not of every redirect), so the engine calls this each time.

        Raises CurlError(CURLE_TOO_LARGE) at a line longer than 5047 bytes, which fails the
        transfer in libcurl 8.23; the lines before it stay loaded.
        """
        self._running = False
        try:
            for line in _file_lines(data.decode("latin-1") if isinstance(data, bytes) else data):
                header = _lower(line[:11]) == "set-cookie:"
                if header:
                    line = line[11:].lstrip(" \t")
                self._add(
                    line,
                    header=header,
                    host=None,
                    path=None,
                    secure=True,
                    now=now,
                    noexpire=True,
                    tally=tally,
                    session=session,
                )
        finally:
            self._running = True
            self.remove_expired(now)

    # -- sending --------------------------------------------------------------------------

    def cookies_for(self, host: str, path: str, secure: bool, now: int) -> list[Cookie]:
        """The cookies a request to `host` and `path` carries, in the order they are sent.

        `secure` is `secure_context(scheme, host)`. At most MAX_COOKIE_SEND_AMOUNT.
        """
        bucket = self._buckets[_bucket(host)]
        if not bucket:  # libcurl returns before sweeping
            return []
        self.remove_expired(now)  # of the whole jar, as libcurl
        is_ip = _is_ipnum(host)
        lowered_host = _lower(host)
        found: list[Cookie] = []
        for cookie in bucket:
            if cookie.secure and not secure:
                continue
            if cookie.domain is not None:
                domain = _lower(cookie.domain)
                if domain != lowered_host and (
                    not cookie.tailmatch
                    or is_ip
                    or not lowered_host.endswith(domain)  # cookie_tailmatch, inlined
                    or lowered_host[-len(domain) - 1] != "."
                ):
                    continue
            if cookie.path is not None and not _pathmatch(cookie.path, path):
                continue
            found.append(cookie)
            if len(found) >= MAX_COOKIE_SEND_AMOUNT:
                break
        found.sort(
            key=lambda c: (
                -len(c.path or ""),
                -len(c.domain or ""),
                -len(c.name),
                -c.creation,
            )
        )
        return found

    def cookie_header(
        self, host: str, path: str, secure: bool, now: int, *, extra: str | None = None
    ) -> str | None:
        """The Cookie header value libcurl sends to `host` at `path`, or None for no header.

        `extra` is CURLOPT_COOKIE's string (when the application set no Cookie header of its
        own): appended after "; " unless the jar's cookies already filled the header.
        """
        pieces: list[str] = []
        length = len("Cookie: ")
        capped = False
        for cookie in self.cookies_for(host, path, secure, now):
            add = len(cookie.name) + len(cookie.value) + 1
            if length + add >= MAX_COOKIE_HEADER_LEN:
                capped = True
                break
            pieces.append(f"{cookie.name}={cookie.value}")
            length += add + (2 if len(pieces) > 1 else 0)
        if extra is not None and not capped:
            pieces.append(extra)
        return "; ".join(pieces) if pieces else None

    # -- listing and saving ---------------------------------------------------------------

    def netscape_lines(self, now: int) -> list[str]:
        """CURLINFO_COOKIELIST: every unexpired cookie with a domain, in bucket order."""
        if not self._count:
            return []
        self.remove_expired(now)
        return [c.netscape_line() for c in self if c.domain is not None]

    def dump(self, now: int) -> str:
        """The CURLOPT_COOKIEJAR file: libcurl's header, then the cookies newest first."""
        self.remove_expired(now)
        cookies = sorted(
            (c for c in self if c.domain is not None), key=lambda c: c.creation, reverse=True
        )
        return JAR_HEADER + "".join(c.netscape_line() + "\n" for c in cookies)

    # -- removing -------------------------------------------------------------------------

    def clear_all(self) -> None:
        """Forget every cookie (COOKIELIST "ALL")."""
        for bucket in self._buckets:
            bucket.clear()
        self._count = 0

    def clear_session(self) -> None:
        """Forget the cookies without an expiry (COOKIELIST "SESS")."""
        self._remove(lambda c: not c.expires)

    def remove_expired(self, now: int) -> None:
        """Forget the cookies whose expiry is before `now` (libcurl keeps one expiring now)."""
        if now < self._next_expiry:
            return
        self._remove(lambda c: 0 != c.expires < now)
        self._next_expiry = min((c.expires for c in self if c.expires), default=_INT64_MAX)

    def _remove(self, doomed: Callable[[Cookie], bool]) -> None:
        for bucket in self._buckets:
            if any(doomed(c) for c in bucket):
                kept = [c for c in bucket if not doomed(c)]
                self._count -= len(bucket) - len(kept)
                bucket[:] = kept

    # -- Curl_cookie_add ------------------------------------------------------------------

    def _add(
        self,
        line: str,
        *,
        header: bool,
        host: str | None,
        path: str | None,
        secure: bool,
        now: int,
        noexpire: bool,
        tally: SetCookieTally | None,
        session: bool,
    ) -> Cookie | None:
        if tally is not None and tally.stored >= MAX_SET_COOKIE_AMOUNT:
            return None
        if header:
            parsed = _parse_header(line, host, path, secure, self._running, now)
        else:
            parsed = _parse_netscape(line)
        if parsed is None:
            return None
        cookie = parsed.cookie
        if parsed.prefix_secure and not cookie.secure:
            return None
        if parsed.prefix_host and not (
            cookie.secure and cookie.path == "/" and not cookie.tailmatch
        ):
            return None
        if not self._running and session and not cookie.expires:
            return None
        self._lastct += 1
        cookie = dataclasses.replace(cookie, live=self._running, creation=self._lastct)
        if not noexpire:
            self.remove_expired(now)
        bucket = self._buckets[_bucket(cookie.domain)]
        superseded = _superseded(bucket, cookie, secure)
        if superseded is None:
            return None
        if superseded >= 0:  # the replacement takes the old cookie's age
            cookie = dataclasses.replace(cookie, creation=bucket.pop(superseded).creation)
        else:
            self._count += 1
        bucket.append(cookie)
        if cookie.expires:
            self._next_expiry = min(self._next_expiry, cookie.expires)
        if header and tally is not None:
            tally.stored += 1
        return cookie


def _superseded(bucket: list[Cookie], cookie: Cookie, secure: bool) -> int | None:
    """replace_existing: the index in `bucket` of the cookie `cookie` replaces, -1 for none.

    The same cookie is the same name (with case), domain (without case), tailmatch and path
    (with case). None means `cookie` must be refused: it would overlay a Secure cookie from an
    insecure origin, or it comes from a file and a live cookie of the same identity exists.

    All cookies of related domains share a bucket (their last two labels agree), except
    single-label names, which libcurl does not look for elsewhere either.
    """
    replace_at = -1
    for index, old in enumerate(bucket):
        if old.name != cookie.name:
            continue
        if old.domain is not None and cookie.domain is not None:
            related = _tailmatch(old.domain, cookie.domain) or _tailmatch(cookie.domain, old.domain)
        else:
            related = old.domain is None and cookie.domain is None
        if (
            related
            and old.path is not None
            and cookie.path is not None
            and old.secure
            and not cookie.secure
            and not secure
        ):
            # RFC 6265bis 5.7 step 16: an insecure origin may not overlay a Secure cookie of a
            # related domain (either domain-matches the other) whose path shares the new one's
            # first segment. libcurl compares the characters up to the old path's second "/",
            # so for "/login", "/login/en" and "/loginhelper" are both refused; "/LOGIN" is not.
            second_slash = old.path.find("/", 1)
            length = len(old.path) if second_slash < 0 else second_slash
            if cookie.path[:length] == old.path[:length]:
                return None
        if replace_at >= 0:
            continue
        if old.domain is not None and cookie.domain is not None:
            same = _lower(old.domain) == _lower(cookie.domain) and old.tailmatch == cookie.tailmatch
        else:
            same = old.domain is None and cookie.domain is None
        if same and old.path != cookie.path:  # paths compare with case, None only to None
            same = False
        if same and not cookie.live and old.live:
            return None
        if same:
            replace_at = index
    return replace_at


# -- the two line parsers ----------------------------------------------------------------------


def _parse_header(
    line: str, host: str | None, path: str | None, secure: bool, running: bool, now: int
) -> _Parsed | None:
    """parse_cookie_header: one Set-Cookie line (what followed the colon) -> cookie or None."""
    if len(line) > MAX_COOKIE_LINE:
        return None
    name: str | None = None
    value = ""
    domain_attr = ""
    path_attr = ""
    expires = 0
    tailmatch = cookie_secure = httponly = prefix_secure = prefix_host = False
    default_domain = host
    pos = 0
    end = len(line)
    while True:
        stop = _find_any(line, ";\r\n=", pos)
        if stop > pos:
            key = line[pos:stop].strip(" \t")
            pos = stop
            sep = False
            val = ""
            if pos < end and line[pos] == "=":
                sep = True
                stop = _find_any(line, ";\r\n", pos + 1)
                val = line[pos + 1 : stop].strip(" \t")
                pos = stop
            if _invalid_octets(key) or _invalid_octets(val):
                return None
            attr = _lower(key)
            if name is None:
                if not sep or not key or len(key) + len(val) > MAX_NAME:
                    return None
                prefix_secure = key.startswith("__Secure-")
                prefix_host = not prefix_secure and key.startswith("__Host-")
                name, value = key, val
            elif attr == "secure":
                # libcurl: only a secure origin (or a file being read) may set Secure
                if not (secure or not running):
                    return None
                cookie_secure = True
            elif attr == "httponly":
                httponly = True
            elif attr == "path":
                path_attr = val
            elif attr == "domain" and val:
                if val.startswith("."):
                    val = val[1:]
                if _bad_domain(val):
                    default_domain = ":"  # nothing tail-matches this, on purpose
                is_ip = _is_ipnum(default_domain if default_domain is not None else val)
                if default_domain is not None and not (
                    (is_ip and val == default_domain)
                    or (not is_ip and _tailmatch(val, default_domain))
                ):
                    return None
                domain_attr = val
                tailmatch = not is_ip
            elif attr == "max-age" and val:
                number = _number(val[1:] if val.startswith('"') else val)
                if number is None or number == 0:
                    expires = 1  # "negative or otherwise bad, expire"
                elif number > _INT64_MAX or _INT64_MAX - now < number:
                    expires = _INT64_MAX
                else:
                    expires = now + number
                expires = _cap_expires(now, expires)
            elif attr == "expires" and val and not expires and len(val) < _MAX_DATE_LENGTH:
                date = parse_date(val)
                expires = 0 if date is None else (date or 1)
                expires = _cap_expires(now, expires)
        if pos < end and line[pos] == ";":
            pos += 1
        else:
            break
    if name is None:
        return None
    cookie_path: str | None = None
    if path_attr:
        cookie_path = _sanitize_path(path_attr)
    elif path is not None:
        slash = path.rfind("/")
        cookie_path = _sanitize_path(path[: slash + 1] if slash >= 0 else path)
    cookie = Cookie(
        name=name,
        value=value,
        domain=domain_attr or default_domain,
        path=cookie_path,
        expires=expires,
        tailmatch=tailmatch,
        secure=cookie_secure,
        httponly=httponly,
    )
    return _Parsed(cookie, prefix_secure, prefix_host)


def _parse_netscape(line: str) -> _Parsed | None:
    """parse_netscape: one cookie-file line -> cookie or None (comments, short lines).

    Every caller reads files or COOKIELIST strings with libcurl's `secure` argument TRUE, so
    the secure field is taken as written.
    """
    httponly = line.startswith("#HttpOnly_")
    if httponly:
        line = line[10:]
    if line.startswith("#"):
        return None
    fields = 0
    domain = name = value = ""
    path: str | None = None
    tailmatch = secure = prefix_secure = prefix_host = False
    expires = 0
    pos: int | None = 0
    while pos is not None:
        stop = _find_any(line, "\t\r\n", pos)
        field = line[pos:stop]
        pos = stop + 1 if stop < len(line) and line[stop] == "\t" else None
        if fields == 0:
            domain = field[1:] if field.startswith(".") else field
        elif fields == 1:
            tailmatch = _prefix_ci("TRUE", field)
        elif fields == 2 and not ("TRUE".startswith(field) or "FALSE".startswith(field)):
            path = _sanitize_path(field)
        elif fields in (2, 3):
            if fields == 2:  # "the path field may be left out": this is the secure field
                path = "/"
                fields += 1
            secure = _prefix_ci("TRUE", field)
        elif fields == 4:
            number = _number(field)
            if number is None or number > _INT64_MAX:
                return None
            expires = number
        elif fields == 5:
            name = field
            prefix_secure = name.startswith("__Secure-")
            prefix_host = not prefix_secure and name.startswith("__Host-")
        elif fields == 6:
            value = field
        fields += 1
    if fields == 6:  # no value field: an empty value
        fields = 7
    if fields != 7:
        return None
    cookie = Cookie(
        name=name,
        value=value,
        domain=domain,
        path=path,
        expires=expires,
        tailmatch=tailmatch,
        secure=secure,
        httponly=httponly,
    )
    return _Parsed(cookie, prefix_secure, prefix_host)


def _prefix_ci(word: str, field: str) -> bool:
    """curl_strnequal(field, word, len(field)): `field` is a case-insensitive prefix of `word`
    (the empty field included)."""
    return len(field) <= len(word) and _lower(field) == _lower(word[: len(field)])


def _find_any(text: str, chars: str, start: int) -> int:
    """The index of the first character of `text[start:]` in `chars`, else len(text)."""
    end = len(text)
    for ch in chars:
        found = text.find(ch, start, end)
        if found >= 0:
            end = found
    return end


def _file_lines(text: str) -> Iterable[str]:
    """The lines cookie_load sees: each ends in LF (one is added at the end of the data).

    Curl_get_line reads 127-byte pieces with fgets and keeps each piece up to a NUL, so a NUL
    drops the rest of its piece (and can join two lines). Raises CurlError(CURLE_TOO_LARGE) at
    a line longer than 5047 bytes.
    """
    too_large = CurlError(E_TOO_LARGE, easy_strerror(E_TOO_LARGE))
    pos = 0
    n = len(text)
    while pos < n:
        buf: list[str] = []
        size = 0
        while True:
            newline = text.find("\n", pos, pos + _FGETS_CHUNK)
            stop = newline + 1 if newline >= 0 else min(pos + _FGETS_CHUNK, n)
            piece = text[pos:stop]
            pos = stop
            nul = piece.find("\0")
            if nul >= 0:
                piece = piece[:nul]
            size += len(piece)
            if size > _MAX_FILE_LINE:
                raise too_large
            buf.append(piece)
            if piece.endswith("\n"):
                break
            if pos >= n:
                if size + 1 > _MAX_FILE_LINE:
                    raise too_large
                buf.append("\n")
                break
        yield "".join(buf)
