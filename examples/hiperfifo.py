"""hiperfifo, in Python: fetch each URL written to a FIFO, as it arrives.

The counterpart of libcurl's docs/examples/hiperfifo.c, written against the pycurl API
(`import purecurl as pycurl`; it runs unchanged on the real pycurl). The application owns the
event loop (here `selectors`); purecurl says through the socket callback which sockets to
watch and through the timer callback when to call back.

    python examples/hiperfifo.py [FIFO]       # default FIFO: hiper.fifo
    echo http://127.0.0.1:8000/ > hiper.fifo  # from another shell
    echo quit > hiper.fifo                     # ends the program once transfers finish

Each completion is reported as `DONE: URL => (CODE) MESSAGE`.
"""

from __future__ import annotations

import os
import selectors
import stat
import sys
import time
from typing import Any

import purecurl as pycurl


class HiperFifo:
    def __init__(self, fifo_path: str, out: Any = sys.stdout) -> None:
        self.out = out
        self.sel = selectors.DefaultSelector()
        self.multi = pycurl.CurlMulti()
        self.multi.setopt(pycurl.M_SOCKETFUNCTION, self.socket_cb)
        self.multi.setopt(pycurl.M_TIMERFUNCTION, self.timer_cb)
        self.deadline: float | None = None
        self.running = 0
        self.quitting = False
        self.fifo_path = fifo_path
        if not os.path.exists(fifo_path):
            os.mkfifo(fifo_path, 0o600)
        elif not stat.S_ISFIFO(os.stat(fifo_path).st_mode):
            raise SystemExit(f"{fifo_path} exists and is not a FIFO")
        # O_RDWR keeps the FIFO open when writers come and go (no endless EOFs).
        self.fifo_fd = os.open(fifo_path, os.O_RDWR | os.O_NONBLOCK)
        self.sel.register(self.fifo_fd, selectors.EVENT_READ, "fifo")
        self.pending = b""

    # -- the two callbacks of the multi_socket API
    def socket_cb(self, what: int, fd: int, multi: Any, socketp: Any) -> None:
        if what == pycurl.POLL_REMOVE:
            self.sel.unregister(fd)
            return
        events = {
            pycurl.POLL_IN: selectors.EVENT_READ,
            pycurl.POLL_OUT: selectors.EVENT_WRITE,
            pycurl.POLL_INOUT: selectors.EVENT_READ | selectors.EVENT_WRITE,
        }[what]
        if socketp is None:
            self.sel.register(fd, events, "curl")
            multi.assign(fd, "watched")
        else:
            self.sel.modify(fd, events, "curl")

    def timer_cb(self, timeout_ms: int) -> None:
        self.deadline = None if timeout_ms < 0 else time.monotonic() + timeout_ms / 1000.0

    # -- the application
    def new_transfer(self, url: str) -> None:
        c = pycurl.Curl()
        c.setopt(pycurl.URL, url)
        c.setopt(pycurl.WRITEFUNCTION, lambda data: None)  # hiperfifo discards bodies
        c.url = url
        self.multi.add_handle(c)
        self.running += 1
        print(f"Adding easy handle for {url}", file=self.out)

    def read_fifo(self) -> None:
        try:
            data = os.read(self.fifo_fd, 65536)
        except BlockingIOError:
            return
        self.pending += data
        while b"\n" in self.pending:
            line, self.pending = self.pending.split(b"\n", 1)
            text = line.decode().strip()
            if text == "quit":
                self.quitting = True
            elif text:
                self.new_transfer(text)

    def check_done(self) -> None:
        while True:
            queued, ok, failed = self.multi.info_read()
            for c in ok:
                self.report(c, 0, "")
            for c, code, msg in failed:
                self.report(c, code, msg)
            if not queued:
                break

    def report(self, c: Any, code: int, msg: str) -> None:
        print(f"DONE: {c.url} => ({code}) {msg}", file=self.out, flush=True)
        self.multi.remove_handle(c)
        c.close()
        self.running -= 1

    def run(self) -> None:
        while not (self.quitting and self.running == 0):
            timeout = None
            if self.deadline is not None:
                timeout = max(0.0, self.deadline - time.monotonic())
            for key, mask in self.sel.select(timeout):
                if key.data == "fifo":
                    self.read_fifo()
                    continue
                ev = 0
                if mask & selectors.EVENT_READ:
                    ev |= pycurl.CSELECT_IN
                if mask & selectors.EVENT_WRITE:
                    ev |= pycurl.CSELECT_OUT
                self.multi.socket_action(key.fd, ev)
            if self.deadline is not None and time.monotonic() >= self.deadline:
                self.deadline = None
                self.multi.socket_action(pycurl.SOCKET_TIMEOUT, 0)
            self.check_done()

    def close(self) -> None:
        self.sel.unregister(self.fifo_fd)
        os.close(self.fifo_fd)
        self.multi.close()
        self.sel.close()


def main(argv: list[str]) -> int:
    fifo = argv[1] if len(argv) > 1 else "hiper.fifo"
    app = HiperFifo(fifo)
    print(f"Now, pipe some URL's into > {fifo}", flush=True)
    try:
        app.run()
    except KeyboardInterrupt:
        pass
    finally:
        app.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
