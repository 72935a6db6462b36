"""The `purecurl` command's output naming (-J, --no-clobber), tracing, variables, ETags,
--fail-early, TLS and proxy options and error lines, run as a subprocess against local
servers.

Each test checks what curl's documentation says a user sees (files, stdout, stderr, exit
code); where the machine has `curl`, the `*_like_curl` tests also run it on the same case
and compare. Messages that depend on the engine (the text of "== Info" and "* " lines) are
left out of those comparisons; the exit codes, files and protocol bytes are compared whole.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_cli import CURL, Result, needs_curl, request_echo, run, run_curl
from tests.servers import (
    HttpServer,
    Response,
    Route,
    ScriptedServer,
    ServerConnection,
)
from tests.tls_certs import Pki
from tests.tls_servers import TlsHttpServer, server_context

HINT = "purecurl: try 'purecurl --help' or 'purecurl --manual' for more information\n"


def _cd(value: str, status: int = 200) -> Response:
    return Response(status, [("Content-Disposition", value)], b"from the server\n")


ROUTES: dict[str, Route] = {
    "/req": request_echo,
    "/cd": _cd('attachment; filename="named.txt"'),
    "/cd-path": _cd('attachment; filename="../../escape.txt"'),
    "/cd-404": _cd('attachment; filename="error.txt"', 404),
    "/cd-redirect": Response(
        302, [("Location", "/cd"), ("Content-Disposition", 'attachment; filename="hop.txt"')]
    ),
    "/plain": Response(body=b"plain body\n"),
    "/etag": Response(headers=[("ETag", '"v1"')], body=b"tagged\n"),
    "/notfound": Response(404, body=b"nope\n"),
    "/slow": Response(body=b"late\n", delay=5.0),
    # A body whose CRLF falls on the 64th column of --trace-ascii, then a lone LF.
    "/trace": Response(body=b"a" * 64 + b"\r\nb\nc\r\n"),
}


@pytest.fixture
def srv() -> Iterator[HttpServer]:
    with HttpServer(ROUTES) as server:
        yield server


def both(*args: str, cwd: Path) -> tuple[Result, Result]:
    """Run purecurl in cwd/pure and curl in cwd/curl (fresh directories) on the same args."""
    (cwd / "pure").mkdir()
    (cwd / "curl").mkdir()
    return run(*args, cwd=cwd / "pure"), run_curl(*args, cwd=cwd / "curl")


def files(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


# -- -J/--remote-header-name ------------------------------------------------------------------


def test_remote_header_name_saves_under_the_servers_name(srv: HttpServer, tmp_path: Path) -> None:
    r = run("-s", "-OJ", "-w", "%{filename_effective}", srv.url("/cd"), cwd=tmp_path)
    assert (r.code, r.stdout, r.stderr) == (0, b"named.txt", "")
    assert files(tmp_path) == {"named.txt": b"from the server\n"}


def test_remote_header_name_strips_the_path(srv: HttpServer, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = run("-s", "-OJ", "--output-dir", str(out), "--create-dirs", srv.url("/cd-path"),
            cwd=tmp_path)  # fmt: skip
    assert r.code == 0
    # The name's directory part is cut: nothing is written outside --output-dir.
    assert files(tmp_path) == {"out/escape.txt": b"from the server\n"}


def test_remote_header_name_never_overwrites_by_default(srv: HttpServer, tmp_path: Path) -> None:
    (tmp_path / "named.txt").write_bytes(b"mine")
    r = run("--no-progress-meter", "-OJ", srv.url("/cd"), cwd=tmp_path)
    assert r.code == 23
    assert "Warning: Failed to open the file named.txt: File exists\n" in r.stderr
    assert r.stderr.endswith("\n") and "purecurl: (23) " in r.stderr
    assert files(tmp_path) == {"named.txt": b"mine"}
    # --clobber allows it (docs/cmdline-opts/remote-header-name.md).
    r = run("-s", "--clobber", "-OJ", srv.url("/cd"), cwd=tmp_path)
    assert r.code == 0 and files(tmp_path) == {"named.txt": b"from the server\n"}


def test_remote_header_name_falls_back_to_the_url(srv: HttpServer, tmp_path: Path) -> None:
    assert run("-s", "-OJ", srv.url("/plain"), cwd=tmp_path).code == 0
    # Not taken from an error response: -J looks at 2xx and 3xx only.
    assert run("-s", "-OJ", srv.url("/cd-404"), cwd=tmp_path).code == 0
    assert files(tmp_path) == {"plain": b"plain body\n", "cd-404": b"from the server\n"}


def test_remote_header_name_without_remote_name_has_no_effect(
    srv: HttpServer, tmp_path: Path
) -> None:
    r = run("-s", "-J", srv.url("/cd"), cwd=tmp_path)
    assert (r.code, r.stdout) == (0, b"from the server\n")
    assert files(tmp_path) == {}


def test_remote_header_name_with_include_puts_headers_in_the_file(
    srv: HttpServer, tmp_path: Path
) -> None:
    r = run("-s", "-i", "-OJ", srv.url("/cd"), cwd=tmp_path)
    assert r.code == 0 and r.stdout == b""
    content = files(tmp_path)["named.txt"]
    assert content.startswith(b"HTTP/1.1 200 OK\r\n")
    assert content.endswith(b"\r\n\r\nfrom the server\n")


@needs_curl
# Not /cd-404: curl before 8.x took a name from any response, curl 8 from 2xx/3xx only.
@pytest.mark.parametrize("path", ["/cd", "/cd-path", "/plain"])
def test_remote_header_name_like_curl(srv: HttpServer, tmp_path: Path, path: str) -> None:
    ours, theirs = both("-s", "-OJ", srv.url(path), cwd=tmp_path)
    assert (ours.code, ours.stdout) == (theirs.code, theirs.stdout)
    assert files(tmp_path / "pure") == files(tmp_path / "curl")


@needs_curl
def test_remote_header_name_refusal_like_curl(srv: HttpServer, tmp_path: Path) -> None:
    for side in ("pure", "curl"):
        (tmp_path / side).mkdir()
        (tmp_path / side / "named.txt").write_bytes(b"mine")
    ours = run("-s", "-OJ", srv.url("/cd"), cwd=tmp_path / "pure")
    theirs = run_curl("-s", "-OJ", srv.url("/cd"), cwd=tmp_path / "curl")
    assert ours.code == theirs.code == 23
    assert files(tmp_path / "pure") == files(tmp_path / "curl") == {"named.txt": b"mine"}


# -- --no-clobber, -O names --------------------------------------------------------------------


def test_no_clobber_numbers_the_new_file(srv: HttpServer, tmp_path: Path) -> None:
    (tmp_path / "plain").write_bytes(b"old")
    (tmp_path / "plain.1").write_bytes(b"old")
    r = run("-s", "--no-clobber", "-O", "-w", "%{filename_effective}", srv.url("/plain"),
            cwd=tmp_path)  # fmt: skip
    assert (r.code, r.stdout) == (0, b"plain.2")
    assert files(tmp_path) == {"plain": b"old", "plain.1": b"old", "plain.2": b"plain body\n"}


@needs_curl
def test_no_clobber_like_curl(srv: HttpServer, tmp_path: Path) -> None:
    for side in ("pure", "curl"):
        (tmp_path / side).mkdir()
        (tmp_path / side / "f").write_bytes(b"old")
    args = ("-s", "--no-clobber", "-o", "f", srv.url("/plain"), "-o", "f", srv.url("/plain"))
    ours, theirs = run(*args, cwd=tmp_path / "pure"), run_curl(*args, cwd=tmp_path / "curl")
    assert ours.code == theirs.code == 0
    assert files(tmp_path / "pure") == files(tmp_path / "curl")
    assert set(files(tmp_path / "pure")) == {"f", "f.1", "f.2"}


def test_remote_name_without_a_file_part_uses_curls_default(
    srv: HttpServer, tmp_path: Path
) -> None:
    r = run("--no-progress-meter", "-O", srv.url("/"), cwd=tmp_path)
    assert r.stderr.startswith('Warning: No remote file name, uses "curl_response"\n')
    assert "curl_response" in files(tmp_path)


def test_skip_existing(srv: HttpServer, tmp_path: Path) -> None:
    (tmp_path / "plain").write_bytes(b"old")
    r = run("-s", "--skip-existing", "-O", srv.url("/plain"), cwd=tmp_path)
    assert (r.code, files(tmp_path)) == (0, {"plain": b"old"})
    assert srv.requests == []


# -- tracing -----------------------------------------------------------------------------------


def _protocol_lines(text: str, info_prefix: str) -> list[str]:
    """The trace without the engine's own info lines (their wording is the engine's)."""
    return [line for line in text.splitlines() if not line.startswith(info_prefix)]


def test_trace_ascii_format(srv: HttpServer, tmp_path: Path) -> None:
    trace = tmp_path / "trace.txt"
    r = run("-s", "-A", "ua", "--trace-ascii", str(trace), "-o", os.devnull, srv.url("/trace"))
    assert r.code == 0 and r.stderr == ""
    lines = _protocol_lines(trace.read_text(), "== Info:")
    port = srv.port
    host = f"Host: 127.0.0.1:{port}"
    assert lines[:5] == [
        f"=> Send header, {54 + len(host)} bytes (0x{54 + len(host):x})",
        "0000: GET /trace HTTP/1.1",
        f"0015: {host}",
        f"{0x17 + len(host):04x}: User-Agent: ua",
        f"{0x27 + len(host):04x}: Accept: */*",
    ]
    # A CRLF ends a line and is not shown, a lone LF is a '.' (src/tool_cb_dbg.c dump()).
    assert lines[-3:] == ["<= Recv data, 71 bytes (0x47)", "0000: " + "a" * 64, "0042: b.c"]


def test_trace_to_stdout_with_hex(srv: HttpServer) -> None:
    r = run("-s", "--trace", "-", srv.url("/plain"))
    out = r.stdout.decode()
    assert "<= Recv data, 11 bytes (0xb)\n" in out
    assert "0000: 70 6c 61 69 6e 20 62 6f 64 79 0a " + " " * 15 + "plain body.\n" in out
    assert out.count("plain body\n") == 1  # the body itself, among the trace


def test_verbose_and_trace_time(srv: HttpServer) -> None:
    r = run("-s", "-v", "--trace-time", "-o", os.devnull, srv.url("/plain"))
    lines = r.stderr.split("\n")[:-1]
    assert lines and all(re.match(r"\d\d:\d\d:\d\d\.\d{6} [*<>{}] ", line) for line in lines)
    assert any(line.endswith("> GET /plain HTTP/1.1\r") for line in lines)
    assert any(line.endswith("{ [11 bytes data]") for line in lines)


@needs_curl
def test_trace_ascii_like_curl(srv: HttpServer, tmp_path: Path) -> None:
    args = ("-s", "-A", "ua", "--trace-ascii", "-", "-d", "x=1", srv.url("/trace"))
    ours, theirs = run(*args), run_curl(*args)
    assert ours.code == theirs.code == 0
    assert _protocol_lines(ours.stdout.decode(), "== Info:") == _protocol_lines(
        theirs.stdout.decode(), "== Info:"
    )


@needs_curl
def test_verbose_like_curl(srv: HttpServer) -> None:
    args = ("-s", "-v", "-A", "ua", "-o", os.devnull, srv.url("/plain"))
    ours, theirs = run(*args), run_curl(*args)
    assert _protocol_lines(ours.stderr, "* ") == _protocol_lines(theirs.stderr, "* ")


# -- HTTP versions -----------------------------------------------------------------------------


def test_http1_1_and_http1_0(srv: HttpServer) -> None:
    r = run("-s", "--http1.1", srv.url("/req"))
    assert r.code == 0 and json.loads(r.stdout)["version"] == "HTTP/1.1"
    r = run("-s", "--http1.0", srv.url("/req"))
    assert r.code == 0 and json.loads(r.stdout)["version"] == "HTTP/1.0"
    r = run("-s", "--http1.1", "-w", "%{http_version}", "-o", os.devnull, srv.url("/plain"))
    assert r.stdout == b"1.1"


@needs_curl
def test_http1_1_like_curl(srv: HttpServer) -> None:
    args = ("-s", "--http1.1", "-A", "ua", srv.url("/req"))
    ours, theirs = run(*args), run_curl(*args)
    assert (ours.code, ours.stdout) == (theirs.code, theirs.stdout)


# -- variables, queries, ETags -------------------------------------------------------------------


def test_variables_expand_into_the_request(srv: HttpServer, tmp_path: Path) -> None:
    (tmp_path / "name").write_bytes(b"  J. Doe\n")
    r = run("-s", "--variable", f"port={srv.port}", "--variable", f"who@{tmp_path / 'name'}",
            "--expand-url", "http://127.0.0.1:{{port}}/req",
            "--expand-data", "name={{who:trim:url}}", "--expand-header", "X-Who: {{who:trim}}",
            "-H", "X-Raw: {{who}}")  # fmt: skip
    assert r.code == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["body"] == "name=J.%20Doe"
    assert got["headers"]["x-who"] == "J. Doe" and got["headers"]["x-raw"] == "{{who}}"


def test_variable_import_failure(srv: HttpServer) -> None:
    env_name = "PURECURL_TEST_SURELY_UNSET"
    r = run("--variable", f"%{env_name}", srv.url("/req"))
    assert r.code == 2
    assert r.stderr == (
        f"purecurl: Variable '{env_name}' import fail, not set\n"
        "purecurl: option --variable: variable expansion failure\n" + HINT
    )


@needs_curl
def test_url_query_like_curl(srv: HttpServer) -> None:
    args = ("-s", "-A", "ua", "--url-query", "a=b c&d", "--url-query", "+x=y", srv.url("/req"))
    ours, theirs = run(*args), run_curl(*args)
    assert (ours.code, ours.stdout) == (theirs.code, theirs.stdout)
    assert json.loads(ours.stdout)["target"] == "/req?a=b+c%26d&x=y"
    # With -G, curl appends the -G data and not the --url-query parts (tool_operate.c:
    # append2query(httpgetfields ? httpgetfields : config->query)).
    with_get = ("-s", "-A", "ua", "--url-query", "a=1", "-G", "-d", "e=f", srv.url("/req"))
    ours, theirs = run(*with_get), run_curl(*with_get)
    assert (ours.code, ours.stdout) == (theirs.code, theirs.stdout)
    assert json.loads(ours.stdout)["target"] == "/req?e=f"


def test_etag_save_then_compare(srv: HttpServer, tmp_path: Path) -> None:
    etag = tmp_path / "etag"
    r = run("-s", "--etag-save", str(etag), "-o", os.devnull, srv.url("/etag"))
    assert r.code == 0 and etag.read_bytes() == b'"v1"\n'
    r = run("-s", "--etag-compare", str(etag), srv.url("/req"))
    assert json.loads(r.stdout)["headers"]["if-none-match"] == '"v1"'
    # A missing file is an empty ETag, with a warning (curl 8).
    r = run("--no-progress-meter", "--etag-compare", str(tmp_path / "none"), srv.url("/req"))
    assert json.loads(r.stdout)["headers"]["if-none-match"] == '""'
    assert r.stderr.startswith(f"Warning: Failed to open {tmp_path / 'none'}: ")


@needs_curl
def test_etag_save_like_curl(srv: HttpServer, tmp_path: Path) -> None:
    ours, theirs = both("-s", "--etag-save", "e", "-o", "body", srv.url("/etag"), cwd=tmp_path)
    assert ours.code == theirs.code == 0
    assert files(tmp_path / "pure") == files(tmp_path / "curl")


# -- --fail-early, retries ----------------------------------------------------------------------


def test_fail_early_serial_stops_at_the_first_failure(srv: HttpServer) -> None:
    r = run("-sS", "-f", "--fail-early", srv.url("/notfound"), srv.url("/plain"))
    assert r.code == 22 and r.stdout == b""
    assert [req.path for req in srv.requests] == ["/notfound"]
    # Without it, curl goes on, and the exit code is the last transfer's.
    r = run("-sS", "-f", srv.url("/notfound"), srv.url("/plain"))
    assert (r.code, r.stdout) == (0, b"plain body\n")


def test_fail_early_parallel_aborts_the_others(srv: HttpServer) -> None:
    r = run("-sSZ", "-f", "--fail-early", srv.url("/notfound"), srv.url("/slow"), timeout=10)
    assert r.code == 22
    assert r.stderr == (
        "purecurl: (22) The requested URL returned error: 404\n"
        "purecurl: (42) Transfer aborted due to critical error in another transfer\n"
    )


@needs_curl
def test_fail_early_like_curl(srv: HttpServer) -> None:
    args = ("-sS", "-f", "--fail-early", srv.url("/notfound"), srv.url("/plain"))
    ours, theirs = run(*args), run_curl(*args)
    assert (ours.code, ours.stdout) == (theirs.code, theirs.stdout)


def test_every_failed_attempt_gets_its_error_line() -> None:
    r = run("-sS", "--retry", "1", "--retry-delay", "0", "--retry-all-errors",
            "http://127.0.0.1:1/")  # fmt: skip
    assert r.code == 7
    assert [line[:14] for line in r.stderr.splitlines()] == ["purecurl: (7) "] * 2
    r = run("--no-progress-meter", "--retry", "1", "--retry-delay", "0", "--retry-all-errors",
            "http://127.0.0.1:1/")  # fmt: skip
    # A delay of 0 is curl's default, one second (src/tool_operate.c retry_sleep_default).
    assert "Warning: Problem (retrying all errors). Will retry in 1 second. 1 retry left." in (
        r.stderr
    )


@needs_curl
def test_retries_like_curl() -> None:
    args = ("-sS", "--retry", "1", "--retry-delay", "0", "--retry-all-errors",
            "http://127.0.0.1:1/")  # fmt: skip
    ours, theirs = run(*args), run_curl(*args)
    assert ours.code == theirs.code
    assert len(ours.stderr.splitlines()) == len(theirs.stderr.splitlines())


# -- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "code"),
    [("http://", 3), ("htp://x/", 1), ("http://127.0.0.1:99999/", 3), ("http://[::1/", 3)],
)
def test_bad_url_is_one_line_and_no_meter(url: str, code: int) -> None:
    r = run(url)
    assert r.code == code
    # No progress meter for a URL refused before the transfer started (curl shows none).
    assert r.stderr.startswith(f"purecurl: ({code}) ")
    assert r.stderr.count("\n") in (1, 3)  # a glob error shows the URL and a caret too


@needs_curl
@pytest.mark.parametrize(
    ("args", "same_words"),
    [
        # curl 8 words these "URL rejected: ..." where the local curl may be older.
        (["http://"], False),
        (["htp://x/"], False),
        (["http://127.0.0.1:99999/"], False),
        (["http://[::1/"], True),
        (["--nope"], True),
        (["-s"], True),
        (["-K", "/nonexistent/config"], True),
        # curl 8 says "cannot open", curl 7 "Can't open ...!"
        (["-sS", "-T", "/nonexistent/upload", "http://127.0.0.1:1/"], False),
    ],
)
def test_errors_like_curl(args: list[str], same_words: bool) -> None:
    ours, theirs = run(*args), run_curl(*args)
    assert ours.code == theirs.code
    first_ours = ours.stderr.splitlines()[0]
    first_theirs = theirs.stderr.splitlines()[0]
    assert first_ours.startswith("purecurl: ") and first_theirs.startswith("curl: ")
    if same_words:
        assert first_ours == "pure" + first_theirs


def test_truncated_download_is_kept_but_fails(tmp_path: Path) -> None:
    def handler(conn: ServerConnection) -> None:
        if conn.read_request() is not None:
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"a" * 100)
            conn.close()

    with ScriptedServer(handler) as server:
        r = run("-sS", "-o", "f", "-w", "%{exitcode} %{size_download}", server.url("/"),
                cwd=tmp_path)  # fmt: skip
        assert r.code == 18 and r.stdout == b"18 100"
        assert r.stderr.startswith("purecurl: (18) ")
        if CURL is not None:
            (tmp_path / "c").mkdir()
            theirs = run_curl("-sS", "-o", "f", server.url("/"), cwd=tmp_path / "c")
            assert theirs.code == 18
            assert (tmp_path / "c" / "f").read_bytes() == (tmp_path / "f").read_bytes()


# -- proxy and TLS options -----------------------------------------------------------------------


def test_proxy_and_proxy_user(tmp_path: Path) -> None:
    with HttpServer({"http://origin.invalid/x": request_echo}) as proxy:
        args = ("-s", "-A", "ua", "-x", f"127.0.0.1:{proxy.port}", "-U", "pu:pp",
                "http://origin.invalid/x")  # fmt: skip
        r = run(*args)
        assert r.code == 0, r.stderr
        got = json.loads(r.stdout)
        assert got["target"] == "http://origin.invalid/x"
        assert got["headers"]["proxy-authorization"] == "Basic cHU6cHA="
        if CURL is not None:
            theirs = run_curl(*args)
            assert (
                json.loads(theirs.stdout)["headers"]["proxy-authorization"]
                == (got["headers"]["proxy-authorization"])
            )


@pytest.fixture
def tls_srv(pki: Pki) -> Iterator[TlsHttpServer]:
    with TlsHttpServer(server_context(pki.server), {"/plain": Response(body=b"secret\n")}) as s:
        yield s


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ([], 60),  # the test CA is not in the default bundle
        (["-k"], 0),
        (["--cacert", "{ca}"], 0),
        (["--capath", "{capath}"], 0),
    ],
)
def test_tls_verification_options(
    tls_srv: TlsHttpServer, pki: Pki, extra: list[str], code: int
) -> None:
    args = [a.format(ca=pki.ca.cert_pem, capath=pki.capath) for a in extra]
    r = run("-sS", *args, tls_srv.url("/plain"))
    assert r.code == code, r.stderr
    if code == 0:
        assert r.stdout == b"secret\n"
    if CURL is not None and "--capath" not in extra:
        assert run_curl("-s", *args, tls_srv.url("/plain")).code == code


def test_tls_client_certificate(pki: Pki) -> None:
    ctx = server_context(pki.server, client_ca=pki.client_ca)
    with TlsHttpServer(ctx, {"/plain": Response(body=b"hello client\n")}) as server:
        args = ["-s", "--cacert", str(pki.ca.cert_pem), server.url("/plain")]
        with_cert = ["-E", str(pki.client.cert_pem), "--key", str(pki.client.key_pem)]
        r = run(*with_cert, *args)
        assert (r.code, r.stdout) == (0, b"hello client\n")
        assert run(*args).code != 0
