"""What a transfer was asked to do: the user's options, resolved once per option generation.

Theory of operation: the pycurl face keeps the user's options (libcurl's `set` data) in a dict
keyed by option number and bumps a generation counter on every change. A transfer starts by
turning that dict into a `Config`: defaults filled in, the URL parsed, the request head
serialised. The engine never writes the options. Because a keep-alive workload re-runs the same
handle with the same options, the face caches the Config with its generation, and an unchanged
handle starts its next transfer without re-parsing anything.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

from purecurl import _codes as C
from purecurl import _consts
from purecurl._errors import CurlError
from purecurl._options import EASY_OPTIONS
from purecurl.proto.auth import Credentials, basic_value, wanted_mask
from purecurl.proto.decoding import accept_encoding_value
from purecurl.proto.http2 import upgrade_settings
from purecurl.proto.multipart import MultipartBody, body_from_httppost
from purecurl.proto.netrc import netrc_credentials
from purecurl.proto.proxy import (
    FORWARD_PROXY_HEADER,
    ProxySpec,
    build_connect_request,
    forward_request_target,
    parse_proxy,
    select_proxy,
)
from purecurl.proto.request import build_request_head, user_header
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
PIPEWAIT = num("PIPEWAIT")
MAXAGE_CONN = num("MAXAGE_CONN")
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
HTTP_TRANSFER_DECODING = num("HTTP_TRANSFER_DECODING")
FOLLOWLOCATION = num("FOLLOWLOCATION")
MAXREDIRS = num("MAXREDIRS")
POSTREDIR = num("POSTREDIR")
AUTOREFERER = num("AUTOREFERER")
UNRESTRICTED_AUTH = num("UNRESTRICTED_AUTH")
REDIR_PROTOCOLS = num("REDIR_PROTOCOLS")
PROTOCOLS = num("PROTOCOLS")
UPLOAD = num("UPLOAD")
INFILESIZE_LARGE = num("INFILESIZE_LARGE")
INFILESIZE_LONG = 14  # CURLOPT_INFILESIZE (long); pycurl's name maps to the _LARGE number
READFUNCTION = num("READFUNCTION")
SEEKFUNCTION = num("SEEKFUNCTION")
IOCTLFUNCTION = num("IOCTLFUNCTION")
HTTPPOST = num("HTTPPOST")
MIMEPOST = num("MIMEPOST")
UPLOAD_BUFFERSIZE = num("UPLOAD_BUFFERSIZE")
EXPECT_100_TIMEOUT_MS = num("EXPECT_100_TIMEOUT_MS")
RANGE = num("RANGE")
RESUME_FROM_LARGE = num("RESUME_FROM_LARGE")
RESUME_FROM_LONG = 21
MAXFILESIZE_LARGE = num("MAXFILESIZE_LARGE")
MAXFILESIZE_LONG = 114
COOKIE = num("COOKIE")
COOKIEFILE = num("COOKIEFILE")
COOKIEJAR = num("COOKIEJAR")
COOKIESESSION = num("COOKIESESSION")
NETRC = num("NETRC")
NETRC_FILE = num("NETRC_FILE")
XOAUTH2_BEARER = num("XOAUTH2_BEARER")
MAX_RECV_SPEED_LARGE = num("MAX_RECV_SPEED_LARGE")
MAX_SEND_SPEED_LARGE = num("MAX_SEND_SPEED_LARGE")

# The request kind libcurl's setopt keeps in `data->set.method` (HTTPREQ_*), stored by the
# face under this private key as the options are set: the last of POST, POSTFIELDS,
# HTTPPOST/MIMEPOST, HTTPGET, UPLOAD and NOBODY decides, as in lib/setopt.c.
REQUEST_KIND = -1
REQ_GET, REQ_POST, REQ_FORM, REQ_PUT, REQ_HEAD = "GET", "POST", "FORM", "PUT", "HEAD"


def note_request_kind(opts: dict[int, Any], option: int, value: Any) -> None:
    """Update opts[REQUEST_KIND] (and NOBODY, which some of these clear) for `option` just
    set to `value`, as lib/setopt.c does."""
    kind = opts.get(REQUEST_KIND, REQ_GET)
    body_too = False  # the option also sets opt_no_body = FALSE
    if option == POST:
        kind = REQ_POST if value else REQ_GET
        body_too = bool(value)
    elif option in (POSTFIELDS, COPYPOSTFIELDS):
        kind = REQ_POST
    elif option in (HTTPPOST, MIMEPOST):
        kind = REQ_FORM
        body_too = True
    elif option == HTTPGET:
        if not value:
            return
        kind = REQ_GET
        body_too = True
    elif option == UPLOAD:
        kind = REQ_PUT if value else REQ_GET
        body_too = bool(value)
    elif option == NOBODY:
        if value:
            kind = REQ_HEAD
        elif kind == REQ_HEAD:
            kind = REQ_GET
    else:
        return
    opts[REQUEST_KIND] = kind
    if body_too:
        opts.pop(NOBODY, None)


# What a request body comes from (engine.upload makes the reader).
BODY_NONE, BODY_BYTES, BODY_READ, BODY_FORM = 0, 1, 2, 3
EXPECT_100_THRESHOLD = 1024 * 1024  # lib/http.c: larger bodies wait for 100-continue

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
HTTP_VERSION_2_0 = 3
HTTP_VERSION_2TLS = 4
HTTP_VERSION_2_PRIOR_KNOWLEDGE = 5

# CURL_IPRESOLVE_*
_IPRESOLVE_FAMILY = {0: socket.AF_UNSPEC, 1: socket.AF_INET, 2: socket.AF_INET6}

DEFAULT_BUFFERSIZE = 256 * 1024
DEFAULT_CONNECTTIMEOUT = 300.0  # libcurl's DEFAULT_CONNECT_TIMEOUT
SUPPORTED_SCHEMES = frozenset({"http", "https", "file"})

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
        "_connect_args",
        "_defaults",
        "_head_args",
        "auth_uri",
        "autoreferer",
        "body",
        "body_kind",
        "buffersize",
        "chunked",
        "closesocket",
        "connect_head",
        "connect_timeout",
        "connect_to",
        "content_length",
        "cookie_engine",
        "cookie_file",
        "cookie_jar_file",
        "cookie_opt",
        "cookie_session",
        "creds",
        "custom_authorization",
        "custom_cookie",
        "custom_proxy_authorization",
        "debug",
        "decode",
        "dns_cache_timeout",
        "dynamic_head",
        "expect100",
        "expect_timeout",
        "failonerror",
        "family",
        "followlocation",
        "forbid_reuse",
        "form_body",
        "fresh_connect",
        "h2_prior",
        "h2_upgrade",
        "happy_eyeballs",
        "head_bytes",
        "header_fn",
        "host_key",
        "http09",
        "http10",
        "httpauth",
        "interface",
        "ioctl_fn",
        "is_head",
        "local_port",
        "local_port_range",
        "low_speed_limit",
        "low_speed_time",
        "max_recv_speed",
        "max_send_speed",
        "maxage_conn",
        "maxconnects",
        "maxfilesize",
        "maxredirs",
        "method",
        "opensocket",
        "opts",
        "origin_key",
        "pipewait",
        "postredir",
        "progress",
        "progress_old",
        "proxy",
        "proxy_creds",
        "proxy_tls",
        "proxyauth",
        "read_fn",
        "redir_schemes",
        "resolve",
        "resume_from",
        "seek_fn",
        "server_response_timeout",
        "sockopt",
        "tcp_nodelay",
        "timeout",
        "tls",
        "tls_sessions",
        "transfer_decoding",
        "tunnel",
        "tunnel_creds",
        "unix_path",
        "unrestricted_auth",
        "upload_bufsize",
        "upload_size",
        "url",
        "url_str",
        "use_auth",
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

        # Method and body (CURLOPT_POST/POSTFIELDS/UPLOAD/HTTPPOST/MIMEPOST/NOBODY/
        # CUSTOMREQUEST/HTTPGET; lib/http.c Curl_http_method).
        body: bytes | None = None
        body_kind = BODY_NONE
        upload_size = -1
        method = "GET"
        postfields = opts.get(COPYPOSTFIELDS)
        if postfields is None:
            postfields = opts.get(POSTFIELDS)
        form = opts.get(MIMEPOST)
        if form is None:
            form = opts.get(HTTPPOST)
        kind = opts.get(REQUEST_KIND)
        if kind is None:
            # options set without the face's bookkeeping: libcurl's precedence
            if opts.get(HTTPGET):
                kind = REQ_GET
            elif opts.get(UPLOAD):
                kind = REQ_PUT
            elif form is not None:
                kind = REQ_FORM
            elif postfields is not None or opts.get(POST):
                kind = REQ_POST
            else:
                kind = REQ_GET
        if kind in (REQ_GET, REQ_HEAD):
            method = "GET"
        elif kind == REQ_PUT:
            method = "PUT"
            body_kind = BODY_READ
            size = opts.get(INFILESIZE_LARGE)
            if size is None:
                size = opts.get(INFILESIZE_LONG)
            upload_size = -1 if size is None else int(size)
        elif kind == REQ_FORM and form is not None:
            method = "POST"
            body_kind = BODY_FORM
        elif kind == REQ_POST and postfields is not None:
            method = "POST"
            body_kind = BODY_BYTES
            data = bytes(postfields)
            size = opts.get(POSTFIELDSIZE_LARGE)
            if size is None:
                size = opts.get(POSTFIELDSIZE_LONG)
            if size is not None and size >= 0:
                data = data[: int(size)]
            body = data
            upload_size = len(data)
        elif kind in (REQ_POST, REQ_FORM):
            # POST without POSTFIELDS: the body comes from the read callback (libcurl's
            # CURLOPT_POST), chunked unless POSTFIELDSIZE says how long it is.
            method = "POST"
            body_kind = BODY_READ
            size = opts.get(POSTFIELDSIZE_LARGE)
            if size is None:
                size = opts.get(POSTFIELDSIZE_LONG)
            upload_size = -1 if size is None else int(size)
        self.is_head = bool(opts.get(NOBODY))
        if self.is_head:
            method = "HEAD"
            body = None
            body_kind = BODY_NONE
        custom = opts.get(CUSTOMREQUEST)
        if custom:
            method = str(custom)
        self.method = method
        self.body = body
        self.body_kind = body_kind
        self.form_body: MultipartBody | None = None
        if body_kind == BODY_FORM:
            self.form_body = _form_body(form)
            size = self.form_body.size
            upload_size = -1 if size is None else size
        self.upload_size = upload_size
        ub = opts.get(UPLOAD_BUFFERSIZE)
        # libcurl keeps the upload buffer between 16 KiB and 2 MiB.
        self.upload_bufsize = 65536 if not ub else max(16384, min(int(ub), 2 * 1024 * 1024))
        self.read_fn = opts.get(READFUNCTION)
        self.seek_fn = opts.get(SEEKFUNCTION)
        self.ioctl_fn = opts.get(IOCTLFUNCTION)
        e100 = opts.get(EXPECT_100_TIMEOUT_MS)
        self.expect_timeout = (1000 if e100 is None else int(e100)) / 1000.0

        # Proxy (lib/url.c: CURLOPT_PROXY, else the environment; NOPROXY; no proxy for a
        # unix socket) and TLS, both before the head: a forward proxy changes the target.
        self.unix_path = opts.get(UNIX_SOCKET_PATH) or None
        proxy: ProxySpec | None = None
        if not self.unix_path and url.scheme != "file":
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
        self.proxyauth = _auth_mask(opts.get(PROXYAUTH))
        # The proxy's login: the CONNECT's when tunnelling, else each forwarded request's.
        proxy_login = (
            Credentials.login(_opt_bytes(proxy.user), _opt_bytes(proxy.password))
            if proxy is not None and proxy.is_http and proxy.has_credentials
            else None
        )
        proxy_auth = None
        # A tunnel's CONNECT carries Basic at once (the default PROXYAUTH); other schemes wait
        # for the proxy's 407 and the engine sends the CONNECT again with the answer.
        self.tunnel_creds = proxy_login if self.tunnel else None
        if self.tunnel_creds is not None and self.proxyauth == _consts.HTTPAUTH_BASIC:
            login = self.tunnel_creds
            proxy_auth = basic_value(login.user or b"", login.password)
        self._connect_args = (
            url.host,
            url.port,
            proxy.http10 if proxy is not None else False,
            ua or None,
            tuple(opts.get(PROXYHEADER) or ()),
        )
        self.connect_head = (
            self.connect_head_with(proxy_auth) if self.tunnel and proxy is not None else None
        )
        forward = proxy is not None and proxy.is_http and not self.tunnel

        version = opts.get(HTTP_VERSION) or HTTP_VERSION_NONE
        self.http10 = version == HTTP_VERSION_1_0
        # h2c with prior knowledge: cleartext, straight to an origin (never a forward proxy)
        self.h2_prior = (
            version == HTTP_VERSION_2_PRIOR_KNOWLEDGE and url.scheme == "http" and not forward
        )
        self.pipewait = bool(opts.get(PIPEWAIT))
        maxage = opts.get(MAXAGE_CONN)
        self.maxage_conn = float(118 if maxage is None else maxage)  # libcurl's default
        user_headers: list[bytes] = list(opts.get(HTTPHEADER) or ())
        extra_defaults: list[tuple[str, str]] = []

        # Authentication: the engine's HttpAuth (per handle) makes the headers per request.
        self.httpauth = _auth_mask(opts.get(HTTPAUTH))
        self.creds = _credentials(opts, url)
        self.proxy_creds = proxy_login if forward else None
        self.use_auth = bool(
            self.creds.has_login
            or self.creds.bearer
            or (self.proxy_creds is not None and self.proxy_creds.has_login)
        )
        self.custom_authorization = _user_header(user_headers, "authorization") is not None
        self.custom_proxy_authorization = (
            _user_header(user_headers, "proxy-authorization") is not None
        )
        self.auth_uri = url.target()

        # Ranges (CURLOPT_RANGE, CURLOPT_RESUME_FROM for a download).
        self.resume_from = int(opts.get(RESUME_FROM_LARGE) or opts.get(RESUME_FROM_LONG) or 0)
        rng = opts.get(RANGE)
        if rng:
            extra_defaults.append(("Range", f"bytes={rng}"))
        elif self.resume_from > 0 and body_kind == BODY_NONE:
            extra_defaults.append(("Range", f"bytes={self.resume_from}-"))
        mfs = opts.get(MAXFILESIZE_LARGE) or opts.get(MAXFILESIZE_LONG) or 0
        self.maxfilesize = int(mfs)

        extra_defaults.append(("Accept", "*/*"))
        accept_encoding = opts.get(ACCEPT_ENCODING)
        if accept_encoding is not None:
            extra_defaults.append(("Accept-Encoding", accept_encoding_value(str(accept_encoding))))
        # libcurl decodes only what it asked for: ACCEPT_ENCODING set, and not switched off.
        self.decode = accept_encoding is not None and bool(opts.get(HTTP_CONTENT_DECODING, 1))
        self.transfer_decoding = bool(opts.get(HTTP_TRANSFER_DECODING, 1))
        if forward:
            name, _, value = FORWARD_PROXY_HEADER.decode("latin-1").partition(":")
            extra_defaults.append((name, value.strip()))
        # HTTP_VERSION 2 on http://: ask an HTTP/1.1 server to switch (RFC 7540 §3.2), for a
        # request without a body (the switch leaves no room to send one)
        self.h2_upgrade = (
            version == HTTP_VERSION_2_0
            and url.scheme == "http"
            and not forward
            and body_kind == BODY_NONE
            and proxy is None
        )
        if self.h2_upgrade:
            extra_defaults.append(("Connection", "Upgrade, HTTP2-Settings"))
            extra_defaults.append(("Upgrade", "h2c"))
            extra_defaults.append(("HTTP2-Settings", upgrade_settings().decode("ascii")))

        # Cookies: CURLOPT_COOKIE alone is a fixed header; with a cookie engine (COOKIEFILE,
        # COOKIEJAR, COOKIELIST or a shared jar) the engine makes it per request.
        cookie = opts.get(COOKIE)
        self.custom_cookie = _user_header(user_headers, "cookie") is not None
        self.cookie_opt = None if cookie is None or self.custom_cookie else _str(cookie)
        self.cookie_file = _str(opts[COOKIEFILE]) if opts.get(COOKIEFILE) is not None else None
        self.cookie_jar_file = _str(opts[COOKIEJAR]) if opts.get(COOKIEJAR) else None
        self.cookie_session = bool(opts.get(COOKIESESSION))
        self.cookie_engine = self.cookie_file is not None or self.cookie_jar_file is not None

        # The body's framing (lib/http.c): Content-Length when the size is known, chunked
        # when not (or when the application asked for it), Expect: 100-continue for a body
        # of unknown size or larger than 1 MiB unless the application set its own Expect.
        self.chunked = False
        self.expect100 = False
        content_length: int | None = None
        if body_kind != BODY_NONE:
            te = _user_header(user_headers, "transfer-encoding")
            if upload_size < 0 or (te is not None and "chunked" in te.lower()):
                if self.http10:
                    raise CurlError(C.E_UPLOAD_FAILED, "Chunky upload is not supported by HTTP 1.0")
                self.chunked = True
                if te is None:
                    extra_defaults.append(("Transfer-Encoding", "chunked"))
            else:
                content_length = upload_size
            if self.form_body is not None:
                ctype = self.form_body.content_type.decode("latin-1")
                extra_defaults.append(("Content-Type", ctype))
            elif body_kind == BODY_BYTES or not opts.get(UPLOAD):
                # libcurl adds the form type to every POST it makes, whatever the method.
                extra_defaults.append(("Content-Type", "application/x-www-form-urlencoded"))
            expect = _user_header(user_headers, "expect")
            if expect is not None:
                self.expect100 = "100-continue" in expect.lower()
            elif not self.http10 and (upload_size < 0 or upload_size > EXPECT_100_THRESHOLD):
                self.expect100 = True
                extra_defaults.append(("Expect", "100-continue"))
        self._head_args = (
            method,
            forward_request_target(url) if forward else url.target(),
            url.host,
            url.port,
            default_port(url.scheme),
            self.http10,
            tuple(user_headers),
            ua or None,
            opts.get(REFERER) or None,
        )
        self._defaults = extra_defaults
        self.content_length = content_length
        # The head when nothing changes per request (no auth state, no cookie engine).
        self.dynamic_head = self.use_auth or self.cookie_engine
        static: list[tuple[str, str]] = []
        if self.cookie_opt is not None and not self.cookie_engine:
            static.append(("Cookie", self.cookie_opt))
        self.head_bytes = self.build_head(static, content_length)

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
        self.max_recv_speed = int(opts.get(MAX_RECV_SPEED_LARGE) or 0)
        self.max_send_speed = int(opts.get(MAX_SEND_SPEED_LARGE) or 0)
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
            self.h2_prior,
        )

    def connect_head_with(self, proxy_auth: str | None) -> bytes:
        """The tunnel's CONNECT request, with `proxy_auth` as Proxy-Authorization if given."""
        host, port, http10, ua, proxy_headers = self._connect_args
        return build_connect_request(
            host,
            port,
            http10=http10,
            user_agent=ua,
            proxy_auth=proxy_auth,
            proxy_headers=list(proxy_headers),
        )

    def build_head(
        self, extra: list[tuple[str, str]], content_length: int | None, probe: bool = False
    ) -> bytes:
        """The request head with `extra` internal headers (auth, cookies) added.

        `probe` is libcurl's "authneg" request: a POST/PUT sent with Content-Length: 0 and no
        body while a multipass scheme (Digest) waits for its challenge.
        """
        method, target, host, port, dport, http10, user_headers, ua, referer = self._head_args
        defaults = self._defaults
        if probe:
            drop = ("Transfer-Encoding", "Expect")
            defaults = [h for h in defaults if h[0] not in drop]
            content_length = 0
        if extra:
            defaults = [*extra, *defaults]
        return build_request_head(
            method,
            target,
            host,
            port=port,
            default_port=dport,
            http10=http10,
            user_headers=user_headers,
            default_headers=defaults,
            content_length=content_length,
            user_agent=ua,
            referer=referer,
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
    posting = cfg.body_kind != BODY_NONE and not opts.get(UPLOAD)
    to_get = False
    if status in (301, 302) and posting:
        keep = _POST_301 if status == 301 else _POST_302
        to_get = not cfg.postredir & keep
    elif status == 303 and not cfg.is_head and cfg.body_kind != BODY_NONE:
        to_get = not (posting and cfg.postredir & _POST_303)
    if to_get:
        for key in (
            POSTFIELDS,
            COPYPOSTFIELDS,
            POST,
            POSTFIELDSIZE_LARGE,
            POSTFIELDSIZE_LONG,
            UPLOAD,
            HTTPPOST,
            MIMEPOST,
        ):
            opts.pop(key, None)
        opts[HTTPGET] = 1
        opts[REQUEST_KIND] = REQ_GET
    old = cfg.url
    same_origin = (
        old.scheme == new_url.scheme
        and old.host.lower() == new_url.host.lower()
        and old.port == new_url.port
    )
    if not cfg.unrestricted_auth and not same_origin:
        # CURLOPT_COOKIE too: libcurl 8.23 does not send it to another origin
        for key in (USERPWD, USERNAME, PASSWORD, COOKIE):
            opts.pop(key, None)
        headers = opts.get(HTTPHEADER)
        if headers:
            opts[HTTPHEADER] = [
                h for h in headers if not _header_named(h, (b"authorization", b"cookie"))
            ]
    # The URL given to the next Config carries no user info (Url.url() leaves it out): the
    # Location's own credentials, or else the first URL's within its origin (anywhere with
    # UNRESTRICTED_AUTH), go as options.
    if new_url.user is not None:
        source: Url | None = new_url
    else:
        source = old if same_origin or cfg.unrestricted_auth else None
    if (
        source is not None
        and source.user is not None
        and USERNAME not in opts
        and USERPWD not in opts
    ):
        opts[USERNAME] = unquote_to_bytes(source.user)
        if source.password is not None and PASSWORD not in opts:
            opts[PASSWORD] = unquote_to_bytes(source.password)
    if cfg.autoreferer:
        q = f"?{old.query}" if old.query is not None else ""
        port = f":{old.port}" if old.explicit_port else ""
        host = f"[{old.host}]" if old.is_ipv6 else old.host
        opts[REFERER] = f"{old.scheme}://{host}{port}{old.path}{q}"
    return Config(opts)


def _header_named(line: Any, names: tuple[bytes, ...]) -> bool:
    parsed = user_header(_bytes(line))
    return parsed is not None and parsed[0].strip().lower() in names


def alpn_offer(version: int) -> tuple[str, ...]:
    """The ALPN list offered to the origin for CURLOPT_HTTP_VERSION (vtls.c alpn_get_spec):
    h2 first unless HTTP/1 was asked for; prior knowledge offers h2 alone."""
    if version == HTTP_VERSION_1_0:
        return ("http/1.0",)
    if version == HTTP_VERSION_1_1:
        return ("http/1.1",)
    if version == HTTP_VERSION_2_PRIOR_KNOWLEDGE:
        return ("h2",)
    return ("h2", "http/1.1")


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
    elif not proxy:
        values["alpn"] = alpn_offer(opts.get(HTTP_VERSION) or HTTP_VERSION_NONE)
    return TlsSettings(**values)


USERPWD = num("USERPWD")
USERNAME = num("USERNAME")
PASSWORD = num("PASSWORD")
HTTPAUTH = num("HTTPAUTH")


def _auth_mask(value: Any) -> int:
    """CURLOPT_HTTPAUTH / PROXYAUTH as libcurl keeps it (Basic when unset)."""
    if value is None:
        return _consts.HTTPAUTH_BASIC
    return wanted_mask(int(value))


def _str(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _bytes(value: Any) -> bytes:
    # Option strings hold one character per byte (the face decodes bytes as latin-1).
    return value.encode("latin-1", "replace") if isinstance(value, str) else bytes(value)


def _opt_bytes(value: Any) -> bytes | None:
    return None if value is None else _bytes(value)


def _credentials(opts: dict[int, Any], url: Url) -> Credentials:
    """The origin's login: USERNAME/PASSWORD, USERPWD ("user:password"), the URL's userinfo
    (percent-decoded), in libcurl's order of precedence, then .netrc (CURLOPT_NETRC) as
    lib/url.c override_login applies it; XOAUTH2_BEARER for Bearer."""
    user = opts.get(USERNAME)
    password = opts.get(PASSWORD)
    userpwd = opts.get(USERPWD)
    if user is None and userpwd is not None:
        raw = _bytes(userpwd)
        u, sep, rest = raw.partition(b":")
        user = u
        if password is None and sep:
            password = rest
    username_option = user is not None
    url_user = unquote_to_bytes(url.user) if url.user is not None else None
    url_password = unquote_to_bytes(url.password) if url.password is not None else None
    if user is None and url_user is not None:
        user = url_user
        if password is None and url_password is not None:
            password = url_password
    mode = int(opts.get(NETRC) or 0)
    if mode:
        nf = opts.get(NETRC_FILE)
        found = netrc_credentials(
            mode,
            url.host,
            url_user=url_user,
            url_password=url_password,
            username_option=username_option,
            netrc_file=_str(nf) if nf is not None else None,
        )
        if not username_option:
            user, password = found.user, found.password
    bearer = opts.get(XOAUTH2_BEARER)
    return Credentials.login(_opt_bytes(user), _opt_bytes(password), _opt_bytes(bearer))


def _user_header(lines: list[bytes], name: str) -> str | None:
    """The value of the application's last `name` header (CURLOPT_HTTPHEADER), or None."""
    found = None
    want = name.encode("ascii")
    for line in lines:
        parsed = user_header(_bytes(line))
        if parsed is not None and parsed[0].strip().lower() == want:
            value = parsed[1]
            found = "" if value is None else value.strip().decode("latin-1")
    return found


def _form_body(value: Any) -> MultipartBody:
    """The multipart body of an HTTPPOST list or a CurlMime (proto.multipart)."""
    if isinstance(value, list):
        return body_from_httppost(value)
    body: MultipartBody = value.multipart_body()
    return body


def _with_port(url: Url, port: int) -> str:
    host = f"[{url.host}]" if url.is_ipv6 else url.host
    q = f"?{url.query}" if url.query is not None else ""
    return f"{url.scheme}://{host}:{port}{url.path}{q}"
