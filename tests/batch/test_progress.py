"""The progress display: one line per interval off a terminal, a block redrawn on one."""

from __future__ import annotations

import io

from purecurl.batch.coordinator import BatchProgress, WorkerStats
from purecurl.batch.progress import ProgressDisplay, human_bytes


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def snapshot(done: int, *, finished: bool = False) -> BatchProgress:
    return BatchProgress(
        total=10,
        skipped=2,
        done=done,
        failed=1,
        bytes=2048 * done,
        elapsed=2.0,
        partitions=2,
        partitions_done=1,
        workers={"tcp://w2:1": WorkerStats(done, 1, 2048 * done), "tcp://w1:1": WorkerStats()},
        finished=finished,
    )


def test_off_a_terminal_a_line_per_interval_and_workers_at_the_end() -> None:
    out, clock = io.StringIO(), Clock()
    display = ProgressDisplay(out, tty=False, interval=5.0, clock=clock)
    display(snapshot(1))
    clock.now = 1.0
    display(snapshot(2))  # within the interval: nothing
    clock.now = 6.0
    display(snapshot(3))
    display(snapshot(9, finished=True))
    assert out.getvalue().splitlines() == [
        "purecurl-batch: 2/10 done, 1 failed, 2 KiB, 1.0 URLs/s, 1 KiB/s, 0:02, 2 skipped, "
        "partitions 1/2",
        "purecurl-batch: 4/10 done, 1 failed, 6 KiB, 2.0 URLs/s, 3 KiB/s, 0:02, 2 skipped, "
        "partitions 1/2",
        "purecurl-batch: 10/10 done, 1 failed, 18 KiB, 5.0 URLs/s, 9 KiB/s, 0:02, 2 skipped, "
        "partitions 1/2",
        "  tcp://w1:1  0 ok, 0 failed, 0 B",
        "  tcp://w2:1  9 ok, 1 failed, 18 KiB",
    ]


def test_on_a_terminal_the_block_is_redrawn_in_place() -> None:
    out, clock = io.StringIO(), Clock()
    display = ProgressDisplay(out, tty=True, clock=clock)
    display(snapshot(1))
    clock.now = 1.0
    display(snapshot(2))
    first, second = out.getvalue().split("\x1b[3F\x1b[J")
    assert first.count("\n") == 3 and second.count("\n") == 3
    assert second.startswith("purecurl-batch: 3/10 done")


def test_human_bytes() -> None:
    assert [human_bytes(n) for n in (0, 1023, 1024, 1536, 10**6, 5 * 2**30)] == [
        "0 B",
        "1023 B",
        "1 KiB",
        "1.5 KiB",
        "977 KiB",
        "5 GiB",
    ]
