"""What every benchmark client shares: the spec it is given and the result line it prints.

Theory of operation
-------------------
The runner (bench/run.py) starts each client as its own process with one argument, a JSON
`Spec`: the URL, how many requests, how many at once, the bytes each response must carry, and
the protocol knobs (new connection per request, TLS CA file, HTTP version). The client

1. probes: one request, untimed. If the library cannot do what the scenario needs (no HTTPS,
   no HTTP/2) it prints an "unavailable" result and exits 0, so the suite keeps going;
2. warms up: `spec.warmup` requests, untimed, so keep-alive scenarios measure the steady state
   (connections open, code paths warm) rather than 64 connection setups;
3. runs `spec.requests` requests, `spec.concurrency` at once, between two readings of its own
   CPU clock (`time.process_time`: user+sys of this process, all threads, ns resolution)
   and a wall clock, and prints them.

A client counts the body bytes it received and the failed requests; the runner compares the
bytes with `requests * size` so a client that skips the body cannot look fast.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Result", "Spec", "Stopwatch", "main", "raise_fd_limit"]


@dataclass(frozen=True)
class Spec:
    """One client run: what to fetch and how (a JSON object on the command line)."""

    scenario: str
    url: str
    requests: int
    concurrency: int
    size: int  # body bytes of each response
    warmup: int = 0
    new_connection: bool = False  # C: FORBID_REUSE and "Connection: close"
    http2: bool = False  # E/F: HTTP/2 (prior knowledge for http://, ALPN for https://)
    cainfo: str | None = None  # CA bundle for https:// URLs
    stream: bool = False  # B: discard the body chunk by chunk, never hold it whole
    options: dict[str, Any] = field(default_factory=dict)  # client-specific knobs

    @classmethod
    def from_json(cls, text: str) -> Spec:
        """Return the Spec encoded in `text` (raises TypeError/ValueError if malformed)."""
        return cls(**json.loads(text))

    def to_json(self) -> str:
        """Return the JSON text that from_json reads back."""
        return json.dumps(asdict(self))


@dataclass
class Result:
    """What a client prints: status "ok", "unavailable" or "error", and the measurements."""

    status: str
    requests: int = 0
    bytes: int = 0
    errors: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def emit(self) -> None:
        """Print this result as one JSON line on stdout."""
        sys.stdout.write(json.dumps(asdict(self)) + "\n")
        sys.stdout.flush()


class Stopwatch:
    """Wall and CPU (user+sys) seconds between start() and stop()."""

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0
        self._w0 = 0.0
        self._c0 = 0.0

    def start(self) -> None:
        self._c0 = time.process_time()
        self._w0 = time.perf_counter()

    def stop(self) -> None:
        self.wall = time.perf_counter() - self._w0
        self.cpu = time.process_time() - self._c0


async def run_workers(
    concurrency: int, total: int, fetch: Callable[[], Awaitable[tuple[int, int]]]
) -> tuple[int, int]:
    """Do `total` requests with `concurrency` worker tasks taking them from a shared counter
    (the usual way to bound concurrency in asyncio code). `fetch()` does one request and
    returns (body bytes, HTTP status); returns (body bytes, failures), where a failure is an
    exception or a status other than 200."""
    left = [total]
    got = [0, 0]

    async def worker() -> None:
        while left[0] > 0:
            left[0] -= 1
            try:
                nbytes, status = await fetch()
                got[0] += nbytes
                if status != 200:
                    got[1] += 1
            except Exception:
                got[1] += 1

    await asyncio.gather(*(worker() for _ in range(min(concurrency, total))))
    return got[0], got[1]


async def timed_batches(spec: Spec, batch: Callable[[int], Awaitable[tuple[int, int]]]) -> Result:
    """The timed part of an asyncio client: `batch(n)` does n requests and returns (body
    bytes, failures); warm up with spec.warmup of them, then time spec.requests."""
    if spec.warmup:
        await batch(spec.warmup)
    watch = Stopwatch()
    watch.start()
    nbytes, errors = await batch(spec.requests)
    watch.stop()
    return Result(
        "ok" if not errors else "error",
        requests=spec.requests,
        bytes=nbytes,
        errors=errors,
        wall=watch.wall,
        cpu=watch.cpu,
        reason=f"{errors} requests failed" if errors else "",
    )


def raise_fd_limit() -> None:
    """Lift the soft RLIMIT_NOFILE to the hard limit (the scaling runs hold 10,000 sockets)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(run: Callable[[Spec, list[str]], Result]) -> None:
    """Entry point of a client module: parse argv, call `run(spec, extra_args)`, print the result.

    An exception escaping `run` is reported as status "error" (exit status 1) so the runner
    records it instead of losing the line.
    """
    spec = Spec.from_json(sys.argv[1])
    raise_fd_limit()
    try:
        result = run(spec, sys.argv[2:])
    except Exception as exc:
        Result("error", reason=f"{type(exc).__name__}: {exc}"[:500]).emit()
        raise SystemExit(1) from None
    result.emit()
