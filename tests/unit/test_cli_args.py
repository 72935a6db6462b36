"""The `purecurl` command line: curl's option spelling, URL/output pairing, config files."""

from __future__ import annotations

from pathlib import Path

import pytest

from purecurl.cli.args import (
    PARALLEL_MAX_DEFAULT,
    UsageError,
    config_lines,
    join_data,
    parse_args,
    parse_size,
    urlencode_data,
)


def test_short_options_cluster_and_attached_argument() -> None:
    g = parse_args(["-sSLofile", "http://x/"])
    assert g.silent and g.show_error and g.op.location
    assert g.op.nodes[0].outfile == "file"
    assert g.op.nodes[0].url == "http://x/"


def test_outputs_pair_with_urls_in_order() -> None:
    g = parse_args(["-o", "a", "http://x/1", "http://x/2", "-O", "--url", "http://x/3"])
    nodes = [(n.url, n.outfile, n.remote_name) for n in g.op.nodes]
    assert nodes == [
        ("http://x/1", "a", False),
        ("http://x/2", None, True),
        ("http://x/3", None, False),
    ]


def test_next_starts_a_new_operation_and_globals_stay() -> None:
    g = parse_args(["-s", "-H", "A: 1", "http://x/", "-:", "-d", "x", "http://y/"])
    assert len(g.operations) == 2
    assert g.operations[0].headers == ["A: 1"] and g.operations[1].headers == []
    assert g.operations[1].data == [(b"x", False)]
    assert g.silent


def test_no_prefix_negates_booleans() -> None:
    g = parse_args(["--no-progress-meter", "-L", "--no-location", "http://x/"])
    assert g.progress_meter is False
    assert g.op.location is False


def test_unambiguous_prefix_is_accepted() -> None:
    assert parse_args(["--silen", "u"]).silent


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--nope"], "option --nope: is unknown"),
        (["-o"], "option -o: requires parameter"),
        (["--max-time", "abc", "u"], "option --max-time: expected a proper numerical parameter"),
        (["-j", "-y", "x"], "option -y: expected a proper numerical parameter"),
        (["--no-output", "u"], "option --no-output: is unknown"),
    ],
)
def test_usage_errors(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_args(argv)
    assert info.value.message == message
    assert info.value.code == 2


def test_data_pieces_join_with_ampersand_and_json_concatenates() -> None:
    g = parse_args(["-d", "a=1", "--data-raw", "@b", "u"])
    assert join_data(g.op.data) == b"a=1&@b"
    g = parse_args(["--json", '{"a":', "--json", "1}", "u"])
    assert join_data(g.op.data) == b'{"a":1}'
    assert g.op.json


def test_data_from_file_strips_newlines_but_binary_keeps_them(tmp_path: Path) -> None:
    f = tmp_path / "d"
    f.write_bytes(b"a=1\r\nb=2\n")
    assert join_data(parse_args(["-d", f"@{f}", "u"]).op.data) == b"a=1b=2"
    assert join_data(parse_args(["--data-binary", f"@{f}", "u"]).op.data) == b"a=1\r\nb=2\n"


def test_data_urlencode_forms() -> None:
    assert urlencode_data("a b&c") == b"a%20b%26c"
    assert urlencode_data("=x y") == b"x%20y"
    assert urlencode_data("name=x y") == b"name=x%20y"
    assert urlencode_data("name@f", read=lambda p: b"1 2") == b"name=1%202"


def test_parallel_max_is_capped() -> None:
    assert parse_args(["-Z", "u"]).parallel_max == PARALLEL_MAX_DEFAULT
    assert parse_args(["--parallel-max", "1000", "u"]).parallel_max == 300


def test_sizes() -> None:
    assert parse_size("--limit-rate", "100K") == 102400
    assert parse_size("--limit-rate", "1.5M") == 1572864
    assert parse_size("--limit-rate", "200") == 200


def test_config_file_syntax() -> None:
    text = '# comment\n\nurl = "http://x/a b"\n-o out\nsilent\nheader: "X: \\"q\\""\n'
    assert list(config_lines(text)) == [
        ("url", "http://x/a b"),
        ("-o", "out"),
        ("silent", None),
        ("header", 'X: "q"'),
    ]


def test_config_file_applies_where_k_stands(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    cfg.write_text("url = http://x/\noutput = o\nlocation\n")
    g = parse_args(["-K", str(cfg)])
    assert g.op.nodes[0].url == "http://x/" and g.op.nodes[0].outfile == "o"
    assert g.op.location


def test_missing_config_file_is_26(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        parse_args(["-K", str(tmp_path / "none")])
    assert info.value.code == 26
