"""Name resolution: CURLOPT_RESOLVE / CONNECT_TO parsing, the DNS cache, threaded lookups.

Theory of operation: `Resolver.lookup` answers at once whatever needs no DNS: a cache hit
(CURLOPT_RESOLVE entries live in the cache), a numeric address, "localhost" and "*.localhost"
(libcurl >= 7.78 answers those itself with ::1 then 127.0.0.1, lib/hostip.c get_localhost).
Anything else becomes a job for a small pool of daemon worker threads that run the blocking
`getaddrinfo`; the caller gets a `Lookup` handle. Threads are created on demand up to
`max_workers` and exit after `idle_timeout` seconds without work. A finished job is put on a
list and one byte is written to a socketpair; the engine watches the read end (`wakeup_fd`,
SEMANTICS rule 12) and calls `drain()`, which empties the socketpair completely (an undrained
wake-up fd spins the loop: a known libcurl trap), moves results into the cache and returns
the finished `Lookup`s. Concurrent lookups of one (host, port, family) share one job; each
caller still gets its own `Lookup`, so one transfer can `cancel` without hurting the others.

Threads touch only job fields and the finished list, under one lock; everything else (cache,
in-flight table, counters) belongs to the engine's thread. Nothing here reads the clock.
"""

from __future__ import annotations

import socket
import threading
from collections import deque
from collections.abc import Iterable
from typing import Any, NamedTuple

from purecurl._codes import E_COULDNT_RESOLVE_HOST, E_SETOPT_OPTION_SYNTAX
from purecurl._errors import CurlError

__all__ = [
    "Address",
    "ConnectTo",
    "DnsCache",
    "Lookup",
    "ResolveEntry",
    "Resolver",
    "connect_to_target",
    "numeric_address",
    "parse_connect_to",
    "parse_resolve_entries",
]

_AF_UNSPEC = socket.AF_UNSPEC
_AF_INET = socket.AF_INET
_AF_INET6 = socket.AF_INET6


class Address(NamedTuple):
    """One address to connect to: `family` and the `sockaddr` that `socket.connect` takes."""

    family: int
    sockaddr: tuple[Any, ...]

    @property
    def ip(self) -> str:
        """The numeric host part ("127.0.0.1", "::1"), as CURLINFO_PRIMARY_IP shows it."""
        return str(self.sockaddr[0])


def _v4(ip: str, port: int) -> Address:
    return Address(_AF_INET, (ip, port))


def _v6(ip: str, port: int) -> Address:
    return Address(_AF_INET6, (ip, port, 0, 0))


def numeric_address(host: str, port: int) -> Address | None:
    """Return the `Address` for a numeric IPv4/IPv6 `host` (brackets allowed), else None.

    Never blocks: IPv6 with a zone ("fe80::1%eth0") goes through getaddrinfo with
    AI_NUMERICHOST, which does no DNS.
    """
    if host[:1] == "[" and host[-1:] == "]":
        host = host[1:-1]
    if ":" not in host:
        try:
            socket.inet_pton(_AF_INET, host)
        except OSError:
            return None
        return _v4(host, port)
    if "%" not in host:
        try:
            socket.inet_pton(_AF_INET6, host)
        except OSError:
            return None
        return _v6(host, port)
    try:
        infos = socket.getaddrinfo(
            host, port, _AF_INET6, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST
        )
    except (OSError, UnicodeError):
        return None
    return Address(_AF_INET6, tuple(infos[0][4])) if infos else None


def _is_localhost(name: str) -> bool:
    # lib/hostip.c: "localhost", "localhost." and any name under .localhost (RFC 6761 s6.3)
    return name in ("localhost", "localhost.") or name.endswith((".localhost", ".localhost."))


def _localhost(port: int) -> list[Address]:
    # get_localhost() puts ::1 first, then 127.0.0.1; the connect filter sorts out families
    if socket.has_ipv6:
        return [_v6("::1", port), _v4("127.0.0.1", port)]
    return [_v4("127.0.0.1", port)]


def _by_family(addrs: list[Address], family: int) -> list[Address]:
    if family == _AF_UNSPEC:
        return addrs
    return [a for a in addrs if a.family == family]


def _resolve_failed(host: str) -> CurlError:
    # lib/hostip.c Curl_resolver_error: "Could not resolve host: <name>"
    return CurlError(E_COULDNT_RESOLVE_HOST, f"Could not resolve host: {host}")


def _text(entry: bytes | str) -> str:
    return entry.decode("latin-1") if isinstance(entry, bytes) else entry


def _cache_key(host: str, port: int) -> tuple[str, int]:
    # lib/hostip.c create_dnscache_id: case-insensitive, a trailing dot does not matter
    host = host.lower()
    if host.endswith(".") and len(host) > 1:
        host = host[:-1]
    return (host, port)


# --- CURLOPT_RESOLVE -----------------------------------------------------------------------


class ResolveEntry(NamedTuple):
    """One parsed CURLOPT_RESOLVE line.

    `remove` entries ("-host:port") have no addresses. `permanent` is False for "+host:..."
    entries, which age like resolved names; plain entries never expire.
    """

    host: str
    port: int
    addresses: tuple[Address, ...]
    remove: bool = False
    permanent: bool = True


def _parse_port(text: str) -> int | None:
    # curlx_str_number(..., 0xffff): decimal digits only, at most 65535
    if not text or not text.isdigit() or not text.isascii() or len(text) > 5:
        return None
    value = int(text)
    return value if value <= 0xFFFF else None


def _split_host(text: str) -> tuple[str, str] | None:
    """Split "host:rest" or "[v6]:rest" into (host, rest); None if there is no host."""
    if text[:1] == "[":
        end = text.find("]", 1)
        if end <= 1 or text[end + 1 : end + 2] != ":":
            return None
        return text[1:end], text[end + 2 :]
    host, sep, rest = text.partition(":")
    if not host or not sep:
        return None
    return host, rest


def _parse_resolve_addresses(text: str, port: int) -> list[Address] | None:
    """The "addr[,addr]..." part; brackets allowed around IPv6. None if malformed."""
    out: list[Address] = []
    pos, end = 0, len(text)
    while pos < end:
        if text[pos] == "[":
            close = text.find("]", pos + 1)
            if close < 0:
                return None
            target = text[pos + 1 : close]
            pos = close + 1
            if not target:
                return None
        else:
            comma = text.find(",", pos)
            if comma < 0:
                comma = end
            target = text[pos:comma]
            pos = comma
            if not target:
                pos += 1  # libcurl survives a lone comma
                continue
        if len(target) >= 64:
            return None
        addr = numeric_address(target, port)
        if addr is None:
            return None  # "Resolve address '%s' found illegal"
        out.append(addr)
        if pos >= end or text[pos] != ",":
            break
        pos += 1
    return out or None


def parse_resolve_entries(entries: Iterable[bytes | str]) -> list[ResolveEntry]:
    """Parse CURLOPT_RESOLVE lines as libcurl 8.x Curl_loadhostpairs does.

    "host:port:addr[,addr]...", "+host:port:addr..." (not permanent), "-host:port" (remove),
    IPv6 in brackets, "*" as host for a wildcard. A removal line that does not parse is
    skipped, as is an add line without a host part. Returns the entries in order.

    Raises CurlError(E_SETOPT_OPTION_SYNTAX, "Couldn't parse CURLOPT_RESOLVE entry '...'")
    for an add line with a bad port or a bad address list: libcurl 8.x fails the transfer
    there (7.x only logged and skipped it).
    """
    out: list[ResolveEntry] = []
    for raw in entries:
        line = _text(raw)
        if line[:1] == "-":
            parts = _split_host(line[1:])
            if parts is None:
                continue
            port_text = parts[1].partition(":")[0]
            port = _parse_port(port_text)
            if port is not None:
                out.append(ResolveEntry(parts[0], port, (), remove=True))
            continue
        permanent = True
        body = line
        if body[:1] == "+":
            body, permanent = body[1:], False
        parts = _split_host(body)
        if parts is None:
            continue
        port_text, sep, addr_text = parts[1].partition(":")
        port = _parse_port(port_text)
        addrs = _parse_resolve_addresses(addr_text, port) if port is not None and sep else None
        if port is None or addrs is None:
            raise CurlError(
                E_SETOPT_OPTION_SYNTAX, f"Couldn't parse CURLOPT_RESOLVE entry '{line}'"
            )
        out.append(ResolveEntry(parts[0], port, tuple(addrs), permanent=permanent))
    return out


# --- CURLOPT_CONNECT_TO --------------------------------------------------------------------


class ConnectTo(NamedTuple):
    """One CURLOPT_CONNECT_TO line, "HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT".

    `host`/`port` None match anything; `to_host`/`to_port` None leave the URL's value.
    `error` is set when the target part is malformed; libcurl only fails (with
    E_SETOPT_OPTION_SYNTAX) when such a line matches, so `connect_to_target` raises it then.
    `valid` is False when the match part cannot match anything.
    """

    host: str | None
    port: int | None
    to_host: str | None
    to_port: int | None
    error: str | None = None
    valid: bool = True


def _parse_connect_to_line(line: str) -> ConnectTo:
    rest = line
    host: str | None
    if rest[:1] == ":":
        host, rest = None, rest[1:]
    elif rest[:1] == "[":
        close = rest.find("]")
        if close < 0 or rest[close + 1 : close + 2] != ":":
            return ConnectTo(None, None, None, None, valid=False)
        host, rest = rest[1:close].lower(), rest[close + 2 :]
    else:
        head, sep, rest = rest.partition(":")
        if not sep:
            return ConnectTo(None, None, None, None, valid=False)
        host = head.lower()
    port_text, sep, target = rest.partition(":")
    if not sep:
        return ConnectTo(host, None, None, None, valid=False)
    port: int | None = None
    if port_text:
        port = _parse_port(port_text)
        if port is None:
            return ConnectTo(host, None, None, None, valid=False)
    if not target:
        return ConnectTo(host, port, None, None)
    to_host: str | None
    if target[:1] == "[":
        close = target.find("]")
        if close < 0:
            to_host, after = target[1:], ""
        else:
            to_host, after = target[1:close], target[close + 1 :]
        # RFC 6874 zone id in a URL-style literal: "%25" stands for "%"
        to_host = to_host.replace("%25", "%")
    else:
        to_host, colon, port_part = target.partition(":")
        after = colon + port_part
    to_port: int | None = None
    error: str | None = None
    if after[:1] == ":" and after[1:]:
        to_port = _parse_port(after[1:])
        if to_port is None:
            error = f"No valid port number in connect to host string ({after[1:]})"
    return ConnectTo(host, port, to_host or None, to_port, error)


def parse_connect_to(entries: Iterable[bytes | str]) -> list[ConnectTo]:
    """Parse CURLOPT_CONNECT_TO lines (lib/url.c parse_connect_to_string). Never raises."""
    return [_parse_connect_to_line(_text(e)) for e in entries]


def connect_to_target(rules: list[ConnectTo], host: str, port: int) -> tuple[str, int] | None:
    """Return (host, port) to connect to for the URL's `host`/`port`, or None if no rule applies.

    The first matching rule that changes something wins; a matching rule with an empty
    target is passed over, as libcurl does. Raises CurlError(E_SETOPT_OPTION_SYNTAX) when the
    first applying rule has an invalid target port.
    """
    bare = host[1:-1] if host[:1] == "[" and host[-1:] == "]" else host
    lowered = bare.lower()
    for rule in rules:
        if not rule.valid:
            continue
        if rule.host is not None and rule.host != lowered:
            continue
        if rule.port is not None and rule.port != port:
            continue
        if rule.error is not None:
            raise CurlError(E_SETOPT_OPTION_SYNTAX, rule.error)
        if rule.to_host is None and rule.to_port is None:
            continue
        return (rule.to_host or bare, port if rule.to_port is None else rule.to_port)
    return None


# --- the DNS cache -------------------------------------------------------------------------


class _CacheEntry(NamedTuple):
    addresses: list[Address]
    stamp: float
    family: int
    permanent: bool


class DnsCache:
    """Resolved names by (host, port), with CURLOPT_DNS_CACHE_TIMEOUT ageing.

    An entry is stale once `now - stamp >= max_age` (lib/hostip.c dnscache_entry_is_stale);
    `max_age` 0 disables reuse, -1 (any negative) keeps entries forever. Entries added from
    CURLOPT_RESOLVE without "+" never expire. A "*" host entry answers any host on its port
    (wildcard RESOLVE). Not thread-safe: it belongs to the engine's thread.
    """

    DEFAULT_MAX_AGE = 60.0
    MAX_ENTRIES = 29999  # libcurl's MAX_DNS_CACHE_SIZE

    def __init__(self) -> None:
        self._entries: dict[tuple[str, int], _CacheEntry] = {}
        self._wildcard = False

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        permanent = sum(1 for e in self._entries.values() if e.permanent)
        return f"<DnsCache entries={len(self._entries)} permanent={permanent}>"

    def get(
        self,
        host: str,
        port: int,
        now: float,
        family: int = _AF_UNSPEC,
        max_age: float = DEFAULT_MAX_AGE,
    ) -> list[Address] | None:
        """Return the cached addresses of `family` for host:port, or None (miss or stale).

        An entry resolved for another family, or with no address of `family`, is a miss, as
        in libcurl (the caller then resolves for that family and replaces the entry).
        """
        key = _cache_key(host, port)
        entry = self._entries.get(key)
        if entry is None and self._wildcard:
            key = ("*", port)
            entry = self._entries.get(key)
        if entry is None:
            return None
        if not entry.permanent and max_age >= 0 and now - entry.stamp >= max_age:
            del self._entries[key]
            return None
        if family == _AF_UNSPEC:
            return list(entry.addresses) if entry.family == _AF_UNSPEC else None
        if entry.family not in (_AF_UNSPEC, family):
            return None
        addrs = _by_family(entry.addresses, family)
        return addrs or None

    def put(
        self,
        host: str,
        port: int,
        addrs: list[Address],
        now: float,
        family: int = _AF_UNSPEC,
        permanent: bool = False,
    ) -> None:
        """Store `addrs` (resolved for `family`) for host:port at time `now`, replacing any."""
        key = _cache_key(host, port)
        self._entries.pop(key, None)  # re-insert so dict order stays oldest-first
        self._entries[key] = _CacheEntry(list(addrs), now, family, permanent)
        if key[0] == "*":
            self._wildcard = True
        if len(self._entries) > self.MAX_ENTRIES:
            self._evict()

    def remove(self, host: str, port: int) -> None:
        """Forget host:port (a "-host:port" RESOLVE line); no error if it is not there."""
        self._entries.pop(_cache_key(host, port), None)

    def load(self, entries: list[ResolveEntry], now: float) -> None:
        """Apply parsed CURLOPT_RESOLVE entries in order (libcurl does it at transfer start)."""
        for e in entries:
            if e.remove:
                self.remove(e.host, e.port)
            else:
                self.put(e.host, e.port, list(e.addresses), now, permanent=e.permanent)

    def prune(self, now: float, max_age: float = DEFAULT_MAX_AGE) -> int:
        """Drop stale entries; returns how many went."""
        if max_age < 0:
            return 0
        stale = [
            k for k, e in self._entries.items() if not e.permanent and now - e.stamp >= max_age
        ]
        for k in stale:
            del self._entries[k]
        return len(stale)

    def clear(self) -> None:
        """Forget everything (CURLOPT_FRESH_CONNECT does not do this; share cleanup does)."""
        self._entries.clear()
        self._wildcard = False

    def _evict(self) -> None:
        # oldest non-permanent first: dict order is insertion order and put() re-inserts
        excess = len(self._entries) - self.MAX_ENTRIES
        for k in [k for k, e in self._entries.items() if not e.permanent][: max(excess, 0)]:
            del self._entries[k]


# --- threaded lookups ----------------------------------------------------------------------


class _Job:
    __slots__ = ("addresses", "exc", "family", "host", "key", "lookups", "port", "started")

    def __init__(self, host: str, port: int, family: int, key: tuple[str, int, int], now: float):
        self.host = host
        self.port = port
        self.family = family
        self.key = key
        self.started = now
        self.lookups: list[Lookup] = []
        self.addresses: list[Address] = []
        self.exc: BaseException | None = None


class Lookup:
    """A pending name lookup for one caller. After `Resolver.drain` returns it, `done` is
    True and either `addresses` (non-empty) or `error` (a CurlError) is set."""

    __slots__ = ("_job", "addresses", "cancelled", "done", "error", "family", "host", "port")

    def __init__(self, job: _Job, host: str) -> None:
        self._job = job
        self.host = host
        self.port = job.port
        self.family = job.family
        self.done = False
        self.cancelled = False
        self.addresses: list[Address] = []
        self.error: CurlError | None = None

    def __repr__(self) -> str:
        state = "done" if self.done else "cancelled" if self.cancelled else "pending"
        return f"<Lookup {self.host}:{self.port} {state}>"


def _getaddrinfo(host: str, port: int, family: int) -> list[Address]:
    # looked up through the module at call time so tests can monkeypatch socket.getaddrinfo
    infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
    out: list[Address] = []
    seen: set[tuple[int, tuple[Any, ...]]] = set()
    for fam, _type, _proto, _canon, sockaddr in infos:
        if fam not in (_AF_INET, _AF_INET6):
            continue
        addr = Address(int(fam), tuple(sockaddr))
        if (addr.family, addr.sockaddr) not in seen:
            seen.add((addr.family, addr.sockaddr))
            out.append(addr)
    return out


class Resolver:
    """Non-blocking name resolution for one multi handle (see the module docstring)."""

    def __init__(
        self,
        cache: DnsCache | None = None,
        *,
        max_workers: int = 8,
        idle_timeout: float = 5.0,
    ) -> None:
        self.cache = cache if cache is not None else DnsCache()
        self.max_workers = max(1, max_workers)
        self.idle_timeout = idle_timeout
        self.wakeup_fd: int | None = None
        self.pending = 0  # Lookups handed out, not cancelled, not yet drained
        self._rsock: socket.socket | None = None
        self._wsock: socket.socket | None = None
        self._inflight: dict[tuple[str, int, int], _Job] = {}
        # shared with the workers, guarded by _cond's lock:
        self._cond = threading.Condition(threading.Lock())
        self._queue: deque[_Job] = deque()
        self._finished: list[_Job] = []
        self._threads: set[threading.Thread] = set()
        self._idle = 0
        self._closed = False

    def __repr__(self) -> str:
        return (
            f"<Resolver pending={self.pending} jobs={len(self._inflight)} "
            f"threads={len(self._threads)} cache={len(self.cache)}"
            f"{' closed' if self._closed else ''}>"
        )

    @property
    def threads(self) -> int:
        """How many worker threads exist right now."""
        with self._cond:
            return len(self._threads)

    def lookup(
        self,
        host: str,
        port: int,
        family: int,
        now: float,
        *,
        cache_timeout: float = DnsCache.DEFAULT_MAX_AGE,
    ) -> list[Address] | Lookup:
        """Resolve `host` for `port`, keeping only `family` (CURLOPT_IPRESOLVE).

        Returns the addresses at once when no DNS is needed (cache hit, numeric address,
        localhost), else a pending `Lookup` that a later `drain()` completes.
        Raises CurlError(E_COULDNT_RESOLVE_HOST) when the answer is known to be a failure now
        (a numeric address of the wrong family, an empty name, a .onion name, a closed
        resolver).
        """
        if host[:1] == "[" and host[-1:] == "]":
            host = host[1:-1]
        if not host:
            raise _resolve_failed(host)
        cached = self.cache.get(host, port, now, family, cache_timeout)
        if cached is not None:
            return cached
        numeric = numeric_address(host, port)
        if numeric is not None:
            if family != _AF_UNSPEC and numeric.family != family:
                raise _resolve_failed(host)
            return [numeric]
        lowered = host.lower()
        if _is_localhost(lowered):
            local = _by_family(_localhost(port), family)
            if not local:
                raise _resolve_failed(host)
            return local
        if lowered.endswith((".onion", ".onion.")):
            # RFC 7686 s2: .onion names must not reach the DNS
            raise CurlError(E_COULDNT_RESOLVE_HOST, "Not resolving .onion address (RFC 7686)")
        key = (_cache_key(host, port)[0], port, family)
        job = self._inflight.get(key)
        if job is None:
            job = _Job(host, port, family, key, now)
            self._submit(job)
            self._inflight[key] = job
        handle = Lookup(job, host)
        job.lookups.append(handle)
        self.pending += 1
        return handle

    def cancel(self, lookup: Lookup) -> None:
        """The caller no longer wants `lookup`; its job still runs and its result is cached."""
        if lookup.done or lookup.cancelled:
            return
        lookup.cancelled = True
        try:
            lookup._job.lookups.remove(lookup)
        except ValueError:
            pass
        self.pending -= 1

    def drain(self, now: float | None = None) -> list[Lookup]:
        """Empty the wake-up socketpair and return the Lookups that finished since last time.

        Safe to call at any time, including when nothing finished. Results enter the cache
        stamped `now` (default: when the lookup started). Failed lookups carry a
        CurlError(E_COULDNT_RESOLVE_HOST, "Could not resolve host: <name>").
        """
        rsock = self._rsock
        if rsock is not None:
            try:
                while rsock.recv(4096):
                    pass
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                pass  # closed under us: nothing left to read either way
        with self._cond:
            if not self._finished:
                return []
            finished, self._finished = self._finished, []
        out: list[Lookup] = []
        for job in finished:
            if self._inflight.get(job.key) is job:
                del self._inflight[job.key]
            addrs = _by_family(job.addresses, job.family) if job.exc is None else []
            if addrs:
                stamp = job.started if now is None else now
                self.cache.put(job.host, job.port, addrs, stamp, job.family)
            for handle in job.lookups:
                handle.done = True
                if addrs:
                    handle.addresses = list(addrs)
                else:
                    err = _resolve_failed(handle.host)
                    err.__cause__ = job.exc
                    handle.error = err
                out.append(handle)
            self.pending -= len(job.lookups)
            job.lookups = []
        return out

    def close(self, join_timeout: float = 1.0) -> None:
        """Close the socketpair and stop the workers, waiting at most `join_timeout` seconds.

        The engine un-announces `wakeup_fd` before calling this (SEMANTICS rule 10). A worker
        stuck inside getaddrinfo cannot be interrupted; it is a daemon thread and exits as
        soon as the call returns, writing nothing.
        """
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._queue.clear()
            threads = list(self._threads)
            self._cond.notify_all()
            for s in (self._rsock, self._wsock):
                if s is not None:
                    s.close()
            self._rsock = self._wsock = None
            self.wakeup_fd = None
        for handle in [h for job in self._inflight.values() for h in job.lookups]:
            handle.cancelled = True
        self._inflight.clear()
        self.pending = 0
        per_thread = join_timeout / max(1, len(threads))
        for t in threads:
            t.join(per_thread)

    # --- internals -------------------------------------------------------------------------

    def _submit(self, job: _Job) -> None:
        with self._cond:
            if self._closed:
                raise _resolve_failed(job.host)
            if self._rsock is None:
                # created lazily: a multi that never resolves a name owns no extra fds
                rsock, wsock = socket.socketpair()
                rsock.setblocking(False)
                wsock.setblocking(False)
                self._rsock, self._wsock = rsock, wsock
                self.wakeup_fd = rsock.fileno()
            self._queue.append(job)
            # each waiting worker takes one job; start another thread only if they do not
            # cover the queue
            if len(self._queue) > self._idle and len(self._threads) < self.max_workers:
                t = threading.Thread(target=self._work, name="purecurl-resolver", daemon=True)
                self._threads.add(t)
                t.start()
            self._cond.notify()

    def _work(self) -> None:
        me = threading.current_thread()
        cond = self._cond
        cond.acquire()
        try:
            while True:
                while not self._queue and not self._closed:
                    self._idle += 1
                    woken = cond.wait(self.idle_timeout)
                    self._idle -= 1
                    if not woken and not self._queue:
                        return  # idle long enough
                if self._closed:
                    return
                job = self._queue.popleft()
                cond.release()
                try:
                    try:
                        job.addresses = _getaddrinfo(job.host, job.port, job.family)
                    except Exception as exc:  # any failure is "could not resolve"
                        job.exc = exc
                finally:
                    cond.acquire()
                if self._closed:
                    return
                self._finished.append(job)
                wsock = self._wsock
                if wsock is not None:
                    try:
                        wsock.send(b"\x01")
                    except OSError:
                        pass  # buffer full: a wake-up is already pending
        finally:
            self._threads.discard(me)
            cond.release()
