"""`-w/--write-out`: curl's `%{variable}` format, filled in from one finished transfer.

Theory of operation: the runner collects a transfer's facts once into a `WriteoutData` (every
variable's value, in curl's types, plus the response headers); `render` then walks the format
and returns the pieces of text with where each goes (`%{stdout}`, `%{stderr}`, `%output{file}`
switch the target; `%{onerror}` stops the rest on success). Nothing here does I/O, so the
formatting is tested on its own. Formats follow curl's docs (docs/cmdline-opts/write-out.md):
times are seconds with six decimals, sizes and speeds integers, `http_code` three digits,
`%{json}` an object of every variable, `%{header_json}` the response headers with lower-case
names and array values, `%header{name}` one header's value.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import purecurl as pycurl
from purecurl import _version

# Value kinds: how a variable is printed in text and in JSON.
STR, INT, TIME, CODE, VERSION = "str", "int", "time", "code", "version"


@dataclass
class WriteoutData:
    """Everything `-w` can print for one transfer: variable name -> value, and the headers."""

    values: dict[str, Any] = field(default_factory=dict)
    # The response header lines of the last response, as (name, value) in arrival order.
    headers: list[tuple[str, str]] = field(default_factory=list)


def _info(name: str) -> Callable[[Any], Any]:
    number = getattr(pycurl, name)

    def get(curl: Any) -> Any:
        return curl.getinfo(number)

    return get


def _secs_from_us(name: str) -> Callable[[Any], Any]:
    number = getattr(pycurl, name)

    def get(curl: Any) -> float:
        return float(curl.getinfo(number)) / 1_000_000

    return get


def _http_version(curl: Any) -> str:
    return {
        pycurl.CURL_HTTP_VERSION_1_0: "1.0",
        pycurl.CURL_HTTP_VERSION_1_1: "1.1",
        pycurl.CURL_HTTP_VERSION_2_0: "2",
        pycurl.CURL_HTTP_VERSION_3: "3",
    }.get(curl.getinfo(pycurl.INFO_HTTP_VERSION), "0")


# name -> (kind, getter from the handle). Variables the runner supplies (exitcode, errormsg,
# url, urlnum, filename_effective, num_headers, num_retries) are filled in by it.
_FROM_HANDLE: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "content_type": (STR, _info("CONTENT_TYPE")),
    "http_code": (CODE, _info("RESPONSE_CODE")),
    "http_connect": (CODE, _info("HTTP_CONNECTCODE")),
    "http_version": (VERSION, _http_version),
    "local_ip": (STR, _info("LOCAL_IP")),
    "local_port": (INT, _info("LOCAL_PORT")),
    "method": (STR, _info("EFFECTIVE_METHOD")),
    "num_connects": (INT, _info("NUM_CONNECTS")),
    "num_redirects": (INT, _info("REDIRECT_COUNT")),
    "proxy_ssl_verify_result": (INT, _info("PROXY_SSL_VERIFYRESULT")),
    "proxy_used": (INT, _info("USED_PROXY")),
    "redirect_url": (STR, _info("REDIRECT_URL")),
    "referer": (STR, _info("REFERER")),
    "remote_ip": (STR, _info("PRIMARY_IP")),
    "remote_port": (INT, _info("PRIMARY_PORT")),
    "response_code": (CODE, _info("RESPONSE_CODE")),
    "scheme": (STR, _info("SCHEME")),
    "size_download": (INT, _info("SIZE_DOWNLOAD_T")),
    "size_header": (INT, _info("HEADER_SIZE")),
    "size_request": (INT, _info("REQUEST_SIZE")),
    "size_upload": (INT, _info("SIZE_UPLOAD_T")),
    "speed_download": (INT, _info("SPEED_DOWNLOAD_T")),
    "speed_upload": (INT, _info("SPEED_UPLOAD_T")),
    "ssl_verify_result": (INT, _info("SSL_VERIFYRESULT")),
    "time_appconnect": (TIME, _secs_from_us("APPCONNECT_TIME_T")),
    "time_connect": (TIME, _secs_from_us("CONNECT_TIME_T")),
    "time_namelookup": (TIME, _secs_from_us("NAMELOOKUP_TIME_T")),
    "time_pretransfer": (TIME, _secs_from_us("PRETRANSFER_TIME_T")),
    "time_redirect": (TIME, _secs_from_us("REDIRECT_TIME_T")),
    "time_starttransfer": (TIME, _secs_from_us("STARTTRANSFER_TIME_T")),
    "time_total": (TIME, _secs_from_us("TOTAL_TIME_T")),
    "url_effective": (STR, _info("EFFECTIVE_URL")),
}

KINDS: dict[str, str] = {name: kind for name, (kind, _) in _FROM_HANDLE.items()}
KINDS.update(
    {
        "certs": STR,
        "errormsg": STR,
        "exitcode": INT,
        "filename_effective": STR,
        "num_certs": INT,
        "num_headers": INT,
        "num_retries": INT,
        "url": STR,
        "urlnum": INT,
    }
)


def collect(
    curl: Any,
    *,
    exitcode: int,
    errormsg: str | None,
    url: str,
    urlnum: int,
    filename: str | None,
    headers: list[tuple[str, str]],
    num_retries: int = 0,
) -> WriteoutData:
    """Read every variable of a finished transfer from its handle and the runner's facts."""
    values: dict[str, Any] = {}
    for name, (_kind, get) in _FROM_HANDLE.items():
        try:
            values[name] = get(curl)
        except Exception:  # an info this engine does not keep: curl prints its zero value
            values[name] = None
    values.update(
        certs="",
        errormsg=errormsg if exitcode else None,
        exitcode=exitcode,
        filename_effective=filename,
        num_certs=0,
        num_headers=len(headers),
        num_retries=num_retries,
        url=url,
        urlnum=urlnum,
    )
    return WriteoutData(values, list(headers))


def _text(kind: str, value: Any) -> str:
    if kind == TIME:
        return f"{float(value or 0):.6f}"
    if kind == CODE:
        return f"{int(value or 0):03d}"
    if kind == INT:
        return str(int(value or 0))
    return "" if value is None else str(value)


def _json_value(kind: str, value: Any) -> str:
    if kind == TIME:
        return f"{float(value or 0):.6f}"
    if kind in (INT, CODE):
        return str(int(value or 0))
    if value is None:
        return "null"
    return json.dumps(str(value), ensure_ascii=False)


def json_object(data: WriteoutData) -> str:
    """`%{json}`: every variable in name order, then curl_version."""
    items = [
        f"{json.dumps(name)}:{_json_value(KINDS[name], data.values.get(name))}"
        for name in sorted(KINDS)
    ]
    items.append(f'"curl_version":{json.dumps(_version.VERSION)}')
    return "{" + ",".join(items) + "}"


def header_json(headers: list[tuple[str, str]]) -> str:
    """`%{header_json}`: lower-case names in order of first appearance, values as arrays."""
    grouped: dict[str, list[str]] = {}
    for name, value in headers:
        grouped.setdefault(name.lower(), []).append(value)
    if not grouped:
        return "{}"
    body = ",\n".join(
        f"{json.dumps(name)}:{json.dumps(values, ensure_ascii=False, separators=(',', ':'))}"
        for name, values in grouped.items()
    )
    return "{" + body + "\n}"


def header_value(headers: list[tuple[str, str]], name: str) -> str | None:
    """`%header{name}`: the values of `name` (case-insensitive) joined by ", ", or None."""
    found = [v for k, v in headers if k.lower() == name.lower()]
    return ", ".join(found) if found else None


# Where rendered text goes: "stdout", "stderr", or ("file", path, append).
Target = Any


def render(
    fmt: str, data: WriteoutData, warn: Callable[[str], None] | None = None
) -> list[tuple[Target, str]]:
    """Return [(target, text)] for `fmt`; unknown variables are reported through `warn`."""
    out: list[tuple[Target, str]] = []
    target: Target = "stdout"
    buf: list[str] = []

    def flush() -> None:
        if buf:
            out.append((target, "".join(buf)))
            buf.clear()

    i = 0
    n = len(fmt)
    while i < n:
        ch = fmt[i]
        if ch == "%" and i + 1 < n:
            nxt = fmt[i + 1]
            if nxt == "%":
                buf.append("%")
                i += 2
                continue
            for prefix in ("{", "header{", "output{"):
                if fmt.startswith(prefix, i + 1):
                    end = fmt.find("}", i + 1 + len(prefix))
                    break
            else:
                prefix, end = "", -1
            if end < 0:
                buf.append(ch)
                i += 1
                continue
            name = fmt[i + 1 + len(prefix) : end]
            i = end + 1
            if prefix == "header{":
                buf.append(header_value(data.headers, name) or "")
            elif prefix == "output{":
                flush()
                append = name.startswith(">>")
                target = ("file", name[2:] if append else name, append)
            elif name == "stdout":
                flush()
                target = "stdout"
            elif name == "stderr":
                flush()
                target = "stderr"
            elif name == "onerror":
                if not data.values.get("exitcode"):
                    break
            elif name == "json":
                buf.append(json_object(data))
            elif name == "header_json":
                buf.append(header_json(data.headers))
            elif name in KINDS:
                buf.append(_text(KINDS[name], data.values.get(name)))
            elif warn is not None:
                warn(f"unknown --write-out variable: '{name}'")
            continue
        if ch == "\\" and i + 1 < n:
            # \n, \r and \t are the control characters; any other pair is printed as it is.
            nxt = fmt[i + 1]
            buf.append({"n": "\n", "r": "\r", "t": "\t"}.get(nxt, ch + nxt))
            i += 2
            continue
        buf.append(ch)
        i += 1
    flush()
    return out
