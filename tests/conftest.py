"""Fixtures every test shares: the resource-leak check and the real servers.

Theory of operation
-------------------
`_no_leaks` is autouse and function-scoped, so it is set up before and torn down after every
other function-scoped fixture of a test (servers included): it snapshots the live threads and the
open file descriptors before the test and compares after it, allowing a short grace period (and a
`gc.collect()`, which also turns an unclosed socket's ResourceWarning into an error under
`filterwarnings = error`) for things that are finishing. A test that must leak says so with
`@pytest.mark.allow_leaks`.

Session-scoped fixtures (nginx) are set up before any function-scoped one, so what they start
is part of the "before" snapshot and never counts as a leak.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.nginx import Nginx, require_nginx
from tests.servers import HttpServer, Response, ServerFactory
from tests.tls_certs import Pki
from tests.tls_servers import pki_in

_GRACE = 2.0  # seconds a thread or descriptor may take to go away after the test
_FD_DIR = "/proc/self/fd"


_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "allow_leaks: skip the check for leaked threads and file descriptors"
    )
    config.addinivalue_line(
        "markers", "pure_xfail(reason): strict xfail for the purecurl run of a `mod` test"
    )
    # libcurl and purecurl both read the proxy variables at transfer time: a machine whose
    # environment names a proxy would send the loopback tests there. Tests that are about
    # the variables set them themselves.
    for name in _PROXY_VARIABLES:
        os.environ.pop(name, None)
        os.environ.pop(name.upper(), None)


def _open_fds() -> dict[int, str]:
    """Return {fd: what it points to} for this process; {} where /proc is absent."""
    try:
        names = os.listdir(_FD_DIR)
    except FileNotFoundError:
        return {}
    fds = {}
    for name in names:
        try:
            fds[int(name)] = os.readlink(f"{_FD_DIR}/{name}")
        except OSError:
            pass  # the descriptor os.listdir itself used, closed by now
    return fds


@dataclass(frozen=True)
class ResourceSnapshot:
    """The threads and file descriptors alive at one moment."""

    threads: frozenset[threading.Thread]
    fds: dict[int, str]

    @classmethod
    def take(cls) -> ResourceSnapshot:
        return cls(frozenset(threading.enumerate()), _open_fds())

    def leaks_since(self, before: ResourceSnapshot) -> list[str]:
        """Return descriptions of threads and descriptors alive now that were not `before`."""
        found = [
            f"thread {t.name!r} ({t.__class__.__name__})"
            for t in self.threads - before.threads
            if t.is_alive()
        ]
        # Compare counts, not numbers: a descriptor closed and another opened under the same
        # number is no leak, and a changed target shows which descriptor is new.
        if len(self.fds) > len(before.fds):
            new = {fd: target for fd, target in self.fds.items() if before.fds.get(fd) != target}
            extra = len(self.fds) - len(before.fds)
            found.append(f"{extra} file descriptor(s); new or changed: {new}")
        return found


def check_leaks(before: ResourceSnapshot, grace: float = _GRACE) -> list[str]:
    """Wait up to `grace` seconds for resources opened since `before` to go; return the rest."""
    deadline = time.monotonic() + grace
    while True:
        gc.collect()
        leaks = ResourceSnapshot.take().leaks_since(before)
        if not leaks or time.monotonic() >= deadline:
            return leaks
        time.sleep(0.01)


@pytest.fixture(autouse=True)
def _no_leaks(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("allow_leaks") is not None:
        yield
        return
    before = ResourceSnapshot.take()
    yield
    leaks = check_leaks(before)
    if leaks:
        pytest.fail("test leaked resources:\n  " + "\n  ".join(leaks), pytrace=False)


@pytest.fixture
def scripted() -> Iterator[ServerFactory]:
    """A factory of started `ScriptedServer`s (and `.http(routes)` for `HttpServer`s).

    Every server it made is stopped at the end of the test; a handler's exception then fails it.
    """
    factory = ServerFactory()
    try:
        yield factory
    finally:
        factory.stop_all()


DEFAULT_ROUTES = {
    "/": Response(body=b"hello\n", headers=[("Content-Type", "text/plain")]),
    "/hello": Response(body=b"hello\n", headers=[("Content-Type", "text/plain")]),
    "/empty": Response(204),
    "/notfound": Response(404, body=b"not found\n"),
}


@pytest.fixture
def server() -> Iterator[HttpServer]:
    """A started keep-alive `HttpServer` with `DEFAULT_ROUTES` and the built-in routes."""
    with HttpServer(DEFAULT_ROUTES) as http_server:
        yield http_server


@pytest.fixture(scope="session")
def nginx() -> Iterator[Nginx]:
    """A private nginx serving /128, /1k, /64k, /1m (see tests/nginx.py) for the session.

    Skipped when nginx is not installed, except under CI (`CI` set), where .ci/run installs it
    and its absence is a failure.
    """
    binary = require_nginx()
    with Nginx(binary) as server:
        yield server


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """The test PKI (tests/tls_certs.py): a CA, server, client, expired, wrong-host ...
    certificates, made once per run."""
    return pki_in(tmp_path_factory)
