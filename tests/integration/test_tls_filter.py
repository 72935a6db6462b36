"""The TLS connection filter (purecurl.transport.tls) over real sockets on loopback.

Theory of operation
-------------------
Each test starts TLS servers of tests/tls_servers.py with certificates of tests/tls_certs.py and
drives `TlsHandshake` as the engine does: a non-blocking socket, `select()` on the interest
`want_write` names, `step()` until it returns True.

`CASES` is the specification: a scenario (server, target name, `TlsSettings`) and what libcurl
8.23 answers: CURLcode, message, SSL_VERIFYRESULT. `test_case` holds tls.py to it and
`test_case_libcurl` runs the same scenario through pycurl, so the table is itself checked against
the real libcurl. In the table `{pki}` is the PKI directory, `{pin}` the server key's sha256 pin,
`{openssl}` the OpenSSL of the client under test; a `*_blob` setting names the file to read.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import ssl
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from purecurl._consts import SSLOPT_NO_PARTIALCHAIN as NO_PARTIAL
from purecurl._consts import SSLVERSION_TLSv1_2, SSLVERSION_TLSv1_3
from purecurl._errors import CurlError
from purecurl.transport.tls import (
    SSL_LIBRARY,
    ContextCache,
    TlsSessionCache,
    TlsSettings,
    build_context,
    check_host,
    check_pin,
    parse_certificate,
    recv_error,
    send_error,
    spki_of,
)
from tests.servers import Response, ScriptedServer, ServerConnection, ServerFactory, wait_until
from tests.tls_certs import CLIENT_KEY_PASSWORD, Pki, certificate_der
from tests.tls_servers import (
    DEADLINE,
    TlsClient,
    TlsHttpServer,
    TlsScriptedServer,
    drive,
    exchange,
    send_close_notify,
    server_context,
)

GET = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
HELLO = b"hello\n"
ROUTES = {"/": Response(body=HELLO)}
MAX_TLSv1_2 = SSLVERSION_TLSv1_2 << 16
HAVE_PYCURL = importlib.util.find_spec("pycurl") is not None


@pytest.fixture
def client() -> Iterator[TlsClient]:
    c = TlsClient()
    yield c
    c.close()


def start(scripted: ServerFactory, server: ScriptedServer) -> ScriptedServer:
    scripted.servers.append(server)  # stopped by the `scripted` fixture
    return server.start()


def tls_server(scripted: ServerFactory, ctx: ssl.SSLContext) -> TlsHttpServer:
    server = start(scripted, TlsHttpServer(ctx, ROUTES))
    assert isinstance(server, TlsHttpServer)
    return server


def _plain(action: str) -> ScriptedServer:
    """A server that answers a ClientHello by closing, resetting, or speaking HTTP."""

    def handler(conn: ServerConnection) -> None:
        conn.recv(5)
        if action == "reset":
            conn.reset()
        elif action == "http":
            conn.send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    return ScriptedServer(handler)


def make_server(pki: Pki, spec: str) -> ScriptedServer:
    """ "server", "chained+chain", "server+optional-client", "plain:reset" and the like."""
    if spec.startswith("plain:"):
        return _plain(spec[6:])
    name, _, flag = spec.partition("+")
    ctx = server_context(
        getattr(pki, name),
        chain=flag == "chain",
        client_ca=pki.client_ca if flag.endswith("-client") else None,
        require_client_cert=flag == "required-client",
    )
    return TlsHttpServer(ctx, ROUTES)


# -- the specification, measured against libcurl 8.23 ---------------------------------------

V = "SSL certificate OpenSSL verify result: "
V20 = V + "unable to get local issuer certificate (20)"
NOALT = "SSL: no alternative certificate subject name matches target "
PIN = "SSL: public key does not match pinned public key"
HINT = "(no key found, wrong passphrase, or wrong file format?)"
CERT = "could not load PEM client certificate from "
NO_START = f", OpenSSL error error:0480006C:PEM routines::no start line, {HINT}"
NO_KEY = "unable to set private key file: "
CA = {"cainfo": "{pki}/ca.pem"}
CLIENT = {**CA, "cert": "{pki}/client.pem", "key": "{pki}/client.key"}
ENC = {**CLIENT, "key": "{pki}/client.encrypted.key"}
OPT = "server+optional-client"  # asks for a client certificate, takes none too

# name: (server spec[@target, default localhost], settings, code, message, verify result)
CASES: dict[str, tuple[str, dict[str, Any], int, str, int | None]] = {
    # the chain
    "trusted": ("server", CA, 0, "", 0),
    "unknown-ca": ("server", {"cainfo": "{pki}/other-ca.pem"}, 60, V20, 20),
    "expired": ("expired", CA, 60, V + "certificate has expired (10)", 10),
    "self-signed": ("self_signed", CA, 60, V + "self-signed certificate (18)", 18),
    "chain-sent": ("chained+chain", CA, 0, "", 0),
    "chain-not-sent": ("chained", CA, 60, V20, 20),
    "partial-chain": ("chained+chain", {"cainfo": "{pki}/intermediate.pem"}, 0, "", 0),
    "no-partial-chain": ("chained+chain", {"cainfo": "{pki}/intermediate.pem", "ssl_options":
                         NO_PARTIAL}, 60, V + "unable to get issuer certificate (2)", 2),
    "capath": ("server", {"capath": "{pki}/capath"}, 0, "", 0),
    "capath-missing": ("server", {"capath": "/nonexistent"}, 60, V20, 20),
    "unverified-self-signed": ("self_signed", {"verify_peer": False}, 0, "", 18),
    "unverified-unknown-ca": ("server", {"verify_peer": False}, 0, "", 20),
    # the name, checked with VERIFYPEER off too
    "ip-san": ("server@127.0.0.1", CA, 0, "", 0),
    "name-mismatch": ("wrong_host", CA, 60, NOALT + "hostname 'localhost'", 1),
    "ipv4-mismatch": ("wrong_host@127.0.0.1", CA, 60, NOALT + "IPv4 address '127.0.0.1'", 1),
    "trailing-dot": ("wrong_host@localhost.", CA, 60, NOALT + "hostname 'localhost.'", 1),
    "cn-only": ("cn_only", CA, 0, "", 0),
    "cn-only-ip": ("cn_only@127.0.0.1", CA, 60, "SSL: certificate subject name 'localhost' does"
                   " not match target hostname '127.0.0.1'", 1),
    "unverified-name": ("wrong_host", {"verify_peer": False}, 60, NOALT + "hostname 'localhost'",
                        1),
    "verifyhost-off": ("wrong_host", {**CA, "verify_host": 0}, 0, "", 0),
    # pinned public key
    "pin": ("server", {**CA, "pinned_pubkey": "sha256//{pin}"}, 0, "", 0),
    "pin-list": ("server", {**CA, "pinned_pubkey": "sha256//AAAA;sha256//{pin}"}, 0, "", 0),
    "pin-list-space": ("server", {**CA, "pinned_pubkey": "sha256//AA; sha256//{pin}"}, 90, PIN, 0),
    "pin-list-no-prefix": ("server", {**CA, "pinned_pubkey": "sha256//AA;{pin}"}, 90, PIN, 0),
    "pin-pem-file": ("server", {**CA, "pinned_pubkey": "{pki}/server.pub.pem"}, 0, "", 0),
    "pin-der-file": ("server", {**CA, "pinned_pubkey": "{pki}/server.pub.der"}, 0, "", 0),
    "pin-other-key": ("server", {**CA, "pinned_pubkey": "{pki}/ca.pub.pem"}, 90, PIN, 0),
    "pin-missing-file": ("server", {**CA, "pinned_pubkey": "/nonexistent"}, 90, PIN, 0),
    "pin-unverified": ("server", {"verify_peer": False, "pinned_pubkey": "sha256//A"}, 90, PIN, 20),
    # trust anchors and CRL
    "cainfo-missing": ("server", {"cainfo": "/nonexistent/ca.pem"}, 77,
                       "error adding trust anchors from file: /nonexistent/ca.pem", 1),
    "cainfo-garbage": ("server", {"cainfo": "{pki}/not-a-cert.pem"}, 77,
                       "error adding trust anchors from file: {pki}/not-a-cert.pem", 1),
    "cainfo-empty": ("server", {"cainfo": ""}, 77, "error adding trust anchors from file: ", 1),
    "cainfo-unused": ("server", {"cainfo": "/nonexistent", "verify_peer": False}, 0, "", 20),
    "cainfo-blob": ("server", {"cainfo_blob": "{pki}/ca.pem"}, 0, "", 0),
    "cainfo-blob-garbage": ("server", {"cainfo_blob": "{pki}/not-a-cert.pem"}, 77,
                            "error adding trust anchors from certificate blob: 77", 1),
    "crlfile-missing": ("server", {**CA, "crlfile": "/nonexistent"}, 82,
                        "error loading CRL file: /nonexistent", 1),
    # ciphers and versions: a list for versions out of range is not even parsed
    "ciphers-bad": ("server", {**CA, "cipher_list": "NOPE"}, 59,
                    "failed setting cipher list: NOPE", 1),
    "ciphers-unused": ("server", {**CA, "cipher_list": "NOPE", "sslversion": SSLVERSION_TLSv1_3},
                       0, "", 0),
    "tls13-ciphers-bad": ("server", {**CA, "tls13_ciphers": "NOPE"}, 59,
                          "failed setting TLS 1.3 cipher suite: NOPE", 1),
    "tls13-ciphers-one-known": ("server", {**CA, "tls13_ciphers": "X:TLS_AES_128_GCM_SHA256"},
                                0, "", 0),
    "tls13-ciphers-empty": ("server", {**CA, "tls13_ciphers": ""}, 35, "TLS connect error: "
                            "error:0A0000B5:SSL routines::no ciphers available", 1),
    "tls13-ciphers-unused": ("server", {**CA, "tls13_ciphers": "NOPE", "sslversion": MAX_TLSv1_2},
                             0, "", 0),
    "version-max-below-min": ("server", {**CA, "sslversion": SSLVERSION_TLSv1_3 | MAX_TLSv1_2},
                              35, "CURL_SSLVERSION_MAX incompatible with CURL_SSLVERSION", None),
    # client certificate and key: 58 for the certificate, 43 for the key
    "client-cert": (OPT, CLIENT, 0, "", 0),
    "client-cert-der": (OPT, {**CA, "cert": "{pki}/client.der", "certtype": "DER",
                        "key": "{pki}/client.key.der", "keytype": "DER"}, 0, "", 0),
    "client-key-encrypted": (OPT, {**ENC, "keypasswd": CLIENT_KEY_PASSWORD}, 0, "", 0),
    "client-cert-missing": (OPT, {**CLIENT, "cert": "/nonexistent/c.pem"}, 58, CERT +
                            "/nonexistent/c.pem, OpenSSL error error:80000002:system library::"
                            f"No such file or directory, {HINT}", 1),
    "client-cert-garbage": (OPT, {**CLIENT, "cert": "{pki}/not-a-cert.pem"}, 58,
                            CERT + "{pki}/not-a-cert.pem" + NO_START, 1),
    "client-cert-is-a-key": (OPT, {**CLIENT, "cert": "{pki}/client.key"}, 58,
                             CERT + "{pki}/client.key" + NO_START, 1),
    "client-cert-blob-garbage": (OPT, {**CA, "cert_blob": "{pki}/not-a-cert.pem"}, 58,
                                 CERT + "CURLOPT_SSLCERT_BLOB" + NO_START, 1),
    "client-key-missing": (OPT, {**CLIENT, "key": "/nonexistent/k"}, 43,
                           NO_KEY + "'/nonexistent/k' type PEM", 1),
    "client-key-absent": (OPT, {**CA, "cert": "{pki}/client.pem"}, 43,
                          NO_KEY + "'{pki}/client.pem' type PEM", 1),
    "client-key-mismatch": (OPT, {**CLIENT, "key": "{pki}/server.key"}, 43,
                            NO_KEY + "'{pki}/server.key' type PEM", 1),
    "client-key-bad-password": (OPT, {**ENC, "keypasswd": "nope"}, 43,
                                NO_KEY + "'{pki}/client.encrypted.key' type PEM", 1),
    "client-key-blob-garbage": (OPT, {**CLIENT, "key": None, "key_blob": "{pki}/not-a-cert.pem"},
                                43, NO_KEY + "'(memory blob)' type PEM", 1),
    "client-keytype-as-given": (OPT, {**CLIENT, "key": "/nonexistent", "keytype": "pem"}, 43,
                                NO_KEY + "'/nonexistent' type pem", 1),
    "client-certtype-unknown": (OPT, {**CLIENT, "certtype": "xyz"}, 43,
                                "not supported file type 'xyz' for certificate", 1),
    "client-keytype-unknown": (OPT, {**CLIENT, "keytype": "FOO"}, 43,
                               "not supported file type for private key", 1),
    "client-keytype-p12": (OPT, {**CLIENT, "keytype": "P12"}, 58,
                           "file type P12 for private key not supported", 1),
    "client-certtype-eng": (OPT, {**CLIENT, "certtype": "ENG"}, 58,
                            "crypto engine not set, cannot load certificate", 1),
    "client-cert-required-tls13": ("server+required-client", CA, 56, "OpenSSL SSL_read: "
                                   "{openssl}: error:0A00045C:SSL routines::tlsv13 alert "
                                   "certificate required, errno 0", 0),
    # handshakes the server breaks
    "server-closes": ("plain:close", CA, 35, "TLS connect error: error:0A000126:SSL routines::"
                      "unexpected eof while reading", 1),
    "server-resets": ("plain:reset", CA, 35, "Recv failure: Connection reset by peer", 1),
    "server-speaks-http": ("plain:http", CA, 35, "TLS connect error: error:0A00010B:SSL routines"
                           "::wrong version number", 1),
}  # fmt: skip


def case_settings(pki: Pki, settings: dict[str, Any]) -> TlsSettings:
    values = {}
    for key, value in settings.items():
        if isinstance(value, str):
            value = value.format(pki=pki.directory, pin=pin_of(pki.server.spki_der))
            if key.endswith("_blob"):
                value = Path(value).read_bytes()
        values[key] = value
    return TlsSettings(**values)


def pin_of(spki: bytes) -> str:
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def tls_outcome(
    client: TlsClient, address: tuple[str, int], host: str, s: TlsSettings
) -> tuple[int, str, int]:
    """(code, message, verify result) of a GET through tls.py; 0 and "" on success."""
    hs = None
    try:
        hs = client.start(address, s, host)
        drive(hs)
        data, err = exchange(hs.sock, GET, HELLO)
        if err is not None:
            raise recv_error(err) or AssertionError("close_notify before the answer")
        assert data.endswith(HELLO), data
    except CurlError as exc:
        return exc.code, exc.message, hs.verify_result if hs else 1
    return 0, "", hs.verify_result


_PYCURL_OPTIONS = {
    "verify_peer": "SSL_VERIFYPEER", "verify_host": "SSL_VERIFYHOST", "cainfo": "CAINFO",
    "capath": "CAPATH", "cainfo_blob": "CAINFO_BLOB", "cert": "SSLCERT", "key": "SSLKEY",
    "certtype": "SSLCERTTYPE", "keytype": "SSLKEYTYPE", "keypasswd": "KEYPASSWD",
    "cert_blob": "SSLCERT_BLOB", "key_blob": "SSLKEY_BLOB", "sslversion": "SSLVERSION",
    "cipher_list": "SSL_CIPHER_LIST", "tls13_ciphers": "TLS13_CIPHERS",
    "pinned_pubkey": "PINNEDPUBLICKEY", "crlfile": "CRLFILE", "ssl_options": "SSL_OPTIONS",
}  # fmt: skip


def libcurl_outcome(
    port: int, host: str, s: TlsSettings, certinfo: bool = False
) -> tuple[int, str, int, Any]:
    """(code, message, verify result, certinfo or None) of the same GET through pycurl."""
    pycurl = pytest.importorskip("pycurl")
    curl = pycurl.Curl()
    try:
        curl.setopt(pycurl.URL, f"https://{host}:{port}/")
        curl.setopt(pycurl.RESOLVE, [f"{h}:{port}:127.0.0.1" for h in ("localhost", "localhost.")])
        curl.setopt(pycurl.TIMEOUT, int(DEADLINE))
        curl.setopt(pycurl.WRITEFUNCTION, lambda data: None)
        curl.setopt(pycurl.OPT_CERTINFO, certinfo)
        curl.unsetopt(pycurl.CAINFO)  # no built-in bundle: only what the case names
        for f in fields(TlsSettings):
            value = getattr(s, f.name)
            if f.name in _PYCURL_OPTIONS and value is not None and value != f.default:
                curl.setopt(getattr(pycurl, _PYCURL_OPTIONS[f.name]), value)
        code, message = 0, ""
        try:
            curl.perform()
        except pycurl.error as exc:
            code, message = exc.args
        info = curl.getinfo(pycurl.INFO_CERTINFO) if certinfo else None
        return code, message, curl.getinfo(pycurl.SSL_VERIFYRESULT), info
    finally:
        curl.close()


@pytest.mark.parametrize("name", CASES)
def test_case(name: str, pki: Pki, scripted: ServerFactory, client: TlsClient) -> None:
    spec, settings, code, message, verify = CASES[name]
    spec, _, host = spec.partition("@")
    server = start(scripted, make_server(pki, spec))
    got = tls_outcome(client, server.address, host or "localhost", case_settings(pki, settings))
    assert got[:2] == (code, message.format(pki=pki.directory, openssl=SSL_LIBRARY))
    assert verify is None or got[2] == verify  # None: no handshake, nothing to compare


@pytest.mark.parametrize("name", CASES)
def test_case_libcurl(name: str, pki: Pki, scripted: ServerFactory) -> None:
    pycurl = pytest.importorskip("pycurl")
    spec, settings, code, message, verify = CASES[name]
    spec, _, host = spec.partition("@")
    server = start(scripted, make_server(pki, spec))
    got = libcurl_outcome(server.port, host or "localhost", case_settings(pki, settings))
    openssl = next(v for v in pycurl.version_info()[5].split() if v.startswith("OpenSSL/"))
    assert got[:2] == (code, message.format(pki=pki.directory, openssl=openssl))
    assert verify is None or got[2] == verify


def test_client_certificate_type_der_on_a_pem_file(pki: Pki) -> None:
    # libcurl's OpenSSL detail here is whatever its error queue held first (it varies run to
    # run); the code and the "ASN1" wording are stable.
    with pytest.raises(CurlError) as caught:
        build_context(TlsSettings(cert=str(pki.client.cert_pem), certtype="DER"))
    assert caught.value.code == 58
    assert caught.value.message.startswith(
        f"could not load ASN1 client certificate from {pki.client.cert_pem}, OpenSSL error "
    )


def test_no_passphrase_prompt_for_an_encrypted_key(
    pki: Pki, capfd: pytest.CaptureFixture[str]
) -> None:
    # Without a password OpenSSL asks the terminal (and libcurl lets it): a library must not.
    s = TlsSettings(cert=str(pki.client.cert_pem), key=str(pki.client.key_encrypted_pem))
    with pytest.raises(CurlError) as caught:
        build_context(s)
    assert caught.value.code == 43
    assert "pass phrase" not in capfd.readouterr().err


# -- the handshake itself ---------------------------------------------------------------------


def test_handshake_is_driven_by_socket_readiness(
    pki: Pki, scripted: ServerFactory, client: TlsClient
) -> None:
    server = tls_server(scripted, server_context(pki.server))
    s = TlsSettings(cainfo=str(pki.ca.cert_pem))
    hs = client.start(server.address, s)
    assert hs.sock.gettimeout() == 0.0 and hs.verify_result == 1  # nothing verified yet
    interests = drive(hs)
    # The ClientHello fits the socket buffer: the first wait is for the server's answer.
    assert interests and interests[0] is False
    assert hs.step() is True and hs.want_write is False  # a finished handshake stays finished
    assert (hs.version, hs.verify_result, hs.session_reused) == ("TLSv1.3", 0, False)
    assert "SSL certificate verified via OpenSSL." in hs.log
    assert client.get(hs, HELLO).startswith(b"HTTP/1.1 200")
    assert wait_until(lambda: len(server.sessions) == 1)
    assert server.sessions[0].version == "TLSv1.3"


@pytest.mark.parametrize(
    ("host", "sni"),
    [
        ("localhost", "localhost"),
        ("localhost.", "localhost"),
        ("127.0.0.1", None),
        ("::1", None),
        ("[::1]", None),
        ("a" * 64 + ".localhost", "a" * 64 + ".localhost"),  # IDNA 2003 refuses the label
    ],
)
def test_sni_carries_names_not_addresses(
    host: str, sni: str | None, pki: Pki, scripted: ServerFactory, client: TlsClient
) -> None:
    server = tls_server(scripted, server_context(pki.server))
    client.handshake(server.address, TlsSettings(verify_peer=False, verify_host=0), host)
    assert wait_until(lambda: len(server.sessions) == 1)
    assert server.sessions[0].server_name == sni


@pytest.mark.parametrize(
    ("offered", "served", "selected"),
    [
        (("h2", "http/1.1"), ("h2",), "h2"),
        (("h2", "http/1.1"), ("http/1.1",), "http/1.1"),
        (("http/1.1",), (), None),
    ],
)
def test_alpn(
    offered: tuple[str, ...],
    served: tuple[str, ...],
    selected: str | None,
    pki: Pki,
    scripted: ServerFactory,
    client: TlsClient,
) -> None:
    server = tls_server(scripted, server_context(pki.server, alpn=served))
    hs = client.handshake(server.address, TlsSettings(cainfo=str(pki.ca.cert_pem), alpn=offered))
    assert hs.alpn == selected
    assert hs.log[0] == "ALPN: curl offers " + ",".join(offered)
    accepted = f"ALPN: server accepted {selected}" if selected else "ALPN: server did not agree"
    assert any(line.startswith(accepted) for line in hs.log)
    assert wait_until(lambda: len(server.sessions) == 1)
    assert server.sessions[0].alpn == selected


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_client_certificate_reaches_the_server(
    version: ssl.TLSVersion, pki: Pki, scripted: ServerFactory, client: TlsClient
) -> None:
    ctx = server_context(pki.server, client_ca=pki.client_ca, maximum=version)
    server = tls_server(scripted, ctx)
    s = TlsSettings(
        cainfo=str(pki.ca.cert_pem), cert=str(pki.client.cert_pem), key=str(pki.client.key_pem)
    )
    client.get(client.handshake(server.address, s), HELLO)
    assert wait_until(lambda: len(server.sessions) == 1)
    assert server.sessions[0].client_cert_der == pki.client.cert_der


def test_missing_client_certificate_under_tls12_fails_the_handshake(
    pki: Pki, scripted: ServerFactory, client: TlsClient
) -> None:
    ctx = server_context(pki.server, client_ca=pki.client_ca, maximum=ssl.TLSVersion.TLSv1_2)
    server = tls_server(scripted, ctx)
    with pytest.raises(CurlError) as caught:
        client.handshake(server.address, TlsSettings(cainfo=str(pki.ca.cert_pem)))
    # libcurl 8.23 (OpenSSL 3.6) words the alert "ssl/tls alert", OpenSSL 3.0 "sslv3 alert"
    assert caught.value.code == 35
    assert caught.value.message.startswith("TLS connect error: error:0A000410:SSL routines::")
    assert caught.value.message.endswith(" alert handshake failure")


# -- sessions and contexts --------------------------------------------------------------------


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_session_is_resumed(
    version: ssl.TLSVersion, pki: Pki, scripted: ServerFactory, client: TlsClient
) -> None:
    server = tls_server(scripted, server_context(pki.server, maximum=version))
    s = TlsSettings(cainfo=str(pki.ca.cert_pem))
    ctx, cache = ContextCache().get(s), TlsSessionCache()
    first = client.handshake(server.address, s, ctx=ctx)
    client.get(first, HELLO)  # a TLS 1.3 server's tickets come after the handshake
    cache.put("localhost", server.port, s, first.sock)
    session = cache.get("localhost", server.port, s)
    assert session is not None and len(cache) == 1
    second = client.handshake(server.address, s, ctx=ctx, session=session)
    assert (first.session_reused, second.session_reused) == (False, True)
    assert second.version == version.name.replace("_", ".") and second.verify_result == 0
    assert client.get(second, HELLO).endswith(HELLO)
    assert wait_until(lambda: len(server.sessions) == 2)
    assert [r.session_reused for r in server.sessions] == [False, True]


def test_session_cache_bookkeeping(pki: Pki, scripted: ServerFactory, client: TlsClient) -> None:
    server = tls_server(scripted, server_context(pki.server))
    s = TlsSettings(cainfo=str(pki.ca.cert_pem))
    ctx, cache = build_context(s), TlsSessionCache(max_entries=1)
    hs = client.handshake(server.address, s, ctx=ctx)
    cache.put("localhost", server.port, s, hs.sock)
    assert len(cache) == 0  # TLS 1.3: no ticket before the first read
    client.get(hs, HELLO)
    cache.put("localhost", server.port, s, hs.sock)
    assert cache.get("localhost", server.port, TlsSettings()) is None  # other settings
    assert cache.get("localhost", server.port + 1, s) is None
    cache.put("127.0.0.1", server.port, s, hs.sock)  # evicts the least recently used
    assert len(cache) == 1 and cache.get("localhost", server.port, s) is None
    cache.remove("127.0.0.1", server.port, s)
    hs.sock.close()
    cache.put("localhost", server.port, s, hs.sock)  # a closed socket has nothing to give
    assert len(cache) == 0 and repr(cache) == "<TlsSessionCache sessions=0>"


def test_session_of_another_context_is_not_offered(
    pki: Pki, scripted: ServerFactory, client: TlsClient
) -> None:
    # The old fallback re-wrapped a socket wrap_socket had already detached and closed.
    server = tls_server(scripted, server_context(pki.server, maximum=ssl.TLSVersion.TLSv1_2))
    s = TlsSettings(cainfo=str(pki.ca.cert_pem))
    first = client.handshake(server.address, s)
    assert first.session is not None
    second = client.handshake(server.address, s, session=first.session)  # a new context
    assert second.session_reused is False and second.verify_result == 0
    assert "SSL session not resumable with this context" in second.log


def test_context_cache(pki: Pki, tmp_path: Path) -> None:
    cache = ContextCache()
    ca = str(pki.ca.cert_pem)
    ctx = cache.get(TlsSettings(cainfo=ca))
    assert cache.get(TlsSettings(cainfo=ca)) is ctx  # equal settings, one context
    assert cache.get(TlsSettings(cainfo=ca, alpn=("h2",))) is not ctx
    later = TlsSettings(cainfo=str(tmp_path / "ca.pem"))
    with pytest.raises(CurlError):
        cache.get(later)
    (tmp_path / "ca.pem").write_bytes(pki.ca.cert_pem.read_bytes())
    assert cache.get(later) is cache.get(later)  # a failure is not cached
    assert len(cache) == 3 and repr(cache) == "<ContextCache contexts=3>"


# -- certinfo, end of stream ------------------------------------------------------------------


def test_certinfo(pki: Pki, scripted: ServerFactory, client: TlsClient) -> None:
    server = tls_server(scripted, server_context(pki.server))
    s = TlsSettings(cainfo=str(pki.ca.cert_pem), certinfo=True)
    (ours,) = client.handshake(server.address, s).certinfo()
    cert = x509.load_der_x509_certificate(pki.server.cert_der)
    assert dict(ours) == {
        "Subject": "C = SE, O = purecurl tests, CN = localhost",
        "Issuer": "C = SE, O = purecurl tests, CN = purecurl test CA",
        "Version": "2",
        "Serial Number": f"{cert.serial_number:x}",
        "Signature Algorithm": "ecdsa-with-SHA256",
        "Public Key Algorithm": "id-ecPublicKey",
        "X509v3 Subject Alternative Name": (
            "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"
        ),
        "Start date": f"{cert.not_valid_before_utc:%b %e %H:%M:%S %Y} GMT",
        "Expire date": f"{cert.not_valid_after_utc:%b %e %H:%M:%S %Y} GMT",
        "Signature": "".join(f"{b:02x}:" for b in cert.signature),
        "Cert": pki.server.cert_pem.read_text(),
    }
    if HAVE_PYCURL:  # libcurl shows every extension; ours are a subsequence, value for value
        theirs = libcurl_outcome(server.port, "localhost", s, certinfo=True)[3]
        remaining = iter(theirs[0])
        assert all(pair in remaining for pair in ours)


@pytest.mark.parametrize("notify", [True, False], ids=["close_notify", "eof"])
def test_end_of_stream(notify: bool, pki: Pki, scripted: ServerFactory, client: TlsClient) -> None:
    def handler(conn: ServerConnection) -> None:
        conn.read_request()
        conn.send(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc")
        if notify:
            send_close_notify(conn)

    server = start(scripted, TlsScriptedServer(server_context(pki.server), handler))
    s = TlsSettings(cainfo=str(pki.ca.cert_pem))
    hs = client.handshake(server.address, s)
    data, err = exchange(hs.sock, GET, b"")  # to the end of the stream
    assert data.endswith(b"\r\n\r\nabc")
    eof = f"OpenSSL SSL_read: {SSL_LIBRARY}: error:0A000126:SSL routines::unexpected eof"
    if notify:  # `ssl` reports close_notify as b"" or, on a later read, SSLZeroReturnError
        assert err is None and recv_error(ssl.SSLZeroReturnError()) is None
    else:
        assert err is not None
        failure = recv_error(err)
        assert failure is not None and failure.__cause__ is err
        assert (failure.code, failure.message) == (56, eof + " while reading, errno 0")
        with pytest.raises(OSError) as sent:
            hs.sock.send(b"more")
        assert str(send_error(sent.value)) == "OpenSSL SSL_write: SSL_ERROR_SYSCALL, errno 0"
    if HAVE_PYCURL:  # libcurl reads a close-delimited body the same way
        assert libcurl_outcome(server.port, "localhost", s)[0] == (0 if notify else 56)


def test_socket_errors_during_the_transfer() -> None:
    reset = ConnectionResetError(104, "Connection reset by peer")
    failure = recv_error(reset)
    assert failure is not None and failure.__cause__ is reset
    assert (failure.code, failure.message) == (56, "Recv failure: Connection reset by peer")
    pipe = send_error(BrokenPipeError(32, "Broken pipe"))
    assert (pipe.code, pipe.message) == (55, "Send failure: Broken pipe")


# -- the name rules (libcurl lib/vtls/openssl.c ossl_verifyhost, lib/vtls/hostcheck.c) ------

NAME_RULES = [  # (subject CN, subjectAltNames, target, libcurl's message or None)
    (None, ("*.example.com",), "a.example.com", None),
    (None, ("*.example.com",), "A.Example.COM.", None),  # no case, no trailing dot
    (None, ("*.example.com",), "example.com", NOALT + "hostname 'example.com'"),
    (None, ("*.example.com",), "a.b.example.com", NOALT + "hostname 'a.b.example.com'"),
    (None, ("*.com",), "example.com", NOALT + "hostname 'example.com'"),  # too wide
    (None, ("f*.example.com",), "foo.example.com", NOALT + "hostname 'foo.example.com'"),
    (None, ("a.*.example.com",), "a.b.example.com", NOALT + "hostname 'a.b.example.com'"),
    (None, ("*.0.0.1",), "127.0.0.1", NOALT + "IPv4 address '127.0.0.1'"),
    (None, ("example.com.",), "example.com", None),
    (None, ("127.0.0.1",), "127.0.0.1", None),
    (None, ("localhost",), "127.0.0.1", NOALT + "IPv4 address '127.0.0.1'"),
    (None, ("127.0.0.1",), "localhost", NOALT + "hostname 'localhost'"),  # IP SANs: IPs only
    (None, ("::1",), "[::1]", None),
    (None, ("localhost",), "[::1]", NOALT + "IPv6 address '[::1]'"),
    ("localhost", ("other.example",), "localhost", NOALT + "hostname 'localhost'"),
    ("localhost", (), "LOCALHOST", None),  # the CN only without SANs
    ("*.example.com", (), "a.example.com", None),
    ("127.0.0.1", (), "127.0.0.1", None),
    ("localhost", (), "other", "SSL: certificate subject name 'localhost' does not match"
     " target hostname 'other'"),
    (None, (), "localhost", "SSL: unable to obtain common name from peer certificate"),
]  # fmt: skip


@pytest.mark.parametrize(("cn", "names", "host", "message"), NAME_RULES)
def test_name_rules(cn: str | None, names: tuple[str, ...], host: str, message: str | None) -> None:
    cert = parse_certificate(certificate_der(cn, names))
    if message is None:
        check_host(cert, host)
        return
    with pytest.raises(CurlError) as caught:
        check_host(cert, host)
    assert (caught.value.code, caught.value.message) == (60, message)


def test_pin_files_follow_libcurl(pki: Pki, tmp_path: Path) -> None:
    spki, pem = pki.server.spki_der, pki.server.pubkey_pem.read_bytes()
    check_pin(str(pki.server.pubkey_der), spki)
    (tmp_path / "after-text.pem").write_bytes(b"server key\n" + pem)
    check_pin(str(tmp_path / "after-text.pem"), spki)
    for bad in (b"key: " + pem, pem.replace(b"\n-----END", b"-----END"), pem[:40] + pem[41:]):
        (tmp_path / "bad.pem").write_bytes(bad)  # mid-line BEGIN, END mid-line, bad base64
        with pytest.raises(CurlError) as caught:
            check_pin(str(tmp_path / "bad.pem"), spki)
        assert caught.value.code == 90


def test_parse_certificate(pki: Pki) -> None:
    assert spki_of(pki.server.cert_der) == pki.server.spki_der
    assert parse_certificate(pki.server.cert_der).dns_names == ["localhost"]
    for not_a_certificate in (pki.server.spki_der, pki.server.cert_der[:-1], b"\x30\x00"):
        with pytest.raises(ValueError):
            parse_certificate(not_a_certificate)
