"""The machine and software a benchmark ran on, recorded with every result line."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["machine_info"]

_PACKAGES = (
    "purecurl",
    "pycurl",
    "aiohttp",
    "uvloop",
    "httpx",
    "httpcore",
    "h11",
    "h2",
    "cryptography",
)
_REPO = Path(__file__).resolve().parent.parent


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _first_line(cmd: list[str]) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=10, cwd=_REPO)
    except (OSError, subprocess.SubprocessError):
        return ""
    text = (done.stdout or done.stderr).strip()
    return text.splitlines()[0] if text else ""


def _libcurl() -> str:
    try:
        import pycurl

        return str(pycurl.version)
    except ImportError:
        return ""


def machine_info(nginx: str, curl: str) -> dict[str, Any]:
    """Return CPU model, core count, OS, Python, package versions, tool versions, git commit.

    `nginx` and `curl` are the binaries used (their `-v`/`--version` first lines are kept).
    Never raises: anything that cannot be read is left empty.
    """
    versions: dict[str, str] = {}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = ""
    commit = _first_line(["git", "rev-parse", "--short=12", "HEAD"])
    # Read-only check for local changes: the numbers may not be the commit's.
    dirty = bool(_first_line(["git", "diff", "--shortstat", "HEAD"]))
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "executable": sys.executable,
        "packages": versions,
        "libcurl": _libcurl(),
        "curl": _first_line([curl, "--version"]),
        "nginx": _first_line([nginx, "-v"]),
        "commit": commit + ("-dirty" if dirty else ""),
    }
