"""`-v`, `--trace`, `--trace-ascii`, `--trace-time`: curl's formats (src/tool_cb_dbg.c), fed
one DEBUGFUNCTION call at a time, without a transfer."""

from __future__ import annotations

import io
import time
from pathlib import Path

from purecurl.cli.trace import (
    ASCII,
    BIN,
    DATA_IN,
    DATA_OUT,
    HEADER_IN,
    HEADER_OUT,
    INFO_TEXT,
    PLAIN,
    TraceFormatter,
    TraceOutput,
    dump,
    time_prefix,
)

REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def test_ascii_dump_ends_lines_at_crlf_and_hides_it() -> None:
    assert dump("=> Send header", REQUEST, ASCII) == (
        b"=> Send header, 27 bytes (0x1b)\n0000: GET / HTTP/1.1\n0010: Host: x\n0019: \n"
    )


def test_ascii_dump_shows_a_lone_lf_as_a_dot() -> None:
    # A body's "\n" is not a CRLF: curl prints it as '.', on the same line.
    assert dump("<= Recv data", b"hello\n", ASCII) == (
        b"<= Recv data, 6 bytes (0x6)\n0000: hello.\n"
    )


def test_ascii_dump_wraps_at_64_and_a_crlf_at_the_edge_adds_no_empty_line() -> None:
    line = b"a" * 64 + b"\r\n" + b"b"
    assert dump("<= Recv data", line, ASCII).split(b"\n")[1:] == [
        b"0000: " + b"a" * 64,
        b"0042: b",
        b"",
    ]
    wrapped = b"c" * 70
    assert dump("x", wrapped, ASCII).split(b"\n")[1:3] == [b"0000: " + b"c" * 64, b"0040: cccccc"]


def test_bin_dump_has_hex_and_characters_sixteen_a_line() -> None:
    out = dump("<= Recv header", b"HTTP/1.1 200 OK\r\n", BIN).decode()
    assert out.splitlines() == [
        "<= Recv header, 17 bytes (0x11)",
        "0000: 48 54 54 50 2f 31 2e 31 20 32 30 30 20 4f 4b 0d HTTP/1.1 200 OK.",
        "0010: 0a" + " " * 46 + ".",
    ]


def test_dump_of_nothing_is_the_title_alone() -> None:
    assert dump("<= Recv data", b"", ASCII) == b"<= Recv data, 0 bytes (0x0)\n"


def test_trace_ascii_info_lines_and_unknown_types() -> None:
    f = TraceFormatter(ASCII)
    assert f.format(INFO_TEXT, b"Trying 127.0.0.1...\n") == b"== Info: Trying 127.0.0.1...\n"
    assert f.format(99, b"x") == b""


def test_plain_marks_each_header_line_and_keeps_crlf() -> None:
    f = TraceFormatter(PLAIN)
    assert f.format(HEADER_OUT, REQUEST) == b"> GET / HTTP/1.1\r\n> Host: x\r\n> \r\n"
    assert f.format(HEADER_IN, b"HTTP/1.1 200 OK\r\n") == b"< HTTP/1.1 200 OK\r\n"
    assert f.format(INFO_TEXT, b"Connected\n") == b"* Connected\n"


def test_plain_notes_a_run_of_data_once() -> None:
    f = TraceFormatter(PLAIN)
    assert f.format(DATA_IN, b"abc") == b"{ [3 bytes data]\n"
    assert f.format(DATA_IN, b"more") == b""  # same run: curl notes the first piece only
    f.format(INFO_TEXT, b"x\n")
    assert f.format(DATA_OUT, b"12") == b"} [2 bytes data]\n"


def test_plain_hides_data_lines_when_the_body_is_on_the_terminal() -> None:
    f = TraceFormatter(PLAIN, show_data=False)
    assert f.format(DATA_IN, b"abc") == b""


def test_plain_continues_a_line_left_open() -> None:
    f = TraceFormatter(PLAIN)
    assert f.format(INFO_TEXT, b"partial ") == b"* partial "
    assert f.format(INFO_TEXT, b"rest\n") == b"rest\n"  # no second marker
    # A header block split mid-line: the continuation gets no marker either.
    assert f.format(HEADER_OUT, b"GET / HT") == b"> GET / HT"
    assert f.format(HEADER_OUT, b"TP/1.1\r\nA: b\r\n") == b"TP/1.1\r\n> A: b\r\n"


def test_trace_time_prefixes_every_line_start() -> None:
    now = time.mktime((2024, 1, 2, 3, 4, 5, 0, 0, -1)) + 0.000042
    f = TraceFormatter(PLAIN, with_time=True, clock=lambda: now)
    assert f.format(HEADER_OUT, b"A\r\nB\r\n") == (
        b"03:04:05.000042 > A\r\n03:04:05.000042 > B\r\n"
    )
    g = TraceFormatter(ASCII, with_time=True, clock=lambda: now)
    assert g.format(INFO_TEXT, b"hi\n") == b"03:04:05.000042 == Info: hi\n"
    assert g.format(DATA_IN, b"x").startswith(b"03:04:05.000042 <= Recv data, 1 bytes")
    assert time_prefix(now) == b"03:04:05.000042 "


def test_trace_output_targets(tmp_path: Path) -> None:
    stdout, err_bytes = io.BytesIO(), io.BytesIO()
    stderr = io.TextIOWrapper(err_bytes, encoding="utf-8")
    TraceOutput("-", stdout, stderr).write(b"to stdout")
    TraceOutput("%", stdout, stderr).write(b"to stderr \xff")  # bytes as they came
    path = tmp_path / "trace"
    out = TraceOutput(str(path), stdout, stderr)
    assert not path.exists()  # opened at the first call, as curl does
    out.write(b"to file")
    out.close()
    assert stdout.getvalue() == b"to stdout"
    assert err_bytes.getvalue() == b"to stderr \xff"
    assert path.read_bytes() == b"to file"


def test_trace_file_that_cannot_be_created_goes_to_stderr(tmp_path: Path) -> None:
    err_bytes = io.BytesIO()
    stderr = io.TextIOWrapper(err_bytes, encoding="utf-8")
    out = TraceOutput(str(tmp_path / "no" / "such" / "dir"), io.BytesIO(), stderr)
    out.write(b"x")
    assert err_bytes.getvalue() == b"x" and out.to_std_stream
