"""`-w` formatting and the progress meter's number formats, without a transfer."""

from __future__ import annotations

import json

from purecurl.cli.progress import ClassicMeter, Progress, size5, time8
from purecurl.cli.writeout import WriteoutData, header_json, json_object, render


def data(**values: object) -> WriteoutData:
    base: dict[str, object] = {
        "http_code": 200,
        "time_total": 0.5,
        "size_download": 1234,
        "exitcode": 0,
        "url_effective": "http://x/",
        "content_type": None,
    }
    base.update(values)
    return WriteoutData(base, [("Server", "s"), ("Set-Cookie", "a"), ("set-cookie", "b")])


def text(fmt: str, d: WriteoutData | None = None) -> str:
    return "".join(t for _, t in render(fmt, d or data()))


def test_variables_and_escapes() -> None:
    out = text("%{http_code} %{time_total} %{size_download}\\t%{url_effective}\\n%%")
    assert out == "200 0.500000 1234\thttp://x/\n%"


def test_http_code_has_three_digits_and_missing_string_is_empty() -> None:
    assert text("[%{http_code}][%{content_type}]", data(http_code=0)) == "[000][]"


def test_unknown_variable_warns_and_prints_nothing() -> None:
    warnings: list[str] = []
    assert "".join(t for _, t in render("a%{nope}b", data(), warnings.append)) == "ab"
    assert warnings == ["unknown --write-out variable: 'nope'"]


def test_stderr_and_onerror() -> None:
    assert render("a%{stderr}b", data()) == [("stdout", "a"), ("stderr", "b")]
    assert text("ok%{onerror}failed") == "ok"
    assert text("ok%{onerror}failed", data(exitcode=7)) == "okfailed"


def test_header_variables() -> None:
    assert text("%header{set-cookie}") == "a, b"
    assert json.loads(header_json(data().headers)) == {"server": ["s"], "set-cookie": ["a", "b"]}


def test_json_object_is_json_with_every_variable() -> None:
    obj = json.loads(json_object(data()))
    assert obj["http_code"] == 200 and obj["time_total"] == 0.5
    assert obj["content_type"] is None
    assert "curl_version" in obj and "exitcode" in obj


def test_size5_matches_curl_meter() -> None:
    sizes = (0, 99999, 100000, 10 * 1024 * 1024, 2 * 1024**3, 200 * 1024**3)
    assert [size5(n) for n in sizes] == ["    0", "99999", "  97k", "10.0M", "2048M", " 200G"]


def test_time8() -> None:
    assert time8(None) == "--:--:--"
    assert time8(61) == " 0:01:01"
    assert time8(100 * 3600) == "  4d 04h"


def test_classic_meter_zero_line_matches_curl() -> None:
    p = Progress()
    meter = ClassicMeter(None, p, 0.0)  # type: ignore[arg-type]
    assert meter.line(0.0) == (
        "\r  0     0    0     0    0     0      0      0 --:--:-- --:--:-- --:--:--     0"
    )
