"""HTTP proxies through the engine, on purecurl and the real pycurl alike: absolute-form
forwarding, CONNECT tunnels, proxy credentials, failures, and the proxy environment variables.
The byte layouts are tested sans-IO in tests/unit/test_proxy.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

from tests.integration._util import fetch, free_port, make_curl
from tests.proxy_servers import HttpProxy
from tests.servers import HttpServer


@pytest.fixture
def origin() -> Iterator[HttpServer]:
    with HttpServer() as server:
        yield server


@pytest.fixture
def proxy() -> Iterator[HttpProxy]:
    with HttpProxy() as server:
        yield server


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def test_forward_get(mod: ModuleType, origin: HttpServer, proxy: HttpProxy) -> None:
    url = origin.url("/bytes/10")
    out = fetch(mod, url, [("PROXY", f"127.0.0.1:{proxy.port}"), ("USERAGENT", "t")])
    assert (out.code, out.response_code, len(out.body)) == (0, 200, 10)
    request = proxy.requests[0]
    assert (request.method, request.target) == ("GET", url)
    assert request.headers == [
        ("Host", f"127.0.0.1:{origin.port}"),
        ("User-Agent", "t"),
        ("Accept", "*/*"),
        ("Proxy-Connection", "Keep-Alive"),
    ]


def test_forward_with_credentials(mod: ModuleType, origin: HttpServer, proxy: HttpProxy) -> None:
    out = fetch(
        mod,
        origin.url("/bytes/1"),
        [("PROXY", f"http://127.0.0.1:{proxy.port}"), ("PROXYUSERPWD", "u:p")],
    )
    assert out.code == 0
    assert ("Proxy-Authorization", "Basic dTpw") in proxy.requests[0].headers


def test_tunnel_when_asked(mod: ModuleType, origin: HttpServer, proxy: HttpProxy) -> None:
    c, out = make_curl(
        mod,
        origin.url("/bytes/5"),
        [("PROXY", f"127.0.0.1:{proxy.port}"), ("HTTPPROXYTUNNEL", 1), ("USERAGENT", "t")],
    )
    try:
        c.perform()
        assert c.getinfo(mod.HTTP_CONNECTCODE) == 200
    finally:
        c.close()
    assert len(out.body) == 5
    request = proxy.requests[0]
    assert (request.method, request.target) == ("CONNECT", f"127.0.0.1:{origin.port}")
    # the origin saw an origin-form request through the tunnel
    assert origin.requests[0].target == "/bytes/5"
    # the proxy's answer reaches the header callback before the origin's
    assert out.headers[:2] == [b"HTTP/1.1 200 Connection established\r\n", b"\r\n"]


def test_tunnel_refused(mod: ModuleType, origin: HttpServer) -> None:
    answer = b"HTTP/1.1 403 Forbidden\r\nX-Why: policy\r\nContent-Length: 0\r\n\r\n"
    with HttpProxy(connect_response=answer) as proxy:
        c, out = make_curl(
            mod,
            origin.url("/"),
            [("PROXY", f"127.0.0.1:{proxy.port}"), ("HTTPPROXYTUNNEL", 1)],
        )
        try:
            with pytest.raises(mod.error) as info:
                c.perform()
            assert c.getinfo(mod.HTTP_CONNECTCODE) == 403
            assert c.getinfo(mod.RESPONSE_CODE) == 0
        finally:
            c.close()
    assert info.value.args == (mod.E_COULDNT_CONNECT, "CONNECT tunnel failed, response 403")
    assert out.headers[:2] == [b"HTTP/1.1 403 Forbidden\r\n", b"X-Why: policy\r\n"]
    assert origin.requests == []


def test_proxy_not_listening(mod: ModuleType, origin: HttpServer) -> None:
    port = free_port()
    out = fetch(mod, origin.url("/"), [("PROXY", f"127.0.0.1:{port}")])
    assert out.code == mod.E_COULDNT_CONNECT
    assert f"127.0.0.1:{port}" in out.message or f"127.0.0.1 port {port}" in out.message


def test_noproxy_goes_direct(mod: ModuleType, origin: HttpServer, proxy: HttpProxy) -> None:
    out = fetch(
        mod,
        origin.url("/bytes/3"),
        [("PROXY", f"127.0.0.1:{proxy.port}"), ("NOPROXY", "127.0.0.1")],
    )
    assert (out.code, len(out.body)) == (0, 3)
    assert proxy.requests == []


def test_empty_proxy_option_ignores_environment(
    mod: ModuleType, origin: HttpServer, proxy: HttpProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{proxy.port}")
    out = fetch(mod, origin.url("/bytes/2"), [("PROXY", "")])
    assert out.code == 0
    assert proxy.requests == []


def test_http_proxy_environment(
    mod: ModuleType, origin: HttpServer, proxy: HttpProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{proxy.port}")
    out = fetch(mod, origin.url("/bytes/2"))
    assert (out.code, len(out.body)) == (0, 2)
    assert proxy.requests[0].target == origin.url("/bytes/2")
    # no_proxy wins over it
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    out = fetch(mod, origin.url("/bytes/2"))
    assert out.code == 0
    assert len(proxy.requests) == 1


def test_forward_connection_reused(mod: ModuleType, origin: HttpServer, proxy: HttpProxy) -> None:
    c, out = make_curl(mod, origin.url("/bytes/4"), [("PROXY", f"127.0.0.1:{proxy.port}")])
    try:
        c.perform()
        c.perform()
        assert c.getinfo(mod.NUM_CONNECTS) == 0
    finally:
        c.close()
    assert proxy.connections_accepted == 1
    assert len(out.body) == 8
