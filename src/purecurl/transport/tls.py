"""TLS as a connection filter: the standard library's `ssl`, driven without blocking.

Theory of operation
-------------------
`TlsSettings` is what the easy options say about TLS, frozen and hashable: it is part of the
pool key and the key of `ContextCache`, which builds one `ssl.SSLContext` per distinct settings
(CA files are read once, not per connection). `TlsHandshake` wraps a connected non-blocking
socket and advances the handshake by one `do_handshake()` per `step()`; while it returns False,
`want_write` says which socket interest to announce. Nothing here blocks or reads the clock:
the engine owns the connect timeout.

Verification follows libcurl's OpenSSL backend (lib/vtls/openssl.c), as measured against
libcurl 8.23 through pycurl 7.49 (the messages below are libcurl's):

- The chain is verified by OpenSSL during the handshake when SSL_VERIFYPEER is on (CAINFO,
  CAPATH and CAINFO_BLOB are all loaded; with none of them, the system store, and certifi when
  the system store is empty). A failure is 60 "SSL certificate OpenSSL verify result: <text>
  (<code>)". With VERIFYPEER off no trust anchors are loaded at all.
- The name is checked by us after the handshake whenever SSL_VERIFYHOST is non-zero, even with
  VERIFYPEER off (libcurl does the same), so the messages and rules are libcurl's: an IP
  address matches iPAddress SANs only, a host name dNSName SANs (one leading "*" label); the
  subject CN is consulted only when the certificate has no DNS or IP SAN at all.
- PINNEDPUBLICKEY is checked last, whatever the other two say: sha256 of the peer's DER
  SubjectPublicKeyInfo, found by the small DER walker below (no dependency at run time).
- Afterwards, an end of stream without close_notify is 56 ("unexpected eof while reading"),
  as in libcurl over OpenSSL 3: the socket is wrapped with suppress_ragged_eofs=False, or
  `ssl` would pass a truncated stream off as a complete one.

Known differences from libcurl (stdlib `ssl` exposes no more): when the chain AND the name are
both wrong, libcurl reports the name and we the chain (both 60); `verify_result` with
VERIFYPEER off is 18 (self-signed leaf) or 20 (anything else), where OpenSSL may say more;
TLS13_CIPHERS is validated but cannot be applied; P12/ENG/PROV certificate and key types are
refused; the OpenSSL detail of a client certificate that does not load is a fixed text per
cause (libcurl prints whatever OpenSSL's error queue holds first); an encrypted key without
KEYPASSWD fails (43) where libcurl lets OpenSSL prompt on the terminal; certinfo covers the
leaf only before Python 3.13 (which adds `get_unverified_chain`), and decodes only the fields
listed in `certinfo` (libcurl shows every extension).

Environment: libcurl itself reads neither CURL_CA_BUNDLE nor SSL_CERT_FILE (measured: the
curl tool reads CURL_CA_BUNDLE and passes it as CAINFO). The default store here is OpenSSL's
default verify paths, which OpenSSL points elsewhere when SSL_CERT_FILE / SSL_CERT_DIR are set.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import hashlib
import ipaddress
import os
import re
import socket
import ssl
from collections import OrderedDict
from dataclasses import dataclass, field

from purecurl._codes import (
    E_BAD_FUNCTION_ARGUMENT,
    E_NOT_BUILT_IN,
    E_PEER_FAILED_VERIFICATION,
    E_RECV_ERROR,
    E_SEND_ERROR,
    E_SSL_CACERT_BADFILE,
    E_SSL_CERTPROBLEM,
    E_SSL_CIPHER,
    E_SSL_CONNECT_ERROR,
    E_SSL_CRL_BADFILE,
    E_SSL_PINNEDPUBKEYNOTMATCH,
)
from purecurl._consts import (
    SSLOPT_ALLOW_BEAST,
    SSLOPT_NATIVE_CA,
    SSLOPT_NO_PARTIALCHAIN,
    SSLOPT_NO_REVOKE,
    SSLVERSION_MAX_DEFAULT,
    SSLVERSION_SSLv2,
    SSLVERSION_SSLv3,
    SSLVERSION_TLSv1,
    SSLVERSION_TLSv1_0,
    SSLVERSION_TLSv1_1,
    SSLVERSION_TLSv1_2,
    SSLVERSION_TLSv1_3,
)
from purecurl._errors import CurlError
from purecurl._version import SSL_VERSION
from purecurl.transport.oserrors import curl_error
from purecurl.transport.tls_in_tls import TlsOverTls

__all__ = [
    "SSLOPT_ALLOW_BEAST",
    "SSLOPT_NATIVE_CA",
    "SSLOPT_NO_PARTIALCHAIN",
    "SSLOPT_NO_REVOKE",
    "ContextCache",
    "TlsHandshake",
    "TlsSessionCache",
    "TlsSettings",
    "recv_error",
    "send_error",
    "spki_of",
]

# CURLOPT_SSL_OPTIONS bits: ALLOW_BEAST concerns CBC in TLS <= 1.0 (off in OpenSSL's defaults
# anyway), NO_REVOKE and REVOKE_BEST_EFFORT concern Schannel's revocation checks,
# AUTO_CLIENT_CERT is Windows-only, EARLYDATA needs 0-RTT that `ssl` lacks: accepted, no effect.
# NO_PARTIALCHAIN and NATIVE_CA apply. They and the SSLVERSION values live in _consts.

_TLS_VERSIONS = {
    SSLVERSION_TLSv1: ssl.TLSVersion.TLSv1,
    SSLVERSION_TLSv1_0: ssl.TLSVersion.TLSv1,
    SSLVERSION_TLSv1_1: ssl.TLSVersion.TLSv1_1,
    SSLVERSION_TLSv1_2: ssl.TLSVersion.TLSv1_2,
    SSLVERSION_TLSv1_3: ssl.TLSVersion.TLSv1_3,
}
# The TLS 1.3 suites OpenSSL knows (RFC 8446 appendix B.4).
_TLS13_SUITES = frozenset(
    {
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_CCM_SHA256",
        "TLS_AES_128_CCM_8_SHA256",
    }
)

# "OpenSSL/3.0.19", as libcurl's Curl_ssl_version names it (the one place it is derived).
SSL_LIBRARY = SSL_VERSION

# X509_V_* codes (x509_vfy.h) used without a handshake failure to read them from.
_X509_V_OK = 0
_X509_V_ERR_UNSPECIFIED = 1  # libcurl's value before verification ran (certverifyresult)
_X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT = 18
_X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """The TLS options of one transfer (CURLOPT_SSL_* and friends); hashable.

    `verify_host` is 0 or 2 (1 behaves as 2 since libcurl 7.66). `sslversion` is the
    CURLOPT_SSLVERSION value: the minimum in the low 16 bits, CURL_SSLVERSION_MAX_* above.
    `pinned_pubkey` is "sha256//<base64>[;sha256//...]" or a PEM/DER public-key file.
    """

    verify_peer: bool = True
    verify_host: int = 2
    cainfo: str | None = None
    capath: str | None = None
    cainfo_blob: bytes | None = None
    cert: str | None = None
    key: str | None = None
    certtype: str = "PEM"
    keytype: str = "PEM"
    keypasswd: str | None = None
    cert_blob: bytes | None = None
    key_blob: bytes | None = None
    sslversion: int = 0
    cipher_list: str | None = None
    tls13_ciphers: str | None = None
    pinned_pubkey: str | None = None
    crlfile: str | None = None
    ssl_options: int = 0
    alpn: tuple[str, ...] = ("http/1.1",)
    certinfo: bool = False


# -- OpenSSL-style error texts --------------------------------------------------------------

_LIB_SSL = 20  # ERR_LIB_SSL
_SSL_REASONS = {  # include/openssl/sslerr.h numbers of the reasons a client meets
    "BAD_WRITE_RETRY": 127,
    "CERTIFICATE_VERIFY_FAILED": 134,
    "HTTPS_PROXY_REQUEST": 155,
    "HTTP_REQUEST": 156,
    "NO_CIPHERS_AVAILABLE": 181,
    "NO_PROTOCOLS_AVAILABLE": 191,
    "PROTOCOL_IS_SHUTDOWN": 207,
    "UNSUPPORTED_PROTOCOL": 258,
    "WRONG_VERSION_NUMBER": 267,
    "BAD_LENGTH": 271,
    "DECRYPTION_FAILED_OR_BAD_RECORD_MAC": 281,
    "APPLICATION_DATA_AFTER_CLOSE_NOTIFY": 291,
    "UNEXPECTED_EOF_WHILE_READING": 294,
}
_SSL_AD_REASON_OFFSET = 1000  # ssl.h: an alert's reason is 1000 + its AlertDescription
_ALERTS_NOT_IN_SSL_MODULE = {
    "MISSING_EXTENSION": 109,
    "CERTIFICATE_REQUIRED": 116,
    "NO_APPLICATION_PROTOCOL": 120,
}


def _reason_number(reason: str) -> int | None:
    number = _SSL_REASONS.get(reason)
    if number is not None:
        return number
    for prefix in ("SSLV3_ALERT_", "TLSV1_ALERT_", "TLSV13_ALERT_", "TLSV1_"):
        if reason.startswith(prefix):
            name = reason[len(prefix) :]
            alert = getattr(ssl.AlertDescription, "ALERT_DESCRIPTION_" + name, None)
            value = int(alert) if alert is not None else _ALERTS_NOT_IN_SSL_MODULE.get(name)
            if value is not None:
                return _SSL_AD_REASON_OFFSET + value
    return None


def _openssl_error(exc: ssl.SSLError) -> str:
    """Return OpenSSL's ERR_error_string_n text for `exc` as libcurl prints it.

    "error:0A000418:SSL routines::tlsv1 alert unknown ca". `ssl` gives the library and reason
    names and OpenSSL's text, not the packed code; the code is rebuilt for the reasons a client
    meets (alerts are 1000 + the alert number) and left out otherwise.
    """
    # `_ssl` sets both attributes (maybe to None); an SSLError made in Python has neither.
    reason = getattr(exc, "reason", None) or ""
    library = getattr(exc, "library", None)
    text = str(exc)
    # "[SSL: REASON] text (_ssl.c:1006)"; Python replaces the text of the EOF reasons.
    close = text.find("] ")
    if close >= 0:
        text = text[close + 2 :]
    paren = text.rfind(" (_ssl.c")
    if paren >= 0:
        text = text[:paren]
    if isinstance(exc, ssl.SSLEOFError) or text.startswith("EOF occurred"):
        reason = reason or "UNEXPECTED_EOF_WHILE_READING"
        text = reason.lower().replace("_", " ")
    if library not in (None, "SSL"):
        return f"{library} routines::{text}"
    number = _reason_number(reason)
    if number is None:
        return f"SSL routines::{text}"
    return f"error:{(_LIB_SSL << 23) | number:08X}:SSL routines::{text}"


def _system_error(exc: OSError) -> str:
    """OpenSSL 3's text for a system error: ERR_SYSTEM_FLAG | errno."""
    code = exc.errno or errno.EIO
    return f"error:{0x80000000 | code:08X}:system library::{os.strerror(code)}"


# -- CA store, client certificate -----------------------------------------------------------


def _default_trust(ctx: ssl.SSLContext) -> None:
    """Load the system's trust store; certifi's bundle when the system has none."""
    ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
    if ctx.cert_store_stats()["x509_ca"]:
        return
    # A CA directory is searched lazily, so an empty count does not mean an empty directory.
    capath = ssl.get_default_verify_paths().capath
    if capath and os.path.isdir(capath):
        with contextlib.suppress(OSError):
            if any(True for _ in os.scandir(capath)):
                return
    try:
        import certifi
    except ImportError:
        return
    ctx.load_verify_locations(cafile=certifi.where())


def _pem_text(data: bytes, label: str) -> str:
    """Return DER `data` as a PEM block with `label`."""
    b64 = base64.encodebytes(data).decode("ascii").replace("\n", "")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


class _MemoryFile:
    """A path the OpenSSL file loaders can read `data` from, gone after the `with`.

    `load_cert_chain` only takes paths. On Linux a memfd keeps key material off the disk; else
    a private temporary file (mode 0600) lives for the duration of the load.
    """

    def __init__(self, data: bytes) -> None:
        self._fd = -1
        self._path = ""
        memfd = getattr(os, "memfd_create", None)
        if memfd is not None and os.path.isdir("/proc/self/fd"):
            self._fd = memfd("purecurl-tls", 0)
            self._path = f"/proc/self/fd/{self._fd}"
        else:
            import tempfile

            self._fd, self._path = tempfile.mkstemp(prefix="purecurl-tls-")
        os.write(self._fd, data)

    def __enter__(self) -> str:
        return self._path

    def __exit__(self, *exc: object) -> None:
        os.close(self._fd)
        if not self._path.startswith("/proc/"):
            with contextlib.suppress(OSError):
                os.unlink(self._path)


_CERT_HINT = "(no key found, wrong passphrase, or wrong file format?)"
# PEM_read_bio_X509_AUX takes the first block with one of these labels and skips the others.
_PEM_CERT = re.compile(rb"-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----(.*?)-----END ", re.DOTALL)
_PEM_KEY_LABELS = ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY")


def _cert_problem(filetype: str, name: str, openssl_error: str) -> CurlError:
    """libcurl's 58 for a client certificate that does not load (openssl.c cert_stuff)."""
    kind = "PEM" if filetype == "PEM" else "ASN1"
    return CurlError(
        E_SSL_CERTPROBLEM,
        f"could not load {kind} client certificate from {name}, OpenSSL error "
        f"{openssl_error}, {_CERT_HINT}",
    )


def _client_cert_error(data: bytes, filetype: str) -> str | None:
    """Return OpenSSL's error text for why `data` holds no certificate, or None if it does.

    `ssl` loads a certificate only together with its key; checking the certificate first
    keeps libcurl's split between a bad certificate (58) and a bad key (43).
    """
    if filetype == "DER":
        try:
            parse_certificate(data)
        except ValueError:
            return "error:1E08010C:DECODER routines::unsupported"
        return None
    match = _PEM_CERT.search(data)
    if match is None:
        return "error:0480006C:PEM routines::no start line"
    try:
        der = base64.b64decode(b"".join(match.group(1).split()), validate=True)
    except ValueError:
        return "error:04800064:PEM routines::bad base64 decode"
    try:
        parse_certificate(der)
    except ValueError:
        return "error:068000A8:asn1 encoding routines::wrong tag"
    return None


def _load_client_cert(ctx: ssl.SSLContext, s: TlsSettings) -> None:
    """Load CURLOPT_SSLCERT/SSLKEY (or the blob forms) into `ctx`, in libcurl's order.

    Raises CurlError with libcurl's code and text (measured against libcurl 8.23): 58 when
    the certificate does not load, 43 when the key does not ("unable to set private key
    file"), 43 for an unknown file type, 58 for the engine/provider/P12 types `ssl` lacks.
    """
    certtype = s.certtype or "PEM"
    keytype = s.keytype or "PEM"
    ctype, ktype = certtype.upper(), keytype.upper()
    if ctype in ("ENG", "PROV"):
        what = "engine" if ctype == "ENG" else "provider"
        raise CurlError(E_SSL_CERTPROBLEM, f"crypto {what} not set, cannot load certificate")
    if ctype not in ("PEM", "DER"):
        # libcurl also reads P12 (with OpenSSL's PKCS#12 code, which `ssl` does not expose)
        raise CurlError(
            E_BAD_FUNCTION_ARGUMENT, f"not supported file type '{certtype}' for certificate"
        )
    if s.cert_blob is not None:
        cert_name = "CURLOPT_SSLCERT_BLOB"
        cert_data = s.cert_blob
    else:
        assert s.cert is not None
        cert_name = s.cert
        try:
            with open(s.cert, "rb") as f:
                cert_data = f.read()
        except OSError as exc:
            raise _cert_problem(ctype, cert_name, _system_error(exc)) from exc
    problem = _client_cert_error(cert_data, ctype)
    if problem is not None:
        raise _cert_problem(ctype, cert_name, problem)
    if ktype in ("ENG", "PROV"):
        what = "engine" if ktype == "ENG" else "provider"
        raise CurlError(E_SSL_CERTPROBLEM, f"crypto {what} not set, cannot load private key")
    if ktype == "P12":
        raise CurlError(E_SSL_CERTPROBLEM, "file type P12 for private key not supported")
    if ktype not in ("PEM", "DER"):
        raise CurlError(E_BAD_FUNCTION_ARGUMENT, "not supported file type for private key")
    key_data = b""
    if s.key_blob is not None:
        key_name = "(memory blob)"
        key_data = s.key_blob
    else:
        # "cert & key can only be in PEM case in the same file" (openssl.c)
        key_path = s.key if s.key is not None else s.cert if ktype == "PEM" else None
        key_name = key_path or "(memory blob)"
        if key_path is not None:
            with contextlib.suppress(OSError), open(key_path, "rb") as f:
                key_data = f.read()
    cert_pem = cert_data if ctype == "PEM" else _pem_text(cert_data, "CERTIFICATE").encode()
    keys = (
        [key_data] if ktype == "PEM" else [_pem_text(key_data, n).encode() for n in _PEM_KEY_LABELS]
    )
    # Always a password: without one, OpenSSL would prompt on the terminal for an encrypted
    # key (libcurl's does; a library must not).
    password = s.keypasswd or ""
    with _MemoryFile(cert_pem) as cert_path:
        for key_pem in keys:
            with _MemoryFile(key_pem) as key_path:
                try:
                    ctx.load_cert_chain(cert_path, key_path, password=password)
                except (ssl.SSLError, OSError, ValueError):
                    continue
                return
    raise CurlError(
        E_BAD_FUNCTION_ARGUMENT, f"unable to set private key file: '{key_name}' type {keytype}"
    )


def _version_range(sslversion: int) -> tuple[ssl.TLSVersion, ssl.TLSVersion | None]:
    """Return (minimum, maximum or None) for a CURLOPT_SSLVERSION value; raise CurlError."""
    low = sslversion & 0xFFFF
    high = sslversion >> 16
    if low in (SSLVERSION_SSLv2, SSLVERSION_SSLv3):
        raise CurlError(E_NOT_BUILT_IN, "No SSLv2/SSLv3 support")
    # Since libcurl 8.10 (CURLOPT_SSLVERSION.md) the default minimum is TLS 1.2.
    minimum = _TLS_VERSIONS.get(low, ssl.TLSVersion.TLSv1_2)
    maximum = None
    if high and high != SSLVERSION_MAX_DEFAULT >> 16:
        maximum = _TLS_VERSIONS.get(high)
        if maximum is None or maximum < minimum:
            raise CurlError(
                E_SSL_CONNECT_ERROR, "CURL_SSLVERSION_MAX incompatible with CURL_SSLVERSION"
            )
    return minimum, maximum


def build_context(s: TlsSettings) -> ssl.SSLContext:
    """Return a new client `ssl.SSLContext` for `s`.

    Raises CurlError: 77 (CA file or blob), 82 (CRL file), 58/43 (client certificate and
    key), 59 (cipher lists), 4/35 (SSLVERSION), with libcurl's messages.
    """
    minimum, maximum = _version_range(s.sslversion)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # The name is checked after the handshake, libcurl's way (see the module docstring).
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED if s.verify_peer else ssl.CERT_NONE
    with contextlib.suppress(ValueError):  # a version this OpenSSL was built without
        ctx.minimum_version = minimum
        if maximum is not None:
            ctx.maximum_version = maximum
    if s.verify_peer:
        if not s.ssl_options & SSLOPT_NO_PARTIALCHAIN:
            # libcurl sets X509_V_FLAG_PARTIAL_CHAIN unless CURLSSLOPT_NO_PARTIALCHAIN:
            # an intermediate in CAINFO is a trust anchor.
            ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        if s.cainfo_blob is not None:
            try:
                ctx.load_verify_locations(cadata=s.cainfo_blob.decode("ascii"))
            except (ssl.SSLError, UnicodeDecodeError, ValueError) as exc:
                raise CurlError(
                    E_SSL_CACERT_BADFILE,
                    f"error adding trust anchors from certificate blob: {E_SSL_CACERT_BADFILE}",
                ) from exc
        if s.cainfo is not None:
            try:
                ctx.load_verify_locations(cafile=s.cainfo)
            except (OSError, ValueError) as exc:
                raise CurlError(
                    E_SSL_CACERT_BADFILE, f"error adding trust anchors from file: {s.cainfo}"
                ) from exc
        if s.capath is not None:
            # OpenSSL reads a CA directory lazily: a missing one is no error (as in libcurl)
            with contextlib.suppress(OSError, ValueError):
                ctx.load_verify_locations(capath=s.capath)
        if s.cainfo is None and s.capath is None and s.cainfo_blob is None:
            _default_trust(ctx)
        elif s.ssl_options & SSLOPT_NATIVE_CA:
            ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
        if s.crlfile is not None:
            try:
                ctx.load_verify_locations(cafile=s.crlfile)
            except (OSError, ValueError) as exc:
                raise CurlError(E_SSL_CRL_BADFILE, f"error loading CRL file: {s.crlfile}") from exc
            # libcurl: X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL
            ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_CHAIN
    # libcurl sets the TLS <= 1.2 list only when such a version may be used, and the TLS 1.3
    # suites only when TLS 1.3 may be (measured: a bad list outside that range is ignored).
    if s.cipher_list is not None and minimum < ssl.TLSVersion.TLSv1_3:
        try:
            ctx.set_ciphers(s.cipher_list)
        except ssl.SSLError as exc:
            raise CurlError(E_SSL_CIPHER, f"failed setting cipher list: {s.cipher_list}") from exc
    if s.tls13_ciphers is not None and (maximum is None or maximum >= ssl.TLSVersion.TLSv1_3):
        # SSL_CTX_set_ciphersuites: unknown names are skipped, "" (and only "") means none
        names = [n.strip() for n in s.tls13_ciphers.split(":")]
        if s.tls13_ciphers and not any(n in _TLS13_SUITES for n in names):
            raise CurlError(E_SSL_CIPHER, f"failed setting TLS 1.3 cipher suite: {s.tls13_ciphers}")
        if not s.tls13_ciphers:
            # No TLS 1.3 suite while TLS 1.3 is the highest version: OpenSSL refuses to
            # send a ClientHello, and libcurl reports it as the handshake's failure.
            raise CurlError(
                E_SSL_CONNECT_ERROR,
                f"TLS connect error: error:{(_LIB_SSL << 23) | 181:08X}:SSL routines::"
                "no ciphers available",
            )
    if s.cert is not None or s.cert_blob is not None:
        _load_client_cert(ctx, s)
        # libcurl enables TLS 1.3 post-handshake authentication when it has a certificate
        ctx.post_handshake_auth = True
    if s.alpn:
        ctx.set_alpn_protocols(list(s.alpn))
    return ctx


class ContextCache:
    """One `ssl.SSLContext` per distinct `TlsSettings`, built on first use."""

    __slots__ = ("_contexts",)

    def __init__(self) -> None:
        self._contexts: dict[TlsSettings, ssl.SSLContext] = {}

    def __repr__(self) -> str:
        return f"<ContextCache contexts={len(self._contexts)}>"

    def __len__(self) -> int:
        return len(self._contexts)

    def get(self, settings: TlsSettings) -> ssl.SSLContext:
        """Return the context for `settings`; raises CurlError as `build_context` does.

        A failure is not cached: the files may be fixed before the next transfer.
        """
        ctx = self._contexts.get(settings)
        if ctx is None:
            ctx = self._contexts[settings] = build_context(settings)
        return ctx

    def clear(self) -> None:
        self._contexts.clear()


SessionKey = tuple[str, int, TlsSettings]


class TlsSessionCache:
    """TLS sessions to resume, per (host, port, settings), the least recently used dropped.

    libcurl keeps sessions per peer and configuration (lib/vtls/vtls_scache.c); a session is
    only valid with the `SSLContext` that made it, which the settings in the key guarantee.
    """

    __slots__ = ("_max", "_sessions")

    def __init__(self, max_entries: int = 64) -> None:
        self._sessions: OrderedDict[SessionKey, ssl.SSLSession] = OrderedDict()
        self._max = max_entries

    def __repr__(self) -> str:
        return f"<TlsSessionCache sessions={len(self._sessions)}>"

    def __len__(self) -> int:
        return len(self._sessions)

    def get(self, host: str, port: int, settings: TlsSettings) -> ssl.SSLSession | None:
        """Return the session to offer to (host, port), or None."""
        key = (host, port, settings)
        session = self._sessions.get(key)
        if session is not None:
            self._sessions.move_to_end(key)
        return session

    def put(
        self, host: str, port: int, settings: TlsSettings, sock: ssl.SSLSocket | TlsOverTls
    ) -> None:
        """Remember `sock`'s current session for (host, port), if it has a resumable one.

        Call it late (when the transfer is done or the connection closes): a TLS 1.3 server
        sends its tickets after the handshake, so the session only becomes resumable once
        some application data was read.
        """
        try:
            session = sock.session
        except (ValueError, OSError):  # closed socket
            return
        if session is None or not (session.has_ticket or session.id):
            return
        key = (host, port, settings)
        self._sessions[key] = session
        self._sessions.move_to_end(key)
        while len(self._sessions) > self._max:
            self._sessions.popitem(last=False)

    def remove(self, host: str, port: int, settings: TlsSettings) -> None:
        """Forget the session of (host, port) (after a failed resumption, for instance)."""
        self._sessions.pop((host, port, settings), None)


# -- a minimal DER walker (X.509 certificate fields) ----------------------------------------


def _der(buf: bytes, pos: int) -> tuple[int, int, int]:
    """Return (tag, start of content, end of content) of the DER element at `pos`."""
    tag = buf[pos]
    length = buf[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        if not 0 < n <= 4:
            raise ValueError("unsupported DER length")
        length = int.from_bytes(buf[pos : pos + n], "big")
        pos += n
    end = pos + length
    if end > len(buf):
        raise ValueError("truncated DER")
    return tag, pos, end


def _children(buf: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out = []
    while start < end:
        tag, s, e = _der(buf, start)
        out.append((tag, s, e))
        start = e
    return out


def _oid(data: bytes) -> str:
    first = data[0]
    parts = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    value = 0
    for b in data[1:]:
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            parts.append(value)
            value = 0
    return ".".join(map(str, parts))


_NAME_OIDS = {
    "2.5.4.3": "CN",
    "2.5.4.4": "SN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "street",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.12": "title",
    "2.5.4.42": "GN",
    "1.2.840.113549.1.9.1": "emailAddress",
    "0.9.2342.19200300.100.1.25": "DC",
    "0.9.2342.19200300.100.1.1": "UID",
}
_ALGORITHM_OIDS = {
    "1.2.840.10045.2.1": "id-ecPublicKey",
    "1.2.840.113549.1.1.1": "rsaEncryption",
    "1.3.101.112": "ED25519",
    "1.3.101.113": "ED448",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
    "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
    "1.2.840.113549.1.1.10": "rsassaPss",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
    "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
    "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
}
_SAN_OID = "2.5.29.17"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _string(tag: int, data: bytes) -> str:
    if tag == 0x1E:  # BMPString
        return data.decode("utf-16-be", "replace")
    if tag == 0x1C:  # UniversalString
        return data.decode("utf-32-be", "replace")
    if tag == 0x14:  # T61String: latin-1 in practice
        return data.decode("latin-1")
    return data.decode("utf-8", "replace")


def _time(tag: int, data: bytes) -> str:
    """ASN1_TIME_print's form: "Nov 23 20:31:41 2026 GMT"."""
    text = data.decode("ascii")
    if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ; RFC 5280 s4.1.2.5.1: YY < 50 is 20YY
        year = int(text[:2])
        year += 2000 if year < 50 else 1900
        rest = text[2:]
    else:  # GeneralizedTime YYYYMMDDHHMMSSZ
        year = int(text[:4])
        rest = text[4:]
    month, day = int(rest[0:2]), int(rest[2:4])
    hh, mm = rest[4:6], rest[6:8]
    ss = rest[8:10] if rest[8:10].isdigit() else "00"  # BER allows leaving the seconds out
    return f"{_MONTHS[month - 1]} {day:2d} {hh}:{mm}:{ss} {year} GMT"


@dataclass
class _Certificate:
    """The fields of one X.509 certificate that libcurl shows or checks."""

    der: bytes
    version: int = 0
    serial: bytes = b""
    signature_algorithm: str = ""
    issuer: list[tuple[str, str]] = field(default_factory=list)
    subject: list[tuple[str, str]] = field(default_factory=list)
    not_before: str = ""
    not_after: str = ""
    spki: bytes = b""
    key_algorithm: str = ""
    dns_names: list[str] = field(default_factory=list)
    ip_addresses: list[bytes] = field(default_factory=list)
    signature: bytes = b""

    @property
    def common_name(self) -> str | None:
        """The last CN of the subject, as libcurl's ossl_verifyhost takes it."""
        cns = [v for k, v in self.subject if k == "CN"]
        return cns[-1] if cns else None


def _name(buf: bytes, start: int, end: int) -> list[tuple[str, str]]:
    out = []
    for _, s, e in _children(buf, start, end):  # RelativeDistinguishedName SETs
        for _, as_, ae in _children(buf, s, e):  # AttributeTypeAndValue
            (_, os_, oe), (vt, vs, ve) = _children(buf, as_, ae)[:2]
            oid = _oid(buf[os_:oe])
            out.append((_NAME_OIDS.get(oid, oid), _string(vt, buf[vs:ve])))
    return out


def parse_certificate(der: bytes) -> _Certificate:
    """Return the fields of the DER certificate `der`; raises ValueError when malformed."""
    try:
        return _parse_certificate(der)
    except (IndexError, ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"malformed certificate: {exc}") from exc


def _parse_certificate(der: bytes) -> _Certificate:
    cert = _Certificate(der)
    tag, s, e = _der(der, 0)
    parts = _children(der, s, e)
    # Certificate ::= SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm SEQUENCE,
    # signatureValue BIT STRING } (RFC 5280 s4.1): anything else (a key, say) is no certificate
    if tag != 0x30 or e != len(der) or [p[0] for p in parts] != [0x30, 0x30, 0x03]:
        raise ValueError("not an X.509 certificate")
    _, ts, te = parts[0]
    _, as_, ae = parts[1]
    cert.signature_algorithm = _algorithm(der, as_, ae)
    _, bs, be = parts[2]
    cert.signature = der[bs + 1 : be]  # after the unused-bits byte
    fields = _children(der, ts, te)
    i = 0
    if fields[0][0] == 0xA0:  # [0] EXPLICIT Version
        _, vs, ve = _der(der, fields[0][1])
        cert.version = int.from_bytes(der[vs:ve], "big")
        i = 1
    _, ss, se = fields[i]
    cert.serial = der[ss:se].lstrip(b"\x00") or b"\x00"
    cert.issuer = _name(der, fields[i + 2][1], fields[i + 2][2])
    (bt, bs2, be2), (at, as2, ae2) = _children(der, fields[i + 3][1], fields[i + 3][2])
    cert.not_before = _time(bt, der[bs2:be2])
    cert.not_after = _time(at, der[as2:ae2])
    cert.subject = _name(der, fields[i + 4][1], fields[i + 4][2])
    _, spki_s, spki_e = fields[i + 5]
    header = _header_start(der, spki_s)
    cert.spki = der[header:spki_e]
    _, ks, ke = _children(der, spki_s, spki_e)[0]
    cert.key_algorithm = _algorithm(der, ks, ke)
    for tag, fs, _end in fields[i + 6 :]:
        if tag != 0xA3:  # [3] EXPLICIT Extensions
            continue
        _, xs, xe = _der(der, fs)
        for _, es, ee in _children(der, xs, xe):
            items = _children(der, es, ee)
            if _oid(der[items[0][1] : items[0][2]]) != _SAN_OID:
                continue
            _, os_, _end = items[-1]  # extnValue OCTET STRING (after an optional critical)
            _, ns, ne = _der(der, os_)
            for gtag, gs, ge in _children(der, ns, ne):
                if gtag == 0x82:  # [2] dNSName
                    cert.dns_names.append(der[gs:ge].decode("ascii", "replace"))
                elif gtag == 0x87:  # [7] iPAddress
                    cert.ip_addresses.append(der[gs:ge])
    return cert


def _header_start(buf: bytes, content_start: int) -> int:
    """Return where the element whose content starts at `content_start` begins."""
    # Walk back over the length octets and the tag (a short header is 2 bytes, long 3-6).
    for back in range(2, 7):
        start = content_start - back
        if start >= 0:
            with contextlib.suppress(ValueError, IndexError):
                if _der(buf, start)[1] == content_start:
                    return start
    raise ValueError("cannot find element header")


def _algorithm(buf: bytes, start: int, end: int) -> str:
    _, os_, oe = _children(buf, start, end)[0]
    oid = _oid(buf[os_:oe])
    return _ALGORITHM_OIDS.get(oid, oid)


def spki_of(cert_der: bytes) -> bytes:
    """Return the DER SubjectPublicKeyInfo of DER certificate `cert_der` (ValueError if bad)."""
    return parse_certificate(cert_der).spki


# -- name check (libcurl lib/vtls/openssl.c ossl_verifyhost, lib/vtls/hostcheck.c) --------


def _hostmatch(hostname: str, pattern: str) -> bool:
    """Curl_cert_hostcheck: case-insensitive, trailing dots ignored, "*" only as the whole
    leftmost label of a pattern with at least two more labels, never matching an IP."""
    host = hostname.rstrip(".").lower()
    pat = pattern.rstrip(".").lower()
    if not host or not pat:
        return False
    if not pat.startswith("*."):
        return host == pat
    rest = pat[1:]  # ".example.com"
    if rest.count(".") < 2:
        return False  # "*.com" is not a usable wildcard (hostcheck.c)
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(host)
        return False
    head, dot, tail = host.partition(".")
    return bool(head) and dot == "." and "." + tail == rest


def _ip_bytes(host: str) -> bytes | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).packed
    except ValueError:
        return None


def check_host(cert: _Certificate, host: str, log: list[str] | None = None) -> None:
    """Check `cert` against the target `host` as libcurl does; raise CurlError 60.

    `host` is the target as libcurl shows it: a host name (a trailing dot is ignored) or an
    IP address literal, IPv6 with or without brackets; messages repeat it as given.
    """
    name = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    ip = _ip_bytes(name)
    if cert.dns_names or cert.ip_addresses:
        if ip is not None:
            if ip in cert.ip_addresses:
                if log is not None:
                    log.append(f'  subjectAltName: "{host}" matches cert\'s IP address!')
                return
            kind = "IPv4 address" if len(ip) == 4 else "IPv6 address"
        else:
            for pattern in cert.dns_names:
                if _hostmatch(name, pattern):
                    if log is not None:
                        log.append(f'  subjectAltName: "{host}" matches cert\'s "{pattern}"')
                    return
            kind = "hostname"
        raise CurlError(
            E_PEER_FAILED_VERIFICATION,
            f"SSL: no alternative certificate subject name matches target {kind} '{host}'",
        )
    cn = cert.common_name
    if cn is None:
        raise CurlError(
            E_PEER_FAILED_VERIFICATION, "SSL: unable to obtain common name from peer certificate"
        )
    matched = cn.lower() == name.lower() if ip is not None else _hostmatch(name, cn)
    if not matched:
        raise CurlError(
            E_PEER_FAILED_VERIFICATION,
            f"SSL: certificate subject name '{cn}' does not match target hostname '{host}'",
        )
    if log is not None:
        log.append(f"  common name: {cn} (matched)")


# -- pinned public key (libcurl lib/vtls/vtls.c Curl_pin_peer_pubkey) -----------------------

_PIN_MISMATCH = "SSL: public key does not match pinned public key"
_MAX_PINNED_PUBKEY_SIZE = 1048576  # vtls.c: a larger file is no match


def _pubkey_pem_to_der(pem: bytes) -> bytes | None:
    """vtls.c pubkey_pem_to_der: the DER of the file's "PUBLIC KEY" block, or None."""
    begin = b"-----BEGIN PUBLIC KEY-----"
    start = pem.find(begin)
    if start < 0 or (start > 0 and pem[start - 1 : start] != b"\n"):
        return None
    start += len(begin)
    stop = pem.find(b"\n-----END PUBLIC KEY-----", start)
    if stop < 0:
        return None
    text = pem[start:stop].replace(b"\r", b"").replace(b"\n", b"")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        return None


def check_pin(pinned: str, spki: bytes) -> None:
    """Raise CurlError 90 unless `spki` matches CURLOPT_PINNEDPUBLICKEY `pinned`.

    libcurl's rules (vtls.c Curl_pin_peer_pubkey): "sha256//<base64>" hashes separated by
    exactly ";sha256//" (no spaces); anything else names a file holding the key as DER
    (when the file is exactly the key's size) or as a PEM "PUBLIC KEY" block.
    """
    if pinned.startswith("sha256//"):
        digest = base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")
        if spki and digest in pinned[len("sha256//") :].split(";sha256//"):
            return
        raise CurlError(E_SSL_PINNEDPUBKEYNOTMATCH, _PIN_MISMATCH)
    try:
        with open(pinned, "rb") as f:
            data = f.read(_MAX_PINNED_PUBKEY_SIZE + 1)
    except OSError as exc:
        raise CurlError(E_SSL_PINNEDPUBKEYNOTMATCH, _PIN_MISMATCH) from exc
    if not spki or not len(spki) <= len(data) <= _MAX_PINNED_PUBKEY_SIZE:
        raise CurlError(E_SSL_PINNEDPUBKEYNOTMATCH, _PIN_MISMATCH)
    # "If the sizes are the same, it can't be base64 encoded, must be der"
    if (data if len(data) == len(spki) else _pubkey_pem_to_der(data)) != spki:
        raise CurlError(E_SSL_PINNEDPUBKEYNOTMATCH, _PIN_MISMATCH)


# -- the handshake --------------------------------------------------------------------------


def _names_text(name: list[tuple[str, str]], sep: str, eq: str) -> str:
    return sep.join(f"{k}{eq}{v}" for k, v in name)


def _colon_hex(data: bytes) -> str:
    return ":".join(f"{b:02x}" for b in data)


def _sni_name(host: str) -> bytes | None:
    """The server_hostname to give `wrap_socket` for `host`: what SNI should carry.

    Bytes, because `ssl` passes bytes on as they are, where it would run a str through the
    IDNA 2003 codec, which refuses names libcurl sends (a label over 63 characters). None
    (no SNI) for what `ssl` cannot send: an empty name, one starting with a dot, a NUL, more
    than 255 bytes (TLSEXT_MAXLEN_host_name), or a non-ASCII name the codec refuses.
    """
    try:
        name = host.encode("ascii")
    except UnicodeError:
        try:
            name = host.encode("idna")
        except UnicodeError:
            return None
    if not name or name.startswith(b".") or b"\0" in name or len(name) > 255:
        return None
    return name


class TlsHandshake:
    """A client TLS handshake over a connected non-blocking socket, one step at a time.

    After construction `sock` is the `ssl.SSLSocket` (same fd; the socket given is detached
    into it and must not be used again). Call `step()` whenever the socket is ready as
    `want_write` says, until it returns True; then use `sock.send`/`sock.recv_into` and map
    their failures with `send_error`/`recv_error`.

    When the socket given is itself an `ssl.SSLSocket` (TLS to an HTTPS proxy, a tunnel
    through it), the session to `server_hostname` is made inside it: `sock` is then a
    `TlsOverTls` that owns the socket given, with the same surface and the same errors.
    """

    __slots__ = (
        "_peer",
        "display_host",
        "host",
        "log",
        "settings",
        "sock",
        "verify_result",
        "want_write",
    )

    def __init__(
        self,
        sock: socket.socket,
        ctx: ssl.SSLContext,
        server_hostname: str,
        settings: TlsSettings,
        session: ssl.SSLSession | None = None,
    ) -> None:
        # The name is checked without an IPv6 literal's brackets and SNI goes without a
        # trailing dot; libcurl's messages show both ("'[::1]'", "'localhost.'", measured).
        # `ssl` sends no SNI for an IP address (RFC 6066 s3).
        host = server_hostname
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        self.display_host = f"[{host}]" if ":" in host else host
        host = host.rstrip(".") or host
        self.host = host
        self.settings = settings
        self.want_write = False
        self.verify_result = _X509_V_ERR_UNSPECIFIED
        self.log: list[str] = []
        self._peer: _Certificate | None = None
        if settings.alpn:
            self.log.append("ALPN: curl offers " + ",".join(settings.alpn))
        # wrap_socket detaches `sock` before it can fail (and then closes the fd): nothing may
        # make it raise, so the name is vetted here and the session is set afterwards.
        # suppress_ragged_eofs=False: by default `ssl` turns an EOF without close_notify into
        # an orderly b"", and recv_error could not report a truncated stream (libcurl's 56).
        # (TlsOverTls reports such an EOF of either layer as an error anyway.)
        self.sock: ssl.SSLSocket | TlsOverTls
        if isinstance(sock, ssl.SSLSocket):
            self.sock = TlsOverTls(sock, ctx, _sni_name(host))
        else:
            self.sock = ctx.wrap_socket(
                sock,
                server_hostname=_sni_name(host),
                do_handshake_on_connect=False,
                suppress_ragged_eofs=False,
            )
        if session is not None:
            try:
                self.sock.session = session
            except ValueError:  # the session belongs to another context
                self.log.append("SSL session not resumable with this context")
        if settings.verify_peer:
            self.log.append("SSL Trust Anchors:")
            if settings.cainfo_blob is not None:
                self.log.append("  CAfile: (memory blob)")
            if settings.cainfo is not None:
                self.log.append(f"  CAfile: {settings.cainfo}")
            if settings.capath is not None:
                self.log.append(f"  CApath: {settings.capath}")
            if settings.cainfo is None and settings.capath is None and not settings.cainfo_blob:
                self.log.append("  native CA store")
        else:
            self.log.append("SSL Trust: peer verification disabled")

    def __repr__(self) -> str:
        return f"<TlsHandshake {self.host!r} want_write={self.want_write}>"

    def step(self) -> bool:
        """Advance the handshake without blocking; return True once it is complete and checked.

        Raises CurlError: 35 (handshake failure, with OpenSSL's reason), 60 (chain or name),
        90 (pinned key), as libcurl reports them.
        """
        try:
            self.sock.do_handshake()
        except ssl.SSLWantReadError:
            self.want_write = False
            return False
        except ssl.SSLWantWriteError:
            self.want_write = True
            return False
        except ssl.SSLCertVerificationError as exc:
            self.verify_result = exc.verify_code
            raise CurlError(
                E_PEER_FAILED_VERIFICATION,
                f"SSL certificate OpenSSL verify result: {exc.verify_message} ({exc.verify_code})",
            ) from exc
        except ssl.SSLError as exc:
            raise CurlError(
                E_SSL_CONNECT_ERROR, f"TLS connect error: {_openssl_error(exc)}"
            ) from exc
        except OSError as exc:
            what = "Send failure" if exc.errno == errno.EPIPE else "Recv failure"
            raise curl_error(exc, E_SSL_CONNECT_ERROR, what) from exc
        self.want_write = False
        self._check_peer()
        return True

    def _check_peer(self) -> None:
        """libcurl's order after the handshake: name, verify result, pinned key."""
        s = self.settings
        sock = self.sock
        log = self.log
        cipher = sock.cipher()
        der = sock.getpeercert(binary_form=True)
        peer = None
        if der:
            try:
                peer = self._peer = parse_certificate(der)
            except ValueError:
                peer = None
        log.append(
            f"SSL connection using {sock.version()} / {cipher[0] if cipher else '?'}"
            + (f" / {peer.key_algorithm}" if peer is not None else "")
        )
        if s.alpn:
            alpn = sock.selected_alpn_protocol()
            log.append(
                f"ALPN: server accepted {alpn}"
                if alpn
                else "ALPN: server did not agree on a protocol. Uses default."
            )
        if peer is None:
            if s.verify_host or s.verify_peer or s.pinned_pubkey:
                raise CurlError(E_PEER_FAILED_VERIFICATION, "SSL: could not get peer certificate")
            return
        log.append("Server certificate:")
        log.append(f"  subject: {_names_text(peer.subject, '; ', '=')}")
        log.append(f"  start date: {peer.not_before}")
        log.append(f"  expire date: {peer.not_after}")
        log.append(f"  issuer: {_names_text(peer.issuer, '; ', '=')}")
        if s.verify_host:
            check_host(peer, self.display_host, log)
        if s.verify_peer:
            self.verify_result = _X509_V_OK
            log.append("OpenSSL verify result: 0")
            log.append("SSL certificate verified via OpenSSL.")
        else:
            # OpenSSL still verifies under SSL_VERIFY_NONE and libcurl reports the result,
            # which `ssl` does not expose; with no trust anchors loaded it is one of these.
            self_signed = peer.subject == peer.issuer
            self.verify_result = (
                _X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
                if self_signed
                else _X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
            )
            log.append(f"OpenSSL verify result: {self.verify_result}")
            log.append(" SSL certificate verification failed, continuing anyway!")
        if s.pinned_pubkey:
            check_pin(s.pinned_pubkey, peer.spki)

    # -- what the handshake agreed

    @property
    def alpn(self) -> str | None:
        """The protocol the server selected through ALPN, or None."""
        return self.sock.selected_alpn_protocol()

    @property
    def version(self) -> str | None:
        """ "TLSv1.3" and the like, None before the handshake completed."""
        return self.sock.version()

    @property
    def cipher(self) -> tuple[str, str, int] | None:
        """(name, protocol, secret bits) as `ssl.SSLSocket.cipher` gives it."""
        return self.sock.cipher()

    @property
    def session(self) -> ssl.SSLSession | None:
        """The TLS session, to store for resumption (see `TlsSessionCache.put`)."""
        return self.sock.session

    @property
    def session_reused(self) -> bool:
        """True when the server accepted the offered session (an abbreviated handshake)."""
        return bool(self.sock.session_reused)

    def certinfo(self) -> list[list[tuple[str, str]]]:
        """Return CURLINFO_CERTINFO as pycurl gives it: per certificate (leaf first) a list
        of (name, value) pairs with libcurl's names.

        The chain as the server sent it needs `get_unverified_chain` (Python 3.13+); before,
        the leaf alone. Fields: Subject, Issuer, Version, Serial Number, Signature Algorithm,
        Public Key Algorithm, X509v3 Subject Alternative Name (when present), Start date,
        Expire date, Signature, Cert; other extensions are not decoded.
        """
        chain_fn = getattr(self.sock, "get_unverified_chain", None)
        ders: list[bytes] = []
        if chain_fn is not None:  # SSLSocket's gives DER bytes
            ders.extend(item for item in chain_fn() or () if isinstance(item, bytes))
        if not ders:
            der = self.sock.getpeercert(binary_form=True)
            if der:
                ders.append(der)
        out = []
        for der in ders:
            try:
                cert = parse_certificate(der)
            except ValueError:
                continue
            items = [
                ("Subject", _names_text(cert.subject, ", ", " = ")),
                ("Issuer", _names_text(cert.issuer, ", ", " = ")),
                ("Version", str(cert.version)),
                ("Serial Number", cert.serial.hex()),
                ("Signature Algorithm", cert.signature_algorithm),
                ("Public Key Algorithm", cert.key_algorithm),
            ]
            if cert.dns_names or cert.ip_addresses:
                names = [f"DNS:{n}" for n in cert.dns_names]
                for ip in cert.ip_addresses:
                    names.append(f"IP Address:{_ip_text(ip)}")
                items.append(("X509v3 Subject Alternative Name", ", ".join(names)))
            items.append(("Start date", cert.not_before))
            items.append(("Expire date", cert.not_after))
            items.append(("Signature", _colon_hex(cert.signature) + ":"))
            items.append(("Cert", ssl.DER_cert_to_PEM_cert(der)))
            out.append(items)
        return out


def _ip_text(ip: bytes) -> str:
    """OpenSSL's GENERAL_NAME_print: dotted IPv4, IPv6 as eight unpadded hex groups."""
    if len(ip) == 4:
        return ".".join(map(str, ip))
    if len(ip) == 16:
        return ":".join(f"{int.from_bytes(ip[i : i + 2], 'big'):X}" for i in range(0, 16, 2))
    return "<invalid>"


# -- errors during the transfer -------------------------------------------------------------


def recv_error(exc: OSError) -> CurlError | None:
    """Map an exception of `SSLSocket.recv_into` to the transfer's failure.

    Returns None for a clean end of stream (the peer's close_notify). `SSLWantReadError` and
    `SSLWantWriteError` are not failures and must be handled by the caller (wait for the
    socket; TLS 1.3 may need POLL_OUT to read). An EOF without close_notify is an error, as
    in libcurl ("unexpected eof while reading", 56), and so are alerts (a rejected client
    certificate surfaces here under TLS 1.3).
    """
    if isinstance(exc, ssl.SSLZeroReturnError):
        return None
    if isinstance(exc, ssl.SSLError):
        err = CurlError(
            E_RECV_ERROR, f"OpenSSL SSL_read: {SSL_LIBRARY}: {_openssl_error(exc)}, errno 0"
        )
        err.__cause__ = exc
        return err
    return curl_error(exc, E_RECV_ERROR, "Recv failure")


def send_error(exc: OSError) -> CurlError:
    """Map an exception of `SSLSocket.send` to the transfer's failure (55).

    `SSLWantReadError`/`SSLWantWriteError` are not failures; the caller handles them. A
    socket error is libcurl's socket filter's "Send failure: <strerror>" (its message comes
    before the TLS layer's); the rest are openssl.c ossl_send's texts: an OpenSSL error
    (SSL_ERROR_SSL, `ssl` gives its reason) or the SSL_get_error name with the errno.
    """
    if isinstance(exc, ssl.SSLError):
        if isinstance(exc, ssl.SSLZeroReturnError):
            text = "OpenSSL SSL_write: SSL_ERROR_ZERO_RETURN, errno 0"
        elif getattr(exc, "reason", None):
            text = f"SSL_write() error: {SSL_LIBRARY}: {_openssl_error(exc)}"
        else:  # SSL_ERROR_SYSCALL with no errno (`ssl` raises OSError when there is one)
            text = "OpenSSL SSL_write: SSL_ERROR_SYSCALL, errno 0"
        err = CurlError(E_SEND_ERROR, text)
        err.__cause__ = exc
        return err
    return curl_error(exc, E_SEND_ERROR, "Send failure")
