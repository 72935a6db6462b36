"""Content-Encoding through the engine, on purecurl and the real pycurl alike: what is asked
for, what is decoded, the errors, and a decompression bomb that never sits in memory. The
decoders themselves are tested in tests/unit/test_decoding.py.
"""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.integration._util import fetch, make_curl
from tests.servers import HttpServer, Response

PAYLOAD = b"hello world " * 1000


def _encoded(coding: str, body: bytes) -> Response:
    return Response(200, headers=[("Content-Encoding", coding)], body=body)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip of 64 MiB of zeros: about 64 KiB
    return z.compress(bytes(64 << 20)) + z.flush()


@pytest.fixture
def server(bomb: bytes) -> Iterator[HttpServer]:
    routes = {
        "/gzip": _encoded("gzip", gzip.compress(PAYLOAD)),
        "/deflate": _encoded("deflate", zlib.compress(PAYLOAD)),
        "/stacked": _encoded("deflate, gzip", gzip.compress(zlib.compress(PAYLOAD))),
        "/corrupt": _encoded("gzip", b"\x1f\x8bgarbage garbage"),
        "/unknown": _encoded("foo", b"abc"),
        "/bomb": _encoded("gzip", bomb),
    }
    with HttpServer(routes) as s:
        yield s


@pytest.mark.parametrize("path", ["/gzip", "/deflate", "/stacked"])
def test_decoded_when_asked(mod: ModuleType, server: HttpServer, path: str) -> None:
    out = fetch(mod, server.url(path), [("ACCEPT_ENCODING", "")])
    assert (out.code, out.body) == (0, PAYLOAD)
    sent = dict(server.requests[0].headers)["Accept-Encoding"]
    assert sent.startswith("deflate, gzip")


def test_not_decoded_unless_asked(mod: ModuleType, server: HttpServer) -> None:
    out = fetch(mod, server.url("/gzip"))
    assert out.body == gzip.compress(PAYLOAD)[: len(out.body)] and len(out.body) > 0
    assert "Accept-Encoding" not in dict(server.requests[0].headers)


def test_content_decoding_off(mod: ModuleType, server: HttpServer) -> None:
    out = fetch(
        mod, server.url("/gzip"), [("ACCEPT_ENCODING", "gzip"), ("HTTP_CONTENT_DECODING", 0)]
    )
    assert out.code == 0 and out.body != PAYLOAD
    assert dict(server.requests[0].headers)["Accept-Encoding"] == "gzip"


def test_corrupt_is_61(mod: ModuleType, server: HttpServer) -> None:
    out = fetch(mod, server.url("/corrupt"), [("ACCEPT_ENCODING", "")])
    assert (out.code, out.message) == (
        mod.E_BAD_CONTENT_ENCODING,
        "Error while processing content unencoding: unknown compression method",
    )


def test_unknown_coding_is_61(mod: ModuleType, server: HttpServer) -> None:
    out = fetch(mod, server.url("/unknown"), [("ACCEPT_ENCODING", "")])
    assert (out.code, out.message) == (
        mod.E_BAD_CONTENT_ENCODING,
        "Unrecognized content encoding type",
    )


def test_bomb_is_streamed_in_bounded_memory(mod: ModuleType, server: HttpServer) -> None:
    total = 0
    biggest = 0

    def write(data: bytes) -> None:
        nonlocal total, biggest
        total += len(data)
        biggest = max(biggest, len(data))

    c, _ = make_curl(mod, server.url("/bomb"), [("ACCEPT_ENCODING", "")])
    c.setopt(mod.WRITEFUNCTION, write)
    tracemalloc.start()
    try:
        c.perform()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        c.close()
    assert total == 64 << 20
    assert biggest <= 256 << 10
    assert peak < 4 << 20, f"peak {peak} bytes while decoding"


def test_pause_while_decoding(mod: ModuleType, server: HttpServer) -> None:
    """WRITEFUNC_PAUSE on a decoded piece holds it; PAUSE_CONT delivers it and the rest."""
    from tests.integration._util import run_multi

    got: list[bytes] = []
    paused = [False]
    handles: list[Any] = []

    def write(data: bytes) -> Any:
        if not paused[0]:
            paused[0] = True
            handles[0].pause_later = True
            return mod.WRITEFUNC_PAUSE
        got.append(data)
        return None

    c, _ = make_curl(mod, server.url("/gzip"), [("ACCEPT_ENCODING", "")])
    c.setopt(mod.WRITEFUNCTION, write)
    c.setopt(mod.NOPROGRESS, 0)

    def progress(*_: Any) -> int:
        if getattr(c, "pause_later", False):
            c.pause_later = False
            c.pause(mod.PAUSE_CONT)
        return 0

    c.setopt(mod.XFERINFOFUNCTION, progress)
    handles.append(c)
    try:
        outs = run_multi(mod, handles)
    finally:
        c.close()
    assert outs[0].code == 0
    assert b"".join(got) == PAYLOAD
