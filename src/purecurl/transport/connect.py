"""Non-blocking TCP (and AF_UNIX) connection setup with happy eyeballs.

Theory of operation: a `TcpConnector` owns the connection attempts for one connection. The
address list is reordered as RFC 8305 s4 asks: families interleaved, starting with the family
of the first address (what the resolver put first). `step(now)` does all the work and never
blocks:

1. it asks every attempt in progress whether it finished, without trusting the event mask
   the application gave socket_action (SEMANTICS rule 3): one `poll` with timeout 0, then
   SO_ERROR and getpeername for the ready ones;
2. it starts the next address when nothing is in progress, when an attempt just failed, or
   when `happy_eyeballs_timeout` passed since the last start (RFC 8305 s5 "Connection
   Attempt Delay"; libcurl's CURLOPT_HAPPY_EYEBALLS_TIMEOUT_MS, default 200 ms). A connect
   refused at once (common on loopback) fails the attempt inside the same call;
3. the first attempt to connect wins: the others are handed to `close_socket` and the
   winner is returned. When every address failed, `step` raises the CurlError libcurl
   reports ("Failed to connect to HOST:PORT after N ms: Could not connect to server").

Sockets are only ever closed through the engine's `close_socket`, which un-announces the fd
(POLL_REMOVE) before closing it (SEMANTICS rule 10). The connect timeout is not enforced
here: the engine's deadline structure owns every timeout (rule 18); `deadline()` only says
when the next happy-eyeballs attempt is due. `log` collects libcurl-style info lines for
VERBOSE/DEBUGFUNCTION; the engine empties it.
"""

from __future__ import annotations

import errno
import select
import socket
from collections import deque
from collections.abc import Callable
from typing import Any

from purecurl._codes import (
    E_ABORTED_BY_CALLBACK,
    E_COULDNT_CONNECT,
    E_INTERFACE_FAILED,
    E_OPERATION_TIMEDOUT,
    easy_strerror,
)
from purecurl._errors import CurlError
from purecurl.transport.oserrors import errno_of, strerror
from purecurl.transport.resolver import Address, numeric_address

__all__ = [
    "SOCKOPT_ALREADY_CONNECTED",
    "SOCKOPT_ERROR",
    "SOCKOPT_OK",
    "Attempt",
    "CloseSocket",
    "OpenSocket",
    "SockOpt",
    "TcpConnector",
]

OpenSocket = Callable[[int, int, int, tuple[Any, ...]], "socket.socket | None"]
CloseSocket = Callable[[socket.socket], None]
SockOpt = Callable[[socket.socket], int]

# CURLOPT_SOCKOPTFUNCTION return values (curl.h CURL_SOCKOPT_*)
SOCKOPT_OK = 0
SOCKOPT_ERROR = 1
SOCKOPT_ALREADY_CONNECTED = 2

_IN_PROGRESS = frozenset({errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN, errno.EALREADY})
_SO_BINDTODEVICE: int | None = getattr(socket, "SO_BINDTODEVICE", None)
_SIOCGIFADDR = 0x8915  # Linux ioctl: an interface's IPv4 address
_HAS_POLL = hasattr(select, "poll")
_STREAM_NONBLOCK = socket.SOCK_STREAM | getattr(socket, "SOCK_NONBLOCK", 0)
_POLL_MASK = select.POLLOUT | select.POLLERR | select.POLLHUP | select.POLLNVAL if _HAS_POLL else 0


def _display(addr: Address) -> str:
    if addr.family == socket.AF_INET6:
        return f"[{addr.sockaddr[0]}]:{addr.sockaddr[1]}"
    if addr.family == socket.AF_INET:
        return f"{addr.sockaddr[0]}:{addr.sockaddr[1]}"
    return f"{addr.sockaddr[0]}:0"


def _interleave(addresses: list[Address]) -> list[Address]:
    """RFC 8305 s4: alternate families, first family first, keeping each family's order."""
    if not addresses:
        return []
    first = addresses[0].family
    primary = [a for a in addresses if a.family == first]
    secondary = [a for a in addresses if a.family != first]
    if not secondary:
        return primary
    out: list[Address] = []
    for i in range(max(len(primary), len(secondary))):
        if i < len(primary):
            out.append(primary[i])
        if i < len(secondary):
            out.append(secondary[i])
    return out


def _interface_ipv4(name: str) -> str | None:
    try:
        import fcntl
        import struct

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            packed = struct.pack("256s", name.encode("utf-8", "replace")[:15])
            res = fcntl.ioctl(probe.fileno(), _SIOCGIFADDR, packed)
        return socket.inet_ntoa(res[20:24])
    except (OSError, ImportError):
        return None


def _interface_ipv6(name: str, want_scope: int) -> tuple[str, int] | None:
    # /proc/net/if_inet6: "addr ifindex prefixlen scope flags name", scope 0x00 global,
    # 0x10 host, 0x20 link; like libcurl's Curl_if2ip, only an address of the remote's scope
    try:
        with open("/proc/net/if_inet6", encoding="ascii") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split()
        if len(parts) < 6 or parts[5] != name or int(parts[3], 16) != want_scope:
            continue
        ip = socket.inet_ntop(socket.AF_INET6, bytes.fromhex(parts[0]))
        return ip, (int(parts[1], 16) if want_scope == 0x20 else 0)
    return None


def _ipv6_scope(ip: str) -> int:
    if ip == "::1":
        return 0x10
    if ip.lower().startswith("fe8"):
        return 0x20
    return 0x00


class Attempt:
    """One connect attempt: the address, its socket while open, and how it ended."""

    __slots__ = ("address", "code", "error", "peer", "sock", "started", "state")

    def __init__(self, address: Address, started: float) -> None:
        self.address = address
        self.started = started
        self.sock: socket.socket | None = None
        self.state = "connecting"  # -> "connected" | "failed"
        self.error = 0  # errno of the failure, 0 if none
        self.code = 0  # CURLcode of the failure
        self.peer: Any = None  # getpeername() once the connect check saw it connected

    def __repr__(self) -> str:
        return f"<Attempt {_display(self.address)} {self.state}>"


class TcpConnector:
    """Connect to one of `addresses` (or to `unix_path`), happy-eyeballs style.

    See the module docstring. `host`/`port` are what error messages name (libcurl names the
    host the user asked for, or the proxy / CONNECT_TO host).
    """

    def __init__(
        self,
        addresses: list[Address],
        now: float,
        *,
        close_socket: CloseSocket,
        host: str,
        port: int,
        open_socket: OpenSocket | None = None,
        sockopt: SockOpt | None = None,
        happy_eyeballs_timeout: float = 0.2,
        interface: str | None = None,
        local_port: int = 0,
        local_port_range: int = 1,
        tcp_nodelay: bool = True,
        unix_path: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.started_at = now
        self.log: list[str] = []
        self.attempts: list[Attempt] = []
        self.connected: Attempt | None = None  # the winner, once there is one
        self.os_errno = 0  # CURLINFO_OS_ERRNO of the last failure
        self._open_socket = open_socket
        self._close_socket = close_socket
        self._sockopt = sockopt
        self._delay = happy_eyeballs_timeout
        self._local_port = local_port
        self._local_port_range = max(1, local_port_range)
        self._nodelay = tcp_nodelay
        self._unix = unix_path is not None
        if unix_path is not None:
            self._queue: deque[Address] = deque([Address(socket.AF_UNIX, (unix_path,))])
        else:
            self._queue = deque(_interleave(addresses))
        self._inflight: list[Attempt] = []
        self._last_start = now
        self._kick = False  # an attempt failed: the next one may start at once
        self._error: CurlError | None = None
        # CURLOPT_INTERFACE (lib/cf-socket.c Curl_parse_interface): "if!name" is only an
        # interface, "host!name" only a host/address, "ifhost!if!host" both, anything else
        # is tried as an interface first and then as a host name
        self._iface: str | None = None
        self._bind_host: str | None = None
        self._iface_only = False
        self._host_given = False
        if interface:
            if interface.startswith("if!"):
                self._iface, self._iface_only = interface[3:], True
            elif interface.startswith("host!"):
                self._bind_host, self._host_given = interface[5:], True
            elif interface.startswith("ifhost!"):
                iface, _, bind_host = interface[7:].partition("!")
                self._iface, self._bind_host = iface, bind_host
                self._iface_only = self._host_given = True
            else:
                self._iface = self._bind_host = interface

    def __repr__(self) -> str:
        state = (
            "connected"
            if self.connected
            else "failed"
            if self._error
            else f"inflight={len(self._inflight)} queued={len(self._queue)}"
        )
        return f"<TcpConnector {self.host}:{self.port} {state}>"

    # --- the engine's interface --------------------------------------------------------

    def step(self, now: float) -> socket.socket | None:
        """Make progress; return the connected socket once an attempt won, else None.

        The socket is non-blocking, with TCP_NODELAY set if asked. Raises CurlError:
        E_COULDNT_CONNECT (or E_OPERATION_TIMEDOUT when the OS said ETIMEDOUT) when every
        address failed, E_INTERFACE_FAILED when binding the local end failed,
        E_ABORTED_BY_CALLBACK when the SOCKOPTFUNCTION said so.
        """
        if self.connected is not None and self.connected.sock is not None:
            return self.connected.sock
        if self._error is not None:
            raise self._error
        if self._inflight:
            self._check()
        while (
            self.connected is None
            and self._queue
            and (not self._inflight or self._kick or now >= self._last_start + self._delay)
        ):
            self._start(self._queue.popleft(), now)
        if self.connected is not None:
            return self._won()
        if self._error is not None:
            raise self._error
        if not self._inflight and not self._queue:
            self._error = self._failure(now)
            raise self._error
        return None

    @property
    def peer(self) -> Any:
        """The winner's peer address as getpeername() gave it in the connect check; None if
        it connected at once (or nothing won yet)."""
        winner = self.connected
        return None if winner is None else winner.peer

    def pollset(self) -> list[int]:
        """The fds of attempts in progress; each wants POLL_OUT."""
        return [a.sock.fileno() for a in self._inflight if a.sock is not None]

    def deadline(self) -> float | None:
        """When `step` must run again to start the next attempt, or None if nothing is due."""
        if self.connected is None and self._queue and self._inflight:
            return self._last_start + self._delay
        return None

    def abort(self) -> None:
        """Hand every attempt socket still open to `close_socket`; the connector is done."""
        inflight, self._inflight = self._inflight, []
        self._queue.clear()
        for a in inflight:
            self._release(a)
        if self._error is None and self.connected is None:
            self._error = CurlError(E_COULDNT_CONNECT, "Connection attempt aborted")

    @property
    def primary(self) -> Address | None:
        """The address connected to (CURLINFO_PRIMARY_IP/PORT), once connected."""
        return self.connected.address if self.connected is not None else None

    # --- attempts ----------------------------------------------------------------------

    def _start(self, addr: Address, now: float) -> None:
        a = Attempt(addr, now)
        self.attempts.append(a)
        self.log.append(f"  Trying {_display(addr)}...")
        proto = 0 if self._unix else socket.IPPROTO_TCP
        nonblocking = False
        try:
            if self._open_socket is not None:
                sock = self._open_socket(addr.family, socket.SOCK_STREAM, proto, addr.sockaddr)
                if sock is None:
                    # CURL_SOCKET_BAD from OPENSOCKETFUNCTION: the application refused
                    self._fail(a, 0, "Could not open socket")
                    return
            else:
                # non-blocking from the start where the OS can: one syscall fewer
                sock = socket.socket(addr.family, _STREAM_NONBLOCK, proto)
                nonblocking = _STREAM_NONBLOCK != socket.SOCK_STREAM
        except OSError as exc:
            self._fail(a, errno_of(exc), f"Could not create socket: {strerror(exc)}")
            return
        a.sock = sock
        if not nonblocking:
            try:
                sock.setblocking(False)
            except OSError as exc:
                self._fail(a, errno_of(exc), strerror(exc))
                return
        if self._nodelay and not self._unix:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError as exc:
                self.log.append(f"Could not set TCP_NODELAY: {strerror(exc)}")
        already = False
        if self._sockopt is not None:
            rc = self._sockopt(sock)
            if rc == SOCKOPT_ALREADY_CONNECTED:
                already = True
            elif rc != SOCKOPT_OK:
                self._release(a)
                a.state = "failed"
                a.code = E_ABORTED_BY_CALLBACK
                self._abort_all()
                self._error = CurlError(
                    E_ABORTED_BY_CALLBACK, "Operation was aborted by an application callback"
                )
                return
        if not self._unix and (self._iface or self._bind_host or self._local_port):
            detail = self._bind(sock, addr)
            if detail is not None:
                self._fail(a, self.os_errno, detail, E_INTERFACE_FAILED)
                return
        if already:
            self._win(a)
            return
        try:
            # AF_UNIX takes the path itself; Address keeps it as a 1-tuple
            rc = sock.connect_ex(addr.sockaddr[0] if self._unix else addr.sockaddr)
        except (OSError, TypeError, ValueError) as exc:
            self._fail(a, errno_of(exc), f"Immediate connect fail for {_display(addr)}")
            return
        if rc == 0:
            self._win(a)
        elif rc in _IN_PROGRESS:
            self._inflight.append(a)
            self._last_start = now
            self._kick = False
        else:
            self._fail(a, rc)

    def _check(self) -> None:
        """Find out, without blocking, which attempts in progress finished."""
        fds = {a.sock.fileno(): a for a in self._inflight if a.sock is not None}
        if _HAS_POLL:
            poller = select.poll()
            for fd in fds:
                poller.register(fd, _POLL_MASK)
            ready = {fd for fd, _ev in poller.poll(0)}
        else:  # pragma: no cover - Windows
            _r, w, x = select.select([], list(fds), list(fds), 0)
            ready = set(w) | set(x)
        if not ready:
            return
        for a in list(self._inflight):  # start order: the earliest ready attempt wins
            sock = a.sock
            if sock is None or sock.fileno() not in ready:
                continue
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err == 0:
                try:
                    a.peer = sock.getpeername()
                except OSError as exc:
                    err = errno_of(exc) or errno.ECONNREFUSED
            if err == 0:
                self._inflight.remove(a)
                self._win(a)
                return
            self._fail(a, err)

    def _win(self, a: Attempt) -> None:
        a.state = "connected"
        self.connected = a

    def _won(self) -> socket.socket:
        winner = self.connected
        assert winner is not None and winner.sock is not None
        self._abort_all()
        self.log.append(f"Connected to {self.host} ({winner.address.ip}) port {self.port}")
        return winner.sock

    def _abort_all(self) -> None:
        inflight, self._inflight = self._inflight, []
        self._queue.clear()
        for a in inflight:
            if a is not self.connected:
                self._release(a)

    def _release(self, a: Attempt) -> None:
        sock, a.sock = a.sock, None
        if sock is not None:
            self._close_socket(sock)

    def _fail(
        self, a: Attempt, err: int, detail: str | None = None, code: int = E_COULDNT_CONNECT
    ) -> None:
        a.state = "failed"
        a.error = err
        a.code = code
        if err:
            self.os_errno = err
        if detail is None:
            # lib/cf-socket.c: "connect to %s port %u from %s port %d failed: %s"
            local: tuple[Any, ...] = ("0.0.0.0", 0)
            if a.sock is not None and not self._unix:
                try:
                    local = tuple(a.sock.getsockname())[:2]
                except OSError:
                    pass
            text = strerror(OSError(err, "")) if err else "unknown error"
            rport = self.port if self._unix else a.address.sockaddr[1]
            detail = (
                f"connect to {a.address.ip} port {rport}"
                f" from {local[0]} port {local[1]} failed: {text}"
            )
        self.log.append(detail)
        if a in self._inflight:
            self._inflight.remove(a)
        self._release(a)
        self._kick = True

    def _failure(self, now: float) -> CurlError:
        # libcurl 8.23 lib/connect.c: "Failed to connect to %s:%u after %d ms: %s", the host
        # as the URL names it (IPv6 without brackets or zone) and curl_easy_strerror() of the
        # result: E_INTERFACE_FAILED when binding failed, E_OPERATION_TIMEDOUT when the OS said
        # ETIMEDOUT, else E_COULDNT_CONNECT.
        elapsed = max(0, int((now - self.started_at) * 1000))
        if any(a.code == E_INTERFACE_FAILED for a in self.attempts):
            code = E_INTERFACE_FAILED
        elif self.os_errno == errno.ETIMEDOUT:
            code = E_OPERATION_TIMEDOUT
        else:
            code = E_COULDNT_CONNECT
        return CurlError(
            code,
            f"Failed to connect to {self.host}:{self.port} after {elapsed} ms: "
            + easy_strerror(code),
        )

    # --- CURLOPT_INTERFACE / LOCALPORT (lib/cf-socket.c bindlocal) ----------------------

    def _bind(self, sock: socket.socket, addr: Address) -> str | None:
        """Bind the local end; return None on success, else libcurl's failure text."""
        family = addr.family
        iface, host = self._iface, self._bind_host
        ip: str | None = None
        scope = 0
        last_err = errno.ENODEV
        if iface and _SO_BINDTODEVICE is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, _SO_BINDTODEVICE, iface.encode() + b"\0")
                if not self._host_given:
                    # bound to the device: libcurl binds no address and no port then
                    self.log.append(f"socket successfully bound to interface '{iface}'")
                    return None
            except OSError as exc:
                last_err = errno_of(exc) or last_err
        if iface and not self._host_given:
            if family == socket.AF_INET:
                ip = _interface_ipv4(iface)
            else:
                found = _interface_ipv6(iface, _ipv6_scope(addr.ip))
                if found is not None:
                    ip, scope = found
            if ip is not None:
                self.log.append(f"Local Interface {iface} is ip {ip} using address family {family}")
            elif self._iface_only:
                self.os_errno = last_err
                return (
                    f"Couldn't bind to interface '{iface}' with errno {last_err}: "
                    f"{strerror(OSError(last_err, ''))}"
                )
        if ip is None and host and (not self._iface_only or self._host_given):
            resolved = self._bind_address(host, family)
            if resolved is None:
                self.os_errno = last_err
                return (
                    f"Couldn't bind to '{host}' with errno {last_err}: "
                    f"{strerror(OSError(last_err, ''))}"
                )
            ip, scope = resolved
        if ip is None:
            ip = "::" if family == socket.AF_INET6 else "0.0.0.0"
        port = self._local_port
        tries = self._local_port_range
        while True:
            where: tuple[Any, ...] = (
                (ip, port, 0, scope) if family == socket.AF_INET6 else (ip, port)
            )
            try:
                sock.bind(where)
                self.log.append(f"Local port: {port}")
                return None
            except OSError as exc:
                last_err = errno_of(exc)
                tries -= 1
                if tries <= 0 or port == 0 or port >= 0xFFFF:
                    break
                port += 1
                self.log.append(f"Bind to local port {port - 1} failed, trying next")
        self.os_errno = last_err
        return f"bind failed with errno {last_err}: {strerror(OSError(last_err, ''))}"

    @staticmethod
    def _bind_address(host: str, family: int) -> tuple[str, int] | None:
        """The local address `host` names for `family`. Numeric addresses and localhost need
        no lookup; another name is looked up with getaddrinfo, which may block (libcurl
        resolves it synchronously too; it is usually in /etc/hosts)."""
        num = numeric_address(host, 0)
        if num is not None:
            if num.family != family:
                return None
            return str(num.sockaddr[0]), (int(num.sockaddr[3]) if family == socket.AF_INET6 else 0)
        if host.lower() == "localhost":
            return ("::1" if family == socket.AF_INET6 else "127.0.0.1"), 0
        try:
            infos = socket.getaddrinfo(host, None, family, socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return None
        for fam, _t, _p, _c, sockaddr in infos:
            if fam == family:
                found: tuple[Any, ...] = tuple(sockaddr)
                return str(found[0]), (int(found[3]) if len(found) > 3 else 0)
        return None
