"""Credentials and redirects (issue 9), after libcurl's CVEs: credentials go only where the user
sent them.

- CVE-2018-1000007: custom Authorization headers followed a redirect to another host.
- CVE-2022-27776: Authorization and Cookie headers followed a redirect to another port or
  scheme on the same host.
- CVE-2022-27774: credentials followed a redirect to another port or protocol.
- CVE-2023-23914-like (state that should not carry over between requests): .netrc
  credentials for one host used for another; proxy credentials sent to the origin.

Each test runs on purecurl and the real pycurl (fixture `mod`) unless said otherwise. Host
changes use RESOLVE to give one loopback server two names, so only the host differs.
tests/integration/test_redirects.py already covers USERPWD and custom headers to another
port, UNRESTRICTED_AUTH for USERPWD and file:// refused by default; this file extends them.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.integration._util import Opts, fetch
from tests.proxy_servers import HttpProxy
from tests.servers import HttpServer, Request, Response
from tests.tls_certs import Pki
from tests.tls_servers import TlsHttpServer, server_context

FOLLOW = ("FOLLOWLOCATION", 1)
PASSWORD = "S3cretPw"
BASIC = "Basic " + base64.b64encode(f"user:{PASSWORD}".encode()).decode()
SECRET_HEADERS = ["Authorization: Bearer tok", "Cookie: sid=1", "X-Kept: yes"]


def _to(location: str) -> Response:
    return Response(302, headers=[("Location", location)])


@pytest.fixture
def servers() -> Iterator[tuple[HttpServer, HttpServer]]:
    """Two HttpServers: `first` (reachable as a.test and b.test) and `other` (another port)."""
    with HttpServer() as other, HttpServer() as first:
        yield first, other


def _resolve(*servers: HttpServer) -> tuple[str, Any]:
    names = [f"{host}:{s.port}:127.0.0.1" for s in servers for host in ("a.test", "b.test")]
    return ("RESOLVE", names)


def _final(first: HttpServer, other: HttpServer) -> Request:
    """The request that followed the redirect (the last one either server received)."""
    if other.requests:
        return other.requests[-1]
    return first.requests[-1]


CREDENTIALS: list[tuple[str, Opts]] = [
    ("userpwd", [("USERPWD", f"user:{PASSWORD}")]),
    ("headers", [("HTTPHEADER", SECRET_HEADERS)]),
    ("cookie-option", [("COOKIE", "sid=1")]),
    ("url-userinfo", []),
]


def _start_url(kind: str, port: int) -> str:
    userinfo = f"user:{PASSWORD}@" if kind == "url-userinfo" else ""
    return f"http://{userinfo}a.test:{port}/go"


def _sent(request: Request) -> dict[str, str | None]:
    return {name: request.header(name) for name in ("Authorization", "Cookie")}


@pytest.mark.parametrize("kind", [k for k, _ in CREDENTIALS])
@pytest.mark.parametrize("change", ["host", "port"])
def test_credentials_dropped_on_redirect(
    mod: ModuleType, servers: tuple[HttpServer, HttpServer], kind: str, change: str
) -> None:
    """CVE-2018-1000007 / CVE-2022-27776 / CVE-2022-27774: a redirect to another host (same
    port) or another port (same host) carries no Authorization and no Cookie, whether they came
    from USERPWD, the URL's user info, HTTPHEADER or COOKIE; other custom headers still go."""
    first, other = servers
    target = f"http://b.test:{first.port}/bytes/1" if change == "host" else other.url("/bytes/1")
    first.routes["/go"] = _to(target)
    opts = dict(CREDENTIALS)[kind]
    out = fetch(mod, _start_url(kind, first.port), [FOLLOW, _resolve(first, other), *opts])
    assert (out.code, out.body) == (0, pattern_1())
    assert any(v is not None for v in _sent(first.requests[0]).values())
    final = _final(first, other)
    assert final.target == "/bytes/1"
    assert _sent(final) == {"Authorization": None, "Cookie": None}
    if kind == "headers":
        assert final.header("X-Kept") == "yes"


def pattern_1() -> bytes:
    return b"\x00"  # /bytes/1 serves the first byte of the pattern


@pytest.mark.parametrize(
    "kind",
    [
        "userpwd",
        "headers",
        "url-userinfo",
    ],
)
def test_credentials_kept_on_same_origin_redirect(
    mod: ModuleType, servers: tuple[HttpServer, HttpServer], kind: str
) -> None:
    """The same scheme, host and port: credentials follow (they are the user's to that origin)."""
    first, other = servers
    first.routes["/go"] = _to("/bytes/1")
    opts = dict(CREDENTIALS)[kind]
    out = fetch(mod, _start_url(kind, first.port), [FOLLOW, _resolve(first, other), *opts])
    assert out.code == 0
    sent = _sent(first.requests[1])
    assert sent["Authorization"] is not None


def test_unrestricted_auth_sends_everything(
    mod: ModuleType, servers: tuple[HttpServer, HttpServer]
) -> None:
    """UNRESTRICTED_AUTH: the user allowed it, so custom Authorization and Cookie headers
    follow a redirect to another host too."""
    first, other = servers
    first.routes["/go"] = _to(f"http://b.test:{first.port}/bytes/1")
    opts = [FOLLOW, _resolve(first, other), ("HTTPHEADER", SECRET_HEADERS)]
    out = fetch(mod, _start_url("headers", first.port), [*opts, ("UNRESTRICTED_AUTH", 1)])
    assert out.code == 0
    assert _sent(first.requests[1]) == {"Authorization": "Bearer tok", "Cookie": "sid=1"}


@pytest.mark.parametrize("kind", ["userpwd", "headers"])
def test_credentials_dropped_on_scheme_change(mod: ModuleType, pki: Pki, kind: str) -> None:
    """CVE-2022-27774 / CVE-2022-27776: a redirect from http to https on the same host name
    (another scheme, hence another port) carries no credentials."""
    opts = dict(CREDENTIALS)[kind]
    with TlsHttpServer(server_context(pki.server)) as tls, HttpServer() as first:
        first.routes["/go"] = _to(f"https://localhost:{tls.port}/bytes/1")
        resolve = (
            "RESOLVE",
            [f"localhost:{tls.port}:127.0.0.1", f"localhost:{first.port}:127.0.0.1"],
        )
        out = fetch(
            mod,
            f"http://localhost:{first.port}/go",
            [FOLLOW, resolve, ("CAINFO", str(pki.ca.cert_pem)), *opts],
        )
        assert (out.code, out.body) == (0, pattern_1())
        assert first.requests[0].header("Authorization") is not None
        assert _sent(tls.requests[0]) == {"Authorization": None, "Cookie": None}


@pytest.mark.parametrize(
    ("location", "scheme"),
    [
        ("file:///etc/passwd", "file"),
        ("ftp://127.0.0.1/x", "ftp"),
        ("ftps://127.0.0.1/x", "ftps"),
        ("gopher://127.0.0.1/x", "gopher"),
        ("dict://127.0.0.1/x", "dict"),
    ],
)
def test_redirect_outside_redir_protocols_refused(
    mod: ModuleType, servers: tuple[HttpServer, HttpServer], location: str, scheme: str
) -> None:
    """REDIR_PROTOCOLS = HTTP|HTTPS: a redirect to any other scheme ends with 1, 'Protocol "x"
    is disabled (in redirect)', and nothing is fetched from it."""
    first, _ = servers
    first.routes["/go"] = _to(location)
    allowed = mod.PROTO_HTTP | mod.PROTO_HTTPS
    out = fetch(mod, first.url("/go"), [FOLLOW, ("REDIR_PROTOCOLS", allowed)])
    assert (out.code, out.message) == (1, f'Protocol "{scheme}" is disabled (in redirect)')
    assert out.body == b""


@pytest.mark.parametrize("scheme", ["file", "gopher", "dict"])
def test_redirect_to_local_schemes_refused_by_default(
    mod: ModuleType, servers: tuple[HttpServer, HttpServer], scheme: str
) -> None:
    """Without REDIR_PROTOCOLS libcurl 8.x allows only HTTP, HTTPS, FTP and FTPS in redirects:
    file://, gopher:// and dict:// are refused (1)."""
    first, _ = servers
    first.routes["/go"] = _to(f"{scheme}://127.0.0.1/etc/passwd")
    out = fetch(mod, first.url("/go"), [FOLLOW])
    assert (out.code, out.message) == (1, f'Protocol "{scheme}" is disabled (in redirect)')


def test_ftp_redirect_not_followed_by_purecurl(
    pure: ModuleType, servers: tuple[HttpServer, HttpServer]
) -> None:
    """purecurl speaks no FTP: a redirect to ftp:// (allowed by libcurl's default
    REDIR_PROTOCOLS, where libcurl then tries to connect to port 21) ends with 1, 'Protocol
    "ftp" not supported', without a connection attempt."""
    first, _ = servers
    first.routes["/go"] = _to("ftp://127.0.0.1/x")
    out = fetch(pure, first.url("/go"), [FOLLOW])
    assert (out.code, out.message) == (1, 'Protocol "ftp" not supported')


def test_netrc_only_for_its_host(
    mod: ModuleType, servers: tuple[HttpServer, HttpServer], tmp_path: Path
) -> None:
    """.netrc credentials for a.test are sent to a.test, not to b.test after a redirect, and
    not to b.test asked directly."""
    first, other = servers
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine a.test login nuser password {PASSWORD}\n")
    first.routes["/go"] = _to(f"http://b.test:{first.port}/bytes/1")
    opts = [_resolve(first, other), ("NETRC", mod.NETRC_OPTIONAL), ("NETRC_FILE", str(netrc))]
    out = fetch(mod, f"http://a.test:{first.port}/go", [FOLLOW, *opts])
    assert out.code == 0
    expected = "Basic " + base64.b64encode(f"nuser:{PASSWORD}".encode()).decode()
    assert [r.header("Authorization") for r in first.requests] == [expected, None]
    assert [r.header("Host") for r in first.requests] == [
        f"a.test:{first.port}",
        f"b.test:{first.port}",
    ]
    assert fetch(mod, f"http://b.test:{first.port}/bytes/1", opts).code == 0
    assert first.requests[-1].header("Authorization") is None


@pytest.mark.parametrize("tunnel", [0, 1], ids=["forward", "tunnel"])
def test_proxy_credentials_never_reach_the_origin(
    mod: ModuleType, servers: tuple[HttpServer, HttpServer], tunnel: int
) -> None:
    """PROXYUSERPWD goes to the proxy only: in the absolute-form request (forward) or the
    CONNECT (tunnel), as Proxy-Authorization. The origin never receives it: through a tunnel
    the origin sees the client's bytes as sent, so no Proxy-Authorization and no Authorization
    is in them; forwarded, the proxy received no Authorization to pass on."""
    first, _ = servers
    with HttpProxy() as proxy:
        opts = [
            ("PROXY", f"http://127.0.0.1:{proxy.port}"),
            ("PROXYUSERPWD", f"puser:{PASSWORD}"),
            ("HTTPPROXYTUNNEL", tunnel),
        ]
        out = fetch(mod, first.url("/bytes/1"), opts)
        assert (out.code, out.body) == (0, pattern_1())
        (to_proxy,) = proxy.requests
    proxy_basic = "Basic " + base64.b64encode(f"puser:{PASSWORD}".encode()).decode()
    assert to_proxy.method == ("CONNECT" if tunnel else "GET")
    assert to_proxy.header("Proxy-Authorization") == proxy_basic
    assert to_proxy.header("Authorization") is None
    (at_origin,) = first.requests
    assert at_origin.header("Proxy-Authorization") is None
    assert at_origin.header("Authorization") is None
    assert PASSWORD.encode() not in at_origin.raw
    assert proxy_basic.encode() not in at_origin.raw


def test_proxy_credentials_not_sent_to_redirect_target_as_auth(
    mod: ModuleType, servers: tuple[HttpServer, HttpServer]
) -> None:
    """Through a tunnel, a redirect to another origin opens a new CONNECT (with the proxy's
    credentials, which are the proxy's) while neither origin sees any credential."""
    first, other = servers
    first.routes["/go"] = _to(other.url("/bytes/1"))
    with HttpProxy() as proxy:
        opts = [
            FOLLOW,
            ("PROXY", f"http://127.0.0.1:{proxy.port}"),
            ("PROXYUSERPWD", f"puser:{PASSWORD}"),
            ("HTTPPROXYTUNNEL", 1),
        ]
        out = fetch(mod, first.url("/go"), opts)
        assert out.code == 0
        assert [r.method for r in proxy.requests] == ["CONNECT", "CONNECT"]
        assert all(r.header("Proxy-Authorization") for r in proxy.requests)
    for request in (*first.requests, *other.requests):
        assert PASSWORD.encode() not in request.raw
        assert request.header("Authorization") is None


def _debug_run(mod: ModuleType, url: str, opts: Opts) -> list[tuple[int, bytes]]:
    seen: list[tuple[int, bytes]] = []
    debug = ("DEBUGFUNCTION", lambda kind, data: seen.append((kind, bytes(data))))
    out = fetch(mod, url, [("VERBOSE", 1), debug, *opts])
    assert out.code == 0
    return seen


def _leaks(seen: list[tuple[int, bytes]], mod: ModuleType, secret: bytes) -> list[bytes]:
    """Lines of debug output holding `secret` (or its Basic form) other than the
    Authorization / Proxy-Authorization lines of an outgoing head."""
    found = []
    for kind, data in seen:
        for line in data.split(b"\n"):
            if secret not in line and base64.b64encode(b"user:" + secret) not in line:
                continue
            auth_line = line.startswith((b"Authorization: ", b"Proxy-Authorization: "))
            if kind == mod.INFOTYPE_HEADER_OUT and auth_line:
                continue
            found.append(line)
    return found


def test_no_password_in_verbose_output(
    pure: ModuleType, servers: tuple[HttpServer, HttpServer]
) -> None:
    """purecurl's VERBOSE / DEBUGFUNCTION output holds the password nowhere but in the
    Authorization header line of the outgoing head (the bytes that were sent), not even when
    the URL carried it and a redirect is followed."""
    first, other = servers
    first.routes["/go"] = _to("/bytes/1")
    url = f"http://user:{PASSWORD}@a.test:{first.port}/go"
    seen = _debug_run(pure, url, [FOLLOW, _resolve(first, other)])
    assert _leaks(seen, pure, PASSWORD.encode()) == []
    heads = [data for kind, data in seen if kind == pure.INFOTYPE_HEADER_OUT]
    assert len(heads) == 2
    assert f"Authorization: {BASIC}\r\n".encode() in heads[0]


def test_libcurl_shows_url_password_when_following(
    pycurl_mod: ModuleType, servers: tuple[HttpServer, HttpServer]
) -> None:
    """Recorded libcurl 8.23 behaviour, for contrast: its "Issue another request to this URL"
    text line repeats the URL with the user's password in it. purecurl leaves the user info out
    of that line (test above)."""
    first, other = servers
    first.routes["/go"] = _to("/bytes/1")
    url = f"http://user:{PASSWORD}@a.test:{first.port}/go"
    seen = _debug_run(pycurl_mod, url, [FOLLOW, _resolve(first, other)])
    leaks = _leaks(seen, pycurl_mod, PASSWORD.encode())
    assert leaks == [
        f"Issue another request to this URL: 'http://user:{PASSWORD}@a.test:"
        f"{first.port}/bytes/1'".encode()
    ]


def test_no_password_in_verbose_output_both(
    mod: ModuleType, servers: tuple[HttpServer, HttpServer]
) -> None:
    """USERPWD and PROXYUSERPWD without redirects: on both libcurl and purecurl the password
    appears only in the (Proxy-)Authorization lines of outgoing heads."""
    first, _ = servers
    with HttpProxy() as proxy:
        opts = [
            ("USERPWD", f"user:{PASSWORD}"),
            ("PROXY", f"http://127.0.0.1:{proxy.port}"),
            ("PROXYUSERPWD", f"user:{PASSWORD}"),
        ]
        seen = _debug_run(mod, first.url("/bytes/1"), opts)
    assert _leaks(seen, mod, PASSWORD.encode()) == []
