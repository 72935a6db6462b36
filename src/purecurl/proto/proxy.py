"""Proxy selection and the HTTP proxy protocol, sans-IO.

Theory of operation
-------------------
Which proxy a transfer uses is decided before it connects, in libcurl's order
(lib/url.c create_conn_helper_init_proxy):

1. CURLOPT_PROXY when set (`""` means "no proxy", and the environment is then not read),
   otherwise the environment (`proxy_from_env`, lib/url.c detect_proxy);
2. CURLOPT_NOPROXY when set, otherwise `no_proxy`/`NO_PROXY`: a matching host goes direct
   (`no_proxy_matches`, lib/noproxy.c);
3. the chosen string is parsed with CURLOPT_PROXYPORT, CURLOPT_PROXYTYPE and the proxy
   credentials into an immutable `ProxySpec` (`parse_proxy`, lib/url.c parse_proxy).
`select_proxy` does 1 and 2; the engine resolves and connects to `ProxySpec.host`.

Through an HTTP proxy, a plain http:// request goes in absolute form
(`forward_request_target`, plus `FORWARD_PROXY_HEADER`); anything else, or any request with
CURLOPT_HTTPPROXYTUNNEL, first opens a tunnel with CONNECT (`build_connect_request`, lib/
http_proxy.c), and the proxy's answer is checked by `connect_result`. Every byte layout here
was checked against libcurl 8.23 through pycurl.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from purecurl._codes import E_COULDNT_CONNECT, E_COULDNT_RESOLVE_PROXY, E_WEIRD_SERVER_REPLY
from purecurl._errors import CurlError
from purecurl.proto.http1 import Head, ResponseParser
from purecurl.proto.url import Url, parse_url

__all__ = [
    "FORWARD_PROXY_HEADER",
    "PROXYTYPE_HTTP",
    "PROXYTYPE_HTTPS",
    "PROXYTYPE_HTTPS2",
    "PROXYTYPE_HTTP_1_0",
    "PROXYTYPE_SOCKS4",
    "PROXYTYPE_SOCKS4A",
    "PROXYTYPE_SOCKS5",
    "PROXYTYPE_SOCKS5_HOSTNAME",
    "ConnectResponseReader",
    "ProxySpec",
    "build_connect_request",
    "connect_result",
    "forward_request_target",
    "no_proxy_matches",
    "parse_proxy",
    "proxy_from_env",
    "select_proxy",
]

# curl_proxytype (include/curl/curl.h)
PROXYTYPE_HTTP = 0
PROXYTYPE_HTTP_1_0 = 1
PROXYTYPE_HTTPS = 2
PROXYTYPE_HTTPS2 = 3
PROXYTYPE_SOCKS4 = 4
PROXYTYPE_SOCKS5 = 5
PROXYTYPE_SOCKS4A = 6
PROXYTYPE_SOCKS5_HOSTNAME = 7

_TYPE_SCHEME = {
    PROXYTYPE_HTTP: "http",
    PROXYTYPE_HTTP_1_0: "http",
    PROXYTYPE_HTTPS: "https",
    PROXYTYPE_HTTPS2: "https",
    PROXYTYPE_SOCKS4: "socks4",
    PROXYTYPE_SOCKS5: "socks5",
    PROXYTYPE_SOCKS4A: "socks4a",
    PROXYTYPE_SOCKS5_HOSTNAME: "socks5h",
}
# A scheme in the proxy string wins over CURLOPT_PROXYTYPE. libcurl 8.23 takes "socks://" as
# SOCKS4 (checked: the handshake it sends starts with version byte 4).
_SCHEMES = {
    "http": "http",
    "https": "https",
    "socks4": "socks4",
    "socks4a": "socks4a",
    "socks5": "socks5",
    "socks5h": "socks5h",
    "socks": "socks4",
}
# libcurl 8.23 connects to port 80 for an http:// proxy without a port, 443 for https:// and
# 1080 for SOCKS (checked with pycurl; CURLOPT_PROXYPORT's 1080 default is SOCKS's only).
_DEFAULT_PORT = {
    "http": 80,
    "https": 443,
    "socks4": 1080,
    "socks4a": 1080,
    "socks5": 1080,
    "socks5h": 1080,
}


@dataclass(frozen=True)
class ProxySpec:
    """One proxy as a transfer uses it.

    `scheme` is one of "http", "https", "socks4", "socks4a", "socks5", "socks5h"; `host` has no
    brackets (IPv6) and `is_ipv6` says so; `user`/`password` are percent-decoded, None when not
    given. `http10` is CURLPROXY_HTTP_1_0: CONNECT is sent as HTTP/1.0.
    """

    scheme: str
    host: str
    port: int
    user: str | None = None
    password: str | None = None
    http10: bool = False
    is_ipv6: bool = False

    @property
    def is_socks(self) -> bool:
        return self.scheme.startswith("socks")

    @property
    def is_http(self) -> bool:
        """An HTTP or HTTPS proxy (forwarding or CONNECT)."""
        return not self.scheme.startswith("socks")

    @property
    def has_credentials(self) -> bool:
        """Whether libcurl sends proxy credentials: a user name or a password that is not
        empty (checked: "http://:@proxy" sends no Proxy-Authorization, ":x" does)."""
        return bool(self.user) or bool(self.password)

    def __repr__(self) -> str:
        auth = " with credentials" if self.has_credentials else ""
        return f"<ProxySpec {self.scheme}://{self.authority}{auth}>"

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if self.is_ipv6 else self.host
        return f"{host}:{self.port}"


def _decode(text: str) -> str:
    # libcurl URL-decodes proxy credentials from the URL and from the options alike (checked:
    # PROXYUSERPWD "c%41:d" authenticates as "cA").
    if "%" not in text:
        return text
    return unquote_to_bytes(text).decode("utf-8", "surrogateescape")


def parse_proxy(
    proxy: str,
    proxyport: int | None = None,
    proxytype: int | None = None,
    default_scheme: str = "http",
    *,
    user: str | None = None,
    password: str | None = None,
    userpwd: str | None = None,
) -> ProxySpec | None:
    """Parse a CURLOPT_PROXY string as libcurl 8.23 does; return None for "" (no proxy).

    `proxyport` is CURLOPT_PROXYPORT (used only when the string has no port; 0 and None mean
    unset), `proxytype` CURLOPT_PROXYTYPE (used only when the string has no scheme; None means
    `default_scheme`). `userpwd` is CURLOPT_PROXYUSERPWD ("user:password"), `user`/`password`
    CURLOPT_PROXYUSERNAME/PROXYPASSWORD (these win over `userpwd`). Credentials in the proxy
    string win over all of them (lib/url.c parse_proxy replaces the option values; checked).

    Raises CurlError(E_COULDNT_RESOLVE_PROXY, "Unsupported proxy syntax in '<proxy>': <why>")
    for a string the URL parser rejects, CurlError(E_COULDNT_CONNECT, "Unsupported proxy scheme
    for '<proxy>'") for a scheme that is not a proxy's.
    """
    if not proxy:
        return None
    try:
        scheme = default_scheme if proxytype is None else _TYPE_SCHEME.get(proxytype, "http")
        u = parse_url(proxy, default_scheme=scheme)
    except CurlError as exc:
        reason = exc.message.removeprefix("URL rejected: ")
        raise CurlError(
            E_COULDNT_RESOLVE_PROXY, f"Unsupported proxy syntax in '{proxy}': {reason}"
        ) from None
    known = _SCHEMES.get(u.scheme)
    if known is None:
        raise CurlError(E_COULDNT_CONNECT, f"Unsupported proxy scheme for '{proxy}'")
    if u.explicit_port:
        port = u.port
    elif proxyport:
        port = proxyport
    else:
        port = _DEFAULT_PORT[known]
    if userpwd is not None:
        upw_user, _, upw_pass = userpwd.partition(":")
        user = upw_user if user is None else user
        password = upw_pass if password is None else password
    if u.user is not None or u.password is not None:
        user, password = u.user or "", u.password or ""
    return ProxySpec(
        known,
        u.host,
        port,
        None if user is None else _decode(user),
        None if password is None else _decode(password),
        http10=proxytype == PROXYTYPE_HTTP_1_0 and known == "http",
        is_ipv6=u.is_ipv6,
    )


# --- which proxy -----------------------------------------------------------------------------


def proxy_from_env(scheme: str, host: str, environ: Mapping[str, str], port: int = 0) -> str | None:
    """Return the proxy string the environment names for a `scheme` URL to `host`, or None.

    lib/url.c detect_proxy: `<scheme>_proxy` in lower case, then in upper case except for
    http (HTTP_PROXY can be set by a CGI client through a "Proxy:" request header, so libcurl
    never reads it), then `all_proxy`/`ALL_PROXY`. ws and wss use the http and https variables.
    None also when `no_proxy`/`NO_PROXY` matches the host. An empty variable counts as unset.
    """
    no_proxy = environ.get("no_proxy") or environ.get("NO_PROXY")
    if no_proxy and no_proxy_matches(host, port, no_proxy):
        return None
    return _env_proxy(scheme, environ)


def _env_proxy(scheme: str, environ: Mapping[str, str]) -> str | None:
    scheme = {"ws": "http", "wss": "https"}.get(scheme.lower(), scheme.lower())
    name = scheme + "_proxy"
    value = environ.get(name)
    if not value and scheme != "http":
        value = environ.get(name.upper())
    if not value:
        value = environ.get("all_proxy") or environ.get("ALL_PROXY")
    return value or None


def select_proxy(
    proxy: str | None,
    noproxy: str | None,
    scheme: str,
    host: str,
    port: int,
    environ: Mapping[str, str],
) -> str | None:
    """Return the proxy string a transfer uses, or None to go direct.

    `proxy` is CURLOPT_PROXY (None: unset, read the environment; "": no proxy), `noproxy`
    CURLOPT_NOPROXY (None: unset, read `no_proxy`/`NO_PROXY`). The no-proxy list applies to
    an explicit CURLOPT_PROXY too (lib/url.c create_conn_helper_init_proxy).
    """
    if noproxy is None:
        noproxy = environ.get("no_proxy") or environ.get("NO_PROXY")
    if noproxy and no_proxy_matches(host, port, noproxy):
        return None
    if proxy is None:
        return _env_proxy(scheme, environ)
    return proxy or None


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not text or not (text[0].isdigit() or ":" in text):
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def no_proxy_matches(host: str, port: int, no_proxy: str) -> bool:
    """Return whether `host` is in the CURLOPT_NOPROXY list `no_proxy` (lib/noproxy.c).

    "*" alone matches every host. Otherwise entries are separated by commas and/or blanks.
    For a host name, an entry matches the name itself and every name under it, case-
    insensitively; a leading or trailing dot in an entry is ignored ("example.com" and
    ".example.com" both match "www.example.com" and "example.com"). For an IP address
    (IPv6 with or without brackets), an entry matches as an address or as a CIDR range
    "addr/bits" (libcurl 7.86+). The port is never considered.
    """
    del port  # CURLOPT_NOPROXY has no port syntax
    spec = no_proxy.strip()
    if not spec:
        return False
    if spec == "*":
        return True
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    address = _ip(host.partition("%")[0])
    if address is None:
        name = host.lower().rstrip(".")
    for token in spec.replace(",", " ").split():
        if address is not None:
            if _ip_matches(address, token):
                return True
            continue
        entry = token.lower().strip(".")
        if not entry:
            continue
        if entry == name:
            return True
        if len(entry) < len(name) and name.endswith(entry) and name[-len(entry) - 1] == ".":
            return True
    return False


def _ip_matches(address: ipaddress.IPv4Address | ipaddress.IPv6Address, token: str) -> bool:
    text, slash, bits = token.partition("/")
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    entry = _ip(text)
    if entry is None or entry.version != address.version:
        return False
    if not slash:
        return entry == address
    if not bits.isdigit() or int(bits) > entry.max_prefixlen:
        return False  # lib/noproxy.c: a bad prefix length never matches
    network = ipaddress.ip_network(f"{entry}/{bits}", strict=False)
    return address in network


# --- the HTTP proxy protocol -----------------------------------------------------------------

# Sent with every request to an HTTP proxy (lib/http.c, after Accept and before the user's
# headers), in absolute form and CONNECT alike.
FORWARD_PROXY_HEADER = b"Proxy-Connection: Keep-Alive\r\n"


def forward_request_target(url: Url) -> str:
    """Return the absolute-form request-target for `url` through an HTTP proxy (RFC 9112
    section 3.2.2), as libcurl 8.23 sends it: no credentials, no fragment, no default port, no
    empty query; the path and the IPv6 zone as the URL holds them (lib/http.c: curl_url_get
    CURLUPART_URL with CURLU_NO_DEFAULT_PORT)."""
    if url.is_ipv6:
        host = f"[{url.host}%25{url.zone}]" if url.zone else f"[{url.host}]"
    else:
        host = url.host
    default = _URL_DEFAULT_PORTS.get(url.scheme)
    port = "" if url.port == default or not url.explicit_port else f":{url.port}"
    query = f"?{url.query}" if url.query else ""
    return f"{url.scheme}://{host}{port}{url.path}{query}"


_URL_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}


def _header_line(line: bytes) -> tuple[bytes, bytes | None] | None:
    """Split a CURLOPT_PROXYHEADER line as lib/dynhds.c does: return (name, line to send),
    the line None for a suppressor, or None for a line that does nothing.

    "Name: value" is sent as "Name: value" (blanks around the name and after the colon
    dropped); "Name:" with no value is not sent, it only suppresses libcurl's own header of
    that name; "Name;" sends "Name: " with an empty value; a line with neither is ignored.
    """
    line = line.lstrip(b" \t")
    colon = line.find(b":")
    semi = line.find(b";")
    if colon > 0 and (semi < 0 or colon < semi):
        name, value = line[:colon].rstrip(b" \t"), line[colon + 1 :].lstrip(b" \t")
        return name, (name + b": " + value + b"\r\n") if value else None
    if semi > 0 and not line[semi + 1 :].strip(b" \t"):
        name = line[:semi].rstrip(b" \t")
        return name, name + b": \r\n"
    return None


def build_connect_request(
    host: str,
    port: int,
    *,
    http10: bool = False,
    user_agent: str | None = None,
    proxy_auth: str | None = None,
    proxy_headers: Sequence[bytes] = (),
) -> bytes:
    """Return the CONNECT request head for a tunnel to `host`:`port`, as libcurl 8.23 sends it.

    `host` is a name or address (IPv6 without brackets; a zone is dropped); `http10` is
    CURLPROXY_HTTP_1_0; `user_agent` is CURLOPT_USERAGENT (None or "" sends none);
    `proxy_auth` the Proxy-Authorization value (e.g. "Basic dTpw"); `proxy_headers` the
    CURLOPT_PROXYHEADER lines (or CURLOPT_HTTPHEADER's under CURLHEADER_UNIFIED).

    Order (checked byte for byte): request line, Host, Proxy-Authorization, User-Agent,
    Proxy-Connection: Keep-Alive, then the user's headers in their order. A user header of one
    of those names replaces libcurl's (an empty "Name:" removes it).
    """
    target = f"[{host.partition('%')[0]}]:{port}" if ":" in host else f"{host}:{port}"
    custom: list[bytes] = []
    named: set[bytes] = set()
    for raw in proxy_headers:
        parsed = _header_line(raw)
        if parsed is None:
            continue
        name, send = parsed
        named.add(name.lower())
        if send is not None:
            custom.append(send)
    out = [f"CONNECT {target} HTTP/1.{0 if http10 else 1}\r\n".encode("latin-1")]
    if b"host" not in named:
        out.append(f"Host: {target}\r\n".encode("latin-1"))
    if proxy_auth and b"proxy-authorization" not in named:
        out.append(f"Proxy-Authorization: {proxy_auth}\r\n".encode("latin-1"))
    if user_agent and b"user-agent" not in named:
        out.append(f"User-Agent: {user_agent}\r\n".encode("latin-1"))
    if b"proxy-connection" not in named:
        out.append(FORWARD_PROXY_HEADER)
    out.extend(custom)
    out.append(b"\r\n")
    return b"".join(out)


def connect_result(head: Head) -> None:
    """Check the proxy's final answer to CONNECT; return None when the tunnel is open.

    Any 2xx opens it: libcurl ignores Content-Length and Transfer-Encoding of a 2xx CONNECT
    response (RFC 9110 section 9.3.6), so the tunnel's bytes start right after the head. Every
    other status, 1xx included, fails. The engine records `head.status` as
    CURLINFO_HTTP_CONNECTCODE either way, and reads the body of a failed answer when it wants
    to retry on the same connection (407 with proxy auth).

    Raises CurlError(E_COULDNT_CONNECT, "CONNECT tunnel failed, response <status>"), the code
    libcurl 8.23 ends the transfer with (checked).
    """
    if not 200 <= head.status <= 299:
        raise CurlError(E_COULDNT_CONNECT, f"CONNECT tunnel failed, response {head.status}")


_MAX_CONNECT_HEAD = 100 * 1024  # libcurl's CURL_MAX_HTTP_HEADER


class ConnectResponseReader:
    """Reads the proxy's response head to CONNECT, every 1xx/2xx/other head alike.

    `feed(data)` returns the `Head` once the blank line arrived (else None); `leftover` then
    holds the bytes after it: tunnel data after a 2xx (whose Content-Length and
    Transfer-Encoding libcurl ignores), the start of the body otherwise. The head is parsed
    by `ResponseParser` (so `Head.lines` are what HEADERFUNCTION gets) once it is complete.

    Raises CurlError(E_WEIRD_SERVER_REPLY, "Invalid response header") when the answer does
    not start with an HTTP/1.x status line (checked: "garbage" and "HTTP/2 200" both give it).
    """

    __slots__ = ("_buf", "leftover")

    def __init__(self) -> None:
        self._buf = b""
        self.leftover = b""

    def feed(self, data: bytes) -> Head | None:
        buf = self._buf + data if self._buf else data
        if len(buf) >= 7 and not buf.startswith(b"HTTP/1."):
            raise CurlError(E_WEIRD_SERVER_REPLY, "Invalid response header")
        end = buf.find(b"\n\r\n")
        end = end + 3 if end >= 0 else -1
        bare = buf.find(b"\n\n")
        if bare >= 0 and (end < 0 or bare + 2 < end):
            end = bare + 2
        if end < 0:
            if len(buf) > _MAX_CONNECT_HEAD:
                raise CurlError(E_WEIRD_SERVER_REPLY, "Invalid response header")
            self._buf = buf
            return None
        self._buf = b""
        self.leftover = buf[end:]
        for event in ResponseParser(head_request=True).feed(buf[:end]):
            if isinstance(event, Head):
                return event
        raise CurlError(E_WEIRD_SERVER_REPLY, "Invalid response header")
