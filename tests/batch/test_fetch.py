"""`fetch` on a LocalCluster of two workers against several local hosts.

What a user relies on: every URL fetched once, a host's limit held across the cluster (all of
a host's transfers on one worker, never more connections than the limit), failures recorded
with their codes, a manifest describing each body, and a rerun that fetches only what did not
succeed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from distributed import Client

import purecurl as pycurl
from purecurl.batch import BatchProgress, RetryPolicy, fetch, read_manifest
from purecurl.batch.sink import LocalSink
from tests.batch._servers import item_body
from tests.batch.conftest import HostFactory

FAST_RETRY = RetryPolicy(retries=2, delay=0.01)
MANIFEST_FIELDS = {
    "output",
    "url",
    "method",
    "ok",
    "result_code",
    "error",
    "response_code",
    "effective_url",
    "bytes",
    "sha256",
    "attempts",
    "worker",
    "partition",
    "run",
    "started",
    "finished",
    "timings",
}


def manifest_lines(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


def test_every_url_once_and_host_limits_cluster_wide(
    tmp_path: Path, hosts: HostFactory, thread_cluster: Client
) -> None:
    servers = hosts(4, delay=0.01)
    urls = [s.url(f"/item/{i}") for s in servers for i in range(30)]
    seen: list[BatchProgress] = []
    result = fetch(
        urls,
        tmp_path,
        scheduler=thread_cluster,
        per_host_limit=2,
        per_worker_concurrency=16,
        retries=FAST_RETRY,
        progress=seen.append,
    )
    assert (result.ok, result.failed, result.unfinished, result.errors) == (120, 0, 0, [])
    assert result.succeeded and result.partitions == 2
    for server in servers:
        hits = server.hits()
        assert len(hits) == 30 and set(hits.values()) == {1}  # every URL once
        assert server.max_concurrent <= 2  # the host's limit, across the cluster
        assert server.active.peak == 2  # and it was reached
    by_host: dict[str, set[str]] = {}
    for record in result.records:
        by_host.setdefault(record.url.split("/")[2], set()).add(record.worker)
    assert all(len(workers) == 1 for workers in by_host.values())  # one worker per host
    assert len(set().union(*by_host.values())) == 2  # and both workers worked
    assert len(result.workers) == 2
    assert sum(w.done for w in result.workers.values()) == 120
    assert seen[-1].finished and seen[-1].done == 120 and seen[-1].partitions_done == 2


def test_the_manifest_describes_every_body(
    tmp_path: Path, hosts: HostFactory, thread_cluster: Client
) -> None:
    (server,) = hosts(1)
    urls = [server.url(f"/item/{i}") for i in range(10)]
    result = fetch(urls, tmp_path, scheduler=thread_cluster, retries=FAST_RETRY)
    workers = set(thread_cluster.scheduler_info()["workers"])
    lines = manifest_lines(tmp_path)
    assert len(lines) == 10 and {line["url"] for line in lines} == set(urls)
    for line in lines:
        assert set(line) == MANIFEST_FIELDS
        body = (tmp_path / line["output"]).read_bytes()
        assert body == item_body(int(line["url"].rsplit("/", 1)[1]))
        assert (line["bytes"], line["sha256"]) == (len(body), hashlib.sha256(body).hexdigest())
        assert (line["ok"], line["result_code"], line["response_code"]) == (True, 0, 200)
        assert line["worker"] in workers
        assert line["run"] == result.records[0].run and line["attempts"] == 1
        assert set(line["timings"]) >= {"namelookup", "connect", "starttransfer", "total"}
    assert not (tmp_path / ".batch").exists()
    parquet = importlib.util.find_spec("pyarrow") is not None
    assert (tmp_path / "manifest.parquet").exists() == parquet


def test_failures_are_recorded_with_their_codes(
    tmp_path: Path, hosts: HostFactory, thread_cluster: Client
) -> None:
    ok_host, flaky_host = hosts(2, flaky_failures=1)
    urls = [
        ok_host.url("/item/1"),
        ok_host.url("/status/404"),
        flaky_host.url("/flaky/1"),  # 503 once, then fine
        "http://127.0.0.1:1/refused",
    ]
    result = fetch(
        urls,
        tmp_path,
        scheduler=thread_cluster,
        retries=FAST_RETRY,
        options={"CONNECTTIMEOUT_MS": 2000},
    )
    assert (result.ok, result.failed, result.unfinished) == (2, 2, 0)
    assert not result.succeeded
    by_url = {r.url: r for r in read_manifest(LocalSink(tmp_path))}
    got = {u: (r.ok, r.result_code, r.response_code, r.attempts) for u, r in by_url.items()}
    assert got == {
        urls[0]: (True, 0, 200, 1),
        urls[1]: (False, 22, 404, 1),
        urls[2]: (True, 0, 200, 2),
        urls[3]: (False, 7, 0, 3),
    }
    assert by_url[urls[3]].error.startswith("Failed to connect to 127.0.0.1:1")


def test_a_rerun_fetches_only_what_did_not_succeed(
    tmp_path: Path, hosts: HostFactory, thread_cluster: Client
) -> None:
    (server,) = hosts(1)
    urls = [server.url(f"/item/{i}") for i in range(6)] + [
        server.url(f"/gate/{i}") for i in range(4)
    ]
    first = fetch(urls, tmp_path, scheduler=thread_cluster, retries=0)
    assert (first.ok, first.failed, first.skipped) == (6, 4, 0)
    server.gate_open = True
    second = fetch(urls, tmp_path, scheduler=thread_cluster, retries=0)
    assert (second.requests, second.skipped, second.ok, second.failed) == (10, 6, 4, 0)
    hits = server.hits()
    assert all(hits[f"/item/{i}"] == 1 for i in range(6))  # not fetched again
    assert all(hits[f"/gate/{i}"] == 2 for i in range(4))
    lines = manifest_lines(tmp_path)
    assert len(lines) == 10 and all(line["ok"] for line in lines)
    assert len({line["run"] for line in lines}) == 2
    # Nothing left: no cluster needed (this address would refuse a connection).
    third = fetch(urls, tmp_path, scheduler="tcp://127.0.0.1:1")
    assert (third.skipped, third.ok, third.unfinished, third.succeeded) == (10, 0, 0, True)


def test_url_list_file_and_json_lines(
    tmp_path: Path, hosts: HostFactory, thread_cluster: Client
) -> None:
    (server,) = hosts(1)
    listing = tmp_path / "urls.txt"
    listing.write_text(
        f"# two plain, one JSON\n{server.url('/item/1')}\n{server.url('/item/2')}\n"
        + json.dumps({"url": server.url("/echo"), "method": "POST", "body": "hi", "output": "e"})
        + "\n"
    )
    out = tmp_path / "out"
    result = fetch(listing, out, scheduler=thread_cluster)
    assert result.ok == 3
    assert (out / "e").read_bytes() == b"hi"


def test_bad_arguments_fail_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="option WRITEFUNCTION is set by the batch"):
        fetch(["http://a.test/"], tmp_path, options={pycurl.WRITEFUNCTION: print})
    with pytest.raises(ValueError, match="unknown curl option 'NOPE'"):
        fetch(["http://a.test/"], tmp_path, options={"NOPE": 1})
    with pytest.raises(ValueError, match="per_host_limit must be >= 0"):
        fetch(["http://a.test/"], tmp_path, per_host_limit=-1)
    assert not any(tmp_path.iterdir())
