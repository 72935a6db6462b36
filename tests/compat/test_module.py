"""The module face: classes, `error`, version strings, global functions, constants.

Each test runs against purecurl and the real pycurl (fixture `mod`); facts from PYCURL-API.md
"Module".
"""

from __future__ import annotations

import importlib
import re
from typing import Any

import pytest

import purecurl

# Names whose value depends on how the extension was built, not on libcurl's ABI.
_BUILD_DEPENDENT = {"COMPILE_PY_VERSION_HEX"}


def _int_constants(module: Any) -> dict[str, int]:
    return {
        name: value
        for name in dir(module)
        if name[:1].isupper() and type(value := getattr(module, name)) is int
    }


@pytest.mark.parametrize("name", ["Curl", "CurlMulti", "CurlShare"])
def test_classes_exist_at_import(mod: Any, name: str) -> None:
    """PYCURL-API Module: the classes exist at import time (Tornado annotates with them)."""
    assert isinstance(getattr(mod, name), type)
    cls: Any = getattr(mod, name)
    instance: Any = cls()
    try:
        assert isinstance(instance, cls)
    finally:
        instance.close()


def test_error_is_plain_exception_with_code_and_message(mod: Any) -> None:
    """PYCURL-API Module: `error` is an Exception subclass whose args are (code, message)."""
    assert issubclass(mod.error, Exception)
    err = mod.error(7, "Couldn't connect")
    assert err.args == (7, "Couldn't connect")
    code, message = err.args
    assert (code, message) == (7, "Couldn't connect")


def test_version_string_parseable(mod: Any) -> None:
    """PYCURL-API Module: `version` is "PycURL/<v> libcurl/<v> ..." and software parses it."""
    version = mod.version
    assert isinstance(version, str)
    assert version.startswith("PycURL/")
    assert re.search(r"(^| )libcurl/\d+\.\d+\.\d+( |$)", version)
    assert all("/" in part for part in version.split())


def test_version_info_shape(mod: Any) -> None:
    """PYCURL-API Module: version_info() is a 12-tuple with these types; features a bitmask."""
    info = mod.version_info()
    assert isinstance(info, tuple)
    assert len(info) == 12
    (age, version, version_num, host, features, ssl_version, ssl_version_num, libz, protocols) = (
        info[:9]
    )
    assert isinstance(age, int)
    assert isinstance(version, str) and re.fullmatch(r"\d+\.\d+\.\d+", version)
    major, minor, patch = map(int, version.split("."))
    assert version_num == (major << 16) | (minor << 8) | patch
    assert isinstance(host, str) and host
    assert isinstance(features, int) and features & mod.VERSION_IPV6
    assert ssl_version is None or isinstance(ssl_version, str)
    assert isinstance(ssl_version_num, int)
    assert libz is None or isinstance(libz, str)
    assert isinstance(protocols, tuple) and "http" in protocols
    assert all(isinstance(p, str) and p == p.lower() for p in protocols)
    assert info[9] is None or isinstance(info[9], str)
    assert isinstance(info[10], int)
    assert info[11] is None or isinstance(info[11], str)
    assert f"libcurl/{version}" in mod.version


def test_global_init_rejects_bad_flags(mod: Any) -> None:
    """PYCURL-API Module: global_init(flags) raises ValueError on flags libcurl does not know."""
    with pytest.raises(ValueError, match=r"^invalid option to global_init$"):
        mod.global_init(12345)
    assert mod.global_init(mod.GLOBAL_DEFAULT) is None
    assert mod.global_cleanup() is None


_EASY_CODES = [0, 1, 2, 3, 6, 7, 18, 22, 23, 26, 28, 35, 42, 47, 52, 55, 56, 61, 99, 1000]
_EASY_TEXTS = {
    0: "No error",
    1: "Unsupported protocol",
    3: "URL using bad/illegal format or missing URL",
    7: "Could not connect to server",
    23: "Failed writing received data to disk/application",
    28: "Timeout was reached",
    42: "Operation was aborted by an application callback",
    1000: "Unknown error",
}


@pytest.mark.parametrize("code", _EASY_CODES)
def test_easy_strerror(mod: Any, code: int) -> None:
    """PYCURL-API Module: easy_strerror(code) is curl_easy_strerror's text (libcurl 8.23)."""
    text = mod.easy_strerror(code)
    assert isinstance(text, str)
    if code in _EASY_TEXTS:
        assert text == _EASY_TEXTS[code]
    pycurl = pytest.importorskip("pycurl")
    assert text == pycurl.easy_strerror(code)


@pytest.mark.parametrize("code", [-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 99])
def test_multi_strerror(mod: Any, code: int) -> None:
    """PYCURL-API Module: multi_strerror(code) is curl_multi_strerror's text."""
    text = mod.multi_strerror(code)
    assert text == {
        -1: "Please call curl_multi_perform() soon",
        0: "No error",
        7: "The easy handle is already added to a multi handle",
        8: "API function called from within callback",
        99: "Unknown error",
    }.get(code, text)
    pycurl = pytest.importorskip("pycurl")
    assert text == pycurl.multi_strerror(code)


@pytest.mark.parametrize("code", [0, 1, 2, 3, 4, 5, 6, 99])
def test_share_strerror(mod: Any, code: int) -> None:
    """PYCURL-API Module: share_strerror(code) is curl_share_strerror's text."""
    text = mod.share_strerror(code)
    assert text == {0: "No error", 1: "Unknown share option", 99: "CURLSHcode unknown"}.get(
        code, text
    )
    pycurl = pytest.importorskip("pycurl")
    assert text == pycurl.share_strerror(code)


def test_constants_equal_pycurls() -> None:
    """PYCURL-API Module: every int constant both modules export has pycurl's number."""
    pycurl = pytest.importorskip("pycurl")
    ours = _int_constants(purecurl)
    theirs = _int_constants(pycurl)
    common = (ours.keys() & theirs.keys()) - _BUILD_DEPENDENT
    assert len(common) > 700
    differ = {name: (ours[name], theirs[name]) for name in common if ours[name] != theirs[name]}
    assert differ == {}


def test_no_pycurl_constant_missing() -> None:
    """PYCURL-API Module: purecurl exports every upper-case int constant pycurl exports."""
    pycurl = pytest.importorskip("pycurl")
    missing = sorted(_int_constants(pycurl).keys() - _int_constants(purecurl).keys())
    assert missing == []


@pytest.mark.parametrize(
    ("name", "number"),
    [
        ("URL", 10002),
        ("OPT_FILETIME", 69),
        ("OPT_CERTINFO", 172),
        ("OPT_COOKIELIST", 10135),
        ("INFO_FILETIME", 0x200000 + 14),
        ("INFO_COOKIELIST", 0x400000 + 28),
        ("INFO_HTTP_VERSION", 0x200000 + 46),
        ("HTTP_VERSION", 84),
        ("POSTFIELDSIZE", 30120),
        ("INFILESIZE", 30115),
        ("RESUME_FROM", 30116),
        ("SSLVERSION_TLSv1_2", 6),
        ("M_TIMERFUNCTION", 20004),
        ("SH_SHARE", 1),
        ("E_MULTI_OK", 0),
        ("E_COULDNT_CONNECT", 7),
    ],
)
def test_constant_naming_exceptions(mod: Any, name: str, number: int) -> None:
    """PYCURL-API Module: option/info naming, the `_LARGE` numbers and the odd spellings."""
    assert getattr(mod, name) == number


def test_http_code_is_response_code(mod: Any) -> None:
    """PYCURL-API Module: HTTP_CODE == RESPONSE_CODE."""
    assert mod.HTTP_CODE == mod.RESPONSE_CODE


@pytest.mark.parametrize(
    ("cls", "names"),
    [
        ("Curl", ["URL", "WRITEFUNCTION", "RESPONSE_CODE", "INFO_HTTP_VERSION", "E_OK"]),
        ("CurlMulti", ["M_TIMERFUNCTION", "M_SOCKETFUNCTION", "E_MULTI_OK", "PIPE_MULTIPLEX"]),
        ("CurlShare", ["SH_SHARE", "SH_UNSHARE", "LOCK_DATA_COOKIE", "LOCK_DATA_DNS"]),
    ],
)
def test_constants_readable_on_instances(mod: Any, cls: str, names: list[str]) -> None:
    """PYCURL-API Module: constants are readable on instances and are the module's objects."""
    instance = getattr(mod, cls)()
    try:
        for name in names:
            assert getattr(instance, name) is getattr(mod, name), name
    finally:
        instance.close()


def test_reload_keeps_classes() -> None:
    """PYCURL-API Objects: importlib.reload(purecurl) must not create new classes."""
    before = (purecurl.Curl, purecurl.CurlMulti, purecurl.CurlShare, purecurl.error)
    old = purecurl.Curl()
    try:
        module = importlib.reload(purecurl)
        assert module is purecurl
        after = (purecurl.Curl, purecurl.CurlMulti, purecurl.CurlShare, purecurl.error)
        assert after == before
        assert all(a is b for a, b in zip(after, before, strict=True))
        assert isinstance(old, purecurl.Curl)
        assert purecurl.URL == 10002
    finally:
        old.close()
