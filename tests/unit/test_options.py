"""setopt validation: pycurl's type dispatch and messages, libcurl's refusals, normalisation."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from purecurl import _consts as K
from purecurl._errors import error
from purecurl._options import (
    EASY_OPTIONS,
    PUBLIC_CONSTANTS,
    Kind,
    check_easy_unset,
    check_easy_value,
    check_multi_value,
    check_share_value,
    info_for,
    register_class,
)

P = PUBLIC_CONSTANTS
NOT_INT = "integers are not supported for this option"
NOT_STR = "strings are not supported for this option"
NOT_LIST = "lists are not supported for this option"
NOT_FUNC = "functions are not supported for this option"
INVALID = "invalid arguments to setopt"
NO_UNSET = "unsetopt() is not supported for this option"
NOT_BUILT = (
    "A requested feature, protocol or option was not found built-in in this libcurl due to a "
    "build-time decision."
)
LIST_ITEM = "list items must be byte strings or Unicode strings with ASCII code points only"


class Sink:
    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data

    def read(self, size: int) -> bytes:
        return b""


class CallableSink(Sink):
    def __call__(self) -> None:
        pass


class NotAMethod:
    write = 5


def raises(
    exc: type[BaseException], args: tuple[object, ...], check: Callable[[int, object], object]
) -> Callable[[int, object], None]:
    def run(number: int, value: object) -> None:
        with pytest.raises(exc) as info:
            check(number, value)
        assert info.value.args == args

    return run


# (option, value, exception type, exception args) for the rejections of Curl.setopt.
REJECTIONS: list[tuple[str, object, type[BaseException], tuple[object, ...]]] = [
    ("URL", 1, TypeError, (NOT_INT,)),
    ("URL", True, TypeError, (NOT_INT,)),
    ("URL", ["a"], TypeError, (NOT_LIST,)),
    ("URL", len, TypeError, (NOT_FUNC,)),
    ("URL", 1.5, TypeError, (INVALID,)),
    ("URL", bytearray(b"x"), TypeError, (INVALID,)),
    ("URL", object(), TypeError, (INVALID,)),
    ("URL", None, TypeError, (NO_UNSET,)),
    ("URL", "a\0b", ValueError, ("embedded null byte",)),
    ("URL", b"a\0b", ValueError, ("embedded null byte",)),
    ("COPYPOSTFIELDS", b"a\0b", ValueError, ("embedded null byte",)),
    ("VERBOSE", "1", TypeError, (NOT_STR,)),
    ("VERBOSE", [1], TypeError, (NOT_LIST,)),
    ("VERBOSE", len, TypeError, (NOT_FUNC,)),
    ("VERBOSE", 1.0, TypeError, (INVALID,)),
    ("VERBOSE", None, TypeError, (NO_UNSET,)),
    ("VERBOSE", 2**63, OverflowError, ("Python int too large to convert to C long",)),
    ("VERBOSE", -(2**63) - 1, OverflowError, ("Python int too large to convert to C long",)),
    ("POSTFIELDSIZE", 2**63, OverflowError, ("int too big to convert",)),
    ("HTTPHEADER", "a: b", TypeError, (NOT_STR,)),
    ("HTTPHEADER", 1, TypeError, (NOT_INT,)),
    ("HTTPHEADER", [1], TypeError, (LIST_ITEM,)),
    ("HTTPHEADER", ["a", None], TypeError, (LIST_ITEM,)),
    ("HTTPHEADER", [bytearray(b"a")], TypeError, (LIST_ITEM,)),
    ("HTTPHEADER", ["a\0"], ValueError, ("embedded null byte",)),
    ("HTTPHEADER", iter(["a"]), TypeError, (INVALID,)),
    ("WRITEFUNCTION", 1, TypeError, (NOT_INT,)),
    ("WRITEFUNCTION", "x", TypeError, (NOT_STR,)),
    ("WRITEFUNCTION", Sink(), TypeError, (INVALID,)),
    ("WRITEDATA", object(), TypeError, ("object given without a write method",)),
    ("WRITEDATA", 1.5, TypeError, ("object given without a write method",)),
    ("WRITEHEADER", object(), TypeError, ("object given without a write method",)),
    ("READDATA", object(), TypeError, ("object given without a read method",)),
    ("WRITEDATA", 1, TypeError, (NOT_INT,)),
    ("WRITEDATA", None, TypeError, (NO_UNSET,)),
    # A callable object is a function first: pycurl never looks at its write method.
    ("WRITEDATA", CallableSink(), TypeError, (NOT_FUNC,)),
    # pycurl re-dispatches obj.write as the WRITEFUNCTION value.
    ("WRITEDATA", NotAMethod(), TypeError, (NOT_INT,)),
    ("STDERR", io.StringIO(), TypeError, (INVALID,)),
    ("STDERR", "x", TypeError, (NOT_STR,)),
    ("FTP_ACCOUNT", "x", TypeError, (NOT_STR,)),
    ("SHARE", 1, TypeError, (NOT_INT,)),
    ("SHARE", "x", TypeError, (NOT_STR,)),
    ("SSLCERT_BLOB", 1, TypeError, (
        "blob option value must be a byte string, ASCII-only Unicode string, or a buffer object",
    )),
    ("SSLCERT_BLOB", ["x"], TypeError, (
        "blob option value must be a byte string, ASCII-only Unicode string, or a buffer object",
    )),
    # libcurl's refusals: CURLE_BAD_FUNCTION_ARGUMENT with lib/setopt.c's message.
    ("TIMEOUT", -1, error, (43, "setopt 0xd got bad argument")),
    ("TIMEOUT_MS", -1, error, (43, "setopt 0x9b got bad argument")),
    ("CONNECTTIMEOUT", -5, error, (43, "setopt 0x4e got bad argument")),
    ("MAXREDIRS", -2, error, (43, "setopt 0x44 got bad argument")),
    ("PORT", 65536, error, (43, "setopt 0x3 got bad argument")),
    ("PORT", -1, error, (43, "setopt 0x3 got bad argument")),
    ("FOLLOWLOCATION", 4, error, (43, "setopt 0x34 got bad argument")),
    ("NETRC", 3, error, (43, "setopt 0x33 got bad argument")),
    ("IPRESOLVE", 3, error, (43, "setopt 0x71 got bad argument")),
    ("NEW_FILE_PERMS", 0o1000, error, (43, "setopt 0x9f got bad argument")),
    ("POSTFIELDSIZE", -2, error, (43, "setopt 0x75a8 got bad argument")),
    ("MAXFILESIZE", -1, error, (43, "setopt 0x75a5 got bad argument")),
    ("SSLVERSION", K.SSLVERSION_SSLv3, error, (43, "setopt 0x20 got bad argument")),
    ("SSLVERSION", 8, error, (43, "setopt 0x20 got bad argument")),
    ("SSLVERSION", 8 << 16, error, (43, "setopt 0x20 got bad argument")),
    ("PROXYTYPE", 9, error, (43, "setopt 0x65 got bad argument")),
    ("OPT_RTSP_REQUEST", 0, error, (43, "setopt 0xbd got bad argument")),
    ("HTTP_VERSION", -1, error, (43, "setopt 0x54 got bad argument")),
    ("HTTP_VERSION", 99, error, (1, "Unsupported protocol")),
    ("HTTP_VERSION", K.CURL_HTTP_VERSION_3, error, (1, "Unsupported protocol")),
    # Not built in (as libcurl without NTLM, SPNEGO, TLS-SRP, Kerberos FTP, ...).
    ("HTTPAUTH", K.HTTPAUTH_NTLM, error, (4, NOT_BUILT)),
    ("PROXYAUTH", K.HTTPAUTH_NEGOTIATE, error, (4, NOT_BUILT)),
    ("HTTPAUTH", K.HTTPAUTH_ONLY, error, (4, NOT_BUILT)),
    ("SSL_FALSESTART", 1, error, (4, NOT_BUILT)),
    ("ECH", "true", error, (4, NOT_BUILT)),
    ("DNS_SERVERS", "1.1.1.1", error, (48, "An unknown option was passed in to libcurl")),
    ("SSLENGINE", "x", error, (53, "SSL crypto engine not found")),
]  # fmt: skip


@pytest.mark.parametrize(("name", "value", "exc", "args"), REJECTIONS)
def test_setopt_rejects(
    name: str, value: object, exc: type[BaseException], args: tuple[object, ...]
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(exc) as info:
            check_easy_value(P[name], value)
    assert type(info.value) is exc
    assert info.value.args == args


def test_a_non_ascii_str_raises_unicode_encode_error() -> None:
    for name, value in (("URL", "http://é/"), ("HTTPHEADER", ["é"]), ("POSTFIELDS", "é")):
        with pytest.raises(UnicodeEncodeError) as info:
            check_easy_value(P[name], value)
        assert info.value.args[0] == "ascii"


@pytest.mark.parametrize(
    ("number", "value", "exc", "args"),
    [
        (0, 1, TypeError, (INVALID,)),
        (-1, 1, TypeError, (INVALID,)),
        (333, 1, TypeError, (INVALID,)),  # past pycurl's OPTIONS_SIZE
        (10999, "x", TypeError, (INVALID,)),
        (30333, 1, TypeError, (INVALID,)),
        (40333, b"x", TypeError, (INVALID,)),
        (50000, 1, TypeError, (INVALID,)),
        (330, 1, error, (48, "An unknown option was passed in to libcurl")),
        (40000, b"x", error, (48, "An unknown option was passed in to libcurl")),
        (330, "x", TypeError, (NOT_STR,)),
        (20330, len, TypeError, (NOT_FUNC,)),
        (10330, None, TypeError, (NO_UNSET,)),
        (2**31, 1, OverflowError, ("signed integer is greater than maximum",)),
        (-(2**31) - 1, 1, OverflowError, ("signed integer is less than minimum",)),
        ("x", 1, TypeError, ("'str' object cannot be interpreted as an integer",)),
        (1.0, 1, TypeError, ("'float' object cannot be interpreted as an integer",)),
    ],
)
def test_setopt_unknown_numbers(
    number: Any, value: object, exc: type[BaseException], args: tuple[object, ...]
) -> None:
    with pytest.raises(exc) as info:
        check_easy_value(number, value)
    assert info.value.args == args


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("URL", "http://x/", "http://x/"),
        ("URL", b"http://\xff/", "http://\xff/"),  # bytes pass through, decoded as latin-1
        ("POSTFIELDS", "a=b", b"a=b"),
        ("POSTFIELDS", b"a\0b", b"a\0b"),  # libcurl is given the length
        ("COPYPOSTFIELDS", "a=b", b"a=b"),
        ("HTTPHEADER", ["A: 1", b"B: 2"], [b"A: 1", b"B: 2"]),
        ("HTTPHEADER", ("A: 1",), [b"A: 1"]),
        ("HTTPHEADER", [], []),
        ("HTTPHEADER", None, None),
        ("VERBOSE", 5, 1),  # a boolean: "treated as 1"
        ("VERBOSE", True, 1),
        ("VERBOSE", 0, 0),
        ("SSL_VERIFYHOST", 1, 2),
        ("SSL_VERIFYHOST", 0, 0),
        ("TIMEOUT", 0, 0),
        ("MAXREDIRS", -1, -1),
        ("POSTFIELDSIZE", 2**40, 2**40),
        ("RESUME_FROM", -1, -1),
        ("PORT", 65535, 65535),
        ("HTTP_VERSION", K.CURL_HTTP_VERSION_2TLS, 4),
        ("SSLVERSION", K.SSLVERSION_TLSv1_2 | K.SSLVERSION_MAX_TLSv1_3, 0x70006),
        ("HTTPAUTH", K.HTTPAUTH_ANY, K.HTTPAUTH_ANY & ~(K.HTTPAUTH_NTLM | K.HTTPAUTH_NEGOTIATE)),
        ("HTTPAUTH", K.HTTPAUTH_NONE, 0),
        ("WILDCARDMATCH", "x", 1),  # pycurl passes the pointer where a long belongs
        ("SSLCERT_BLOB", "x", b"x"),
        ("SSLCERT_BLOB", bytearray(b"x\0"), b"x\0"),
        ("SSLCERT_BLOB", memoryview(b"y"), b"y"),
        ("SSLCERT_BLOB", None, None),
        ("OPT_CERTINFO", None, None),
        ("PROXY", None, None),
        ("WRITEFUNCTION", None, None),
    ],
)
def test_setopt_normalises(name: str, value: object, expected: object) -> None:
    result = check_easy_value(P[name], value)
    assert result == expected
    assert type(result) is type(expected)


def test_functions_are_returned_as_given() -> None:
    def cb(data: bytes) -> None:
        pass

    assert check_easy_value(P["WRITEFUNCTION"], cb) is cb
    assert check_easy_value(P["XFERINFOFUNCTION"], len) is len


def test_file_objects_become_their_method() -> None:
    sink = Sink()
    write = check_easy_value(P["WRITEDATA"], sink)
    assert write == sink.write
    assert EASY_OPTIONS[P["WRITEDATA"]].target == P["WRITEFUNCTION"]
    assert check_easy_value(P["WRITEHEADER"], sink) == sink.write
    assert EASY_OPTIONS[P["WRITEHEADER"]].target == P["HEADERFUNCTION"]
    assert check_easy_value(P["READDATA"], sink) == sink.read
    assert EASY_OPTIONS[P["READDATA"]].target == P["READFUNCTION"]
    assert check_easy_value(P["WRITEDATA"], io.BytesIO()) is not None


def test_httppost_pairs() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        value = [
            ("a", "b"),
            (b"c", (K.FORM_FILE, "/f", K.FORM_CONTENTTYPE, b"text/plain")),
            ["d", [K.FORM_CONTENTS, "x\0y"]],
        ]
        assert check_easy_value(P["HTTPPOST"], value) == [
            (b"a", b"b"),
            (b"c", ((K.FORM_FILE, b"/f"), (K.FORM_CONTENTTYPE, b"text/plain"))),
            (b"d", ((K.FORM_CONTENTS, b"x\0y"),)),
        ]


@pytest.mark.parametrize(
    ("value", "exc", "args"),
    [
        ([1], TypeError, ("list items must be list or tuple objects",)),
        (("a", "b"), TypeError, ("list items must be list or tuple objects",)),
        ([("a",)], TypeError, ("list or tuple must contain two elements (name, value)",)),
        ([(1, "b")], TypeError, (
            "list or tuple must contain a byte string or Unicode string with ASCII code "
            "points only as first element",
        )),
        ([("é", "b")], TypeError, (
            "list or tuple must contain a byte string or Unicode string with ASCII code "
            "points only as first element",
        )),
        ([("a", "é")], error, (43, "A libcurl function was given a bad argument")),
        ([("a\0b", "c")], error, (3, "URL using bad/illegal format or missing URL")),
        ([("a", 1)], TypeError, ("unsupported second type in tuple",)),
        ([("a", None)], TypeError, ("unsupported second type in tuple",)),
        ([("a", (10,))], TypeError, (
            "list or tuple must contain at least one option and one value",
        )),
        ([("a", (10, "f", 14))], TypeError, (
            "list or tuple must contain an even number of items",
        )),
        ([("a", ("x", "f"))], TypeError, ("option must be an integer",)),
        ([("a", (10, 1))], TypeError, (
            "value must be a byte string or a Unicode string with ASCII code points only",
        )),
        ([("a", (99, "f"))], TypeError, ("unsupported option",)),
        ([("a", (True, "f"))], TypeError, ("unsupported option",)),
    ],
)  # fmt: skip
def test_httppost_rejects(
    value: object, exc: type[BaseException], args: tuple[object, ...]
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(exc) as info:
            check_easy_value(P["HTTPPOST"], value)
    assert info.value.args == args


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("HTTPPOST", [], "HTTPPOST is deprecated; use MIMEPOST"),
        ("PROGRESSFUNCTION", len, "PROGRESSFUNCTION is deprecated; use XFERINFOFUNCTION"),
        ("IOCTLFUNCTION", len, "IOCTLFUNCTION is deprecated; use SEEKFUNCTION"),
        ("RANDOM_FILE", "/dev/urandom", "setopt option is deprecated"),
    ],
)
def test_deprecated_options_warn(name: str, value: object, message: str) -> None:
    with pytest.warns(DeprecationWarning) as record:
        check_easy_value(P[name], value)
    assert [str(w.message) for w in record] == [message]


def test_deprecated_option_warns_then_fails_when_not_built() -> None:
    with (
        pytest.warns(DeprecationWarning, match="setopt option is deprecated"),
        pytest.raises(error) as info,
    ):
        check_easy_value(P["KRBLEVEL"], "clear")
    assert info.value.args[0] == 4


def test_unsetting_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_easy_value(P["PROGRESSFUNCTION"], None) is None
        assert check_easy_value(P["HTTPPOST"], None) is None


def test_registered_classes_are_enforced() -> None:
    class Share:
        pass

    class Mime:
        pass

    kinds = (Kind.SHARE, Kind.MIME)
    from purecurl import _options

    saved = {k: _options._OBJECT_CLASSES.get(k) for k in kinds}
    try:
        register_class(Kind.SHARE, Share)
        register_class(Kind.MIME, Mime)
        share = Share()
        assert check_easy_value(P["SHARE"], share) is share
        with pytest.raises(TypeError, match=r"^invalid arguments to setopt$"):
            check_easy_value(P["SHARE"], object())
        with pytest.raises(TypeError, match=r"^setopt\(option=MIMEPOST\) expects a CurlMime"):
            check_easy_value(P["MIMEPOST"], object())
        with pytest.raises(ValueError):
            register_class(Kind.LONG, Share)
    finally:
        for k, cls in saved.items():
            if cls is None:
                _options._OBJECT_CLASSES.pop(k, None)
            else:
                _options._OBJECT_CLASSES[k] = cls


def test_private_takes_any_object() -> None:
    private = EASY_OPTIONS[10103]
    assert private.name == "PRIVATE" and not private.exported
    assert "PRIVATE" not in PUBLIC_CONSTANTS
    marker = object()
    for value in (marker, "x", 1, [1], None):
        assert check_easy_value(10103, value) is value


def test_unsetopt() -> None:
    check_easy_unset(P["PROXY"])
    check_easy_unset(P["HTTPHEADER"])
    check_easy_unset(P["SSLCERT_BLOB"])
    check_easy_unset(14)  # CURLOPT_INFILESIZE, the long one
    with pytest.raises(TypeError) as info:
        check_easy_unset(P["URL"])
    assert info.value.args == (NO_UNSET,)
    with pytest.raises(TypeError) as info:
        check_easy_unset(0)
    assert info.value.args == ("invalid arguments to unsetopt",)


# --- CurlMulti.setopt ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("M_PIPELINING", K.PIPE_MULTIPLEX, 2),
        ("M_MAXCONNECTS", -1, -1),
        ("M_MAX_TOTAL_CONNECTIONS", True, 1),
        ("M_CHUNK_LENGTH_PENALTY_SIZE", 2**40, 2**40),
        ("M_PIPELINING_SITE_BL", ["a", b"b"], [b"a", b"b"]),
        ("M_PIPELINING_SERVER_BL", None, None),
        ("M_SOCKETFUNCTION", None, None),
    ],
)
def test_multi_setopt_normalises(name: str, value: object, expected: object) -> None:
    assert check_multi_value(P[name], value) == expected


@pytest.mark.parametrize(
    ("number", "value", "exc", "args"),
    [
        (P["M_MAXCONNECTS"], None, TypeError, ("unsetting is not supported for this option",)),
        (P["M_MAXCONNECTS"], "x", TypeError, (INVALID,)),
        (P["M_MAXCONNECTS"], [1], TypeError, ("lists/tuples are not supported for this option",)),
        (P["M_MAXCONNECTS"], len, TypeError, ("callables are not supported for this option",)),
        (P["M_MAXCONNECTS"], 1.0, TypeError, (INVALID,)),
        (P["M_MAXCONNECTS"], 2**63, OverflowError, ("Python int too large to convert to C long",)),
        (P["M_SOCKETFUNCTION"], 1, TypeError, (NOT_INT,)),
        (P["M_SOCKETFUNCTION"], 2**70, OverflowError, (
            "Python int too large to convert to C long",
        )),
        (P["M_PIPELINING_SITE_BL"], [1], error, ("list/tuple items must be strings",)),
        (2, 1, TypeError, (NOT_INT,)),
        (22, 1, TypeError, (INVALID,)),
        (0, 1, TypeError, (INVALID,)),
    ],
)  # fmt: skip
def test_multi_setopt_rejects(
    number: int, value: object, exc: type[BaseException], args: tuple[object, ...]
) -> None:
    with pytest.raises(exc) as info:
        check_multi_value(number, value)
    assert type(info.value) is exc
    assert info.value.args == args


# --- CurlShare.setopt ----------------------------------------------------------------------------


def test_share_setopt() -> None:
    for lock in range(K.LOCK_DATA_COOKIE, K.LOCK_DATA_HSTS + 1):
        assert check_share_value(P["SH_SHARE"], lock) == lock
    assert check_share_value(P["SH_UNSHARE"], K.LOCK_DATA_DNS) == K.LOCK_DATA_DNS
    run = raises(TypeError, (INVALID,), check_share_value)
    for value in (None, 0, 1, 8, -1, True, "x", [2], len):
        run(P["SH_SHARE"], value)
    raises(TypeError, (NOT_INT,), check_share_value)(3, 2)
    raises(TypeError, (INVALID,), check_share_value)(0, 2)
    raises(error, (1, "Unknown share option"), check_share_value)(P["SH_UNSHARE"], K.LOCK_DATA_PSL)
    raises(OverflowError, ("Python int too large to convert to C long",), check_share_value)(
        P["SH_SHARE"], 2**70
    )


# --- getinfo -------------------------------------------------------------------------------------


def test_info_for() -> None:
    info = info_for(P["RESPONSE_CODE"])
    assert (info.name, info.type, info.initial) == ("RESPONSE_CODE", "long", 0)
    assert info_for(P["EFFECTIVE_URL"]).initial == ""
    assert info_for(P["REDIRECT_URL"]).initial is None
    assert info_for(P["SIZE_DOWNLOAD"]).deprecated
    assert not info_for(P["SIZE_DOWNLOAD_T"]).deprecated
    for bad in (0, 1, 0x100000, 0x700001, P["URL"]):
        with pytest.raises(ValueError, match=r"^invalid argument to getinfo$"):
            info_for(bad)


# --- Against the real pycurl, where it is installed ----------------------------------------------

# Where purecurl answers as a libcurl built without a feature the reference build has, or keeps
# what the faces check themselves.
_BUILD_DIFFERENCES = {
    P["HTTPAUTH"],
    P["PROXYAUTH"],
    P["HTTP_VERSION"],
    P["SSLENGINE"],
    P["SHARE"],
    P["MIMEPOST"],
    P["CURLU"],
}

_MATRIX: list[object] = [
    None, 0, 1, -1, -2, 2, 3, 4, 8, 65535, 65536, 2**31, 2**40, 2**63 - 1, 2**63, -(2**63),
    True, "x", "é", "a\0b", b"x", b"\xff", b"a\0b", ["a"], ("a", b"b"), [1], ["é"], [], len,
    Sink(), CallableSink(), NotAMethod(), object(), 1.5, bytearray(b"x"), [("a", "b")],
]  # fmt: skip


def _outcome(
    f: Callable[[int, object], object], number: int, value: object, err: type[BaseException]
) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            f(number, value)
        except err as exc:
            return ("error", exc.args)
        except Exception as exc:
            return (type(exc).__name__, str(exc))
    return "ok"


def test_setopt_matches_pycurl() -> None:
    pycurl = pytest.importorskip("pycurl")
    if P["COMPILE_LIBCURL_VERSION_NUM"] != pycurl.COMPILE_LIBCURL_VERSION_NUM:
        pytest.skip("pycurl is built against another libcurl")
    numbers = {o.number for o in EASY_OPTIONS.values() if o.exported} - _BUILD_DIFFERENCES
    numbers |= {0, 15, 330, 333, 10330, 20330, 30330, 40000, 40333}
    handle = pycurl.Curl()
    mismatches = []
    try:
        for number in sorted(numbers):
            for value in _MATRIX:
                handle.reset()
                theirs = _outcome(handle.setopt, number, value, pycurl.error)
                ours = _outcome(check_easy_value, number, value, error)
                if isinstance(theirs, tuple) and theirs[0] == "error" and theirs[1][0] == 43:
                    # libcurl's error buffer keeps the first message of a handle's life.
                    theirs = ("error", (43, f"setopt {number:#x} got bad argument"))
                if theirs != ours:
                    mismatches.append((number, value, theirs, ours))
    finally:
        handle.close()
    assert mismatches == []


def test_multi_and_share_setopt_match_pycurl() -> None:
    pycurl = pytest.importorskip("pycurl")
    multi = pycurl.CurlMulti()
    mismatches = []
    try:
        for number in [*range(-1, 24), 10011, 10012, 10022, 20001, 20004, 20018, 20022, 30010]:
            for value in _MATRIX:
                theirs = _outcome(multi.setopt, number, value, pycurl.error)
                ours = _outcome(check_multi_value, number, value, error)
                if theirs != ours:
                    mismatches.append(("multi", number, value, theirs, ours))
                share = pycurl.CurlShare()
                theirs = _outcome(share.setopt, number, value, pycurl.error)
                share.close()
                ours = _outcome(check_share_value, number, value, error)
                if theirs != ours:
                    mismatches.append(("share", number, value, theirs, ours))
    finally:
        multi.close()
    assert mismatches == []
