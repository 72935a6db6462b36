"""The request method follows the LAST of POST, POSTFIELDS, HTTPPOST, HTTPGET, UPLOAD and
NOBODY set on a handle, as libcurl's setopt keeps it (a reused handle is the usual case)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.servers import HttpServer

pytestmark = pytest.mark.filterwarnings("ignore:HTTPPOST is deprecated:DeprecationWarning")


@pytest.fixture
def server() -> Iterator[HttpServer]:
    with HttpServer() as s:
        yield s


def _steps(mod: ModuleType, names: str) -> list[tuple[int, Any]]:
    value = {
        "HTTPGET": 1,
        "POST": 1,
        "POSTFIELDS": "a=1",
        "UPLOAD": 1,
        "UPLOAD0": 0,
        "NOBODY": 1,
        "HTTPPOST": [("f", "v")],
    }
    out = []
    for name in names.split():
        option = "UPLOAD" if name == "UPLOAD0" else name
        out.append((getattr(mod, option), value[name]))
    return out


@pytest.mark.parametrize(
    ("first", "then", "method"),
    [
        ("HTTPGET", "POSTFIELDS", "POST"),
        ("HTTPGET", "POST POSTFIELDS", "POST"),
        ("HTTPGET", "UPLOAD", "PUT"),
        ("HTTPGET", "HTTPPOST", "POST"),
        ("UPLOAD", "POSTFIELDS", "POST"),
        ("NOBODY", "HTTPGET", "GET"),
        ("POSTFIELDS", "UPLOAD0", "GET"),
        ("POSTFIELDS", "HTTPGET", "GET"),
        ("HTTPGET", "NOBODY", "HEAD"),
        ("NOBODY", "POSTFIELDS", "HEAD"),
    ],
)
def test_last_setting_wins(
    mod: ModuleType, server: HttpServer, first: str, then: str, method: str
) -> None:
    c = mod.Curl()
    try:
        c.setopt(mod.URL, server.url("/echo"))
        c.setopt(mod.WRITEFUNCTION, lambda data: None)
        c.setopt(mod.READFUNCTION, io.BytesIO(b"put body").read)
        c.setopt(mod.INFILESIZE, 8)
        for option, value in _steps(mod, first):
            c.setopt(option, value)
        c.perform()
        for option, value in _steps(mod, then):
            c.setopt(option, value)
        c.perform()
    finally:
        c.close()
    assert server.requests[-1].method == method
