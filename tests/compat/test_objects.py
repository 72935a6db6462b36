"""The `Curl` object: perform and its errors, defaults, attributes, lifetime and memory.

Each test runs against purecurl and the real pycurl (fixture `mod`) unless it says otherwise;
facts from PYCURL-API.md "Curl" and "Objects and memory".
"""

from __future__ import annotations

import copy
import gc
import io
import pickle
import re
import subprocess
import sys
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.compat._util import fetch
from tests.servers import HttpServer, wait_until

_REPO = Path(__file__).resolve().parents[2]


# -- perform and its results -------------------------------------------------------------------


def test_perform_returns_none(curl: Any, mod: Any, server: HttpServer) -> None:
    """PYCURL-API Curl: perform() returns None; the body goes to the write target."""
    buf = io.BytesIO()
    curl.setopt(mod.URL, server.url("/hello"))
    curl.setopt(mod.WRITEDATA, buf)
    assert curl.perform() is None
    assert buf.getvalue() == b"hello\n"


def test_perform_rb_and_rs(curl: Any, mod: Any, server: HttpServer) -> None:
    """PYCURL-API Curl: perform_rb() returns the body as bytes, perform_rs() as str."""
    curl.setopt(mod.URL, server.url("/hello"))
    assert curl.perform_rb() == b"hello\n"
    assert curl.perform_rs() == "hello\n"


def test_errstr_empty_then_message(curl: Any, mod: Any, dead_port: int) -> None:
    """PYCURL-API Curl: errstr() is '' at first, then the last failure's message."""
    assert curl.errstr() == ""
    assert curl.errstr_raw() == b""
    curl.setopt(mod.URL, f"http://127.0.0.1:{dead_port}/")
    with pytest.raises(mod.error) as info:
        curl.perform()
    code, message = info.value.args
    assert code == mod.E_COULDNT_CONNECT
    assert curl.errstr() == message
    assert curl.errstr_raw() == message.encode()


def test_errstr_cleared_by_success(curl: Any, mod: Any, server: HttpServer) -> None:
    """PYCURL-API Curl: errstr() is the LAST transfer's message ('' after a success)."""
    curl.setopt(mod.URL, server.url("/hello"))
    curl.setopt(mod.WRITEFUNCTION, lambda data: 0)
    with pytest.raises(mod.error):
        curl.perform()
    assert curl.errstr() != ""
    curl.setopt(mod.WRITEFUNCTION, lambda data: None)
    curl.perform()
    assert curl.errstr() == ""


def test_perform_error_shape(curl: Any, mod: Any, dead_port: int) -> None:
    """PYCURL-API Curl: a failed perform raises error whose args are (int code, str message)."""
    curl.setopt(mod.URL, f"http://127.0.0.1:{dead_port}/")
    with pytest.raises(mod.error) as info:
        curl.perform()
    assert type(info.value) is mod.error
    code, message = info.value.args
    assert (type(code), type(message)) == (int, str)
    assert code == 7
    assert message.startswith("Failed to connect to 127.0.0.1")


def test_refused_message_as_libcurl_8_23(curl: Any, mod: Any, dead_port: int) -> None:
    """libcurl 8.23 (observed with pycurl): the text of a refused connect."""
    curl.setopt(mod.URL, f"http://127.0.0.1:{dead_port}/")
    with pytest.raises(mod.error) as info:
        curl.perform()
    assert re.fullmatch(
        rf"Failed to connect to 127\.0\.0\.1:{dead_port} after \d+ ms: "
        r"Could not connect to server",
        info.value.args[1],
    )


def test_no_url(curl: Any, mod: Any) -> None:
    """PYCURL-API CurlMulti: a transfer with no URL fails (3, 'No URL set')."""
    with pytest.raises(mod.error) as info:
        curl.perform()
    assert info.value.args == (3, "No URL set")
    assert curl.errstr() == "No URL set"


# -- defaults ----------------------------------------------------------------------------------

_CHILD = """
import sys
sys.path.insert(0, {repo!r})
import {module} as m
c = m.Curl()
c.setopt(m.URL, {url!r})
if {drop_stdout}:
    sys.stdout = None  # the body must go to fd 1, not through sys.stdout
c.perform()
c.close()
"""


def _child(module: str, url: str, drop_stdout: bool) -> subprocess.CompletedProcess[bytes]:
    code = _CHILD.format(repo=str(_REPO), module=module, url=url, drop_stdout=drop_stdout)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, timeout=20, check=False
    )


def test_default_write_target_is_fd_1(mod: Any, server: HttpServer) -> None:
    """PYCURL-API Curl: with no write target the body goes to OS file descriptor 1."""
    done = _child(mod.__name__, server.url("/hello"), drop_stdout=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"hello\n", b"")


def test_default_write_target_is_fd_1_without_sys_stdout(mod: Any, server: HttpServer) -> None:
    """PYCURL-API Curl: the default target is fd 1 itself, whatever sys.stdout is."""
    done = _child(mod.__name__, server.url("/hello"), drop_stdout=True)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"hello\n", b"")


def test_default_user_agent(curl: Any, mod: Any, server: HttpServer) -> None:
    """PYCURL-API Curl: the default User-Agent is the library's own (part of `version`)."""
    fetch(mod, curl, server.url("/hello"))
    agent = server.requests[-1].header("User-Agent")
    assert agent
    assert agent in mod.version


def test_default_request_head(curl: Any, mod: Any, server: HttpServer) -> None:
    """RFC 9112 section 3.2 / libcurl: the request line, Host, User-Agent, Accept of a GET."""
    fetch(mod, curl, server.url("/hello"))
    request = server.requests[-1]
    assert request.raw.startswith(
        f"GET /hello HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUser-Agent: ".encode()
    )
    assert request.raw.endswith(b"\r\nAccept: */*\r\n\r\n")


def test_custom_user_agent(curl: Any, mod: Any, server: HttpServer) -> None:
    """PYCURL-API Curl: USERAGENT replaces the default."""
    curl.setopt(mod.USERAGENT, "custom/1")
    fetch(mod, curl, server.url("/hello"))
    assert server.requests[-1].header_values("User-Agent") == ["custom/1"]


# -- attributes, pickling, identity -----------------------------------------------------------


def test_arbitrary_attributes(curl: Any) -> None:
    """PYCURL-API Curl: instances take arbitrary attributes."""
    curl.anything = 5
    curl.URL_seen = "x"
    assert (curl.anything, curl.URL_seen) == (5, "x")


def test_missing_attribute_message(curl: Any) -> None:
    """PYCURL-API Curl: reading a missing attribute raises pycurl's AttributeError text."""
    with pytest.raises(AttributeError) as info:
        _ = curl.nonexistent
    assert info.value.args == ("trying to obtain a non-existing attribute: nonexistent",)


def test_pickle_raises_type_error(curl: Any) -> None:
    """PYCURL-API Curl: pickling raises TypeError."""
    with pytest.raises(TypeError) as info:
        pickle.dumps(curl)
    assert info.value.args == ("Curl objects do not support serialization",)


@pytest.mark.parametrize("how", [copy.copy, copy.deepcopy])
def test_copy_raises_type_error(curl: Any, how: Callable[[Any], Any]) -> None:
    """PYCURL-API Curl: copying raises TypeError."""
    with pytest.raises(TypeError):
        how(curl)


@pytest.mark.parametrize("how", [copy.copy, copy.deepcopy])
def test_copy_message(curl: Any, how: Callable[[Any], Any]) -> None:
    """pycurl 7.49.0: copy and deepcopy fail with the pickling message."""
    with pytest.raises(TypeError) as info:
        how(curl)
    assert info.value.args == ("Curl objects do not support serialization",)


def test_hashable(mod: Any) -> None:
    """PYCURL-API Curl: handles are hashable by identity (dict keys, `c in multi`)."""
    a, b = mod.Curl(), mod.Curl()
    try:
        assert hash(a) == hash(a)
        assert len({a: 1, b: 2}) == 2
        assert a != b
    finally:
        a.close()
        b.close()


# -- lifetime ----------------------------------------------------------------------------------


def test_context_manager(mod: Any) -> None:
    """PYCURL-API Curl: a Curl is a context manager that closes the handle on exit."""
    with mod.Curl() as c:
        assert isinstance(c, mod.Curl)
        assert not c.closed
    assert c.closed


def test_close_idempotent(mod: Any) -> None:
    """PYCURL-API Curl: close() twice is fine; `closed` is a property."""
    c = mod.Curl()
    assert c.closed is False
    assert c.close() is None
    assert c.close() is None
    assert c.closed is True


@pytest.mark.parametrize("call", ["perform", "getinfo"])
def test_closed_handle_refuses(mod: Any, call: str) -> None:
    """pycurl: a closed handle raises error('cannot invoke X() - no curl handle')."""
    c = mod.Curl()
    c.close()
    with pytest.raises(mod.error) as info:
        if call == "getinfo":
            c.getinfo(mod.RESPONSE_CODE)
        else:
            c.perform()
    assert info.value.args == (f"cannot invoke {call}() - no curl handle",)


class _Callback:
    """A callable a weakref can watch."""

    def __call__(self, data: bytes) -> None:
        return None


@pytest.mark.parametrize("release", ["reset", "close", "replace"])
def test_release_drops_callback(mod: Any, release: str) -> None:
    """PYCURL-API Objects: reset(), close() and replacing a callback release the old one."""
    c = mod.Curl()
    try:
        cb = _Callback()
        ref = weakref.ref(cb)
        c.setopt(mod.WRITEFUNCTION, cb)
        del cb
        gc.collect()
        assert ref() is not None  # the handle holds it
        if release == "reset":
            c.reset()
        elif release == "close":
            c.close()
        else:
            c.setopt(mod.WRITEFUNCTION, _Callback())
        gc.collect()
        assert ref() is None
    finally:
        c.close()


def test_reset_restores_defaults(curl: Any, mod: Any, server: HttpServer) -> None:
    """curl_easy_reset: every option back to its default (a set header is gone)."""
    curl.setopt(mod.HTTPHEADER, ["X-A: 1"])
    curl.setopt(mod.USERAGENT, "custom/1")
    curl.reset()
    fetch(mod, curl, server.url("/hello"))
    request = server.requests[-1]
    assert request.header("X-A") is None
    assert request.header("User-Agent") in mod.version


def test_cycle_through_callback_collectable(mod: Any) -> None:
    """PYCURL-API Objects: reference cycles through callbacks are collectable."""

    class Owner:
        curl: Any

    owner = Owner()
    owner.curl = mod.Curl()
    owner.curl.setopt(mod.WRITEFUNCTION, lambda data, o=owner: None)
    ref = weakref.ref(owner)
    del owner
    gc.collect()
    assert ref() is None


def test_cycle_after_transfer_collectable(mod: Any, server: HttpServer) -> None:
    """PYCURL-API Objects: a cycle handle -> callback -> handle that ran a transfer goes too."""

    class Owner:
        curl: Any
        body: bytes = b""

        def write(self, data: bytes) -> None:
            self.body += data

    owner = Owner()
    owner.curl = mod.Curl()
    owner.curl.setopt(mod.URL, server.url("/hello"))
    owner.curl.setopt(mod.WRITEFUNCTION, owner.write)
    owner.curl.perform()
    assert owner.body == b"hello\n"
    ref = weakref.ref(owner)
    del owner
    gc.collect()
    assert ref() is None


def test_duphandle_copies_options(mod: Any, server: HttpServer) -> None:
    """PYCURL-API Curl: duphandle() is a new handle with the same options (it outlives the
    original)."""
    original = mod.Curl()
    buf = io.BytesIO()
    original.setopt(mod.URL, server.url("/hello"))
    original.setopt(mod.WRITEDATA, buf)
    original.setopt(mod.HTTPHEADER, ["X-A: 1"])
    dup = original.duphandle()
    original.close()
    try:
        assert isinstance(dup, mod.Curl)
        dup.perform()
        assert buf.getvalue() == b"hello\n"
        assert server.requests[-1].header("X-A") == "1"
        assert dup.getinfo(mod.RESPONSE_CODE) == 200
    finally:
        dup.close()


def test_subclass_del_calls_super(mod: Any, server: HttpServer) -> None:
    """PYCURL-API Objects: a subclass's __del__ must (and can) call super().__del__()."""
    deleted: list[str] = []

    class Sub(mod.Curl):  # type: ignore[misc]
        def __del__(self) -> None:
            deleted.append("sub")
            super().__del__()

    handle = Sub()
    handle.setopt(mod.URL, server.url("/hello"))
    handle.setopt(mod.WRITEFUNCTION, lambda data: None)
    handle.perform()
    assert handle.getinfo(mod.RESPONSE_CODE) == 200
    del handle
    gc.collect()
    assert deleted == ["sub"]


def test_close_closes_kept_alive_connection(mod: Any, server: HttpServer) -> None:
    """PYCURL-API Curl: the connection outlives the transfer (keep-alive) until close()."""
    c = mod.Curl()
    try:
        fetch(mod, c, server.url("/hello"))
        assert server.open_connections == 1
    finally:
        c.close()
    assert wait_until(lambda: server.open_connections == 0)
