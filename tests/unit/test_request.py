"""build_request_head: libcurl's request layout and the CURLOPT_HTTPHEADER rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from purecurl._codes import E_BAD_FUNCTION_ARGUMENT
from purecurl._errors import CurlError
from purecurl.proto.request import build_request_head, host_header_value


def lines(head: bytes) -> list[bytes]:
    assert head.endswith(b"\r\n\r\n")
    return head[:-4].split(b"\r\n")


def test_default_get_matches_curl_v() -> None:
    head = build_request_head("GET", "/", "h", user_agent="x")
    assert head == b"GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: x\r\nAccept: */*\r\n\r\n"


def test_http10_request_line() -> None:
    assert lines(build_request_head("GET", "/a?b", "h", http10=True))[0] == b"GET /a?b HTTP/1.0"


def test_internal_headers_in_libcurl_order() -> None:
    head = build_request_head(
        "POST",
        "/",
        "h",
        user_agent="ua",
        referer="http://r/",
        content_length=3,
        user_headers=[b"X-Custom: 1"],
        default_headers=[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Cookie", "a=b"),
            ("Accept", "*/*"),
            ("Accept-Encoding", "gzip"),
            ("Authorization", "Basic eDp5"),
        ],
    )
    assert lines(head) == [
        b"POST / HTTP/1.1",
        b"Host: h",
        b"Authorization: Basic eDp5",
        b"User-Agent: ua",
        b"Accept: */*",
        b"Accept-Encoding: gzip",
        b"Referer: http://r/",
        b"Cookie: a=b",
        b"X-Custom: 1",
        b"Content-Length: 3",
        b"Content-Type: application/x-www-form-urlencoded",
    ]


def test_user_header_replaces_internal_one() -> None:
    head = build_request_head("GET", "/", "h", user_agent="x", user_headers=[b"accept: text/html"])
    assert lines(head) == [b"GET / HTTP/1.1", b"Host: h", b"User-Agent: x", b"accept: text/html"]


def test_user_header_sent_verbatim() -> None:
    head = build_request_head("GET", "/", "h", user_headers=[b"X-A:b", b"X-B:   c  "])
    assert lines(head)[-2:] == [b"X-A:b", b"X-B:   c  "]


def test_name_colon_removes_internal_header() -> None:
    head = build_request_head("GET", "/", "h", user_agent="x", user_headers=[b"User-Agent:"])
    assert lines(head) == [b"GET / HTTP/1.1", b"Host: h", b"Accept: */*"]
    head = build_request_head("GET", "/", "h", user_headers=[b"Accept:  "])
    assert lines(head) == [b"GET / HTTP/1.1", b"Host: h"]


def test_name_semicolon_sends_empty_header() -> None:
    head = build_request_head("GET", "/", "h", user_headers=[b"X-Empty;", b"Accept;"])
    assert lines(head) == [b"GET / HTTP/1.1", b"Host: h", b"X-Empty:", b"Accept:"]


@pytest.mark.parametrize("bad", [b"NoColonNoSemicolon", b":value", b"X-A; value"])
def test_lines_that_are_not_headers_are_ignored(bad: bytes) -> None:
    head = build_request_head("GET", "/", "h", user_headers=[bad])
    assert lines(head) == [b"GET / HTTP/1.1", b"Host: h", b"Accept: */*"]


def test_custom_host_takes_host_place() -> None:
    head = build_request_head("GET", "/", "h", user_headers=[b"X-A: 1", b"host: other:8080"])
    assert lines(head) == [b"GET / HTTP/1.1", b"Host: other:8080", b"Accept: */*", b"X-A: 1"]


def test_host_removed() -> None:
    head = build_request_head("GET", "/", "h", user_headers=[b"Host:"])
    assert lines(head) == [b"GET / HTTP/1.1", b"Accept: */*"]


def test_content_length_overridden_by_user() -> None:
    head = build_request_head(
        "PUT", "/", "h", content_length=5, user_headers=[b"Content-Length: 9"]
    )
    assert lines(head)[-1] == b"Content-Length: 9"
    assert head.count(b"Content-Length") == 1


def test_host_header_value() -> None:
    assert host_header_value("example.com", 80, 80) == "example.com"
    assert host_header_value("example.com", 8080, 80) == "example.com:8080"
    assert host_header_value("::1", 443, 443) == "[::1]"
    assert host_header_value("::1", 8443, 443) == "[::1]:8443"
    head = build_request_head("GET", "/", "::1", port=8080)
    assert lines(head)[1] == b"Host: [::1]:8080"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"method": "GET\r\nX: y"},
        {"target": "/\nX"},
        {"host": "h\0"},
        {"user_headers": [b"X-A: a\r\nX-B: b"]},
        {"user_agent": "ua\r\n"},
        {"default_headers": [("X", "\n")]},
    ],
)
def test_control_characters_are_refused(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"method": "GET", "target": "/", "host": "h"}
    args.update(kwargs)
    with pytest.raises(CurlError) as info:
        build_request_head(**args)  # type: ignore[arg-type]
    assert info.value.code == E_BAD_FUNCTION_ARGUMENT


def test_repeated_builds_are_cached_and_equal() -> None:
    a = build_request_head("GET", "/", "h", user_headers=[b"X: 1"])
    b = build_request_head("GET", "/", "h", user_headers=[b"X: 1"])
    assert a is b


def test_unhashable_default_headers_still_work() -> None:
    head = build_request_head("GET", "/", "h", default_headers=[["Accept", "a/b"]])  # type: ignore[list-item]
    assert lines(head)[-1] == b"Accept: a/b"


# --- properties of the CURLOPT_HTTPHEADER rules (issue 9: fuzzing the header option parser) ---

_header_bytes = st.binary(max_size=40) | st.builds(
    lambda name, sep, value: name + sep + value,
    st.sampled_from([b"Host", b"Accept", b"X-A", b"Content-Length", b"", b" Y"]),
    st.sampled_from([b":", b";", b": ", b""]),
    st.binary(max_size=20),
)


@given(st.lists(_header_bytes, max_size=6), st.sampled_from(["GET", "POST", "PUT"]))
def test_any_header_list_gives_a_well_formed_head_or_curl_error(
    headers: list[bytes], method: str
) -> None:
    """Whatever the application's header lines, the head is well formed: one request line,
    then lines with no CR, LF or NUL inside, then the blank line; or CurlError (43)."""
    try:
        head = build_request_head(
            method, "/p?q", "example.com", user_headers=headers, content_length=3
        )
    except CurlError as err:
        assert err.code == E_BAD_FUNCTION_ARGUMENT
        assert any(c in h for h in headers for c in (b"\r", b"\n", b"\0"))
        return
    assert head.endswith(b"\r\n\r\n")
    lines = head[:-4].split(b"\r\n")
    assert lines[0] == method.encode() + b" /p?q HTTP/1.1"
    for line in lines:
        assert b"\r" not in line and b"\n" not in line and b"\0" not in line
