"""`Curl.getinfo` / `getinfo_raw`: values before any transfer, after one, after a failure.

Each test runs against purecurl and the real pycurl (fixture `mod`) over a local HttpServer;
facts from PYCURL-API.md "Curl" (getinfo) and libcurl's curl_easy_getinfo(3).
"""

from __future__ import annotations

import errno
from typing import Any

import pytest

from tests.compat._util import fetch
from tests.servers import HttpServer


@pytest.mark.parametrize(
    ("info", "value"),
    [
        ("RESPONSE_CODE", 0),
        ("HTTP_CODE", 0),
        ("EFFECTIVE_URL", ""),
        ("REDIRECT_URL", None),
        ("CONTENT_TYPE", None),
        ("PRIMARY_IP", ""),
        ("LOCAL_IP", ""),
        ("NUM_CONNECTS", 0),
        ("OS_ERRNO", 0),
        ("INFO_HTTP_VERSION", 0),
        ("TOTAL_TIME", 0.0),
        ("TOTAL_TIME_T", 0),
        ("HEADER_SIZE", 0),
        ("REQUEST_SIZE", 0),
        ("SIZE_DOWNLOAD_T", 0),
        ("REDIRECT_COUNT", 0),
        ("EFFECTIVE_METHOD", "GET"),
        ("SCHEME", None),
        ("INFO_COOKIELIST", []),
        ("CONTENT_LENGTH_DOWNLOAD_T", -1),
    ],
)
def test_getinfo_before_any_transfer(curl: Any, mod: Any, info: str, value: object) -> None:
    """PYCURL-API Curl: before a transfer RESPONSE_CODE is 0, EFFECTIVE_URL '', REDIRECT_URL
    None (libcurl's zeroed info)."""
    got = curl.getinfo(getattr(mod, info))
    assert got == value
    assert type(got) is type(value)


@pytest.mark.parametrize("info", ["PRIMARY_PORT", "LOCAL_PORT"])
def test_getinfo_ports_before_any_transfer(curl: Any, mod: Any, info: str) -> None:
    """libcurl: PRIMARY_PORT and LOCAL_PORT are -1 before any connection."""
    assert curl.getinfo(getattr(mod, info)) == -1


def test_effective_url_after_setopt_before_transfer(curl: Any, mod: Any) -> None:
    """libcurl 8.23: EFFECTIVE_URL before any transfer is the URL set (observed with pycurl)."""
    curl.setopt(mod.URL, "http://127.0.0.1:9/x")
    assert curl.getinfo(mod.EFFECTIVE_URL) == "http://127.0.0.1:9/x"


@pytest.fixture
def done(curl: Any, mod: Any, server: HttpServer) -> Any:
    """`curl` after one GET of /hello (body "hello\\n", Content-Type text/plain)."""
    headers: list[bytes] = []
    curl.setopt(mod.HEADERFUNCTION, headers.append)
    assert fetch(mod, curl, server.url("/hello")) == b"hello\n"
    curl.headers_seen = headers  # arbitrary attribute: pycurl handles take them
    return curl


def test_getinfo_after_transfer(done: Any, mod: Any, server: HttpServer) -> None:
    """curl_easy_getinfo(3): response code, URL, content type, sizes of a finished GET."""
    assert done.getinfo(mod.RESPONSE_CODE) == 200
    assert done.getinfo(mod.HTTP_CODE) == 200
    assert done.getinfo(mod.EFFECTIVE_URL) == server.url("/hello")
    assert done.getinfo(mod.CONTENT_TYPE) == "text/plain"
    assert done.getinfo(mod.REDIRECT_URL) is None
    assert done.getinfo(mod.SIZE_DOWNLOAD_T) == 6
    assert done.getinfo(mod.CONTENT_LENGTH_DOWNLOAD_T) == 6
    assert done.getinfo(mod.SIZE_UPLOAD_T) == 0
    assert done.getinfo(mod.INFO_HTTP_VERSION) == mod.CURL_HTTP_VERSION_1_1
    assert done.getinfo(mod.EFFECTIVE_METHOD) == "GET"


def test_header_size_counts_every_header_byte(done: Any, mod: Any) -> None:
    """CURLINFO_HEADER_SIZE: the bytes of all headers received (what HEADERFUNCTION saw)."""
    assert done.getinfo(mod.HEADER_SIZE) == sum(map(len, done.headers_seen))


def test_request_size_is_what_was_sent(done: Any, mod: Any, server: HttpServer) -> None:
    """CURLINFO_REQUEST_SIZE: the bytes of the request sent (the server's raw request)."""
    assert done.getinfo(mod.REQUEST_SIZE) == len(server.requests[-1].raw)


def test_times_are_ordered(done: Any, mod: Any) -> None:
    """curl_easy_getinfo(3) TIMES: NAMELOOKUP <= CONNECT <= PRETRANSFER <= STARTTRANSFER <=
    TOTAL, as floats in seconds and as `_T` ints in microseconds."""
    names = ["NAMELOOKUP", "CONNECT", "PRETRANSFER", "STARTTRANSFER", "TOTAL"]
    secs = [done.getinfo(getattr(mod, f"{n}_TIME")) for n in names]
    micros = [done.getinfo(getattr(mod, f"{n}_TIME_T")) for n in names]
    assert all(type(s) is float for s in secs)
    assert all(type(u) is int for u in micros)
    assert secs == sorted(secs)
    assert micros == sorted(micros)
    assert 0 < secs[-1] < 2
    assert abs(micros[-1] / 1e6 - secs[-1]) < 1e-3


def test_addresses(done: Any, mod: Any, server: HttpServer) -> None:
    """CURLINFO_PRIMARY_IP/PORT is the server, LOCAL_IP/PORT our end of the connection."""
    assert done.getinfo(mod.PRIMARY_IP) == "127.0.0.1"
    assert done.getinfo(mod.PRIMARY_PORT) == server.port
    assert done.getinfo(mod.LOCAL_IP) == "127.0.0.1"
    local_port = done.getinfo(mod.LOCAL_PORT)
    assert type(local_port) is int
    assert 0 < local_port < 65536
    assert local_port != server.port


def test_num_connects_then_reuse(done: Any, mod: Any, server: HttpServer) -> None:
    """CURLINFO_NUM_CONNECTS: 1 for a new connection, 0 when the next transfer reuses it."""
    assert done.getinfo(mod.NUM_CONNECTS) == 1
    done.perform()
    assert done.getinfo(mod.NUM_CONNECTS) == 0
    assert server.connections_accepted == 1


def test_scheme_lower_case(done: Any, mod: Any) -> None:
    """libcurl 8.23 (observed with pycurl): CURLINFO_SCHEME is 'http'."""
    assert done.getinfo(mod.SCHEME) == "http"


def test_getinfo_raw_is_bytes(done: Any, mod: Any, server: HttpServer) -> None:
    """PYCURL-API Curl: getinfo_raw gives string infos as bytes, others unchanged."""
    assert done.getinfo_raw(mod.EFFECTIVE_URL) == server.url("/hello").encode()
    assert done.getinfo_raw(mod.CONTENT_TYPE) == b"text/plain"
    assert done.getinfo_raw(mod.RESPONSE_CODE) == 200


@pytest.mark.parametrize(
    "info", ["SIZE_DOWNLOAD", "SPEED_DOWNLOAD", "CONTENT_LENGTH_DOWNLOAD", "SIZE_UPLOAD"]
)
def test_deprecated_double_infos_warn(curl: Any, mod: Any, info: str) -> None:
    """PYCURL-API Curl: the deprecated double infos warn "getinfo option is deprecated"."""
    with pytest.warns(DeprecationWarning, match="^getinfo option is deprecated$"):
        value = curl.getinfo(getattr(mod, info))
    assert type(value) is float


def test_unknown_info_number(curl: Any) -> None:
    """PYCURL-API Curl: a number that is no info raises ValueError."""
    with pytest.raises(ValueError, match=r"^invalid argument to getinfo$"):
        curl.getinfo(123456)


def test_os_errno_after_refused_connect_value(curl: Any, mod: Any, dead_port: int) -> None:
    """CURLINFO_OS_ERRNO: a refused connect fails with 7 and RESPONSE_CODE stays 0."""
    curl.setopt(mod.URL, f"http://127.0.0.1:{dead_port}/")
    with pytest.raises(mod.error):
        curl.perform()
    assert curl.getinfo(mod.RESPONSE_CODE) == 0
    assert curl.getinfo(mod.EFFECTIVE_URL) == f"http://127.0.0.1:{dead_port}/"


def test_os_errno_after_refused_connect(curl: Any, mod: Any, dead_port: int) -> None:
    """CURLINFO_OS_ERRNO: the errno of the failed connect (ECONNREFUSED)."""
    curl.setopt(mod.URL, f"http://127.0.0.1:{dead_port}/")
    with pytest.raises(mod.error):
        curl.perform()
    assert curl.getinfo(mod.OS_ERRNO) == errno.ECONNREFUSED


def test_private_round_trip() -> None:
    """purecurl extension: CURLOPT_PRIVATE (10103) round-trips any object through
    CURLINFO_PRIVATE (0x100015). pycurl 7.49.0 exports neither and refuses both numbers."""
    import purecurl

    c = purecurl.Curl()
    try:
        token = object()
        c.setopt(10103, token)
        assert c.getinfo(0x100015) is token
    finally:
        c.close()
