"""Through a real proxy server from PyPI (proxy.py, run as its own process), on purecurl and
the real pycurl alike: forwarding, CONNECT tunnels to http and https origins, and Basic
proxy credentials checked by the proxy."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.integration._util import fetch
from tests.servers import HttpServer, pattern_bytes
from tests.tls_certs import Pki
from tests.tls_servers import TlsHttpServer, server_context

pytest.importorskip("proxy", reason="proxy.py is in the test extra")


@pytest.fixture(scope="module")
def real_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    home = tmp_path_factory.mktemp("proxy-home")  # proxy.py keeps ~/.proxy
    port_file = home / "port"
    env = dict(os.environ, HOME=str(home))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "proxy",
            "--hostname",
            "127.0.0.1",
            "--port",
            "0",
            "--port-file",
            str(port_file),
            "--num-workers",
            "1",
            "--num-acceptors",
            "1",
            "--threaded",
            "--basic-auth",
            "user:pass",
            "--log-level",
            "ERROR",
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("proxy.py did not start")
            time.sleep(0.05)
        yield int(port_file.read_text())
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _via(port: int, userpwd: str = "user:pass") -> list[tuple[str, object]]:
    return [("PROXY", f"http://127.0.0.1:{port}"), ("PROXYUSERPWD", userpwd)]


def test_forwarded_get(mod: ModuleType, real_proxy: int) -> None:
    with HttpServer() as origin:
        out = fetch(mod, origin.url("/bytes/1000"), _via(real_proxy))
        assert (out.code, out.body) == (0, pattern_bytes(1000))
        # forwarded: the origin saw the request (proxy.py sends it on in origin form)
        assert origin.requests[0].path == "/bytes/1000"


def test_tunnel_to_http_origin(mod: ModuleType, real_proxy: int) -> None:
    with HttpServer() as origin:
        out = fetch(mod, origin.url("/bytes/2000"), [*_via(real_proxy), ("HTTPPROXYTUNNEL", 1)])
    assert (out.code, out.body) == (0, pattern_bytes(2000))
    assert b"HTTP/1.1 200" in out.headers[0]  # the CONNECT answer reaches HEADERFUNCTION


def test_tunnel_to_https_origin(mod: ModuleType, real_proxy: int, pki: Pki) -> None:
    with TlsHttpServer(server_context(pki.server)) as origin:
        out = fetch(
            mod,
            f"https://localhost:{origin.port}/bytes/3000",
            [*_via(real_proxy), ("CAINFO", str(pki.ca.cert_pem))],
        )
    assert (out.code, out.body) == (0, pattern_bytes(3000))


def test_wrong_proxy_password(mod: ModuleType, real_proxy: int, tmp_path: Path) -> None:
    with HttpServer() as origin:
        out = fetch(mod, origin.url("/bytes/10"), _via(real_proxy, "user:wrong"))
        tunnelled = fetch(
            mod, origin.url("/bytes/10"), [*_via(real_proxy, "user:wrong"), ("HTTPPROXYTUNNEL", 1)]
        )
    assert (out.code, out.response_code) == (0, 407)
    assert tunnelled.code == mod.E_COULDNT_CONNECT
    assert tunnelled.message == "CONNECT tunnel failed, response 407"
