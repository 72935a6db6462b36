"""HTTPS through the engine, on purecurl and the real pycurl alike: verification, client
certificates, pinning, session reuse, getinfo, the multi_socket interest during a handshake,
and HTTPS through a CONNECT tunnel. The TLS filter itself is tested in
tests/integration/test_tls_filter.py.
"""

from __future__ import annotations

import base64
import hashlib
import select
import ssl
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.integration._util import fetch, make_curl, run_multi
from tests.proxy_servers import HttpProxy
from tests.servers import ScriptedServer, ServerConnection
from tests.tls_certs import Pki
from tests.tls_servers import TlsHttpServer, server_context


@pytest.fixture
def https(pki: Pki) -> Iterator[TlsHttpServer]:
    server = TlsHttpServer(server_context(pki.server))
    with server:
        yield server


def test_get_verified_with_cainfo(mod: ModuleType, https: TlsHttpServer, pki: Pki) -> None:
    out = fetch(mod, https.url("/bytes/5000"), [("CAINFO", str(pki.ca.cert_pem))])
    assert (out.code, out.response_code, len(out.body)) == (0, 200, 5000)


def test_unknown_ca_is_60_with_openssl_text(
    mod: ModuleType, https: TlsHttpServer, pki: Pki
) -> None:
    out = fetch(mod, https.url("/bytes/10"), [("CAINFO", str(pki.other_ca.cert_pem))])
    assert out.code == mod.E_PEER_FAILED_VERIFICATION
    assert out.message.startswith("SSL certificate OpenSSL verify result: ")
    assert out.body == b""


def test_verify_off_reports_verify_result(mod: ModuleType, https: TlsHttpServer) -> None:
    c, out = make_curl(mod, https.url("/bytes/10"), [("SSL_VERIFYPEER", 0), ("SSL_VERIFYHOST", 0)])
    try:
        c.perform()
        # no trust anchors loaded: the leaf's issuer cannot be found (20)
        assert c.getinfo(mod.SSL_VERIFYRESULT) == 20
        assert c.getinfo(mod.APPCONNECT_TIME) >= c.getinfo(mod.CONNECT_TIME) > 0
    finally:
        c.close()
    assert len(out.body) == 10


def test_wrong_host_is_60(mod: ModuleType, pki: Pki) -> None:
    with TlsHttpServer(server_context(pki.wrong_host)) as server:
        out = fetch(mod, server.url("/bytes/10"), [("CAINFO", str(pki.ca.cert_pem))])
        assert out.code == mod.E_PEER_FAILED_VERIFICATION
        assert "127.0.0.1" in out.message
        # VERIFYHOST off: the chain is good, the name is not looked at
        ok = fetch(
            mod,
            server.url("/bytes/10"),
            [("CAINFO", str(pki.ca.cert_pem)), ("SSL_VERIFYHOST", 0)],
        )
        assert (ok.code, len(ok.body)) == (0, 10)


def test_expired_is_60(mod: ModuleType, pki: Pki) -> None:
    with TlsHttpServer(server_context(pki.expired)) as server:
        out = fetch(mod, server.url("/"), [("CAINFO", str(pki.ca.cert_pem))])
    assert out.code == mod.E_PEER_FAILED_VERIFICATION
    assert "expired" in out.message


def test_missing_cafile_is_77(mod: ModuleType, https: TlsHttpServer, pki: Pki) -> None:
    missing = str(pki.directory / "nope.pem")
    out = fetch(mod, https.url("/"), [("CAINFO", missing)])
    assert out.code == mod.E_SSL_CACERT_BADFILE
    assert missing in out.message


def test_capath(mod: ModuleType, https: TlsHttpServer, pki: Pki) -> None:
    # CAINFO unset (None) so that the directory alone is the trust store
    out = fetch(mod, https.url("/bytes/3"), [("CAINFO", None), ("CAPATH", str(pki.capath))])
    assert (out.code, len(out.body)) == (0, 3)


def test_pinned_public_key(mod: ModuleType, https: TlsHttpServer, pki: Pki) -> None:
    good = "sha256//" + base64.b64encode(hashlib.sha256(pki.server.spki_der).digest()).decode()
    bad = "sha256//" + base64.b64encode(hashlib.sha256(b"x").digest()).decode()
    ca = ("CAINFO", str(pki.ca.cert_pem))
    out = fetch(mod, https.url("/bytes/4"), [ca, ("PINNEDPUBLICKEY", f"{bad};{good}")])
    assert out.code == 0
    out = fetch(mod, https.url("/bytes/4"), [ca, ("PINNEDPUBLICKEY", bad)])
    assert out.code == mod.E_SSL_PINNEDPUBKEYNOTMATCH


def test_client_certificate(mod: ModuleType, pki: Pki) -> None:
    ctx = server_context(pki.server, client_ca=pki.client_ca)
    with TlsHttpServer(ctx) as server:
        opts: list[tuple[str, Any]] = [
            ("CAINFO", str(pki.ca.cert_pem)),
            ("SSLCERT", str(pki.client.cert_pem)),
            ("SSLKEY", str(pki.client.key_pem)),
        ]
        out = fetch(mod, server.url("/bytes/7"), opts)
        assert (out.code, len(out.body)) == (0, 7)
        assert server.sessions[-1].client_cert_der == pki.client.cert_der


def test_bad_client_certificate_file_is_58(mod: ModuleType, https: TlsHttpServer, pki: Pki) -> None:
    out = fetch(
        mod,
        https.url("/"),
        [("CAINFO", str(pki.ca.cert_pem)), ("SSLCERT", str(pki.bad_file))],
    )
    assert out.code == mod.E_SSL_CERTPROBLEM


def test_tls_version_range(mod: ModuleType, pki: Pki) -> None:
    ctx = server_context(pki.server, maximum=ssl.TLSVersion.TLSv1_2)
    with TlsHttpServer(ctx) as server:
        ca = ("CAINFO", str(pki.ca.cert_pem))
        out = fetch(mod, server.url("/bytes/2"), [ca])
        assert out.code == 0
        assert server.sessions[-1].version == "TLSv1.2"
        out = fetch(mod, server.url("/bytes/2"), [ca, ("SSLVERSION", mod.SSLVERSION_TLSv1_3)])
        assert out.code == mod.E_SSL_CONNECT_ERROR


def test_connection_reused_and_session_resumed(
    mod: ModuleType, https: TlsHttpServer, pki: Pki
) -> None:
    c, out = make_curl(mod, https.url("/bytes/10"), [("CAINFO", str(pki.ca.cert_pem))])
    try:
        c.perform()
        c.perform()
        assert c.getinfo(mod.NUM_CONNECTS) == 0  # the second one reused the connection
        c.setopt(mod.FRESH_CONNECT, 1)
        c.perform()
        assert c.getinfo(mod.NUM_CONNECTS) == 1
    finally:
        c.close()
    assert [s.session_reused for s in https.sessions] == [False, True]
    assert len(out.body) == 30


def test_certinfo(mod: ModuleType, https: TlsHttpServer, pki: Pki) -> None:
    c, _ = make_curl(mod, https.url("/"), [("CAINFO", str(pki.ca.cert_pem)), ("OPT_CERTINFO", 1)])
    try:
        c.perform()
        info = c.getinfo(mod.INFO_CERTINFO)
    finally:
        c.close()
    assert info, "no certificates"
    leaf = dict(info[0])
    assert "CN = localhost" in leaf["Subject"] or "CN=localhost" in leaf["Subject"]
    assert leaf["Cert"].startswith("-----BEGIN CERTIFICATE-----")


def test_many_https_transfers_on_one_multi(mod: ModuleType, https: TlsHttpServer, pki: Pki) -> None:
    handles = [
        make_curl(mod, https.url(f"/bytes/{1000 * (i + 1)}"), [("CAINFO", str(pki.ca.cert_pem))])[0]
        for i in range(8)
    ]
    try:
        outs = run_multi(mod, handles)
    finally:
        for c in handles:
            c.close()
    assert [(o.code, len(o.body)) for o in outs] == [(0, 1000 * (i + 1)) for i in range(8)]


def test_https_through_connect_tunnel(mod: ModuleType, https: TlsHttpServer, pki: Pki) -> None:
    with HttpProxy() as proxy:
        c, out = make_curl(
            mod,
            https.url("/bytes/100"),
            [("CAINFO", str(pki.ca.cert_pem)), ("PROXY", f"http://127.0.0.1:{proxy.port}")],
        )
        try:
            c.perform()
            assert c.getinfo(mod.HTTP_CONNECTCODE) == 200
            assert c.getinfo(mod.RESPONSE_CODE) == 200
        finally:
            c.close()
        assert proxy.requests[0].method == "CONNECT"
    assert len(out.body) == 100
    assert out.headers[0].startswith(b"HTTP/1.1 200 Connection established")


def _silent(conn: ServerConnection) -> None:
    """Accept TCP, say nothing: the TLS handshake never gets an answer."""
    conn.read_request()


def test_connecttimeout_covers_the_handshake(mod: ModuleType) -> None:
    with ScriptedServer(_silent) as server:
        out = fetch(mod, f"https://127.0.0.1:{server.port}/", [("CONNECTTIMEOUT_MS", 300)])
    assert out.code == mod.E_OPERATION_TIMEDOUT
    assert out.message.startswith("SSL connection timeout") or "timed out" in out.message


def test_handshake_interest_on_one_socket(pure: ModuleType, https: TlsHttpServer, pki: Pki) -> None:
    """While the handshake runs, the socket callback watches the one connection fd, for IN or
    OUT as OpenSSL asks, and REMOVE comes once at the end (SEMANTICS rules 7-10)."""
    calls: list[tuple[int, int]] = []
    watched: dict[int, int] = {}
    timer = [-1]

    def on_socket(what: int, fd: int, multi: Any, sp: Any) -> None:
        calls.append((what, fd))
        if what == pure.POLL_REMOVE:
            watched.pop(fd, None)
        else:
            watched[fd] = what

    m = pure.CurlMulti()
    m.setopt(pure.M_SOCKETFUNCTION, on_socket)
    m.setopt(pure.M_TIMERFUNCTION, lambda ms: timer.__setitem__(0, ms))
    c, out = make_curl(pure, https.url("/bytes/10"), [("CAINFO", str(pki.ca.cert_pem))])
    try:
        m.add_handle(c)
        running = 1
        deadline = time.monotonic() + 10
        while running and time.monotonic() < deadline:
            r: list[int] = [fd for fd, w in watched.items() if w & pure.POLL_IN]
            w_: list[int] = [fd for fd, w in watched.items() if w & pure.POLL_OUT]
            wait = 0.1 if timer[0] < 0 else min(0.1, timer[0] / 1000)
            rr, ww, _ = select.select(r, w_, [], wait)
            if not rr and not ww:
                _, running = m.socket_action(pure.SOCKET_TIMEOUT, 0)
            for fd in set(rr) | set(ww):
                mask = (pure.CSELECT_IN if fd in rr else 0) | (pure.CSELECT_OUT if fd in ww else 0)
                _, running = m.socket_action(fd, mask)
        _, ok, err = m.info_read()
        assert [h for h in ok] == [c] and not err
        m.remove_handle(c)
    finally:
        m.close()
        c.close()
    assert out.code == 0 and len(out.body) == 10
    fds = {fd for _, fd in calls}
    assert len(fds) == 1
    assert calls[-1][0] == pure.POLL_REMOVE
    assert [w for w, _ in calls].count(pure.POLL_REMOVE) == 1
    assert pure.POLL_IN in [w for w, _ in calls]


def test_session_shared_between_handles(mod: ModuleType, https: TlsHttpServer, pki: Pki) -> None:
    """CurlShare LOCK_DATA_SSL_SESSION: a second handle (its own connection) resumes the
    session the first one got; without the share it would not."""
    share = mod.CurlShare()
    share.setopt(mod.SH_SHARE, mod.LOCK_DATA_SSL_SESSION)
    opts = [("CAINFO", str(pki.ca.cert_pem)), ("SHARE", share)]
    a, _ = make_curl(mod, https.url("/bytes/10"), opts)
    b, _ = make_curl(mod, https.url("/bytes/10"), opts)
    plain, _ = make_curl(mod, https.url("/bytes/10"), [("CAINFO", str(pki.ca.cert_pem))])
    try:
        a.perform()
        b.perform()
        plain.perform()
    finally:
        a.close()
        b.close()
        plain.close()
        share.close()
    assert [s.session_reused for s in https.sessions] == [False, True, False]
