"""SEMANTICS.md rules 8-12: the socket callback (what values, only on change, REMOVE before
close, socketp, non-network fds)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from tests.engine.conftest import OK_RESPONSE, Recorder, fd_is_open, gated_handler
from tests.servers import HttpServer, Response, ServerConnection, ServerFactory

Recorders = Callable[..., Recorder]
Handles = Callable[..., Any]


def test_what_values(
    mod: ModuleType, server: HttpServer, recorders: Recorders, handles: Handles
) -> None:
    """Rule 8: `what` is POLL_IN=1, POLL_OUT=2, POLL_INOUT=3 or POLL_REMOVE=4; POLL_NONE=0 is
    never sent."""
    assert (mod.POLL_NONE, mod.POLL_IN, mod.POLL_OUT, mod.POLL_INOUT, mod.POLL_REMOVE) == (
        0,
        1,
        2,
        3,
        4,
    )
    rec = recorders(mod)
    cs = [handles(mod, server.url("/bytes/100000")) for _ in range(3)]
    post = handles(mod, server.url("/echo"), POSTFIELDS=b"x" * 100000)
    for c in [*cs, post]:
        rec.multi.add_handle(c)
    rec.run_all()
    whats = {e[1] for e in rec.events if e[0] == "socket"}
    assert whats <= {1, 2, 3, 4}
    assert {1, 2, 4} <= whats
    assert len(b"".join(post.body)) == 100000


def _two_waiting(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> tuple[Recorder, threading.Event, list[Any], list[int]]:
    """Two transfers to a silent server, each with its request sent and its socket on POLL_IN."""
    release = threading.Event()
    srv = scripted(gated_handler(release))
    rec = recorders(mod)
    cs = [handles(mod, srv.url("/")) for _ in range(2)]
    for c in cs:
        rec.multi.add_handle(c)
    rec.kick()
    fds = sorted(rec.tcp_watched())
    assert len(fds) == 2
    for fd in fds:
        rec.ready(fd)
    assert rec.tcp_watched() == {fds[0]: 1, fds[1]: 1}
    rec.take()
    return rec, release, cs, fds


def test_called_only_on_change(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Rule 9: two transfers on two sockets; events that change no interest call nothing;
    pausing one un-announces only its socket, once; unpausing re-announces only it."""
    rec, release, cs, fds = _two_waiting(mod, scripted, recorders, handles)
    for fd in fds:
        rec.action(fd, 1)  # nothing to read yet: interest unchanged
    assert rec.sockets(rec.take()) == []
    # Which socket is whose: the one that goes away when cs[0] pauses.
    cs[0].pause(mod.PAUSE_ALL)
    events = rec.sockets(rec.take())
    assert len(events) == 1 and events[0][0] == 4
    fd0 = events[0][1]
    cs[0].pause(mod.PAUSE_ALL)  # no change
    assert rec.sockets(rec.take()) == []
    cs[0].pause(mod.PAUSE_CONT)
    assert rec.sockets(rec.take()) == [(1, fd0)]
    release.set()
    rec.run_all()
    assert [b"".join(c.body) for c in cs] == [b"hello", b"hello"]
    # never the same announcement twice in a row for one fd
    last: dict[int, int] = {}
    for what, fd in rec.sockets(rec.events):
        assert last.get(fd) != what
        last[fd] = what


def test_remove_comes_before_close(
    mod: ModuleType, server: HttpServer, recorders: Recorders, handles: Handles
) -> None:
    """Rule 10: POLL_REMOVE is sent strictly before the socket is closed: inside the callback
    the fd is still open (os.fstat succeeds); afterwards it is closed."""
    rec = recorders(mod)
    c = handles(mod, server.url("/hello"), FORBID_REUSE=1)
    rec.multi.add_handle(c)
    rec.run_all()
    removed = [(fd, is_open) for fd, is_open in rec.open_at_remove if fd in rec.tcp]
    assert len(removed) == 1
    assert removed[0][1] is True
    assert b"".join(c.body) == b"hello\n"


def test_remove_before_close_when_server_closes(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Rule 10: also when the server ends the connection (Connection: close), the socket is
    un-announced while still open."""
    srv = scripted.http({"/": Response(body=b"bye", close=True)})
    rec = recorders(mod)
    c = handles(mod, srv.url("/"))
    rec.multi.add_handle(c)
    rec.run_all()
    removed = [(fd, is_open) for fd, is_open in rec.open_at_remove if fd in rec.tcp]
    assert removed and all(is_open for _, is_open in removed)
    assert b"".join(c.body) == b"bye"


def test_idle_pooled_connection_unwatched_and_announced_again(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Rule 10: an idle pooled connection is not watched (REMOVE while it stays open), and its
    fd is announced again when a later transfer reuses it."""
    release = threading.Event()

    def handler(conn: ServerConnection) -> None:
        # the first request is answered at once, the second only when released: so the
        # reusing transfer must wait for its response on the announced socket
        for n in range(2):
            if conn.read_request() is None:
                return
            while n and not release.wait(0.01):
                if conn.sleep(0):
                    return
            conn.send(OK_RESPONSE)

    srv = scripted(handler)
    rec = recorders(mod)
    c = handles(mod, srv.url("/"))
    rec.multi.add_handle(c)
    rec.kick()
    fd = rec.only_tcp_fd()
    rec.ready(fd)
    rec.ready(fd)
    assert rec.sockets(rec.take())[-1] == (4, fd)
    assert rec.tcp_watched() == {}
    assert fd_is_open(fd)  # still pooled, still open
    assert srv.open_connections == 1
    rec.multi.remove_handle(c)
    c2 = handles(mod, srv.url("/"))
    rec.multi.add_handle(c2)
    rec.kick()  # reuse: the request goes out at once, the fd is watched for the response
    assert rec.sockets(rec.take()) == [(1, fd)]
    release.set()
    rec.ready(fd)
    assert rec.sockets(rec.take()) == [(4, fd)]
    assert b"".join(c2.body) == b"hello"
    assert srv.connections_accepted == 1


def test_socketp_handed_back_until_remove(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Rule 11: the socketp set with assign() from inside the callback comes back on every call
    for that fd until POLL_REMOVE (included), then is forgotten; assign also works from inside
    the REMOVE call, and what it sets there is forgotten too."""
    release = threading.Event()
    server = scripted(gated_handler(release))
    rec = recorders(mod)
    errors: list[BaseException] = []

    def hook(what: int, fd: int, multi: Any, socketp: Any) -> int:
        if what == 1 and fd in rec.tcp:
            release.set()  # the response comes only once the socket is watched for it
        try:
            if fd in rec.tcp and what == 2:
                multi.assign(fd, ("mine", fd))
            if fd in rec.tcp and what == 4:
                multi.assign(fd, "late")
        except Exception as exc:
            errors.append(exc)
        return 0

    rec.on_socket = hook
    c = handles(mod, server.url("/"))
    rec.multi.add_handle(c)
    rec.run_all()
    fd = next(iter(rec.tcp))
    seen = [(w, sp) for w, f, sp in rec.socketps if f == fd]
    assert seen == [(2, None), (1, ("mine", fd)), (4, ("mine", fd))]
    assert errors == []
    rec.socketps.clear()
    rec.multi.remove_handle(c)
    c2 = handles(mod, server.url("/"))
    rec.multi.add_handle(c2)
    rec.run_all()  # the pooled fd, if announced again, comes without its old socketp
    assert [sp for _, f, sp in rec.socketps if f == fd] in ([None, None], [])
    assert b"".join(c2.body) == b"hello"


def test_resolver_wakeup_fd_is_announced(
    pure: ModuleType,
    server: HttpServer,
    recorders: Recorders,
    handles: Handles,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rule 12: a name that needs a threaded lookup makes the engine announce its resolver's
    wake-up fd (a non-network fd) for reading; when it is readable, one socket_action on it
    finishes the lookup: the wake-up fd is un-announced and the connect begins."""
    answer = threading.Event()
    real = socket.getaddrinfo

    def slow_getaddrinfo(host: Any, port: Any, *args: Any, **kw: Any) -> Any:
        if host == "slow.example":
            answer.wait(5)
            return real("127.0.0.1", port, *args, **kw)
        return real(host, port, *args, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", slow_getaddrinfo)
    rec = recorders(pure)
    c = handles(pure, f"http://slow.example:{server.port}/hello")
    rec.multi.add_handle(c)
    rec.take()
    rec.kick()
    events = rec.take()
    socks = [e for e in events if e[0] == "socket"]
    assert len(socks) == 1 and socks[0][1] == 1
    wfd = socks[0][2]
    assert wfd in rec.other  # not a TCP socket
    answer.set()
    rec.ready(wfd)
    events = sorted((e[1], e[2]) for e in rec.take() if e[0] == "socket")
    assert len(events) == 2
    assert events[0][0] == 2 and events[0][1] in rec.tcp
    assert events[1] == (4, wfd)
    rec.run_all()
    assert b"".join(c.body) == b"hello\n"
