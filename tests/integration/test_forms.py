"""Multipart forms through the engine (HTTPPOST), compared byte for byte with what the real
pycurl (libcurl 8.23) sends for the same form, the random boundary aside.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.integration._util import fetch
from tests.servers import HttpServer, Request

pycurl = pytest.importorskip("pycurl")

# pycurl warns that HTTPPOST is deprecated, and so does purecurl
pytestmark = pytest.mark.filterwarnings("ignore:HTTPPOST is deprecated:DeprecationWarning")


@pytest.fixture
def server() -> Iterator[HttpServer]:
    with HttpServer() as s:
        yield s


def _form(mod: ModuleType, path: Path) -> list[tuple[str, Any]]:
    return [
        ("field", "value"),
        ("quoted", (mod.FORM_CONTENTS, 'a "b"', mod.FORM_CONTENTTYPE, "text/plain")),
        ("upload", (mod.FORM_FILE, str(path))),
        ("named", (mod.FORM_FILE, str(path), mod.FORM_FILENAME, "other.bin")),
        ("buffer", (mod.FORM_BUFFER, "mem.txt", mod.FORM_BUFFERPTR, b"in memory")),
    ]


def _normalised(request: Request) -> tuple[str, bytes]:
    ctype = request.header("content-type") or ""
    boundary = ctype.partition("boundary=")[2]
    body = request.body.replace(boundary.encode(), b"BOUNDARY")
    return re.sub(r"boundary=.*", "boundary=BOUNDARY", ctype), body


def test_httppost_same_bytes_as_libcurl(server: HttpServer, tmp_path: Path) -> None:
    import purecurl

    path = tmp_path / "data.txt"
    path.write_bytes(b"file contents\n" * 100)
    sent = []
    for mod in (pycurl, purecurl):
        out = fetch(mod, server.url("/echo"), [("HTTPPOST", _form(mod, path))])
        assert out.code == 0
        request = server.requests[-1]
        sent.append((_normalised(request), request.header("content-length")))
    assert sent[0] == sent[1]
    (ctype, body), length = sent[1]
    assert ctype == "multipart/form-data; boundary=BOUNDARY"
    assert b'Content-Disposition: form-data; name="field"\r\n\r\nvalue\r\n' in body
    assert length == str(len(server.requests[-1].body))


def test_missing_file(server: HttpServer, tmp_path: Path) -> None:
    import purecurl

    for mod in (pycurl, purecurl):
        out = fetch(
            mod,
            server.url("/echo"),
            [("HTTPPOST", [("f", (mod.FORM_FILE, str(tmp_path / "nope")))])],
        )
        assert out.code == mod.E_READ_ERROR


def test_mimepost_same_bytes_as_libcurl(server: HttpServer, tmp_path: Path) -> None:
    import purecurl

    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG" + bytes(range(256)) * 10)
    sent = []
    for mod in (pycurl, purecurl):
        c = mod.Curl()
        try:
            c.setopt(mod.URL, server.url("/echo"))
            c.setopt(mod.WRITEFUNCTION, lambda data: None)
            mime = mod.CurlMime(c)
            part = mime.addpart()
            part.name("field")
            part.data("value")
            part = mime.addpart()
            part.name("file")
            part.filedata(str(path))
            c.setopt(mod.MIMEPOST, mime)
            c.perform()
            # the tree is read when the transfer starts: a part added later goes out next time
            part = mime.addpart()
            part.name("late")
            part.data(b"added after setopt")
            c.perform()
            mime.close()
        finally:
            c.close()
        sent.append([_normalised(r) for r in server.requests[-2:]])
    assert sent[0] == sent[1]
    assert b'name="late"' in sent[1][1][1] and b'name="late"' not in sent[1][0][1]
