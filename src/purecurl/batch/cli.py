"""The `purecurl-batch` command: `fetch()` from the command line, with a progress display.

    purecurl-batch URLS.txt --out DIR [--scheduler tcp://host:8786] [--workers N] ...

The flags map one to one onto `fetch`'s arguments, and a few curl flags (`-L`, `-m`,
`--connect-timeout`, `-H`, `-A`, `-k`, `--compressed`) onto the curl options every transfer
gets. Progress goes to stderr (see `progress`), then a summary and the first failures.

Exit status: 0 when every URL has a successful record, 1 when any failed or was left
unfinished (rerun the same command to try those again), 2 for a bad command line or a URL
list that cannot be read, 3 when the batch cannot run (no Dask, no scheduler, a sink it cannot
write), 130 when interrupted.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

import purecurl as pycurl
from purecurl import _version
from purecurl.batch.coordinator import (
    DEFAULT_PER_HOST_LIMIT,
    DEFAULT_PER_WORKER_CONCURRENCY,
    BatchError,
    BatchResult,
    fetch,
)
from purecurl.batch.inputs import InputError
from purecurl.batch.manifest import ManifestError
from purecurl.batch.progress import ProgressDisplay, human_bytes, worker_lines
from purecurl.batch.retry import RetryPolicy

__all__ = ["main", "parser"]

PROG = "purecurl-batch"
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CANNOT_RUN = 3
EXIT_INTERRUPTED = 130
_SHOWN_FAILURES = 10


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Fetch a list of URLs across a Dask cluster (a local one by default) with "
        "purecurl; bodies and a resumable manifest go to --out.",
        epilog="URLS is a file of URLs, one per line, or JSON lines "
        '({"url": ..., "method": ..., "headers": ..., "body": ..., "output": ...}); '
        "'-' reads standard input. Rerunning the same command skips what succeeded.",
    )
    p.add_argument("urls", metavar="URLS", help="the URL list ('-': standard input)")
    p.add_argument("--out", "-o", required=True, help="directory or fsspec URL for the results")
    dask = p.add_argument_group("cluster")
    dask.add_argument(
        "--scheduler", help="Dask scheduler address (default: start a LocalCluster here)"
    )
    dask.add_argument(
        "--workers",
        type=int,
        help="LocalCluster worker processes (default: one per core); with --scheduler, wait "
        "until that many workers are connected",
    )
    dask.add_argument("--partitions", type=int, help="host partitions (default: one per worker)")
    limits = p.add_argument_group("politeness and retries")
    limits.add_argument(
        "--per-worker-concurrency",
        type=int,
        default=DEFAULT_PER_WORKER_CONCURRENCY,
        metavar="N",
        help=f"transfers at once per worker (default {DEFAULT_PER_WORKER_CONCURRENCY})",
    )
    limits.add_argument(
        "--per-host-limit",
        type=int,
        default=DEFAULT_PER_HOST_LIMIT,
        metavar="N",
        help=f"connections per host, cluster-wide (default {DEFAULT_PER_HOST_LIMIT}; 0: none)",
    )
    limits.add_argument("--retries", type=int, default=3, metavar="N", help="default 3")
    limits.add_argument(
        "--retry-delay",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="first retry wait, doubled each time (default 1)",
    )
    limits.add_argument(
        "--retry-max-time", type=float, metavar="SECONDS", help="no retry after this long"
    )
    curl = p.add_argument_group("transfers (curl's flags)")
    curl.add_argument("-L", "--location", action="store_true", help="follow redirects")
    curl.add_argument("--max-redirs", type=int, metavar="N")
    curl.add_argument("-m", "--max-time", type=float, metavar="SECONDS")
    curl.add_argument("--connect-timeout", type=float, metavar="SECONDS")
    curl.add_argument(
        "-H", "--header", action="append", default=[], metavar="LINE", help="extra header"
    )
    curl.add_argument("-A", "--user-agent", metavar="NAME")
    curl.add_argument("-k", "--insecure", action="store_true")
    curl.add_argument("--compressed", action="store_true")
    curl.add_argument(
        "--no-fail",
        action="store_true",
        help="store the bodies of HTTP errors as successes (default: curl --fail)",
    )
    out = p.add_argument_group("output")
    out.add_argument("--no-parquet", action="store_true", help="no manifest.parquet")
    out.add_argument(
        "--storage-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="fsspec storage option for --out",
    )
    out.add_argument("--no-progress", action="store_true", help="no live progress display")
    out.add_argument("-s", "--silent", action="store_true", help="no progress, no summary")
    p.add_argument("-V", "--version", action="version", version=f"{PROG} {_version.__version__}")
    return p


def _options(args: argparse.Namespace) -> dict[int, Any]:
    options: dict[int, Any] = {}
    if args.location:
        options[pycurl.FOLLOWLOCATION] = 1
    if args.max_redirs is not None:
        options[pycurl.MAXREDIRS] = args.max_redirs
    if args.max_time is not None:
        options[pycurl.TIMEOUT_MS] = int(args.max_time * 1000)
    if args.connect_timeout is not None:
        options[pycurl.CONNECTTIMEOUT_MS] = int(args.connect_timeout * 1000)
    if args.header:
        options[pycurl.HTTPHEADER] = list(args.header)
    if args.user_agent is not None:
        options[pycurl.USERAGENT] = args.user_agent
    if args.insecure:
        options[pycurl.SSL_VERIFYPEER] = 0
        options[pycurl.SSL_VERIFYHOST] = 0
    if args.compressed:
        options[pycurl.ACCEPT_ENCODING] = ""
    if args.no_fail:
        options[pycurl.FAILONERROR] = 0
    return options


def _storage_options(pairs: list[str]) -> dict[str, str]:
    found = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq or not key:
            raise ValueError(f"--storage-option {pair!r}: expected KEY=VALUE")
        found[key] = value
    return found


def summary(result: BatchResult) -> str:
    """The lines printed when the batch ends."""
    lines = [
        f"{PROG}: {result.requests} requests: {result.ok} ok, {result.failed} failed, "
        f"{result.unfinished} unfinished, {result.skipped} done before; "
        f"{human_bytes(result.bytes)} in {result.elapsed:.1f} s",
        f"{PROG}: manifest {result.manifest}",
    ]
    failures = [r for r in result.records if not r.ok]
    for record in failures[:_SHOWN_FAILURES]:
        status = f" (HTTP {record.response_code})" if record.response_code else ""
        lines.append(f"  ({record.result_code}) {record.url}: {record.error}{status}")
    if len(failures) > _SHOWN_FAILURES:
        lines.append(f"  ... and {len(failures) - _SHOWN_FAILURES} more failures in the manifest")
    lines.extend(f"  error: {e}" for e in result.errors)
    if result.unfinished:
        lines.append(f"{PROG}: run the same command again to fetch the unfinished requests")
    return "".join(f"{line}\n" for line in lines)


def main(argv: list[str] | None = None, *, stderr: TextIO | None = None) -> int:
    """Run the command; return the exit status (see the module doc)."""
    err = stderr if stderr is not None else sys.stderr
    p = parser()
    try:
        args = p.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return int(exc.code or 0)
    display = None
    if not (args.silent or args.no_progress):
        display = ProgressDisplay(err)
    try:
        retry = RetryPolicy(
            retries=args.retries, delay=args.retry_delay, max_time=args.retry_max_time
        )
        result = fetch(
            args.urls,
            args.out,
            scheduler=args.scheduler,
            workers=args.workers,
            per_worker_concurrency=args.per_worker_concurrency,
            per_host_limit=args.per_host_limit,
            retries=retry,
            options=_options(args),
            partitions=args.partitions,
            progress=display,
            parquet=not args.no_parquet,
            storage_options=_storage_options(args.storage_option),
        )
    except (InputError, ManifestError, ValueError) as exc:
        err.write(f"{PROG}: {exc}\n")
        return EXIT_USAGE
    except (BatchError, ImportError, OSError) as exc:
        err.write(f"{PROG}: {exc}\n")
        return EXIT_CANNOT_RUN
    except KeyboardInterrupt:
        err.write(f"{PROG}: interrupted; what finished is in the manifest, rerun to go on\n")
        return EXIT_INTERRUPTED
    if not args.silent:
        if display is None:  # the display showed the workers already
            err.write("".join(f"{line}\n" for line in worker_lines(result.workers)))
        err.write(summary(result))
    return 0 if result.succeeded else EXIT_FAILED
