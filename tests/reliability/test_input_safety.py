"""Input safety (issue 9): what reaches the wire when an option value carries CR, LF or NUL, and
that percent-encoding in a URL survives into the request target.

Theory of operation
-------------------
A capturing server keeps the raw bytes of everything a client sends on a connection (until
it has been quiet for a moment) and answers one 200, so a test sees whether an injected line
became a header or a second request.

libcurl and purecurl agree on URLs (CR, LF or a blank are "URL rejected: Bad path", 3) and on
NUL in any str or bytes option (pycurl's setopt raises ValueError "embedded null byte"; so does
purecurl's). They deliberately differ on CR or LF inside a header value, user agent, method,
cookie or referer: libcurl sends the string as it is, so the application's own value splits the
request (the tests `test_libcurl_*` record that, on the real pycurl); purecurl refuses the
transfer with CURLE_BAD_FUNCTION_ARGUMENT (43) and sends nothing, as documented in
src/purecurl/proto/request.py (tests `test_purecurl_*`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from tests.integration._util import fetch, make_curl, run_multi
from tests.servers import ScriptedServer, ServerConnection, ServerFactory

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
INJECTED = "X-Injected: 1"


def capture(store: list[bytes]) -> Callable[[ServerConnection], None]:
    """A handler that records what the client sent (until 0.2 s of quiet after a blank line,
    or EOF) and answers one 200 that closes the connection."""

    def handler(conn: ServerConnection) -> None:
        sock = conn.sock
        data = b""
        sock.settimeout(2.0)
        with contextlib.suppress(OSError):
            while True:
                more = sock.recv(65536)
                if not more:
                    break
                data += more
                if b"\r\n\r\n" in data:
                    sock.settimeout(0.2)
        store.append(data)
        with contextlib.suppress(OSError):
            sock.sendall(OK)

    return handler


def capturing(scripted: ServerFactory) -> tuple[ScriptedServer, list[bytes]]:
    store: list[bytes] = []
    return scripted(capture(store)), store


# (option, value with CR/LF, the line libcurl puts on the wire because of it)
CRLF_OPTIONS: list[tuple[str, Any, bytes]] = [
    ("HTTPHEADER", ["X-A: v\r\n" + INJECTED], b"\r\nX-A: v\r\nX-Injected: 1\r\n"),
    ("HTTPHEADER", ["X-A: v\n" + INJECTED], b"\r\nX-A: v\nX-Injected: 1\r\n"),
    ("HTTPHEADER", ["X-A: v\rX"], b"\r\nX-A: v\rX\r\n"),
    ("USERAGENT", "ua\r\n" + INJECTED, b"\r\nUser-Agent: ua\r\nX-Injected: 1\r\n"),
    ("COOKIE", "a=b\r\n" + INJECTED, b"\r\nCookie: a=b\r\nX-Injected: 1\r\n"),
    ("REFERER", "http://r/\r\n" + INJECTED, b"\r\nReferer: http://r/\r\nX-Injected: 1\r\n"),
    (
        "CUSTOMREQUEST",
        "GET /smuggled HTTP/1.1\r\n" + INJECTED + "\r\n\r\nGET",
        b"GET /smuggled HTTP/1.1\r\nX-Injected: 1\r\n\r\nGET / HTTP/1.1\r\n",
    ),
]
CRLF_IDS = ["header-crlf", "header-lf", "header-cr", "useragent", "cookie", "referer", "method"]


@pytest.mark.parametrize(("option", "value", "wire"), CRLF_OPTIONS, ids=CRLF_IDS)
def test_purecurl_refuses_crlf_in_option(
    pure: ModuleType, scripted: ServerFactory, option: str, value: Any, wire: bytes
) -> None:
    """purecurl (documented in proto/request.py): CR or LF in a header value, user agent,
    cookie, referer or method fails the transfer with 43 and nothing is sent; the connection is
    not even opened for the request."""
    srv, store = capturing(scripted)
    out = fetch(pure, srv.url("/"), [(option, value)])
    assert out.code == pure.E_BAD_FUNCTION_ARGUMENT == 43
    assert out.message.startswith("CR, LF or NUL in ")
    assert out.body == b""
    assert all(INJECTED.encode() not in data for data in store)


@pytest.mark.parametrize(("option", "value", "wire"), CRLF_OPTIONS, ids=CRLF_IDS)
def test_purecurl_refuses_crlf_in_a_busy_multi(
    pure: ModuleType, scripted: ServerFactory, option: str, value: Any, wire: bytes
) -> None:
    """The refusal is a result code through info_read, not an exception out of the loop; the
    other transfers on the multi are untouched."""
    srv, store = capturing(scripted)
    healthy_srv = scripted.http()
    bad, _ = make_curl(pure, srv.url("/"), [(option, value)])
    good = [make_curl(pure, healthy_srv.url(f"/bytes/{n}"))[0] for n in (0, 10, 100_000)]
    try:
        outs = run_multi(pure, [*good, bad], timeout=10)
    finally:
        for c in [*good, bad]:
            c.close()
    assert [o.code for o in outs] == [0, 0, 0, 43]
    assert [len(o.body) for o in outs] == [0, 10, 100_000, 0]
    assert all(INJECTED.encode() not in data for data in store)


@pytest.mark.parametrize(("option", "value", "wire"), CRLF_OPTIONS, ids=CRLF_IDS)
def test_libcurl_sends_crlf_in_option_as_is(
    pycurl_mod: ModuleType, scripted: ServerFactory, option: str, value: Any, wire: bytes
) -> None:
    """libcurl 8.23 (the real pycurl) sends these values as they are: the application's own
    CR/LF splits the request. Recorded so that a change in libcurl shows up here."""
    srv, store = capturing(scripted)
    out = fetch(pycurl_mod, srv.url("/"), [(option, value)])
    assert out.code == 0
    assert wire in store[0]


NUL_OPTIONS: list[tuple[str, Any]] = [
    ("URL", "http://127.0.0.1/a\x00b"),
    ("HTTPHEADER", ["X-A: v\x00X"]),
    ("USERAGENT", "ua\x00x"),
    ("CUSTOMREQUEST", "G\x00ET"),
    ("COOKIE", "a=b\x00c"),
    ("REFERER", "http://r/\x00"),
    ("USERAGENT", b"ua\x00x"),
    ("HTTPHEADER", [b"X-A: v\x00X"]),
]


@pytest.mark.parametrize(
    ("option", "value"),
    NUL_OPTIONS,
    ids=["url", "header", "useragent", "method", "cookie", "referer", "bytes-ua", "bytes-hdr"],
)
def test_nul_in_option_raises_at_setopt(mod: ModuleType, option: str, value: Any) -> None:
    """A NUL cannot pass through a C string: pycurl's setopt raises ValueError("embedded null
    byte") before libcurl sees the value; purecurl raises the same."""
    c = mod.Curl()
    try:
        with pytest.raises(ValueError, match="embedded null byte"):
            c.setopt(getattr(mod, option), value)
    finally:
        c.close()


@pytest.mark.parametrize(
    "path", ["/a\r\nX-Injected: 1", "/a\nb", "/a\rb", "/a b", "/a\tb"], ids=repr
)
def test_control_characters_in_url_rejected(
    mod: ModuleType, scripted: ServerFactory, path: str
) -> None:
    """CR, LF, a blank or a tab in the URL: "URL rejected: Bad path" (3); nothing is sent."""
    srv, store = capturing(scripted)
    out = fetch(mod, srv.url("/").rstrip("/") + path)
    assert (out.code, out.message) == (3, "URL rejected: Bad path")
    assert store == []
    assert srv.connections_accepted == 0


def test_control_characters_in_host_rejected(mod: ModuleType) -> None:
    """CR/LF in the host name cannot reach a Host header: the URL is refused (3) before any
    connection is made."""
    out = fetch(mod, "http://127.0.0.1\r\nX-Injected: 1/")
    assert out.code == 3


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/a%0d%0ab%00", "/a%0D%0Ab%00"),  # encoded CR LF NUL stay encoded (hex upper-cased)
        ("/a%2Fb%2fc", "/a%2Fb%2Fc"),  # an encoded slash is not a path separator
        ("/%7E%41?q=%26%3D&r=%20", "/%7E%41?q=%26%3D&r=%20"),
        ("/x/%2e%2e/y", "/y"),  # encoded dots ARE dot segments (RFC 3986 6.2.2.2): removed
        ("/x/../y", "/y"),  # RFC 3986 5.2.4: literal dot segments are removed
        ("/caf%C3%A9?%E2%9C%93", "/caf%C3%A9?%E2%9C%93"),
    ],
)
def test_percent_encoding_preserved_in_target(
    mod: ModuleType, scripted: ServerFactory, path: str, target: str
) -> None:
    """Percent-encoded octets reach the request target as escapes, never decoded (a decoded
    %0d%0a would split the request, a decoded %2f or %2e%2e would change the path)."""
    srv, store = capturing(scripted)
    out = fetch(mod, srv.url("/").rstrip("/") + path)
    assert out.code == 0
    request_line = store[0].split(b"\r\n", 1)[0]
    assert request_line == f"GET {target} HTTP/1.1".encode()


def test_host_header_from_url_without_userinfo(mod: ModuleType, scripted: ServerFactory) -> None:
    """The Host header is the URL's host and port only: user info never appears in it, and the
    user info goes out as Basic credentials to that host alone."""
    srv, store = capturing(scripted)
    out = fetch(mod, f"http://us%3Aer:p%40ss@127.0.0.1:{srv.port}/")
    assert out.code == 0
    head = store[0].decode("latin-1")
    assert f"\r\nHost: 127.0.0.1:{srv.port}\r\n" in head
    assert "us" not in head.split("\r\nHost: ", 1)[1].split("\r\n", 1)[0]
    # "us:er" / "p@ss" decoded, then Base64: dXM6ZXI6cEBzcw==
    assert "\r\nAuthorization: Basic dXM6ZXI6cEBzcw==\r\n" in head


def test_connect_to_does_not_change_host(mod: ModuleType, scripted: ServerFactory) -> None:
    """CONNECT_TO does not change the Host header: it names where to connect, the URL still
    names who is asked (so a Host header is never derived from routing options)."""
    srv, store = capturing(scripted)
    opts = [("CONNECT_TO", [f"example.com:80:127.0.0.1:{srv.port}"])]
    out = fetch(mod, "http://example.com/", opts)
    assert out.code == 0
    assert b"\r\nHost: example.com\r\n" in store[0]
