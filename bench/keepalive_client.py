"""One benchmark client: N keep-alive GETs, C at once, through socket_action + selectors.

    python bench/keepalive_client.py MODULE URL N C

MODULE is `purecurl` or `pycurl`: the same code runs on both. Prints one JSON line with
requests, wall seconds and CPU seconds (user+sys) of this process.
"""

from __future__ import annotations

import importlib
import json
import os
import selectors
import sys
import time
from typing import Any


def main() -> None:
    modname, url, n_s, c_s = sys.argv[1:5]
    pycurl: Any = importlib.import_module(modname)
    total, conc = int(n_s), int(c_s)
    sel = selectors.DefaultSelector()
    deadline: list[float | None] = [None]
    events = {1: selectors.EVENT_READ, 2: selectors.EVENT_WRITE, 3: 3}

    def on_socket(what: int, fd: int, multi: Any, socketp: Any) -> None:
        if what == 4:
            sel.unregister(fd)
        elif socketp is None:
            sel.register(fd, events[what])
            multi.assign(fd, True)
        else:
            sel.modify(fd, events[what])

    def on_timer(ms: int) -> None:
        deadline[0] = None if ms < 0 else time.monotonic() + ms / 1000.0

    m = pycurl.CurlMulti()
    m.setopt(pycurl.M_SOCKETFUNCTION, on_socket)
    m.setopt(pycurl.M_TIMERFUNCTION, on_timer)
    sink = [0]

    def write(data: bytes) -> None:
        sink[0] += len(data)

    handles = []
    for _ in range(conc):
        c = pycurl.Curl()
        c.setopt(pycurl.URL, url)
        c.setopt(pycurl.WRITEFUNCTION, write)
        handles.append(c)
    started = 0
    done = 0
    for c in handles:
        if started < total:
            m.add_handle(c)
            started += 1
    t0 = time.perf_counter()
    cpu0 = os.times()
    while done < total:
        d = deadline[0]
        timeout = None if d is None else max(0.0, d - time.monotonic())
        for key, mask in sel.select(timeout):
            ev = (1 if mask & selectors.EVENT_READ else 0) | (2 if mask & selectors.EVENT_WRITE else 0)
            m.socket_action(key.fd, ev)
        d = deadline[0]
        if d is not None and time.monotonic() >= d:
            deadline[0] = None
            m.socket_action(pycurl.SOCKET_TIMEOUT, 0)
        while True:
            q, ok, err = m.info_read()
            for c in ok + [e[0] for e in err]:
                if err:
                    raise SystemExit(f"failed: {err[0][1:]}")
                done += 1
                m.remove_handle(c)
                if started < total:
                    m.add_handle(c)
                    started += 1
            if not q:
                break
    cpu1 = os.times()
    wall = time.perf_counter() - t0
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    print(json.dumps({"module": modname, "requests": total, "wall": wall, "cpu": cpu,
                      "bytes": sink[0], "us_per_req": cpu / total * 1e6}))


if __name__ == "__main__":
    main()
