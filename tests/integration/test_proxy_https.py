"""HTTPS proxies through the engine, on purecurl and the real pycurl alike: plain http and
https origins through an HTTPS proxy (TLS inside TLS), both verified, and the failures."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

from tests.integration._util import fetch, make_curl, perform
from tests.servers import HttpServer, pattern_bytes
from tests.tls_certs import Pki
from tests.tls_servers import TlsHttpProxy, TlsHttpServer, server_context


@pytest.fixture
def proxy(pki: Pki) -> Iterator[TlsHttpProxy]:
    with TlsHttpProxy(server_context(pki.server)) as server:
        yield server


@pytest.fixture
def origin(pki: Pki) -> Iterator[TlsHttpServer]:
    with TlsHttpServer(server_context(pki.server)) as server:
        yield server


def _opts(pki: Pki, proxy: TlsHttpProxy) -> list[tuple[str, object]]:
    return [
        ("PROXY", f"https://localhost:{proxy.port}"),
        ("PROXY_CAINFO", str(pki.ca.cert_pem)),
        ("CAINFO", str(pki.ca.cert_pem)),
    ]


def test_https_origin_through_https_proxy(
    mod: ModuleType, pki: Pki, proxy: TlsHttpProxy, origin: TlsHttpServer
) -> None:
    url = f"https://localhost:{origin.port}/bytes/300000"
    c, out = make_curl(mod, url, _opts(pki, proxy))
    try:
        result = perform(mod, c)
        infos = (
            c.getinfo(mod.HTTP_CONNECTCODE),
            c.getinfo(mod.SSL_VERIFYRESULT),
            c.getinfo(mod.PROXY_SSL_VERIFYRESULT),
        )
        c.perform()  # the second transfer reuses the tunnel
        reused = c.getinfo(mod.NUM_CONNECTS) == 0
    finally:
        c.close()
    assert result.code == 0, result.message
    assert out.body == pattern_bytes(300000) * 2
    assert infos == (200, 0, 0)
    assert reused
    assert proxy.requests[0].method == "CONNECT"


def test_http_origin_tunnelled_through_https_proxy(
    mod: ModuleType, pki: Pki, proxy: TlsHttpProxy
) -> None:
    with HttpServer() as origin:
        out = fetch(
            mod,
            origin.url("/bytes/1000"),
            [*_opts(pki, proxy), ("HTTPPROXYTUNNEL", 1)],
        )
    assert (out.code, out.body) == (0, pattern_bytes(1000))


def test_origin_certificate_checked_inside_the_tunnel(
    mod: ModuleType, pki: Pki, proxy: TlsHttpProxy
) -> None:
    with TlsHttpServer(server_context(pki.wrong_host)) as bad:
        out = fetch(mod, f"https://localhost:{bad.port}/", _opts(pki, proxy))
    assert out.code == mod.E_PEER_FAILED_VERIFICATION
