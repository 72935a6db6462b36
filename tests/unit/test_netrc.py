""".netrc (purecurl.proto.netrc): the file's location, its reading, the scanner, the login.

Pure tests pin each rule; comparison tests write a .netrc, let the real libcurl (pycurl,
libcurl 8.23) fetch from a loopback server with CURLOPT_NETRC / CURLOPT_NETRC_FILE, and assert
that `netrc_credentials` yields the Authorization header libcurl sent, or its error.
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

import pytest

from purecurl._codes import E_READ_ERROR
from purecurl._errors import CurlError
from purecurl.proto.netrc import (
    MAX_NETRC_FILE,
    MAX_NETRC_LINE,
    MAX_NETRC_TOKEN,
    NETRC_IGNORED,
    NETRC_OPTIONAL,
    NETRC_REQUIRED,
    NetrcError,
    NetrcLogin,
    NetrcMatch,
    NetrcStatus,
    load_netrc,
    lookup_netrc,
    netrc_credentials,
    netrc_path,
    read_netrc_file,
    scan_netrc,
)
from tests.servers import HttpServer, Request, Response

HOST = "127.0.0.1"


def scan(text: bytes, login: bytes | None = None, host: str | bytes = HOST) -> NetrcMatch | None:
    return scan_netrc(load_netrc(text), host, login)


# --- reading the file (file2memory) -------------------------------------------------------------


def test_load_drops_comment_lines_and_leading_blanks() -> None:
    text = b"# c\n  \t# c2\n  machine h # not a comment\n\tlogin u\n"
    assert load_netrc(text) == b"machine h # not a comment\nlogin u\n\n"


def test_load_adds_newline_to_last_line() -> None:
    assert load_netrc(b"machine h") == b"machine h\n"
    assert load_netrc(b"") == b"\n"


def test_load_cuts_a_line_at_nul() -> None:
    assert load_netrc(b"login a\0b\nnext\n") == b"login anext\n\n"


@pytest.mark.parametrize(("length", "ok"), [(MAX_NETRC_LINE - 1, True), (MAX_NETRC_LINE, False)])
def test_load_line_limit(length: int, ok: bool) -> None:
    for line in (b"x" * (length - 1) + b"\n", b"#" * (length - 1) + b"\n"):
        if ok:
            load_netrc(line)
        else:
            with pytest.raises(NetrcError) as info:
                load_netrc(line)
            assert info.value.status is NetrcStatus.SYNTAX_ERROR


def test_load_file_limit_counts_kept_bytes() -> None:
    line = b"a " * 499 + b"\n"  # 999 bytes
    body = line * ((MAX_NETRC_FILE - 2) // len(line))
    pad = MAX_NETRC_FILE - 2 - len(body)
    ok = body + b"b" * (pad - 1) + b"\n"  # 131070 bytes, kept with the final empty line
    assert len(load_netrc(ok)) == MAX_NETRC_FILE - 1
    with pytest.raises(NetrcError):
        load_netrc(ok + b"c")
    load_netrc(b"#" * 1000 + b"\n" + ok)  # comment lines do not count


def test_read_missing_file_and_directory(tmp_path: Path) -> None:
    for path in (tmp_path / "nope", tmp_path):
        with pytest.raises(NetrcError) as info:
            read_netrc_file(str(path))
        assert info.value.status is NetrcStatus.FILE_MISSING
        assert str(info.value) == "no such file"


def test_status_messages() -> None:
    assert NetrcStatus.SYNTAX_ERROR.message == "syntax error"
    assert NetrcStatus.NO_MATCH.message == "no matching entry"
    assert NetrcStatus.OK.message == ""
    error = NetrcError(NetrcStatus.FILE_MISSING).to_curl_error()
    assert (error.code, error.message) == (E_READ_ERROR, ".netrc error: no such file")


# --- where the file is ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "env", "windows", "paths"),
    [
        ("/x/rc", {"NETRC": "/e", "HOME": "/h"}, False, ["/x/rc"]),
        (None, {"NETRC": "/e", "HOME": "/h"}, False, ["/e"]),
        (None, {"NETRC": "", "HOME": "/h"}, False, ["/h/.netrc"]),
        (None, {"HOME": "/h"}, False, ["/h/.netrc"]),
        (None, {"HOME": "C:\\u"}, True, ["C:\\u\\.netrc", "C:\\u\\_netrc"]),
        (None, {"USERPROFILE": "C:\\p"}, True, ["C:\\p\\.netrc", "C:\\p\\_netrc"]),
        (None, {}, True, []),
    ],
)
def test_netrc_path(
    option: str | None, env: Mapping[str, str], windows: bool, paths: list[str]
) -> None:
    assert netrc_path(option, env, windows=windows) == paths


def test_netrc_path_without_home_uses_password_database() -> None:
    pwd = pytest.importorskip("pwd")
    home = pwd.getpwuid(os.geteuid()).pw_dir
    assert netrc_path(None, {"HOME": ""}, windows=False) == [f"{home}/.netrc"]


def test_lookup_windows_falls_back_to_underscore_netrc() -> None:
    files = {"C:\\u\\_netrc": b"machine h login w password p\n"}

    def read(path: str) -> bytes:
        if path not in files:
            raise NetrcError(NetrcStatus.FILE_MISSING)
        return files[path]

    match = lookup_netrc("h", env={"HOME": "C:\\u"}, read=read, windows=True)
    assert match == NetrcMatch(b"w", b"p")
    with pytest.raises(NetrcError):
        lookup_netrc("h", env={}, read=read, windows=True)


# --- the scanner ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "login", "match"),
    [
        (b"machine 127.0.0.1 login alice password secret\n", None, (b"alice", b"secret")),
        (
            b"machine other login b password b\nmachine 127.0.0.1 login a password a\n",
            None,
            (b"a", b"a"),
        ),
        (b"machine other login b password b\ndefault login d password d\n", None, (b"d", b"d")),
        (b"default login d password d\nmachine 127.0.0.1 login a password a\n", None, (b"d", b"d")),
        (
            b"machine 127.0.0.1 login a1 password p1\nmachine 127.0.0.1 login a2 password p2\n",
            None,
            (b"a1", b"p1"),
        ),
        (b"machine 127.0.0.1 login alice\n", None, (b"alice", None)),
        (b"machine 127.0.0.1 password onlypw\n", None, (None, b"onlypw")),
        (b"MACHINE 127.0.0.1 LOGIN a PASSWORD p\n", None, (b"a", b"p")),
        (b"machine LOCALHOST login x password y\n", None, None),
        (b"machine 127.0.0.1 login machine password a\n", None, (b"machine", b"a")),
        (b"machine 127.0.0.1 account acct login alice password a\n", None, (b"alice", b"a")),
        (b"machine\n127.0.0.1\nlogin\nalice\npassword\na\n", None, (b"alice", b"a")),
        (b"", None, None),
        (b"machine", None, None),
        (b"machine 127.0.0.1 login", None, None),
        (b"default\n", None, None),
        (b"foo bar machine 127.0.0.1 login alice password a\n", None, (b"alice", b"a")),
        (b'machine 127.0.0.1 login "" password a\n', None, (b"", b"a")),
        (b"machine 127.0.0.1 password pp login ll\n", None, (b"ll", b"pp")),
        (b"machine 127.0.0.1 login l1 login l2 password p\n", None, (b"l2", b"p")),
        (b"machine login x password y\n", None, None),
        (b"machine 127.0.0.1 default login d password p\n", None, (b"d", b"p")),
        (b'machine "127.0.0.1" login a password b\n', None, (b"a", b"b")),
        (b'"machine" 127.0.0.1 login a password b\n', None, None),  # quoted: no keyword
        (b'machine 127.0.0.1 "login" a password b\n', None, (None, b"b")),
        (b'machine 127.0.0.1 login "a\\qb" password "x\\\\"\n', None, (b"aqb", b"x\\")),
        (b'machine 127.0.0.1 login "a\nb" password c\n', None, (b"a\nb", b"c")),
        (
            b'machine 127.0.0.1 login "al ice" password "s\\"e\\tc\\r\\n"\n',
            None,
            (b"al ice", b's"e\tc\r\n'),
        ),
        (b"machine\t127.0.0.1\tlogin\ta\tpassword\tb\r\n", None, (b"a", b"b")),
        (b"machine 127.0.0.1 login a\x0bb\x0cc password p\n", None, (b"a\x0bb\x0cc", b"p")),
        (
            "machine 127.0.0.1 login älice password pä\n".encode(),
            None,
            ("älice".encode(), "pä".encode()),
        ),
        # macdef: skipped up to an empty line (lines of blanks are empty once loaded)
        (
            b"macdef init\nmachine 127.0.0.1 login m password m\n   \n"
            b"machine 127.0.0.1 login a password a\n",
            None,
            (b"a", b"a"),
        ),
        (
            b"macdef m machine 127.0.0.1 login a password b\n\n"
            b"machine 127.0.0.1 login c password d\n",
            None,
            (b"c", b"d"),
        ),
        (b"macdef x\r\nfoo\r\n\r\nmachine 127.0.0.1 login a password b\r\n", None, (b"a", b"b")),
        (b"machine 127.0.0.1 login a password b macdef x\n", None, (b"a", b"b")),
        # with a login asked for
        (
            b"machine 127.0.0.1 login alice password pa\nmachine 127.0.0.1 login bob password pb\n",
            b"bob",
            (b"bob", b"pb"),
        ),
        (b"machine 127.0.0.1 login alice password pa\n", b"carol", None),
        (b"machine 127.0.0.1 password anyone\n", b"bob", (b"bob", b"anyone")),
        (
            b"machine 127.0.0.1 login bob\nmachine 127.0.0.1 login bob password second\n",
            b"bob",
            (b"bob", b"second"),
        ),
        (b"default login bob password d\n", b"bob", (b"bob", b"d")),
        (b"default login z password d\n", b"bob", None),
        (b"machine 127.0.0.1 login l1 login l2 password p\n", b"l1", None),
        (b"machine 127.0.0.1 login Bob password p\n", b"bob", None),  # logins are exact
        (b"machine 127.0.0.1 login bob password p\n", b"", (b"bob", b"p")),  # "" = none
    ],
)
def test_scan(text: bytes, login: bytes | None, match: tuple[bytes | None, ...] | None) -> None:
    expected = None if match is None else NetrcMatch(*match)
    assert scan(text, login) == expected


@pytest.mark.parametrize(
    "text",
    [
        b'machine 127.0.0.1 login alice password "secret\n',
        b'machine 127.0.0.1 login "a\\',
        b"machine 127.0.0.1 login alice password " + b"p" * MAX_NETRC_TOKEN + b"\n",
        b'machine 127.0.0.1 login "' + b"p" * MAX_NETRC_TOKEN + b'"\n',
        # in another host's entry, before the answer: still an error
        b'machine other login "x\n',
    ],
)
def test_scan_syntax_errors(text: bytes) -> None:
    with pytest.raises(NetrcError) as info:
        scan(text)
    assert info.value.status is NetrcStatus.SYNTAX_ERROR


def test_scan_stops_at_the_answer() -> None:
    # What follows the entry found is not read, so a broken quote there is no error.
    assert scan(b'machine 127.0.0.1 login a password b\nmachine x login "oops\n') == NetrcMatch(
        b"a", b"b"
    )


def test_token_limit() -> None:
    long = b"p" * (MAX_NETRC_TOKEN - 1)
    assert scan(b"machine 127.0.0.1 login a password " + long + b"\n") == NetrcMatch(b"a", long)
    junk = b"j" * (MAX_NETRC_TOKEN + 10)  # a keyword position: not a literal, no limit
    assert scan(junk + b" machine 127.0.0.1 login a password b\n") == NetrcMatch(b"a", b"b")


def test_host_compared_without_ascii_case() -> None:
    assert scan(b"machine Example.COM login a password b\n", host="example.com") is not None
    assert scan(b"machine example.com login a password b\n", host=b"EXAMPLE.com") is not None


# --- netrc_credentials (override_login) ---------------------------------------------------------

TWO = b"machine 127.0.0.1 login alice password pa\nmachine 127.0.0.1 login bob password pb\n"


def creds(
    mode: int,
    text: bytes | None,
    user: bytes | None = None,
    password: bytes | None = None,
    username_option: bool = False,
) -> NetrcLogin:
    def read(path: str) -> bytes:
        if text is None:
            raise NetrcError(NetrcStatus.FILE_MISSING)
        return text

    return netrc_credentials(
        mode,
        HOST,
        url_user=user,
        url_password=password,
        username_option=username_option,
        netrc_file="/netrc",
        read=read,
    )


@pytest.mark.parametrize(
    ("mode", "user", "password", "expected"),
    [
        (NETRC_REQUIRED, None, None, NetrcLogin(b"alice", b"pa", True)),
        (NETRC_OPTIONAL, b"bob", None, NetrcLogin(b"bob", b"pb", True)),
        (NETRC_REQUIRED, b"bob", b"x", NetrcLogin(b"bob", b"pb", True)),
        (NETRC_OPTIONAL, b"bob", b"x", NetrcLogin(b"bob", b"x", False)),
        (NETRC_OPTIONAL, b"bob", b"", NetrcLogin(b"bob", b"pb", True)),
        (NETRC_REQUIRED, b"carol", b"x", NetrcLogin(b"carol", b"x", False)),
        (NETRC_REQUIRED, b"carol", None, NetrcLogin(b"carol", None, False)),
        (NETRC_OPTIONAL, None, b"pw", NetrcLogin(b"alice", b"pa", True)),
        (NETRC_OPTIONAL, b"", b"pw", NetrcLogin(b"alice", b"pa", True)),
        (NETRC_REQUIRED, None, b"pw", NetrcLogin(b"alice", b"pa", True)),
        (NETRC_IGNORED, b"bob", None, NetrcLogin(b"bob", None, False)),
    ],
)
def test_credentials_rules(
    mode: int, user: bytes | None, password: bytes | None, expected: NetrcLogin
) -> None:
    assert creds(mode, TWO, user, password) == expected


def test_credentials_username_option_skips_netrc() -> None:
    assert creds(NETRC_REQUIRED, None, username_option=True) == NetrcLogin(None, None)


def test_credentials_errors() -> None:
    assert creds(NETRC_OPTIONAL, None) == NetrcLogin(None, None)
    assert creds(NETRC_OPTIONAL, None, None, b"pw") == NetrcLogin(b"", b"pw")
    assert creds(NETRC_OPTIONAL, b'login "x') == NetrcLogin(None, None)
    assert creds(NETRC_REQUIRED, b"machine other login a password b\n") == NetrcLogin(None, None)
    for text, message in ((None, "no such file"), (b'"', "syntax error")):
        with pytest.raises(CurlError) as info:
            creds(NETRC_REQUIRED, text)
        assert info.value.code == E_READ_ERROR
        assert info.value.message == f".netrc error: {message}"


def test_credentials_found_password_only_and_login_only() -> None:
    assert creds(NETRC_REQUIRED, b"machine 127.0.0.1 password p\n") == NetrcLogin(b"", b"p", True)
    assert creds(NETRC_REQUIRED, b"machine 127.0.0.1 login u\n") == NetrcLogin(b"u", b"", True)


# --- comparisons with libcurl 8.23 -------------------------------------------------------------


def run_pycurl(
    pycurl: Any,
    mode: int,
    netrc_file: str | None,
    userinfo: str | None = None,
    userpwd: str | None = None,
) -> tuple[str | None, int, str]:
    """Fetch with .netrc; return (Authorization sent or None, result code, error text)."""
    seen: list[str | None] = []

    def route(request: Request) -> Response:
        seen.append(request.header("authorization"))
        return Response(200)

    with HttpServer({"/p": route}, builtin_routes=False) as server:
        url = server.url("/p")
        if userinfo is not None:
            url = url.replace("http://", f"http://{userinfo}@")
        c = pycurl.Curl()
        try:
            c.setopt(pycurl.URL, url)
            c.setopt(pycurl.NETRC, mode)
            if netrc_file is not None:
                c.setopt(pycurl.NETRC_FILE, netrc_file)
            if userpwd is not None:
                c.setopt(pycurl.USERPWD, userpwd)
            c.setopt(pycurl.WRITEDATA, io.BytesIO())
            try:
                c.perform()
            except pycurl.error as exc:
                return None, exc.args[0], exc.args[1]
        finally:
            c.close()
    assert len(seen) == 1
    return seen[0], 0, ""


def ours(
    mode: int, netrc_file: str | None, userinfo: str | None = None, userpwd: str | None = None
) -> tuple[str | None, int, str]:
    user = password = None
    if userinfo is not None:
        u, colon, p = userinfo.partition(":")
        user = unquote_to_bytes(u)
        password = unquote_to_bytes(p) if colon else None
    if userpwd is not None:
        u, colon, p = userpwd.partition(":")
        user, password = u.encode(), (p.encode() if colon else None)
    try:
        login = netrc_credentials(
            mode,
            HOST,
            url_user=user,
            url_password=password,
            username_option=userpwd is not None,
            netrc_file=netrc_file,
        )
    except CurlError as exc:
        return None, exc.code, exc.message
    if login.user is None and not login.password:
        return None, 0, ""
    raw = (login.user or b"") + b":" + (login.password or b"")
    return "Basic " + base64.b64encode(raw).decode("ascii"), 0, ""


COMPARE_FILES = {
    "basic": b"machine 127.0.0.1 login alice password secret\n",
    "default-after": b"machine example.com login bob password b\ndefault login dflt password d\n",
    "default-before": b"default login dflt password d\nmachine 127.0.0.1 login alice password a\n",
    "two-entries": TWO,
    "login-only": b"machine 127.0.0.1 login alice\n",
    "password-only": b"machine 127.0.0.1 password onlypw\n",
    "password-entry-then-login": b"machine 127.0.0.1 password p1\n"
    b"machine 127.0.0.1 login a2 password p2\n",
    "quoted": b'machine 127.0.0.1 login "al ice" password "s\\"e\\\\c\\tr\\net\\x"\n',
    "unterminated-quote": b'machine 127.0.0.1 login alice password "secret\n',
    "comments": b"# machine 127.0.0.1 login c password c\n  # indented\n"
    b"machine 127.0.0.1 login alice password x#y # trailing\n",
    "macdef-blank-line": b"macdef init\nmachine 127.0.0.1 login m password m\n   \n"
    b"machine 127.0.0.1 login alice password a\n",
    "vertical-tab-in-token": b"machine 127.0.0.1 login al\x0bice password a\n",
    "utf8": "machine 127.0.0.1 login älice password pä\n".encode(),
    "keywords-any-case": b"MACHINE 127.0.0.1 LOGIN alice PASSWORD a\n",
    "login-is-a-keyword": b"machine 127.0.0.1 login machine password a\n",
    "account": b"machine 127.0.0.1 account acct login alice password a\n",
    "one-token-a-line": b"machine\n127.0.0.1\nlogin\nalice\npassword\na\n",
    "empty": b"",
    "crlf": b"machine 127.0.0.1 login alice password a\r\n",
    "machine-at-end": b"machine",
    "junk-first": b"foo bar machine 127.0.0.1 login alice password a\n",
    "empty-quoted-login": b'machine 127.0.0.1 login "" password a\n',
    "default-without-credentials": b"default\n",
    "nul-joins-lines": b"machine 127.0.0.1 login al\x00ice password a\n"
    b"machine 127.0.0.1 login x password y\n",
    "quoted-keyword": b'machine 127.0.0.1 "login" a password b\n',
    "no-final-newline": b"machine 127.0.0.1 login alice password a",
    "token-4095": b"machine 127.0.0.1 login a password " + b"p" * 4095 + b"\n",
    "token-4096": b"machine 127.0.0.1 login a password " + b"p" * 4096 + b"\n",
    "line-16383": (b"ab " * 6000)[:16382] + b"\nmachine 127.0.0.1 login a password b\n",
    "line-16384": (b"ab " * 6000)[:16383] + b"\nmachine 127.0.0.1 login a password b\n",
    "bob-without-password-first": b"machine 127.0.0.1 login bob\n"
    b"machine 127.0.0.1 login bob password second\n",
}
USERS = [None, "bob", "bob:x", "carol", "carol:x", "bob:", ":", ":pw", "a%40b"]


@pytest.mark.parametrize("name", list(COMPARE_FILES))
@pytest.mark.parametrize("mode", [NETRC_OPTIONAL, NETRC_REQUIRED], ids=["optional", "required"])
def test_same_login_as_libcurl(tmp_path: Path, name: str, mode: int) -> None:
    pycurl = pytest.importorskip("pycurl")
    path = tmp_path / "netrc"
    path.write_bytes(COMPARE_FILES[name])
    assert ours(mode, str(path)) == run_pycurl(pycurl, mode, str(path))


@pytest.mark.parametrize("userinfo", USERS)
@pytest.mark.parametrize("mode", [NETRC_OPTIONAL, NETRC_REQUIRED], ids=["optional", "required"])
def test_same_login_with_url_userinfo_as_libcurl(
    tmp_path: Path, userinfo: str | None, mode: int
) -> None:
    pycurl = pytest.importorskip("pycurl")
    path = tmp_path / "netrc"
    path.write_bytes(TWO + b"machine 127.0.0.1 login a@b password at\n")
    assert ours(mode, str(path), userinfo) == run_pycurl(pycurl, mode, str(path), userinfo)


@pytest.mark.parametrize("userpwd", ["bob:x", "bob", "zed:z"])
def test_userpwd_bypasses_netrc_as_libcurl(tmp_path: Path, userpwd: str) -> None:
    pycurl = pytest.importorskip("pycurl")
    path = tmp_path / "netrc"
    path.write_bytes(TWO)
    for mode in (NETRC_OPTIONAL, NETRC_REQUIRED):
        expected = run_pycurl(pycurl, mode, str(path), userpwd=userpwd)
        assert ours(mode, str(path), userpwd=userpwd) == expected


@pytest.mark.parametrize("mode", [NETRC_OPTIONAL, NETRC_REQUIRED], ids=["optional", "required"])
def test_missing_file_and_directory_as_libcurl(tmp_path: Path, mode: int) -> None:
    pycurl = pytest.importorskip("pycurl")
    for path in (tmp_path / "missing", tmp_path):
        assert ours(mode, str(path)) == run_pycurl(pycurl, mode, str(path))


def test_file_size_limit_as_libcurl(tmp_path: Path) -> None:
    pycurl = pytest.importorskip("pycurl")
    entry = b"machine 127.0.0.1 login alice password a\n"
    line = b"ab " * 333 + b"\n"  # 1000 bytes
    for total in (MAX_NETRC_FILE - 2, MAX_NETRC_FILE - 1):
        body = line * ((total - len(entry)) // len(line))
        body += b"c" * (total - len(entry) - len(body) - 1) + b"\n"
        path = tmp_path / f"netrc{total}"
        path.write_bytes(body + entry)
        assert len(body + entry) == total
        result = run_pycurl(pycurl, NETRC_REQUIRED, str(path))
        assert ours(NETRC_REQUIRED, str(path)) == result
        assert (result[1] == 0) == (total == MAX_NETRC_FILE - 2)


def test_default_location_as_libcurl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pycurl = pytest.importorskip("pycurl")
    home = tmp_path / "home"
    home.mkdir()
    (home / ".netrc").write_bytes(b"machine 127.0.0.1 login homeuser password h\n")
    named = tmp_path / "named"
    named.write_bytes(b"machine 127.0.0.1 login envuser password e\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("NETRC", raising=False)
    expected = run_pycurl(pycurl, NETRC_REQUIRED, None)
    assert expected[0] == "Basic " + base64.b64encode(b"homeuser:h").decode()
    assert ours(NETRC_REQUIRED, None) == expected
    monkeypatch.setenv("NETRC", str(named))
    expected = run_pycurl(pycurl, NETRC_REQUIRED, None)
    assert expected[0] == "Basic " + base64.b64encode(b"envuser:e").decode()
    assert ours(NETRC_REQUIRED, None) == expected
    monkeypatch.setenv("NETRC", "")
    assert ours(NETRC_REQUIRED, None) == run_pycurl(pycurl, NETRC_REQUIRED, None)
    monkeypatch.setenv("HOME", str(tmp_path / "nowhere"))
    monkeypatch.delenv("NETRC")
    expected = run_pycurl(pycurl, NETRC_REQUIRED, None)
    assert expected[1] == E_READ_ERROR
    assert ours(NETRC_REQUIRED, None) == expected
