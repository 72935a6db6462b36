"""HTTP authentication through the engine, on purecurl and the real pycurl alike: Basic,
Digest (a server that checks the answer), the choice among offered schemes, Bearer, a POST
that must be sent again, HTTPAUTH_AVAIL, .netrc and the cookie-free 401 paths.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.integration._util import fetch, make_curl, perform
from tests.servers import HttpServer, Request, Response

USER, PASSWORD = "alice", "s3cret"
NONCE = "dcd98b7102dd2f0e8b11d0f600bfb0c093"


def _params(value: str) -> dict[str, str]:
    return {k: v1 or v2 for k, v1, v2 in re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]+))', value)}


def _digest_answer(value: str | None, method: str) -> dict[str, str] | None:
    """The parameters of a Digest answer (MD5, qop auth) that is right for USER/PASSWORD and
    `method` (RFC 7616 3.4.1), or None."""
    if value is None or not value.startswith("Digest "):
        return None
    p = _params(value[7:])

    def h(s: str) -> str:
        return hashlib.md5(s.encode()).hexdigest()

    ha1 = h(f"{USER}:{p['realm']}:{PASSWORD}")
    ha2 = h(f"{method}:{p['uri']}")
    want = h(f"{ha1}:{p['nonce']}:{p['nc']}:{p['cnonce']}:{p['qop']}:{ha2}")
    return p if p["response"] == want and p["username"] == USER else None


def _digest_ok(request: Request) -> bool:
    p = _digest_answer(request.header("authorization"), request.method)
    return p is not None and p["uri"] == request.target and p["nonce"] == NONCE


_CHALLENGE = f'Digest realm="test", nonce="{NONCE}", qop="auth", algorithm=MD5'


def _digest_route(request: Request) -> Response:
    if _digest_ok(request):
        return Response(body=b"digest ok " + request.body)
    return Response(401, [("WWW-Authenticate", _CHALLENGE)], body=b"denied")


def _basic_route(request: Request) -> Response:
    want = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    if request.header("authorization") == want:
        return Response(body=b"basic ok")
    return Response(401, [("WWW-Authenticate", 'Basic realm="test"')], body=b"denied")


def _both_route(request: Request) -> Response:
    if _digest_ok(request):
        return Response(body=b"digest ok")
    return Response(
        401,
        [("WWW-Authenticate", 'Basic realm="test"'), ("WWW-Authenticate", _CHALLENGE)],
        body=b"denied",
    )


def _bearer_route(request: Request) -> Response:
    if request.header("authorization") == "Bearer tok123":
        return Response(body=b"bearer ok")
    return Response(401, [("WWW-Authenticate", 'Bearer realm="x"')], body=b"denied")


@pytest.fixture
def server() -> Iterator[HttpServer]:
    routes = {
        "/digest": _digest_route,
        "/basic": _basic_route,
        "/both": _both_route,
        "/bearer": _bearer_route,
    }
    with HttpServer(routes) as s:
        yield s


LOGIN = ("USERPWD", f"{USER}:{PASSWORD}")


def test_basic_by_default(mod: ModuleType, server: HttpServer) -> None:
    out = fetch(mod, server.url("/basic"), [LOGIN])
    assert (out.code, out.response_code, out.body) == (0, 200, b"basic ok")
    assert len(server.requests) == 1


def test_basic_credentials_in_url(mod: ModuleType, server: HttpServer) -> None:
    url = server.url("/basic").replace("http://", f"http://{USER}:{PASSWORD}@")
    out = fetch(mod, url)
    assert (out.code, out.body) == (0, b"basic ok")


def test_digest_round_trip(mod: ModuleType, server: HttpServer) -> None:
    c, out = make_curl(mod, server.url("/digest"), [LOGIN, ("HTTPAUTH", mod.HTTPAUTH_DIGEST)])
    try:
        result = perform(mod, c)
        assert c.getinfo(mod.HTTPAUTH_AVAIL) == mod.HTTPAUTH_DIGEST
        assert c.getinfo(mod.RESPONSE_CODE) == 200
    finally:
        c.close()
    assert (result.code, out.body) == (0, b"digest ok ")  # the 401's body is not the user's
    assert [r.header("authorization") is None for r in server.requests] == [True, False]
    statuses = [h for h in out.headers if h.startswith(b"HTTP/")]
    assert [s.split()[1] for s in statuses] == [b"401", b"200"]
    assert server.connections_accepted == 1


def test_any_picks_digest_over_basic(mod: ModuleType, server: HttpServer) -> None:
    c, out = make_curl(mod, server.url("/both"), [LOGIN, ("HTTPAUTH", mod.HTTPAUTH_ANY)])
    try:
        result = perform(mod, c)
        avail = c.getinfo(mod.HTTPAUTH_AVAIL)
    finally:
        c.close()
    assert (result.code, out.body) == (0, b"digest ok")
    assert avail == mod.HTTPAUTH_BASIC | mod.HTTPAUTH_DIGEST


def test_wrong_password_ends_with_the_401(mod: ModuleType, server: HttpServer) -> None:
    out = fetch(
        mod,
        server.url("/digest"),
        [("USERPWD", f"{USER}:wrong"), ("HTTPAUTH", mod.HTTPAUTH_DIGEST)],
    )
    assert (out.code, out.response_code, out.body) == (0, 401, b"denied")
    assert len(server.requests) == 2


def test_wrong_password_failonerror(mod: ModuleType, server: HttpServer) -> None:
    out = fetch(
        mod,
        server.url("/basic"),
        [("USERPWD", f"{USER}:wrong"), ("FAILONERROR", 1)],
    )
    assert (out.code, out.message) == (
        mod.E_HTTP_RETURNED_ERROR,
        "The requested URL returned error: 401",
    )


def test_digest_post_is_sent_again(mod: ModuleType, server: HttpServer) -> None:
    out = fetch(
        mod,
        server.url("/digest"),
        [LOGIN, ("HTTPAUTH", mod.HTTPAUTH_DIGEST), ("POSTFIELDS", "k=v")],
    )
    assert (out.code, out.body) == (0, b"digest ok k=v")
    # the first request is a probe with an empty body (libcurl's "authneg")
    assert [r.body for r in server.requests] == [b"", b"k=v"]


def test_digest_put_rewinds_the_upload(mod: ModuleType, server: HttpServer) -> None:
    body = io.BytesIO(b"payload")

    def seek(offset: int, origin: int) -> int:
        body.seek(offset, origin)
        return 0

    out = fetch(
        mod,
        server.url("/digest"),
        [
            LOGIN,
            ("HTTPAUTH", mod.HTTPAUTH_ANY),
            ("UPLOAD", 1),
            ("READFUNCTION", body.read),
            ("SEEKFUNCTION", seek),
            ("INFILESIZE", 7),
        ],
    )
    assert (out.code, out.body) == (0, b"digest ok payload")


def test_bearer(mod: ModuleType, server: HttpServer) -> None:
    out = fetch(
        mod,
        server.url("/bearer"),
        # CURLAUTH_BEARER is 1 << 6; pycurl has no name for it
        [("XOAUTH2_BEARER", "tok123"), ("HTTPAUTH", 1 << 6)],
    )
    assert (out.code, out.body) == (0, b"bearer ok")


def test_no_credentials_no_retry(mod: ModuleType, server: HttpServer) -> None:
    out = fetch(mod, server.url("/digest"), [("HTTPAUTH", mod.HTTPAUTH_ANY)])
    assert (out.code, out.response_code, out.body) == (0, 401, b"denied")
    assert len(server.requests) == 1


def test_netrc(mod: ModuleType, server: HttpServer, tmp_path: Path) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login {USER} password {PASSWORD}\n")
    out = fetch(
        mod,
        server.url("/basic"),
        [("NETRC", mod.NETRC_OPTIONAL), ("NETRC_FILE", str(netrc))],
    )
    assert (out.code, out.body) == (0, b"basic ok")


def test_netrc_required_and_missing(mod: ModuleType, server: HttpServer, tmp_path: Path) -> None:
    out = fetch(
        mod,
        server.url("/basic"),
        [("NETRC", mod.NETRC_REQUIRED), ("NETRC_FILE", str(tmp_path / "none"))],
    )
    assert (out.code, out.message) == (mod.E_READ_ERROR, ".netrc error: no such file")


def test_auth_state_across_transfers(mod: ModuleType, server: HttpServer) -> None:
    """The picked scheme and the nonce live in the handle: the second transfer answers the
    challenge at once (nonce count 2)."""
    c, _ = make_curl(mod, server.url("/digest"), [LOGIN, ("HTTPAUTH", mod.HTTPAUTH_DIGEST)])
    try:
        for _ in range(2):
            assert perform(mod, c).code == 0
    finally:
        c.close()
    assert len(server.requests) == 3
    last: Any = server.requests[-1].header("authorization")
    assert _params(last[7:])["nc"] == "00000002"


def test_proxy_digest(mod: ModuleType) -> None:
    """PROXYAUTH Digest to a forwarding proxy: a 407 round trip with Proxy-Authorization."""
    from tests.servers import ScriptedServer, ServerConnection

    seen: list[str | None] = []

    def proxy(conn: ServerConnection) -> None:
        while True:
            request = conn.read_request()
            if request is None:
                return
            value = request.header("proxy-authorization")
            seen.append(value)
            if _digest_answer(value, request.method) is not None:
                conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nproxy ok")
                continue
            challenge = _CHALLENGE.encode()
            conn.send(
                b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: "
                + challenge
                + b"\r\nContent-Length: 6\r\n\r\ndenied"
            )

    with ScriptedServer(proxy) as s:
        c, out = make_curl(
            mod,
            "http://origin.invalid/page",
            [
                ("PROXY", f"http://127.0.0.1:{s.port}"),
                ("PROXYUSERPWD", f"{USER}:{PASSWORD}"),
                ("PROXYAUTH", mod.HTTPAUTH_DIGEST),
            ],
        )
        try:
            result = perform(mod, c)
            avail = c.getinfo(mod.PROXYAUTH_AVAIL)
        finally:
            c.close()
    assert (result.code, out.body) == (0, b"proxy ok")
    assert avail == mod.HTTPAUTH_DIGEST
    assert seen[0] is None and seen[1] is not None and seen[1].startswith("Digest ")


def test_connect_tunnel_digest(mod: ModuleType, server: HttpServer) -> None:
    """PROXYAUTH Digest for a CONNECT tunnel: the proxy answers 407 with "Connection: close";
    the CONNECT goes again, on a new connection, with the Digest answer (uri "host:port")."""
    from tests.proxy_servers import HttpProxy

    def answer(request: Request) -> bytes | None:
        p = _digest_answer(request.header("proxy-authorization"), "CONNECT")
        if p is not None and p["uri"] == request.target:
            return None  # 200 Connection established
        return (
            b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: "
            + _CHALLENGE.encode()
            + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )

    with HttpProxy(connect_response=answer) as proxy:
        c, out = make_curl(
            mod,
            server.url("/basic").replace("/basic", "/bytes/5"),
            [
                ("PROXY", f"http://127.0.0.1:{proxy.port}"),
                ("HTTPPROXYTUNNEL", 1),
                ("PROXYUSERPWD", f"{USER}:{PASSWORD}"),
                ("PROXYAUTH", mod.HTTPAUTH_DIGEST),
            ],
        )
        try:
            result = perform(mod, c)
            code = c.getinfo(mod.HTTP_CONNECTCODE)
        finally:
            c.close()
        connects = [r.header("proxy-authorization") for r in proxy.requests]
    assert (result.code, len(out.body), code) == (0, 5, 200)
    assert connects[0] is None and (connects[1] or "").startswith("Digest ")
