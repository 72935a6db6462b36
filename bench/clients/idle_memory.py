"""Memory per idle transfer: N easy handles added to a multi but never driven.

    python -m bench.clients.idle_memory SPEC_JSON MODULE

MODULE is `purecurl` or `pycurl`; spec.concurrency is N and spec.url the URL each handle gets
(with a WRITEFUNCTION, as in the keep-alive client). Nothing calls socket_action, so no
transfer leaves its initial state and no socket is opened: what is measured is the cost of a
queued transfer.

Two passes, because tracemalloc's own bookkeeping inflates the resident set:
1. resident set size (/proc/self/statm) before and after making and adding the N handles: the
   whole process, so it counts libcurl's C allocations as well as Python objects;
2. tracemalloc's traced bytes around the same work on a fresh multi: Python allocations only
   (for pycurl that misses libcurl's own memory, hence pass 1).
Both are reported per handle in `extra` (rss_per_handle, traced_per_handle).
"""

from __future__ import annotations

import gc
import importlib
import os
import time
import tracemalloc
from typing import Any

from bench.clients.common import Result, Spec, main


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _add_idle(mod: Any, url: str, n: int) -> tuple[Any, list[Any]]:
    m = mod.CurlMulti()
    m.setopt(mod.M_SOCKETFUNCTION, lambda *a: None)
    m.setopt(mod.M_TIMERFUNCTION, lambda ms: None)
    sink = [0]

    def write(data: bytes) -> None:
        sink[0] += len(data)

    handles = []
    for _ in range(n):
        c = mod.Curl()
        c.setopt(mod.URL, url)
        c.setopt(mod.WRITEFUNCTION, write)
        m.add_handle(c)
        handles.append(c)
    return m, handles


def _drop(m: Any, handles: list[Any]) -> None:
    for c in handles:
        m.remove_handle(c)
        c.close()
    m.close()


def run(spec: Spec, args: list[str]) -> Result:
    """Measure RSS and traced bytes per idle transfer for the module named in args[0]."""
    mod = importlib.import_module(args[0])
    n = spec.concurrency
    gc.collect()
    rss0 = _rss()
    t0 = time.perf_counter()
    m, handles = _add_idle(mod, spec.url, n)
    wall = time.perf_counter() - t0
    gc.collect()
    rss = _rss() - rss0
    _drop(m, handles)
    del m, handles
    gc.collect()

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    m, handles = _add_idle(mod, spec.url, n)
    gc.collect()
    traced = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    _drop(m, handles)
    return Result(
        "ok",
        requests=n,
        wall=wall,
        extra={"rss_per_handle": rss / n, "traced_per_handle": traced / n},
    )


if __name__ == "__main__":
    main(run)
