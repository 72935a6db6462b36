"""Run the benchmark suite: scenarios A-E (and F) against every client, or the scaling sweep.

    python -m bench.run [--rounds 3] [--scale 1.0] [--scenarios A,B,C,D,E] [--clients ...]
    python -m bench.run --scaling [--levels 10,100,1000,10000] [--rounds 3] [--base A|D]
    python -m bench.report            # the table of medians of the latest run

Theory of operation
-------------------
One nginx (bench.server.BenchNginx) serves every run. Each (scenario, client) run is its own
process (bench/clients/*), given a JSON Spec, printing one JSON result line; a client's CPU is
its own user+sys, read by the client around the timed part. Rounds are interleaved: round 1
runs every scenario with every client, then round 2 does it all again, and so on, so a drift of
the machine (another tenant, thermal limits) spreads over every client instead of landing on
one. A client that reports a scenario "unavailable" (purecurl without TLS or HTTP/2 yet,
aiohttp with HTTP/2) is recorded once and skipped in later rounds.

Every result is appended to bench/results/results.jsonl as one line with the run id, the
scenario and client, the measurements and the machine (bench.machine). `--scale` multiplies
the request counts (and scenario B's file size) for a quicker run; slow clients (httpx) do a
fixed fraction of the requests of the others, since only per-request costs are compared.

`--scaling` runs the A-like keep-alive scenario at 10 .. 10,000 concurrent transfers with the
socket_action client on purecurl and pycurl (CPU per request should stay flat), and measures
memory per idle transfer (bench.clients.idle_memory).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.clients.common import Spec
from bench.machine import machine_info
from bench.server import BenchNginx, find_nginx

__all__ = ["CLIENTS", "SCENARIOS", "Client", "Scenario", "main"]

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "results.jsonl"
MiB = 1024 * 1024


@dataclass(frozen=True)
class Scenario:
    """One workload: what to fetch from which nginx port, how many, how many at once."""

    name: str
    title: str
    port: str  # BenchNginx port kind: http, https, h2, h2c
    path: str
    requests: int
    concurrency: int
    size: int
    keepalive: bool = True  # warm up `concurrency` requests before timing
    new_connection: bool = False
    http2: bool = False
    stream: bool = False
    big: bool = False  # the body size, not the request count, follows --scale


SCENARIOS = {
    s.name: s
    for s in (
        Scenario(
            "A", "20,000 GETs of 128 B, 64 at once, keep-alive", "http", "/128", 20_000, 64, 128
        ),
        Scenario(
            "B",
            "16 parallel 256 MiB downloads, body discarded in a write callback",
            "http",
            "/big",
            16,
            16,
            256 * MiB,
            keepalive=False,
            stream=True,
            big=True,
        ),
        Scenario(
            "C",
            "1,000 GETs of 128 B, each on a new connection, 32 at once",
            "http",
            "/128",
            1_000,
            32,
            128,
            keepalive=False,
            new_connection=True,
        ),
        Scenario("D", "A over HTTPS (HTTP/1.1, TLS)", "https", "/128", 20_000, 64, 128),
        Scenario(
            "E",
            "A over HTTP/2 (h2c, one connection, 64 streams)",
            "h2c",
            "/128",
            20_000,
            64,
            128,
            http2=True,
        ),
        Scenario(
            "F", "A over HTTP/2 over TLS (ALPN h2)", "h2", "/128", 20_000, 64, 128, http2=True
        ),
    )
}
DEFAULT_SCENARIOS = "A,B,C,D,E"


@dataclass(frozen=True)
class Client:
    """How to start one client: `python -m module SPEC args...`; `work` scales its requests."""

    name: str
    module: str
    args: tuple[str, ...] = ()
    work: float = 1.0


CLIENTS = {
    c.name: c
    for c in (
        Client("purecurl-sa", "bench.clients.curlapi", ("purecurl", "socket")),
        Client("pycurl-sa", "bench.clients.curlapi", ("pycurl", "socket")),
        Client("purecurl-perform", "bench.clients.curlapi", ("purecurl", "perform")),
        Client("pycurl-perform", "bench.clients.curlapi", ("pycurl", "perform")),
        Client("purecurl-aio", "bench.clients.purecurl_aio"),
        Client("aiohttp", "bench.clients.aiohttp_client"),
        Client("aiohttp-uvloop", "bench.clients.aiohttp_client", ("uvloop",)),
        # httpx costs ~100x pycurl per request: a fifth of the requests keeps a run short.
        Client("httpx", "bench.clients.httpx_client", work=0.2),
        Client("curl-cli", "bench.clients.curl_cli"),
    )
}
SCALING_CLIENTS = ("purecurl-sa", "pycurl-sa")
REFERENCE = "pycurl-sa"


def make_spec(sc: Scenario, client: Client, server: BenchNginx, scale: float) -> Spec:
    """Return the Spec of scenario `sc` for `client` at `scale`."""
    size, requests = sc.size, sc.requests
    if sc.big:
        size = server.big_size
    else:
        requests = max(sc.concurrency, round(sc.requests * scale * client.work))
    return Spec(
        scenario=sc.name,
        url=server.scheme_url(sc.port, sc.path),
        requests=requests,
        concurrency=sc.concurrency,
        size=size,
        warmup=sc.concurrency if sc.keepalive else 0,
        new_connection=sc.new_connection,
        http2=sc.http2,
        cainfo=server.cainfo if sc.port in ("https", "h2") else None,
        stream=sc.stream,
    )


def run_client(client: Client, spec: Spec, timeout: float) -> dict[str, Any]:
    """Run one client process; return its result dict (status "error"/"timeout" on failure)."""
    cmd = [sys.executable, "-m", client.module, spec.to_json(), *client.args]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "reason": f"no result within {timeout:.0f} s"}
    lines = done.stdout.strip().splitlines()
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, ValueError):
        return {"status": "error", "reason": (done.stderr or done.stdout)[-500:]}
    if result.get("status") == "ok" and result.get("bytes") != spec.requests * spec.size:
        result["status"] = "error"
        result["reason"] = f"got {result.get('bytes')} bytes, expected {spec.requests * spec.size}"
    return result


class Recorder:
    """Appends result lines to the results file, stamped with the run and the machine."""

    def __init__(self, path: Path, mode: str, machine: dict[str, Any], scale: float) -> None:
        self.path = path
        self.run_id = time.strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:6]
        self.mode = mode
        self.machine = machine
        self.scale = scale
        path.parent.mkdir(parents=True, exist_ok=True)

    def record(
        self, rnd: int, scenario: str, client: str, spec: Spec, result: dict[str, Any]
    ) -> None:
        line = {
            "run": self.run_id,
            "mode": self.mode,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "round": rnd,
            "scenario": scenario,
            "client": client,
            "scale": self.scale,
            "concurrency": spec.concurrency,
            "size": spec.size,
            **result,
            "machine": self.machine,
        }
        with open(self.path, "a") as f:
            f.write(json.dumps(line) + "\n")
        status = result.get("status")
        if status == "ok" and scenario == "idle-memory":
            e = result["extra"]
            detail = (
                f"{e['rss_per_handle']:,.0f} B RSS, {e['traced_per_handle']:,.0f} B traced "
                "per idle transfer"
            )
        elif status == "ok" and result.get("requests"):
            n = result["requests"]
            detail = (
                f"{n / result['wall']:10.0f} req/s {result['cpu'] / n * 1e6:9.1f} us/req "
                f"{result['bytes'] / result['wall'] / 1e6:9.1f} MB/s"
            )
        else:
            detail = f"{status}: {str(result.get('reason', ''))[:90]}"
        print(f"  round {rnd} {scenario:<10} {client:<17} {detail}", file=sys.stderr, flush=True)


def run_scenarios(args: argparse.Namespace, server: BenchNginx, rec: Recorder) -> None:
    scenarios = [SCENARIOS[s] for s in args.scenarios.split(",")]
    clients = [CLIENTS[c] for c in args.clients.split(",")]
    unavailable: set[tuple[str, str]] = set()
    for rnd in range(1, args.rounds + 1):
        for sc in scenarios:
            for client in clients:
                if (sc.name, client.name) in unavailable:
                    continue
                spec = make_spec(sc, client, server, args.scale)
                result = run_client(client, spec, args.timeout)
                if result.get("status") == "unavailable":
                    unavailable.add((sc.name, client.name))
                rec.record(rnd, sc.name, client.name, spec, result)


def run_scaling(args: argparse.Namespace, server: BenchNginx, rec: Recorder) -> None:
    levels = [int(x) for x in args.levels.split(",")]
    base = SCENARIOS[args.base]
    clients = [CLIENTS[c] for c in args.clients.split(",")]
    for rnd in range(1, args.rounds + 1):
        for level in levels:
            prefix = "scale" if args.base == "A" else f"scale-{args.base}"
            sc = replace(base, name=f"{prefix}-{level}", concurrency=level)
            for client in clients:
                spec = make_spec(sc, client, server, args.scale)
                # At least two requests per connection, so the timed part is keep-alive reuse.
                spec = replace(spec, requests=max(spec.requests, 2 * level))
                rec.record(rnd, sc.name, client.name, spec, run_client(client, spec, args.timeout))
    for client in clients:
        module = client.args[0]
        spec = Spec("idle-memory", server.scheme_url("http", "/128"), 0, args.idle, 0)
        idle = Client(client.name, "bench.clients.idle_memory", (module,))
        rec.record(1, "idle-memory", client.name, spec, run_client(idle, spec, args.timeout))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    p.add_argument(
        "--scale", type=float, default=1.0, help="multiply request counts and B's size (1.0)"
    )
    p.add_argument("--scenarios", default=DEFAULT_SCENARIOS, help=f"from {','.join(SCENARIOS)}")
    p.add_argument("--clients", default=None, help=f"from {','.join(CLIENTS)}")
    p.add_argument("--scaling", action="store_true", help="run the concurrency sweep instead")
    p.add_argument("--levels", default="10,100,1000,10000", help="concurrency levels (--scaling)")
    p.add_argument(
        "--base", default="A", choices=("A", "D"), help="scenario of --scaling (A; D: HTTPS)"
    )
    p.add_argument("--idle", type=int, default=10_000, help="idle handles for memory (--scaling)")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per client run")
    p.add_argument("--results", type=Path, default=RESULTS, help="JSON lines file to append to")
    p.add_argument("--nginx", default=None, help="nginx binary (default: from PATH)")
    p.add_argument("--curl", default=shutil.which("curl") or "curl", help="curl binary")
    args = p.parse_args(argv)
    if args.clients is None:
        args.clients = ",".join(SCALING_CLIENTS if args.scaling else CLIENTS)
    for name in args.clients.split(","):
        if name not in CLIENTS:
            p.error(f"unknown client {name!r}; choose from {', '.join(CLIENTS)}")
    for name in args.scenarios.split(","):
        if name not in SCENARIOS:
            p.error(f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)}")
    if args.scaling and any(
        CLIENTS[c].module != "bench.clients.curlapi" for c in args.clients.split(",")
    ):
        p.error("--scaling runs the curl-API clients only")
    return args


def main(argv: list[str] | None = None) -> None:
    """Start nginx, run the rounds, append the results; print the table at the end."""
    args = parse_args(argv)
    nginx = args.nginx or find_nginx()
    if nginx is None:
        raise SystemExit("nginx not found (apt-get install nginx, or pass --nginx)")
    big = max(MiB, round(256 * MiB * args.scale / MiB) * MiB)
    machine = machine_info(nginx, args.curl)
    t0 = time.monotonic()
    with BenchNginx(big_size=big) as server:
        mode = "scaling" if args.scaling else "scenarios"
        rec = Recorder(args.results, mode, machine, args.scale)
        print(f"run {rec.run_id} ({mode}), results -> {args.results}", file=sys.stderr)
        if args.scaling:
            run_scaling(args, server, rec)
        else:
            run_scenarios(args, server, rec)
    print(f"done in {time.monotonic() - t0:.0f} s\n", file=sys.stderr)
    from bench.report import main as report

    report(["--results", str(args.results), "--run", rec.run_id])


if __name__ == "__main__":
    main()
