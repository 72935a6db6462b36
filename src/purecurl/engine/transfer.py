"""A transfer and a connection: the engine's data, no logic.

Theory of operation: libcurl splits a transfer's data into `set` (what the user set; here the
face's option dict and the `Config` made from it, never written by the engine), `state` (what
survives a retry), `req` (reset per request) and `progress` (timings and counters, readable by
getinfo after the transfer ended, failed or not). Everything is a slot on `Transfer` so the hot
path does attribute loads, not dict lookups. The engine (`engine.multi`) is the only writer.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from purecurl.engine import state as S
from purecurl.engine.interest import NO_POLL, Pollset
from purecurl.proto.auth import HttpAuth
from purecurl.proto.cookies import CookieJar, SetCookieTally

if TYPE_CHECKING:
    from purecurl.engine.config import Config
    from purecurl.engine.upload import BodyReader
    from purecurl.transport.tls import TlsHandshake, TlsSettings
    from purecurl.transport.tls_in_tls import TlsOverTls
    from purecurl.transport.tunnel import ConnectTunnel, SocksTunnel

    SetupStep = TlsHandshake | ConnectTunnel | SocksTunnel
    from purecurl.proto.decoding import ContentDecoder
    from purecurl.proto.http1 import Body, End, Head, ResponseParser
    from purecurl.proto.http2 import H2Session
    from purecurl.proto.url import Url
    from purecurl.transport.connect import TcpConnector
    from purecurl.transport.resolver import Lookup


# Upload phases of a request (Transfer.up)
UP_NONE = 0  # nothing beyond `sendbuf` (no body, or a body sent with the head)
UP_HEAD = 1  # `sendbuf` is the head; the body follows from the reader
UP_WAIT = 2  # the head is sent; waiting for "100 Continue" (EXPECT_100_TIMEOUT_MS)
UP_BODY = 3  # sending the body from the reader
UP_DONE = 4  # the whole request is sent


class HandleState:
    """What an easy handle keeps across its transfers (libcurl keeps it in the easy handle's
    `state`): the authentication state (Digest nonce, picked scheme) and its cookie jar (None
    until a cookie option starts the cookie engine; a share's jar when cookies are shared)."""

    __slots__ = ("auth", "cookies")

    def __init__(self) -> None:
        self.auth = HttpAuth()
        self.cookies: CookieJar | None = None

    def load_cookie_file(self, path: str, now: int, session: bool = False) -> None:
        """Read a CURLOPT_COOKIEFILE into the jar (started if need be); a file that cannot
        be read is no error, as in libcurl."""
        if self.cookies is None:
            self.cookies = CookieJar()
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            return
        self.cookies.load(data, now=now, session=session)


class Connection:
    """One connection: a socket (after connect) and its reuse bookkeeping."""

    __slots__ = (
        "certinfo",
        "checked_at",
        "closed",
        "closefn",
        "connect_code",
        "connector",
        "fd",
        "h2",
        "h2_broken",
        "host_key",
        "id",
        "idle_since",
        "local_ip",
        "local_port",
        "maybe_h2",
        "origin_key",
        "outbuf",
        "owner",
        "pollset",
        "primary_ip",
        "primary_port",
        "proxy_verify_result",
        "session_saved",
        "sock",
        "stages",
        "step",
        "streams",
        "tls_key",
        "uses",
        "verify_result",
    )

    def __init__(self, cid: int, origin_key: Hashable, host_key: Hashable) -> None:
        self.id = cid
        self.origin_key = origin_key
        self.host_key = host_key
        self.sock: socket.socket | TlsOverTls | None = None
        self.fd = -1
        self.connector: TcpConnector | None = None
        self.closefn: Callable[[int], Any] | None = None
        self.owner: Transfer | None = None
        self.uses = 0
        self.idle_since = 0.0
        # when the socket was last known alive (set up, or probed before a reuse)
        self.checked_at = 0.0
        self.closed = False
        self.primary_ip = ""
        self.primary_port = 0
        self.local_ip = ""
        self.local_port = 0
        self.pollset: Pollset = NO_POLL
        # filters above TCP still to establish (engine._run_setup), the one in progress
        self.stages: list[str] = []
        self.step: SetupStep | None = None
        # TLS: the session cache key (host, port, settings) when the origin link is TLS
        self.tls_key: tuple[str, int, TlsSettings] | None = None
        self.session_saved = False  # its TLS session went to the session cache
        self.verify_result = 0
        self.proxy_verify_result = 0
        self.connect_code = 0
        self.certinfo: list[list[tuple[str, str]]] = []
        # HTTP/2: the session (None for HTTP/1), its streams' transfers by stream id, bytes
        # the socket did not take yet, whether it may carry no new stream (GOAWAY, an
        # error), whether it may still turn out to multiplex while it is being set up
        self.h2: H2Session | None = None
        self.streams: dict[int, Transfer] = {}
        self.outbuf = bytearray()
        self.h2_broken = False
        self.maybe_h2 = False

    def __repr__(self) -> str:
        return f"<Connection #{self.id} fd={self.fd} uses={self.uses} closed={self.closed}>"


class Transfer:
    """One added easy handle's transfer."""

    __slots__ = (
        "certinfo",
        "cfg",
        "conn",
        "connect_code",
        "connect_head",
        "content_length",
        "content_type",
        "cookie_tally",
        "deadline",
        "deadline_stamp",
        "decoder",
        "effective_url",
        "errmsg",
        "exc",
        "expires",
        "follow",
        "follow_same",
        "get_config",
        "handle",
        "head_done",
        "header_size",
        "held",
        "hs",
        "http_version",
        "keep_alive",
        "local_ip",
        "local_port",
        "lookup",
        "ls_bytes",
        "ls_mark",
        "ls_slow_since",
        "num_connects",
        "os_errno",
        "parser",
        "paused",
        "pollset",
        "primary_ip",
        "primary_port",
        "proxy_verify_result",
        "rate_until",
        "reader",
        "redirect_count",
        "redirect_url",
        "request_size",
        "response_code",
        "result",
        "retried",
        "sendbuf",
        "sent",
        "size_dl",
        "size_ul",
        "state",
        "stream_id",
        "switching",
        "t_added",
        "t_appconnect",
        "t_connect",
        "t_namelookup",
        "t_pretransfer",
        "t_redirect",
        "t_start",
        "t_starttransfer",
        "t_total",
        "up",
        "up_cut",
        "verify_result",
        "xfer_start",
    )

    def __init__(
        self, handle: Any, get_config: Callable[[], Config], hs: HandleState | None = None
    ) -> None:
        self.handle = handle
        self.get_config = get_config
        self.hs = hs if hs is not None else HandleState()
        self.cfg: Config | None = None
        self.state = S.INIT
        # deadlines (engine.timers)
        self.expires: dict[int, float] = {}
        self.deadline: float | None = None
        self.deadline_stamp = -1
        # interest (engine.interest)
        self.pollset: Pollset = NO_POLL
        # state
        self.conn: Connection | None = None
        self.lookup: Lookup | None = None
        self.result = 0
        self.errmsg = ""
        self.exc: BaseException | None = None
        self.os_errno = 0
        self.retried = False
        # redirects: the URL to follow once this response ends, the count so far, the
        # absolute Location of the last 3xx (CURLINFO_REDIRECT_URL), the URL in use when it
        # differs from the Config's (a redirect that failed before it could be used)
        self.follow: Url | None = None
        self.redirect_count = 0
        self.redirect_url: str | None = None
        self.effective_url: str | None = None
        self.paused = 0
        self.held: list[Head | Body | End] = []
        self.decoder: ContentDecoder | None = None  # Content-Encoding being undone
        # the request body's source (kept across requests: rewound for the next one), the
        # upload phase (UP_*), whether sending stopped before the body's end
        self.reader: BodyReader | None = None
        self.up = UP_NONE
        self.up_cut = False
        # the response asked for the same request again (an auth round trip)
        self.follow_same = False
        # the CONNECT request when it differs from the Config's (answering a proxy's 407)
        self.connect_head: bytes | None = None
        self.cookie_tally: SetCookieTally | None = None
        # MAX_RECV/SEND_SPEED: no I/O before this time (0: not limited); when data started
        self.rate_until = 0.0
        self.xfer_start = 0.0
        # req
        self.sendbuf: bytes | None = None
        self.sent = 0
        self.parser: ResponseParser | None = None
        self.stream_id = 0  # its HTTP/2 stream (0: HTTP/1, or none yet)
        self.switching = False  # a 101 answered its `Upgrade: h2c`
        self.head_done = False
        self.keep_alive = False
        # progress
        self.size_dl = 0
        self.size_ul = 0
        self.header_size = 0
        self.request_size = 0
        self.response_code = 0
        self.http_version = 0
        self.content_type: str | None = None
        self.content_length = -1
        self.primary_ip = ""
        self.primary_port = 0
        self.local_ip = ""
        self.local_port = 0
        self.num_connects = 0
        self.verify_result = 0
        self.proxy_verify_result = 0
        self.connect_code = 0
        self.certinfo: list[list[tuple[str, str]]] = []
        self.t_added = 0.0
        self.t_start = 0.0
        self.t_namelookup = 0.0
        self.t_connect = 0.0
        self.t_appconnect = 0.0
        self.t_pretransfer = 0.0
        self.t_starttransfer = 0.0
        self.t_total = 0.0
        self.t_redirect = 0.0
        self.ls_mark = 0.0
        self.ls_bytes = 0
        self.ls_slow_since = 0.0

    def __repr__(self) -> str:
        return f"<Transfer {S.NAMES[self.state]} result={self.result} conn={self.conn!r}>"

    @property
    def live(self) -> bool:
        return self.state in S.LIVE
