"""The `purecurl-batch` command: a LocalCluster of its own, progress and summary on stderr,
exit status 0 / 1 (failures) / 2 (bad command line or URL list)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from purecurl.batch.cli import main
from tests.batch.conftest import HostFactory

SRC = str(Path(__file__).resolve().parents[2] / "src")


def test_fetches_on_its_own_local_cluster(tmp_path: Path, hosts: HostFactory) -> None:
    a, b = hosts(2)
    listing = tmp_path / "urls.txt"
    listing.write_text("".join(f"{s.url(f'/item/{i}')}\n" for s in (a, b) for i in range(20)))
    err = io.StringIO()
    out = tmp_path / "out"
    code = main(
        [str(listing), "--out", str(out), "--workers", "2", "--per-host-limit", "1"], stderr=err
    )
    text = err.getvalue()
    assert code == 0, text
    assert "purecurl-batch: 40/40 done, 0 failed" in text  # the progress line
    assert "tcp://127.0.0.1:" in text  # per worker
    assert "40 requests: 40 ok, 0 failed, 0 unfinished, 0 done before" in text
    assert f"manifest {out}/manifest.jsonl" in text
    lines = (out / "manifest.jsonl").read_text().splitlines()
    assert len(lines) == 40 and all(json.loads(line)["ok"] for line in lines)
    assert a.max_concurrent == 1 and b.max_concurrent == 1


def test_failures_exit_1_and_are_listed(tmp_path: Path, hosts: HostFactory) -> None:
    (server,) = hosts(1)
    listing = tmp_path / "urls.txt"
    listing.write_text(f"{server.url('/item/1')}\n{server.url('/status/404')}\n")
    err = io.StringIO()
    args = [str(listing), "--out", str(tmp_path / "out"), "--workers", "1", "--no-progress"]
    assert main(args, stderr=err) == 1
    text = err.getvalue()
    assert "2 requests: 1 ok, 1 failed" in text
    assert f"(22) {server.url('/status/404')}: The requested URL returned error: 404" in text


def test_bad_command_lines_and_url_lists_exit_2(tmp_path: Path) -> None:
    err = io.StringIO()
    listing = tmp_path / "urls.txt"
    listing.write_text('{"url": "http://a.test/", "output": "../x"}\n')
    assert main([str(listing), "--out", str(tmp_path / "o")], stderr=err) == 2
    assert err.getvalue() == (
        f"purecurl-batch: {listing}:1: output '../x': "
        "empty, '.' and '..' path segments are not allowed\n"
    )
    assert main([str(listing), "--out", "x", "--per-worker-concurrency", "0"], stderr=err) == 2
    assert "per_worker_concurrency must be at least 1" in err.getvalue()


def test_python_m_purecurl_batch() -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-m", "purecurl.batch", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("usage: purecurl-batch [-h]")
    assert "--scheduler" in proc.stdout and "--per-host-limit" in proc.stdout


def test_importing_purecurl_batch_does_not_import_dask() -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    code = (
        "import sys, purecurl, purecurl.batch, purecurl.batch.cli\n"
        "assert not {'dask', 'distributed'} & set(sys.modules), 'dask was imported'\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
