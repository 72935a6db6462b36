"""`--variable` and `--expand-<option>`: curl 8.3's command-line variables (src/var.c,
docs/cmdline-opts/variable.md), without a transfer."""

from __future__ import annotations

import pytest

from purecurl.cli.args import UsageError, join_data, parse_args
from purecurl.cli.variables import VariableError, VariableIssue, expand, set_variable


def setvar(spec: str, env: dict[str, str] | None = None, **files: bytes) -> dict[str, bytes]:
    variables: dict[str, bytes] = {}
    issues = set_variable(variables, spec, environ=env or {}, read=lambda p: files[p])
    assert issues == []
    return variables


@pytest.mark.parametrize(
    ("spec", "value"),
    [
        ("a=hello", b"hello"),
        ("a=", b""),
        ("a=x=y", b"x=y"),
        ("a_Z9=v", b"v"),
        # curl 8.12's byte ranges: [N-M] inclusive, [N-] to the end
        ("a[1-3]=abcdef", b"bcd"),
        ("a[2-]=abcdef", b"cdef"),
        ("a[2-9]=abcdef", b"cdef"),
        ("a[9-10]=abcdef", b""),
        ("a[0-0]=abcdef", b"a"),
    ],
)
def test_set_from_text(spec: str, value: bytes) -> None:
    assert list(setvar(spec).values()) == [value]


def test_set_from_file_keeps_bytes() -> None:
    assert setvar("a@f", f=b"\x00\xff\r\n") == {"a": b"\x00\xff\r\n"}
    assert setvar("a[1-2]@f", f=b"file") == {"a": b"il"}


def test_import_from_the_environment() -> None:
    assert setvar("%HOME", {"HOME": "/h"}) == {"HOME": b"/h"}
    # The environment's value wins over a default, and is taken whole.
    assert setvar("%HOME=def", {"HOME": "/h"}) == {"HOME": b"/h"}
    assert setvar("%HOME[1-2]=zzzz", {"HOME": "/home"}) == {"HOME": b"/home"}
    assert setvar("%NOPE=def") == {"NOPE": b"def"}
    assert setvar("%NOPE[1-2]=zzzz") == {"NOPE": b"zz"}
    with pytest.raises(VariableError) as info:
        setvar("%NOPE")
    assert info.value.message == "Variable 'NOPE' import fail, not set"
    assert (info.value.reason, info.value.code) == ("variable expansion failure", 2)


@pytest.mark.parametrize(
    ("spec", "warning"),
    [
        ("a", "Bad --variable syntax, skipping: a"),
        ("a b=1", "Bad --variable syntax, skipping: a b=1"),
        ("a[x]=abc", "Bad --variable syntax, skipping: a[x]=abc"),
        ("a[1-2]x=abc", "Bad --variable syntax, skipping: a[1-2]x=abc"),
        ("=1", "Bad variable name length (0), skipping"),
        ("%", "Bad variable name length (0), skipping"),
        ("x" * 128 + "=1", "Bad variable name length (128), skipping"),
    ],
)
def test_bad_syntax_is_skipped_with_a_warning(spec: str, warning: str) -> None:
    variables: dict[str, bytes] = {}
    assert set_variable(variables, spec, environ={}) == [VariableIssue("warning", warning)]
    assert variables == {}


@pytest.mark.parametrize(
    "spec", ["a[2]=x", "a[3-1]=x", "a[1-x]=x", "a[1", "a[1-99999999999999999999]=x"]
)
def test_bad_range_is_an_error(spec: str) -> None:
    with pytest.raises(VariableError) as info:
        set_variable({}, spec, environ={})
    assert info.value.reason == "syntax error in --variable argument"


def test_unreadable_file_is_a_read_error() -> None:
    def missing(path: str) -> bytes:
        raise FileNotFoundError(2, "No such file or directory")

    with pytest.raises(VariableError) as info:
        set_variable({}, "a@gone.txt", environ={}, read=missing)
    assert info.value.message == "Failed to open gone.txt: No such file or directory"
    assert (info.value.reason, info.value.code) == ("error encountered when reading a file", 26)


def test_setting_again_overwrites_with_a_note() -> None:
    variables = {"a": b"1"}
    assert set_variable(variables, "a=2", environ={}) == [
        VariableIssue("note", "Overwriting variable 'a'")
    ]
    assert variables == {"a": b"2"}


VARS = {"name": b'  Joe "Q" Public\n', "empty": b"", "n": b"42", "enc": b"aGk="}


@pytest.mark.parametrize(
    ("text", "expanded"),
    [
        ("{{n}}", "42"),
        ("a{{n}}b{{n}}c", "a42b42c"),
        ("[{{unset}}]", "[]"),
        ("{{name:trim}}", 'Joe "Q" Public'),
        ("{{name:trim:json}}", 'Joe \\"Q\\" Public'),
        ("{{name:trim:url}}", "Joe%20%22Q%22%20Public"),
        ("{{n:b64}}", "NDI="),
        ("{{enc:64dec}}", "hi"),
        ("{{n:64dec}}", "[64dec-fail]"),
        ("{{empty:b64}}", ""),
        # A backslash keeps "{{" as it is; the rest still expands.
        ("\\{{n}} {{n}}", "{{n}} 42"),
    ],
)
def test_expand(text: str, expanded: str) -> None:
    assert expand(text, VARS) == (expanded, [])


def test_nothing_expanded_leaves_the_argument_as_given() -> None:
    # Even the backslash of "\{{" stays when no variable was expanded (src/var.c).
    assert expand("\\{{n}}", VARS) == (None, [])
    assert expand("plain", VARS) == (None, [])


def test_expand_warnings() -> None:
    assert expand("{{n}} {{x", VARS) == (
        "42 {{x",
        [VariableIssue("warning", "missing close '}}' in '{{n}} {{x'")],
    )
    assert expand("{{a-b}}{{n}}", VARS) == (
        "{{a-b}}42",
        [VariableIssue("warning", "bad variable name: a-b")],
    )
    assert expand("{{}}", VARS) == (
        None,
        [VariableIssue("warning", "bad variable name length '{{}}'")],
    )


def test_expand_errors() -> None:
    with pytest.raises(VariableError) as info:
        expand("{{n:upper}}", VARS)
    assert info.value.message == "unknown variable function in ':upper'"
    with pytest.raises(VariableError) as info:
        expand("{{z}}", {"z": b"a\0b"})
    assert info.value.message == "variable contains null byte"


def test_expand_prefix_on_the_command_line() -> None:
    g = parse_args(
        ["--variable", "host=example.com", "--expand-url", "https://{{host}}/",
         "--expand-data", "q={{host:url}}", "-d", "{{host}}"]
    )  # fmt: skip
    assert g.op.nodes[0].url == "https://example.com/"
    # Only --expand- options expand: plain -d keeps the braces.
    assert join_data(g.op.data) == b"q=example.com&{{host}}"


def test_expand_of_binary_content_reaches_the_body_intact() -> None:
    # Bytes that are not UTF-8 travel through the str argument by surrogateescape.
    g = parse_args(["--variable", "b=\udcff\udcfe", "--expand-data-binary", "{{b}}", "u"])
    assert join_data(g.op.data) == b"\xff\xfe"


def test_expand_errors_are_usage_errors() -> None:
    with pytest.raises(UsageError) as info:
        parse_args(["--variable", "%PURECURL_SURELY_UNSET", "u"])
    assert info.value.message == "option --variable: variable expansion failure"
    assert info.value.code == 2
    with pytest.raises(UsageError) as info:
        parse_args(["--variable", "a=1", "--expand-data", "{{a:nope}}", "u"])
    assert info.value.message == "option --expand-data: variable expansion failure"
    with pytest.raises(UsageError) as info:
        parse_args(["--expand-nope", "x"])
    assert info.value.message == "option --expand-nope: is unknown"
