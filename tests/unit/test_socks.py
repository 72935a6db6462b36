"""SOCKS4/4a/5/5h handshakes: bytes sent, every failure reply, fed whole and byte by byte.

Expected bytes and messages were recorded from libcurl 8.23 (pycurl) against
tests/proxy_servers.py's SocksServer.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from purecurl._codes import E_PROXY
from purecurl.proto import socks as S
from purecurl.proto.socks import SocksError, SocksHandshake

WHOLE = "whole"
BYTEWISE = "bytewise"


def feed(hs: SocksHandshake, data: bytes, how: str) -> None:
    if how == WHOLE:
        hs.receive(data)
    else:
        for i in range(len(data)):
            hs.receive(data[i : i + 1])


FEEDS = pytest.mark.parametrize("how", [WHOLE, BYTEWISE])
S5_OK = bytes((5, 0, 0, 1, 127, 0, 0, 1, 0x1F, 0x90))


def s5(rep: int) -> bytes:
    return bytes((5, rep, 0, 1, 127, 0, 0, 1, 0, 0))


# --- SOCKS4 / 4a ------------------------------------------------------------------------------


@FEEDS
def test_socks4_request_and_grant(how: str) -> None:
    hs = SocksHandshake("socks4", "localhost", 0xE789, ("127.0.0.1", 0))
    assert hs.data_to_send() == b"\x04\x01\xe7\x89\x7f\x00\x00\x01\x00"
    assert hs.data_to_send() == b""
    assert hs.needs_more and not hs.done
    feed(hs, b"\x00\x5a\x00\x00\x00\x00\x00\x00tunnel", how)
    assert hs.done and not hs.needs_more
    assert hs.leftover == b"tunnel"


def test_socks4_user_is_userid() -> None:
    hs = SocksHandshake("socks4", "127.0.0.1", 0xE789, None, "alice", "pw")
    assert hs.data_to_send() == b"\x04\x01\xe7\x89\x7f\x00\x00\x01alice\x00"


def test_socks4a_sends_the_name() -> None:
    hs = SocksHandshake("socks4a", "localhost", 0xE789)
    assert hs.data_to_send() == b"\x04\x01\xe7\x89\x00\x00\x00\x01\x00localhost\x00"
    hs = SocksHandshake("socks4a", "[::1]", 80)
    assert hs.data_to_send() == b"\x04\x01\x00P\x00\x00\x00\x01\x00::1\x00"


def test_socks4_ipv6_is_not_possible() -> None:
    with pytest.raises(SocksError) as info:
        SocksHandshake("socks4", "[::1]", 80, ("::1", 80, 0, 0))
    assert info.value.code == E_PROXY
    assert info.value.proxy_code == S.PX_RESOLVE_HOST
    assert info.value.message == "SOCKS4 connection to ::1 not supported"


@pytest.mark.parametrize(
    ("length", "ok"), [(254, True), (255, False)], ids=["254-fits", "255-too-long"]
)
def test_socks4a_name_limit(length: int, ok: bool) -> None:
    name = "a" * length
    if ok:
        assert SocksHandshake("socks4a", name, 80).data_to_send().endswith(name.encode() + b"\0")
        return
    with pytest.raises(SocksError) as info:
        SocksHandshake("socks4a", name, 80)
    assert (info.value.proxy_code, info.value.message) == (
        S.PX_LONG_HOSTNAME,
        "SOCKS4: too long hostname",
    )


def test_socks4_user_limit() -> None:
    with pytest.raises(SocksError) as info:
        SocksHandshake("socks4", "127.0.0.1", 80, None, "u" * 256)
    assert (info.value.proxy_code, info.value.message) == (
        S.PX_LONG_USER,
        "Too long SOCKS proxy username",
    )


SOCKS4_FAILURES = [
    (
        bytes((0, 91, 1, 2, 10, 0, 0, 1)),
        S.PX_REQUEST_FAILED,
        "[SOCKS] cannot complete SOCKS4 connection to 10.0.0.1:258. (91), "
        "request rejected or failed.",
    ),
    (
        bytes((0, 92, 1, 2, 10, 0, 0, 1)),
        S.PX_IDENTD,
        "[SOCKS] cannot complete SOCKS4 connection to 10.0.0.1:258. (92), request rejected "
        "because SOCKS server cannot connect to identd on the client.",
    ),
    (
        bytes((0, 93, 1, 2, 10, 0, 0, 1)),
        S.PX_IDENTD_DIFFER,
        "[SOCKS] cannot complete SOCKS4 connection to 10.0.0.1:258. (93), request rejected "
        "because the client program and identd report different user-ids.",
    ),
    (
        bytes((0, 94, 1, 2, 10, 0, 0, 1)),
        S.PX_UNKNOWN_FAIL,
        "[SOCKS] cannot complete SOCKS4 connection to 10.0.0.1:258. (94), Unknown.",
    ),
    (
        bytes((4, 90, 1, 2, 10, 0, 0, 1)),
        S.PX_BAD_VERSION,
        "SOCKS4 reply has wrong version, version should be 0.",
    ),
]


@FEEDS
@pytest.mark.parametrize("version", ["socks4", "socks4a"])
@pytest.mark.parametrize(("reply", "px", "message"), SOCKS4_FAILURES)
def test_socks4_failures(version: str, reply: bytes, px: int, message: str, how: str) -> None:
    hs = SocksHandshake(version, "127.0.0.1", 80)
    hs.data_to_send()
    with pytest.raises(SocksError) as info:
        feed(hs, reply, how)
    assert (info.value.code, info.value.proxy_code, info.value.message) == (E_PROXY, px, message)


# --- SOCKS5 -----------------------------------------------------------------------------------


@FEEDS
def test_socks5h_name_no_auth(how: str) -> None:
    hs = SocksHandshake("socks5h", "localhost", 0xE789)
    assert hs.data_to_send() == b"\x05\x01\x00"
    feed(hs, b"\x05\x00", how)
    assert hs.data_to_send() == b"\x05\x01\x00\x03\x09localhost\xe7\x89"
    assert hs.needs_more
    feed(hs, S5_OK, how)
    assert hs.done and hs.leftover == b""


@pytest.mark.parametrize(
    ("version", "host", "addr", "address"),
    [
        ("socks5h", "127.0.0.1", None, b"\x01\x7f\x00\x00\x01"),
        ("socks5h", "[::1]", None, b"\x04" + bytes(15) + b"\x01"),
        ("socks5", "localhost", ("::1", 0, 0, 0), b"\x04" + bytes(15) + b"\x01"),
        ("socks5", "localhost", ("127.0.0.1", 0), b"\x01\x7f\x00\x00\x01"),
        ("socks5", "10.1.2.3", None, b"\x01\x0a\x01\x02\x03"),
    ],
)
def test_socks5_address_types(
    version: str, host: str, addr: tuple[str, int] | None, address: bytes
) -> None:
    hs = SocksHandshake(version, host, 80, addr)
    hs.data_to_send()
    hs.receive(b"\x05\x00")
    assert hs.data_to_send() == b"\x05\x01\x00" + address + b"\x00\x50"


@FEEDS
def test_socks5_user_password(how: str) -> None:
    hs = SocksHandshake("socks5", "127.0.0.1", 0xE789, None, "alice", "pw")
    assert hs.data_to_send() == b"\x05\x02\x00\x02"
    feed(hs, b"\x05\x02", how)
    assert hs.data_to_send() == b"\x01\x05alice\x02pw"
    feed(hs, b"\x01\x00", how)
    assert hs.data_to_send() == b"\x05\x01\x00\x01\x7f\x00\x00\x01\xe7\x89"
    feed(hs, S5_OK + b"HTTP/1.1", how)
    assert hs.done and hs.leftover == b"HTTP/1.1"


@pytest.mark.parametrize(
    ("user", "password", "auth"),
    [("u", None, b"\x01\x01u\x00"), ("", "", b"\x01\x00\x00")],
    ids=["user-without-password", "empty-credentials"],
)
def test_socks5_credentials_edge_cases(user: str, password: str | None, auth: bytes) -> None:
    hs = SocksHandshake("socks5", "127.0.0.1", 80, None, user, password)
    hs.data_to_send()
    hs.receive(b"\x05\x02")
    assert hs.data_to_send() == auth


def test_socks5_auth_chosen_without_offer_sends_empty_credentials() -> None:
    hs = SocksHandshake("socks5", "127.0.0.1", 80)
    hs.data_to_send()
    hs.receive(b"\x05\x02")
    assert hs.data_to_send() == b"\x01\x00\x00"


def test_socks5_auth_reply_version_is_ignored() -> None:
    hs = SocksHandshake("socks5", "127.0.0.1", 80, None, "a", "b")
    hs.receive(b"\x05\x02")
    hs.receive(b"\x05\x00")
    assert hs.data_to_send().endswith(b"\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x50")


@FEEDS
@pytest.mark.parametrize(
    ("reply", "leftover"),
    [
        (b"\x05\x00\x00\x03\x03abc\x00\x50", b""),
        (b"\x05\x00\x00\x03\x00\x00\x50", b"x"),
        (b"\x05\x00\x00\x04" + bytes(16) + b"\x00\x50", b"xyz"),
    ],
    ids=["name", "empty-name", "ipv6"],
)
def test_socks5_variable_length_replies(reply: bytes, leftover: bytes, how: str) -> None:
    hs = SocksHandshake("socks5h", "example.com", 80)
    hs.receive(b"\x05\x00")
    hs.data_to_send()
    feed(hs, reply[:-1], how)
    assert not hs.done
    feed(hs, reply[-1:] + leftover, how)
    assert hs.done and hs.leftover == leftover
    hs.receive(b"more")
    assert hs.leftover == leftover + b"more"


REPLY_CODES = [
    (1, S.PX_REPLY_GENERAL_SERVER_FAILURE),
    (2, S.PX_REPLY_NOT_ALLOWED),
    (3, S.PX_REPLY_NETWORK_UNREACHABLE),
    (4, S.PX_REPLY_HOST_UNREACHABLE),
    (5, S.PX_REPLY_CONNECTION_REFUSED),
    (6, S.PX_REPLY_TTL_EXPIRED),
    (7, S.PX_REPLY_COMMAND_NOT_SUPPORTED),
    (8, S.PX_REPLY_ADDRESS_TYPE_NOT_SUPPORTED),
    (9, S.PX_REPLY_UNASSIGNED),
    (200, S.PX_REPLY_UNASSIGNED),
]


@FEEDS
@pytest.mark.parametrize(("rep", "px"), REPLY_CODES)
def test_socks5_reply_codes(rep: int, px: int, how: str) -> None:
    hs = SocksHandshake("socks5h", "localhost", 80)
    hs.receive(b"\x05\x00")
    with pytest.raises(SocksError) as info:
        feed(hs, s5(rep), how)
    assert (info.value.code, info.value.proxy_code) == (E_PROXY, px)
    assert info.value.message == f"cannot complete SOCKS5 connection to localhost. ({rep})"


SOCKS5_FAILURES: list[tuple[str, Callable[[SocksHandshake], None], int, str]] = [
    (
        "method-version",
        lambda hs: hs.receive(b"\x04\x01"),
        S.PX_BAD_VERSION,
        "Received invalid version in initial SOCKS5 response.",
    ),
    (
        "method-none-acceptable",
        lambda hs: hs.receive(b"\x05\xff"),
        S.PX_NO_AUTH,
        "No authentication method was acceptable.",
    ),
    (
        "method-gssapi",
        lambda hs: hs.receive(b"\x05\x01"),
        S.PX_GSSAPI_PERMSG,
        "SOCKS5 GSSAPI per-message authentication is not enabled.",
    ),
    (
        "method-unknown",
        lambda hs: hs.receive(b"\x05\x03"),
        S.PX_UNKNOWN_MODE,
        "Unknown SOCKS5 mode attempted to be used by server.",
    ),
    (
        "user-rejected",
        lambda hs: hs.receive(b"\x05\x02\x01\x01"),
        S.PX_USER_REJECTED,
        "User was rejected by the SOCKS5 server (1 1).",
    ),
    (
        "reply-version",
        lambda hs: hs.receive(b"\x05\x00\x04" + S5_OK[1:]),
        S.PX_BAD_VERSION,
        "SOCKS5 reply has wrong version, version should be 5.",
    ),
    (
        "reply-address-type",
        lambda hs: hs.receive(b"\x05\x00" + bytes((5, 0, 0, 7, 1, 2, 3, 4, 0, 0))),
        S.PX_BAD_ADDRESS_TYPE,
        "SOCKS5 reply has wrong address type.",
    ),
]


@pytest.mark.parametrize(
    ("step", "px", "message"),
    [f[1:] for f in SOCKS5_FAILURES],
    ids=[f[0] for f in SOCKS5_FAILURES],
)
def test_socks5_failures(step: Callable[[SocksHandshake], None], px: int, message: str) -> None:
    hs = SocksHandshake("socks5h", "localhost", 80)
    with pytest.raises(SocksError) as info:
        step(hs)
    assert (info.value.code, info.value.proxy_code, info.value.message) == (E_PROXY, px, message)


@pytest.mark.parametrize(
    ("args", "px", "message"),
    [
        (
            ("socks5h", "a" * 256, 80),
            S.PX_LONG_HOSTNAME,
            "SOCKS5: the destination hostname is too long to be resolved remotely by the proxy.",
        ),
        (
            ("socks5", "127.0.0.1", 80, None, "u" * 256, "p"),
            S.PX_LONG_USER,
            "Excessive username length for proxy auth",
        ),
        (
            ("socks5", "127.0.0.1", 80, None, "u", "p" * 256),
            S.PX_LONG_PASSWD,
            "Excessive password length for proxy auth",
        ),
    ],
    ids=["long-name", "long-user", "long-password"],
)
def test_socks5_limits(args: tuple[object, ...], px: int, message: str) -> None:
    with pytest.raises(SocksError) as info:
        SocksHandshake(*args)  # type: ignore[arg-type]
    assert (info.value.proxy_code, info.value.message) == (px, message)


def test_socks5h_name_of_255_fits() -> None:
    hs = SocksHandshake("socks5h", "a" * 255, 80)
    hs.data_to_send()
    hs.receive(b"\x05\x00")
    assert hs.data_to_send()[4] == 255


@pytest.mark.parametrize("version", ["socks4", "socks4a", "socks5", "socks5h"])
@pytest.mark.parametrize("cut", [0, 1, 3])
def test_proxy_closing_early(version: str, cut: int) -> None:
    hs = SocksHandshake(version, "127.0.0.1", 80, None, "a", "b")
    hs.receive((b"\x05\x02\x01\x00" + S5_OK if version.startswith("socks5") else bytes(8))[:cut])
    with pytest.raises(SocksError) as info:
        hs.receive_eof()
    assert (info.value.proxy_code, info.value.message) == (
        S.PX_RECV_CONNECT,
        "Failed to receive SOCKS response, proxy closed connection",
    )


def test_eof_after_done_is_fine() -> None:
    hs = SocksHandshake("socks4", "127.0.0.1", 80)
    hs.receive(b"\x00\x5a" + bytes(6))
    hs.receive_eof()
    assert hs.done


def test_socks5_needs_an_address_when_resolving_locally() -> None:
    with pytest.raises(ValueError, match="address"):
        SocksHandshake("socks5", "localhost", 80)
    with pytest.raises(ValueError, match="version"):
        SocksHandshake("socks6", "localhost", 80)


def test_repr_names_the_state() -> None:
    hs = SocksHandshake("socks5h", "[::1]", 80)
    assert repr(hs) == "<SocksHandshake socks5h to ::1:80 METHOD>"
    hs.receive(b"\x05\x00")
    assert "REPLY5" in repr(hs)
