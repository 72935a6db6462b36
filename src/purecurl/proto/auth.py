"""HTTP authentication as libcurl 8.23 does it: challenges, the choice of scheme, Basic,
Digest and Bearer, sans-IO.

Theory of operation
-------------------
libcurl keeps, per easy handle, one `struct auth` for the origin ("host") and one for the
proxy, each with its Digest state, and one `authproblem` flag shared by both. `AuthState` is
one side, `HttpAuth` the pair and the flag. Their fields carry libcurl's names:

``want``
    what CURLOPT_HTTPAUTH / CURLOPT_PROXYAUTH allow (`wanted_mask` turns the option value
    into it), set again at the start of every transfer.
``picked``
    the scheme in use. Before the first response it is `want` itself: a single bit is then
    used at once (Basic, Bearer; Digest, which has no challenge yet, sends nothing), several
    bits send nothing and wait for a 401/407 to choose (`pickoneauth`).
``avail``
    the schemes the last 401/407 offered (`avail_info` is CURLINFO_HTTPAUTH_AVAIL /
    CURLINFO_PROXYAUTH_AVAIL: everything offered during the transfer).
``done`` / ``multipass``
    whether the credentials went out; a scheme that needs a round trip first (Digest
    before its challenge) is multipass and not done, which makes a POST/PUT a probe with an
    empty body ("authneg").

The engine drives an `HttpAuth` (one per easy handle; it lives across transfers, as the
Digest nonce and the picked scheme do in libcurl) with four calls (lib/http.c):

1. `begin_transfer(httpauth, proxyauth)` when a transfer starts (`Curl_pretransfer`).
2. `request_headers(...)` for every request, CONNECT included (`Curl_http_output_auth`):
   returns the Authorization / Proxy-Authorization headers to send, and sets `authneg`.
3. `input_header(status, name, value)` for every header of a final response
   (`Curl_http_input_auth`: WWW-Authenticate of a 401, Proxy-Authenticate of a 407).
4. `act(status, ...)` once the response head is complete (`Curl_http_auth_act`): returns an
   `AuthDecision`. `retry` means: send the same request to the same URL again (libcurl sets
   `newurl` to the current URL), ignoring this response's body, rewinding an upload; the
   next `request_headers` carries the answer. Otherwise this response is the transfer's
   result, with `result` E_OK or, under FAILONERROR, E_HTTP_RETURNED_ERROR.

`on_response(status, headers, ...)` does 3 for every header, then 4.

A 401 round trip with CURLOPT_HTTPAUTH = HTTPAUTH_ANY and Digest offered::

    auth.begin_transfer(HTTPAUTH_ANY, HTTPAUTH_BASIC)
    auth.request_headers("GET", "/p?q", host=creds)        -> []   (several bits: wait)
    <- 401, WWW-Authenticate: Digest realm="r", nonce="n", qop="auth"
    auth.on_response(401, headers, host=creds)             -> AuthDecision(retry=True)
    auth.request_headers("GET", "/p?q", host=creds)        -> [("Authorization", "Digest ...")]
    <- 200: auth.on_response(200, headers, host=creds)     -> AuthDecision(retry=False)

A proxy 407 is the same with ``proxy=`` credentials: forwarded requests carry
Proxy-Authorization themselves; through a tunnel the CONNECT request does
(``connect=True, tunnel=True``, uri "host:port") and the requests inside the tunnel do not.

When libcurl cannot answer a 401/407 (no credentials, nothing acceptable offered, the
credentials were refused: a second 401 to Basic or Bearer, a second Digest challenge without
stale=true, a malformed Digest challenge), it ends the transfer with that response and E_OK,
delivering its body as usual; with FAILONERROR it fails with E_HTTP_RETURNED_ERROR when the
head is complete, without the body. A CONNECT answered with 407 and no retry fails as any
non-2xx CONNECT does (proxy.connect_result: E_COULDNT_CONNECT, "CONNECT tunnel failed,
response 407"; checked).

What this build supports: Basic, Digest (MD5, SHA-256, SHA-512-256 and their -sess forms;
qop auth and auth-int) and Bearer. Negotiate and NTLM behave as in a libcurl built without
SPNEGO and NTLM: `wanted_mask` drops their bits, and a challenge for them is not counted in
`avail` (so a server offering only those gets no answer: the 401 ends the transfer). AWS
SigV4 (CURLAUTH_AWS_SIGV4) is not implemented and treated the same way.

Byte-level facts checked against libcurl 8.23 through pycurl (tests/unit/test_auth.py):
the Digest field order and quoting; quoted values escape ``"`` and ``\\`` with a backslash
and write bytes below 0x20 and from 0x7F as ``%XX`` (the hashes use the raw bytes); user
names and passwords are bytes as given; the cnonce is 12 random bytes in base64; the nonce
count goes on over a reused nonce, also across transfers; a CONNECT request computes (and
drops) the origin's Digest answer, which uses up a nonce count; CURLAUTH_DIGEST_IE sends the
query in uri= like plain Digest (libcurl 8.23 does not cut it, whatever its documentation
says; `AuthState.iestyle` does the documented cut when set).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .._codes import E_BAD_CONTENT_ENCODING, E_HTTP_RETURNED_ERROR, E_NOT_BUILT_IN, E_OK
from .._consts import (
    HTTPAUTH_BASIC,
    HTTPAUTH_DIGEST,
    HTTPAUTH_DIGEST_IE,
    HTTPAUTH_NEGOTIATE,
    HTTPAUTH_NONE,
    HTTPAUTH_NTLM,
)
from .._errors import CurlError

__all__ = [
    "HTTPAUTH_AWS_SIGV4",
    "HTTPAUTH_BEARER",
    "PICKNONE",
    "SUPPORTED",
    "AuthDecision",
    "AuthState",
    "Credentials",
    "DigestState",
    "HttpAuth",
    "basic_value",
    "new_cnonce",
    "offered_schemes",
    "pick_one",
    "wanted_mask",
]

# curl.h bits pycurl does not export (so they are not in _consts).
HTTPAUTH_BEARER = 1 << 6
HTTPAUTH_AWS_SIGV4 = 1 << 7
# lib/http.h CURLAUTH_PICKNONE: what `picked` becomes when nothing could be picked.
PICKNONE = 1 << 30
_ONLY_MASK = (1 << 31) - 1  # the bits below CURLAUTH_ONLY

SUPPORTED = HTTPAUTH_BASIC | HTTPAUTH_DIGEST | HTTPAUTH_BEARER
_NOT_BUILT = HTTPAUTH_NEGOTIATE | HTTPAUTH_NTLM | HTTPAUTH_AWS_SIGV4

CnonceFactory = Callable[[], str]


def new_cnonce() -> str:
    """A client nonce as libcurl makes one: 12 random bytes, base64 (16 characters)."""
    return base64.b64encode(secrets.token_bytes(12)).decode("ascii")


def wanted_mask(option: int) -> int:
    """Return the mask libcurl keeps for a CURLOPT_HTTPAUTH/PROXYAUTH value (setopt.c).

    DIGEST_IE becomes DIGEST; the bits of schemes not built in (Negotiate, NTLM, AWS SigV4)
    are dropped. HTTPAUTH_NONE stays as it is. Raises CurlError(E_NOT_BUILT_IN) when no bit
    below CURLAUTH_ONLY is left, as libcurl does for NTLM alone or ONLY alone.
    """
    if option == HTTPAUTH_NONE:
        return HTTPAUTH_NONE
    auth = option
    if auth & HTTPAUTH_DIGEST_IE:
        auth = (auth | HTTPAUTH_DIGEST) & ~HTTPAUTH_DIGEST_IE
    auth &= ~_NOT_BUILT
    if not auth & _ONLY_MASK:
        raise CurlError(
            E_NOT_BUILT_IN,
            "A requested feature, protocol or option was not found built-in in this libcurl "
            "due to a build-time decision.",
        )
    return auth


def pick_one(avail: int) -> int:
    """Return the scheme libcurl's `pickoneauth` prefers among `avail`, or PICKNONE.

    The order is Negotiate, Bearer, Digest, NTLM, Basic, AWS SigV4 (lib/http.c).
    """
    for bit in (
        HTTPAUTH_NEGOTIATE,
        HTTPAUTH_BEARER,
        HTTPAUTH_DIGEST,
        HTTPAUTH_NTLM,
        HTTPAUTH_BASIC,
        HTTPAUTH_AWS_SIGV4,
    ):
        if avail & bit:
            return bit
    return PICKNONE


# -- bytes helpers ---------------------------------------------------------------------------

_SPACE = b" \t\n\v\f\r"  # ISSPACE
_BLANK = b" \t"  # ISBLANK


def _as_bytes(value: str | bytes) -> bytes:
    data = value.encode("latin-1", "replace") if isinstance(value, str) else value
    nul = data.find(b"\0")  # libcurl sees C strings
    return data if nul < 0 else data[:nul]


def _quote(value: bytes) -> str:
    """A Digest quoted-string body as libcurl 8.23 writes it (checked byte by byte)."""
    out = []
    for b in value:
        if b in (0x22, 0x5C):
            out.append("\\" + chr(b))
        elif b < 0x20 or b >= 0x7F:
            out.append(f"%{b:02X}")
        else:
            out.append(chr(b))
    return "".join(out)


# -- challenges --------------------------------------------------------------------------------

_SCHEMES = (
    (b"negotiate", HTTPAUTH_NEGOTIATE),
    (b"ntlm", HTTPAUTH_NTLM),
    (b"digest", HTTPAUTH_DIGEST),
    (b"basic", HTTPAUTH_BASIC),
    (b"bearer", HTTPAUTH_BEARER),
)


def _header_value(value: str | bytes) -> bytes:
    # Curl_copy_header_value: the value without white space around it.
    return _as_bytes(value).strip(_SPACE)


def _challenges(value: bytes) -> Iterable[tuple[int, bytes]]:
    """Yield (scheme bit, the value from the scheme name on) as `Curl_http_input_auth` sees.

    libcurl looks for a scheme name at the start and after every comma (quoted or not: a
    realm "a, Basic b" offers Basic), followed by the end, a comma or white space.
    """
    pos, n = 0, len(value)
    while pos < n:
        rest = value[pos:]
        for name, bit in _SCHEMES:
            size = len(name)
            if rest[:size].lower() == name and (len(rest) == size or rest[size] in b"," + _SPACE):
                yield bit, rest
                break
        while pos < n and value[pos] != 0x2C:
            pos += 1
        if pos < n:
            pos += 1
        while pos < n and value[pos] in _SPACE:
            pos += 1


def offered_schemes(value: str | bytes) -> int:
    """Return the CURLAUTH bits one WWW-/Proxy-Authenticate value offers, all schemes counted.

    `AuthState.input_challenge` counts only the schemes built in; this is for diagnostics.
    """
    mask = 0
    for bit, _ in _challenges(_header_value(value)):
        mask |= bit
    return mask


# -- Digest --------------------------------------------------------------------------------------

_SESSION = 1
_MD5, _SHA256, _SHA512_256 = 0, 2, 4
_ALGORITHMS = {
    b"md5": _MD5,
    b"md5-sess": _MD5 | _SESSION,
    b"sha-256": _SHA256,
    b"sha-256-sess": _SHA256 | _SESSION,
    b"sha-512-256": _SHA512_256,
    b"sha-512-256-sess": _SHA512_256 | _SESSION,
}
_HASH_NAMES = {_MD5: "md5", _SHA256: "sha256", _SHA512_256: "sha512_256"}
# Limits of `Curl_auth_digest_get_pair` in libcurl 8.23, found by probing it (they differ by
# one from the 8.x sources' DIGEST_MAX_VALUE_LENGTH / DIGEST_MAX_CONTENT_LENGTH loops): a
# name of up to 256 bytes; a value scanned for up to 1024 bytes (backslashes and the closing
# quote or comma counted), failing when its content reaches 1024 bytes.
_MAX_NAME = 256
_MAX_CONTENT = 1024


def _sha512_256_available() -> bool:
    try:
        hashlib.new("sha512_256")
    except ValueError:
        return False
    return True


_HAVE_SHA512_256 = _sha512_256_available()


def _digest_pair(s: bytes, i: int) -> tuple[bytes, bytes, int] | None:
    """`Curl_auth_digest_get_pair`: name=content at `i`; returns it and the next position.

    Content is quoted (backslash escapes anything; a CR or LF inside is an error; no closing
    quote ends it at the end of the string) or not (it ends at a comma or line end; a quote
    in it is an error). A longer name is an error; a value that does not end within the
    scan budget is cut there (what follows is read as the next pair), unless its content
    filled the whole budget, which is an error (see _MAX_CONTENT).
    """
    n = len(s)
    j = i
    while j < n and s[j] != 0x3D and j - i < _MAX_NAME:
        j += 1
    name = s[i:j]
    if j >= n or s[j] != 0x3D:
        return None
    j += 1
    quoted = j < n and s[j] == 0x22
    if quoted:
        j += 1
    budget = _MAX_CONTENT
    out = bytearray()
    escape = False
    while j < n and budget:
        budget -= 1
        c = s[j]
        if not escape:
            if c == 0x5C and quoted:
                escape = True
                j += 1
                continue
            if c == 0x2C and not quoted:
                j += 1
                break
            if c in (0x0D, 0x0A):
                if quoted:
                    return None
                j += 1
                break
            if c == 0x22:
                if not quoted:
                    return None
                j += 1
                break
        escape = False
        out.append(c)
        j += 1
    if escape or len(out) >= _MAX_CONTENT:
        return None
    return name, bytes(out), j


def _qop_words(content: bytes) -> list[bytes]:
    """The words of a qop list as libcurl's `curlx_str_until(..., 32, ',')` loop takes them."""
    words = []
    pos, n = 0, len(content)
    while pos < n and content[pos] in _BLANK:
        pos += 1
    while True:
        end = pos
        while end < n and content[end] != 0x2C:
            end += 1
        if end == pos or end - pos > 32:
            break
        words.append(content[pos:end])
        pos = end
        if pos >= n or content[pos] != 0x2C:
            break
        pos += 1
        while pos < n and content[pos] in _BLANK:
            pos += 1
    return words


class DigestState:
    """libcurl's `struct digestdata`: the last Digest challenge and the nonce count.

    Byte strings are as the server sent them (unescaped); `algorithm` is the name as sent,
    echoed in the answer; `nc` is the next nonce count.
    """

    __slots__ = (
        "algo",
        "algorithm",
        "cnonce",
        "nc",
        "nonce",
        "opaque",
        "qop",
        "realm",
        "stale",
        "userhash",
    )

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget the challenge (`Curl_auth_digest_cleanup`)."""
        self.nonce: bytes | None = None
        self.cnonce: str | None = None
        self.realm: bytes | None = None
        self.opaque: bytes | None = None
        self.qop: bytes | None = None
        self.algorithm: bytes | None = None
        self.algo = _MD5
        self.nc = 0
        self.stale = False
        self.userhash = False

    def __repr__(self) -> str:
        return (
            f"<DigestState nonce={self.nonce!r} realm={self.realm!r} qop={self.qop!r} "
            f"algorithm={self.algorithm!r} nc={self.nc} stale={self.stale}>"
        )

    def decode(self, challenge: bytes) -> int:
        """Take in the parameters after "Digest " (`Curl_auth_decode_digest_http_message`).

        Returns E_OK, E_BAD_CONTENT_ENCODING (no nonce; an unknown algorithm; "-sess"
        without qop; a new nonce without stale=true after one was had, which means the
        credentials were refused) or E_NOT_BUILT_IN (SHA-512-256 without the hash).
        Unknown parameters (charset, domain, ...) are ignored. Like libcurl, fields read
        before an error stay.
        """
        before = self.nonce is not None
        self.reset()
        pos, n = 0, len(challenge)
        while True:
            while pos < n and challenge[pos] in _BLANK:
                pos += 1
            pair = _digest_pair(challenge, pos)
            if pair is None:
                break
            name, content, pos = pair
            key = name.lower()
            if key == b"nonce":
                self.nonce = content
            elif key == b"stale":
                if content.lower() == b"true":
                    self.stale = True
                    self.nc = 1
            elif key == b"realm":
                self.realm = content
            elif key == b"opaque":
                self.opaque = content
            elif key == b"qop":
                words = [w.lower() for w in _qop_words(content)]
                if b"auth" in words:
                    self.qop = b"auth"
                elif b"auth-int" in words:
                    self.qop = b"auth-int"
            elif key == b"algorithm":
                self.algorithm = content
                algo = _ALGORITHMS.get(content.lower())
                if algo is None:
                    return E_BAD_CONTENT_ENCODING
                if algo & ~_SESSION == _SHA512_256 and not _HAVE_SHA512_256:
                    return E_NOT_BUILT_IN
                self.algo = algo
            elif key == b"userhash" and content.lower() == b"true":
                self.userhash = True
            while pos < n and challenge[pos] in _BLANK:
                pos += 1
            if pos < n and challenge[pos] == 0x2C:
                pos += 1
        if before and not self.stale:
            return E_BAD_CONTENT_ENCODING
        if self.nonce is None:
            return E_BAD_CONTENT_ENCODING
        if self.qop is None and self.algo & _SESSION:
            return E_BAD_CONTENT_ENCODING
        return E_OK

    def answer(
        self,
        user: bytes,
        password: bytes,
        method: bytes,
        uri: bytes,
        cnonce: CnonceFactory = new_cnonce,
    ) -> str:
        """Return the parameters of the Digest answer (`auth_create_digest_http_message`).

        RFC 7616 section 3.4 with libcurl's choices: qop is auth when offered, else
        auth-int, whose entity hash is always that of an empty body (libcurl's too); the
        cnonce is made once per challenge (by `cnonce`); the nonce count goes up after each
        answer with a qop. Requires a nonce (`decode` returned E_OK).
        """
        assert self.nonce is not None
        if not self.nc:
            self.nc = 1
        if self.cnonce is None:
            self.cnonce = cnonce()
        name = _HASH_NAMES[self.algo & ~_SESSION]

        def h(data: bytes) -> bytes:
            return hashlib.new(name, data).hexdigest().encode("ascii")

        realm = self.realm if self.realm is not None else b""
        cnonce_b = self.cnonce.encode("latin-1")
        ha1 = h(user + b":" + realm + b":" + password)
        if self.algo & _SESSION:
            ha1 = h(ha1 + b":" + self.nonce + b":" + cnonce_b)
        a2 = method + b":" + uri
        if self.qop is not None and self.qop.lower() == b"auth-int":
            a2 += b":" + h(b"")
        ha2 = h(a2)
        if self.qop is not None:
            nc = b"%08x" % self.nc
            response = h(b":".join((ha1, self.nonce, nc, cnonce_b, self.qop, ha2)))
        else:
            response = h(ha1 + b":" + self.nonce + b":" + ha2)
        shown_user = h(user + b":" + realm) if self.userhash else user
        fields = [
            f'username="{_quote(shown_user)}"',
            f'realm="{_quote(realm)}"',
            f'nonce="{_quote(self.nonce)}"',
            f'uri="{_quote(uri)}"',
        ]
        if self.qop is not None:
            fields += [
                f'cnonce="{self.cnonce}"',
                f"nc={self.nc:08x}",
                f"qop={self.qop.decode('latin-1')}",
            ]
            self.nc += 1
        fields.append(f'response="{response.decode("ascii")}"')
        if self.opaque is not None:
            fields.append(f'opaque="{_quote(self.opaque)}"')
        if self.algorithm is not None:
            fields.append(f"algorithm={self.algorithm.decode('latin-1')}")
        if self.userhash:
            fields.append("userhash=true")
        return ", ".join(fields)


# -- credentials and the per-side state ------------------------------------------------------


def _to_bytes(value: str | bytes | None) -> bytes | None:
    if value is None:
        return None
    return value.encode("utf-8") if isinstance(value, str) else value


@dataclass(frozen=True)
class Credentials:
    """What one side may authenticate with; bytes are sent (and hashed) as they are.

    `user` is None when there is no login at all (libcurl's aptr.user NULL): build with
    `Credentials.login(user, password)` to get libcurl's rule for that. `bearer` is
    CURLOPT_XOAUTH2_BEARER, for the origin only.
    """

    user: bytes | None = None
    password: bytes | None = None
    bearer: bytes | None = None

    @classmethod
    def login(
        cls,
        user: str | bytes | None,
        password: str | bytes | None = None,
        bearer: str | bytes | None = None,
    ) -> Credentials:
        """Credentials from a user name and password as libcurl takes them (checked).

        Neither (or both empty: USERPWD ":") means no login; a password alone gets an empty
        user name (":p" sends Basic for ":p"). A str is encoded as UTF-8.
        """
        u, p = _to_bytes(user), _to_bytes(password)
        if not u and not p:
            return cls(None, None, _to_bytes(bearer) or None)
        return cls(u or b"", p, _to_bytes(bearer) or None)

    @property
    def has_login(self) -> bool:
        return self.user is not None


def basic_value(user: bytes, password: bytes | None) -> str:
    """The Basic credentials: base64 of user ":" password, bytes as given (RFC 7617)."""
    return "Basic " + base64.b64encode(user + b":" + (password or b"")).decode("ascii")


class AuthState:
    """One side's `struct auth` and Digest state; see the module docstring for the fields."""

    __slots__ = (
        "_cnonce",
        "avail",
        "avail_info",
        "digest",
        "done",
        "iestyle",
        "multipass",
        "picked",
        "proxy",
        "used",
        "want",
    )

    def __init__(
        self,
        proxy: bool = False,
        *,
        cnonce: CnonceFactory | None = None,
        iestyle: bool = False,
    ) -> None:
        self.proxy = proxy
        self.want = HTTPAUTH_BASIC  # libcurl's default CURLOPT_HTTPAUTH / PROXYAUTH
        self.picked = 0
        self.avail = 0
        self.avail_info = 0
        self.used = 0
        self.done = False
        self.multipass = False
        self.iestyle = iestyle
        self.digest = DigestState()
        self._cnonce: CnonceFactory = cnonce if cnonce is not None else new_cnonce

    def __repr__(self) -> str:
        side = "proxy" if self.proxy else "host"
        return (
            f"<AuthState {side} want={self.want:#x} picked={self.picked:#x} "
            f"avail={self.avail:#x} done={self.done} multipass={self.multipass}>"
        )

    def begin_transfer(self, want: int) -> None:
        """A transfer starts: take the option's mask (`wanted_mask`), forget what was offered."""
        self.want = want
        self.avail_info = 0
        self.used = 0

    def input_challenge(self, value: str | bytes) -> bool:
        """Take in one WWW-/Proxy-Authenticate value; return True for an auth problem.

        A problem is: a malformed Digest challenge, or a Basic / Bearer challenge while that
        scheme is the one picked (the credentials were refused; `avail` is then cleared).
        Only the first Digest challenge of a response counts.
        """
        problem = False
        for bit, rest in _challenges(_header_value(value)):
            if bit == HTTPAUTH_DIGEST:
                if self.avail & HTTPAUTH_DIGEST:
                    continue  # "Ignoring duplicate digest auth header."
                self.avail |= bit
                self.avail_info |= bit
                if self._decode_digest(rest) != E_OK:
                    problem = True  # "Authentication problem. Ignoring this."
            elif bit in (HTTPAUTH_BASIC, HTTPAUTH_BEARER):
                self.avail_info |= bit
                self.avail |= bit
                if self.picked == bit:
                    self.avail = HTTPAUTH_NONE
                    problem = True
            # Negotiate and NTLM: not built in, so not offered as far as we are concerned.
        return problem

    def _decode_digest(self, rest: bytes) -> int:
        # lib/http_digest.c Curl_input_digest: "Digest" then blanks, then the parameters.
        if rest[:6].lower() != b"digest" or len(rest) < 7 or rest[6] not in _BLANK:
            return E_BAD_CONTENT_ENCODING
        return self.digest.decode(rest[7:].lstrip(_BLANK))

    def pick(self, mask: int) -> bool:
        """`pickoneauth`: choose among `avail & want & mask`; clears `avail`.

        Returns whether a scheme was picked (`picked` is PICKNONE otherwise).
        """
        self.picked = pick_one(self.avail & self.want & mask)
        self.avail = HTTPAUTH_NONE
        if self.picked == PICKNONE:
            return False
        self.used = self.picked
        return True

    def output(
        self,
        method: str | bytes,
        uri: str | bytes,
        credentials: Credentials,
        *,
        custom_header: bool = False,
    ) -> str | None:
        """`output_auth_headers` for this side: return the header value to send, or None.

        `uri` is what Digest hashes and sends: the path and query of the request (for a
        CONNECT, "host:port"). `custom_header` says the application set its own
        Authorization (Proxy-Authorization) header, which then replaces Basic and Bearer.
        Updates `done` and `multipass`.
        """
        value: str | None = None
        scheme: str | None = None
        if self.picked == HTTPAUTH_DIGEST:
            scheme = "Digest"
            if self.digest.nonce is None:
                self.done = False
            else:
                uri_b = _as_bytes(uri)
                if self.iestyle:
                    uri_b = uri_b.partition(b"?")[0]
                value = "Digest " + self.digest.answer(
                    credentials.user or b"",
                    credentials.password or b"",
                    _as_bytes(method),
                    uri_b,
                    self._cnonce,
                )
                self.done = True
        elif self.picked == HTTPAUTH_BASIC:
            if credentials.user is not None and not custom_header:
                scheme = "Basic"
                value = basic_value(credentials.user, credentials.password)
            self.done = True  # Basic is always ready
        if self.picked == HTTPAUTH_BEARER:
            if not self.proxy and credentials.bearer and not custom_header:
                scheme = "Bearer"
                value = "Bearer " + credentials.bearer.decode("latin-1")
            self.done = True
        self.multipass = not self.done if scheme is not None else False
        return value


@dataclass(frozen=True)
class AuthDecision:
    """What `HttpAuth.act` tells the engine to do with a response.

    `retry`: request the same URL again (after rewinding an upload) and ignore this
    response's body. Otherwise the response stands, and the transfer ends with `result`:
    E_OK, or E_HTTP_RETURNED_ERROR under FAILONERROR, decided when the head is complete (no
    body is delivered then), with `message` as the error text ("" means the code's own
    text, "HTTP response code said error").
    """

    retry: bool = False
    result: int = E_OK
    message: str = ""


_PROCEED = AuthDecision()


class HttpAuth:
    """Authentication state of one easy handle: origin side, proxy side, the problem flag.

    `authneg` is set by `request_headers`: the request is a probe (send a POST/PUT with
    "Content-Length: 0" and no body), made when a multipass scheme has not answered yet.
    """

    __slots__ = ("authneg", "host", "problem", "proxy")

    def __init__(self, *, cnonce: CnonceFactory | None = None) -> None:
        self.host = AuthState(False, cnonce=cnonce)
        self.proxy = AuthState(True, cnonce=cnonce)
        self.problem = False
        self.authneg = False

    def __repr__(self) -> str:
        return f"<HttpAuth {self.host!r} {self.proxy!r} problem={self.problem}>"

    @property
    def httpauth_avail(self) -> int:
        """CURLINFO_HTTPAUTH_AVAIL."""
        return self.host.avail_info

    @property
    def proxyauth_avail(self) -> int:
        """CURLINFO_PROXYAUTH_AVAIL."""
        return self.proxy.avail_info

    def begin_transfer(self, httpauth: int, proxyauth: int) -> None:
        """A transfer starts (`Curl_pretransfer`): masks from the options, no problem yet."""
        self.problem = False
        self.authneg = False
        self.host.begin_transfer(httpauth)
        self.proxy.begin_transfer(proxyauth)

    def request_headers(
        self,
        method: str,
        uri: str,
        *,
        host: Credentials,
        proxy: Credentials | None = None,
        connect: bool = False,
        tunnel: bool = False,
        upload: bool = False,
        send_to_host: bool = True,
        custom_authorization: bool = False,
        custom_proxy_authorization: bool = False,
    ) -> list[tuple[str, str]]:
        """Return the auth headers of a request, as `Curl_http_output_auth` makes them.

        `uri`: the request's path and query, or "host:port" for a CONNECT. `proxy`: the
        proxy credentials when the request goes through an HTTP proxy (None without one).
        `connect`: this is the CONNECT request; `tunnel`: the transfer tunnels through the
        proxy (then only the CONNECT carries Proxy-Authorization). `upload`: libcurl's
        request type is POST or PUT (not GET/HEAD, whatever the method string).
        `send_to_host`: False after a redirect to another host, unless
        CURLOPT_UNRESTRICTED_AUTH or the credentials came from .netrc. The `custom_*` flags
        say the application set that header itself.

        A CONNECT computes the origin's answer too and drops it, as libcurl does (a Digest
        nonce count is used up). Sets `authneg`.
        """
        has_proxy_login = proxy is not None and proxy.has_login
        if not (has_proxy_login or host.has_login or host.bearer):
            self.host.done = self.proxy.done = True
            self.authneg = False
            return []
        for side in (self.host, self.proxy):
            if side.want and not side.picked:
                side.picked = side.want
        headers: list[tuple[str, str]] = []
        if proxy is not None and tunnel == connect:
            value = self.proxy.output(method, uri, proxy, custom_header=custom_proxy_authorization)
            if value is not None:
                headers.append(("Proxy-Authorization", value))
        else:
            self.proxy.done = True
        if send_to_host:
            value = self.host.output(method, uri, host, custom_header=custom_authorization)
            if value is not None and not connect:
                headers.append(("Authorization", value))
        else:
            self.host.done = True
        pending = any(side.multipass and not side.done for side in (self.host, self.proxy))
        self.authneg = pending and upload and not connect
        return headers

    def input_header(self, status: int, name: str | bytes, value: str | bytes) -> None:
        """Take in one response header (`Curl_http_input_auth` is called for these only)."""
        lname = name.lower() if isinstance(name, str) else name.decode("latin-1").lower()
        if status == 401 and lname == "www-authenticate":
            side = self.host
        elif status == 407 and lname == "proxy-authenticate":
            side = self.proxy
        else:
            return
        if side.input_challenge(value):
            self.problem = True

    def act(
        self,
        status: int,
        *,
        host: Credentials,
        proxy: Credentials | None = None,
        upload: bool = False,
        fail_on_error: bool = False,
        resume_get: bool = False,
    ) -> AuthDecision:
        """Decide, once a response head is complete, as `Curl_http_auth_act` does.

        `upload` as for `request_headers`; `fail_on_error` is CURLOPT_FAILONERROR;
        `resume_get` says a GET resumed with CURLOPT_RESUME_FROM (a 416 then is no failure).
        """
        if 100 <= status <= 199:
            return _PROCEED
        if self.problem:
            # libcurl returns the code without a message here, whatever the status: a POST
            # probe that got a 2xx (problem set: nothing to pick) then fails its real request
            # under FAILONERROR with "HTTP response code said error" (checked, 8.23).
            return AuthDecision(result=E_HTTP_RETURNED_ERROR) if fail_on_error else _PROCEED
        mask = ~0 if host.bearer else ~HTTPAUTH_BEARER
        pick_host = pick_proxy = False
        if (host.has_login or host.bearer) and (status == 401 or (self.authneg and status < 300)):
            pick_host = self.host.pick(mask)
            if not pick_host:
                self.problem = True
        has_proxy_login = proxy is not None and proxy.has_login
        if has_proxy_login and (status == 407 or (self.authneg and status < 300)):
            pick_proxy = self.proxy.pick(mask & ~HTTPAUTH_BEARER)
            if not pick_proxy:
                self.problem = True
        retry = pick_host or pick_proxy
        if not retry and status < 300 and not self.host.done and self.authneg and upload:
            # The probe got through without auth: send the real request now.
            retry = True
            self.host.done = True
        if fail_on_error and self._should_fail(status, host, has_proxy_login, resume_get):
            return self._failed(status)
        return AuthDecision(retry=True) if retry else _PROCEED

    def on_response(
        self,
        status: int,
        headers: Iterable[tuple[str | bytes, str | bytes]],
        *,
        host: Credentials,
        proxy: Credentials | None = None,
        upload: bool = False,
        fail_on_error: bool = False,
        resume_get: bool = False,
    ) -> AuthDecision:
        """`input_header` for each of a final response's headers, then `act`."""
        for name, value in headers:
            self.input_header(status, name, value)
        return self.act(
            status,
            host=host,
            proxy=proxy,
            upload=upload,
            fail_on_error=fail_on_error,
            resume_get=resume_get,
        )

    def _should_fail(
        self, status: int, host: Credentials, has_proxy_login: bool, resume_get: bool
    ) -> bool:
        # lib/http.c http_should_fail, with FAILONERROR set.
        if status < 400:
            return False
        if resume_get and status == 416:
            return False
        if status not in (401, 407):
            return True
        if status == 401 and not host.has_login:
            return True
        if status == 407 and not has_proxy_login:
            return True
        return self.problem

    @staticmethod
    def _failed(status: int) -> AuthDecision:
        return AuthDecision(
            result=E_HTTP_RETURNED_ERROR,
            message=f"The requested URL returned error: {status}",
        )
