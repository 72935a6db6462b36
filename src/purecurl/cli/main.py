"""The entry point: parse, check, run, and turn every failure into curl's message and code.

Messages follow curl's tool (src/tool_getparam.c, src/tool_helpers.c) with `purecurl:` in
place of `curl:`: a bad command line prints `purecurl: option --x: is unknown` and
`purecurl: try 'purecurl --help' for more information` and exits 2; a transfer error prints
`purecurl: (N) message` and exits N.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import TextIO

from purecurl import _version
from purecurl.cli.args import GlobalConfig, UsageError, parse_args
from purecurl.cli.operate import HINT as HINT_TEXT
from purecurl.cli.operate import FatalError, Runner, build_jobs

PROG = "purecurl"
HINT = f"{PROG}: {HINT_TEXT}\n"

HELP = f"""Usage: {PROG} [options...] <url>
 -d, --data <data>           HTTP POST data (also --data-binary, --data-raw,
                             --data-urlencode, --json)
 -f, --fail                  Fail fast with no output on HTTP errors
     --fail-with-body        Fail on HTTP errors but save the body
 -F, --form <name=content>   Specify multipart MIME data
 -G, --get                   Put the post data in the URL and use GET
 -H, --header <header/@file> Pass custom header(s) to server
 -I, --head                  Show document info only
 -i, --include               Include protocol response headers in the output
 -J, --remote-header-name    Use the header-provided filename (with -O)
 -k, --insecure              Allow insecure server connections
 -L, --location              Follow redirects
 -m, --max-time <seconds>    Maximum time allowed for transfer
 -o, --output <file>         Write to file instead of stdout (#1 for globs)
 -O, --remote-name           Write output to a file named as the remote file
 -r, --range <range>         Retrieve only the bytes within RANGE
 -s, --silent                Silent mode
 -S, --show-error            Show error even when -s is used
 -T, --upload-file <file>    Transfer local FILE to destination
 -u, --user <user:password>  Server user and password
 -v, --verbose               Make the operation more talkative
 -w, --write-out <format>    Use output FORMAT after completion
 -x, --proxy [protocol://]host[:port] Use this proxy
 -Z, --parallel              Perform transfers in parallel
     --parallel-max <num>    Maximum concurrency for parallel transfers (50)
 -#, --progress-bar          Display transfer progress as a bar
 -K, --config <file>         Read config from a file
 -:, --next                  Make next URL use its separate set of options
     --demo                  Fetch a workload from an embedded local server and
                             print a summary (no network needed)

Other curl options purecurl takes: --output-dir --create-dirs --remove-on-error
--no-clobber --skip-existing --max-redirs -X -A -e -b -c -C --compressed --cacert
--capath -E --key --connect-timeout -D --resolve --connect-to --http1.0 --http1.1
--http2 --http2-prior-knowledge --limit-rate --retry --retry-delay --retry-max-time
--retry-all-errors --retry-connrefused --basic --digest --anyauth --proxy-user
--noproxy --trace --trace-ascii --trace-time --stderr --no-progress-meter
--parallel-immediate --url --url-query --globoff --fail-early --etag-save
--etag-compare --variable --expand-<option> -V
"""


def version_text() -> str:
    return (
        f"{PROG} {_version.__version__} ({_version.VERSION})\n"
        "Protocols: file http https\n"
        "Features: AsynchDNS IPv6 Largefile libz SSL UnixSockets\n"
    )


def _check(g: GlobalConfig) -> None:
    """The combinations curl refuses before any transfer."""
    for op in g.operations:
        uploads = any(node.upload is not None for node in op.nodes)
        methods = []
        if op.head:
            methods.append("HEAD (-I, --head)")
        if op.data and not op.get:
            methods.append("POST (-d, --data)")
        if op.form:
            methods.append("multipart formpost (-F, --form)")
        if uploads:
            methods.append("PUT (-T, --upload-file)")
        if len(methods) > 1:
            raise UsageError(
                "You can only select one HTTP request method! You asked for both "
                f"{methods[1]} and {methods[0]}.",
                2,
                hint=False,
            )


def main(argv: list[str] | None = None) -> int:
    """Run the command; return the exit code."""
    args = sys.argv[1:] if argv is None else argv
    stderr: TextIO = sys.stderr
    try:
        g = parse_args(args)
        if g.show_help:
            sys.stdout.write(HELP)
            return 0
        if g.show_version:
            sys.stdout.write(version_text())
            return 0
        if g.show_manual:
            sys.stdout.write(HELP)
            return 0
        if g.stderr_path is not None and g.stderr_path != "-":
            try:
                stderr = open(g.stderr_path, "w", encoding="utf-8")  # noqa: SIM115
            except OSError:
                raise UsageError(f"Failed to open {g.stderr_path}", 2, hint=False) from None
        if g.demo:
            from purecurl.cli.demo import run_demo

            return run_demo(g, stderr=stderr)
        _check(g)
        jobs = build_jobs(g)
        if not jobs:
            raise UsageError("no URL specified!")
        runner = Runner(g, stderr=stderr)
        return runner.run(jobs)
    except UsageError as exc:
        stderr.write(f"{PROG}: {exc.message}\n")
        if exc.hint:
            stderr.write(HINT)
        return exc.code
    except FatalError as exc:
        if not g.silent or g.show_error:
            stderr.write(f"{PROG}: ({exc.code}) {exc.message}\n")
        return exc.code
    except BrokenPipeError:
        # The reader of stdout went away (`| head`): stop quietly, as curl does (23).
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        return 23
    except KeyboardInterrupt:
        return 130
    finally:
        if stderr is not sys.stderr:
            stderr.close()
