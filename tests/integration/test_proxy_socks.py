"""SOCKS proxies through the engine, on purecurl and the real pycurl alike: the four versions,
who resolves the target's name, RFC 1929 credentials, refusals, and TLS through SOCKS. The
handshake bytes are tested sans-IO in tests/unit/test_socks.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

from tests.integration._util import fetch
from tests.proxy_servers import SocksServer
from tests.servers import HttpServer
from tests.tls_certs import Pki
from tests.tls_servers import TlsHttpServer, server_context

E_PROXY = 97  # CURLE_PROXY (libcurl 7.73); pycurl exports no name for it


@pytest.fixture
def origin() -> Iterator[HttpServer]:
    with HttpServer() as server:
        yield server


@pytest.mark.parametrize(
    ("scheme", "version", "atyp", "socks4a"),
    [
        ("socks4", 4, 0, False),
        ("socks4a", 4, 0, True),
        ("socks5", 5, 1, False),
        ("socks5h", 5, 3, False),
    ],
)
def test_versions_and_who_resolves(
    mod: ModuleType, origin: HttpServer, scheme: str, version: int, atyp: int, socks4a: bool
) -> None:
    with SocksServer() as proxy:
        url = f"http://localhost:{origin.port}/bytes/6"
        # IPv4 only: "localhost" may resolve to ::1 first, where the origin does not listen
        opts = [("PROXY", f"{scheme}://127.0.0.1:{proxy.port}"), ("IPRESOLVE", mod.IPRESOLVE_V4)]
        out = fetch(mod, url, opts)
        assert (out.code, len(out.body)) == (0, 6)
        hs = proxy.handshakes[0]
    assert (hs.version, hs.atyp, hs.socks4a) == (version, atyp, socks4a)
    # the -a and -h variants send the name; the others an address resolved by the client
    assert hs.host == ("localhost" if scheme in ("socks4a", "socks5h") else "127.0.0.1")
    assert hs.port == origin.port


def test_socks5_credentials(mod: ModuleType, origin: HttpServer) -> None:
    with SocksServer(credentials=(b"user", b"secret")) as proxy:
        out = fetch(
            mod,
            origin.url("/bytes/2"),
            [("PROXY", f"socks5://127.0.0.1:{proxy.port}"), ("PROXYUSERPWD", "user:secret")],
        )
        assert (out.code, len(out.body)) == (0, 2)
        hs = proxy.handshakes[0]
    assert (hs.user, hs.password) == (b"user", b"secret")


def test_socks5_refused_is_e_proxy(mod: ModuleType, origin: HttpServer) -> None:
    # REP 5: connection refused by the destination
    reply = b"\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00"
    with SocksServer(reply=reply) as proxy:
        out = fetch(mod, origin.url("/"), [("PROXY", f"socks5://127.0.0.1:{proxy.port}")])
    assert out.code == E_PROXY
    assert origin.requests == []


def test_socks_proxy_closes(mod: ModuleType, origin: HttpServer) -> None:
    with SocksServer(method=-1) as proxy:
        out = fetch(mod, origin.url("/"), [("PROXY", f"socks5h://127.0.0.1:{proxy.port}")])
    assert out.code == E_PROXY
    assert "closed" in out.message


def test_https_through_socks5h(mod: ModuleType, pki: Pki) -> None:
    with TlsHttpServer(server_context(pki.server)) as origin, SocksServer() as proxy:
        out = fetch(
            mod,
            f"https://localhost:{origin.port}/bytes/9",
            [("PROXY", f"socks5h://127.0.0.1:{proxy.port}"), ("CAINFO", str(pki.ca.cert_pem))],
        )
    assert (out.code, len(out.body)) == (0, 9)
