"""A worker process killed mid-run: nothing it recorded is lost or fetched again, and the rest
of its partition is fetched by another worker in the same run."""

from __future__ import annotations

import collections
import os
import signal
from pathlib import Path

import dask
import pytest

from purecurl.batch import BatchProgress, RetryPolicy, fetch, read_manifest
from purecurl.batch.sink import LocalSink
from tests.batch.conftest import HostFactory, local_cluster

URLS_PER_HOST = 80
LIMIT = 2


@pytest.mark.parametrize("dask_reruns", [True, False], ids=["dask-reruns", "client-resubmits"])
def test_a_killed_worker_loses_nothing_recorded(
    tmp_path: Path, hosts: HostFactory, dask_reruns: bool
) -> None:
    """Dask runs a lost worker's task again by itself; with `allowed-failures` 0 it gives up
    at once (KilledWorker) and the client submits the partition again. Either way the new
    attempt fetches only what the journal does not hold."""
    servers = hosts(2, delay=0.03)  # 80 URLs / 2 connections * 30 ms: about 1.2 s a host
    urls = [s.url(f"/item/{i}") for s in servers for i in range(URLS_PER_HOST)]
    killed: dict[str, int] = {}
    allowed = {} if dask_reruns else {"distributed.scheduler.allowed-failures": 0}
    with dask.config.set(allowed), local_cluster(processes=True) as client:
        pids: dict[str, int] = client.run(os.getpid)

        def kill_one(progress: BatchProgress) -> None:
            if killed:
                return
            for worker, stats in progress.workers.items():
                if stats.done >= 10:
                    os.kill(pids[worker], signal.SIGKILL)
                    killed[worker] = stats.done
                    return

        result = fetch(
            urls,
            tmp_path,
            scheduler=client,
            per_host_limit=LIMIT,
            retries=RetryPolicy(retries=2, delay=0.01),
            progress=kill_one,
        )
    assert killed, "no worker was killed: the run ended too soon"
    (victim,) = killed
    assert (result.ok, result.failed, result.unfinished, result.errors) == (160, 0, 0, [])
    assert result.resubmitted == (0 if dask_reruns else 1)

    records = read_manifest(LocalSink(tmp_path))
    assert len(records) == 160 and len({r.output for r in records}) == 160
    by_victim = [r for r in records if r.worker == victim]
    assert 10 <= len(by_victim) < URLS_PER_HOST  # it recorded some, and then it died
    hits: collections.Counter[str] = collections.Counter()
    for server in servers:
        hits.update({server.url(path): n for path, n in server.hits().items()})
    # What the victim recorded was fetched once; what it had in flight may be fetched twice.
    assert all(hits[r.url] == 1 for r in by_victim)
    assert set(hits) == set(urls)
    assert sum(hits.values()) - len(urls) <= LIMIT
    # Its host was finished by another worker.
    victim_host = by_victim[0].url.split("/")[2]
    finishers = {r.worker for r in records if r.url.split("/")[2] == victim_host}
    assert finishers - {victim}
