"""What a batch fetches: `UrlRequest`s read from a file or an iterable, named and de-duplicated.

Theory of operation
-------------------
A URL list is plain lines (one URL each; blank lines and `#` comments skipped) or JSON lines
(`{"url": ..., "method": ..., "headers": ..., "body": ..., "output": ...}`), mixed freely. Each
request gets an *output name*: the path of its body in the sink and its identity in the
manifest. An explicit `output` is used as given (checked: relative, no `..`, not one of the
names the batch keeps for itself); otherwise the name is `<host>/<digest>`, the digest being
the SHA-256 of method, URL and body, so the same request always gets the same name and a rerun
recognises it. Two identical requests are one; two different requests naming the same output
are an error.

`host_key` is what politeness limits count by: host name and port, as libcurl's
`CURLMOPT_MAX_HOST_CONNECTIONS` does ("a host being the same as a host name + port number
pair").
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import posixpath
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "RESERVED_NAMES",
    "InputError",
    "UrlRequest",
    "check_output",
    "host_key",
    "load_requests",
    "make_request",
    "parse_line",
]

# Names in the sink the batch writes itself: no request may take them as its output.
RESERVED_NAMES = ("manifest.jsonl", "manifest.parquet", ".batch")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_METHODS_WITHOUT_BODY = frozenset({"HEAD"})
_SPACE = re.compile(r"\s")


class InputError(ValueError):
    """A URL list entry that cannot be fetched as written; the message says where and why."""


@dataclass(frozen=True)
class UrlRequest:
    """One transfer of a batch. `headers` are `Name: value` lines; `body` None sends none."""

    url: str
    output: str
    method: str = "GET"
    headers: tuple[str, ...] = ()
    body: bytes | None = None

    @functools.cached_property
    def host(self) -> str:
        """The politeness key of the URL (see `host_key`)."""
        return host_key(self.url)

    def to_json(self) -> dict[str, Any]:
        """A JSON-lines form `parse_line` reads back to the same request."""
        data: dict[str, Any] = {"url": self.url, "output": self.output}
        if self.method != "GET":
            data["method"] = self.method
        if self.headers:
            data["headers"] = list(self.headers)
        if self.body is not None:
            data["body"] = self.body.decode("latin-1")
            data["body_encoding"] = "latin-1"
        return data


def host_key(url: str) -> str:
    """Return `host:port` of `url` (the scheme's default port when none is given; `file:` URLs
    share the key `file:`). Raises InputError for a URL with a bad port."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        return "file:"
    try:
        port = parts.port
    except ValueError as exc:
        raise InputError(f"{url!r}: {exc}") from None
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{host}:{port or _DEFAULT_PORTS.get(scheme, 0)}"


def _with_scheme(url: str) -> str:
    # curl guesses http:// for a URL without a scheme; so does a URL list.
    if "://" in url.split("?", 1)[0]:
        return url
    return "http://" + url


def _default_output(method: str, url: str, body: bytes | None, host: str) -> str:
    digest = hashlib.sha256(f"{method} {url}\n".encode())
    if body is not None:
        digest.update(body)
    directory = host.replace(":", "_").replace("[", "").replace("]", "") or "_"
    return f"{directory}/{digest.hexdigest()[:32]}"


def check_output(name: str) -> str:
    """Return `name` normalised; raise InputError unless it is a plain relative path that does
    not collide with the batch's own files."""
    if not name or "\0" in name or "\\" in name:
        raise InputError(f"output {name!r}: not a usable file name")
    if name.startswith("/"):
        raise InputError(f"output {name!r}: must be a relative path")
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise InputError(f"output {name!r}: empty, '.' and '..' path segments are not allowed")
    normal = posixpath.normpath(name)
    if normal in RESERVED_NAMES or parts[0] == ".batch":
        raise InputError(f"output {name!r}: the name is reserved for the batch's own files")
    return normal


def _headers(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    lines: list[str] = []
    if isinstance(value, Mapping):
        items: Iterable[Any] = [f"{k}: {v}" for k, v in value.items()]
    elif isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        items = value
    else:
        raise InputError(f"{where}: headers must be an object or a list")
    for item in items:
        if isinstance(item, str):
            line = item
        elif (
            isinstance(item, Sequence) and len(item) == 2 and all(isinstance(x, str) for x in item)
        ):
            line = f"{item[0]}: {item[1]}"
        else:
            raise InputError(f"{where}: header {item!r} is not 'Name: value' or [name, value]")
        if "\r" in line or "\n" in line:
            raise InputError(f"{where}: header {line!r} contains a line break")
        lines.append(line)
    return tuple(lines)


def make_request(
    url: str,
    *,
    method: str = "GET",
    headers: Any = None,
    body: str | bytes | None = None,
    output: str | None = None,
    where: str = "",
) -> UrlRequest:
    """Return a checked `UrlRequest`. `where` prefixes error messages (`file:line`).

    Raises InputError for an empty or unusable URL, a bad method, headers or output name.
    """
    label = where or repr(url)
    if not isinstance(url, str) or not url.strip():
        raise InputError(f"{label}: no URL")
    url = _with_scheme(url.strip())
    if _SPACE.search(url):
        raise InputError(f"{label}: the URL contains white space: {url!r}")
    if not isinstance(method, str) or not method or not method.isascii() or " " in method:
        raise InputError(f"{label}: bad method {method!r}")
    method = method.upper()
    raw: bytes | None
    if body is None:
        raw = None
    elif isinstance(body, bytes):
        raw = body
    elif isinstance(body, str):
        raw = body.encode("utf-8")
    else:
        raise InputError(f"{label}: body must be a string")
    if raw is not None and method in _METHODS_WITHOUT_BODY:
        raise InputError(f"{label}: a {method} request cannot carry a body")
    try:
        host = host_key(url)
    except InputError as exc:
        raise InputError(f"{label}: {exc}") from None
    if output is None:
        name = _default_output(method, url, raw, host)
    else:
        if not isinstance(output, str):
            raise InputError(f"{label}: output must be a string")
        try:
            name = check_output(output)
        except InputError as exc:
            raise InputError(f"{label}: {exc}") from None
    return UrlRequest(url, name, method, _headers(headers, label), raw)


def _from_mapping(data: Mapping[str, Any], where: str) -> UrlRequest:
    unknown = set(data) - {"url", "method", "headers", "body", "body_encoding", "output"}
    if unknown:
        raise InputError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    body = data.get("body")
    encoding = data.get("body_encoding", "utf-8")
    if isinstance(body, str) and encoding != "utf-8":
        try:
            body = body.encode(encoding)
        except (LookupError, UnicodeEncodeError) as exc:
            raise InputError(f"{where}: body: {exc}") from None
    return make_request(
        data.get("url", ""),
        method=data.get("method", "GET"),
        headers=data.get("headers"),
        body=body,
        output=data.get("output"),
        where=where,
    )


def parse_line(line: str, where: str = "") -> UrlRequest | None:
    """One line of a URL list: a URL, a JSON object, or None for a blank line or a comment.

    Raises InputError (prefixed with `where`) for invalid JSON or an unusable request.
    """
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InputError(f"{where}: invalid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise InputError(f"{where}: a JSON line must be an object")
        return _from_mapping(data, where)
    return make_request(text, where=where)


def _iter_file(path: str) -> Iterator[UrlRequest]:
    if path == "-":
        stream = sys.stdin
        for number, line in enumerate(stream, 1):
            request = parse_line(line, f"<stdin>:{number}")
            if request is not None:
                yield request
        return
    try:
        f = open(path, encoding="utf-8")  # noqa: SIM115 -- closed below, generator
    except OSError as exc:
        raise InputError(f"cannot read the URL list {path}: {exc.strerror}") from None
    with f:
        try:
            for number, line in enumerate(f, 1):
                request = parse_line(line, f"{path}:{number}")
                if request is not None:
                    yield request
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not UTF-8 text: {exc}") from None


def _iter_items(items: Iterable[Any]) -> Iterator[UrlRequest]:
    for number, item in enumerate(items, 1):
        where = f"item {number}"
        if isinstance(item, UrlRequest):
            yield item
        elif isinstance(item, str):
            request = parse_line(item, where)
            if request is not None:
                yield request
        elif isinstance(item, Mapping):
            yield _from_mapping(item, where)
        else:
            raise InputError(f"{where}: expected a URL string, a mapping or a UrlRequest")


def load_requests(source: str | os.PathLike[str] | Iterable[Any]) -> list[UrlRequest]:
    """Read every request of `source`, de-duplicated, in input order.

    `source` is a path (str or PathLike; "-" is stdin) of a URL list, or an iterable of URL
    strings, JSON-like mappings or `UrlRequest`s. Raises InputError for an unreadable file, a
    bad entry, or two different requests naming the same output.
    """
    if isinstance(source, (str, os.PathLike)):
        found: Iterable[UrlRequest] = _iter_file(os.fspath(source))
    else:
        found = _iter_items(source)
    by_output: dict[str, UrlRequest] = {}
    for request in found:
        seen = by_output.get(request.output)
        if seen is None:
            by_output[request.output] = request
        elif seen != request:
            raise InputError(
                f"two different requests name the output {request.output!r}: "
                f"{seen.method} {seen.url} and {request.method} {request.url}"
            )
    return list(by_output.values())
