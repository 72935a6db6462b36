"""SEMANTICS.md rule 14: a socket or timer callback that returns -1 or raises aborts the multi."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from tests.engine.conftest import Recorder, gated_handler
from tests.servers import HttpServer, ServerFactory

Recorders = Callable[..., Recorder]
Handles = Callable[..., Any]


def forget_watched(rec: Recorder) -> None:
    """After an abort, the application stops watching what the aborted transfers used.

    libcurl 8.23 closes the sockets of aborted transfers without POLL_REMOVE (observed: after
    remove_handle the fds are gone, never un-announced), so an application must drop its
    watch set itself; purecurl un-announces them (see test_abort_unannounces_sockets).
    """
    rec.watched.clear()
    rec.timer_ms = None


def _finish_after_abort(rec: Recorder) -> None:
    """What an application does after an abort: keep reporting what it watches and its timer.

    libcurl 8.23 ends the aborted transfers lazily (on the next calls that touch them);
    purecurl ends them at once. Both must have ended every one after this.
    """
    for _ in range(3):
        rec.kick()
        for fd in list(rec.watched):
            rec.action(fd, 0)


@pytest.mark.parametrize("how", ["return -1", "raise"])
def test_socket_callback_aborts(
    mod: ModuleType,
    server: HttpServer,
    recorders: Recorders,
    handles: Handles,
    how: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Rule 14: a socket callback returning -1 (or raising) makes the current call raise
    error(E_MULTI_ABORTED_BY_CALLBACK=11); the timer is not called again, timeout() is 0, every
    running transfer ends with E_ABORTED_BY_CALLBACK (42), and the multi works again once all
    handles are removed."""
    rec = recorders(mod)
    fired: list[int] = []

    def hook(what: int, fd: int, multi: Any, socketp: Any) -> int:
        if what == 2 and not fired:
            fired.append(fd)
            if how == "raise":
                raise RuntimeError("socket callback failed")
            return -1
        return 0

    rec.on_socket = hook
    cs = [handles(mod, server.url("/hello")) for _ in range(2)]
    for c in cs:
        rec.multi.add_handle(c)
    rec.take()
    with pytest.raises(mod.error) as info:
        rec.kick()
    assert info.value.args[0] == 11
    assert rec.multi.timeout() == 0
    aborted_at = len(rec.events)
    _finish_after_abort(rec)
    assert rec.timers(rec.events[aborted_at:]) == []
    assert rec.multi.timeout() == 0  # never left with nothing to wait on
    _, ok, err = rec.multi.info_read()
    assert ok == []
    assert sorted((id(h), code) for h, code, _ in err) == sorted((id(c), 42) for c in cs)
    for c in cs:
        rec.multi.remove_handle(c)
    forget_watched(rec)
    capsys.readouterr()  # pycurl prints the callback's traceback
    c2 = handles(mod, server.url("/hello"))
    rec.on_socket = None
    rec.multi.add_handle(c2)
    rec.run_all()
    assert rec.multi.info_read() == (0, [c2], [])
    assert b"".join(c2.body) == b"hello\n"


def test_timer_callback_aborts(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Rule 14: a timer callback returning -1 aborts as well: the call raises 11, the transfers
    end with 42, and the timer callback is not called again."""
    release = threading.Event()
    srv = scripted(gated_handler(release))
    rec = recorders(mod)
    fired: list[int] = []

    def hook(ms: int) -> int:
        if ms > 0 and not fired:
            fired.append(ms)
            return -1
        return 0

    rec.on_timer = hook
    cs = [handles(mod, srv.url("/"), TIMEOUT_MS=5000) for _ in range(2)]
    for c in cs:
        rec.multi.add_handle(c)
    with pytest.raises(mod.error) as info:
        rec.kick()
    assert info.value.args[0] == 11
    assert fired
    aborted_at = len(rec.events)
    _finish_after_abort(rec)
    assert rec.timers(rec.events[aborted_at:]) == []
    assert rec.multi.timeout() == 0
    _, _, err = rec.multi.info_read()
    assert sorted((id(h), code) for h, code, _ in err) == sorted((id(c), 42) for c in cs)
    release.set()


def test_abort_on_add_handle_of_dead_multi(
    mod: ModuleType, server: HttpServer, recorders: Recorders, handles: Handles
) -> None:
    """Rule 14: while aborted transfers remain in the multi, add_handle fails with 11; once all
    handles are removed, add_handle works again."""
    rec = recorders(mod)
    rec.on_socket = lambda what, fd, m, sp: -1 if what == 2 else 0
    c = handles(mod, server.url("/hello"))
    rec.multi.add_handle(c)
    with pytest.raises(mod.error):
        rec.kick()
    rec.on_socket = None
    c2 = handles(mod, server.url("/hello"))
    with pytest.raises(mod.error) as info:
        rec.multi.add_handle(c2)
    assert info.value.args[0] == 11
    rec.multi.remove_handle(c)
    forget_watched(rec)
    rec.multi.add_handle(c2)
    rec.run_all()
    assert b"".join(c2.body) == b"hello\n"


def test_abort_unannounces_sockets(
    pure: ModuleType, server: HttpServer, recorders: Recorders, handles: Handles
) -> None:
    """Rules 10, 14 (purecurl; libcurl 8.23 skips this): the transfers an abort ends have their
    sockets un-announced while still open, so the application is not left watching fds that
    are closed (or reused) later."""
    rec = recorders(pure)
    rec.on_socket = lambda what, fd, m, sp: -1 if what == 2 else 0
    cs = [handles(pure, server.url("/hello")) for _ in range(2)]
    for c in cs:
        rec.multi.add_handle(c)
    with pytest.raises(pure.error):
        rec.kick()
    rec.on_socket = None
    _finish_after_abort(rec)
    for c in cs:
        rec.multi.remove_handle(c)
    assert len(rec.tcp) == 2
    assert rec.tcp_watched() == {}
    assert sorted(fd for fd, is_open in rec.open_at_remove if is_open) == sorted(rec.tcp)
