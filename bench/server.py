"""The benchmark's nginx: tests.nginx.Nginx plus TLS, HTTP/2, big files and many connections.

Theory of operation
-------------------
`BenchNginx` reuses the test suite's launcher (temporary prefix, foreground nginx as our child,
graceful stop, prefix removal) and changes two things:

- the prefix also holds the big download (`/256m`, and `/big` of a size the runner picks to
  scale scenario B down) as *sparse* files made with `truncate`, so creating 256 MiB costs
  nothing and nginx serves it from the page cache of holes through sendfile; and a CA plus a
  server certificate for 127.0.0.1/localhost made with `cryptography` (ECDSA P-256), whose CA
  file the clients verify against;
- the config listens on four ports: plain HTTP/1.1, HTTPS with HTTP/1.1 only (scenario D, so
  ALPN cannot move a client to h2 behind our back), HTTPS with HTTP/2 (ALPN "h2") and h2c
  (HTTP/2 with prior knowledge, scenario E). nginx 1.22 spells HTTP/2 as a `listen` parameter.

Limits are raised for the scaling runs (10,000 concurrent keep-alive connections): worker
connections (bounded by the inherited hard file limit), that file limit and a listen backlog
of 4096.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import resource
import socket
import subprocess
import time
from pathlib import Path

from tests.nginx import Nginx, NginxError, find_nginx

__all__ = ["BIG_PATH", "BenchNginx", "find_nginx"]

BIG_PATH = "/256m"
_BIG_SIZE = 256 * 1024 * 1024

_CONFIG = """\
daemon off;
master_process on;
worker_processes {workers};
worker_rlimit_nofile {nofile};
{user}pid {prefix}/nginx.pid;
lock_file {prefix}/nginx.lock;
error_log {prefix}/error.log warn;

events {{
    worker_connections {connections};
}}

http {{
    access_log off;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 100000;
    keepalive_timeout 120s;
    http2_max_concurrent_streams 256;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    ssl_certificate {prefix}/server.pem;
    ssl_certificate_key {prefix}/server.key;
    root {prefix}/www;

    server {{
        listen 127.0.0.1:{http} backlog=4096;
        server_name localhost;
    }}
    server {{
        listen 127.0.0.1:{https} ssl backlog=4096;
        server_name localhost;
    }}
    server {{
        listen 127.0.0.1:{h2} ssl http2 backlog=4096;
        server_name localhost;
    }}
    server {{
        listen 127.0.0.1:{h2c} http2 backlog=4096;
        server_name localhost;
    }}
}}
"""


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


def write_certificates(directory: Path) -> Path:
    """Write ca.pem, server.pem and server.key for 127.0.0.1/localhost; return ca.pem's path."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=30)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "purecurl bench CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (directory / "ca.pem").write_bytes(ca.public_bytes(pem))
    (directory / "server.pem").write_bytes(leaf.public_bytes(pem))
    (directory / "server.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return directory / "ca.pem"


class BenchNginx(Nginx):
    """nginx on four loopback ports (HTTP/1.1, HTTPS, HTTPS+h2, h2c); a context manager."""

    def __init__(self, *, big_size: int = _BIG_SIZE, workers: int = 1) -> None:
        super().__init__(workers=workers)
        self.big_size = big_size
        self.ports: dict[str, int] = {}

    def __enter__(self) -> BenchNginx:
        self.start()
        return self

    @property
    def cainfo(self) -> str:
        """Path of the CA certificate that signed the server's certificate."""
        if self.prefix is None:
            raise RuntimeError("nginx not started")
        return str(self.prefix / "ca.pem")

    def scheme_url(self, kind: str, path: str) -> str:
        """Return the URL of `path` on the port `kind`: "http", "https", "h2" or "h2c"."""
        scheme = "https" if kind in ("https", "h2") else "http"
        return f"{scheme}://127.0.0.1:{self.ports[kind]}{path}"

    def _prepare_prefix(self, prefix: Path) -> None:
        super()._prepare_prefix(prefix)
        for name, size in (("256m", _BIG_SIZE), ("big", self.big_size)):
            with open(prefix / "www" / name, "wb") as f:
                f.truncate(size)  # sparse: no blocks written
        write_certificates(prefix)

    def _launch(self, prefix: Path) -> bool:
        """Run nginx on fresh ports; True once every port listens, False if nginx exited."""
        http, https, h2, h2c = _free_ports(4)
        self.ports = {"http": http, "https": https, "h2": h2, "h2c": h2c}
        self.port = http
        user = "user root;\n" if os.geteuid() == 0 else ""
        # nginx may not raise its file limit above the hard limit it inherits from us.
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        nofile = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
        conf = prefix / "nginx.conf"
        conf.write_text(
            _CONFIG.format(
                workers=self.workers,
                user=user,
                prefix=prefix,
                nofile=nofile,
                connections=nofile - 64,
                **self.ports,
            )
        )
        with open(prefix / "stderr.log", "ab") as stderr:
            self._process = subprocess.Popen(
                [self.binary, "-p", f"{prefix}/", "-c", str(conf), "-e", f"{prefix}/error.log"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        deadline = time.monotonic() + self.start_timeout
        waiting = set(self.ports.values())
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                return False
            for port in list(waiting):
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        waiting.discard(port)
                except OSError:
                    pass
            if not waiting:
                return True
            time.sleep(0.01)
        raise NginxError(f"nginx did not listen within {self.start_timeout}s:\n{self.error_log()}")
