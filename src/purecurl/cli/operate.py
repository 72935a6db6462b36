"""Running the parsed command: one `Job` per URL, every one a `Curl` on one `CurlMulti`.

Theory of operation: `build_jobs` turns the operations into jobs (globs expanded, output
names chosen, `-G` data moved into the query). `Runner` owns one `CurlMulti` driven by the
selectors driver through the multi_socket API, and keeps at most `limit` jobs in it: 1 for
curl's serial mode (the one multi keeps its connection pool, so a second URL on the same
host reuses the connection, as curl's reused easy handle does), `--parallel-max` with `-Z`.
Each job writes through an `OutputSink` that opens its file on the first byte (an `-f` failure
creates no file; an empty body creates an empty one after success, as curl does). When a job
ends, the runner prints `-w`, the error line (`purecurl: (N) message`), schedules a `--retry`
if the failure is transient, and starts the next job. A failed download leaves its partial
file in place, as curl does, unless `--remove-on-error` is given; the exit code says it failed.

The exit status is curl's: in serial mode the result of the last transfer, in parallel mode
the last failure's code (0 when all succeeded).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import IO, Any, BinaryIO, TextIO

import purecurl as pycurl
from purecurl import _version
from purecurl.cli import writeout
from purecurl.cli.args import GlobalConfig, Operation, join_data
from purecurl.cli.progress import (
    ClassicMeter,
    LiveDisplay,
    ParallelMeter,
    Progress,
    ProgressBar,
    Totals,
)
from purecurl.cli.urlglob import GlobError, expand, fill_output_name, literal_glob, parse_glob
from purecurl.drivers.selector import SelectorDriver

USER_AGENT = f"purecurl/{_version.__version__}"
DEFAULT_REMOTE_NAME = "curl_response"
E_FAILED_INIT = 2
E_URL_MALFORMAT = 3
E_HTTP_RETURNED_ERROR = 22
E_WRITE_ERROR = 23
E_READ_ERROR = 26
E_OPERATION_TIMEDOUT = 28
E_COULDNT_CONNECT = 7
# curl's --retry treats these HTTP responses as transient (docs/cmdline-opts/retry.md).
RETRY_HTTP_CODES = frozenset({408, 429, 500, 502, 503, 504, 522, 524})
RETRY_MAX_DELAY = 600.0

_BINARY_WARNING = (
    'Warning: Binary output can mess up your terminal. Use "--output -" to tell\n'
    'Warning: purecurl to output it to your terminal anyway, or consider "--output\n'
    'Warning: <FILE>" to save to a file.\n'
)


class FatalError(Exception):
    """A failure that stops the whole run (`purecurl: (code) message`)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclasses.dataclass
class Job:
    """One URL to transfer, with the operation it belongs to."""

    op: Operation
    url: str
    urlnum: int
    outfile: str | None  # None: stdout
    upload: str | None = None
    # curl's "-o -" (stdout chosen on purpose) vs stdout by default (binary check applies)
    explicit_stdout: bool = False
    retries_left: int = 0
    retry_count: int = 0
    first_start: float = 0.0
    next_delay: float = 1.0


# -- building the jobs ----------------------------------------------------------------------


def _with_scheme(url: str) -> str:
    if "://" in url.split("?", 1)[0]:
        return url
    return "http://" + url


def remote_name(url: str) -> str:
    """-O: the last path segment of the URL (query and fragment cut off), or curl's default."""
    rest = url.split("://", 1)[-1]
    for sep in "?#":
        rest = rest.split(sep, 1)[0]
    _, slash, path = rest.partition("/")
    name = path.rsplit("/", 1)[-1] if slash else ""
    return name or DEFAULT_REMOTE_NAME


def _append_query(url: str, query: str) -> str:
    if not query:
        return url
    base, hash_, frag = url.partition("#")
    joined = base + ("&" if "?" in base else "?") + query
    return joined + hash_ + frag


def build_jobs(g: GlobalConfig) -> list[Job]:
    """Every transfer of the command line, in order. Raises FatalError for a bad glob."""
    jobs: list[Job] = []
    urlnum = 0
    for op in g.operations:
        for node in op.nodes:
            if node.url is None:
                if not g.silent and (node.has_out or node.has_upload):
                    sys.stderr.write("Warning: Got more output options than URLs\n")
                continue
            try:
                glob = literal_glob(node.url) if op.globoff else parse_glob(node.url)
            except GlobError as exc:
                raise FatalError(E_URL_MALFORMAT, exc.describe(node.url)) from None
            for expansion in expand(glob):
                url = _with_scheme(expansion.url)
                if op.get and op.data:
                    url = _append_query(url, join_data(op.data).decode("latin-1"))
                for q in op.url_queries:
                    url = _append_query(url, q)
                upload = node.upload
                if upload is not None and upload != "-" and url.endswith("/"):
                    url += os.path.basename(upload)
                outfile: str | None = None
                explicit = False
                if node.outfile is not None:
                    if node.outfile == "-":
                        explicit = True
                    else:
                        outfile = fill_output_name(node.outfile, expansion.values)
                elif node.remote_name or (op.remote_name_all and not node.has_out):
                    outfile = remote_name(url)
                if outfile is not None and op.output_dir and not os.path.isabs(outfile):
                    outfile = os.path.join(op.output_dir, outfile)
                jobs.append(Job(op, url, urlnum, outfile, upload, explicit, retries_left=op.retry))
            urlnum += 1
    return jobs


# -- where the bytes go --------------------------------------------------------------------


class OutputSink:
    """The body (and with -i the headers) of one transfer: stdout or a file opened on the
    first byte."""

    def __init__(self, job: Job, stdout: BinaryIO, stdout_tty: bool, warn: Callable[[str], None]):
        self.job = job
        self.stdout = stdout
        self.check_binary = stdout_tty and job.outfile is None and not job.explicit_stdout
        self.warn = warn
        self.file: IO[bytes] | None = None
        self.written = 0
        self.failed_open = False
        self.binary_refused = False
        self.resume_from = 0

    @property
    def path(self) -> str | None:
        return self.job.outfile

    def _open(self) -> IO[bytes] | None:
        path = self.job.outfile
        if path is None:
            return self.stdout
        if self.file is not None:
            return self.file
        if self.failed_open:
            return None
        if self.job.op.create_dirs:
            parent = os.path.dirname(path)
            if parent:
                with contextlib.suppress(OSError):
                    os.makedirs(parent, exist_ok=True)
        try:
            self.file = open(path, "ab" if self.resume_from else "wb")  # noqa: SIM115
        except OSError as exc:
            self.failed_open = True
            self.warn(f"Warning: Failed to open the file {path}: {exc.strerror}\n")
            return None
        return self.file

    def write(self, data: bytes) -> int | None:
        if self.check_binary and self.written == 0 and b"\0" in data[:2000]:
            self.binary_refused = True
            self.warn(_BINARY_WARNING)
            return -1
        f = self._open()
        if f is None:
            return -1
        try:
            f.write(data)
        except OSError:
            return -1
        self.written += len(data)
        return None

    def finish(self, ok: bool) -> None:
        """Close the file; an empty successful download still creates it."""
        if ok and self.job.outfile is not None and self.file is None and not self.failed_open:
            self._open()
        if self.file is not None:
            self.file.close()
            self.file = None
        elif self.job.outfile is None:
            with contextlib.suppress(OSError):
                self.stdout.flush()

    def discard(self) -> None:
        """Forget what was written (a retry starts over)."""
        if self.file is not None:
            self.file.close()
            self.file = None
        if self.job.outfile is not None and self.written and not self.resume_from:
            with contextlib.suppress(OSError):
                os.unlink(self.job.outfile)
        self.written = 0


class HeaderDump:
    """-D: header lines to a file (truncated once per run, then appended) or stdout."""

    opened: set[str] = set()

    def __init__(self, path: str, stdout: BinaryIO, create_dirs: bool) -> None:
        self.path = path
        self.stdout = stdout
        self.create_dirs = create_dirs
        self.file: IO[bytes] | None = None

    def write(self, line: bytes) -> None:
        if self.path == "-":
            self.stdout.write(line)
            return
        if self.file is None:
            if self.create_dirs and os.path.dirname(self.path):
                os.makedirs(os.path.dirname(self.path), exist_ok=True)
            mode = "ab" if self.path in HeaderDump.opened else "wb"
            HeaderDump.opened.add(self.path)
            self.file = open(self.path, mode)  # noqa: SIM115
        self.file.write(line)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


# -- verbose output -------------------------------------------------------------------------

_INFOTYPE_TEXT, _HEADER_IN, _HEADER_OUT, _DATA_IN, _DATA_OUT = 0, 1, 2, 3, 4
_TRACE_NAMES = {
    _INFOTYPE_TEXT: "",
    _HEADER_IN: "<= Recv header",
    _HEADER_OUT: "=> Send header",
    _DATA_IN: "<= Recv data",
    _DATA_OUT: "=> Send data",
}


def verbose_lines(infotype: int, data: bytes) -> str:
    """curl's -v rendering of one DEBUGFUNCTION call ('' for what -v does not show)."""
    text = data.decode("latin-1")
    if infotype == _INFOTYPE_TEXT:
        return "* " + text if text.endswith("\n") else "* " + text + "\n"
    if infotype in (_HEADER_IN, _HEADER_OUT):
        mark = "< " if infotype == _HEADER_IN else "> "
        lines = text.split("\r\n") if "\r\n" in text else text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return "".join(mark + line + "\n" for line in lines)
    return ""


def trace_ascii(infotype: int, data: bytes) -> str:
    """curl's --trace-ascii rendering: a title line, then offset-prefixed printable lines."""
    if infotype == _INFOTYPE_TEXT:
        return "== Info: " + data.decode("latin-1").rstrip("\n") + "\n"
    name = _TRACE_NAMES.get(infotype)
    if not name:
        return ""
    out = [f"{name}, {len(data)} bytes (0x{len(data):x})\n"]
    width = 64
    i = 0
    while i < len(data):
        chunk = data[i : i + width]
        nl = chunk.find(b"\n")
        if infotype in (_HEADER_IN, _HEADER_OUT) and nl >= 0:
            chunk = chunk[: nl + 1]
        shown = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk.rstrip(b"\r\n"))
        out.append(f"{i:04x}: {shown}\n")
        i += len(chunk)
    return "".join(out)


# -- setting up a handle --------------------------------------------------------------------

_HTTP_VERSIONS = {
    "1.0": "CURL_HTTP_VERSION_1_0",
    "1.1": "CURL_HTTP_VERSION_1_1",
    "2": "CURL_HTTP_VERSION_2_0",
    "2-prior": "CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE",
}


def _has_header(headers: list[str], name: str) -> bool:
    lname = name.lower()
    return any(h.split(":", 1)[0].split(";", 1)[0].strip().lower() == lname for h in headers)


def parse_form(spec: str) -> tuple[str, Any]:
    """-F `name=value`, `name=@file[;type=x][;filename=y]`, `name=<file`: one HTTPPOST item.

    A spec from --form-string starts with NUL: its value is taken literally.
    """
    literal = spec.startswith("\0")
    if literal:
        spec = spec[1:]
    name, eq, value = spec.partition("=")
    if not eq:
        raise FatalError(E_FAILED_INIT, f"Illegally formatted input field: '{spec}'")
    if literal:
        return name, value
    if value.startswith("@") or value.startswith("<"):
        parts = value[1:].split(";")
        path = parts[0]
        extra: list[Any] = []
        for attr in parts[1:]:
            key, _, val = attr.partition("=")
            key = key.strip().lower()
            if key == "type":
                extra += [pycurl.FORM_CONTENTTYPE, val]
            elif key == "filename":
                extra += [pycurl.FORM_FILENAME, val]
        if value.startswith("<"):
            try:
                with open(path, "rb") as f:
                    content = f.read()
            except OSError:
                raise FatalError(
                    E_READ_ERROR, f"Failed to open/read local data from file {path}"
                ) from None
            return name, (pycurl.FORM_CONTENTS, content, *extra)
        if not os.path.exists(path):
            raise FatalError(E_READ_ERROR, "Failed to open/read local data from file/application")
        return name, (pycurl.FORM_FILE, path, *extra)
    parts = value.split(";")
    extra = []
    for attr in parts[1:]:
        key, _, val = attr.partition("=")
        if key.strip().lower() == "type":
            extra += [pycurl.FORM_CONTENTTYPE, val]
    if extra:
        return name, (pycurl.FORM_CONTENTS, parts[0], *extra)
    return name, value


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000)) if seconds > 0 else 0


def setup_handle(curl: Any, job: Job, g: GlobalConfig) -> list[Callable[[], None]]:
    """Set every option of `job` on `curl`. Returns clean-up actions (files to close).

    Raises FatalError for a local problem (an unreadable -T file) and pycurl.error when the
    engine refuses an option.
    """
    op = job.op
    cleanups: list[Callable[[], None]] = []
    s = curl.setopt
    s(pycurl.URL, job.url)
    s(pycurl.USERAGENT, op.user_agent if op.user_agent is not None else USER_AGENT)
    if op.location:
        s(pycurl.FOLLOWLOCATION, 1)
        s(pycurl.MAXREDIRS, op.max_redirs if op.max_redirs is not None else 50)
        if op.location_trusted:
            s(pycurl.UNRESTRICTED_AUTH, 1)
        postredir = (1 if op.post301 else 0) | (2 if op.post302 else 0) | (4 if op.post303 else 0)
        if postredir:
            s(pycurl.POSTREDIR, postredir)
    elif op.max_redirs is not None:
        s(pycurl.MAXREDIRS, op.max_redirs)
    headers = list(op.headers)
    if op.json:
        if not _has_header(headers, "Content-Type"):
            headers.append("Content-Type: application/json")
        if not _has_header(headers, "Accept"):
            headers.append("Accept: application/json")
    if op.data and not op.get:
        body = join_data(op.data)
        s(pycurl.POSTFIELDSIZE_LARGE, len(body))
        s(pycurl.COPYPOSTFIELDS, body)
    if op.get:
        s(pycurl.HTTPGET, 1)
    if op.form:
        s(pycurl.HTTPPOST, [parse_form(spec) for spec in op.form])
    if job.upload is not None:
        if job.upload == "-":
            stream: BinaryIO = sys.stdin.buffer
        else:
            try:
                stream = open(job.upload, "rb")  # noqa: SIM115
            except OSError:
                raise FatalError(
                    E_READ_ERROR, "Failed to open/read local data from file/application"
                ) from None
            cleanups.append(stream.close)
            with contextlib.suppress(OSError):
                size = os.fstat(stream.fileno()).st_size
                if os.path.isfile(job.upload):
                    s(pycurl.INFILESIZE_LARGE, size)
        s(pycurl.UPLOAD, 1)
        s(pycurl.READFUNCTION, stream.read)
    if op.head:
        s(pycurl.NOBODY, 1)
    if op.request is not None:
        s(pycurl.CUSTOMREQUEST, op.request)
    if headers:
        s(pycurl.HTTPHEADER, headers)
    if op.proxy_headers:
        s(pycurl.PROXYHEADER, op.proxy_headers)
    if op.referer is not None:
        s(pycurl.REFERER, op.referer)
    if op.autoreferer:
        s(pycurl.AUTOREFERER, 1)
    if op.user is not None:
        user = op.user if ":" in op.user else op.user + ":"
        s(pycurl.USERPWD, user)
    auth = 0
    if op.auth_basic:
        auth |= pycurl.HTTPAUTH_BASIC
    if op.auth_digest:
        auth |= pycurl.HTTPAUTH_DIGEST
    if op.auth_any:
        auth = pycurl.HTTPAUTH_ANY
    if auth:
        s(pycurl.HTTPAUTH, auth)
    if op.oauth2_bearer is not None:
        s(pycurl.XOAUTH2_BEARER, op.oauth2_bearer)
        s(pycurl.HTTPAUTH, pycurl.HTTPAUTH_BEARER)
    if op.netrc or op.netrc_optional or op.netrc_file:
        s(pycurl.NETRC, pycurl.NETRC_REQUIRED if op.netrc else pycurl.NETRC_OPTIONAL)
        if op.netrc_file:
            s(pycurl.NETRC_FILE, op.netrc_file)
    if op.proxy is not None:
        s(pycurl.PROXY, op.proxy)
    if op.proxy_user is not None:
        s(pycurl.PROXYUSERPWD, op.proxy_user)
    if op.proxytunnel:
        s(pycurl.HTTPPROXYTUNNEL, 1)
    if op.noproxy is not None:
        s(pycurl.NOPROXY, op.noproxy)
    if op.insecure:
        s(pycurl.SSL_VERIFYPEER, 0)
        s(pycurl.SSL_VERIFYHOST, 0)
    if op.proxy_insecure:
        s(pycurl.PROXY_SSL_VERIFYPEER, 0)
        s(pycurl.PROXY_SSL_VERIFYHOST, 0)
    if op.cacert is not None:
        s(pycurl.CAINFO, op.cacert)
    if op.capath is not None:
        s(pycurl.CAPATH, op.capath)
    if op.cert is not None:
        cert, colon, password = op.cert.partition(":")
        s(pycurl.SSLCERT, cert)
        if colon:
            s(pycurl.KEYPASSWD, password)
    if op.cert_type is not None:
        s(pycurl.SSLCERTTYPE, op.cert_type)
    if op.key is not None:
        s(pycurl.SSLKEY, op.key)
    if op.key_type is not None:
        s(pycurl.SSLKEYTYPE, op.key_type)
    if op.pass_phrase is not None:
        s(pycurl.KEYPASSWD, op.pass_phrase)
    if op.ciphers is not None:
        s(pycurl.SSL_CIPHER_LIST, op.ciphers)
    if op.tls_min == 12:
        s(pycurl.SSLVERSION, pycurl.SSLVERSION_TLSv1_2)
    elif op.tls_min == 13:
        s(pycurl.SSLVERSION, pycurl.SSLVERSION_TLSv1_3)
    if op.max_time:
        s(pycurl.TIMEOUT_MS, _ms(op.max_time))
    if op.connect_timeout:
        s(pycurl.CONNECTTIMEOUT_MS, _ms(op.connect_timeout))
    if op.speed_limit is not None or op.speed_time is not None:
        # curl: -y alone means a limit of 1 byte/s, -Y alone a time of 30 s.
        s(pycurl.LOW_SPEED_LIMIT, op.speed_limit if op.speed_limit is not None else 1)
        s(pycurl.LOW_SPEED_TIME, op.speed_time if op.speed_time is not None else 30)
    if op.fail and not op.fail_with_body:
        s(pycurl.FAILONERROR, 1)
    if op.compressed:
        s(pycurl.ACCEPT_ENCODING, "")
    if op.raw:
        s(pycurl.HTTP_CONTENT_DECODING, 0)
        s(pycurl.HTTP_TRANSFER_DECODING, 0)
    if op.tr_encoding:
        s(pycurl.TRANSFER_ENCODING, 1)
    if op.range is not None:
        s(pycurl.RANGE, op.range)
    for cookie in op.cookies:
        if "=" in cookie:
            s(pycurl.COOKIE, cookie)
        else:
            s(pycurl.COOKIEFILE, cookie)
    if op.cookie_jar is not None:
        s(pycurl.COOKIEJAR, op.cookie_jar)
    if op.junk_session_cookies:
        s(pycurl.COOKIESESSION, 1)
    if op.resolve:
        s(pycurl.RESOLVE, op.resolve)
    if op.connect_to:
        s(pycurl.CONNECT_TO, op.connect_to)
    if op.http_version is not None:
        s(pycurl.HTTP_VERSION, getattr(pycurl, _HTTP_VERSIONS[op.http_version]))
    if op.ip_version == 4:
        s(pycurl.IPRESOLVE, pycurl.IPRESOLVE_V4)
    elif op.ip_version == 6:
        s(pycurl.IPRESOLVE, pycurl.IPRESOLVE_V6)
    if op.interface is not None:
        s(pycurl.INTERFACE, op.interface)
    if op.local_port is not None:
        low, dash, high = op.local_port.partition("-")
        s(pycurl.LOCALPORT, int(low))
        if dash:
            s(pycurl.LOCALPORTRANGE, int(high) - int(low) + 1)
    if op.unix_socket is not None:
        s(pycurl.UNIX_SOCKET_PATH, op.unix_socket)
    if not op.keepalive:
        s(pycurl.TCP_KEEPALIVE, 0)
    else:
        s(pycurl.TCP_KEEPALIVE, 1)
    if not op.tcp_nodelay:
        s(pycurl.TCP_NODELAY, 0)
    if op.limit_rate:
        s(pycurl.MAX_RECV_SPEED_LARGE, op.limit_rate)
        s(pycurl.MAX_SEND_SPEED_LARGE, op.limit_rate)
    if op.max_filesize:
        s(pycurl.MAXFILESIZE_LARGE, op.max_filesize)
    if op.path_as_is:
        s(pycurl.PATH_AS_IS, 1)
    return cleanups


# -- the run ---------------------------------------------------------------------------------


@dataclasses.dataclass
class Active:
    """A job in the multi: its handle and everything that collects its output."""

    job: Job
    curl: Any
    sink: OutputSink
    progress: Progress
    headers: list[tuple[str, str]]
    header_dump: HeaderDump | None
    cleanups: list[Callable[[], None]]
    meter: ClassicMeter | ProgressBar | None = None


@dataclasses.dataclass
class RunStats:
    """What the run did, for the demo's summary and for tests."""

    transfers: int = 0
    ok: int = 0
    failed: int = 0
    bytes_down: int = 0
    bytes_up: int = 0
    connects: int = 0
    elapsed: float = 0.0
    codes: list[int] = dataclasses.field(default_factory=list)


class Runner:
    """Runs jobs through one CurlMulti; see the module docstring."""

    def __init__(
        self,
        g: GlobalConfig,
        *,
        stdout: BinaryIO | None = None,
        stderr: TextIO | None = None,
        stdout_tty: bool | None = None,
        stderr_tty: bool | None = None,
    ) -> None:
        self.g = g
        self.stdout = stdout if stdout is not None else sys.stdout.buffer
        self.stderr = stderr if stderr is not None else sys.stderr
        self.stdout_tty = self.stdout.isatty() if stdout_tty is None else stdout_tty
        self.stderr_tty = self.stderr.isatty() if stderr_tty is None else stderr_tty
        self.limit = g.parallel_max if g.parallel else 1
        self.multi = pycurl.CurlMulti()
        self.active: dict[int, Active] = {}
        self.queue: deque[Job] = deque()
        self.waiting: list[tuple[float, Job]] = []  # retries: (when, job)
        self.totals = Totals()
        self.stats = RunStats()
        self.result = 0
        self.stop = False
        self.trace_file: TextIO | None = None
        self.display: ParallelMeter | LiveDisplay | None = None
        self.show_progress = not g.silent and g.progress_meter

    # -- messages --------------------------------------------------------------------------

    def warn(self, text: str) -> None:
        if not self.g.silent:
            self._err(text)

    def _err(self, text: str) -> None:
        if self.display is not None and isinstance(self.display, LiveDisplay):
            # Keep the live view below the message.
            self.display.drawn_lines = 0
        with contextlib.suppress(OSError, ValueError):
            self.stdout.flush()
        self.stderr.write(text)
        self.stderr.flush()

    def error_line(self, code: int, message: str) -> None:
        """`purecurl: (N) message`, shown unless -s without -S."""
        if self.g.silent and not self.g.show_error:
            return
        self._err(f"purecurl: ({code}) {message or pycurl.easy_strerror(code)}\n")

    # -- starting --------------------------------------------------------------------------

    def _debug(self, infotype: int, data: bytes) -> None:
        if self.trace_file is not None:
            self.trace_file.write(trace_ascii(infotype, data))
        elif self.g.verbose:
            text = verbose_lines(infotype, data)
            if text:
                self._err(text)

    def start(self, job: Job, now: float) -> None:
        curl = pycurl.Curl()
        op = job.op
        progress = Progress(name=job.outfile or job.url, started=now)
        sink = OutputSink(job, self.stdout, self.stdout_tty, self.warn)
        headers: list[tuple[str, str]] = []
        dump = (
            HeaderDump(op.dump_header, self.stdout, op.create_dirs)
            if op.dump_header is not None
            else None
        )
        if not job.first_start:
            job.first_start = now
        active = Active(job, curl, sink, progress, headers, dump, [])
        self.totals.started += 1 if job.retry_count == 0 else 0
        self.totals.running += 1
        try:
            if op.continue_at is not None:
                offset = op.continue_at
                if offset < 0:
                    offset = 0
                    if job.outfile is not None:
                        with contextlib.suppress(OSError):
                            offset = os.path.getsize(job.outfile)
                sink.resume_from = offset
                if offset:
                    curl.setopt(pycurl.RESUME_FROM_LARGE, offset)
            active.cleanups = setup_handle(curl, job, self.g)
            include = op.include or op.head

            def on_header(line: bytes) -> int | None:
                text = line.decode("latin-1")
                if text.startswith("HTTP/"):
                    headers.clear()
                elif ":" in text and not text[:1].isspace():
                    name, _, value = text.partition(":")
                    headers.append((name, value.strip()))
                if dump is not None:
                    try:
                        dump.write(line)
                    except OSError:
                        return -1
                if include:
                    return sink.write(line)
                return None

            def on_progress(dltotal: int, dlnow: int, ultotal: int, ulnow: int) -> int:
                progress.set(dltotal, dlnow, ultotal, ulnow)
                return 0

            curl.setopt(pycurl.WRITEFUNCTION, sink.write)
            curl.setopt(pycurl.HEADERFUNCTION, on_header)
            curl.setopt(pycurl.NOPROGRESS, 0)
            curl.setopt(pycurl.XFERINFOFUNCTION, on_progress)
            if self.g.verbose or self.trace_file is not None:
                curl.setopt(pycurl.VERBOSE, 1)
                curl.setopt(pycurl.DEBUGFUNCTION, self._debug)
        except FatalError as exc:
            self._finish(active, exc.code, exc.message, now)
            return
        except pycurl.error as exc:
            code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else E_FAILED_INIT
            message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
            self._finish(active, code, message, now)
            return
        if self.show_progress and not self.g.parallel:
            to_terminal = job.outfile is None and self.stdout_tty
            if self.g.progress_bar:
                active.meter = ProgressBar(self.stderr, progress, now)
            elif not to_terminal:
                active.meter = ClassicMeter(self.stderr, progress, now)
        self.active[id(curl)] = active
        self.multi.add_handle(curl)
        self.driver.running += 1

    # -- finishing -------------------------------------------------------------------------

    def _retry_reason(self, job: Job, code: int, response: int) -> str | None:
        op = job.op
        if job.retries_left <= 0:
            return None
        if code == E_OPERATION_TIMEDOUT:
            return "timeout"
        if response in RETRY_HTTP_CODES and (code == 0 or code == E_HTTP_RETURNED_ERROR):
            return "HTTP error"
        if code == E_COULDNT_CONNECT and op.retry_connrefused:
            return "connection refused"
        if code and op.retry_all_errors:
            return f"({code})"
        return None

    def _done(self, curl: Any, code: int, message: str) -> None:
        active = self.active.pop(id(curl))
        self._finish(active, code, message, time.monotonic())

    def _finish(self, active: Active, code: int, message: str, now: float) -> None:
        job, curl, sink = active.job, active.curl, active.sink
        op = job.op
        self.totals.running -= 1
        response = 0
        with contextlib.suppress(Exception):
            response = int(curl.getinfo(pycurl.RESPONSE_CODE))
        if sink.binary_refused:
            code, message = E_WRITE_ERROR, ""
        if code == 0 and op.fail_with_body and response >= 400:
            code, message = E_HTTP_RETURNED_ERROR, f"The requested URL returned error: {response}"
        if active.meter is not None:
            active.meter.done(now)
        reason = self._retry_reason(job, code, response)
        elapsed = now - job.first_start
        if reason is not None and (not op.retry_max_time or elapsed < op.retry_max_time):
            delay = op.retry_delay if op.retry_delay else job.next_delay
            job.next_delay = min(RETRY_MAX_DELAY, job.next_delay * 2)
            job.retries_left -= 1
            job.retry_count += 1
            left = job.retries_left
            self.warn(
                f"Warning: Problem : {reason}. Will retry in {delay:g} second"
                f"{'' if delay == 1 else 's'}. {left} retr{'y' if left == 1 else 'ies'} left.\n"
            )
            sink.discard()
            self._close_active(active)
            self.waiting.append((now + delay, job))
            return
        sink.finish(code == 0)
        if code and op.remove_on_error and job.outfile is not None:
            with contextlib.suppress(OSError):
                os.unlink(job.outfile)
        if op.write_out:
            self._write_out(active, code, message)
        if code:
            self.error_line(code, message)
        self._account(active, code)
        self._close_active(active)
        if self.g.parallel:
            if code:
                self.result = code
        else:
            self.result = code
        if code and self.g.fail_early:
            self.stop = True

    def _account(self, active: Active, code: int) -> None:
        p = active.progress
        self.stats.transfers += 1
        self.stats.codes.append(code)
        try:
            down = int(active.curl.getinfo(pycurl.SIZE_DOWNLOAD_T))
            up = int(active.curl.getinfo(pycurl.SIZE_UPLOAD_T))
            self.stats.connects += int(active.curl.getinfo(pycurl.NUM_CONNECTS))
        except Exception:
            down, up = p.dlnow, p.ulnow
        self.stats.bytes_down += down
        self.stats.bytes_up += up
        self.totals.finished_dl += down
        self.totals.finished_ul += up
        if code:
            self.stats.failed += 1
            self.totals.failed += 1
        else:
            self.stats.ok += 1
            self.totals.done += 1

    def _close_active(self, active: Active) -> None:
        for cleanup in active.cleanups:
            with contextlib.suppress(OSError):
                cleanup()
        if active.header_dump is not None:
            active.header_dump.close()
        active.curl.close()

    def _write_out(self, active: Active, code: int, message: str) -> None:
        job = active.job
        assert job.op.write_out is not None
        fmt = job.op.write_out
        if fmt.startswith("@"):
            path = fmt[1:]
            try:
                if path == "-":
                    fmt = sys.stdin.read()
                else:
                    with open(path, encoding="utf-8", errors="replace") as f:
                        fmt = f.read()
            except OSError:
                self.warn(f"Warning: Failed to read {path}\n")
                return
        data = writeout.collect(
            active.curl,
            exitcode=code,
            errormsg=message or (pycurl.easy_strerror(code) if code else None),
            url=job.url,
            urlnum=job.urlnum,
            filename=job.outfile,
            headers=active.headers,
            num_retries=job.retry_count,
        )
        pieces = writeout.render(fmt, data, lambda m: self.warn(f"purecurl: {m}\n"))
        for target, text in pieces:
            if target == "stdout":
                self.stdout.write(os.fsencode(text))
                self.stdout.flush()
            elif target == "stderr":
                self._err(text)
            else:
                _, path, append = target
                try:
                    with open(path, "a" if append else "w", encoding="utf-8") as f:
                        f.write(text)
                except OSError:
                    self.warn(f"Warning: Failed to open {path}\n")

    # -- the loop --------------------------------------------------------------------------

    def _fill(self, now: float) -> None:
        while self.queue and len(self.active) < self.limit and not self.stop:
            if not self.g.parallel and self.active:
                return
            self.start(self.queue.popleft(), now)
        due = [item for item in self.waiting if item[0] <= now]
        for item in due:
            if len(self.active) >= self.limit:
                break
            self.waiting.remove(item)
            self.start(item[1], now)

    def _update_display(self, now: float) -> None:
        if self.display is not None:
            running = [a.progress for a in self.active.values()]
            self.display.update(now, self.totals, running)
        for active in self.active.values():
            if active.meter is not None:
                active.meter.update(now)

    def run(self, jobs: list[Job]) -> int:
        """Run every job; return the exit code."""
        g = self.g
        start = time.monotonic()
        self.queue.extend(jobs)
        self.totals.transfers = len(jobs)
        if g.trace_ascii is not None:
            if g.trace_ascii == "-":
                self.trace_file = self.stderr
            else:
                self.trace_file = open(g.trace_ascii, "w", encoding="latin-1")  # noqa: SIM115
        if g.parallel and self.show_progress:
            self.display = (
                LiveDisplay(self.stderr, start)
                if self.stderr_tty
                else ParallelMeter(self.stderr, start)
            )
        self.driver = SelectorDriver(self.multi, self._done)
        try:
            while True:
                now = time.monotonic()
                if not self.stop:
                    self._fill(now)
                if not self.active and (self.stop or (not self.queue and not self.waiting)):
                    break
                wait = 0.1 if self.show_progress else 1.0
                if self.waiting and not self.active:
                    wait = max(0.0, min(w for w, _ in self.waiting) - now)
                self.driver.step(wait)
                self._update_display(time.monotonic())
        finally:
            now = time.monotonic()
            for active in list(self.active.values()):
                self.multi.remove_handle(active.curl)
                active.sink.finish(False)
                self._close_active(active)
            self.active.clear()
            if self.display is not None:
                self.display.done(now, self.totals)
            self.driver.close()
            self.multi.close()
            if self.trace_file is not None and self.trace_file is not self.stderr:
                self.trace_file.close()
            self.stats.elapsed = now - start
        return self.result
