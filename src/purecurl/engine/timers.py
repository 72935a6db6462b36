"""The one deadline structure of a multi.

Theory of operation: every timeout of every transfer (total, connect, low-speed, server
response, happy eyeballs, "run me now") is an entry in that transfer's `expires` map, keyed by
kind (libcurl's `expire_id`). A transfer's deadline is the earliest of its entries; the multi
keeps transfers in a heap ordered by deadline. Updates never search the heap: a changed deadline
pushes a new entry stamped with a fresh sequence number, and entries whose stamp is no longer the
transfer's current one are dropped lazily when they reach the top. So setting a deadline costs
O(log n) and finding the next one is O(1) amortised, whatever the number of transfers.

A stale entry still holds its transfer (and through it the application's callbacks and
buffers): one that sits below a live entry with an earlier deadline would keep a finished
transfer alive until its old deadline came up. So when the heap has grown to twice what was
live at the last count, it is rebuilt from the live entries alone (amortised O(1) a push).

Time is a float of seconds from the engine's clock, passed in; nothing here reads a clock.
"""

from __future__ import annotations

import heapq
import math
from typing import Protocol

# Deadline kinds, as libcurl's expire ids.
RUN_NOW = 0
TOTAL = 1
CONNECT = 2
HAPPY_EYEBALLS = 3
LOW_SPEED = 4
SERVER_RESPONSE = 5
RATE_LIMIT = 6
EXPECT_100 = 7


class HasDeadline(Protocol):
    expires: dict[int, float]
    deadline: float | None
    deadline_stamp: int


class DeadlineQueue:
    """Transfers ordered by their earliest deadline."""

    __slots__ = ("_heap", "_limit", "_stamp")

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, HasDeadline]] = []
        self._stamp = 0
        self._limit = 64  # compact when the heap grows past this

    def __len__(self) -> int:
        return len(self._heap)

    def set(self, owner: HasDeadline, kind: int, when: float) -> None:
        """Set (or move) the `kind` deadline of `owner` to absolute time `when`."""
        expires = owner.expires
        if expires.get(kind) == when:
            return
        expires[kind] = when
        d = owner.deadline
        if d is None or when < d:
            self._push(owner, when)
        elif when != d:
            self._refresh(owner)

    def clear(self, owner: HasDeadline, kind: int) -> None:
        """Remove the `kind` deadline of `owner` (no-op when unset)."""
        if owner.expires.pop(kind, None) is not None:
            self._refresh(owner)

    def clear_all(self, owner: HasDeadline) -> None:
        """Remove every deadline of `owner`; its heap entries become stale."""
        owner.expires.clear()
        owner.deadline = None
        owner.deadline_stamp = -1

    def clear_expired(self, owner: HasDeadline, now: float) -> None:
        """Drop the deadlines of `owner` that have passed: they fired when the owner ran."""
        expires = owner.expires
        gone = [k for k, w in expires.items() if w <= now]
        if gone:
            for k in gone:
                del expires[k]
            self._refresh(owner)

    def _refresh(self, owner: HasDeadline) -> None:
        expires = owner.expires
        if not expires:
            owner.deadline = None
            owner.deadline_stamp = -1
            return
        d = min(expires.values())
        if d != owner.deadline:
            self._push(owner, d)

    def _push(self, owner: HasDeadline, when: float) -> None:
        self._stamp += 1
        owner.deadline = when
        owner.deadline_stamp = self._stamp
        heap = self._heap
        heapq.heappush(heap, (when, self._stamp, owner))
        if len(heap) > self._limit:
            self._compact()

    def _compact(self) -> None:
        """Rebuild the heap from its live entries (the stale ones hold finished owners)."""
        live = [e for e in self._heap if e[2].deadline_stamp == e[1]]
        heapq.heapify(live)
        self._heap = live
        self._limit = max(64, 2 * len(live))

    def next_deadline(self) -> float | None:
        """The earliest live deadline, or None."""
        heap = self._heap
        while heap:
            when, stamp, owner = heap[0]
            if owner.deadline_stamp == stamp:
                return when
            heapq.heappop(heap)
        return None

    def pop_expired(self, now: float) -> list[HasDeadline]:
        """Owners whose deadline is at or before `now`, earliest first, each once.

        Their entries leave the heap; the owner's `expires` map is untouched (the caller runs the
        owner, then calls `clear_expired` and the owner sets what it needs next). An owner popped
        here is re-pushed by `clear_expired`/`set` when it still has deadlines.
        """
        heap = self._heap
        out: list[HasDeadline] = []
        while heap and heap[0][0] <= now:
            _when, stamp, owner = heapq.heappop(heap)
            if owner.deadline_stamp == stamp:
                owner.deadline = None
                owner.deadline_stamp = -1
                out.append(owner)
        return out

    def requeue(self, owner: HasDeadline) -> None:
        """Put `owner` back in the heap from its `expires` map (after pop_expired)."""
        owner.deadline = None
        self._refresh(owner)


def ms_until(deadline: float, now: float) -> int:
    """Milliseconds from `now` to `deadline`, rounded UP (SEMANTICS rule 17), never negative."""
    diff = deadline - now
    if diff <= 0:
        return 0
    return math.ceil(diff * 1000.0 - 1e-9) or 1
