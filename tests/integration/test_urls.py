"""URLs as libcurl takes them: IPv6 literals, userinfo, percent-encoding, and the errors for URLs
it rejects (CURLE_URL_MALFORMAT 3, CURLE_UNSUPPORTED_PROTOCOL 1).

Each test runs on purecurl and the real pycurl (fixture `mod`); messages are libcurl 8.23's.
"""

from __future__ import annotations

import socket
from types import ModuleType

import pytest

from tests.integration._util import fetch, free_port, one_shot, read_head
from tests.servers import HttpServer


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback")
def test_ipv6_literal(mod: ModuleType) -> None:
    """An IPv6 literal in brackets connects over IPv6; Host keeps the brackets and the port
    (RFC 3986 3.2.2; RFC 9110 7.2)."""
    heads: list[bytes] = []

    def handler(sock: socket.socket) -> None:
        heads.append(read_head(sock))
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nsix")

    listener = socket.socket(socket.AF_INET6)
    listener.bind(("::1", 0))
    port = listener.getsockname()[1]
    with one_shot(listener, handler):
        out = fetch(mod, f"http://[::1]:{port}/v6", [("USERAGENT", "ua/1")])
    assert (out.code, out.body, out.primary_ip) == (0, b"six", "::1")
    expected = f"GET /v6 HTTP/1.1\r\nHost: [::1]:{port}\r\nUser-Agent: ua/1\r\nAccept: */*\r\n\r\n"
    assert heads == [expected.encode()]


def test_userinfo_becomes_basic_auth(mod: ModuleType, server: HttpServer) -> None:
    """Credentials in the URL are used for Basic auth (CURLOPT_URL docs; RFC 7617) and are not
    part of the request-target."""
    out = fetch(mod, f"http://user:pw@127.0.0.1:{server.port}/hello")
    assert (out.code, out.body) == (0, b"hello\n")
    request = server.requests[0]
    assert request.target == "/hello"
    assert request.header("authorization") == "Basic dXNlcjpwdw=="


def test_percent_encoding_kept(mod: ModuleType, server: HttpServer) -> None:
    """Percent-encoded octets pass to the request-target as written (libcurl neither decodes
    nor re-encodes them); a fragment is not sent (RFC 3986 3.5)."""
    target = "/a%20b/%7Euser%2F?q=%2F&x=%41"
    out = fetch(mod, server.url(target + "#frag"))
    assert out.code == 0
    assert server.requests[0].target == target


def test_percent_encoding_case_normalised_in_path(mod: ModuleType, server: HttpServer) -> None:
    """libcurl 8.23 upper-cases the hex digits of %XX in the path only (RFC 3986 6.2.2.1);
    invalid escapes and the query stay as written."""
    out = fetch(mod, server.url("/a%2fb%7e/%e2%82%ac/%zz?q=%2f%7e"))
    assert out.code == 0
    assert server.requests[0].target == "/a%2Fb%7E/%E2%82%AC/%zz?q=%2f%7e"


def test_dot_segments_removed(mod: ModuleType, server: HttpServer) -> None:
    """Dot segments of the path are removed (RFC 3986 5.2.4), the query's are kept."""
    out = fetch(mod, server.url("/a/./b/../c?x=./.."))
    assert out.code == 0
    assert server.requests[0].target == "/a/c?x=./.."


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://[::1/", "URL rejected: Bad IPv6 address"),
        (
            "http://host:99999/",
            "URL rejected: Port number was not a decimal number between 0 and 65535",
        ),
    ],
)
def test_malformed_url(mod: ModuleType, url: str, message: str) -> None:
    """A URL libcurl's parser rejects ends with 3 (CURLE_URL_MALFORMAT) and the parser's
    reason, before any connection."""
    out = fetch(mod, url)
    assert (out.code, out.message) == (3, message)


def test_bad_hostname_message(mod: ModuleType) -> None:
    """A host with a space: 3, "URL rejected: Bad hostname" (urlapi.c hostname_check)."""
    out = fetch(mod, "http://exa mple.com/")
    assert (out.code, out.message) == (3, "URL rejected: Bad hostname")


def test_no_host_message(mod: ModuleType) -> None:
    """'http://' has no host: 3, "URL rejected: No host present" as libcurl 8.23 reports."""
    out = fetch(mod, "http://")
    assert (out.code, out.message) == (3, "URL rejected: No host present")


def test_made_up_scheme_unsupported(mod: ModuleType) -> None:
    """A scheme no protocol handles: 1 (CURLE_UNSUPPORTED_PROTOCOL), 'Protocol "foo" not
    supported'."""
    out = fetch(mod, "foo://x/")
    assert (out.code, out.message) == (1, 'Protocol "foo" not supported')


@pytest.mark.parametrize("scheme", ["ftp", "gopher"])
def test_unbuilt_scheme_unsupported(pure: ModuleType, scheme: str) -> None:
    """purecurl speaks only HTTP(S) in this issue: ftp:// and gopher:// end with 1 and the
    message libcurl gives for a protocol it was built without (the real pycurl has both, and
    tries to connect instead)."""
    out = fetch(pure, f"{scheme}://127.0.0.1:{free_port()}/")
    assert (out.code, out.message) == (1, f'Protocol "{scheme}" not supported')


def test_no_url(mod: ModuleType) -> None:
    """perform without URL: 3, "No URL set" (PYCURL-API.md)."""
    out = fetch(mod, None)
    assert (out.code, out.message) == (3, "No URL set")


def test_empty_url(mod: ModuleType) -> None:
    """URL set to "": libcurl parses it and rejects it (3, malformed input)."""
    out = fetch(mod, "")
    assert (out.code, out.message) == (3, "URL rejected: Malformed input to a URL function")


def test_scheme_defaults_to_http(mod: ModuleType, server: HttpServer) -> None:
    """A URL without a scheme is HTTP (libcurl guesses http:// for unknown host names)."""
    out = fetch(mod, f"127.0.0.1:{server.port}/hello")
    assert (out.code, out.body) == (0, b"hello\n")
