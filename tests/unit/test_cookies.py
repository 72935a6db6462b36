"""CookieJar (purecurl.proto.cookies): libcurl 8.23's cookie engine, rule by rule and against
libcurl itself.

The rule tests use a fixed clock. The comparison tests run one scenario twice: through pycurl
(libcurl 8.23) against a loopback server that sends the scripted Set-Cookie headers and records
the Cookie header of every request, and through a CookieJar fed the same headers the way the
engine will feed it. The Cookie headers, CURLINFO_COOKIELIST and the CURLOPT_COOKIEJAR file must
be identical. libcurl reads the wall clock, so a scenario that straddles a second is run again.

The pycurl build links libpsl; CookieJar is libcurl without libpsl. The scenarios avoid the
places where that shows (`test_known_divergences_from_the_libpsl_build` pins three, and the
COOKIELIST property test skips dotless Domains).
"""

from __future__ import annotations

import calendar
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pycurl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from purecurl._codes import E_TOO_LARGE
from purecurl._errors import CurlError
from purecurl.proto.cookies import (
    COOKIES_MAXAGE,
    JAR_HEADER,
    MAX_COOKIE_HEADER_LEN,
    MAX_COOKIE_SEND_AMOUNT,
    MAX_SET_COOKIE_AMOUNT,
    CookieJar,
    SetCookieTally,
    parse_date,
    secure_context,
)
from tests.servers import HttpServer, Request, Response

NOW = 1_800_000_000  # 2027-01-15 08:00:00 UTC
W = "www.example.com"


def utc(*fields: int) -> int:
    return calendar.timegm((*fields, 0, 0, 0)[:6])


def jar_with(*set_cookies: str, host: str = W, path: str = "/", now: int = NOW) -> CookieJar:
    jar = CookieJar()
    for value in set_cookies:
        jar.set_cookie(value, host=host, path=path, secure=secure_context("http", host), now=now)
    return jar


def lines(jar: CookieJar, now: int = NOW) -> list[str]:
    return jar.netscape_lines(now)


# -- the date parser ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sun, 06 Nov 1994 08:49:37 GMT", utc(1994, 11, 6, 8, 49, 37)),  # RFC 1123
        ("Sunday, 06-Nov-94 08:49:37 GMT", utc(1994, 11, 6, 8, 49, 37)),  # RFC 850
        ("Sun Nov  6 08:49:37 1994", utc(1994, 11, 6, 8, 49, 37)),  # asctime
        ("06 Nov 1994 08:49:37 GMT", utc(1994, 11, 6, 8, 49, 37)),
        ("06-Nov-94 08:49:37", utc(1994, 11, 6, 8, 49, 37)),
        ("1994 Nov 6 08:49:37", utc(1994, 11, 6, 8, 49, 37)),
        ("GMT 08:49:37 06-Nov-94 Sunday", utc(1994, 11, 6, 8, 49, 37)),
        ("94 6 Nov 08:49:37", utc(1994, 11, 6, 8, 49, 37)),
        ("1994 Nov 6", utc(1994, 11, 6)),
        ("06-Nov-94", utc(1994, 11, 6)),
        ("Sun Nov 6 94", utc(1994, 11, 6)),
        ("1994.Nov.6", utc(1994, 11, 6)),
        ("Sun/Nov/6/94/GMT", utc(1994, 11, 6)),
        ("Sun, 06 Nov 1994 08:49:37 CET", utc(1994, 11, 6, 7, 49, 37)),
        ("06 Nov 1994 08:49:37 EST", utc(1994, 11, 6, 13, 49, 37)),
        ("Sun, 12 Sep 2004 15:05:58 -0700", utc(2004, 9, 12, 22, 5, 58)),
        ("Sat, 11 Sep 2004 21:32:11 +0200", utc(2004, 9, 11, 19, 32, 11)),
        ("20040912 15:05:58 -0700", utc(2004, 9, 12, 22, 5, 58)),
        ("20040911 +0200", utc(2004, 9, 10, 22)),
        ("Wed, 09 Jun 2027 10:18 GMT", utc(2027, 6, 9, 10, 18)),  # no seconds
        ("Wed, 09 Jun 2027 1:2:3 GMT", utc(2027, 6, 9, 1, 2, 3)),  # one-digit parts
        ("Wed, 09 Jun 2027 10:18:14 A", utc(2027, 6, 9, 9, 18, 14)),  # military, UTC+1
        ("Wed, 09 Jun 2027 10:18:14 N", utc(2027, 6, 9, 11, 18, 14)),
        ("Wed, 09 Jun 2027 10:18:14 UT", utc(2027, 6, 9, 10, 18, 14)),
        ("Wed, 09 Jun 2027 10:18:14 NZDT", utc(2027, 6, 8, 21, 18, 14)),
        ("Wed, 09 Jun 2027 10:18:14 GMT and more", utc(2027, 6, 9, 10, 18, 14)),  # 6 parts
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0),
        ("Mon, 01 Jan 1900 00:00:00 GMT", utc(1900, 1, 1)),
        ("Fri, 31 Dec 9999 23:59:59 GMT", utc(9999, 12, 31, 23, 59, 59)),
        ("29 Feb 2028", utc(2028, 2, 29)),
        ("wEdNeSdAy, 09 jUN 2027", utc(2027, 6, 9)),
        ("09 Jun 2027 10:18:60", utc(2027, 6, 9, 10, 19, 0)),  # a leap second is allowed
    ],
)
def test_parse_date_formats(text: str, expected: int) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "Wed, 09 Jun 2027 10:18:14 gmt",  # zone names are case-sensitive
        "Wed, 09 June 2027",  # only three-letter months
        "Tues, 09 Jun 2027",  # a day is three letters or the whole name
        "Wed, 09 Jun 2027 10:18:14 XYZ",
        "Wed, 09 Jun 1582",  # before the Gregorian calendar
        "Wed, 09 Jun",  # no year
        "Jun 2027",  # no day
        "Wed, 32 Jun 2027 25:00:00",
        "123456789 Jun 09",
        "Wed, 09 Jun 2027 10:18:14 Abcdefghijklm",
    ],
)
def test_parse_date_failures(text: str) -> None:
    assert parse_date(text) is None


# -- receiving: one rule per test --------------------------------------------------------------


def test_first_pair_is_the_cookie_and_blanks_are_trimmed() -> None:
    jar = jar_with(" a = b c ; path=/", "d=e=f", 'g="q"', "h=")
    assert [(c.name, c.value) for c in jar] == [("a", "b c"), ("d", "e=f"), ("g", '"q"'), ("h", "")]


@pytest.mark.parametrize(
    "value", ["novalue", "=v", "  =v", "", "a\x01=b", "a=b\x7f", "a=b\tc", "a=1; x=\x02"]
)
def test_refused_cookie_lines(value: str) -> None:
    assert CookieJar().set_cookie(value, host=W, path="/", secure=False, now=NOW) is None


def test_size_limit_is_name_plus_value() -> None:
    jar = CookieJar()
    ok = ["n=" + "v" * 4095, "nn=" + "v" * 4094, "n" * 4096 + "=", "n" * 4095 + "=v"]
    too_big = ["nn=" + "v" * 4095, "n" * 4097 + "=", "n" * 4096 + "=v"]
    for value in ok:
        assert jar.set_cookie(value, host=W, path="/", secure=False, now=NOW) is not None
    for value in too_big:
        assert jar.set_cookie(value, host=W, path="/", secure=False, now=NOW) is None


def test_line_limit_counts_what_followed_the_colon() -> None:
    base = "a=1; path=/; x="
    fits = " " + base + "y" * (4997 - len(base)) + "\r\n"
    assert len(fits) == 5000
    jar = CookieJar()
    assert jar.set_cookie(fits, host=W, path="/", secure=False, now=NOW) is not None
    assert jar.set_cookie(fits[:-2] + "y\r\n", host=W, path="/", secure=False, now=NOW) is None


def test_default_path_is_the_request_directory() -> None:
    jar = CookieJar()
    for request_path, expected in [("/a/b/c", "/a/b"), ("/a/", "/a"), ("/a", "/"), ("", "/")]:
        cookie = jar.set_cookie(
            f"n{len(request_path)}=1", host=W, path=request_path, secure=False, now=NOW
        )
        assert cookie is not None and cookie.path == expected


@pytest.mark.parametrize(
    ("attribute", "expected"),
    [
        ("path=/x/", "/x"),
        ("path=x", "/"),
        ('path="/q/"', "/q"),
        ('path="/q', "/q"),
        ('path=/q"', '/q"'),
        ("path=", "/p"),
        ("path", "/p"),
        ("Path=/A; path=/b", "/b"),
    ],
)
def test_path_attribute(attribute: str, expected: str) -> None:
    cookie = CookieJar().set_cookie(f"a=1; {attribute}", host=W, path="/p/q", secure=False, now=NOW)
    assert cookie is not None and cookie.path == expected


@pytest.mark.parametrize(
    ("host", "domain", "stored", "tailmatch"),
    [
        (W, "example.com", "example.com", True),
        (W, ".example.com", "example.com", True),
        (W, "EXAMPLE.COM", "EXAMPLE.COM", True),
        (W, W, W, True),
        (W, "", W, False),  # an empty Domain is ignored
        (W, "other.org", None, False),
        (W, "ample.com", None, False),
        (W, "com", None, False),  # bad_domain: a TLD
        (W, "example.com.", None, False),
        (W, "sub.www.example.com", None, False),
        ("localhost", "localhost", "localhost", True),
        ("127.0.0.1", "127.0.0.1", "127.0.0.1", False),
        ("127.0.0.1", ".127.0.0.1", "127.0.0.1", False),
        ("127.0.0.1", "0.0.1", None, False),  # an IP host only ever matches itself
        ("::1", "::1", None, False),  # bad_domain: no dot
    ],
)
def test_domain_attribute(host: str, domain: str, stored: str | None, tailmatch: bool) -> None:
    cookie = CookieJar().set_cookie(
        f"a=1; domain={domain}", host=host, path="/", secure=False, now=NOW
    )
    if stored is None:
        assert cookie is None
    else:
        assert cookie is not None and (cookie.domain, cookie.tailmatch) == (stored, tailmatch)


def test_secure_needs_a_secure_origin() -> None:
    assert secure_context("https", W) and secure_context("WSS", W)
    assert secure_context("http", "LocalHost") and secure_context("http", "127.0.0.1")
    assert secure_context("http", "::1")
    assert not secure_context("http", "127.0.0.2") and not secure_context("http", W)
    jar = CookieJar()
    for value in ("a=1; secure", "a=1; Secure=no"):
        assert jar.set_cookie(value, host=W, path="/", secure=False, now=NOW) is None
        cookie = jar.set_cookie(value, host=W, path="/", secure=True, now=NOW)
        assert cookie is not None and cookie.secure


def test_httponly_with_any_value() -> None:
    jar = jar_with("a=1; HttpOnly", "b=1; httponly=no")
    assert lines(jar) == [
        f"#HttpOnly_{W}\tFALSE\t/\tFALSE\t0\ta\t1",
        f"#HttpOnly_{W}\tFALSE\t/\tFALSE\t0\tb\t1",
    ]


@pytest.mark.parametrize(
    ("attributes", "expires"),
    [
        ("max-age=100", NOW + 100),
        ('max-age="100"', NOW + 100),
        ("max-age=100abc", NOW + 100),
        ("max-age= 7 ", NOW + 7),
        ("max-age=", 0),
        ("max-age=0", 1),
        ("max-age=-1", 1),
        ("max-age=+5", 1),
        ("max-age=abc", 1),
        ("max-age=99999999999999999999999", ((NOW + COOKIES_MAXAGE + 30) // 60) * 60),
        ("max-age=50; expires=Wed, 09 Jun 2027 10:18:14 GMT", NOW + 50),
        ("expires=Wed, 09 Jun 2027 10:18:14 GMT; max-age=50", NOW + 50),
        ("expires=bogus; expires=Wed, 09 Jun 2027 10:18:14 GMT", utc(2027, 6, 9, 10, 18, 14)),
        ("expires=Wed, 09 Jun 2027 10:18:14 gmt", 0),
        ("expires=Thu, 01 Jan 1970 00:00:00 GMT", 1),
        ("expires=Fri, 31 Dec 9999 23:59:59 GMT", ((NOW + COOKIES_MAXAGE + 30) // 60) * 60),
        ("expires=" + "1" * 80, 0),  # 80 bytes or more: ignored
    ],
)
def test_expiry(attributes: str, expires: int) -> None:
    cookie = CookieJar().set_cookie(f"a=1; {attributes}", host=W, path="/", secure=False, now=NOW)
    assert cookie is not None and cookie.expires == expires


def test_expired_cookies_are_swept_and_max_age_0_deletes() -> None:
    jar = jar_with("a=1", "b=1; max-age=10")
    jar.set_cookie("a=x; max-age=0", host=W, path="/", secure=False, now=NOW)
    assert [c.name for c in jar.cookies_for(W, "/", False, NOW)] == ["b"]
    assert jar.cookie_header(W, "/", False, NOW + 10) == "b=1"  # expiring now still counts
    assert jar.cookie_header(W, "/", False, NOW + 11) is None
    assert len(jar) == 0


@pytest.mark.parametrize(
    ("value", "host", "secure", "stored"),
    [
        ("__Secure-a=1", W, False, False),
        ("__Secure-a=1; secure", W, True, True),
        ("__secure-a=1", W, False, True),  # case-sensitive
        ("__Host-a=1; secure", W, True, True),
        ("__Host-a=1; secure; path=/x", W, True, False),
        ("__Host-a=1; secure; domain=example.com", W, True, False),
        ("__Host-a=1; secure; domain=127.0.0.1", "127.0.0.1", True, True),  # IP: no tailmatch
        ("__HOST-a=1", W, False, True),
    ],
)
def test_name_prefixes(value: str, host: str, secure: bool, stored: bool) -> None:
    cookie = CookieJar().set_cookie(value, host=host, path="/", secure=secure, now=NOW)
    assert (cookie is not None) is stored


def test_replacement_keeps_the_creation_order() -> None:
    jar = jar_with("a=1", "b=1", "a=2", "a=3; path=/x", "a=4; domain=example.com")
    assert lines(jar) == [
        f"{W}\tFALSE\t/\tFALSE\t0\tb\t1",
        f"{W}\tFALSE\t/\tFALSE\t0\ta\t2",
        f"{W}\tFALSE\t/x\tFALSE\t0\ta\t3",
        ".example.com\tTRUE\t/\tFALSE\t0\ta\t4",
    ]
    assert jar.cookie_header(W, "/x", False, NOW) == "a=3; b=1; a=2; a=4"  # a=2 is a=1's age
    assert jar.dump(NOW).splitlines()[4:] == [
        ".example.com\tTRUE\t/\tFALSE\t0\ta\t4",
        f"{W}\tFALSE\t/x\tFALSE\t0\ta\t3",
        f"{W}\tFALSE\t/\tFALSE\t0\tb\t1",
        f"{W}\tFALSE\t/\tFALSE\t0\ta\t2",  # replaced cookies keep their place
    ]


def test_insecure_origin_cannot_overlay_a_secure_cookie() -> None:
    jar = CookieJar()
    assert jar.set_cookie("a=s; secure; path=/login", host=W, path="/", secure=True, now=NOW)
    for refused, host in [
        ("a=1; path=/login", W),
        ("a=1; path=/login/en", W),
        ("a=1; path=/loginhelper", W),  # the first path segment's characters, not the segment
        ("a=1; path=/login; domain=example.com", W),  # related domains, either way round
        ("a=1; path=/login", "sub.www.example.com"),
    ]:
        assert jar.set_cookie(refused, host=host, path="/", secure=False, now=NOW) is None
    for allowed, host in [
        ("a=1; path=/LOGIN/x", W),
        ("a=1; path=/", W),
        ("b=1; path=/login", W),
        ("a=1; path=/login", "x.example.com"),
    ]:
        assert jar.set_cookie(allowed, host=host, path="/", secure=False, now=NOW) is not None
    assert jar.set_cookie("a=2; path=/login", host=W, path="/", secure=True, now=NOW)


def test_a_file_never_replaces_a_live_cookie() -> None:
    jar = jar_with("a=live")
    jar.load(f"{W}\tFALSE\t/\tFALSE\t0\ta\tfile\n{W}\tFALSE\t/\tFALSE\t0\tb\tfile\n", now=NOW)
    assert jar.cookie_header(W, "/", False, NOW) == "b=file; a=live"
    jar.load(f"{W}\tFALSE\t/\tFALSE\t0\tb\tagain\n", now=NOW)  # file over file replaces
    assert jar.cookie_header(W, "/", False, NOW) == "b=again; a=live"


# -- sending -----------------------------------------------------------------------------------


def test_matching_rules() -> None:
    jar = CookieJar()
    jar.set_cookie("host=1", host=W, path="/", secure=False, now=NOW)
    jar.set_cookie("dom=1; domain=example.com", host=W, path="/", secure=False, now=NOW)
    jar.set_cookie("sec=1; secure", host=W, path="/", secure=True, now=NOW)
    jar.set_cookie("p=1; path=/Docs", host=W, path="/", secure=False, now=NOW)
    assert jar.cookie_header(W, "/", False, NOW) == "host=1; dom=1"
    assert jar.cookie_header(W, "/", True, NOW) == "host=1; sec=1; dom=1"
    assert jar.cookie_header("WWW.EXAMPLE.COM", "/", False, NOW) == "host=1; dom=1"
    assert jar.cookie_header("a.www.example.com", "/", False, NOW) == "dom=1"
    assert jar.cookie_header("example.com", "/", False, NOW) == "dom=1"
    assert jar.cookie_header("notexample.com", "/", False, NOW) is None
    assert jar.cookie_header(W, "/Docs/x", False, NOW) == "p=1; host=1; dom=1"
    assert jar.cookie_header(W, "/Docs", False, NOW) == "p=1; host=1; dom=1"
    assert jar.cookie_header(W, "/docs", False, NOW) == "host=1; dom=1"  # case-sensitive
    assert jar.cookie_header(W, "/Docsx", False, NOW) == "host=1; dom=1"


def test_order_path_then_domain_then_name_then_newest() -> None:
    jar = CookieJar()
    for value in ("a=1", "bb=1", "c=1; domain=example.com", "d=1; path=/x", "e=1"):
        jar.set_cookie(value, host=W, path="/", secure=False, now=NOW)
    assert jar.cookie_header(W, "/x", False, NOW) == "d=1; bb=1; e=1; a=1; c=1"


def test_send_limits() -> None:
    jar = CookieJar()
    for i in range(MAX_COOKIE_SEND_AMOUNT + 10):
        jar.set_cookie(f"c{i:03}=1", host=W, path="/", secure=False, now=NOW)
    sent = jar.cookie_header(W, "/", False, NOW)
    assert sent is not None
    names = [pair.split("=")[0] for pair in sent.split("; ")]
    assert sorted(names) == [f"c{i:03}" for i in range(MAX_COOKIE_SEND_AMOUNT)]  # the oldest

    jar = jar_with("a=" + "x" * 4000, "b=" + "x" * 4000, "c=" + "x" * 200, "d=1")
    sent = jar.cookie_header(W, "/", False, NOW, extra="u=1")
    assert sent is not None and [p[0] for p in sent.split("; ")] == ["d", "c", "b"]
    assert len("Cookie: " + sent) < MAX_COOKIE_HEADER_LEN
    assert jar_with("a=1").cookie_header(W, "/", False, NOW, extra="u=1") == "a=1; u=1"
    assert CookieJar().cookie_header(W, "/", False, NOW, extra="u=1") == "u=1"


def test_set_cookie_tally() -> None:
    jar = CookieJar()
    tally = SetCookieTally()
    jar.set_cookie("bad", host=W, path="/", secure=False, now=NOW, tally=tally)
    jar.set_cookie("__Secure-x=1", host=W, path="/", secure=False, now=NOW, tally=tally)
    assert tally.stored == 0  # refused cookies do not count
    for i in range(MAX_SET_COOKIE_AMOUNT + 5):
        jar.set_cookie(f"c{i}=1", host=W, path="/", secure=False, now=NOW, tally=tally)
    assert len(jar) == tally.stored == MAX_SET_COOKIE_AMOUNT
    jar.cookielist(f"{W}\tFALSE\t/\tFALSE\t0\tn\t1", now=NOW)
    jar.cookielist(f"{W}\tFALSE\t/\tFALSE\t0\tm\t1", now=NOW, tally=tally)
    assert len(jar) == MAX_SET_COOKIE_AMOUNT + 1  # once full, every add is refused


# -- files and COOKIELIST ----------------------------------------------------------------------


def test_dump_format() -> None:
    assert JAR_HEADER == (
        "# Netscape HTTP Cookie File\n# https://curl.se/docs/http-cookies.html\n"
        "# This file was generated by libcurl! Edit at your own risk.\n\n"
    )
    assert CookieJar().dump(NOW) == JAR_HEADER
    jar = jar_with("a=1; HttpOnly; domain=example.com; max-age=60", "b=2; secure", host=W)
    jar.set_cookie("c=3; secure", host=W, path="/x/y", secure=True, now=NOW)
    assert jar.dump(NOW) == JAR_HEADER + (
        f"{W}\tFALSE\t/x\tTRUE\t0\tc\t3\n#HttpOnly_.example.com\tTRUE\t/\tFALSE\t{NOW + 60}\ta\t1\n"
    )  # newest first; b was refused (Secure from http)
    assert jar.dump(NOW + 61) == JAR_HEADER + f"{W}\tFALSE\t/x\tTRUE\t0\tc\t3\n"


def test_load_netscape_fields() -> None:
    jar = CookieJar()
    jar.load(
        "# comment\n"
        "\n"
        "example.com\tT\t/\tFALSE\t0\ta\t1\n"  # any prefix of TRUE is TRUE
        "example.com\tTRUEX\t/\tFALSE\t0\tb\t1\n"
        "example.com\tFALSE\tTRUE\t0\tc\t1\n"  # six fields: no path, this is "secure"
        "example.com\tFALSE\t\t0\td\t1\n"  # empty path field: secure (empty prefix of TRUE)
        ".example.com\tFALSE\t/x/\tFALSE\t0\te\n"  # no value field: empty value
        "example.com\tFALSE\t/\tFALSE\t0\tf\t1\textra\n"  # eight fields: refused
        "example.com\tFALSE\t/\tFALSE\t\tg\t1\n"  # no expiry number: refused
        "example.com\tFALSE\t/\ttrue\t0\th\t1\n"
        "#HttpOnly_example.com\tFALSE\t/\tFALSE\t0\ti\t1\n"
        "..example.com\tTRUE\t/\tFALSE\t0\tj\t1\r\n"
        "example.com\tFALSE\t/\tFALSE\t0\t__Secure-k\t1\n"
        "example.com\tFALSE\t/\tFALSE\t0\t__secure-l\t1\n"
        f"example.com\tFALSE\t/\tFALSE\t{NOW - 1}\tm\t1\n"
        "Set-Cookie: n=1; domain=example.com\n"
        "set-cookie:o=1\n",
        now=NOW,
    )
    assert [c.netscape_line() for c in jar] == [
        "unknown\tFALSE\t/\tFALSE\t0\to\t1",  # no Domain, no host: bucket 0, never listed
        ".example.com\tTRUE\t/\tFALSE\t0\ta\t1",
        "example.com\tFALSE\t/\tFALSE\t0\tb\t1",
        "example.com\tFALSE\t/\tTRUE\t0\tc\t1",
        "example.com\tFALSE\t/\tTRUE\t0\td\t1",
        "example.com\tFALSE\t/x\tFALSE\t0\te\t",
        "example.com\tFALSE\t/\tTRUE\t0\th\t1",
        "#HttpOnly_example.com\tFALSE\t/\tFALSE\t0\ti\t1",
        ".example.com\tTRUE\t/\tFALSE\t0\tj\t1",
        "example.com\tFALSE\t/\tFALSE\t0\t__secure-l\t1",
        ".example.com\tTRUE\t/\tFALSE\t0\tn\t1",
    ]
    assert len(lines(jar)) == 10
    assert all(not c.live for c in jar)


def test_load_session_and_line_limits() -> None:
    text = f"{W}\tFALSE\t/\tFALSE\t0\ta\t1\n{W}\tFALSE\t/\tFALSE\t{NOW + 9}\tb\t1\n"
    jar = CookieJar()
    jar.load(text + "Set-Cookie: c=1\n", now=NOW, session=True)
    assert [c.name for c in jar] == ["b"]

    def loaded(length: int, tail: str = "\n") -> list[str]:
        jar = CookieJar()
        long = f"{W}\tFALSE\t/\tFALSE\t0\tlong\t"
        long += "x" * (length - len(long) - len(tail)) + tail
        try:
            jar.load(f"{W}\tFALSE\t/\tFALSE\t0\tz\t1\n" + long + text, now=NOW)
        except CurlError as exc:
            assert exc.code == E_TOO_LARGE
            return ["error", *(c.name for c in jar)]
        return [c.name for c in jar]

    assert loaded(5047) == ["z", "long", "a", "b"]
    assert loaded(5047, "\r\n") == ["z", "long", "a", "b"]
    assert loaded(5048) == ["error", "z"]  # what came before stays
    assert loaded(5048, "\r\n") == ["error", "z"]
    jar = CookieJar()
    jar.load(f"{W}\tFALSE\t/\tFALSE\t0\ta\t1\0zz\n{W}\tFALSE\t/\tFALSE\t0\tb\t1\n", now=NOW)
    assert len(jar) == 0  # the NUL cut the line, which then swallowed the next one


def test_cookielist_commands() -> None:
    jar = CookieJar()
    assert jar.cookielist("Set-Cookie: a=1; domain=example.com", now=NOW) is None
    assert jar.cookielist("set-cookie:b=1; domain=example.com; max-age=99", now=NOW) is None
    assert jar.cookielist(f"{W}\tFALSE\t/\tTRUE\t0\tc\t1", now=NOW) is None
    assert jar.cookielist("Set-Cookie: d=1", now=NOW) is None  # no domain: unlisted
    assert len(jar) == 4 and len(lines(jar)) == 3
    assert jar.cookielist("sess", now=NOW) is None
    assert [c.name for c in jar] == ["b"]
    assert jar.cookielist("Flush", now=NOW) == "FLUSH"
    assert jar.cookielist("RELOAD", now=NOW) == "RELOAD"
    assert jar.cookielist("ALL", now=NOW) is None
    assert len(jar) == 0 and repr(jar) == "<CookieJar cookies=0 session=0 domains=0>"


def test_hostless_cookies_go_to_bucket_zero() -> None:
    jar = CookieJar()
    jar.cookielist("Set-Cookie: x=1", now=NOW)
    assert jar.cookie_header("127.0.0.1", "/any", False, NOW) == "x=1"
    assert jar.cookie_header(W, "/", False, NOW) is None
    assert lines(jar) == [] and jar.dump(NOW) == JAR_HEADER


def test_repr_summarises() -> None:
    jar = jar_with("a=1", "b=1; max-age=9", "c=1; domain=example.com")
    assert repr(jar) == "<CookieJar cookies=3 session=2 domains=2>"


# -- against libcurl 8.23 ----------------------------------------------------------------------


@dataclass(frozen=True)
class Get:
    """One request: the Cookie header it carries is recorded, then `set_cookies` come back."""

    host: str
    path: str = "/"
    set_cookies: tuple[str, ...] = ()


@dataclass(frozen=True)
class Option:
    """A CURLOPT_COOKIELIST string."""

    line: str


@dataclass(frozen=True)
class Scenario:
    steps: tuple[Get | Option, ...]
    cookie_file: str | None = None  # CURLOPT_COOKIEFILE's content ("" option when None)
    session: bool = False  # CURLOPT_COOKIESESSION
    cookie: str | None = None  # CURLOPT_COOKIE


@dataclass
class Outcome:
    cookie_headers: list[str | None] = field(default_factory=list)
    listed: list[str] = field(default_factory=list)
    jar_file: str = ""


class CookieServer(HttpServer):
    """Answers each request with the Set-Cookie headers queued for it."""

    def __init__(self) -> None:
        super().__init__(builtin_routes=False)
        self.queued: list[str] = []

    def route(self, request: Request) -> Response:
        headers = [("Set-Cookie", value) for value in self.queued]
        self.queued = []
        return Response(headers=headers)


@pytest.fixture
def cookie_server() -> Iterator[CookieServer]:
    with CookieServer() as server:
        yield server


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def run_libcurl(server: CookieServer, scenario: Scenario, tmp_path: Path) -> Outcome:
    """The scenario through pycurl: COOKIEFILE (or ""), the steps, then COOKIEJAR + FLUSH."""
    out = Outcome()
    jar_path = tmp_path / "jar.txt"
    curl: Any = pycurl.Curl()
    try:
        curl.setopt(pycurl.WRITEFUNCTION, lambda data: None)
        if scenario.cookie_file is None:
            curl.setopt(pycurl.COOKIEFILE, "")
        else:
            cookie_file = tmp_path / "cookies.txt"
            cookie_file.write_bytes(scenario.cookie_file.encode("latin-1"))
            curl.setopt(pycurl.COOKIEFILE, str(cookie_file))
        if scenario.session:
            curl.setopt(pycurl.COOKIESESSION, 1)
        if scenario.cookie is not None:
            curl.setopt(pycurl.COOKIE, scenario.cookie)
        for step in scenario.steps:
            if isinstance(step, Option):
                curl.setopt(pycurl.COOKIELIST, step.line.encode("latin-1"))
                continue
            server.queued = list(step.set_cookies)
            host = _url_host(step.host)
            curl.setopt(pycurl.CONNECT_TO, [f"{host}:{server.port}:127.0.0.1:{server.port}"])
            curl.setopt(pycurl.URL, f"http://{host}:{server.port}{step.path}")
            before = len(server.requests)
            curl.perform()
            assert len(server.requests) == before + 1
            out.cookie_headers.append(server.requests[-1].header("cookie"))
        out.listed = [line.decode("latin-1") for line in curl.getinfo_raw(pycurl.INFO_COOKIELIST)]
        curl.setopt(pycurl.COOKIEJAR, str(jar_path))
        curl.setopt(pycurl.COOKIELIST, "FLUSH")
        out.jar_file = jar_path.read_bytes().decode("latin-1")
    finally:
        curl.close()
    return out


def run_jar(scenario: Scenario, now: int) -> Outcome:
    """What the engine does with a CookieJar for the same transfers (the ones libcurl makes)."""
    out = Outcome()
    jar = CookieJar()
    tally = SetCookieTally()  # libcurl counts against the handle's current request
    for step in scenario.steps:
        if isinstance(step, Option):
            action = jar.cookielist(step.line, now=now, tally=tally)
            if action == "RELOAD" and scenario.cookie_file is not None:
                jar.load(scenario.cookie_file, now=now, session=scenario.session, tally=tally)
            continue
        tally = SetCookieTally()
        if scenario.cookie_file is not None:  # libcurl reads the files at every transfer
            jar.load(scenario.cookie_file, now=now, session=scenario.session, tally=tally)
        path = step.path.partition("?")[0]
        secure = secure_context("http", step.host)
        out.cookie_headers.append(
            jar.cookie_header(step.host, path, secure, now, extra=scenario.cookie)
        )
        for value in step.set_cookies:
            # what followed "Set-Cookie:" on the wire: the blank and the CRLF
            jar.set_cookie(
                f" {value}\r\n", host=step.host, path=path, secure=secure, now=now, tally=tally
            )
    out.listed = jar.netscape_lines(now)
    out.jar_file = jar.dump(now)
    return out


def assert_same_as_libcurl(server: CookieServer, scenario: Scenario, tmp_path: Path) -> Outcome:
    for _ in range(5):
        before = int(time.time())
        theirs = run_libcurl(server, scenario, tmp_path)
        if int(time.time()) == before:  # libcurl's clock did not tick during the scenario
            break
    ours = run_jar(scenario, before)
    assert ours.cookie_headers == theirs.cookie_headers
    assert ours.listed == theirs.listed
    assert ours.jar_file == theirs.jar_file
    return theirs


def _future(days: int = 30) -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=days)


# hosts whose cookies land in different buckets: CURLINFO_COOKIELIST lists them by bucket
BUCKET_HOSTS = [
    ("a", "a.com"),
    ("b", "b.org"),
    ("c", "www.c.net"),
    ("d", "127.0.0.1"),
    ("e", "x.y.z.example.com"),
    ("f", "localhost"),
    ("g", "intranet"),
    ("h", "h.a.com"),
    ("i", "::1"),
    ("j", "ZZZ.example.COM"),
]

SCENARIOS: dict[str, Scenario] = {
    "default-path": Scenario(
        (
            Get(W, "/a/b/c?q=/x/y", ("a=1",)),
            Get(W, "/a/b/c"),
            Get(W, "/a/b"),
            Get(W, "/a"),
            Get(W, "/a/bc"),
            Get(W, "/a/", ("b=1",)),
            Get(W, "/a"),
            Get(W, "/", ("c=1",)),
            Get(W, "/x"),
        )
    ),
    "path-attribute": Scenario(
        (
            Get(
                W,
                "/p/q/r",
                (
                    "a=1; path=/",
                    "b=1; Path=/x/",
                    "c=1; path=x",
                    'd=1; path="/q/"',
                    "e=1; path=",
                    "f=1; path=/X",
                    'g=1; path=/q"',
                    'h=1; path="/q',
                    "i=1; path=/x; path=/x/y",
                ),
            ),
            Get(W, "/x"),
            Get(W, "/x/y/z"),
            Get(W, "/X/"),
            Get(W, "/q"),
            Get(W, "/qq"),
            Get(W, "/p/q/r"),
            Get(W, "/"),
        )
    ),
    "domain-attribute": Scenario(
        (
            Get(
                W,
                "/",
                (
                    "a=1; domain=example.com",
                    "b=1; domain=.example.com",
                    "c=1; domain=www.example.com",
                    "d=1; domain=EXAMPLE.com",
                    "e=1; domain=other.org",
                    "f=1; domain=com",
                    "g=1; domain=ample.com",
                    "h=1; domain=sub.www.example.com",
                    "i=1; domain=example.com.",
                    "j=1; domain=",
                    "k=1; domain",
                    "l=1; domain=.",
                    "m=1; domain=other.org; domain=example.com",
                    "n=1; domain=example.com; domain=other.org",
                ),
            ),
            Get(W),
            Get("example.com"),
            Get("sub.www.example.com"),
            Get("other.org"),
            Get("notexample.com"),
            Get("WWW.EXAMPLE.COM"),
        )
    ),
    "host-case": Scenario(
        (
            Get("WWW.Example.COM", "/", ("a=1", "b=1; domain=example.COM")),
            Get(W),
            Get("Example.com"),
        )
    ),
    "ip-hosts": Scenario(
        (
            Get(
                "127.0.0.1",
                "/",
                (
                    "a=1",
                    "b=1; domain=127.0.0.1",
                    "c=1; domain=0.0.1",
                    "d=1; domain=.127.0.0.1",
                    "e=1; domain=localhost",
                    "f=1; secure",
                    "__Host-g=1; secure; domain=127.0.0.1",
                ),
            ),
            Get("127.0.0.1"),
            Get("localhost"),
            Get("::1", "/", ("h=1", "i=1; secure")),
            Get("::1"),
            Get("127.0.0.1"),
        )
    ),
    "secure": Scenario(
        (
            Get(W, "/", ("a=1; secure", "b=1; Secure=yes", "c=1", "d=1; secure=")),
            Get("localhost", "/", ("s=1; secure", "t=1; SECURE; HttpOnly", "u=1")),
            Get("LocalHost", "/", ("v=1; secure",)),
            Get(W),
            Get("localhost"),
            Get("127.0.0.2", "/", ("w=1; secure", "x=1")),
            Get("127.0.0.2"),
        )
    ),
    "secure-overlay": Scenario(
        (
            Option(f"{W}\tFALSE\t/login\tTRUE\t0\ta\tsecure"),
            Get(
                W,
                "/",
                (
                    "a=2; path=/login/en",
                    "a=3; path=/loginhelper",
                    "a=4; path=/login",
                    "a=5; path=/",
                    "b=1; path=/login",
                    "a=6; path=/LOGIN",
                    "a=7; path=/login; domain=example.com",
                ),
            ),
            Get(W, "/login"),
            Get("localhost", "/", ("a=9; secure; path=/p", "a=10; path=/p/q")),
            Get("localhost", "/p/q"),
        )
    ),
    "replace-and-order": Scenario(
        (
            Get(W, "/p/x", ("a=1", "b=1", "cc=1")),
            Get(W, "/p/y", ("a=2",)),
            Get(W, "/p/z", ("a=3; domain=example.com", "b=2; path=/")),
            Get(W, "/", ("a=4; path=/p/", "d=1; domain=www.example.com")),
            Get(W, "/p/q"),
            Get("x.example.com", "/p"),
        )
    ),
    "delete": Scenario(
        (
            Get(W, "/", ("a=1", "b=1", "c=1; max-age=3600", "d=1")),
            Get(
                W,
                "/",
                (
                    "a=x; max-age=0",
                    "b=x; expires=Thu, 01 Jan 1970 00:00:01 GMT",
                    "c=x; max-age=-1",
                    "d=x; expires=Mon, 01 Jan 1900 00:00:00 GMT",
                    "e=x; max-age=0",
                ),
            ),
            Get(W),
        )
    ),
    "max-age": Scenario(
        (
            Get(
                W,
                "/",
                (
                    "a=1; max-age=100",
                    'b=1; max-age="100"',
                    "c=1; max-age=100x",
                    "d=1; max-age=abc",
                    "f=1; max-age=99999999999999999999999",
                    "h=1; max-age= 7 ",
                    "i=1; max-age=",
                    "j=1; max-age=40000000",
                    "k=1; max-age=50; expires=Fri, 31 Dec 9999 23:59:59 GMT",
                    "l=1; expires=Fri, 31 Dec 9999 23:59:59 GMT; max-age=50",
                    "m=1; expires=soon; expires=Fri, 31 Dec 9999 23:59:59 GMT",
                    "n=1; expires=Fri, 31 Dec 9999 23:59:59 GMT; expires=soon",
                ),
            ),
            Get(W),
        )
    ),
    "prefixes": Scenario(
        (
            Get(
                "localhost",
                "/",
                (
                    "__Secure-a=1",
                    "__Secure-b=1; secure",
                    "__secure-c=1",
                    "__Host-d=1; secure",
                    "__Host-e=1; secure; path=/x",
                    "__host-f=1",
                    "__Host-g=1; secure; path=/",
                    "x=1; __Secure-h=1",
                    "__Host-=1; secure",
                ),
            ),
            Get("localhost", "/x", ("__Host-i=1; secure",)),
            Get("localhost", "/x"),
        )
    ),
    "syntax": Scenario(
        (
            Get(
                W,
                "/",
                (
                    " a = 1 ",
                    "b=1=2",
                    'c="q"',
                    "d=",
                    "e",
                    "=f",
                    " g=1;;; path=/ ;",
                    "h=1; x\ty=2",
                    "i\t=1",
                    "j=a b c",
                    "k=1;httponly",
                    "l=1; SameSite=Strict; Version=1; Comment=hi",
                    "m=1; expires",
                    "n=1,o=2",
                    "p=1; \tpath=/;\t",
                    "q=1; domain=www.example.com\t",
                    "r=1; foo=\x01",
                    "s=1; \x01foo=x",
                    "t=\x7f",
                    "u=1; path=/x\ty",
                    "v=1\tw",
                    "w=é; x=ß",
                    "caf\xe9=1",
                    ";y=1",
                    "=;z=1",
                ),
            ),
            Get(W),
        )
    ),
    "sizes": Scenario(
        (
            Get(
                W,
                "/",
                (
                    "a=" + "v" * 4094,
                    "bb=" + "v" * 4094,
                    "ccc=" + "v" * 4094,
                    "d=" + "v" * 4095,
                    "e" * 4094 + "=v",
                    "f" * 4095 + "=v",
                    "g=1; path=/" + "x" * 4200,
                ),
            ),
            Get(W, "/", ("h=1; x=" + "y" * (4997 - 7),)),
            Get(W, "/", ("i=1; x=" + "y" * (4998 - 7),)),
            Get(W, "/", ("j=1; x=" + "y" * (4990 - 7) + " " * 8,)),
        )
    ),
    "fifty-per-request": Scenario(
        (
            Get(W, "/", tuple(f"c{i}=1" for i in range(55))),
            Option("Set-Cookie: z=1; domain=example.com"),
            Get(W, "/", ("d1=1", "d2=1")),
            Option("Set-Cookie: y=1; domain=example.com"),
        )
    ),
    "hundred-fifty-sent": Scenario(
        (
            Get(W, "/", tuple(f"a{i:02}=1" for i in range(50))),
            Get(W, "/", tuple(f"b{i:02}=1; path=/" for i in range(50))),
            Get(W, "/", tuple(f"c{i:02}=1; domain=example.com" for i in range(50))),
            Get(W, "/", tuple(f"d{i:02}=1" for i in range(10))),
            Get(W, "/", ("a00=again",)),
            Get(W),
        )
    ),
    "header-length": Scenario(
        (
            Get(W, "/", ("a=" + "x" * 4000, "b=" + "x" * 4000, "c=" + "x" * 170, "dd=1")),
            Get(W),
            Get(W, "/", ("c=" + "x" * 160,)),
            Get(W),
            Get(W, "/", ("c=" + "x" * 175,)),
            Get(W),
            Get("other.org"),
        ),
        cookie="user=1; u2=2",
    ),
    "buckets": Scenario(
        (
            *(Get(host, "/", (f"{name}=1",)) for name, host in BUCKET_HOSTS),
            Get("a.com"),
            Get("127.0.0.1"),
        )
    ),
    "cookielist": Scenario(
        (
            Option("Set-Cookie: a=1; domain=example.com"),
            Option("set-cookie:b=1; domain=example.com; path=/b; max-age=9999"),
            Option("Set-Cookie:\tc=1; domain=example.com; secure; httponly"),
            Option(f"{W}\tFALSE\t/\tFALSE\t0\td\t1"),
            Option(f"#HttpOnly_.{W}\tTRUE\t/\tTRUE\t0\te\t1"),
            Option("Set-Cookie: f=1"),
            Option("Set-Cookie: g=1; domain=com"),
            Option("Set-Cookie: h=1; domain=other.org"),
            Option("example.com\tFALSE\t/\tFALSE\t0\t__Secure-i\t1"),
            Get(W, "/b"),
            Get("127.0.0.1"),
            Option("sess"),
            Get(W, "/b"),
            Option("ALL"),
            Get(W, "/b"),
            Option("Set-Cookie: j=1; domain=example.com"),
            Get(W),
        )
    ),
    "file": Scenario(
        (
            Get(W, "/", ("live=1", "a=live")),
            Get(W),
            Option("RELOAD"),
            Get(W, "/", ("f1=x; max-age=0",)),
            Get(W),
            Get("example.com"),
            Get("localhost"),
        ),
        cookie_file=(
            "# Netscape HTTP Cookie File\n"
            f"{W}\tFALSE\t/\tFALSE\t0\ta\tfile\n"
            f".example.com\tTRUE\t/\tFALSE\t0\tf1\t1\n"
            f"#HttpOnly_{W}\tFALSE\t/\tFALSE\t2000000000\tf2\t1\n"
            f"{W}\tFALSE\t/\tTRUE\t0\tf3\t1\n"
            "localhost\tFALSE\tTRUE\t0\tf4\t1\n"
            f"{W}\tT\t/\tFALSE\t0\tf5\r\n"
            f"{W}\tFALSE\t/\tFALSE\t1\texpired\t1\n"
            "Set-Cookie: f6=1; domain=example.com\n"
            "  set-cookie:   f7=1; domain=example.com\n"
            "Set-Cookie: f8=1\n"
            f"{W}\tFALSE\t/\tFALSE\t0\tf9\t1"
        ),
    ),
    "file-session": Scenario(
        (Get(W), Get(W, "/", ("s=1",)), Option("SESS"), Get(W)),
        cookie_file=(
            f"{W}\tFALSE\t/\tFALSE\t0\ta\t1\n"
            f"{W}\tFALSE\t/\tFALSE\t2000000000\tb\t1\n"
            "Set-Cookie: c=1; domain=example.com\n"
            "Set-Cookie: d=1; domain=example.com; expires=Fri, 31 Dec 9999 23:59:59 GMT\n"
        ),
        session=True,
    ),
    "file-longest-line": Scenario(
        (Get(W),),
        cookie_file=(
            f"{W}\tFALSE\t/\tFALSE\t0\ta\t1\n"
            f"{W}\tFALSE\t/\tFALSE\t0\tlong\t{'x' * (5047 - 38)}\n"
            f"{W}\tFALSE\t/\tFALSE\t0\tb\t1"
        ),
    ),
    "overlay-related-domains": Scenario(
        (
            Option(f"{W}\tFALSE\t/login\tTRUE\t0\ta\tsecure"),
            Option("x.example.com\tFALSE\t/login\tTRUE\t0\tb\tsecure"),
            Option(".example.com\tTRUE\t/p\tTRUE\t0\tc\tsecure"),
            Get(
                W,
                "/",
                (
                    "a=1; path=/login; domain=example.com",
                    "b=1; path=/login",
                    "b=2; path=/login; domain=example.com",
                    "c=1; path=/p",
                    "c=2; path=/p; domain=www.example.com",
                ),
            ),
            Get("sub.www.example.com", "/", ("a=3; path=/login",)),
            Get("y.example.com", "/", ("a=4; path=/login",)),
            Get(W, "/login"),
            Get("y.example.com", "/login"),
        )
    ),
    "replace-identity": Scenario(
        (
            Get(
                W,
                "/",
                (
                    "a=1; path=/x",
                    "a=2; path=/X",
                    "b=1; domain=example.com",
                    "b=2; domain=EXAMPLE.COM",
                    "A=1",
                    "a=3",
                    "c=1; domain=www.example.com",
                    "c=2",
                ),
            ),
            Get(W, "/x"),
        )
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_same_as_libcurl(cookie_server: CookieServer, tmp_path: Path, name: str) -> None:
    assert_same_as_libcurl(cookie_server, SCENARIOS[name], tmp_path)


DATE_FORMATS = [
    "%a, %d %b %Y %H:%M:%S GMT",
    "%A, %d-%b-%y %H:%M:%S GMT",
    "%a %b %e %H:%M:%S %Y",
    "%d %b %Y %H:%M:%S GMT",
    "%d-%b-%y %H:%M:%S",
    "%Y %b %d %H:%M:%S",
    "GMT %H:%M:%S %d-%b-%y %A",
    "%y %d %b %H:%M:%S",
    "%Y %b %d",
    "%d-%b-%y",
    "%a %b %d %y",
    "%Y.%b.%d",
    "%a/%b/%d/%y/GMT",
    "%a, %d %b %Y %H:%M:%S CET",
    "%d %b %Y %H:%M:%S EST",
    "%a, %d %b %Y %H:%M:%S -0700",
    "%a, %d %b %Y %H:%M:%S +0200",
    "%a, %d %b %Y %H:%M:%S +1400",
    "%a, %d %b %Y %H:%M:%S +1500",
    "%Y%m%d %H:%M:%S -0700",
    "%Y%m%d +0200",
    "%a, %d %b %Y %H:%M GMT",
    "%a, %d %b %Y %H:%M:%S gmt",
    "%a, %d %b %Y %H:%M:%S A",
    "%a, %d %b %Y %H:%M:%S Z",
    "%a, %d %b %Y %H:%M:%S J",
    "%a, %d %b %Y %H:%M:%S UT",
    "%a, %d %b %Y %H:%M:%S NZDT",
    "%a, %d %b %Y %H:%M:%S MESZ",
    "%a, %d %B %Y %H:%M:%S GMT",
    "%a, %d %b %Y %H:%M:%S XYZ",
    "%a, %d %b %Y 24:00:00 GMT",
    "%a, %d %b %Y %H:%M:%S GMT trailing words",
    "%a,%d%b%Y",
    "%A %B",
    "%d %b %Y %H:%M:%S.123 GMT",
    "%a, %d %b %Y %H:%M:%S GMT+0100",
    "%a, %d %b %Y %H:%M:%S (UTC)",
    "%s",
]


def test_expires_formats_same_as_libcurl(cookie_server: CookieServer, tmp_path: Path) -> None:
    when = _future()
    values = tuple(f"c{i}=1; expires={when.strftime(fmt)}" for i, fmt in enumerate(DATE_FORMATS))
    outcome = assert_same_as_libcurl(cookie_server, Scenario((Get(W, "/", values),)), tmp_path)
    session = [line for line in outcome.listed if line.split("\t")[4] == "0"]
    assert 5 < len(session) < len(DATE_FORMATS) - 20  # both kinds were exercised


def test_file_line_too_long_fails_the_transfer(cookie_server: CookieServer, tmp_path: Path) -> None:
    text = (
        f"{W}\tFALSE\t/\tFALSE\t0\ta\t1\n"
        f"{W}\tFALSE\t/\tFALSE\t0\tlong\t{'x' * (5048 - 38)}\n"
        f"{W}\tFALSE\t/\tFALSE\t0\tb\t1\n"
    )
    cookie_file = tmp_path / "cookies.txt"
    cookie_file.write_text(text)
    curl: Any = pycurl.Curl()
    try:
        curl.setopt(pycurl.COOKIEFILE, str(cookie_file))
        curl.setopt(pycurl.URL, cookie_server.url("/"))
        with pytest.raises(pycurl.error) as failure:
            curl.perform()
        theirs = [line.decode("latin-1") for line in curl.getinfo_raw(pycurl.INFO_COOKIELIST)]
    finally:
        curl.close()
    jar = CookieJar()
    with pytest.raises(CurlError) as ours:
        jar.load(text, now=int(time.time()))
    assert failure.value.args[0] == ours.value.code == E_TOO_LARGE
    assert theirs == jar.netscape_lines(int(time.time())) == [f"{W}\tFALSE\t/\tFALSE\t0\ta\t1"]


def test_known_divergences_from_the_libpsl_build(
    cookie_server: CookieServer, tmp_path: Path
) -> None:
    """pycurl's libcurl has libpsl; this module is libcurl without it (`bad_domain`)."""
    scenario = Scenario(
        (
            Get("www.example.co.uk", "/", ("a=1; domain=co.uk",)),
            Get("localhost", "/", ("b=1; domain=localhost",)),
            Get("::1", "/", ("c=1; domain=::1",)),
        )
    )
    theirs = run_libcurl(cookie_server, scenario, tmp_path).listed
    ours = run_jar(scenario, int(time.time())).listed
    assert theirs == ["::1\tFALSE\t/\tFALSE\t0\tc\t1", "localhost\tFALSE\t/\tFALSE\t0\tb\t1"]
    assert ours == [".co.uk\tTRUE\t/\tFALSE\t0\ta\t1", ".localhost\tTRUE\t/\tFALSE\t0\tb\t1"]


# -- Hypothesis --------------------------------------------------------------------------------

LATIN1 = st.characters(min_codepoint=0, max_codepoint=255)
FRAGMENTS = st.sampled_from(
    [
        "a",
        "b",
        "x",
        "=",
        ";",
        " ",
        "\t",
        '"',
        ".",
        "/",
        "0",
        "-1",
        "99999999999999999999",
        "secure",
        "Secure",
        "httponly",
        "path",
        "path=/",
        "domain",
        "domain=example.com",
        "domain=.example.com",
        "domain=com",
        "max-age",
        "max-age=0",
        "expires",
        "expires=Wed, 09 Jun 2027 10:18:14 GMT",
        "__Secure-",
        "__Host-",
        "\x01",
        "é",
    ]
)
SET_COOKIE = st.one_of(st.text(LATIN1, max_size=200), st.lists(FRAGMENTS, max_size=14).map("".join))


@settings(max_examples=300, deadline=None)
@given(
    value=SET_COOKIE,
    host=st.sampled_from([W, "localhost", "127.0.0.1", "::1", "", "x"]),
    path=st.text(LATIN1, max_size=20),
    secure=st.booleans(),
    now=st.integers(-(2**40), 2**40),
)
def test_set_cookie_never_raises(value: str, host: str, path: str, secure: bool, now: int) -> None:
    jar = CookieJar()
    cookie = jar.set_cookie(value, host=host, path=path, secure=secure, now=now)
    if cookie is not None:
        assert cookie.name and not any(ch < " " for ch in cookie.name + cookie.value)
        assert cookie.secure <= secure and cookie.path is not None and cookie.path[0] == "/"
        assert list(jar) == [cookie] or 0 < cookie.expires < now
    assert jar.dump(now).startswith(JAR_HEADER)
    jar.cookie_header(host, path, secure, now)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(LATIN1, max_size=100), st.lists(FRAGMENTS, max_size=12).map(" ".join)))
def test_parse_date_never_raises(text: str) -> None:
    result = parse_date(text)
    assert result is None or isinstance(result, int)


FILE_TEXT = st.one_of(
    st.text(LATIN1, max_size=400),
    st.lists(
        st.sampled_from(
            [
                f"{W}\tFALSE\t/\tFALSE\t0\ta\t1",
                ".example.com\tTRUE\t/x\tTRUE\t2000000000\tb\t",
                "#HttpOnly_localhost\tFALSE\t/\tFALSE\t0\tc\t1",
                "Set-Cookie: d=1; domain=example.com",
                "# comment",
                "x" * 5100,
                "\0",
                "",
            ]
        ),
        max_size=8,
    ).map("\n".join),
)


@settings(max_examples=200, deadline=None)
@given(FILE_TEXT, st.booleans())
def test_load_and_cookielist_raise_only_too_large(text: str, session: bool) -> None:
    jar = CookieJar()
    for data in (text, text.encode("latin-1")):
        try:
            jar.load(data, now=NOW, session=session)
        except CurlError as exc:
            assert exc.code == E_TOO_LARGE
            assert any(len(line) >= 5047 for line in text.split("\n"))
    for line in text.splitlines()[:5]:
        jar.cookielist(line, now=NOW)
    jar.netscape_lines(NOW)
    CookieJar().load(jar.dump(NOW), now=NOW)  # a saved jar always loads


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.integers(-5, 30), st.sampled_from("abcdef")),
        max_size=30,
    )
)
def test_sweeps_remove_exactly_the_expired(ops: list[tuple[int, int, str]]) -> None:
    jar = CookieJar()
    for at, max_age, name in ops:  # time may go back and forth, as libcurl's wall clock can
        now = NOW + at
        jar.set_cookie(f"{name}=1; max-age={max_age}", host=W, path="/", secure=False, now=now)
        jar.remove_expired(now)
        assert all(not 0 < c.expires < now for c in jar)
        assert len(jar) == len(list(jar)) == len({c.name for c in jar})


def _cookielist_both(lines_in: Sequence[str]) -> tuple[list[str], Callable[[int], list[str]]]:
    curl: Any = pycurl.Curl()
    try:
        for line in lines_in:
            curl.setopt(pycurl.COOKIELIST, line.encode("latin-1"))
        theirs = [b.decode("latin-1") for b in curl.getinfo_raw(pycurl.INFO_COOKIELIST)]
    finally:
        curl.close()

    def ours(now: int) -> list[str]:
        jar = CookieJar()
        tally = SetCookieTally()
        for line in lines_in:
            jar.cookielist(line, now=now, tally=tally)
        return jar.netscape_lines(now)

    return theirs, ours


def _has_dotless_domain(header: str) -> bool:
    """A Domain attribute that libcurl without libpsl refuses for having no inner dot."""
    for attribute in header.split(";")[1:]:
        name, equals, value = attribute.partition("=")
        value = value.strip(" \t")
        value = value[1:] if value.startswith(".") else value
        if equals and name.strip(" \t").lower() == "domain" and value:
            dot = value.find(".")
            if value.lower() != "localhost" and not 0 <= dot < len(value) - 1:
                return True
    return False


NETSCAPE_FIELD = st.one_of(
    st.sampled_from(["TRUE", "FALSE", "T", "", "/", "/x/", "0", "2000000000", "12x", "true"]),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=6),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.lists(FRAGMENTS, max_size=10).map("".join),
    domain=st.sampled_from(["", "; domain=example.com", "; domain=.Example.com", ";domain=a.b"]),
    fields=st.lists(NETSCAPE_FIELD, min_size=5, max_size=8),
    prefix=st.sampled_from(["example.com", ".example.com", "#HttpOnly_example.com", "#x", ""]),
)
def test_cookielist_lines_same_as_libcurl(
    header: str, domain: str, fields: list[str], prefix: str
) -> None:
    # Without a host there is no public-suffix check, so the libpsl build takes any Domain
    # here; libcurl without libpsl (this module) refuses a dotless one (bad_domain).
    assume(not _has_dotless_domain(header + domain))
    lines_in = ["Set-Cookie: " + header + domain, "\t".join([prefix, *fields])]
    before = int(time.time())
    theirs, ours = _cookielist_both(lines_in)
    assert theirs in (ours(before), ours(before + 1))


HOSTS = st.sampled_from([W, "example.com", "sub.www.example.com", "localhost", "127.0.0.1"])
PATHS = st.sampled_from(["/", "/a", "/a/", "/a/b", "/A/b?x=/y", "/ab"])
HEADER_FRAGMENTS = FRAGMENTS.filter(lambda f: f not in ("\x01", "é")) | st.sampled_from(
    [
        "path=/a",
        "path=/a/b/",
        'path="/a"',
        "domain=www.example.com",
        "domain=sub.www.example.com",
        "domain=127.0.0.1",
        "max-age=9",
        "expires=Thu, 01 Jan 1970 00:00:01 GMT",
    ]
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            HOSTS, PATHS, st.lists(st.lists(HEADER_FRAGMENTS, max_size=9).map("".join), max_size=3)
        ),
        min_size=1,
        max_size=4,
    )
)
def test_random_responses_same_as_libcurl(
    cookie_server: CookieServer, gets: list[tuple[str, str, list[str]]]
) -> None:
    steps = tuple(
        Get(host, path, tuple(v for v in values if v.strip())) for host, path, values in gets
    )
    with tempfile.TemporaryDirectory() as tmp:
        assert_same_as_libcurl(cookie_server, Scenario((*steps, Get(W, "/a/b"))), Path(tmp))
