"""Request bytes on the wire: the server sees exactly what libcurl sends for the same options.

The expected bytes were taken from the real pycurl 7.49.0 / libcurl 8.23.0 (scratch script) and
every test also runs on it (fixture `mod`). USERAGENT is set so the bytes are the same for both
(the default User-Agent is each library's own; one test checks only its place).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from tests.integration._util import fetch
from tests.servers import HttpServer

UA = ("USERAGENT", "ua/1")
HOST_BUG = "engine: Host header bracketed as '[127.0.0.1:PORT]': engine/config.py:219 passes "
HOST_BUG += "url.host_header() (host:port) to build_request_head, whose host_header_value "
HOST_BUG += "(proto/request.py:75) brackets any name containing ':'"


def head(server: HttpServer, first: str, *lines: str) -> bytes:
    """The request bytes without the Host line (see `sent`): request line, `lines`, blank."""
    text = f"{first}\r\n"
    return (text + "".join(f"{line}\r\n" for line in lines) + "\r\n").encode("latin-1")


def sent(mod: ModuleType, server: HttpServer, opts: list[tuple[str, Any]]) -> bytes:
    """The request the server received, with the Host line (second line) taken out after
    checking it: its value is asserted by test_host_header alone, so one Host bug does not
    hide the rest."""
    out = fetch(mod, server.url("/echo"), [UA, *opts])
    assert out.code == 0, out.message
    assert len(server.requests) == 1
    raw = server.requests[0].raw
    first, _, rest = raw.partition(b"\r\n")
    if rest.startswith(b"Host:"):
        rest = rest.partition(b"\r\n")[2]
    return first + b"\r\n" + rest


def test_host_header(mod: ModuleType, server: HttpServer) -> None:
    """Host is the second line: host and port (the port since it is not 80), no brackets for
    an IPv4 address (RFC 9110 7.2; lib/http.c)."""
    out = fetch(mod, server.url("/echo"), [UA])
    assert out.code == 0
    assert server.requests[0].raw.split(b"\r\n")[1] == f"Host: 127.0.0.1:{server.port}".encode()


def test_get(mod: ModuleType, server: HttpServer) -> None:
    """A plain GET: request line, Host, User-Agent, Accept: */* (lib/http.c order)."""
    assert sent(mod, server, []) == head(
        server, "GET /echo HTTP/1.1", "User-Agent: ua/1", "Accept: */*"
    )


def test_default_user_agent_present(mod: ModuleType, server: HttpServer) -> None:
    """Without USERAGENT a User-Agent is still sent, right after Host (each library's own
    value: PYCURL-API.md "the User-Agent is the library's own")."""
    out = fetch(mod, server.url("/echo"))
    assert out.code == 0
    request = server.requests[0]
    assert [name for name, _ in request.headers] == ["Host", "User-Agent", "Accept"]
    assert request.header("user-agent")


@pytest.mark.parametrize("option", ["POSTFIELDS", "COPYPOSTFIELDS"])
def test_post_fields(mod: ModuleType, server: HttpServer, option: str) -> None:
    """POSTFIELDS/COPYPOSTFIELDS make a POST with Content-Length and libcurl's default
    Content-Type application/x-www-form-urlencoded; the echoed body is the fields."""
    assert (
        sent(mod, server, [(option, "a=1&b=2")])
        == head(
            server,
            "POST /echo HTTP/1.1",
            "User-Agent: ua/1",
            "Accept: */*",
            "Content-Length: 7",
            "Content-Type: application/x-www-form-urlencoded",
        )
        + b"a=1&b=2"
    )


def test_post_binary_fields_and_size_truncation(mod: ModuleType, server: HttpServer) -> None:
    """POSTFIELDSIZE sends only that many bytes of POSTFIELDS (binary data with NUL kept)."""
    raw = sent(mod, server, [("POSTFIELDS", b"x\x00yzzz"), ("POSTFIELDSIZE", 3)])
    assert (
        raw
        == head(
            server,
            "POST /echo HTTP/1.1",
            "User-Agent: ua/1",
            "Accept: */*",
            "Content-Length: 3",
            "Content-Type: application/x-www-form-urlencoded",
        )
        + b"x\x00y"
    )


def test_post_echo_body_received(mod: ModuleType, server: HttpServer) -> None:
    """The server's echo of a POST body reaches WRITEFUNCTION unchanged."""
    out = fetch(mod, server.url("/echo"), [("POSTFIELDS", b"\x00\r\n\xff" * 1000)])
    assert (out.code, out.body) == (0, b"\x00\r\n\xff" * 1000)


def test_customrequest_with_fields(mod: ModuleType, server: HttpServer) -> None:
    """CUSTOMREQUEST only renames the method: a PUT with POSTFIELDS is still a form POST."""
    raw = sent(mod, server, [("CUSTOMREQUEST", "PUT"), ("POSTFIELDS", "zz")])
    assert (
        raw
        == head(
            server,
            "PUT /echo HTTP/1.1",
            "User-Agent: ua/1",
            "Accept: */*",
            "Content-Length: 2",
            "Content-Type: application/x-www-form-urlencoded",
        )
        + b"zz"
    )


def test_customrequest_alone(mod: ModuleType, server: HttpServer) -> None:
    """CUSTOMREQUEST "DELETE" without a body: the GET request with another method name."""
    assert sent(mod, server, [("CUSTOMREQUEST", "DELETE")]) == head(
        server, "DELETE /echo HTTP/1.1", "User-Agent: ua/1", "Accept: */*"
    )


def test_httpheader_add_replace_remove_empty(mod: ModuleType, server: HttpServer) -> None:
    """HTTPHEADER (CURLOPT_HTTPHEADER docs): "X: v" adds, a default's name replaces it in
    place, "Host:" removes Host, "X-Empty;" sends X-Empty with no value; str and bytes mix."""
    raw = sent(
        mod,
        server,
        [("HTTPHEADER", ["X-A: 1", "Accept: text/x", "Host:", "X-Empty;", b"X-B: bytes"])],
    )
    assert server.requests[0].header("host") is None
    assert raw == (
        b"GET /echo HTTP/1.1\r\nUser-Agent: ua/1\r\nX-A: 1\r\nAccept: text/x\r\n"
        b"X-Empty:\r\nX-B: bytes\r\n\r\n"
    )


def test_httpheader_content_type_on_post(mod: ModuleType, server: HttpServer) -> None:
    """A user Content-Type replaces the POST default and keeps the user's position; libcurl
    then puts Content-Length after the custom headers."""
    raw = sent(
        mod,
        server,
        [("POSTFIELDS", "q"), ("HTTPHEADER", [b"Content-Type: text/plain", "X-Emp;"])],
    )
    assert (
        raw
        == head(
            server,
            "POST /echo HTTP/1.1",
            "User-Agent: ua/1",
            "Accept: */*",
            "Content-Type: text/plain",
            "X-Emp:",
            "Content-Length: 1",
        )
        + b"q"
    )


def test_useragent_and_referer(mod: ModuleType, server: HttpServer) -> None:
    """USERAGENT replaces the User-Agent value; REFERER adds a Referer after Accept."""
    assert sent(mod, server, [("REFERER", "http://r.example/")]) == head(
        server,
        "GET /echo HTTP/1.1",
        "User-Agent: ua/1",
        "Accept: */*",
        "Referer: http://r.example/",
    )


def test_nobody_sends_head(mod: ModuleType, server: HttpServer) -> None:
    """NOBODY makes the request a HEAD (CURLOPT_NOBODY)."""
    assert sent(mod, server, [("NOBODY", 1)]) == head(
        server, "HEAD /echo HTTP/1.1", "User-Agent: ua/1", "Accept: */*"
    )


def test_http10_request_line(mod: ModuleType, server: HttpServer) -> None:
    """HTTP_VERSION 1.0: the request line says HTTP/1.0, headers unchanged."""
    raw = sent(mod, server, [("HTTP_VERSION", mod.CURL_HTTP_VERSION_1_0)])
    assert raw == head(server, "GET /echo HTTP/1.0", "User-Agent: ua/1", "Accept: */*")
