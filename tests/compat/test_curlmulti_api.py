"""`CurlMulti`: the shapes of its return values and its errors.

Each test runs against purecurl and the real pycurl (fixture `mod`); facts from PYCURL-API.md
"CurlMulti".
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.compat._util import drive
from tests.servers import HttpServer


@pytest.fixture
def handle(mod: Any, server: HttpServer) -> Iterator[Any]:
    """A Curl set to GET /hello with the body discarded, closed at the end."""
    c = mod.Curl()
    c.setopt(mod.URL, server.url("/hello"))
    c.setopt(mod.WRITEFUNCTION, lambda data: None)
    try:
        yield c
    finally:
        c.close()


def test_empty_multi_shapes(multi: Any, mod: Any) -> None:
    """PYCURL-API CurlMulti: perform/socket_action -> (0, running), info_read -> (0, [], []),
    timeout -1 and fdset empty lists when nothing was added."""
    assert multi.perform() == (0, 0)
    assert multi.socket_action(mod.SOCKET_TIMEOUT, 0) == (0, 0)
    assert multi.info_read() == (0, [], [])
    assert multi.info_read(1) == (0, [], [])
    assert multi.timeout() == -1
    assert multi.fdset() == ([], [], [])


@pytest.mark.parametrize("bad", [0, -1])
def test_info_read_needs_positive(multi: Any, mod: Any, bad: int) -> None:
    """PYCURL-API CurlMulti: info_read(0) raises (so does a negative count)."""
    with pytest.raises(mod.error) as info:
        multi.info_read(bad)
    assert info.value.args == ("argument to info_read must be greater than zero",)


def test_select_nothing_watched_returns_at_once(multi: Any) -> None:
    """PYCURL-API CurlMulti: select() returns 0 at once when nothing is watched."""
    start = time.monotonic()
    assert multi.select(1.0) == 0
    assert time.monotonic() - start < 0.5


def test_select_negative_timeout_raises(multi: Any, mod: Any) -> None:
    """PYCURL-API CurlMulti: a negative select timeout raises."""
    with pytest.raises((mod.error, OverflowError, ValueError)):
        multi.select(-1)


def test_select_negative_timeout_overflow_error(multi: Any) -> None:
    """pycurl 7.49.0: select(-1) raises OverflowError('invalid timeout period')."""
    with pytest.raises(OverflowError) as info:
        multi.select(-1)
    assert info.value.args == ("invalid timeout period",)


def test_transfer_shapes(multi: Any, mod: Any, handle: Any) -> None:
    """PYCURL-API CurlMulti: add_handle arms a 0 timer; perform/socket_action give
    (0, running); fdset gives three lists of ints; info_read gives (queued, [ok], [])."""
    assert handle not in multi
    multi.add_handle(handle)
    assert handle in multi
    assert handle.multi() is multi
    assert multi.timeout() == 0
    code, running = multi.socket_action(mod.SOCKET_TIMEOUT, 0)
    assert (code, running) == (0, 1)
    fds = multi.fdset()
    assert isinstance(fds, tuple) and len(fds) == 3
    assert all(isinstance(lst, list) and all(type(fd) is int for fd in lst) for lst in fds)
    assert any(fds)  # the connection being made is watched
    drive(multi)
    assert multi.perform() == (0, 0)
    assert multi.info_read() == (0, [handle], [])
    assert multi.info_read() == (0, [], [])
    assert handle.getinfo(mod.RESPONSE_CODE) == 200
    multi.remove_handle(handle)
    assert handle not in multi
    assert handle.multi() is None


def test_info_read_max_and_failures(multi: Any, mod: Any, handle: Any, dead_port: int) -> None:
    """PYCURL-API CurlMulti: info_read(max) pops at most max messages and reports how many
    remain; failures come as (Curl, code, message)."""
    bad = mod.Curl()
    try:
        bad.setopt(mod.URL, f"http://127.0.0.1:{dead_port}/")
        multi.add_handle(handle)
        multi.add_handle(bad)
        drive(multi)
        first = multi.info_read(1)
        second = multi.info_read(1)
        assert first[0] == 1 and second[0] == 0
        ok = first[1] + second[1]
        failed = first[2] + second[2]
        assert ok == [handle]
        assert len(failed) == 1
        curl, code, message = failed[0]
        assert (curl, code) == (bad, mod.E_COULDNT_CONNECT)
        assert message == bad.errstr()
        assert multi.info_read() == (0, [], [])
    finally:
        bad.close()


def test_no_url_reported_by_info_read(multi: Any, mod: Any) -> None:
    """PYCURL-API CurlMulti: a handle with no URL ends with (3, 'No URL set')."""
    c = mod.Curl()
    try:
        multi.add_handle(c)
        assert multi.perform() == (0, 0)
        assert multi.info_read() == (0, [], [(c, 3, "No URL set")])
    finally:
        c.close()


def test_perform_of_handle_in_multi(multi: Any, mod: Any, handle: Any) -> None:
    """PYCURL-API CurlMulti: Curl.perform() of a handle in a multi raises
    (2, 'easy handle already used in multi handle')."""
    multi.add_handle(handle)
    with pytest.raises(mod.error) as info:
        handle.perform()
    assert info.value.args == (2, "easy handle already used in multi handle")


def test_add_twice(multi: Any, mod: Any, handle: Any) -> None:
    """PYCURL-API CurlMulti: adding a handle twice: "curl object already on this multi-stack"."""
    multi.add_handle(handle)
    with pytest.raises(mod.error) as info:
        multi.add_handle(handle)
    assert info.value.args == ("curl object already on this multi-stack",)


def test_remove_not_added(multi: Any, mod: Any, handle: Any) -> None:
    """PYCURL-API CurlMulti: removing a stranger: "curl object not on this multi-stack"."""
    with pytest.raises(mod.error) as info:
        multi.remove_handle(handle)
    assert info.value.args == ("curl object not on this multi-stack",)
    multi.add_handle(handle)
    multi.remove_handle(handle)
    with pytest.raises(mod.error) as info:
        multi.remove_handle(handle)
    assert info.value.args == ("curl object not on this multi-stack",)


def test_add_remove_after_close(mod: Any, handle: Any) -> None:
    """PYCURL-API CurlMulti: "cannot add/remove handle - multi-stack is closed"."""
    m = mod.CurlMulti()
    m.close()
    assert m.closed
    for call in (m.add_handle, m.remove_handle):
        with pytest.raises(mod.error) as info:
            call(handle)
        assert info.value.args == ("cannot add/remove handle - multi-stack is closed",)


def test_add_to_second_multi(multi: Any, mod: Any, handle: Any) -> None:
    """pycurl 7.49.0: adding a handle that is in another multi raises error with one string."""
    multi.add_handle(handle)
    other = mod.CurlMulti()
    try:
        with pytest.raises(mod.error) as info:
            other.add_handle(handle)
        assert info.value.args == (
            "cannot add/remove handle - curl object already on another multi-stack",
        )
    finally:
        other.close()


def test_add_closed_curl(multi: Any, mod: Any) -> None:
    """pycurl 7.49.0: adding a closed Curl raises error('curl object already closed')."""
    c = mod.Curl()
    c.close()
    with pytest.raises(mod.error) as info:
        multi.add_handle(c)
    assert info.value.args == ("curl object already closed",)


def test_add_non_curl(multi: Any) -> None:
    """pycurl: add_handle of something that is no Curl raises TypeError."""
    with pytest.raises(TypeError):
        multi.add_handle(1)


def test_close_removes_handles(mod: Any, handle: Any) -> None:
    """PYCURL-API CurlMulti: close() removes every handle (which stays open)."""
    m = mod.CurlMulti()
    m.add_handle(handle)
    m.close()
    assert m.closed
    assert handle not in m
    assert handle.multi() is None
    assert not handle.closed
    assert m.close() is None  # idempotent


def test_close_handles_true_closes_them(mod: Any, handle: Any) -> None:
    """PYCURL-API CurlMulti: with close_handles=True, close() also closes every handle."""
    m = mod.CurlMulti(close_handles=True)
    m.add_handle(handle)
    m.close()
    assert handle.closed


def test_close_handles_true_after_transfer(mod: Any, handle: Any) -> None:
    """PYCURL-API CurlMulti: close_handles=True closes handles that ran transfers too."""
    m = mod.CurlMulti(close_handles=True)
    m.add_handle(handle)
    drive(m)
    assert m.info_read() == (0, [handle], [])
    m.close()
    assert handle.closed


def test_close_handles_keyword_only(mod: Any) -> None:
    """pycurl 7.49.0: CurlMulti(True) raises TypeError (close_handles is keyword-only)."""
    with pytest.raises(TypeError):
        m = mod.CurlMulti(True)
        m.close()


def test_curl_close_leaves_multi(multi: Any, mod: Any) -> None:
    """PYCURL-API CurlMulti: Curl.close() of a handle in a multi removes it first."""
    c = mod.Curl()
    multi.add_handle(c)
    c.close()
    assert c not in multi
    assert c.multi() is None


def test_remove_closed_curl_ignored(multi: Any, mod: Any) -> None:
    """pycurl 7.49.0 (src/multi.c): remove_handle of a closed Curl returns None."""
    c = mod.Curl()
    multi.add_handle(c)
    c.close()
    assert multi.remove_handle(c) is None
    never_added = mod.Curl()
    never_added.close()
    assert multi.remove_handle(never_added) is None


def test_multi_attributes_and_pickling(multi: Any) -> None:
    """PYCURL-API CurlMulti: arbitrary attributes; pickling raises TypeError."""
    import pickle

    multi.anything = 1
    assert multi.anything == 1
    with pytest.raises(AttributeError) as info:
        _ = multi.nonexistent
    assert info.value.args == ("trying to obtain a non-existing attribute: nonexistent",)
    with pytest.raises(TypeError):
        pickle.dumps(multi)
