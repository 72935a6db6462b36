"""HTTPS against nginx on loopback (issue 4's integration tier), on purecurl and the real
pycurl alike: many verified transfers over pooled TLS connections through the selectors
driver, and what the socket callback sees while the handshakes run.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.integration._util import make_curl, run_multi
from tests.nginx import Nginx, require_nginx
from tests.tls_certs import Pki


@pytest.fixture(scope="module")
def tls_nginx(pki: Pki) -> Iterator[Nginx]:
    binary = require_nginx()
    with Nginx(binary, tls=(pki.server.chain_pem, pki.server.key_pem)) as server:
        yield server


def test_many_verified_transfers(mod: ModuleType, tls_nginx: Nginx, pki: Pki) -> None:
    """600 GETs of 1 KiB and 64 KiB, at most 40 connections: every body intact, every peer
    verified, connections reused (each handshake paid once per connection)."""
    paths = ["/1k", "/64k"] * 300
    handles = [
        make_curl(mod, tls_nginx.tls_url(p), [("CAINFO", str(pki.ca.cert_pem))])[0] for p in paths
    ]
    multi = mod.CurlMulti()
    multi.setopt(mod.M_MAX_TOTAL_CONNECTIONS, 40)
    try:
        outcomes = run_multi(mod, handles, multi)
        verify = [c.getinfo(mod.SSL_VERIFYRESULT) for c in handles]
    finally:
        multi.close()
        for c in handles:
            c.close()
    for path, out in zip(paths, outcomes, strict=True):
        assert (out.code, out.body) == (0, Nginx.expected_body(path))
    assert set(verify) == {0}
    assert sum(out.num_connects for out in outcomes) <= 40


def test_handshakes_run_side_by_side(tls_nginx: Nginx, pki: Pki) -> None:
    """500 handshakes at once never block the loop: the engine announces each handshake's
    want-read/want-write through the socket callback and returns, so the connections are
    watched at the same time (a blocking handshake would serialise them)."""
    import purecurl as mod
    from purecurl.drivers.selector import SelectorDriver

    handles = [
        make_curl(mod, tls_nginx.tls_url("/128"), [("CAINFO", str(pki.ca.cert_pem))])[0]
        for _ in range(500)  # under the usual 1,024 fd soft limit, ours and nginx's
    ]
    multi: Any = mod.CurlMulti()
    watched: set[int] = set()
    most = 0
    done: list[int] = []
    try:
        driver = SelectorDriver(multi, lambda c, code, msg: done.append(code))
        inner = driver._on_socket

        def spy(what: int, fd: int, m: Any, socketp: Any) -> Any:
            nonlocal most
            if what == mod.POLL_REMOVE:
                watched.discard(fd)
            else:
                watched.add(fd)
                most = max(most, len(watched))
            return inner(what, fd, m, socketp)

        multi.setopt(mod.M_SOCKETFUNCTION, spy)
        for c in handles:
            driver.add(c)
        driver.run(60)
        driver.close()
    finally:
        multi.close()
        for c in handles:
            c.close()
    assert done == [0] * 500
    assert most >= 450
    assert not watched
