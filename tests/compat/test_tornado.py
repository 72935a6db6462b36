"""Tornado's own test suite with purecurl in place of pycurl (issue 5).

A fresh venv gets the pinned Tornado (and brotli, which the real pycurl's libcurl has built
in, so both runs take the same tests) but no pycurl; a `sitecustomize.py` on PYTHONPATH puts
purecurl in `sys.modules["pycurl"]` in every process, the subprocesses Tornado's tests start
included. Then `python -m tornado.test.runtests --httpclient=...CurlAsyncHTTPClient` must pass
with no failure and no error, and skip no more tests than the same command with the real
pycurl 7.49 / libcurl 8.23 did (measured once: 1517 run, 43 skipped, none for the client).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

TORNADO = "tornado==6.6.1"
PYCURL_SKIPS = 43  # `runtests` with the real pycurl, same Tornado: OK (skipped=43)
SRC = Path(__file__).resolve().parents[2] / "src"

SITECUSTOMIZE = """\
import importlib.abc
import sys

import purecurl


class _NoRealPycurl(importlib.abc.MetaPathFinder):
    # Only purecurl may answer to "pycurl": its submodules (a real install) must not load.
    def find_spec(self, name, path=None, target=None):
        if name.startswith("pycurl."):
            raise ImportError(f"{name}: this process runs purecurl as pycurl")
        return None


sys.meta_path.insert(0, _NoRealPycurl())
sys.modules["pycurl"] = purecurl
"""


# purecurl runs from src/ on PYTHONPATH in that venv: its own dependencies go in too
DEPENDENCIES = tomllib.loads((SRC.parent / "pyproject.toml").read_text())["project"]["dependencies"]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_tornado_suite_runs_on_purecurl(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            TORNADO,
            "brotli",
            *DEPENDENCIES,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if install.returncode != 0:
        pytest.skip(f"cannot install {TORNADO} from the package index: {install.stderr[-500:]}")
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(SRC)])
    env.pop("PYTHONWARNINGS", None)
    check = subprocess.run(
        [
            str(python),
            "-c",
            "import pycurl, sys; print(pycurl.__name__, 'brotli' in pycurl.version)",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.stdout.split() == ["purecurl", "True"], check.stderr
    run = subprocess.run(
        [
            str(python),
            "-m",
            "tornado.test.runtests",
            "--httpclient=tornado.curl_httpclient.CurlAsyncHTTPClient",
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=800,
    )
    tail = run.stderr[-4000:]
    assert run.returncode == 0, tail
    ran = re.search(r"^Ran (\d+) tests", run.stderr, re.M)
    verdict = re.search(r"^OK(?: \((.*)\))?$", run.stderr, re.M)
    assert ran is not None and verdict is not None, tail
    skipped = re.search(r"skipped=(\d+)", verdict.group(1) or "")
    assert int(ran.group(1)) > 1000
    assert (int(skipped.group(1)) if skipped else 0) <= PYCURL_SKIPS, tail
