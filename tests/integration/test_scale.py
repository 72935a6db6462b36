"""Many transfers at once over loopback: one failing transfer never disturbs the others,
FAILONERROR, 1,000 transfers through the selectors driver with a connection cap, and 1,000
keep-alive requests against nginx.

Run on purecurl and the real pycurl (fixture `mod`) unless said otherwise.
"""

from __future__ import annotations

import hashlib
from types import ModuleType

import pytest

from tests.integration._util import fetch, free_port, make_curl, run_multi
from tests.nginx import FILES, Nginx
from tests.servers import (
    HttpServer,
    Response,
    ServerConnection,
    ServerFactory,
    pattern_bytes,
)


def test_failures_do_not_disturb_others(mod: ModuleType, scripted: ServerFactory) -> None:
    """Rule 23 / issue 2 ("an error ends only that transfer"): 50 healthy transfers on one multi
    alongside a refused connect (7), a connection reset mid-body (56) and a stalled server hit
    by TIMEOUT_MS (28) all complete intact."""
    srv = scripted.http({"/stall": Response(body=b"late", delay=5.0)})

    def reset_mid_body(conn: ServerConnection) -> None:
        if conn.read_request() is not None:
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 1000)
            conn.reset()

    broken = scripted(reset_mid_body)
    healthy = [make_curl(mod, srv.url(f"/bytes/{1000 * i + 7}"))[0] for i in range(50)]
    failing = [
        make_curl(mod, f"http://127.0.0.1:{free_port()}/")[0],
        make_curl(mod, broken.url("/"))[0],
        make_curl(mod, srv.url("/stall"), [("TIMEOUT_MS", 300)])[0],
    ]
    handles = healthy[:25] + failing + healthy[25:]
    try:
        run_multi(mod, handles)
    finally:
        for c in handles:
            c.close()
    for i, c in enumerate(healthy):
        assert (c.outcome.code, c.outcome.body) == (0, pattern_bytes(1000 * i + 7))
    assert [c.outcome.code for c in failing] == [7, 56, 28]


def test_failonerror(mod: ModuleType, server: HttpServer) -> None:
    """FAILONERROR: a response code >= 400 ends the transfer with 22, "The requested URL
    returned error: 404", and no body is delivered."""
    out = fetch(mod, server.url("/notfound"), [("FAILONERROR", 1)])
    assert (out.code, out.message, out.body) == (22, "The requested URL returned error: 404", b"")
    assert out.response_code == 404


def test_failonerror_off_delivers_error_body(mod: ModuleType, server: HttpServer) -> None:
    """Without FAILONERROR a 404 is a successful transfer with the server's body."""
    out = fetch(mod, server.url("/notfound"))
    assert (out.code, out.body, out.response_code) == (0, b"not found\n", 404)


@pytest.mark.slow
def test_thousand_transfers_through_selector_driver(mod: ModuleType, server: HttpServer) -> None:
    """1,000 transfers on one multi through `purecurl.drivers.selector.run`, at most 64 at once
    (M_MAX_TOTAL_CONNECTIONS=64, rule 25): every one is a 200 with its exact body, and the
    server never saw more than 64 connections."""
    m = mod.CurlMulti()
    m.setopt(mod.M_MAX_TOTAL_CONNECTIONS, 64)
    sizes = [(i * 7919) % 70000 for i in range(1000)]
    handles = [make_curl(mod, server.url(f"/bytes/{n}"))[0] for n in sizes]
    try:
        outs = run_multi(mod, handles, multi=m, timeout=60)
    finally:
        for c in handles:
            c.close()
        m.close()
    assert [o.code for o in outs] == [0] * 1000
    assert [o.response_code for o in outs] == [200] * 1000
    for n, o in zip(sizes, outs, strict=True):
        assert o.body == pattern_bytes(n)
    assert len(server.requests) == 1000
    assert server.max_concurrent <= 64
    assert server.connections_accepted <= 64
    assert sum(o.num_connects for o in outs) == server.connections_accepted


@pytest.mark.slow
def test_thousand_keepalive_requests_nginx(mod: ModuleType, nginx: Nginx) -> None:
    """1,000 requests against nginx (keep-alive) on one multi with M_MAX_HOST_CONNECTIONS=8:
    bodies intact, and no more than 8 connections were ever made (NUM_CONNECTS summed)."""
    paths = ["/128", "/1k", "/64k"]
    urls = [nginx.url("/1m" if i % 100 == 0 else paths[i % 3]) for i in range(1000)]
    m = mod.CurlMulti()
    m.setopt(mod.M_MAX_HOST_CONNECTIONS, 8)
    handles = [make_curl(mod, url)[0] for url in urls]
    try:
        outs = run_multi(mod, handles, multi=m, timeout=60)
    finally:
        for c in handles:
            c.close()
        m.close()
    digests = {p: hashlib.sha256(Nginx.expected_body(p)).digest() for p in FILES}
    for url, o in zip(urls, outs, strict=True):
        path = url[url.rindex("/") :]
        assert (o.code, o.response_code) == (0, 200)
        assert hashlib.sha256(o.body).digest() == digests[path]
    assert 1 <= sum(o.num_connects for o in outs) <= 8


def test_keepalive_nginx_one_handle(mod: ModuleType, nginx: Nginx) -> None:
    """100 sequential performs on one handle against nginx use one connection."""
    c, out = make_curl(mod, nginx.url("/1k"))
    connects = 0
    try:
        for _ in range(100):
            out.chunks.clear()
            c.perform()
            assert out.body == Nginx.expected_body("/1k")
            connects += c.getinfo(mod.NUM_CONNECTS)
    finally:
        c.close()
    assert connects == 1
