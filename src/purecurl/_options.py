"""The one table of easy, multi and share options, the table of infos, and setopt validation.

Theory of operation: every option is one `Option` row keyed by libcurl's number (curl.h
`CURLOPT_*`: the thousands say the C type — 0 long, 10000 pointer, 20000 function, 30000
curl_off_t, 40000 blob). A row carries the pycurl name (and the other names pycurl exports for
the same number), what Python value it takes (`Kind`), libcurl's default, and the limits
libcurl's lib/setopt.c enforces. `check_easy_value` / `check_multi_value` /
`check_share_value` reproduce pycurl's setopt: dispatch on the Python type of the value first
(src/easyopt.c `do_curl_setopt`, src/multi.c, src/share.c), with pycurl's exact exception types
and messages, then libcurl's refusal of out-of-range values as `error(code, message)`. They
return the normalised value the engine stores; they never store anything themselves.

The exported constants (`PUBLIC_CONSTANTS`, and which of them are readable on `Curl`,
`CurlMulti` and `CurlShare` instances) are assembled here from these tables, `_codes` and
`_consts`, with pycurl's names.

Where pycurl's behaviour depends on how libcurl was built, purecurl answers like a libcurl
built without what it does not implement: no NTLM or Negotiate, no HTTP/3, no TLS-SRP, no
Kerberos FTP, no OpenSSL engines, no c-ares DNS servers, no ECH, no TLS False Start.
"""

from __future__ import annotations

import dataclasses
import enum
import operator
import warnings

from purecurl import _codes, _consts
from purecurl._errors import error


class Kind(enum.IntEnum):
    """What Python value an option takes (and what `check_easy_value` returns for it)."""

    LONG = 0  # int; returns int
    OFF_T = 1  # int (a 64-bit curl_off_t); returns int
    STRING = 2  # ASCII str or bytes, no NUL; returns str (bytes decoded as latin-1)
    BYTES = 3  # ASCII str or bytes; returns bytes
    SLIST = 4  # list or tuple of ASCII str / bytes; returns list[bytes]
    FUNCTION = 5  # a callable; returned as is
    FILE_WRITE = 6  # an object with a `write` method; returns that method
    FILE_READ = 7  # an object with a `read` method; returns that method
    OBJECT = 8  # any Python object, kept as is (PRIVATE)
    SHARE = 9  # a CurlShare
    BLOB = 10  # bytes, ASCII str or a buffer; returns bytes
    FORM = 11  # HTTPPOST's list of (name, value) pairs; returns list[tuple[bytes, FormValue]]
    MIME = 12  # a CurlMime
    CURLU = 13  # a CurlUrl
    NO_VALUE = 14  # a pointer pycurl gives Python no way to set (only None, where unsettable)


@dataclasses.dataclass(frozen=True, slots=True)
class Option:
    """One option: pycurl's name, libcurl's number, the value kind and libcurl's default."""

    name: str
    number: int
    kind: Kind
    default: object = None
    # Other names pycurl exports for the same number (FILE for WRITEDATA, ...).
    aliases: tuple[str, ...] = ()
    # libcurl reads the long as a boolean: any non-zero value is 1 (lib/setopt.c).
    boolean: bool = False
    # pycurl accepts None (and unsetopt()) for it; for others None raises TypeError.
    unsettable: bool = False
    # libcurl refuses a value outside [low, high] with CURLE_BAD_FUNCTION_ARGUMENT.
    low: int | None = None
    high: int | None = None
    # The DeprecationWarning text pycurl emits when the option is given a value.
    deprecated: str | None = None
    # FILE_WRITE / FILE_READ: the callback option the object's method is set as.
    target: int | None = None
    # POSTFIELDS keeps embedded NUL bytes (pycurl passes the length); other strings refuse them.
    allow_nul: bool = False
    # A CURLcode this build answers any value with: the feature is not built in.
    not_built: int = 0
    # False for libcurl options pycurl has no name for (`name` is then libcurl's, unexported;
    # setopt still takes the number, as pycurl passes unknown longs on to libcurl).
    exported: bool = True


@dataclasses.dataclass(frozen=True, slots=True)
class Info:
    """One getinfo item: pycurl's name, libcurl's CURLINFO number, its type and fresh value."""

    name: str
    number: int
    type: str  # "string", "long", "double", "slist", "socket", "off_t", "ptr" or "certinfo"
    deprecated: bool = False
    # What getinfo returns on a handle that has not transferred anything (pycurl 7.49).
    initial: object = None
    aliases: tuple[str, ...] = ()
    exported: bool = True


# The value HTTPPOST normalises to for one pair: bytes contents, or (CURLFORM_*, bytes) pairs.
FormValue = bytes | tuple[tuple[int, bytes], ...]

_L = Kind.LONG
_S = Kind.STRING
_SL = Kind.SLIST
_F = Kind.FUNCTION
_O = Kind.OFF_T
_B = Kind.BLOB

_DEPRECATED = "setopt option is deprecated"

# fmt: off
_EASY_TABLE: tuple[Option, ...] = (
    # --- long options (CURLOPTTYPE_LONG) ---------------------------------------------------------
    Option("PORT", 3, _L, 0, low=0, high=65535),
    Option("TIMEOUT", 13, _L, 0, low=0),
    Option("LOW_SPEED_LIMIT", 19, _L, 0, low=0),
    Option("LOW_SPEED_TIME", 20, _L, 0, low=0),
    Option("CRLF", 27, _L, 0, boolean=True),
    Option("SSLVERSION", 32, _L, _consts.SSLVERSION_DEFAULT),  # checked by _check_sslversion
    Option("TIMECONDITION", 33, _L, _consts.TIMECONDITION_NONE, low=0, high=3),
    Option("TIMEVALUE", 34, _L, 0),
    Option("VERBOSE", 41, _L, 0, boolean=True),
    Option("HEADER", 42, _L, 0, boolean=True),
    Option("NOPROGRESS", 43, _L, 1, boolean=True),
    Option("NOBODY", 44, _L, 0, boolean=True),
    Option("FAILONERROR", 45, _L, 0, boolean=True),
    Option("UPLOAD", 46, _L, 0, boolean=True),
    Option("POST", 47, _L, 0, boolean=True),
    Option("DIRLISTONLY", 48, _L, 0, aliases=("FTPLISTONLY",), boolean=True),
    Option("APPEND", 50, _L, 0, aliases=("FTPAPPEND",), boolean=True),
    Option("NETRC", 51, _L, _consts.NETRC_IGNORED, low=0, high=2),
    # 0..3: CURLFOLLOW_ALL is 1, CURLFOLLOW_OBEYMODE 2, CURLFOLLOW_FIRSTONLY 3 (libcurl 8.13).
    Option("FOLLOWLOCATION", 52, _L, 0, low=0, high=3),
    Option("TRANSFERTEXT", 53, _L, 0, boolean=True),
    Option("PUT", 54, _L, 0, boolean=True),
    Option("AUTOREFERER", 58, _L, 0, boolean=True),
    Option("PROXYPORT", 59, _L, 0, low=0, high=65535),
    Option("HTTPPROXYTUNNEL", 61, _L, 0, boolean=True),
    Option("SSL_VERIFYPEER", 64, _L, 1, boolean=True),
    # CURLOPT_MAXREDIRS(3): "30 (since 8.3.0)"; -1 is unlimited.
    Option("MAXREDIRS", 68, _L, 30, low=-1),
    Option("OPT_FILETIME", 69, _L, 0, boolean=True),
    Option("MAXCONNECTS", 71, _L, 5, low=0),
    Option("FRESH_CONNECT", 74, _L, 0, boolean=True),
    Option("FORBID_REUSE", 75, _L, 0, boolean=True),
    # 0 means libcurl's built-in connect timeout, 300 s (DEFAULT_CONNECT_TIMEOUT).
    Option("CONNECTTIMEOUT", 78, _L, 0, low=0),
    Option("HTTPGET", 80, _L, 0, boolean=True),
    # Any non-zero value means 2, "verify the name" (CURLOPT_SSL_VERIFYHOST(3) since 7.66).
    Option("SSL_VERIFYHOST", 81, _L, 2, boolean=True),
    # NONE lets the library choose (libcurl 8 picks 2TLS); checked by _check_http_version.
    Option("HTTP_VERSION", 84, _L, _consts.CURL_HTTP_VERSION_NONE),
    Option("FTP_USE_EPSV", 85, _L, 1, boolean=True),
    Option("SSLENGINE_DEFAULT", 90, _L, 0),
    Option("DNS_USE_GLOBAL_CACHE", 91, _L, 0),  # obsolete since 7.62, a no-op
    Option("DNS_CACHE_TIMEOUT", 92, _L, 60, low=-1),
    Option("COOKIESESSION", 96, _L, 0, boolean=True),
    # CURL_MAX_WRITE_SIZE; libcurl clamps what is set to [1024, 10 MB].
    Option("BUFFERSIZE", 98, _L, 16384, low=0),
    Option("NOSIGNAL", 99, _L, 0, boolean=True),
    Option("PROXYTYPE", 101, _L, _consts.PROXYTYPE_HTTP),  # checked by _check_proxytype
    Option("UNRESTRICTED_AUTH", 105, _L, 0, boolean=True),
    Option("FTP_USE_EPRT", 106, _L, 1, boolean=True),
    Option("HTTPAUTH", 107, _L, _consts.HTTPAUTH_BASIC),  # checked by _check_auth
    Option("FTP_CREATE_MISSING_DIRS", 110, _L, 0, low=0, high=2),
    Option("PROXYAUTH", 111, _L, _consts.HTTPAUTH_BASIC),  # checked by _check_auth
    # libcurl renamed CURLOPT_FTP_RESPONSE_TIMEOUT in 7.20; pycurl exports only the old name.
    Option(
        "SERVER_RESPONSE_TIMEOUT", 112, _L, 0, aliases=("FTP_RESPONSE_TIMEOUT",), low=0,
        exported=False,
    ),
    Option("IPRESOLVE", 113, _L, _consts.IPRESOLVE_WHATEVER, low=0, high=2),
    Option("USE_SSL", 119, _L, _consts.USESSL_NONE, aliases=("FTP_SSL",), low=0, high=3),
    Option("TCP_NODELAY", 121, _L, 1, boolean=True),
    Option("FTPSSLAUTH", 129, _L, _consts.FTPAUTH_DEFAULT, low=0, high=2),
    Option("IGNORE_CONTENT_LENGTH", 136, _L, 0, boolean=True),
    Option("FTP_SKIP_PASV_IP", 137, _L, 1, boolean=True),
    Option("FTP_FILEMETHOD", 138, _L, _consts.FTPMETHOD_MULTICWD, low=0, high=3),
    Option("LOCALPORT", 139, _L, 0, low=0, high=65535),
    Option("LOCALPORTRANGE", 140, _L, 1, low=0, high=65535),
    Option("CONNECT_ONLY", 141, _L, 0, low=0, high=2),
    Option("SSL_SESSIONID_CACHE", 150, _L, 1, boolean=True),
    Option("SSH_AUTH_TYPES", 151, _L, _consts.SSH_AUTH_ANY),
    Option("FTP_SSL_CCC", 154, _L, 0, low=0, high=2),
    Option("TIMEOUT_MS", 155, _L, 0, low=0),
    Option("CONNECTTIMEOUT_MS", 156, _L, 0, low=0),
    Option("HTTP_TRANSFER_DECODING", 157, _L, 1, boolean=True),
    Option("HTTP_CONTENT_DECODING", 158, _L, 1, boolean=True),
    Option("NEW_FILE_PERMS", 159, _L, 0o644, low=0, high=0o777),
    Option("NEW_DIRECTORY_PERMS", 160, _L, 0o755, low=0, high=0o777),
    Option("POSTREDIR", 161, _L, 0, aliases=("POST301",), low=0),
    Option("PROXY_TRANSFER_MODE", 166, _L, 0, boolean=True),
    Option("ADDRESS_SCOPE", 171, _L, 0, low=0, high=0xFFFFFFFF),
    Option("OPT_CERTINFO", 172, _L, 0, boolean=True, unsettable=True),
    Option("TFTP_BLKSIZE", 178, _L, 512, low=0),
    Option("SOCKS5_GSSAPI_NEC", 180, _L, 0, boolean=True),
    Option("PROTOCOLS", 181, _L, _consts.PROTO_ALL),
    Option(
        "REDIR_PROTOCOLS", 182, _L,
        # CURLOPT_REDIR_PROTOCOLS(3): HTTP, HTTPS, FTP and FTPS since 7.65.2.
        _consts.PROTO_HTTP | _consts.PROTO_HTTPS | _consts.PROTO_FTP | _consts.PROTO_FTPS,
    ),
    Option("FTP_USE_PRET", 188, _L, 0, boolean=True),
    Option("OPT_RTSP_REQUEST", 189, _L, _consts.RTSPREQ_OPTIONS, low=1, high=11),
    Option("OPT_RTSP_CLIENT_CSEQ", 193, _L, 0, low=0),
    Option("OPT_RTSP_SERVER_CSEQ", 194, _L, 0, low=0),
    # pycurl also lists it among its string options: a string sets it to 1.
    Option("WILDCARDMATCH", 197, _L, 0, boolean=True),
    Option("TRANSFER_ENCODING", 207, _L, 0, boolean=True),
    Option("GSSAPI_DELEGATION", 210, _L, _consts.GSSAPI_DELEGATION_NONE),
    Option("ACCEPTTIMEOUT_MS", 212, _L, 60000, low=0),
    Option("TCP_KEEPALIVE", 213, _L, 0, boolean=True),
    Option("TCP_KEEPIDLE", 214, _L, 60, low=0),
    Option("TCP_KEEPINTVL", 215, _L, 60, low=0),
    Option("SSL_OPTIONS", 216, _L, 0),
    Option("SASL_IR", 218, _L, 0, boolean=True),
    Option("SSL_ENABLE_NPN", 225, _L, 1),  # a no-op since 7.86
    Option("SSL_ENABLE_ALPN", 226, _L, 1, boolean=True),
    Option("EXPECT_100_TIMEOUT_MS", 227, _L, 1000, low=0),
    Option("HEADEROPT", 229, _L, _consts.HEADER_SEPARATE),
    Option("SSL_VERIFYSTATUS", 232, _L, 0, boolean=True),
    Option("SSL_FALSESTART", 233, _L, 0, not_built=_codes.E_NOT_BUILT_IN),
    Option("PATH_AS_IS", 234, _L, 0, boolean=True),
    Option("PIPEWAIT", 237, _L, 0, boolean=True),
    Option("TCP_FASTOPEN", 244, _L, 0, boolean=True),
    Option("PROXY_SSL_VERIFYPEER", 248, _L, 1, boolean=True),
    Option("PROXY_SSL_VERIFYHOST", 249, _L, 2, boolean=True),
    Option("PROXY_SSLVERSION", 250, _L, _consts.SSLVERSION_DEFAULT),  # _check_sslversion
    Option("PROXY_SSL_OPTIONS", 261, _L, 0),
    Option("SSH_COMPRESSION", 268, _L, 0, boolean=True),
    Option("HAPROXYPROTOCOL", 274, _L, 0, boolean=True),
    Option("UPLOAD_BUFFERSIZE", 280, _L, 65536, low=0),
    Option("HTTP09_ALLOWED", 285, _L, 0, boolean=True),
    Option("MAXAGE_CONN", 288, _L, 118, low=0),
    Option("HSTS_CTRL", 299, _L, 0),
    Option("MAXLIFETIME_CONN", 314, _L, 0, low=0),
    Option("WS_OPTIONS", 320, _L, 0),
    # libcurl long options pycurl has no name for; pycurl passes their numbers to libcurl.
    # The long forms of the size options: pycurl's names carry the _LARGE numbers.
    Option("INFILESIZE_LONG", 14, _L, -1, unsettable=True, low=-1, exported=False),
    Option("RESUME_FROM_LONG", 21, _L, 0, low=-1, exported=False),
    Option("POSTFIELDSIZE_LONG", 60, _L, -1, low=-1, exported=False),
    Option("MAXFILESIZE_LONG", 114, _L, 0, low=0, exported=False),
    Option("STREAM_WEIGHT", 239, _L, 16, exported=False),  # clamped to 1..256
    Option("TFTP_NO_OPTIONS", 242, _L, 0, boolean=True, exported=False),
    Option("KEEP_SENDING_ON_ERROR", 245, _L, 0, boolean=True, exported=False),
    Option("SUPPRESS_CONNECT_HEADERS", 265, _L, 0, boolean=True, exported=False),
    Option("HAPPY_EYEBALLS_TIMEOUT_MS", 271, _L, 200, low=0, exported=False),
    Option("DNS_SHUFFLE_ADDRESSES", 275, _L, 0, boolean=True, exported=False),
    Option("DISALLOW_USERNAME_IN_URL", 278, _L, 0, boolean=True, exported=False),
    Option("UPKEEP_INTERVAL_MS", 281, _L, 60000, low=0, exported=False),
    Option("MAIL_RCPT_ALLOWFAILS", 290, _L, 0, exported=False),
    Option("DOH_SSL_VERIFYPEER", 306, _L, 1, exported=False),
    Option("DOH_SSL_VERIFYHOST", 307, _L, 2, exported=False),
    Option("DOH_SSL_VERIFYSTATUS", 308, _L, 0, exported=False),
    Option("MIME_OPTIONS", 315, _L, 0, exported=False),
    Option("CA_CACHE_TIMEOUT", 321, _L, 86400, low=-1, exported=False),
    Option("QUICK_EXIT", 322, _L, 0, boolean=True, exported=False),
    Option("SERVER_RESPONSE_TIMEOUT_MS", 324, _L, 0, low=0, exported=False),
    Option("TCP_KEEPCNT", 326, _L, 9, low=0, exported=False),
    Option("UPLOAD_FLAGS", 327, _L, 0, exported=False),
    # --- pointer options (CURLOPTTYPE_OBJECTPOINT / STRINGPOINT / SLISTPOINT / CBPOINT) ---------
    Option("WRITEDATA", 10001, Kind.FILE_WRITE, aliases=("FILE",), target=20011),
    Option("URL", 10002, _S),
    Option("PROXY", 10004, _S, unsettable=True),
    Option("USERPWD", 10005, _S, unsettable=True),
    Option("PROXYUSERPWD", 10006, _S, unsettable=True),
    Option("RANGE", 10007, _S, unsettable=True),
    Option("READDATA", 10009, Kind.FILE_READ, aliases=("INFILE",), target=20012),
    # libcurl does not copy POSTFIELDS, so pycurl keeps the bytes and passes their length.
    Option("POSTFIELDS", 10015, Kind.BYTES, allow_nul=True),
    Option("REFERER", 10016, _S),
    Option("FTPPORT", 10017, _S, unsettable=True),
    Option("USERAGENT", 10018, _S),
    Option("COOKIE", 10022, _S, unsettable=True),
    Option("HTTPHEADER", 10023, _SL, unsettable=True),
    Option(
        "HTTPPOST", 10024, Kind.FORM, unsettable=True,
        deprecated="HTTPPOST is deprecated; use MIMEPOST",
    ),
    Option("SSLCERT", 10025, _S),
    Option("KEYPASSWD", 10026, _S, aliases=("SSLCERTPASSWD", "SSLKEYPASSWD")),
    Option("QUOTE", 10028, _SL, unsettable=True),
    Option("WRITEHEADER", 10029, Kind.FILE_WRITE, unsettable=True, target=20079),
    Option("COOKIEFILE", 10031, _S),
    Option("CUSTOMREQUEST", 10036, _S, unsettable=True),
    Option("STDERR", 10037, Kind.NO_VALUE),
    Option("POSTQUOTE", 10039, _SL, unsettable=True),
    Option("INTERFACE", 10062, _S),
    Option(
        "KRBLEVEL", 10063, _S, aliases=("KRB4LEVEL",), deprecated=_DEPRECATED,
        not_built=_codes.E_NOT_BUILT_IN,
    ),
    Option("CAINFO", 10065, _S, unsettable=True),
    Option("TELNETOPTIONS", 10070, _SL, unsettable=True),
    Option("RANDOM_FILE", 10076, _S, unsettable=True, deprecated=_DEPRECATED),
    Option("EGDSOCKET", 10077, _S, unsettable=True, deprecated=_DEPRECATED),
    Option("COOKIEJAR", 10082, _S, unsettable=True),
    Option("SSL_CIPHER_LIST", 10083, _S, unsettable=True),
    Option("SSLCERTTYPE", 10086, _S, "PEM"),
    Option("SSLKEY", 10087, _S),
    Option("SSLKEYTYPE", 10088, _S, "PEM"),
    Option("SSLENGINE", 10089, _S, not_built=_codes.E_SSL_ENGINE_NOTFOUND),
    Option("PREQUOTE", 10093, _SL, unsettable=True),
    Option("CAPATH", 10097, _S, unsettable=True),
    Option("SHARE", 10100, Kind.SHARE, unsettable=True),
    # CURLOPT_PRIVATE: pycurl has no name for it; purecurl keeps any object, for getinfo.
    Option("PRIVATE", 10103, Kind.OBJECT, unsettable=True, exported=False),
    Option("ACCEPT_ENCODING", 10102, _S, aliases=("ENCODING",), unsettable=True),
    Option("HTTP200ALIASES", 10104, _SL, unsettable=True),
    Option("NETRC_FILE", 10118, _S),
    Option("FTP_ACCOUNT", 10134, Kind.NO_VALUE),  # missing from pycurl's string options
    Option("COOKIELIST", 10135, _S, aliases=("OPT_COOKIELIST",)),
    Option("FTP_ALTERNATIVE_TO_USER", 10147, _S),
    Option("SSH_PUBLIC_KEYFILE", 10152, _S),
    Option("SSH_PRIVATE_KEYFILE", 10153, _S),
    Option("SSH_HOST_PUBLIC_KEY_MD5", 10162, _S),
    Option("COPYPOSTFIELDS", 10165, Kind.BYTES),
    Option("CRLFILE", 10169, _S),
    Option("ISSUERCERT", 10170, _S),
    Option("USERNAME", 10173, _S, unsettable=True),
    Option("PASSWORD", 10174, _S, unsettable=True),
    Option("PROXYUSERNAME", 10175, _S, unsettable=True),
    Option("PROXYPASSWORD", 10176, _S, unsettable=True),
    Option("NOPROXY", 10177, _S),
    Option("SOCKS5_GSSAPI_SERVICE", 10179, _S, deprecated=_DEPRECATED),
    Option("SSH_KNOWNHOSTS", 10183, _S),
    Option("MAIL_FROM", 10186, _S),
    Option("MAIL_RCPT", 10187, _SL, unsettable=True),
    Option("OPT_RTSP_SESSION_ID", 10190, _S),
    Option("OPT_RTSP_STREAM_URI", 10191, _S),
    Option("OPT_RTSP_TRANSPORT", 10192, _S),
    Option("FNMATCH_DATA", 10202, Kind.NO_VALUE),
    Option("RESOLVE", 10203, _SL, unsettable=True),
    Option(
        "TLSAUTH_USERNAME", 10204, _S, deprecated=_DEPRECATED, not_built=_codes.E_NOT_BUILT_IN
    ),
    Option(
        "TLSAUTH_PASSWORD", 10205, _S, deprecated=_DEPRECATED, not_built=_codes.E_NOT_BUILT_IN
    ),
    Option("TLSAUTH_TYPE", 10206, _S, deprecated=_DEPRECATED, not_built=_codes.E_NOT_BUILT_IN),
    # Needs c-ares; libcurl without it answers CURLE_UNKNOWN_OPTION.
    Option("DNS_SERVERS", 10211, _S, not_built=_codes.E_UNKNOWN_OPTION),
    Option("MAIL_AUTH", 10217, _S),
    Option("XOAUTH2_BEARER", 10220, _S),
    Option("LOGIN_OPTIONS", 10224, _S),
    Option("PROXYHEADER", 10228, _SL, unsettable=True),
    Option("PINNEDPUBLICKEY", 10230, _S),
    Option("UNIX_SOCKET_PATH", 10231, _S),
    Option("PROXY_SERVICE_NAME", 10235, _S, unsettable=True),
    Option("SERVICE_NAME", 10236, _S, unsettable=True),
    Option("DEFAULT_PROTOCOL", 10238, _S),
    Option("CONNECT_TO", 10243, _SL, unsettable=True),
    Option("PROXY_CAINFO", 10246, _S, unsettable=True),
    Option("PROXY_CAPATH", 10247, _S, unsettable=True),
    Option(
        "PROXY_TLSAUTH_USERNAME", 10251, _S, deprecated=_DEPRECATED,
        not_built=_codes.E_NOT_BUILT_IN,
    ),
    Option(
        "PROXY_TLSAUTH_PASSWORD", 10252, _S, deprecated=_DEPRECATED,
        not_built=_codes.E_NOT_BUILT_IN,
    ),
    Option(
        "PROXY_TLSAUTH_TYPE", 10253, _S, deprecated=_DEPRECATED,
        not_built=_codes.E_NOT_BUILT_IN,
    ),
    Option("PROXY_SSLCERT", 10254, _S, unsettable=True),
    Option("PROXY_SSLCERTTYPE", 10255, _S, "PEM", unsettable=True),
    Option("PROXY_SSLKEY", 10256, _S, unsettable=True),
    Option("PROXY_SSLKEYTYPE", 10257, _S, "PEM", unsettable=True),
    Option("PROXY_KEYPASSWD", 10258, _S),
    Option("PROXY_SSL_CIPHER_LIST", 10259, _S, unsettable=True),
    Option("PROXY_CRLFILE", 10260, _S),
    Option("PRE_PROXY", 10262, _S, unsettable=True),
    Option("PROXY_PINNEDPUBLICKEY", 10263, _S),
    Option("REQUEST_TARGET", 10266, _S),
    Option("MIMEPOST", 10269, Kind.MIME, unsettable=True),
    Option("RESOLVER_START_DATA", 10273, Kind.NO_VALUE),
    Option("TLS13_CIPHERS", 10276, _S),
    Option("PROXY_TLS13_CIPHERS", 10277, _S),
    Option("DOH_URL", 10279, _S),
    Option("CURLU", 10282, Kind.CURLU, unsettable=True),
    Option("TRAILERDATA", 10284, Kind.NO_VALUE),
    Option("PROXY_ISSUERCERT", 10296, _S),
    Option("SSL_EC_CURVES", 10298, _S, unsettable=True),
    Option("HSTS", 10300, _S, unsettable=True),
    Option("HSTSREADDATA", 10302, Kind.NO_VALUE),
    Option("HSTSWRITEDATA", 10304, Kind.NO_VALUE),
    Option("AWS_SIGV4", 10305, _S),
    Option("SSH_HOST_PUBLIC_KEY_SHA256", 10311, _S),
    Option("HAPROXY_CLIENT_IP", 10323, _S),
    Option("ECH", 10325, _S, not_built=_codes.E_NOT_BUILT_IN),
    Option("SSL_SIGNATURE_ALGORITHMS", 10328, _S, unsettable=True),
    # --- callbacks (CURLOPTTYPE_FUNCTIONPOINT) ---------------------------------------------------
    Option("WRITEFUNCTION", 20011, _F, unsettable=True),
    Option("READFUNCTION", 20012, _F, unsettable=True),
    Option(
        "PROGRESSFUNCTION", 20056, _F, unsettable=True,
        deprecated="PROGRESSFUNCTION is deprecated; use XFERINFOFUNCTION",
    ),
    Option("HEADERFUNCTION", 20079, _F, unsettable=True),
    Option("DEBUGFUNCTION", 20094, _F, unsettable=True),
    Option(
        "IOCTLFUNCTION", 20130, _F, unsettable=True,
        deprecated="IOCTLFUNCTION is deprecated; use SEEKFUNCTION",
    ),
    Option("SOCKOPTFUNCTION", 20148, _F, unsettable=True),
    Option("OPENSOCKETFUNCTION", 20163, _F, unsettable=True),
    Option("SEEKFUNCTION", 20167, _F, unsettable=True),
    Option("SSH_KEYFUNCTION", 20184, _F, unsettable=True),
    Option("FNMATCH_FUNCTION", 20200, _F, unsettable=True),
    Option("CLOSESOCKETFUNCTION", 20208, _F, unsettable=True),
    Option("XFERINFOFUNCTION", 20219, _F, unsettable=True),
    Option("RESOLVER_START_FUNCTION", 20272, _F, unsettable=True),
    Option("TRAILERFUNCTION", 20283, _F, unsettable=True),
    Option("HSTSREADFUNCTION", 20301, _F, unsettable=True),
    Option("HSTSWRITEFUNCTION", 20303, _F, unsettable=True),
    Option("PREREQFUNCTION", 20312, _F, unsettable=True),
    Option("SSH_HOSTKEYFUNCTION", 20316, _F, unsettable=True),
    # --- curl_off_t options; pycurl gives the short names the _LARGE numbers ---------------------
    Option("INFILESIZE_LARGE", 30115, _O, -1, aliases=("INFILESIZE",), low=-1),
    Option("RESUME_FROM_LARGE", 30116, _O, 0, aliases=("RESUME_FROM",), low=-1),
    Option("MAXFILESIZE_LARGE", 30117, _O, 0, aliases=("MAXFILESIZE",), low=0),
    Option("POSTFIELDSIZE_LARGE", 30120, _O, -1, aliases=("POSTFIELDSIZE",), low=-1),
    Option("MAX_SEND_SPEED_LARGE", 30145, _O, 0, low=0),
    Option("TIMEVALUE_LARGE", 30270, _O, 0, exported=False),
    Option("MAX_RECV_SPEED_LARGE", 30146, _O, 0, low=0),
    # --- blobs (CURLOPTTYPE_BLOB): libcurl copies them -------------------------------------------
    Option("SSLCERT_BLOB", 40291, _B, unsettable=True),
    Option("SSLKEY_BLOB", 40292, _B, unsettable=True),
    Option("PROXY_SSLCERT_BLOB", 40293, _B, unsettable=True),
    Option("PROXY_SSLKEY_BLOB", 40294, _B, unsettable=True),
    Option("ISSUERCERT_BLOB", 40295, _B, unsettable=True),
    Option("PROXY_ISSUERCERT_BLOB", 40297, _B, unsettable=True),
    Option("CAINFO_BLOB", 40309, _B, unsettable=True),
    Option("PROXY_CAINFO_BLOB", 40310, _B, unsettable=True),
)

_MULTI_TABLE: tuple[Option, ...] = (
    # multi.h CURLMOPT_*. libcurl 8 ignores the pipelining-era ones but still accepts them.
    Option("M_PIPELINING", 3, _L, _consts.PIPE_MULTIPLEX),
    Option("M_MAXCONNECTS", 6, _L, 0),  # 0: four times the number of added handles
    Option("M_MAX_HOST_CONNECTIONS", 7, _L, 0),
    Option("M_MAX_PIPELINE_LENGTH", 8, _L, 5),
    Option("M_MAX_TOTAL_CONNECTIONS", 13, _L, 0),
    Option("M_MAX_CONCURRENT_STREAMS", 16, _L, 100),  # out of 1..INT_MAX means 100
    Option("M_PIPELINING_SITE_BL", 10011, _SL, unsettable=True),
    Option("M_PIPELINING_SERVER_BL", 10012, _SL, unsettable=True),
    Option("M_SOCKETFUNCTION", 20001, _F, unsettable=True),
    Option("M_TIMERFUNCTION", 20004, _F, unsettable=True),
    Option("M_NOTIFYFUNCTION", 20018, _F, unsettable=True),
    Option("M_CONTENT_LENGTH_PENALTY_SIZE", 30009, _O, 0),
    Option("M_CHUNK_LENGTH_PENALTY_SIZE", 30010, _O, 0),
)

_SHARE_TABLE: tuple[Option, ...] = (
    # curl.h CURLSHOPT_*: the value is a curl_lock_data (LOCK_DATA_*).
    Option("SH_SHARE", 1, _L),
    Option("SH_UNSHARE", 2, _L),
)

# CURLINFO numbers: the type is in the high bits (curl.h CURLINFO_STRING 0x100000, LONG
# 0x200000, DOUBLE 0x300000, SLIST/PTR 0x400000, SOCKET 0x500000, OFF_T 0x600000).
_INFO_TABLE: tuple[Info, ...] = (
    Info("EFFECTIVE_URL", 0x100001, "string", initial=""),
    Info("CONTENT_TYPE", 0x100012, "string"),
    # CURLINFO_PRIVATE: unexported by pycurl; returns what PRIVATE was set to.
    Info("PRIVATE", 0x100015, "ptr", exported=False),
    Info("FTP_ENTRY_PATH", 0x10001E, "string"),
    Info("REDIRECT_URL", 0x10001F, "string"),
    Info("PRIMARY_IP", 0x100020, "string", initial=""),
    Info("INFO_RTSP_SESSION_ID", 0x100024, "string"),
    Info("LOCAL_IP", 0x100029, "string", initial=""),
    Info("SCHEME", 0x100031, "string"),
    Info("EFFECTIVE_METHOD", 0x10003A, "string", initial="GET"),
    Info("INFO_REFERER", 0x10003C, "string"),
    Info("RESPONSE_CODE", 0x200002, "long", initial=0, aliases=("HTTP_CODE",)),
    Info("HEADER_SIZE", 0x20000B, "long", initial=0),
    Info("REQUEST_SIZE", 0x20000C, "long", initial=0),
    Info("SSL_VERIFYRESULT", 0x20000D, "long", initial=0),
    Info("INFO_FILETIME", 0x20000E, "long", initial=-1),
    Info("REDIRECT_COUNT", 0x200014, "long", initial=0),
    Info("HTTP_CONNECTCODE", 0x200016, "long", initial=0),
    Info("HTTPAUTH_AVAIL", 0x200017, "long", initial=0),
    Info("PROXYAUTH_AVAIL", 0x200018, "long", initial=0),
    Info("OS_ERRNO", 0x200019, "long", initial=0),
    Info("NUM_CONNECTS", 0x20001A, "long", initial=0),
    Info("LASTSOCKET", 0x20001D, "long", initial=-1),
    Info("CONDITION_UNMET", 0x200023, "long", initial=0),
    Info("INFO_RTSP_CLIENT_CSEQ", 0x200025, "long", initial=0),
    Info("INFO_RTSP_SERVER_CSEQ", 0x200026, "long", initial=0),
    Info("INFO_RTSP_CSEQ_RECV", 0x200027, "long", initial=0),
    Info("PRIMARY_PORT", 0x200028, "long", initial=-1),
    Info("LOCAL_PORT", 0x20002A, "long", initial=-1),
    Info("INFO_HTTP_VERSION", 0x20002E, "long", initial=0),
    Info("PROXY_SSL_VERIFYRESULT", 0x20002F, "long", initial=0),
    Info("PROXY_ERROR", 0x20003B, "long", initial=0),
    Info("USED_PROXY", 0x200042, "long", initial=0),
    Info("TOTAL_TIME", 0x300003, "double", initial=0.0),
    Info("NAMELOOKUP_TIME", 0x300004, "double", initial=0.0),
    Info("CONNECT_TIME", 0x300005, "double", initial=0.0),
    Info("PRETRANSFER_TIME", 0x300006, "double", initial=0.0),
    # pycurl warns "getinfo option is deprecated" for the double sizes and speeds.
    Info("SIZE_UPLOAD", 0x300007, "double", deprecated=True, initial=0.0),
    Info("SIZE_DOWNLOAD", 0x300008, "double", deprecated=True, initial=0.0),
    Info("SPEED_DOWNLOAD", 0x300009, "double", deprecated=True, initial=0.0),
    Info("SPEED_UPLOAD", 0x30000A, "double", deprecated=True, initial=0.0),
    Info("CONTENT_LENGTH_DOWNLOAD", 0x30000F, "double", deprecated=True, initial=-1.0),
    Info("CONTENT_LENGTH_UPLOAD", 0x300010, "double", deprecated=True, initial=-1.0),
    Info("STARTTRANSFER_TIME", 0x300011, "double", initial=0.0),
    Info("REDIRECT_TIME", 0x300013, "double", initial=0.0),
    Info("APPCONNECT_TIME", 0x300021, "double", initial=0.0),
    Info("SSL_ENGINES", 0x40001B, "slist", initial=[]),
    Info("INFO_COOKIELIST", 0x40001C, "slist", initial=[]),
    Info("INFO_CERTINFO", 0x400022, "certinfo", initial=[]),
    Info("ACTIVESOCKET", 0x50002C, "socket", initial=-1),
    Info("SIZE_UPLOAD_T", 0x600007, "off_t", initial=0),
    Info("SIZE_DOWNLOAD_T", 0x600008, "off_t", initial=0),
    Info("SPEED_DOWNLOAD_T", 0x600009, "off_t", initial=0),
    Info("SPEED_UPLOAD_T", 0x60000A, "off_t", initial=0),
    Info("FILETIME_T", 0x60000E, "off_t", initial=-1),
    Info("CONTENT_LENGTH_DOWNLOAD_T", 0x60000F, "off_t", initial=-1),
    Info("CONTENT_LENGTH_UPLOAD_T", 0x600010, "off_t", initial=-1),
    Info("TOTAL_TIME_T", 0x600032, "off_t", initial=0),
    Info("NAMELOOKUP_TIME_T", 0x600033, "off_t", initial=0),
    Info("CONNECT_TIME_T", 0x600034, "off_t", initial=0),
    Info("PRETRANSFER_TIME_T", 0x600035, "off_t", initial=0),
    Info("STARTTRANSFER_TIME_T", 0x600036, "off_t", initial=0),
    Info("REDIRECT_TIME_T", 0x600037, "off_t", initial=0),
    Info("APPCONNECT_TIME_T", 0x600038, "off_t", initial=0),
    Info("RETRY_AFTER", 0x600039, "off_t", initial=0),
    Info("XFER_ID", 0x60003F, "off_t", initial=-1),
    Info("CONN_ID", 0x600040, "off_t", initial=-1),
    Info("QUEUE_TIME_T", 0x600041, "off_t", initial=0),
    Info("POSTTRANSFER_TIME_T", 0x600043, "off_t", initial=0),
    Info("EARLYDATA_SENT_T", 0x600044, "off_t", initial=0),
    Info("SIZE_DELIVERED", 0x600047, "off_t", initial=0),
)
# fmt: on

EASY_OPTIONS: dict[int, Option] = {o.number: o for o in _EASY_TABLE}
MULTI_OPTIONS: dict[int, Option] = {o.number: o for o in _MULTI_TABLE}
SHARE_OPTIONS: dict[int, Option] = {o.number: o for o in _SHARE_TABLE}
INFOS: dict[int, Info] = {i.number: i for i in _INFO_TABLE}


def info_for(number: int) -> Info:
    """Return the `Info` row for a getinfo number.

    Raises ValueError("invalid argument to getinfo") for a number that is not an info, as
    pycurl does.
    """
    info = INFOS.get(number)
    if info is None:
        raise ValueError("invalid argument to getinfo")
    return info


# --- setopt --------------------------------------------------------------------------------------

# pycurl.h OPTIONS_SIZE / MOPTIONS_SIZE: pycurl refuses an option number whose remainder
# modulo 10000 reaches these before it asks libcurl ("invalid arguments to setopt").
_OPTIONS_SIZE = 333
_MOPTIONS_SIZE = 22
_OBJECTPOINT = 10000
_FUNCTIONPOINT = 20000
_OFF_T = 30000
_BLOB = 40000
_C_LONG_MIN = -(2**63)
_C_LONG_MAX = 2**63 - 1

_INVALID = "invalid arguments to setopt"
_LIST_ITEM = "list items must be byte strings or Unicode strings with ASCII code points only"
_BLOB_TYPE = (
    "blob option value must be a byte string, ASCII-only Unicode string, or a buffer object"
)

_HTTPPOST = 10024
_SHARE = 10100
_WILDCARDMATCH = 197
_SSL_VERIFYHOST = 81
_PROXY_SSL_VERIFYHOST = 249

# The classes the faces register for SHARE, MIME and CURLU values (a lower layer cannot
# import them). While nothing is registered for a kind, any object is passed through.
_OBJECT_CLASSES: dict[Kind, type] = {}
_OBJECT_MESSAGES: dict[Kind, str] = {
    Kind.SHARE: _INVALID,
    Kind.MIME: "setopt(option=MIMEPOST) expects a CurlMime object",
    Kind.CURLU: "setopt(option=CURLU) expects a CurlUrl object",
}


def register_class(kind: Kind, cls: type) -> None:
    """Make `check_easy_value` accept only instances of `cls` for SHARE, MIME or CURLU."""
    if kind not in _OBJECT_MESSAGES:
        raise ValueError(f"no class is registered for {kind.name}")
    _OBJECT_CLASSES[kind] = cls


def _option_number(number: int) -> int:
    # pycurl parses the option with PyArg_ParseTuple("i"): __index__, then a C int.
    n = operator.index(number)
    if n > 0x7FFFFFFF:
        raise OverflowError("signed integer is greater than maximum")
    if n < -0x80000000:
        raise OverflowError("signed integer is less than minimum")
    return n


def _bad_argument(number: int) -> error:
    # libcurl 8's lib/setopt.c failf() text for CURLE_BAD_FUNCTION_ARGUMENT.
    return error(_codes.E_BAD_FUNCTION_ARGUMENT, f"setopt {number:#x} got bad argument")


def _libcurl_error(code: int) -> error:
    return error(code, _codes.easy_strerror(code))


def _text_bytes(value: str | bytes, allow_nul: bool = False) -> bytes:
    # pycurl's PyText_AsString_NoNUL: str must be ASCII (UnicodeEncodeError otherwise);
    # libcurl copies strings with strdup(), so an embedded NUL cannot be passed.
    data = value.encode("ascii") if isinstance(value, str) else bytes(value)
    if not allow_nul and b"\0" in data:
        raise ValueError("embedded null byte")
    return data


def _check_sslversion(number: int, value: int) -> int:
    # lib/setopt.c: the low 16 bits are the minimum, the high 16 the maximum (of a 32-bit
    # long's worth); SSLv2/SSLv3 and anything past the last known version are refused.
    low = value & 0xFFFF
    high = value & 0xFFFF0000
    if low in (_consts.SSLVERSION_SSLv2, _consts.SSLVERSION_SSLv3) or low > 7:
        raise _bad_argument(number)
    if high >= 8 << 16:
        raise _bad_argument(number)
    return value


def _check_http_version(number: int, value: int) -> int:
    if value < 0:
        raise _bad_argument(number)
    if value > _consts.CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE:
        # Unknown versions, and HTTP/3 which purecurl does not speak: libcurl answers
        # CURLE_UNSUPPORTED_PROTOCOL for both (lib/setopt.c, "#ifndef USE_HTTP3").
        raise _libcurl_error(_codes.E_UNSUPPORTED_PROTOCOL)
    return value


def _check_proxytype(number: int, value: int) -> int:
    if 0 <= value <= _consts.PROXYTYPE_SOCKS5_HOSTNAME:
        return value
    if value == 8:
        raise _libcurl_error(_codes.E_NOT_BUILT_IN)
    raise _bad_argument(number)


# Auth bits this build cannot do; lib/setopt.c httpauth() switches them off and refuses a mask
# that has no supported bit left below CURLAUTH_ONLY.
_UNBUILT_AUTH = _consts.HTTPAUTH_NTLM | _consts.HTTPAUTH_NEGOTIATE


def _check_auth(number: int, value: int) -> int:
    auth = value & 0xFFFFFFFFFFFFFFFF  # an unsigned long
    if auth == _consts.HTTPAUTH_NONE:
        return 0
    if auth & _consts.HTTPAUTH_DIGEST_IE:
        auth |= _consts.HTTPAUTH_DIGEST  # DIGEST_IE stays set as the IE-style marker
    auth &= ~_UNBUILT_AUTH
    if not auth & (_consts.HTTPAUTH_ONLY - 1):
        raise _libcurl_error(_codes.E_NOT_BUILT_IN)
    return auth


_SPECIAL_LONGS = {
    32: _check_sslversion,
    250: _check_sslversion,
    84: _check_http_version,
    101: _check_proxytype,
    107: _check_auth,
    111: _check_auth,
}


def _check_long(number: int, opt: Option, value: int) -> int:
    special = _SPECIAL_LONGS.get(number)
    if special is not None:
        return special(number, value)
    if (opt.low is not None and value < opt.low) or (opt.high is not None and value > opt.high):
        raise _bad_argument(number)
    if opt.boolean:
        if number in (_SSL_VERIFYHOST, _PROXY_SSL_VERIFYHOST):
            return 2 if value else 0
        return 1 if value else 0
    return int(value)


def _easy_int(number: int, opt: Option | None, value: int) -> object:
    if number < _OBJECTPOINT:
        if not _C_LONG_MIN <= value <= _C_LONG_MAX:
            raise OverflowError("Python int too large to convert to C long")
    elif number >= _OFF_T:
        if not _C_LONG_MIN <= value <= _C_LONG_MAX:
            raise OverflowError("int too big to convert")
    else:
        raise TypeError("integers are not supported for this option")
    if opt is None:
        raise _libcurl_error(_codes.E_UNKNOWN_OPTION)
    if opt.not_built:
        return value
    return _check_long(number, opt, value)


def _easy_text(number: int, opt: Option | None, value: str | bytes) -> object:
    if opt is None or (opt.kind not in (Kind.STRING, Kind.BYTES) and number != _WILDCARDMATCH):
        raise TypeError("strings are not supported for this option")
    data = _text_bytes(value, opt.allow_nul)
    if opt.kind is Kind.BYTES:
        return data
    if number == _WILDCARDMATCH:
        return 1  # pycurl hands libcurl the char pointer where a long belongs: non-zero
    if type(value) is str:
        return value
    return data.decode("latin-1")


def _slist(value: list[object] | tuple[object, ...]) -> list[bytes]:
    items: list[bytes] = []
    for item in value:
        if not isinstance(item, (str, bytes)):
            raise TypeError(_LIST_ITEM)
        items.append(_text_bytes(item))
    return items


def _form(value: list[object] | tuple[object, ...]) -> list[tuple[bytes, FormValue]]:
    # pycurl src/easyopt.c do_curl_setopt_httppost, message for message.
    pairs: list[tuple[bytes, FormValue]] = []
    for item in value:
        if not isinstance(item, (list, tuple)):
            raise TypeError("list items must be list or tuple objects")
        if len(item) != 2:
            raise TypeError("list or tuple must contain two elements (name, value)")
        name_obj, content = item
        try:
            if not isinstance(name_obj, (str, bytes)):
                raise TypeError
            name = name_obj.encode("ascii") if isinstance(name_obj, str) else bytes(name_obj)
        except (TypeError, UnicodeEncodeError):
            raise TypeError(
                "list or tuple must contain a byte string or Unicode string with ASCII code "
                "points only as first element"
            ) from None
        if b"\0" in name:
            # curl_formadd() stops the name at the NUL and refuses the pair.
            raise _libcurl_error(_codes.E_URL_MALFORMAT)
        if isinstance(content, (str, bytes)):
            try:
                pairs.append((name, _text_bytes(content, allow_nul=True)))
            except UnicodeEncodeError:
                raise _libcurl_error(_codes.E_BAD_FUNCTION_ARGUMENT) from None
            continue
        if not isinstance(content, (list, tuple)):
            raise TypeError("unsupported second type in tuple")
        if len(content) < 2:
            raise TypeError("list or tuple must contain at least one option and one value")
        if len(content) % 2:
            raise TypeError("list or tuple must contain an even number of items")
        parts: list[tuple[int, bytes]] = []
        for i in range(0, len(content), 2):
            form_option, form_value = content[i], content[i + 1]
            if not isinstance(form_option, int):
                raise TypeError("option must be an integer")
            if not isinstance(form_value, (str, bytes)):
                raise TypeError(
                    "value must be a byte string or a Unicode string with ASCII code points only"
                )
            if int(form_option) not in _FORM_OPTIONS:
                raise TypeError("unsupported option")
            parts.append((int(form_option), _text_bytes(form_value, allow_nul=True)))
        pairs.append((name, tuple(parts)))
    return pairs


_FORM_OPTIONS = frozenset(
    {
        _consts.FORM_CONTENTS,
        _consts.FORM_FILE,
        _consts.FORM_FILENAME,
        _consts.FORM_CONTENTTYPE,
        _consts.FORM_BUFFER,
        _consts.FORM_BUFFERPTR,
    }
)


def _blob(number: int, value: object) -> object:
    opt = EASY_OPTIONS.get(number)
    if value is None:
        if opt is None:
            raise TypeError("unsetopt() is not supported for this option")
        return None
    if isinstance(value, str):
        data = value.encode("ascii")
    else:
        try:
            data = bytes(memoryview(value))  # type: ignore[arg-type]
        except TypeError:
            raise TypeError(_BLOB_TYPE) from None
    if opt is None:
        raise _libcurl_error(_codes.E_UNKNOWN_OPTION)
    return data


def _easy_dispatch(number: int, value: object) -> object:
    # The order of src/easyopt.c do_curl_setopt: None, text, int, list/tuple, callable,
    # SHARE, CurlMime/CurlUrl, file-like objects, and "invalid arguments" for the rest.
    if _BLOB <= number < _BLOB + _OPTIONS_SIZE:
        return _blob(number, value)
    if number <= 0 or number >= _OFF_T + _OPTIONS_SIZE or number % 10000 >= _OPTIONS_SIZE:
        raise TypeError(_INVALID)
    opt = EASY_OPTIONS.get(number)
    if opt is not None and opt.kind is Kind.OBJECT:
        return value
    if value is None:
        if opt is not None and opt.unsettable:
            return None
        raise TypeError("unsetopt() is not supported for this option")
    if isinstance(value, (str, bytes)):
        return _easy_text(number, opt, value)
    if isinstance(value, int):
        return _easy_int(number, opt, value)
    if isinstance(value, (list, tuple)):
        if number == _HTTPPOST:
            return _form(value)
        if opt is None or opt.kind is not Kind.SLIST:
            raise TypeError("lists are not supported for this option")
        return _slist(value)
    if callable(value):
        if opt is None or opt.kind is not Kind.FUNCTION:
            raise TypeError("functions are not supported for this option")
        return value
    if opt is None:
        raise TypeError(_INVALID)
    if opt.kind in _OBJECT_MESSAGES:
        cls = _OBJECT_CLASSES.get(opt.kind)
        if cls is not None and not isinstance(value, cls):
            raise TypeError(_OBJECT_MESSAGES[opt.kind])
        return value
    if opt.kind in (Kind.FILE_WRITE, Kind.FILE_READ):
        method_name = "read" if opt.kind is Kind.FILE_READ else "write"
        try:
            method = getattr(value, method_name)
        except Exception:  # pycurl replaces whatever the lookup raised
            raise TypeError(f"object given without a {method_name} method") from None
        assert opt.target is not None
        # pycurl sets the method as the callback option, with setopt's whole dispatch.
        return _easy_dispatch(opt.target, method)
    raise TypeError(_INVALID)


def check_easy_value(number: int, value: object) -> object:
    """Validate `Curl.setopt(number, value)` as pycurl does; return the normalised value.

    Returns None for None (the option is reset; only for options pycurl can unset), an int for
    LONG/OFF_T (booleans as 0/1, SSL_VERIFYHOST as 0/2), str for STRING, bytes for BYTES and
    BLOB, list[bytes] for SLIST (an empty list: pycurl then leaves the option unchanged),
    the callable for FUNCTION, the object's bound `write`/`read` for FILE_WRITE/FILE_READ
    (to be set as `EASY_OPTIONS[number].target`), HTTPPOST pairs for FORM, the object for
    SHARE/MIME/CURLU (whose class the face checks unless it called `register_class`).

    Raises TypeError, ValueError, UnicodeEncodeError or OverflowError with pycurl's messages
    for a value of the wrong type; `error(code, message)` where libcurl refuses the value
    (43 for out of range, 48 for an unknown number, 4 for a feature not built in). Emits the
    DeprecationWarning pycurl emits for deprecated options (stacklevel: the face's caller).
    """
    number = _option_number(number)
    result = _easy_dispatch(number, value)
    if value is None:
        return None
    opt = EASY_OPTIONS[number]
    if opt.deprecated is not None:
        warnings.warn(opt.deprecated, DeprecationWarning, stacklevel=3)
    if opt.not_built:
        raise _libcurl_error(opt.not_built)
    return result


def check_easy_unset(number: int) -> None:
    """Validate `Curl.unsetopt(number)` as pycurl does.

    Raises TypeError("invalid arguments to unsetopt") for a number out of pycurl's range and
    TypeError("unsetopt() is not supported for this option") for an option pycurl cannot
    reset.
    """
    # pycurl's unsetopt and setopt(option, None) share one path (src/easyopt.c).
    try:
        _easy_dispatch(_option_number(number), None)
    except TypeError as exc:
        if exc.args == (_INVALID,):
            raise TypeError("invalid arguments to unsetopt") from None
        raise


def check_multi_value(number: int, value: object) -> object:
    """Validate `CurlMulti.setopt(number, value)` as pycurl's src/multi.c does.

    Returns None for None (SOCKETFUNCTION, TIMERFUNCTION, NOTIFYFUNCTION and the blocklists
    only), an int for the long and off_t options, list[bytes] for the blocklists, the callable
    for the callbacks. Raises TypeError with pycurl's messages for anything else,
    OverflowError for an int beyond a C long, and `error("list/tuple items must be strings")`
    for a blocklist item that is not text.
    """
    number = _option_number(number)
    if number <= 0 or number >= _OFF_T + _MOPTIONS_SIZE or number % 10000 >= _MOPTIONS_SIZE:
        raise TypeError(_INVALID)
    opt = MULTI_OPTIONS.get(number)
    if value is None:
        if opt is not None and opt.unsettable:
            return None
        raise TypeError("unsetting is not supported for this option")
    if isinstance(value, int):
        if not _C_LONG_MIN <= value <= _C_LONG_MAX:
            raise OverflowError("Python int too large to convert to C long")
        if opt is None or opt.kind not in (Kind.LONG, Kind.OFF_T):
            raise TypeError("integers are not supported for this option")
        return int(value)
    if isinstance(value, (list, tuple)):
        if opt is None or opt.kind is not Kind.SLIST:
            raise TypeError("lists/tuples are not supported for this option")
        items: list[bytes] = []
        for item in value:
            if not isinstance(item, (str, bytes)):
                raise error("list/tuple items must be strings")
            items.append(_text_bytes(item))
        return items
    if callable(value):
        if opt is None or opt.kind is not Kind.FUNCTION:
            raise TypeError("callables are not supported for this option")
        return value
    raise TypeError(_INVALID)


def check_share_value(number: int, value: object) -> object:
    """Validate `CurlShare.setopt(number, value)` as pycurl's src/share.c does.

    Returns the LOCK_DATA_* int. Raises TypeError("invalid arguments to setopt") for anything
    but an int naming a lock data kind (2..7) given to SH_SHARE or SH_UNSHARE,
    TypeError("integers are not supported for this option") for another option,
    OverflowError beyond a C long, and `error(1, "Unknown share option")` for unsharing PSL,
    which libcurl's curl_share_setopt() does not know.
    """
    number = _option_number(number)
    if number <= 0 or number >= _OFF_T + _OPTIONS_SIZE or number % 10000 >= _OPTIONS_SIZE:
        raise TypeError(_INVALID)
    if not isinstance(value, int):
        raise TypeError(_INVALID)
    if not _C_LONG_MIN <= value <= _C_LONG_MAX:
        raise OverflowError("Python int too large to convert to C long")
    if number not in SHARE_OPTIONS:
        raise TypeError("integers are not supported for this option")
    if not _consts.LOCK_DATA_COOKIE <= value <= _consts.LOCK_DATA_HSTS:
        raise TypeError(_INVALID)
    if number == 2 and value == _consts.LOCK_DATA_PSL:
        raise error(_codes.CURLSHE_BAD_OPTION, _codes.share_strerror(_codes.CURLSHE_BAD_OPTION))
    return int(value)


# --- The exported constants ----------------------------------------------------------------------


def _names(rows: tuple[Option, ...] | tuple[Info, ...]) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in rows:
        if row.exported:
            out[row.name] = row.number
        for alias in row.aliases:
            out[alias] = row.number
    return out


def _module_ints(module: object, prefix: str = "") -> dict[str, int]:
    return {
        name: value
        for name, value in vars(module).items()
        # name[:1]: SSLVERSION_TLSv1_2 keeps a lower-case letter
        if name[:1].isupper() and name.startswith(prefix) and type(value) is int
    }


# CURLSHE_* are not exported by pycurl; neither are the E_ codes newer than its list.
_UNEXPORTED_CODES = frozenset(
    {
        "E_OBSOLETE20", "E_OBSOLETE24", "E_OBSOLETE29", "E_OBSOLETE32", "E_OBSOLETE34",
        "E_OBSOLETE40", "E_OBSOLETE41", "E_OBSOLETE44", "E_OBSOLETE46", "E_OBSOLETE50",
        "E_OBSOLETE51", "E_OBSOLETE57", "E_OBSOLETE62", "E_OBSOLETE75", "E_OBSOLETE76",
        "E_WEIRD_SERVER_REPLY", "E_SETOPT_OPTION_SYNTAX", "E_HTTP2_STREAM",
        "E_RECURSIVE_API_CALL", "E_AUTH_ERROR", "E_HTTP3", "E_QUIC_CONNECT_ERROR", "E_PROXY",
        "E_SSL_CLIENTCERT", "E_UNRECOVERABLE_POLL", "E_TOO_LARGE", "E_ECH_REQUIRED",
        "E_MULTI_RECURSIVE_API_CALL", "E_MULTI_WAKEUP_FAILURE",
        "E_MULTI_BAD_FUNCTION_ARGUMENT", "E_MULTI_ABORTED_BY_CALLBACK",
        "E_MULTI_UNRECOVERABLE_POLL",
    }
)  # fmt: skip

_ERROR_CONSTANTS = {
    name: value
    for name, value in _module_ints(_codes, "E_").items()
    if name not in _UNEXPORTED_CODES
}
_MULTI_ERRORS = {
    name: value
    for name, value in _ERROR_CONSTANTS.items()
    if name.startswith("E_MULTI_") or name == "E_CALL_MULTI_PERFORM"
}
_OTHER_CONSTANTS = _module_ints(_consts)

#: Every upper-case int constant the purecurl module exports, by pycurl's names.
PUBLIC_CONSTANTS: dict[str, int] = {
    **_names(_EASY_TABLE),
    **_names(_INFO_TABLE),
    **_names(_MULTI_TABLE),
    **_names(_SHARE_TABLE),
    **_ERROR_CONSTANTS,
    **_OTHER_CONSTANTS,
}

# pycurl's module.c puts these on the module only (insint), not on Curl instances (insint_c).
_NOT_ON_CURL_PREFIXES = (
    "POLL_", "CSELECT_", "VERSION_", "CURL_VERSION_", "GLOBAL_", "LOCK_DATA_", "PIPE_", "M_",
    "UPART_", "U_", "COMPILE_", "E_MULTI_", "SH_",
)  # fmt: skip
_NOT_ON_CURL_NAMES = frozenset({"SOCKET_TIMEOUT", "E_CALL_MULTI_PERFORM"})

#: The constants readable as attributes of a `Curl` instance: options, infos, E_* and the rest.
CURL_CONSTANTS: dict[str, int] = {
    name: value
    for name, value in PUBLIC_CONSTANTS.items()
    if not name.startswith(_NOT_ON_CURL_PREFIXES) and name not in _NOT_ON_CURL_NAMES
}

#: The constants readable on a `CurlMulti` instance: M_*, E_MULTI_*, PIPE_*.
MULTI_CONSTANTS: dict[str, int] = {
    **_names(_MULTI_TABLE),
    **_module_ints(_consts, "M_NOTIFY_"),
    **_MULTI_ERRORS,
    **_module_ints(_consts, "PIPE_"),
}

#: The constants readable on a `CurlShare` instance: SH_*, LOCK_DATA_*.
SHARE_CONSTANTS: dict[str, int] = {
    **_names(_SHARE_TABLE),
    **_module_ints(_consts, "LOCK_DATA_"),
}
