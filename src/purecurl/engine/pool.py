"""The connection pool's bookkeeping: which connections exist, which are idle, who waits.

Theory of operation (httpcore's habit, libcurl's conncache.c rules): this module does no I/O.
It answers questions (is there an idle connection for this origin? may a new one be opened
under M_MAX_HOST_CONNECTIONS / M_MAX_TOTAL_CONNECTIONS?) and records facts (opened, idle,
closed). When an answer means a connection must be closed (the idle pool is over its cap, or
an idle one must make room under the total limit) it is returned to the engine, which closes it
in the one place that sends POLL_REMOVE before close.

Idle connections per origin are a stack (most recently used first), which is what libcurl's
reuse order amounts to and what keeps the warmest socket busy; eviction is by age across all
origins (oldest idle first, CURLMOPT_MAXCONNECTS).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Hashable, Iterator
from typing import Any, Generic, Protocol, TypeVar


class PooledConnection(Protocol):
    origin_key: Hashable
    host_key: Hashable


C = TypeVar("C", bound=PooledConnection)


class ConnectionPool(Generic[C]):
    """Counts of live connections per host and in total, and the idle set."""

    __slots__ = ("_idle", "_idle_order", "per_host", "total")

    def __init__(self) -> None:
        self._idle: dict[Hashable, list[C]] = {}
        self._idle_order: OrderedDict[C, None] = OrderedDict()
        self.per_host: dict[Hashable, int] = {}
        self.total = 0

    def __repr__(self) -> str:
        return f"<ConnectionPool total={self.total} idle={len(self._idle_order)}>"

    @property
    def idle_count(self) -> int:
        return len(self._idle_order)

    def idle_connections(self) -> list[C]:
        """Every idle connection, oldest first."""
        return list(self._idle_order)

    def take_idle(self, origin_key: Hashable) -> C | None:
        """Remove and return the most recently used idle connection for `origin_key`."""
        stack = self._idle.get(origin_key)
        if not stack:
            return None
        conn = stack.pop()
        if not stack:
            del self._idle[origin_key]
        del self._idle_order[conn]
        return conn

    def may_open(self, host_key: Hashable, max_host: int, max_total: int) -> bool:
        """Whether a new connection to `host_key` fits under the limits (0 = no limit)."""
        if max_host and self.per_host.get(host_key, 0) >= max_host:
            return False
        return not (max_total and self.total >= max_total)

    def idle_to_evict_for(self, host_key: Hashable, max_host: int, max_total: int) -> C | None:
        """An idle connection whose closing would let a new one to `host_key` open, or None.

        libcurl closes the oldest idle connection when the total limit is what blocks.
        """
        if max_host and self.per_host.get(host_key, 0) >= max_host:
            for conn in self._idle_order:
                if conn.host_key == host_key:
                    return conn
            return None
        if max_total and self.total >= max_total and self._idle_order:
            return next(iter(self._idle_order))
        return None

    def opened(self, conn: C) -> None:
        """A new connection exists (connecting or connected)."""
        self.per_host[conn.host_key] = self.per_host.get(conn.host_key, 0) + 1
        self.total += 1

    def put_idle(self, conn: C, max_idle: int) -> list[C]:
        """Make `conn` idle; returns the idle connections to close to stay within `max_idle`."""
        self._idle.setdefault(conn.origin_key, []).append(conn)
        self._idle_order[conn] = None
        evict: list[C] = []
        while max_idle >= 0 and len(self._idle_order) > max_idle:
            old = next(iter(self._idle_order))
            self.discard_idle(old)
            evict.append(old)
        return evict

    def discard_idle(self, conn: C) -> bool:
        """Take `conn` out of the idle set (it is being closed or reused); False if not idle."""
        if conn not in self._idle_order:
            return False
        del self._idle_order[conn]
        stack = self._idle[conn.origin_key]
        stack.remove(conn)
        if not stack:
            del self._idle[conn.origin_key]
        return True

    def closed(self, conn: C) -> None:
        """`conn` no longer exists."""
        self.discard_idle(conn)
        n = self.per_host.get(conn.host_key, 0) - 1
        if n > 0:
            self.per_host[conn.host_key] = n
        else:
            self.per_host.pop(conn.host_key, None)
        self.total -= 1


T = TypeVar("T", bound=Hashable)


class WaitQueue(Generic[T]):
    """Transfers waiting for a connection (PENDING), first come first served per key.

    The key says what a waiter asks for (libcurl's pending list, split by origin): when the
    first waiter of a key cannot start, none behind it can, so a scan after each finished
    transfer costs the number of keys, not the number of waiters.
    """

    __slots__ = ("_by_key", "_key_of")

    def __init__(self) -> None:
        self._by_key: dict[Hashable, deque[T]] = {}
        self._key_of: dict[T, Hashable] = {}

    def __len__(self) -> int:
        return len(self._key_of)

    def __repr__(self) -> str:
        return f"<WaitQueue waiting={len(self._key_of)} keys={len(self._by_key)}>"

    def append(self, item: T, key: Hashable) -> None:
        if item in self._key_of:
            return
        self._key_of[item] = key
        self._by_key.setdefault(key, deque()).append(item)

    def remove(self, item: T) -> None:
        """Forget `item` (no error when it does not wait)."""
        key = self._key_of.pop(item, _MISSING)
        if key is _MISSING:
            return
        queue = self._by_key[key]
        if queue[0] is item:
            queue.popleft()
        else:
            queue.remove(item)
        if not queue:
            del self._by_key[key]

    def waiting_keys(self) -> list[Hashable]:
        """The keys with waiters, oldest first (a snapshot)."""
        return list(self._by_key)

    def first(self, key: Hashable) -> T | None:
        queue = self._by_key.get(key)
        return queue[0] if queue else None

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._key_of))


_MISSING: Any = object()
