"""One partition in process (no Dask): limits, retries, failures, bodies, the stop flag, and
skipping what a journal already holds. The same code runs inside every Dask task."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path

import purecurl as pycurl
from purecurl.batch.inputs import UrlRequest, make_request
from purecurl.batch.manifest import JournalTail, Record, journal_base, stop_name
from purecurl.batch.retry import RetryPolicy
from purecurl.batch.runner import PartitionSpec, run_partition, write_input
from purecurl.batch.sink import LocalSink, Sink, open_sink
from tests.batch._servers import Gauge, item_body
from tests.batch.conftest import HostFactory

FAST_RETRY = RetryPolicy(retries=2, delay=0.01)


def run(
    sink: Sink,
    requests: list[UrlRequest],
    *,
    per_host_limit: int = 2,
    concurrency: int = 8,
    retry: RetryPolicy = FAST_RETRY,
    options: tuple[tuple[int, object], ...] = (),
) -> dict[str, Record]:
    write_input(sink, "run1", 0, requests)
    spec = PartitionSpec("run1", 0, sink, concurrency, per_host_limit, retry, options)
    run_partition(spec)
    return {r.output: r for r in JournalTail(sink, "run1").poll()}


def test_bodies_hashes_and_records(tmp_path: Path, hosts: HostFactory) -> None:
    (server,) = hosts(1)
    requests = [make_request(server.url(f"/item/{i}")) for i in range(20)]
    records = run(LocalSink(tmp_path), requests)
    assert len(records) == 20
    for request in requests:
        rec = records[request.output]
        body = (tmp_path / request.output).read_bytes()
        n = int(request.url.rsplit("/", 1)[1])
        assert body == item_body(n)
        assert (rec.ok, rec.result_code, rec.response_code) == (True, 0, 200)
        assert rec.bytes == len(body)
        assert rec.sha256 == hashlib.sha256(body).hexdigest()
        assert rec.attempts == 1
        assert rec.effective_url == request.url
        assert rec.worker.startswith("local-")
        assert rec.timings["total"] >= rec.timings["starttransfer"] > 0
    assert not list((tmp_path / ".batch" / "run1" / "scratch").glob("*"))


def test_per_host_limit_is_held_and_reached(tmp_path: Path, hosts: HostFactory) -> None:
    servers = hosts(3, delay=0.02)
    requests = [make_request(s.url(f"/item/{i}")) for i in range(12) for s in servers]
    records = run(LocalSink(tmp_path), requests, per_host_limit=2, concurrency=50)
    assert all(r.ok for r in records.values()) and len(records) == 36
    assert [s.max_concurrent for s in servers] == [2, 2, 2]  # connections
    assert [s.active.peak for s in servers] == [2, 2, 2]  # requests in flight


def test_concurrency_bounds_all_hosts_together(tmp_path: Path, hosts: HostFactory) -> None:
    shared = Gauge()
    servers = hosts(3, delay=0.02, shared=shared)
    requests = [make_request(s.url(f"/item/{i}")) for i in range(6) for s in servers]
    run(LocalSink(tmp_path), requests, per_host_limit=0, concurrency=2)
    assert shared.peak == 2


def test_transient_http_errors_are_retried(tmp_path: Path, hosts: HostFactory) -> None:
    (server,) = hosts(1, flaky_failures=2)
    request = make_request(server.url("/flaky/3"))
    rec = run(LocalSink(tmp_path), [request])[request.output]
    assert (rec.ok, rec.attempts, rec.response_code) == (True, 3, 200)
    assert server.hits()["/flaky/3"] == 3
    assert (tmp_path / request.output).read_bytes() == item_body(3)


def test_retries_run_out(tmp_path: Path, hosts: HostFactory) -> None:
    (server,) = hosts(1, flaky_failures=5)
    request = make_request(server.url("/flaky/1"))
    rec = run(LocalSink(tmp_path), [request])[request.output]
    assert (rec.ok, rec.result_code, rec.response_code, rec.attempts) == (False, 22, 503, 3)
    assert rec.error == "The requested URL returned error: 503"
    assert not (tmp_path / request.output).exists()


def test_final_failures_are_recorded_with_their_codes(tmp_path: Path, hosts: HostFactory) -> None:
    (server,) = hosts(1)
    missing = make_request(server.url("/status/404"))
    refused = make_request("http://127.0.0.1:1/x")
    records = run(LocalSink(tmp_path), [missing, refused])
    assert (records[missing.output].result_code, records[missing.output].attempts) == (22, 1)
    assert records[missing.output].response_code == 404
    assert (records[refused.output].result_code, records[refused.output].attempts) == (7, 3)
    assert not (tmp_path / missing.output).exists()


def test_methods_headers_and_bodies(tmp_path: Path, hosts: HostFactory) -> None:
    (server,) = hosts(1)
    post = make_request(server.url("/echo"), method="POST", body="a=1", headers={"X-T": "p"})
    put = make_request(server.url("/echo"), method="PUT", body=b"\x00raw")
    head = make_request(server.url("/item/1"), method="HEAD")
    options = ((pycurl.HTTPHEADER, ["X-All: yes"]),)
    records = run(LocalSink(tmp_path), [post, put, head], options=options)
    assert all(r.ok for r in records.values())
    assert (tmp_path / post.output).read_bytes() == b"a=1"
    assert (tmp_path / put.output).read_bytes() == b"\x00raw"
    assert (tmp_path / head.output).read_bytes() == b""
    seen = {(r.method, r.header("x-t"), r.header("x-all")) for r in server.requests}
    assert seen == {("POST", "p", "yes"), ("PUT", None, "yes"), ("HEAD", None, "yes")}


def test_recorded_requests_are_skipped(tmp_path: Path, hosts: HostFactory) -> None:
    (server,) = hosts(1)
    sink = LocalSink(tmp_path)
    requests = [make_request(server.url(f"/item/{i}")) for i in range(6)]
    first = run(sink, requests[:4])
    assert len(first) == 4
    run(sink, requests)  # a second attempt at the partition, as after a lost worker
    assert set(server.hits().values()) == {1}
    assert len(server.hits()) == 6


def test_the_stop_flag_stops_a_partition(tmp_path: Path, hosts: HostFactory) -> None:
    (server,) = hosts(1, delay=0.05)
    sink = LocalSink(tmp_path)
    requests = [make_request(server.url(f"/item/{i}")) for i in range(200)]
    timer = threading.Timer(0.3, lambda: sink.write_bytes(stop_name("run1"), b""))
    timer.start()
    started = time.monotonic()
    try:
        records = run(sink, requests, per_host_limit=1)
    finally:
        timer.join()
    assert time.monotonic() - started < 3.0
    assert 0 < len(records) < 200
    stored = [p for p in (tmp_path / requests[0].output).parent.iterdir()]
    assert len(stored) == len(records)  # no body without a record


def test_fsspec_sink(tmp_path: Path, hosts: HostFactory) -> None:
    (server,) = hosts(1)
    sink = open_sink(f"file://{tmp_path}/remote")
    requests = [make_request(server.url(f"/item/{i}")) for i in range(5)]
    write_input(sink, "run1", 0, requests)
    run_partition(PartitionSpec("run1", 0, sink, 4, 2, FAST_RETRY))
    records = JournalTail(sink, "run1").poll()
    assert sorted(r.output for r in records if r.ok) == sorted(r.output for r in requests)
    for request in requests:
        body = (tmp_path / "remote" / request.output).read_bytes()
        assert body == item_body(int(request.url.rsplit("/", 1)[1]))
    journal_files = sink.list_files(".batch/run1/journal")
    assert journal_files and all(".000000.jsonl" in name for name in journal_files)
    assert json.loads(sink.read_bytes(journal_files[0]).splitlines()[0])["ok"] is True
    assert journal_base("run1", 0, "x").startswith(".batch/run1/journal/p00000-")


def test_many_hosts_take_turns(tmp_path: Path, hosts: HostFactory) -> None:
    big, small = hosts(2, delay=0.01)
    requests = [make_request(big.url(f"/item/{i}")) for i in range(40)]
    requests.append(make_request(small.url("/item/1")))
    records = run(LocalSink(tmp_path), requests, per_host_limit=1, concurrency=2)
    small_rec = records[requests[-1].output]
    later = [r for r in records.values() if r.finished > small_rec.finished]
    assert len(later) > 30  # the small host did not wait for the big one
