"""A private nginx on 127.0.0.1 for keep-alive integration tests.

Theory of operation
-------------------
`Nginx.start()` makes a temporary prefix holding a generated nginx.conf, a document root with
files `/128`, `/1k`, `/64k` and `/1m` (that many bytes of `servers.pattern_bytes`), and every
path nginx writes (pid, lock, error log, temp dirs), so it runs as root or not and touches
nothing outside the prefix. nginx runs in the foreground (`daemon off`) as our child; we wait
until its port accepts a connection. `stop()` asks for a graceful shutdown (SIGQUIT), escalates
to SIGTERM then SIGKILL if it lingers, reaps the process and removes the prefix.

Keep-alive limits are raised (keepalive_requests 100000, keepalive_timeout 60s) so a benchmark
or a long test never sees nginx close a connection it would otherwise reuse.

With `http2=True` (opt-in; needs `tls`), the TLS listener offers h2 by ALPN (then http/1.1),
and a second cleartext port, `h2c_port`, speaks HTTP/2 with prior knowledge. How to say so
depends on the version (`nginx -v`): from 1.25.1 the `http2 on;` directive inside the server
block (the `http2` listen parameter is deprecated there); before, the `http2` parameter of
`listen`, with which the cleartext port speaks h2c only (1.25.1's also takes HTTP/1.1).
Before 1.19.7, HTTP/2 connections had their own request limit (`http2_max_requests`, 1000),
which is raised to match keepalive_requests.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from tests.servers import pattern_bytes

__all__ = ["FILES", "Nginx", "NginxError", "find_nginx", "nginx_version", "require_nginx"]

# Path served -> size in bytes; the body is pattern_bytes(size).
FILES = {"/128": 128, "/1k": 1024, "/64k": 64 * 1024, "/1m": 1024 * 1024}

_DEFAULT_BINARY = "/usr/sbin/nginx"

_CONFIG = """\
daemon off;
master_process on;
worker_processes {workers};
{user}pid {prefix}/nginx.pid;
lock_file {prefix}/nginx.lock;
error_log {prefix}/error.log warn;

events {{
    worker_connections 1024;
}}

http {{
    access_log off;
    default_type application/octet-stream;
    sendfile on;
    tcp_nodelay on;
    keepalive_requests 100000;
    keepalive_timeout 60s;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;

    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        root {prefix}/www;
    }}
{tls_server}}}
"""

# With a certificate: the same files over TLS on `tls_port` (keep-alive, session tickets on).
_TLS_SERVER = """\
    server {{
        listen 127.0.0.1:{tls_port} ssl{listen_http2};
        server_name localhost;
        root {prefix}/www;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
{http2}    }}
"""

# With http2: the same files over cleartext HTTP/2 (prior knowledge) on `h2c_port`.
_H2C_SERVER = """\
    server {{
        listen 127.0.0.1:{h2c_port}{listen_http2};
        server_name localhost;
        root {prefix}/www;
{http2}    }}
"""

_HTTP2_ON_SINCE = (1, 25, 1)  # `http2 on;`; the listen parameter is deprecated from here
_HTTP2_MAX_REQUESTS_UNTIL = (1, 19, 7)  # from here keepalive_requests covers HTTP/2 too


class NginxError(RuntimeError):
    """nginx did not start (the message carries its error log)."""


def find_nginx() -> str | None:
    """Return the path of the nginx binary, or None when it is not installed."""
    found = shutil.which("nginx")
    if found is not None:
        return found
    return _DEFAULT_BINARY if os.access(_DEFAULT_BINARY, os.X_OK) else None


def require_nginx() -> str:
    """The nginx binary for a test fixture: the test is skipped when nginx is not installed,
    except under CI (`CI` set), where .ci/run installs it and its absence is a failure."""
    import pytest  # here: the benchmarks import this module without pytest

    binary = find_nginx()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed but CI is set: .ci/run should have installed it")
        pytest.skip("nginx is not installed (apt-get install nginx)")
    return binary


@functools.lru_cache(maxsize=8)
def nginx_version(binary: str) -> tuple[int, ...]:
    """Return the version of the nginx at `binary` (from `nginx -v`), e.g. (1, 22, 1).

    Raises NginxError if it cannot be run or does not say.
    """
    try:
        done = subprocess.run(
            [binary, "-v"], capture_output=True, timeout=10, check=False, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NginxError(f"cannot run {binary} -v: {exc}") from exc
    text = (done.stderr + done.stdout).decode(errors="replace")
    found = re.search(r"nginx/(\d+(?:\.\d+)*)", text)
    if found is None:
        raise NginxError(f"{binary} -v did not give a version: {text!r}")
    return tuple(int(part) for part in found.group(1).split("."))


def _free_port() -> int:
    # nginx binds the port itself, so there is a window in which another process could take
    # it; start() retries on a bind failure.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Nginx:
    """One nginx process serving FILES on 127.0.0.1:`port`; a context manager."""

    def __init__(
        self,
        binary: str | None = None,
        *,
        workers: int = 1,
        start_timeout: float = 10.0,
        tls: tuple[Path, Path] | None = None,
        http2: bool = False,
    ) -> None:
        if http2 and tls is None:
            raise ValueError("http2 needs tls (h2 is offered on the TLS listener)")
        self.binary = binary or find_nginx() or _DEFAULT_BINARY
        self.workers = workers
        self.start_timeout = start_timeout
        self.tls = tls  # (certificate chain, key) PEM files: also serve HTTPS on tls_port
        self.http2 = http2  # h2 by ALPN on tls_port, and h2c (prior knowledge) on h2c_port
        self.tls_port = 0
        self.h2c_port = 0
        self.port = 0
        self.prefix: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        pid = self._process.pid if self._process is not None else None
        return f"<Nginx port={self.port} pid={pid}>"

    @property
    def root(self) -> Path:
        """The document root."""
        if self.prefix is None:
            raise RuntimeError("nginx not started")
        return self.prefix / "www"

    def url(self, path: str = "/") -> str:
        """Return "http://127.0.0.1:PORT/path"."""
        if not self.port:
            raise RuntimeError("nginx not started")
        if not path.startswith("/"):
            path = "/" + path
        return f"http://127.0.0.1:{self.port}{path}"

    def tls_url(self, path: str = "/") -> str:
        """Return "https://localhost:TLS_PORT/path" (needs `tls`)."""
        if not self.tls_port:
            raise RuntimeError("nginx not started with tls")
        return f"https://localhost:{self.tls_port}{path}"

    def h2c_url(self, path: str = "/") -> str:
        """Return "http://127.0.0.1:H2C_PORT/path", the HTTP/2 prior-knowledge port (needs
        `http2`)."""
        if not self.h2c_port:
            raise RuntimeError("nginx not started with http2")
        if not path.startswith("/"):
            path = "/" + path
        return f"http://127.0.0.1:{self.h2c_port}{path}"

    @staticmethod
    def expected_body(path: str) -> bytes:
        """Return the bytes nginx serves for one of FILES."""
        return pattern_bytes(FILES[path])

    def error_log(self) -> str:
        """Return nginx's error log so far ("" when there is none)."""
        if self.prefix is None:
            return ""
        try:
            return (self.prefix / "error.log").read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def start(self) -> Nginx:
        """Start nginx and wait until it accepts connections; return self.

        Raises NginxError if it exits or does not listen within `start_timeout`.
        """
        if self._process is not None:
            raise RuntimeError("nginx already running")
        self.prefix = Path(tempfile.mkdtemp(prefix="purecurl-nginx-"))
        try:
            self._prepare_prefix(self.prefix)
            for _attempt in range(3):
                if self._launch(self.prefix):
                    return self
            raise NginxError(f"nginx did not start:\n{self.error_log()}")
        except BaseException:
            self.stop()
            raise

    def _prepare_prefix(self, prefix: Path) -> None:
        (prefix / "www").mkdir()
        (prefix / "tmp").mkdir()
        for path, size in FILES.items():
            (prefix / "www" / path.lstrip("/")).write_bytes(pattern_bytes(size))

    def _launch(self, prefix: Path) -> bool:
        """Run nginx on a fresh port; True once it listens, False if it exited (port taken)."""
        self.port = _free_port()
        tls_server = ""
        if self.tls is not None:
            self.tls_port = _free_port()
            cert, key = self.tls
            listen_http2, http2 = self._http2_directives()
            tls_server = _TLS_SERVER.format(
                tls_port=self.tls_port,
                listen_http2=listen_http2,
                prefix=prefix,
                cert=cert,
                key=key,
                http2=http2,
            )
            if self.http2:
                self.h2c_port = _free_port()
                tls_server += _H2C_SERVER.format(
                    h2c_port=self.h2c_port, listen_http2=listen_http2, prefix=prefix, http2=http2
                )
        # Workers drop privileges to `user` only when the master is root; the default user
        # (nobody) could not read our 0700 prefix, so a root master keeps root. Without root
        # the directive only draws a warning, so it is left out.
        user = "user root;\n" if os.geteuid() == 0 else ""
        conf = prefix / "nginx.conf"
        conf.write_text(
            _CONFIG.format(
                workers=self.workers,
                user=user,
                prefix=prefix,
                port=self.port,
                tls_server=tls_server,
            )
        )
        with open(prefix / "stderr.log", "ab") as stderr:
            # -e: the error log to use before the config is read (the compiled-in path may not
            # be writable); -p: the prefix for any relative path.
            self._process = subprocess.Popen(
                [self.binary, "-p", f"{prefix}/", "-c", str(conf), "-e", f"{prefix}/error.log"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.01)
        raise NginxError(f"nginx did not listen within {self.start_timeout}s:\n{self.error_log()}")

    def _http2_directives(self) -> tuple[str, str]:
        """Return what enables HTTP/2 in a server block: (a `listen` parameter, directives)."""
        if not self.http2:
            return "", ""
        version = nginx_version(self.binary)
        if version >= _HTTP2_ON_SINCE:
            return "", "        http2 on;\n"
        if version < _HTTP2_MAX_REQUESTS_UNTIL:
            return " http2", "        http2_max_requests 100000;\n"
        return " http2", ""

    def stop(self, timeout: float = 5.0) -> None:
        """Stop nginx (graceful, then forceful), reap it and remove its prefix. Idempotent."""
        process, self._process = self._process, None
        try:
            if process is not None:
                for sig in (signal.SIGQUIT, signal.SIGTERM, signal.SIGKILL):
                    with contextlib.suppress(ProcessLookupError):
                        process.send_signal(sig)
                    try:
                        process.wait(timeout)
                        break
                    except subprocess.TimeoutExpired:
                        continue
        finally:
            if self.prefix is not None:
                shutil.rmtree(self.prefix, ignore_errors=True)
                self.prefix = None
            self.port = 0
            self.h2c_port = 0

    def __enter__(self) -> Nginx:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
