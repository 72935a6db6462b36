"""Proxy selection, parsing, NOPROXY, and the HTTP proxy request bytes.

The expected CONNECT and forward bytes, ports and messages were recorded from libcurl 8.23
(pycurl) against tests/proxy_servers.py; `test_connect_bytes_match_real_pycurl` re-checks the
CONNECT bytes live when pycurl is installed.
"""

from __future__ import annotations

import io

import pytest

from purecurl._codes import E_COULDNT_CONNECT, E_COULDNT_RESOLVE_PROXY, E_WEIRD_SERVER_REPLY
from purecurl._errors import CurlError
from purecurl.proto.proxy import (
    FORWARD_PROXY_HEADER,
    ConnectResponseReader,
    ProxySpec,
    build_connect_request,
    connect_result,
    forward_request_target,
    no_proxy_matches,
    parse_proxy,
    proxy_from_env,
    select_proxy,
)
from purecurl.proto.url import parse_url

# --- parse_proxy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxy", "port", "ptype", "expected"),
    [
        ("127.0.0.1", None, None, ("http", "127.0.0.1", 80)),
        ("http://127.0.0.1", None, None, ("http", "127.0.0.1", 80)),
        ("HTTP://127.0.0.1", None, None, ("http", "127.0.0.1", 80)),
        ("https://127.0.0.1", None, None, ("https", "127.0.0.1", 443)),
        ("socks5://h", None, None, ("socks5", "h", 1080)),
        ("socks4a://h", None, None, ("socks4a", "h", 1080)),
        ("socks5h://h", None, None, ("socks5h", "h", 1080)),
        ("socks://h", None, None, ("socks4", "h", 1080)),
        ("h", 3, None, ("http", "h", 3)),
        ("h:4", 3, None, ("http", "h", 4)),
        ("h", 0, None, ("http", "h", 80)),
        ("h", None, 5, ("socks5", "h", 1080)),
        ("h", None, 2, ("https", "h", 443)),
        ("h", None, 3, ("https", "h", 443)),
        ("h", None, 4, ("socks4", "h", 1080)),
        ("h", None, 6, ("socks4a", "h", 1080)),
        ("h", None, 7, ("socks5h", "h", 1080)),
        ("http://h", None, 5, ("http", "h", 80)),  # the scheme wins over PROXYTYPE
        ("socks5://h", None, 0, ("socks5", "h", 1080)),
        ("[::1]", None, None, ("http", "::1", 80)),
        ("h/path?x", None, None, ("http", "h", 80)),
        ("http://h:", None, None, ("http", "h", 80)),
        ("ftp.example", None, None, ("http", "ftp.example", 80)),
        ("h:0", None, None, ("http", "h", 0)),
    ],
)
def test_parse_proxy(
    proxy: str, port: int | None, ptype: int | None, expected: tuple[str, str, int]
) -> None:
    spec = parse_proxy(proxy, port, ptype)
    assert spec is not None
    assert (spec.scheme, spec.host, spec.port) == expected


def test_empty_proxy_is_none() -> None:
    assert parse_proxy("", 8080, 0) is None


def test_http_1_0_type_keeps_http_scheme() -> None:
    spec = parse_proxy("http://h", None, 1)
    assert spec is not None and spec.http10 and spec.scheme == "http"
    spec = parse_proxy("socks5://h", None, 1)
    assert spec is not None and not spec.http10


@pytest.mark.parametrize(
    ("proxy", "code", "message"),
    [
        (
            "127.0.0.1:99999",
            E_COULDNT_RESOLVE_PROXY,
            "Unsupported proxy syntax in '127.0.0.1:99999': "
            "Port number was not a decimal number between 0 and 65535",
        ),
        (
            "http://",
            E_COULDNT_RESOLVE_PROXY,
            "Unsupported proxy syntax in 'http://': No host present",
        ),
        (
            "http://a b",
            E_COULDNT_RESOLVE_PROXY,
            "Unsupported proxy syntax in 'http://a b': Bad hostname",
        ),
        (
            " 127.0.0.1",
            E_COULDNT_RESOLVE_PROXY,
            "Unsupported proxy syntax in ' 127.0.0.1': Bad hostname",
        ),
        (
            "http://[::1",
            E_COULDNT_RESOLVE_PROXY,
            "Unsupported proxy syntax in 'http://[::1': Bad IPv6 address",
        ),
        ("ftp://127.0.0.1", E_COULDNT_CONNECT, "Unsupported proxy scheme for 'ftp://127.0.0.1'"),
        ("sock5://x", E_COULDNT_CONNECT, "Unsupported proxy scheme for 'sock5://x'"),
    ],
)
def test_parse_proxy_errors(proxy: str, code: int, message: str) -> None:
    with pytest.raises(CurlError) as info:
        parse_proxy(proxy, None, None)
    assert (info.value.code, info.value.message) == (code, message)


@pytest.mark.parametrize(
    ("proxy", "opts", "creds"),
    [
        ("http://a%40:b%3a@h", {}, ("a@", "b:")),
        ("http://a:b@h", {"userpwd": "c:d"}, ("a", "b")),  # the URL wins (checked)
        ("http://a:b@h", {"user": "c"}, ("a", "b")),
        ("h", {"userpwd": "c%41:d"}, ("cA", "d")),  # options are URL-decoded too
        ("http://a@h", {}, ("a", "")),
        ("h", {"password": "x"}, (None, "x")),
        ("h", {"userpwd": "u:p", "user": "v"}, ("v", "p")),
        ("h", {}, (None, None)),
    ],
)
def test_proxy_credentials(proxy: str, opts: dict[str, str], creds: tuple[str, str]) -> None:
    spec = parse_proxy(proxy, None, None, **opts)
    assert spec is not None
    assert (spec.user, spec.password) == creds


def test_has_credentials_follows_what_libcurl_sends() -> None:
    assert not ProxySpec("http", "h", 80, "", "").has_credentials
    assert ProxySpec("http", "h", 80, "", "x").has_credentials
    assert ProxySpec("http", "h", 80, "a", "").has_credentials
    assert repr(ProxySpec("http", "::1", 80, "a", "b", is_ipv6=True)) == (
        "<ProxySpec http://[::1]:80 with credentials>"
    )


# --- the environment and NOPROXY --------------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "environ", "expected"),
    [
        ("http", {"http_proxy": "a"}, "a"),
        ("http", {"HTTP_PROXY": "a"}, None),  # never read: CGI sets it from a request header
        ("http", {"HTTP_PROXY": "a", "ALL_PROXY": "b"}, "b"),
        ("https", {"HTTPS_PROXY": "a"}, "a"),
        ("https", {"https_proxy": "a", "HTTPS_PROXY": "b"}, "a"),
        ("https", {"http_proxy": "a"}, None),
        ("https", {"all_proxy": "c"}, "c"),
        ("http", {"all_proxy": "c", "ALL_PROXY": "d"}, "c"),
        ("http", {"ALL_PROXY": "d"}, "d"),
        ("http", {"http_proxy": "", "all_proxy": "c"}, "c"),
        ("ws", {"http_proxy": "a"}, "a"),
        ("wss", {"HTTPS_PROXY": "a"}, "a"),
        ("http", {"http_proxy": "a", "no_proxy": "example.com"}, None),
        ("http", {"http_proxy": "a", "NO_PROXY": "*"}, None),
        ("http", {"http_proxy": "a", "no_proxy": "other.com", "NO_PROXY": "*"}, "a"),
        ("http", {}, None),
    ],
)
def test_proxy_from_env(scheme: str, environ: dict[str, str], expected: str | None) -> None:
    assert proxy_from_env(scheme, "www.example.com", environ) == expected


@pytest.mark.parametrize(
    ("proxy", "noproxy", "environ", "expected"),
    [
        (None, None, {"http_proxy": "e"}, "e"),
        ("", None, {"http_proxy": "e"}, None),  # "" disables the proxy and the environment
        ("p", None, {"http_proxy": "e"}, "p"),
        ("p", None, {"no_proxy": "example.com"}, None),  # env no_proxy applies to PROXY too
        ("p", "", {"no_proxy": "example.com"}, "p"),  # NOPROXY "" overrides the env
        ("p", "example.com", {}, None),
        (None, "*", {"http_proxy": "e"}, None),
    ],
)
def test_select_proxy(
    proxy: str | None, noproxy: str | None, environ: dict[str, str], expected: str | None
) -> None:
    assert select_proxy(proxy, noproxy, "http", "www.example.com", 80, environ) == expected


@pytest.mark.parametrize(
    ("host", "no_proxy", "expected"),
    [
        ("example.com", "*", True),
        ("example.com", " * ", True),
        ("example.com", "", False),
        ("example.com", "example.com", True),
        ("EXAMPLE.com", "example.COM", True),
        ("www.example.com", "example.com", True),
        ("www.example.com", ".example.com", True),
        ("example.com", ".example.com", True),
        ("example.com.", "example.com", True),
        ("www.example.com", "example.com.", True),
        ("badexample.com", "example.com", False),
        ("example.com", "www.example.com", False),
        ("example.org", "example.com", False),
        ("b.com", "a.com,b.com", True),
        ("b.com", "a.com b.com", True),
        ("b.com", "a.com, ,  b.com", True),
        ("b.com", "a.com,*", False),  # "*" is only a wildcard alone
        ("192.168.1.5", "192.168.1.5", True),
        ("192.168.1.5", "192.168.0.0/16", True),
        ("192.169.1.5", "192.168.0.0/16", False),
        ("192.168.1.5", "192.168.1.0/33", False),
        ("192.168.1.5", "192.168", False),
        ("10.0.0.1", "0.0.0.0/0", True),
        ("::1", "::1", True),
        ("[::1]", "::1", True),
        ("::1", "[::1]", True),
        ("0:0::1", "::1", True),
        ("2001:db8::5", "2001:db8::/32", True),
        ("2001:db9::5", "2001:db8::/32", False),
        ("::1", "127.0.0.1", False),
        ("127.0.0.1", "localhost", False),
        ("localhost", "127.0.0.1", False),
    ],
)
def test_no_proxy_matches(host: str, no_proxy: str, expected: bool) -> None:
    assert no_proxy_matches(host, 8080, no_proxy) is expected


# --- forward requests -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("http://u:p@127.0.0.1:80/p%7e/x?#f", "http://127.0.0.1/p%7e/x"),
        ("http://127.0.0.1:9/p?q=1#f", "http://127.0.0.1:9/p?q=1"),
        ("http://Example.Invalid/a/../b/%C3%A9?x", "http://Example.Invalid/b/%C3%A9?x"),
        ("http://[::1]:80/", "http://[::1]/"),
        ("http://[fe80::1%25eth0]:9/", "http://[fe80::1%25eth0]:9/"),
        ("http://127.0.0.1", "http://127.0.0.1/"),
        ("HTTP://127.0.0.1:080/?", "http://127.0.0.1/"),
    ],
)
def test_forward_request_target(url: str, target: str) -> None:
    assert forward_request_target(parse_url(url)) == target


def test_forward_header() -> None:
    assert FORWARD_PROXY_HEADER == b"Proxy-Connection: Keep-Alive\r\n"


# --- CONNECT ----------------------------------------------------------------------------------

UA = "PycURL/7.49.0 libcurl/8.23.0"


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        (
            ("127.0.0.1", 33375),
            {"user_agent": UA},
            b"CONNECT 127.0.0.1:33375 HTTP/1.1\r\nHost: 127.0.0.1:33375\r\n"
            b"User-Agent: " + UA.encode() + b"\r\nProxy-Connection: Keep-Alive\r\n\r\n",
        ),
        (
            ("127.0.0.1", 33375),
            {"user_agent": "ua/1", "proxy_auth": "Basic dTpw", "proxy_headers": [b"X-P: 1"]},
            b"CONNECT 127.0.0.1:33375 HTTP/1.1\r\nHost: 127.0.0.1:33375\r\n"
            b"Proxy-Authorization: Basic dTpw\r\nUser-Agent: ua/1\r\n"
            b"Proxy-Connection: Keep-Alive\r\nX-P: 1\r\n\r\n",
        ),
        (
            ("127.0.0.1", 1),
            {"http10": True},
            b"CONNECT 127.0.0.1:1 HTTP/1.0\r\nHost: 127.0.0.1:1\r\n"
            b"Proxy-Connection: Keep-Alive\r\n\r\n",
        ),
        (
            ("::1", 8080),
            {"user_agent": ""},
            b"CONNECT [::1]:8080 HTTP/1.1\r\nHost: [::1]:8080\r\n"
            b"Proxy-Connection: Keep-Alive\r\n\r\n",
        ),
        (
            ("fe80::1%eth0", 80),
            {},
            b"CONNECT [fe80::1]:80 HTTP/1.1\r\nHost: [fe80::1]:80\r\n"
            b"Proxy-Connection: Keep-Alive\r\n\r\n",
        ),
        (
            ("Example.COM", 80),
            {},
            b"CONNECT Example.COM:80 HTTP/1.1\r\nHost: Example.COM:80\r\n"
            b"Proxy-Connection: Keep-Alive\r\n\r\n",
        ),
        (  # the user's headers replace libcurl's, in the user's order
            ("127.0.0.1", 5),
            {
                "user_agent": "ua",
                "proxy_headers": [
                    b"X-A: 1",
                    b"proxy-connection: close",
                    b"HOST: h",
                    b"user-agent;",
                ],
            },
            b"CONNECT 127.0.0.1:5 HTTP/1.1\r\nX-A: 1\r\nproxy-connection: close\r\nHOST: h\r\n"
            b"user-agent: \r\n\r\n",
        ),
        (  # "Name:" suppresses; blanks trimmed; lines without ":" or ";" ignored
            ("127.0.0.1", 5),
            {
                "user_agent": "ua",
                "proxy_headers": [
                    b"User-Agent:",
                    b"Bogus",
                    b"Host:",
                    b"X-A:  spaced  ",
                    b"X-B:x",
                    b"Proxy-Connection:",
                    b" Lead: x",
                    b"X-C ;",
                ],
            },
            b"CONNECT 127.0.0.1:5 HTTP/1.1\r\nX-A: spaced  \r\nX-B: x\r\nLead: x\r\nX-C: \r\n\r\n",
        ),
        (
            ("127.0.0.1", 5),
            {
                "user_agent": "ua",
                "proxy_auth": "Basic YTpi",
                "proxy_headers": [b"Proxy-Authorization:"],
            },
            b"CONNECT 127.0.0.1:5 HTTP/1.1\r\nHost: 127.0.0.1:5\r\nUser-Agent: ua\r\n"
            b"Proxy-Connection: Keep-Alive\r\n\r\n",
        ),
        (
            ("127.0.0.1", 5),
            {"proxy_auth": "Basic YTpi", "proxy_headers": [b"Proxy-Authorization: Bearer x"]},
            b"CONNECT 127.0.0.1:5 HTTP/1.1\r\nHost: 127.0.0.1:5\r\n"
            b"Proxy-Connection: Keep-Alive\r\nProxy-Authorization: Bearer x\r\n\r\n",
        ),
    ],
)
def test_build_connect_request(
    args: tuple[str, int], kwargs: dict[str, object], expected: bytes
) -> None:
    assert build_connect_request(*args, **kwargs) == expected  # type: ignore[arg-type]


def _head(data: bytes, how: str) -> tuple[object, bytes]:
    reader = ConnectResponseReader()
    head = None
    pieces = [data] if how == "whole" else [data[i : i + 1] for i in range(len(data))]
    for piece in pieces:
        if head is None:
            head = reader.feed(piece)
        else:
            reader.leftover += piece
    return head, reader.leftover


@pytest.mark.parametrize("how", ["whole", "bytewise"])
@pytest.mark.parametrize(
    ("response", "status", "leftover"),
    [
        (b"HTTP/1.1 200 Connection established\r\n\r\nTLS", 200, b"TLS"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", 200, b""),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxy", 200, b"xy"),
        (b"HTTP/1.1 204 OK\r\n\r\n", 204, b""),
        (b"HTTP/1.1 299 OK\r\n\r\n", 299, b""),
        (b"HTTP/1.1 200\r\n\r\n", 200, b""),
        (b"HTTP/1.0 200 OK\r\nConnection: close\r\n\r\n", 200, b""),
        (b"HTTP/1.1 200 OK\n\nz", 200, b"z"),
    ],
)
def test_connect_success(response: bytes, status: int, leftover: bytes, how: str) -> None:
    head, rest = _head(response, how)
    assert head is not None and head.status == status  # type: ignore[attr-defined]
    connect_result(head)  # type: ignore[arg-type]
    assert rest == leftover


@pytest.mark.parametrize(
    ("response", "status"),
    [
        (b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", 403),
        (b"HTTP/1.1 407 Auth\r\nContent-Length: 0\r\n\r\n", 407),
        (b"HTTP/1.0 500 x\r\n\r\n", 500),
        (b"HTTP/1.1 101 Switch\r\n\r\n", 101),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 403 OK\r\n\r\n", 100),
        (b"HTTP/1.1 302 Found\r\nLocation: /\r\nContent-Length: 0\r\n\r\n", 302),
    ],
)
def test_connect_failure(response: bytes, status: int) -> None:
    head, _ = _head(response, "whole")
    assert head is not None
    with pytest.raises(CurlError) as info:
        connect_result(head)  # type: ignore[arg-type]
    assert (info.value.code, info.value.message) == (
        E_COULDNT_CONNECT,
        f"CONNECT tunnel failed, response {status}",
    )


@pytest.mark.parametrize("response", [b"garbage\r\n\r\n", b"HTTP/2 200\r\n\r\n"])
def test_connect_answer_not_http1(response: bytes) -> None:
    with pytest.raises(CurlError) as info:
        ConnectResponseReader().feed(response)
    assert (info.value.code, info.value.message) == (
        E_WEIRD_SERVER_REPLY,
        "Invalid response header",
    )


def test_connect_bytes_match_real_pycurl() -> None:
    pycurl = pytest.importorskip("pycurl")
    from tests.proxy_servers import HttpProxy
    from tests.servers import HttpServer, Response

    with HttpServer({"/": Response(body=b"hi")}) as origin, HttpProxy() as proxy:
        c = pycurl.Curl()
        try:
            c.setopt(pycurl.URL, origin.url("/"))
            c.setopt(pycurl.PROXY, f"127.0.0.1:{proxy.port}")
            c.setopt(pycurl.HTTPPROXYTUNNEL, 1)
            c.setopt(pycurl.USERAGENT, "ua/1")
            c.setopt(pycurl.PROXYUSERPWD, "u:p")
            c.setopt(pycurl.PROXYHEADER, ["X-P: 1", "Host:"])
            c.setopt(pycurl.WRITEDATA, io.BytesIO())
            c.perform()
            assert c.getinfo(pycurl.HTTP_CONNECTCODE) == 200
        finally:
            c.close()
        sent = proxy.requests[0].raw
    assert sent == build_connect_request(
        "127.0.0.1",
        origin.port,
        user_agent="ua/1",
        proxy_auth="Basic dTpw",
        proxy_headers=[b"X-P: 1", b"Host:"],
    )
