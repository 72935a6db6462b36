"""`Curl.setopt` / `unsetopt` / `setopt_string`: type dispatch, errors, what reaches the wire.

Each test runs against purecurl and the real pycurl (fixture `mod`); facts from PYCURL-API.md
"Curl" (setopt dispatches on the Python type of the value).
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from tests.compat._util import fetch
from tests.servers import HttpServer


def test_constructor_takes_no_arguments(mod: Any) -> None:
    """PYCURL-API Curl: `Curl()` takes no arguments."""
    with pytest.raises(TypeError):
        mod.Curl(1)
    with pytest.raises(TypeError):
        mod.Curl(url="http://x/")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("URL", 1, "integers are not supported for this option"),
        ("WRITEDATA", 1, "integers are not supported for this option"),
        ("WRITEFUNCTION", 1, "integers are not supported for this option"),
        ("VERBOSE", "1", "strings are not supported for this option"),
        ("HTTPHEADER", "X-A: 1", "strings are not supported for this option"),
        ("VERBOSE", [b"x"], "lists are not supported for this option"),
        ("URL", [b"x"], "lists are not supported for this option"),
        ("URL", 1.5, "invalid arguments to setopt"),
        ("URL", object(), "invalid arguments to setopt"),
        ("WRITEDATA", object(), "object given without a write method"),
        (
            "HTTPHEADER",
            ["X-A: 1", 1],
            "list items must be byte strings or Unicode strings with ASCII code points only",
        ),
        ("URL", None, "unsetopt() is not supported for this option"),
        ("VERBOSE", None, "unsetopt() is not supported for this option"),
        ("WRITEDATA", None, "unsetopt() is not supported for this option"),
    ],
)
def test_setopt_type_errors(curl: Any, mod: Any, option: str, value: object, message: str) -> None:
    """PYCURL-API Curl: the wrong Python type raises TypeError with pycurl's exact message."""
    with pytest.raises(TypeError) as info:
        curl.setopt(getattr(mod, option), value)
    assert info.value.args == (message,)


def test_setopt_unknown_option_number(curl: Any) -> None:
    """PYCURL-API Curl: a number that is no option is "invalid arguments to setopt"."""
    with pytest.raises(TypeError) as info:
        curl.setopt(123456, 1)
    assert info.value.args == ("invalid arguments to setopt",)


@pytest.mark.parametrize("option", ["URL", "USERAGENT"])
def test_setopt_str_must_be_ascii(curl: Any, mod: Any, option: str) -> None:
    """PYCURL-API Curl: a str value must be ASCII, else UnicodeEncodeError (codec 'ascii')."""
    with pytest.raises(UnicodeEncodeError) as info:
        curl.setopt(getattr(mod, option), "http://\u00e9/")
    assert info.value.encoding == "ascii"
    assert (info.value.start, info.value.end) == (7, 8)


def test_httpheader_items_must_be_ascii(curl: Any, mod: Any) -> None:
    """PYCURL-API Curl: str items of a header list must be ASCII too."""
    with pytest.raises(UnicodeEncodeError):
        curl.setopt(mod.HTTPHEADER, ["X-A: \u00e9"])


def test_bytes_pass_through(curl: Any, mod: Any, server: HttpServer) -> None:
    """PYCURL-API Curl: bytes values pass through unchanged (non-ASCII included)."""
    curl.setopt(mod.USERAGENT, "agent-\u00e9".encode())
    assert fetch(mod, curl, server.url("/hello")) == b"hello\n"
    raw = server.requests[-1].raw
    assert b"\r\nUser-Agent: agent-\xc3\xa9\r\n" in raw


@pytest.mark.parametrize(
    "headers",
    [
        ["X-A: 1", "X-B: 2"],
        ("X-A: 1", "X-B: 2"),
        [b"X-A: 1", b"X-B: 2"],
        ("X-A: 1", b"X-B: 2"),
    ],
)
def test_httpheader_list_or_tuple(
    curl: Any, mod: Any, server: HttpServer, headers: list[str] | tuple[str | bytes, ...]
) -> None:
    """PYCURL-API Curl: HTTPHEADER takes a list or tuple of str/bytes, sent in order."""
    curl.setopt(mod.HTTPHEADER, headers)
    fetch(mod, curl, server.url("/hello"))
    request = server.requests[-1]
    assert [(k, v) for k, v in request.headers if k.startswith("X-")] == [
        ("X-A", "1"),
        ("X-B", "2"),
    ]


def test_httpheader_none_unsets(curl: Any, mod: Any, server: HttpServer) -> None:
    """PYCURL-API Curl: None unsets the options that allow it (HTTPHEADER does)."""
    curl.setopt(mod.HTTPHEADER, ["X-A: 1"])
    curl.setopt(mod.HTTPHEADER, None)
    fetch(mod, curl, server.url("/hello"))
    assert server.requests[-1].header("X-A") is None


def test_unsetopt_httpheader(curl: Any, mod: Any, server: HttpServer) -> None:
    """PYCURL-API Curl: unsetopt(opt) resets an option to its default."""
    curl.setopt(mod.HTTPHEADER, ["X-A: 1"])
    curl.unsetopt(mod.HTTPHEADER)
    fetch(mod, curl, server.url("/hello"))
    assert server.requests[-1].header("X-A") is None


@pytest.mark.parametrize("option", ["URL", "VERBOSE", "USERAGENT"])
def test_unsetopt_refused(curl: Any, mod: Any, option: str) -> None:
    """PYCURL-API Curl: unsetopt of an option pycurl cannot reset raises TypeError."""
    with pytest.raises(TypeError) as info:
        curl.unsetopt(getattr(mod, option))
    assert info.value.args == ("unsetopt() is not supported for this option",)


@pytest.mark.parametrize("option", ["WRITEFUNCTION", "HEADERFUNCTION", "PROXY", "COOKIE"])
def test_none_and_unsetopt_allowed(curl: Any, mod: Any, option: str) -> None:
    """PYCURL-API Curl: None unsets where pycurl allows it, and unsetopt does the same."""
    number = getattr(mod, option)
    assert curl.setopt(number, None) is None
    assert curl.unsetopt(number) is None


def test_writedata_needs_write(curl: Any, mod: Any) -> None:
    """PYCURL-API Curl: WRITEDATA needs an object with a `write` method."""

    class NoWrite:
        read = None

    with pytest.raises(TypeError) as info:
        curl.setopt(mod.WRITEDATA, NoWrite())
    assert info.value.args == ("object given without a write method",)


def test_writedata_replaces_writefunction(curl: Any, mod: Any, server: HttpServer) -> None:
    """PYCURL-API Curl: setting WRITEDATA replaces WRITEFUNCTION."""
    got: list[bytes] = []
    buf = io.BytesIO()
    curl.setopt(mod.URL, server.url("/hello"))
    curl.setopt(mod.WRITEFUNCTION, got.append)
    curl.setopt(mod.WRITEDATA, buf)
    curl.perform()
    assert (got, buf.getvalue()) == ([], b"hello\n")


def test_writefunction_replaces_writedata(curl: Any, mod: Any, server: HttpServer) -> None:
    """PYCURL-API Curl: setting WRITEFUNCTION replaces WRITEDATA."""
    got: list[bytes] = []
    buf = io.BytesIO()
    curl.setopt(mod.URL, server.url("/hello"))
    curl.setopt(mod.WRITEDATA, buf)
    curl.setopt(mod.WRITEFUNCTION, got.append)
    curl.perform()
    assert (got, buf.getvalue()) == ([b"hello\n"], b"")


def test_writeheader_replaces_headerfunction(curl: Any, mod: Any, server: HttpServer) -> None:
    """PYCURL-API Curl: the header pair replace each other as the write pair do."""
    got: list[bytes] = []
    buf = io.BytesIO()
    curl.setopt(mod.HEADERFUNCTION, got.append)
    curl.setopt(mod.WRITEHEADER, buf)
    fetch(mod, curl, server.url("/hello"))
    assert got == []
    assert buf.getvalue().startswith(b"HTTP/1.1 200 OK\r\n")
    assert buf.getvalue().endswith(b"\r\n\r\n")


def test_setopt_string(curl: Any, mod: Any, server: HttpServer) -> None:
    """PYCURL-API Curl: setopt_string(opt, s) sets a string option from a str."""
    curl.setopt_string(mod.URL, server.url("/hello"))
    got: list[bytes] = []
    curl.setopt(mod.WRITEFUNCTION, got.append)
    curl.perform()
    assert got == [b"hello\n"]


def test_setopt_string_errors(curl: Any, mod: Any) -> None:
    """PYCURL-API Curl: setopt_string refuses non-string options and non-ASCII text."""
    with pytest.raises(TypeError) as info:
        curl.setopt_string(mod.VERBOSE, "1")
    assert info.value.args == ("strings are not supported for this option",)
    with pytest.raises(UnicodeEncodeError):
        curl.setopt_string(mod.URL, "\u00e9")


def test_setopt_string_accepts_bytes(curl: Any, mod: Any) -> None:
    """PYCURL-API Curl: setopt_string takes what setopt takes for a string option (bytes too)."""
    assert curl.setopt_string(mod.URL, b"http://127.0.0.1/") is None


def test_setopt_string_non_string_message(curl: Any, mod: Any) -> None:
    """PYCURL-API Curl: setopt_string with a non-string value raises pycurl's TypeError."""
    with pytest.raises(TypeError) as info:
        curl.setopt_string(mod.URL, 5)
    assert info.value.args == ("invalid arguments to setopt_string",)


def test_setopt_on_closed_handle(mod: Any) -> None:
    """PYCURL-API Curl: a closed handle refuses setopt with pycurl.error."""
    c = mod.Curl()
    c.close()
    with pytest.raises(mod.error) as info:
        c.setopt(mod.URL, "http://127.0.0.1/")
    assert info.value.args == ("cannot invoke setopt() - no curl handle",)
