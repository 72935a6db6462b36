"""The integer constants pycurl exports that are neither options, infos nor error codes.

Theory of operation: these are the values callbacks return or receive, the bits of bitmask
options, and the enumerations options take. Every number is libcurl's (include/curl/curl.h,
multi.h, urlapi.h, websockets.h of curl 8.x); every name is the one pycurl exports (its
src/module.c drops the `CURL`/`CURLOPT_`-style prefix of the C name). Nothing here is computed
at run time except `COMPILE_PY_VERSION_HEX`, which describes the running interpreter.

Which of these are readable on `Curl`, `CurlMulti` and `CurlShare` instances is decided in
`purecurl._options` (see `CURL_CONSTANTS` there).
"""

from __future__ import annotations

import sys

# --- The socket callback (CURLMOPT_SOCKETFUNCTION) `what` values, multi.h CURL_POLL_* -----------
POLL_NONE = 0
POLL_IN = 1
POLL_OUT = 2
POLL_INOUT = 3
POLL_REMOVE = 4

# --- socket_action event bits, multi.h CURL_CSELECT_* ---------------------------------------------
CSELECT_IN = 0x01
CSELECT_OUT = 0x02
CSELECT_ERR = 0x04

# multi.h: CURL_SOCKET_TIMEOUT is CURL_SOCKET_BAD, the "fd" given to socket_action on a timeout.
SOCKET_TIMEOUT = -1
# curl.h CURL_SOCKET_BAD: what OPENSOCKETFUNCTION returns to refuse a socket.
SOCKET_BAD = -1

# --- Magic callback return values, curl.h ---------------------------------------------------------
WRITEFUNC_PAUSE = 0x10000001  # CURL_WRITEFUNC_PAUSE
READFUNC_ABORT = 0x10000000  # CURL_READFUNC_ABORT
READFUNC_PAUSE = 0x10000001  # CURL_READFUNC_PAUSE

# --- curl_easy_pause() bitmask, curl.h CURLPAUSE_* ------------------------------------------------
PAUSE_RECV = 1 << 0
PAUSE_SEND = 1 << 2
PAUSE_ALL = PAUSE_RECV | PAUSE_SEND
PAUSE_CONT = 0

# --- SEEKFUNCTION return values, curl.h CURL_SEEKFUNC_* -------------------------------------------
SEEKFUNC_OK = 0
SEEKFUNC_FAIL = 1
SEEKFUNC_CANTSEEK = 2

# --- IOCTLFUNCTION commands and results, curl.h curliocmd / curlioerr -----------------------------
IOCMD_NOP = 0
IOCMD_RESTARTREAD = 1
IOE_OK = 0
IOE_UNKNOWNCMD = 1
IOE_FAILRESTART = 2

# --- SOCKOPTFUNCTION: purpose argument (curlsocktype) and return values (CURL_SOCKOPT_*) --------
SOCKTYPE_IPCXN = 0
SOCKTYPE_ACCEPT = 1
SOCKOPT_OK = 0
SOCKOPT_ERROR = 1
SOCKOPT_ALREADY_CONNECTED = 2

# --- Return values of PREREQFUNCTION, TRAILERFUNCTION, FNMATCH_FUNCTION ---------------------------
PREREQFUNC_OK = 0
PREREQFUNC_ABORT = 1
TRAILERFUNC_OK = 0
TRAILERFUNC_ABORT = 1
FNMATCHFUNC_MATCH = 0
FNMATCHFUNC_NOMATCH = 1
FNMATCHFUNC_FAIL = 2

# --- SSH_KEYFUNCTION: match (curl_khmatch), answer (curl_khstat), key type (curl_khtype) ---------
KHMATCH_OK = 0
KHMATCH_MISMATCH = 1
KHMATCH_MISSING = 2
KHSTAT_FINE_ADD_TO_FILE = 0
KHSTAT_FINE = 1
KHSTAT_REJECT = 2
KHSTAT_DEFER = 3
KHSTAT_FINE_REPLACE = 4
KHTYPE_UNKNOWN = 0
KHTYPE_RSA1 = 1
KHTYPE_RSA = 2
KHTYPE_DSS = 3
KHTYPE_ECDSA = 4
KHTYPE_ED25519 = 5

# --- HSTS callbacks (CURLSTScode) and HSTS_CTRL bits (CURLHSTS_*); pycurl keeps the prefixes ----
CURLSTS_OK = 0
CURLSTS_DONE = 1
CURLSTS_FAIL = 2
CURLHSTS_ENABLE = 1 << 0
CURLHSTS_READONLYFILE = 1 << 1

# --- DEBUGFUNCTION infotype, curl.h curl_infotype CURLINFO_TEXT.. -------------------------------
INFOTYPE_TEXT = 0
INFOTYPE_HEADER_IN = 1
INFOTYPE_HEADER_OUT = 2
INFOTYPE_DATA_IN = 3
INFOTYPE_DATA_OUT = 4
INFOTYPE_SSL_DATA_IN = 5
INFOTYPE_SSL_DATA_OUT = 6

# --- HTTPAUTH / PROXYAUTH bits, curl.h CURLAUTH_* (unsigned long; pycurl exports them unsigned) -
HTTPAUTH_NONE = 0
HTTPAUTH_BASIC = 1 << 0
HTTPAUTH_DIGEST = 1 << 1
HTTPAUTH_NEGOTIATE = 1 << 2
HTTPAUTH_GSSNEGOTIATE = HTTPAUTH_NEGOTIATE  # the pre-7.38 name
HTTPAUTH_NTLM = 1 << 3
HTTPAUTH_DIGEST_IE = 1 << 4
HTTPAUTH_NTLM_WB = 1 << 5  # removed from libcurl in 8.8; the bit keeps its number
HTTPAUTH_ONLY = 1 << 31
# The values pycurl 7.49 exports with libcurl 8.23: every bit but DIGEST_IE and bit 8 (and, for
# ANYSAFE, BASIC), as a 32-bit unsigned number.
HTTPAUTH_ANY = 0xFFFFFEEF
HTTPAUTH_ANYSAFE = HTTPAUTH_ANY & ~HTTPAUTH_BASIC

# --- GSSAPI_DELEGATION values, curl.h CURLGSSAPI_DELEGATION_* -------------------------------------
GSSAPI_DELEGATION_NONE = 0
GSSAPI_DELEGATION_POLICY_FLAG = 1 << 0
GSSAPI_DELEGATION_FLAG = 1 << 1

# --- SSH_AUTH_TYPES bits, curl.h CURLSSH_AUTH_* ---------------------------------------------------
SSH_AUTH_ANY = 0xFFFFFFFF  # ~0 as pycurl exports it
SSH_AUTH_NONE = 0
SSH_AUTH_PUBLICKEY = 1 << 0
SSH_AUTH_PASSWORD = 1 << 1
SSH_AUTH_HOST = 1 << 2
SSH_AUTH_KEYBOARD = 1 << 3
SSH_AUTH_AGENT = 1 << 4
SSH_AUTH_GSSAPI = 1 << 5
SSH_AUTH_DEFAULT = SSH_AUTH_ANY

# --- PROXYTYPE values, curl.h curl_proxytype (pycurl does not export CURLPROXY_HTTPS/HTTPS2) ----
PROXYTYPE_HTTP = 0
PROXYTYPE_HTTP_1_0 = 1
PROXYTYPE_SOCKS4 = 4
PROXYTYPE_SOCKS5 = 5
PROXYTYPE_SOCKS4A = 6
PROXYTYPE_SOCKS5_HOSTNAME = 7

# --- HTTP_VERSION values, curl.h CURL_HTTP_VERSION_* (pycurl keeps the prefix) -----------------
CURL_HTTP_VERSION_NONE = 0
CURL_HTTP_VERSION_1_0 = 1
CURL_HTTP_VERSION_1_1 = 2
CURL_HTTP_VERSION_2_0 = 3
CURL_HTTP_VERSION_2 = CURL_HTTP_VERSION_2_0
CURL_HTTP_VERSION_2TLS = 4
CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE = 5
CURL_HTTP_VERSION_3 = 30
CURL_HTTP_VERSION_3ONLY = 31
CURL_HTTP_VERSION_LAST = 32

# --- IPRESOLVE values, curl.h CURL_IPRESOLVE_* ----------------------------------------------------
IPRESOLVE_WHATEVER = 0
IPRESOLVE_V4 = 1
IPRESOLVE_V6 = 2

# --- SSLVERSION: minimum in the low 16 bits, maximum in the high 16 bits, curl.h CURL_SSLVERSION_*
SSLVERSION_DEFAULT = 0
SSLVERSION_TLSv1 = 1  # pycurl's spelling keeps the lower-case v
SSLVERSION_SSLv2 = 2
SSLVERSION_SSLv3 = 3
SSLVERSION_TLSv1_0 = 4
SSLVERSION_TLSv1_1 = 5
SSLVERSION_TLSv1_2 = 6
SSLVERSION_TLSv1_3 = 7
SSLVERSION_MAX_DEFAULT = SSLVERSION_TLSv1 << 16
SSLVERSION_MAX_TLSv1_0 = SSLVERSION_TLSv1_0 << 16
SSLVERSION_MAX_TLSv1_1 = SSLVERSION_TLSv1_1 << 16
SSLVERSION_MAX_TLSv1_2 = SSLVERSION_TLSv1_2 << 16
SSLVERSION_MAX_TLSv1_3 = SSLVERSION_TLSv1_3 << 16

# --- SSL_OPTIONS / PROXY_SSL_OPTIONS bits, curl.h CURLSSLOPT_* ------------------------------------
SSLOPT_ALLOW_BEAST = 1 << 0
SSLOPT_NO_REVOKE = 1 << 1
SSLOPT_NO_PARTIALCHAIN = 1 << 2
SSLOPT_REVOKE_BEST_EFFORT = 1 << 3
SSLOPT_NATIVE_CA = 1 << 4
SSLOPT_AUTO_CLIENT_CERT = 1 << 5
SSLOPT_EARLYDATA = 1 << 6

# --- NETRC values, curl.h enum CURL_NETRC_OPTION --------------------------------------------------
NETRC_IGNORED = 0
NETRC_OPTIONAL = 1
NETRC_REQUIRED = 2

# --- USE_SSL values, curl.h curl_usessl (and the FTPSSL_* names of the older CURLFTPSSL_*) -------
USESSL_NONE = 0
USESSL_TRY = 1
USESSL_CONTROL = 2
USESSL_ALL = 3
FTPSSL_NONE = USESSL_NONE
FTPSSL_TRY = USESSL_TRY
FTPSSL_CONTROL = USESSL_CONTROL
FTPSSL_ALL = USESSL_ALL

# --- FTPSSLAUTH (curl_ftpauth) and FTP_FILEMETHOD (curl_ftpmethod) values -----------------------
FTPAUTH_DEFAULT = 0
FTPAUTH_SSL = 1
FTPAUTH_TLS = 2
FTPMETHOD_DEFAULT = 0
FTPMETHOD_MULTICWD = 1
FTPMETHOD_NOCWD = 2
FTPMETHOD_SINGLECWD = 3

# --- TIMECONDITION values, curl.h curl_TimeCond ---------------------------------------------------
TIMECONDITION_NONE = 0
TIMECONDITION_IFMODSINCE = 1
TIMECONDITION_IFUNMODSINCE = 2
TIMECONDITION_LASTMOD = 3

# --- OPT_RTSP_REQUEST values, curl.h CURL_RTSPREQ_* ----------------------------------------------
RTSPREQ_NONE = 0
RTSPREQ_OPTIONS = 1
RTSPREQ_DESCRIBE = 2
RTSPREQ_ANNOUNCE = 3
RTSPREQ_SETUP = 4
RTSPREQ_PLAY = 5
RTSPREQ_PAUSE = 6
RTSPREQ_TEARDOWN = 7
RTSPREQ_GET_PARAMETER = 8
RTSPREQ_SET_PARAMETER = 9
RTSPREQ_RECORD = 10
RTSPREQ_RECEIVE = 11
RTSPREQ_LAST = 12

# --- POSTREDIR bits, curl.h CURL_REDIR_POST_* ----------------------------------------------------
REDIR_POST_301 = 1
REDIR_POST_302 = 2
REDIR_POST_303 = 4
REDIR_POST_ALL = REDIR_POST_301 | REDIR_POST_302 | REDIR_POST_303

# --- PROTOCOLS / REDIR_PROTOCOLS bits, curl.h CURLPROTO_* ----------------------------------------
PROTO_HTTP = 1 << 0
PROTO_HTTPS = 1 << 1
PROTO_FTP = 1 << 2
PROTO_FTPS = 1 << 3
PROTO_SCP = 1 << 4
PROTO_SFTP = 1 << 5
PROTO_TELNET = 1 << 6
PROTO_LDAP = 1 << 7
PROTO_LDAPS = 1 << 8
PROTO_DICT = 1 << 9
PROTO_FILE = 1 << 10
PROTO_TFTP = 1 << 11
PROTO_IMAP = 1 << 12
PROTO_IMAPS = 1 << 13
PROTO_POP3 = 1 << 14
PROTO_POP3S = 1 << 15
PROTO_SMTP = 1 << 16
PROTO_SMTPS = 1 << 17
PROTO_RTSP = 1 << 18
PROTO_RTMP = 1 << 19
PROTO_RTMPT = 1 << 20
PROTO_RTMPE = 1 << 21
PROTO_RTMPTE = 1 << 22
PROTO_RTMPS = 1 << 23
PROTO_RTMPTS = 1 << 24
PROTO_GOPHER = 1 << 25
PROTO_SMB = 1 << 26
PROTO_SMBS = 1 << 27
PROTO_ALL = 0xFFFFFFFF  # ~0 as pycurl exports it

# --- HEADEROPT values, curl.h CURLHEADER_* -------------------------------------------------------
HEADER_UNIFIED = 0
HEADER_SEPARATE = 1 << 0

# --- HTTPPOST tuple options, curl.h CURLformoption (the subset pycurl accepts) ------------------
FORM_CONTENTS = 4  # CURLFORM_COPYCONTENTS
FORM_FILE = 10
FORM_BUFFER = 11
FORM_BUFFERPTR = 12
FORM_CONTENTTYPE = 14
FORM_FILENAME = 16

# --- WebSocket frame flags (websockets.h CURLWS_*) and WS_OPTIONS bits --------------------------
WS_TEXT = 1 << 0
WS_BINARY = 1 << 1
WS_CONT = 1 << 2
WS_CLOSE = 1 << 3
WS_PING = 1 << 4
WS_OFFSET = 1 << 5
WS_PONG = 1 << 6
WS_RAW_MODE = 1 << 0
WS_NOAUTOPONG = 1 << 1

# --- version_info() feature bits, curl.h CURL_VERSION_* ------------------------------------------
VERSION_IPV6 = 1 << 0
VERSION_KERBEROS4 = 1 << 1
VERSION_SSL = 1 << 2
VERSION_LIBZ = 1 << 3
VERSION_NTLM = 1 << 4
VERSION_GSSNEGOTIATE = 1 << 5
VERSION_DEBUG = 1 << 6
VERSION_ASYNCHDNS = 1 << 7
VERSION_SPNEGO = 1 << 8
VERSION_LARGEFILE = 1 << 9
VERSION_IDN = 1 << 10
VERSION_SSPI = 1 << 11
VERSION_CONV = 1 << 12
VERSION_CURLDEBUG = 1 << 13
VERSION_TLSAUTH_SRP = 1 << 14
VERSION_NTLM_WB = 1 << 15
VERSION_HTTP2 = 1 << 16
VERSION_GSSAPI = 1 << 17
VERSION_KERBEROS5 = 1 << 18
VERSION_UNIX_SOCKETS = 1 << 19
VERSION_PSL = 1 << 20
VERSION_HTTPS_PROXY = 1 << 21
VERSION_MULTI_SSL = 1 << 22
VERSION_BROTLI = 1 << 23
VERSION_ALTSVC = 1 << 24
VERSION_HTTP3 = 1 << 25
VERSION_ZSTD = 1 << 26
VERSION_UNICODE = 1 << 27
VERSION_HSTS = 1 << 28
VERSION_GSASL = 1 << 29
# pycurl also exports the newer bits under their C names.
CURL_VERSION_HTTPS_PROXY = VERSION_HTTPS_PROXY
CURL_VERSION_MULTI_SSL = VERSION_MULTI_SSL
CURL_VERSION_BROTLI = VERSION_BROTLI
CURL_VERSION_ALTSVC = VERSION_ALTSVC
CURL_VERSION_HTTP3 = VERSION_HTTP3
CURL_VERSION_ZSTD = VERSION_ZSTD
CURL_VERSION_UNICODE = VERSION_UNICODE
CURL_VERSION_HSTS = VERSION_HSTS
CURL_VERSION_GSASL = VERSION_GSASL

# --- global_init() flags, curl.h CURL_GLOBAL_* ---------------------------------------------------
GLOBAL_NOTHING = 0
GLOBAL_SSL = 1 << 0
GLOBAL_WIN32 = 1 << 1
GLOBAL_ALL = GLOBAL_SSL | GLOBAL_WIN32
GLOBAL_DEFAULT = GLOBAL_ALL
GLOBAL_ACK_EINTR = 1 << 2

# --- CurlShare SH_SHARE / SH_UNSHARE values, curl.h curl_lock_data ------------------------------
LOCK_DATA_COOKIE = 2
LOCK_DATA_DNS = 3
LOCK_DATA_SSL_SESSION = 4
LOCK_DATA_CONNECT = 5
LOCK_DATA_PSL = 6
LOCK_DATA_HSTS = 7

# --- M_PIPELINING bits, multi.h CURLPIPE_* -------------------------------------------------------
PIPE_NOTHING = 0
PIPE_HTTP1 = 1
PIPE_MULTIPLEX = 2

# --- M_NOTIFYFUNCTION notification types, multi.h CURLMNOTIFY_* ----------------------------------
M_NOTIFY_INFO_READ = 0
M_NOTIFY_EASY_DONE = 1

# --- CurlUrl parts (urlapi.h CURLUPart) and flags (CURLU_*) --------------------------------------
UPART_URL = 0
UPART_SCHEME = 1
UPART_USER = 2
UPART_PASSWORD = 3
UPART_OPTIONS = 4
UPART_HOST = 5
UPART_PORT = 6
UPART_PATH = 7
UPART_QUERY = 8
UPART_FRAGMENT = 9
UPART_ZONEID = 10
U_DEFAULT_PORT = 1 << 0
U_NO_DEFAULT_PORT = 1 << 1
U_DEFAULT_SCHEME = 1 << 2
U_NON_SUPPORT_SCHEME = 1 << 3
U_PATH_AS_IS = 1 << 4
U_DISALLOW_USER = 1 << 5
U_URLDECODE = 1 << 6
U_URLENCODE = 1 << 7
U_APPENDQUERY = 1 << 8
U_GUESS_SCHEME = 1 << 9
U_NO_AUTHORITY = 1 << 10
U_ALLOW_SPACE = 1 << 11
U_PUNYCODE = 1 << 12
U_PUNY2IDN = 1 << 13
U_GET_EMPTY = 1 << 14
U_NO_GUESS_SCHEME = 1 << 15

# --- Build description ----------------------------------------------------------------------------
# The libcurl release whose behaviour these tables reproduce (8.23.0, as LIBCURL_VERSION_NUM
# encodes it: 0xXXYYZZ). pycurl reports the libcurl it was compiled against here.
COMPILE_LIBCURL_VERSION_NUM = 0x081700
COMPILE_PY_VERSION_HEX = sys.hexversion
