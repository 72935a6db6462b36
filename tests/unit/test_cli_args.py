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
    # Spaces become '+', as curl's data_urlencode() writes them.
    assert urlencode_data("a b&c") == b"a+b%26c"
    assert urlencode_data("=x y") == b"x+y"
    assert urlencode_data("name=x y") == b"name=x+y"
    assert urlencode_data("name@f", read=lambda p: b"1 2") == b"name=1+2"


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


def test_remote_header_name_and_clobber() -> None:
    g = parse_args(["-OJ", "u"])
    assert g.op.remote_header_name and g.op.nodes[0].remote_name
    assert g.op.clobber is None  # curl's default: overwrite, except a -J name
    assert parse_args(["--clobber", "u"]).op.clobber is True
    assert parse_args(["--no-clobber", "u"]).op.clobber is False


def test_last_trace_option_wins_with_curls_warning(capsys: pytest.CaptureFixture[str]) -> None:
    g = parse_args(["-v", "--trace-ascii", "t.txt", "u"])
    assert (g.trace_type, g.trace_dump) == ("ascii", "t.txt")
    assert capsys.readouterr().err == (
        "Warning: --trace-ascii overrides an earlier trace/verbose option\n"
    )
    g = parse_args(["--trace", "-", "-v", "u"])
    assert (g.trace_type, g.trace_dump) == ("plain", "%")  # "%" is curl's name for stderr
    assert "-v, --verbose overrides" in capsys.readouterr().err
    g = parse_args(["-s", "--trace", "x", "--trace-ascii", "y", "--trace-time", "u"])
    assert (g.trace_type, g.trace_dump, g.trace_time) == ("ascii", "y", True)
    assert capsys.readouterr().err == ""  # -s hides warnings
    assert not parse_args(["-v", "--no-verbose", "u"]).verbose


def test_url_query_encodes_unless_plus() -> None:
    g = parse_args(["--url-query", "a=b c", "--url-query", "+x=y&z", "--url-query", "q w", "u"])
    assert g.op.url_queries == ["a=b+c", "x=y&z", "q+w"]


def test_unreadable_files_name_the_file_then_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none"
    for argv, first in [
        (["-K", str(missing)], f"cannot read config from '{missing}'"),
        (["-H", f"@{missing}", "u"], f"Failed to open {missing}"),
    ]:
        with pytest.raises(UsageError) as info:
            parse_args(argv)
        assert info.value.code == 26
        option = argv[0]
        assert info.value.message == f"option {option}: error encountered when reading a file"
        assert capsys.readouterr().err == f"purecurl: {first}\n"


def test_variables_in_a_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    cfg.write_text('variable = "host=example.com"\nexpand-url = "https://{{host}}/a"\n')
    g = parse_args(["-K", str(cfg)])
    assert g.op.nodes[0].url == "https://example.com/a"
