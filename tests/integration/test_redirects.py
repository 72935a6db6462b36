"""Redirects through the engine, on purecurl and the real pycurl alike: following, limits,
method rules, credentials across origins, and what getinfo reports at every step.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.integration._util import fetch, make_curl, run_multi
from tests.servers import HttpServer, Response, Route

FOLLOW = ("FOLLOWLOCATION", 1)


def _to(location: str, status: int = 302) -> Response:
    return Response(status, headers=[("Location", location)], body=b"redirect body")


@pytest.fixture
def server() -> Iterator[HttpServer]:
    routes: dict[str, Route] = {
        "/a": _to("/b"),
        "/b": b"final",
        "/rel": _to("sub/x"),
        "/sub/x": b"relative",
        "/loop": _to("/loop"),
        "/file": _to("file:///etc/hostname"),
        "/bad": _to("http://[::1"),
        "/303": _to("/echo", 303),
        "/301": _to("/echo", 301),
        "/302": _to("/echo", 302),
        "/307": _to("/echo", 307),
        "/308": _to("/echo", 308),
        "/304": Response(304, headers=[("Location", "/b")]),
    }
    with HttpServer(routes) as s:
        yield s


def _info(mod: ModuleType, c: Any) -> tuple[Any, ...]:
    return (
        c.getinfo(mod.REDIRECT_COUNT),
        c.getinfo(mod.REDIRECT_URL),
        c.getinfo(mod.EFFECTIVE_URL),
        c.getinfo(mod.RESPONSE_CODE),
    )


def test_not_followed_by_default(mod: ModuleType, server: HttpServer) -> None:
    c, out = make_curl(mod, server.url("/a"))
    try:
        c.perform()
        assert _info(mod, c) == (0, server.url("/b"), server.url("/a"), 302)
    finally:
        c.close()
    assert out.body == b"redirect body"


def test_followed(mod: ModuleType, server: HttpServer) -> None:
    c, out = make_curl(mod, server.url("/a"), [FOLLOW])
    try:
        c.perform()
        assert _info(mod, c) == (1, None, server.url("/b"), 200)
        assert c.getinfo(mod.REDIRECT_TIME) > 0
    finally:
        c.close()
    assert out.body == b"final"  # the 3xx body is not the user's
    # both responses' headers reach the header callback
    assert out.headers[0].startswith(b"HTTP/1.1 302")
    assert any(h.startswith(b"HTTP/1.1 200") for h in out.headers)
    assert server.connections_accepted == 1  # the same connection, kept alive


def test_relative_location(mod: ModuleType, server: HttpServer) -> None:
    out = fetch(mod, server.url("/rel"), [FOLLOW])
    assert (out.code, out.body) == (0, b"relative")


def test_maxredirs(mod: ModuleType, server: HttpServer) -> None:
    for limit, count in ((None, 30), (3, 3), (0, 0)):
        opts: list[tuple[str, Any]] = [FOLLOW]
        if limit is not None:
            opts.append(("MAXREDIRS", limit))
        c, out = make_curl(mod, server.url("/loop"), opts)
        try:
            with pytest.raises(mod.error) as info:
                c.perform()
            assert c.getinfo(mod.REDIRECT_COUNT) == count
        finally:
            c.close()
        shown = 30 if limit is None else limit
        assert info.value.args == (
            mod.E_TOO_MANY_REDIRECTS,
            f"Maximum ({shown}) redirects followed",
        )
        assert out.body == b""


def test_file_scheme_refused(mod: ModuleType, server: HttpServer) -> None:
    c, _ = make_curl(mod, server.url("/file"), [FOLLOW])
    try:
        with pytest.raises(mod.error) as info:
            c.perform()
        assert c.getinfo(mod.EFFECTIVE_URL) == "file:///etc/hostname"
    finally:
        c.close()
    assert info.value.args == (
        mod.E_UNSUPPORTED_PROTOCOL,
        'Protocol "file" is disabled (in redirect)',
    )


def test_unparsable_location(mod: ModuleType, server: HttpServer) -> None:
    out = fetch(mod, server.url("/bad"), [FOLLOW])
    assert (out.code, out.message) == (
        mod.E_URL_MALFORMAT,
        "The redirect target URL could not be parsed: Bad IPv6 address",
    )


def test_any_3xx_with_location_is_followed(mod: ModuleType, server: HttpServer) -> None:
    # libcurl follows a Location on every 3xx, even 304 (checked against 8.23)
    out = fetch(mod, server.url("/304"), [FOLLOW])
    assert (out.code, out.response_code, out.body) == (0, 200, b"final")


@pytest.mark.parametrize(
    ("path", "postredir", "method", "body"),
    [
        ("/301", 0, "GET", b""),
        ("/302", 0, "GET", b""),
        ("/303", 0, "GET", b""),
        ("/307", 0, "POST", b"x=1"),
        ("/308", 0, "POST", b"x=1"),
        ("/301", 1, "POST", b"x=1"),
        ("/302", 2, "POST", b"x=1"),
        ("/303", 4, "POST", b"x=1"),
    ],
)
def test_post_method_rules(
    mod: ModuleType, server: HttpServer, path: str, postredir: int, method: str, body: bytes
) -> None:
    c, out = make_curl(
        mod, server.url(path), [FOLLOW, ("POSTFIELDS", "x=1"), ("POSTREDIR", postredir)]
    )
    try:
        c.perform()
        assert c.getinfo(mod.EFFECTIVE_METHOD) == method
    finally:
        c.close()
    assert out.body == body
    second = server.requests[1]
    assert second.method == method
    names = [k.lower() for k, _ in second.headers]
    assert ("content-type" in names) == (method == "POST")


def test_customrequest_survives(mod: ModuleType, server: HttpServer) -> None:
    out = fetch(mod, server.url("/303"), [FOLLOW, ("CUSTOMREQUEST", "PUT")])
    assert out.code == 0
    assert [r.method for r in server.requests] == ["PUT", "PUT"]


def test_credentials_not_sent_to_another_origin(mod: ModuleType) -> None:
    with HttpServer() as other:
        target = other.url("/bytes/1")
        with HttpServer({"/go": _to(target)}) as first:
            opts: list[tuple[str, Any]] = [
                FOLLOW,
                ("USERPWD", "user:secret"),
                ("HTTPHEADER", ["Authorization: Bearer t", "Cookie: a=b", "X-Keep: 1"]),
            ]
            out = fetch(mod, first.url("/go"), opts)
            assert out.code == 0
            sent_first = dict(first.requests[0].headers)
        sent = dict(other.requests[0].headers)
    assert sent_first["Authorization"] == "Bearer t"
    assert "Authorization" not in sent
    assert "Cookie" not in sent
    assert sent["X-Keep"] == "1"


def test_unrestricted_auth_sends_them(mod: ModuleType) -> None:
    with HttpServer() as other:
        target = other.url("/bytes/1")
        with HttpServer({"/go": _to(target)}) as first:
            opts = [FOLLOW, ("USERPWD", "user:secret"), ("UNRESTRICTED_AUTH", 1)]
            assert fetch(mod, first.url("/go"), opts).code == 0
        sent = dict(other.requests[0].headers)
    assert sent["Authorization"] == "Basic " + base64.b64encode(b"user:secret").decode()


def test_same_origin_keeps_credentials(mod: ModuleType, server: HttpServer) -> None:
    assert fetch(mod, server.url("/a"), [FOLLOW, ("USERPWD", "u:p")]).code == 0
    assert dict(server.requests[1].headers)["Authorization"] == "Basic dTpw"


def test_autoreferer(mod: ModuleType, server: HttpServer) -> None:
    assert fetch(mod, server.url("/a?q=1"), [FOLLOW, ("AUTOREFERER", 1)]).code == 0
    assert dict(server.requests[1].headers)["Referer"] == server.url("/a?q=1")


def test_redirects_on_a_multi(mod: ModuleType, server: HttpServer) -> None:
    handles = [make_curl(mod, server.url("/a"), [FOLLOW])[0] for _ in range(10)]
    try:
        outs = run_multi(mod, handles)
    finally:
        for c in handles:
            c.close()
    assert [(o.code, o.body) for o in outs] == [(0, b"final")] * 10
