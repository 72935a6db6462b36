"""The exported constants: libcurl's numbers, pycurl's names, libcurl's error texts."""

from __future__ import annotations

from typing import Any

import pytest

from purecurl import _codes, _consts
from purecurl._options import (
    CURL_CONSTANTS,
    EASY_OPTIONS,
    INFOS,
    MULTI_CONSTANTS,
    MULTI_OPTIONS,
    PUBLIC_CONSTANTS,
    SHARE_CONSTANTS,
    SHARE_OPTIONS,
    Kind,
)

# (name, number) pairs read off include/curl/curl.h, multi.h and pycurl's module.c.
SPOT_CHECKS = [
    ("URL", 10002),
    ("WRITEFUNCTION", 20011),
    ("HTTPHEADER", 10023),
    ("WRITEDATA", 10001),
    ("FILE", 10001),
    ("READDATA", 10009),
    ("INFILE", 10009),
    ("WRITEHEADER", 10029),
    ("HEADERFUNCTION", 20079),
    ("XFERINFOFUNCTION", 20219),
    ("PROGRESSFUNCTION", 20056),
    ("POSTFIELDS", 10015),
    ("POSTFIELDSIZE", 30120),
    ("POSTFIELDSIZE_LARGE", 30120),
    ("INFILESIZE", 30115),
    ("RESUME_FROM", 30116),
    ("MAXFILESIZE", 30117),
    ("ENCODING", 10102),
    ("ACCEPT_ENCODING", 10102),
    ("OPT_FILETIME", 69),
    ("OPT_CERTINFO", 172),
    ("OPT_COOKIELIST", 10135),
    ("COOKIELIST", 10135),
    ("HTTP_VERSION", 84),
    ("NOPROGRESS", 43),
    ("SSL_VERIFYHOST", 81),
    ("CAINFO_BLOB", 40309),
    ("FTP_RESPONSE_TIMEOUT", 112),
    ("RESPONSE_CODE", 0x200002),
    ("HTTP_CODE", 0x200002),
    ("EFFECTIVE_URL", 0x100001),
    ("INFO_FILETIME", 0x20000E),
    ("INFO_HTTP_VERSION", 0x20002E),
    ("INFO_CERTINFO", 0x400022),
    ("INFO_COOKIELIST", 0x40001C),
    ("TOTAL_TIME", 0x300003),
    ("SIZE_DOWNLOAD_T", 0x600008),
    ("ACTIVESOCKET", 0x50002C),
    ("M_SOCKETFUNCTION", 20001),
    ("M_TIMERFUNCTION", 20004),
    ("M_PIPELINING", 3),
    ("M_MAXCONNECTS", 6),
    ("M_MAX_HOST_CONNECTIONS", 7),
    ("M_MAX_TOTAL_CONNECTIONS", 13),
    ("M_MAX_CONCURRENT_STREAMS", 16),
    ("SH_SHARE", 1),
    ("SH_UNSHARE", 2),
    ("LOCK_DATA_COOKIE", 2),
    ("LOCK_DATA_DNS", 3),
    ("E_OK", 0),
    ("E_COULDNT_CONNECT", 7),
    ("E_OPERATION_TIMEDOUT", 28),
    ("E_OPERATION_TIMEOUTED", 28),
    ("E_HTTP_NOT_FOUND", 22),
    ("E_ABORTED_BY_CALLBACK", 42),
    ("E_MULTI_BAD_SOCKET", 5),
    ("E_CALL_MULTI_PERFORM", -1),
    ("POLL_REMOVE", 4),
    ("POLL_INOUT", 3),
    ("CSELECT_ERR", 4),
    ("SOCKET_TIMEOUT", -1),
    ("SOCKET_BAD", -1),
    ("WRITEFUNC_PAUSE", 0x10000001),
    ("READFUNC_ABORT", 0x10000000),
    ("READFUNC_PAUSE", 0x10000001),
    ("PAUSE_ALL", 5),
    ("SEEKFUNC_CANTSEEK", 2),
    ("INFOTYPE_SSL_DATA_OUT", 6),
    ("HTTPAUTH_NTLM", 8),
    ("HTTPAUTH_ONLY", 0x80000000),
    ("HTTPAUTH_ANY", 0xFFFFFEEF),
    ("PROXYTYPE_SOCKS5_HOSTNAME", 7),
    ("CURL_HTTP_VERSION_2TLS", 4),
    ("CURL_HTTP_VERSION_3", 30),
    ("SSLVERSION_TLSv1_2", 6),
    ("SSLVERSION_MAX_TLSv1_3", 0x70000),
    ("PROTO_HTTPS", 2),
    ("PROTO_ALL", 0xFFFFFFFF),
    ("VERSION_HTTP2", 1 << 16),
    ("VERSION_BROTLI", 1 << 23),
    ("GLOBAL_DEFAULT", 3),
    ("PIPE_MULTIPLEX", 2),
    ("FORM_FILE", 10),
]


@pytest.mark.parametrize(("name", "number"), SPOT_CHECKS)
def test_constant_has_libcurls_number(name: str, number: int) -> None:
    assert PUBLIC_CONSTANTS[name] == number


def test_pycurls_number_of_constants() -> None:
    # pycurl 7.49 with libcurl 8.23 exports 769 upper-case int constants.
    assert len(PUBLIC_CONSTANTS) == 769


def test_every_constant_is_an_int_named_in_upper_case() -> None:
    for name, value in PUBLIC_CONSTANTS.items():
        assert type(value) is int, name
        assert name[0].isupper() and name.replace("_", "").isalnum(), name


def _group_names() -> list[set[str]]:
    def rows(table: Any) -> set[str]:
        out: set[str] = set()
        for row in table.values():
            if row.exported:
                out.add(row.name)
            out.update(row.aliases)
        return out

    codes = {n for n in PUBLIC_CONSTANTS if n.startswith("E_")}
    others = {n for n in vars(_consts) if n[:1].isupper() and type(getattr(_consts, n)) is int}
    return [
        rows(EASY_OPTIONS),
        rows(INFOS),
        rows(MULTI_OPTIONS),
        rows(SHARE_OPTIONS),
        codes,
        others,
    ]


def test_no_name_is_defined_by_two_tables() -> None:
    groups = _group_names()
    seen: set[str] = set()
    for group in groups:
        assert not seen & group, seen & group
        seen |= group
    assert seen == set(PUBLIC_CONSTANTS)


def test_options_infos_and_codes_agree_with_their_own_modules() -> None:
    for name, value in PUBLIC_CONSTANTS.items():
        if name.startswith("E_"):
            assert getattr(_codes, name) == value
        elif hasattr(_consts, name):
            assert getattr(_consts, name) == value


def test_the_info_spellings_differ_from_the_option_spellings() -> None:
    # INFO_FILETIME / OPT_FILETIME, INFO_HTTP_VERSION / HTTP_VERSION: never the same name.
    option_names = {o.name for o in EASY_OPTIONS.values() if o.exported}
    for o in EASY_OPTIONS.values():
        option_names.update(o.aliases)
    assert not option_names & {i.name for i in INFOS.values() if i.exported}
    assert PUBLIC_CONSTANTS["HTTP_VERSION"] == 84
    assert PUBLIC_CONSTANTS["INFO_HTTP_VERSION"] == 0x20002E


def test_option_kind_matches_libcurls_type_range() -> None:
    # curl.h: CURLOPTTYPE_LONG 0, OBJECTPOINT 10000, FUNCTIONPOINT 20000, OFF_T 30000, BLOB 40000.
    by_range = {
        0: {Kind.LONG},
        1: {
            Kind.STRING,
            Kind.BYTES,
            Kind.SLIST,
            Kind.FILE_WRITE,
            Kind.FILE_READ,
            Kind.OBJECT,
            Kind.NO_VALUE,
            Kind.SHARE,
            Kind.FORM,
            Kind.MIME,
            Kind.CURLU,
        },
        2: {Kind.FUNCTION},
        3: {Kind.OFF_T},
        4: {Kind.BLOB},
    }
    for table in (EASY_OPTIONS, MULTI_OPTIONS):
        for number, opt in table.items():
            assert opt.number == number
            assert opt.kind in by_range[number // 10000], opt.name


def test_defaults_have_the_options_type() -> None:
    for opt in EASY_OPTIONS.values():
        if opt.kind in (Kind.LONG, Kind.OFF_T):
            assert type(opt.default) is int, opt.name
            if opt.low is not None:
                assert opt.default >= opt.low, opt.name
            if opt.high is not None:
                assert opt.default <= opt.high, opt.name
        elif opt.kind is Kind.STRING:
            assert opt.default is None or type(opt.default) is str, opt.name
        else:
            assert opt.default is None, opt.name


def test_libcurl_defaults() -> None:
    defaults = {o.name: o.default for o in EASY_OPTIONS.values()}
    assert defaults["NOPROGRESS"] == 1
    assert defaults["TCP_NODELAY"] == 1
    assert defaults["MAXREDIRS"] == 30  # since libcurl 8.3.0
    assert defaults["SSL_VERIFYPEER"] == 1
    assert defaults["SSL_VERIFYHOST"] == 2
    assert defaults["DNS_CACHE_TIMEOUT"] == 60
    assert defaults["BUFFERSIZE"] == 16384
    assert defaults["CONNECTTIMEOUT"] == 0
    assert defaults["HTTP_VERSION"] == _consts.CURL_HTTP_VERSION_NONE
    assert defaults["POSTFIELDSIZE_LARGE"] == -1
    assert defaults["INFILESIZE_LARGE"] == -1
    assert defaults["MAXCONNECTS"] == 5


def test_info_type_matches_libcurls_type_bits() -> None:
    # curl.h: CURLINFO_STRING 0x100000, LONG 0x200000, DOUBLE 0x300000, SLIST/PTR 0x400000,
    # SOCKET 0x500000, OFF_T 0x600000.
    types_by_mask = {
        1: {"string", "ptr"},
        2: {"long"},
        3: {"double"},
        4: {"slist", "certinfo", "ptr"},
        5: {"socket"},
        6: {"off_t"},
    }
    for number, info in INFOS.items():
        assert info.type in types_by_mask[number >> 20], info.name


def test_deprecated_infos_are_the_double_sizes_and_speeds() -> None:
    deprecated = {i.name for i in INFOS.values() if i.deprecated}
    assert deprecated == {
        "SIZE_UPLOAD",
        "SIZE_DOWNLOAD",
        "SPEED_DOWNLOAD",
        "SPEED_UPLOAD",
        "CONTENT_LENGTH_DOWNLOAD",
        "CONTENT_LENGTH_UPLOAD",
    }


def test_instance_constants() -> None:
    assert set(CURL_CONSTANTS) <= set(PUBLIC_CONSTANTS)
    assert CURL_CONSTANTS["URL"] == 10002
    assert CURL_CONSTANTS["RESPONSE_CODE"] == 0x200002
    assert CURL_CONSTANTS["E_WRITE_ERROR"] == 23
    assert CURL_CONSTANTS["SOCKET_BAD"] == -1
    for name in ("M_SOCKETFUNCTION", "E_MULTI_OK", "POLL_IN", "SOCKET_TIMEOUT", "SH_SHARE"):
        assert name not in CURL_CONSTANTS
    assert set(MULTI_CONSTANTS) == {
        *(n for n in PUBLIC_CONSTANTS if n.startswith(("M_", "E_MULTI_", "PIPE_"))),
        "E_CALL_MULTI_PERFORM",
    }
    assert set(SHARE_CONSTANTS) == {
        n for n in PUBLIC_CONSTANTS if n.startswith(("SH_", "LOCK_DATA_"))
    }
    for table in (CURL_CONSTANTS, MULTI_CONSTANTS, SHARE_CONSTANTS):
        for name, value in table.items():
            assert PUBLIC_CONSTANTS[name] == value


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (0, "No error"),
        (3, "URL using bad/illegal format or missing URL"),
        (7, "Could not connect to server"),
        (23, "Failed writing received data to disk/application"),
        (28, "Timeout was reached"),
        (42, "Operation was aborted by an application callback"),
        (43, "A libcurl function was given a bad argument"),
        (101, "ECH attempted but failed"),
        (20, "Unknown error"),  # CURLE_OBSOLETE20
        (102, "Unknown error"),
        (-1, "Unknown error"),
    ],
)
def test_easy_strerror(code: int, text: str) -> None:
    assert _codes.easy_strerror(code) == text


def test_multi_share_and_url_strerror() -> None:
    assert _codes.multi_strerror(-1) == "Please call curl_multi_perform() soon"
    assert _codes.multi_strerror(5) == "Invalid socket argument"
    assert _codes.multi_strerror(13) == "Unknown error"
    assert _codes.share_strerror(1) == "Unknown share option"
    assert _codes.share_strerror(6) == "CURLSHcode unknown"
    assert _codes.url_strerror(14) == "No host present"
    assert _codes.url_strerror(33) == "CURLUcode unknown"


def test_old_error_names_alias_the_new_numbers() -> None:
    assert _codes.E_OPERATION_TIMEOUTED == _codes.E_OPERATION_TIMEDOUT
    assert _codes.E_HTTP_NOT_FOUND == _codes.E_HTTP_RETURNED_ERROR
    assert _codes.E_SSL_CACERT == _codes.E_PEER_FAILED_VERIFICATION
    assert _codes.E_FTP_SSL_FAILED == _codes.E_USE_SSL_FAILED
    assert _codes.E_MULTI_CALL_MULTI_SOCKET == _codes.E_MULTI_CALL_MULTI_PERFORM


# --- Against the real pycurl, where it is installed ----------------------------------------------


def _pycurl() -> Any:
    return pytest.importorskip("pycurl")


def test_same_constants_as_pycurl() -> None:
    pycurl = _pycurl()
    theirs = {
        name: getattr(pycurl, name)
        for name in dir(pycurl)
        if name[:1].isupper() and type(getattr(pycurl, name)) is int
    }
    # The interpreter pycurl was compiled for is not necessarily the one running.
    theirs.pop("COMPILE_PY_VERSION_HEX")
    ours = dict(PUBLIC_CONSTANTS)
    ours.pop("COMPILE_PY_VERSION_HEX")
    if theirs.get("COMPILE_LIBCURL_VERSION_NUM") != ours["COMPILE_LIBCURL_VERSION_NUM"]:
        pytest.skip("pycurl is built against another libcurl")
    assert ours == theirs


def test_same_instance_constants_as_pycurl() -> None:
    pycurl = _pycurl()
    if PUBLIC_CONSTANTS["COMPILE_LIBCURL_VERSION_NUM"] != pycurl.COMPILE_LIBCURL_VERSION_NUM:
        pytest.skip("pycurl is built against another libcurl")
    names = set(PUBLIC_CONSTANTS)
    for ours, obj in (
        (CURL_CONSTANTS, pycurl.Curl()),
        (MULTI_CONSTANTS, pycurl.CurlMulti()),
        (SHARE_CONSTANTS, pycurl.CurlShare()),
    ):
        assert set(ours) == {n for n in names if hasattr(obj, n)}
        obj.close()


def test_same_error_texts_as_pycurl() -> None:
    pycurl = _pycurl()
    for code in range(-2, 110):
        assert _codes.easy_strerror(code) == pycurl.easy_strerror(code), code
    for code in range(-2, 20):
        assert _codes.multi_strerror(code) == pycurl.multi_strerror(code), code
        assert _codes.share_strerror(code) == pycurl.share_strerror(code), code
    for code in range(0, 40):
        assert _codes.url_strerror(code) == pycurl.url_strerror(code), code
