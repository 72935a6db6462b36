"""pycurl's published examples, rewritten against loopback servers (issue 5).

Theory of operation
-------------------
Each test is one of the loops pycurl documents in its repository (`examples/` and the multi
tests in `tests/`), written again in the same style and with the same API calls, but fetching
from `tests.servers.HttpServer` instead of the internet. The fixture `mod` runs every test on
purecurl and on the real pycurl, so an assertion that holds for pycurl is a statement about
libcurl's behaviour that purecurl must match.

The examples' loops have no bound; here every loop checks a deadline (`_Deadline`) so that a
transfer that never ends fails the test instead of hanging it. Everything an example opens
(files, handles, the multi) is closed in a `finally`, because the leak check of
tests/conftest.py runs after every test.

The loop patterns covered:
  * `perform()` + `select(1.0)` + `info_read()`, a queue of URLs over a free list of reused
    handles with `c.fp` files (examples/retriever-multi.py) and the loops of tests/multi_test.py;
  * `select.select(*m.fdset() + (timeout,))` + `perform()` (tests/multi_test.py);
  * `perform()` alone, with `M_TIMERFUNCTION` recording (tests/multi_timer_test.py);
  * `socket_all()` + `select()` with `M_SOCKETFUNCTION` recording (tests/multi_socket_test.py);
  * `socket_action()` over the sockets `M_SOCKETFUNCTION` registered, driven by
    `select.select` (tests/multi_socket_select_test.py, examples/multi-socket_action-select.py,
    and that example's loop over many transfers with retriever-multi.py's free list);
  * the easy-interface examples (examples/basicfirst.py, file_upload.py, xmlrpc_curl.py and
    examples/quickstart/*).
"""

from __future__ import annotations

import gc
import io
import re
import select
import time
import warnings
import xmlrpc.client
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlencode

import pytest

from tests.servers import CLOSE, HttpServer, Request, Response, ServerFactory, pattern_bytes

# Seconds any one example loop may run before the test fails.
LOOP_LIMIT = 10.0


class _Deadline:
    """A bound on an example's loop: `check()` raises once `limit` seconds have passed."""

    def __init__(self, limit: float = LOOP_LIMIT) -> None:
        self.end = time.monotonic() + limit

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise AssertionError("the example's loop did not finish within the time limit")


def _xmlrpc_route(request: Request) -> Response:
    """An XML-RPC endpoint with the one method xmlrpc_curl.py calls."""
    params, method = xmlrpc.client.loads(request.body)
    states = {41: "South Dakota"}
    if method == "examples.getStateName":
        number = params[0]
        assert isinstance(number, int)
        body = xmlrpc.client.dumps((states[number],), methodresponse=True)
    else:
        body = xmlrpc.client.dumps(xmlrpc.client.Fault(1, f"no method {method}"))
    return Response(headers=[("Content-Type", "text/xml")], body=body.encode())


# What the examples' servers answer (pycurl's test app has /success, /short_wait, /status/N
# with bottle's bodies); the built-in routes of HttpServer give /bytes/N, /echo, /redirect/N.
ROUTES: dict[str, Response | Callable[[Request], Response]] = {
    "/success": Response(body=b"success"),
    "/short_wait": Response(body=b"success", delay=0.05),
    "/status/403": Response(403, body=b"forbidden"),
    "/status/404": Response(404, body=b"not found"),
    "/html": Response(
        headers=[("Content-Type", "text/html; charset=UTF-8")],
        body="<p>h\u00e9llo w\u00f6rld</p>".encode(),
    ),
    "/RPC2": _xmlrpc_route,
}


@pytest.fixture
def app(scripted: ServerFactory) -> HttpServer:
    """pycurl's test app on one port (its tests use 8380)."""
    return scripted.http(ROUTES)


@pytest.fixture
def apps(scripted: ServerFactory) -> list[HttpServer]:
    """pycurl's test app on three ports (its multi tests use 8380, 8381 and 8382)."""
    return [scripted.http(ROUTES) for _ in range(3)]


# -- examples/retriever-multi.py -------------------------------------------------------------


def _retriever_urls(app: HttpServer, dead_port: int) -> dict[str, tuple[str, Any]]:
    """URL -> what retriever-multi.py reports for it: ("ok", (effective URL, code, body)) or
    ("err", errno)."""
    base = app.url("")
    return {
        app.url("/success"): ("ok", (app.url("/success"), 200, b"success")),
        app.url("/bytes/1"): ("ok", (app.url("/bytes/1"), 200, pattern_bytes(1))),
        app.url("/bytes/1000"): ("ok", (app.url("/bytes/1000"), 200, pattern_bytes(1000))),
        app.url("/bytes/300000"): ("ok", (app.url("/bytes/300000"), 200, pattern_bytes(300000))),
        app.url("/chunked/70000"): (
            "ok",
            (app.url("/chunked/70000"), 200, pattern_bytes(70000)),
        ),
        app.url("/short_wait"): ("ok", (app.url("/short_wait"), 200, b"success")),
        app.url("/redirect/3"): ("ok", (base + "redirect/0", 200, b"redirected\n")),
        app.url("/status/404"): ("ok", (app.url("/status/404"), 404, b"not found")),
        app.url("/bytes/65536"): ("ok", (app.url("/bytes/65536"), 200, pattern_bytes(65536))),
        app.url("/echo"): ("ok", (app.url("/echo"), 200, b"")),
        # MAXREDIRS is 5: CURLE_TOO_MANY_REDIRECTS
        app.url("/redirect/7"): ("err", 47),
        # nobody listens: CURLE_COULDNT_CONNECT
        f"http://127.0.0.1:{dead_port}/": ("err", 7),
    }


@pytest.mark.parametrize("num_conn", [1, 3, 10, 50])
def test_retriever_multi(
    mod: Any, app: HttpServer, dead_port: int, tmp_path: Path, num_conn: int
) -> None:
    """examples/retriever-multi.py: URLs read from a file, a free list of `num_conn` handles
    reused across them, `c.fp` files as WRITEDATA, perform() + info_read() + select(1.0)."""
    pycurl = mod
    expected = _retriever_urls(app, dead_port)
    url_file = tmp_path / "urls.txt"
    url_file.write_text("# URLs to fetch\n\n" + "\n".join(expected) + "\n")

    # Make a queue with (url, filename) tuples
    queue: list[tuple[str, Path]] = []
    with open(url_file) as f:
        urls = f.readlines()
    for url in urls:
        url = url.strip()
        if not url or url[0] == "#":
            continue
        filename = tmp_path / f"doc_{len(queue) + 1:03d}.dat"
        queue.append((url, filename))

    num_urls = len(queue)
    num_conn = min(num_conn, num_urls)
    assert 1 <= num_conn <= 10000, "invalid number of concurrent connections"
    banner = f"PycURL {pycurl.version} (compiled against 0x{pycurl.COMPILE_LIBCURL_VERSION_NUM:x})"
    assert banner.startswith("PycURL ")

    # Pre-allocate a list of curl objects
    m = pycurl.CurlMulti()
    m.handles = []
    for _ in range(num_conn):
        c = pycurl.Curl()
        c.fp = None
        c.setopt(pycurl.FOLLOWLOCATION, 1)
        c.setopt(pycurl.MAXREDIRS, 5)
        c.setopt(pycurl.CONNECTTIMEOUT, 30)
        c.setopt(pycurl.TIMEOUT, 300)
        c.setopt(pycurl.NOSIGNAL, 1)
        m.handles.append(c)

    reported: dict[str, tuple[str, Any]] = {}
    used: set[int] = set()
    deadline = _Deadline()
    try:
        # Main loop
        freelist = m.handles[:]
        num_processed = 0
        while num_processed < num_urls:
            deadline.check()
            # If there is an url to process and a free curl object, add to multi stack
            while queue and freelist:
                url, filename = queue.pop(0)
                c = freelist.pop()
                c.fp = open(filename, "wb")  # noqa: SIM115 - closed by the loop below
                c.setopt(pycurl.URL, url)
                c.setopt(pycurl.WRITEDATA, c.fp)
                m.add_handle(c)
                # store some info
                c.filename = filename
                c.url = url
                used.add(id(c))
            # Run the internal curl state machine for the multi stack
            while 1:
                ret, num_handles = m.perform()
                if ret != pycurl.E_CALL_MULTI_PERFORM:
                    break
            assert 0 <= num_handles <= num_conn
            # Check for curl objects which have terminated, and add them to the freelist
            while 1:
                num_q, ok_list, err_list = m.info_read()
                for c in ok_list:
                    c.fp.close()
                    c.fp = None
                    m.remove_handle(c)
                    info = (c.getinfo(pycurl.EFFECTIVE_URL), c.getinfo(pycurl.RESPONSE_CODE))
                    reported[c.url] = ("ok", (*info, c.filename.read_bytes()))
                    freelist.append(c)
                for c, errno, errmsg in err_list:
                    c.fp.close()
                    c.fp = None
                    m.remove_handle(c)
                    assert isinstance(errmsg, str) and errmsg
                    reported[c.url] = ("err", errno)
                    freelist.append(c)
                num_processed = num_processed + len(ok_list) + len(err_list)
                if num_q == 0:
                    break
            # Currently no more I/O is pending, could do something in the meantime
            # (display a progress bar, etc.).
            # We just call select() to sleep until some more data is available.
            m.select(1.0)
    finally:
        # Cleanup
        for c in m.handles:
            if c.fp is not None:
                c.fp.close()
                c.fp = None
            c.close()
        m.close()

    assert reported == expected
    assert len(used) == num_conn  # every handle of the free list was used, and no other


# -- tests/multi_test.py ---------------------------------------------------------------------


def _handles_for(pycurl: Any, urls: list[str]) -> list[Any]:
    """Curl objects for `urls`, each writing into its own `c.body` (the tests' setup)."""
    handles = []
    for url in urls:
        c = pycurl.Curl()
        # save info in standard Python attributes
        c.url = url
        c.body = io.BytesIO()
        c.http_code = -1
        handles.append(c)
        # pycurl API calls
        c.setopt(c.URL, c.url)
        c.setopt(c.WRITEFUNCTION, c.body.write)
    return handles


def test_multi_perform_select(mod: Any, apps: list[HttpServer]) -> None:
    """tests/multi_test.py test_multi: perform() until not E_CALL_MULTI_PERFORM, then
    select(1.0), while handles run."""
    pycurl = mod
    io1 = io.BytesIO()
    io2 = io.BytesIO()
    m = pycurl.CurlMulti()
    c1 = pycurl.Curl()
    c2 = pycurl.Curl()
    try:
        c1.setopt(c1.URL, apps[0].url("/success"))
        c1.setopt(c1.WRITEFUNCTION, io1.write)
        c2.setopt(c2.URL, apps[1].url("/success"))
        c2.setopt(c1.WRITEFUNCTION, io2.write)
        m.add_handle(c1)
        m.add_handle(c2)
        handles = [c1, c2]

        deadline = _Deadline()
        num_handles = len(handles)
        while num_handles:
            deadline.check()
            while 1:
                ret, num_handles = m.perform()
                if ret != pycurl.E_CALL_MULTI_PERFORM:
                    break
            m.select(1.0)

        m.remove_handle(c2)
        m.remove_handle(c1)
    finally:
        m.close()
        c1.close()
        c2.close()

    assert io1.getvalue().decode() == "success"
    assert io2.getvalue().decode() == "success"


@pytest.mark.parametrize("use_multi_select", [False, True], ids=["fdset", "select"])
def test_multi_select_fdset(mod: Any, apps: list[HttpServer], use_multi_select: bool) -> None:
    """tests/multi_test.py test_multi_select_fdset and test_multi_select: stir the state
    machine with perform(), then wait with select.select(*m.fdset() + (timeout,)) (or
    m.select(timeout), which uses fdset internally) and perform() again."""
    pycurl = mod
    handles = _handles_for(pycurl, [app.url("/success") for app in apps])
    c1, c2, c3 = handles
    m = pycurl.CurlMulti()
    try:
        m.add_handle(c1)
        m.add_handle(c2)
        m.add_handle(c3)

        # Number of seconds to wait for a timeout to happen
        select_timeout = 1.0 if use_multi_select else 0.1

        # Stir the state machine into action
        while 1:
            ret, num_handles = m.perform()
            if ret != pycurl.E_CALL_MULTI_PERFORM:
                break

        # Keep going until all the connections have terminated
        deadline = _Deadline()
        while num_handles:
            deadline.check()
            if use_multi_select:
                m.select(select_timeout)
            else:
                select.select(*(*m.fdset(), select_timeout))
            while 1:
                ret, num_handles = m.perform()
                if ret != pycurl.E_CALL_MULTI_PERFORM:
                    break

        # Cleanup
        m.remove_handle(c3)
        m.remove_handle(c2)
        m.remove_handle(c1)
    finally:
        m.close()
        for c in handles:
            c.close()

    assert [c.body.getvalue().decode() for c in handles] == ["success"] * 3


def test_multi_status_codes(mod: Any, apps: list[HttpServer]) -> None:
    """tests/multi_test.py test_multi_status_codes: HTTP_CODE of each handle after a
    perform() + select(0.1) loop; an error status is no transfer error."""
    pycurl = mod
    m = pycurl.CurlMulti()
    m.handles = _handles_for(
        pycurl,
        [apps[0].url("/success"), apps[1].url("/status/403"), apps[2].url("/status/404")],
    )
    try:
        for c in m.handles:
            m.add_handle(c)

        # get data
        deadline = _Deadline()
        num_handles = len(m.handles)
        while num_handles:
            deadline.check()
            while 1:
                ret, num_handles = m.perform()
                if ret != pycurl.E_CALL_MULTI_PERFORM:
                    break
            # currently no more I/O is pending, could do something in the meantime
            # (display a progress bar, etc.)
            m.select(0.1)

        # close handles
        for c in m.handles:
            # save info in standard Python attributes
            c.http_code = c.getinfo(c.HTTP_CODE)
            # pycurl API calls
            m.remove_handle(c)
            c.close()
    finally:
        for c in m.handles:
            c.close()
        m.close()

    # check result
    assert [(c.body.getvalue().decode(), c.http_code) for c in m.handles] == [
        ("success", 200),
        ("forbidden", 403),
        ("not found", 404),
    ]


def _remove_then_close(m: Any, c: Any) -> None:
    m.remove_handle(c)
    c.close()


def _close_then_remove(m: Any, c: Any) -> None:
    # in the C API this is the wrong calling order, but pycurl handles this automatically
    c.close()
    m.remove_handle(c)


def _close_without_removing(m: Any, c: Any) -> None:
    # remove_handle is called automatically on close
    c.close()


@pytest.mark.parametrize(
    "close_fn", [_remove_then_close, _close_then_remove, _close_without_removing]
)
def test_adding_closed_handle(
    mod: Any, apps: list[HttpServer], close_fn: Callable[[Any, Any], None]
) -> None:
    """tests/multi_test.py check_adding_closed_handle: a handle closed while in the multi
    leaves it; the loop finishes the others; getinfo of the closed one raises pycurl.error."""
    pycurl = mod
    m = pycurl.CurlMulti()
    m.handles = _handles_for(
        pycurl,
        [apps[0].url("/success"), apps[1].url("/status/403"), apps[2].url("/status/404")],
    )
    try:
        for c in m.handles:
            c.debug = 0
            m.add_handle(c)

        # debug - close a handle
        c = m.handles[2]
        c.debug = 1
        c.close()
        assert c not in m

        # get data
        deadline = _Deadline()
        num_handles = len(m.handles)
        while num_handles:
            deadline.check()
            while 1:
                ret, num_handles = m.perform()
                if ret != pycurl.E_CALL_MULTI_PERFORM:
                    break
            m.select(0.1)

        # close handles
        for c in m.handles:
            # save info in standard Python attributes
            try:
                c.http_code = c.getinfo(c.HTTP_CODE)
            except pycurl.error:
                # handle already closed - see debug above
                assert c.debug
                c.http_code = -1
            # pycurl API calls
            close_fn(m, c)
    finally:
        for c in m.handles:
            c.close()
        m.close()

    # check result
    assert [(c.body.getvalue().decode(), c.http_code) for c in m.handles] == [
        ("success", 200),
        ("forbidden", 403),
        ("", -1),
    ]


def test_multi_info_read(mod: Any, apps: list[HttpServer]) -> None:
    """tests/multi_test.py test_multi_info_read: info_read() after every perform(); every
    handle is reported exactly once, in an ok list."""
    pycurl = mod
    handles = _handles_for(pycurl, [app.url("/short_wait") for app in apps])
    c1, c2, c3 = handles
    m = pycurl.CurlMulti()
    infos = []
    try:
        m.add_handle(c1)
        m.add_handle(c2)
        m.add_handle(c3)

        # Number of seconds to wait for a timeout to happen
        select_timeout = 1.0

        # Stir the state machine into action
        while 1:
            ret, num_handles = m.perform()
            if ret != pycurl.E_CALL_MULTI_PERFORM:
                break

        # Keep going until all the connections have terminated
        deadline = _Deadline()
        while num_handles:
            deadline.check()
            # The select method uses fdset internally to determine which file descriptors
            # to check.
            m.select(select_timeout)
            while 1:
                ret, num_handles = m.perform()
                info = m.info_read()
                infos.append(info)
                if ret != pycurl.E_CALL_MULTI_PERFORM:
                    break

        all_handles = []
        for num_q, ok_list, err_list in infos:
            assert num_q == 0
            assert err_list == []
            # last info is an empty array
            all_handles.extend(ok_list)

        m.remove_handle(c3)
        m.remove_handle(c2)
        m.remove_handle(c1)
    finally:
        m.close()
        for c in handles:
            c.close()

    assert len(all_handles) == 3
    assert all(c in all_handles for c in handles)
    assert [c.body.getvalue().decode() for c in handles] == ["success"] * 3


# -- tests/multi_timer_test.py and tests/multi_socket_test.py --------------------------------


def test_multi_timer(mod: Any, apps: list[HttpServer]) -> None:
    """tests/multi_timer_test.py: M_TIMERFUNCTION records the timeouts while a perform() loop
    runs (the test's select sits after the inner loop's break and never runs: perform() alone
    must make progress); the first timeout is >= 0."""
    pycurl = mod
    timers: list[int] = []

    # timer callback
    def timer(msecs: int) -> None:
        timers.append(msecs)

    m = pycurl.CurlMulti()
    m.setopt(pycurl.M_TIMERFUNCTION, timer)
    m.handles = _handles_for(pycurl, [app.url("/success") for app in apps])
    try:
        for c in m.handles:
            m.add_handle(c)

        # get data
        deadline = _Deadline()
        num_handles = len(m.handles)
        while num_handles:
            deadline.check()
            while 1:
                ret, num_handles = m.perform()
                if ret != pycurl.E_CALL_MULTI_PERFORM:
                    break
                m.select(1.0)

        for c in m.handles:
            # save info in standard Python attributes
            c.http_code = c.getinfo(c.HTTP_CODE)
        for c in m.handles:
            m.remove_handle(c)
    finally:
        for c in m.handles:
            c.close()
        m.close()

    assert [(c.body.getvalue().decode(), c.http_code) for c in m.handles] == [("success", 200)] * 3
    assert len(timers) > 0
    assert timers[0] >= 0
    # After the last handle is removed the timer is deleted (SEMANTICS rule 16).
    assert timers[-1] == -1


def _check_event(event: int, multi: Any, socket_events: list[tuple[int, Any]]) -> None:
    """Assert that the socket callback was called with `event` and `multi` (not a Curl)."""
    for event_, multi_ in socket_events:
        if event == event_ and multi == multi_:
            return
        assert multi_ is multi
    raise AssertionError(f"{event} {multi} not found in socket events")


def test_multi_socket_all(mod: Any, apps: list[HttpServer]) -> None:
    """tests/multi_socket_test.py: socket_all() (deprecated) + select(0.1) with an
    M_SOCKETFUNCTION that records (event, multi); each socket is announced with POLL_IN and
    removed with POLL_REMOVE, and the callback gets the CurlMulti."""
    pycurl = mod
    socket_events: list[tuple[int, Any]] = []

    # socket callback
    def socket(event: int, socket: int, multi: Any, data: Any) -> None:
        socket_events.append((event, multi))

    m = pycurl.CurlMulti()
    m.setopt(pycurl.M_SOCKETFUNCTION, socket)
    m.handles = _handles_for(pycurl, [app.url("/short_wait") for app in apps])
    try:
        for c in m.handles:
            m.add_handle(c)

        # get data
        deadline = _Deadline()
        num_handles = len(m.handles)
        with pytest.warns(DeprecationWarning):
            while num_handles:
                deadline.check()
                while 1:
                    ret, num_handles = m.socket_all()
                    if ret != pycurl.E_CALL_MULTI_PERFORM:
                        break
                # currently no more I/O is pending, could do something in the meantime
                # (display a progress bar, etc.)
                m.select(0.1)

        for c in m.handles:
            # save info in standard Python attributes
            c.http_code = c.getinfo(c.HTTP_CODE)
        for c in m.handles:
            m.remove_handle(c)
    finally:
        for c in m.handles:
            c.close()
        m.close()

    # at least in and remove events per socket
    assert len(socket_events) >= 6, f"fewer than 6 socket events: {socket_events!r}"
    assert [(c.body.getvalue().decode(), c.http_code) for c in m.handles] == [("success", 200)] * 3
    # multi, not curl handle
    _check_event(pycurl.POLL_IN, m, socket_events)
    _check_event(pycurl.POLL_REMOVE, m, socket_events)


# -- tests/multi_socket_select_test.py -------------------------------------------------------


def test_multi_socket_select(mod: Any, apps: list[HttpServer]) -> None:
    """tests/multi_socket_select_test.py: the socket callback keeps a set of sockets;
    socket_all() starts, m.timeout() gives the select timeout, then select.select over the
    set and socket_action(s, 0) per ready socket, or socket_action(SOCKET_TIMEOUT, 0), until
    no transfer runs."""
    pycurl = mod
    sockets: set[int] = set()
    socket_events: list[tuple[int, Any]] = []

    # socket callback
    def socket(event: int, socket: int, multi: Any, data: Any) -> None:
        if event == pycurl.POLL_REMOVE:
            sockets.remove(socket)
        elif socket not in sockets:
            sockets.add(socket)
        socket_events.append((event, multi))

    m = pycurl.CurlMulti()
    m.setopt(pycurl.M_SOCKETFUNCTION, socket)
    m.handles = _handles_for(pycurl, [app.url("/short_wait") for app in apps])
    try:
        for c in m.handles:
            m.add_handle(c)

        # get data
        with pytest.warns(DeprecationWarning):
            while m.socket_all()[0] == pycurl.E_CALL_MULTI_PERFORM:
                pass

        timeout = m.timeout()

        # The published loop runs `while timeout >= 0` with the timeout read once, here: with
        # libcurl 8.23, m.timeout() is -1 at this point (no timer while the connects wait on
        # their sockets) though transfers run, so the loop reads it again each round and waits
        # on the sockets alone (at most a second) while it is -1.
        deadline = _Deadline()
        running = len(m.handles)
        while running:
            deadline.check()
            wait = timeout / 1000.0 if timeout >= 0 else 1.0
            (rr, wr, er) = select.select(sockets, sockets, sockets, wait)
            socket_set = set(rr + wr + er)
            if socket_set:
                for s in socket_set:
                    while True:
                        (ret, running) = m.socket_action(s, 0)
                        if ret != pycurl.E_CALL_MULTI_PERFORM:
                            break
            else:
                (ret, running) = m.socket_action(pycurl.SOCKET_TIMEOUT, 0)
            timeout = m.timeout()

        for c in m.handles:
            # save info in standard Python attributes
            c.http_code = c.getinfo(c.HTTP_CODE)
        for c in m.handles:
            m.remove_handle(c)
    finally:
        for c in m.handles:
            c.close()
        m.close()

    # at least in and remove events per socket
    assert len(socket_events) >= 6, f"fewer than 6 socket events: {socket_events!r}"
    assert [(c.body.getvalue().decode(), c.http_code) for c in m.handles] == [("success", 200)] * 3
    _check_event(pycurl.POLL_IN, m, socket_events)
    _check_event(pycurl.POLL_REMOVE, m, socket_events)
    assert sockets == set()


# -- examples/multi-socket_action-select.py --------------------------------------------------


def _socket_action_select(pycurl: Any, url: str) -> tuple[dict[str, Any], bytes]:
    """Run examples/multi-socket_action-select.py on `url`; return its state and the body."""
    state: dict[str, Any] = {
        "rlist": [],
        "wlist": [],
        "running": None,
        "timeout": None,
        "result": None,
        # If the transfer failed, code and msg will be filled in.
        "code": None,
        "msg": None,
    }

    def socket_fn(what: int, sock_fd: int, multi: Any, socketp: Any) -> None:
        if what == pycurl.POLL_IN or what == pycurl.POLL_INOUT:
            state["rlist"].append(sock_fd)
        elif what == pycurl.POLL_OUT or what == pycurl.POLL_INOUT:
            state["wlist"].append(sock_fd)
        elif what == pycurl.POLL_REMOVE:
            if sock_fd in state["rlist"]:
                state["rlist"].remove(sock_fd)
            if sock_fd in state["wlist"]:
                state["wlist"].remove(sock_fd)
        else:
            raise Exception(f"Unknown value of what: {what}")

    def work(timeout: float) -> None:
        rready, wready, xready = select.select(
            state["rlist"], state["wlist"], set(state["rlist"]) | set(state["wlist"]), timeout
        )

        if len(rready) == 0 and len(wready) == 0 and len(xready) == 0:
            # The number of running handles must be updated after each call to
            # socket_action, which includes those with the SOCKET_TIMEOUT argument.
            _, running = multi.socket_action(pycurl.SOCKET_TIMEOUT, 0)
        else:
            for sock_fd in rready:
                # socket_action returns a tuple whose first element is always the
                # CURLE_OK value (0), ignore it and use the second element only.
                _, running = multi.socket_action(sock_fd, pycurl.CSELECT_IN)
            for sock_fd in wready:
                _, running = multi.socket_action(sock_fd, pycurl.CSELECT_OUT)
            for sock_fd in xready:
                _, running = multi.socket_action(sock_fd, pycurl.CSELECT_ERR)

        if state["running"] is not None and running != state["running"]:
            # Some handle has completed.
            qmsg, successes, failures = multi.info_read()
            # We should have retrieved all of the available statuses, leaving none in
            # the queue.
            assert qmsg == 0

            # We have only one transfer.
            assert (len(successes) == 1 and len(failures) == 0) or (
                len(successes) == 0 and len(failures) == 1
            )

            if successes:
                state["result"] = True
            if failures:
                state["result"] = False
                # The failures array contains tuples of (easy object, CURLE code, message).
                _easy, state["code"], state["msg"] = failures[0]

        state["running"] = running

    def timer_fn(timeout_ms: int) -> None:
        if timeout_ms < 0:
            # libcurl passes a negative timeout value when no further calls should be made.
            state["timeout"] = None
        else:
            state["timeout"] = timeout_ms / 1000.0

    multi = pycurl.CurlMulti()
    multi.setopt(pycurl.M_SOCKETFUNCTION, socket_fn)
    multi.setopt(pycurl.M_TIMERFUNCTION, timer_fn)

    easy = pycurl.Curl()
    easy.setopt(pycurl.URL, url)
    easy.setopt(pycurl.CONNECTTIMEOUT, 5)
    easy.setopt(pycurl.LOW_SPEED_TIME, 5)
    easy.setopt(pycurl.LOW_SPEED_LIMIT, 1)
    _io = io.BytesIO()
    easy.setopt(pycurl.WRITEDATA, _io)

    try:
        multi.add_handle(easy)
        # add_handle calls the timer callback with 0 (SEMANTICS rule 1)
        assert state["timeout"] == 0

        # The published example drops this call's running count (`handles = ...`), so when
        # the first work() ends the transfer, `running` goes from None to 0, info_read is
        # never called and the script ends "without a result" (it happens with libcurl on
        # loopback); the count is kept here.
        _, state["running"] = multi.socket_action(pycurl.SOCKET_TIMEOUT, 0)
        # This should invoke the timer function with a timeout value.

        deadline = _Deadline()
        while True:
            deadline.check()
            if state["running"] == 0:
                break
            else:
                timeout = state["timeout"]
                if timeout is None:
                    raise Exception("Need to poll for I/O but the timeout is not set!")
                work(timeout)

        multi.remove_handle(easy)
    finally:
        easy.close()
        multi.close()

    if state["result"] is None:
        raise Exception("Script finished without a result!")
    return state, _io.getvalue()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/success", b"success"),
        ("/short_wait", b"success"),
        ("/bytes/100", pattern_bytes(100)),
        ("/bytes/1000000", pattern_bytes(1000000)),
        ("/chunked/100000", pattern_bytes(100000)),
        ("/status/404", b"not found"),
    ],
    ids=lambda value: value if isinstance(value, str) else f"{len(value)}B",
)
def test_multi_socket_action_select(mod: Any, app: HttpServer, path: str, body: bytes) -> None:
    """examples/multi-socket_action-select.py: one transfer driven by socket_action over the
    read and write lists the socket callback keeps, with the timer callback's timeout for
    select.select; success is told by info_read when `running` changes."""
    state, received = _socket_action_select(mod, app.url(path))
    assert state["result"] is True
    assert (state["code"], state["msg"]) == (None, None)
    assert received == body
    assert state["timeout"] is None  # the timer was deleted when the handle was removed
    assert state["rlist"] == state["wlist"] == []


def test_multi_socket_action_select_failure(mod: Any, scripted: ServerFactory) -> None:
    """examples/multi-socket_action-select.py on a server that closes without answering: the
    failure comes through info_read as (easy, 52, message) (CURLE_GOT_NOTHING)."""
    server = scripted(responses=[CLOSE])
    state, received = _socket_action_select(mod, server.url("/"))
    assert state["result"] is False
    assert state["code"] == 52
    assert isinstance(state["msg"], str) and state["msg"]
    assert received == b""


@pytest.mark.parametrize("num_conn", [1, 4, 30])
def test_socket_action_select_many(
    mod: Any, app: HttpServer, dead_port: int, num_conn: int
) -> None:
    """multi-socket_action-select.py's timer_fn and work() with many transfers, as its
    comments suggest ("in practice, you would probably use socket_action with multiple
    transfers"): retriever-multi.py's queue and free list of reused handles, GETs and POSTs,
    each finished transfer told by info_read after work() and its handle added again."""
    pycurl = mod
    jobs: list[tuple[str, bytes | None, tuple[Any, ...]]] = []
    for n in range(6):
        size = 1000 * 7**n
        jobs.append((app.url(f"/bytes/{size}"), None, ("ok", 200, pattern_bytes(size))))
    for n in range(4):
        data = b"field=%d&" % n + b"x" * (50000 * n)
        jobs.append((app.url("/echo"), data, ("ok", 200, data)))
    jobs += [
        (app.url("/short_wait"), None, ("ok", 200, b"success")),
        (app.url("/status/404"), None, ("ok", 404, b"not found")),
        (app.url("/chunked/100000"), None, ("ok", 200, pattern_bytes(100000))),
        (f"http://127.0.0.1:{dead_port}/", None, ("err", 7)),
        (app.url("/success"), b"", ("ok", 200, b"success")),
    ]
    state: dict[str, Any] = {"rlist": [], "wlist": [], "timeout": None}
    last_event: dict[int, int] = {}

    # The example's socket_fn puts a POLL_INOUT socket in the read list only and never takes
    # a socket out of one list when it moves to the other: with one GET that does not matter,
    # but a POST body then waits for the timer instead of writability (libcurl announces
    # POLL_INOUT while it sends) and POLL_REMOVE leaves stale entries behind. This one keeps
    # the lists exact.
    def socket_fn(what: int, sock_fd: int, multi: Any, socketp: Any) -> None:
        last_event[sock_fd] = what
        if sock_fd in state["rlist"]:
            state["rlist"].remove(sock_fd)
        if sock_fd in state["wlist"]:
            state["wlist"].remove(sock_fd)
        if what == pycurl.POLL_IN or what == pycurl.POLL_INOUT:
            state["rlist"].append(sock_fd)
        if what == pycurl.POLL_OUT or what == pycurl.POLL_INOUT:
            state["wlist"].append(sock_fd)
        if what not in (pycurl.POLL_IN, pycurl.POLL_OUT, pycurl.POLL_INOUT, pycurl.POLL_REMOVE):
            raise Exception(f"Unknown value of what: {what}")

    def timer_fn(timeout_ms: int) -> None:
        state["timeout"] = None if timeout_ms < 0 else timeout_ms / 1000.0

    def work(timeout: float) -> int:
        rready, wready, xready = select.select(
            state["rlist"], state["wlist"], set(state["rlist"]) | set(state["wlist"]), timeout
        )
        if len(rready) == 0 and len(wready) == 0 and len(xready) == 0:
            _, running = m.socket_action(pycurl.SOCKET_TIMEOUT, 0)
        else:
            for sock_fd in rready:
                _, running = m.socket_action(sock_fd, pycurl.CSELECT_IN)
            for sock_fd in wready:
                _, running = m.socket_action(sock_fd, pycurl.CSELECT_OUT)
            for sock_fd in xready:
                _, running = m.socket_action(sock_fd, pycurl.CSELECT_ERR)
        running_count: int = running
        return running_count

    m = pycurl.CurlMulti()
    m.setopt(pycurl.M_SOCKETFUNCTION, socket_fn)
    m.setopt(pycurl.M_TIMERFUNCTION, timer_fn)
    m.handles = []
    for _ in range(min(num_conn, len(jobs))):
        c = pycurl.Curl()
        c.setopt(pycurl.CONNECTTIMEOUT, 5)
        c.setopt(pycurl.LOW_SPEED_TIME, 5)
        c.setopt(pycurl.LOW_SPEED_LIMIT, 1)
        m.handles.append(c)

    queue = list(jobs)
    freelist = m.handles[:]
    reported: dict[int, tuple[Any, ...]] = {}
    deadline = _Deadline()
    try:
        while len(reported) < len(jobs):
            deadline.check()
            while queue and freelist:
                url, post, _ = queue.pop(0)
                c = freelist.pop()
                c.job = len(jobs) - len(queue) - 1
                c.body = io.BytesIO()
                c.setopt(pycurl.URL, url)
                c.setopt(pycurl.WRITEDATA, c.body)
                if post is None:
                    c.setopt(pycurl.HTTPGET, 1)
                else:
                    c.setopt(pycurl.POSTFIELDS, post)
                m.add_handle(c)
            # add_handle calls the timer callback with 0 (SEMANTICS rule 1)
            timeout = state["timeout"]
            running = work(1.0 if timeout is None else timeout)
            while 1:
                num_q, ok_list, err_list = m.info_read()
                for c in ok_list:
                    m.remove_handle(c)
                    reported[c.job] = ("ok", c.getinfo(pycurl.RESPONSE_CODE), c.body.getvalue())
                    freelist.append(c)
                for c, errno, errmsg in err_list:
                    m.remove_handle(c)
                    assert isinstance(errmsg, str) and errmsg
                    reported[c.job] = ("err", errno)
                    freelist.append(c)
                if num_q == 0:
                    break
            assert running == len(m.handles) - len(freelist)
    finally:
        for c in m.handles:
            c.close()
        m.close()

    assert [reported[n] for n in range(len(jobs))] == [expected for _, _, expected in jobs]
    assert state["timeout"] is None
    # Every socket announced was removed (idle pooled connections are not watched).
    assert set(last_event.values()) == {pycurl.POLL_REMOVE}
    assert state["rlist"] == state["wlist"] == []


def test_reused_handle_httpget_then_postfields(mod: Any, app: HttpServer) -> None:
    """A handle reused from a GET with HTTPGET=1 for a POST with POSTFIELDS (what a
    retriever-style free list does): libcurl's options set the method, the last one wins."""
    pycurl = mod
    c = pycurl.Curl()
    try:
        c.setopt(c.URL, app.url("/echo"))
        c.setopt(c.WRITEFUNCTION, lambda data: None)
        c.setopt(c.HTTPGET, 1)
        c.perform()
        c.setopt(c.POSTFIELDS, "field=value")
        c.perform()
        c.setopt(c.HTTPGET, 1)
        c.perform()
    finally:
        c.close()
    assert [(r.method, r.body) for r in app.requests] == [
        ("GET", b""),
        ("POST", b"field=value"),
        ("GET", b""),
    ]


# -- the easy interface: examples/basicfirst.py, file_upload.py, xmlrpc_curl.py -------------


def test_basicfirst(mod: Any, app: HttpServer) -> None:
    """examples/basicfirst.py: WRITEFUNCTION a bound method accumulating the body; options
    read from the Curl instance (c.URL)."""
    pycurl = mod

    class Test:
        def __init__(self) -> None:
            self.contents = b""

        def body_callback(self, buf: bytes) -> None:
            self.contents = self.contents + buf

    assert f"Testing {pycurl.version}\n".startswith("Testing PycURL/")
    t = Test()
    c = pycurl.Curl()
    try:
        c.setopt(c.URL, app.url("/bytes/200000"))
        c.setopt(c.WRITEFUNCTION, t.body_callback)
        assert c.perform() is None
    finally:
        c.close()
    assert t.contents == pattern_bytes(200000)


class _FileReader:
    """examples/file_upload.py: holds a file reference and the read callback."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f

    def read_callback(self, size: int) -> bytes:
        return self.f.read(size)


@pytest.mark.parametrize("use_reader_class", [True, False], ids=["filereader", "file.read"])
def test_file_upload(mod: Any, app: HttpServer, tmp_path: Path, use_reader_class: bool) -> None:
    """examples/file_upload.py: UPLOAD with a READFUNCTION over a file and INFILESIZE; the
    server receives a PUT with a Content-Length and the file's bytes."""
    pycurl = mod
    filename = tmp_path / "upload.bin"
    filename.write_bytes(pattern_bytes(150000))
    buffer = io.BytesIO()

    c = pycurl.Curl()
    with open(filename, "rb") as f:
        try:
            c.setopt(pycurl.URL, app.url("/echo"))
            c.setopt(pycurl.UPLOAD, 1)
            # Two versions with the same semantics
            if use_reader_class:
                c.setopt(pycurl.READFUNCTION, _FileReader(f).read_callback)
            else:
                c.setopt(pycurl.READFUNCTION, f.read)
            # Set size of file to be uploaded
            filesize = filename.stat().st_size
            if filesize > 2**31:
                c.setopt(pycurl.INFILESIZE_LARGE, filesize)
            else:
                c.setopt(pycurl.INFILESIZE, filesize)
            # (the example lets the response go to stdout)
            c.setopt(pycurl.WRITEDATA, buffer)
            c.perform()
            code = c.getinfo(pycurl.RESPONSE_CODE)
            uploaded = c.getinfo(pycurl.SIZE_UPLOAD_T)
        finally:
            c.close()

    assert code == 200
    assert uploaded == 150000
    assert buffer.getvalue() == pattern_bytes(150000)
    request = app.requests[-1]
    assert (request.method, request.header("content-length")) == ("PUT", "150000")
    assert request.body == pattern_bytes(150000)


def test_put_file_readdata(mod: Any, app: HttpServer, tmp_path: Path) -> None:
    """examples/quickstart/put_file.py: UPLOAD with READDATA a text-mode file and no size:
    the body goes chunked (libcurl asks for 100-continue on an upload of unknown size)."""
    pycurl = mod
    text = "".join(f"line {n} of an ASCII file\n" for n in range(2000))
    path = tmp_path / "put.txt"
    path.write_text(text)
    buffer = io.BytesIO()

    c = pycurl.Curl()
    file = open(path)  # noqa: SIM115 - the example closes it after the Curl object
    try:
        c.setopt(c.URL, app.url("/echo"))
        c.setopt(c.UPLOAD, 1)
        c.setopt(c.READDATA, file)
        c.setopt(c.WRITEDATA, buffer)
        c.perform()
        code = c.getinfo(c.RESPONSE_CODE)
    finally:
        c.close()
        # File must be kept open while Curl object is using it
        file.close()

    assert code == 200
    request = app.requests[-1]
    assert request.method == "PUT"
    assert (request.header("transfer-encoding") or "").lower() == "chunked"
    assert request.body == text.encode()
    assert buffer.getvalue() == text.encode()


def test_file_upload_real_httppost(mod: Any, app: HttpServer, tmp_path: Path) -> None:
    """examples/quickstart/file_upload_real.py: HTTPPOST with a (FORM_FILE, path) field sends
    a multipart/form-data POST carrying the file's name and bytes."""
    pycurl = mod
    path = tmp_path / "upload.txt"
    path.write_bytes(b"file contents\r\nsecond line\n")
    buffer = io.BytesIO()

    c = pycurl.Curl()
    try:
        c.setopt(c.URL, app.url("/echo"))
        # pycurl 7.49 deprecates HTTPPOST (for MIMEPOST) with a warning; the example uses it.
        with pytest.warns(DeprecationWarning):
            c.setopt(
                c.HTTPPOST,
                [
                    (
                        "fileupload",
                        (
                            # upload the contents of this file
                            c.FORM_FILE,
                            str(path),
                        ),
                    ),
                ],
            )
        c.setopt(c.WRITEDATA, buffer)
        c.perform()
        code = c.getinfo(c.RESPONSE_CODE)
    finally:
        c.close()

    assert code == 200
    request = app.requests[-1]
    assert request.method == "POST"
    content_type = request.header("content-type") or ""
    match = re.fullmatch(r"multipart/form-data; boundary=(\S+)", content_type)
    assert match is not None, content_type
    boundary = match.group(1).encode()
    parts = request.body.split(b"--" + boundary)
    assert parts[0] == b"" and parts[-1] == b"--\r\n"
    assert len(parts) == 3
    head, _, content = parts[1].partition(b"\r\n\r\n")
    assert b'Content-Disposition: form-data; name="fileupload"; filename="upload.txt"' in head
    assert content == b"file contents\r\nsecond line\n\r\n"
    assert buffer.getvalue() == request.body


class _CURLTransport(xmlrpc.client.Transport):
    """examples/xmlrpc_curl.py: handles a cURL HTTP transaction to an XML-RPC server."""

    xmlrpc_h = ["Content-Type: text/xml"]

    def __init__(
        self, pycurl: Any, username: str | None = None, password: str | None = None
    ) -> None:
        super().__init__()
        self.pycurl = pycurl
        self.c = pycurl.Curl()
        self.c.setopt(pycurl.POST, 1)
        self.c.setopt(pycurl.NOSIGNAL, 1)
        self.c.setopt(pycurl.CONNECTTIMEOUT, 30)
        self.c.setopt(pycurl.HTTPHEADER, self.xmlrpc_h)
        if username is not None and password is not None:
            self.c.setopt(pycurl.USERPWD, f"{username}:{password}")

    def request(  # type: ignore[override]
        self, host: str, handler: str, request_body: bytes, verbose: bool = False
    ) -> tuple[Any, ...]:
        pycurl = self.pycurl
        b = io.BytesIO()
        self.c.setopt(pycurl.URL, f"http://{host}{handler}")
        self.c.setopt(pycurl.POSTFIELDS, request_body)
        self.c.setopt(pycurl.WRITEFUNCTION, b.write)
        self.c.setopt(pycurl.VERBOSE, verbose)
        self.verbose = verbose
        try:
            self.c.perform()
        except pycurl.error as exc:
            v = exc.args
            raise xmlrpc.client.ProtocolError(host + handler, v[0], v[1], {}) from exc
        b.seek(0)
        result: tuple[Any, ...] = self.parse_response(b)  # type: ignore[arg-type]
        return result

    def close(self) -> None:
        self.c.close()


def test_xmlrpc_curl(mod: Any, app: HttpServer, dead_port: int) -> None:
    """examples/xmlrpc_curl.py: an xmlrpc.client Transport that POSTs with POSTFIELDS and a
    Content-Type header list, collecting the answer with WRITEFUNCTION; a pycurl.error
    becomes a ProtocolError carrying (code, message)."""
    transport = _CURLTransport(mod)
    with xmlrpc.client.ServerProxy(f"http://127.0.0.1:{app.port}", transport=transport) as server:
        assert server.examples.getStateName(41) == "South Dakota"
        with pytest.raises(xmlrpc.client.Fault):
            server.examples.noSuchMethod()
    request = app.requests[0]
    assert (request.method, request.target) == ("POST", "/RPC2")
    assert request.header("content-type") == "text/xml"
    assert xmlrpc.client.loads(request.body) == ((41,), "examples.getStateName")

    transport = _CURLTransport(mod)
    dead_url = f"http://127.0.0.1:{dead_port}"
    with (
        xmlrpc.client.ServerProxy(dead_url, transport=transport) as dead,
        pytest.raises(xmlrpc.client.ProtocolError) as info,
    ):
        dead.examples.getStateName(41)
    assert info.value.errcode == 7
    assert isinstance(info.value.errmsg, str) and info.value.errmsg


# -- examples/quickstart/* -------------------------------------------------------------------


def test_quickstart_get(mod: Any, app: HttpServer) -> None:
    """examples/quickstart/get.py: WRITEDATA a BytesIO, then decode the body."""
    pycurl = mod
    buffer = io.BytesIO()
    c = pycurl.Curl()
    try:
        c.setopt(c.URL, app.url("/success"))
        c.setopt(c.WRITEDATA, buffer)
        c.perform()
    finally:
        c.close()
    body = buffer.getvalue()
    # Body is a byte string. We have to know the encoding in order to print it to a text file.
    assert body.decode("iso-8859-1") == "success"


def test_quickstart_write_file(mod: Any, app: HttpServer, tmp_path: Path) -> None:
    """examples/quickstart/write_file.py: WRITEDATA a file opened "wb"."""
    pycurl = mod
    out = tmp_path / "out.html"
    with open(out, "wb") as f:
        c = pycurl.Curl()
        try:
            c.setopt(c.URL, app.url("/bytes/100000"))
            c.setopt(c.WRITEDATA, f)
            c.perform()
        finally:
            c.close()
    assert out.read_bytes() == pattern_bytes(100000)


def test_quickstart_response_headers(mod: Any, app: HttpServer) -> None:
    """examples/quickstart/response_headers.py: a HEADERFUNCTION parsing header lines into a
    dict (the status line and the blank line have no colon), then the charset of
    Content-Type decodes the body."""
    pycurl = mod
    headers: dict[str, str] = {}
    lines: list[bytes] = []

    def header_function(header_line: bytes) -> None:
        lines.append(header_line)
        # HTTP standard specifies that headers are encoded in iso-8859-1.
        line = header_line.decode("iso-8859-1")
        # Header lines include the first status line (HTTP/1.x ...).
        # We are going to ignore all lines that don't have a colon in them.
        if ":" not in line:
            return
        # Break the header line into header name and value.
        name, value = line.split(":", 1)
        # Remove whitespace that may be present.
        name = name.strip()
        value = value.strip()
        # Header names are case insensitive.
        name = name.lower()
        headers[name] = value

    buffer = io.BytesIO()
    c = pycurl.Curl()
    try:
        c.setopt(c.URL, app.url("/html"))
        c.setopt(c.WRITEFUNCTION, buffer.write)
        # Set our header function.
        c.setopt(c.HEADERFUNCTION, header_function)
        c.perform()
    finally:
        c.close()

    # Figure out what encoding was sent with the response, if any.
    encoding = None
    if "content-type" in headers:
        content_type = headers["content-type"].lower()
        match = re.search(r"charset=(\S+)", content_type)
        if match:
            encoding = match.group(1)
    assert encoding == "utf-8"
    body = buffer.getvalue()
    assert body.decode(encoding) == "<p>h\u00e9llo w\u00f6rld</p>"
    assert lines[0] == b"HTTP/1.1 200 OK\r\n"
    assert lines[-1] == b"\r\n"
    assert all(line.endswith(b"\r\n") for line in lines)
    assert headers["content-length"] == str(len(body))


def test_quickstart_response_info(mod: Any, app: HttpServer) -> None:
    """examples/quickstart/response_info.py: getinfo(RESPONSE_CODE) and getinfo(TOTAL_TIME)
    after perform(), before close(); plus the other infos such programs print."""
    pycurl = mod
    buffer = io.BytesIO()
    c = pycurl.Curl()
    try:
        c.setopt(c.URL, app.url("/html"))
        c.setopt(c.WRITEDATA, buffer)
        c.perform()

        # HTTP response code, e.g. 200.
        assert f"Status: {c.getinfo(c.RESPONSE_CODE)}" == "Status: 200"
        # Elapsed time for the transfer.
        total_time = c.getinfo(c.TOTAL_TIME)
        assert isinstance(total_time, float) and 0.0 <= total_time < LOOP_LIMIT
        infos = {
            "EFFECTIVE_URL": c.getinfo(c.EFFECTIVE_URL),
            "HTTP_CODE": c.getinfo(c.HTTP_CODE),
            "CONTENT_TYPE": c.getinfo(c.CONTENT_TYPE),
            "REDIRECT_COUNT": c.getinfo(c.REDIRECT_COUNT),
            "REDIRECT_URL": c.getinfo(c.REDIRECT_URL),
            "NUM_CONNECTS": c.getinfo(c.NUM_CONNECTS),
            "PRIMARY_IP": c.getinfo(c.PRIMARY_IP),
            "PRIMARY_PORT": c.getinfo(c.PRIMARY_PORT),
            "LOCAL_IP": c.getinfo(c.LOCAL_IP),
            "SIZE_DOWNLOAD_T": c.getinfo(c.SIZE_DOWNLOAD_T),
            "CONTENT_LENGTH_DOWNLOAD_T": c.getinfo(c.CONTENT_LENGTH_DOWNLOAD_T),
            "SIZE_UPLOAD_T": c.getinfo(c.SIZE_UPLOAD_T),
            "INFO_HTTP_VERSION": c.getinfo(c.INFO_HTTP_VERSION),
        }
        total_time_t = c.getinfo(c.TOTAL_TIME_T)
    finally:
        # getinfo must be called before close.
        c.close()

    size = len("<p>h\u00e9llo w\u00f6rld</p>".encode())
    assert infos == {
        "EFFECTIVE_URL": app.url("/html"),
        "HTTP_CODE": 200,
        "CONTENT_TYPE": "text/html; charset=UTF-8",
        "REDIRECT_COUNT": 0,
        "REDIRECT_URL": None,
        "NUM_CONNECTS": 1,
        "PRIMARY_IP": "127.0.0.1",
        "PRIMARY_PORT": app.port,
        "LOCAL_IP": "127.0.0.1",
        "SIZE_DOWNLOAD_T": size,
        "CONTENT_LENGTH_DOWNLOAD_T": size,
        "SIZE_UPLOAD_T": 0,
        "INFO_HTTP_VERSION": mod.CURL_HTTP_VERSION_1_1,
    }
    assert isinstance(total_time_t, int) and total_time_t >= 0


def test_quickstart_form_post(mod: Any, app: HttpServer) -> None:
    """examples/quickstart/form_post.py: POSTFIELDS with urlencode() data makes a POST with
    Content-Type application/x-www-form-urlencoded."""
    pycurl = mod
    buffer = io.BytesIO()
    c = pycurl.Curl()
    try:
        c.setopt(c.URL, app.url("/echo"))
        post_data = {"field": "value", "other": "a b&c=d"}
        # Form data must be provided already urlencoded.
        postfields = urlencode(post_data)
        # Sets request method to POST, Content-Type header to
        # application/x-www-form-urlencoded and data to send in request body.
        c.setopt(c.POSTFIELDS, postfields)
        c.setopt(c.WRITEDATA, buffer)
        c.perform()
        code = c.getinfo(c.RESPONSE_CODE)
        content_type = c.getinfo(c.CONTENT_TYPE)
    finally:
        c.close()

    assert code == 200
    assert content_type == "application/x-www-form-urlencoded"
    assert buffer.getvalue() == b"field=value&other=a+b%26c%3Dd"
    request = app.requests[-1]
    assert request.method == "POST"
    assert request.header("content-length") == str(len(postfields))


def test_quickstart_follow_redirect(mod: Any, app: HttpServer) -> None:
    """examples/quickstart/follow_redirect.py: FOLLOWLOCATION True follows the 302s; the
    effective URL and REDIRECT_COUNT tell where it ended."""
    pycurl = mod
    buffer = io.BytesIO()
    c = pycurl.Curl()
    try:
        c.setopt(c.URL, app.url("/redirect/3"))
        # Follow redirect.
        c.setopt(c.FOLLOWLOCATION, True)
        c.setopt(c.WRITEDATA, buffer)
        c.perform()
        infos = (
            c.getinfo(c.RESPONSE_CODE),
            c.getinfo(c.EFFECTIVE_URL),
            c.getinfo(c.REDIRECT_COUNT),
        )
    finally:
        c.close()
    assert infos == (200, app.url("/redirect/0"), 3)
    assert buffer.getvalue() == b"redirected\n"


def test_perform_rs_rb(mod: Any, app: HttpServer) -> None:
    """pycurl's quickstart: perform_rs() returns the body as str, perform_rb() as bytes, on a
    handle reused between them."""
    pycurl = mod
    c = pycurl.Curl()
    try:
        c.setopt(c.URL, app.url("/html"))
        body_s = c.perform_rs()
        c.setopt(c.URL, app.url("/bytes/5000"))
        body_b = c.perform_rb()
        code = c.getinfo(c.RESPONSE_CODE)
    finally:
        c.close()
    assert body_s == "<p>h\u00e9llo w\u00f6rld</p>"
    assert isinstance(body_b, bytes) and body_b == pattern_bytes(5000)
    assert code == 200


def test_examples_leave_no_warning(mod: Any, app: HttpServer) -> None:
    """A retriever-style loop with handles dropped without close(): neither module warns
    (filterwarnings=error turns a ResourceWarning into a failure in the gc below)."""
    pycurl = mod
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = pycurl.CurlMulti()
        c = pycurl.Curl()
        c.setopt(c.URL, app.url("/success"))
        c.setopt(c.WRITEFUNCTION, lambda data: None)
        m.add_handle(c)
        deadline = _Deadline()
        while m.perform()[1]:
            deadline.check()
            m.select(1.0)
        assert m.info_read() == (0, [c], [])
        m.close()
        del c, m
        gc.collect()
