"""What the `purecurl` command asks of the engine and of the file system, without a transfer:
the options `setup_handle` sets for a command line, the -J file name rules, the -O name, and
the output file's clobber rules."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

import purecurl as pycurl
from purecurl.cli.args import parse_args
from purecurl.cli.operate import (
    HTTP_VERSIONS,
    EtagSave,
    Job,
    OutputSink,
    build_jobs,
    disposition_filename,
    etag_compare_header,
    remote_name,
    setup_handle,
)


class RecordingCurl:
    """Stands in for a Curl: remembers every option set on it."""

    def __init__(self) -> None:
        self.options: dict[int, Any] = {}

    def setopt(self, option: int, value: Any) -> None:
        self.options[option] = value


def options_for(*argv: str) -> dict[int, Any]:
    g = parse_args([*argv, "http://127.0.0.1:1/x"])
    [job] = build_jobs(g)
    curl = RecordingCurl()
    setup_handle(curl, job, g)
    return curl.options


@pytest.mark.parametrize(
    ("flag", "version"),
    [
        ("--http1.0", pycurl.CURL_HTTP_VERSION_1_0),
        ("--http1.1", pycurl.CURL_HTTP_VERSION_1_1),
        ("--http2", pycurl.CURL_HTTP_VERSION_2_0),
        ("--http2-prior-knowledge", pycurl.CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE),
    ],
)
def test_http_version_flags_set_curlopt_http_version(flag: str, version: int) -> None:
    assert options_for(flag)[pycurl.HTTP_VERSION] == version


def test_http_version_values_are_libcurls() -> None:
    # curl.h: CURL_HTTP_VERSION_1_0 = 1, 1_1 = 2, 2_0 = 3, 2_PRIOR_KNOWLEDGE = 5
    assert HTTP_VERSIONS == {"1.0": 1, "1.1": 2, "2": 3, "2-prior": 5}


def test_no_http_version_flag_leaves_the_default() -> None:
    assert pycurl.HTTP_VERSION not in options_for()
    # The last of several wins, as in curl.
    assert options_for("--http2", "--http1.1")[pycurl.HTTP_VERSION] == 2


def test_tls_and_proxy_options_pass_through() -> None:
    o = options_for("-k", "--cacert", "ca.pem", "--capath", "cadir", "-E", "c.pem:pw",
                    "--key", "k.pem", "-x", "proxy:3128", "--proxy-user", "u:p")  # fmt: skip
    assert (o[pycurl.SSL_VERIFYPEER], o[pycurl.SSL_VERIFYHOST]) == (0, 0)
    assert (o[pycurl.CAINFO], o[pycurl.CAPATH]) == ("ca.pem", "cadir")
    assert (o[pycurl.SSLCERT], o[pycurl.KEYPASSWD], o[pycurl.SSLKEY]) == ("c.pem", "pw", "k.pem")
    assert (o[pycurl.PROXY], o[pycurl.PROXYUSERPWD]) == ("proxy:3128", "u:p")


def test_timeouts_rate_and_auth() -> None:
    o = options_for("-m", "1.5", "--connect-timeout", "0.25", "--limit-rate", "10k",
                    "-u", "me", "--digest")  # fmt: skip
    assert (o[pycurl.TIMEOUT_MS], o[pycurl.CONNECTTIMEOUT_MS]) == (1500, 250)
    assert o[pycurl.MAX_RECV_SPEED_LARGE] == 10240
    assert (o[pycurl.USERPWD], o[pycurl.HTTPAUTH]) == ("me:", pycurl.HTTPAUTH_DIGEST)


def test_etag_compare_adds_if_none_match(tmp_path: Path) -> None:
    etag = tmp_path / "etag"
    etag.write_bytes(b'"abc"\r\n')
    assert (
        f"If-None-Match: {chr(34)}abc{chr(34)}"
        in options_for("--etag-compare", str(etag))[pycurl.HTTPHEADER]
    )
    warnings: list[str] = []
    assert etag_compare_header(str(tmp_path / "none"), warnings.append) == 'If-None-Match: ""'
    assert warnings == [f"Warning: Failed to open {tmp_path / 'none'}: No such file or directory\n"]


def test_etag_save_keeps_the_last_etag_only(tmp_path: Path) -> None:
    path = tmp_path / "etag"
    path.write_bytes(b"stale\n")
    save = EtagSave(str(path), io.BytesIO(), False)
    assert path.read_bytes() == b"stale\n"  # no ETag yet: the file is left alone
    save.header(b'ETag:   "v1"  \r\n')
    save.header(b'etag: "v2"\r\n')
    save.close()
    assert path.read_bytes() == b'"v2"\n'


@pytest.mark.parametrize(
    ("line", "name"),
    [
        (b'Content-Disposition: attachment; filename="report.pdf"\r\n', "report.pdf"),
        (b"content-disposition: attachment; filename=plain.txt; size=3\r\n", "plain.txt"),
        (b"Content-Disposition: attachment; filename='single.txt'\r\n", "single.txt"),
        (b'Content-Disposition: inline; name="f"; filename="../../etc/passwd"\r\n', "passwd"),
        (b'Content-Disposition: attachment; filename="C:\\\\dir\\\\x.exe"\r\n', "x.exe"),
        (b'Content-Disposition: attachment; filename="a;b.txt"\r\n', "a;b.txt"),
        (b"Content-Disposition: attachment; filename=\r\n", ""),
        # filename*= (RFC 6266 extended syntax) is not supported by curl.
        (b"Content-Disposition: attachment; filename*=UTF-8''x.txt\r\n", None),
        (b'Content-Disposition: attachment; filename="dir/"\r\n', None),
        (b"Content-Disposition: attachment\r\n", None),
        (b'Content-Type: text/plain; filename="x"\r\n', None),
    ],
)
def test_disposition_filename(line: bytes, name: str | None) -> None:
    assert disposition_filename(line) == name


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("http://h/a/b.txt?q=1#f", "b.txt"),
        ("http://h/dir/", "dir"),  # curl 8: a trailing slash names the directory
        ("http://h/", None),
        ("http://h", None),
        ("http://h/a\\b", "b"),
    ],
)
def test_remote_name(url: str, name: str | None) -> None:
    assert remote_name(url) == name


def sink_for(tmp_path: Path, *argv: str, name: str = "out") -> OutputSink:
    g = parse_args([*argv, "-o", str(tmp_path / name), "http://h/x"])
    [job] = build_jobs(g)
    return OutputSink(job, io.BytesIO(), False, lambda text: None)


def test_default_overwrites(tmp_path: Path) -> None:
    (tmp_path / "out").write_bytes(b"old")
    sink = sink_for(tmp_path)
    assert sink.write(b"new") is None
    sink.finish(True)
    assert (tmp_path / "out").read_bytes() == b"new"


def test_no_clobber_picks_the_next_free_number(tmp_path: Path) -> None:
    for name in ("out", "out.1"):
        (tmp_path / name).write_bytes(b"old")
    sink = sink_for(tmp_path, "--no-clobber")
    assert sink.write(b"new") is None
    sink.finish(True)
    assert sink.path == str(tmp_path / "out.2")
    assert (tmp_path / "out").read_bytes() == b"old"
    assert (tmp_path / "out.2").read_bytes() == b"new"


def test_no_clobber_gives_up_after_99(tmp_path: Path) -> None:
    (tmp_path / "out").write_bytes(b"old")
    for n in range(1, 100):
        (tmp_path / f"out.{n}").write_bytes(b"old")
    warnings: list[str] = []
    g = parse_args(["--no-clobber", "-o", str(tmp_path / "out"), "http://h/x"])
    sink = OutputSink(build_jobs(g)[0], io.BytesIO(), False, warnings.append)
    assert sink.write(b"new") == -1
    assert warnings == [f"Warning: Failed to open the file {tmp_path / 'out'}: File exists\n"]


def test_server_name_does_not_overwrite_unless_clobber(tmp_path: Path) -> None:
    (tmp_path / "named").write_bytes(b"mine")
    g = parse_args(["-OJ", "--output-dir", str(tmp_path), "http://h/x"])
    job = build_jobs(g)[0]
    sink = OutputSink(job, io.BytesIO(), False, lambda text: None)
    assert not sink.name_from_server("named")
    assert (tmp_path / "named").read_bytes() == b"mine"
    g = parse_args(["-OJ", "--clobber", "--output-dir", str(tmp_path), "http://h/x"])
    sink = OutputSink(build_jobs(g)[0], io.BytesIO(), False, lambda text: None)
    assert sink.name_from_server("named")
    sink.write(b"theirs")
    sink.finish(True)
    assert (tmp_path / "named").read_bytes() == b"theirs"


def test_include_headers_wait_for_the_server_name(tmp_path: Path) -> None:
    g = parse_args(["-i", "-OJ", "--output-dir", str(tmp_path), "http://h/x"])
    job: Job = build_jobs(g)[0]
    sink = OutputSink(job, io.BytesIO(), False, lambda text: None)
    sink.write_header(b"HTTP/1.1 200 OK\r\n")
    assert list(tmp_path.iterdir()) == []
    assert sink.name_from_server("served")
    sink.write_header(b"\r\n")
    sink.write(b"body")
    sink.finish(True)
    assert (tmp_path / "served").read_bytes() == b"HTTP/1.1 200 OK\r\n\r\nbody"
