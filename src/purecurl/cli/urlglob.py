"""URL globbing: `{a,b}` sets and `[1-100]`, `[001-100]`, `[a-z:2]` ranges, as curl expands them.

Theory of operation: `parse_glob` splits a URL into literal text and patterns (a pattern is the
list of strings it stands for), and `expand` walks the cartesian product with the rightmost
pattern changing fastest, as curl does. Each expansion carries the strings its patterns took,
so `-o "file_#1.txt"` can name the output (`fill_output_name`). A backslash makes the next
`{`, `}`, `[` or `]` literal; a bracket holding an IPv6 address (`http://[::1]/`) is literal too.
Errors are `GlobError(message, position)`; curl prints them as `(3) <message> in URL position
<n>:` followed by the URL and a caret (docs/cmdline-opts/globoff.md, src/tool_urlglob.c).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

# curl refuses globs that would expand to more URLs than this (a typo like [1-1000000000]).
MAX_URLS = 10_000_000

_IPV6 = re.compile(r"\[[0-9a-fA-F:.]*:[0-9a-fA-F:.]*(%25[^\]]+|%[^\]]+)?\]")


class GlobError(ValueError):
    """A URL whose glob pattern cannot be parsed; `position` is 1-based, as curl reports it."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position

    def describe(self, url: str) -> str:
        """curl's three lines: the message with the position, the URL, a caret under it."""
        caret = " " * (self.position - 1) + "^"
        return f"{self.message} in URL position {self.position}:\n{url}\n{caret}"


@dataclass(frozen=True)
class Glob:
    """A parsed URL: literal pieces (str) and patterns (tuple of the strings each stands for)."""

    parts: tuple[str | tuple[str, ...], ...]

    @property
    def patterns(self) -> list[tuple[str, ...]]:
        return [p for p in self.parts if isinstance(p, tuple)]

    def count(self) -> int:
        """How many URLs the glob expands to."""
        n = 1
        for p in self.patterns:
            n *= len(p)
        return n


@dataclass(frozen=True)
class Expansion:
    """One URL of a glob and the string each pattern took (for `#1`, `#2` ... in -o)."""

    url: str
    values: tuple[str, ...]


def _range_items(body: str, start: int) -> tuple[str, ...]:
    """The strings `[body]` stands for; GlobError at `start` (position of '[') when invalid."""
    spec, colon, step_text = body.partition(":")
    step = 1
    if colon:
        if not step_text.isdigit() or int(step_text) < 1:
            raise GlobError("bad range", start + len(spec) + 2)
        step = int(step_text)
    low, dash, high = spec.partition("-")
    if not dash:
        raise GlobError("bad range", start + 1)
    if len(low) == 1 and len(high) == 1 and low.isalpha() and high.isalpha():
        if low > high or low.islower() != high.islower():
            raise GlobError("bad range", start + 1)
        return tuple(chr(c) for c in range(ord(low), ord(high) + 1, step))
    if low.isdigit() and high.isdigit():
        lo, hi = int(low), int(high)
        if lo > hi:
            raise GlobError("bad range", start + 1)
        # A leading zero in the first number pads every number to its width.
        width = len(low) if low.startswith("0") and len(low) > 1 else 0
        return tuple(str(n).zfill(width) for n in range(lo, hi + 1, step))
    raise GlobError("bad range", start + 1)


def parse_glob(url: str) -> Glob:
    """Parse `url`'s patterns. Raises GlobError (curl's `(3)` messages) on a broken one."""
    parts: list[str | tuple[str, ...]] = []
    literal: list[str] = []
    i = 0
    n = len(url)
    while i < n:
        ch = url[i]
        if ch == "\\" and i + 1 < n and url[i + 1] in "{}[]":
            literal.append(url[i + 1])
            i += 2
            continue
        if ch == "[":
            m = _IPV6.match(url, i)
            if m is not None:
                literal.append(m.group(0))
                i = m.end()
                continue
            if url[i + 1 : i + 2] == "]":
                # "[]" is no range: curl keeps it as it is (src/tool_urlglob.c glob_parse()).
                literal.append("[]")
                i += 2
                continue
            if not url[i + 1 : i + 2].isalnum() or not url[i + 1].isascii():
                # src/tool_urlglob.c glob_range(): a range starts with a letter or a digit.
                raise GlobError("bad range specification", i + 2)
            end = url.find("]", i + 1)
            if end < 0:
                raise GlobError("bad range", n + 1)
            parts.append("".join(literal))
            literal.clear()
            parts.append(_range_items(url[i + 1 : end], i + 1))
            i = end + 1
            continue
        if ch == "{":
            items: list[str] = []
            cur: list[str] = []
            j = i + 1
            while True:
                if j >= n:
                    raise GlobError("unmatched brace", i + 1)
                c = url[j]
                if c == "\\" and j + 1 < n:
                    cur.append(url[j + 1])
                    j += 2
                    continue
                if c in "{[":
                    raise GlobError("nested brace", j + 1)
                if c == ",":
                    items.append("".join(cur))
                    cur.clear()
                elif c == "}":
                    items.append("".join(cur))
                    break
                else:
                    cur.append(c)
                j += 1
            parts.append("".join(literal))
            literal.clear()
            parts.append(tuple(items))
            i = j + 1
            continue
        if ch in "]}":
            raise GlobError("unmatched close brace/bracket", i + 1)
        literal.append(ch)
        i += 1
    parts.append("".join(literal))
    glob = Glob(tuple(p for p in parts if p != ""))
    if glob.count() > MAX_URLS:
        raise GlobError("too many URLs in glob", 1)
    return glob


def literal_glob(url: str) -> Glob:
    """A Glob that stands for `url` only (`-g/--globoff`)."""
    return Glob((url,))


def expand(glob: Glob) -> Iterator[Expansion]:
    """Yield every URL of `glob`, the rightmost pattern changing fastest."""
    patterns = glob.patterns
    for combo in itertools.product(*patterns):
        values = iter(combo)
        pieces = [p if isinstance(p, str) else next(values) for p in glob.parts]
        yield Expansion("".join(pieces), tuple(combo))


def fill_output_name(template: str, values: tuple[str, ...]) -> str:
    """Replace `#N` in an output file name with what pattern N took (1-based).

    A `#` not followed by the number of an existing pattern stays as it is.
    """
    out: list[str] = []
    i = 0
    while i < len(template):
        ch = template[i]
        if ch == "#":
            m = re.match(r"\d+", template[i + 1 :])
            if m is not None:
                index = int(m.group(0))
                if 1 <= index <= len(values):
                    out.append(values[index - 1])
                    i += 1 + len(m.group(0))
                    continue
        out.append(ch)
        i += 1
    return "".join(out)
