"""Fixtures of the integration tests: the module under test, purecurl or the real pycurl.

Theory of operation
-------------------
`mod` yields `purecurl` always and the real `pycurl` when it is importable, so a test that
passes on both asserts libcurl's behaviour, not ours. A test whose assertion purecurl does not
meet yet carries `@pytest.mark.pure_xfail(reason)`: for the purecurl run only it becomes a
strict xfail (the pycurl run still proves the assertion right).
"""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "pure_xfail(reason): strict xfail for the purecurl run of a `mod` test"
    )


@pytest.fixture(params=["purecurl", "pycurl"])
def mod(request: pytest.FixtureRequest) -> ModuleType:
    """The module under test: `purecurl`, or the real `pycurl` (skipped when absent)."""
    name: str = request.param
    if name == "pycurl":
        module: ModuleType = pytest.importorskip("pycurl")
    else:
        module = importlib.import_module("purecurl")
        marker = request.node.get_closest_marker("pure_xfail")
        if marker is not None:
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
            request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
    return module


@pytest.fixture
def pure() -> ModuleType:
    """purecurl alone, for behaviour libcurl does not share (or tests not run on pycurl)."""
    return importlib.import_module("purecurl")
