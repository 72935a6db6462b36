"""The `purecurl` command, run as a subprocess against local scripted servers.

Each test runs `python -m purecurl` and checks what a curl user sees: the output bytes, the
files written, stderr, and the exit code (the CURLcode). Where the machine has `curl`, a few
cases also run it on the same arguments and compare exit codes and output (skipped otherwise).
Tests of features the engine does not implement yet skip with the reason, so they turn on by
themselves when the engine gains them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from purecurl.cli.demo import workload
from tests.servers import (
    HttpServer,
    Request,
    Response,
    Route,
    ScriptedServer,
    ServerConnection,
    pattern_bytes,
)

SRC = str(Path(__file__).resolve().parents[2] / "src")
CURL = shutil.which("curl")


@dataclass
class Result:
    code: int
    stdout: bytes
    stderr: str


def run(*args: str, cwd: Path | None = None, timeout: float = 20, stdin: bytes = b"") -> Result:
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-m", "purecurl", *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace"))


def run_curl(*args: str, cwd: Path | None = None) -> Result:
    assert CURL is not None
    proc = subprocess.run(
        [CURL, "-q", *args], capture_output=True, timeout=20, cwd=cwd, check=False
    )
    return Result(proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace"))


needs_curl = pytest.mark.skipif(CURL is None, reason="the curl binary is not installed")


def _cookie_echo(request: Request) -> Response:
    return Response(body=(request.header("cookie") or "").encode())


def request_echo(request: Request) -> Response:
    """Answer with the request as JSON: method, target, version, headers (lower-cased names),
    body."""
    body = json.dumps(
        {
            "method": request.method,
            "target": request.target,
            "version": request.version,
            "headers": {k.lower(): v for k, v in request.headers},
            "body": request.body.decode("latin-1"),
        }
    ).encode()
    return Response(headers=[("Content-Type", "application/json")], body=body)


ROUTES: dict[str, Route] = {
    "/hello": Response(body=b"hello\n", headers=[("Content-Type", "text/plain")]),
    "/req": request_echo,
    "/cookie": _cookie_echo,
    "/slow": Response(body=b"late\n", delay=3.0),
    "/delay": Response(body=b"x" * 1000, delay=0.3),
    "/empty": Response(200, body=b""),
    "/notfound": Response(404, body=b"not found\n"),
}


@pytest.fixture
def srv() -> Iterator[HttpServer]:
    with HttpServer(ROUTES) as server:
        yield server


# -- output --------------------------------------------------------------------------------


def test_get_to_stdout_silent(srv: HttpServer) -> None:
    r = run("-s", srv.url("/hello"))
    assert (r.code, r.stdout, r.stderr) == (0, b"hello\n", "")


def test_output_file_and_meter_on_stderr(srv: HttpServer, tmp_path: Path) -> None:
    out = tmp_path / "f"
    r = run("-o", str(out), srv.url("/bytes/300000"))
    assert r.code == 0 and r.stdout == b""
    assert out.read_bytes() == pattern_bytes(300000)
    # curl's classic meter: two header lines, then the numbers; 100% at the end.
    assert r.stderr.startswith("  % Total    % Received % Xferd  Average Speed")
    assert "\r100  292k  100  292k" in r.stderr


def test_no_progress_meter(srv: HttpServer, tmp_path: Path) -> None:
    r = run("--no-progress-meter", "-o", str(tmp_path / "f"), srv.url("/hello"))
    assert (r.code, r.stderr) == (0, "")


def test_remote_name_output_dir_create_dirs(srv: HttpServer, tmp_path: Path) -> None:
    r = run("-s", "--output-dir", "sub/dir", "--create-dirs", "-O", srv.url("/bytes/10?q=1"),
            cwd=tmp_path)  # fmt: skip
    assert r.code == 0
    assert (tmp_path / "sub" / "dir" / "10").read_bytes() == pattern_bytes(10)


def test_glob_names_outputs(srv: HttpServer, tmp_path: Path) -> None:
    r = run("-s", "-o", str(tmp_path / "b_#1_#2"), srv.url("/bytes/{5,7}") + "?n=[1-2]")
    assert r.code == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["b_5_1", "b_5_2", "b_7_1", "b_7_2"]
    assert (tmp_path / "b_7_2").read_bytes() == pattern_bytes(7)


def test_empty_body_creates_empty_file(srv: HttpServer, tmp_path: Path) -> None:
    out = tmp_path / "e"
    assert run("-s", "-o", str(out), srv.url("/empty")).code == 0
    assert out.exists() and out.read_bytes() == b""


def test_include_and_head(srv: HttpServer) -> None:
    r = run("-s", "-i", srv.url("/hello"))
    assert r.stdout.startswith(b"HTTP/1.1 200 OK\r\n") and r.stdout.endswith(b"\r\n\r\nhello\n")
    r = run("-s", "-I", srv.url("/hello"))
    assert r.stdout.startswith(b"HTTP/1.1 200 OK\r\n") and r.stdout.endswith(b"\r\n\r\n")
    assert srv.requests[-1].method == "HEAD"


def test_dump_header(srv: HttpServer, tmp_path: Path) -> None:
    dump = tmp_path / "h"
    r = run("-s", "-D", str(dump), srv.url("/hello"))
    assert r.stdout == b"hello\n"
    assert dump.read_bytes().startswith(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n")


# -- failures and exit codes ------------------------------------------------------------------


def test_fail_on_404_creates_no_file(srv: HttpServer, tmp_path: Path) -> None:
    out = tmp_path / "f"
    r = run("-sS", "-f", "-o", str(out), srv.url("/notfound"))
    assert r.code == 22
    assert r.stderr == "purecurl: (22) The requested URL returned error: 404\n"
    assert not out.exists()


def test_fail_with_body_keeps_body(srv: HttpServer, tmp_path: Path) -> None:
    out = tmp_path / "f"
    r = run("-sS", "--fail-with-body", "-o", str(out), srv.url("/notfound"))
    assert r.code == 22 and out.read_bytes() == b"not found\n"


def test_unknown_option_and_missing_url() -> None:
    r = run("--nope")
    assert r.code == 2
    assert r.stderr == (
        "purecurl: option --nope: is unknown\n"
        "purecurl: try 'purecurl --help' or 'purecurl --manual' for more information\n"
    )
    r = run("-s")
    assert r.code == 2 and r.stderr.startswith("purecurl: no URL specified!\n")


def test_connection_refused_is_7(srv: HttpServer) -> None:
    port = srv.port
    srv.stop()
    r = run("-sS", f"http://127.0.0.1:{port}/")
    assert r.code == 7 and r.stderr.startswith("purecurl: (7) ")
    assert run("-s", f"http://127.0.0.1:{port}/").stderr == ""


def test_bad_glob_is_3() -> None:
    r = run("http://127.0.0.1:1/[1-")
    assert r.code == 3
    assert r.stderr == (
        "purecurl: (3) bad range in URL position 23:\nhttp://127.0.0.1:1/[1-\n" + " " * 22 + "^\n"
    )


def test_max_time_is_28(srv: HttpServer) -> None:
    r = run("-sS", "-m", "0.3", srv.url("/slow"))
    assert r.code == 28 and r.stderr.startswith("purecurl: (28) ")


def test_partial_download_is_kept_unless_remove_on_error(tmp_path: Path) -> None:
    def handler(conn: ServerConnection) -> None:
        while conn.read_request() is not None:
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"a" * 100)
            conn.close()
            return

    with ScriptedServer(handler) as server:
        out = tmp_path / "p"
        r = run("-sS", "-o", str(out), server.url("/"))
        # curl leaves the partial file (and says so with the exit code).
        assert r.code == 18 and out.read_bytes() == b"a" * 100
        r = run("-sS", "--remove-on-error", "-o", str(out), server.url("/"))
        assert r.code == 18 and not out.exists()


def test_config_file_missing_is_26(tmp_path: Path) -> None:
    missing = tmp_path / "none"
    r = run("-K", str(missing), "http://127.0.0.1:1/")
    assert r.code == 26
    assert r.stderr == (
        f"purecurl: cannot read config from '{missing}'\n"
        "purecurl: option -K: error encountered when reading a file\n"
        "purecurl: try 'purecurl --help' or 'purecurl --manual' for more information\n"
    )


def test_one_method_only() -> None:
    r = run("-I", "-d", "x", "http://127.0.0.1:1/")
    assert r.code == 2 and "You can only select one HTTP request method!" in r.stderr


# -- requests ---------------------------------------------------------------------------------


def req(srv: HttpServer, *args: str) -> dict[str, object]:
    r = run("-s", *args, srv.url("/req"))
    assert r.code == 0, r.stderr
    got: dict[str, object] = json.loads(r.stdout)
    return got


def test_headers_agent_referer_user(srv: HttpServer) -> None:
    got = req(srv, "-H", "X-One: 1", "-A", "agent/1", "-e", "http://ref/", "-u", "me:pw")
    headers = got["headers"]
    assert isinstance(headers, dict)
    assert headers["x-one"] == "1" and headers["user-agent"] == "agent/1"
    assert headers["referer"] == "http://ref/"
    assert headers["authorization"] == "Basic bWU6cHc="


def test_default_user_agent(srv: HttpServer) -> None:
    headers = req(srv)["headers"]
    assert isinstance(headers, dict) and headers["user-agent"].startswith("purecurl/")


def test_post_data_and_get(srv: HttpServer) -> None:
    got = req(srv, "-d", "a=1", "--data-urlencode", "b=x y")
    # curl encodes a space as '+' (src/tool_getparam.c replace_url_encoded_space_by_plus).
    assert got["method"] == "POST" and got["body"] == "a=1&b=x+y"
    headers = got["headers"]
    assert isinstance(headers, dict)
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    got = req(srv, "-G", "-d", "a=1", "-d", "b=2")
    assert got["method"] == "GET" and got["target"] == "/req?a=1&b=2"


def test_json(srv: HttpServer) -> None:
    got = req(srv, "--json", '{"a":1}')
    headers = got["headers"]
    assert isinstance(headers, dict)
    assert got["body"] == '{"a":1}' and headers["content-type"] == "application/json"
    assert headers["accept"] == "application/json"


def test_custom_method(srv: HttpServer) -> None:
    assert req(srv, "-X", "DELETE")["method"] == "DELETE"


def test_compressed_asks_for_encodings(srv: HttpServer) -> None:
    headers = req(srv, "--compressed")["headers"]
    assert isinstance(headers, dict) and "gzip" in headers["accept-encoding"]


def test_redirects(srv: HttpServer) -> None:
    r = run("-s", "-L", srv.url("/redirect/3"))
    assert (r.code, r.stdout) == (0, b"redirected\n")
    r = run("-s", "-w", "%{http_code}", srv.url("/redirect/3"))
    assert (r.code, r.stdout) == (0, b"302")
    r = run("-sS", "-L", "--max-redirs", "1", srv.url("/redirect/3"))
    assert r.code == 47 and r.stderr.startswith("purecurl: (47) Maximum (1) redirects followed")


def test_resolve_and_config_file(srv: HttpServer, tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    cfg.write_text(
        f'resolve = "example.invalid:{srv.port}:127.0.0.1"\n'
        f"url = http://example.invalid:{srv.port}/hello\nsilent\n"
    )
    r = run("-K", str(cfg))
    assert (r.code, r.stdout) == (0, b"hello\n")


def test_verbose(srv: HttpServer) -> None:
    r = run("-s", "-v", srv.url("/hello"))
    # curl writes the header lines as they went and came, CRLF included.
    assert "> GET /hello HTTP/1.1\r\n" in r.stderr
    assert "< HTTP/1.1 200 OK\r\n" in r.stderr
    assert "{ [6 bytes data]\n" in r.stderr


def test_write_out_variables_and_reuse(srv: HttpServer) -> None:
    r = run("-s", "-o", os.devnull, "-o", os.devnull, "-w",
            "%{http_code} %{size_download} %{num_connects} %{exitcode} %{url_effective}\\n",
            srv.url("/bytes/10"), srv.url("/hello"))  # fmt: skip
    assert r.stdout.decode().splitlines() == [
        f"200 10 1 0 {srv.url('/bytes/10')}",
        f"200 6 0 0 {srv.url('/hello')}",  # the connection was reused
    ]
    r = run("-s", "-o", os.devnull, "-w", "%{json}", srv.url("/hello"))
    obj = json.loads(r.stdout)
    assert obj["http_code"] == 200 and obj["size_download"] == 6 and obj["exitcode"] == 0
    r = run("-s", "-o", os.devnull, "-w", "%{header_json}", srv.url("/hello"))
    assert json.loads(r.stdout)["content-type"] == ["text/plain"]
    r = run("-s", "-w", "%{exitcode} %{errormsg}", "http://127.0.0.1:1/")
    assert r.code == 7 and r.stdout.startswith(b"7 ")


# -- parallel -----------------------------------------------------------------------------------


def test_parallel_honours_parallel_max(srv: HttpServer, tmp_path: Path) -> None:
    r = run("-Z", "--parallel-max", "3", "-o", str(tmp_path / "f#1"), srv.url("/delay?[1-9]"))
    assert r.code == 0, r.stderr
    assert len(list(tmp_path.iterdir())) == 9
    assert srv.max_concurrent == 3
    # Not a terminal: curl's parallel meter.
    assert r.stderr.startswith("DL% UL%  Dled  Uled  Xfers  Live Total     Current  Left    Speed")


def test_parallel_failures_give_exit_code(srv: HttpServer) -> None:
    r = run("-sSZ", "-f", "-o", os.devnull, "-o", os.devnull, srv.url("/hello"),
            srv.url("/notfound"))  # fmt: skip
    assert r.code == 22 and "returned error: 404" in r.stderr


def test_retry_on_503(tmp_path: Path) -> None:
    answers = [Response(503, body=b"busy"), Response(200, body=b"ok")]
    out = tmp_path / "f"
    with HttpServer({"/r": lambda req: answers.pop(0)}) as server:
        r = run("-S", "--no-progress-meter", "--retry", "2", "--retry-delay", "0.1",
                "-o", str(out), server.url("/r"))  # fmt: skip
    # The failed attempt's bytes are thrown away; only the last answer stays in the file.
    assert (r.code, out.read_bytes()) == (0, b"ok")
    # curl's retrycheck() wording: the delay in whole seconds, the retries left before this one.
    assert "Warning: Problem : HTTP error. Will retry in 0 seconds. 2 retries left." in r.stderr


def demo_summary(stdout: bytes) -> dict[str, dict[str, str]]:
    """The demo's table as {measure: {protocol: value}}."""
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in stdout.decode().splitlines()
        if line.startswith("|")
    ]
    protocols = rows[0][1:]
    return {row[0]: dict(zip(protocols, row[1:], strict=True)) for row in rows[1:]}


def test_demo() -> None:
    r = run("--demo", "--demo-transfers", "30", "-s", "--parallel-max", "8")
    assert r.code == 0, r.stderr
    table = demo_summary(r.stdout)
    total = f"{sum(workload(30)):,}"
    for protocol in ("HTTP/1.1", "HTTP/2"):
        assert table["transfers"][protocol] == "30"
        assert table["bytes"][protocol] == total
        assert table["failures"][protocol] == "0"
    # HTTP/1.1: a connection per transfer in flight, kept alive for the next ones.
    assert table["connections"]["HTTP/1.1"] == "8"
    assert table["max streams/conn"]["HTTP/1.1"] == "1"
    # HTTP/2: -Z sets PIPEWAIT, so every transfer waits for the first connection and shares
    # it as a stream; the server saw several open at once.
    assert table["connections"]["HTTP/2"] == "1"
    assert int(table["max streams/conn"]["HTTP/2"]) > 1


def test_demo_announces_each_part() -> None:
    r = run("--demo", "--demo-transfers", "10", "--parallel-max", "4")
    assert r.code == 0, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.startswith("purecurl demo:")]
    assert len(lines) == 2, r.stderr
    assert " over HTTP/1.1 from http://127.0.0.1:" in lines[0]
    assert " over HTTP/2 (h2c prior knowledge) from http://127.0.0.1:" in lines[1]
    assert lines[1].endswith(", at most 4 at once")
    assert demo_summary(r.stdout)["failures"] == {"HTTP/1.1": "0", "HTTP/2": "0"}


def test_demo_parallel_immediate_does_not_wait_for_multiplexing() -> None:
    # curl's --parallel-immediate: no PIPEWAIT, each transfer in flight opens a connection.
    r = run("--demo", "--demo-transfers", "12", "-s", "--parallel-max", "6",
            "--parallel-immediate")  # fmt: skip
    assert r.code == 0, r.stderr
    table = demo_summary(r.stdout)
    assert table["connections"]["HTTP/2"] == "6"
    assert table["failures"] == {"HTTP/1.1": "0", "HTTP/2": "0"}


# -- request features: the options the command sets ---------------------------------------------


def test_range(srv: HttpServer) -> None:
    got = req(srv, "-r", "0-9")
    headers = got["headers"]
    assert isinstance(headers, dict)
    assert headers["range"] == "bytes=0-9"


def test_cookie_string(srv: HttpServer) -> None:
    r = run("-s", "-b", "a=1; b=2", srv.url("/cookie"))
    assert r.stdout == b"a=1; b=2"


def test_upload_file(srv: HttpServer, tmp_path: Path) -> None:
    src = tmp_path / "up.txt"
    src.write_bytes(b"uploaded bytes")
    r = run("-sS", "-T", str(src), srv.url("/req"))
    assert r.code == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["method"] == "PUT" and got["body"] == "uploaded bytes"


def test_upload_missing_file_is_26(tmp_path: Path) -> None:
    missing = tmp_path / "none"
    r = run("-sS", "-T", str(missing), "http://127.0.0.1:1/", "http://127.0.0.1:1/")
    assert r.code == 26
    # src/tool_operate.c pre_transfer(): helpf's two lines, then the transfer's error; the
    # run stops there (one error line for two URLs).
    assert r.stderr == (
        f"purecurl: cannot open '{missing}'\n"
        "purecurl: try 'purecurl --help' or 'purecurl --manual' for more information\n"
        "purecurl: (26) Failed to open/read local data from file/application\n"
    )


def test_form(srv: HttpServer, tmp_path: Path) -> None:
    r = run("-sS", "-F", "name=value", srv.url("/req"))
    assert r.code == 0, r.stderr
    got = json.loads(r.stdout)
    headers = got["headers"]
    assert headers["content-type"].startswith("multipart/form-data; boundary=")
    assert 'name="name"' in got["body"] and "value" in got["body"]


def test_limit_rate_still_downloads(srv: HttpServer, tmp_path: Path) -> None:
    out = tmp_path / "f"
    r = run("-sS", "--limit-rate", "10M", "-o", str(out), srv.url("/bytes/50000"))
    assert r.code == 0 and out.read_bytes() == pattern_bytes(50000)


# -- side by side with curl ----------------------------------------------------------------------


@needs_curl
@pytest.mark.parametrize(
    "args",
    [
        ["-s", "/hello"],
        ["-s", "-f", "/notfound"],
        ["-s", "/notfound"],
        ["-s", "-L", "/redirect/2"],
        ["-s", "-o", os.devnull, "-w", "%{http_code} %{size_download} %{num_redirects}", "/hello"],
        ["-s", "-L", "--max-redirs", "1", "/redirect/3"],
        ["-s", "-m", "0.3", "/slow"],
        ["-s", "-d", "a=1", "/echo"],
        ["--nope"],
    ],
)
def test_same_as_curl(srv: HttpServer, args: list[str]) -> None:
    full = [srv.url(a) if a.startswith("/") else a for a in args]
    ours, theirs = run(*full), run_curl(*full)
    assert ours.code == theirs.code
    assert ours.stdout == theirs.stdout
    assert bool(ours.stderr) == bool(theirs.stderr)
