"""Scale-out benchmark: purecurl.batch's URLs/s with 1 and 2 Dask workers, and what the cluster
costs per request compared with one CurlMulti in this process.

    python -m bench.batch [--urls 6000] [--hosts 8] [--path /1k] [--rounds 3] [--no-git]

Theory of operation
-------------------
One nginx (tests.nginx.Nginx, one worker process) serves a static file; `--hosts` host names
(`h0.batch.test` ...) all resolve to it through `RESOLVE`, so the batch sees that many hosts
and partitions by them. Every run fetches the same `--urls` URLs (distinct query strings, so
distinct outputs) with `per_host_limit` 4 and `per_worker_concurrency` 32, in four ways:

- `multi`: one `CurlMulti` on the selectors driver in this process, the same admission
  limits, bodies counted and dropped: the engine alone;
- `partition`: `runner.run_partition` in this process (no Dask): the engine plus what every
  worker adds, bodies written to a directory, hashed, and a journal line per URL;
- `dask-1w`, `dask-2w`: `fetch()` on a LocalCluster of 1 or 2 single-threaded worker
  processes, started before the clock starts (startup is reported apart, in `extra`).

Rounds are interleaved (every way once, then again) so drift spreads over all of them. Each
result is appended to bench/results/results.jsonl in bench.run's format (mode "batch"; `cpu`
is user+sys of this process and its children except nginx, so workers count). The cluster's
per-request overhead is the difference of the medians of `dask-1w` and `partition`, divided
by the URL count; it includes the fixed cost of a run (planning, writing the inputs, merging
the manifest), which `--fixed` measures alone with one URL per host.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.nginx import FILES, Nginx, find_nginx

import purecurl as pycurl
from bench.machine import _cpu_model, _first_line, _libcurl, machine_info
from purecurl.batch import RetryPolicy, fetch, make_request
from purecurl.batch.inputs import UrlRequest
from purecurl.batch.runner import PartitionSpec, run_partition, write_input
from purecurl.batch.sink import LocalSink
from purecurl.drivers.selector import SelectorDriver

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "results.jsonl"
PER_HOST_LIMIT = 4
CONCURRENCY = 32
WAYS = ("multi", "partition", "dask-1w", "dask-2w")
DEFAULT_OUT_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir()
_BATCH_PACKAGES = ("dask", "distributed", "fsspec", "pyarrow")


def _machine(nginx: str, git: bool) -> dict[str, Any]:
    curl = shutil.which("curl") or "curl"
    if git:
        info = machine_info(nginx, curl)
    else:  # machine_info without its two (read-only) git calls
        info = {
            "cpu": _cpu_model(),
            "cores": os.cpu_count(),
            "os": f"{os.uname().sysname} {os.uname().release}",
            "python": f"CPython {sys.version.split()[0]}",
            "executable": sys.executable,
            "packages": {"purecurl": importlib.metadata.version("purecurl")},
            "libcurl": _libcurl(),
            "curl": _first_line([curl, "--version"]),
            "nginx": _first_line([nginx, "-v"]),
            "commit": "",
        }
    for name in _BATCH_PACKAGES:
        try:
            info["packages"][name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            info["packages"][name] = ""
    return dict(info)


class CpuMeter:
    """user+sys seconds of this process and its children (the Dask workers), nginx's
    processes left out."""

    def __init__(self) -> None:
        self.psutil: Any = importlib.import_module("psutil")

    def read(self) -> float:
        me = self.psutil.Process()
        times = me.cpu_times()
        total = times.user + times.system
        for child in me.children(recursive=True):
            try:
                if child.name() == "nginx":
                    continue
                times = child.cpu_times()
            except self.psutil.Error:  # it exited meanwhile
                continue
            total += times.user + times.system
        return float(total)


def _requests(hosts: int, urls: int, port: int, path: str) -> list[UrlRequest]:
    return [make_request(f"http://h{i % hosts}.batch.test:{port}{path}?n={i}") for i in range(urls)]


def _resolve(hosts: int, port: int) -> list[str]:
    return [f"h{i}.batch.test:{port}:127.0.0.1" for i in range(hosts)]


def run_multi(requests: list[UrlRequest], resolve: list[str]) -> tuple[int, int]:
    """The engine alone: one CurlMulti, the batch's admission limits (hosts take turns),
    bodies counted and dropped. Returns (bytes, failures)."""
    multi = pycurl.CurlMulti()
    multi.setopt(pycurl.M_MAX_HOST_CONNECTIONS, PER_HOST_LIMIT)
    multi.setopt(pycurl.M_MAX_TOTAL_CONNECTIONS, CONCURRENCY)
    queues: dict[str, deque[UrlRequest]] = {}
    for request in requests:
        queues.setdefault(request.host, deque()).append(request)
    inflight = dict.fromkeys(queues, 0)
    counts = {"bytes": 0, "failed": 0, "running": 0}

    def on_body(data: bytes) -> None:
        counts["bytes"] += len(data)

    def done(curl: Any, code: int, message: str) -> None:
        counts["failed"] += 1 if code else 0
        counts["running"] -= 1
        inflight[curl.batch_host] -= 1
        curl.close()

    def fill() -> None:
        started = True
        while started and counts["running"] < CONCURRENCY:
            started = False
            for host, queue in queues.items():
                if not queue or inflight[host] >= PER_HOST_LIMIT:
                    continue
                if counts["running"] >= CONCURRENCY:
                    return
                request = queue.popleft()
                curl = pycurl.Curl()
                curl.batch_host = host
                curl.setopt(pycurl.URL, request.url)
                curl.setopt(pycurl.RESOLVE, resolve)
                curl.setopt(pycurl.FAILONERROR, 1)
                curl.setopt(pycurl.WRITEFUNCTION, on_body)
                inflight[host] += 1
                counts["running"] += 1
                driver.add(curl)
                started = True

    with SelectorDriver(multi, done) as driver:
        while True:
            fill()
            if not counts["running"]:
                break
            driver.step(0.5)
    multi.close()
    return counts["bytes"], counts["failed"]


def run_partition_here(requests: list[UrlRequest], resolve: list[str], out: str) -> tuple[int, int]:
    """What one worker does, without Dask. Returns (bytes, failures)."""
    sink = LocalSink(out)
    run = "bench-" + uuid.uuid4().hex[:8]
    write_input(sink, run, 0, requests)
    spec = PartitionSpec(
        run,
        0,
        sink,
        CONCURRENCY,
        PER_HOST_LIMIT,
        RetryPolicy(retries=0),
        ((pycurl.RESOLVE, resolve),),
    )
    summary = run_partition(spec)
    return summary.bytes, summary.failed


def run_dask(
    client: Any, requests: list[UrlRequest], resolve: list[str], out: str
) -> tuple[int, int]:
    """`fetch` on the cluster of `client`. Returns (bytes, failures and unfinished)."""
    result = fetch(
        requests,
        out,
        scheduler=client,
        per_host_limit=PER_HOST_LIMIT,
        per_worker_concurrency=CONCURRENCY,
        retries=0,
        options={pycurl.RESOLVE: resolve},
        parquet=False,
    )
    return result.bytes, result.failed + result.unfinished


@contextmanager
def cluster(workers: int) -> Iterator[tuple[Any, float]]:
    d: Any = importlib.import_module("distributed")
    t0 = time.perf_counter()
    with (
        d.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as c,
        d.Client(c) as client,
    ):
        yield client, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.batch", description=__doc__.split("\n")[0])
    p.add_argument("--urls", type=int, default=6000)
    p.add_argument("--hosts", type=int, default=8)
    p.add_argument("--path", default="/1k", choices=sorted(FILES))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--results", type=Path, default=RESULTS)
    p.add_argument(
        "--out-dir",
        default=DEFAULT_OUT_DIR,
        help=f"where the sinks go (default {DEFAULT_OUT_DIR}: memory, so the disk is not measured)",
    )
    p.add_argument("--no-git", action="store_true", help="do not run git to record the commit")
    p.add_argument(
        "--fixed", action="store_true", help="also time a run of one URL per host (fixed costs)"
    )
    args = p.parse_args(argv)
    binary = find_nginx()
    if binary is None:
        raise SystemExit("nginx not found (apt-get install nginx)")
    machine = _machine(binary, not args.no_git)
    run_id = time.strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]
    size = FILES[args.path]
    scenario = f"batch-{args.urls}x{args.path.lstrip('/')}-{args.hosts}h"
    walls: dict[str, list[float]] = {w: [] for w in WAYS}
    with Nginx(binary) as nginx, cluster(1) as (one, start1), cluster(2) as (two, start2):
        meter = CpuMeter()
        requests = _requests(args.hosts, args.urls, nginx.port, args.path)
        resolve = _resolve(args.hosts, nginx.port)
        small = _requests(args.hosts, args.hosts, nginx.port, args.path)
        ways: dict[str, Callable[[list[UrlRequest], str], tuple[int, int]]] = {
            "multi": lambda r, out: run_multi(r, resolve),
            "partition": lambda r, out: run_partition_here(r, resolve, out),
            "dask-1w": lambda r, out: run_dask(one, r, resolve, out),
            "dask-2w": lambda r, out: run_dask(two, r, resolve, out),
        }

        def timed(way: str, batch: list[UrlRequest]) -> tuple[int, int, float, float]:
            """Run one way into a fresh directory; the clock does not see its removal."""
            out = tempfile.mkdtemp(prefix="bench-batch-", dir=args.out_dir)
            try:
                cpu0, wall0 = meter.read(), time.perf_counter()
                got, errors = ways[way](batch, out)
                return got, errors, time.perf_counter() - wall0, meter.read() - cpu0
            finally:
                shutil.rmtree(out, ignore_errors=True)

        for way in WAYS:  # warm-up, untimed
            timed(way, small)
        args.results.parent.mkdir(parents=True, exist_ok=True)
        for rnd in range(1, args.rounds + 1):
            plan = [(w, requests, scenario) for w in WAYS]
            if args.fixed:
                plan += [(w, small, f"batch-{args.hosts}x1-fixed") for w in WAYS]
            for way, batch, name in plan:
                load = os.getloadavg()[0]  # other tenants of the machine show here
                got, errors, wall, cpu = timed(way, batch)
                expected = len(batch) * size
                status = "ok" if errors == 0 and got == expected else "error"
                if name == scenario:
                    walls[way].append(wall)
                line = {
                    "run": run_id,
                    "mode": "batch",
                    "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
                    "round": rnd,
                    "scenario": name,
                    "client": way,
                    "scale": 1.0,
                    "concurrency": CONCURRENCY,
                    "size": size,
                    "status": status,
                    "requests": len(batch),
                    "bytes": got,
                    "errors": errors,
                    "wall": wall,
                    "cpu": cpu,
                    "reason": "" if status == "ok" else f"{errors} failed, {got}/{expected} B",
                    "extra": {
                        "hosts": args.hosts,
                        "out_dir": args.out_dir,
                        "load_before": load,
                        "per_host_limit": PER_HOST_LIMIT,
                        "cluster_start_1w": start1,
                        "cluster_start_2w": start2,
                    },
                    "machine": machine,
                }
                with open(args.results, "a") as f:
                    f.write(json.dumps(line) + "\n")
                print(
                    f"  round {rnd} {name:<24} {way:<10} {len(batch) / wall:8.0f} URLs/s "
                    f"{wall:7.2f} s  {cpu / len(batch) * 1e6:8.1f} us CPU/URL  {status}  "
                    f"(load {load:.2f})",
                    file=sys.stderr,
                    flush=True,
                )
    med = {w: statistics.median(v) for w, v in walls.items()}
    n = args.urls
    print(f"run {run_id}: {n} URLs of {size} B over {args.hosts} hosts, medians of {args.rounds}")
    print(f"cluster start: 1 worker {start1:.2f} s, 2 workers {start2:.2f} s")
    for way in WAYS:
        print(f"  {way:<10} {n / med[way]:8.0f} URLs/s  {med[way]:6.2f} s")
    print(f"  dask-2w vs dask-1w: x{med['dask-1w'] / med['dask-2w']:.2f}")
    per_request = (med["dask-1w"] - med["partition"]) / n * 1e6
    print(f"  cluster overhead (dask-1w - partition): {per_request:.0f} us per URL")
    worker = (med["partition"] - med["multi"]) / n * 1e6
    print(f"  worker overhead (partition - multi): {worker:.0f} us per URL")


if __name__ == "__main__":
    main()
