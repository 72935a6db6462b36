"""Fixtures of the batch tests: local "hosts" that count connections, and Dask clusters.

Theory of operation
-------------------
The root conftest.py checks every test for leaked threads and descriptors. Dask keeps two
things for the life of a process once it has used them: its offload thread
(`distributed.utils._offload_executor`) and multiprocessing's resource tracker (a child
process and the pipe to it, started by the first worker process). `_dask_process_singletons`
starts both once per session, before any test's snapshot, so they are not mistaken for a
test's leaks; everything a test starts (clusters, clients, servers) it also stops.

No Dask warning is filtered (the suite runs with `filterwarnings = error`): the clusters put
the scheduler's HTTP server on a free port (`dashboard_address=":0"`), since on the default
8787, which another cluster may hold, Dask warns and moves.

`hosts(n)` starts n `CountingServer`s: each listens on its own port, so each is a different
host for politeness (host name + port, as libcurl counts). `thread_cluster` is a LocalCluster
of two single-threaded workers as threads of this process (fast to start; the partitions
still run on two separate workers, each with its own multi handle); tests that kill a worker
process start a process cluster themselves.

The module under test comes from `tests.module_fixtures` like the other tiers, although a
batch always runs on purecurl (`pure`).
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing.resource_tracker
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from distributed import Client

from tests.batch._servers import CountingServer
from tests.module_fixtures import pure
from tests.servers import stop_all

__all__ = ["pure"]


@pytest.fixture(scope="session", autouse=True)
def _dask_process_singletons() -> None:
    from distributed.utils import _offload_executor

    _offload_executor.submit(lambda: None).result()
    multiprocessing.resource_tracker.ensure_running()


HostFactory = Callable[..., list[CountingServer]]


@pytest.fixture
def hosts() -> Iterator[HostFactory]:
    """`hosts(n, **kwargs)`: n started CountingServers, all stopped at the end of the test."""
    started: list[CountingServer] = []

    def make(n: int, **kwargs: Any) -> list[CountingServer]:
        servers = [CountingServer(**kwargs).start() for _ in range(n)]
        started.extend(servers)
        return servers

    try:
        yield make
    finally:
        stop_all(started)


@contextlib.contextmanager
def local_cluster(*, processes: bool, workers: int = 2) -> Iterator[Client]:
    """A `Client` on a LocalCluster of single-threaded workers, closed on exit."""
    # Dask's constructors are unannotated; reach them through Any rather than ignores.
    d: Any = importlib.import_module("distributed")
    with (
        d.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=processes, dashboard_address=":0"
        ) as cluster,
        d.Client(cluster) as client,
    ):
        yield client


@pytest.fixture
def thread_cluster() -> Iterator[Client]:
    """A `distributed.Client` on a LocalCluster of 2 single-threaded in-process workers."""
    with local_cluster(processes=False) as client:
        yield client
