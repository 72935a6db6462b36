"""Partitioning by host: each host in exactly one partition, partitions of even size."""

from __future__ import annotations

import pytest

from purecurl.batch.inputs import UrlRequest, make_request
from purecurl.batch.plan import plan_partitions


def _requests(sizes: dict[str, int]) -> list[UrlRequest]:
    return [make_request(f"http://{h}/{i}") for h, n in sizes.items() for i in range(n)]


def test_every_host_lands_in_exactly_one_partition() -> None:
    requests = _requests({f"h{i}.test": i + 1 for i in range(20)})
    plan = plan_partitions(requests, 3)
    assert len(plan) == 3
    owners: dict[str, int] = {}
    for part in plan:
        for request in part.requests:
            assert owners.setdefault(request.host, part.index) == part.index
        assert set(part.hosts) == {r.host for r in part.requests}
    assert sorted(r.output for p in plan for r in p.requests) == sorted(r.output for r in requests)


def test_partitions_are_balanced_and_keep_input_order() -> None:
    requests = _requests({"a.test": 50, "b.test": 30, "c.test": 20, "d.test": 10})
    sizes = sorted(len(p.requests) for p in plan_partitions(requests, 2))
    assert sizes == [50, 60]  # the best split: {a}, {b, c, d}
    for part in plan_partitions(requests, 2):
        assert list(part.requests) == [r for r in requests if r.host in part.hosts]


def test_fewer_hosts_than_partitions() -> None:
    plan = plan_partitions(_requests({"a.test": 5}), 4)
    assert [len(p.requests) for p in plan] == [5]


def test_partition_count_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        plan_partitions([], 0)
