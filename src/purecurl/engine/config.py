"""What a transfer was asked to do: the user's options, resolved once per option generation.

Theory of operation: the pycurl face keeps the user's options (libcurl's `set` data) in a dict
keyed by option number and bumps a generation counter on every change. A transfer starts by
turning that dict into a `Config`: defaults filled in, the URL parsed, the request head
serialised. The engine never writes the options. Because a keep-alive workload re-runs the same
handle with the same options, the face caches the Config with its generation, and an unchanged
handle starts its next transfer without re-parsing anything.
"""

from __future__ import annotations

import base64
import os
import socket
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from purecurl import _codes as C
from purecurl import _consts
from purecurl._errors import CurlError
from purecurl._options import EASY_OPTIONS
from purecurl.proto.decoding import accept_encoding_value
from purecurl.proto.proxy import (
    FORWARD_PROXY_HEADER,
    ProxySpec,
    build_connect_request,
    forward_request_target,
    parse_proxy,
    select_proxy,
)
from purecurl.proto.request import build_request_head
from purecurl.proto.url import Url, default_port, parse_url
from purecurl.transport.resolver import parse_connect_to, parse_resolve_entries
from purecurl.transport.tls import TlsSettings

_NUM = {o.name: o.number for o in EASY_OPTIONS.values()}


def num(name: str, *aliases: str) -> int:
    """The libcurl number of the easy option called `name` (pycurl spelling, or an alias)."""
    for n in (name, *aliases):
        if n in _NUM:
            return _NUM[n]
    raise KeyError(name)


URL = num("URL")
PORT = num("PORT")
CUSTOMREQUEST = num("CUSTOMREQUEST")
NOBODY = num("NOBODY")
POST = num("POST")
HTTPGET = num("HTTPGET")
POSTFIELDS = num("POSTFIELDS")
COPYPOSTFIELDS = num("COPYPOSTFIELDS")
POSTFIELDSIZE_LARGE = num("POSTFIELDSIZE_LARGE")
POSTFIELDSIZE_LONG = 60  # CURLOPT_POSTFIELDSIZE (long); pycurl's name maps to the _LARGE number
HTTPHEADER = num("HTTPHEADER")
USERAGENT = num("USERAGENT")
REFERER = num("REFERER")
HTTP_VERSION = num("HTTP_VERSION")
WRITEFUNCTION = num("WRITEFUNCTION")
HEADERFUNCTION = num("HEADERFUNCTION")
XFERINFOFUNCTION = num("XFERINFOFUNCTION")
PROGRESSFUNCTION = num("PROGRESSFUNCTION")
NOPROGRESS = num("NOPROGRESS")
DEBUGFUNCTION = num("DEBUGFUNCTION")
VERBOSE = num("VERBOSE")
OPENSOCKETFUNCTION = num("OPENSOCKETFUNCTION")
CLOSESOCKETFUNCTION = num("CLOSESOCKETFUNCTION")
SOCKOPTFUNCTION = num("SOCKOPTFUNCTION")
TIMEOUT = num("TIMEOUT")
TIMEOUT_MS = num("TIMEOUT_MS")
CONNECTTIMEOUT = num("CONNECTTIMEOUT")
CONNECTTIMEOUT_MS = num("CONNECTTIMEOUT_MS")
LOW_SPEED_LIMIT = num("LOW_SPEED_LIMIT")
LOW_SPEED_TIME = num("LOW_SPEED_TIME")
SERVER_RESPONSE_TIMEOUT = num("SERVER_RESPONSE_TIMEOUT", "FTP_RESPONSE_TIMEOUT")
FORBID_REUSE = num("FORBID_REUSE")
FRESH_CONNECT = num("FRESH_CONNECT")
INTERFACE = num("INTERFACE")
LOCALPORT = num("LOCALPORT")
LOCALPORTRANGE = num("LOCALPORTRANGE")
TCP_NODELAY = num("TCP_NODELAY")
UNIX_SOCKET_PATH = num("UNIX_SOCKET_PATH")
IPRESOLVE = num("IPRESOLVE")
RESOLVE = num("RESOLVE")
CONNECT_TO = num("CONNECT_TO")
DNS_CACHE_TIMEOUT = num("DNS_CACHE_TIMEOUT")
HAPPY_EYEBALLS_TIMEOUT_MS = num("HAPPY_EYEBALLS_TIMEOUT_MS")
FAILONERROR = num("FAILONERROR")
BUFFERSIZE = num("BUFFERSIZE")
MAXCONNECTS = num("MAXCONNECTS")
HTTP09_ALLOWED = num("HTTP09_ALLOWED")
DEFAULT_PROTOCOL = num("DEFAULT_PROTOCOL")
OPT_CERTINFO = num("OPT_CERTINFO")
ACCEPT_ENCODING = num("ACCEPT_ENCODING")
HTTP_CONTENT_DECODING = num("HTTP_CONTENT_DECODING")
FOLLOWLOCATION = num("FOLLOWLOCATION")
MAXREDIRS = num("MAXREDIRS")
POSTREDIR = num("POSTREDIR")
AUTOREFERER = num("AUTOREFERER")
UNRESTRICTED_AUTH = num("UNRESTRICTED_AUTH")
REDIR_PROTOCOLS = num("REDIR_PROTOCOLS")
PROTOCOLS = num("PROTOCOLS")

# CURLPROTO_* bit -> scheme, for PROTOCOLS and REDIR_PROTOCOLS (the bits are _consts.PROTO_*)
_PROTO_BITS = tuple(
    (int(value), name[6:].lower())
    for name, value in vars(_consts).items()
    if name.startswith("PROTO_") and name != "PROTO_ALL"
)
# The option table holds libcurl's default (HTTP, HTTPS, FTP and FTPS since 7.65.2).
_DEFAULT_REDIR = int(EASY_OPTIONS[REDIR_PROTOCOLS].default)  # type: ignore[call-overload]
# CURL_REDIR_POST_301/302/303
_POST_301, _POST_302, _POST_303 = 1, 2, 4
SSL_ENABLE_ALPN = num("SSL_ENABLE_ALPN")
SSL_SESSIONID_CACHE = num("SSL_SESSIONID_CACHE")
PROXY = num("PROXY")
NOPROXY = num("NOPROXY")
PROXYPORT = num("PROXYPORT")
PROXYTYPE = num("PROXYTYPE")
PROXYUSERPWD = num("PROXYUSERPWD")
PROXYUSERNAME = num("PROXYUSERNAME")
PROXYPASSWORD = num("PROXYPASSWORD")
HTTPPROXYTUNNEL = num("HTTPPROXYTUNNEL")
PROXYHEADER = num("PROXYHEADER")
PROXYAUTH = num("PROXYAUTH")

# TlsSettings field -> (option, PROXY_ option); None where the proxy has no twin.
_TLS_OPTIONS: tuple[tuple[str, int, int | None], ...] = tuple(
    (field, num(name), num("PROXY_" + name) if proxy_twin else None)
    for field, name, proxy_twin in (
        ("verify_peer", "SSL_VERIFYPEER", True),
        ("verify_host", "SSL_VERIFYHOST", True),
        ("cainfo", "CAINFO", True),
        ("capath", "CAPATH", True),
        ("cainfo_blob", "CAINFO_BLOB", True),
        ("cert", "SSLCERT", True),
        ("key", "SSLKEY", True),
        ("certtype", "SSLCERTTYPE", True),
        ("keytype", "SSLKEYTYPE", True),
        ("keypasswd", "KEYPASSWD", True),
        ("cert_blob", "SSLCERT_BLOB", True),
        ("key_blob", "SSLKEY_BLOB", True),
        ("sslversion", "SSLVERSION", True),
        ("cipher_list", "SSL_CIPHER_LIST", True),
        ("tls13_ciphers", "TLS13_CIPHERS", True),
        ("pinned_pubkey", "PINNEDPUBLICKEY", True),
        ("crlfile", "CRLFILE", True),
        ("ssl_options", "SSL_OPTIONS", True),
    )
)

# CURL_HTTP_VERSION_*
HTTP_VERSION_NONE = 0
HTTP_VERSION_1_0 = 1
HTTP_VERSION_1_1 = 2

# CURL_IPRESOLVE_*
_IPRESOLVE_FAMILY = {0: socket.AF_UNSPEC, 1: socket.AF_INET, 2: socket.AF_INET6}

DEFAULT_BUFFERSIZE = 256 * 1024
DEFAULT_CONNECTTIMEOUT = 300.0  # libcurl's DEFAULT_CONNECT_TIMEOUT
SUPPORTED_SCHEMES = frozenset({"http", "https"})

# libcurl 8's default for CURLOPT_USERAGENT is none; pycurl sets its own (PYCURL-API.md).
from purecurl._version import USER_AGENT as DEFAULT_USER_AGENT  # noqa: E402

WriteFn = Callable[[bytes], Any]


def _stdout_write(data: bytes) -> None:
    # libcurl's default write target is stdout (fd 1), written raw; flush Python's own
    # buffer first so output stays in order.
    if sys.stdout is not None:
        sys.stdout.flush()
    view = memoryview(data)
    while view:
        n = os.write(1, view)
        view = view[n:]


def _ms(opts: dict[int, Any], sec_opt: int, ms_opt: int) -> float:
    """A timeout in seconds from a seconds option and its _MS twin; 0 means none."""
    ms = opts.get(ms_opt)
    if ms:
        return float(ms) / 1000.0
    s = opts.get(sec_opt)
    return float(s) if s else 0.0


class Config:
    """A transfer's resolved options (libcurl's `set`, read-only for the engine)."""

    __slots__ = (
        "autoreferer",
        "body",
        "buffersize",
        "closesocket",
        "connect_head",
        "connect_timeout",
        "connect_to",
        "debug",
        "decode",
        "dns_cache_timeout",
        "failonerror",
        "family",
        "followlocation",
        "forbid_reuse",
        "fresh_connect",
        "happy_eyeballs",
        "head_bytes",
        "header_fn",
        "host_key",
        "http09",
        "http10",
        "interface",
        "is_head",
        "local_port",
        "local_port_range",
        "low_speed_limit",
        "low_speed_time",
        "maxconnects",
        "maxredirs",
        "method",
        "opensocket",
        "opts",
        "origin_key",
        "postredir",
        "progress",
        "progress_old",
        "proxy",
        "proxy_tls",
        "redir_schemes",
        "resolve",
        "server_response_timeout",
        "sockopt",
        "tcp_nodelay",
        "timeout",
        "tls",
        "tls_sessions",
        "tunnel",
        "unix_path",
        "unrestricted_auth",
        "url",
        "url_str",
        "verbose",
        "write_fn",
    )

    def __init__(self, opts: dict[int, Any]) -> None:
        self.opts = opts
        self.followlocation = bool(opts.get(FOLLOWLOCATION))
        mr = opts.get(MAXREDIRS)
        self.maxredirs = 30 if mr is None else int(mr)
        self.postredir = int(opts.get(POSTREDIR) or 0)
        self.autoreferer = bool(opts.get(AUTOREFERER))
        self.unrestricted_auth = bool(opts.get(UNRESTRICTED_AUTH))
        rp = opts.get(REDIR_PROTOCOLS)
        rp = _DEFAULT_REDIR if rp is None else int(rp)
        allowed = opts.get(PROTOCOLS)
        if allowed is not None:
            rp &= int(allowed)
        self.redir_schemes = frozenset(name for bit, name in _PROTO_BITS if rp & bit)
        raw_url = opts.get(URL)
        if raw_url is None:
            raise CurlError(C.E_URL_MALFORMAT, "No URL set")
        default_scheme = opts.get(DEFAULT_PROTOCOL) or None
        url = parse_url(str(raw_url), default_scheme=default_scheme)
        if url.scheme not in SUPPORTED_SCHEMES:
            raise CurlError(C.E_UNSUPPORTED_PROTOCOL, f'Protocol "{url.scheme}" not supported')
        port_override = opts.get(PORT)
        if port_override:
            url = parse_url(_with_port(url, int(port_override)), default_scheme=default_scheme)
        self.url: Url = url
        self.url_str = url.url()

        # Method and body (CURLOPT_POST/POSTFIELDS/NOBODY/CUSTOMREQUEST/HTTPGET).
        body: bytes | None = None
        method = "GET"
        postfields = opts.get(COPYPOSTFIELDS)
        if postfields is None:
            postfields = opts.get(POSTFIELDS)
        if opts.get(HTTPGET):
            method = "GET"
        elif postfields is not None or opts.get(POST):
            method = "POST"
            data = bytes(postfields) if postfields is not None else b""
            size = opts.get(POSTFIELDSIZE_LARGE)
            if size is None:
                size = opts.get(POSTFIELDSIZE_LONG)
            if size is not None and size >= 0:
                data = data[: int(size)]
            body = data
        self.is_head = bool(opts.get(NOBODY))
        if self.is_head:
            method = "HEAD"
            body = None
        custom = opts.get(CUSTOMREQUEST)
        if custom:
            method = str(custom)
        self.method = method
        self.body = body

        # Proxy (lib/url.c: CURLOPT_PROXY, else the environment; NOPROXY; no proxy for a
        # unix socket) and TLS, both before the head: a forward proxy changes the target.
        self.unix_path = opts.get(UNIX_SOCKET_PATH) or None
        proxy: ProxySpec | None = None
        if not self.unix_path:
            chosen = select_proxy(
                opts.get(PROXY), opts.get(NOPROXY), url.scheme, url.host, url.port, os.environ
            )
            if chosen:
                proxy = parse_proxy(
                    chosen,
                    opts.get(PROXYPORT) or None,
                    opts.get(PROXYTYPE),
                    user=opts.get(PROXYUSERNAME),
                    password=opts.get(PROXYPASSWORD),
                    userpwd=opts.get(PROXYUSERPWD),
                )
        self.proxy = proxy
        self.tls = _tls_settings(opts, False) if url.scheme == "https" else None
        self.proxy_tls = (
            _tls_settings(opts, True) if proxy is not None and proxy.scheme == "https" else None
        )
        self.tls_sessions = bool(opts.get(SSL_SESSIONID_CACHE, 1))
        # Through an HTTP(S) proxy: CONNECT for anything but plain http, or when asked to.
        self.tunnel = (
            proxy is not None
            and proxy.is_http
            and (url.scheme != "http" or bool(opts.get(HTTPPROXYTUNNEL)))
        )
        ua = opts.get(USERAGENT)
        if ua is None:
            ua = DEFAULT_USER_AGENT
        proxy_auth = None
        if proxy is not None and proxy.is_http and proxy.has_credentials:
            token = f"{proxy.user or ''}:{proxy.password or ''}".encode("utf-8", "replace")
            proxy_auth = "Basic " + base64.b64encode(token).decode("ascii")
        self.connect_head = (
            build_connect_request(
                url.host,
                url.port,
                http10=proxy.http10,
                user_agent=ua or None,
                proxy_auth=proxy_auth,
                proxy_headers=list(opts.get(PROXYHEADER) or ()),
            )
            if self.tunnel and proxy is not None
            else None
        )
        forward = proxy is not None and proxy.is_http and not self.tunnel

        version = opts.get(HTTP_VERSION) or HTTP_VERSION_NONE
        self.http10 = version == HTTP_VERSION_1_0
        user_headers: list[bytes] = list(opts.get(HTTPHEADER) or ())
        extra_defaults: list[tuple[str, str]] = []
        if forward and proxy_auth is not None:
            extra_defaults.append(("Proxy-Authorization", proxy_auth))
        auth = _basic_auth(opts, url)
        if auth is not None:
            extra_defaults.append(("Authorization", auth))
        extra_defaults.append(("Accept", "*/*"))
        accept_encoding = opts.get(ACCEPT_ENCODING)
        if accept_encoding is not None:
            extra_defaults.append(("Accept-Encoding", accept_encoding_value(str(accept_encoding))))
        # libcurl decodes only what it asked for: ACCEPT_ENCODING set, and not switched off.
        self.decode = accept_encoding is not None and bool(opts.get(HTTP_CONTENT_DECODING, 1))
        if forward:
            name, _, value = FORWARD_PROXY_HEADER.decode("latin-1").partition(":")
            extra_defaults.append((name, value.strip()))
        if body is not None:
            # libcurl adds the form type whenever POSTFIELDS is used, whatever the method.
            extra_defaults.append(("Content-Type", "application/x-www-form-urlencoded"))
        head = build_request_head(
            method,
            forward_request_target(url) if forward else url.target(),
            url.host,
            port=url.port,
            default_port=default_port(url.scheme),
            http10=self.http10,
            user_headers=user_headers,
            default_headers=extra_defaults,
            content_length=len(body) if body is not None else None,
            user_agent=ua or None,
            referer=opts.get(REFERER) or None,
        )
        self.head_bytes = head

        # Callbacks and their targets.
        # WRITEDATA/WRITEHEADER are stored by the face as these functions (the bound write).
        self.write_fn: WriteFn = opts.get(WRITEFUNCTION) or _stdout_write
        self.header_fn: WriteFn | None = opts.get(HEADERFUNCTION)
        noprogress = opts.get(NOPROGRESS, 1)
        self.progress = opts.get(XFERINFOFUNCTION) if not noprogress else None
        self.progress_old = (
            opts.get(PROGRESSFUNCTION) if not noprogress and self.progress is None else None
        )
        self.verbose = bool(opts.get(VERBOSE))
        self.debug = opts.get(DEBUGFUNCTION)
        self.opensocket = opts.get(OPENSOCKETFUNCTION)
        self.closesocket = opts.get(CLOSESOCKETFUNCTION)
        self.sockopt = opts.get(SOCKOPTFUNCTION)

        # Timeouts (seconds; 0 = none).
        self.timeout = _ms(opts, TIMEOUT, TIMEOUT_MS)
        self.connect_timeout = (
            _ms(opts, CONNECTTIMEOUT, CONNECTTIMEOUT_MS) or DEFAULT_CONNECTTIMEOUT
        )
        if self.timeout and self.timeout < self.connect_timeout:
            # libcurl: the connect phase also ends at the overall timeout.
            self.connect_timeout = self.timeout
        self.low_speed_limit = int(opts.get(LOW_SPEED_LIMIT) or 0)
        self.low_speed_time = int(opts.get(LOW_SPEED_TIME) or 0)
        self.server_response_timeout = float(opts.get(SERVER_RESPONSE_TIMEOUT) or 0)
        he = opts.get(HAPPY_EYEBALLS_TIMEOUT_MS)
        self.happy_eyeballs = (he if he is not None else 200) / 1000.0

        # Connection choice.
        self.forbid_reuse = bool(opts.get(FORBID_REUSE))
        self.fresh_connect = bool(opts.get(FRESH_CONNECT))
        self.interface = opts.get(INTERFACE) or None
        self.local_port = int(opts.get(LOCALPORT) or 0)
        self.local_port_range = int(opts.get(LOCALPORTRANGE) or 1)
        self.tcp_nodelay = bool(opts.get(TCP_NODELAY, 1))
        self.family = _IPRESOLVE_FAMILY.get(int(opts.get(IPRESOLVE) or 0), socket.AF_UNSPEC)
        self.resolve = parse_resolve_entries(opts.get(RESOLVE) or ())
        self.connect_to = parse_connect_to(opts.get(CONNECT_TO) or ())
        dct = opts.get(DNS_CACHE_TIMEOUT)
        self.dns_cache_timeout = 60 if dct is None else int(dct)
        self.failonerror = bool(opts.get(FAILONERROR))
        self.maxconnects = int(opts.get(MAXCONNECTS) or 0)
        bs = opts.get(BUFFERSIZE)
        self.buffersize = (
            DEFAULT_BUFFERSIZE if not bs else max(1024, min(int(bs), 10 * 1024 * 1024))
        )
        self.http09 = bool(opts.get(HTTP09_ALLOWED))
        # What makes two transfers able to share a connection.
        self.host_key = (url.host.lower(), url.port)
        self.origin_key = (
            url.scheme,
            url.host.lower(),
            url.port,
            self.unix_path,
            self.interface,
            self.local_port,
            self.family,
            tuple(opts.get(CONNECT_TO) or ()),
            self.tls,
            proxy,
            self.proxy_tls,
            self.connect_head,
        )


def follow_config(cfg: Config, new_url: Url, status: int) -> Config:
    """The Config of the request that follows a redirect (lib/transfer.c Curl_follow).

    The method: 301 and 302 turn a POST into a GET unless CURLOPT_POSTREDIR keeps it, 303
    turns anything but HEAD into a GET; a CUSTOMREQUEST method stays (checked against
    libcurl 8.23). Credentials (USERPWD/USERNAME/PASSWORD) and the user's Authorization and
    Cookie headers are dropped when the scheme, host or port changes, unless
    CURLOPT_UNRESTRICTED_AUTH (CVE-2018-1000007, CVE-2022-27774). AUTOREFERER sends the
    previous URL without credentials or fragment.
    """
    opts = dict(cfg.opts)
    opts[URL] = new_url.url()
    posting = cfg.method == "POST" and cfg.body is not None
    to_get = False
    if status in (301, 302) and posting:
        keep = _POST_301 if status == 301 else _POST_302
        to_get = not cfg.postredir & keep
    elif status == 303 and not cfg.is_head:
        to_get = not (posting and cfg.postredir & _POST_303)
    if to_get:
        for key in (POSTFIELDS, COPYPOSTFIELDS, POST, POSTFIELDSIZE_LARGE, POSTFIELDSIZE_LONG):
            opts.pop(key, None)
        opts[HTTPGET] = 1
    old = cfg.url
    if not cfg.unrestricted_auth and (
        old.scheme != new_url.scheme
        or old.host.lower() != new_url.host.lower()
        or old.port != new_url.port
    ):
        for key in (USERPWD, USERNAME, PASSWORD):
            opts.pop(key, None)
        headers = opts.get(HTTPHEADER)
        if headers:
            opts[HTTPHEADER] = [
                h for h in headers if not _header_named(h, (b"authorization", b"cookie"))
            ]
    if cfg.autoreferer:
        q = f"?{old.query}" if old.query is not None else ""
        port = f":{old.port}" if old.explicit_port else ""
        host = f"[{old.host}]" if old.is_ipv6 else old.host
        opts[REFERER] = f"{old.scheme}://{host}{port}{old.path}{q}"
    return Config(opts)


def _header_named(line: Any, names: tuple[bytes, ...]) -> bool:
    raw = line.encode("latin-1", "replace") if isinstance(line, str) else bytes(line)
    name = raw.split(b":", 1)[0].split(b";", 1)[0].strip().lower()
    return name in names


def _tls_settings(opts: dict[int, Any], proxy: bool) -> TlsSettings:
    """The TLS options of the origin (or, with `proxy`, of an HTTPS proxy) as TlsSettings."""
    values: dict[str, Any] = {}
    for field, number, proxy_number in _TLS_OPTIONS:
        key = proxy_number if proxy else number
        if key is None:
            continue
        value = opts.get(key)
        if value is None:
            continue
        if field == "verify_peer":
            value = bool(value)
        elif field == "verify_host":
            value = 2 if value else 0
        elif field in ("sslversion", "ssl_options"):
            value = int(value)
        elif field in ("cainfo_blob", "cert_blob", "key_blob"):
            value = bytes(value)
        else:
            value = str(value)
        values[field] = value
    if not proxy:
        values["certinfo"] = bool(opts.get(OPT_CERTINFO))
    if not opts.get(SSL_ENABLE_ALPN, 1):
        values["alpn"] = ()
    return TlsSettings(**values)


USERPWD = num("USERPWD")
USERNAME = num("USERNAME")
PASSWORD = num("PASSWORD")
HTTPAUTH = num("HTTPAUTH")
_AUTH_BASIC = 1


def _basic_auth(opts: dict[int, Any], url: Url) -> str | None:
    """The Authorization value for Basic auth (libcurl's default CURLOPT_HTTPAUTH), or None.

    Credentials come from USERNAME/PASSWORD, USERPWD ("user:password"), or the URL's userinfo
    (percent-decoded), in libcurl's order of precedence. Other schemes (Digest, ...) belong to
    the authentication layer; with only those allowed nothing is sent here.
    """
    httpauth = opts.get(HTTPAUTH)
    if httpauth is not None and not (httpauth & _AUTH_BASIC):
        return None
    user = opts.get(USERNAME)
    password = opts.get(PASSWORD)
    userpwd = opts.get(USERPWD)
    if user is None and userpwd is not None:
        user, _, rest = str(userpwd).partition(":")
        if password is None and _:
            password = rest
    if user is None and url.user is not None:
        user = unquote(url.user, encoding="latin-1")
        if password is None and url.password is not None:
            password = unquote(url.password, encoding="latin-1")
    if user is None:
        return None
    token = f"{user}:{password or ''}".encode("latin-1", "replace")
    return "Basic " + base64.b64encode(token).decode("ascii")


def _with_port(url: Url, port: int) -> str:
    host = f"[{url.host}]" if url.is_ipv6 else url.host
    q = f"?{url.query}" if url.query is not None else ""
    return f"{url.scheme}://{host}:{port}{url.path}{q}"
