"""`CountingServer`: an `HttpServer` with the routes the batch tests fetch, and counters.

Routes (on top of HttpServer's built-in ones):

- `/item/N`: 200 with the body `item N\\n` repeated N % 7 + 1 times, after `delay` seconds;
- `/flaky/N`: 503 with `Retry-After: 0` for the first `flaky_failures` requests of each path,
  then like `/item/N`;
- `/gate/N`: 404 while `gate_open` is false, then like `/item/N`.

Counters: `hits()` (requests received per target), `max_concurrent` (from ScriptedServer: the
most connections open at once), `active` (a `Gauge` of the requests being answered at once:
the delay is spent inside it) and, when given, a `Gauge` shared by several servers.
"""

from __future__ import annotations

import collections
import contextlib
import threading
import time
from collections.abc import Iterator

from tests.servers import HttpServer, Request, Response

__all__ = ["CountingServer", "Gauge", "item_body"]


def item_body(n: int) -> bytes:
    """The body of `/item/N`."""
    return f"item {n}\n".encode() * (n % 7 + 1)


class Gauge:
    """How many requests are being answered now, and the most at once."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        try:
            yield
        finally:
            with self._lock:
                self.now -= 1


class CountingServer(HttpServer):
    def __init__(
        self, *, delay: float = 0.0, flaky_failures: int = 0, shared: Gauge | None = None
    ) -> None:
        super().__init__({}, io_timeout=20.0)
        self.delay = delay
        self.flaky_failures = flaky_failures
        self.gate_open = False
        self.active = Gauge()
        self.shared = shared
        self._seen: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    def hits(self) -> collections.Counter[str]:
        """Requests received per target so far."""
        with self._lock:
            return collections.Counter(self._seen)

    def route(self, request: Request) -> Response:
        with self._lock:
            self._seen[request.target] += 1
            count = self._seen[request.target]
        kind, _, tail = request.path[1:].partition("/")
        if kind not in ("item", "flaky", "gate") or not tail.isdigit():
            return super().route(request)
        with self.active.held(), self.shared.held() if self.shared else contextlib.nullcontext():
            if self.delay:
                time.sleep(self.delay)
        if kind == "flaky" and count <= self.flaky_failures:
            return Response(503, [("Retry-After", "0")], b"busy\n")
        if kind == "gate" and not self.gate_open:
            return Response(404, body=b"not yet\n")
        return Response(body=item_body(int(tail)))
