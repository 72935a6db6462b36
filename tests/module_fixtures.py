"""The module under test, purecurl or the real pycurl: fixtures shared by the integration and
reliability tiers (their conftest.py files import them).

Theory of operation
-------------------
`mod` yields `purecurl` always and the real `pycurl` when it is importable, so a test that
passes on both asserts libcurl's behaviour, not ours. A test whose assertion purecurl does not
meet yet carries `@pytest.mark.pure_xfail(reason)` (registered in tests/conftest.py): for the
purecurl run only it becomes a strict xfail, while the pycurl run still proves the assertion
right. `pure` is purecurl alone, for its own documented behaviour; `pycurl_mod` the real pycurl
alone, for libcurl's behaviour where purecurl documents a deliberate difference.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest


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


@pytest.fixture
def pycurl_mod() -> ModuleType:
    """The real pycurl alone (skipped when absent)."""
    module: ModuleType = pytest.importorskip("pycurl")
    return module
