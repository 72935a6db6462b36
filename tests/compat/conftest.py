"""Fixtures of the pycurl-compatibility tests: one test body, run against both modules.

Theory of operation
-------------------
`mod` yields `purecurl` always and the real `pycurl` when it is importable (skipped otherwise),
so a test that passes for `pycurl` proves it asserts libcurl's and pycurl's behaviour, not
purecurl's. Where purecurl differs, the test keeps asserting pycurl's behaviour and carries
`@pytest.mark.purecurl_xfail(reason="engine: ...")`: the `purecurl` run of that test is then a
strict xfail (it must fail, so the mark goes once the engine is fixed) while the `pycurl` run
stays an ordinary test.
"""

from __future__ import annotations

import importlib
import socket
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

MODULES = ("purecurl", "pycurl")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "purecurl_xfail(reason): strict xfail for the purecurl run of a test over `mod`",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        marker = item.get_closest_marker("purecurl_xfail")
        if marker is None:
            continue
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("mod") == "purecurl":
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
            item.add_marker(pytest.mark.xfail(strict=True, reason=reason))


@pytest.fixture(params=MODULES)
def mod(request: pytest.FixtureRequest) -> Any:
    """The module under test: `purecurl`, or the real `pycurl` (skipped when absent)."""
    name: str = request.param
    if name == "pycurl":
        module: ModuleType = pytest.importorskip("pycurl")
    else:
        module = importlib.import_module(name)
    return module


@pytest.fixture
def dead_port() -> int:
    """A port on 127.0.0.1 nobody listens on (bound, then released: connecting is refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def curl(mod: Any) -> Iterator[Any]:
    """A fresh `mod.Curl()`, closed at the end of the test."""
    handle = mod.Curl()
    try:
        yield handle
    finally:
        handle.close()


@pytest.fixture
def multi(mod: Any) -> Iterator[Any]:
    """A fresh `mod.CurlMulti()`, closed at the end of the test."""
    handle = mod.CurlMulti()
    try:
        yield handle
    finally:
        handle.close()
