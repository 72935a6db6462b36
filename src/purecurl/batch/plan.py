"""Partitioning a batch by host: every host in exactly one partition, partitions of even size.

Theory of operation
-------------------
A politeness limit (`per_host_limit`, libcurl's `CURLMOPT_MAX_HOST_CONNECTIONS`) is only a
limit if one multi handle sees all of a host's transfers. So the unit of placement is the
host, never the URL: hosts are packed into partitions by the longest-processing-time rule
(largest host first, each into the partition with the fewest URLs so far), which keeps the
largest partition within 4/3 of the best possible. A host with most of the URLs is a partition
of its own and bounds the run's duration by design: that is what the limit asks for.

Within a partition the requests keep their input order per host; the runner interleaves hosts.
Pure bookkeeping: no I/O.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

from purecurl.batch.inputs import UrlRequest

__all__ = ["Partition", "plan_partitions"]


@dataclass(frozen=True)
class Partition:
    """The requests of a set of hosts, run by one worker through one multi handle."""

    index: int
    hosts: tuple[str, ...]
    requests: tuple[UrlRequest, ...]


def plan_partitions(requests: Sequence[UrlRequest], count: int) -> list[Partition]:
    """Split `requests` into at most `count` partitions (fewer when there are fewer hosts);
    empty partitions are dropped. Raises ValueError when `count` < 1."""
    if count < 1:
        raise ValueError(f"the number of partitions must be at least 1, not {count}")
    by_host: dict[str, list[UrlRequest]] = {}
    for request in requests:
        by_host.setdefault(request.host, []).append(request)
    hosts = sorted(by_host, key=lambda h: (-len(by_host[h]), h))
    bins = min(count, len(hosts))
    heap = [(0, i) for i in range(bins)]
    members: list[list[str]] = [[] for _ in range(bins)]
    for host in hosts:
        load, i = heapq.heappop(heap)
        members[i].append(host)
        heapq.heappush(heap, (load + len(by_host[host]), i))
    partitions = []
    for i, names in enumerate(members):
        chosen = set(names)
        ordered = tuple(r for r in requests if r.host in chosen)
        partitions.append(Partition(i, tuple(names), ordered))
    return partitions
