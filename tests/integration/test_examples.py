"""The examples run as a user runs them: as programs, against loopback servers (issue 2, "A
driver and an example")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import HttpServer

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.slow
def test_local_fetch_example() -> None:
    """examples/local_fetch.py --transfers 200 fetches everything from its embedded server and
    reports no failure."""
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "local_fetch.py"), "--transfers", "200"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert "transfers      200" in lines
    assert "failures       0" in lines


def test_hiperfifo_example(server: HttpServer, tmp_path: Path) -> None:
    """examples/hiperfifo.py fetches each URL written to its FIFO and reports each completion
    as "DONE: URL => (0) "; "quit" ends it once the transfers are done."""
    fifo = tmp_path / "hiper.fifo"
    os.mkfifo(fifo, 0o600)
    urls = [server.url("/hello"), server.url("/bytes/100000")]
    with subprocess.Popen(
        [sys.executable, str(EXAMPLES / "hiperfifo.py"), str(fifo)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()
            assert first.startswith("Now, pipe some URL's into"), first
            # The example holds the FIFO open for reading now, so a non-blocking open for
            # writing succeeds at once.
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            try:
                os.write(fd, ("\n".join(urls) + "\nquit\n").encode())
            finally:
                os.close(fd)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 0, err
    done = sorted(line for line in out.splitlines() if line.startswith("DONE: "))
    assert done == sorted(f"DONE: {url} => (0) " for url in urls)
    assert len(server.requests) == 2
