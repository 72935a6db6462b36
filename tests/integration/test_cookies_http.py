"""Cookies through the engine, on purecurl and the real pycurl alike: the cookie engine started
by COOKIEFILE, cookies kept across transfers and redirects, COOKIEJAR written at close,
COOKIELIST and INFO_COOKIELIST, CURLOPT_COOKIE, and a jar shared through CurlShare.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.integration._util import fetch, make_curl, perform
from tests.servers import HttpServer, Request, Response, Route


def _show(request: Request) -> Response:
    return Response(body=(request.header("cookie") or "-").encode())


@pytest.fixture
def server() -> Iterator[HttpServer]:
    routes: dict[str, Route] = {
        "/set": Response(headers=[("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2")]),
        "/set-redirect": Response(302, [("Location", "/show"), ("Set-Cookie", "r=9; Path=/")]),
        "/show": _show,
        "/expire": Response(headers=[("Set-Cookie", "a=; Max-Age=0; Path=/")]),
    }
    with HttpServer(routes) as s:
        yield s


def test_no_engine_no_cookies(mod: ModuleType, server: HttpServer) -> None:
    c, out = make_curl(mod, server.url("/set"))
    try:
        perform(mod, c)
        c.setopt(mod.URL, server.url("/show"))
        out.chunks.clear()
        perform(mod, c)
        assert c.getinfo(mod.INFO_COOKIELIST) == []
    finally:
        c.close()
    assert out.body == b"-"


def test_engine_keeps_cookies_across_transfers(mod: ModuleType, server: HttpServer) -> None:
    c, out = make_curl(mod, server.url("/set"), [("COOKIEFILE", "")])
    try:
        perform(mod, c)
        lines = c.getinfo(mod.INFO_COOKIELIST)
        c.setopt(mod.URL, server.url("/show"))
        out.chunks.clear()
        perform(mod, c)
        assert out.body in (b"a=1; b=2", b"b=2; a=1")
        c.setopt(mod.URL, server.url("/expire"))
        perform(mod, c)
        c.setopt(mod.URL, server.url("/show"))
        out.chunks.clear()
        perform(mod, c)
        assert out.body == b"b=2"
    finally:
        c.close()
    assert sorted(lines) == [
        "127.0.0.1\tFALSE\t/\tFALSE\t0\ta\t1",
        "127.0.0.1\tFALSE\t/\tFALSE\t0\tb\t2",
    ]


def test_cookie_set_by_redirect_is_sent(mod: ModuleType, server: HttpServer) -> None:
    out = fetch(mod, server.url("/set-redirect"), [("COOKIEFILE", ""), ("FOLLOWLOCATION", 1)])
    assert (out.code, out.body) == (0, b"r=9")


def test_cookie_option_and_jar_together(mod: ModuleType, server: HttpServer) -> None:
    out = fetch(mod, server.url("/show"), [("COOKIE", "x=y")])
    assert out.body == b"x=y"
    c, out = make_curl(mod, server.url("/set"), [("COOKIEFILE", ""), ("COOKIE", "x=y")])
    try:
        perform(mod, c)
        c.setopt(mod.URL, server.url("/show"))
        out.chunks.clear()
        perform(mod, c)
    finally:
        c.close()
    assert out.body.endswith(b"; x=y") and b"a=1" in out.body


def test_cookiefile_and_cookiejar(mod: ModuleType, server: HttpServer, tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text("127.0.0.1\tFALSE\t/\tFALSE\t0\tfromfile\tyes\n")
    jar = tmp_path / "jar.txt"
    c, out = make_curl(
        mod, server.url("/show"), [("COOKIEFILE", str(source)), ("COOKIEJAR", str(jar))]
    )
    try:
        perform(mod, c)
        c.setopt(mod.URL, server.url("/set"))
        perform(mod, c)
        assert not jar.exists()  # written when the handle is cleaned up
    finally:
        c.close()
    assert out.body.startswith(b"fromfile=yes")
    text = jar.read_text()
    assert text.startswith("# Netscape HTTP Cookie File")
    assert "\ta\t1" in text and "\tb\t2" in text and "\tfromfile\tyes" in text


def test_cookielist_commands(mod: ModuleType, server: HttpServer) -> None:
    c, out = make_curl(mod, server.url("/show"))
    try:
        c.setopt(mod.COOKIELIST, "Set-Cookie: k=v; domain=127.0.0.1; path=/")
        perform(mod, c)
        assert out.body == b"k=v"
        c.setopt(mod.COOKIELIST, "ALL")
        assert c.getinfo(mod.INFO_COOKIELIST) == []
        out.chunks.clear()
        perform(mod, c)
        assert out.body == b"-"
    finally:
        c.close()


def test_shared_cookie_jar(mod: ModuleType, server: HttpServer) -> None:
    share = mod.CurlShare()
    share.setopt(mod.SH_SHARE, mod.LOCK_DATA_COOKIE)
    a, _ = make_curl(mod, server.url("/set"), [("COOKIEFILE", ""), ("SHARE", share)])
    b, out = make_curl(mod, server.url("/show"), [("COOKIEFILE", ""), ("SHARE", share)])
    try:
        perform(mod, a)
        perform(mod, b)
    finally:
        a.close()
        b.close()
        share.close()
    assert out.body in (b"a=1; b=2", b"b=2; a=1")


def test_cookiejar_written_when_the_handle_is_collected(
    mod: ModuleType, server: HttpServer, tmp_path: Path
) -> None:
    import gc

    jar = tmp_path / "jar.txt"
    c, _ = make_curl(mod, server.url("/set"), [("COOKIEJAR", str(jar))])
    perform(mod, c)
    del c
    gc.collect()
    assert "\ta\t1" in jar.read_text()
