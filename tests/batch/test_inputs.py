"""URL lists: plain and JSON lines, output names, de-duplication, and the errors users see."""

from __future__ import annotations

from pathlib import Path

import pytest

from purecurl.batch.inputs import (
    InputError,
    UrlRequest,
    host_key,
    load_requests,
    make_request,
    parse_line,
)


def test_plain_lines_skip_blanks_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "urls.txt"
    path.write_text("# a comment\nhttp://a.test/1\n\n  http://b.test/2  \nc.test/3\n")
    requests = load_requests(path)
    assert [r.url for r in requests] == ["http://a.test/1", "http://b.test/2", "http://c.test/3"]
    assert all(r.method == "GET" and r.body is None and r.headers == () for r in requests)


def test_json_lines_carry_method_headers_body_and_output(tmp_path: Path) -> None:
    path = tmp_path / "urls.jsonl"
    path.write_text(
        '{"url": "http://a.test/api", "method": "post", "headers": {"X-A": "1"}, '
        '"body": "caf\\u00e9", "output": "api/one.json"}\n'
        '{"url": "http://a.test/h", "headers": ["X-B: 2", ["X-C", "3"]]}\n'
        "http://a.test/plain\n"
    )
    first, second, third = load_requests(str(path))
    assert first == UrlRequest(
        "http://a.test/api", "api/one.json", "POST", ("X-A: 1",), "café".encode()
    )
    assert second.headers == ("X-B: 2", "X-C: 3")
    assert third.url == "http://a.test/plain"


def test_default_output_is_stable_and_depends_on_method_and_body() -> None:
    a = make_request("http://Host.test:8080/x")
    assert a.output == make_request("http://Host.test:8080/x").output
    assert a.output.startswith("host.test_8080/")
    assert make_request("http://host.test:8080/x", method="HEAD").output != a.output
    post1 = make_request("http://host.test:8080/x", method="POST", body="1")
    post2 = make_request("http://host.test:8080/x", method="POST", body="2")
    assert len({a.output, post1.output, post2.output}) == 3


def test_duplicates_are_fetched_once() -> None:
    requests = load_requests(["http://a.test/1", "http://a.test/1", {"url": "http://a.test/1"}])
    assert len(requests) == 1


def test_two_requests_naming_one_output_is_an_error() -> None:
    with pytest.raises(InputError, match="two different requests name the output 'x'"):
        load_requests(
            [{"url": "http://a.test/1", "output": "x"}, {"url": "http://a.test/2", "output": "x"}]
        )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"url": ', "urls.txt:1: invalid JSON"),
        ('{"url": "http://a.test/", "colour": 1}', "unknown field"),
        ('{"url": "http://a.test/", "output": "/etc/passwd"}', "must be a relative path"),
        ('{"url": "http://a.test/", "output": "a/../../b"}', "'..' path segments"),
        ('{"url": "http://a.test/", "output": "manifest.jsonl"}', "reserved"),
        ('{"url": "http://a.test/", "output": ".batch/x"}', "reserved"),
        ('{"url": "http://a.test/", "method": "HEAD", "body": "x"}', "cannot carry a body"),
        ('{"url": "http://a.test/", "headers": ["X: 1\\r\\nY: 2"]}', "line break"),
        ("http://a.test:99999/", "Port out of range"),
    ],
)
def test_bad_entries_say_where_and_why(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "urls.txt"
    path.write_text(line + "\n")
    with pytest.raises(InputError, match=message) as info:
        load_requests(str(path))
    assert str(info.value).startswith(f"{path}:1: ")


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"cannot read the URL list .*nope\.txt"):
        load_requests(tmp_path / "nope.txt")


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("http://Example.COM/a", "example.com:80"),
        ("https://example.com/a", "example.com:443"),
        ("http://example.com:8080/a", "example.com:8080"),
        ("http://[::1]:81/", "[::1]:81"),
        ("file:///tmp/x", "file:"),
    ],
)
def test_host_key_is_host_and_port(url: str, key: str) -> None:
    assert host_key(url) == key


def test_a_request_round_trips_through_its_json_form() -> None:
    import json

    request = make_request(
        "http://a.test/x", method="PUT", headers=["A: b"], body=b"\x00\xff", output="o/x"
    )
    assert parse_line(json.dumps(request.to_json())) == request
