"""`--variable` and the `--expand-` option prefix: curl 8.3's command-line variables.

Theory of operation: variables live in a dict of name -> bytes on the global config (curl's
are global too: they cross `--next`). `set_variable` parses one `--variable` argument
(`name=text`, `name@file`, `%ENV`, `%ENV=default`, `%ENV@file`, and curl 8.12's byte range
`name[N-M]=...`); `expand` replaces `{{name}}` and `{{name:func:func}}` in an option's argument
when the option was written `--expand-<option>`. Both follow src/var.c and
docs/cmdline-opts/variable.md: an unknown variable expands to nothing, `\\{{` is a literal
`{{`, the functions are `trim`, `json`, `url`, `b64` and `64dec`, applied left to right, and an
argument with nothing expanded in it is used exactly as given.

Nothing here prints: problems come back as `VariableIssue`s (curl's warnings, shown unless
`-s`) or raise `VariableError` (curl's errors, which end the command line). Values are bytes
(a variable may hold a file's binary content); an expanded argument is turned back into `str`
with `os.fsdecode`, which the data options undo with `os.fsencode`, so bytes survive.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import quote

MAX_NAME_LEN = 128  # src/var.c MAX_VAR_LEN: names are shorter than this
_NAME = re.compile(rb"[A-Za-z0-9_]*")
_RANGE = re.compile(rb"\[(\d+)(?:-(\d*))?\]")
# curl_off_t's largest value: a range offset past it is a syntax error (curl 8.12's str2num)
_OFF_T_MAX = (1 << 63) - 1


class VariableError(Exception):
    """A `--variable` or expansion failure that ends the command line.

    `message` is curl's error line (printed unless -s), `reason` the text that follows
    "option --x: " in curl's usage line, and `code` the exit status (26 for a file that cannot
    be read, 2 otherwise).
    """

    def __init__(self, message: str | None, reason: str, code: int = 2) -> None:
        super().__init__(message or reason)
        self.message = message
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class VariableIssue:
    """Something curl reports and goes on: `kind` is "warning" (hidden by -s) or "note"
    (shown only when tracing, as curl's notef)."""

    kind: str
    text: str


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as f:
        return f.read()


def set_variable(
    variables: dict[str, bytes],
    spec: str,
    *,
    environ: Mapping[str, str] | None = None,
    read: Callable[[str], bytes] = _read,
) -> list[VariableIssue]:
    """Apply one `--variable` argument to `variables`; return what curl would warn about.

    Raises VariableError for an unset `%ENV` without a default, an unreadable file, or a
    malformed byte range.
    """
    env = os.environ if environ is None else environ
    raw = os.fsencode(spec)
    pos = 0
    imported = raw.startswith(b"%")
    if imported:
        pos = 1
    match = _NAME.match(raw, pos)
    assert match is not None  # the pattern matches the empty string
    name = match.group().decode("ascii")
    pos = match.end()
    if not name or len(name) >= MAX_NAME_LEN:
        return [VariableIssue("warning", f"Bad variable name length ({len(name)}), skipping")]
    start, end = 0, None
    if raw[pos : pos + 1] == b"[":
        # curl 8.12: `name[N-M]` keeps bytes N..M (inclusive) of the content, `[N-]` from N on.
        rng = _RANGE.match(raw, pos)
        if rng is None or rng.group(2) is None:
            if rng is None and not re.match(rb"\[\d", raw[pos:]):
                return [VariableIssue("warning", f"Bad --variable syntax, skipping: {spec}")]
            raise VariableError(None, "syntax error in --variable argument")
        start = int(rng.group(1))
        end = int(rng.group(2)) if rng.group(2) else None
        if start > _OFF_T_MAX or (end is not None and (end > _OFF_T_MAX or end < start)):
            raise VariableError(None, "syntax error in --variable argument")
        pos = rng.end()
    content: bytes | None = None
    rest = raw[pos:]
    if imported:
        value = env.get(name)
        if value is None and not rest:
            raise VariableError(
                f"Variable '{name}' import fail, not set", "variable expansion failure"
            )
        if value is not None:
            # An imported variable takes the environment's value whole: no default, no range.
            return _store(variables, name, os.fsencode(value))
    if rest.startswith(b"@"):
        path = os.fsdecode(rest[1:])
        try:
            content = read(path)
        except OSError as exc:
            reason = exc.strerror or "Invalid argument"
            raise VariableError(
                f"Failed to open {path}: {reason}", "error encountered when reading a file", 26
            ) from None
    elif rest.startswith(b"="):
        content = rest[1:]
    else:
        return [VariableIssue("warning", f"Bad --variable syntax, skipping: {spec}")]
    content = content[start : None if end is None else end + 1]
    return _store(variables, name, content)


def _store(variables: dict[str, bytes], name: str, content: bytes) -> list[VariableIssue]:
    issues = []
    if name in variables:
        issues.append(VariableIssue("note", f"Overwriting variable '{name}'"))
    variables[name] = content
    return issues


# -- expansion ------------------------------------------------------------------------------

_SPACE = b" \t\n\v\f\r"


def _json_quoted(value: bytes) -> bytes:
    # curl's jsonquoted(): the string's inside, without the surrounding quotes.
    text = json.dumps(value.decode("utf-8", "surrogateescape"), ensure_ascii=False)[1:-1]
    return text.encode("utf-8", "surrogateescape")


def _b64dec(value: bytes) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        # docs/cmdline-opts/variable.md: a sequence that cannot be decoded expands to this.
        return b"[64dec-fail]"


_FUNCTIONS: dict[str, Callable[[bytes], bytes]] = {
    "trim": lambda v: v.strip(_SPACE),
    "json": _json_quoted,
    # curl_easy_escape: everything but the unreserved characters as %HH.
    "url": lambda v: quote(v, safe="-._~").encode("ascii"),
    "b64": base64.b64encode,
    "64dec": _b64dec,
}


def expand(text: str, variables: Mapping[str, bytes]) -> tuple[str | None, list[VariableIssue]]:
    """Expand `{{...}}` in `text` (an `--expand-` option's argument).

    Returns (the new argument or None when nothing was expanded, the warnings). Raises
    VariableError for an unknown function or a value holding a NUL byte.
    """
    line = os.fsencode(text)
    out = bytearray()
    issues: list[VariableIssue] = []
    added = False
    pos = 0
    while True:
        at = line.find(b"{{", pos)
        if at < 0:
            break
        if at > pos and line[at - 1 : at] == b"\\":
            # `\{{` stands for `{{` itself.
            out += line[pos : at - 1] + b"{{"
            pos = at + 2
            continue
        close = line.find(b"}}", at)
        if close < 0:
            issues.append(VariableIssue("warning", f"missing close '}}}}' in '{text}'"))
            break
        inner = line[at + 2 : close]
        name, colon, funcs = inner.partition(b":")
        if not name or len(name) >= MAX_NAME_LEN:
            issues.append(VariableIssue("warning", f"bad variable name length '{text}'"))
            out += line[pos : close + 2]
        elif _NAME.fullmatch(name) is None:
            issues.append(VariableIssue("warning", f"bad variable name: {os.fsdecode(name)}"))
            out += line[pos : close + 2]
        else:
            out += line[pos:at]
            value = variables.get(name.decode("ascii"), b"")
            if colon:
                for func in funcs.split(b":"):
                    apply = _FUNCTIONS.get(func.decode("latin-1"))
                    if apply is None:
                        raise VariableError(
                            f"unknown variable function in ':{os.fsdecode(funcs)}'",
                            "variable expansion failure",
                        )
                    value = apply(value)
            if b"\0" in value:
                raise VariableError("variable contains null byte", "variable expansion failure")
            out += value
            added = True
        pos = close + 2
    if not added:
        return None, issues
    out += line[pos:]
    return os.fsdecode(bytes(out)), issues
