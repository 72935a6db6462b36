"""Callbacks: what they receive, what their return values and exceptions do.

Each test runs against purecurl and the real pycurl (fixture `mod`) unless it says otherwise;
facts from PYCURL-API.md "Callbacks" and libcurl's CURLOPT_*FUNCTION(3) pages.
"""

from __future__ import annotations

import os
import re
import socket
from typing import Any

import pytest

import purecurl
from tests.compat._util import drive
from tests.servers import HttpServer, pattern_bytes

_HELLO_HEADERS = [b"HTTP/1.1 200 OK\r\n", b"Content-Type: text/plain\r\n", b"Content-Length: 6\r\n"]


def _get(curl: Any, mod: Any, url: str, **options: Any) -> None:
    curl.setopt(mod.URL, url)
    for name, value in options.items():
        curl.setopt(getattr(mod, name), value)
    curl.perform()


# -- WRITEFUNCTION / HEADERFUNCTION ------------------------------------------------------------


@pytest.mark.parametrize("accept", [lambda data: None, len], ids=["None", "len"])
def test_write_accepts_none_or_length(curl: Any, mod: Any, server: HttpServer, accept: Any) -> None:
    """PYCURL-API Callbacks: a write callback returning None or len(data) accepts the data."""
    got: list[bytes] = []

    def write(data: bytes) -> int | None:
        got.append(data)
        result: int | None = accept(data)
        return result

    _get(curl, mod, server.url("/hello"), WRITEFUNCTION=write)
    assert got == [b"hello\n"]
    assert curl.getinfo(mod.RESPONSE_CODE) == 200


_SIZE_T = "18446744073709551615"


@pytest.mark.parametrize(
    ("returned", "shown"),
    [
        (3, "3"),
        (0, "0"),
        (7, "7"),
        (-1, _SIZE_T),
        (True, "1"),
        ("x", "0"),
    ],
)
def test_write_other_return_fails_23(
    curl: Any, mod: Any, server: HttpServer, returned: object, shown: str
) -> None:
    """PYCURL-API Callbacks: any other int fails the transfer with 23, "Failure writing output
    to destination, passed N returned M"."""
    with pytest.raises(mod.error) as info:
        _get(curl, mod, server.url("/hello"), WRITEFUNCTION=lambda data: returned)
    assert info.value.args == (
        23,
        f"Failure writing output to destination, passed 6 returned {shown}",
    )


def test_write_raising_fails_23(curl: Any, mod: Any, server: HttpServer) -> None:
    """PYCURL-API Callbacks: an exception in a write callback fails the transfer with 23."""

    def write(data: bytes) -> None:
        raise ZeroDivisionError("boom")

    with pytest.raises(mod.error) as info:
        _get(curl, mod, server.url("/hello"), WRITEFUNCTION=write)
    code, message = info.value.args
    assert code == 23
    assert message.startswith("Failure writing output to destination, passed 6 returned ")


def test_write_raising_message(curl: Any, mod: Any, server: HttpServer) -> None:
    """pycurl 7.49.0: a raising write callback counts as having returned 0."""

    def write(data: bytes) -> None:
        raise ZeroDivisionError("boom")

    with pytest.raises(mod.error) as info:
        _get(curl, mod, server.url("/hello"), WRITEFUNCTION=write)
    assert info.value.args == (23, "Failure writing output to destination, passed 6 returned 0")


def test_write_exception_is_cause_and_not_printed(
    server: HttpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """PYCURL-API Callbacks (purecurl only: pycurl prints and loses it): the callback's
    exception is the `__cause__` of the pycurl.error, kept on the handle, and nothing is
    printed to stderr when the error reaches the caller."""
    boom = ZeroDivisionError("boom")

    def write(data: bytes) -> None:
        raise boom

    c = purecurl.Curl()
    try:
        with pytest.raises(purecurl.error) as info:
            _get(c, purecurl, server.url("/hello"), WRITEFUNCTION=write)
        assert info.value.args[0] == 23
        assert info.value.__cause__ is boom
        assert c.callback_error is boom
    finally:
        c.close()
    out, err = capsys.readouterr()
    assert (out, err) == ("", "")


def test_keyboard_interrupt_propagates(curl: Any, mod: Any, server: HttpServer) -> None:
    """PYCURL-API Callbacks: KeyboardInterrupt propagates unchanged out of perform."""
    interrupt = KeyboardInterrupt("stop")

    def write(data: bytes) -> None:
        raise interrupt

    with pytest.raises(KeyboardInterrupt) as info:
        _get(curl, mod, server.url("/hello"), WRITEFUNCTION=write)
    assert info.value is interrupt


def test_header_lines(curl: Any, mod: Any, server: HttpServer) -> None:
    """PYCURL-API Callbacks / CURLOPT_HEADERFUNCTION(3): one call per header line, CRLF kept,
    the status line first and the blank line last."""
    lines: list[bytes] = []
    _get(
        curl,
        mod,
        server.url("/hello"),
        HEADERFUNCTION=lines.append,
        WRITEFUNCTION=lambda data: None,
    )
    assert lines == [*_HELLO_HEADERS, b"\r\n"]


def test_header_wrong_return_fails_23(curl: Any, mod: Any, server: HttpServer) -> None:
    """PYCURL-API Callbacks: a header callback returning another int fails with 23."""
    with pytest.raises(mod.error) as info:
        _get(
            curl,
            mod,
            server.url("/hello"),
            HEADERFUNCTION=lambda line: 1,
            WRITEFUNCTION=lambda data: None,
        )
    assert info.value.args == (
        23,
        "Failure writing output to destination, passed 17 returned 1",
    )


def test_header_failure_keeps_response_code(curl: Any, mod: Any, server: HttpServer) -> None:
    """libcurl (observed with pycurl): the status line is parsed before HEADERFUNCTION sees
    it, so RESPONSE_CODE is 200 even when the callback refuses that line."""
    with pytest.raises(mod.error):
        _get(
            curl,
            mod,
            server.url("/hello"),
            HEADERFUNCTION=lambda line: 1,
            WRITEFUNCTION=lambda data: None,
        )
    assert curl.getinfo(mod.RESPONSE_CODE) == 200


def test_write_pause_then_continue_redelivers(mod: Any, multi: Any, server: HttpServer) -> None:
    """PYCURL-API Callbacks / CURLOPT_WRITEFUNCTION(3): returning WRITEFUNC_PAUSE pauses; the
    same data is delivered again after pause(PAUSE_CONT)."""
    got: list[bytes] = []

    def write(data: bytes) -> int | None:
        got.append(data)
        return mod.WRITEFUNC_PAUSE if len(got) == 1 else None

    c = mod.Curl()
    try:
        c.setopt(mod.URL, server.url("/bytes/100"))
        c.setopt(mod.WRITEFUNCTION, write)
        multi.add_handle(c)
        for _ in range(100):
            multi.perform()
            if got:
                break
            multi.select(0.1)
        assert got == [pattern_bytes(100)]
        for _ in range(3):  # paused: nothing more arrives
            multi.perform()
            multi.select(0.01)
        assert len(got) == 1
        c.pause(mod.PAUSE_CONT)
        drive(multi)
        assert got == [pattern_bytes(100), pattern_bytes(100)]
        assert multi.info_read() == (0, [c], [])
        multi.remove_handle(c)
    finally:
        c.close()


# -- XFERINFOFUNCTION --------------------------------------------------------------------------


def test_xferinfo_not_called_by_default(curl: Any, mod: Any, server: HttpServer) -> None:
    """PYCURL-API Curl: NOPROGRESS defaults to 1, so XFERINFOFUNCTION is never called."""
    calls: list[tuple[int, ...]] = []
    _get(
        curl,
        mod,
        server.url("/hello"),
        XFERINFOFUNCTION=lambda *args: calls.append(args),
        WRITEFUNCTION=lambda data: None,
    )
    assert calls == []


def test_xferinfo_called_with_ints(curl: Any, mod: Any, server: HttpServer) -> None:
    """CURLOPT_XFERINFOFUNCTION(3): with NOPROGRESS=0 it is called with ints (dltotal, dlnow,
    ultotal, ulnow), first with zeros and last with the totals."""
    calls: list[tuple[int, ...]] = []
    _get(
        curl,
        mod,
        server.url("/hello"),
        NOPROGRESS=0,
        XFERINFOFUNCTION=lambda *args: calls.append(args),
        WRITEFUNCTION=lambda data: None,
    )
    assert calls
    assert all(len(args) == 4 and all(type(a) is int for a in args) for args in calls)
    assert calls[0] == (0, 0, 0, 0)
    assert calls[-1] == (6, 6, 0, 0)


@pytest.mark.parametrize("abort", [True, 1])
def test_xferinfo_true_aborts_42(
    curl: Any, mod: Any, server: HttpServer, abort: bool | int
) -> None:
    """PYCURL-API Callbacks: a true value from XFERINFOFUNCTION aborts with 42 "Callback
    aborted"."""
    with pytest.raises(mod.error) as info:
        _get(
            curl,
            mod,
            server.url("/hello"),
            NOPROGRESS=0,
            XFERINFOFUNCTION=lambda *args: abort,
            WRITEFUNCTION=lambda data: None,
        )
    assert info.value.args == (42, "Callback aborted")


# -- DEBUGFUNCTION / VERBOSE -------------------------------------------------------------------


def _debug_events(curl: Any, mod: Any, server: HttpServer) -> list[tuple[int, bytes]]:
    events: list[tuple[int, bytes]] = []
    _get(
        curl,
        mod,
        server.url("/hello"),
        VERBOSE=1,
        DEBUGFUNCTION=lambda kind, data: events.append((kind, data)),
        WRITEFUNCTION=lambda data: None,
    )
    return events


def test_debugfunction_events(curl: Any, mod: Any, server: HttpServer) -> None:
    """PYCURL-API Callbacks / CURLOPT_DEBUGFUNCTION(3): (INFOTYPE_TEXT, b"...") lines, the
    request as HEADER_OUT, each response header line as HEADER_IN, the body as DATA_IN."""
    events = _debug_events(curl, mod, server)
    assert all(type(kind) is int and type(data) is bytes for kind, data in events)
    texts = [data for kind, data in events if kind == mod.INFOTYPE_TEXT]
    assert texts
    assert all(t.endswith(b"\n") for t in texts)
    assert events[0] == (mod.INFOTYPE_TEXT, f"  Trying 127.0.0.1:{server.port}...\n".encode())
    assert [d for k, d in events if k == mod.INFOTYPE_HEADER_OUT] == [server.requests[-1].raw]
    assert [d for k, d in events if k == mod.INFOTYPE_HEADER_IN] == [*_HELLO_HEADERS, b"\r\n"]
    assert [d for k, d in events if k == mod.INFOTYPE_DATA_IN] == [b"hello\n"]
    assert events[-1][0] == mod.INFOTYPE_TEXT
    assert events[-1][1].startswith(b"Connection #0 to host 127.0.0.1")


def test_debugfunction_texts_as_libcurl_8_23(curl: Any, mod: Any, server: HttpServer) -> None:
    """libcurl 8.23 (observed with pycurl): the informational lines of a plain GET."""
    events = _debug_events(curl, mod, server)
    texts = [data.decode() for kind, data in events if kind == mod.INFOTYPE_TEXT]
    port = server.port
    assert texts[0] == f"  Trying 127.0.0.1:{port}...\n"
    assert re.fullmatch(
        rf"Established connection to 127\.0\.0\.1 \(127\.0\.0\.1 port {port}\) from 127\.0\.0\.1"
        r" port \d+ \n",
        texts[1],
    )
    assert texts[2:] == [
        "using HTTP/1.x\n",
        "Request completely sent off\n",
        f"Connection #0 to host 127.0.0.1:{port} left intact\n",
    ]


def test_debugfunction_needs_verbose(curl: Any, mod: Any, server: HttpServer) -> None:
    """CURLOPT_DEBUGFUNCTION(3): it is only called when VERBOSE is on."""
    events: list[tuple[int, bytes]] = []
    _get(
        curl,
        mod,
        server.url("/hello"),
        DEBUGFUNCTION=lambda kind, data: events.append((kind, data)),
        WRITEFUNCTION=lambda data: None,
    )
    assert events == []


def test_verbose_writes_to_stderr(
    curl: Any, mod: Any, server: HttpServer, capfd: pytest.CaptureFixture[str]
) -> None:
    """CURLOPT_VERBOSE(3): without DEBUGFUNCTION the trace goes to stderr: "* " info lines,
    "> " before the request, "< " before each response header line."""
    _get(curl, mod, server.url("/hello"), VERBOSE=1, WRITEFUNCTION=lambda data: None)
    out, err = capfd.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == f"*   Trying 127.0.0.1:{server.port}..."
    assert "> GET /hello HTTP/1.1" in lines
    assert "< HTTP/1.1 200 OK" in lines
    assert "< Content-Length: 6" in lines
    assert lines[-1].startswith("* Connection #0 to host 127.0.0.1")
    assert all(line[:2] in ("* ", "> ", "< ") for line in lines if line and line[0] in "*<>")


# -- socket callbacks --------------------------------------------------------------------------


def test_opensocket_closesocket_sockopt(curl: Any, mod: Any, server: HttpServer) -> None:
    """PYCURL-API Callbacks: OPENSOCKETFUNCTION(purpose, CurlSockAddr) may return a socket;
    SOCKOPTFUNCTION(fd, purpose) is called on it; CLOSESOCKETFUNCTION(fd) closes it."""
    opened: list[tuple[int, Any]] = []
    mine: list[socket.socket] = []
    sockopt: list[tuple[int, int]] = []
    closed: list[int] = []

    def open_socket(purpose: int, address: Any) -> socket.socket:
        opened.append((purpose, address))
        sock = socket.socket(address.family, address.socktype, address.protocol)
        mine.append(sock)
        return sock

    def sockopt_fn(fd: int, purpose: int) -> int:
        sockopt.append((fd, purpose))
        return mod.SOCKOPT_OK  # type: ignore[no-any-return]

    def close_socket(fd: int) -> int:
        closed.append(fd)
        os.close(fd)
        return 0

    try:
        _get(
            curl,
            mod,
            server.url("/hello"),
            OPENSOCKETFUNCTION=open_socket,
            SOCKOPTFUNCTION=sockopt_fn,
            CLOSESOCKETFUNCTION=close_socket,
            WRITEFUNCTION=lambda data: None,
        )
        assert curl.getinfo(mod.RESPONSE_CODE) == 200
        assert len(opened) == 1
        purpose, address = opened[0]
        assert purpose == mod.SOCKTYPE_IPCXN
        assert type(address).__name__ == "CurlSockAddr"
        assert (address.family, address.protocol) == (socket.AF_INET, socket.IPPROTO_TCP)
        assert address.socktype & 0xF == socket.SOCK_STREAM
        assert address.addr == ("127.0.0.1", server.port)
        assert [p for _, p in sockopt] == [mod.SOCKTYPE_IPCXN]
        curl.close()  # closes the kept-alive connection through CLOSESOCKETFUNCTION
        assert closed == [sockopt[0][0]]
    finally:
        for sock in mine:
            sock.close()


def test_opensocket_bad_fails_7(curl: Any, mod: Any, server: HttpServer) -> None:
    """PYCURL-API Callbacks: OPENSOCKETFUNCTION returning SOCKET_BAD fails the connect (7)."""
    with pytest.raises(mod.error) as info:
        _get(
            curl,
            mod,
            server.url("/hello"),
            OPENSOCKETFUNCTION=lambda purpose, address: mod.SOCKET_BAD,
            WRITEFUNCTION=lambda data: None,
        )
    assert info.value.args[0] == mod.E_COULDNT_CONNECT
    assert server.connections_accepted == 0


def test_sockopt_error_aborts_42(curl: Any, mod: Any, server: HttpServer) -> None:
    """CURLOPT_SOCKOPTFUNCTION(3): returning CURL_SOCKOPT_ERROR aborts with 42."""
    with pytest.raises(mod.error) as info:
        _get(
            curl,
            mod,
            server.url("/hello"),
            SOCKOPTFUNCTION=lambda fd, purpose: mod.SOCKOPT_ERROR,
            WRITEFUNCTION=lambda data: None,
        )
    code, message = info.value.args
    assert code == mod.E_ABORTED_BY_CALLBACK
    assert message.endswith("Operation was aborted by an application callback")
