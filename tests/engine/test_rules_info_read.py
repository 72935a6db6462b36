"""SEMANTICS.md rule 23: info_read([max]) -> (num_q, ok_list, err_list)."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from tests.engine.conftest import Recorder
from tests.servers import HttpServer

Recorders = Callable[..., Recorder]
Handles = Callable[..., Any]


def _closed_port() -> int:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
    finally:
        s.close()


def test_one_message_per_transfer_returned_once(
    mod: ModuleType, server: HttpServer, recorders: Recorders, handles: Handles
) -> None:
    """Rule 23: one DONE message per finished transfer, returned once; num_q is what remains
    after this read."""
    rec = recorders(mod)
    cs = [handles(mod, server.url("/hello")) for _ in range(3)]
    for c in cs:
        rec.multi.add_handle(c)
    rec.run_all()
    got: list[Any] = []
    for remaining in (2, 1):
        num_q, ok, err = rec.multi.info_read(1)
        assert (num_q, len(ok), err) == (remaining, 1, [])
        got += ok
    num_q, ok, err = rec.multi.info_read()
    assert (num_q, len(ok), err) == (0, 1, [])
    got += ok
    assert sorted(map(id, got)) == sorted(map(id, cs))
    assert rec.multi.info_read() == (0, [], [])


def test_error_tuple(
    mod: ModuleType, server: HttpServer, recorders: Recorders, handles: Handles
) -> None:
    """Rule 23: err_list holds (curl, code, message) with libcurl's code numbers: a refused
    connection is 7; ok and failed transfers come back in one read."""
    port = _closed_port()
    rec = recorders(mod)
    bad = handles(mod, f"http://127.0.0.1:{port}/")
    good = handles(mod, server.url("/hello"))
    rec.multi.add_handle(bad)
    rec.multi.add_handle(good)
    rec.run_all()
    num_q, ok, err = rec.multi.info_read()
    assert (num_q, ok) == (0, [good])
    assert len(err) == 1
    h, code, message = err[0]
    assert (h, code) == (bad, 7)
    assert isinstance(message, str) and message.startswith("Failed to connect to 127.0.0.1")
    assert re.search(r"after \d+ ms: ", message)


def test_connect_refused_message_is_libcurl_8(
    mod: ModuleType, recorders: Recorders, handles: Handles
) -> None:
    """Rule 23: the message is libcurl's (8.23 wording, observed through pycurl)."""
    port = _closed_port()
    rec = recorders(mod)
    bad = handles(mod, f"http://127.0.0.1:{port}/")
    rec.multi.add_handle(bad)
    rec.run_all()
    _, _, err = rec.multi.info_read()
    message = err[0][2]
    assert re.fullmatch(
        rf"Failed to connect to 127\.0\.0\.1:{port} after \d+ ms: Could not connect to server",
        message,
    ), message


def test_info_read_zero_raises(mod: ModuleType, recorders: Recorders) -> None:
    """Rule 23 (pycurl spelling): info_read(max) wants max > 0."""
    rec = recorders(mod)
    with pytest.raises(mod.error):
        rec.multi.info_read(0)
