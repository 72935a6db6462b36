"""CurlShare across handles, on purecurl and the real pycurl alike: connections
(LOCK_DATA_CONNECT) reused by another handle's perform() and by another multi."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

from tests.integration._util import make_curl, perform, run_multi
from tests.servers import HttpServer


@pytest.fixture
def server() -> Iterator[HttpServer]:
    with HttpServer() as s:
        yield s


def _share(mod: ModuleType, *kinds: str) -> object:
    share = mod.CurlShare()
    for kind in kinds:
        share.setopt(mod.SH_SHARE, getattr(mod, kind))
    return share


def test_connection_shared_between_performs(mod: ModuleType, server: HttpServer) -> None:
    share = _share(mod, "LOCK_DATA_CONNECT")
    a, _ = make_curl(mod, server.url("/bytes/10"), [("SHARE", share)])
    b, out = make_curl(mod, server.url("/bytes/20"), [("SHARE", share)])
    try:
        assert perform(mod, a).code == 0
        assert perform(mod, b).code == 0
        assert b.getinfo(mod.NUM_CONNECTS) == 0
    finally:
        a.close()
        b.close()
        share.close()  # type: ignore[attr-defined]
    assert len(out.body) == 20
    assert server.connections_accepted == 1


def test_without_connect_sharing_each_handle_connects(mod: ModuleType, server: HttpServer) -> None:
    share = _share(mod, "LOCK_DATA_DNS")
    handles = [make_curl(mod, server.url("/bytes/10"), [("SHARE", share)])[0] for _ in range(2)]
    try:
        for c in handles:
            assert perform(mod, c).code == 0
    finally:
        for c in handles:
            c.close()
        share.close()  # type: ignore[attr-defined]
    assert server.connections_accepted == 2


def test_connection_shared_between_multis(mod: ModuleType, server: HttpServer) -> None:
    share = _share(mod, "LOCK_DATA_CONNECT")
    first, _ = make_curl(mod, server.url("/bytes/10"), [("SHARE", share)])
    second, _ = make_curl(mod, server.url("/bytes/10"), [("SHARE", share)])
    try:
        assert run_multi(mod, [first])[0].code == 0
        assert run_multi(mod, [second])[0].code == 0
    finally:
        first.close()
        second.close()
        share.close()  # type: ignore[attr-defined]
    assert server.connections_accepted == 1
