"""URL parsing as libcurl 8 does it: lib/urlapi.c through CURLOPT_URL, and redirects (Curl_follow).

Each table row is one rule of urlapi.c; the expected strings were checked against libcurl's
8.23 (pycurl 7.49.0's bundled libcurl): CURLINFO_EFFECTIVE_URL after a transfer, the error of
`perform()`, and the request line a local server received. The oracle tests at the end of this
file run the same comparison against that library when it is installed (else they skip).
"""

from __future__ import annotations

import ctypes
import dataclasses
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from purecurl._codes import (
    E_LOGIN_DENIED,
    E_UNSUPPORTED_PROTOCOL,
    E_URL_MALFORMAT,
)
from purecurl._errors import CurlError
from purecurl.proto import url as urlmod
from purecurl.proto.url import (
    MAX_INPUT_LENGTH,
    Url,
    check_scheme,
    default_port,
    parse_url,
    resolve_reference,
)

MALFORMED = "URL rejected: Malformed input to a URL function"
BAD_PORT = "URL rejected: Port number was not a decimal number between 0 and 65535"
BAD_HOST = "URL rejected: Bad hostname"
BAD_IPV6 = "URL rejected: Bad IPv6 address"
NO_HOST = "URL rejected: No host present"
BAD_PATH = "URL rejected: Bad path"
BAD_QUERY = "URL rejected: Bad query"
BAD_FRAGMENT = "URL rejected: Bad fragment"
BAD_USER = "URL rejected: Bad user"
BAD_PASSWORD = "URL rejected: Bad password"
BACKSLASH = "URL rejected: Found a backslash where a forward slash was expected"
BAD_FILE = "URL rejected: Bad file:// URL"
BAD_SLASHES = "URL rejected: Unsupported number of slashes following scheme"


def test_common_case_fields() -> None:
    u = parse_url("http://127.0.0.1:8080/path?x=1#frag")
    assert u == Url(
        scheme="http",
        user=None,
        password=None,
        host="127.0.0.1",
        zone=None,
        port=8080,
        explicit_port=True,
        path="/path",
        query="x=1",
        fragment="frag",
        is_ipv6=False,
    )
    assert u.target() == "/path?x=1"
    assert u.host_header() == "127.0.0.1:8080"
    assert u.authority() == "127.0.0.1:8080"


# (input, effective URL) for inputs libcurl accepts.
NORMALISED = [
    # Scheme guessing (CURLU_GUESS_SCHEME): a host-name prefix picks the scheme, else http.
    ("x", "http://x/"),
    ("example.com/a", "http://example.com/a"),
    ("ftp.example.com", "ftp://ftp.example.com/"),
    ("FTP.example.com", "ftp://FTP.example.com/"),
    ("dict.x", "dict://dict.x/"),
    ("ldap.x", "ldap://ldap.x/"),
    ("imap.x", "imap://imap.x/"),
    ("smtp.x", "smtp://smtp.x/"),
    ("pop3.x", "pop3://pop3.x/"),
    ("www.ftp.x", "http://www.ftp.x/"),
    ("x:8080/p", "http://x:8080/p"),
    # The scheme is lower-cased; the host keeps its case, as libcurl keeps it.
    ("HTTP://Example.COM/", "http://Example.COM/"),
    # One to three slashes after the scheme.
    ("http:/x", "http://x/"),
    ("http:///x", "http://x/"),
    # Unknown schemes parse (CURLU_NON_SUPPORT_SCHEME); the scheme check comes later.
    ("foo://x/", "foo://x/"),
    ("foo:/x", "foo://x/"),
    # Empty path is "/", query before path, fragment kept in the effective URL.
    ("http://h", "http://h/"),
    ("http://h?x", "http://h/?x"),
    ("http://h#f", "http://h/#f"),
    # An empty fragment's "#" and an empty query's "?" stay (url.c uses CURLU_GET_EMPTY).
    ("http://h/#", "http://h/#"),
    ("http://h/?", "http://h/?"),
    ("http://h?#", "http://h/?#"),
    # Credentials are not in the effective URL of libcurl 8.23.
    ("http://u:p@h/", "http://h/"),
    ("http://@h/", "http://h/"),
    ("http://:@h/", "http://h/"),
    ("http://u%40x:p%3A@h/", "http://h/"),
    ("http://u:p:q@h/", "http://h/"),
    # Ports: leading zeros dropped, explicit default kept, empty port means the default.
    ("http://h:0080/", "http://h:80/"),
    ("http://h:80/", "http://h:80/"),
    ("http://h:/", "http://h/"),
    ("http://h:0/", "http://h:0/"),
    ("http://h:65535/", "http://h:65535/"),
    # IPv4 forms are rewritten as a dotted quad (ipv4_normalize).
    ("http://127.1/", "http://127.0.0.1/"),
    ("http://0x7f.1/", "http://127.0.0.1/"),
    ("http://2130706433/", "http://127.0.0.1/"),
    ("http://0177.0.0.1/", "http://127.0.0.1/"),
    ("http://0X7F000001/", "http://127.0.0.1/"),
    ("http://1.2.65535/", "http://1.2.255.255/"),
    ("http://1.16777215/", "http://1.255.255.255/"),
    ("http://4294967295/", "http://255.255.255.255/"),
    # ... and what is not one is a host name.
    ("http://08/", "http://08/"),
    ("http://0x/", "http://0x/"),
    ("http://4294967296/", "http://4294967296/"),
    ("http://1.2.3.4.5/", "http://1.2.3.4.5/"),
    ("http://1.2.3.256/", "http://1.2.3.256/"),
    ("http://256.1/", "http://256.1/"),
    ("http://1.2.3.4./", "http://1.2.3.4/"),
    ("http://127.1./", "http://127.0.0.1/"),
    ("http://01./", "http://0.0.0.1/"),
    ("http://%31.2.3.%34/", "http://1.2.3.4/"),
    ("http://h./", "http://h./"),
    ("http://a..b/", "http://a..b/"),
    # A trailing dot stays.
    ("http://x./", "http://x./"),
    # %XX in a host name is decoded.
    ("http://ex%41mple.com/", "http://exAmple.com/"),
    # IPv6: canonical form from inet_ntop, zone id after "%25" (or a bare "%").
    ("http://[0:0:0:0:0:0:0:1]/", "http://[::1]/"),
    ("http://[0::1]:8/", "http://[::1]:8/"),
    ("http://[fe80::1%25eth0]:8/", "http://[fe80::1%25eth0]:8/"),
    ("http://[fe80::1%eth0]/", "http://[fe80::1%25eth0]/"),
    ("http://[::1%2525]/", "http://[::1%2525]/"),
    ("http://[::1%25%41b]/", "http://[::1%25Ab]/"),
    ("http://[::1%2]/", "http://[::1%252]/"),
    ("http://[::1%25abcdefghijklmno]/", "http://[::1%25abcdefghijklmno]/"),
    ("http://[::ffff:1.2.3.4]/", "http://[::ffff:1.2.3.4]/"),
    # inet_ntop writes into a buffer the size of the address as written: a canonical form
    # that is not shorter does not fit, and the address stays as given.
    ("http://[::A]/", "http://[::a]/"),
    ("http://[::1A]/", "http://[::1a]/"),
    ("http://[::FFFF:0:1]/", "http://[::FFFF:0:1]/"),
    # Paths: percent-encoding untouched, dot segments removed (RFC 3986 section 5.2.4).
    ("http://h/%7e%7E%2F", "http://h/%7e%7E%2F"),
    ("http://h/a/../b", "http://h/b"),
    ("http://h/a/./b/.", "http://h/a/b/"),
    ("http://h/a/b/..", "http://h/a/"),
    ("http://h/../../x", "http://h/x"),
    ("http://h/..//x", "http://h//x"),
    ("http://h/.hidden/..x/...", "http://h/.hidden/..x/..."),
    # "%2e" is a dot to dot-segment removal; the path keeps its other %xx as given.
    ("http://h/a/%2e%2e/b", "http://h/b"),
    ("http://h/a/.%2E/b", "http://h/b"),
    ("http://h/a/x%2E./b", "http://h/a/x%2E./b"),
    ("http://h/a/..%2fb", "http://h/a/..%2fb"),
    ("http://h/%2f%aa?%2f", "http://h/%2f%aa?%2f"),
    ("http://h/a?b/../c", "http://h/a?b/../c"),
    # Non-ASCII bytes pass (a bytes URL decoded as latin-1).
    ("http://h/\xe9", "http://h/\xe9"),
    ("http://\xe9.com/", "http://\xe9.com/"),
    # file: URLs: empty host, "localhost" or "127.0.0.1"; the query is not printed.
    ("file:///etc/passwd", "file:///etc/passwd"),
    ("file:/etc/passwd", "file:///etc/passwd"),
    ("file://localhost/etc", "file:///etc"),
    ("file://LOCALHOST/etc", "file:///etc"),
    ("file://127.0.0.1/etc", "file:///etc"),
    ("file:///a/../b?q#f", "file:///b?q#f"),
]


@pytest.mark.parametrize(("given", "effective"), NORMALISED)
def test_normalised_url(given: str, effective: str) -> None:
    u = parse_url(given)
    assert u.url() == effective
    # The normalised form is a fixed point.
    assert parse_url(u.url()).url() == effective


# (input, CURLcode, message) for inputs libcurl refuses.
REJECTED = [
    ("", E_URL_MALFORMAT, MALFORMED),
    # junkscan(): controls and (without CURLU_ALLOW_SPACE) spaces anywhere.
    # libcurl 8.23 refuses a control byte or space in the part that holds it, checking user,
    # password, port, host, then fragment, query, path: the first bad part names the error.
    ("http://h/a b", E_URL_MALFORMAT, BAD_PATH),
    ("http://h/?a b", E_URL_MALFORMAT, BAD_QUERY),
    ("http://h/\r\n", E_URL_MALFORMAT, BAD_PATH),
    ("http://h/\x00", E_URL_MALFORMAT, MALFORMED),
    ("http://h/\x7f", E_URL_MALFORMAT, BAD_PATH),
    ("http://h/\t", E_URL_MALFORMAT, BAD_PATH),
    ("http://a b/", E_URL_MALFORMAT, BAD_HOST),
    ("http://h/#a b", E_URL_MALFORMAT, BAD_FRAGMENT),
    ("http://u\x01:p@h/", E_URL_MALFORMAT, BAD_USER),
    ("http://u:p @h/", E_URL_MALFORMAT, BAD_PASSWORD),
    ("http://h\x01:8 /", E_URL_MALFORMAT, BAD_PORT),
    ("http://h/p q?a b", E_URL_MALFORMAT, BAD_QUERY),
    ("http://h/p q#a b", E_URL_MALFORMAT, BAD_FRAGMENT),
    ("http://h\x01/p q", E_URL_MALFORMAT, BAD_HOST),
    ("ht\x01tp://h/", E_URL_MALFORMAT, BAD_PORT),
    # A scheme is only a scheme before "/": "http:\\h" is host "http" with a bad port.
    ("http:\\\\h/", E_URL_MALFORMAT, BACKSLASH),
    ("http://h:8\\/", E_URL_MALFORMAT, BACKSLASH),
    ("http://h:8x\\", E_URL_MALFORMAT, BAD_PORT),
    ("http://h:65536\\", E_URL_MALFORMAT, BAD_PORT),
    ("http://h\\x/", E_URL_MALFORMAT, BAD_HOST),
    # Host names: "|", a lone ".", a name ending in "..", a bad or control %XX.
    ("http://h|/", E_URL_MALFORMAT, BAD_HOST),
    ("http://./", E_URL_MALFORMAT, BAD_HOST),
    ("http://h../", E_URL_MALFORMAT, BAD_HOST),
    ("http://1.2.3.4../", E_URL_MALFORMAT, BAD_HOST),
    ("http://%2e/", E_URL_MALFORMAT, BAD_HOST),
    ("http://h%zz/", E_URL_MALFORMAT, BAD_HOST),
    ("http://%7f/", E_URL_MALFORMAT, BAD_HOST),
    # IPv6 zone ids: decoded, 1 to 15 unreserved characters; a control byte is a bad host.
    ("http://[::1%25]/", E_URL_MALFORMAT, BAD_IPV6),
    ("http://[::1%25eeeeeeeeeeeeeeee]/", E_URL_MALFORMAT, BAD_IPV6),
    ("http://[::1%25e:x]/", E_URL_MALFORMAT, BAD_IPV6),
    ("http://[::1%25e%01]/", E_URL_MALFORMAT, BAD_HOST),
    ("http://[::1\t]/", E_URL_MALFORMAT, BAD_IPV6),
    # "No host present" comes before the port is looked at.
    ("http://u@:x/", E_URL_MALFORMAT, NO_HOST),
    # Ports.
    ("http://h:65536/", E_URL_MALFORMAT, BAD_PORT),
    ("http://h:-1/", E_URL_MALFORMAT, BAD_PORT),
    ("http://h:+1/", E_URL_MALFORMAT, BAD_PORT),
    ("http://h:8x/", E_URL_MALFORMAT, BAD_PORT),
    ("http://h:0x50/", E_URL_MALFORMAT, BAD_PORT),
    ("http://h:\u0661/", E_URL_MALFORMAT, BAD_PORT),
    ("http://h:1:2/", E_URL_MALFORMAT, BAD_PORT),
    ("http://h:99999999999999999999999/", E_URL_MALFORMAT, BAD_PORT),
    ("http://[::1]x/", E_URL_MALFORMAT, BAD_PORT),
    # Without a scheme "x:" is not a host with an empty port ("foo:" is not a host name).
    ("h:", E_URL_MALFORMAT, BAD_PORT),
    ("foo:x", E_URL_MALFORMAT, BAD_PORT),
    # Host names.
    ("http://a@b@c/", E_URL_MALFORMAT, BAD_HOST),
    ("http://a!b/", E_URL_MALFORMAT, BAD_HOST),
    ("http://a_b{}/", E_URL_MALFORMAT, BAD_HOST),
    ("http://a%zzb/", E_URL_MALFORMAT, BAD_HOST),
    ("http://a%25b/", E_URL_MALFORMAT, BAD_HOST),
    ("http://a%20b/", E_URL_MALFORMAT, BAD_HOST),
    ("http://a%0ab/", E_URL_MALFORMAT, BAD_HOST),
    ("http://a]b/", E_URL_MALFORMAT, BAD_HOST),
    # IPv6.
    ("http://[::1/", E_URL_MALFORMAT, BAD_IPV6),
    ("http://[::g]/", E_URL_MALFORMAT, BAD_IPV6),
    ("http://[:]/", E_URL_MALFORMAT, BAD_IPV6),
    ("http://[1:2:3:4:5:6:7:8:9]/", E_URL_MALFORMAT, BAD_IPV6),
    ("http://[::1%25]x/", E_URL_MALFORMAT, BAD_PORT),
    ("http://[::1%]/", E_URL_MALFORMAT, BAD_IPV6),
    ("http://[::1%25abcdefghijklmnop]/", E_URL_MALFORMAT, BAD_IPV6),
    ("http://[::1x%25eth0]/", E_URL_MALFORMAT, BAD_IPV6),
    # No host.
    ("http://", E_URL_MALFORMAT, NO_HOST),
    ("http:///", E_URL_MALFORMAT, NO_HOST),
    ("http://:80/", E_URL_MALFORMAT, NO_HOST),
    ("http://u@/", E_URL_MALFORMAT, NO_HOST),
    ("http://?q", E_URL_MALFORMAT, NO_HOST),
    ("/path", E_URL_MALFORMAT, NO_HOST),
    # Slashes after the scheme: 1 to 3.
    ("http:////x/", E_URL_MALFORMAT, BAD_SLASHES),
    # file: URLs.
    ("file:/", E_URL_MALFORMAT, BAD_FILE),
    ("file://", E_URL_MALFORMAT, BAD_FILE),
    ("file://host/x", E_URL_MALFORMAT, BAD_FILE),
    ("file:///c:/x", E_URL_MALFORMAT, BAD_FILE),
    ("file://c|/x", E_URL_MALFORMAT, BAD_FILE),
]


@pytest.mark.parametrize(("given", "code", "message"), REJECTED)
def test_rejected(given: str, code: int, message: str) -> None:
    with pytest.raises(CurlError) as info:
        parse_url(given)
    assert (info.value.code, info.value.message) == (code, message)


def test_too_long_url_is_malformed() -> None:
    # CURL_MAX_INPUT_LENGTH, junkscan().
    url = "http://h/" + "a" * (MAX_INPUT_LENGTH - 8)
    with pytest.raises(CurlError) as info:
        parse_url(url)
    assert (info.value.code, info.value.message) == (E_URL_MALFORMAT, MALFORMED)


def test_too_long_hostname() -> None:
    # lib/url.c: MAX_URL_LEN.
    with pytest.raises(CurlError) as info:
        parse_url("http://" + "a" * 65536 + "/")
    assert info.value.code == E_URL_MALFORMAT
    assert info.value.message == "Too long hostname (maximum is 65535)"
    assert parse_url("http://" + "a" * 65535 + "/").host == "a" * 65535


def test_fields_of_ipv6_with_zone() -> None:
    u = parse_url("http://[FE80:0::1%25eth0]:8080/x")
    assert (u.host, u.zone, u.is_ipv6, u.port) == ("fe80::1", "eth0", True, 8080)
    assert u.host_header() == "[fe80::1]:8080"
    assert u.authority() == "[fe80::1]:8080"
    assert parse_url("https://[::1]/").host_header() == "[::1]"


def test_credentials_fields() -> None:
    u = parse_url("http://us%65r:p%40ss@h/")
    assert (u.user, u.password) == ("us%65r", "p%40ss")
    u = parse_url("http://user@h/")
    assert (u.user, u.password) == ("user", None)
    u = parse_url("http://h/")
    assert (u.user, u.password) == (None, None)


def test_disallow_user() -> None:
    # CURLOPT_DISALLOW_USERNAME_IN_URL: CURLUE_USER_NOT_ALLOWED -> CURLE_LOGIN_DENIED.
    with pytest.raises(CurlError) as info:
        parse_url("http://@h/", disallow_user=True)
    assert info.value.code == E_LOGIN_DENIED
    assert info.value.message == "URL rejected: Credentials was passed in the URL when prohibited"
    assert parse_url("http://h/", disallow_user=True).user is None


def test_path_as_is() -> None:
    assert parse_url("http://h/a/../b", path_as_is=True).path == "/a/../b"
    assert parse_url("http://h/a/../b").path == "/b"


def test_ports_and_host_header() -> None:
    assert parse_url("http://h/").port == 80
    assert parse_url("https://h/").port == 443
    assert not parse_url("https://h/").explicit_port
    # The Host header leaves out the scheme's default port, explicit or not.
    assert parse_url("http://h:80/").host_header() == "h"
    assert parse_url("https://h:443/").host_header() == "h"
    assert parse_url("https://h:80/").host_header() == "h:80"
    assert parse_url("http://H.example:8080/").host_header() == "H.example:8080"


def test_target() -> None:
    assert parse_url("http://h").target() == "/"
    assert parse_url("http://h/p?q=1#frag").target() == "/p?q=1"
    # A bare "?" is kept in the request (curl PR #21584 undid 8.8's dropping of it).
    assert parse_url("http://h/p?").target() == "/p?"
    assert parse_url("http://h/p?").query == ""
    assert parse_url("http://h/p#").fragment == ""
    assert parse_url("http://h/p").fragment is None


# (URL, request line target) as a local server received them from pycurl 7.49.0 / libcurl 8.23:
# url.c reads the path with CURLU_URLENCODE (every %xx upper-cased, non-ASCII bytes encoded)
# and the query as it is.
TARGETS = [
    ("http://h/%2f/%aa?%2f#%2f", "/%2F/%AA?%2f"),
    ("http://h/\xe9%4a?\xe9%4a#\xe9", "/%E9%4A?\xe9%4a"),
    ("http://h/a/..%2fb", "/a/..%2Fb"),
    ("http://h/a/x%2E.", "/a/x%2E."),
    ("http://h/x/%2e%2e?#", "/?"),
    ("http://h/p\u20ac", "/p%E2%82%AC"),
    ("http://h/%zz%2%", "/%zz%2%"),
]


@pytest.mark.parametrize(("given", "target"), TARGETS)
def test_request_target(given: str, target: str) -> None:
    assert parse_url(given).target() == target


def test_resolved_url_keeps_credentials_for_the_request() -> None:
    # The effective URL drops them; the Url still carries them for Authorization.
    u = resolve_reference(parse_url(BASE), "d")
    assert (u.user, u.password) == ("u", "p")


def test_file_url_fields() -> None:
    u = parse_url("file:///tmp/x%20y")
    assert (u.scheme, u.host, u.port, u.path) == ("file", "", 0, "/tmp/x%20y")


def test_default_scheme_prefix() -> None:
    # CURLOPT_DEFAULT_PROTOCOL: the URL is prefixed, so no guessing.
    assert parse_url("ftp.example.com/", default_scheme="https").url() == (
        "https://ftp.example.com/"
    )
    assert parse_url("http://x/", default_scheme="https").scheme == "http"
    # "x:" then means an empty port, which is fine after a scheme.
    assert parse_url("x:", default_scheme="http").url() == "http://x/"


def test_default_port() -> None:
    assert default_port("http") == 80
    assert default_port("https") == 443
    assert default_port("ws") == 80
    assert default_port("wss") == 443
    assert default_port("ftp") == 21
    assert default_port("file") == 0
    assert default_port("nope") == 0


ALLOWED = frozenset({"http", "https"})


def test_allowed_schemes() -> None:
    assert parse_url("https://h/", allowed_schemes=ALLOWED).scheme == "https"
    with pytest.raises(CurlError) as info:
        parse_url("foo://h/", allowed_schemes=ALLOWED)
    assert (info.value.code, info.value.message) == (
        E_UNSUPPORTED_PROTOCOL,
        'Protocol "foo" not supported',
    )
    # A scheme libcurl knows but may not use is "disabled" (lib/url.c findprotocol).
    with pytest.raises(CurlError) as info:
        parse_url("ftp.example.com", allowed_schemes=ALLOWED)
    assert (info.value.code, info.value.message) == (
        E_UNSUPPORTED_PROTOCOL,
        'Protocol "ftp" is disabled',
    )
    # Malformed beats unsupported: the URL is parsed before the scheme is checked.
    with pytest.raises(CurlError) as info:
        parse_url("foo://h:99999/", allowed_schemes=ALLOWED)
    assert info.value.code == E_URL_MALFORMAT


def test_check_scheme_default_is_built_schemes() -> None:
    check_scheme("http", None)
    with pytest.raises(CurlError) as info:
        check_scheme("ws", None, in_redirect=True)
    assert info.value.message == 'Protocol "ws" is disabled (in redirect)'


# --- redirects ------------------------------------------------------------------------------------

BASE = "http://u:p@h:8080/a/b/c?q=1#f"

RESOLVED = [
    # Relative path: replaces the last segment, query and fragment dropped.
    (BASE, "d", "http://h:8080/a/b/d"),
    (BASE, "../d", "http://h:8080/a/d"),
    (BASE, "./", "http://h:8080/a/b/"),
    (BASE, "..", "http://h:8080/a/"),
    (BASE, "../../../../x", "http://h:8080/x"),
    # Absolute path keeps the authority.
    (BASE, "/x?y", "http://h:8080/x?y"),
    (BASE, "/x/../y", "http://h:8080/y"),
    # Query only keeps the path.
    (BASE, "?z", "http://h:8080/a/b/c?z"),
    ("http://h/a/b#frag", "?q", "http://h/a/b?q"),
    # Fragment only keeps path and query.
    (BASE, "#g", "http://h:8080/a/b/c?q=1#g"),
    ("http://h/p?x", "#", "http://h/p?x#"),
    # Scheme-relative keeps only the scheme.
    (BASE, "//other/x", "http://other/x"),
    (BASE, "//other:81", "http://other:81/"),
    ("https://h/", "//[::1]:8443/x", "https://[::1]:8443/x"),
    # Absolute.
    (BASE, "https://e.com/n", "https://e.com/n"),
    (BASE, "HTTPS://E.com", "https://E.com/"),
    (BASE, "https://e.com/a/../n", "https://e.com/n"),
    # Controls, spaces and non-ASCII bytes are encoded: %20 in the path, "+" in the query.
    (BASE, "/a\r\nb", "http://h:8080/a%0D%0Ab"),
    (BASE, "/a b?c d", "http://h:8080/a%20b?c+d"),
    (BASE, "a b", "http://h:8080/a/b/a%20b"),
    (BASE, "/\xe9", "http://h:8080/%E9"),
    (BASE, "http://e.com/a b?c d#e f", "http://e.com/a%20b?c+d#e%20f"),
    (BASE, "/p\u20ac", "http://h:8080/p%E2%82%AC"),
    # Percent-encoding already there is kept, with upper-case hex digits (CURLU_URLENCODE).
    (BASE, "/%41%2f", "http://h:8080/%41%2F"),
    # Base with IPv6 and zone.
    ("http://[fe80::1%25eth0]:8/a", "b", "http://[fe80::1%25eth0]:8/b"),
    # file: base.
    ("file:///a/b", "c", "file:///a/c"),
]


@pytest.mark.parametrize(("base", "ref", "expected"), RESOLVED)
def test_resolve_reference(base: str, ref: str, expected: str) -> None:
    assert resolve_reference(parse_url(base), ref).url() == expected


REDIRECT_REJECTED = [
    ("", E_URL_MALFORMAT, "Malformed input to a URL function"),
    ("http://[bad", E_URL_MALFORMAT, "Bad IPv6 address"),
    ("http://%zz/", E_URL_MALFORMAT, "Bad hostname"),
    ("http://a b/", E_URL_MALFORMAT, "Bad hostname"),
    (
        "http://a:99999/",
        E_URL_MALFORMAT,
        "Port number was not a decimal number between 0 and 65535",
    ),
    ("//", E_URL_MALFORMAT, "No host present"),
    # Without CURLU_NON_SUPPORT_SCHEME an unknown scheme does not parse.
    ("foo://127.0.0.1/x", E_UNSUPPORTED_PROTOCOL, "Unsupported URL scheme"),
    ("mailto:x@y", E_UNSUPPORTED_PROTOCOL, "Unsupported URL scheme"),
]


@pytest.mark.parametrize(("ref", "code", "reason"), REDIRECT_REJECTED)
def test_resolve_reference_rejected(ref: str, code: int, reason: str) -> None:
    with pytest.raises(CurlError) as info:
        resolve_reference(parse_url(BASE), ref)
    assert info.value.code == code
    assert info.value.message == "The redirect target URL could not be parsed: " + reason


def test_resolve_reference_scheme_check() -> None:
    base = parse_url("http://h/")
    with pytest.raises(CurlError) as info:
        resolve_reference(base, "ftp://h/", allowed_schemes=ALLOWED)
    assert (info.value.code, info.value.message) == (
        E_UNSUPPORTED_PROTOCOL,
        'Protocol "ftp" is disabled (in redirect)',
    )
    assert resolve_reference(base, "https://h/", allowed_schemes=ALLOWED).port == 443


def test_resolve_reference_path_as_is() -> None:
    base = parse_url("http://h/a/b")
    # Kept for an absolute Location, not for a relative one (redirect_url clears the flag).
    assert resolve_reference(base, "http://h/x/../y", path_as_is=True).path == "/x/../y"
    assert resolve_reference(base, "/x/../y", path_as_is=True).path == "/y"


# --- properties -----------------------------------------------------------------------------------

_URLISH = st.text(
    alphabet=st.sampled_from(list("aZ09:/@[]%.?#-_~!$&'()*+,;= \t\r\x00\x7f\x80\xe9\u20ac")),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_URLISH, st.text(max_size=40)))
def test_parse_never_raises_anything_but_curl_error(text: str) -> None:
    try:
        u = parse_url(text)
    except CurlError:
        return
    assert isinstance(u, Url)


_host = st.one_of(
    st.from_regex(r"[a-zA-Z][a-zA-Z0-9.\-]{0,12}", fullmatch=True),
    st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){0,3}", fullmatch=True),
    st.from_regex(r"0x[0-9a-f]{1,8}", fullmatch=True),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
    st.ip_addresses(v=6).map(lambda a: f"[{a}%25eth0]"),
    st.from_regex(r"[a-z]{1,4}%4[1-9a-f][a-z]{0,3}", fullmatch=True),
)
_seg = st.from_regex(r"[a-zA-Z0-9._~!$&'()*+,;=:@%\-]{0,6}", fullmatch=True)
_path = st.lists(st.one_of(_seg, st.sampled_from([".", ".."])), max_size=5).map(
    lambda parts: "".join("/" + p for p in parts)
)
_tail = st.from_regex(r"[a-zA-Z0-9/?:@&=+%.\-]{0,8}", fullmatch=True)


@st.composite
def _urls(draw: st.DrawFn) -> str:
    scheme = draw(
        st.sampled_from(["", "http://", "https://", "HTTP://", "ws://", "foo://", "http:/"])
    )
    userinfo = draw(st.sampled_from(["", "u@", "u:p@", ":@", "%41:b%40@"]))
    port = draw(st.sampled_from(["", ":", ":0", ":80", ":443", ":8080", ":065535"]))
    query = draw(st.one_of(st.just(""), _tail.map(lambda t: "?" + t)))
    frag = draw(st.one_of(st.just(""), _tail.map(lambda t: "#" + t)))
    host: str = draw(_host)
    path: str = draw(_path)
    return scheme + userinfo + host + port + path + query + frag


@settings(max_examples=200, deadline=None)
@given(_urls())
def test_normalised_form_is_a_fixed_point(text: str) -> None:
    try:
        u = parse_url(text)
    except CurlError:
        return
    again = parse_url(u.url())
    assert again.url() == u.url()
    # Everything survives the round trip except the credentials, which url() leaves out.
    assert again == dataclasses.replace(u, user=None, password=None)


_common_urls = st.tuples(
    st.sampled_from(["http://", "https://"]),
    st.one_of(
        st.from_regex(r"[a-z0-9][a-z0-9.\-_~]{0,10}", fullmatch=True),
        st.ip_addresses(v=4).map(str),
    ),
    st.sampled_from(["", ":0", ":80", ":443", ":08080", ":65535", ":65536", ":99999"]),
    st.one_of(st.just(""), _path),
    st.one_of(st.just(""), _tail.map(lambda t: "?" + t.replace("?", ""))),
).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.one_of(_urls(), _common_urls))
def test_fast_path_agrees_with_the_general_parse(text: str) -> None:
    fast = urlmod._parse_common(text, False)
    if fast is None:
        return
    general = urlmod._parse(
        text,
        guess=True,
        non_support=True,
        encode=False,
        allow_space=False,
        disallow_user=False,
        path_as_is=False,
    )
    assert fast == general


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([BASE, "https://[::1]/x/", "file:///a/b"]), st.one_of(_URLISH, _urls()))
def test_resolve_never_raises_anything_but_curl_error(base: str, ref: str) -> None:
    try:
        u = resolve_reference(parse_url(base), ref)
    except CurlError:
        return
    assert isinstance(u, Url)


# --- differential test against the real libcurl 8.23 (optional) --------------------------------

_LIBCURL = os.environ.get(
    "PURECURL_ORACLE_LIBCURL",
    "/root/.pyenv/versions/3.11.7/lib/python3.11/site-packages/pycurl.libs/"
    "libcurl-330bcbb6.so.4.8.0",
)
_oracle_missing = not os.path.exists(_LIBCURL)
# curl/urlapi.h: CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME (CURLOPT_URL's flags in url.c),
# CURLU_URLENCODE and CURLU_GET_EMPTY for reading parts back.
_SET_FLAGS = (1 << 9) | (1 << 3)
_URLENCODE = 1 << 7
_GET_EMPTY = 1 << 14


def _oracle(url: str) -> tuple[object, ...]:
    lib = ctypes.CDLL(_LIBCURL)
    lib.curl_url.restype = ctypes.c_void_p
    lib.curl_url_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    lib.curl_url_get.argtypes = [
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.POINTER(ctypes.c_void_p),
        ctypes.c_uint,
    ]
    lib.curl_free.argtypes = [ctypes.c_void_p]
    lib.curl_url_cleanup.argtypes = [ctypes.c_void_p]
    lib.curl_url_strerror.restype = ctypes.c_char_p
    h = lib.curl_url()

    def get(part: int, flags: int = 0) -> str | None:
        out = ctypes.c_void_p()
        if lib.curl_url_get(h, part, ctypes.byref(out), flags):
            return None
        text = ctypes.string_at(out.value or 0).decode("latin-1")
        lib.curl_free(out)
        return text

    try:
        rc = lib.curl_url_set(h, 0, url.encode("latin-1"), _SET_FLAGS)
        if rc:
            text = lib.curl_url_strerror(rc).decode()
            return ("error", {5: E_UNSUPPORTED_PROTOCOL, 8: E_LOGIN_DENIED}.get(rc, 3), text)
        path = get(7, _URLENCODE)
        query = get(8, _GET_EMPTY)
        host = get(5) or ""
        fields = (get(1), get(2), get(3), host.strip("[]"), get(10), get(9, _GET_EMPTY))
        for part in (2, 3, 4):  # url.c takes the credentials out before the effective URL
            lib.curl_url_set(h, part, None, 0)
        target = f"{path}?{query}" if query is not None else path
        return ("ok", *fields, get(0, _GET_EMPTY), target)
    finally:
        lib.curl_url_cleanup(h)


def _purecurl(url: str) -> tuple[object, ...]:
    try:
        u = parse_url(url)
    except CurlError as e:
        return ("error", e.code, e.message.removeprefix("URL rejected: "))
    fields = (u.scheme, u.user, u.password, u.host, u.zone, u.fragment)
    return ("ok", *fields, u.url(), u.target())


_ORACLE_PIECES = st.sampled_from(
    ["/", "//", ":", "@", "?", "#", "%", "%2e", "%41", "%zz", ".", "..", "[", "]", "::1",
     "%25eth0", "\\", "h", "1", "0x7f", "127", "80", "65536", "http", "a", " ", "\t", "\xe9",
     "+", ";", "|", "~", "\x7f"]
)  # fmt: skip
_ORACLE_URLS = st.tuples(
    st.sampled_from(["http://", "https://", "HTTP://", "file://", "x://", "http:/", ""]),
    st.lists(_ORACLE_PIECES, max_size=10).map("".join),
).map("".join)


@pytest.mark.skipif(_oracle_missing, reason="libcurl 8.23 of pycurl 7.49.0 not installed")
@pytest.mark.parametrize(
    "given",
    [row[0] for row in NORMALISED]
    + [row[0] for row in REJECTED if "\x00" not in row[0]]
    + [row[0] for row in TARGETS],
)
def test_tables_agree_with_libcurl(given: str) -> None:
    if not given.isascii() and max(given) > "\xff":
        pytest.skip("one character per byte only")
    assert _purecurl(given) == _oracle(given)


@pytest.mark.skipif(_oracle_missing, reason="libcurl 8.23 of pycurl 7.49.0 not installed")
@settings(max_examples=200, deadline=None)
@given(_ORACLE_URLS)
def test_random_urls_agree_with_libcurl(text: str) -> None:
    assert _purecurl(text) == _oracle(text)
