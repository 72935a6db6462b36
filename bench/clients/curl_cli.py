"""The curl command line tool as a native reference: `curl --parallel --parallel-max N`.

    python -m bench.clients.curl_cli SPEC_JSON [CURL_BINARY]

The scenario's URLs go into a curl config file (one `url` / `output = "/dev/null"` pair per
request) and curl runs them `concurrency` at once over one multi handle, reusing connections as
libcurl does. CPU is curl's own user+sys, read from `os.wait4`'s rusage, so it includes curl's
start-up and its reading of the config file (a few ms) and, unlike the Python clients, the
connection set-up that they do in their untimed warm-up. Wall time is measured around the
process. `-w` prints each transfer's status and size, which give the request and byte counts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time

from bench.clients.common import Result, Spec, main


def _command(spec: Spec, binary: str, config: str) -> list[str]:
    cmd = [
        binary,
        "--silent",
        "--show-error",
        "--no-progress-meter",
        "--parallel",
        "--parallel-max",
    ]
    cmd += [str(spec.concurrency), "--config", config]
    cmd += ["--write-out", "%{http_code} %{size_download} %{http_version}\\n"]
    if spec.new_connection:
        cmd += ["--header", "Connection: close"]
    if spec.cainfo:
        cmd += ["--cacert", spec.cainfo]
    if spec.http2:
        cmd.append("--http2" if spec.url.startswith("https:") else "--http2-prior-knowledge")
    return cmd


def _curl(spec: Spec, binary: str, total: int) -> tuple[Result, str]:
    """Run curl for `total` requests; return its Result and its -w output."""
    with tempfile.TemporaryDirectory(prefix="purecurl-bench-curl-") as tmp:
        config = os.path.join(tmp, "urls.curlrc")
        with open(config, "w") as f:
            f.write(f'url = "{spec.url}"\noutput = "/dev/null"\n' * total)
        with (
            open(os.path.join(tmp, "out"), "w+b") as out,
            open(os.path.join(tmp, "err"), "w+b") as err,
        ):
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                _command(spec, binary, config), stdin=subprocess.DEVNULL, stdout=out, stderr=err
            )
            # Reap curl ourselves: wait4's rusage has microsecond resolution, where os.times()
            # children totals count clock ticks (10 ms).
            _pid, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            text, errtext = out.read().decode(), err.read().decode(errors="replace")
    fields = text.split()
    codes, sizes = fields[0::3], fields[1::3]
    errors = sum(1 for c in codes if c != "200") + (total - len(codes))
    result = Result(
        "ok" if proc.returncode == 0 and not errors else "error",
        requests=total,
        bytes=sum(int(s) for s in sizes),
        errors=errors,
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        reason=errtext[:300] if errors or proc.returncode else "",
    )
    return result, text


def run(spec: Spec, args: list[str]) -> Result:
    """Probe with two requests, then time one curl process doing the scenario's requests.

    The probe does two so that it also reuses a connection: curl 7.88's h2c prior knowledge
    fails on reuse ("Error in the HTTP2 framing layer"), and that must read "unavailable".
    """
    binary = args[0] if args else shutil.which("curl")
    if not binary:
        return Result("unavailable", reason="no curl binary")
    probe, out = _curl(spec, binary, min(2, spec.requests))
    if probe.status != "ok":
        return Result("unavailable", reason=f"probe failed: {probe.reason}")
    if spec.http2 and out.split()[2] != "2":
        return Result("unavailable", reason=f"asked for HTTP/2, got {out.split()[2]}")
    result, _ = _curl(spec, binary, spec.requests)
    result.extra["note"] = "cpu includes process start-up and connection set-up"
    return result


if __name__ == "__main__":
    main(run)
