"""Unit tests of the engine's bookkeeping pieces: deadline heap, interest table, pool, states."""

from __future__ import annotations

from typing import Any

import pytest

from purecurl.engine import state as S
from purecurl.engine.interest import POLL_IN, POLL_INOUT, POLL_OUT, POLL_REMOVE, SocketTable
from purecurl.engine.pool import ConnectionPool, WaitQueue
from purecurl.engine.timers import CONNECT, RUN_NOW, TOTAL, DeadlineQueue, ms_until


class Owner:
    def __init__(self, name: str = "") -> None:
        self.name = name
        self.expires: dict[int, float] = {}
        self.deadline: float | None = None
        self.deadline_stamp = -1
        self.pollset: tuple[tuple[int, int], ...] = ()

    def __repr__(self) -> str:
        return f"Owner({self.name})"


# -- DeadlineQueue


def test_next_deadline_is_earliest_of_all_kinds_and_owners() -> None:
    q = DeadlineQueue()
    a, b = Owner("a"), Owner("b")
    q.set(a, TOTAL, 10.0)
    q.set(a, CONNECT, 5.0)
    q.set(b, RUN_NOW, 7.0)
    assert q.next_deadline() == 5.0
    q.clear(a, CONNECT)
    assert q.next_deadline() == 7.0
    q.clear_all(b)
    assert q.next_deadline() == 10.0


def test_moving_a_deadline_later_drops_the_stale_entry() -> None:
    q = DeadlineQueue()
    a = Owner()
    q.set(a, TOTAL, 1.0)
    q.set(a, TOTAL, 3.0)
    assert q.next_deadline() == 3.0
    assert q.pop_expired(2.0) == []
    assert q.pop_expired(3.0) == [a]


def test_pop_expired_returns_each_owner_once_in_deadline_order() -> None:
    q = DeadlineQueue()
    a, b, c = Owner("a"), Owner("b"), Owner("c")
    q.set(b, TOTAL, 2.0)
    q.set(a, TOTAL, 1.0)
    q.set(a, CONNECT, 1.5)
    q.set(c, TOTAL, 9.0)
    assert q.pop_expired(2.0) == [a, b]
    # a still has its CONNECT deadline after firing TOTAL: clear_expired keeps it queued
    q.clear_expired(a, 1.2)
    assert a.expires == {CONNECT: 1.5}
    assert q.next_deadline() == 1.5


def test_requeue_after_pop_restores_future_deadlines() -> None:
    q = DeadlineQueue()
    a = Owner()
    q.set(a, RUN_NOW, 0.0)
    q.set(a, TOTAL, 4.0)
    assert q.pop_expired(0.0) == [a]
    q.clear_expired(a, 0.0)
    assert q.next_deadline() == 4.0


def test_heap_does_not_grow_without_bound_under_churn() -> None:
    q = DeadlineQueue()
    owners = [Owner(str(i)) for i in range(10)]
    for step in range(1000):
        for o in owners:
            q.set(o, TOTAL, float(step))
        q.next_deadline()
        q.pop_expired(float(step) - 1)
    assert len(q) <= 10 * 1001


@pytest.mark.parametrize(
    ("deadline", "now", "ms"),
    [(1.0, 1.0, 0), (1.0, 2.0, 0), (1.0001, 1.0, 1), (1.5, 1.0997, 401), (2.0, 1.0, 1000)],
)
def test_ms_until_rounds_up(deadline: float, now: float, ms: int) -> None:
    """Rule 17: milliseconds are rounded up, never 0 while the deadline is in the future."""
    assert ms_until(deadline, now) == ms


# -- SocketTable


def make_table() -> tuple[SocketTable, list[tuple[int, int]]]:
    calls: list[tuple[int, int]] = []

    def announce(fd: int, what: int, entry: Any) -> None:
        calls.append((fd, what))

    return SocketTable(announce), calls


def test_interest_is_announced_only_on_change() -> None:
    """Rule 9: per-socket counts; the callback hears only changes of the combined mask."""
    table, calls = make_table()
    a, b = Owner("a"), Owner("b")
    table.update(a, ((5, POLL_IN),))
    table.flush()
    table.update(b, ((5, POLL_IN),))
    table.flush()
    assert calls == [(5, POLL_IN)]
    table.update(b, ((5, POLL_OUT),))
    table.flush()
    assert calls[-1] == (5, POLL_INOUT)
    table.update(a, ())
    table.flush()
    assert calls[-1] == (5, POLL_OUT)
    table.update(b, ())
    table.flush()
    assert calls[-1] == (5, POLL_REMOVE)
    assert table.entries == {}


def test_fd_never_announced_is_never_removed() -> None:
    """Rule 10: REMOVE only for sockets that were announced."""
    table, calls = make_table()
    a = Owner()
    table.update(a, ((7, POLL_IN),))
    table.update(a, ())
    table.flush()
    assert calls == []
    table.forget(7)
    assert calls == []


def test_forget_announces_remove_and_assign_works_inside_it() -> None:
    """Rules 10, 11: REMOVE before close; assign() from inside the REMOVE call is allowed."""
    seen: list[Any] = []
    table: SocketTable

    def announce(fd: int, what: int, entry: Any) -> None:
        seen.append((what, entry.socketp))
        if what == POLL_REMOVE:
            assert table.assign(fd, "late")

    table = SocketTable(announce)
    a = Owner()
    table.update(a, ((3, POLL_OUT),))
    table.flush()
    assert table.assign(3, "obj")
    table.update(a, ())
    table.forget(3)
    assert seen == [(POLL_OUT, None), (POLL_REMOVE, "obj")]
    assert not table.assign(3, "after")  # forgotten with REMOVE


# -- ConnectionPool


class Conn:
    def __init__(self, origin: str, host: str) -> None:
        self.origin_key = origin
        self.host_key = host


def test_pool_limits_and_idle_reuse_order() -> None:
    pool: ConnectionPool[Conn] = ConnectionPool()
    c1, c2 = Conn("o", "h"), Conn("o", "h")
    pool.opened(c1)
    pool.opened(c2)
    assert not pool.may_open("h", 2, 0)
    assert pool.may_open("other", 2, 0)
    assert not pool.may_open("other", 0, 2)
    assert pool.put_idle(c1, 10) == []
    assert pool.put_idle(c2, 10) == []
    assert pool.take_idle("o") is c2  # most recently used first
    assert pool.idle_count == 1
    pool.closed(c1)
    assert pool.total == 1
    assert pool.idle_count == 0


def test_pool_evicts_oldest_idle_over_cap() -> None:
    """Rule 25: MAXCONNECTS caps the idle pool, oldest closed first."""
    pool: ConnectionPool[Conn] = ConnectionPool()
    conns = [Conn(f"o{i}", f"h{i}") for i in range(3)]
    for c in conns:
        pool.opened(c)
    assert pool.put_idle(conns[0], 2) == []
    assert pool.put_idle(conns[1], 2) == []
    assert pool.put_idle(conns[2], 2) == [conns[0]]


def test_pool_names_an_idle_victim_when_the_total_limit_blocks() -> None:
    pool: ConnectionPool[Conn] = ConnectionPool()
    old = Conn("a", "ha")
    pool.opened(old)
    pool.put_idle(old, 10)
    assert pool.idle_to_evict_for("hb", 0, 1) is old
    assert pool.idle_to_evict_for("hb", 0, 2) is None


# -- states


def test_every_move_outside_the_table_is_refused() -> None:
    """STYLE habit 2: one table of allowed moves."""
    for old in range(len(S.NAMES)):
        for new in range(len(S.NAMES)):
            if new in S.ALLOWED[old]:
                S.check_move(old, new)
            else:
                with pytest.raises(S.StateError):
                    S.check_move(old, new)
    assert S.MSGSENT not in S.ALLOWED[S.PERFORMING]


def test_wait_queue_keeps_arrival_order_per_key_and_forgets_removed_waiters() -> None:
    q: WaitQueue[str] = WaitQueue()
    for item, key in (("a1", "A"), ("b1", "B"), ("a2", "A"), ("a3", "A")):
        q.append(item, key)
    q.append("a1", "A")  # already waiting: not twice
    assert len(q) == 4 and q.waiting_keys() == ["A", "B"]
    assert q.first("A") == "a1" and q.first("B") == "b1" and q.first("C") is None
    q.remove("a2")  # from the middle (a removed handle)
    q.remove("a1")
    q.remove("zz")  # not waiting: no error
    assert q.first("A") == "a3" and len(q) == 2
    q.remove("b1")
    assert q.waiting_keys() == ["A"] and list(q) == ["a3"]


def test_stale_entries_do_not_keep_finished_owners_alive() -> None:
    """Soak finding: entries of cleared owners under a live earlier deadline stayed in the heap
    (and kept their transfers, callbacks and buffers alive) until their old time came up."""
    q = DeadlineQueue()
    keeper = Owner("keeper")
    q.set(keeper, TOTAL, 1.0)  # the top of the heap, live for the whole test
    for i in range(10_000):
        o = Owner()
        q.set(o, TOTAL, 100.0 + i)
        q.clear_all(o)  # the transfer ended
    assert len(q) <= 64
    assert q.next_deadline() == 1.0
