"""The multi engine: libcurl's multi_socket machinery, synchronous and non-blocking.

Theory of operation
-------------------
The application owns the event loop. The engine tells it, through two callbacks, what to wait
for: the socket callback (via the `SocketTable` diff: which fds to watch for reading/writing)
and the timer callback (via the `DeadlineQueue`: when to call back at the latest). The
application reports back with `socket_action(fd)` (something happened on fd) or
`socket_action(SOCKET_TIMEOUT)` (the timer fired). `perform()` runs every transfer instead.

Each API call reads the clock once ("now"), runs the transfers that the event concerns and
every transfer whose deadline has passed, then (SEMANTICS rule 4) checks expired deadlines once
more with a fresh "now" if anything ran. Running a transfer means advancing its state machine
(`engine.state`) as far as it goes without blocking:

    INIT ──► PENDING ──► RESOLVING ──► CONNECTING ──► PERFORMING ──► DONE ──► COMPLETED ──► MSGSENT
    (pick a    (wait for   (threaded     (happy         (send request,
     pooled     a slot)     resolver)     eyeballs)      read response)
     connection)

After a transfer ran, its new pollset goes to the interest table and the changes reach the
socket callback at once (libcurl's singlesocket); at the end of the call the earliest deadline
is compared with the one last announced and the timer callback is called when it moved.

A failing transfer is a `CurlError` raised anywhere below `_run`; `_run` catches it in one
place and ends the transfer with that code (`_finish`). Exceptions from the application's
socket/timer callbacks are not transfer failures: they abort the whole multi (rule 14).

Closing a socket always goes through `_close_socket`, which first removes the fd from its
owner's pollset and announces POLL_REMOVE, then closes (rule 10, "REMOVE sent after close").
"""

from __future__ import annotations

import os
import select
import socket
import ssl
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple
from urllib.parse import unquote

from purecurl import _codes as C
from purecurl._errors import CurlError
from purecurl.engine import state as S
from purecurl.engine import timers as T
from purecurl.engine.config import (
    BODY_BYTES,
    BODY_FORM,
    BODY_NONE,
    DEFAULT_BUFFERSIZE,
    Config,
    follow_config,
)
from purecurl.engine.interest import (
    NO_POLL,
    POLL_IN,
    POLL_INOUT,
    POLL_OUT,
    Pollset,
    SockEntry,
    SocketTable,
)
from purecurl.engine.pool import ConnectionPool, WaitQueue
from purecurl.engine.timers import DeadlineQueue, ms_until
from purecurl.engine.transfer import (
    UP_BODY,
    UP_DONE,
    UP_HEAD,
    UP_NONE,
    UP_WAIT,
    Connection,
    Transfer,
)
from purecurl.engine.upload import BodyReader, BufferReader, CallbackReader, FormReader
from purecurl.proto.cookies import CookieJar, SetCookieTally, secure_context
from purecurl.proto.decoding import ContentDecoder
from purecurl.proto.http1 import Body, End, Head, ResponseError, ResponseParser
from purecurl.proto.http2 import (
    Failed,
    GoAway,
    H2Session,
    Reset,
    error_name,
    h2_request_fields,
)
from purecurl.proto.socks import SocksHandshake
from purecurl.proto.url import check_scheme, resolve_reference
from purecurl.transport.connect import TcpConnector
from purecurl.transport.oserrors import curl_error, errno_of
from purecurl.transport.resolver import (
    Address,
    DnsCache,
    Lookup,
    Resolver,
    connect_to_target,
)
from purecurl.transport.tls import (
    ContextCache,
    TlsHandshake,
    TlsSessionCache,
    recv_error,
    send_error,
)
from purecurl.transport.tls_in_tls import TlsOverTls
from purecurl.transport.tunnel import ConnectTunnel, SocksTunnel

# Process-wide: a context per distinct TLS settings, so CA stores are loaded once.
_CONTEXTS = ContextCache()
# A send or recv that could not proceed now: wait for the socket (TLS may want either way).
_WOULD_BLOCK = (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError)

SOCKET_TIMEOUT = -1
WRITEFUNC_PAUSE = 0x10000001
PAUSE_RECV = 1
PAUSE_SEND = 4
# libcurl 8.23 probes an idle connection before reusing it at most once a second
ALIVE_CHECK_INTERVAL = 1.0

# CURLINFO_* debug types
INFO_TEXT = 0
INFO_HEADER_IN = 1
INFO_HEADER_OUT = 2
INFO_DATA_IN = 3
INFO_DATA_OUT = 4

# CURLPIPE_*
PIPE_MULTIPLEX = 2

SocketCallback = Callable[[int, int, Any], Any]
TimerCallback = Callable[[int], Any]


class _Decoded(Body):
    """Decoded body output held during a pause (not to be decoded again)."""

    __slots__ = ()


class MultiAborted(Exception):
    """A socket or timer callback asked to abort (returned -1 or raised): SEMANTICS rule 14."""

    def __init__(self, cause: BaseException | None) -> None:
        super().__init__("callback aborted the multi")
        self.cause = cause


class _ResolverWaker:
    """The owner of the resolver's wake-up fd interest (SEMANTICS rule 12)."""

    __slots__ = ("fd", "pollset")

    def __init__(self) -> None:
        self.pollset: Pollset = NO_POLL
        self.fd = -1


class MultiEngine:
    """One multi handle's engine: transfers, connections, interest and deadlines."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.socket_cb: SocketCallback | None = None
        self.timer_cb: TimerCallback | None = None
        self.table = SocketTable(self._announce)
        self.deadlines = DeadlineQueue()
        self.pool: ConnectionPool[Connection] = ConnectionPool()
        self.transfers: dict[Transfer, None] = {}
        self.running = 0
        self.msgs: deque[Transfer] = deque()
        self.pending: WaitQueue[Transfer] = WaitQueue()
        self.fd_map: dict[int, Connection | Transfer | _ResolverWaker] = {}
        self.resolver: Resolver | None = None
        self.dns_cache = DnsCache()
        self.tls_sessions = TlsSessionCache()
        self.lookup_waiters: dict[Lookup, list[Transfer]] = {}
        self.waker = _ResolverWaker()
        self.timer_last: float | None = None
        self.timer_armed = False
        self.busy = False
        self.dead = False
        self.abort_cause: BaseException | None = None
        self.aborting = False
        self.abort_reported = False
        self.closed = False
        self.max_host = 0
        self.max_total = 0
        self.maxconnects = 0
        self.pipelining = PIPE_MULTIPLEX
        self.max_concurrent_streams = 100
        self.next_conn_id = 0
        self.bufsize = 0
        self.buf = bytearray(0)
        self.view = memoryview(self.buf)
        self.trace: list[str] | None = None
        self.easy_pool = False  # the private multi of Curl.perform
        self.shared_pool = False  # self.pool belongs to a CurlShare (LOCK_DATA_CONNECT)
        self.most_added = 0  # the most transfers added at once (sizes the idle pool)
        # HTTP/2 connections that may take another stream, by origin; connections being set
        # up that may turn out to multiplex (what PIPEWAIT waits for), by origin
        self.h2_conns: dict[Any, list[Connection]] = {}
        self.h2_coming: dict[Any, int] = {}
        # HTTP/2 connections whose streams asked for I/O during this call: done once per
        # connection at the call's end, so the requests of many streams leave in one send
        self.h2_dirty: dict[Connection, None] = {}
        self.last_prune = 0.0  # when idle connections were last checked (_prune_idle)

    def __repr__(self) -> str:
        return (
            f"<MultiEngine transfers={len(self.transfers)} running={self.running}"
            f" msgs={len(self.msgs)} pending={len(self.pending)} {self.pool!r}"
            f" watched={len(self.table.watched())}>"
        )

    # ------------------------------------------------------------------ callbacks to the app

    def _announce(self, fd: int, what: int, entry: SockEntry) -> None:
        cb = self.socket_cb
        if cb is None:
            return
        try:
            r = cb(what, fd, entry.socketp)
        except Exception as exc:
            self._callback_failed(exc)
            return
        if r == -1:
            self._callback_failed(None)

    def _callback_failed(self, exc: BaseException | None) -> None:
        if self.aborting:  # callbacks during the abort's own teardown are ignored
            return
        if not self.dead:
            self.dead = True
            self.abort_cause = exc

    def _update_timer(self, now: float, force: bool = False) -> None:
        """Tell the timer callback about a moved deadline (rules 6, 15-17).

        As libcurl's Curl_update_timer: the callback hears of a deadline when there was none
        before, when its absolute time differs from the one last announced, and -1 when the
        last deadline went away. A SOCKET_TIMEOUT call forgets the announced time (`force`),
        so an unchanged deadline is announced again: an application whose timer fired early
        is never left without one. Without a timer callback nothing is recorded.
        """
        if self.dead or self.timer_cb is None:
            return
        if force:
            self.timer_last = None
        d = self.deadlines.next_deadline()
        if d is None:
            if not self.timer_armed:
                return
            self.timer_armed = False
            self.timer_last = None
            self._call_timer(-1)
            return
        if self.timer_armed and d == self.timer_last:
            return
        self.timer_armed = True
        self.timer_last = d
        self._call_timer(ms_until(d, now))

    def _call_timer(self, ms: int) -> None:
        cb = self.timer_cb
        if cb is None:
            return
        try:
            r = cb(ms)
        except Exception as exc:
            self._callback_failed(exc)
            return
        if r == -1:
            self._callback_failed(None)

    def _check_abort(self) -> None:
        """At the end of an API call: apply rule 14 if a callback asked to abort.

        Every live transfer ends with E_ABORTED_BY_CALLBACK (their sockets are still un-announced
        before they close, so the application is not left watching closed fds), the timer is
        not called again, and the call that saw the abort raises. Later calls see a dead multi
        with nothing running until every handle is removed.
        """
        if not self.dead or self.abort_reported:
            return
        cause = self.abort_cause
        self.abort_cause = None
        self.abort_reported = True
        self.aborting = True
        try:
            now = self.clock()
            for t in list(self.transfers):
                if t.state in S.LIVE:
                    self._finish(t, C.E_ABORTED_BY_CALLBACK, "Callback aborted", now)
        finally:
            self.aborting = False
        raise MultiAborted(cause)

    # ------------------------------------------------------------------ the API

    def add(self, t: Transfer) -> None:
        """Schedule `t`: it starts at the next socket_action/perform (rule 1)."""
        if self.dead:
            self._revive_if_empty()
            if self.dead:
                # libcurl: a dead multi takes no new transfers while old ones remain.
                raise MultiAborted(None)
        now = self.clock()
        self.transfers[t] = None
        if len(self.transfers) > self.most_added:
            self.most_added = len(self.transfers)
        t.state = S.INIT
        t.t_added = now
        self.running += 1
        self.deadlines.set(t, T.RUN_NOW, now)
        self._update_timer(now)
        if self.dead:
            self._check_abort()

    def remove(self, t: Transfer) -> None:
        """Take `t` out of the multi, stopping it if it runs (rule 20)."""
        if t not in self.transfers:
            return
        now = self.clock()
        if t.state in S.LIVE:
            self._stop(t, now)
            self.running -= 1
        del self.transfers[t]
        if t.state == S.COMPLETED:  # its DONE message is still unread: drop it (rule 20)
            try:
                self.msgs.remove(t)
            except ValueError:
                pass
        self.deadlines.clear_all(t)
        self._kick_pending(now)
        self.table.flush()
        if not self.transfers:
            self._revive_if_empty()
        self._update_timer(now)
        if self.dead:
            self._check_abort()

    def _revive_if_empty(self) -> None:
        if not self.transfers and self.dead:
            self.dead = False
            self.abort_reported = False
            self.abort_cause = None
            self.timer_last = None
            self.timer_armed = False

    def socket_action(self, fd: int, mask: int) -> int:
        """Handle readiness of `fd` (or the timer when fd is SOCKET_TIMEOUT); returns running."""
        now = self.clock()
        if self.dead:
            self._check_abort()
            return self.running
        ran = False
        if fd == SOCKET_TIMEOUT:
            force = True
        else:
            force = False
            target = self.fd_map.get(fd)
            if target is not None:
                ran = self._run_fd_target(target, now)
        if self._run_expired(now) or ran:
            now = self.clock()
            self._run_expired(now)
        if self.h2_dirty:
            self._h2_pending_io(now)
        self.table.flush()
        self._update_timer(now, force)
        if self.dead:
            self._check_abort()
        return self.running

    def perform(self) -> int:
        """Run every transfer once (curl_multi_perform); returns running."""
        now = self.clock()
        if self.dead:
            self._check_abort()
            return self.running
        if self.resolver is not None and self.resolver.pending:
            self._drain_resolver(now)
        for t in list(self.transfers):
            if t.state in S.LIVE:
                self._run(t, now)
        now = self.clock()
        self._run_expired(now)
        if self.h2_dirty:
            self._h2_pending_io(now)
        self.table.flush()
        self._update_timer(now)
        self._check_abort()
        return self.running

    def socket_all(self) -> int:
        """Re-check every transfer and socket and re-announce what changed (rule 7)."""
        self.table.recheck_all()
        return self.perform()

    def timeout_ms(self) -> int:
        """curl_multi_timeout: ms until the next deadline, 0 = now, -1 = none (rule 24)."""
        if self.dead:
            return 0
        d = self.deadlines.next_deadline()
        if d is None:
            return -1
        return ms_until(d, self.clock())

    def info_read(self, max_msgs: int) -> list[Transfer]:
        """Pop up to `max_msgs` DONE messages (rule 23)."""
        out: list[Transfer] = []
        msgs = self.msgs
        while msgs and len(out) < max_msgs:
            t = msgs.popleft()
            t.state = S.MSGSENT
            out.append(t)
        return out

    def pause(self, t: Transfer, bitmask: int, announce: bool = False) -> None:
        """curl_easy_pause for a transfer of this multi; may deliver held data at once.

        With `announce` (called from outside any callback) the new interest and the timer
        (0: the transfer wants to run) reach the callbacks before this returns (rule 13).
        """
        old = t.paused
        t.paused = bitmask & (PAUSE_RECV | PAUSE_SEND)
        if t.state not in S.LIVE or old == t.paused:
            return
        now = self.clock()
        if old & PAUSE_RECV and not t.paused & PAUSE_RECV and t.held:
            held = t.held
            t.held = []
            try:
                self._process(t, held, now)
            except CurlError as err:
                self._fail(t, err, now)
        if t.state in S.LIVE:
            self._set_pollset(t)
            self.deadlines.set(t, T.RUN_NOW, now)
        if announce:
            self.table.flush()
            self._update_timer(now)
            self._check_abort()

    def close(self) -> None:
        """Close every connection (the pool shutdown): REMOVE callbacks may fire (rule 22)."""
        now = self.clock()
        for t in list(self.transfers):
            self.remove(t)
        if not self.shared_pool:  # a share's idle connections outlive this multi
            for conn in self.pool.idle_connections():
                self._close_conn(conn, now)
        self._shutdown_resolver()
        if self.timer_armed:
            self.timer_armed = False
            self.timer_last = None
            self._call_timer(-1)
        self.socket_cb = None
        self.timer_cb = None
        self.closed = True
        self.dead = False

    def assign(self, fd: int, obj: Any) -> bool:
        """curl_multi_assign: False when the fd is unknown (BAD_SOCKET)."""
        return self.table.assign(fd, obj)

    def fdset(self) -> tuple[list[int], list[int], list[int]]:
        """The fds watched now: (read, write, except)."""
        r: list[int] = []
        w: list[int] = []
        for e in self.table.entries.values():
            if e.readers:
                r.append(e.fd)
            if e.writers:
                w.append(e.fd)
        return r, w, []

    def wait(self, timeout: float) -> None:
        """Block up to `timeout` seconds for activity on the watched fds (for Curl.perform)."""
        r, w, _ = self.fdset()
        if not r and not w:
            if timeout > 0:
                time.sleep(timeout)
            return
        p = select.poll()
        for fd in r:
            p.register(fd, select.POLLIN | (select.POLLOUT if fd in w else 0))
        for fd in w:
            if fd not in r:
                p.register(fd, select.POLLOUT)
        p.poll(timeout * 1000.0)

    def set_limits(self, max_host: int, max_total: int, maxconnects: int) -> None:
        self.max_host = max_host
        self.max_total = max_total
        self.maxconnects = maxconnects
        now = self.clock()
        self._kick_pending(now)

    # ------------------------------------------------------------------ running transfers

    def _run_fd_target(self, target: Connection | Transfer | _ResolverWaker, now: float) -> bool:
        if type(target) is Connection:
            if target.h2 is not None:
                self._h2_io(target, now)
                return True
            owner = target.owner
            if owner is None:
                return False  # an idle pooled connection; not watched, stray event
            self._run(owner, now)
            return True
        if type(target) is Transfer:
            self._run(target, now)
            return True
        self._drain_resolver(now)
        return True

    def _run_expired(self, now: float) -> bool:
        expired = self.deadlines.pop_expired(now)
        if not expired:
            return False
        for t in expired:
            assert isinstance(t, Transfer)
            if t.state in S.LIVE:
                self._run(t, now)
            else:
                self.deadlines.clear_all(t)
        return True

    def _run(self, t: Transfer, now: float) -> None:
        """Advance `t` as far as it goes; failures end it with their code."""
        try:
            expires = t.expires
            if expires:
                # Deadlines that passed fire now: fatal ones raise, the others (run now, happy
                # eyeballs, speed check) are dropped before the run can set new ones. A
                # transfer that only had to start has nothing else to check.
                if len(expires) > 1 or T.RUN_NOW not in expires:
                    self._check_timeouts(t, now)
                self.deadlines.clear_expired(t, now)
            while True:
                st = t.state
                if st == S.INIT:
                    self._start(t, now)
                    st = t.state
                if st == S.PENDING:
                    return
                if st == S.RESOLVING:
                    self._resolving(t, now)
                    st = t.state
                if st == S.CONNECTING:
                    self._connecting(t, now)
                    st = t.state
                if st != S.PERFORMING:
                    break
                conn = t.conn
                self._performing(t, now)
                # RESOLVING again: a retry or a redirect on a new connection; a redirect on a
                # pooled connection has its request to send now
                if t.state != S.RESOLVING and (t.state != S.PERFORMING or t.conn is conn):
                    break
            cfg = t.cfg
            if (
                cfg is not None
                and t.state in S.LIVE
                and (cfg.progress is not None or cfg.progress_old is not None)
            ):
                self._progress(t)
        except CurlError as err:
            self._fail(t, err, now)
            return
        if t.state in S.LIVE:
            self._set_pollset(t)
            if t.deadline is None and t.expires:
                self.deadlines.requeue(t)

    def _fail(self, t: Transfer, err: CurlError, now: float) -> None:
        cause = err.__cause__
        if isinstance(cause, OSError) and not t.os_errno:
            t.os_errno = errno_of(cause)
        self._finish(t, err.code, err.message, now)

    def _move(self, t: Transfer, new: int) -> None:
        """The one place a transfer changes state (STYLE habit 2)."""
        S.check_move(t.state, new)
        if self.trace is not None:
            self.trace.append(f"{id(t):x} {S.NAMES[t.state]} -> {S.NAMES[new]}")
        t.state = new

    def _check_timeouts(self, t: Transfer, now: float) -> None:
        expires = t.expires
        when = expires.get(T.TOTAL)
        if when is not None and when <= now:
            self._timed_out(t, now)
        when = expires.get(T.CONNECT)
        if when is not None and when <= now and t.state in (S.RESOLVING, S.CONNECTING):
            ms = int((now - t.t_start) * 1000)
            if t.state == S.RESOLVING:
                raise CurlError(
                    C.E_OPERATION_TIMEDOUT, f"Resolving timed out after {ms} milliseconds"
                )
            raise CurlError(C.E_OPERATION_TIMEDOUT, f"Connection timed out after {ms} milliseconds")
        when = expires.get(T.SERVER_RESPONSE)
        if when is not None and when <= now:
            self._timed_out(t, now)
        when = expires.get(T.LOW_SPEED)
        if when is not None and when <= now:
            self._speed_check(t, now)
        when = expires.get(T.EXPECT_100)
        if when is not None and when <= now and t.up == UP_WAIT:
            cfg = t.cfg
            if cfg is not None and cfg.verbose:
                self._info(t, "Done waiting for 100-continue")
            t.up = UP_BODY  # no "100 Continue" in time: send the body anyway
        when = expires.get(T.RATE_LIMIT)
        if when is not None and when <= now:
            t.rate_until = 0.0

    def _timed_out(self, t: Transfer, now: float) -> None:
        ms = int((now - t.t_added) * 1000)
        if t.state == S.RESOLVING:
            raise CurlError(C.E_OPERATION_TIMEDOUT, f"Resolving timed out after {ms} milliseconds")
        if t.state in (S.CONNECTING, S.PENDING, S.INIT):
            raise CurlError(C.E_OPERATION_TIMEDOUT, f"Connection timed out after {ms} milliseconds")
        if t.content_length >= 0:
            raise CurlError(
                C.E_OPERATION_TIMEDOUT,
                f"Operation timed out after {ms} milliseconds with {t.size_dl} out of "
                f"{t.content_length} bytes received",
            )
        raise CurlError(
            C.E_OPERATION_TIMEDOUT,
            f"Operation timed out after {ms} milliseconds with {t.size_dl} bytes received",
        )

    def _speed_check(self, t: Transfer, now: float) -> None:
        """CURLOPT_LOW_SPEED_LIMIT/TIME, sampled once a second (libcurl's speedcheck.c)."""
        cfg = t.cfg
        assert cfg is not None
        if t.state != S.PERFORMING:
            self.deadlines.set(t, T.LOW_SPEED, now + 1.0)
            return
        elapsed = now - t.ls_mark
        speed = (t.size_dl + t.size_ul - t.ls_bytes) / elapsed if elapsed > 0 else 0.0
        t.ls_mark = now
        t.ls_bytes = t.size_dl + t.size_ul
        if speed < cfg.low_speed_limit:
            if not t.ls_slow_since:
                t.ls_slow_since = now - elapsed  # slow since the start of this sample
            if now - t.ls_slow_since >= cfg.low_speed_time:
                raise CurlError(
                    C.E_OPERATION_TIMEDOUT,
                    f"Operation too slow. Less than {cfg.low_speed_limit} bytes/sec transferred"
                    f" the last {cfg.low_speed_time} seconds",
                )
        else:
            t.ls_slow_since = 0.0
        self.deadlines.set(t, T.LOW_SPEED, now + 1.0)

    # -- INIT: pick a connection, or queue

    def _start(self, t: Transfer, now: float) -> None:
        cfg = t.cfg = t.get_config()
        t.t_start = now
        if cfg.timeout:
            self.deadlines.set(t, T.TOTAL, t.t_added + cfg.timeout)
        hs = t.hs
        t.reader = None
        t.rate_until = 0.0
        t.connect_head = None
        if cfg.use_auth or cfg.tunnel_creds is not None:
            hs.auth.begin_transfer(cfg.httpauth, cfg.proxyauth)
        if cfg.cookie_engine:
            if hs.cookies is None:
                hs.cookies = CookieJar()
            if cfg.cookie_file:
                # libcurl reads CURLOPT_COOKIEFILE again at every transfer's start
                hs.load_cookie_file(cfg.cookie_file, int(time.time()), cfg.cookie_session)
        if cfg.url.scheme == "file":
            self._file_transfer(t, cfg, now)
            return
        self._acquire(t, now)

    def _file_transfer(self, t: Transfer, cfg: Config, now: float) -> None:
        """A file:// URL, read or (UPLOAD) written in one go, as libcurl's lib/file.c does:
        no connection, no socket, blocking local file I/O inside this call."""
        path = unquote(cfg.url.path)
        t.t_namelookup = t.t_connect = t.t_pretransfer = now - t.t_start
        if cfg.body_kind != BODY_NONE:
            reader = t.reader = self._new_reader(cfg)
            try:
                out = open(path, "wb")  # noqa: SIM115 - closed by the with below
            except OSError as exc:
                raise CurlError(C.E_WRITE_ERROR, f"cannot open {path} for writing") from exc
            with out:
                while True:
                    data = self._read_body(t, reader, cfg.upload_bufsize)
                    if data is None:
                        raise CurlError(
                            C.E_READ_ERROR, "Read callback asked for PAUSE when not supported"
                        )
                    if not data:
                        break
                    try:
                        out.write(data)
                    except OSError as exc:
                        raise CurlError(C.E_SEND_ERROR, "Failed sending data to the peer") from exc
                    t.size_ul += len(data)
            self._finish(t, C.E_OK, "", now)
            return
        try:
            f = open(path, "rb")  # noqa: SIM115
        except OSError as exc:
            raise CurlError(C.E_FILE_COULDNT_READ_FILE, f"Could not open file {path}") from exc
        with f:
            try:
                size = os.fstat(f.fileno()).st_size
                if cfg.resume_from > size:
                    raise CurlError(C.E_BAD_DOWNLOAD_RESUME, "failed to resume file:// transfer")
                if cfg.resume_from > 0:
                    f.seek(cfg.resume_from)
                    size -= cfg.resume_from
                t.content_length = size
                if cfg.maxfilesize and size > cfg.maxfilesize:
                    raise CurlError(C.E_FILESIZE_EXCEEDED, "Maximum file size exceeded")
                if cfg.is_head:
                    if cfg.header_fn is not None:
                        lines = (b"Content-Length: %d\r\n" % size, b"Accept-ranges: bytes\r\n")
                        self._call_header(t, cfg.header_fn, lines)
                    self._finish(t, C.E_OK, "", now)
                    return
                t.t_starttransfer = now - t.t_start
                while True:
                    data = f.read(cfg.buffersize)
                    if not data:
                        break
                    t.size_dl += len(data)
                    self._call_write(t, cfg.write_fn, data)
            except OSError as exc:
                raise CurlError(C.E_READ_ERROR, "Failed reading from file") from exc
        self._finish(t, C.E_OK, "", now)

    def _acquire(self, t: Transfer, now: float, avoid: Connection | None = None) -> None:
        """Attach a multiplexing or idle connection, open a new one, or queue `t` (PENDING).

        As libcurl's ConnectionExists: an HTTP/2 connection to the origin with a free stream
        comes first; a full one is skipped. With PIPEWAIT, a connection still being set up
        that may turn out to multiplex is waited for rather than a new one opened.
        """
        cfg = t.cfg
        assert cfg is not None
        pool = self.pool
        if not cfg.fresh_connect:
            if self.h2_conns and self.pipelining & PIPE_MULTIPLEX:
                for live in self.h2_conns.get(cfg.origin_key, ()):
                    h2 = live.h2
                    assert h2 is not None
                    if live is not avoid and len(live.streams) < h2.max_streams(
                        self.max_concurrent_streams
                    ):
                        self._attach(t, live, now, reused=True)
                        return
            while True:
                conn = pool.take_idle(cfg.origin_key)
                if conn is None:
                    break
                idle = now - conn.idle_since
                if cfg.maxage_conn and idle > cfg.maxage_conn:
                    self._info(t, f"Too old connection ({int(idle)} seconds idle), disconnect it")
                elif (
                    now - conn.checked_at < ALIVE_CHECK_INTERVAL and conn.h2 is None
                ) or self._alive(conn, now):
                    self._attach(t, conn, now, reused=True)
                    return
                else:
                    self._info(t, f"Connection {conn.id} seems to be dead")
                self._close_conn(conn, now)
            if (
                cfg.pipewait
                and self.pipelining & PIPE_MULTIPLEX
                and self.h2_coming.get(cfg.origin_key)
            ):
                self._info(t, "Found pending candidate for reuse and CURLOPT_PIPEWAIT is set")
                if t.state != S.PENDING:
                    self._move(t, S.PENDING)
                    self.pending.append(t, _wait_key(cfg))
                return
        host_key = cfg.host_key
        if not pool.may_open(host_key, self.max_host, self.max_total):
            victim = pool.idle_to_evict_for(host_key, self.max_host, self.max_total)
            if victim is None:
                # Queued: only TIMEOUT counts queue time (rule 25), CONNECTTIMEOUT starts
                # when the connection does.
                if t.state != S.PENDING:
                    self._move(t, S.PENDING)
                    self.pending.append(t, _wait_key(cfg))
                return
            self._close_conn(victim, now)
        self._open_connection(t, cfg, now)

    def _prune_idle(self, cfg: Config, now: float) -> None:
        """libcurl's prune_dead_connections, at most once a second as a connection is set up:
        close idle connections that died (their server went away) or sat idle longer than
        MAXAGE_CONN, so their descriptors do not wait for the pool to overflow."""
        self.last_prune = now
        maxage = cfg.maxage_conn
        for conn in self.pool.idle_connections():
            if (maxage and now - conn.idle_since > maxage) or not self._alive(conn, now):
                self.pool.discard_idle(conn)
                self._close_conn(conn, now)

    def _open_connection(self, t: Transfer, cfg: Config, now: float) -> None:
        """Give `t` a new connection (counted by the pool at once) and start resolving."""
        if now - self.last_prune >= 1.0 and self.pool.idle_count:
            self._prune_idle(cfg, now)
        conn = Connection(self.next_conn_id, cfg.origin_key, cfg.host_key)
        conn.checked_at = now
        self.next_conn_id += 1
        self.pool.opened(conn)
        if cfg.h2_prior or (cfg.tls is not None and "h2" in cfg.tls.alpn):
            conn.maybe_h2 = True
            self.h2_coming[cfg.origin_key] = self.h2_coming.get(cfg.origin_key, 0) + 1
        conn.owner = t
        t.conn = conn
        t.num_connects += 1
        self.deadlines.set(t, T.CONNECT, now + cfg.connect_timeout)
        self._move(t, S.RESOLVING)

    def _alive(self, conn: Connection, now: float) -> bool:
        """Dead-connection check before reuse: an idle socket must have nothing to read.

        As libcurl 8.23 (curl PR 22169), an HTTP/1 connection is probed at most once a second
        (`ALIVE_CHECK_INTERVAL`, checked by the caller): one that died since is found by the
        request sent on it, which fails before any answer and is retried on a new connection
        ("Connection died"), as a connection closed while the request flies always was. An
        HTTP/2 connection is always probed: the probe also reads what its server sent while
        it sat idle (a GOAWAY, a PING).
        """
        conn.checked_at = now
        sock = conn.sock
        if sock is None:
            return False
        if conn.h2 is not None:
            return self._h2_alive(conn, sock, conn.h2)
        if conn.tls_key is not None or isinstance(sock, (ssl.SSLSocket, TlsOverTls)):
            return _tls_alive(sock)
        try:
            data = sock.recv(1, socket.MSG_PEEK)
        except BlockingIOError:
            return True
        except OSError:
            return False
        # EOF (b"") or unsolicited bytes: either way the connection cannot carry a request.
        del data
        return False

    def _attach(self, t: Transfer, conn: Connection, now: float, reused: bool) -> None:
        if conn.h2 is not None:
            conns = self.h2_conns.setdefault(conn.origin_key, [])
            if conn not in conns:
                conns.append(conn)
        else:
            conn.owner = t
        conn.uses += 1
        t.conn = conn
        t.primary_ip = conn.primary_ip
        t.primary_port = conn.primary_port
        t.local_ip = conn.local_ip
        t.local_port = conn.local_port
        self.fd_map[conn.fd] = conn
        if reused:
            cfg = t.cfg
            if cfg is not None and cfg.verbose:
                self._info(
                    t, f"Reusing existing {cfg.url.scheme}: connection with host {cfg.url.host}"
                )
            t.t_namelookup = t.t_connect = now - t.t_start
            if conn.tls_key is not None:
                t.t_appconnect = t.t_connect
            t.verify_result = conn.verify_result
            t.proxy_verify_result = conn.proxy_verify_result
            t.connect_code = conn.connect_code
            t.certinfo = conn.certinfo
        self._begin_request(t, now)

    def _kick_pending(self, now: float) -> None:
        """Start queued transfers that now fit under the limits (or can reuse a connection)."""
        pending = self.pending
        if not pending:
            return
        pool = self.pool
        for key in pending.waiting_keys():
            while True:
                if (
                    self.max_total
                    and pool.total >= self.max_total
                    and not pool.idle_count
                    and not self.h2_conns
                ):
                    return  # nothing can start until a connection closes
                t = pending.first(key)
                if t is None:
                    break
                if t.state == S.PENDING:
                    self._acquire(t, now)
                    if t.state == S.PENDING:
                        break  # the ones behind it, asking the same, wait too
                    self.deadlines.set(t, T.RUN_NOW, now)
                pending.remove(t)

    # -- RESOLVING

    def _resolving(self, t: Transfer, now: float) -> None:
        cfg = t.cfg
        conn = t.conn
        assert cfg is not None and conn is not None
        if cfg.unix_path:
            self._begin_connect(t, [(socket.AF_UNIX, cfg.unix_path)], now)
            return
        if t.lookup is None and cfg.resolve:
            self.dns_cache.load(cfg.resolve, now)
        host, port = self._connect_target(cfg)
        try:
            addresses = self._lookup(t, cfg, host, port, now)
        except CurlError as err:
            mapped = _proxy_resolve_error(cfg, err)
            if mapped is err:
                raise  # keeps its cause (the OS error behind OS_ERRNO)
            raise mapped from None
        if addresses is None:
            return
        t.t_namelookup = now - t.t_start
        self._begin_connect(t, addresses, now)

    def _lookup(
        self, t: Transfer, cfg: Config, host: str, port: int, now: float
    ) -> list[Address] | None:
        """The addresses of `host`, or None while `t` waits for the resolver (the waker runs
        it again when the answer is in). Raises the lookup's CurlError."""
        lookup = t.lookup
        if lookup is None:
            resolver = self.resolver
            if resolver is None:
                resolver = self.resolver = Resolver(self.dns_cache)
            answer = resolver.lookup(
                host, port, cfg.family, now, cache_timeout=float(cfg.dns_cache_timeout)
            )
            if not isinstance(answer, Lookup):
                return answer
            t.lookup = answer
            self.lookup_waiters.setdefault(answer, []).append(t)
            self._watch_resolver()
            return None
        if not lookup.done:
            return None
        t.lookup = None
        if lookup.error is not None:
            raise lookup.error
        return lookup.addresses

    def _connect_target(self, cfg: Config) -> tuple[str, int]:
        proxy = cfg.proxy
        if proxy is not None:
            return proxy.host, proxy.port
        host, port = cfg.url.host, cfg.url.port
        if cfg.connect_to:
            target = connect_to_target(cfg.connect_to, host, port)
            if target is not None:
                return target
        return host, port

    def _watch_resolver(self) -> None:
        resolver = self.resolver
        if resolver is None:
            return
        waker = self.waker
        fd = resolver.wakeup_fd
        if resolver.pending and fd is not None:
            waker.fd = fd
            self.fd_map[fd] = waker
            self.table.update(waker, ((fd, POLL_IN),))
        else:
            self.table.update(waker, NO_POLL)

    def _drain_resolver(self, now: float) -> None:
        resolver = self.resolver
        if resolver is None:
            return
        for lookup in resolver.drain(now):
            for t in self.lookup_waiters.pop(lookup, ()):
                # RESOLVING: the host to connect to; CONNECTING: a SOCKS target resolved here
                if t.lookup is lookup and (t.state == S.RESOLVING or t.state == S.CONNECTING):
                    self._run(t, now)
        self._watch_resolver()
        self.table.flush()

    def _shutdown_resolver(self) -> None:
        resolver = self.resolver
        if resolver is None:
            return
        self.table.update(self.waker, NO_POLL)
        fd = resolver.wakeup_fd
        if fd is not None:
            self.table.forget(fd)
            self.fd_map.pop(fd, None)
        resolver.close()
        self.resolver = None

    # -- CONNECTING

    def _begin_connect(self, t: Transfer, addresses: list[Any], now: float) -> None:
        cfg = t.cfg
        conn = t.conn
        assert cfg is not None and conn is not None
        self._move(t, S.CONNECTING)
        opensocket = None
        if cfg.opensocket is not None:
            opensocket = _wrap_opensocket(cfg.opensocket)

        def close_attempt(sock: socket.socket) -> None:
            self._close_socket(sock, t, cfg.closesocket)

        sockopt = None
        if cfg.sockopt is not None:
            sockopt = _wrap_sockopt(cfg.sockopt, t)
        host, port = self._connect_target(cfg)
        connector = TcpConnector(
            addresses,
            now,
            open_socket=opensocket,
            close_socket=close_attempt,
            sockopt=sockopt,
            happy_eyeballs_timeout=cfg.happy_eyeballs,
            interface=cfg.interface,
            local_port=cfg.local_port,
            local_port_range=cfg.local_port_range,
            tcp_nodelay=cfg.tcp_nodelay,
            unix_path=cfg.unix_path,
            host=host,
            port=port,
        )
        conn.connector = connector

    def _connecting(self, t: Transfer, now: float) -> None:
        conn = t.conn
        assert conn is not None
        cfg = t.cfg
        assert cfg is not None
        connector = conn.connector
        if connector is not None:
            try:
                sock = connector.step(now)
            except CurlError:
                t.os_errno = connector.os_errno
                raise
            if cfg.verbose:
                for line in connector.log:
                    if not line.startswith("Connected to "):  # said below, in 8.23's words
                        self._info(t, line)
                connector.log.clear()
            if sock is None:
                fds = connector.pollset()
                fd_map = self.fd_map
                for fd in fds:
                    fd_map[fd] = t
                d = connector.deadline()
                if d is not None:
                    self.deadlines.set(t, T.HAPPY_EYEBALLS, d)
                else:
                    self.deadlines.clear(t, T.HAPPY_EYEBALLS)
                return
            self._tcp_connected(t, cfg, conn, sock, connector.peer, now)
        if (conn.stages or conn.step is not None) and not self._run_setup(t, cfg, conn, now):
            return
        self.deadlines.clear(t, T.CONNECT)
        if cfg.h2_prior or (conn.tls_key is not None and _alpn(conn.sock) == "h2"):
            conn.h2 = H2Session()
        if cfg.verbose:
            self._info(t, "using HTTP/2" if conn.h2 is not None else "using HTTP/1.x")
        self._attach(t, conn, now, reused=False)
        self._move(t, S.PERFORMING)
        if conn.maybe_h2:
            self._no_longer_coming(conn)
            if self.pending:
                self._kick_pending(now)

    def _tcp_connected(
        self,
        t: Transfer,
        cfg: Config,
        conn: Connection,
        sock: socket.socket,
        peer: Any,
        now: float,
    ) -> None:
        """The TCP link is up: record it and list the filters still to establish above it."""
        conn.connector = None
        conn.closefn = cfg.closesocket
        self.deadlines.clear(t, T.HAPPY_EYEBALLS)
        # The winner's fd may still be listed for this transfer from the attempts.
        conn.sock = sock
        conn.fd = sock.fileno()
        self.fd_map[conn.fd] = conn
        try:
            if peer is None:  # connected at once: the connect check did not ask
                peer = sock.getpeername()
            local = sock.getsockname()
        except OSError:
            peer = local = ("", 0)
        if isinstance(peer, tuple):
            conn.primary_ip, conn.primary_port = str(peer[0]), int(peer[1])
            conn.local_ip, conn.local_port = str(local[0]), int(local[1])
        elif isinstance(peer, str):
            conn.primary_ip = peer
        t.t_connect = now - t.t_start
        t.t_appconnect = 0.0
        if cfg.verbose:
            proxy = cfg.proxy
            host = proxy.host if proxy is not None else cfg.url.host
            self._info(
                t,
                f"Established connection to {host} ({conn.primary_ip} port"
                f" {conn.primary_port}) from {conn.local_ip} port {conn.local_port} ",
            )
        stages = []
        if cfg.proxy is not None and cfg.proxy.is_socks:
            stages.append("socks")
        if cfg.proxy_tls is not None:
            stages.append("proxy-tls")
        if cfg.connect_head is not None:
            stages.append("connect")
        if cfg.tls is not None:
            stages.append("tls")
        conn.stages = stages

    def _run_setup(self, t: Transfer, cfg: Config, conn: Connection, now: float) -> bool:
        """Establish the filters above TCP in order; True once all are (lib/cfilters.c)."""
        while True:
            step = conn.step
            if step is None:
                if not conn.stages:
                    return True
                made = self._make_step(t, cfg, conn, conn.stages[0], now)
                if made is None:
                    return False  # waiting for a name lookup
                step = conn.step = made
            stage = conn.stages[0]
            try:
                done = step.step()
            except CurlError:
                if isinstance(step, TlsHandshake):
                    self._record_verify(t, conn, step, stage)
                elif isinstance(step, ConnectTunnel) and step.head is not None:
                    self._connect_answer(t, cfg, conn, step.head)
                    if self._connect_auth(t, cfg, step.head, now):
                        return False
                raise
            finally:
                if step.log:
                    if cfg.verbose:
                        for line in step.log:
                            self._info(t, line)
                    step.log.clear()
            if not done:
                return False
            conn.stages.pop(0)
            conn.step = None
            if isinstance(step, TlsHandshake):
                self._record_verify(t, conn, step, stage)
                if stage == "tls":
                    t.t_appconnect = now - t.t_start
                    if cfg.tls is not None and cfg.tls.certinfo:
                        conn.certinfo = t.certinfo = step.certinfo()
            elif isinstance(step, ConnectTunnel):
                head = step.head
                assert head is not None
                self._connect_answer(t, cfg, conn, head)

    def _connect_auth(self, t: Transfer, cfg: Config, head: Head, now: float) -> bool:
        """A 407 to CONNECT that the proxy credentials can answer (Digest, or a scheme picked
        from the offer): open a new connection whose CONNECT carries the answer, as libcurl
        does when the proxy closes ("Connect me again please"). True when it did."""
        creds = cfg.tunnel_creds
        if head.status != 407 or creds is None or t.connect_head is not None:
            return False  # one round trip: a second 407 ends the transfer
        auth = t.hs.auth
        url = cfg.url
        decision = auth.on_response(407, head.headers, host=cfg.creds, proxy=creds)
        if not decision.retry:
            return False
        uri = f"[{url.host}]:{url.port}" if url.is_ipv6 else f"{url.host}:{url.port}"
        headers = auth.request_headers(
            "CONNECT", uri, host=cfg.creds, proxy=creds, connect=True, tunnel=True
        )
        value = next((v for name, v in headers if name == "Proxy-Authorization"), None)
        if value is None:
            return False
        t.connect_head = cfg.connect_head_with(value)
        self._info(t, "Connect me again please")
        self._reconnect(t, cfg, now)
        self.deadlines.set(t, T.RUN_NOW, now)
        return True

    def _make_step(
        self, t: Transfer, cfg: Config, conn: Connection, stage: str, now: float
    ) -> TlsHandshake | ConnectTunnel | SocksTunnel | None:
        """The filter for `stage`, or None while a name it needs is being looked up."""
        sock = conn.sock
        # Below the origin's TLS there is TCP or the proxy's TLS, never a TlsOverTls; over an
        # HTTPS proxy's SSLSocket, TlsHandshake layers the origin's session inside it.
        assert isinstance(sock, socket.socket)
        if stage == "socks":
            return self._socks_step(t, cfg, sock, now)
        if stage == "connect":
            head = t.connect_head or cfg.connect_head
            assert head is not None
            if cfg.verbose:
                url = cfg.url
                self._info(t, "CONNECT tunnel: HTTP/1.1 negotiated")
                self._info(t, "allocate connect buffer")
                self._info(t, f"Establish HTTP proxy tunnel to {url.host}:{url.port}")
                self._debug(t, INFO_HEADER_OUT, head)
            return ConnectTunnel(sock, head)
        if stage == "proxy-tls":
            proxy = cfg.proxy
            settings = cfg.proxy_tls
            assert proxy is not None and settings is not None
            host, port = proxy.host, proxy.port
        else:
            settings = cfg.tls
            assert settings is not None
            host, port = cfg.url.host, cfg.url.port
        ctx = _CONTEXTS.get(settings)
        session = None
        if stage == "tls" and cfg.tls_sessions:
            session = self.tls_sessions.get(host, port, settings)
            if session is not None and cfg.verbose:
                self._info(t, "SSL reusing session ID")
        hs = TlsHandshake(sock, ctx, host, settings, session)
        # The TLS socket took the socket over: from now on only it may be closed.
        conn.sock = hs.sock
        if stage == "tls":
            conn.tls_key = (host, port, settings)
        return hs

    def _socks_step(
        self, t: Transfer, cfg: Config, sock: socket.socket, now: float
    ) -> SocksTunnel | None:
        proxy = cfg.proxy
        assert proxy is not None
        url = cfg.url
        addr = None
        if proxy.scheme in ("socks4", "socks5"):
            # These carry an address: the target's name is resolved here, not by the proxy.
            addresses = self._lookup(t, cfg, url.host, url.port, now)
            if addresses is None:
                return None
            if proxy.scheme == "socks4":
                v4 = [a for a in addresses if a.family == socket.AF_INET]
                addresses = v4 or addresses
            addr = addresses[0].sockaddr
        if cfg.verbose:
            self._info(t, f"SOCKS{proxy.scheme[5]} connect to {url.host}:{url.port}")
        hs = SocksHandshake(
            proxy.scheme, url.host, url.port, addr, user=proxy.user, password=proxy.password
        )
        return SocksTunnel(sock, hs)

    def _record_verify(self, t: Transfer, conn: Connection, hs: TlsHandshake, stage: str) -> None:
        if stage == "proxy-tls":
            conn.proxy_verify_result = t.proxy_verify_result = hs.verify_result
        else:
            conn.verify_result = t.verify_result = hs.verify_result

    def _connect_answer(self, t: Transfer, cfg: Config, conn: Connection, head: Head) -> None:
        """The proxy opened the tunnel: its answer goes to the header callback (as libcurl)."""
        conn.connect_code = t.connect_code = head.status
        t.header_size += head.size
        self._header_lines(t, cfg, head.lines)

    def _header_lines(self, t: Transfer, cfg: Config, lines: list[bytes]) -> None:
        """Response header lines to DEBUGFUNCTION (verbose) and HEADERFUNCTION, in order."""
        fn = cfg.header_fn
        if cfg.verbose:
            for line in lines:
                self._debug(t, INFO_HEADER_IN, line)
                if fn is not None:
                    self._call_header(t, fn, (line,))
        elif fn is not None:
            self._call_header(t, fn, lines)

    # -- PERFORMING

    def _begin_request(self, t: Transfer, now: float) -> None:
        cfg = t.cfg
        assert cfg is not None
        probe = False
        if cfg.dynamic_head or t.hs.cookies is not None:
            head, probe = self._request_head(t, cfg)
        else:
            head = cfg.head_bytes
        t.up_cut = False
        conn = t.conn
        if conn is not None and conn.h2 is not None:
            self._h2_request(t, cfg, conn, conn.h2, head, probe, now)
            return
        body = cfg.body
        if cfg.body_kind == BODY_NONE or probe:
            t.sendbuf = head
            t.up = UP_NONE
        elif body is not None and not cfg.expect100 and len(body) <= 65536:
            # a small POSTFIELDS body goes out with the head, in one send
            t.sendbuf = head + body if body else head
            t.up = UP_NONE
            t.reader = None
        else:
            self._prepare_reader(t, cfg)
            t.sendbuf = head
            t.up = UP_HEAD
        t.sent = 0
        t.request_size = 0
        t.parser = ResponseParser(
            head_request=cfg.is_head,
            http09_allowed=cfg.http09,
            reused=conn is not None and conn.uses > 1,
            raw_chunked=not cfg.transfer_decoding,
        )
        self._request_begun(t, cfg, now)

    def _request_begun(self, t: Transfer, cfg: Config, now: float) -> None:
        """What every request (HTTP/1 or an HTTP/2 stream) starts with: no answer yet, the
        transfer PERFORMING, the low-speed watch from now."""
        t.head_done = False
        t.keep_alive = False
        if t.state != S.PERFORMING and (t.state == S.INIT or t.state == S.PENDING):
            self._move(t, S.PERFORMING)
        if cfg.low_speed_limit and cfg.low_speed_time:
            t.ls_mark = now
            t.ls_bytes = 0
            self.deadlines.set(t, T.LOW_SPEED, now + 1.0)

    def _request_head(self, t: Transfer, cfg: Config) -> tuple[bytes, bool]:
        """The head of a request whose headers change per request: authentication (Digest
        answers each challenge) and cookies (the jar changes); and whether it is the empty
        POST/PUT probe of a multipass authentication."""
        extra: list[tuple[str, str]] = []
        probe = False
        hs = t.hs
        if cfg.use_auth:
            auth = hs.auth
            extra.extend(
                auth.request_headers(
                    cfg.method,
                    cfg.auth_uri,
                    host=cfg.creds,
                    proxy=cfg.proxy_creds,
                    upload=cfg.body_kind != BODY_NONE,
                    custom_authorization=cfg.custom_authorization,
                    custom_proxy_authorization=cfg.custom_proxy_authorization,
                )
            )
            probe = auth.authneg
        jar = hs.cookies
        t.cookie_tally = None
        if jar is not None:
            url = cfg.url
            t.cookie_tally = SetCookieTally()
            value = jar.cookie_header(
                url.host,
                url.path,
                secure_context(url.scheme, url.host),
                int(time.time()),
                extra=cfg.cookie_opt,
            )
            if value is not None:
                extra.append(("Cookie", value))
        elif cfg.cookie_opt is not None:
            extra.append(("Cookie", cfg.cookie_opt))
        return cfg.build_head(extra, cfg.content_length, probe), probe

    def _prepare_reader(self, t: Transfer, cfg: Config) -> None:
        """The request body's reader: a new one, or the last request's rewound (a redirect, an
        auth round trip, a retry). Raises the rewind's CurlError (65)."""
        reader = t.reader
        if reader is None:
            t.reader = self._new_reader(cfg)
        elif reader.needs_rewind():
            try:
                reader.rewind()
            finally:
                if reader.exc is not None:
                    t.exc = reader.exc

    def _new_reader(self, cfg: Config) -> BodyReader:
        kind = cfg.body_kind
        if kind == BODY_BYTES:
            assert cfg.body is not None
            return BufferReader(cfg.body)
        if kind == BODY_FORM:
            body = cfg.form_body
            assert body is not None
            body.rewind()  # the Config (and its body) may have served an earlier transfer
            return FormReader(body)
        return CallbackReader(cfg.read_fn, cfg.seek_fn, cfg.ioctl_fn, cfg.upload_size)

    def _fill_upload(self, t: Transfer, cfg: Config) -> bool:
        """Put the body's next piece into `sendbuf` (chunk-framed when chunked); False when
        there is nothing to send now (the read callback paused) or the body is done."""
        reader = t.reader
        assert reader is not None
        n = cfg.upload_bufsize
        if cfg.chunked:
            n -= 12  # room for the chunk's size line and CRLF (curl sends 65524-byte chunks)
        data = self._read_body(t, reader, n)
        if data is None:
            t.paused |= PAUSE_SEND  # READFUNC_PAUSE: Curl.pause(PAUSE_CONT) resumes
            return False
        if not data:
            t.up = UP_DONE
            if not cfg.chunked:
                return False
            t.sendbuf = b"0\r\n\r\n"  # the last chunk
            return True
        if cfg.verbose:
            self._debug(t, INFO_DATA_OUT, data)
        t.size_ul += len(data)
        t.sendbuf = b"%x\r\n%b\r\n" % (len(data), data) if cfg.chunked else data
        return True

    @staticmethod
    def _read_body(t: Transfer, reader: BodyReader, n: int) -> bytes | None:
        """reader.read(n), keeping an exception a read callback raised on the transfer."""
        try:
            return reader.read(n)
        finally:
            if reader.exc is not None:
                t.exc = reader.exc

    def _send_request(
        self, t: Transfer, conn: Connection, sock: socket.socket | TlsOverTls, now: float
    ) -> bool:
        """Send what the request has to send now; True once all of it is sent."""
        cfg = t.cfg
        assert cfg is not None
        while True:
            sendbuf = t.sendbuf
            if sendbuf is None:
                if t.up == UP_BODY and not t.paused & PAUSE_SEND:
                    if cfg.max_send_speed and self._rate_limited(t, cfg.max_send_speed, now):
                        return False
                    if self._fill_upload(t, cfg):
                        continue
                if t.up == UP_DONE or t.up == UP_NONE:
                    self._request_sent(t, cfg, now)
                    return True
                return False
            if t.paused & PAUSE_SEND:
                return False
            try:
                n = sock.send(memoryview(sendbuf)[t.sent :] if t.sent else sendbuf)
            except _WOULD_BLOCK:
                return False
            except OSError as exc:
                if conn.uses > 1 and not t.retried and t.up in (UP_NONE, UP_HEAD):
                    self._retry(t, now, "Send failure")
                    return False
                if conn.tls_key is not None:
                    raise send_error(exc) from exc
                raise curl_error(exc, C.E_SEND_ERROR, "Send failure") from exc
            t.sent += n
            if t.sent < len(sendbuf):
                return False
            t.sendbuf = None
            t.sent = 0
            up = t.up
            if up == UP_NONE:
                t.request_size = len(sendbuf)
                self._request_sent(t, cfg, now, sendbuf)
                return True
            if up == UP_HEAD:
                t.request_size = len(sendbuf)
                if cfg.verbose:
                    self._debug(t, INFO_HEADER_OUT, sendbuf)
                t.t_pretransfer = now - t.t_start
                if not t.xfer_start:
                    t.xfer_start = now
                if cfg.expect100:
                    t.up = UP_WAIT
                    self.deadlines.set(t, T.EXPECT_100, now + cfg.expect_timeout)
                    return False
                t.up = UP_BODY
            elif up == UP_DONE:
                self._request_sent(t, cfg, now)
                return True

    def _request_sent(
        self, t: Transfer, cfg: Config, now: float, whole: bytes | None = None
    ) -> None:
        """The request is out. `whole`: the one buffer that held the head and any body."""
        if whole is not None:
            head_len = whole.find(b"\r\n\r\n") + 4
            t.size_ul = len(whole) - head_len
            t.t_pretransfer = now - t.t_start
            if cfg.verbose:
                self._debug(t, INFO_HEADER_OUT, whole[:head_len])
                if t.size_ul:
                    self._debug(t, INFO_DATA_OUT, whole[head_len:])
        t.up = UP_DONE
        if cfg.verbose:
            if t.reader is not None:
                self._info(t, f"upload completely sent off: {t.size_ul} bytes")
            else:
                self._info(t, "Request completely sent off")
        if cfg.server_response_timeout:
            self.deadlines.set(t, T.SERVER_RESPONSE, now + cfg.server_response_timeout)

    def _rate_limited(self, t: Transfer, speed: int, now: float) -> bool:
        """MAX_RECV/SEND_SPEED: whether to wait before more I/O, the average rate since the
        data started being above `speed` (libcurl's pgrsLimitWaitTime); the wait is a
        deadline, never a sleep."""
        if not t.xfer_start:
            t.xfer_start = now
        due = t.xfer_start + (t.size_dl + t.size_ul) / speed
        if due <= now:
            return False
        t.rate_until = due
        self.deadlines.set(t, T.RATE_LIMIT, due)
        return True

    def _recv_buffer(self, size: int) -> None:
        """The multi's one receive buffer (every recv_into goes there), made `size` long."""
        self.bufsize = size
        self.buf = bytearray(size)
        self.view = memoryview(self.buf)

    def _performing(self, t: Transfer, now: float) -> None:
        conn = t.conn
        assert conn is not None
        if conn.h2 is not None:
            if t.up == UP_BODY:
                self._h2_upload(t, conn, conn.h2, now)
            self.h2_dirty[conn] = None  # its I/O, once for all its streams, ends this call
            return
        sock = conn.sock
        assert sock is not None
        up = t.up
        if t.sendbuf is not None or up == UP_BODY:
            if not self._send_request(t, conn, sock, now):
                if t.up != UP_BODY and t.up != UP_WAIT:
                    return
                # while the body goes out (or waits for 100), the server may answer early
            elif t.up == UP_DONE and up != UP_BODY:
                # The answer cannot be there yet: wait for POLL_IN instead of a recv that
                # would fail with EAGAIN (one syscall saved per request).
                return
            if t.state != S.PERFORMING or t.conn is not conn:
                return
        if t.rate_until:
            if t.rate_until > now:
                return
            t.rate_until = 0.0
        if t.paused & PAUSE_RECV:
            return
        cfg = t.cfg
        assert cfg is not None
        bufsize = cfg.buffersize
        if self.bufsize != bufsize:
            self._recv_buffer(bufsize)
        view = self.view
        parser = t.parser
        assert parser is not None
        tls = conn.tls_key is not None
        while True:
            try:
                n = sock.recv_into(self.buf)
            except _WOULD_BLOCK:
                break
            except OSError as exc:
                if not parser.received_any and conn.uses > 1 and not t.retried:
                    self._retry(t, now, "Recv failure")
                    return
                self._head_cut_short(t, parser.partial_head_lines())
                if not tls:
                    raise curl_error(exc, C.E_RECV_ERROR, "Recv failure") from exc
                err = recv_error(exc)
                if err is not None:
                    raise err from exc
                n = 0  # the server's close_notify: an orderly end of stream
            if n == 0:
                if not parser.received_any and conn.uses > 1 and not t.retried:
                    self._retry(t, now, "Connection died")
                    return
                try:
                    events = parser.feed_eof()
                except ResponseError as err:
                    self._deliver_before_failure(t, err, now)
                    raise
                t.keep_alive = False
                self._process(t, events, now)
                if t.state in S.LIVE and t.conn is conn:
                    # feed_eof always ends the response (or a redirect moved on) or raises
                    self._finish(t, C.E_OK, "", now)
                return
            if not t.t_starttransfer:
                t.t_starttransfer = now - t.t_start
                if t.expires.get(T.SERVER_RESPONSE) is not None:
                    self.deadlines.clear(t, T.SERVER_RESPONSE)
            try:
                events = parser.feed(bytes(view[:n]))
            except ResponseError as err:
                self._deliver_before_failure(t, err, now)
                raise
            if events:
                self._process(t, events, now)
                if (
                    t.state not in S.LIVE
                    or t.paused & PAUSE_RECV
                    or t.conn is not conn
                    or t.parser is not parser
                ):
                    return
                if cfg.max_recv_speed and self._rate_limited(t, cfg.max_recv_speed, now):
                    return
            if n < bufsize and not tls:  # over TLS, a short read ends one record: read on
                break

    def _process(self, t: Transfer, events: list[Head | Body | End], now: float) -> None:
        """Deliver parser events to the application's callbacks, in order."""
        cfg = t.cfg
        assert cfg is not None
        i = 0
        n = len(events)
        while i < n:
            ev = events[i]
            i += 1
            tp = type(ev)
            if tp is Body:
                assert isinstance(ev, Body)
                if t.follow is not None:
                    # the body of a redirect that is followed is not the user's
                    if t.stream_id:
                        self._h2_consumed(t, len(ev.data))
                    continue
                decoder = t.decoder
                if decoder is not None:
                    t.size_dl += len(ev.data)  # SIZE_DOWNLOAD counts what came off the wire
                    if cfg.verbose:
                        self._debug(t, INFO_DATA_IN, ev.data)
                    decoder.feed(ev.data)
                    if t.stream_id:
                        self._h2_consumed(t, len(ev.data))
                    if not self._deliver_decoded(t, cfg, decoder, None):
                        t.held.extend(events[i:])
                        return
                    continue
                data = ev.data
                t.size_dl += len(data)
                if cfg.maxfilesize and t.size_dl > cfg.maxfilesize:
                    self._over_maxfilesize(t, cfg, data)
                if cfg.verbose:
                    self._debug(t, INFO_DATA_IN, data)
                if t.paused & PAUSE_RECV:
                    t.held.append(ev)
                    t.held.extend(events[i:])
                    return
                r = self._call_write(t, cfg.write_fn, data)
                if r == WRITEFUNC_PAUSE:
                    t.size_dl -= len(data)  # counted again when redelivered
                    t.paused |= PAUSE_RECV
                    t.held.append(ev)
                    t.held.extend(events[i:])
                    return
                if t.stream_id:
                    # HTTP/2 flow control: the application took it, the peer may send more
                    self._h2_consumed(t, len(data))
            elif tp is _Decoded:
                # decoded output held back by a pause, then the rest of that body piece
                decoder = t.decoder
                assert isinstance(ev, _Decoded) and decoder is not None
                if not self._deliver_decoded(t, cfg, decoder, ev.data):
                    t.held.extend(events[i:])
                    return
            elif tp is Head:
                assert isinstance(ev, Head)
                self._on_head(t, ev)
                if t.paused & PAUSE_RECV:
                    t.held.extend(events[i:])
                    return
            else:
                assert isinstance(ev, End)
                if t.switching:
                    self._h2_switch(t, now)
                    return
                if ev.trailers:
                    fn = cfg.header_fn
                    for line in ev.trailers:
                        t.header_size += len(line)
                        if fn is not None:
                            self._call_header(t, fn, (line,))
                parser = t.parser
                # Bytes after the response (an unsolicited extra) make the connection unusable.
                t.keep_alive = (
                    ev.keep_alive
                    and not (parser is not None and parser.leftover)
                    and not t.up_cut
                    and (t.up == UP_DONE or t.up == UP_NONE)
                )
                decoder = t.decoder
                if decoder is not None and t.follow is None:
                    decoder.feed_eof()
                    if not self._deliver_decoded(t, cfg, decoder, None):
                        t.held.append(ev)
                        t.held.extend(events[i:])
                        return
                if t.follow is not None:
                    self._follow(t, now)
                    return
                if cfg.progress is not None or cfg.progress_old is not None:
                    self._progress(t)  # the final update; it may still abort (42)
                self._finish(t, C.E_OK, "", now)
                return

    def _over_maxfilesize(self, t: Transfer, cfg: Config, data: bytes) -> None:
        """MAXFILESIZE passed during the body: deliver up to the limit, then fail (63)."""
        limit = cfg.maxfilesize
        keep = len(data) - (t.size_dl - limit)
        t.size_dl = limit
        if keep > 0:
            self._call_write(t, cfg.write_fn, data[:keep])
        raise CurlError(
            C.E_FILESIZE_EXCEEDED,
            f"Exceeded the maximum allowed file size ({limit}) with {limit} bytes",
        )

    def _deliver_decoded(
        self, t: Transfer, cfg: Config, decoder: ContentDecoder, first: bytes | None
    ) -> bool:
        """Hand decoded output to the write callback one bounded piece at a time, so a
        decompression bomb never sits in memory; False when a pause stopped it (the piece
        not taken is held). Raises CurlError (61) when the body does not decode."""
        chunk = first if first is not None else decoder.next_chunk()
        while chunk:
            if t.paused & PAUSE_RECV:
                t.held.append(_Decoded(chunk))
                return False
            r = self._call_write(t, cfg.write_fn, chunk)
            if r == WRITEFUNC_PAUSE:
                t.paused |= PAUSE_RECV
                t.held.append(_Decoded(chunk))
                return False
            chunk = decoder.next_chunk()
        return True

    def _deliver_before_failure(self, t: Transfer, err: ResponseError, now: float) -> None:
        """libcurl hands over what arrived before a protocol error, then fails the transfer."""
        if err.events:
            self._process(t, err.events, now)
        lines = err.lines
        if not lines and not err.events and t.parser is not None:
            lines = t.parser.partial_head_lines()
        self._head_cut_short(t, lines)

    def _head_cut_short(self, t: Transfer, lines: list[bytes]) -> None:
        """The lines of a head the transfer fails in: libcurl has taken the status from the
        first (RESPONSE_CODE) and passed each to HEADERFUNCTION as it parsed them."""
        cfg = t.cfg
        if not lines or cfg is None or t.head_done or t.state not in S.LIVE:
            return
        first = lines[0]
        if first[:5] == b"HTTP/" and first[9:12].isdigit():
            t.response_code = int(first[9:12])
        for line in lines:
            t.header_size += len(line)
        if cfg.header_fn is not None:
            self._call_header(t, cfg.header_fn, lines)

    def _on_head(self, t: Transfer, head: Head) -> None:
        cfg = t.cfg
        assert cfg is not None
        t.header_size += head.size
        # libcurl has parsed the status line before HEADERFUNCTION sees it.
        t.response_code = head.status
        self._header_lines(t, cfg, head.lines)
        status = head.status
        if 100 <= status < 200:
            if status == 100 and t.up == UP_WAIT:
                t.up = UP_BODY  # "100 Continue": send the body now
                self.deadlines.clear(t, T.EXPECT_100)
            elif status == 101 and cfg.h2_upgrade and t.stream_id == 0:
                t.switching = True  # the parser ends here; HTTP/2 frames follow
            return
        if t.up == UP_WAIT or (t.up == UP_BODY and status >= 300):
            # A final answer before the body went (all) out: stop sending it. The server
            # did not read what we did not send, so the connection cannot be reused.
            self.deadlines.clear(t, T.EXPECT_100)
            t.up = UP_DONE
            t.up_cut = True
            t.sendbuf = None
        t.head_done = True
        t.response_code = status
        t.http_version = head.version
        if head.content_length is not None:
            t.content_length = head.content_length
        location = None
        encodings: list[bytes] = []
        content_range = False
        jar = t.hs.cookies
        headers = head.headers
        for i in head.notable:
            name, value = headers[i]
            if name == b"content-type":
                t.content_type = value.decode("latin-1")
            elif name == b"content-encoding":
                encodings.append(value)
            elif name == b"location" and 300 <= status < 400:
                location = value
            elif name == b"set-cookie" and jar is not None:
                url = cfg.url
                jar.set_cookie(
                    value,
                    host=url.host,
                    path=url.path,
                    secure=secure_context(url.scheme, url.host),
                    now=int(time.time()),
                    tally=t.cookie_tally,
                )
            elif name == b"content-range":
                content_range = True
        if cfg.use_auth:
            decision = t.hs.auth.on_response(
                status,
                head.headers,
                host=cfg.creds,
                proxy=cfg.proxy_creds,
                upload=cfg.body_kind != BODY_NONE,
                fail_on_error=cfg.failonerror,
                resume_get=cfg.resume_from > 0 and cfg.body_kind == BODY_NONE,
            )
            if decision.result:
                t.keep_alive = False
                message = decision.message
                if not message:
                    # libcurl's http_should_fail says it for an error status; a refused
                    # probe that got a 2xx ends with the code's own text
                    message = (
                        f"The requested URL returned error: {status}"
                        if status >= 400
                        else "HTTP response code said error"
                    )
                raise CurlError(decision.result, message)
            if decision.retry:
                # the same request again, with the answer to the challenge; this body is
                # not the user's
                t.follow = cfg.url
                t.follow_same = True
                return
        if cfg.maxfilesize and t.content_length > cfg.maxfilesize:
            raise CurlError(C.E_FILESIZE_EXCEEDED, "Maximum file size exceeded")
        if (
            cfg.resume_from > 0
            and cfg.body_kind == BODY_NONE
            and not content_range
            and 200 <= status < 300
            and not cfg.is_head
        ):
            raise CurlError(
                C.E_RANGE_ERROR,
                "HTTP server does not seem to support byte ranges. Cannot resume.",
            )
        t.decoder = None
        if encodings and cfg.decode:
            decoder = ContentDecoder(encodings)  # more than 5 codings: 61 at once
            if not decoder.passthrough:
                t.decoder = decoder
        t.redirect_url = None
        if location is not None:  # any 3xx with a Location, 304 too (as libcurl 8.23)
            self._on_location(t, cfg, location.decode("latin-1").strip())
        if cfg.failonerror and status >= 400 and not cfg.use_auth:
            t.keep_alive = False
            raise CurlError(C.E_HTTP_RETURNED_ERROR, f"The requested URL returned error: {status}")

    def _on_location(self, t: Transfer, cfg: Config, location: str) -> None:
        """A 3xx with Location: remember where it points, and whether to go there."""
        try:
            target = resolve_reference(cfg.url, location)
        except CurlError as err:
            if not cfg.followlocation:
                t.redirect_url = location  # libcurl shows what it could not parse
                return
            # Raised when the response ends (libcurl counts the hop first).
            t.redirect_count += 1
            raise err
        if not cfg.followlocation:
            t.redirect_url = target.url()
            return
        t.follow = target
        t.redirect_url = target.url()

    def _follow(self, t: Transfer, now: float) -> None:
        """The response to a followed 3xx ended: start the request to its Location."""
        cfg = t.cfg
        target = t.follow
        assert cfg is not None and target is not None
        t.follow = None
        if t.follow_same:
            t.follow_same = False  # an authentication round trip: same URL, same options
            self._release(t, now, t.keep_alive)
            self._next_request(t, cfg, now)
            return
        if cfg.maxredirs >= 0 and t.redirect_count >= cfg.maxredirs:
            raise CurlError(C.E_TOO_MANY_REDIRECTS, f"Maximum ({cfg.maxredirs}) redirects followed")
        t.redirect_count += 1
        if target.scheme not in cfg.redir_schemes:
            t.effective_url = target.url()
            t.redirect_url = None
            check_scheme(target.scheme, cfg.redir_schemes, in_redirect=True)
        try:
            new_cfg = follow_config(cfg, target, t.response_code)
        except CurlError:
            t.effective_url = target.url()
            t.redirect_url = None
            raise
        if cfg.verbose:
            self._info(t, f"Issue another request to this URL: '{new_cfg.url_str}'")
        self._release(t, now, t.keep_alive)
        t.redirect_url = None
        t.effective_url = None
        t.t_redirect = now - t.t_start
        if new_cfg.body_kind == BODY_NONE:
            t.reader = None
        self._next_request(t, new_cfg, now)

    def _next_request(self, t: Transfer, cfg: Config, now: float) -> None:
        """Start the transfer's next request (a redirect or an auth round trip)."""
        t.cfg = cfg
        t.size_dl = 0
        t.size_ul = 0
        t.content_length = -1
        t.content_type = None
        t.head_done = False
        t.retried = False
        t.xfer_start = 0.0
        t.rate_until = 0.0
        self.deadlines.clear(t, T.SERVER_RESPONSE)
        self.deadlines.clear(t, T.LOW_SPEED)
        self.deadlines.clear(t, T.EXPECT_100)
        self.deadlines.clear(t, T.RATE_LIMIT)
        self._acquire(t, now)

    def _call_write(self, t: Transfer, fn: Callable[[bytes], Any], data: bytes) -> Any:
        try:
            r = fn(data)
        except Exception as exc:
            t.exc = exc
            # pycurl answers libcurl with 0 when the callback raised
            raise CurlError(
                C.E_WRITE_ERROR,
                f"Failure writing output to destination, passed {len(data)} returned 0",
            ) from exc
        if r is None or r == len(data) or r == WRITEFUNC_PAUSE:
            return r
        raise CurlError(
            C.E_WRITE_ERROR,
            f"Failure writing output to destination, passed {len(data)} returned {_ret(r)}",
        )

    def _call_header(self, t: Transfer, fn: Callable[[bytes], Any], lines: Sequence[bytes]) -> None:
        """HEADERFUNCTION for each of `lines` (a whole head at once: one call per head, not
        per line); CurlError(E_WRITE_ERROR) at the first line it does not take."""
        for line in lines:
            try:
                r = fn(line)
            except Exception as exc:
                t.exc = exc
                raise _header_refused(line, 0) from exc
            if r is not None and r != len(line):
                raise _header_refused(line, r)

    def _progress(self, t: Transfer) -> None:
        cfg = t.cfg
        assert cfg is not None
        dltotal = max(t.content_length, 0)
        ultotal = max(cfg.upload_size, 0) if cfg.body_kind != BODY_NONE else 0
        try:
            if cfg.progress is not None:
                r = cfg.progress(dltotal, t.size_dl, ultotal, t.size_ul)
            else:
                assert cfg.progress_old is not None
                r = cfg.progress_old(
                    float(dltotal), float(t.size_dl), float(ultotal), float(t.size_ul)
                )
        except Exception as exc:
            t.exc = exc
            raise CurlError(C.E_ABORTED_BY_CALLBACK, "Callback aborted") from exc
        if r:
            raise CurlError(C.E_ABORTED_BY_CALLBACK, "Callback aborted")

    def _retry(self, t: Transfer, now: float, why: str) -> None:
        """A reused connection died before any response byte: retry once on a new one."""
        self._info(t, f"{why} on a reused connection, retrying a fresh connect (retry count: 1)")
        t.retried = True
        t.size_dl = t.header_size = t.size_ul = 0
        t.sendbuf = None
        t.up = UP_NONE
        cfg = t.cfg
        assert cfg is not None
        self._reconnect(t, cfg, now)

    def _reconnect(self, t: Transfer, cfg: Config, now: float) -> None:
        """Close `t`'s connection (unannounced first) and start a new one for it."""
        conn = t.conn
        assert conn is not None
        t.conn = None
        conn.owner = None
        self.table.update(t, NO_POLL)
        self._close_conn(conn, now)
        self._open_connection(t, cfg, now)

    # ------------------------------------------------------------------ HTTP/2

    # Theory of operation: an HTTP/2 connection belongs to no transfer. Its streams' transfers
    # are in `conn.streams`; each stream's transfer asks for POLL_IN on the shared fd (so the
    # fd is watched while any stream wants data, SEMANTICS rule 9) and the connection itself
    # asks for POLL_OUT while the socket has not taken all h2 wants sent. `_h2_io` is the one
    # place that does the connection's I/O: it sends, reads what is there, and hands each
    # stream's events to its transfer through the same `_process` HTTP/1 uses. It runs when
    # the fd is ready (every stream on it, rule 4) and whenever one of its transfers runs.

    def _no_longer_coming(self, conn: Connection) -> None:
        conn.maybe_h2 = False
        key = conn.origin_key
        n = self.h2_coming.get(key, 0) - 1
        if n > 0:
            self.h2_coming[key] = n
        else:
            self.h2_coming.pop(key, None)

    def _h2_retire(self, conn: Connection) -> None:
        """The connection takes no new stream ever (GOAWAY, EOF, a failure); it closes when
        its last stream leaves."""
        conn.h2_broken = True
        self._h2_unlist(conn)

    def _h2_unlist(self, conn: Connection) -> None:
        """The connection takes no new stream (it goes idle, broke or closes)."""
        conns = self.h2_conns.get(conn.origin_key)
        if conns is not None and conn in conns:
            conns.remove(conn)
            if not conns:
                del self.h2_conns[conn.origin_key]

    def _h2_request(
        self,
        t: Transfer,
        cfg: Config,
        conn: Connection,
        h2: H2Session,
        head: bytes,
        probe: bool,
        now: float,
    ) -> None:
        """Open the request's stream: HEADERS now, a body from the reader as flow control
        lets it go (`_h2_upload`)."""
        has_body = cfg.body_kind != BODY_NONE and not probe
        if has_body:
            self._prepare_reader(t, cfg)
        url = cfg.url
        fields = h2_request_fields(
            head,
            url.scheme.encode(),
            url.authority().encode("latin-1"),
            drop_expect=cfg.expect100,
        )
        sid = h2.request(fields, end_stream=not has_body)
        t.stream_id = sid
        conn.streams[sid] = t
        # Wanting to read from now on: the fd stays watched for this stream even when the
        # others end before this transfer runs again (rule 10: no REMOVE while in use).
        self.table.update(t, ((conn.fd, POLL_IN),))
        t.parser = None
        t.sendbuf = None
        t.sent = 0
        t.request_size = len(head)
        t.t_pretransfer = now - t.t_start
        if not t.xfer_start:
            t.xfer_start = now
        if cfg.verbose:
            self._info(t, f"[HTTP/2] [{sid}] OPENED stream for {cfg.url_str}")
            for name, value in fields:
                self._info(
                    t, f"[HTTP/2] [{sid}] [{name.decode('latin-1')}: {value.decode('latin-1')}]"
                )
            first, _, rest = head.partition(b"\r\n")
            self._debug(t, INFO_HEADER_OUT, first.rpartition(b" ")[0] + b" HTTP/2\r\n" + rest)
        self._request_begun(t, cfg, now)
        if has_body:
            t.up = UP_BODY
        else:
            t.up = UP_NONE
            self._request_sent(t, cfg, now)

    def _h2_pending_io(self, now: float) -> None:
        """The I/O the connections' streams asked for during this call (each once)."""
        dirty = self.h2_dirty
        rounds = 0
        while dirty and rounds < 8:  # I/O may start streams on other connections
            rounds += 1
            conns = list(dirty)
            dirty.clear()
            for conn in conns:
                if not conn.closed:
                    self._h2_io(conn, now)
            self._run_expired(now)

    def _h2_switch(self, t: Transfer, now: float) -> None:
        """101 Switching Protocols: the connection speaks HTTP/2 from the byte after the
        101's head, and the request is stream 1 (RFC 7540 §3.2)."""
        t.switching = False
        conn = t.conn
        parser = t.parser
        assert conn is not None and parser is not None
        leftover = parser.leftover
        t.parser = None
        h2 = conn.h2 = H2Session(upgrade=True)
        conn.owner = None
        self.h2_conns.setdefault(conn.origin_key, []).append(conn)
        t.stream_id = 1
        conn.streams[1] = t
        self.table.update(t, ((conn.fd, POLL_IN),))
        self._info(t, "Received 101, Switching to HTTP/2")
        if leftover:
            try:
                events = h2.feed(leftover)
            except CurlError as exc:
                self._h2_failed(conn, exc, now)
                return
            self._h2_dispatch(conn, events, now)
        self._h2_io(conn, now)

    def _h2_upload(self, t: Transfer, conn: Connection, h2: H2Session, now: float) -> None:
        """Move the request body into the stream as far as its send window goes; a
        WINDOW_UPDATE (read by `_h2_io`) brings it back here."""
        cfg = t.cfg
        reader = t.reader
        assert cfg is not None and reader is not None
        sid = t.stream_id
        while t.up == UP_BODY and not t.paused & PAUSE_SEND:
            buf = t.sendbuf
            if buf is None:
                if cfg.max_send_speed and self._rate_limited(t, cfg.max_send_speed, now):
                    return
                if h2.send_window(sid) <= 0:
                    return
                data = self._read_body(t, reader, cfg.upload_bufsize)
                if data is None:
                    t.paused |= PAUSE_SEND  # READFUNC_PAUSE: Curl.pause(PAUSE_CONT) resumes
                    return
                if not data:
                    h2.end_stream(sid)
                    self._request_sent(t, cfg, now)
                    return
                if cfg.verbose:
                    self._debug(t, INFO_DATA_OUT, data)
                t.size_ul += len(data)
                t.sendbuf = buf = data
                t.sent = 0
            n = h2.send_body(sid, memoryview(buf)[t.sent :], end_stream=False)
            t.sent += n
            if t.sent < len(buf):
                return
            t.sendbuf = None
            t.sent = 0

    def _h2_consumed(self, t: Transfer, n: int) -> None:
        conn = t.conn
        if conn is not None and conn.h2 is not None:
            conn.h2.consumed(t.stream_id, n)

    def _h2_flush(self, conn: Connection, h2: H2Session) -> CurlError | None:
        """Send what h2 has queued, as far as the socket takes it; the rest waits for
        POLL_OUT on the connection's own pollset. Returns the send failure, if any."""
        out = h2.outgoing()
        if out:
            conn.outbuf += out
        buf = conn.outbuf
        sock = conn.sock
        if buf and sock is not None:
            while buf:
                try:
                    n = sock.send(buf)
                except _WOULD_BLOCK:
                    break
                except OSError as exc:
                    err = send_error(exc) if conn.tls_key is not None else None
                    if err is None:
                        err = curl_error(exc, C.E_SEND_ERROR, "Send failure")
                    err.__cause__ = exc
                    return err
                del buf[:n]
        ps: Pollset = ((conn.fd, POLL_OUT),) if buf else NO_POLL
        if ps != conn.pollset:
            self.table.update(conn, ps)
        return None

    def _h2_io(self, conn: Connection, now: float) -> None:
        """The connection's I/O: send, then read and deliver every stream's events."""
        h2 = conn.h2
        sock = conn.sock
        if h2 is None or sock is None or conn.closed:
            return
        err = self._h2_flush(conn, h2)
        if err is not None:
            self._h2_failed(conn, err, now)
            return
        tls = conn.tls_key is not None
        if not self.bufsize:  # its streams' BUFFERSIZE may differ: any buffer will do
            self._recv_buffer(DEFAULT_BUFFERSIZE)
        buf = self.buf
        view = self.view
        size = self.bufsize
        while True:
            try:
                n = sock.recv_into(buf)
            except _WOULD_BLOCK:
                break
            except OSError as exc:
                err = recv_error(exc) if tls else None
                if err is None and not tls:
                    err = curl_error(exc, C.E_RECV_ERROR, "Recv failure")
                if err is not None:
                    err.__cause__ = exc
                    self._h2_failed(conn, err, now)
                    return
                n = 0  # close_notify
            if n == 0:
                self._h2_eof(conn, now)
                return
            out = h2.outgoing()  # h2 may drop what is queued when a GOAWAY comes in
            if out:
                conn.outbuf += out
            try:
                events = h2.feed(bytes(view[:n]))
            except CurlError as exc:
                self._h2_flush(conn, h2)  # the GOAWAY h2 owes the peer, if it can go
                self._h2_failed(conn, exc, now)
                return
            if events:
                self._h2_dispatch(conn, events, now)
                if conn.closed:
                    return
            if h2.goaway is not None and not conn.h2_broken:
                self._h2_goaway(conn, h2.goaway, now)
                if conn.closed:
                    return
            # A short read drains a TCP socket; over TLS it ends one record, and the peer's
            # next records (other streams' answers) may be waiting: read on until EAGAIN.
            if n < size and not tls:
                break
        for t in list(conn.streams.values()):
            if t.up == UP_BODY and not t.paused & PAUSE_SEND:
                try:
                    self._h2_upload(t, conn, h2, now)
                except CurlError as exc:
                    self._fail(t, exc, now)
                    if conn.closed:
                        return
        err = self._h2_flush(conn, h2)
        if err is not None:
            self._h2_failed(conn, err, now)

    def _h2_dispatch(
        self,
        conn: Connection,
        events: list[tuple[int, Head | Body | End | Reset | Failed]],
        now: float,
    ) -> None:
        streams = conn.streams
        touched: dict[Transfer, None] = {}
        for sid, ev in events:
            t = streams.get(sid)
            if t is None:
                if type(ev) is Body and conn.h2 is not None:
                    conn.h2.consumed(sid, len(ev.data))  # a stream given up: keep the window
                continue
            if t.state not in S.LIVE or t.conn is not conn:
                continue
            touched[t] = None
            if not t.t_starttransfer:
                t.t_starttransfer = now - t.t_start
                if t.expires.get(T.SERVER_RESPONSE) is not None:
                    self.deadlines.clear(t, T.SERVER_RESPONSE)
            try:
                if isinstance(ev, Reset):
                    self._h2_reset(t, conn, ev, now)
                elif isinstance(ev, Failed):
                    # libcurl has taken the status and passed the fields before the bad one
                    if ev.status and not t.head_done:
                        t.response_code = ev.status
                    self._head_cut_short(t, ev.lines)
                    raise CurlError(ev.code, ev.message)
                elif t.held or t.paused & PAUSE_RECV:
                    t.held.append(ev)  # in order, behind what a pause holds
                else:
                    self._process(t, [ev], now)
            except CurlError as exc:
                self._fail(t, exc, now)
            if conn.closed:
                return
        for t in touched:
            if t.state in S.LIVE:
                cfg = t.cfg
                if cfg is not None and (cfg.progress is not None or cfg.progress_old is not None):
                    try:
                        self._progress(t)
                    except CurlError as exc:
                        self._fail(t, exc, now)
                        continue
                self._set_pollset(t)

    def _h2_reset(self, t: Transfer, conn: Connection, ev: Reset, now: float) -> None:
        """The stream was reset (lib/http2.c http2_handle_stream_close)."""
        sid = t.stream_id
        if ev.error_code == 7 and not t.head_done and not t.retried:  # REFUSED_STREAM
            self._info(t, f"[HTTP/2] [{sid}] REFUSED_STREAM, try again on a new connection")
            self._h2_requeue(t, conn, now, avoid=conn)
            return
        if ev.error_code:
            raise CurlError(
                C.E_HTTP2_STREAM,
                f"HTTP/2 stream {sid} reset by {'server' if ev.remote else 'curl'}"
                f" (error 0x{ev.error_code:x} {error_name(ev.error_code)})",
            )
        raise CurlError(
            C.E_PARTIAL_FILE if t.size_dl else C.E_HTTP2, f"HTTP/2 stream {sid} was reset"
        )

    def _h2_requeue(
        self, t: Transfer, conn: Connection, now: float, avoid: Connection | None
    ) -> None:
        """Send the request again elsewhere: the server did not process its stream (and
        expects nothing more on it: no RST_STREAM, as nghttp2 closes such streams quietly)."""
        t.retried = True
        t.conn = None
        self._h2_detach(t, conn, conn.h2, t.cfg, now, reset=False)
        t.size_dl = t.header_size = t.size_ul = 0
        t.sendbuf = None
        t.up = UP_NONE
        t.held = []
        t.decoder = None
        cfg = t.cfg
        assert cfg is not None
        self._acquire(t, now, avoid=avoid)
        self.deadlines.set(t, T.RUN_NOW, now)

    def _h2_goaway(self, conn: Connection, goaway: GoAway, now: float) -> None:
        """GOAWAY: no new stream here; the streams above its last id go elsewhere."""
        self._h2_retire(conn)
        for sid, t in list(conn.streams.items()):
            if t.cfg is not None:
                self._info(
                    t,
                    f"received GOAWAY, error={goaway.error_code},"
                    f" last_stream={goaway.last_stream_id}",
                )
            if sid > goaway.last_stream_id and t.conn is conn:
                self._h2_requeue(t, conn, now, avoid=conn)
        if not conn.streams and not conn.closed:
            self._close_conn(conn, now)

    def _h2_eof(self, conn: Connection, now: float) -> None:
        """The peer closed the connection: its unfinished streams fail, or go elsewhere when
        they had no answer on a reused connection (libcurl's retry of a dead connection)."""
        self._h2_retire(conn)
        for sid, t in list(conn.streams.items()):
            if t.conn is not conn or t.state not in S.LIVE:
                continue
            if not t.head_done and not t.size_dl and conn.uses > 1 and not t.retried:
                self._info(t, "Connection died, retrying a fresh connect (retry count: 1)")
                self._h2_requeue(t, conn, now, avoid=conn)
                continue
            self._fail(
                t,
                CurlError(
                    C.E_HTTP2_STREAM,
                    f"HTTP/2 stream {sid} was not closed cleanly before end of the"
                    " underlying stream",
                ),
                now,
            )
        if not conn.closed:
            self._close_conn(conn, now)

    def _h2_failed(self, conn: Connection, err: CurlError, now: float) -> None:
        """A connection-wide failure ends every transfer on the connection with it."""
        self._h2_retire(conn)
        for t in list(conn.streams.values()):
            if t.conn is conn and t.state in S.LIVE:
                failure = CurlError(err.code, err.message)
                failure.__cause__ = err.__cause__
                self._fail(t, failure, now)
        if not conn.closed:
            self._close_conn(conn, now)

    def _h2_detach(
        self,
        t: Transfer,
        conn: Connection,
        h2: H2Session | None,
        cfg: Config | None,
        now: float,
        reset: bool = True,
    ) -> None:
        """`t` leaves its stream (reset unless it ended, or `reset` is False); the
        connection goes idle or closes when it was the last one."""
        sid = t.stream_id
        t.stream_id = 0
        self.table.update(t, NO_POLL)
        if conn.streams.get(sid) is t:
            del conn.streams[sid]
            if h2 is not None and reset:
                h2.cancel(sid)
        if conn.streams or conn.closed:
            return
        self._save_tls_session(conn, cfg)
        if conn.h2_broken or conn.sock is None or cfg is None or cfg.forbid_reuse:
            self._close_conn(conn, now)
            return
        self._h2_unlist(conn)
        if h2 is not None and self._h2_flush(conn, h2) is not None:
            self._close_conn(conn, now)
            return
        if conn.pollset:
            self.table.update(conn, NO_POLL)  # idle connections are not watched (rule 10)
        self._pool_idle(t, conn, cfg, now)

    def _h2_alive(self, conn: Connection, sock: socket.socket | TlsOverTls, h2: H2Session) -> bool:
        """An idle HTTP/2 connection may have received frames (PING, SETTINGS, GOAWAY):
        read them; dead on EOF, error or GOAWAY."""
        if conn.h2_broken:
            return False
        while True:
            try:
                data = sock.recv(65536)
            except _WOULD_BLOCK:
                break
            except OSError:
                return False
            if not data:
                return False
            try:
                h2.feed(data)
            except CurlError:
                return False
            if h2.goaway is not None:
                return False
        return True

    # ------------------------------------------------------------------ ending

    def _set_pollset(self, t: Transfer) -> None:
        st = t.state
        ps: Pollset
        if st == S.PERFORMING:
            conn = t.conn
            assert conn is not None
            up = t.up
            if conn.h2 is not None:
                # A stream reads whenever it may take data; writing is the connection's
                # (its own pollset, while the socket has not taken all h2 wants sent).
                ps = NO_POLL if t.paused & PAUSE_RECV else ((conn.fd, POLL_IN),)
            elif t.rate_until:
                ps = NO_POLL  # MAX_*_SPEED: the RATE_LIMIT deadline wakes it
            elif up in (UP_NONE, UP_HEAD):
                if t.sendbuf is not None:
                    ps = NO_POLL if t.paused & PAUSE_SEND else ((conn.fd, POLL_OUT),)
                else:
                    ps = NO_POLL if t.paused & PAUSE_RECV else ((conn.fd, POLL_IN),)
            elif up == UP_BODY and not t.paused & PAUSE_SEND:
                ps = ((conn.fd, POLL_OUT if t.paused & PAUSE_RECV else POLL_INOUT),)
            elif t.paused & PAUSE_RECV:
                ps = NO_POLL
            else:
                ps = ((conn.fd, POLL_IN),)
        elif st == S.CONNECTING:
            conn = t.conn
            assert conn is not None
            connector = conn.connector
            if connector is not None:
                ps = tuple((fd, POLL_OUT) for fd in connector.pollset())
            elif conn.step is not None:
                ps = ((conn.fd, POLL_OUT if conn.step.want_write else POLL_IN),)
            else:
                ps = NO_POLL
        else:
            ps = NO_POLL
        if ps != t.pollset:
            self.table.update(t, ps)
            self.table.flush()

    def _stop(self, t: Transfer, now: float) -> None:
        """Tear a live transfer down without a message (remove_handle)."""
        if t.reader is not None:
            t.reader.close()
        self._release(t, now, keep=False)
        self.deadlines.clear_all(t)
        if t.state == S.PENDING:
            self.pending.remove(t)
        self._move(t, S.DONE)
        self._move(t, S.COMPLETED)
        t.t_total = now - t.t_start if t.t_start else 0.0

    def _release(self, t: Transfer, now: float, keep: bool) -> None:
        """Detach `t` from its lookup and connection: back to the pool when `keep`."""
        lookup = t.lookup
        if lookup is not None:
            t.lookup = None
            waiters = self.lookup_waiters.get(lookup)
            if waiters and t in waiters:
                waiters.remove(t)
                if not waiters:
                    del self.lookup_waiters[lookup]
                    if self.resolver is not None:
                        self.resolver.cancel(lookup)
        conn = t.conn
        self.table.update(t, NO_POLL)
        self.table.flush()
        if conn is None:
            return
        t.conn = None
        cfg = t.cfg
        if conn.h2 is not None:
            self._h2_detach(t, conn, conn.h2, cfg, now)
            return
        conn.owner = None
        self._save_tls_session(conn, cfg)
        if keep and conn.sock is not None and cfg is not None and not cfg.forbid_reuse:
            self._pool_idle(t, conn, cfg, now)
        else:
            self._close_conn(conn, now)

    def _save_tls_session(self, conn: Connection, cfg: Config | None) -> None:
        tls_key = conn.tls_key
        if (
            tls_key is not None
            and not conn.session_saved
            and conn.sock is not None
            and cfg is not None
            and cfg.tls_sessions
        ):
            # Late, so a TLS 1.3 ticket that came after the handshake is in the session; once
            # per connection, as reading SSLSocket.session costs ~150 µs (a new session
            # object), and only after a full handshake: a resumed connection's session is the
            # one already cached, and each read of SSLSocket.session leaks ~6 KB in CPython
            # 3.11 with OpenSSL 3.0 (measured: 8,000 reads, +47 MB RSS).
            host, port, settings = tls_key
            sock = conn.sock
            if isinstance(sock, (ssl.SSLSocket, TlsOverTls)) and not sock.session_reused:
                self.tls_sessions.put(host, port, settings, sock)
            conn.session_saved = True

    def _pool_idle(self, t: Transfer, conn: Connection, cfg: Config, now: float) -> None:
        """Put a connection that may carry another request into the idle pool."""
        conn.idle_since = now
        limit = self.maxconnects
        if limit <= 0:
            # libcurl: without M_MAXCONNECTS the pool holds 4 per added handle; an easy
            # handle's own pool (Curl.perform) holds CURLOPT_MAXCONNECTS, default 5.
            # The count does not shrink as a batch drains (a driver that removes each
            # handle when it ends would otherwise close the pool down to a few).
            limit = cfg.maxconnects if self.easy_pool else 4 * self.most_added
            limit = limit or 5
        for old in self.pool.put_idle(conn, limit):
            self._close_conn(old, now)
        if cfg.verbose:
            self._info(t, f"Connection #{conn.id} to host {cfg.url.authority()} left intact")

    def _finish(self, t: Transfer, code: int, msg: str, now: float) -> None:
        """End a live transfer with `code`: queue its DONE message (rule 5, 23)."""
        if t.state not in S.LIVE:
            return
        if t.reader is not None:
            t.reader.close()
        keep = code == C.E_OK and t.keep_alive
        if code != C.E_OK and t.cfg is not None and t.cfg.verbose:
            self._info(t, msg)
        self._release(t, now, keep)
        self.deadlines.clear_all(t)
        if t.state == S.PENDING:
            self.pending.remove(t)
        t.result = code
        t.errmsg = msg
        t.t_total = now - t.t_start if t.t_start else now - t.t_added
        self._move(t, S.DONE)
        self._move(t, S.COMPLETED)
        self.msgs.append(t)
        self.running -= 1
        if self.pending:
            self._kick_pending(now)

    def _close_conn(self, conn: Connection, now: float) -> None:
        """Close a connection: un-announce, then close (rule 10)."""
        if conn.closed:
            return
        conn.closed = True
        self.pool.closed(conn)
        if conn.maybe_h2:
            self._no_longer_coming(conn)
        if conn.h2 is not None:
            self._h2_unlist(conn)
            if conn.pollset:
                self.table.update(conn, NO_POLL)
        connector = conn.connector
        if connector is not None:
            conn.connector = None
            connector.abort()
        sock = conn.sock
        if sock is not None:
            conn.sock = None
            fd = conn.fd
            if self.fd_map.get(fd) is conn:
                del self.fd_map[fd]
            self.table.forget(fd)
            close_idle_socket(conn, sock)

    def _close_socket(
        self, sock: socket.socket, owner: Transfer, closefn: Callable[[int], Any] | None
    ) -> None:
        """Close a connect-attempt socket: drop it from the owner's pollset, REMOVE, close."""
        fd = sock.fileno()
        if fd < 0:
            return
        ps = owner.pollset
        if any(p[0] == fd for p in ps):
            self.table.update(owner, tuple(p for p in ps if p[0] != fd))
        if self.fd_map.get(fd) is owner:
            del self.fd_map[fd]
        self.table.forget(fd)
        if closefn is not None:
            try:
                closefn(fd)
            except Exception:
                pass
            sock.detach()
        else:
            sock.close()

    # ------------------------------------------------------------------ verbose output

    def _info(self, t: Transfer, text: str) -> None:
        cfg = t.cfg
        if cfg is None or not cfg.verbose or not text:
            return
        self._debug(t, INFO_TEXT, (text + "\n").encode("latin-1", "replace"))

    def _debug(self, t: Transfer, kind: int, data: bytes) -> None:
        cfg = t.cfg
        assert cfg is not None
        fn = cfg.debug
        if fn is not None:
            try:
                fn(kind, data)
            except Exception:
                pass  # libcurl ignores the debug callback's return value
            return
        if kind == INFO_TEXT:
            sys.stderr.write("* " + data.decode("latin-1"))
        elif kind == INFO_HEADER_OUT:
            for line in data.split(b"\r\n")[:-1]:
                sys.stderr.write("> " + line.decode("latin-1") + "\n")
        elif kind == INFO_HEADER_IN:
            sys.stderr.write("< " + data.decode("latin-1"))


def close_idle_socket(conn: Connection, sock: socket.socket | TlsOverTls) -> None:
    """Close a connection's socket that nothing watches (any announcement is already undone):
    through CLOSESOCKETFUNCTION when the application set one, as libcurl does."""
    closefn = conn.closefn
    if closefn is not None:
        # CLOSESOCKETFUNCTION: the application closes the fd it may have opened.
        fd = conn.fd
        sock.detach()
        try:
            closefn(fd)
        except Exception:
            pass
    else:
        try:
            sock.close()
        except OSError:
            pass


def _ret(r: Any) -> str:
    """A write callback's return value as libcurl saw it: pycurl passes ints as size_t
    (so -1 prints as 2**64-1), bools as 0/1, and anything else as 0."""
    if isinstance(r, int):
        return str(int(r) % (1 << 64))
    return "0"


def _header_refused(line: bytes, r: Any) -> CurlError:
    """The error for a HEADERFUNCTION that did not take all of `line` (returned `r`)."""
    return CurlError(
        C.E_WRITE_ERROR,
        f"Failure writing output to destination, passed {len(line)} returned {_ret(r)}",
    )


class CurlSockAddr(NamedTuple):
    """What pycurl's OPENSOCKETFUNCTION receives about the address to connect to."""

    family: int
    socktype: int
    protocol: int
    addr: Any


def _wrap_opensocket(
    fn: Callable[[int, CurlSockAddr], Any],
) -> Callable[[int, int, int, Any], socket.socket | None]:
    """Adapt pycurl's OPENSOCKETFUNCTION(purpose, CurlSockAddr) and its results (a socket,
    an fd, or SOCKET_BAD) to the connector's hook, which wants a socket or None."""

    def open_socket(family: int, socktype: int, proto: int, addr: Any) -> socket.socket | None:
        r = fn(0, CurlSockAddr(family, socktype, proto, addr))  # CURLSOCKTYPE_IPCXN
        if isinstance(r, socket.socket):
            # The application keeps its object; the engine works on its own duplicate.
            return socket.socket(fileno=os.dup(r.fileno()))
        if isinstance(r, int) and r >= 0:
            return socket.socket(fileno=r)
        return None

    return open_socket


def _wrap_sockopt(fn: Callable[[int, int], Any], t: Transfer) -> Callable[[socket.socket], int]:
    """Adapt pycurl's SOCKOPTFUNCTION(fd, purpose) to the connector's hook."""

    def sockopt(sock: socket.socket) -> int:
        try:
            r = fn(sock.fileno(), 0)  # CURLSOCKTYPE_IPCXN
        except Exception as exc:
            t.exc = exc
            return 1  # CURL_SOCKOPT_ERROR
        return 0 if r is None else int(r)

    return sockopt


def _wait_key(cfg: Config) -> tuple[Any, ...]:
    """What a queued transfer waits for: transfers with the same key start in order."""
    return (cfg.origin_key, cfg.pipewait, cfg.fresh_connect)


def _alpn(sock: socket.socket | TlsOverTls | None) -> str | None:
    """The protocol the TLS handshake picked (ALPN), if any."""
    if isinstance(sock, (ssl.SSLSocket, TlsOverTls)):
        return sock.selected_alpn_protocol()
    return None


def _tls_alive(sock: socket.socket | TlsOverTls) -> bool:
    """Dead-connection check for an idle TLS connection: nothing readable, or only TLS
    records that carry no data (a late session ticket)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    if not readable:
        return True
    try:
        sock.recv(1)
    except ssl.SSLWantReadError:
        return True
    except OSError:
        return False
    return False  # EOF, close_notify or unsolicited bytes


def _proxy_resolve_error(cfg: Config, err: CurlError) -> CurlError:
    """A failed lookup of the proxy's name is libcurl's E_COULDNT_RESOLVE_PROXY."""
    proxy = cfg.proxy
    if proxy is None or err.code != C.E_COULDNT_RESOLVE_HOST:
        return err
    return CurlError(C.E_COULDNT_RESOLVE_PROXY, f"Could not resolve proxy: {proxy.host}")
