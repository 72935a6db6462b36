"""SEMANTICS.md rule 19: what may be called from inside the multi's and the easy handles'
callbacks. Verified against the real pycurl (libcurl 8.23) by the `mod` parametrisation."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

from tests.engine.conftest import Recorder, gated_handler
from tests.servers import ServerConnection, ServerFactory

Recorders = Callable[..., Recorder]
Handles = Callable[..., Any]

APIS = [
    "add_handle",
    "remove_handle",
    "perform",
    "socket_action",
    "socket_all",
    "fdset",
    "select",
    "timeout",
    "setopt",
    "close",
]
CALLBACKS = ["socket", "timer", "write", "header", "progress", "debug"]


def _call_api(mod: ModuleType, multi: Any, api: str, mine: Any, other: Any) -> None:
    if api == "add_handle":
        multi.add_handle(other)
    elif api == "remove_handle":
        multi.remove_handle(mine)
    elif api == "socket_action":
        multi.socket_action(mod.SOCKET_TIMEOUT, 0)
    elif api == "select":
        multi.select(0)
    elif api == "setopt":
        multi.setopt(mod.M_MAXCONNECTS, 5)
    elif api == "socket_all":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            multi.socket_all()
    else:
        getattr(multi, api)()


def _run_with_callback(
    mod: ModuleType,
    scripted: ServerFactory,
    recorders: Recorders,
    handles: Handles,
    callback: str,
    inside: Callable[[Any, Any], None],
) -> Any:
    """Run one transfer whose `callback` calls `inside(multi, curl)` the first time it runs.

    Returns the handle; its `.inside_calls` counts how often `inside` ran (must be > 0).
    """
    release = threading.Event()
    srv = scripted(gated_handler(release))
    rec = recorders(mod)
    c = handles(mod, srv.url("/"))
    c.inside_calls = 0

    def once() -> None:
        if c.inside_calls == 0:
            c.inside_calls += 1
            inside(rec.multi, c)

    if callback == "socket":
        rec.on_socket = lambda *a: once()
    elif callback == "timer":
        rec.on_timer = lambda ms: once()
    elif callback == "write":
        c.setopt(mod.WRITEFUNCTION, lambda data: once())
    elif callback == "header":
        c.setopt(mod.HEADERFUNCTION, lambda line: once())
    elif callback == "progress":
        c.setopt(mod.NOPROGRESS, 0)
        c.setopt(mod.XFERINFOFUNCTION, lambda *a: once())
    elif callback == "debug":
        c.setopt(mod.VERBOSE, 1)
        c.setopt(mod.DEBUGFUNCTION, lambda *a: once())
    rec.multi.add_handle(c)
    deadline = time.monotonic() + 5
    rec.kick()
    n = 0
    while rec.running and c.inside_calls == 0:
        assert time.monotonic() < deadline, rec.events
        n += 1
        if n == 3:
            release.set()
        rec.kick()
        for fd in list(rec.watched):
            rec.action(fd, 0)  # also "nothing to read yet" rounds: progress runs on those
        time.sleep(0.002)
    release.set()
    rec.on_socket = None
    rec.on_timer = None
    if c in rec.multi:  # pycurl and purecurl both support `c in multi`
        rec.run_all()
        rec.multi.remove_handle(c)
    return c


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("callback", CALLBACKS)
def test_multi_api_refused_inside_callbacks(
    mod: ModuleType,
    scripted: ServerFactory,
    recorders: Recorders,
    handles: Handles,
    callback: str,
    api: str,
) -> None:
    """Rule 19: from inside the socket, timer, write, header, progress and debug callbacks,
    add_handle, remove_handle, perform, socket_action, socket_all, fdset, select, timeout,
    setopt and close of the multi raise pycurl.error ("cannot ... - multi_perform() ..." or
    code 8, E_MULTI_RECURSIVE_API_CALL)."""
    other = handles(mod, "http://127.0.0.1:9/")
    raised: list[BaseException] = []
    ok: list[str] = []

    def inside(multi: Any, c: Any) -> None:
        try:
            _call_api(mod, multi, api, c, other)
            ok.append(api)
        except mod.error as exc:
            raised.append(exc)

    c = _run_with_callback(mod, scripted, recorders, handles, callback, inside)
    assert c.inside_calls == 1
    assert ok == []
    assert len(raised) == 1
    args = raised[0].args
    if isinstance(args[0], int):
        assert args[0] == 8
    else:
        assert args[0].startswith("cannot ")
        assert "multi_perform() " in args[0]


@pytest.mark.parametrize("api", ["perform", "socket_action", "socket_all", "timeout", "close"])
def test_refusal_message_names_the_call(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles, api: str
) -> None:
    """Rule 19 (pycurl spelling): the refusal reads "cannot invoke X() - multi_perform() is
    currently running"."""
    raised: list[BaseException] = []

    def inside(multi: Any, c: Any) -> None:
        try:
            _call_api(mod, multi, api, c, None)
        except mod.error as exc:
            raised.append(exc)

    _run_with_callback(mod, scripted, recorders, handles, "write", inside)
    assert [e.args for e in raised] == [
        (f"cannot invoke {api}() - multi_perform() is currently running",)
    ]


@pytest.mark.parametrize("api", ["add_handle", "remove_handle"])
def test_refusal_message_of_add_and_remove(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles, api: str
) -> None:
    """Rule 19 (pycurl 7.49 spelling, observed): add_handle and remove_handle inside a callback
    raise error("cannot add/remove handle - multi_perform() already running")."""
    other = handles(mod, "http://127.0.0.1:9/")
    raised: list[BaseException] = []

    def inside(multi: Any, c: Any) -> None:
        try:
            _call_api(mod, multi, api, c, other)
        except mod.error as exc:
            raised.append(exc)

    _run_with_callback(mod, scripted, recorders, handles, "write", inside)
    assert [e.args for e in raised] == [
        ("cannot add/remove handle - multi_perform() already running",)
    ]


@pytest.mark.parametrize("callback", ["timer", "write", "header"])
def test_assign_allowed_inside_callbacks(
    mod: ModuleType,
    scripted: ServerFactory,
    recorders: Recorders,
    handles: Handles,
    callback: str,
) -> None:
    """Rule 19: assign is allowed everywhere: from inside the timer, write and header callbacks
    it sets the socketp of a watched fd (and still refuses an unknown fd with 5)."""
    results: list[Any] = []
    recs: list[Recorder] = []

    def make(mod_: ModuleType) -> Recorder:
        rec = recorders(mod_)
        recs.append(rec)
        return rec

    def inside(multi: Any, c: Any) -> None:
        rec = recs[0]
        fds = list(rec.tcp_watched())
        if fds:
            multi.assign(fds[0], "inside")
            results.append(("assigned", fds[0]))
        try:
            multi.assign(2**20, "nope")
        except mod.error as exc:
            results.append(exc.args[0])

    c = _run_with_callback(mod, scripted, make, handles, callback, inside)
    assert c.inside_calls == 1
    assert results[-1] == 5
    if len(results) == 2:  # an fd was watched: its next callback carries the socketp
        fd = results[0][1]
        later = [sp for _, f, sp in recs[0].socketps if f == fd and sp is not None]
        assert later and set(later) == {"inside"}


def test_pause_allowed_inside_write_callback(
    mod: ModuleType, scripted: ServerFactory, recorders: Recorders, handles: Handles
) -> None:
    """Rule 19: Curl.pause is allowed from the easy callbacks: pausing from the write callback
    works (its socket is then un-announced) and unpausing later completes the transfer."""
    release = threading.Event()

    def handler(conn: ServerConnection) -> None:
        # the head and a first piece now, the rest once released: the pause happens while the
        # transfer is certainly not finished
        if conn.read_request() is None:
            return
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 100)
        while not release.wait(0.01):
            if conn.sleep(0):
                return
        conn.send(b"x" * 900)

    srv = scripted(handler)
    rec = recorders(mod)
    c = handles(mod, srv.url("/"))
    errors: list[BaseException] = []
    chunks: list[bytes] = []

    def write(data: bytes) -> None:
        chunks.append(data)
        if len(chunks) == 1:
            try:
                c.pause(mod.PAUSE_RECV)
            except Exception as exc:
                errors.append(exc)

    c.setopt(mod.WRITEFUNCTION, write)
    rec.multi.add_handle(c)
    rec.kick()
    fd = rec.only_tcp_fd()
    rec.ready(fd)
    while not chunks:  # the head may come in a read of its own
        rec.ready(fd)
    assert errors == []
    assert rec.running == 1
    assert rec.tcp_watched() == {}
    c.pause(mod.PAUSE_CONT)
    release.set()
    rec.run_all()
    assert b"".join(chunks) == b"x" * 1000
