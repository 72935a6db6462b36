"""multipart/form-data bodies: the bytes libcurl sends, streaming, HTTPPOST and CurlMime.

Every expected body here was captured from pycurl 7.49.0 / libcurl 8.23.0 posting the same form
to a loopback server, with the random boundary replaced by a fixed one.
"""

from __future__ import annotations

import os
import pickle
import re
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import purecurl
from purecurl import _codes, _consts
from purecurl._errors import CurlError, error
from purecurl._options import check_easy_value
from purecurl.mime import CurlMime, CurlMimePart
from purecurl.proto.multipart import (
    CallbackSource,
    FileSource,
    MimePart,
    MimeTree,
    MultipartBody,
    body_from_httppost,
    content_type_for,
    escape_name,
    new_boundary,
    tree_from_httppost,
)

B = b"------------------------" + b"A" * 22
B2 = b"------------------------" + b"C" * 22


def read_all(body: MultipartBody, n: int = 1 << 20) -> bytes:
    out = bytearray()
    while chunk := body.read(n):
        assert len(chunk) <= n
        out += chunk
    return bytes(out)


def fixed(tree: MimeTree) -> MimeTree:
    tree.boundary = B
    return tree


def httppost(value: list[object]) -> MimeTree:
    with pytest.warns(DeprecationWarning):
        pairs = check_easy_value(10024, value)
    assert isinstance(pairs, list)
    return fixed(tree_from_httppost(pairs))


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "hello.txt").write_bytes(b"hello\n")
    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / "noext").write_bytes(b"yy")
    return tmp_path


# --- the bytes ---------------------------------------------------------------------------------


def test_field_and_file_as_libcurl_sends_them(files: Path) -> None:
    tree = httppost([("a", "1"), ("f", (_consts.FORM_FILE, str(files / "hello.txt")))])
    body = MultipartBody(tree)
    expected = (
        b"--" + B + b'\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n'
        b"--" + B + b'\r\nContent-Disposition: form-data; name="f"; filename="hello.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nhello\n\r\n--" + B + b"--\r\n"
    )
    assert read_all(body) == expected
    assert body.size == len(expected) == 299 - 2 * 22 + 2 * 22  # libcurl's Content-Length
    assert body.content_type == b"multipart/form-data; boundary=" + B


def test_escaping_and_explicit_type_and_filename(files: Path) -> None:
    path = str(files / "hello.txt")
    tree = httppost(
        [
            (
                "f",
                (
                    _consts.FORM_FILE,
                    path,
                    _consts.FORM_CONTENTTYPE,
                    "text/x-foo",
                    _consts.FORM_FILENAME,
                    'we"i\\rd\r\n.bin',
                ),
            )
        ]
    )
    assert read_all(MultipartBody(tree)) == (
        b"--" + B + b'\r\nContent-Disposition: form-data; name="f"; '
        b'filename="we%22i\\rd%0D%0A.bin"\r\nContent-Type: text/x-foo\r\n\r\nhello\n\r\n'
        b"--" + B + b"--\r\n"
    )


def test_buffer_upload_keeps_nul_bytes() -> None:
    tree = httppost([("b", (_consts.FORM_BUFFER, "up.txt", _consts.FORM_BUFFERPTR, b"abc\0def"))])
    assert read_all(MultipartBody(tree)) == (
        b"--" + B + b'\r\nContent-Disposition: form-data; name="b"; filename="up.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nabc\x00def\r\n--" + B + b"--\r\n"
    )


def test_contents_with_filename_sends_no_filename() -> None:
    tree = httppost([("f", (_consts.FORM_CONTENTS, "data", _consts.FORM_FILENAME, "x.txt"))])
    assert read_all(MultipartBody(tree)) == (
        b"--"
        + B
        + b'\r\nContent-Disposition: form-data; name="f"\r\n\r\ndata\r\n--'
        + B
        + b"--\r\n"
    )


def test_two_files_in_one_field_are_multipart_mixed(files: Path) -> None:
    tree = httppost(
        [
            (
                "f",
                (_consts.FORM_FILE, str(files / "a.png"), _consts.FORM_FILE, str(files / "noext")),
            )
        ]
    )
    inner = tree.parts[0].content
    assert isinstance(inner, MimeTree)
    inner.boundary = B2
    body = MultipartBody(tree)
    data = read_all(body)
    assert data == (
        b"--" + B + b'\r\nContent-Disposition: form-data; name="f"\r\n'
        b"Content-Type: multipart/mixed; boundary=" + B2 + b"\r\n\r\n"
        b"--" + B2 + b'\r\nContent-Disposition: attachment; filename="a.png"\r\n'
        b"Content-Type: image/png\r\n\r\nx\r\n"
        # the second file takes the type of the one before it (libcurl's prevtype)
        b"--" + B2 + b'\r\nContent-Disposition: attachment; filename="noext"\r\n'
        b"Content-Type: image/png\r\n\r\nyy\r\n"
        b"--" + B2 + b"--\r\n\r\n--" + B + b"--\r\n"
    )
    assert body.size == len(data)


def test_empty_tree() -> None:
    body = MultipartBody(fixed(MimeTree()))
    assert read_all(body) == b"--" + B + b"--\r\n"
    assert body.size == len(B) + 6


def test_curl_mime_header_rules(files: Path) -> None:
    m = CurlMime(purecurl.Curl())
    m.add_field("a", "1")
    m.add(name="t", data="x", filename="x.txt")
    m.add(name="u", data="x", filename="x.bin")
    m.add(name="v", data="x", content_type="text/plain")
    m.add(name="w", data="x", headers=["X-A: 1", "content-type: foo/bar", "X-B: 2"])
    m.add(data="nameless")
    m.add(name="cd", data="x", headers=["Content-Disposition: inline"])
    m.add_file("f", str(files / "noext"))
    m.add_file("g", str(files / "hello.txt"), filename="other.bin")
    body = m.multipart_body()
    boundary = body.tree.boundary
    data = read_all(body).replace(boundary, B)
    assert data == (
        b"--" + B + b'\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n'
        b"--" + B + b'\r\nContent-Disposition: form-data; name="t"; filename="x.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\nx\r\n"
        b"--" + B + b'\r\nContent-Disposition: form-data; name="u"; filename="x.bin"\r\n\r\nx\r\n'
        b"--" + B + b'\r\nContent-Disposition: form-data; name="v"\r\n'
        b"Content-Type: text/plain\r\n\r\nx\r\n"
        b"--" + B + b'\r\nContent-Disposition: form-data; name="w"\r\n'
        b"Content-Type: foo/bar\r\nX-A: 1\r\nX-B: 2\r\n\r\nx\r\n"
        b"--" + B + b"\r\nContent-Disposition: form-data\r\n\r\nnameless\r\n"
        b"--" + B + b"\r\nContent-Disposition: inline\r\n\r\nx\r\n"
        b"--" + B + b'\r\nContent-Disposition: form-data; name="f"; filename="noext"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\nyy\r\n"
        b"--" + B + b'\r\nContent-Disposition: form-data; name="g"; filename="other.bin"\r\n'
        b"Content-Type: text/plain\r\n\r\nhello\n\r\n--" + B + b"--\r\n"
    )
    assert body.size == len(data)
    m.close()


def test_encoders_as_libcurl_writes_them() -> None:
    tree = fixed(
        MimeTree(
            [
                MimePart(name=b"e64", content=b"hello world\xff" * 7, encoder="base64"),
                MimePart(name=b"e7", content=b"seven\r\n", encoder="7bit"),
                MimePart(name=b"eb", content=b"bin\xff", encoder="binary"),
            ]
        )
    )
    body = MultipartBody(tree)
    data = read_all(body)
    assert data == (
        b"--" + B + b'\r\nContent-Disposition: form-data; name="e64"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        b"aGVsbG8gd29ybGT/aGVsbG8gd29ybGT/aGVsbG8gd29ybGT/aGVsbG8gd29ybGT/aGVsbG8gd29y\r\n"
        b"bGT/aGVsbG8gd29ybGT/aGVsbG8gd29ybGT/\r\n"
        b"--" + B + b'\r\nContent-Disposition: form-data; name="e7"\r\n'
        b"Content-Transfer-Encoding: 7bit\r\n\r\nseven\r\n\r\n"
        b"--" + B + b'\r\nContent-Disposition: form-data; name="eb"\r\n'
        b"Content-Transfer-Encoding: binary\r\n\r\nbin\xff\r\n--" + B + b"--\r\n"
    )
    assert body.size == len(data)


def test_quoted_printable_has_no_size() -> None:
    content = b"a=b \xff\r\nline two is long " + b"x" * 80 + b" \r\nend.\r\n."
    body = MultipartBody(
        fixed(MimeTree([MimePart(name=b"qp", content=content, encoder="quoted-printable")]))
    )
    assert body.size is None  # libcurl sends it chunked
    assert read_all(body, 7) == (
        b"--" + B + b'\r\nContent-Disposition: form-data; name="qp"\r\n'
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"a=3Db =FF\r\nline two is long " + b"x" * 58 + b"=\r\n" + b"x" * 22 + b"=20\r\n"
        b"end.\r\n.\r\n--" + B + b"--\r\n"
    )


def test_seven_bit_refuses_eight_bit_data() -> None:
    body = MultipartBody(MimeTree([MimePart(name=b"e", content=b"\xff", encoder="7bit")]))
    with pytest.raises(CurlError) as info:
        read_all(body)
    assert (info.value.code, info.value.message) == (26, "read error getting mime data")


def test_extension_table() -> None:
    assert content_type_for(b"a.JPEG") == b"image/jpeg"
    assert content_type_for("x.y.svg") == b"image/svg+xml"
    assert content_type_for(b"a.json") is None  # not in libcurl's table
    assert content_type_for(b"png") is None
    assert content_type_for(None) is None


def test_escape_modes() -> None:
    assert escape_name(b'a"b\\c\r\n') == b"a%22b\\c%0D%0A"
    assert escape_name(b'a"b\\c', backslash=True) == b'a\\"b\\\\c'


def test_boundary_shape() -> None:
    assert re.fullmatch(rb"-{24}[A-Za-z0-9]{22}", new_boundary())
    assert new_boundary() != new_boundary()


# --- streaming ---------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.binary(max_size=300), st.sampled_from([None, "base64", "quoted-printable"])),
        max_size=4,
    ),
    st.integers(min_value=1, max_value=97),
)
def test_any_read_size_gives_the_same_bytes(parts: list[tuple[bytes, str | None]], n: int) -> None:
    tree = MimeTree([MimePart(name=b"p", content=data, encoder=enc) for data, enc in parts])
    whole = read_all(MultipartBody(tree))
    body = MultipartBody(tree)
    assert read_all(body, n) == whole
    assert body.read(n) == b""
    assert body.size is None or body.size == len(whole)
    body.rewind()
    assert read_all(body, 1) == whole


def test_rewind_mid_file_closes_and_restarts(files: Path) -> None:
    tree = MimeTree([MimePart(name=b"f", content=FileSource(str(files / "hello.txt")))])
    body = MultipartBody(tree)
    first = body.read(60)
    body.rewind()
    assert read_all(body, 3).startswith(first)
    body.close()


def test_large_file_is_streamed(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    with open(path, "wb") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: fast to make
    body = MultipartBody(MimeTree([MimePart(name=b"f", content=FileSource(str(path)))]))
    assert body.size is not None and body.size > 50 * 1024 * 1024
    tracemalloc.start()
    try:
        total = 0
        while chunk := body.read(256 * 1024):
            total += len(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert total == body.size
    assert peak < 4 * 1024 * 1024


def test_missing_file_fails_the_build(tmp_path: Path) -> None:
    tree = MimeTree([MimePart(name=b"f", content=FileSource(str(tmp_path / "nope")))])
    with pytest.raises(CurlError) as info:
        MultipartBody(tree)
    assert info.value.code == _codes.E_READ_ERROR
    assert info.value.message == "Failed to open/read local data from file/application"


def test_file_removed_after_build_fails_the_read(tmp_path: Path) -> None:
    path = tmp_path / "gone.txt"
    path.write_bytes(b"x")
    body = MultipartBody(MimeTree([MimePart(name=b"f", content=FileSource(str(path)))]))
    os.unlink(path)
    with pytest.raises(CurlError) as info:
        read_all(body)
    assert info.value.code == 26


def test_directory_has_unknown_size_and_no_content(tmp_path: Path) -> None:
    body = MultipartBody(fixed(MimeTree([MimePart(name=b"f", content=FileSource(str(tmp_path)))])))
    assert body.size is None
    assert b"\r\n\r\n\r\n--" + B + b"--" in read_all(body)


def test_callback_source_rewinds_through_seek() -> None:
    state = {"pos": 0}
    data = b"abcdef"

    def read(n: int) -> bytes:
        chunk = data[state["pos"] : state["pos"] + n]
        state["pos"] += len(chunk)
        return chunk

    def seek_start() -> bool:
        state["pos"] = 0
        return True

    tree = MimeTree([MimePart(name=b"c", content=CallbackSource(6, read, seek_start))])
    body = MultipartBody(tree)
    whole = read_all(body, 4)
    body.rewind()
    assert read_all(body) == whole
    assert body.size == len(whole)
    no_seek = MultipartBody(MimeTree([MimePart(content=CallbackSource(None, lambda n: b""))]))
    assert no_seek.size is None
    read_all(no_seek)
    with pytest.raises(CurlError) as info:
        no_seek.rewind()
    assert info.value.code == _codes.E_SEND_FAIL_REWIND


# --- HTTPPOST ----------------------------------------------------------------------------------


def test_httppost_content_types(files: Path) -> None:
    tree = httppost(
        [
            ("p", (_consts.FORM_FILE, str(files / "a.png"))),
            ("q", (_consts.FORM_FILE, str(files / "noext"))),
            ("r", (_consts.FORM_FILE, str(files / "hello.txt"), _consts.FORM_FILENAME, "z.png")),
            ("s", (_consts.FORM_BUFFERPTR, b"zz")),
            ("t", (_consts.FORM_CONTENTS, b"x", _consts.FORM_CONTENTTYPE, "")),
        ]
    )
    assert [(p.content_type, p.filename) for p in tree.parts] == [
        (b"image/png", b"a.png"),
        (b"application/octet-stream", b"noext"),
        (b"text/plain", b"z.png"),  # typed from the path, not the filename
        (b"application/octet-stream", None),
        (b"", None),
    ]
    assert b"Content-Type: \r\n" in read_all(MultipartBody(tree))


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ((_consts.FORM_BUFFER, "up.bin"), 5),
        ((_consts.FORM_FILENAME, "a.txt"), 5),
        ((_consts.FORM_CONTENTTYPE, "a/b"), 5),
        ((_consts.FORM_CONTENTS, "a", _consts.FORM_CONTENTS, "b"), 2),
        ((_consts.FORM_CONTENTS, "x", _consts.FORM_FILE, "/x"), 2),
        (
            (
                _consts.FORM_CONTENTS,
                "x",
                _consts.FORM_CONTENTTYPE,
                "a",
                _consts.FORM_CONTENTTYPE,
                "b",
            ),
            2,
        ),
        ((_consts.FORM_BUFFER, "a", _consts.FORM_BUFFER, "b", _consts.FORM_BUFFERPTR, "c"), 2),
        ((_consts.FORM_BUFFER, "a", _consts.FORM_BUFFERPTR, "b", _consts.FORM_BUFFERPTR, "c"), 2),
    ],
)
def test_httppost_formadd_errors(value: tuple[object, ...], code: int) -> None:
    with pytest.raises(error) as info:
        httppost([("f", value)])
    assert info.value.args == (code, _codes.easy_strerror(code))


def test_httppost_missing_file_fails_when_built(tmp_path: Path) -> None:
    with pytest.warns(DeprecationWarning):
        pairs = check_easy_value(10024, [("f", (_consts.FORM_FILE, str(tmp_path / "nope")))])
    assert isinstance(pairs, list)
    tree_from_httppost(pairs)  # setopt time: no file is touched
    with pytest.raises(CurlError) as info:
        body_from_httppost(pairs)
    assert info.value.code == 26


# --- CurlMime ----------------------------------------------------------------------------------


def test_curl_mime_api_checks(files: Path) -> None:
    c = purecurl.Curl()
    m = CurlMime(c)
    p = m.addpart()
    assert isinstance(p, CurlMimePart)
    with pytest.raises(error) as info:
        p.filedata(str(files / "nope"))
    assert info.value.args == (26, "Failed to open/read local data from file/application")
    with pytest.raises(TypeError, match="expected bytes or an ASCII string, got NoneType"):
        p.name(None)  # type: ignore[arg-type]
    with pytest.raises(UnicodeEncodeError):
        p.name("é")
    with pytest.raises(ValueError, match="embedded null byte"):
        p.name("a\0b")
    with pytest.raises(TypeError, match="data\\(\\) argument must be"):
        p.data(3)
    p.data(memoryview(b"ab"))
    with pytest.raises(error) as info:
        p.encoder("bogus")
    assert info.value.args[0] == 43
    p.encoder("BASE64")
    with pytest.raises(TypeError, match="list or tuple"):
        p.headers("X: y")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="only byte or ascii-unicode"):
        p.headers([1])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="at most one of data or file"):
        m.add(data="a", file=str(files / "a.png"))
    with pytest.raises(ValueError, match="parent mime"):
        p.subparts(m)
    with pytest.raises(TypeError, match="cannot create"):
        CurlMimePart()
    with pytest.raises(TypeError, match="cannot pickle"):
        pickle.dumps(m)
    with pytest.raises(AttributeError):
        m.foo = 1  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match=r"must be pycurl\.Curl"):
        CurlMime(None)  # type: ignore[arg-type]
    other = CurlMime(purecurl.Curl())
    with pytest.raises(ValueError, match="created with this Curl handle"):
        other._attach_mimepost(c)
    m._attach_mimepost(c)
    assert not m.closed
    m.close()
    m.close()
    assert m.closed
    with pytest.raises(error, match="cannot invoke addpart"):
        m.addpart()
    with pytest.raises(error, match="cannot invoke name"):
        p.name("x")
    with pytest.raises(ValueError, match="closed mime"):
        m._attach_mimepost(c)


def test_curl_mime_nested_and_callbacks() -> None:
    c = purecurl.Curl()
    freed: list[object] = []
    with CurlMime(c) as m:
        sub = m.add_multipart("sub")
        sub.add(data="inner", filename="i.txt")
        sub.add(name="nm", data="x")
        chunks = [b"abc"]
        m.addpart().data_cb(
            3, lambda u, n: chunks.pop() if chunks else b"", free=freed.append, userdata="ud"
        )
        body = m.multipart_body()
        data = read_all(body)
        assert body.size == len(data)
        assert (
            b'Content-Disposition: attachment; filename="i.txt"\r\nContent-Type: text/plain' in data
        )
        assert b'Content-Disposition: attachment; name="nm"\r\n\r\nx\r\n' in data
        assert b"Content-Type: multipart/mixed; boundary=------------------------" in data
        assert data.endswith(
            b"\r\nContent-Disposition: form-data\r\n\r\nabc\r\n--" + body.tree.boundary + b"--\r\n"
        )
    assert sub.closed and freed == ["ud"]


def test_setopt_mimepost_takes_only_curl_mime() -> None:
    c = purecurl.Curl()
    with pytest.raises(TypeError, match="expects a CurlMime object"):
        check_easy_value(10269, object())
    m = CurlMime(c)
    assert check_easy_value(10269, m) is m
    m.close()
