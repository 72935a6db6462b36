"""The client side of a batch: `fetch()` plans, submits, watches, resubmits and merges.

Theory of operation
-------------------
1. Read the requests (`inputs`), open the sink, merge what earlier runs recorded
   (`manifest.consolidate`, which also absorbs the journals of a run whose client died) and
   drop every request whose output already has a successful record. Nothing left: done, no
   cluster is started.
2. Connect to Dask: a `LocalCluster` of `workers` single-threaded worker processes when no
   scheduler is given, else the scheduler's address, a `Client`, or a cluster object. Dask is
   imported here and nowhere else on the client, so `import purecurl` never needs it.
3. Split the pending requests by host into as many partitions as there are workers
   (`plan.plan_partitions`), write each partition's input to the sink and submit one task
   per partition (`runner.run_partition`), partition i on worker i (a loose restriction:
   Dask would queue two on one worker while another idles, and may still move one). Tasks
   carry only a small spec; the URLs travel through the sink, so a million URLs make no
   large task graph.
4. Watch: tail the run's journals for progress (records are the truth; a progress callback
   gets a `BatchProgress` a few times a second) and poll the futures. When a worker dies,
   Dask itself runs its partition again elsewhere and the new attempt skips what the journal
   holds; if Dask gives up (`KilledWorker`) the client submits the partition again, up to
   `partition_attempts` times. Another exception in a task is reported in the result's
   `errors` and its partition's unrecorded requests count as unfinished.
5. On any exit, interruption included: set the run's stop flag in the sink (workers stop
   within a second), give running tasks a moment to see it, and merge the journals into
   the manifest. Unfinished requests have no record, so the next run picks them up.

Only one batch may use a sink at a time: the merge of step 1 would take another run's
journals.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import purecurl as pycurl
from purecurl.batch.inputs import UrlRequest, load_requests
from purecurl.batch.manifest import (
    MANIFEST_JSONL,
    JournalTail,
    Record,
    consolidate,
    stop_name,
)
from purecurl.batch.plan import plan_partitions
from purecurl.batch.retry import RetryPolicy
from purecurl.batch.runner import (
    STOP_CHECK_SECONDS,
    PartitionSpec,
    PartitionSummary,
    run_partition,
    write_input,
)
from purecurl.batch.sink import LocalSink, Sink, open_sink

__all__ = [
    "DEFAULT_PER_HOST_LIMIT",
    "DEFAULT_PER_WORKER_CONCURRENCY",
    "BatchError",
    "BatchProgress",
    "BatchResult",
    "WorkerStats",
    "fetch",
    "normalize_options",
]

DEFAULT_PER_WORKER_CONCURRENCY = 50  # curl's --parallel-max default
DEFAULT_PER_HOST_LIMIT = 4
DEFAULT_PARTITION_ATTEMPTS = 3
# Options the runner sets on every handle itself; a batch-wide value would break it.
_RESERVED_OPTIONS = {
    pycurl.URL: "URL",
    pycurl.WRITEFUNCTION: "WRITEFUNCTION",
    pycurl.WRITEDATA: "WRITEDATA",
    pycurl.HEADERFUNCTION: "HEADERFUNCTION",
    pycurl.WRITEHEADER: "HEADERDATA",
}
_POLL_SECONDS = 0.02
_STOP_GRACE = STOP_CHECK_SECONDS + 1.5


class BatchError(RuntimeError):
    """The batch cannot run: no Dask, no scheduler, no workers, a sink it cannot use."""


@dataclass
class WorkerStats:
    """What one worker recorded in this run."""

    done: int = 0
    failed: int = 0
    bytes: int = 0


@dataclass
class BatchProgress:
    """A snapshot for progress displays: counts of this run's records so far."""

    total: int
    skipped: int
    done: int = 0
    failed: int = 0
    bytes: int = 0
    elapsed: float = 0.0
    partitions: int = 0
    partitions_done: int = 0
    workers: dict[str, WorkerStats] = field(default_factory=dict)
    finished: bool = False

    @property
    def recorded(self) -> int:
        return self.done + self.failed

    @property
    def rate(self) -> float:
        """Requests recorded per second."""
        return self.recorded / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def byte_rate(self) -> float:
        return self.bytes / self.elapsed if self.elapsed > 0 else 0.0


@dataclass
class BatchResult:
    """How a `fetch` ended. `records` are this run's; the manifest holds every run's."""

    sink: str
    manifest: str
    requests: int
    skipped: int
    ok: int
    failed: int
    unfinished: int
    bytes: int
    elapsed: float
    records: list[Record]
    workers: dict[str, WorkerStats]
    errors: list[str]
    partitions: int = 0
    resubmitted: int = 0  # partition tasks the client submitted again after Dask gave up

    @property
    def succeeded(self) -> bool:
        """True when every request has a successful record (in this run or an earlier one)."""
        return self.failed == 0 and self.unfinished == 0 and not self.errors


# -- options --------------------------------------------------------------------------------


def normalize_options(options: Mapping[Any, Any] | Iterable[Any] | None) -> tuple[Any, ...]:
    """`options` (a mapping or pairs; keys are pycurl constants or their names, `"TIMEOUT"`)
    as ((number, value), ...), each tried on a handle so a bad one fails here, on the client.

    Raises ValueError for an unknown name, a reserved option or a value setopt refuses.
    """
    if options is None:
        return ()
    items = options.items() if isinstance(options, Mapping) else options
    result = []
    probe = pycurl.Curl()
    try:
        for key, value in items:
            if isinstance(key, str):
                number = getattr(pycurl, key.upper(), None)
                if not isinstance(number, int) or isinstance(number, bool):
                    raise ValueError(f"unknown curl option {key!r}")
                name = key.upper()
            elif isinstance(key, int):
                number, name = key, str(key)
            else:
                raise ValueError(f"curl option {key!r}: give a pycurl constant or its name")
            if number in _RESERVED_OPTIONS:
                raise ValueError(
                    f"option {_RESERVED_OPTIONS[number]} is set by the batch for every transfer"
                )
            try:
                probe.setopt(number, value)
            except (pycurl.error, TypeError, ValueError) as exc:
                raise ValueError(f"option {name}={value!r}: {exc}") from None
            result.append((number, value))
    finally:
        probe.close()
    return tuple(result)


# -- Dask -----------------------------------------------------------------------------------


def _distributed() -> Any:
    try:
        return importlib.import_module("distributed")
    except ImportError:
        raise BatchError(
            "purecurl.batch needs Dask distributed: pip install 'purecurl[batch]' "
            "(or pip install 'dask[distributed]')"
        ) from None


class _DaskSession:
    """A Dask client for the run; closes only what it started."""

    def __init__(self, scheduler: Any, workers: int | None) -> None:
        self.distributed = d = _distributed()
        self.cluster: Any = None
        self.own_client = True
        if scheduler is None:
            n = workers or os.cpu_count() or 1
            self.cluster = d.LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
            try:
                self.client = d.Client(self.cluster)
            except BaseException:
                self.cluster.close()
                raise
        elif isinstance(scheduler, d.Client):
            self.client = scheduler
            self.own_client = False
        elif isinstance(scheduler, str) or hasattr(scheduler, "scheduler_address"):
            try:
                self.client = d.Client(scheduler, timeout=30)
            except (OSError, TimeoutError) as exc:
                raise BatchError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from exc
        else:
            raise TypeError("scheduler must be None, an address, a Client or a cluster")
        try:
            if scheduler is not None and workers:
                self.client.wait_for_workers(workers, timeout=120)
            elif not self.client.nthreads():
                self.client.wait_for_workers(1, timeout=60)
        except (OSError, TimeoutError) as exc:
            self.close()
            raise BatchError(f"no Dask workers ({exc})") from exc

    def worker_addresses(self) -> list[str]:
        return sorted(self.client.nthreads())

    def close(self) -> None:
        if self.own_client:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


# -- the run --------------------------------------------------------------------------------


class _Watch:
    """Submits the partitions, follows their journals and futures until every one ended."""

    def __init__(
        self,
        session: _DaskSession,
        sink: Sink,
        specs: dict[int, PartitionSpec],
        progress: BatchProgress,
        on_progress: Callable[[BatchProgress], None] | None,
        partition_attempts: int,
        started: float,
    ) -> None:
        self.session = session
        self.sink = sink
        self.specs = specs
        self.progress = progress
        self.on_progress = on_progress
        self.partition_attempts = partition_attempts
        self.started = started
        self.run_id = next(iter(specs.values())).run
        self.tail = JournalTail(sink, self.run_id)
        self.tail_every = 0.25 if isinstance(sink, LocalSink) else 2.0
        self.records: dict[str, Record] = {}
        self.futures: dict[int, Any] = {}
        self.attempts: dict[int, int] = {}
        self.summaries: list[PartitionSummary] = []
        self.errors: list[str] = []
        self.workers = session.worker_addresses()

    def _submit(self, part: int) -> None:
        attempt = self.attempts.get(part, 0) + 1
        self.attempts[part] = attempt
        # Dask may queue two single-threaded tasks on one worker while another idles; the
        # partitions are spread over the workers by hand instead. The restriction is loose,
        # so a partition still moves when its worker is lost.
        placement: dict[str, Any] = {}
        if attempt == 1 and self.workers:
            chosen = self.workers[part % len(self.workers)]
            placement = {"workers": [chosen], "allow_other_workers": True}
        self.futures[part] = self.session.client.submit(
            run_partition,
            self.specs[part],
            key=f"purecurl-batch-{self.run_id}-p{part:05d}-a{attempt}",
            pure=False,
            **placement,
        )

    def absorb(self) -> None:
        for record in self.tail.poll():
            seen = self.records.get(record.output)
            self.records[record.output] = record
            stats = self.progress.workers.setdefault(record.worker, WorkerStats())
            if seen is not None:  # recorded twice (a zombie worker); count it once
                continue
            if record.ok:
                self.progress.done += 1
                self.progress.bytes += record.bytes
                stats.done += 1
                stats.bytes += record.bytes
            else:
                self.progress.failed += 1
                stats.failed += 1

    def report(self, finished: bool = False) -> None:
        self.progress.elapsed = time.monotonic() - self.started
        self.progress.partitions_done = len(self.specs) - len(self.futures)
        self.progress.finished = finished
        if self.on_progress is not None:
            self.on_progress(self.progress)

    def _settle(self, part: int, future: Any) -> None:
        d = self.session.distributed
        status = future.status
        if status == "finished":
            self.summaries.append(future.result())
            del self.futures[part]
            return
        exc: BaseException
        if status == "cancelled":
            exc = RuntimeError("the task was cancelled")
        else:
            exc = future.exception()
        lost = isinstance(exc, d.KilledWorker)
        if lost and self.attempts[part] < self.partition_attempts:
            self._submit(part)
            return
        del self.futures[part]
        hint = ""
        if isinstance(exc, ModuleNotFoundError):
            hint = " (install purecurl on every worker)"
        self.errors.append(f"partition {part}: {type(exc).__name__}: {exc}{hint}")

    def run(self) -> None:
        for part in self.specs:
            self._submit(part)
        next_tail = 0.0
        while self.futures:
            now = time.monotonic()
            if now >= next_tail:
                next_tail = now + self.tail_every
                self.absorb()
                self.report()
            for part, future in list(self.futures.items()):
                if future.done():
                    self._settle(part, future)
            if self.futures:
                time.sleep(_POLL_SECONDS)

    def stop(self) -> None:
        """Ask running attempts to stop (the flag in the sink), wait for them a moment, then
        cancel what is left."""
        if not self.futures:
            return
        with contextlib.suppress(OSError):
            self.sink.write_bytes(stop_name(self.run_id), b"stop\n")
        deadline = time.monotonic() + _STOP_GRACE
        while time.monotonic() < deadline and not all(f.done() for f in self.futures.values()):
            time.sleep(_POLL_SECONDS)
        with contextlib.suppress(Exception):
            self.session.client.cancel(list(self.futures.values()))
        self.futures.clear()


def _new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:8]


def _is_done(record: Record | None, request: UrlRequest) -> bool:
    return (
        record is not None
        and record.ok
        and record.url == request.url
        and record.method == request.method
    )


def fetch(
    urls: str | os.PathLike[str] | Iterable[Any],
    sink: str | os.PathLike[str] | Sink,
    *,
    scheduler: Any = None,
    workers: int | None = None,
    per_worker_concurrency: int = DEFAULT_PER_WORKER_CONCURRENCY,
    per_host_limit: int = DEFAULT_PER_HOST_LIMIT,
    retries: int | RetryPolicy = 3,
    options: Mapping[Any, Any] | Iterable[Any] | None = None,
    partitions: int | None = None,
    partition_attempts: int = DEFAULT_PARTITION_ATTEMPTS,
    progress: Callable[[BatchProgress], None] | None = None,
    parquet: bool = True,
    storage_options: Mapping[str, Any] | None = None,
) -> BatchResult:
    """Fetch every request of `urls` on a Dask cluster into `sink`; return a `BatchResult`.

    `urls`: a path of a URL list (plain or JSON lines) or an iterable of URLs, mappings or
    `UrlRequest`s. `sink`: a directory, an fsspec URL (with `storage_options`), or a `Sink`.
    `scheduler`: None for a LocalCluster of `workers` processes (default: one per core), a
    scheduler address (`tcp://host:8786`), a `distributed.Client` or a cluster object.
    `per_worker_concurrency`: transfers at once per worker; `per_host_limit`: connections per
    host (`M_MAX_HOST_CONNECTIONS`; 0 is unlimited), held by exactly one worker per host.
    `retries`: a count of retries for transient failures or a `RetryPolicy`. `options`: curl
    options for every transfer (`{pycurl.TIMEOUT: 30}` or `{"FOLLOWLOCATION": 1}`).
    `partitions`: default one per worker. `progress(BatchProgress)` is called a few times a
    second from this thread. Writes `manifest.jsonl` (and `manifest.parquet` with pyarrow) in
    the sink; a rerun skips what succeeded.

    Failed transfers are results, not exceptions. Raises InputError (a ValueError) for a bad
    URL list, ValueError for bad arguments, BatchError when Dask or the cluster is unusable,
    ManifestError for a manifest it did not write, OSError when the sink fails.
    """
    started = time.monotonic()
    if per_worker_concurrency < 1:
        raise ValueError("per_worker_concurrency must be at least 1")
    if per_host_limit < 0:
        raise ValueError("per_host_limit must be >= 0 (0: no limit)")
    if workers is not None and workers < 1:
        raise ValueError("workers must be at least 1")
    if partitions is not None and partitions < 1:
        raise ValueError("partitions must be at least 1")
    if partition_attempts < 1:
        raise ValueError("partition_attempts must be at least 1")
    policy = retries if isinstance(retries, RetryPolicy) else RetryPolicy(retries=int(retries))
    opts = normalize_options(options)
    target = open_sink(sink, **dict(storage_options or {}))
    requests = load_requests(urls)
    previous = {r.output: r for r in consolidate(target, parquet=parquet)}
    pending = [r for r in requests if not _is_done(previous.get(r.output), r)]
    state = BatchProgress(total=len(pending), skipped=len(requests) - len(pending))
    result = BatchResult(
        sink=target.location,
        manifest=f"{target.location.rstrip('/')}/{MANIFEST_JSONL}",
        requests=len(requests),
        skipped=state.skipped,
        ok=0,
        failed=0,
        unfinished=len(pending),
        bytes=0,
        elapsed=0.0,
        records=[],
        workers={},
        errors=[],
    )
    if not pending:
        result.elapsed = time.monotonic() - started
        state.finished = True
        if progress is not None:
            progress(state)
        return result
    run = _new_run_id()
    session = _DaskSession(scheduler, workers)
    watch: _Watch | None = None
    try:
        plan = plan_partitions(pending, partitions or len(session.worker_addresses()))
        specs = {}
        for part in plan:
            write_input(target, run, part.index, part.requests)
            specs[part.index] = PartitionSpec(
                run=run,
                partition=part.index,
                sink=target,
                per_worker_concurrency=per_worker_concurrency,
                per_host_limit=per_host_limit,
                retry=policy,
                options=opts,
            )
        state.partitions = len(specs)
        watch = _Watch(session, target, specs, state, progress, partition_attempts, started)
        watch.run()
    finally:
        try:
            if watch is not None:
                watch.stop()
                watch.absorb()
        finally:
            session.close()
            consolidate(target, parquet=parquet, known=watch.tail if watch else None)
    reported = sum(s.ok + s.failed for s in watch.summaries)
    if reported > len(watch.records):
        watch.errors.append(
            f"the workers recorded {reported} requests but the client sees "
            f"{len(watch.records)} records in {target.location}: the sink must be storage "
            "the client and every worker share (one file system, or an fsspec URL)"
        )
    pending_outputs = {r.output for r in pending}
    records = [r for r in watch.records.values() if r.output in pending_outputs]
    result.records = records
    result.ok = sum(1 for r in records if r.ok)
    result.failed = len(records) - result.ok
    result.unfinished = len(pending) - len(records)
    result.bytes = sum(r.bytes for r in records if r.ok)
    result.workers = state.workers
    result.errors = watch.errors
    result.partitions = len(watch.specs)
    result.resubmitted = sum(watch.attempts.values()) - len(watch.attempts)
    result.elapsed = time.monotonic() - started
    watch.report(finished=True)
    return result
