"""Running the parsed command: one `Job` per URL, every one a `Curl` on one `CurlMulti`.

Theory of operation: `build_jobs` turns the operations into jobs (globs expanded, output
names chosen, `-G` data moved into the query). `Runner` owns one `CurlMulti` driven by the
selectors driver through the multi_socket API, and keeps at most `limit` jobs in it: 1 for
curl's serial mode (the one multi keeps its connection pool, so a second URL on the same
host reuses the connection, as curl's reused easy handle does), `--parallel-max` with `-Z`.
Each job writes through an `OutputSink` that opens its file on the first byte (an `-f` failure
creates no file; an empty body creates an empty one after success, as curl does). The sink
also owns curl's naming rules (src/tool_cb_wrt.c tool_create_output_file): `--no-clobber`
never overwrites and tries `name.1` ... `name.99` instead, a `-J` name taken from the server's
Content-Disposition is not written over an existing file unless `--clobber` allows it, and
with `-i -J` the header lines wait in the sink until the file's name is known. When a job
ends, the runner prints `-w`, the error line (`purecurl: (N) message`), schedules a `--retry`
if the failure is transient, and starts the next job. A failed download leaves its partial
file in place, as curl does, unless `--remove-on-error` is given; the exit code says it failed.

`-v`/`--trace`/`--trace-ascii` go through each handle's DEBUGFUNCTION to trace.py's formats.
`--fail-early` stops at the first failure: no new transfer starts and, in parallel mode, the
running ones are ended with curl's "Transfer aborted due to critical error in another
transfer" (src/tool_operate.c check_finished()).

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
from purecurl.cli import trace, writeout
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
# curl's helpf() hint line (src/tool_helpers.c), with our name.
HINT = "try 'purecurl --help' or 'purecurl --manual' for more information"
DEFAULT_REMOTE_NAME = "curl_response"
E_FAILED_INIT = 2
E_URL_MALFORMAT = 3
E_HTTP_RETURNED_ERROR = 22
E_WRITE_ERROR = 23
E_READ_ERROR = 26
E_OPERATION_TIMEDOUT = 28
E_COULDNT_CONNECT = 7
E_COULDNT_RESOLVE_PROXY = 5
E_COULDNT_RESOLVE_HOST = 6
E_UNSUPPORTED_PROTOCOL = 1
E_ABORTED_BY_CALLBACK = 42
ABORTED_BY_OTHER = "Transfer aborted due to critical error in another transfer"
# --no-clobber's numbered names stop here (src/tool_cb_wrt.c: next_num < 100).
NO_CLOBBER_TRIES = 100
# curl's --retry treats these HTTP responses as transient (docs/cmdline-opts/retry.md).
RETRY_HTTP_CODES = frozenset({408, 429, 500, 502, 503, 504, 522, 524})
RETRY_MAX_DELAY = 600.0

_BINARY_WARNING = (
    'Warning: Binary output can mess up your terminal. Use "--output -" to tell\n'
    'Warning: purecurl to output it to your terminal anyway, or consider "--output\n'
    'Warning: <FILE>" to save to a file.\n'
)


class FatalError(Exception):
    """A failure that stops the whole run (`purecurl: (code) message`).

    `usage` is a line curl prints with its help hint before the error line (as for an upload
    file that cannot be opened); `stops_run` ends the run after this transfer even in serial
    mode, as a failure in curl's pre_transfer() does.
    """

    def __init__(
        self, code: int, message: str, *, usage: str | None = None, stops_run: bool = False
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.usage = usage
        self.stops_run = stops_run


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
    # The name came from the URL (-O, --remote-name-all): -J may replace it.
    remote: bool = False
    retries_left: int = 0
    retry_count: int = 0
    first_start: float = 0.0
    next_delay: float = 1.0


# -- building the jobs ----------------------------------------------------------------------


def _with_scheme(url: str) -> str:
    if "://" in url.split("?", 1)[0]:
        return url
    return "http://" + url


def remote_name(url: str) -> str | None:
    """-O: the file name part of the URL's path (query and fragment cut off), as curl 8's
    get_url_file_name() picks it: after the last slash or backslash, and for a path ending
    in a slash the last directory's name. None when the path has none: the caller uses
    curl's default name and says so."""
    rest = url.split("://", 1)[-1]
    for sep in "?#":
        rest = rest.split(sep, 1)[0]
    slash = rest.find("/")
    path = rest[slash:] if slash >= 0 else "/"
    for attempt in range(2):
        cut = path.rfind("/")
        backslash = path.rfind("\\", cut + 1)
        if backslash >= 0:
            cut = backslash
        if cut < 0:
            return None
        if cut == len(path) - 1 and attempt == 0:
            path = path[:cut]
            continue
        break
    return path[cut + 1 :]


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
                else:
                    # curl appends either the -G data or the --url-query parts, never both
                    # (src/tool_operate.c: httpgetfields ? httpgetfields : config->query).
                    for q in op.url_queries:
                        url = _append_query(url, q)
                upload = node.upload
                if upload is not None and upload != "-" and url.endswith("/"):
                    url += os.path.basename(upload)
                outfile: str | None = None
                explicit = False
                remote = False
                if node.outfile is not None:
                    if node.outfile == "-":
                        explicit = True
                    else:
                        outfile = fill_output_name(node.outfile, expansion.values)
                elif node.remote_name or (op.remote_name_all and not node.has_out):
                    outfile = remote_name(url)
                    if outfile is None:
                        outfile = DEFAULT_REMOTE_NAME
                        if not g.silent:
                            sys.stderr.write(
                                f'Warning: No remote file name, uses "{DEFAULT_REMOTE_NAME}"\n'
                            )
                    remote = True
                if outfile is not None and op.output_dir and not os.path.isabs(outfile):
                    outfile = os.path.join(op.output_dir, outfile)
                jobs.append(
                    Job(op, url, urlnum, outfile, upload, explicit, remote, retries_left=op.retry)
                )
            urlnum += 1
    return jobs


# -- where the bytes go --------------------------------------------------------------------


def _parse_filename(raw: bytes, quoted_stop: bool) -> str | None:
    """src/tool_cb_hdr.c parse_filename(): the name in a Content-Disposition `filename=`
    value with any path cut off; None when nothing is left after the last separator."""
    text = raw
    if quoted_stop:
        stop = b";"
        if text[:1] in (b"'", b'"'):
            stop = text[:1]
            text = text[1:]
        text = text.split(stop, 1)[0]
    # Only the last path part is used: a server must not choose where the file goes
    # (docs/cmdline-opts/remote-header-name.md). Backslashes count too, on every system.
    for sep in (b"/", b"\\"):
        if sep in text:
            text = text.rsplit(sep, 1)[1]
            if not text:
                return None
    for end in (b"\r", b"\n"):
        text = text.split(end, 1)[0]
    return os.fsdecode(text)


def disposition_filename(line: bytes) -> str | None:
    """The file name of a `Content-Disposition:` header line, as curl's -J takes it: the
    `filename=` parameter only (not `filename*=`), unquoted, without any path; None when the
    line is not that header or names no file."""
    prefix = b"content-disposition:"
    if len(line) <= len(prefix) or line[: len(prefix)].lower() != prefix:
        return None
    p = len(prefix)
    end = len(line)
    while True:
        # ASCII letters only, as curl's ISALPHA.
        while p < end and not (0x41 <= (line[p] | 0x20) - 0x20 <= 0x5A):
            p += 1
        if p > end - 9:
            return None
        if line[p : p + 9] != b"filename=":
            semi = line.find(b";", p)
            if semi < 0:
                return None
            p = semi
            continue
        p += 9
        while p < end and line[p] in b" \t":
            p += 1
        return _parse_filename(line[p:], True)


class OutputSink:
    """The body (and with -i the headers) of one transfer: stdout or a file opened on the
    first byte, named and opened by curl's rules (see the module docstring)."""

    def __init__(self, job: Job, stdout: BinaryIO, stdout_tty: bool, warn: Callable[[str], None]):
        self.job = job
        self.stdout = stdout
        self.check_binary = stdout_tty and job.outfile is None and not job.explicit_stdout
        self.warn = warn
        self.path: str | None = job.outfile
        self.file: IO[bytes] | None = None
        self.written = 0
        self.failed_open = False
        self.binary_refused = False
        self.resume_from = 0
        # -J: the name came from the server, so an existing file is not overwritten by default.
        self.cd_name = False
        # -i with -J: header lines wait here until the file's name is known.
        self.awaiting_name = job.remote and job.op.remote_header_name and job.op.include
        self.held: list[bytes] = []

    def _create(self, path: str) -> IO[bytes]:
        """Open `path` for writing as curl would; raises OSError. May change self.path."""
        clobber = self.job.op.clobber
        if self.resume_from:
            return open(path, "ab")
        if clobber is True or (clobber is None and not self.cd_name):
            return open(path, "wb")
        flags = os.O_CREAT | os.O_WRONLY | os.O_EXCL | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(path, flags, 0o666)
        except (FileExistsError, IsADirectoryError):
            if clobber is not False:
                raise
            # --no-clobber: the first free name of path.1 ... path.99.
            for n in range(1, NO_CLOBBER_TRIES):
                candidate = f"{path}.{n}"
                try:
                    fd = os.open(candidate, flags, 0o666)
                except (FileExistsError, IsADirectoryError):
                    continue
                self.path = candidate
                break
            else:
                raise
        return os.fdopen(fd, "wb")

    def _open(self) -> IO[bytes] | None:
        path = self.path
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
            self.file = self._create(path)
        except OSError as exc:
            self.failed_open = True
            self.warn(f"Warning: Failed to open the file {path}: {exc.strerror}\n")
            return None
        return self.file

    def name_from_server(self, name: str) -> bool:
        """-J: save under `name` (in --output-dir) instead; opens it now, as curl does.
        Returns False when the file cannot be created (it exists, and no --clobber)."""
        if self.file is not None:
            return False
        output_dir = self.job.op.output_dir
        self.path = os.path.join(output_dir, name) if output_dir else name
        self.cd_name = True
        self.awaiting_name = False
        f = self._open()
        if f is None:
            return False
        return self._flush_held(f)

    def _flush_held(self, f: IO[bytes]) -> bool:
        try:
            for line in self.held:
                f.write(line)
        except OSError:
            return False
        finally:
            self.held.clear()
        return True

    def write_header(self, line: bytes) -> int | None:
        """-i: a header line into the output (held back while -J may still rename it)."""
        if self.awaiting_name:
            self.held.append(line)
            return None
        return self.write(line)

    def write(self, data: bytes) -> int | None:
        if self.check_binary and self.written == 0 and b"\0" in data[:2000]:
            self.binary_refused = True
            self.warn(_BINARY_WARNING)
            return -1
        f = self._open()
        if f is None:
            return -1
        self.awaiting_name = False
        if self.held and not self._flush_held(f):
            return -1
        try:
            f.write(data)
        except OSError:
            return -1
        self.written += len(data)
        return None

    def finish(self, ok: bool) -> None:
        """Close the file; an empty successful download still creates it."""
        if ok and self.path is not None and self.file is None and not self.failed_open:
            f = self._open()
            if f is not None and self.held:
                self._flush_held(f)
        if self.file is not None:
            self.file.close()
            self.file = None
        elif self.path is None:
            with contextlib.suppress(OSError):
                self.stdout.flush()

    def discard(self) -> None:
        """Forget what was written (a retry starts over)."""
        if self.file is not None:
            self.file.close()
            self.file = None
        if self.path is not None and self.written and not self.resume_from:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
        self.written = 0


class EtagSave:
    """--etag-save: the ETag of a 2xx/3xx response, one line, in a file or on stdout.

    The file is opened for appending when the transfer is set up (so it exists even when no
    ETag comes) and truncated just before an ETag is written, as src/tool_cb_hdr.c does.
    """

    def __init__(self, path: str, stdout: BinaryIO, create_dirs: bool) -> None:
        self.stdout = stdout
        self.file: IO[bytes] | None = None
        if path != "-":
            if create_dirs and os.path.dirname(path):
                os.makedirs(os.path.dirname(path), exist_ok=True)
            self.file = open(path, "ab")  # noqa: SIM115

    def header(self, line: bytes) -> None:
        if line[:5].lower() != b"etag:" or not line.endswith(b"\n"):
            return
        value = line[5:].lstrip(b" \t").rstrip()
        if not value:
            return
        if self.file is None:
            self.stdout.write(value + b"\n")
            self.stdout.flush()
            return
        self.file.seek(0)
        self.file.truncate()
        self.file.write(value + b"\n")
        self.file.flush()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


def etag_compare_header(path: str, warn: Callable[[str], None]) -> str:
    """--etag-compare: `If-None-Match:` with the file's content (line ends removed), or an
    empty ETag when the file is empty or missing (docs/cmdline-opts/etag-compare.md)."""
    try:
        with open(path, "rb") as f:
            content = f.read()
    except OSError as exc:
        warn(f"Warning: Failed to open {path}: {exc.strerror}\n")
        content = b""
    etag = content.replace(b"\r", b"").replace(b"\n", b"")
    return "If-None-Match: " + (etag.decode("latin-1") if etag else '""')


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


# -- setting up a handle --------------------------------------------------------------------

# --http1.0, --http1.1, --http2, --http2-prior-knowledge -> CURLOPT_HTTP_VERSION, as
# src/tool_getparam.c sets them (--http2 is CURL_HTTP_VERSION_2_0: HTTP/2 over TLS by ALPN,
# and the Upgrade dance on http://).
HTTP_VERSIONS: dict[str, int] = {
    "1.0": pycurl.CURL_HTTP_VERSION_1_0,
    "1.1": pycurl.CURL_HTTP_VERSION_1_1,
    "2": pycurl.CURL_HTTP_VERSION_2_0,
    "2-prior": pycurl.CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE,
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


def setup_handle(
    curl: Any, job: Job, g: GlobalConfig, warn: Callable[[str], None] = lambda text: None
) -> list[Callable[[], None]]:
    """Set every option of `job` on `curl`. Returns clean-up actions (files to close);
    `warn` gets curl's warnings (shown unless -s).

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
    if op.etag_compare is not None:
        headers.append(etag_compare_header(op.etag_compare, warn))
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
                # src/tool_operate.c pre_transfer(): a usage-style line, then the run ends
                # with the transfer's error.
                raise FatalError(
                    E_READ_ERROR,
                    "Failed to open/read local data from file/application",
                    usage=f"cannot open '{job.upload}'",
                    stops_run=True,
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
        s(pycurl.HTTP_VERSION, HTTP_VERSIONS[op.http_version])
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
    aborted: bool = False  # ended by --fail-early because another transfer failed


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


def _status_code(line: bytes) -> int:
    """The status of an `HTTP/x yyy reason` line (0 if it is not one)."""
    parts = line.split(None, 2)
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return int(parts[1])
    return 0


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
        self.abort_running = False  # --fail-early in parallel mode: end the others next turn
        self.trace_out: trace.TraceOutput | None = None
        self.tracer: trace.TraceFormatter | None = None
        self.display: ParallelMeter | LiveDisplay | None = None
        self.show_progress = not g.silent and g.progress_meter

    # -- messages --------------------------------------------------------------------------

    def warn(self, text: str) -> None:
        if not self.g.silent:
            self._err(text)

    def _before_stderr(self) -> None:
        if self.display is not None and isinstance(self.display, LiveDisplay):
            # Keep the live view below the message.
            self.display.drawn_lines = 0
        with contextlib.suppress(OSError, ValueError):
            self.stdout.flush()

    def _err(self, text: str) -> None:
        self._before_stderr()
        self.stderr.write(text)
        self.stderr.flush()

    def error_line(self, code: int, message: str) -> None:
        """`purecurl: (N) message`, shown unless -s without -S."""
        if self.g.silent and not self.g.show_error:
            return
        self._err(f"purecurl: ({code}) {message or pycurl.easy_strerror(code)}\n")

    # -- starting --------------------------------------------------------------------------

    def _debug(self, job: Job, infotype: int, data: bytes) -> None:
        if self.tracer is None or self.trace_out is None:
            return
        # curl leaves out plain mode's "[N bytes data]" when this transfer's body goes to a
        # terminal and the trace shares stdout or stderr with it.
        to_terminal = self.stdout_tty and job.outfile is None
        self.tracer.show_data = not (to_terminal and self.trace_out.to_std_stream)
        self.trace_out.write(self.tracer.format(infotype, bytes(data)))

    def _note(self, text: str) -> None:
        """curl's notef(): shown only while tracing (-v, --trace...)."""
        if self.g.trace_type is not None:
            self._err(f"Note: {text}\n")

    def start(self, job: Job, now: float) -> None:
        op = job.op
        if op.skip_existing and job.outfile is not None and os.path.exists(job.outfile):
            # --skip-existing (curl 8.10): a file already there means nothing to do.
            self._note(f'skips transfer, "{job.outfile}" exists locally')
            self.totals.transfers -= 1
            return
        etag: EtagSave | None = None
        if op.etag_save is not None:
            try:
                etag = EtagSave(op.etag_save, self.stdout, op.create_dirs)
            except OSError:
                # src/tool_operate.c: a warning, and this transfer is skipped.
                self.warn(
                    f'Warning: Failed creating file for saving etags: "{op.etag_save}". '
                    "Skip this transfer\n"
                )
                self.totals.transfers -= 1
                return
        curl = pycurl.Curl()
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
        if etag is not None:
            active.cleanups.append(etag.close)
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
            active.cleanups += setup_handle(curl, job, self.g, self.warn)
            self._set_callbacks(active, etag)
            if self.g.parallel:
                # src/tool_operate.c add_parallel_transfers(): in parallel mode a transfer
                # waits for a connection that may multiplex (HTTP/2) rather than open one of
                # its own, unless --parallel-immediate.
                curl.setopt(pycurl.PIPEWAIT, 0 if self.g.parallel_immediate else 1)
        except FatalError as exc:
            if exc.usage is not None:
                # curl's helpf(): shown even with -s.
                self._err(f"purecurl: {exc.usage}\npurecurl: {HINT}\n")
            if exc.stops_run:
                self.stop = True
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

    def _set_callbacks(self, active: Active, etag: EtagSave | None) -> None:
        job, curl, sink, dump = active.job, active.curl, active.sink, active.header_dump
        op = job.op
        include = op.include or op.head
        headers = active.headers
        http = job.url.lower().startswith(("http://", "https://"))
        # -J looks for a name while the responses are 2xx or 3xx (src/tool_cb_hdr.c).
        honour_cd = job.remote and op.remote_header_name and http
        status = 0

        def on_header(line: bytes) -> int | None:
            nonlocal status, honour_cd
            line = bytes(line)
            text = line.decode("latin-1")
            if text.startswith("HTTP/"):
                headers.clear()
                status = _status_code(line)
            elif ":" in text and not text[:1].isspace():
                name, _, value = text.partition(":")
                headers.append((name, value.strip()))
            if dump is not None:
                try:
                    dump.write(line)
                except OSError:
                    return -1
            if http and status // 100 in (2, 3):
                if etag is not None and line[:5].lower() == b"etag:":
                    etag.header(line)
                elif honour_cd:
                    filename = disposition_filename(line)
                    if filename is not None:
                        honour_cd = False
                        if not sink.name_from_server(filename):
                            return -1
            if include:
                return sink.write_header(line)
            return None

        def on_progress(dltotal: int, dlnow: int, ultotal: int, ulnow: int) -> int:
            active.progress.set(dltotal, dlnow, ultotal, ulnow)
            return 0

        curl.setopt(pycurl.WRITEFUNCTION, sink.write)
        curl.setopt(pycurl.HEADERFUNCTION, on_header)
        curl.setopt(pycurl.NOPROGRESS, 0)
        curl.setopt(pycurl.XFERINFOFUNCTION, on_progress)
        if self.tracer is not None:
            curl.setopt(pycurl.VERBOSE, 1)
            curl.setopt(pycurl.DEBUGFUNCTION, lambda t, d: self._debug(job, t, d))

    # -- finishing -------------------------------------------------------------------------

    def _retry_reason(self, job: Job, code: int, response: int) -> str | None:
        """Why to retry, in curl's words (src/tool_operate.c post_per_transfer())."""
        op = job.op
        if job.retries_left <= 0:
            return None
        if code in (E_OPERATION_TIMEDOUT, E_COULDNT_RESOLVE_HOST, E_COULDNT_RESOLVE_PROXY):
            return ": timeout"
        if code == E_COULDNT_CONNECT and op.retry_connrefused:
            return ": connection refused"
        if response in RETRY_HTTP_CODES and (code == 0 or code == E_HTTP_RETURNED_ERROR):
            return ": HTTP error"
        if code and op.retry_all_errors:
            return "(retrying all errors)"
        return None

    def _done(self, curl: Any, code: int, message: str) -> None:
        active = self.active.pop(id(curl))
        self._finish(active, code, message, time.monotonic())

    def _finish(self, active: Active, code: int, message: str, now: float) -> None:
        """A transfer ended: in curl's order (src/tool_operate.c post_per_transfer()), the
        error line, then a --retry decision, then the output file, -w and the exit code."""
        job, curl, sink = active.job, active.curl, active.sink
        op = job.op
        self.totals.running -= 1
        response = 0
        with contextlib.suppress(Exception):
            response = int(curl.getinfo(pycurl.RESPONSE_CODE))
        if sink.binary_refused:
            code, message = E_WRITE_ERROR, ""
        if active.aborted and code == E_ABORTED_BY_CALLBACK:
            message = ABORTED_BY_OTHER
        if active.meter is not None:
            # libcurl shows no meter for a URL it refused before starting.
            never_started = code in (E_UNSUPPORTED_PROTOCOL, E_URL_MALFORMAT)
            if not (never_started and not active.meter.drawn):
                active.meter.done(now)
        # Every failed attempt gets its line, retried or not (the binary warning stands in
        # for it, as curl's synthetic error does).
        if code and not sink.binary_refused:
            self.error_line(code, message)
        elif code == 0 and op.fail_with_body and response >= 400:
            code, message = E_HTTP_RETURNED_ERROR, f"The requested URL returned error: {response}"
            self.error_line(code, message)
        stopping = self.stop or active.aborted
        delay = None if stopping else self._retry_delay(active, code, response, now)
        if delay is not None:
            sink.discard()
            self._close_active(active)
            self.waiting.append((now + delay, job))
            return
        sink.finish(code == 0)
        if code and op.remove_on_error and sink.path is not None:
            try:
                os.unlink(sink.path)
                self._note(f"Removed output file: {sink.path}")
            except FileNotFoundError:
                pass
            except OSError:
                self.warn(f"Warning: Failed removing: {sink.path}\n")
        if op.write_out:
            self._write_out(active, code, message)
        self._account(active, code)
        self._close_active(active)
        if self.g.parallel:
            # An aborted transfer's 42 does not hide the failure that caused it.
            if code and (not active.aborted or not self.result):
                self.result = code
        else:
            self.result = code
        if code and self.g.fail_early and not active.aborted:
            self.stop = True
            if self.g.parallel and self.active:
                self.abort_running = True

    def _retry_delay(self, active: Active, code: int, response: int, now: float) -> float | None:
        """Seconds until the retry of a failed attempt, or None for no retry; warns as curl's
        retrycheck() does."""
        job = active.job
        op = job.op
        if op.retry_max_time and now - job.first_start >= op.retry_max_time:
            return None
        reason = self._retry_reason(job, code, response)
        if reason is None:
            return None
        delay = op.retry_delay if op.retry_delay else job.next_delay
        if reason == ": HTTP error":
            # A Retry-After: longer than our delay wins (RFC 9110 section 10.2.3).
            retry_after = 0
            with contextlib.suppress(Exception):
                retry_after = int(active.curl.getinfo(pycurl.RETRY_AFTER))
            if retry_after > delay:
                delay = float(retry_after)
                if op.retry_max_time and now + delay - job.first_start > op.retry_max_time:
                    self.warn(
                        "Warning: The Retry-After: time would make this command line exceed "
                        "the maximum allowed time for retries.\n"
                    )
                    return None
        whole = int(delay)  # curl says it in whole seconds
        left = job.retries_left
        self.warn(
            f"Warning: Problem {reason}. Will retry in {whole} second{'' if whole == 1 else 's'}."
            f" {left} retr{'ies' if left > 1 else 'y'} left.\n"
        )
        if active.sink.written and active.sink.path is not None:
            self._note(f"Throwing away {active.sink.written} bytes")
        if not op.retry_delay:
            job.next_delay = min(RETRY_MAX_DELAY, job.next_delay * 2)
        job.retries_left -= 1
        job.retry_count += 1
        return delay

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
            filename=active.sink.path,
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

    def _abort_running(self, now: float) -> None:
        """--fail-early: end every running transfer as curl's aborting progress callback does."""
        self.abort_running = False
        for key, active in list(self.active.items()):
            self.multi.remove_handle(active.curl)
            del self.active[key]
            active.aborted = True
            self._finish(active, E_ABORTED_BY_CALLBACK, ABORTED_BY_OTHER, now)
        self.waiting.clear()

    def _update_display(self, now: float) -> None:
        if self.display is not None:
            running = [a.progress for a in self.active.values()]
            self.display.update(now, self.totals, running)
        for active in self.active.values():
            if active.meter is not None:
                active.meter.update(now)

    def _start_trace(self) -> None:
        g = self.g
        if g.trace_type is None or g.trace_dump is None:
            return
        self.trace_out = trace.TraceOutput(
            g.trace_dump, self.stdout, self.stderr, self._before_stderr
        )
        self.tracer = trace.TraceFormatter(g.trace_type, with_time=g.trace_time)

    def run(self, jobs: list[Job]) -> int:
        """Run every job; return the exit code."""
        g = self.g
        start = time.monotonic()
        self.queue.extend(jobs)
        self.totals.transfers = len(jobs)
        self._start_trace()
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
                if self.abort_running:
                    self._abort_running(now)
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
            if self.trace_out is not None:
                self.trace_out.close()
            self.stats.elapsed = now - start
        return self.result
