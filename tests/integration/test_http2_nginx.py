"""HTTP/2 against a real nginx (tests/nginx.py with `http2=True`), on purecurl and the real
pycurl alike: h2 by ALPN over TLS, h2c with prior knowledge on the cleartext HTTP/2 port, many
transfers multiplexed on one connection, and that connection kept for the next batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.integration._util import Opts, Outcome, fetch, make_curl, run_multi
from tests.nginx import FILES, Nginx, require_nginx
from tests.tls_certs import Pki

HTTP_2 = 3  # CURL_HTTP_VERSION_2_0, what INFO_HTTP_VERSION reports for an HTTP/2 transfer
HTTP_1_1 = 2


@pytest.fixture(scope="module")
def h2_nginx(pki: Pki) -> Iterator[Nginx]:
    binary = require_nginx()
    with Nginx(binary, tls=(pki.server.chain_pem, pki.server.key_pem), http2=True) as server:
        yield server


def tls_opts(mod: ModuleType, pki: Pki, extra: Opts = ()) -> Opts:
    return [("TIMEOUT", 10), ("CAINFO", str(pki.ca.cert_pem)), *extra]


def h2c_opts(mod: ModuleType, extra: Opts = ()) -> Opts:
    return [("TIMEOUT", 10), ("HTTP_VERSION", mod.CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE), *extra]


def run_batch(mod: ModuleType, urls: list[str], opts: Opts, multi: Any) -> list[Outcome]:
    handles = [make_curl(mod, url, opts)[0] for url in urls]
    try:
        return run_multi(mod, handles, multi, timeout=20.0)
    finally:
        for c in handles:
            c.close()


@pytest.mark.parametrize("path", sorted(FILES))
def test_h2_over_tls(mod: ModuleType, h2_nginx: Nginx, pki: Pki, path: str) -> None:
    """The default (2TLS) gets HTTP/2 from nginx by ALPN: INFO_HTTP_VERSION 3, nginx's header
    lines in HTTP/2 form, the file's bytes."""
    out = fetch(mod, h2_nginx.tls_url(path), tls_opts(mod, pki))
    assert (out.code, out.response_code, out.http_version) == (0, 200, HTTP_2)
    assert out.body == Nginx.expected_body(path)
    assert out.headers[0] == b"HTTP/2 200 \r\n"
    assert f"content-length: {FILES[path]}\r\n".encode() in out.headers
    assert out.headers[-1] == b"\r\n"


def test_http_1_1_still_served_on_the_tls_port(mod: ModuleType, h2_nginx: Nginx, pki: Pki) -> None:
    """CURL_HTTP_VERSION_1_1 offers http/1.1 only, and nginx's TLS port still serves it."""
    extra: Opts = [("HTTP_VERSION", mod.CURL_HTTP_VERSION_1_1)]
    out = fetch(mod, h2_nginx.tls_url("/64k"), tls_opts(mod, pki, extra))
    assert (out.code, out.http_version, out.body) == (0, HTTP_1_1, Nginx.expected_body("/64k"))
    assert out.headers[0] == b"HTTP/1.1 200 OK\r\n"


@pytest.mark.parametrize("path", ["/128", "/1m"])
def test_h2c_prior_knowledge(mod: ModuleType, h2_nginx: Nginx, path: str) -> None:
    """CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE against nginx's cleartext HTTP/2 port."""
    out = fetch(mod, h2_nginx.h2c_url(path), h2c_opts(mod))
    assert (out.code, out.response_code, out.http_version) == (0, 200, HTTP_2)
    assert out.body == Nginx.expected_body(path)


@pytest.mark.parametrize("scheme", ["https", "h2c"])
def test_many_transfers_on_one_connection_then_reused(
    mod: ModuleType, h2_nginx: Nginx, pki: Pki, scheme: str
) -> None:
    """200 transfers with PIPEWAIT share one connection (NUM_CONNECTS adds up to 1; libcurl
    keeps at most 100 streams open on it, its default M_MAX_CONCURRENT_STREAMS, under nginx's
    128), and a second batch on the same multi reuses it: NUM_CONNECTS 0 for every transfer,
    one local port for all."""
    paths = ["/1k", "/64k", "/128", "/1m"] * 50
    if scheme == "https":
        urls = [h2_nginx.tls_url(p) for p in paths]
        opts = tls_opts(mod, pki, [("PIPEWAIT", 1)])
    else:
        urls = [h2_nginx.h2c_url(p) for p in paths]
        opts = h2c_opts(mod, [("PIPEWAIT", 1)])
    multi = mod.CurlMulti()
    # Past 100 streams libcurl would rather open a second connection than wait for the first
    # (see test_http2.py); one connection per host keeps the count exact.
    multi.setopt(mod.M_MAX_HOST_CONNECTIONS, 1)
    try:
        first = run_batch(mod, urls, opts, multi)
        second = run_batch(mod, urls[:20], opts, multi)
    finally:
        multi.close()
    for out, path in zip(first + second, paths + paths[:20], strict=True):
        assert (out.code, out.http_version) == (0, HTTP_2)
        assert out.body == Nginx.expected_body(path)
    assert sum(o.num_connects for o in first) == 1
    assert [o.num_connects for o in second] == [0] * 20
    assert len({o.local_port for o in first + second}) == 1
