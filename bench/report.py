"""Print the benchmark tables (Markdown) from bench/results/results.jsonl.

    python -m bench.report [--run RUN_ID] [--results FILE]

Without --run it reports the latest scenarios run and the latest scaling run. Each cell is
the median over the rounds of that run: requests/s and MB/s from wall time; CPU (user+sys of
the client process) per request in microseconds and per GiB of body in seconds; and the ratios
to pycurl driven by socket_action (the same client code on libcurl): CPU ratio below 1.00 means
cheaper than pycurl, speed ratio above 1.00 means faster.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["callbacks_table", "main", "scaling_table", "scenario_table"]

RESULTS = Path(__file__).resolve().parent / "results" / "results.jsonl"
REFERENCE = "pycurl-sa"
GiB = 1024**3


def load(path: Path) -> list[dict[str, Any]]:
    """Return every result line of `path` (an absent file gives [])."""
    if not path.exists():
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def _median(rows: Iterable[dict[str, Any]], key: str) -> float:
    return statistics.median(_metric(r, key) for r in rows)


def _metric(r: dict[str, Any], key: str) -> float:
    n, b, wall, cpu = r["requests"], r["bytes"], r["wall"], r["cpu"]
    if key == "rps":
        return float(n / wall)
    if key == "mbps":
        return float(b / wall / 1e6)
    if key == "us":
        return float(cpu / n * 1e6)
    if key == "gib":
        return float(cpu / (b / GiB)) if b else float("nan")
    raise KeyError(key)


def _group(rows: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[r["scenario"], r["client"]].append(r)
    return groups


def _ordered(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _header(rows: list[dict[str, Any]]) -> str:
    m = rows[0].get("machine", {})
    rounds = max(r["round"] for r in rows)
    pk = m.get("packages", {})
    versions = ", ".join(f"{k} {v}" for k, v in pk.items() if v)
    return (
        f"run {rows[0]['run']} ({rows[0]['mode']}), scale {rows[0]['scale']}, {rounds} rounds, "
        f"commit {m.get('commit', '?')}\n"
        f"{m.get('cpu', '?')}, {m.get('cores', '?')} cores, {m.get('os', '')}, "
        f"{m.get('python', '')}\n{versions}\n"
        f"pycurl's {' '.join(m.get('libcurl', '').split(' ')[1:2])}, "
        f"{m.get('curl', '').split(' (')[0]} "
        f"(CLI), {m.get('nginx', '').replace('nginx version: ', '')}\n"
    )


def scenario_table(rows: list[dict[str, Any]]) -> str:
    """Return the Markdown table of medians per (scenario, client) for one scenarios run."""
    groups = _group(rows)
    out = [
        "| scenario | client | req/s | MB/s | CPU µs/req | CPU s/GiB | CPU vs pycurl "
        "| speed vs pycurl |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for sc in _ordered(r["scenario"] for r in rows):
        ref = [r for r in groups.get((sc, REFERENCE), []) if r["status"] == "ok"]
        for client in _ordered(r["client"] for r in rows if r["scenario"] == sc):
            runs = groups[sc, client]
            ok = [r for r in runs if r["status"] == "ok"]
            if not ok:
                why = " ".join(str(runs[0].get("reason", "")).split())[:70].replace("|", "/")
                out.append(f"| {sc} | {client} | {runs[0]['status']}: {why} | | | | | |")
                continue
            us, rps = _median(ok, "us"), _median(ok, "rps")
            # Per GiB only means something for the big download; per request for the rest.
            gib = f"{_median(ok, 'gib'):,.2f}" if ok[0]["size"] >= 1 << 20 else "-"
            cpu_ratio = f"{us / _median(ref, 'us'):.2f}" if ref else "-"
            speed_ratio = f"{rps / _median(ref, 'rps'):.2f}" if ref else "-"
            note = "" if len(ok) == len(runs) else f" ({len(runs) - len(ok)} failed)"
            out.append(
                f"| {sc} | {client}{note} | {rps:,.0f} | {_median(ok, 'mbps'):,.1f} | {us:,.1f} "
                f"| {gib} | {cpu_ratio} | {speed_ratio} |"
            )
    calls = callbacks_table(rows)
    if calls:
        out += ["", calls]
    return "\n".join(out)


def callbacks_table(rows: list[dict[str, Any]]) -> str:
    """The socket_action calls and socket/timer callbacks per request of the socket_action
    clients (medians), or "" when the run has none (results from before they were counted)."""
    groups = _group(rows)
    out = [
        "| scenario | client | socket_action calls/req | socket callbacks/req "
        "| timer callbacks/req |",
        "|---|---|---:|---:|---:|",
    ]
    keys = ("socket_action_per_req", "socket_cb_per_req", "timer_cb_per_req")
    for (sc, client), runs in groups.items():
        ok = [r for r in runs if r["status"] == "ok" and keys[0] in r.get("extra", {})]
        if ok:
            cells = [f"{statistics.median(r['extra'][k] for r in ok):.2f}" for k in keys]
            out.append(f"| {sc} | {client} | " + " | ".join(cells) + " |")
    return "\n".join(out) if len(out) > 2 else ""


def scaling_table(rows: list[dict[str, Any]]) -> str:
    """Return the Markdown tables of CPU per request by concurrency, and idle memory."""
    groups = _group(rows)
    clients = _ordered(r["client"] for r in rows)
    levels = _ordered(r["scenario"] for r in rows if r["scenario"].startswith("scale-"))
    out = [
        "| concurrent transfers | "
        + " | ".join(f"{c} CPU µs/req" for c in clients)
        + " | ratio to pycurl |",
        "|---:|" + "---:|" * (len(clients) + 1),
    ]
    for level in levels:
        cells, values = [], {}
        for c in clients:
            ok = [r for r in groups.get((level, c), []) if r["status"] == "ok"]
            if ok:
                values[c] = _median(ok, "us")
                cells.append(f"{values[c]:,.1f}")
            else:
                runs = groups.get((level, c), [{"status": "absent"}])
                cells.append(str(runs[0]["status"]))
        others = [v for c, v in values.items() if c != REFERENCE]
        ratio = f"{others[0] / values[REFERENCE]:.2f}" if others and REFERENCE in values else "-"
        out.append(f"| {level.removeprefix('scale-')} | " + " | ".join(cells) + f" | {ratio} |")
    idle = [r for r in rows if r["scenario"] == "idle-memory" and r["status"] == "ok"]
    if idle:
        out += [
            "",
            "| idle transfers (added, not started) | client | RSS bytes/transfer "
            "| tracemalloc bytes/transfer |",
            "|---:|---|---:|---:|",
        ]
        for r in idle:
            e = r["extra"]
            out.append(
                f"| {r['requests']:,} | {r['client']} | {e['rss_per_handle']:,.0f} "
                f"| {e['traced_per_handle']:,.0f} |"
            )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    """Print the tables of the chosen run(s)."""
    p = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__.split("\n")[0])
    p.add_argument("--results", type=Path, default=RESULTS)
    p.add_argument("--run", default=None, help="a run id (default: the latest of each mode)")
    args = p.parse_args(argv)
    rows = load(args.results)
    if args.run:
        runs = [args.run]
    else:
        latest: dict[str, str] = {}
        for r in rows:
            latest[r["mode"]] = r["run"]
        runs = list(latest.values())
    if not runs:
        raise SystemExit(f"no results in {args.results}")
    for run in runs:
        selected = [r for r in rows if r["run"] == run]
        if not selected:
            raise SystemExit(f"no run {run} in {args.results}")
        print(_header(selected))
        table = scaling_table if selected[0]["mode"] == "scaling" else scenario_table
        print(table(selected))
        print()


if __name__ == "__main__":
    main()
