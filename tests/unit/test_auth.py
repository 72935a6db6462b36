"""HTTP authentication (purecurl.proto.auth): challenges, pickoneauth, Basic, Digest, Bearer.

Two kinds of tests. Pure ones check the rules and the RFC test vectors. Comparison ones run
the real libcurl (pycurl, libcurl 8.23) against a loopback server that answers from a script
of 401/407 challenges and records every request, then drive `HttpAuth` through the same script
and assert the same requests: the same Authorization headers byte for byte (where libcurl's
cnonce is random, ours is fed the cnonces libcurl used, read from its headers, so an equal
header proves an equal algorithm), the same final status, CURLINFO_HTTPAUTH_AVAIL and result.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from purecurl._codes import E_BAD_CONTENT_ENCODING, E_HTTP_RETURNED_ERROR, E_NOT_BUILT_IN, E_OK
from purecurl._consts import (
    HTTPAUTH_ANY,
    HTTPAUTH_ANYSAFE,
    HTTPAUTH_BASIC,
    HTTPAUTH_DIGEST,
    HTTPAUTH_DIGEST_IE,
    HTTPAUTH_NEGOTIATE,
    HTTPAUTH_NONE,
    HTTPAUTH_NTLM,
    HTTPAUTH_NTLM_WB,
    HTTPAUTH_ONLY,
)
from purecurl._errors import CurlError
from purecurl.proto.auth import (
    HTTPAUTH_AWS_SIGV4,
    HTTPAUTH_BEARER,
    PICKNONE,
    AuthDecision,
    AuthState,
    Credentials,
    DigestState,
    HttpAuth,
    basic_value,
    new_cnonce,
    offered_schemes,
    pick_one,
    wanted_mask,
)
from tests.servers import HttpServer, Request, Response, ScriptedServer, ServerConnection

# --- wanted_mask (setopt.c httpauth) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "mask"),
    [
        (HTTPAUTH_NONE, HTTPAUTH_NONE),
        (HTTPAUTH_BASIC, HTTPAUTH_BASIC),
        (HTTPAUTH_DIGEST_IE, HTTPAUTH_DIGEST),
        (HTTPAUTH_DIGEST_IE | HTTPAUTH_BASIC, HTTPAUTH_DIGEST | HTTPAUTH_BASIC),
        (HTTPAUTH_NTLM | HTTPAUTH_BASIC, HTTPAUTH_BASIC),
        (HTTPAUTH_NEGOTIATE | HTTPAUTH_DIGEST, HTTPAUTH_DIGEST),
        (HTTPAUTH_BASIC | HTTPAUTH_ONLY, HTTPAUTH_BASIC | HTTPAUTH_ONLY),
        (HTTPAUTH_NTLM_WB, HTTPAUTH_NTLM_WB),  # removed from libcurl, the bit is still taken
        (HTTPAUTH_BEARER, HTTPAUTH_BEARER),
        (HTTPAUTH_ANY, HTTPAUTH_ANY & ~(HTTPAUTH_NTLM | HTTPAUTH_NEGOTIATE | HTTPAUTH_AWS_SIGV4)),
    ],
)
def test_wanted_mask(option: int, mask: int) -> None:
    assert wanted_mask(option) == mask


@pytest.mark.parametrize(
    "option", [HTTPAUTH_NTLM, HTTPAUTH_ONLY, HTTPAUTH_NTLM | HTTPAUTH_ONLY, HTTPAUTH_AWS_SIGV4]
)
def test_wanted_mask_nothing_built_in(option: int) -> None:
    with pytest.raises(CurlError) as info:
        wanted_mask(option)
    assert info.value.code == E_NOT_BUILT_IN


def test_wanted_mask_matches_pycurl_setopt() -> None:
    pycurl = pytest.importorskip("pycurl")
    c = pycurl.Curl()
    try:
        for option in (HTTPAUTH_NTLM, HTTPAUTH_ONLY, HTTPAUTH_NTLM | HTTPAUTH_BASIC, 1 << 8):
            try:
                c.setopt(pycurl.HTTPAUTH, option)
                refused = False
            except pycurl.error as exc:
                assert exc.args[0] == E_NOT_BUILT_IN
                refused = True
            try:
                wanted_mask(option)
                assert not refused, option
            except CurlError:
                assert refused, option
    finally:
        c.close()


# --- pick_one (pickoneauth) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("avail", "picked"),
    [
        (0, PICKNONE),
        (HTTPAUTH_BASIC, HTTPAUTH_BASIC),
        (HTTPAUTH_BASIC | HTTPAUTH_DIGEST, HTTPAUTH_DIGEST),
        (HTTPAUTH_BASIC | HTTPAUTH_NTLM, HTTPAUTH_NTLM),
        (HTTPAUTH_DIGEST | HTTPAUTH_BEARER, HTTPAUTH_BEARER),
        (HTTPAUTH_BEARER | HTTPAUTH_NEGOTIATE, HTTPAUTH_NEGOTIATE),
        (HTTPAUTH_AWS_SIGV4 | HTTPAUTH_BASIC, HTTPAUTH_BASIC),
        (HTTPAUTH_AWS_SIGV4, HTTPAUTH_AWS_SIGV4),
        (HTTPAUTH_DIGEST_IE | HTTPAUTH_ONLY, PICKNONE),
    ],
)
def test_pick_one_order(avail: int, picked: int) -> None:
    assert pick_one(avail) == picked


# --- challenges -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "offered"),
    [
        ('Basic realm="x"', HTTPAUTH_BASIC),
        ("basic", HTTPAUTH_BASIC),
        ("  Basic  ", HTTPAUTH_BASIC),
        ("Basicx realm=1", 0),
        ('Digest realm="a", nonce="b", Basic realm="c"', HTTPAUTH_DIGEST | HTTPAUTH_BASIC),
        ('Basic realm="b", Digest realm="r", nonce="x"', HTTPAUTH_DIGEST | HTTPAUTH_BASIC),
        # Any comma starts a new scheme for libcurl, inside quotes too.
        ('Digest realm="a, Basic b", nonce="x"', HTTPAUTH_DIGEST | HTTPAUTH_BASIC),
        ("Negotiate, NTLM, Bearer", HTTPAUTH_NEGOTIATE | HTTPAUTH_NTLM | HTTPAUTH_BEARER),
        ("Bearer,Basic", HTTPAUTH_BEARER | HTTPAUTH_BASIC),
        ("Digest\trealm=x", HTTPAUTH_DIGEST),
        ("Unknown realm=x, Basic", HTTPAUTH_BASIC),
        ("", 0),
        (b'Basic realm="\xe9"', HTTPAUTH_BASIC),
    ],
)
def test_offered_schemes(value: str | bytes, offered: int) -> None:
    assert offered_schemes(value) == offered


def test_input_counts_only_schemes_built_in() -> None:
    side = AuthState()
    assert not side.input_challenge("Negotiate, NTLM")
    assert side.avail == side.avail_info == 0
    assert not side.input_challenge("Basic")
    assert side.avail == HTTPAUTH_BASIC


def test_input_only_first_digest_counts() -> None:
    side = AuthState()
    assert not side.input_challenge('Digest realm="one", nonce="1"')
    assert not side.input_challenge('Digest realm="two", nonce="2"')
    assert side.digest.realm == b"one"


def test_input_basic_refused_when_basic_picked() -> None:
    side = AuthState()
    side.picked = HTTPAUTH_BASIC
    side.avail = HTTPAUTH_DIGEST
    assert side.input_challenge("Basic realm=x")
    assert side.avail == 0
    assert side.avail_info == HTTPAUTH_BASIC


# --- Digest challenge decoding ------------------------------------------------------------------


def decode(params: bytes) -> tuple[int, DigestState]:
    state = DigestState()
    return state.decode(params), state


def test_digest_decode_fields() -> None:
    code, d = decode(
        b'realm="a\\"b\\\\c", nonce="n\\x", opaque="o,p", qop="auth-int, auth", '
        b'algorithm=SHA-256-sess, userhash=TRUE, charset=UTF-8, stale=false, domain="/ /x"'
    )
    assert code == E_OK
    assert (d.realm, d.nonce, d.opaque, d.qop) == (b'a"b\\c', b"nx", b"o,p", b"auth")
    assert (d.algorithm, d.userhash, d.stale) == (b"SHA-256-sess", True, False)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        (b'realm="r"', E_BAD_CONTENT_ENCODING),  # no nonce
        (b'nonce="n", algorithm=SHA-1', E_BAD_CONTENT_ENCODING),
        (b'nonce="n", algorithm=MD5-sess', E_BAD_CONTENT_ENCODING),  # -sess needs a qop
        (b'nonce="n", algorithm=MD5-sess, qop="auth-conf"', E_BAD_CONTENT_ENCODING),
        (b'nonce="n", algorithm=md5-SESS, qop=auth', E_OK),
        (b'realm = "r", nonce="n"', E_BAD_CONTENT_ENCODING),  # "realm " is no name it knows
        (b'nonce="n\\', E_BAD_CONTENT_ENCODING),  # nothing after the backslash
        (b'nonce="n', E_OK),  # no closing quote: the end of the value ends it
        (b'nonce=n"', E_BAD_CONTENT_ENCODING),  # a quote in an unquoted value
        (b'nonce="a\nb"', E_BAD_CONTENT_ENCODING),
    ],
)
def test_digest_decode_results(params: bytes, code: int) -> None:
    assert decode(params)[0] == code


@pytest.mark.parametrize(
    ("qop", "chosen"),
    [
        (b'"auth"', b"auth"),
        (b'"auth-int"', b"auth-int"),
        (b'"auth-int,auth"', b"auth"),
        (b'"AUTH"', b"auth"),
        (b'" auth "', None),  # the word is "auth " (libcurl compares whole words)
        (b'"auth ,auth-int"', b"auth-int"),
        (b'"auth-conf"', None),
        (b'"' + b"x" * 33 + b',auth"', None),  # a word over 32 bytes ends the list
    ],
)
def test_digest_qop_choice(qop: bytes, chosen: bytes | None) -> None:
    code, d = decode(b'nonce="n", qop=' + qop)
    assert code == E_OK
    assert d.qop == chosen


def test_digest_second_nonce_needs_stale() -> None:
    d = DigestState()
    assert d.decode(b'nonce="1", qop=auth') == E_OK
    d.answer(b"u", b"p", b"GET", b"/", lambda: "c1")
    assert d.nc == 2
    assert d.decode(b'nonce="2", qop=auth') == E_BAD_CONTENT_ENCODING
    assert d.decode(b'nonce="3", qop=auth, stale=TRUE') == E_OK
    assert (d.nonce, d.nc, d.cnonce) == (b"3", 1, None)


# --- Digest answers: RFC test vectors -------------------------------------------------------------


def test_rfc2617_section_3_5() -> None:
    d = DigestState()
    assert (
        d.decode(
            b'realm="testrealm@host.com", qop="auth,auth-int", '
            b'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
            b'opaque="5ccc069c403ebaf9f0171e9517f40e41"'
        )
        == E_OK
    )
    answer = d.answer(b"Mufasa", b"Circle Of Life", b"GET", b"/dir/index.html", lambda: "0a4f113b")
    assert answer == (
        'username="Mufasa", realm="testrealm@host.com", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", '
        'cnonce="0a4f113b", nc=00000001, qop=auth, '
        'response="6629fae49393a05397450978507c4ef1", '
        'opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )


@pytest.mark.parametrize(
    ("algorithm", "response"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_section_3_9_1(algorithm: str, response: str) -> None:
    d = DigestState()
    challenge = (
        f'realm="http-auth@example.org", qop="auth, auth-int", algorithm={algorithm}, '
        'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
        'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
    )
    assert d.decode(challenge.encode()) == E_OK
    answer = d.answer(
        b"Mufasa",
        b"Circle of Life",
        b"GET",
        b"/dir/index.html",
        lambda: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    )
    assert answer == (
        'username="Mufasa", realm="http-auth@example.org", '
        'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", uri="/dir/index.html", '
        'cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", nc=00000001, qop=auth, '
        f'response="{response}", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", '
        f"algorithm={algorithm}"
    )


def test_digest_answer_without_qop_is_rfc2069() -> None:
    d = DigestState()
    assert d.decode(b'realm="r", nonce="n"') == E_OK
    md5 = hashlib.md5
    ha1 = md5(b"u:r:p").hexdigest()
    ha2 = md5(b"GET:/x").hexdigest()
    expected = md5(f"{ha1}:n:{ha2}".encode()).hexdigest()
    assert d.answer(b"u", b"p", b"GET", b"/x") == (
        f'username="u", realm="r", nonce="n", uri="/x", response="{expected}"'
    )
    assert d.nc == 1  # counted only with a qop


def test_digest_quoting_escapes_and_percent_encodes() -> None:
    d = DigestState()
    assert d.decode(b'realm="\x01\x7f\xff%\\"\\\\", nonce="n", opaque="a b"') == E_OK
    answer = d.answer(b'\xc3\xa9"', b"p", b"GET", b"/")
    assert answer.startswith('username="%C3%A9\\"", realm="%01%7F%FF%\\"\\\\", nonce="n"')
    assert answer.endswith('opaque="a b"')


def test_digest_iestyle_cuts_the_query() -> None:
    side = AuthState(iestyle=True)
    side.picked = HTTPAUTH_DIGEST
    assert not side.input_challenge('Digest realm="r", nonce="n"')
    value = side.output("GET", "/p?q=1", Credentials(b"u", b"p"))
    assert value is not None and 'uri="/p"' in value


def test_new_cnonce_is_12_bytes_of_base64() -> None:
    cnonce = new_cnonce()
    assert len(base64.b64decode(cnonce, validate=True)) == 12
    assert new_cnonce() != cnonce


def test_basic_value_bytes_as_given() -> None:
    assert basic_value(b"Aladdin", b"open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    assert basic_value(b"\xe9", None) == "Basic " + base64.b64encode(b"\xe9:").decode()


@pytest.mark.parametrize(
    ("user", "password", "expected"),
    [
        (None, None, Credentials(None, None)),
        ("", "", Credentials(None, None)),
        ("", "p", Credentials(b"", b"p")),
        ("u", None, Credentials(b"u", None)),
        ("ü", b"\xfc", Credentials("ü".encode(), b"\xfc")),
    ],
)
def test_credentials_login(
    user: str | None, password: str | bytes | None, expected: Credentials
) -> None:
    assert Credentials.login(user, password) == expected


# --- the state machine without a server ---------------------------------------------------------


def test_repr_summarises_state() -> None:
    auth = HttpAuth()
    auth.begin_transfer(HTTPAUTH_ANY, HTTPAUTH_BASIC)
    assert "want=0xfffffeef" in repr(auth.host)
    assert "problem=False" in repr(auth)


def test_no_credentials_no_headers_and_no_retry() -> None:
    auth = HttpAuth()
    auth.begin_transfer(HTTPAUTH_ANY, HTTPAUTH_BASIC)
    none = Credentials()
    assert auth.request_headers("GET", "/", host=none) == []
    decision = auth.on_response(401, [("WWW-Authenticate", "Basic")], host=none)
    assert decision == AuthDecision()
    assert auth.httpauth_avail == HTTPAUTH_BASIC


def test_headers_of_other_statuses_are_ignored() -> None:
    auth = HttpAuth()
    auth.begin_transfer(HTTPAUTH_ANY, HTTPAUTH_ANY)
    auth.input_header(200, "WWW-Authenticate", "Basic")
    auth.input_header(401, "Proxy-Authenticate", "Basic")
    auth.input_header(407, b"WWW-Authenticate", "Basic")
    assert auth.httpauth_avail == auth.proxyauth_avail == 0
    auth.input_header(407, b"proxy-authenticate", "Digest nonce=1")
    assert auth.proxyauth_avail == HTTPAUTH_DIGEST


def test_interim_response_is_ignored() -> None:
    auth = HttpAuth()
    auth.begin_transfer(HTTPAUTH_DIGEST, HTTPAUTH_BASIC)
    creds = Credentials(b"u", b"p")
    auth.request_headers("POST", "/", host=creds, upload=True)
    assert auth.authneg
    assert auth.act(100, host=creds, upload=True) == AuthDecision()
    assert not auth.problem


def test_custom_authorization_header_replaces_basic_and_bearer() -> None:
    auth = HttpAuth()
    auth.begin_transfer(HTTPAUTH_BASIC, HTTPAUTH_BASIC)
    creds = Credentials(b"u", b"p")
    assert auth.request_headers("GET", "/", host=creds, custom_authorization=True) == []
    assert auth.host.done


def test_no_auth_to_another_host_after_redirect() -> None:
    auth = HttpAuth()
    auth.begin_transfer(HTTPAUTH_BASIC, HTTPAUTH_BASIC)
    creds = Credentials(b"u", b"p")
    assert auth.request_headers("GET", "/", host=creds, send_to_host=False) == []
    assert auth.host.done


def test_problem_then_failonerror_fails_without_message() -> None:
    auth = HttpAuth()
    auth.begin_transfer(HTTPAUTH_DIGEST, HTTPAUTH_BASIC)
    creds = Credentials(b"u", b"p")
    auth.request_headers("POST", "/", host=creds, upload=True)
    # The probe got through: nothing to pick (a problem), the real request goes out.
    assert auth.act(200, host=creds, upload=True, fail_on_error=True) == AuthDecision(True)
    auth.request_headers("POST", "/", host=creds, upload=True)
    assert not auth.authneg
    assert auth.act(200, host=creds, upload=True, fail_on_error=True) == AuthDecision(
        result=E_HTTP_RETURNED_ERROR
    )


def test_resumed_get_416_is_no_failure() -> None:
    auth = HttpAuth()
    auth.begin_transfer(HTTPAUTH_BASIC, HTTPAUTH_BASIC)
    creds = Credentials()
    assert auth.act(416, host=creds, fail_on_error=True, resume_get=True) == AuthDecision()
    assert auth.act(416, host=creds, fail_on_error=True).result == E_HTTP_RETURNED_ERROR


# --- comparisons with libcurl 8.23 -------------------------------------------------------------

Script = Sequence[tuple[int, Sequence[str]]]  # the answer to request N; past the end: 200


@dataclass(frozen=True)
class Sent:
    """One request as the server saw it (or as HttpAuth would send it)."""

    method: str
    authorization: str | None
    proxy_authorization: str | None = None
    content_length: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What a client did with a script: its requests and, per transfer, its result."""

    sent: list[Sent]
    results: list[tuple[int, int, int]]  # (status, HTTPAUTH_AVAIL or PROXYAUTH_AVAIL, code)


@dataclass(frozen=True)
class Case:
    script: Script
    httpauth: int | None = None  # None: libcurl's default (Basic)
    userpwd: bytes | None = b"user:pass"
    bearer: str | None = None
    post: bytes | None = None
    path: str = "/p?a=b"
    transfers: int = 1
    fail_on_error: bool = False


def _answer(script: Script, index: int, header: str) -> tuple[int, list[tuple[str, str]]]:
    status, challenges = script[index] if index < len(script) else (200, ())
    return status, [(header, c) for c in challenges]


def run_pycurl(pycurl: Any, case: Case) -> Outcome:
    sent: list[Sent] = []

    def route(request: Request) -> Response:
        sent.append(
            Sent(
                request.method,
                request.header("authorization"),
                None,
                request.header("content-length"),
            )
        )
        status, headers = _answer(case.script, len(sent) - 1, "WWW-Authenticate")
        return Response(status, headers, body=b"%d" % status)

    results = []
    with HttpServer({case.path.partition("?")[0]: route}, builtin_routes=False) as server:
        c = pycurl.Curl()
        try:
            c.setopt(pycurl.URL, server.url(case.path))
            if case.userpwd is not None:
                c.setopt(pycurl.USERPWD, case.userpwd)
            if case.httpauth is not None:
                c.setopt(pycurl.HTTPAUTH, case.httpauth)
            if case.bearer is not None:
                c.setopt(pycurl.XOAUTH2_BEARER, case.bearer)
            if case.post is not None:
                c.setopt(pycurl.POSTFIELDS, case.post)
            if case.fail_on_error:
                c.setopt(pycurl.FAILONERROR, 1)
            c.setopt(pycurl.WRITEDATA, io.BytesIO())
            for _ in range(case.transfers):
                code = E_OK
                try:
                    c.perform()
                except pycurl.error as exc:
                    code = exc.args[0]
                results.append(
                    (c.getinfo(pycurl.RESPONSE_CODE), c.getinfo(pycurl.HTTPAUTH_AVAIL), code)
                )
        finally:
            c.close()
    return Outcome(sent, results)


def _credentials(userpwd: bytes | None, bearer: str | None = None) -> Credentials:
    if userpwd is None:
        return Credentials.login(None, None, bearer)
    user, colon, password = userpwd.partition(b":")
    return Credentials.login(user, password if colon else None, bearer)


def _cnonce_feed(outcome: Outcome) -> Callable[[], str]:
    """The cnonces libcurl used, in the order it made them, as a cnonce factory.

    A cnonce libcurl made but did not send (no qop) is not seen; nothing hashes it then, so
    any will do.
    """
    seen: list[str] = []
    for request in outcome.sent:
        for value in (request.authorization, request.proxy_authorization):
            match = re.search(r'cnonce="([^"]*)"', value or "")
            if match and match.group(1) not in seen:
                seen.append(match.group(1))
    feed: Iterator[str] = iter(seen)
    return lambda: next(feed, None) or new_cnonce()


def simulate(case: Case, cnonce: Callable[[], str]) -> Outcome:
    """Drive HttpAuth through `case.script` as the engine will."""
    auth = HttpAuth(cnonce=cnonce)
    creds = _credentials(case.userpwd, case.bearer)
    upload = case.post is not None
    method = "POST" if upload else "GET"
    sent: list[Sent] = []
    results = []
    for _ in range(case.transfers):
        httpauth = HTTPAUTH_BASIC if case.httpauth is None else wanted_mask(case.httpauth)
        auth.begin_transfer(httpauth, HTTPAUTH_BASIC)
        while True:
            headers = dict(auth.request_headers(method, case.path, host=creds, upload=upload))
            length = None
            if upload:
                assert case.post is not None
                length = "0" if auth.authneg else str(len(case.post))
            sent.append(Sent(method, headers.get("Authorization"), None, length))
            status, response_headers = _answer(case.script, len(sent) - 1, "WWW-Authenticate")
            decision = auth.on_response(
                status,
                response_headers,
                host=creds,
                upload=upload,
                fail_on_error=case.fail_on_error,
            )
            if decision.retry:
                continue
            results.append((status, auth.httpauth_avail, decision.result))
            break
    return Outcome(sent, results)


def check_against_pycurl(case: Case) -> Outcome:
    pycurl = pytest.importorskip("pycurl")
    real = run_pycurl(pycurl, case)
    ours = simulate(case, _cnonce_feed(real))
    assert ours == real
    return real


D = 'Digest realm="r", nonce="n1", qop="auth"'

CASES = {
    # Basic and the choice of scheme
    "basic-default-sent-at-once": Case([(401, ['Basic realm="r"'])], None),
    "basic-any-after-401": Case([(401, ['Basic realm="r"'])], HTTPAUTH_ANY),
    "basic-refused": Case([(401, ["Basic"]), (401, ["Basic"])], HTTPAUTH_ANY),
    "basic-refused-at-once": Case([(401, ["Basic"])], HTTPAUTH_BASIC),
    "basic-wanted-digest-offered": Case([(401, ['Digest nonce="n"'])], HTTPAUTH_BASIC),
    "basic-only-flag-probes": Case([(401, ["Basic"])], HTTPAUTH_BASIC | HTTPAUTH_ONLY),
    "basic-non-ascii-bytes": Case([(401, ["Basic"])], None, "üser:päss".encode()),
    "basic-latin1-bytes": Case([(401, ["Basic"])], None, b"\xfcser:p\xe4ss"),
    "userpwd-colon-only": Case([(401, ["Basic"])], HTTPAUTH_ANY, b":"),
    "userpwd-password-only": Case([(401, ["Basic"])], HTTPAUTH_ANY, b":p"),
    "userpwd-no-colon": Case([(401, ["Basic"])], HTTPAUTH_ANY, b"u"),
    "userpwd-two-colons": Case([(401, ["Basic"])], None, b"u:p:q"),
    "no-userpwd": Case([(401, ["Basic"])], HTTPAUTH_ANY, None),
    "digest-preferred-over-basic": Case([(401, ["Basic", 'Digest nonce="x"'])], HTTPAUTH_ANY),
    "anysafe-basic-only": Case([(401, ["Basic"])], HTTPAUTH_ANYSAFE),
    "anysafe-basic-and-digest": Case([(401, ['Basic, Digest nonce="x"'])], HTTPAUTH_ANYSAFE),
    "comma-in-realm-offers-basic": Case(
        [(401, ['Digest realm="a, Basic b", nonce="x"'])], HTTPAUTH_ANY
    ),
    "schemes-any-case": Case([(401, ['digest realm="r", nonce="x"', "basic"])], HTTPAUTH_ANY),
    "scheme-needs-separator": Case([(401, ["Basicx", "Digestx nonce=1"])], HTTPAUTH_ANY),
    "ntlm-only-is-not-built-in": Case([(401, ["NTLM"])], HTTPAUTH_ANY),
    "ntlm-and-basic": Case([(401, ["NTLM", "Basic"])], HTTPAUTH_ANY),
    "none-wanted": Case([(401, ["Basic"])], HTTPAUTH_NONE),
    # Digest parsing and answers
    "digest-md5-no-qop": Case([(401, ['Digest realm="r", nonce="n1"'])], HTTPAUTH_DIGEST),
    "digest-md5-qop": Case([(401, [D])], HTTPAUTH_DIGEST),
    "digest-any": Case([(401, [D])], HTTPAUTH_ANY),
    "digest-md5-sess": Case(
        [(401, ['Digest realm="r", nonce="n", qop=auth, algorithm=MD5-sess'])], HTTPAUTH_DIGEST
    ),
    "digest-sha256": Case(
        [(401, ['Digest realm="r", nonce="n", qop="auth", algorithm=SHA-256, opaque="op"'])],
        HTTPAUTH_DIGEST,
    ),
    "digest-sha256-sess": Case(
        [(401, ['Digest realm="r", nonce="n", qop="auth", algorithm=SHA-256-sess'])],
        HTTPAUTH_DIGEST,
    ),
    "digest-sha512-256": Case(
        [(401, ['Digest realm="r", nonce="n", qop=auth, algorithm=SHA-512-256'])],
        HTTPAUTH_DIGEST,
    ),
    "digest-sha512-256-sess-lowercase": Case(
        [(401, ['Digest realm="r", nonce="n", qop=auth, algorithm=sha-512-256-sess'])],
        HTTPAUTH_DIGEST,
    ),
    "digest-algorithm-echoed-as-sent": Case(
        [(401, ['Digest realm="r", nonce="n", algorithm=md5'])], HTTPAUTH_DIGEST
    ),
    "digest-userhash": Case(
        [(401, ['Digest realm="r", nonce="n", qop="auth", userhash=true, algorithm=SHA-256'])],
        HTTPAUTH_DIGEST,
    ),
    "digest-userhash-sha512-utf8-user": Case(
        [
            (
                401,
                [
                    'Digest realm="api@example.org", qop="auth", algorithm=SHA-512-256, '
                    'nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK", '
                    'opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", '
                    "charset=UTF-8, userhash=true"
                ],
            )
        ],
        HTTPAUTH_DIGEST,
        "J\u00e4s\u00f8n Doe:Secret, or not?".encode(),
        path="/doe.json",
    ),
    "digest-auth-int": Case([(401, ['Digest realm="r", nonce="n", qop="auth-int"'])]),
    "digest-auth-int-post": Case(
        [(401, ['Digest realm="r", nonce="n", qop="auth-int"'])], HTTPAUTH_DIGEST, post=b"body"
    ),
    "digest-auth-preferred": Case(
        [(401, ['Digest realm="r", nonce="n", qop="auth-int,auth"'])], HTTPAUTH_DIGEST
    ),
    "digest-qop-words-with-spaces": Case(
        [(401, ['Digest nonce="x", qop="auth ,auth-int"'])], HTTPAUTH_DIGEST
    ),
    "digest-qop-unknown": Case([(401, ['Digest nonce="n", qop="auth-conf"'])], HTTPAUTH_DIGEST),
    "digest-unquoted-sloppy": Case(
        [(401, ["Digest realm=r, nonce=n1,qop=auth ,  algorithm=MD5-sess"])], HTTPAUTH_DIGEST
    ),
    "digest-unquoted-with-space": Case([(401, ['Digest realm="r", nonce=x y'])], HTTPAUTH_DIGEST),
    "digest-no-commas": Case([(401, ['Digest  realm="r" nonce="x"'])], HTTPAUTH_DIGEST),
    "digest-tab": Case([(401, ['Digest\trealm="r",\tnonce="x"'])], HTTPAUTH_DIGEST),
    "digest-comma-after-scheme": Case([(401, ['Digest,realm="r",nonce="x"'])], HTTPAUTH_ANY),
    "digest-escapes": Case(
        [(401, ['Digest realm="a\\"b\\\\c", nonce="n\\x", opaque="o\\"p"'])], HTTPAUTH_DIGEST
    ),
    "digest-open-quote": Case([(401, ['Digest nonce="x'])], HTTPAUTH_DIGEST),
    "digest-trailing-backslash": Case([(401, ['Digest nonce="x\\'])], HTTPAUTH_DIGEST),
    "digest-no-realm": Case([(401, ['Digest nonce="n1"'])], HTTPAUTH_DIGEST),
    "digest-charset-ignored": Case(
        [(401, ['Digest realm="r", nonce="n", charset=UTF-8, qop=auth'])], HTTPAUTH_DIGEST
    ),
    "digest-bad-algorithm": Case(
        [(401, ['Digest realm="r", nonce="n1", algorithm=SHA-1'])], HTTPAUTH_DIGEST
    ),
    "digest-no-nonce": Case([(401, ['Digest realm="r"'])], HTTPAUTH_DIGEST),
    "digest-alone": Case([(401, ["Digest"])], HTTPAUTH_ANY),
    "digest-sess-without-qop": Case(
        [(401, ['Digest realm="r", nonce="n1", algorithm=MD5-sess'])], HTTPAUTH_DIGEST
    ),
    "digest-duplicate-headers": Case(
        [(401, ['Digest realm="r1", nonce="n1"', 'Digest realm="r2", nonce="n2"'])],
        HTTPAUTH_DIGEST,
    ),
    "digest-then-basic-in-one-header": Case(
        [(401, ['Digest realm="r", nonce="x", Basic realm="b"'])], HTTPAUTH_ANY
    ),
    "digest-nonce-1023": Case(
        [(401, ['Digest realm="r", nonce="' + "N" * 1023 + '", qop=auth'])], HTTPAUTH_DIGEST
    ),
    "digest-nonce-1024-refused": Case(
        [(401, ['Digest realm="r", nonce="' + "N" * 1024 + '", qop=auth'])], HTTPAUTH_DIGEST
    ),
    "digest-unquoted-nonce-1024-refused": Case(
        [(401, ['Digest realm="r", nonce=' + "N" * 1024 + ", qop=auth"])], HTTPAUTH_DIGEST
    ),
    "digest-escaped-nonce-cut": Case(
        [(401, ['Digest realm="r", nonce="' + "\\N" * 30 + "M" * 1000 + '", qop=auth'])],
        HTTPAUTH_DIGEST,
    ),
    "digest-escaped-nonce-quote-not-reached": Case(
        [(401, ['Digest realm="r", nonce="' + "\\N" * 10 + "M" * 1004 + '", qop=auth'])],
        HTTPAUTH_DIGEST,
    ),
    "digest-name-256": Case(
        [(401, ["Digest " + "k" * 256 + '=v, realm="r", nonce="n", qop=auth'])], HTTPAUTH_DIGEST
    ),
    "digest-name-257-refused": Case(
        [(401, ["Digest " + "k" * 257 + '=v, realm="r", nonce="n", qop=auth'])], HTTPAUTH_DIGEST
    ),
    "digest-long-unknown-value-ends-parsing": Case(
        [(401, ['Digest realm="r", nonce="n", foo="' + "x" * 2000 + '", qop=auth'])],
        HTTPAUTH_DIGEST,
    ),
    "digest-non-ascii": Case(
        [(401, ['Digest realm="r\xe9", nonce="x", opaque="\xff"'])],
        HTTPAUTH_DIGEST,
        "usér:päss".encode(),
    ),
    "digest-every-byte-in-user": Case(
        [(401, ['Digest realm="r", nonce="x", qop=auth'])],
        HTTPAUTH_DIGEST,
        bytes(b for b in range(1, 256) if b != 0x3A) + b":pw",
    ),
    "digest-every-byte-in-realm": Case(
        [
            (
                401,
                [
                    'Digest nonce="x", realm="'
                    + "".join(chr(b) for b in range(1, 256) if b not in (10, 13, 34, 92))
                    + '"'
                ],
            )
        ],
        HTTPAUTH_DIGEST,
    ),
    "digest-ie-keeps-query-in-8.23": Case([(401, [D])], HTTPAUTH_DIGEST_IE),
    # Rounds: stale, refused, nonce counts across transfers
    "digest-stale-retries": Case(
        [(401, [D]), (401, ['Digest realm="r", nonce="n2", qop="auth", stale=true'])],
        HTTPAUTH_DIGEST,
    ),
    "digest-new-nonce-not-stale-gives-up": Case(
        [(401, [D]), (401, ['Digest realm="r", nonce="n2", qop="auth"'])], HTTPAUTH_DIGEST
    ),
    "digest-any-refused": Case(
        [(401, ['Digest realm="r", nonce="a"']), (401, ['Digest realm="r", nonce="b"'])],
        HTTPAUTH_ANY,
    ),
    "digest-nc-goes-on-next-transfer": Case([(401, [D])], HTTPAUTH_DIGEST, transfers=3),
    "digest-no-qop-next-transfer": Case(
        [(401, ['Digest realm="r", nonce="n1"'])], HTTPAUTH_ANY, transfers=2
    ),
    "digest-rotated-nonce-next-transfer": Case(
        [(401, [D]), (200, ()), (401, ['Digest realm="r", nonce="n2", qop="auth"'])],
        HTTPAUTH_ANY,
        transfers=2,
    ),
    "digest-stale-next-transfer": Case(
        [(401, [D]), (200, ()), (401, ['Digest realm="r", nonce="n2", qop=auth, stale=true'])],
        HTTPAUTH_DIGEST,
        transfers=2,
    ),
    "basic-picked-stays-next-transfer": Case([(401, ["Basic"])], HTTPAUTH_ANY, transfers=2),
    "bad-algorithm-then-next-transfer": Case(
        [(401, ['Digest realm="r", nonce="n1", algorithm=SHA-1'])], HTTPAUTH_DIGEST, transfers=2
    ),
    # POST: the probe ("authneg")
    "post-digest-probes-first": Case([(401, [D])], HTTPAUTH_DIGEST, post=b"0123456789"),
    "post-any-sends-body": Case([(401, [D])], HTTPAUTH_ANY, post=b"0123456789"),
    "post-probe-gets-200": Case([], HTTPAUTH_DIGEST, post=b"hello"),
    "post-probe-gets-200-failonerror": Case([], HTTPAUTH_DIGEST, post=b"hello", fail_on_error=True),
    "post-basic": Case([(401, ["Basic"])], HTTPAUTH_ANY, post=b"x"),
    # FAILONERROR
    "failonerror-not-built-in": Case([(401, ["NTLM"])], HTTPAUTH_ANY, fail_on_error=True),
    "failonerror-no-user": Case([(401, ["Basic"])], None, None, fail_on_error=True),
    "failonerror-refused": Case(
        [(401, ["Basic"]), (401, ["Basic"])], HTTPAUTH_ANY, fail_on_error=True
    ),
    "failonerror-retry-then-200": Case([(401, [D])], HTTPAUTH_ANY, fail_on_error=True),
    "failonerror-404": Case([(404, ())], HTTPAUTH_ANY, fail_on_error=True),
    # Bearer
    "bearer-wanted-sent-at-once": Case([(401, ["Bearer"])], HTTPAUTH_BEARER, None, "tok"),
    "bearer-any": Case([(401, ['Bearer realm="r"'])], HTTPAUTH_ANY, None, "tok"),
    "bearer-over-basic": Case([(401, ['Bearer realm="r"', "Basic"])], HTTPAUTH_ANY, bearer="t"),
    "bearer-over-digest": Case([(401, [D, "Bearer"])], HTTPAUTH_ANY, bearer="t"),
    "bearer-not-wanted": Case([(401, ['Bearer realm="r"'])], None, None, "tok"),
    "bearer-without-token": Case([(401, ["Bearer", "Basic"])], HTTPAUTH_ANY),
    "bearer-refused": Case([(401, ["Bearer"]), (401, ["Bearer"])], HTTPAUTH_ANY, None, "t"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_same_requests_as_libcurl(name: str) -> None:
    check_against_pycurl(CASES[name])


def test_comparison_harness_sees_digest_nonce_counts() -> None:
    # The harness itself: libcurl's three transfers reuse one cnonce and count on.
    real = check_against_pycurl(CASES["digest-nc-goes-on-next-transfer"])
    counts = [re.search(r"nc=(\w+)", s.authorization or "") for s in real.sent]
    assert [m.group(1) for m in counts if m] == ["00000001", "00000002", "00000003"]


OFFERS = [
    ["Basic"],
    ['Digest nonce="x"'],
    ["Bearer"],
    ["NTLM"],
    ["Basic", 'Digest nonce="x"'],
    ["Basic", "Bearer"],
    ['Digest nonce="x"', "Bearer"],
    ["NTLM", "Basic"],
    ["NTLM", 'Digest nonce="x"', "Basic", "Bearer"],
]
WANTS = [
    HTTPAUTH_ANY,
    HTTPAUTH_ANYSAFE,
    HTTPAUTH_BASIC | HTTPAUTH_DIGEST,
    HTTPAUTH_DIGEST | HTTPAUTH_BEARER,
    HTTPAUTH_BASIC | HTTPAUTH_BEARER,
    HTTPAUTH_BASIC | HTTPAUTH_ONLY,
    HTTPAUTH_DIGEST | HTTPAUTH_ONLY,
]


@pytest.mark.parametrize("offer", OFFERS, ids=["+".join(o) for o in OFFERS])
@pytest.mark.parametrize("want", WANTS, ids=[f"{w:#x}" for w in WANTS])
@pytest.mark.parametrize("bearer", [None, "tok"], ids=["no-token", "token"])
def test_pickoneauth_as_libcurl(offer: list[str], want: int, bearer: str | None) -> None:
    check_against_pycurl(Case([(401, offer)], want, b"u:p", bearer))


def test_negotiate_only_differs_from_a_gssapi_libcurl() -> None:
    """We answer Negotiate as a libcurl without SPNEGO: not offered, so the 401 stands.

    The pycurl here has GSS-API: it counts Negotiate (avail 4) and retries without a token.
    """
    case = Case([(401, ["Negotiate"])], HTTPAUTH_ANY)
    ours = simulate(case, new_cnonce)
    assert ours == Outcome([Sent("GET", None)], [(401, 0, E_OK)])
    pycurl = pytest.importorskip("pycurl")
    real = run_pycurl(pycurl, case)
    assert real.results == [(200, HTTPAUTH_NEGOTIATE, E_OK)]


# --- proxies --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProxyCase:
    script: Script
    proxyauth: int | None = None
    proxyuserpwd: bytes | None = b"pu:pp"
    tunnel: bool = False
    userpwd: bytes | None = None
    httpauth: int | None = None
    origin_script: Script = ()


def run_pycurl_proxy(pycurl: Any, case: ProxyCase) -> Outcome:
    """pycurl through a scripted HTTP proxy that answers CONNECT or forwards itself."""
    sent: list[Sent] = []
    inner: list[Sent] = []

    def handler(conn: ServerConnection) -> None:
        while True:
            request = conn.read_request()
            if request is None:
                return
            sent.append(
                Sent(
                    request.method,
                    request.header("authorization"),
                    request.header("proxy-authorization"),
                )
            )
            status, headers = _answer(case.script, len(sent) - 1, "Proxy-Authenticate")
            lines = "".join(f"{n}: {v}\r\n" for n, v in headers)
            if request.method == "CONNECT" and status == 200:
                conn.send(b"HTTP/1.1 200 Connection established\r\n\r\n")
                while True:
                    tunnelled = conn.read_request()
                    if tunnelled is None:
                        return
                    inner.append(
                        Sent(
                            tunnelled.method,
                            tunnelled.header("authorization"),
                            tunnelled.header("proxy-authorization"),
                        )
                    )
                    st, hd = _answer(case.origin_script, len(inner) - 1, "WWW-Authenticate")
                    ls = "".join(f"{n}: {v}\r\n" for n, v in hd)
                    conn.send(f"HTTP/1.1 {st} X\r\n{ls}Content-Length: 0\r\n\r\n".encode())
            body = b"" if request.method == "CONNECT" else b"ok"
            head = f"HTTP/1.1 {status} X\r\n{lines}Content-Length: {len(body)}\r\n\r\n"
            conn.send(head.encode() + body)

    results = []
    with ScriptedServer(handler) as proxy:
        c = pycurl.Curl()
        try:
            c.setopt(pycurl.URL, "http://origin.test:8080/p?a=b")
            c.setopt(pycurl.PROXY, f"http://127.0.0.1:{proxy.port}")
            if case.tunnel:
                c.setopt(pycurl.HTTPPROXYTUNNEL, 1)
            if case.proxyuserpwd is not None:
                c.setopt(pycurl.PROXYUSERPWD, case.proxyuserpwd)
            if case.proxyauth is not None:
                c.setopt(pycurl.PROXYAUTH, case.proxyauth)
            if case.userpwd is not None:
                c.setopt(pycurl.USERPWD, case.userpwd)
            if case.httpauth is not None:
                c.setopt(pycurl.HTTPAUTH, case.httpauth)
            c.setopt(pycurl.WRITEDATA, io.BytesIO())
            code = E_OK
            try:
                c.perform()
            except pycurl.error as exc:
                code = exc.args[0]
            results.append(
                (c.getinfo(pycurl.RESPONSE_CODE), c.getinfo(pycurl.PROXYAUTH_AVAIL), code)
            )
        finally:
            c.close()
    return Outcome(sent + inner, results)


def simulate_proxy(case: ProxyCase, cnonce: Callable[[], str]) -> Outcome:
    auth = HttpAuth(cnonce=cnonce)
    host = _credentials(case.userpwd)
    proxy = _credentials(case.proxyuserpwd)
    auth.begin_transfer(
        HTTPAUTH_BASIC if case.httpauth is None else wanted_mask(case.httpauth),
        HTTPAUTH_BASIC if case.proxyauth is None else wanted_mask(case.proxyauth),
    )
    sent: list[Sent] = []
    inner: list[Sent] = []
    method, uri = ("CONNECT", "origin.test:8080") if case.tunnel else ("GET", "/p?a=b")
    while True:
        headers = dict(
            auth.request_headers(
                method, uri, host=host, proxy=proxy, connect=case.tunnel, tunnel=case.tunnel
            )
        )
        sent.append(Sent(method, headers.get("Authorization"), headers.get("Proxy-Authorization")))
        status, response_headers = _answer(case.script, len(sent) - 1, "Proxy-Authenticate")
        decision = auth.on_response(status, response_headers, host=host, proxy=proxy)
        if decision.retry:
            continue
        if not (case.tunnel and status == 200):
            return Outcome(sent, [(status, auth.proxyauth_avail, decision.result)])
        break
    # Inside the tunnel: requests to the origin, without proxy headers.
    while True:
        headers = dict(auth.request_headers("GET", "/p?a=b", host=host, proxy=proxy, tunnel=True))
        inner.append(Sent("GET", headers.get("Authorization"), headers.get("Proxy-Authorization")))
        status, response_headers = _answer(case.origin_script, len(inner) - 1, "WWW-Authenticate")
        decision = auth.on_response(status, response_headers, host=host, proxy=proxy)
        if not decision.retry:
            return Outcome(sent + inner, [(status, auth.proxyauth_avail, decision.result)])


PD = 'Digest realm="p", nonce="pn", qop="auth"'
PROXY_CASES = {
    "forward-basic-at-once": ProxyCase([(407, ["Basic"])]),
    "forward-basic-refused": ProxyCase([(407, ["Basic"])], HTTPAUTH_BASIC),
    "forward-digest": ProxyCase([(407, [PD])], HTTPAUTH_DIGEST),
    "forward-any-prefers-digest": ProxyCase([(407, ['Basic realm="p"', PD])], HTTPAUTH_ANY),
    "forward-no-credentials": ProxyCase([(407, ["Basic"])], HTTPAUTH_ANY, None),
    "forward-bearer-never-for-proxies": ProxyCase([(407, ["Bearer"])], HTTPAUTH_ANY),
    "forward-digest-stale": ProxyCase(
        [(407, [PD]), (407, ['Digest realm="p", nonce="pn2", qop="auth", stale=true'])],
        HTTPAUTH_DIGEST,
    ),
    "forward-proxy-and-origin": ProxyCase(
        [(407, [PD])], HTTPAUTH_DIGEST, userpwd=b"u:p", httpauth=HTTPAUTH_BASIC
    ),
    "tunnel-digest-uri-is-authority": ProxyCase([(407, [PD])], HTTPAUTH_DIGEST, tunnel=True),
    "tunnel-basic": ProxyCase([(407, ["Basic"])], HTTPAUTH_ANY, tunnel=True),
    "tunnel-origin-basic-not-on-connect": ProxyCase(
        [], None, tunnel=True, userpwd=b"u:p", origin_script=[(401, ["Basic"])]
    ),
    "tunnel-origin-digest": ProxyCase(
        [(407, [PD])],
        HTTPAUTH_DIGEST,
        tunnel=True,
        userpwd=b"u:p",
        httpauth=HTTPAUTH_DIGEST,
        origin_script=[(401, [D])],
    ),
}


@pytest.mark.parametrize("name", list(PROXY_CASES))
def test_same_proxy_requests_as_libcurl(name: str) -> None:
    pycurl = pytest.importorskip("pycurl")
    case = PROXY_CASES[name]
    real = run_pycurl_proxy(pycurl, case)
    assert simulate_proxy(case, _cnonce_feed(real)) == real


def test_connect_uses_up_a_digest_nonce_count() -> None:
    """libcurl computes the origin's Digest answer for a CONNECT and drops it (checked)."""
    auth = HttpAuth(cnonce=lambda: "c")
    host, proxy = Credentials(b"u", b"p"), Credentials(b"pu", b"pp")
    auth.begin_transfer(HTTPAUTH_DIGEST, HTTPAUTH_BASIC)
    assert not auth.host.input_challenge(D)
    first = auth.request_headers("GET", "/p", host=host, proxy=proxy, tunnel=True)
    assert "nc=00000001" in dict(first)["Authorization"]
    connect = auth.request_headers(
        "CONNECT", "h:80", host=host, proxy=proxy, connect=True, tunnel=True
    )
    assert [name for name, _ in connect] == ["Proxy-Authorization"]
    after = auth.request_headers("GET", "/p", host=host, proxy=proxy, tunnel=True)
    assert "nc=00000003" in dict(after)["Authorization"]
