"""URL globbing of the `purecurl` command: curl's sets, ranges, steps, escapes and errors."""

from __future__ import annotations

import pytest

from purecurl.cli.urlglob import GlobError, expand, fill_output_name, parse_glob


def urls(pattern: str) -> list[str]:
    return [e.url for e in expand(parse_glob(pattern))]


def test_no_pattern_is_one_url() -> None:
    assert urls("http://x/a?b=1") == ["http://x/a?b=1"]


def test_set_and_range_rightmost_changes_fastest() -> None:
    assert urls("http://x/{a,b}/[1-2]") == [
        "http://x/a/1",
        "http://x/a/2",
        "http://x/b/1",
        "http://x/b/2",
    ]


def test_zero_padded_range_and_step() -> None:
    assert urls("h://x/[001-003]") == ["h://x/001", "h://x/002", "h://x/003"]
    assert urls("h://x/[0-10:5]") == ["h://x/0", "h://x/5", "h://x/10"]


def test_letter_range_with_step() -> None:
    assert urls("h://x/[a-e:2]") == ["h://x/a", "h://x/c", "h://x/e"]


def test_empty_set_member() -> None:
    assert urls("h://x/f{,.gz}") == ["h://x/f", "h://x/f.gz"]


def test_backslash_makes_brackets_literal() -> None:
    assert urls("h://x/\\[1-2\\]") == ["h://x/[1-2]"]


def test_ipv6_literal_is_not_a_range() -> None:
    assert urls("http://[::1]:8080/[1-2]") == ["http://[::1]:8080/1", "http://[::1]:8080/2"]


def test_count() -> None:
    assert parse_glob("h://x/[1-100]/{a,b,c}").count() == 300


@pytest.mark.parametrize(
    ("pattern", "message", "position"),
    [
        ("http://x/[1-", "bad range", 13),
        ("http://x/{a,b", "unmatched brace", 10),
        ("http://x/[3-1]", "bad range", 11),
        ("http://x/{a,{b}}", "nested brace", 13),
        ("http://x/a}", "unmatched close brace/bracket", 11),
    ],
)
def test_errors_name_the_position(pattern: str, message: str, position: int) -> None:
    with pytest.raises(GlobError) as info:
        parse_glob(pattern)
    assert info.value.message == message
    assert info.value.position == position


def test_error_description_has_a_caret() -> None:
    with pytest.raises(GlobError) as info:
        parse_glob("http://x/[1-")
    assert info.value.describe("http://x/[1-") == (
        "bad range in URL position 13:\nhttp://x/[1-\n            ^"
    )


def test_output_name_from_glob_values() -> None:
    values = tuple(e.values for e in expand(parse_glob("h://x/{a,b}/[1-2]")))
    assert [fill_output_name("f_#1_#2.txt", v) for v in values] == [
        "f_a_1.txt",
        "f_a_2.txt",
        "f_b_1.txt",
        "f_b_2.txt",
    ]
    # A '#' that names no pattern stays.
    assert fill_output_name("#3#x#", ("a",)) == "#3#x#"


def test_range_must_start_with_a_letter_or_digit() -> None:
    # src/tool_urlglob.c glob_range(): curl's message and the position after the '['.
    with pytest.raises(GlobError) as info:
        parse_glob("http://[::1/")
    assert info.value.describe("http://[::1/") == (
        "bad range specification in URL position 9:\nhttp://[::1/\n" + " " * 8 + "^"
    )


def test_empty_brackets_are_literal() -> None:
    assert [e.url for e in expand(parse_glob("http://h/a[]b"))] == ["http://h/a[]b"]
