"""The request body's source: libcurl's client readers (lib/sendf.c), one per kind of body.

Theory of operation
-------------------
A request body comes from POSTFIELDS (bytes in memory), from the application's READFUNCTION
(POST without POSTFIELDS, PUT via UPLOAD; with no READFUNCTION libcurl reads stdin), or from a
multipart form (HTTPPOST / MIMEPOST). The engine asks a `BodyReader` for at most `n` bytes at a
time and gets bytes, b"" at the end, or None when the read callback paused the upload
(READFUNC_PAUSE). `total` is the length when known (Content-Length) or -1 (chunked).

A request that must be sent again (a redirect that keeps the body, an authentication round
trip, a retry on a fresh connection) first rewinds its reader, as `cr_in_rewind` does: nothing
to do when nothing was read yet; else SEEKFUNCTION(0, SEEK_SET), else IOCTLFUNCTION
(IOCMD_RESTARTREAD), else, for the default stdin reader, a seek of fd 0; anything else is
CURLE_SEND_FAIL_REWIND (65) with libcurl's messages.

The callbacks' answers follow pycurl: None from SEEKFUNCTION and IOCTLFUNCTION means OK; an
exception in any of them fails the transfer (kept as `exc`, read: 42, seek/ioctl: 65).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Protocol

from purecurl import _codes as C
from purecurl._errors import CurlError

READFUNC_ABORT = 0x10000000
READFUNC_PAUSE = 0x10000001
SEEKFUNC_OK = 0
IOCMD_RESTARTREAD = 1


class FormBody(Protocol):
    """A multipart body (proto.multipart): streamed, sized up front (None: unknown),
    rewindable."""

    @property
    def size(self) -> int | None: ...

    def read(self, n: int) -> bytes: ...

    def rewind(self) -> None: ...

    def close(self) -> None: ...


class BodyReader:
    """Where a request body's bytes come from; see the module docstring."""

    __slots__ = ("exc", "read_len", "total")

    def __init__(self, total: int) -> None:
        self.total = total
        self.read_len = 0
        self.exc: BaseException | None = None

    def read(self, n: int) -> bytes | None:
        raise NotImplementedError

    def needs_rewind(self) -> bool:
        return self.read_len > 0

    def rewind(self) -> None:
        self.read_len = 0

    def close(self) -> None:
        """The transfer ended: release what the source holds open."""


class BufferReader(BodyReader):
    """POSTFIELDS: bytes in memory."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        super().__init__(len(data))
        self.data = data

    def read(self, n: int) -> bytes:
        start = self.read_len
        piece = self.data[start : start + n]
        self.read_len = start + len(piece)
        return piece


class FormReader(BodyReader):
    """A multipart form body."""

    __slots__ = ("body",)

    def __init__(self, body: FormBody) -> None:
        size = body.size
        super().__init__(-1 if size is None else size)
        self.body = body

    def read(self, n: int) -> bytes:
        piece = self.body.read(n)
        self.read_len += len(piece)
        return piece

    def rewind(self) -> None:
        if self.read_len:
            self.body.rewind()
        self.read_len = 0

    def close(self) -> None:
        self.body.close()


def _stdin_read(n: int) -> bytes:
    # libcurl's default read callback is fread() on stdin.
    try:
        return os.read(0, n)
    except OSError:
        return b""


class CallbackReader(BodyReader):
    """READFUNCTION (or stdin), with SEEKFUNCTION / IOCTLFUNCTION to rewind."""

    __slots__ = ("ioctl_fn", "read_fn", "seek_fn")

    def __init__(
        self,
        read_fn: Callable[[int], Any] | None,
        seek_fn: Callable[[int, int], Any] | None,
        ioctl_fn: Callable[[int], Any] | None,
        total: int,
    ) -> None:
        super().__init__(total)
        self.read_fn = read_fn
        self.seek_fn = seek_fn
        self.ioctl_fn = ioctl_fn

    def read(self, n: int) -> bytes | None:
        total = self.total
        if total >= 0:
            remain = total - self.read_len
            if remain <= 0:
                return b""
            n = min(n, remain)
        fn = self.read_fn
        if fn is None:
            data: Any = _stdin_read(n)
        else:
            try:
                data = fn(n)
            except Exception as exc:
                self.exc = exc
                raise _aborted() from exc
        if isinstance(data, str):
            try:
                data = data.encode("ascii")
            except UnicodeEncodeError as exc:
                self.exc = exc
                raise _aborted() from exc
        elif isinstance(data, int) and not isinstance(data, bool):
            if data == READFUNC_PAUSE:
                return None
            raise _aborted()  # READFUNC_ABORT, or a number pycurl cannot take
        elif not isinstance(data, (bytes, bytearray, memoryview)):
            self.exc = TypeError(
                "read callback must return a byte string or Unicode string with ASCII code"
                " points only"
            )
            raise _aborted()
        out = bytes(data)
        if len(out) > n:
            # pycurl refuses it and answers libcurl with READFUNC_ABORT
            self.exc = ValueError(
                f"invalid return value for read callback ({len(out)} bytes returned when"
                f" at most {n} bytes were wanted)"
            )
            raise _aborted()
        if not out:
            if total >= 0 and self.read_len < total:
                raise CurlError(
                    C.E_READ_ERROR,
                    f"client read function EOF fail, only {self.read_len}/{total} of needed"
                    " bytes read",
                )
            return b""
        self.read_len += len(out)
        return out

    def rewind(self) -> None:
        if not self.read_len:
            return
        self.read_len = 0
        if self.seek_fn is not None:
            try:
                r = self.seek_fn(0, os.SEEK_SET)
            except Exception as exc:
                self.exc = exc
                r = 1  # pycurl answers CURL_SEEKFUNC_FAIL
            if r is not None and r != SEEKFUNC_OK:
                raise CurlError(C.E_SEND_FAIL_REWIND, f"seek callback returned error {int(r)}")
            return
        if self.ioctl_fn is not None:
            try:
                r = self.ioctl_fn(IOCMD_RESTARTREAD)
            except Exception as exc:
                self.exc = exc
                r = 2  # CURLIOE_FAILRESTART
            if r is not None and r != 0:
                raise CurlError(C.E_SEND_FAIL_REWIND, f"ioctl callback returned error {int(r)}")
            return
        if self.read_fn is None:
            try:
                os.lseek(0, 0, os.SEEK_SET)
                return
            except OSError:
                pass
        raise CurlError(C.E_SEND_FAIL_REWIND, "necessary data rewind was not possible")


def _aborted() -> CurlError:
    return CurlError(C.E_ABORTED_BY_CALLBACK, "operation aborted by callback")
