"""`CurlMime` and `CurlMimePart`: pycurl 7.49's face of libcurl's curl_mime API.

Theory of operation: a `CurlMime` is a list of `CurlMimePart`s that the application fills in
with the calls pycurl exposes (`name`, `data`, `filedata`, `data_cb`, `subparts`, `filename`,
`type`, `headers`, `encoder`, and the `add*` shortcuts). It records what was set and checks the
arguments as pycurl does (types, ASCII text, a file that must exist when `filedata()` names it,
an encoder libcurl knows); it never builds bytes itself. When a transfer starts, the engine
asks the mime set as MIMEPOST for `multipart_body()`: the tree as it stands then (libcurl
reads the tree at transfer time, not at setopt) turned into a sans-IO
`purecurl.proto.multipart.MultipartBody`.

`close()` releases the tree: its parts become unusable and the `free` callbacks given to
`data_cb()` run. A nested tree (`subparts()`, `add_multipart()`) is owned by its parent and
closed with it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, NoReturn, TypeAlias, Union

from purecurl import _codes, _consts
from purecurl._errors import CurlError, error
from purecurl._options import Kind, register_class
from purecurl.easy import Curl
from purecurl.proto.multipart import (
    ENCODERS,
    CallbackSource,
    FileSource,
    MimePart,
    MimeTree,
    MultipartBody,
    new_boundary,
)

_DATA_TYPE = "data() argument must be a byte string, ASCII-only Unicode string, or a buffer object"


def _text(value: object) -> bytes:
    # pycurl's conversion for names, filenames, types and encoders.
    if isinstance(value, str):
        data = value.encode("ascii")
    elif isinstance(value, bytes):
        data = value
    else:
        raise TypeError(f"expected bytes or an ASCII string, got {type(value).__name__}")
    if b"\0" in data:
        raise ValueError("embedded null byte")
    return data


def _data(value: object) -> bytes:
    if isinstance(value, str):
        return value.encode("ascii")
    try:
        return bytes(memoryview(value))  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(_DATA_TYPE) from None


def _no_pickle(obj: object) -> NoReturn:
    raise TypeError(f"cannot pickle 'pycurl.{type(obj).__name__}' object")


class _Callbacks:
    """The read/seek/free callbacks of a `data_cb()` part, with pycurl's conventions."""

    def __init__(
        self,
        size: int | None,
        read: Callable[[Any, int], Any],
        seek: Callable[[Any, int, int], Any] | None,
        free: Callable[[Any], Any] | None,
        userdata: Any,
    ) -> None:
        self.size = size
        self.read_cb = read
        self.seek_cb = seek
        self.free_cb = free
        self.userdata = userdata

    def read(self, n: int) -> bytes:
        # READFUNCTION's conventions: bytes or ASCII str, READFUNC_ABORT; anything else, or an
        # exception, aborts the transfer as libcurl's CURL_READFUNC_ABORT does (42).
        try:
            result = self.read_cb(self.userdata, n)
        except Exception as exc:
            raise CurlError(_codes.E_ABORTED_BY_CALLBACK, "operation aborted by callback") from exc
        if result is None:
            return b""
        if isinstance(result, str):
            result = result.encode("ascii")
        if isinstance(result, bytes) and len(result) <= n:
            return result
        if result == _consts.READFUNC_PAUSE:
            # libcurl's mime reader cannot pause a part; purecurl reports it as a read error.
            raise CurlError(_codes.E_READ_ERROR, "read error getting mime data")
        raise CurlError(_codes.E_ABORTED_BY_CALLBACK, "operation aborted by callback")

    def seek_start(self) -> bool:
        if self.seek_cb is None:
            return False
        try:
            return bool(self.seek_cb(self.userdata, 0, os.SEEK_SET) == _consts.SEEKFUNC_OK)
        except Exception:
            return False

    def free(self) -> None:
        if self.free_cb is not None:
            callback, self.free_cb = self.free_cb, None
            callback(self.userdata)


_Content: TypeAlias = Union[bytes, FileSource, _Callbacks, "CurlMime", None]


class CurlMimePart:
    """A part of a `CurlMime` tree (pycurl.CurlMimePart); made by `CurlMime.addpart()`."""

    __slots__ = (
        "__weakref__",
        "_content",
        "_encoder",
        "_filename",
        "_headers",
        "_name",
        "_owner",
        "_type",
    )

    def __new__(cls, *args: object, **kwargs: object) -> CurlMimePart:
        raise TypeError("cannot create 'pycurl.CurlMimePart' instances")

    @classmethod
    def _create(cls, owner: CurlMime) -> CurlMimePart:
        part: CurlMimePart = object.__new__(cls)
        part._owner = owner
        part._name = None
        part._content = None
        part._filename = None
        part._type = None
        part._headers = ()
        part._encoder = None
        return part

    _owner: CurlMime
    _name: bytes | None
    _content: _Content
    _filename: bytes | None
    _type: bytes | None
    _headers: tuple[bytes, ...]
    _encoder: str | None

    def __reduce__(self) -> NoReturn:
        _no_pickle(self)

    def _check(self, method: str) -> None:
        if self._owner._is_closed():
            raise error(f"cannot invoke {method}() - no mime handle")

    def _set_content(self, content: _Content) -> None:
        # Replacing the content releases the old one (libcurl's cleanup_part_content()).
        old = self._content
        self._content = content
        if isinstance(old, _Callbacks):
            old.free()
        elif isinstance(old, CurlMime) and old is not content:
            old._parent = None
            old.close()

    def name(self, name: str | bytes) -> None:
        """curl_mime_name: the part's field name."""
        self._check("name")
        self._name = _text(name)

    def data(self, data: Any) -> None:
        """curl_mime_data: in-memory content (bytes, ASCII str or a buffer), copied."""
        self._check("data")
        self._set_content(_data(data))

    def filedata(self, path: str | bytes) -> None:
        """curl_mime_filedata: the content is read from `path` during the transfer.

        Raises error(26) when the file does not exist or cannot be read now, as libcurl does;
        sets the part's filename to the file's base name.
        """
        self._check("filedata")
        raw = _text(path)
        try:
            os.stat(raw)
            readable = os.access(raw, os.R_OK)
        except OSError:
            readable = False
        if not readable:
            raise error(_codes.E_READ_ERROR, _codes.easy_strerror(_codes.E_READ_ERROR))
        self._set_content(FileSource(raw))
        stripped = raw.rstrip(b"/")
        self._filename = os.path.basename(stripped) if stripped else raw[:1]

    def data_cb(
        self,
        datasize: int | None,
        read: Callable[[Any, int], Any],
        seek: Callable[[Any, int, int], Any] | None = None,
        free: Callable[[Any], Any] | None = None,
        userdata: Any = None,
    ) -> None:
        """curl_mime_data_cb: content from `read(userdata, max_bytes)`; `datasize` None or -1
        when unknown; `seek(userdata, offset, origin)` lets the body be sent again; `free(userdata)`
        runs when the content is released."""
        self._check("data_cb")
        if datasize is not None and (not isinstance(datasize, int) or datasize < -1):
            raise error(
                _codes.E_BAD_FUNCTION_ARGUMENT, _codes.easy_strerror(_codes.E_BAD_FUNCTION_ARGUMENT)
            )
        for callback in (read, seek, free):
            if callback is not None and not callable(callback):
                raise TypeError("data_cb() callbacks must be callable")
        size = None if datasize is None or datasize < 0 else datasize
        self._set_content(_Callbacks(size, read, seek, free, userdata))

    def subparts(self, child: CurlMime) -> None:
        """curl_mime_subparts: `child` becomes this part's content, owned by this tree."""
        self._check("subparts")
        if not isinstance(child, CurlMime):
            raise TypeError("subparts() argument must be a CurlMime object")
        root = self._owner
        while root._parent is not None:
            root = root._parent._owner
        if child is self._owner or child is root:
            raise ValueError("subparts() does not accept the parent mime object")
        if child._closed:
            raise ValueError("subparts() received a closed mime object")
        if child._mimepost:
            raise ValueError("subparts() received a mime object currently set as MIMEPOST")
        if child._parent is not None and child._parent is not self:
            raise ValueError("subparts() received a mime object already attached")
        if child._curl is not self._owner._curl:
            raise ValueError("subparts() requires a CurlMime created with the same Curl handle")
        self._set_content(child)
        child._parent = self

    def filename(self, name: str | bytes) -> None:
        """curl_mime_filename: the remote file name sent for the part."""
        self._check("filename")
        self._filename = _text(name)

    def type(self, content_type: str | bytes) -> None:
        """curl_mime_type: the part's Content-Type."""
        self._check("type")
        self._type = _text(content_type)

    def headers(self, headers: list[str | bytes] | tuple[str | bytes, ...] | None) -> None:
        """curl_mime_headers: extra header lines for the part (None clears them)."""
        self._check("headers")
        if headers is None:
            self._headers = ()
            return
        if not isinstance(headers, (list, tuple)):
            raise TypeError("headers must be a list or tuple of strings")
        lines = []
        for item in headers:
            if not isinstance(item, (str, bytes)):
                raise TypeError("headers must contain only byte or ascii-unicode strings")
            lines.append(_text(item))
        self._headers = tuple(lines)

    def encoder(self, encoding: str | bytes) -> None:
        """curl_mime_encoder: binary, 8bit, 7bit, base64 or quoted-printable (any case).

        Raises error(43) for another name, as libcurl does.
        """
        self._check("encoder")
        wanted = _text(encoding).decode("ascii").lower()
        if wanted not in ENCODERS:
            raise error(
                _codes.E_BAD_FUNCTION_ARGUMENT, _codes.easy_strerror(_codes.E_BAD_FUNCTION_ARGUMENT)
            )
        self._encoder = wanted

    def _mime_part(self) -> MimePart:
        content = self._content
        source: bytes | FileSource | CallbackSource | MimeTree | None
        if isinstance(content, _Callbacks):
            source = CallbackSource(content.size, content.read, content.seek_start)
        elif isinstance(content, CurlMime):
            source = content._tree()
        else:
            source = content
        return MimePart(
            name=self._name,
            content=source,
            filename=self._filename,
            content_type=self._type,
            headers=self._headers,
            encoder=self._encoder,
        )


class CurlMime:
    """A MIME tree (pycurl.CurlMime), for `Curl.setopt(MIMEPOST, mime)`."""

    __slots__ = ("__weakref__", "_boundary", "_closed", "_curl", "_mimepost", "_parent", "_parts")

    def __init__(self, curl: Curl) -> None:
        if not isinstance(curl, Curl):
            raise TypeError(f"argument 1 must be pycurl.Curl, not {type(curl).__name__}")
        if curl.closed:
            raise error("cannot invoke CurlMime() - no curl handle")
        self._curl = curl
        self._parts: list[CurlMimePart] = []
        self._closed = False
        self._parent: CurlMimePart | None = None  # the part this tree is the content of
        self._mimepost = False
        self._boundary = new_boundary()

    def __repr__(self) -> str:
        state = "closed" if self._is_closed() else f"parts={len(self._parts)}"
        return f"<purecurl.CurlMime {state}>"

    def __reduce__(self) -> NoReturn:
        _no_pickle(self)

    def __enter__(self) -> CurlMime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """Whether this tree has been closed (itself, or through the tree that owns it)."""
        return self._is_closed()

    def _is_closed(self) -> bool:
        mime: CurlMime | None = self
        while mime is not None:
            if mime._closed:
                return True
            mime = mime._parent._owner if mime._parent is not None else None
        return False

    def _check(self, method: str) -> None:
        if self._is_closed():
            raise error(f"cannot invoke {method}() - no mime handle")

    def addpart(self) -> CurlMimePart:
        """curl_mime_addpart: a new, empty part at the end of this tree."""
        self._check("addpart")
        part = CurlMimePart._create(self)
        self._parts.append(part)
        return part

    def add(
        self,
        name: str | bytes | None = None,
        data: Any = None,
        file: str | bytes | None = None,
        filename: str | bytes | None = None,
        content_type: str | bytes | None = None,
        headers: list[str | bytes] | tuple[str | bytes, ...] | None = None,
        encoder: str | bytes | None = None,
    ) -> CurlMimePart:
        """Add a part with the given fields set; at most one of `data` and `file`."""
        self._check("add")
        if data is not None and file is not None:
            raise ValueError("add() accepts at most one of data or file")
        part = self.addpart()
        try:
            if name is not None:
                part.name(name)
            if data is not None:
                part.data(data)
            if file is not None:
                part.filedata(file)
            if filename is not None:
                part.filename(filename)
            if content_type is not None:
                part.type(content_type)
            if headers is not None:
                part.headers(headers)
            if encoder is not None:
                part.encoder(encoder)
        except BaseException:
            self._parts.remove(part)
            raise
        return part

    def add_field(
        self,
        name: str | bytes,
        value: Any,
        content_type: str | bytes | None = None,
        encoder: str | bytes | None = None,
        headers: list[str | bytes] | tuple[str | bytes, ...] | None = None,
    ) -> CurlMimePart:
        """A simple form field: `add(name=name, data=value, ...)`."""
        return self.add(
            name=name, data=value, content_type=content_type, headers=headers, encoder=encoder
        )

    def add_file(
        self,
        name: str | bytes,
        path: str | bytes,
        filename: str | bytes | None = None,
        content_type: str | bytes | None = None,
        headers: list[str | bytes] | tuple[str | bytes, ...] | None = None,
        encoder: str | bytes | None = None,
    ) -> CurlMimePart:
        """A file upload read from `path`: `add(name=name, file=path, ...)`."""
        return self.add(
            name=name,
            file=path,
            filename=filename,
            content_type=content_type,
            headers=headers,
            encoder=encoder,
        )

    def add_multipart(
        self, name: str | bytes | None = None, subtype: str | None = "mixed"
    ) -> CurlMime:
        """A nested multipart part (`multipart/<subtype>`); returns the child tree."""
        self._check("add_multipart")
        part = self.add(name=name)
        child = CurlMime(self._curl)
        part.subparts(child)
        if subtype is not None:
            part.type("multipart/" + subtype)
        return child

    def close(self) -> None:
        """curl_mime_free: release the tree; its data_cb `free` callbacks run."""
        if self._closed:
            return
        self._closed = True
        for part in self._parts:
            content = part._content
            if isinstance(content, _Callbacks):
                content.free()
            elif isinstance(content, CurlMime):
                content.close()

    # --- for the Curl face and the engine ---------------------------------------------------

    def _attach_mimepost(self, curl: Curl) -> None:
        """Check that this tree may be set as `curl`'s MIMEPOST, as pycurl does, and mark it.

        Raises ValueError with pycurl's messages for a closed tree, a tree made for another
        handle, or a tree attached inside another.
        """
        if self._is_closed():
            raise ValueError("setopt(option=MIMEPOST) received a closed mime object")
        if self._curl is not curl:
            raise ValueError(
                "setopt(option=MIMEPOST) requires a CurlMime created with this Curl handle"
            )
        if self._parent is not None:
            raise ValueError("setopt(option=MIMEPOST) received a mime object attached as subparts")
        self._mimepost = True

    def _detach_mimepost(self) -> None:
        """The handle no longer uses this tree as MIMEPOST (replaced, unset, reset)."""
        self._mimepost = False

    def _tree(self) -> MimeTree:
        return MimeTree([part._mime_part() for part in self._parts], self._boundary)

    def multipart_body(self, *, backslash_escape: bool = False) -> MultipartBody:
        """The request body for this tree as it stands now (purecurl's own; the engine's call).

        Raises `CurlError(E_READ_ERROR)` when a file part's file has gone, and
        `error("cannot invoke ...")` if the tree is closed.
        """
        self._check("perform")
        return MultipartBody(self._tree(), backslash_escape=backslash_escape)


register_class(Kind.MIME, CurlMime)
