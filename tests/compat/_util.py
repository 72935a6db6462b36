"""Helpers the pycurl-compatibility tests share (used with either module)."""

from __future__ import annotations

import time
from typing import Any


def drive(multi: Any, limit: float = 2.0) -> None:
    """Run `multi` with perform/select until no transfer runs; fail after `limit` seconds."""
    deadline = time.monotonic() + limit
    while multi.perform()[1]:
        if time.monotonic() > deadline:
            raise AssertionError("transfers still running after the time limit")
        multi.select(0.1)


def fetch(mod: Any, curl: Any, url: str) -> bytes:
    """GET `url` with `curl` (body into a buffer); return the body."""
    chunks: list[bytes] = []
    curl.setopt(mod.URL, url)
    curl.setopt(mod.WRITEFUNCTION, chunks.append)
    curl.perform()
    return b"".join(chunks)
