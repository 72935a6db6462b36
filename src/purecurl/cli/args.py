"""The command line and `-K` config files, parsed into curl's configuration model.

Theory of operation: curl keeps global settings (silence, verbosity, parallelism, progress) and
a list of operations; `-:/--next` starts a new operation, and each operation holds a list of
URL nodes to which `-o`, `-O` and `-T` attach in order: a URL fills the first node without a
URL, `-o`/`-O` the first without an output, `-T` the first without an upload (src/tool_getparam.c
`getout`). Every option is one row of `OPTIONS` (long name, short letter, argument kind,
handler); boolean options also take `--no-<name>`. Long names may be abbreviated when the
prefix is unambiguous, as curl allows. `-K file` reads `name = value` lines (curl's config file
syntax, docs/cmdline-opts/config.md) and applies them where `-K` stands.

Errors are `UsageError(message, code)`; main prints `purecurl: <message>` and curl's hint line
and exits with `code` (2, CURLE_FAILED_INIT, for a bad command line; 26, CURLE_READ_ERROR, for a
file an option could not read: `-K`, `-H @file`, `--variable name@file`). A file that cannot be
read is named first on a line of its own, as curl's errorf() does, then the usage line says
`option -K: error encountered when reading a file` (src/tool_getparam.c param2text()).
Data files (`-d @file`) and header files (`-H @file`) are read while parsing, as curl does.

`--variable` sets a command-line variable and `--expand-<option>` expands `{{name}}` in that
option's argument before it is used (curl 8.3, docs/cmdline-opts/variable.md; see variables.py).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

from purecurl.cli import variables as cli_variables

PARALLEL_MAX_DEFAULT = 50
PARALLEL_MAX_LIMIT = 300  # curl's cap on --parallel-max
E_READ_ERROR = 26
READ_FAILURE = "error encountered when reading a file"  # param2text(PARAM_READ_ERROR)


class UsageError(Exception):
    """A command line curl would refuse; `code` is the exit status."""

    def __init__(self, message: str, code: int = 2, *, hint: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.hint = hint


@dataclass
class UrlNode:
    """One URL with the output (-o/-O) and upload (-T) given for it."""

    url: str | None = None
    outfile: str | None = None
    remote_name: bool = False
    upload: str | None = None
    has_out: bool = False
    has_upload: bool = False


@dataclass
class Operation:
    """The options between two `--next`: every URL of it is fetched with them."""

    nodes: list[UrlNode] = field(default_factory=list)
    output_dir: str | None = None
    create_dirs: bool = False
    remote_name_all: bool = False
    remote_header_name: bool = False
    # --clobber / --no-clobber; None is curl's default: overwrite, except a -J name.
    clobber: bool | None = None
    skip_existing: bool = False
    remove_on_error: bool = False
    globoff: bool = False
    location: bool = False
    location_trusted: bool = False
    max_redirs: int | None = None
    post301: bool = False
    post302: bool = False
    post303: bool = False
    head: bool = False
    request: str | None = None
    headers: list[str] = field(default_factory=list)
    proxy_headers: list[str] = field(default_factory=list)
    # Request body pieces: (bytes, came from --json); see join_data.
    data: list[tuple[bytes, bool]] = field(default_factory=list)
    json: bool = False
    get: bool = False
    form: list[str] = field(default_factory=list)
    user: str | None = None
    auth_basic: bool = False
    auth_digest: bool = False
    auth_any: bool = False
    oauth2_bearer: str | None = None
    netrc: bool = False
    netrc_optional: bool = False
    netrc_file: str | None = None
    proxy: str | None = None
    proxy_user: str | None = None
    proxytunnel: bool = False
    noproxy: str | None = None
    insecure: bool = False
    proxy_insecure: bool = False
    cacert: str | None = None
    capath: str | None = None
    cert: str | None = None
    cert_type: str | None = None
    key: str | None = None
    key_type: str | None = None
    pass_phrase: str | None = None
    ciphers: str | None = None
    tls_min: int | None = None
    max_time: float | None = None
    connect_timeout: float | None = None
    speed_limit: int | None = None
    speed_time: int | None = None
    include: bool = False
    dump_header: str | None = None
    write_out: str | None = None
    fail: bool = False
    fail_with_body: bool = False
    compressed: bool = False
    raw: bool = False
    range: str | None = None
    continue_at: int | None = None  # -1: "-C -", from the output file's size
    cookies: list[str] = field(default_factory=list)
    cookie_jar: str | None = None
    junk_session_cookies: bool = False
    user_agent: str | None = None
    referer: str | None = None
    autoreferer: bool = False
    resolve: list[str] = field(default_factory=list)
    connect_to: list[str] = field(default_factory=list)
    http_version: str | None = None
    ip_version: int = 0
    interface: str | None = None
    local_port: str | None = None
    unix_socket: str | None = None
    limit_rate: int | None = None
    max_filesize: int | None = None
    retry: int = 0
    retry_delay: float = 0.0
    retry_max_time: float = 0.0
    retry_all_errors: bool = False
    retry_connrefused: bool = False
    keepalive: bool = True
    tcp_nodelay: bool = True
    path_as_is: bool = False
    url_queries: list[str] = field(default_factory=list)
    tr_encoding: bool = False
    etag_save: str | None = None
    etag_compare: str | None = None


@dataclass
class GlobalConfig:
    """Settings for the whole run, and the operations."""

    operations: list[Operation] = field(default_factory=lambda: [Operation()])
    silent: bool = False
    show_error: bool = False
    # -v, --trace, --trace-ascii: one of them is in force, the last given (curl warns when
    # one overrides another). trace_dump is where it goes: "%" stderr, "-" stdout, or a file.
    trace_type: str | None = None  # "plain" (-v), "ascii", "bin"
    trace_dump: str | None = None
    trace_time: bool = False
    variables: dict[str, bytes] = field(default_factory=dict)
    stderr_path: str | None = None
    progress_bar: bool = False
    progress_meter: bool = True
    parallel: bool = False
    parallel_max: int = PARALLEL_MAX_DEFAULT
    parallel_immediate: bool = False
    fail_early: bool = False
    show_help: bool = False
    show_version: bool = False
    show_manual: bool = False
    demo: bool = False
    demo_transfers: int = 0

    @property
    def op(self) -> Operation:
        return self.operations[-1]

    @property
    def verbose(self) -> bool:
        return self.trace_type == "plain"


# -- argument values -----------------------------------------------------------------------


def _number(option: str, text: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        raise UsageError(f"option {option}: expected a proper numerical parameter") from None


def _decimal(option: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"option {option}: expected a proper numerical parameter") from None
    if value < 0 or value != value:
        raise UsageError(f"option {option}: expected a proper numerical parameter")
    return value


_SIZE_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(option: str, text: str) -> int:
    """A byte count with an optional k/M/G/T suffix (--limit-rate, --max-filesize)."""
    t = text.strip()
    unit = ""
    if t and t[-1].lower() in _SIZE_UNITS:
        unit = t[-1].lower()
        t = t[:-1]
    try:
        value = float(t)
    except ValueError:
        raise UsageError(f"option {option}: expected a proper numerical parameter") from None
    if value < 0:
        raise UsageError(f"option {option}: expected a proper numerical parameter")
    return int(value * _SIZE_UNITS[unit])


def _read_file(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as f:
        return f.read()


def _warn(message: str) -> None:
    sys.stderr.write(f"Warning: {message}\n")


def _warnf(g: GlobalConfig, message: str) -> None:
    """curl's warnf(): a warning, unless -s came first."""
    if not g.silent:
        _warn(message)


def _errorf(g: GlobalConfig, message: str) -> None:
    """curl's errorf(): an error line, unless -s came first without -S."""
    if not g.silent or g.show_error:
        sys.stderr.write(f"purecurl: {message}\n")


def _read_failure(g: GlobalConfig, option: str, message: str) -> UsageError:
    """The error for a file `option` could not read: curl names the file, then the option."""
    _errorf(g, message)
    return UsageError(f"option {option}: {READ_FAILURE}", E_READ_ERROR)


# -- option handlers ------------------------------------------------------------------------

Handler = Callable[[GlobalConfig, str, "str | bool"], None]


def _node(op: Operation, has: Callable[[UrlNode], bool]) -> UrlNode:
    for node in op.nodes:
        if not has(node):
            return node
    node = UrlNode()
    op.nodes.append(node)
    return node


def _url(g: GlobalConfig, name: str, value: str | bool) -> None:
    node = _node(g.op, lambda n: n.url is not None)
    node.url = str(value)


def _output(g: GlobalConfig, name: str, value: str | bool) -> None:
    node = _node(g.op, lambda n: n.has_out)
    node.outfile = str(value)
    node.has_out = True


def _remote_name(g: GlobalConfig, name: str, value: str | bool) -> None:
    node = _node(g.op, lambda n: n.has_out)
    node.remote_name = bool(value)
    node.has_out = True


def _upload(g: GlobalConfig, name: str, value: str | bool) -> None:
    node = _node(g.op, lambda n: n.has_upload)
    node.upload = str(value)
    node.has_upload = True


def _data_piece(g: GlobalConfig, raw: bytes, *, json: bool = False) -> None:
    g.op.data.append((raw, json))
    if json:
        g.op.json = True


def join_data(pieces: list[tuple[bytes, bool]]) -> bytes:
    """The request body of -d/--data-*/--json pieces: joined with '&', except that
    consecutive --json pieces are concatenated as they are."""
    out = bytearray()
    prev_json = False
    for i, (raw, is_json) in enumerate(pieces):
        if i and not (is_json and prev_json):
            out += b"&"
        out += raw
        prev_json = is_json
    return bytes(out)


def _data_file(option: str, path: str, strip: bool, silent: bool) -> bytes:
    try:
        content = _read_file(path)
    except OSError:
        if not silent:
            _warn(f'Couldn\'t read data from file "{path}", this makes an empty POST.')
        return b""
    if strip:
        content = content.replace(b"\r", b"").replace(b"\n", b"")
    return content


def _data(g: GlobalConfig, name: str, value: str | bool) -> None:
    text = str(value)
    if text.startswith("@"):
        _data_piece(g, _data_file(name, text[1:], True, g.silent))
    else:
        _data_piece(g, os.fsencode(text))


def _data_binary(g: GlobalConfig, name: str, value: str | bool) -> None:
    text = str(value)
    if text.startswith("@"):
        _data_piece(g, _data_file(name, text[1:], False, g.silent))
    else:
        _data_piece(g, os.fsencode(text))


def _data_raw(g: GlobalConfig, name: str, value: str | bool) -> None:
    _data_piece(g, os.fsencode(str(value)))


def _json(g: GlobalConfig, name: str, value: str | bool) -> None:
    text = str(value)
    from_file = text.startswith("@")
    raw = _data_file(name, text[1:], False, g.silent) if from_file else os.fsencode(text)
    _data_piece(g, raw, json=True)


def urlencode_data(spec: str, read: Callable[[str], bytes] = _read_file) -> bytes:
    """--data-urlencode: `content`, `=content`, `name=content`, `@file`, `name@file`."""
    name, content = "", spec
    eq = spec.find("=")
    at = spec.find("@")
    if at >= 0 and (eq < 0 or at < eq):
        name, path = spec[:at], spec[at + 1 :]
        raw = read(path)
    elif eq >= 0:
        name, content = spec[:eq], spec[eq + 1 :]
        raw = os.fsencode(content)
    else:
        raw = os.fsencode(content)
    # curl_easy_escape, then spaces as '+' (src/tool_getparam.c data_urlencode():
    # replace_url_encoded_space_by_plus), the application/x-www-form-urlencoded way.
    encoded = quote(raw, safe="-._~").replace("%20", "+").encode("ascii")
    return (os.fsencode(name) + b"=" + encoded) if name else encoded


def _data_urlencode(g: GlobalConfig, name: str, value: str | bool) -> None:
    try:
        _data_piece(g, urlencode_data(str(value)))
    except OSError:
        if not g.silent:
            _warn(f'Couldn\'t read data from file "{value}", this makes an empty POST.')
        _data_piece(g, b"")


def _url_query(g: GlobalConfig, name: str, value: str | bool) -> None:
    # docs/cmdline-opts/url-query.md: "+content" is used as it is, anything else is encoded
    # as --data-urlencode encodes it.
    text = str(value)
    if text.startswith("+"):
        g.op.url_queries.append(text[1:])
        return
    try:
        g.op.url_queries.append(urlencode_data(text).decode("latin-1"))
    except OSError:
        raise _read_failure(g, name, f"Failed to open {text.partition('@')[2]}") from None


def _header(g: GlobalConfig, name: str, value: str | bool, *, proxy: bool = False) -> None:
    text = str(value)
    target = g.op.proxy_headers if proxy else g.op.headers
    if text.startswith("@"):
        try:
            lines = _read_file(text[1:]).decode("latin-1").splitlines()
        except OSError:
            raise _read_failure(g, name, f"Failed to open {text[1:]}") from None
        target.extend(line for line in lines if line.strip())
        return
    target.append(text)


def _continue_at(g: GlobalConfig, name: str, value: str | bool) -> None:
    text = str(value)
    g.op.continue_at = -1 if text == "-" else _number(name, text)
    if g.op.continue_at < -1:
        raise UsageError(f"option {name}: expected a proper numerical parameter")


def _referer(g: GlobalConfig, name: str, value: str | bool) -> None:
    text = str(value)
    if text.endswith(";auto"):
        g.op.autoreferer = True
        text = text[: -len(";auto")]
    g.op.referer = text or None


def _next(g: GlobalConfig, name: str, value: str | bool) -> None:
    g.operations.append(Operation())


_TRACE_OPTIONS = {"plain": "-v, --verbose", "ascii": "--trace-ascii", "bin": "--trace"}


def _trace(g: GlobalConfig, kind: str, dump: str) -> None:
    # src/tool_getparam.c: the last of -v/--trace/--trace-ascii wins, with a warning.
    if g.trace_type is not None and g.trace_type != kind:
        _warnf(g, f"{_TRACE_OPTIONS[kind]} overrides an earlier trace/verbose option")
    g.trace_type = kind
    g.trace_dump = dump


def _verbose(g: GlobalConfig, name: str, value: str | bool) -> None:
    if value:
        _trace(g, "plain", "%")  # "%": curl's name for stderr
    else:
        g.trace_type = None


def _report(g: GlobalConfig, issues: list[cli_variables.VariableIssue]) -> None:
    for issue in issues:
        if issue.kind == "warning":
            _warnf(g, issue.text)
        elif g.trace_type is not None:
            # curl's notef() speaks only when tracing, and then even with -s.
            sys.stderr.write(f"Note: {issue.text}\n")


def _variable(g: GlobalConfig, name: str, value: str | bool) -> None:
    try:
        issues = cli_variables.set_variable(g.variables, str(value))
    except cli_variables.VariableError as exc:
        if exc.message:
            _errorf(g, exc.message)
        raise UsageError(f"option {name}: {exc.reason}", exc.code) from None
    _report(g, issues)


def _parallel_max(g: GlobalConfig, name: str, value: str | bool) -> None:
    n = _number(name, str(value))
    g.parallel_max = PARALLEL_MAX_DEFAULT if n < 1 else min(n, PARALLEL_MAX_LIMIT)


def _config(g: GlobalConfig, name: str, value: str | bool) -> None:
    path = str(value)
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8", errors="surrogateescape") as f:
                text = f.read()
    except OSError:
        raise _read_failure(g, name, f"cannot read config from '{path}'") from None
    for option, arg in config_lines(text):
        _apply(g, option, arg, None)


def _set(attr: str, kind: str = "str", on_global: bool = False) -> Handler:
    def handler(g: GlobalConfig, name: str, value: str | bool) -> None:
        target: object = g if on_global else g.op
        converted: object
        if kind == "int":
            converted = _number(name, str(value))
        elif kind == "float":
            converted = _decimal(name, str(value))
        elif kind == "size":
            converted = parse_size(name, str(value))
        else:
            converted = value
        setattr(target, attr, converted)

    return handler


def _append(attr: str) -> Handler:
    def handler(g: GlobalConfig, name: str, value: str | bool) -> None:
        getattr(g.op, attr).append(str(value))

    return handler


def _const(attr: str, constant: object, on_global: bool = False) -> Handler:
    def handler(g: GlobalConfig, name: str, value: str | bool) -> None:
        if value:
            setattr(g if on_global else g.op, attr, constant)

    return handler


@dataclass(frozen=True)
class OptSpec:
    """One option: long name, short letter, whether it takes an argument, its handler."""

    long: str
    short: str | None
    takes_arg: bool
    handler: Handler


def _b(long: str, short: str | None, attr: str, on_global: bool = False) -> OptSpec:
    return OptSpec(long, short, False, _set(attr, "bool", on_global))


def _a(long: str, short: str | None, handler: Handler) -> OptSpec:
    return OptSpec(long, short, True, handler)


OPTIONS: tuple[OptSpec, ...] = (
    # output
    _a("url", None, _url),
    _a("output", "o", _output),
    OptSpec("remote-name", "O", False, _remote_name),
    _b("remote-name-all", None, "remote_name_all"),
    _b("remote-header-name", "J", "remote_header_name"),
    _b("clobber", None, "clobber"),
    _b("skip-existing", None, "skip_existing"),
    _a("output-dir", None, _set("output_dir")),
    _b("create-dirs", None, "create_dirs"),
    _b("remove-on-error", None, "remove_on_error"),
    _b("globoff", "g", "globoff"),
    _b("include", "i", "include"),
    _a("dump-header", "D", _set("dump_header")),
    _a("write-out", "w", _set("write_out")),
    # requests
    _b("location", "L", "location"),
    _b("location-trusted", None, "location_trusted"),
    _a("max-redirs", None, _set("max_redirs", "int")),
    _b("post301", None, "post301"),
    _b("post302", None, "post302"),
    _b("post303", None, "post303"),
    _b("head", "I", "head"),
    _a("request", "X", _set("request")),
    _a("header", "H", _header),
    _a("proxy-header", None, lambda g, n, v: _header(g, n, v, proxy=True)),
    _a("data", "d", _data),
    _a("data-ascii", None, _data),
    _a("data-binary", None, _data_binary),
    _a("data-raw", None, _data_raw),
    _a("data-urlencode", None, _data_urlencode),
    _a("json", None, _json),
    _b("get", "G", "get"),
    _a("form", "F", _append("form")),
    _a("form-string", None, lambda g, n, v: g.op.form.append("\0" + str(v))),
    _a("upload-file", "T", _upload),
    _a("url-query", None, _url_query),
    _a("etag-save", None, _set("etag_save")),
    _a("etag-compare", None, _set("etag_compare")),
    _a("user-agent", "A", _set("user_agent")),
    _a("referer", "e", _referer),
    _b("compressed", None, "compressed"),
    _b("raw", None, "raw"),
    _b("tr-encoding", None, "tr_encoding"),
    _a("range", "r", _set("range")),
    _a("continue-at", "C", _continue_at),
    _a("cookie", "b", _append("cookies")),
    _a("cookie-jar", "c", _set("cookie_jar")),
    _b("junk-session-cookies", "j", "junk_session_cookies"),
    _b("path-as-is", None, "path_as_is"),
    # authentication
    _a("user", "u", _set("user")),
    _b("basic", None, "auth_basic"),
    _b("digest", None, "auth_digest"),
    _b("anyauth", None, "auth_any"),
    _a("oauth2-bearer", None, _set("oauth2_bearer")),
    _b("netrc", "n", "netrc"),
    _b("netrc-optional", None, "netrc_optional"),
    _a("netrc-file", None, _set("netrc_file")),
    # proxies
    _a("proxy", "x", _set("proxy")),
    _a("proxy-user", "U", _set("proxy_user")),
    _b("proxytunnel", "p", "proxytunnel"),
    _a("noproxy", None, _set("noproxy")),
    _b("proxy-insecure", None, "proxy_insecure"),
    # TLS
    _b("insecure", "k", "insecure"),
    _a("cacert", None, _set("cacert")),
    _a("capath", None, _set("capath")),
    _a("cert", "E", _set("cert")),
    _a("cert-type", None, _set("cert_type")),
    _a("key", None, _set("key")),
    _a("key-type", None, _set("key_type")),
    _a("pass", None, _set("pass_phrase")),
    _a("ciphers", None, _set("ciphers")),
    OptSpec("tlsv1.2", None, False, _const("tls_min", 12)),
    OptSpec("tlsv1.3", None, False, _const("tls_min", 13)),
    # connections
    _a("max-time", "m", _set("max_time", "float")),
    _a("connect-timeout", None, _set("connect_timeout", "float")),
    _a("speed-limit", "Y", _set("speed_limit", "int")),
    _a("speed-time", "y", _set("speed_time", "int")),
    _a("resolve", None, _append("resolve")),
    _a("connect-to", None, _append("connect_to")),
    OptSpec("http1.0", "0", False, _const("http_version", "1.0")),
    OptSpec("http1.1", None, False, _const("http_version", "1.1")),
    OptSpec("http2", None, False, _const("http_version", "2")),
    OptSpec("http2-prior-knowledge", None, False, _const("http_version", "2-prior")),
    OptSpec("ipv4", "4", False, _const("ip_version", 4)),
    OptSpec("ipv6", "6", False, _const("ip_version", 6)),
    _a("interface", None, _set("interface")),
    _a("local-port", None, _set("local_port")),
    _a("unix-socket", None, _set("unix_socket")),
    _b("keepalive", None, "keepalive"),
    _b("tcp-nodelay", None, "tcp_nodelay"),
    _a("limit-rate", None, _set("limit_rate", "size")),
    _a("max-filesize", None, _set("max_filesize", "size")),
    _b("fail", "f", "fail"),
    _b("fail-with-body", None, "fail_with_body"),
    _a("retry", None, _set("retry", "int")),
    _a("retry-delay", None, _set("retry_delay", "float")),
    _a("retry-max-time", None, _set("retry_max_time", "float")),
    _b("retry-all-errors", None, "retry_all_errors"),
    _b("retry-connrefused", None, "retry_connrefused"),
    # global
    _b("silent", "s", "silent", True),
    _b("show-error", "S", "show_error", True),
    OptSpec("verbose", "v", False, _verbose),
    _a("trace-ascii", None, lambda g, n, v: _trace(g, "ascii", str(v))),
    _a("trace", None, lambda g, n, v: _trace(g, "bin", str(v))),
    _b("trace-time", None, "trace_time", True),
    _a("variable", None, _variable),
    _a("stderr", None, _set("stderr_path", on_global=True)),
    _b("progress-bar", "#", "progress_bar", True),
    _b("progress-meter", None, "progress_meter", True),
    _b("parallel", "Z", "parallel", True),
    _a("parallel-max", None, _parallel_max),
    _b("parallel-immediate", None, "parallel_immediate", True),
    _b("fail-early", None, "fail_early", True),
    OptSpec("next", ":", False, _next),
    _a("config", "K", _config),
    _b("help", "h", "show_help", True),
    _b("version", "V", "show_version", True),
    _b("manual", "M", "show_manual", True),
    _b("demo", None, "demo", True),
    _a("demo-transfers", None, _set("demo_transfers", "int", on_global=True)),
    # accepted and without effect here: purecurl reads no default config file
    OptSpec("disable", "q", False, lambda g, n, v: None),
)

_BY_LONG = {spec.long: spec for spec in OPTIONS}
_BY_SHORT = {spec.short: spec for spec in OPTIONS if spec.short}


def _lookup_long(word: str) -> tuple[OptSpec, bool] | None:
    """(spec, negated) for a long option name without its dashes; None when unknown."""
    for name, negated in ((word, False), (word[3:], True) if word.startswith("no-") else ("", 0)):
        if not name:
            continue
        spec = _BY_LONG.get(name)
        if spec is not None and (not negated or not spec.takes_arg):
            return spec, bool(negated)
    # An unambiguous prefix names the option, as curl allows ("--verb").
    matches = [spec for long, spec in _BY_LONG.items() if long.startswith(word)]
    if len(matches) == 1:
        return matches[0], False
    return None


_EXPAND = "expand-"


def _apply(g: GlobalConfig, typed: str, value: str | None, more: Iterator[str] | None) -> None:
    """Apply one option as typed ("--output", "-o" or "output" from a config file)."""
    expand = False
    if typed.startswith("-") and len(typed) == 2:
        spec = _BY_SHORT.get(typed[1])
        found = (spec, False) if spec else None
        shown = typed
    elif typed.startswith("--") or not typed.startswith("-"):
        word = typed[2:] if typed.startswith("--") else typed
        shown = "--" + word
        if word.startswith(_EXPAND) and len(word) > len(_EXPAND):
            # --expand-<option>: that option, with {{variables}} in its argument expanded.
            expand = True
            word = word[len(_EXPAND) :]
        found = _lookup_long(word)
    else:
        found = None
        shown = typed
    if found is None:
        raise UsageError(f"option {shown}: is unknown")
    spec, negated = found
    if spec.takes_arg:
        if value is None and more is not None:
            value = next(more, None)
        if value is None:
            raise UsageError(f"option {shown}: requires parameter")
        if expand:
            value = _expanded(g, shown, value)
        spec.handler(g, shown, value)
    else:
        spec.handler(g, shown, not negated)


def _expanded(g: GlobalConfig, shown: str, value: str) -> str:
    try:
        new, issues = cli_variables.expand(value, g.variables)
    except cli_variables.VariableError as exc:
        if exc.message:
            _errorf(g, exc.message)
        raise UsageError(f"option {shown}: {exc.reason}", exc.code) from None
    _report(g, issues)
    return value if new is None else new


def parse_args(argv: list[str]) -> GlobalConfig:
    """Parse a command line (without the program name). Raises UsageError."""
    g = GlobalConfig()
    args = iter(argv)
    for arg in args:
        if arg.startswith("--") and len(arg) > 2:
            _apply(g, arg, None, args)
        elif arg.startswith("-") and len(arg) > 1:
            # A cluster of short options; one that takes an argument takes the rest (or the
            # next word).
            i = 1
            while i < len(arg):
                letter = arg[i]
                spec = _BY_SHORT.get(letter)
                if spec is None:
                    raise UsageError(f"option -{letter}: is unknown")
                if spec.takes_arg:
                    rest = arg[i + 1 :]
                    _apply(g, "-" + letter, rest if rest else None, args)
                    break
                _apply(g, "-" + letter, None, None)
                i += 1
        else:
            _url(g, "url", arg)
    return g


_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "v": "\v"}


def config_lines(text: str) -> Iterator[tuple[str, str | None]]:
    """Yield (option, value) from a curl config file: `name = value`, `name value`,
    `name: value` or `--name value`; `#` starts a comment line; values may be "quoted"
    with backslash escapes."""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        i = 0
        while i < len(line) and not line[i].isspace() and line[i] not in "=:":
            i += 1
        name = line[:i]
        rest = line[i:].lstrip()
        if rest[:1] in ("=", ":"):
            rest = rest[1:].lstrip()
        if not rest:
            yield name, None
            continue
        if rest.startswith('"'):
            out: list[str] = []
            j = 1
            while j < len(rest) and rest[j] != '"':
                ch = rest[j]
                if ch == "\\" and j + 1 < len(rest):
                    j += 1
                    ch = _ESCAPES.get(rest[j], rest[j])
                out.append(ch)
                j += 1
            yield name, "".join(out)
        else:
            yield name, rest.split()[0]
