"""file:// URLs, read and written (UPLOAD), on purecurl and the real pycurl alike."""

from __future__ import annotations

import io
from pathlib import Path
from types import ModuleType

from tests.integration._util import fetch, make_curl, perform


def _url(path: Path) -> str:
    return "file://" + str(path).replace(" ", "%20")


def test_read(mod: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "a b.bin"
    path.write_bytes(bytes(range(256)) * 1000)
    c, out = make_curl(mod, _url(path))
    try:
        result = perform(mod, c)
        infos = (
            c.getinfo(mod.RESPONSE_CODE),
            c.getinfo(mod.SIZE_DOWNLOAD_T),
            c.getinfo(mod.CONTENT_LENGTH_DOWNLOAD_T),
        )
    finally:
        c.close()
    assert result.code == 0
    assert out.body == path.read_bytes()
    assert infos == (0, 256000, 256000)


def test_missing(mod: ModuleType, tmp_path: Path) -> None:
    out = fetch(mod, _url(tmp_path / "missing"))
    assert (out.code, out.message) == (
        mod.E_FILE_COULDNT_READ_FILE,
        f"Could not open file {tmp_path / 'missing'}",
    )


def test_upload(mod: ModuleType, tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    c, _ = make_curl(
        mod, _url(target), [("UPLOAD", 1), ("READFUNCTION", io.BytesIO(b"written").read)]
    )
    try:
        assert perform(mod, c).code == 0
        assert c.getinfo(mod.SIZE_UPLOAD_T) == 7
    finally:
        c.close()
    assert target.read_bytes() == b"written"


def test_upload_into_missing_directory(mod: ModuleType, tmp_path: Path) -> None:
    target = tmp_path / "nodir" / "x"
    out = fetch(mod, _url(target), [("UPLOAD", 1), ("READFUNCTION", io.BytesIO(b"x").read)])
    assert (out.code, out.message) == (mod.E_WRITE_ERROR, f"cannot open {target} for writing")


def test_resume(mod: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_bytes(b"0123456789")
    out = fetch(mod, _url(path), [("RESUME_FROM", 4)])
    assert (out.code, out.body) == (0, b"456789")
