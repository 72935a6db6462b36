"""SEMANTICS.md rules 13 and 20-22: callbacks outside socket_action, and handle membership."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from tests.engine.conftest import Recorder, fd_is_open, gated_handler
from tests.servers import HttpServer, ServerFactory

Recorders = Callable[..., Recorder]
Handles = Callable[..., Any]


def _waiting(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> tuple[Recorder, Any, int, threading.Event]:
    """One transfer to a silent server with its request sent; its socket watched for POLL_IN."""
    release = threading.Event()
    srv = scripted(gated_handler(release))
    rec = recorders(mod)
    c = handles(mod, srv.url("/"), TIMEOUT_MS=5000)
    rec.multi.add_handle(c)
    rec.kick()
    fd = rec.only_tcp_fd()
    rec.ready(fd)
    assert rec.tcp_watched() == {fd: 1}
    rec.take()
    return rec, c, fd, release


def test_callbacks_during_remove_handle(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Rules 13, 20: remove_handle of a running transfer stops it, un-announces its socket
    (still open then) and deletes the timer, all from inside remove_handle; running drops."""
    rec, c, fd, _ = _waiting(mod, scripted, recorders, handles)
    rec.multi.remove_handle(c)
    assert rec.net(rec.take()) == [("socket", 4, fd), ("timer", -1)]
    assert (fd, True) in rec.open_at_remove
    assert rec.kick() == (0, 0)
    assert rec.multi.info_read() == (0, [], [])


def test_callbacks_during_pause(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Rule 13 (and "Observed in libcurl 8.23"): pause calls the socket callback from inside
    Curl.pause: the paused transfer's socket gets POLL_REMOVE until PAUSE_CONT."""
    rec, c, fd, release = _waiting(mod, scripted, recorders, handles)
    c.pause(mod.PAUSE_ALL)
    assert rec.sockets(rec.take()) == [(4, fd)]
    c.pause(mod.PAUSE_CONT)
    assert rec.sockets(rec.take()) == [(1, fd)]
    release.set()
    rec.run_all()
    assert b"".join(c.body) == b"hello"


def test_callbacks_during_easy_close(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Rule 13: Curl.close of a handle in a multi removes it first: POLL_REMOVE for its socket
    (still open) from inside close, the timer deleted; the multi no longer counts it."""
    rec, c, fd, _ = _waiting(mod, scripted, recorders, handles)
    c.close()
    assert rec.net(rec.take()) == [("socket", 4, fd), ("timer", -1)]
    assert (fd, True) in rec.open_at_remove
    assert rec.kick() == (0, 0)


def test_callbacks_during_multi_close(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Rules 13, 22: CurlMulti.close with a running transfer calls the socket callback
    (POLL_REMOVE, socket still open); the multi stays valid inside that call (assign works,
    other calls are refused as re-entrant), and the easy handle is not closed."""
    rec, c, fd, release = _waiting(mod, scripted, recorders, handles)
    inside: list[Any] = []

    def hook(what: int, fd_: int, multi: Any, socketp: Any) -> int:
        if what == 4:
            try:
                multi.assign(fd_, "closing")
                inside.append("assign ok")
            except Exception as exc:
                inside.append(exc)
        return 0

    rec.on_socket = hook
    rec.multi.close()
    assert rec.sockets(rec.take()) == [(4, fd)]
    assert (fd, True) in rec.open_at_remove
    assert "assign ok" in inside and all(x == "assign ok" for x in inside)
    # the easy handle survives the multi: it can run on its own
    release.set()
    c.setopt(mod.TIMEOUT_MS, 5000)
    c.perform()
    assert c.getinfo(mod.RESPONSE_CODE) == 200
    assert b"".join(c.body) == b"hello"


def test_multi_close_with_idle_pool(
    mod: ModuleType, server: HttpServer, recorders: Recorders, handles: Handles
) -> None:
    """Rules 10, 22: idle pooled connections are not watched, so CurlMulti.close sends no
    POLL_REMOVE for them; it closes them, and leaves the (finished) easy handle usable."""
    rec = recorders(mod)
    c = handles(mod, server.url("/hello"))
    rec.multi.add_handle(c)
    rec.run_all()
    fd = next(iter(rec.tcp))
    assert fd_is_open(fd)  # pooled
    rec.take()
    rec.multi.close()
    assert rec.sockets(rec.take()) == []
    assert c.getinfo(mod.RESPONSE_CODE) == 200
    c.perform()
    assert b"".join(c.body) == b"hello\nhello\n"


def test_remove_drops_unread_done_message(
    mod: ModuleType, server: HttpServer, recorders: Recorders, handles: Handles
) -> None:
    """Rule 20: remove_handle drops the transfer's unread DONE message."""
    rec = recorders(mod)
    c1 = handles(mod, server.url("/hello"))
    c2 = handles(mod, server.url("/hello"))
    rec.multi.add_handle(c1)
    rec.multi.add_handle(c2)
    rec.run_all()
    rec.multi.remove_handle(c1)
    assert rec.multi.info_read() == (0, [c2], [])


def test_remove_twice_raises(
    mod: ModuleType, server: HttpServer, recorders: Recorders, handles: Handles
) -> None:
    """Rule 20: removing a handle twice raises error("curl object not on this multi-stack")
    in the pycurl face, and calls no callback."""
    rec = recorders(mod)
    c = handles(mod, server.url("/hello"))
    rec.multi.add_handle(c)
    rec.multi.remove_handle(c)
    rec.take()
    with pytest.raises(mod.error) as info:
        rec.multi.remove_handle(c)
    assert info.value.args == ("curl object not on this multi-stack",)
    assert rec.take() == []


def test_add_twice_raises(
    mod: ModuleType, server: HttpServer, recorders: Recorders, handles: Handles
) -> None:
    """Rule 21: adding a handle that is already in the multi raises error("curl object already
    on this multi-stack"), also after it finished (it stays until removed)."""
    rec = recorders(mod)
    c = handles(mod, server.url("/hello"))
    rec.multi.add_handle(c)
    with pytest.raises(mod.error) as info:
        rec.multi.add_handle(c)
    assert info.value.args == ("curl object already on this multi-stack",)
    rec.run_all()
    assert rec.multi.info_read() == (0, [c], [])
    rec.take()
    with pytest.raises(mod.error) as info:
        rec.multi.add_handle(c)
    assert info.value.args == ("curl object already on this multi-stack",)
    assert rec.take() == []


def test_finished_handle_readded_runs_again(
    mod: ModuleType, server: HttpServer, recorders: Recorders, handles: Handles
) -> None:
    """Rule 21: a finished handle stays in the multi until removed; removed and added again it
    runs again (timer 0 from add_handle, a second DONE message)."""
    rec = recorders(mod)
    c = handles(mod, server.url("/hello"))
    rec.multi.add_handle(c)
    rec.run_all()
    assert rec.kick() == (0, 0)
    assert c in rec.multi
    rec.multi.remove_handle(c)
    rec.take()
    rec.multi.add_handle(c)
    assert rec.take() == [("timer", 0)]
    rec.run_all()
    assert rec.multi.info_read() == (0, [c], [])
    assert b"".join(c.body) == b"hello\nhello\n"


def test_add_while_others_run(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Rule 21: handles can be added while others run; the new one starts at the next
    socket_action and the running count includes it at once."""
    rec, c, fd, release = _waiting(mod, scripted, recorders, handles)
    c2 = handles(mod, c.getinfo(mod.EFFECTIVE_URL))
    rec.multi.add_handle(c2)
    assert rec.timers(rec.take()) == [0]
    assert rec.kick() == (0, 2)
    fds = rec.tcp_watched()
    assert len(fds) == 2 and fds[fd] == 1
    release.set()
    rec.run_all()
    assert [b"".join(h.body) for h in (c, c2)] == [b"hello", b"hello"]
