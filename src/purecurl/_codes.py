"""CURLcode, CURLMcode and CURLSHcode numbers and their messages (libcurl 8.x).

Theory of operation: every failure a transfer can end with is one of these integers; the
numbers are fixed by libcurl (include/curl/curl.h, multi.h) and exported unchanged by the
pycurl-compatible face. The message of a code is the text libcurl's lib/strerror.c gives it
(`curl_easy_strerror` and friends), so `pycurl.error` args and `errstr()` read the same as
with libcurl. The old names pycurl still exports for renamed codes (`E_OPERATION_TIMEOUTED`,
`E_HTTP_NOT_FOUND`, ...) are aliases of the same numbers.
"""

from __future__ import annotations

# --- CURLcode, curl.h ---
E_OK = 0
E_UNSUPPORTED_PROTOCOL = 1
E_FAILED_INIT = 2
E_URL_MALFORMAT = 3
E_NOT_BUILT_IN = 4
E_COULDNT_RESOLVE_PROXY = 5
E_COULDNT_RESOLVE_HOST = 6
E_COULDNT_CONNECT = 7
E_WEIRD_SERVER_REPLY = 8
E_REMOTE_ACCESS_DENIED = 9
E_FTP_ACCEPT_FAILED = 10
E_FTP_WEIRD_PASS_REPLY = 11
E_FTP_ACCEPT_TIMEOUT = 12
E_FTP_WEIRD_PASV_REPLY = 13
E_FTP_WEIRD_227_FORMAT = 14
E_FTP_CANT_GET_HOST = 15
E_HTTP2 = 16
E_FTP_COULDNT_SET_TYPE = 17
E_PARTIAL_FILE = 18
E_FTP_COULDNT_RETR_FILE = 19
E_OBSOLETE20 = 20
E_QUOTE_ERROR = 21
E_HTTP_RETURNED_ERROR = 22
E_WRITE_ERROR = 23
E_OBSOLETE24 = 24
E_UPLOAD_FAILED = 25
E_READ_ERROR = 26
E_OUT_OF_MEMORY = 27
E_OPERATION_TIMEDOUT = 28
E_OBSOLETE29 = 29
E_FTP_PORT_FAILED = 30
E_FTP_COULDNT_USE_REST = 31
E_OBSOLETE32 = 32
E_RANGE_ERROR = 33
E_OBSOLETE34 = 34
E_SSL_CONNECT_ERROR = 35
E_BAD_DOWNLOAD_RESUME = 36
E_FILE_COULDNT_READ_FILE = 37
E_LDAP_CANNOT_BIND = 38
E_LDAP_SEARCH_FAILED = 39
E_OBSOLETE40 = 40
E_OBSOLETE41 = 41
E_ABORTED_BY_CALLBACK = 42
E_BAD_FUNCTION_ARGUMENT = 43
E_OBSOLETE44 = 44
E_INTERFACE_FAILED = 45
E_OBSOLETE46 = 46
E_TOO_MANY_REDIRECTS = 47
E_UNKNOWN_OPTION = 48
E_SETOPT_OPTION_SYNTAX = 49
E_OBSOLETE50 = 50
E_OBSOLETE51 = 51
E_GOT_NOTHING = 52
E_SSL_ENGINE_NOTFOUND = 53
E_SSL_ENGINE_SETFAILED = 54
E_SEND_ERROR = 55
E_RECV_ERROR = 56
E_OBSOLETE57 = 57
E_SSL_CERTPROBLEM = 58
E_SSL_CIPHER = 59
E_PEER_FAILED_VERIFICATION = 60
E_BAD_CONTENT_ENCODING = 61
E_OBSOLETE62 = 62
E_FILESIZE_EXCEEDED = 63
E_USE_SSL_FAILED = 64
E_SEND_FAIL_REWIND = 65
E_SSL_ENGINE_INITFAILED = 66
E_LOGIN_DENIED = 67
E_TFTP_NOTFOUND = 68
E_TFTP_PERM = 69
E_REMOTE_DISK_FULL = 70
E_TFTP_ILLEGAL = 71
E_TFTP_UNKNOWNID = 72
E_REMOTE_FILE_EXISTS = 73
E_TFTP_NOSUCHUSER = 74
E_OBSOLETE75 = 75
E_OBSOLETE76 = 76
E_SSL_CACERT_BADFILE = 77
E_REMOTE_FILE_NOT_FOUND = 78
E_SSH = 79
E_SSL_SHUTDOWN_FAILED = 80
E_AGAIN = 81
E_SSL_CRL_BADFILE = 82
E_SSL_ISSUER_ERROR = 83
E_FTP_PRET_FAILED = 84
E_RTSP_CSEQ_ERROR = 85
E_RTSP_SESSION_ERROR = 86
E_FTP_BAD_FILE_LIST = 87
E_CHUNK_FAILED = 88
E_NO_CONNECTION_AVAILABLE = 89
E_SSL_PINNEDPUBKEYNOTMATCH = 90
E_SSL_INVALIDCERTSTATUS = 91
E_HTTP2_STREAM = 92
E_RECURSIVE_API_CALL = 93
E_AUTH_ERROR = 94
E_HTTP3 = 95
E_QUIC_CONNECT_ERROR = 96
E_PROXY = 97
E_SSL_CLIENTCERT = 98
E_UNRECOVERABLE_POLL = 99
E_TOO_LARGE = 100
E_ECH_REQUIRED = 101

# Old names of renamed CURLcodes that pycurl still exports (curl.h "#ifndef
# CURL_NO_OLDIES" block and pycurl src/module.c).
E_URL_MALFORMAT_USER = 4
E_FTP_WEIRD_SERVER_REPLY = 8
E_FTP_ACCESS_DENIED = 9
E_FTP_USER_PASSWORD_INCORRECT = 10
E_FTP_WEIRD_USER_REPLY = 12
E_FTP_CANT_RECONNECT = 16
E_FTP_COULDNT_SET_BINARY = 17
E_FTP_PARTIAL_FILE = 18
E_FTP_WRITE_ERROR = 20
E_FTP_QUOTE_ERROR = 21
E_HTTP_NOT_FOUND = 22
E_MALFORMAT_USER = 24
E_FTP_COULDNT_STOR_FILE = 25
E_OPERATION_TIMEOUTED = 28
E_FTP_COULDNT_SET_ASCII = 29
E_FTP_COULDNT_GET_SIZE = 32
E_HTTP_RANGE_ERROR = 33
E_HTTP_POST_ERROR = 34
E_FTP_BAD_DOWNLOAD_RESUME = 36
E_LIBRARY_NOT_FOUND = 40
E_FUNCTION_NOT_FOUND = 41
E_BAD_CALLING_ORDER = 44
E_HTTP_PORT_FAILED = 45
E_BAD_PASSWORD_ENTERED = 46
E_UNKNOWN_TELNET_OPTION = 48
E_TELNET_OPTION_SYNTAX = 49
E_SHARE_IN_USE = 57
E_SSL_PEER_CERTIFICATE = 60
E_SSL_CACERT = 60
E_LDAP_INVALID_URL = 62
E_FTP_SSL_FAILED = 64
E_TFTP_DISKFULL = 70
E_TFTP_EXISTS = 73
E_CONV_FAILED = 75
E_CONV_REQD = 76
# curl.h CURLE_ALREADY_COMPLETE: "never used", kept for compatibility.
E_ALREADY_COMPLETE = 99999

# --- CURLMcode, multi.h ---
E_MULTI_CALL_MULTI_PERFORM = -1
E_MULTI_OK = 0
E_MULTI_BAD_HANDLE = 1
E_MULTI_BAD_EASY_HANDLE = 2
E_MULTI_OUT_OF_MEMORY = 3
E_MULTI_INTERNAL_ERROR = 4
E_MULTI_BAD_SOCKET = 5
E_MULTI_UNKNOWN_OPTION = 6
E_MULTI_ADDED_ALREADY = 7
E_MULTI_RECURSIVE_API_CALL = 8
E_MULTI_WAKEUP_FAILURE = 9
E_MULTI_BAD_FUNCTION_ARGUMENT = 10
E_MULTI_ABORTED_BY_CALLBACK = 11
E_MULTI_UNRECOVERABLE_POLL = 12
# Old names pycurl exports: CURLM_CALL_MULTI_SOCKET is CURLM_CALL_MULTI_PERFORM.
E_CALL_MULTI_PERFORM = -1
E_MULTI_CALL_MULTI_SOCKET = -1

# --- CURLSHcode, curl.h. pycurl exports none of these names; CurlShare raises them as
# `error(code, share_strerror(code))`. The C names are kept so they cannot be mistaken for
# exported constants.
CURLSHE_OK = 0
CURLSHE_BAD_OPTION = 1
CURLSHE_IN_USE = 2
CURLSHE_INVALID = 3
CURLSHE_NOMEM = 4
CURLSHE_NOT_BUILT_IN = 5


# --- Messages: lib/strerror.c of curl 8.x, curl_easy_strerror() and friends. A code without a
# text of its own (the CURLE_OBSOLETE* numbers, anything out of range) reads "Unknown error".
_EASY_MESSAGES: dict[int, str] = {
    0: "No error",
    1: "Unsupported protocol",
    2: "Failed initialization",
    3: "URL using bad/illegal format or missing URL",
    4: (
        "A requested feature, protocol or option was not found built-in in this libcurl"
        " due to a build-time decision."
    ),
    5: "Could not resolve proxy name",
    6: "Could not resolve hostname",
    7: "Could not connect to server",
    8: "Weird server reply",
    9: "Access denied to remote resource",
    10: "FTP: The server failed to connect to data port",
    11: "FTP: unknown PASS reply",
    12: "FTP: Accepting server connect has timed out",
    13: "FTP: unknown PASV reply",
    14: "FTP: unknown 227 response format",
    15: "FTP: cannot figure out the host in the PASV response",
    16: "Error in the HTTP2 framing layer",
    17: "FTP: could not set file type",
    18: "Transferred a partial file",
    19: "FTP: could not retrieve (RETR failed) the specified file",
    21: "Quote command returned error",
    22: "HTTP response code said error",
    23: "Failed writing received data to disk/application",
    25: "Upload failed (at start/before it took off)",
    26: "Failed to open/read local data from file/application",
    27: "Out of memory",
    28: "Timeout was reached",
    30: "FTP: command PORT failed",
    31: "FTP: command REST failed",
    33: "Requested range was not delivered by the server",
    35: "SSL connect error",
    36: "Could not resume download",
    37: "Could not read a file:// file",
    38: "LDAP: cannot bind",
    39: "LDAP: search failed",
    42: "Operation was aborted by an application callback",
    43: "A libcurl function was given a bad argument",
    45: "Failed binding local connection end",
    47: "Number of redirects hit maximum amount",
    48: "An unknown option was passed in to libcurl",
    49: "Malformed option provided in a setopt",
    52: "Server returned nothing (no headers, no data)",
    53: "SSL crypto engine not found",
    54: "Can not set SSL crypto engine as default",
    55: "Failed sending data to the peer",
    56: "Failure when receiving data from the peer",
    58: "Problem with the local SSL certificate",
    59: "Could not use specified SSL cipher",
    60: "SSL peer certificate or SSH remote key was not OK",
    61: "Unrecognized or bad HTTP Content or Transfer-Encoding",
    63: "Maximum file size exceeded",
    64: "Requested SSL level failed",
    65: "Send failed since rewinding of the data stream failed",
    66: "Failed to initialize SSL crypto engine",
    67: "Login denied",
    68: "TFTP: File Not Found",
    69: "TFTP: Access Violation",
    70: "Disk full or allocation exceeded",
    71: "TFTP: Illegal operation",
    72: "TFTP: Unknown transfer ID",
    73: "Remote file already exists",
    74: "TFTP: No such user",
    77: "Problem with the SSL CA cert (path? access rights?)",
    78: "Remote file not found",
    79: "Error in the SSH layer",
    80: "Failed to shut down the SSL connection",
    81: "Socket not ready for send/recv",
    82: "Failed to load CRL file (path? access rights?, format?)",
    83: "Issuer check against peer certificate failed",
    84: "FTP: The server did not accept the PRET command.",
    85: "RTSP CSeq mismatch or invalid CSeq",
    86: "RTSP session error",
    87: "Unable to parse FTP file list",
    88: "Chunk callback failed",
    89: "The max connection limit is reached",
    90: "SSL public key does not match pinned public key",
    91: "SSL server certificate status verification FAILED",
    92: "Stream error in the HTTP/2 framing layer",
    93: "API function called from within callback",
    94: "An authentication function returned an error",
    95: "HTTP/3 error",
    96: "QUIC connection error",
    97: "proxy handshake error",
    98: "SSL Client Certificate required",
    99: "Unrecoverable error in select/poll",
    100: "A value or data field grew larger than allowed",
    101: "ECH attempted but failed",
}

_MULTI_MESSAGES: dict[int, str] = {
    -1: "Please call curl_multi_perform() soon",
    0: "No error",
    1: "Invalid multi handle",
    2: "Invalid easy handle",
    3: "Out of memory",
    4: "Internal error",
    5: "Invalid socket argument",
    6: "Unknown option",
    7: "The easy handle is already added to a multi handle",
    8: "API function called from within callback",
    9: "Wakeup is unavailable or failed",
    10: "A libcurl function was given a bad argument",
    11: "Operation was aborted by an application callback",
    12: "Unrecoverable error in select/poll",
}

_SHARE_MESSAGES: dict[int, str] = {
    0: "No error",
    1: "Unknown share option",
    2: "Share currently in use",
    3: "Invalid share handle",
    4: "Out of memory",
    5: "Feature not enabled in this library",
}

# CURLUcode texts (curl_url_strerror), for CurlUrl.
_URL_MESSAGES: dict[int, str] = {
    0: "No error",
    1: "An invalid CURLU pointer was passed as argument",
    2: "An invalid 'part' argument was passed as argument",
    3: "Malformed input to a URL function",
    4: "Port number was not a decimal number between 0 and 65535",
    5: "Unsupported URL scheme",
    6: "URL decode error, most likely because of rubbish in the input",
    7: "A memory function failed",
    8: "Credentials was passed in the URL when prohibited",
    9: "An unknown part ID was passed to a URL API function",
    10: "No scheme present",
    11: "No user present",
    12: "No password present",
    13: "No options present",
    14: "No host present",
    15: "No port number present",
    16: "No query present",
    17: "No fragment present",
    18: "No zoneid present",
    19: "Bad file:// URL",
    20: "Bad fragment",
    21: "Bad hostname",
    22: "Bad IPv6 address",
    23: "Bad login",
    24: "Bad password",
    25: "Bad path",
    26: "Bad query",
    27: "Bad scheme",
    28: "Unsupported number of slashes following scheme",
    29: "Bad user",
    30: "libcurl lacks IDN support",
    31: "A value or data field is larger than allowed",
    32: "Found a backslash where a forward slash was expected",
}


def easy_strerror(code: int) -> str:
    """Return libcurl's text for CURLcode `code` ("Unknown error" for a number without one)."""
    return _EASY_MESSAGES.get(code, "Unknown error")


def multi_strerror(code: int) -> str:
    """Return libcurl's text for CURLMcode `code` ("Unknown error" for a number without one)."""
    return _MULTI_MESSAGES.get(code, "Unknown error")


def share_strerror(code: int) -> str:
    """Return libcurl's text for CURLSHcode `code` ("CURLSHcode unknown" out of range)."""
    return _SHARE_MESSAGES.get(code, "CURLSHcode unknown")


def url_strerror(code: int) -> str:
    """Return libcurl's text for CURLUcode `code` ("CURLUcode unknown" out of range)."""
    return _URL_MESSAGES.get(code, "CURLUcode unknown")
