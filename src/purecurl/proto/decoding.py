"""Sans-IO HTTP content and transfer decoding: libcurl's lib/content_encoding.c, bounded in memory.

Theory of operation
-------------------
A `ContentDecoder` is the stack of decoders for one response body, built from the response's
Content-Encoding field values (and, when CURLOPT_TRANSFER_ENCODING asked for it, its
Transfer-Encoding values). Codings are listed in the order they were applied, so they are undone
in reverse: the last one listed is the first stage to see the wire bytes, and transfer codings
come off before content codings (RFC 9110 8.4, RFC 9112 6.1). "identity" (alias "none") is a
stage that does nothing; "chunked" is left to the HTTP/1 parser.

The decoder is a pull machine, like h11: `feed(data)` hands it the body bytes of one recv,
`feed_eof()` says the body is complete, and `next_chunk()` returns the next piece of decoded
output, at most `chunk_size` bytes, or b"" when it needs more input (or has nothing more to
give). Every stage keeps at most one input piece and a bounded amount of output, and is only
asked for more output when the stage after it has used up what it had, so however compressed
the body is, the decoder never holds more than a few chunks at a time: the engine delivers
each chunk to the write callback before asking for the next, and a paused transfer simply stops
pulling (and stops feeding: input it feeds before pulling is queued as given).
`decode(data)` and `finish()` wrap that in an iterator; abandoning such an iterator loses
nothing, as all state lives in the decoder. The decoder never touches a socket or a clock.

Each stage bounds its output with its library's own limit: zlib's `max_length` and
`unconsumed_tail`, brotli's `output_buffer_limit` / `can_accept_more_data()`, Python 3.14's
`compression.zstd` `max_length`. The `zstandard` package has no output limit, so its input is
fed in slices of `_ZSTD_STEP` (16) bytes: a zstd block, at most 128 KiB of output, takes at
least 4 input bytes, so one slice yields at most about 640 KiB.

Errors are raised from `next_chunk()` as `CurlError` after all the output decoded before them
has been returned, as libcurl writes decoded data before it reports the failure.

libcurl facts this follows (lib/content_encoding.c, behaviours measured against libcurl 8.23
with zlib 1.2.13 and brotli 1.2; tests/unit/test_decoding.py compares with it through pycurl):
- decoders, in the order of Curl_all_content_encodings(): deflate, gzip (alias x-gzip), br,
  zstd -- only those built in; CURLOPT_ACCEPT_ENCODING "" sends them joined by ", "
  ("deflate, gzip, br"), any other value is sent as given;
- a field value is split at commas; blanks and commas before a name are skipped and the name
  runs to the next comma, ending at its last character above ' ' and below 0x80 (libcurl
  compares `char > ' '` with a signed char); names compare case-insensitively ("gzip;q=1" and
  "foo bar" are names, unknown ones);
- at most MAX_ENCODE_STACK = 5 codings per phase, identity included and, for transfer codings,
  chunked included (a repeated chunked is checked but not counted again): the 6th is
  CURLE_BAD_CONTENT_ENCODING "Reject response exceeding limit of 5 content encodings" (or
  "transfer encodings"), raised when the decoder is built, before any body;
- an unknown coding fails only when body bytes reach it: CURLE_BAD_CONTENT_ENCODING
  "Unrecognized content encoding type" (libcurl 8.23 no longer lists the known ones); an empty
  body, or a stage before it producing no output, is no error;
- gzip is zlib's inflate with automatic header detection (MAX_WBITS + 32): zlib parses the
  RFC 1952 header (FEXTRA, FNAME, FCOMMENT, FHCRC) and checks the CRC-32 and ISIZE trailer, and
  also accepts a zlib-wrapped stream. deflate is zlib-wrapped (RFC 1950); when that fails with
  a data error before output started, libcurl starts again as raw deflate (RFC 1951) on the
  same bytes and then tolerates up to 4 bytes after the raw stream;
- a corrupt stream is CURLE_BAD_CONTENT_ENCODING "Error while processing content unencoding:
  <zlib's msg>" ("... Unknown failure within decompression software." when zlib gives none, as
  for a preset dictionary); a corrupt br or zstd stream is CURLE_BAD_CONTENT_ENCODING with
  curl_easy_strerror's text (libcurl sets no message);
- bytes after the end of the stream (beyond raw deflate's 4) are CURLE_WRITE_ERROR with
  curl_easy_strerror's text "Failed writing received data to disk/application", except that a
  gzip stage seeing 1f 8b there says "Multi-member gzip response not supported" (libcurl 8.23
  does not decode further gzip members); zstd decodes concatenated frames;
- a body that ends inside a stream is not an error: libcurl delivers what it could decode and
  the transfer succeeds (check `complete` to tell).

Where libcurl's result depends on how the body happened to be split into recv() calls, this
module picks one answer that does not (Hypothesis checks any split gives the same output):
- raw-deflate fallback: libcurl retries as raw while its first write call has flushed no
  output, and inflate(Z_BLOCK) first flushes at the end of the first deflate block or after
  16 KiB of output. Python's zlib does not report block boundaries, so the retry here happens
  on a data error before 16 KiB of output (withheld until then) that is not a trailer check
  failure ("incorrect data check"/"incorrect length check" come after the last block), and
  while at most 16 KiB of input has been seen. A stream whose first block is short and whose
  second block is corrupt gets libcurl's raw-retry message instead of zlib's;
- a second gzip member is recognised whenever 1f 8b follow the first; libcurl only sees them
  within the same write call (otherwise it gives the plain write error);
- output before an error: Python's zlib drops the output of the call that fails, libcurl that
  of the inflate() call that fails (since the last block end or 16 KiB flush). A bad trailer
  (CRC-32, ISIZE, Adler-32) comes after the last block, which libcurl flushed: here the
  failing call is decoded again, up to the failing byte, from a copy of the decompressor taken
  before it (zlib's copy() costs about a microsecond), so all the data comes out, as in
  libcurl. For an error inside the data the prefix delivered may differ, by less than 16 KiB
  (of 2000 random one-bit corruptions of gzip and deflate bodies, one came out differently;
  all gave libcurl's code and message). The brotli bindings drop the output of a failing call
  too, while libcurl writes it: less may come out before a br error, and a corrupt br stream
  that brotli does not reject may decode to other bytes than libcurl's;
- with the `brotli` package a stream end followed by more bytes in the same piece is reported
  as a corrupt stream (the package says only "decoder failed"); with `brotlicffi`, and when
  the extra bytes come in a later piece, it is libcurl's write error.

Facts read in content_encoding.c but not measured (this libcurl has no zstd): a zstd error is
CURLE_BAD_CONTENT_ENCODING with no message of its own; ZSTD_decompressStream goes on across
frames, so concatenated frames decode and bytes after the last frame are a zstd error.
"""

from __future__ import annotations

import importlib
import re
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any, Final, Protocol

from .._codes import E_BAD_CONTENT_ENCODING, E_WRITE_ERROR, easy_strerror
from .._errors import CurlError

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "MAX_ENCODE_STACK",
    "ContentDecoder",
    "accept_encoding_value",
    "supported_encodings",
]

# libcurl: DECOMPRESS_BUFFER_SIZE. libcurl hands decoded data to the write callback in pieces of
# this size, and a failing inflate() call loses at most this much: the same here.
DEFAULT_CHUNK_SIZE: Final = 16384
# libcurl: MAX_ENCODE_STACK (lib/content_encoding.c), per phase (content / transfer).
MAX_ENCODE_STACK: Final = 5
# libcurl: DECOMPRESS_BUFFER_SIZE, the output buffer whose first flush ends the raw retry window.
_FIRST_FLUSH: Final = 16384
# How much input a deflate stage keeps for a raw retry (libcurl: its first write call, at most
# CURL_MAX_WRITE_SIZE = 16 KiB).
_RETRY_INPUT: Final = 16384
# Bytes a raw deflate stream may be followed by (libcurl: trailerlen = 4).
_RAW_TRAILER: Final = 4
# zstandard's input slice: a zstd block (at most 128 KiB of output) takes at least 4 bytes, so
# one slice yields at most about 640 KiB.
_ZSTD_STEP: Final = 16

_Z_DATA_ERROR: Final = -3
# CPython's zlib.error text: "Error <code> while decompressing data[: <zlib's msg>]".
_ZLIB_ERROR = re.compile(r"Error (-?\d+) while decompressing data(?:: (.*))?", re.S)
# zlib's messages for a bad trailer: they come after the last deflate block.
_TRAILER_ERRORS: Final = frozenset({"incorrect data check", "incorrect length check"})
_GZIP_MAGIC: Final = b"\x1f\x8b"

_UNRECOGNIZED: Final = "Unrecognized content encoding type"
_MULTI_MEMBER: Final = "Multi-member gzip response not supported"


# -- optional backends ----------------------------------------------------------------------


class _BrotliDecompressor(Protocol):
    """The streaming API shared by `brotli` >= 1.2 and `brotlicffi` >= 1.2."""

    def process(self, data: bytes, output_buffer_limit: int = ...) -> bytes: ...
    def is_finished(self) -> bool: ...
    def can_accept_more_data(self) -> bool: ...


def _optional_module(name: str) -> Any:
    """Return module `name`, or None when it cannot be imported (an optional dependency)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _find_brotli() -> Any:
    """Return a brotli module whose Decompressor can bound its output, or None."""
    for name in ("brotli", "brotlicffi"):
        module = _optional_module(name)
        decompressor = getattr(module, "Decompressor", None)
        if decompressor is not None and hasattr(decompressor, "can_accept_more_data"):
            return module
    return None


def _find_zstd() -> tuple[str, Any] | None:
    """Return ("stdlib" | "zstandard", module) for zstd support, or None."""
    module = _optional_module("compression.zstd")  # Python 3.14
    if module is not None:
        return "stdlib", module
    module = _optional_module("zstandard")
    if module is not None:
        return "zstandard", module
    return None


_BROTLI: Any = _find_brotli()
_ZSTD: tuple[str, Any] | None = _find_zstd()


def codec_versions() -> list[str]:
    """The optional codec libraries in use as libcurl's version string names them
    ("brotli/1.2.0", "zstd/1.5.6"); software looks for "brotli" there (Tornado does)."""
    out = []
    if _BROTLI is not None:
        out.append(f"brotli/{_dist_version(_BROTLI.__name__)}")
    if _ZSTD is not None:
        kind, module = _ZSTD
        ver = getattr(module, "ZSTD_VERSION", None) if kind == "zstandard" else None
        if isinstance(ver, tuple):
            ver = ".".join(str(x) for x in ver)
        out.append(f"zstd/{ver or _dist_version('zstandard')}")
    return out


def _dist_version(name: str) -> str:
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:
        return "unknown"


def supported_encodings() -> list[str]:
    """Return the content codings this build decodes, in libcurl's order.

    "deflate" and "gzip" always; "br" when `brotli` or `brotlicffi` (>= 1.2) is importable,
    "zstd" when `compression.zstd` (Python 3.14) or `zstandard` is.
    """
    names = ["deflate", "gzip"]
    if _BROTLI is not None:
        names.append("br")
    if _ZSTD is not None:
        names.append("zstd")
    return names


def accept_encoding_value(option_value: str) -> str:
    """Return the Accept-Encoding field value libcurl sends for CURLOPT_ACCEPT_ENCODING.

    "" means every supported coding, as libcurl lists them ("deflate, gzip, br"); anything
    else is sent as given.
    """
    if option_value:
        return option_value
    return ", ".join(supported_encodings())


# -- parsing the field values ---------------------------------------------------------------


def _coding_names(value: str | bytes) -> Iterator[str]:
    """Yield the coding names of one field value, split and trimmed as libcurl does."""
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    end = len(text)
    i = 0
    while i < end:
        while i < end and text[i] in " \t,":
            i += 1
        start = stop = i
        while i < end and text[i] != ",":
            if " " < text[i] < "\x80":
                stop = i + 1
            i += 1
        if stop > start:
            yield text[start:stop]


def _plan(values: Iterable[str | bytes], phase: str) -> list[str]:
    """Return the lower-cased codings to undo, in the order listed; raise past the limit."""
    names: list[str] = []
    chunked = False
    for value in values:
        for raw in _coding_names(value):
            if len(names) + chunked + 1 > MAX_ENCODE_STACK:
                raise CurlError(
                    E_BAD_CONTENT_ENCODING,
                    f"Reject response exceeding limit of {MAX_ENCODE_STACK} {phase} encodings",
                )
            name = raw.lower() if raw.isascii() else raw
            if phase == "transfer" and name == "chunked":
                chunked = True  # the HTTP/1 parser removes it; a repeat is not counted again
            else:
                names.append(name)
    return names


# -- stages -----------------------------------------------------------------------------------


class _Stage:
    """One decoder of the stack.

    `give(data)` is called only after `step()` returned b"" (the stage needs input);
    `step(limit)` returns up to `limit` bytes of output, b"" when it needs more input (or is
    finished), and raises the stage's error once the output before it has been returned;
    `end()` says no more input will come.
    """

    name = "?"

    def __init__(self) -> None:
        self.ended = False  # end() was called: no more input
        self.complete = False  # the stream's own end was seen
        self._stopped = False  # nothing more to decode (stream end or error)
        self._out: deque[bytes] = deque()
        self._error: CurlError | None = None

    def __repr__(self) -> str:
        return self.name

    def give(self, data: bytes) -> None:
        raise NotImplementedError

    def step(self, limit: int) -> bytes:
        raise NotImplementedError

    def end(self) -> None:
        self.ended = True

    def _queue(self, data: bytes, limit: int) -> None:
        """Queue `data` as pieces of at most `limit` bytes."""
        if len(data) <= limit:
            self._out.append(data)
        else:
            view = memoryview(data)
            for at in range(0, len(data), limit):
                self._out.append(bytes(view[at : at + limit]))

    def _fail(self, code: int, message: str) -> None:
        if self._error is None:
            self._error = CurlError(code, message)

    def _write_error(self) -> None:
        self._fail(E_WRITE_ERROR, easy_strerror(E_WRITE_ERROR))

    def _pending(self) -> bytes | None:
        """Return queued output, raise the error after it, or None when there is neither."""
        if self._out:
            return self._out.popleft()
        if self._error is not None:
            raise self._error
        return None


class _Unrecognized(_Stage):
    """An unknown coding: fails as soon as body bytes reach it (libcurl's error_writer)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.complete = True  # nothing to decode until bytes arrive

    def give(self, data: bytes) -> None:
        if data:
            self._fail(E_BAD_CONTENT_ENCODING, _UNRECOGNIZED)

    def step(self, limit: int) -> bytes:
        pending = self._pending()
        return b"" if pending is None else pending


class _Zlib(_Stage):
    """gzip (zlib with header detection) or deflate (zlib-wrapped, raw as a fallback)."""

    def __init__(self, gzip: bool) -> None:
        super().__init__()
        self.name = "gzip" if gzip else "deflate"
        self._gzip = gzip
        self._raw = False
        self._z = zlib.decompressobj(zlib.MAX_WBITS + 32 if gzip else zlib.MAX_WBITS)
        self._in = b""  # input not handed to zlib yet
        self._flushing = False  # zlib may hold output that needs no more input
        self._extra = b""  # bytes seen after the end of the stream
        self._closed = False
        # The raw retry window (deflate only): the input so far, and the output withheld.
        self._retry: bytearray | None = None if gzip else bytearray()
        self._withheld: list[bytes] = []
        self._withheld_size = 0

    def give(self, data: bytes) -> None:
        if self._stopped:
            self._after_end(data)
            return
        if self._retry is not None:
            if len(self._retry) + len(data) > _RETRY_INPUT:
                self._commit()
            else:
                self._retry += data
        self._in = data

    def step(self, limit: int) -> bytes:
        while True:
            pending = self._pending()
            if pending is not None:
                return pending
            if self._stopped or not (self._in or self._flushing):
                if self.ended and not self._closed:
                    self._close()
                    continue
                return b""
            data, self._in = self._in, b""
            # In the raw retry window, stop where libcurl's 16 KiB buffer fills and flushes.
            cap = limit if self._retry is None else min(limit, _FIRST_FLUSH - self._withheld_size)
            before = self._z.copy()  # about 1 us: lets a bad trailer keep the output before it
            try:
                out = self._z.decompress(data, cap)
            except zlib.error as exc:
                self._inflate_failed(exc, before, data)
                continue
            # Output zlib still holds (max_length reached) comes before any new input.
            self._in = self._z.unconsumed_tail
            self._flushing = len(out) == cap
            if self._z.eof:
                self.complete = self._stopped = True
                if self._retry is not None:
                    self._withhold(out)
                    out = b""
                    self._commit()
                self._after_end(self._z.unused_data)
            if out:
                if self._retry is None:
                    return out
                self._withhold(out)

    def _withhold(self, out: bytes) -> None:
        """Keep `out` during the raw retry window; end the window at libcurl's first flush."""
        if out:
            self._withheld.append(out)
            self._withheld_size += len(out)
        if self._withheld_size >= _FIRST_FLUSH:
            self._commit()

    def _commit(self) -> None:
        """Close the raw retry window: release withheld output, drop the kept input."""
        self._retry = None
        self._out.extend(self._withheld)
        self._withheld = []
        self._withheld_size = 0

    def _inflate_failed(self, exc: zlib.error, before: Any, data: bytes) -> None:
        match = _ZLIB_ERROR.fullmatch(str(exc))
        code = int(match.group(1)) if match else 0
        message = match.group(2) if match else None
        if message in _TRAILER_ERRORS:
            # libcurl's inflate(Z_BLOCK) returned at the end of the last block and wrote its
            # output before reading the trailer: decode the failing call again to recover the
            # output Python's zlib dropped with the exception.
            recovered = _decode_until_error(before, data)
            if self._retry is None:
                self._out.append(recovered)
            else:
                self._withhold(recovered)
        elif self._retry is not None and code == _Z_DATA_ERROR:
            # libcurl: "some servers seem to not generate zlib headers" -> raw deflate, on
            # all the input so far, then tolerating 4 bytes after the stream.
            self._in = bytes(self._retry)
            self._retry = None
            self._withheld = []
            self._withheld_size = 0
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)
            self._raw = True
            self._flushing = False
            return
        if self._retry is not None:
            self._commit()
        self._stopped = True
        self._fail(
            E_BAD_CONTENT_ENCODING,
            "Error while processing content unencoding: "
            + (message or "Unknown failure within decompression software."),
        )

    def _after_end(self, data: bytes) -> None:
        """Judge bytes that follow the end of the stream (libcurl's process_trailer)."""
        if not data or self._error is not None:
            return
        allowed = _RAW_TRAILER if self._raw else 0
        self._extra += data[: allowed + 2 - len(self._extra)]
        if len(self._extra) <= allowed:
            return
        if self._gzip:
            if self._extra == b"\x1f":
                return  # the second byte decides
            if self._extra.startswith(_GZIP_MAGIC):
                self._fail(E_WRITE_ERROR, _MULTI_MEMBER)
                return
        self._write_error()

    def _close(self) -> None:
        """No more input: release withheld output; a lone 1f after gzip is the plain error."""
        self._closed = self._stopped = True
        if self._retry is not None:
            self._commit()
        if len(self._extra) > (_RAW_TRAILER if self._raw else 0):
            self._write_error()


class _Brotli(_Stage):
    """br (RFC 7932) through `brotli` or `brotlicffi`."""

    name = "br"

    def __init__(self) -> None:
        super().__init__()
        self._dec: _BrotliDecompressor = _BROTLI.Decompressor()
        self._in = b""
        self._flushing = False

    def give(self, data: bytes) -> None:
        if self._stopped:
            if data and self.complete:
                self._write_error()  # libcurl: "Stream already ended"
            return
        self._in = data

    def step(self, limit: int) -> bytes:
        while True:
            pending = self._pending()
            if pending is not None:
                return pending
            if self._stopped:
                return b""
            if self._flushing or not self._dec.can_accept_more_data():
                data = b""  # output the decoder still holds comes before new input
            elif self._in:
                data, self._in = self._in, b""
            else:
                return b""
            try:
                out = self._dec.process(data, output_buffer_limit=limit)
            except _BROTLI.error as exc:
                self._stopped = True
                if "trailing data" in str(exc):  # brotlicffi says so; brotli cannot
                    self._write_error()
                else:
                    self._fail(E_BAD_CONTENT_ENCODING, easy_strerror(E_BAD_CONTENT_ENCODING))
                continue
            # can_accept_more_data() only says the input was taken: output may remain.
            self._flushing = len(out) >= limit
            if self._dec.is_finished():
                self.complete = self._stopped = True
            if out:
                self._queue(out, limit)


class _Zstandard(_Stage):
    """zstd (RFC 8878) through the `zstandard` package; concatenated frames are decoded."""

    name = "zstd"

    def __init__(self, module: Any) -> None:
        super().__init__()
        self._module = module
        self._dec = module.ZstdDecompressor().decompressobj()
        self._in = memoryview(b"")
        self._at = 0

    def give(self, data: bytes) -> None:
        self._in = memoryview(data)
        self._at = 0

    def step(self, limit: int) -> bytes:
        while True:
            pending = self._pending()
            if pending is not None:
                return pending
            if self._at >= len(self._in):
                return b""
            # This API has no output limit: feed small slices until `limit` bytes came out,
            # gathering small outputs into one piece and passing large ones on uncopied.
            gathered = bytearray()
            while self._at < len(self._in) and len(gathered) < limit:
                piece = self._in[self._at : self._at + _ZSTD_STEP]
                self._at += len(piece)
                try:
                    out = self._decompress(piece)
                except self._module.ZstdError:
                    self._at = len(self._in)
                    self._fail(E_BAD_CONTENT_ENCODING, easy_strerror(E_BAD_CONTENT_ENCODING))
                    break
                if len(out) >= limit:
                    if gathered:
                        self._queue(bytes(gathered), limit)
                        gathered.clear()
                    self._queue(out, limit)
                    break
                gathered += out
            if gathered:
                self._queue(bytes(gathered), limit)

    def _decompress(self, piece: memoryview | bytes) -> bytes:
        out: bytes = self._dec.decompress(piece)
        if self._dec.eof:
            # libcurl's ZSTD_decompressStream goes on with the next frame.
            rest: bytes = self._dec.unused_data
            self._dec = self._module.ZstdDecompressor().decompressobj()
            self.complete = True
            if rest:
                out += self._decompress(rest)
        elif piece:
            self.complete = False
        return out


class _StdlibZstd(_Stage):
    """zstd through Python 3.14's `compression.zstd`; concatenated frames are decoded."""

    name = "zstd"

    def __init__(self, module: Any) -> None:
        super().__init__()
        self._module = module
        self._dec = module.ZstdDecompressor()
        self._in = b""

    def give(self, data: bytes) -> None:
        self._in = data

    def step(self, limit: int) -> bytes:
        while True:
            pending = self._pending()
            if pending is not None:
                return pending
            if self._stopped:
                return b""
            if self._dec.needs_input:
                if not self._in:
                    return b""
                data, self._in = self._in, b""
                self.complete = False
            else:
                data = b""
            try:
                out: bytes = self._dec.decompress(data, limit)
            except self._module.ZstdError:
                self._stopped = True
                self._fail(E_BAD_CONTENT_ENCODING, easy_strerror(E_BAD_CONTENT_ENCODING))
                continue
            if self._dec.eof:
                # libcurl's ZSTD_decompressStream goes on with the next frame.
                self.complete = True
                self._in = self._dec.unused_data + self._in
                self._dec = self._module.ZstdDecompressor()
            if out:
                return out


def _decode_until_error(z: Any, data: bytes) -> bytes:
    """Return what decompressor `z` outputs from `data` before it fails.

    Used after a call failed that did not stop at max_length, so the output is smaller than
    that call's limit. Slices of 256 bytes, and the failing slice again a byte at a time.
    """
    out = bytearray()
    at, step = 0, 256
    while at < len(data):
        before = z.copy()
        try:
            out += z.decompress(data[at : at + step])
        except zlib.error:
            if step == 1:
                break
            z, step = before, 1
            continue
        at += step
    return bytes(out)


def _stage(name: str) -> _Stage | None:
    """Return a new stage for coding `name` (lower-cased), None for identity."""
    if name in ("identity", "none"):
        return None
    if name in ("gzip", "x-gzip"):
        return _Zlib(gzip=True)
    if name == "deflate":
        return _Zlib(gzip=False)
    if name == "br" and _BROTLI is not None:
        return _Brotli()
    if name == "zstd" and _ZSTD is not None:
        kind, module = _ZSTD
        return _StdlibZstd(module) if kind == "stdlib" else _Zstandard(module)
    return _Unrecognized(name)


# -- the stack ----------------------------------------------------------------------------------


class ContentDecoder:
    """The decoders for one response body, undoing its codings in reverse order.

    `content_encoding` holds the Content-Encoding field values as received (one per field;
    pass none when CURLOPT_ACCEPT_ENCODING is unset or HTTP_CONTENT_DECODING is off), and
    `transfer_encoding` the Transfer-Encoding values when CURLOPT_TRANSFER_ENCODING asked for
    transfer decoding ("chunked" in them is counted, not decoded). Output comes in pieces of at
    most `chunk_size` bytes.

    Raises CurlError(CURLE_BAD_CONTENT_ENCODING) when a phase lists more than
    MAX_ENCODE_STACK codings. libcurl 8.23 reads Content-Encoding (and so applies that limit)
    for every response that may have a body, error statuses and HEAD requests included, but
    not for 204 or 304 (measured).
    """

    def __init__(
        self,
        content_encoding: Iterable[str | bytes] = (),
        transfer_encoding: Iterable[str | bytes] = (),
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        transfer = _plan(transfer_encoding, "transfer")
        content = _plan(content_encoding, "content")
        self.chunk_size = chunk_size
        self.encodings: tuple[str, ...] = tuple(transfer + content)
        stages = (_stage(name) for name in [*reversed(transfer), *reversed(content)])
        self._stages: list[_Stage] = [stage for stage in stages if stage is not None]
        self._input: deque[bytes] = deque()
        self._eof = False
        self._error: CurlError | None = None

    def __repr__(self) -> str:
        stages = " < ".join(map(repr, reversed(self._stages))) or "identity"
        state = "failed" if self._error else "eof" if self._eof else "open"
        queued = sum(map(len, self._input))
        return f"<ContentDecoder {stages} {state} input={queued}>"

    @property
    def passthrough(self) -> bool:
        """True when no stage changes the bytes (no codings, or identity only)."""
        return not self._stages

    @property
    def complete(self) -> bool:
        """True when every stage saw the end of its stream (after all output was read).

        False after a truncated body, which libcurl (and this decoder) does not report.
        """
        return all(stage.complete for stage in self._stages)

    def feed(self, data: bytes) -> None:
        """Add the next body bytes (after chunked framing is removed)."""
        if self._eof:
            raise RuntimeError("feed() after feed_eof()")
        if not data:
            return
        if self._stages or len(data) <= self.chunk_size:
            self._input.append(bytes(data))
        else:  # nothing to decode: hand the bytes on in bounded pieces
            view = memoryview(data)
            for at in range(0, len(view), self.chunk_size):
                self._input.append(bytes(view[at : at + self.chunk_size]))

    def feed_eof(self) -> None:
        """Say the body is complete: stages may then report trailing or missing bytes."""
        self._eof = True

    def next_chunk(self) -> bytes:
        """Return the next decoded piece (1..chunk_size bytes), or b"" when none is ready.

        b"" means more input is needed, or, after `feed_eof()`, that decoding is over.
        Raises CurlError (CURLE_BAD_CONTENT_ENCODING or CURLE_WRITE_ERROR) when the body
        cannot be decoded; every later call raises it again.
        """
        if self._error is not None:
            raise self._error
        try:
            return self._pull(len(self._stages) - 1)
        except CurlError as exc:
            self._error = exc
            self._input.clear()
            raise

    def decode(self, data: bytes) -> Iterator[bytes]:
        """Feed `data` and return an iterator over the output it completes.

        Each piece is produced only when the previous one was taken, so the caller can hand
        it on before the next is decompressed. The iterator raises what `next_chunk` raises.
        """
        self.feed(data)
        return self._drain()

    def finish(self) -> Iterator[bytes]:
        """Say the body is complete and return an iterator over the rest of the output."""
        self.feed_eof()
        return self._drain()

    def _drain(self) -> Iterator[bytes]:
        while chunk := self.next_chunk():
            yield chunk

    def _pull(self, index: int) -> bytes:
        """Return output of stage `index` (-1: the fed input), b"" when it has none now."""
        if index < 0:
            return self._input.popleft() if self._input else b""
        stage = self._stages[index]
        while True:
            out = stage.step(self.chunk_size)
            if out or stage.ended:
                return out
            upstream = self._pull(index - 1)
            if upstream:
                stage.give(upstream)
            elif self._eof and not self._input and (index == 0 or self._stages[index - 1].ended):
                stage.end()
            else:
                return b""
