"""multipart/form-data request bodies, built and streamed as libcurl's lib/mime.c does.

Theory of operation: a body is a tree. `MimePart` says what one part is (a name, one content
source, a filename, a type, extra headers, a transfer encoder, or a nested `MimeTree`);
`MimeTree` is an ordered list of parts with its boundary. `MultipartBody(tree)` is the request
body of an HTTP form post built from a tree: it works out every part's headers once (the rules
of libcurl's `Curl_mime_prepare_headers`, with the root typed `multipart/form-data`), knows its
`size` up front when every source's size is known, and streams its bytes through `read(n)`;
`rewind()` starts it again for a resend (307/308, auth retry).

Bytes on the wire, as libcurl 8 writes them (observed against pycurl 7.49 / libcurl 8.23):

    --B\\r\\n <headers, each CRLF-ended> \\r\\n <content> \\r\\n--B\\r\\n ... \\r\\n--B--\\r\\n

where B is `------------------------` and 22 random alphanumerics. A tree with no part is just
`--B--\\r\\n`. A nested tree is the content of its part, framed the same way with its own B.

Sources: in-memory bytes, a file path (opened on first read, streamed in pieces, never loaded
whole) and a callback pair (`read(n) -> bytes`, optional `seek_start() -> bool`). A file is
stat()ed when the body is built; a missing or unreadable one makes the constructor raise
`CurlError(26)` with libcurl's message — libcurl fails the same way when the transfer starts
(`Curl_getformdata` / `curl_mime_filedata` return CURLE_READ_ERROR). A file that fails later,
while being read, raises `CurlError(26, "read error getting mime data")` from `read()`, the
failf() text of libcurl's mime reader. A non-regular file (a directory, a FIFO) has an unknown
size, as in libcurl, so the whole body's `size` is None (the sender must use chunked framing).

Encoders are libcurl's five: binary, 8bit, 7bit (a byte with the high bit set is a read error),
base64 (76-column lines, CRLF between lines, none after the last) and quoted-printable (whose
size libcurl does not compute: the body's size becomes None unless the content is empty).

This module reads local files (the sources of file parts) but never touches a socket or reads
the clock.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import secrets
import stat
import string
from collections.abc import Callable, Iterator
from typing import Union

from purecurl import _codes, _consts
from purecurl._errors import CurlError, error
from purecurl._options import FormValue

# lib/mime.c: MIME_BOUNDARY_DASHES dashes, then MIME_RAND_BOUNDARY_CHARS random alphanumerics.
BOUNDARY_DASHES = 24
BOUNDARY_RANDOM_CHARS = 22
_ALNUM = string.ascii_letters + string.digits

# lib/mime.c: the content types Curl_mime_contenttype() knows, matched on the end of a file
# name without regard to case. Anything else is "unknown" (application/octet-stream for files).
_EXTENSION_TYPES = (
    (".gif", "image/gif"),
    (".jpg", "image/jpeg"),
    (".jpeg", "image/jpeg"),
    (".png", "image/png"),
    (".svg", "image/svg+xml"),
    (".txt", "text/plain"),
    (".htm", "text/html"),
    (".html", "text/html"),
    (".pdf", "application/pdf"),
    (".xml", "application/xml"),
)
FILE_CONTENTTYPE_DEFAULT = b"application/octet-stream"
MULTIPART_CONTENTTYPE_DEFAULT = b"multipart/mixed"

# libcurl's encoders (lib/mime.c `encoders[]`), by the name curl_mime_encoder() matches.
ENCODERS = ("binary", "8bit", "7bit", "base64", "quoted-printable")

# How much of a file is read at a time when streaming it.
FILE_CHUNK = 64 * 1024

# libcurl encodes base64 and quoted-printable in lines of at most this many characters.
_MAX_LINE = 76

_READ_FAILED = "read error getting mime data"


def content_type_for(filename: bytes | str | None) -> bytes | None:
    """The content type libcurl guesses from a file name's extension, or None."""
    if filename is None:
        return None
    name = os.fsdecode(filename).lower()
    for extension, ctype in _EXTENSION_TYPES:
        if name.endswith(extension):
            return ctype.encode("ascii")
    return None


def new_boundary() -> bytes:
    """A fresh boundary in libcurl's style: 24 dashes and 22 random alphanumerics."""
    tail = "".join(secrets.choice(_ALNUM) for _ in range(BOUNDARY_RANDOM_CHARS))
    return ("-" * BOUNDARY_DASHES + tail).encode("ascii")


def escape_name(value: bytes, backslash: bool = False) -> bytes:
    """A part name or filename escaped for a quoted Content-Disposition parameter.

    libcurl's default for HTTP percent-encodes `"` (%22), CR (%0D) and LF (%0A) and leaves the
    rest, backslash included; with CURLMIMEOPT_FORMESCAPE (`backslash=True`) it puts a
    backslash before `\\` and `"` instead (lib/mime.c escape_string()).
    """
    if backslash:
        return value.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
    return value.replace(b'"', b"%22").replace(b"\r", b"%0D").replace(b"\n", b"%0A")


# --- sources ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FileSource:
    """A part's content read from a local file, streamed when the body is read."""

    path: str | bytes


@dataclasses.dataclass(frozen=True)
class CallbackSource:
    """A part's content produced by the application.

    `read(n)` returns at most n bytes (b"" at the end) or raises `CurlError`; `seek_start()`
    rewinds to the start and says whether it could (None: cannot rewind). `size` is the total
    length, or None when unknown.
    """

    size: int | None
    read: Callable[[int], bytes]
    seek_start: Callable[[], bool] | None = None


Source = Union[bytes, FileSource, CallbackSource, "MimeTree", None]


@dataclasses.dataclass
class MimePart:
    """One part: what curl_mime_name/data/filedata/data_cb/subparts/filename/type/headers/
    encoder set on a `curl_mimepart`. `content` None is a part with no content (empty)."""

    name: bytes | None = None
    content: Source = None
    filename: bytes | None = None
    content_type: bytes | None = None
    headers: tuple[bytes, ...] = ()
    encoder: str | None = None


@dataclasses.dataclass
class MimeTree:
    """An ordered list of parts and the boundary that separates them (a `curl_mime`)."""

    parts: list[MimePart] = dataclasses.field(default_factory=list)
    boundary: bytes = dataclasses.field(default_factory=new_boundary)


# --- headers ---------------------------------------------------------------------------------


def _header_value(headers: tuple[bytes, ...], name: bytes) -> bytes | None:
    # lib/mime.c search_header(): a case-insensitive "Name:" prefix, value after blanks.
    prefix = name.lower() + b":"
    for line in headers:
        if line[: len(prefix)].lower() == prefix:
            return line[len(prefix) :].lstrip(b" \t")
    return None


def _type_matches(ctype: bytes, wanted: bytes) -> bool:
    # lib/mime.c content_type_match(): the type, then the end, a blank or a parameter.
    if ctype[: len(wanted)].lower() != wanted:
        return False
    rest = ctype[len(wanted) : len(wanted) + 1]
    return rest in (b"", b" ", b"\t", b";")


def _guess_type(part: MimePart) -> bytes | None:
    content = part.content
    if isinstance(content, MimeTree):
        return MULTIPART_CONTENTTYPE_DEFAULT
    if isinstance(content, FileSource):
        guessed = content_type_for(part.filename) or content_type_for(content.path)
        if guessed is None and part.filename is not None:
            guessed = FILE_CONTENTTYPE_DEFAULT
        return guessed
    return content_type_for(part.filename)


def part_headers(part: MimePart, disposition: bytes | None, backslash: bool) -> list[bytes]:
    """The header lines (without CRLF) libcurl writes before a part's content.

    `disposition` is what the enclosing multipart imposes: b"form-data" inside a
    multipart/form-data, None elsewhere (lib/mime.c Curl_mime_prepare_headers()).
    """
    custom = part.content_type
    if custom is None:
        custom = _header_value(part.headers, b"Content-Type")
    ctype = custom if custom is not None else _guess_type(part)
    boundary: bytes | None = None
    if isinstance(part.content, MimeTree):
        boundary = part.content.boundary
    elif (
        ctype is not None
        and custom is None
        and _type_matches(ctype, b"text/plain")
        and part.filename is None
    ):
        # A guessed text/plain is the default for a form field: libcurl leaves it out.
        ctype = None
    lines: list[bytes] = []
    if _header_value(part.headers, b"Content-Disposition") is None:
        if disposition is None and (
            part.filename is not None
            or part.name is not None
            or (ctype is not None and ctype[:10].lower() != b"multipart/")
        ):
            disposition = b"attachment"
        if disposition == b"attachment" and part.name is None and part.filename is None:
            disposition = None
        if disposition is not None:
            line = b"Content-Disposition: " + disposition
            if part.name is not None:
                line += b'; name="' + escape_name(part.name, backslash) + b'"'
            if part.filename is not None:
                line += b'; filename="' + escape_name(part.filename, backslash) + b'"'
            lines.append(line)
    if ctype is not None:
        line = b"Content-Type: " + ctype
        if boundary is not None:
            line += b"; boundary=" + boundary
        lines.append(line)
    if (
        part.encoder is not None
        and _header_value(part.headers, b"Content-Transfer-Encoding") is None
    ):
        lines.append(b"Content-Transfer-Encoding: " + part.encoder.encode("ascii"))
    # The caller's own Content-Type went out above, in libcurl's place for it.
    lines.extend(h for h in part.headers if h[:13].lower() != b"content-type:")
    return lines


# --- sizes -----------------------------------------------------------------------------------


def _file_size(source: FileSource) -> int | None:
    # curl_mime_filedata(): stat() and access() must succeed; only a regular file has a size.
    try:
        info = os.stat(source.path)
        readable = os.access(source.path, os.R_OK)
    except (OSError, ValueError):
        readable = False
    if not readable:
        raise CurlError(_codes.E_READ_ERROR, _codes.easy_strerror(_codes.E_READ_ERROR))
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _encoded_size(encoder: str | None, size: int | None) -> int | None:
    # lib/mime.c encoder_*_size().
    if size is None or encoder in (None, "binary", "8bit", "7bit"):
        return size
    if encoder == "base64":
        if size == 0:
            return 0
        chars = 4 * (1 + (size - 1) // 3)
        return chars + 2 * ((chars - 1) // _MAX_LINE)
    return 0 if size == 0 else None  # quoted-printable: unknown until encoded


# --- streaming -------------------------------------------------------------------------------


def _file_chunks(source: FileSource) -> Iterator[bytes]:
    try:
        handle = open(source.path, "rb")  # noqa: SIM115 - closed by the with below
    except IsADirectoryError:
        return  # libcurl's fread() on a directory reads nothing: the content is empty
    except OSError as exc:
        raise CurlError(_codes.E_READ_ERROR, _READ_FAILED) from exc
    with handle:
        while True:
            try:
                chunk = handle.read(FILE_CHUNK)
            except IsADirectoryError:
                return
            except OSError as exc:
                raise CurlError(_codes.E_READ_ERROR, _READ_FAILED) from exc
            if not chunk:
                return
            yield chunk


def _callback_chunks(source: CallbackSource) -> Iterator[bytes]:
    while True:
        chunk = source.read(FILE_CHUNK)
        if not chunk:
            return
        yield chunk


def _base64_chunks(chunks: Iterator[bytes]) -> Iterator[bytes]:
    # 57 input bytes make one 76-character line; lines are joined, not ended, by CRLF.
    pending = b""
    first = True
    for chunk in chunks:
        pending += chunk
        whole = len(pending) - len(pending) % 57
        if whole:
            lines = [base64.b64encode(pending[i : i + 57]) for i in range(0, whole, 57)]
            pending = pending[whole:]
            yield (b"" if first else b"\r\n") + b"\r\n".join(lines)
            first = False
    if pending:
        yield (b"" if first else b"\r\n") + base64.b64encode(pending)


# quoted-printable: bytes that go out as themselves (printable ASCII but "=", and blanks, which
# are encoded only before a line break or at the end).
_QP_PLAIN = frozenset(range(33, 127)) - {ord("=")}


def _qp_chunks(chunks: Iterator[bytes]) -> Iterator[bytes]:
    # Streamed with a carry of the last two bytes, the lookahead the rules need.
    carry = b""
    column = 0
    for chunk in chunks:
        data = carry + chunk
        out, used, column = _qp_block(data, column, final=False)
        carry = data[used:]
        if out:
            yield out
    out, _, _ = _qp_block(carry, column, final=True)
    if out:
        yield out


def _qp_block(data: bytes, column: int, final: bool) -> tuple[bytes, int, int]:
    # lib/mime.c encoder_qp_read(): CRLF is a line break; any other byte outside the plain set
    # is =XX; a blank is encoded when a line break or the end follows; a soft break "=\r\n"
    # keeps lines within 76 characters (76 itself only when a line break or the end follows).
    n = len(data)
    stop = n if final else n - 2
    out = bytearray()
    i = 0
    while i < stop:
        byte = data[i]
        if byte == 13 and data[i + 1 : i + 2] == b"\n":
            out += b"\r\n"
            column = 0
            i += 2
            continue
        at_break = i + 1 == n or data[i + 1 : i + 3] == b"\r\n"
        if byte in _QP_PLAIN or (byte in (32, 9) and not at_break):
            token = bytes((byte,))
        else:
            token = b"=%02X" % byte
        if column + len(token) > _MAX_LINE or (column + len(token) == _MAX_LINE and not at_break):
            out += b"=\r\n"
            column = 0
        out += token
        column += len(token)
        i += 1
    return bytes(out), i, column


def _seven_bit(chunks: Iterator[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        if any(b & 0x80 for b in chunk):
            raise CurlError(_codes.E_READ_ERROR, _READ_FAILED)
        yield chunk


_Encoder = Callable[[Iterator[bytes]], Iterator[bytes]]
_ENCODER_STREAMS: dict[str, _Encoder] = {
    "7bit": _seven_bit,
    "base64": _base64_chunks,
    "quoted-printable": _qp_chunks,
}


class MultipartBody:
    """A multipart/form-data request body, streamed.

    `content_type` is the request's Content-Type value (bytes), `size` the body's length in
    bytes or None when a source's size is unknown (send it chunked). `read(n)` returns the
    next at most n bytes (b"" at the end); `rewind()` starts again from the first byte;
    `close()` releases an open file (also done at the end and by rewind).

    The constructor raises `CurlError(E_READ_ERROR)` when a file part's file cannot be
    stat()ed or read; `read()` raises `CurlError` when a source fails while being read.
    """

    def __init__(self, tree: MimeTree, *, backslash_escape: bool = False) -> None:
        self.tree = tree
        self.backslash_escape = backslash_escape
        self.content_type = b"multipart/form-data; boundary=" + tree.boundary
        self._sizes: dict[int, int | None] = {}
        self.size = self._tree_size(tree, b"form-data")
        self._chunks: Iterator[bytes] | None = None
        self._pending = b""
        self._started = False

    def __repr__(self) -> str:
        return (
            f"<MultipartBody parts={len(self.tree.parts)} size={self.size} started={self._started}>"
        )

    # Sizes are worked out once; the file stat()s happen here, so a missing file fails the
    # build rather than the middle of an upload.
    def _tree_size(self, tree: MimeTree, disposition: bytes | None) -> int | None:
        delimiter = 2 + len(tree.boundary) + 2  # "--B" + CRLF (or "\r\n--B" + CRLF below)
        # "--B--\r\n", after a CRLF ending the last part's content when there is one.
        total: int | None = len(tree.boundary) + 6 + (2 if tree.parts else 0)
        for index, part in enumerate(tree.parts):
            size = self._part_size(part, disposition)
            if total is None or size is None:
                total = None
            else:
                total += size + delimiter + (2 if index else 0)
        return total

    def _part_size(self, part: MimePart, disposition: bytes | None) -> int | None:
        head = sum(len(line) + 2 for line in part_headers(part, disposition, self.backslash_escape))
        content = part.content
        raw: int | None
        if content is None:
            raw = 0
        elif isinstance(content, bytes):
            raw = len(content)
        elif isinstance(content, FileSource):
            raw = _file_size(content)
        elif isinstance(content, CallbackSource):
            raw = content.size
        else:
            raw = self._tree_size(content, self._child_disposition(part))
        size = _encoded_size(part.encoder, raw)
        return None if size is None else head + 2 + size

    def _child_disposition(self, part: MimePart) -> bytes | None:
        custom = part.content_type
        if custom is None:
            custom = _header_value(part.headers, b"Content-Type")
        ctype = custom if custom is not None else MULTIPART_CONTENTTYPE_DEFAULT
        return b"form-data" if _type_matches(ctype, b"multipart/form-data") else None

    def _tree_chunks(self, tree: MimeTree, disposition: bytes | None) -> Iterator[bytes]:
        for index, part in enumerate(tree.parts):
            lines = part_headers(part, disposition, self.backslash_escape)
            yield (b"\r\n" if index else b"") + b"--" + tree.boundary + b"\r\n"
            yield b"".join(line + b"\r\n" for line in lines) + b"\r\n"
            yield from self._content_chunks(part)
        yield (b"\r\n" if tree.parts else b"") + b"--" + tree.boundary + b"--\r\n"

    def _content_chunks(self, part: MimePart) -> Iterator[bytes]:
        content = part.content
        chunks: Iterator[bytes]
        if content is None:
            return
        if isinstance(content, bytes):
            chunks = iter((content,))
        elif isinstance(content, FileSource):
            chunks = _file_chunks(content)
        elif isinstance(content, CallbackSource):
            chunks = _callback_chunks(content)
        else:
            chunks = self._tree_chunks(content, self._child_disposition(part))
        encode = _ENCODER_STREAMS.get(part.encoder or "")
        yield from (encode(chunks) if encode is not None else chunks)

    def read(self, n: int) -> bytes:
        """The next at most `n` bytes of the body; b"" once it has all been read."""
        if n <= 0:
            return b""
        if self._chunks is None:
            self._chunks = self._tree_chunks(self.tree, b"form-data")
            self._started = True
        while len(self._pending) < n:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._pending += chunk
        data, self._pending = self._pending[:n], self._pending[n:]
        return data

    def rewind(self) -> None:
        """Start again from the first byte (libcurl's mime seek to 0).

        Raises `CurlError(E_SEND_FAIL_REWIND)` when a callback part that has been read cannot
        seek back.
        """
        self.close()
        if self._started:
            for source in _callback_sources(self.tree):
                if source.seek_start is None or not source.seek_start():
                    raise CurlError(
                        _codes.E_SEND_FAIL_REWIND,
                        _codes.easy_strerror(_codes.E_SEND_FAIL_REWIND),
                    )
        self._started = False

    def close(self) -> None:
        """Close the file being read, if any, and forget the read position."""
        if self._chunks is not None:
            close = getattr(self._chunks, "close", None)
            if close is not None:
                close()
        self._chunks = None
        self._pending = b""


def _callback_sources(tree: MimeTree) -> Iterator[CallbackSource]:
    for part in tree.parts:
        if isinstance(part.content, CallbackSource):
            yield part.content
        elif isinstance(part.content, MimeTree):
            yield from _callback_sources(part.content)


# --- HTTPPOST (curl_formadd) -----------------------------------------------------------------

# CURLFORMcode values pycurl reports as `error(code, curl_easy_strerror(code))`.
FORMADD_OPTION_TWICE = 2
FORMADD_INCOMPLETE = 5


@dataclasses.dataclass
class _FormNode:
    # One curl_formadd() FormInfo: the first of a pair, or a further FORM_FILE of it.
    value: bytes | None = None
    is_file: bool = False
    buffer: bytes | None = None
    showfilename: bytes | None = None
    content_type: bytes | None = None


def _formadd_error(code: int) -> error:
    return error(code, _codes.easy_strerror(code))


def _form_nodes(options: tuple[tuple[int, bytes], ...]) -> list[_FormNode]:
    node = _FormNode()
    nodes = [node]
    for option, value in options:
        if option == _consts.FORM_CONTENTS:
            if node.value is not None:
                raise _formadd_error(FORMADD_OPTION_TWICE)
            node.value = value
        elif option == _consts.FORM_FILE:
            if node.value is not None and not node.is_file:
                raise _formadd_error(FORMADD_OPTION_TWICE)
            if node.value is not None:
                # A further file of the same field: libcurl sends them as multipart/mixed.
                node = _FormNode()
                nodes.append(node)
            node.value = value
            node.is_file = True
        elif option == _consts.FORM_BUFFERPTR:
            # curl_formadd() stores the pointer as the value too, unchecked ("make it non-NULL
            # to be accepted"): after a FORM_FILE it even replaces the file's path.
            if node.buffer is not None:
                raise _formadd_error(FORMADD_OPTION_TWICE)
            node.buffer = value
            node.value = value
        elif option in (_consts.FORM_FILENAME, _consts.FORM_BUFFER):
            # FORM_BUFFER only names the upload, as FORM_FILENAME does.
            if node.showfilename is not None:
                raise _formadd_error(FORMADD_OPTION_TWICE)
            node.showfilename = value
        elif option == _consts.FORM_CONTENTTYPE:
            # libcurl answers a second type on a file by starting a file entry with no path,
            # which crashes pycurl 7.49 / libcurl 8.23 at perform (observed); purecurl refuses
            # it at setopt as it refuses every other repeated option.
            if node.content_type is not None:
                raise _formadd_error(FORMADD_OPTION_TWICE)
            node.content_type = value
    previous_type: bytes | None = None
    for node in nodes:
        if node.value is None:
            raise _formadd_error(FORMADD_INCOMPLETE)
        is_buffer = node.buffer is not None and not node.is_file
        if (node.is_file or is_buffer) and node.content_type is None:
            guess_from = node.showfilename if is_buffer else node.value
            node.content_type = (
                content_type_for(guess_from) or previous_type or FILE_CONTENTTYPE_DEFAULT
            )
        previous_type = node.content_type
    return nodes


def _base_name(path: bytes) -> bytes:
    # libcurl strippath(): basename() of the path.
    stripped = path.rstrip(b"/")
    return os.path.basename(stripped) if stripped else path[:1]


def _form_file_part(node: _FormNode, showfilename: bytes | None) -> MimePart:
    assert node.value is not None
    return MimePart(
        content=FileSource(node.value),
        filename=showfilename if showfilename is not None else _base_name(node.value),
        content_type=node.content_type,
    )


def tree_from_httppost(pairs: list[tuple[bytes, FormValue]]) -> MimeTree:
    """The MIME tree libcurl builds from an HTTPPOST list (as `_options` normalises it).

    Follows curl_formadd() and Curl_getformdata(): a plain value is a field; FORM_CONTENTS is a
    field (FORM_FILENAME is then not sent); FORM_FILE a file part named after the file (or
    FORM_FILENAME) typed from the file's extension (or FORM_CONTENTTYPE, else the type of the
    file before it in the same pair, else application/octet-stream), several FORM_FILE in one
    pair a multipart/mixed part holding them; FORM_BUFFER + FORM_BUFFERPTR an in-memory file.

    Raises `error(2, ...)` for an option given twice and `error(5, ...)` for an incomplete pair
    (curl_formadd's CURL_FORMADD_OPTION_TWICE / _INCOMPLETE, reported by pycurl through
    curl_easy_strerror as these numbers). Touches no file: a missing one fails when the body
    is built (`MultipartBody`), as in libcurl.
    """
    tree = MimeTree()
    for name, value in pairs:
        if isinstance(value, bytes):
            tree.parts.append(MimePart(name=name, content=value))
            continue
        nodes = _form_nodes(value)
        first = nodes[0]
        if len(nodes) > 1:
            files = [_form_file_part(node, first.showfilename) for node in nodes]
            tree.parts.append(MimePart(name=name, content=MimeTree(files)))
        elif first.is_file:
            part = _form_file_part(first, first.showfilename)
            part.name = name
            tree.parts.append(part)
        elif first.buffer is not None:
            tree.parts.append(
                MimePart(
                    name=name,
                    content=first.buffer,
                    filename=first.showfilename,
                    content_type=first.content_type,
                )
            )
        else:
            tree.parts.append(
                MimePart(name=name, content=first.value, content_type=first.content_type)
            )
    return tree


def body_from_httppost(pairs: list[tuple[bytes, FormValue]]) -> MultipartBody:
    """`MultipartBody(tree_from_httppost(pairs))`: raises `error` as that does, and
    `CurlError(E_READ_ERROR)` for a file that cannot be read."""
    return MultipartBody(tree_from_httppost(pairs))
