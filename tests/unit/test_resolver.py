"""Resolver, DNS cache, CURLOPT_RESOLVE and CURLOPT_CONNECT_TO (no network: fake getaddrinfo)."""

from __future__ import annotations

import os
import select
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from purecurl._codes import E_COULDNT_RESOLVE_HOST, E_SETOPT_OPTION_SYNTAX
from purecurl._errors import CurlError
from purecurl.transport.resolver import (
    Address,
    DnsCache,
    Lookup,
    ResolveEntry,
    Resolver,
    connect_to_target,
    numeric_address,
    parse_connect_to,
    parse_resolve_entries,
)

V4 = socket.AF_INET
V6 = socket.AF_INET6
ANY = socket.AF_UNSPEC


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[None]:
    fds, threads = _fds(), threading.active_count()
    yield
    deadline = time.monotonic() + 2.0
    while threading.active_count() > threads and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() == threads
    assert _fds() == fds


class FakeDns:
    """Stands in for socket.getaddrinfo: answers from a table, can hold answers back."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.calls: list[tuple[str, int, int]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Semaphore(0)

    def __call__(self, host: str, port: int, family: int = 0, *args: Any) -> list[Any]:
        self.calls.append((host, port, family))
        self.entered.release()
        assert self.gate.wait(5)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        out: list[Any] = []
        for ip in self.table[host]:
            fam = V6 if ":" in ip else V4
            if family in (ANY, fam):
                sa = (ip, port, 0, 0) if fam == V6 else (ip, port)
                out.append((fam, socket.SOCK_STREAM, 6, "", sa))
        return out


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    fake = FakeDns({"example.test": ["192.0.2.7", "2001:db8::7"], "v4.test": ["192.0.2.4"]})
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


@pytest.fixture
def resolver() -> Iterator[Resolver]:
    r = Resolver(idle_timeout=0.05)
    yield r
    r.close()


def _readable(fd: int | None, timeout: float) -> bool:
    assert fd is not None
    r, _w, _x = select.select([fd], [], [], timeout)
    return bool(r)


def _wait_done(r: Resolver, timeout: float = 2.0) -> list[Lookup]:
    """Wait for the wake-up fd and drain until something finished (a stray wake-up byte,
    written after the previous drain took its results, is allowed to cost one empty drain)."""
    end = time.monotonic() + timeout
    while True:
        assert _readable(r.wakeup_fd, max(0.0, end - time.monotonic()))
        done = r.drain(now=100.0)
        if done or r.pending == 0:
            return done


# --- immediate answers ----------------------------------------------------------------------


def test_numeric_ipv4_is_immediate(resolver: Resolver) -> None:
    assert resolver.lookup("127.0.0.1", 80, ANY, 0.0) == [Address(V4, ("127.0.0.1", 80))]
    assert resolver.wakeup_fd is None  # no thread, no socketpair


def test_numeric_ipv6_with_and_without_brackets(resolver: Resolver) -> None:
    want = [Address(V6, ("::1", 8080, 0, 0))]
    assert resolver.lookup("::1", 8080, ANY, 0.0) == want
    assert resolver.lookup("[::1]", 8080, ANY, 0.0) == want
    assert numeric_address("not-an-ip", 1) is None
    assert numeric_address("127.1", 1) is None  # inet_pton rules, like Curl_is_ipaddr


def test_numeric_of_the_wrong_family_fails(resolver: Resolver) -> None:
    with pytest.raises(CurlError) as info:
        resolver.lookup("127.0.0.1", 80, V6, 0.0)
    assert info.value.code == E_COULDNT_RESOLVE_HOST
    assert info.value.message == "Could not resolve host: 127.0.0.1"


def test_localhost_without_dns_ipv6_first(resolver: Resolver, dns: FakeDns) -> None:
    """lib/hostip.c get_localhost: ::1 then 127.0.0.1, also for *.localhost."""
    addrs = resolver.lookup("localhost", 80, ANY, 0.0)
    assert isinstance(addrs, list)
    assert [a.ip for a in addrs] == (["::1", "127.0.0.1"] if socket.has_ipv6 else ["127.0.0.1"])
    only4 = resolver.lookup("api.LOCALHOST", 80, V4, 0.0)
    assert only4 == [Address(V4, ("127.0.0.1", 80))]
    assert dns.calls == []


def test_onion_names_are_refused(resolver: Resolver, dns: FakeDns) -> None:
    """RFC 7686: .onion never reaches the DNS."""
    with pytest.raises(CurlError) as info:
        resolver.lookup("abc.onion", 80, ANY, 0.0)
    assert info.value.code == E_COULDNT_RESOLVE_HOST
    assert dns.calls == []


# --- threaded lookups -----------------------------------------------------------------------


def test_threaded_lookup_wakes_and_drains(resolver: Resolver, dns: FakeDns) -> None:
    dns.gate.clear()
    pending = resolver.lookup("example.test", 443, ANY, 10.0)
    assert isinstance(pending, Lookup)
    assert not pending.done
    assert resolver.pending == 1
    assert resolver.wakeup_fd is not None
    assert not _readable(resolver.wakeup_fd, 0.05)  # nothing finished yet
    assert resolver.drain() == []
    dns.gate.set()
    done = _wait_done(resolver)
    assert done == [pending]
    assert pending.done and pending.error is None
    assert [a.ip for a in pending.addresses] == ["192.0.2.7", "2001:db8::7"]
    assert resolver.pending == 0
    # drained: the wake-up fd is quiet again (an undrained fd spins the loop)
    assert not _readable(resolver.wakeup_fd, 0)
    # and the answer is cached
    again = resolver.lookup("EXAMPLE.test", 443, ANY, 20.0)
    assert again == pending.addresses
    assert len(dns.calls) == 1


def test_family_filter_is_passed_to_getaddrinfo(resolver: Resolver, dns: FakeDns) -> None:
    pending = resolver.lookup("example.test", 80, V6, 0.0)
    assert isinstance(pending, Lookup)
    _wait_done(resolver)
    assert [a.ip for a in pending.addresses] == ["2001:db8::7"]
    assert dns.calls == [("example.test", 80, V6)]


def test_failed_lookup_message(resolver: Resolver, dns: FakeDns) -> None:
    pending = resolver.lookup("nowhere.test", 80, ANY, 0.0)
    assert isinstance(pending, Lookup)
    assert _wait_done(resolver) == [pending]
    assert pending.error is not None
    assert pending.error.code == E_COULDNT_RESOLVE_HOST
    assert str(pending.error) == "Could not resolve host: nowhere.test"
    assert isinstance(pending.error.__cause__, socket.gaierror)
    assert pending.addresses == []


def test_concurrent_lookups_share_one_job(resolver: Resolver, dns: FakeDns) -> None:
    dns.gate.clear()
    a = resolver.lookup("example.test", 80, ANY, 0.0)
    b = resolver.lookup("example.test", 80, ANY, 0.0)
    assert isinstance(a, Lookup) and isinstance(b, Lookup) and a is not b
    assert resolver.pending == 2
    dns.gate.set()
    assert set(_wait_done(resolver)) == {a, b}
    assert len(dns.calls) == 1
    assert a.addresses == b.addresses


def test_cancel_keeps_the_result_for_the_cache(resolver: Resolver, dns: FakeDns) -> None:
    dns.gate.clear()
    a = resolver.lookup("example.test", 80, ANY, 0.0)
    b = resolver.lookup("example.test", 80, ANY, 0.0)
    assert isinstance(a, Lookup) and isinstance(b, Lookup)
    resolver.cancel(a)
    resolver.cancel(a)  # twice is harmless
    assert resolver.pending == 1
    dns.gate.set()
    assert _wait_done(resolver) == [b]
    assert not a.done
    c = resolver.lookup("v4.test", 80, ANY, 0.0)
    assert isinstance(c, Lookup)
    resolver.cancel(c)
    assert resolver.pending == 0
    end = time.monotonic() + 2
    while resolver.cache.get("v4.test", 80, 0.0) is None and time.monotonic() < end:
        assert _readable(resolver.wakeup_fd, 1.0)
        assert resolver.drain(now=0.0) == []  # nobody is waiting for it any more
    assert resolver.lookup("v4.test", 80, ANY, 1.0) == [Address(V4, ("192.0.2.4", 80))]


def test_worker_threads_are_bounded_and_exit_when_idle(dns: FakeDns) -> None:
    r = Resolver(max_workers=2, idle_timeout=0.05)
    try:
        dns.gate.clear()
        names = [f"h{i}.test" for i in range(5)]
        dns.table.update({n: ["192.0.2.1"] for n in names})
        lookups = [r.lookup(n, 80, ANY, 0.0) for n in names]
        assert r.threads == 2
        dns.gate.set()
        got: list[Lookup] = []
        deadline = time.monotonic() + 3
        while len(got) < 5 and time.monotonic() < deadline:
            if _readable(r.wakeup_fd, 0.5):
                got += r.drain()
        assert set(got) == set(lookups)
        deadline = time.monotonic() + 3
        while r.threads and time.monotonic() < deadline:
            time.sleep(0.01)
        assert r.threads == 0
        # a new lookup after the pool emptied starts a thread again
        n = r.lookup("example.test", 1, ANY, 0.0)
        assert isinstance(n, Lookup)
        assert _wait_done(r) == [n]
    finally:
        r.close()


def test_close_joins_threads_and_closes_fds(dns: FakeDns) -> None:
    threads, fds = threading.active_count(), _fds()
    r = Resolver()
    dns.gate.clear()
    pending = r.lookup("example.test", 80, ANY, 0.0)
    assert isinstance(pending, Lookup)
    assert dns.entered.acquire(timeout=2)
    assert threading.active_count() == threads + 1
    assert _fds() == fds + 2
    dns.gate.set()  # let the stuck getaddrinfo return so the join finishes
    r.close()
    r.close()  # idempotent
    assert threading.active_count() == threads
    assert _fds() == fds
    assert r.wakeup_fd is None
    assert r.pending == 0
    assert r.drain() == []
    with pytest.raises(CurlError):
        r.lookup("v4.test", 80, ANY, 0.0)


def test_repr_summarises_state(resolver: Resolver) -> None:
    assert repr(resolver) == "<Resolver pending=0 jobs=0 threads=0 cache=0>"


# --- the cache ------------------------------------------------------------------------------

A1 = [Address(V4, ("192.0.2.1", 80))]


def test_cache_expiry_with_fake_now() -> None:
    """CURLOPT_DNS_CACHE_TIMEOUT: stale when age >= timeout; 0 disables; -1 forever."""
    c = DnsCache()
    c.put("h", 80, A1, now=100.0)
    assert c.get("h", 80, 159.9) == A1
    assert c.get("h", 80, 159.9, max_age=-1) == A1
    assert c.get("h", 80, 100.0, max_age=0) is None  # 0: no reuse at all (and entry dropped)
    c.put("h", 80, A1, now=100.0)
    assert c.get("h", 80, 1e9, max_age=-1) == A1
    assert c.get("h", 80, 160.0) is None  # default 60 s
    assert len(c) == 0


def test_cache_family_rules() -> None:
    both = [Address(V4, ("192.0.2.1", 80)), Address(V6, ("2001:db8::1", 80, 0, 0))]
    c = DnsCache()
    c.put("h", 80, both, 0.0)
    assert c.get("h", 80, 1.0, V6) == both[1:]
    c.put("v4only", 80, both[:1], 0.0, family=V4)
    assert c.get("v4only", 80, 1.0, ANY) is None  # resolved for v4 only: not an answer for any
    assert c.get("v4only", 80, 1.0, V6) is None
    assert c.get("v4only", 80, 1.0, V4) == both[:1]


def test_cache_prune_and_repr() -> None:
    c = DnsCache()
    c.put("a", 1, A1, 0.0)
    c.put("b", 1, A1, 50.0)
    c.put("p", 1, A1, 0.0, permanent=True)
    assert c.prune(70.0) == 1
    assert repr(c) == "<DnsCache entries=2 permanent=1>"


# --- CURLOPT_RESOLVE ------------------------------------------------------------------------


def test_parse_resolve_entries() -> None:
    got = parse_resolve_entries(
        [
            b"example.com:443:127.0.0.1",
            "+Example.org:80:[::1],192.0.2.1",
            b"-gone.test:8080",
            b"[::1]:80:127.0.0.2",
            b"*:443:192.0.2.9",
            b"x.test:80:1.2.3.4,,5.6.7.8",
        ]
    )
    assert got == [
        ResolveEntry("example.com", 443, (Address(V4, ("127.0.0.1", 443)),)),
        ResolveEntry(
            "Example.org",
            80,
            (Address(V6, ("::1", 80, 0, 0)), Address(V4, ("192.0.2.1", 80))),
            permanent=False,
        ),
        ResolveEntry("gone.test", 8080, (), remove=True),
        ResolveEntry("::1", 80, (Address(V4, ("127.0.0.2", 80)),)),
        ResolveEntry("*", 443, (Address(V4, ("192.0.2.9", 443)),)),
        ResolveEntry("x.test", 80, (Address(V4, ("1.2.3.4", 80)), Address(V4, ("5.6.7.8", 80)))),
    ]


@pytest.mark.parametrize("bad", ["-nohost", "-:80", "-h:port", "-[::1:80"])
def test_malformed_removal_is_skipped(bad: str) -> None:
    assert parse_resolve_entries([bad]) == []


def test_add_without_host_is_skipped() -> None:
    assert parse_resolve_entries([":80:127.0.0.1", "justaname"]) == []


@pytest.mark.parametrize(
    "bad", ["h:99999:127.0.0.1", "h:80", "h:80:", "h:80:not-an-ip", "h:x:1.2.3.4", "h:80:[::1"]
)
def test_malformed_add_fails_like_libcurl_8(bad: str) -> None:
    """libcurl 8.x Curl_loadhostpairs: CURLE_SETOPT_OPTION_SYNTAX, not a silent skip."""
    with pytest.raises(CurlError) as info:
        parse_resolve_entries([bad])
    assert info.value.code == E_SETOPT_OPTION_SYNTAX
    assert info.value.message == f"Couldn't parse CURLOPT_RESOLVE entry '{bad}'"


def test_resolve_overrides_dns_and_localhost(resolver: Resolver, dns: FakeDns) -> None:
    entries = parse_resolve_entries(
        ["example.test:80:192.0.2.99", "localhost:80:127.0.0.5", "+soon.test:80:192.0.2.1"]
    )
    resolver.cache.load(entries, now=0.0)
    assert resolver.lookup("example.test", 80, ANY, 1e6) == [Address(V4, ("192.0.2.99", 80))]
    assert resolver.lookup("localhost", 80, ANY, 1e6) == [Address(V4, ("127.0.0.5", 80))]
    # the "+" entry ages like a resolved name
    assert resolver.lookup("soon.test", 80, ANY, 59.0) == [Address(V4, ("192.0.2.1", 80))]
    assert isinstance(resolver.lookup("soon.test", 80, ANY, 60.0), Lookup)
    resolver.cache.load(parse_resolve_entries(["-example.test:80"]), now=0.0)
    assert isinstance(resolver.lookup("example.test", 80, ANY, 0.0), Lookup)
    _wait_done(resolver)
    assert dns.calls[0][0] == "soon.test"


def test_wildcard_resolve_entry() -> None:
    c = DnsCache()
    c.load(parse_resolve_entries(["*:443:192.0.2.9"]), now=0.0)
    assert c.get("anything.test", 443, 1e9) == [Address(V4, ("192.0.2.9", 443))]
    assert c.get("anything.test", 80, 0.0) is None


# --- CURLOPT_CONNECT_TO ---------------------------------------------------------------------


def test_connect_to_rules() -> None:
    rules = parse_connect_to(
        [
            b"example.com:443:backend.test:8443",
            "::other.test:",  # any host, any port -> other.test, port unchanged
        ]
    )
    assert connect_to_target(rules, "EXAMPLE.com", 443) == ("backend.test", 8443)
    assert connect_to_target(rules, "example.com", 80) == ("other.test", 80)
    assert connect_to_target(parse_connect_to(["a.test::", ":80::9090"]), "a.test", 80) == (
        "a.test",
        9090,
    )  # an empty target changes nothing and is passed over
    assert connect_to_target(parse_connect_to(["b.test:80:c.test:1"]), "a.test", 80) is None


def test_connect_to_ipv6() -> None:
    rules = parse_connect_to(["[::1]:80:[fe80::1%25eth0]:81"])
    assert connect_to_target(rules, "[::1]", 80) == ("fe80::1%eth0", 81)
    assert connect_to_target(rules, "::1", 80) == ("fe80::1%eth0", 81)


def test_connect_to_bad_port_fails_only_when_it_matches() -> None:
    rules = parse_connect_to(["a.test:80:b.test:http"])
    assert connect_to_target(rules, "other.test", 80) is None
    with pytest.raises(CurlError) as info:
        connect_to_target(rules, "a.test", 80)
    assert info.value.code == E_SETOPT_OPTION_SYNTAX
    assert info.value.message == "No valid port number in connect to host string (http)"
