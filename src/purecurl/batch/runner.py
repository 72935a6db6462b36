"""One partition on one worker: its requests through one `CurlMulti` and the selectors driver.

Theory of operation
-------------------
`run_partition(spec)` is the task the client submits to Dask (it also runs without Dask, in
process). It reads the partition's input from the sink, reads the partition's journals and
drops every request already recorded there (so a re-run after a lost worker fetches only what
was not recorded), opens a journal of its own, and runs a `PartitionRunner`.

The runner owns one multi handle driven by `purecurl.drivers.selector.SelectorDriver`; the
multi carries `M_MAX_HOST_CONNECTIONS = per_host_limit` and `M_MAX_TOTAL_CONNECTIONS =
per_worker_concurrency`. It also admits transfers itself, so that no handle waits inside the
multi (where its TIMEOUT would run while it waits): a request starts only when its host has
fewer than `per_host_limit` transfers running and the worker has a free slot. Hosts take
turns (round robin over the hosts that may start one more), so one big host does not starve
the others. Slots are counted per worker and run (`SlotPool`), not per partition, so two
partitions on one worker (after a lost worker moved one) share `per_worker_concurrency`.

When a transfer ends, `RetryPolicy.delay_for` decides: a transient failure waits in a heap
and goes back to the front of its host's queue when due; anything else is final. A final
success commits the body (renamed into place), then its record is appended to the journal;
a final failure drops the body and records the failure. The record is the last step, so a
record always describes a body that is there.

Every second the runner looks for the run's stop flag in the sink (the client sets it when it
is interrupted); then it removes its transfers, drops their bodies and returns.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import purecurl as pycurl
from purecurl import _version
from purecurl.batch.inputs import UrlRequest, parse_line
from purecurl.batch.manifest import (
    TIMING_NAMES,
    JournalTail,
    Record,
    input_name,
    journal_base,
    scratch_dir,
    stop_name,
)
from purecurl.batch.retry import RetryPolicy, parse_retry_after
from purecurl.batch.sink import BodyWriter, JournalWriter, Sink
from purecurl.drivers.selector import SelectorDriver

__all__ = [
    "DEFAULT_OPTIONS",
    "PartitionRunner",
    "PartitionSpec",
    "PartitionSummary",
    "SlotPool",
    "current_worker",
    "read_input",
    "run_partition",
    "write_input",
]

USER_AGENT = f"purecurl-batch/{_version.__version__}"
# What every transfer gets unless `options` says otherwise: an HTTP error is a failure with
# its code (22) and stores no body, as `curl --fail`.
DEFAULT_OPTIONS: tuple[tuple[int, Any], ...] = (
    (pycurl.FAILONERROR, 1),
    (pycurl.USERAGENT, USER_AGENT),
)
_TIMING_INFO = {
    "namelookup": pycurl.NAMELOOKUP_TIME,
    "connect": pycurl.CONNECT_TIME,
    "appconnect": pycurl.APPCONNECT_TIME,
    "pretransfer": pycurl.PRETRANSFER_TIME,
    "starttransfer": pycurl.STARTTRANSFER_TIME,
    "total": pycurl.TOTAL_TIME,
    "redirect": pycurl.REDIRECT_TIME,
}
assert tuple(_TIMING_INFO) == TIMING_NAMES
E_WRITE_ERROR = 23
STOP_CHECK_SECONDS = 1.0
IDLE_WAIT = 0.5
STARVED_WAIT = 0.02


@dataclass(frozen=True)
class PartitionSpec:
    """Everything a worker needs to run one partition; small, pickled into the task."""

    run: str
    partition: int
    sink: Sink
    per_worker_concurrency: int
    per_host_limit: int
    retry: RetryPolicy
    options: tuple[tuple[int, Any], ...] = ()


@dataclass(frozen=True)
class PartitionSummary:
    """What one attempt at a partition did (the records themselves are in its journal)."""

    partition: int
    worker: str
    attempt: str
    requests: int
    skipped: int
    ok: int
    failed: int
    bytes: int
    stopped: bool
    elapsed: float


class SlotPool:
    """A counter of running transfers shared by the partitions one worker runs at once."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.used = 0
        self.users = 0
        self._lock = threading.Lock()

    def try_acquire(self) -> bool:
        with self._lock:
            if self.used >= self.capacity:
                return False
            self.used += 1
            return True

    def release(self) -> None:
        with self._lock:
            self.used -= 1


_POOLS: dict[tuple[str, str], SlotPool] = {}
_POOLS_LOCK = threading.Lock()


@contextlib.contextmanager
def _slot_pool(run: str, worker: str, capacity: int) -> Any:
    key = (run, worker)
    with _POOLS_LOCK:
        pool = _POOLS.get(key)
        if pool is None:
            pool = _POOLS[key] = SlotPool(capacity)
        pool.users += 1
    try:
        yield pool
    finally:
        with _POOLS_LOCK:
            pool.users -= 1
            if pool.users == 0:
                del _POOLS[key]


def current_worker() -> str:
    """The address of the Dask worker running this code, or `local-<pid>` outside Dask."""
    try:
        from distributed import get_worker
    except ImportError:
        return f"local-{os.getpid()}"
    try:
        return str(get_worker().address)
    except ValueError:
        return f"local-{os.getpid()}"


@dataclass
class _Pending:
    request: UrlRequest
    attempts: int = 0
    first_started: float = 0.0  # monotonic
    first_wall: float = 0.0


@dataclass
class _Active:
    pending: _Pending
    curl: Any
    body: BodyWriter
    retry_after: float | None = None
    write_error: str = ""
    extra: list[Any] = field(default_factory=list)  # objects the handle must keep alive

    def on_body(self, data: bytes) -> int | None:
        try:
            self.body.write(data)
        except OSError as exc:
            self.write_error = f"writing the body failed: {exc}"
            return 0  # anything but len(data): libcurl ends the transfer with 23
        return None

    def on_header(self, line: bytes) -> None:
        if line.startswith(b"HTTP/"):
            self.retry_after = None  # a new response (after a redirect or a 1xx)
        elif line[:12].lower() == b"retry-after:":
            self.retry_after = parse_retry_after(line[12:].decode("latin-1"))


class PartitionRunner:
    """Runs requests through one multi handle and records each end in `journal`."""

    def __init__(
        self,
        spec: PartitionSpec,
        requests: Sequence[UrlRequest],
        journal: JournalWriter,
        *,
        worker: str,
        slots: SlotPool,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.spec = spec
        self.journal = journal
        self.worker = worker
        self.slots = slots
        self.clock = clock
        self.wall_clock = wall_clock
        self.limit = spec.per_host_limit
        options = dict(DEFAULT_OPTIONS)
        options.update(spec.options)
        self.extra_headers: list[str] = list(options.pop(pycurl.HTTPHEADER, None) or [])
        self.options = tuple(options.items())
        self.queues: dict[str, deque[_Pending]] = {}
        for request in requests:
            self.queues.setdefault(request.host, deque()).append(_Pending(request))
        self.queued = len(requests)
        self.inflight = dict.fromkeys(self.queues, 0)
        self.eligible: deque[str] = deque(self.queues)
        self.in_eligible = set(self.queues)
        self.waiting: list[tuple[float, int, _Pending]] = []
        self._seq = 0
        self.active: dict[int, _Active] = {}
        self.ok = 0
        self.failed = 0
        self.bytes = 0
        self.stopped = False
        self.starved = False
        self.multi = pycurl.CurlMulti()
        self.multi.setopt(pycurl.M_MAX_HOST_CONNECTIONS, max(0, self.limit))
        self.multi.setopt(pycurl.M_MAX_TOTAL_CONNECTIONS, spec.per_worker_concurrency)
        self.driver = SelectorDriver(self.multi, self._done)

    def __repr__(self) -> str:
        return (
            f"<PartitionRunner p{self.spec.partition} active={len(self.active)} "
            f"queued={self.queued} waiting={len(self.waiting)} ok={self.ok} failed={self.failed}>"
        )

    # -- admission ------------------------------------------------------------------------

    def _mark(self, host: str) -> None:
        """Put `host` in the round robin when it has a request and room for one more."""
        if host in self.in_eligible or not self.queues[host]:
            return
        if self.limit > 0 and self.inflight[host] >= self.limit:
            return
        self.eligible.append(host)
        self.in_eligible.add(host)

    def _admit(self, now: float) -> None:
        while self.waiting and self.waiting[0][0] <= now:
            _, _, pending = heapq.heappop(self.waiting)
            host = pending.request.host
            self.queues[host].appendleft(pending)
            self.queued += 1
            self._mark(host)
        self.starved = False
        while self.eligible:
            if not self.slots.try_acquire():
                self.starved = True
                return
            host = self.eligible.popleft()
            self.in_eligible.discard(host)
            pending = self.queues[host].popleft()
            self.queued -= 1
            self.inflight[host] += 1
            self._start(pending, now)
            self._mark(host)

    def _release(self, host: str) -> None:
        self.inflight[host] -= 1
        self.slots.release()
        self._mark(host)

    # -- one transfer ---------------------------------------------------------------------

    def _start(self, pending: _Pending, now: float) -> None:
        request = pending.request
        pending.attempts += 1
        if pending.attempts == 1:
            pending.first_started = now
            pending.first_wall = self.wall_clock()
        curl = pycurl.Curl()
        body = self.spec.sink.open_body(request.output, scratch_dir(self.spec.run))
        active = _Active(pending, curl, body)
        try:
            self._setup(curl, active)
        except pycurl.error as exc:
            code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 2
            message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
            self._final(active, code, message)
            self._release(request.host)
            return
        self.active[id(curl)] = active
        self.driver.add(curl)

    def _setup(self, curl: Any, active: _Active) -> None:
        request = active.pending.request
        curl.setopt(pycurl.URL, request.url)
        for option, value in self.options:
            curl.setopt(option, value)
        headers = [*self.extra_headers, *request.headers]
        if headers:
            curl.setopt(pycurl.HTTPHEADER, headers)
        if request.method == "HEAD":
            curl.setopt(pycurl.NOBODY, 1)
        elif request.body is not None:
            curl.setopt(pycurl.POSTFIELDSIZE_LARGE, len(request.body))
            curl.setopt(pycurl.POSTFIELDS, request.body)
            active.extra.append(request.body)
            if request.method != "POST":
                curl.setopt(pycurl.CUSTOMREQUEST, request.method)
        elif request.method != "GET":
            curl.setopt(pycurl.CUSTOMREQUEST, request.method)
        curl.setopt(pycurl.WRITEFUNCTION, active.on_body)
        curl.setopt(pycurl.HEADERFUNCTION, active.on_header)

    def _done(self, curl: Any, code: int, message: str) -> None:
        active = self.active.pop(id(curl))
        pending = active.pending
        host = pending.request.host
        response = _info(curl, pycurl.RESPONSE_CODE, 0)
        now = self.clock()
        delay = None
        if not active.write_error:
            delay = self.spec.retry.delay_for(
                pending.attempts,
                code,
                response,
                retry_after=active.retry_after,
                elapsed=now - pending.first_started,
            )
        if delay is not None:
            active.body.abort()
            curl.close()
            self._seq += 1
            heapq.heappush(self.waiting, (now + delay, self._seq, pending))
            self._release(host)
            return
        if active.write_error:
            code, message = E_WRITE_ERROR, active.write_error
        self._final(active, code, message, response)
        self._release(host)

    def _final(self, active: _Active, code: int, message: str, response: int = 0) -> None:
        """Commit or drop the body, then record the end of the request."""
        curl = active.curl
        body = active.body
        if code == 0:
            try:
                body.commit()
            except OSError as exc:
                code, message = E_WRITE_ERROR, f"storing the body failed: {exc}"
                body.abort()
        else:
            body.abort()
        pending = active.pending
        request = pending.request
        timings = {name: float(_info(curl, info, 0.0)) for name, info in _TIMING_INFO.items()}
        record = Record(
            output=request.output,
            url=request.url,
            method=request.method,
            ok=code == 0,
            result_code=code,
            error=(message or pycurl.easy_strerror(code)) if code else "",
            response_code=response,
            effective_url=str(_info(curl, pycurl.EFFECTIVE_URL, request.url)),
            bytes=body.size if code == 0 else 0,
            sha256=body.sha256 if code == 0 else "",
            attempts=pending.attempts,
            worker=self.worker,
            partition=self.spec.partition,
            run=self.spec.run,
            started=pending.first_wall,
            finished=self.wall_clock(),
            timings=timings,
        )
        curl.close()
        self.journal.append(record.to_line())
        if record.ok:
            self.ok += 1
            self.bytes += record.bytes
        else:
            self.failed += 1

    # -- the loop -------------------------------------------------------------------------

    def _stop_requested(self) -> bool:
        try:
            return self.spec.sink.exists(stop_name(self.spec.run))
        except OSError:
            return False

    def run(self) -> None:
        """Run until every request is recorded (or the run's stop flag appears)."""
        next_check = self.clock() + STOP_CHECK_SECONDS
        try:
            while True:
                now = self.clock()
                if now >= next_check:
                    next_check = now + STOP_CHECK_SECONDS
                    if self._stop_requested():
                        self.stopped = True
                        return
                self._admit(now)
                if not self.active and not self.queued and not self.waiting:
                    return
                wait = IDLE_WAIT
                if self.waiting:
                    wait = min(wait, max(0.0, self.waiting[0][0] - now))
                if self.starved:
                    wait = min(wait, STARVED_WAIT)
                self.driver.step(wait)
        finally:
            self._abandon()

    def _abandon(self) -> None:
        """Drop what is still running (stop flag, or an exception): no record, no body."""
        for active in self.active.values():
            with contextlib.suppress(Exception):
                self.multi.remove_handle(active.curl)
            active.body.abort()
            active.curl.close()
            self.slots.release()
        self.active.clear()
        self.driver.close()
        self.multi.close()


def _info(curl: Any, info: int, default: Any) -> Any:
    try:
        return curl.getinfo(info)
    except Exception:
        return default


def write_input(sink: Sink, run: str, partition: int, requests: Iterable[UrlRequest]) -> None:
    """Store the requests of `partition` for its tasks (JSON lines). Raises OSError."""
    text = "".join(json.dumps(r.to_json()) + "\n" for r in requests)
    sink.write_bytes(input_name(run, partition), text.encode("utf-8"))


def read_input(sink: Sink, run: str, partition: int) -> list[UrlRequest]:
    """The requests the client wrote for `partition`. Raises OSError, InputError."""
    name = input_name(run, partition)
    text = sink.read_bytes(name).decode("utf-8")
    requests = []
    for number, line in enumerate(text.splitlines(), 1):
        request = parse_line(line, f"{name}:{number}")
        if request is not None:
            requests.append(request)
    return requests


def run_partition(spec: PartitionSpec) -> PartitionSummary:
    """Run one attempt at a partition (see the module doc); the Dask task.

    Raises OSError when the sink cannot be read or the journal written.
    """
    started = time.monotonic()
    worker = current_worker()
    requests = read_input(spec.sink, spec.run, spec.partition)
    recorded = {r.output for r in JournalTail(spec.sink, spec.run, spec.partition).poll()}
    pending = [r for r in requests if r.output not in recorded]
    attempt = uuid.uuid4().hex[:12]
    journal = spec.sink.open_journal(journal_base(spec.run, spec.partition, attempt))
    try:
        with _slot_pool(spec.run, worker, spec.per_worker_concurrency) as slots:
            runner = PartitionRunner(spec, pending, journal, worker=worker, slots=slots)
            runner.run()
    finally:
        journal.close()
    return PartitionSummary(
        partition=spec.partition,
        worker=worker,
        attempt=attempt,
        requests=len(requests),
        skipped=len(requests) - len(pending),
        ok=runner.ok,
        failed=runner.failed,
        bytes=runner.bytes,
        stopped=runner.stopped,
        elapsed=time.monotonic() - started,
    )
