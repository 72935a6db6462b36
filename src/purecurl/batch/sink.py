"""Where a batch's bytes go: a local directory, or any fsspec URL when fsspec is installed.

Theory of operation
-------------------
A `Sink` is a root under which the batch keeps four kinds of things, all by relative name:

- bodies (`open_body`): written as the transfer runs and made visible under their name only
  by `commit()`, after the transfer succeeded; `abort()` leaves nothing behind. A local sink
  writes to a scratch file and renames it into place, so a body is either whole or absent even
  when a worker is killed mid-write.
- journals (`open_journal`): the records of finished transfers, one JSON line each, written by
  one partition attempt. A local journal is one file appended with one `write(2)` per line
  (O_APPEND), so a line is on disk in the page cache when `append` returns and survives the
  writer's process being killed; a torn last line (a kill inside the write) is ignored by
  readers. Object stores cannot append: an fsspec journal writes a new object per flush (at
  most every second or 500 lines, and at close), so a killed worker loses only its unflushed
  lines, whose transfers are then run again.
- small whole files (`write_bytes`: the manifest, partition inputs, the stop flag), replaced
  atomically where the store allows.
- listings and reads (`list_files`, `read_bytes` from an offset) for the client, which tails
  the journals while the run goes on and merges them into the manifest at the end.

Sinks are pickled to the workers: they hold a location and options, never an open resource.
"""

from __future__ import annotations

import abc
import contextlib
import hashlib
import importlib
import os
import shutil
import time
import uuid
from typing import Any

__all__ = ["BodyWriter", "FsspecSink", "JournalWriter", "LocalSink", "Sink", "open_sink"]

JOURNAL_FLUSH_SECONDS = 1.0
JOURNAL_FLUSH_LINES = 500


class BodyWriter(abc.ABC):
    """One response body on its way into the sink; also counts and hashes what it got."""

    def __init__(self) -> None:
        self.size = 0
        self._hash = hashlib.sha256()

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def write(self, data: bytes) -> None:
        """Append `data`. Raises OSError when the sink refuses it."""
        self._write(data)
        self.size += len(data)
        self._hash.update(data)

    @abc.abstractmethod
    def _write(self, data: bytes) -> None: ...

    @abc.abstractmethod
    def commit(self) -> None:
        """Make the body visible under its name (an empty one when nothing was written).
        Raises OSError."""

    @abc.abstractmethod
    def abort(self) -> None:
        """Drop what was written; never raises."""


class JournalWriter(abc.ABC):
    """Appends record lines for one partition attempt (see the module doc for durability)."""

    @abc.abstractmethod
    def append(self, line: str) -> None:
        """Append one line (no newline in it). Raises OSError."""

    @abc.abstractmethod
    def close(self) -> None:
        """Flush what is buffered and release the journal. Raises OSError."""


class Sink(abc.ABC):
    """A root for bodies, journals and the manifest; names are relative, '/'-separated."""

    @property
    @abc.abstractmethod
    def location(self) -> str:
        """The root as the user would write it (a path or a URL)."""

    @abc.abstractmethod
    def open_body(self, name: str, scratch: str) -> BodyWriter:
        """A writer for the body named `name`; `scratch` is a directory the sink may use for
        unfinished files (the batch removes it at the end)."""

    @abc.abstractmethod
    def open_journal(self, base: str) -> JournalWriter:
        """A journal whose files are named `base` + suffix + `.jsonl`."""

    @abc.abstractmethod
    def list_files(self, prefix: str) -> list[str]:
        """Every file under directory `prefix`, as names relative to the root, sorted; [] when
        the directory does not exist."""

    @abc.abstractmethod
    def read_bytes(self, name: str, start: int = 0) -> bytes:
        """The bytes of `name` from offset `start`. Raises FileNotFoundError."""

    @abc.abstractmethod
    def write_bytes(self, name: str, data: bytes) -> None:
        """Create or replace `name` with `data`. Raises OSError."""

    @abc.abstractmethod
    def exists(self, name: str) -> bool: ...

    @abc.abstractmethod
    def remove_tree(self, name: str) -> None:
        """Remove file or directory `name` and all below it; nothing when it is absent."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.location}>"


# -- a local directory ------------------------------------------------------------------------


class _Directories:
    """The directories this process made (or found) under a local sink: one `makedirs` each
    instead of one per body."""

    def __init__(self) -> None:
        self.known: set[str] = set()

    def ensure(self, path: str) -> None:
        if path not in self.known:
            os.makedirs(path, exist_ok=True)
            self.known.add(path)


class _LocalBody(BodyWriter):
    def __init__(self, final: str, scratch_dir: str, dirs: _Directories) -> None:
        super().__init__()
        self.final = final
        self.scratch_dir = scratch_dir
        self.dirs = dirs
        self.scratch: str | None = None
        self.fd: int | None = None

    def _open(self) -> int:
        if self.fd is None:
            self.dirs.ensure(self.scratch_dir)
            self.scratch = os.path.join(self.scratch_dir, uuid.uuid4().hex)
            self.fd = os.open(self.scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        return self.fd

    def _write(self, data: bytes) -> None:
        fd = self._open()
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]

    def commit(self) -> None:
        fd = self._open()
        self.fd = None
        os.close(fd)
        assert self.scratch is not None
        self.dirs.ensure(os.path.dirname(self.final))
        os.replace(self.scratch, self.final)
        self.scratch = None

    def abort(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None
        if self.scratch is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.scratch)
            self.scratch = None


class _LocalJournal(JournalWriter):
    def __init__(self, path: str) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def append(self, line: str) -> None:
        if self.fd is None:
            raise ValueError("journal is closed")
        # One write(2) per line: O_APPEND makes it land whole at the end of the file.
        data = (line + "\n").encode("utf-8")
        written = os.write(self.fd, data)
        if written != len(data):  # a full disk; the reader drops the torn line
            raise OSError(f"short write to the journal ({written} of {len(data)} bytes)")

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class LocalSink(Sink):
    """A directory on this machine (or a file system every worker mounts at the same path)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.path.abspath(os.fspath(root))
        self._dirs = _Directories()

    def __getstate__(self) -> dict[str, Any]:
        return {"root": self.root}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.root = state["root"]
        self._dirs = _Directories()

    @property
    def location(self) -> str:
        return self.root

    def path(self, name: str) -> str:
        return os.path.join(self.root, *name.split("/"))

    def open_body(self, name: str, scratch: str) -> BodyWriter:
        return _LocalBody(self.path(name), self.path(scratch), self._dirs)

    def open_journal(self, base: str) -> JournalWriter:
        return _LocalJournal(self.path(base) + ".jsonl")

    def list_files(self, prefix: str) -> list[str]:
        top = self.path(prefix)
        found: list[str] = []
        for directory, _, files in os.walk(top):
            rel = os.path.relpath(directory, self.root).replace(os.sep, "/")
            found.extend(f"{rel}/{f}" for f in files)
        return sorted(found)

    def read_bytes(self, name: str, start: int = 0) -> bytes:
        with open(self.path(name), "rb") as f:
            f.seek(start)
            return f.read()

    def write_bytes(self, name: str, data: bytes) -> None:
        final = self.path(name)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        scratch = f"{final}.tmp-{uuid.uuid4().hex[:8]}"
        try:
            with open(scratch, "wb") as f:
                f.write(data)
            os.replace(scratch, final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(scratch)
            raise

    def exists(self, name: str) -> bool:
        return os.path.exists(self.path(name))

    def remove_tree(self, name: str) -> None:
        path = self.path(name)
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


# -- fsspec ---------------------------------------------------------------------------------


def _fsspec() -> Any:
    try:
        return importlib.import_module("fsspec")
    except ImportError:
        raise ImportError(
            "a sink given as a URL needs fsspec (pip install fsspec, plus the file system's "
            "own package, such as s3fs or gcsfs)"
        ) from None


class _FsspecBody(BodyWriter):
    def __init__(self, fs: Any, path: str) -> None:
        super().__init__()
        self.fs = fs
        self.file_path = path
        self.file: Any = None

    def _open(self) -> Any:
        if self.file is None:
            parent = self.file_path.rsplit("/", 1)[0]
            self.fs.makedirs(parent, exist_ok=True)
            self.file = self.fs.open(self.file_path, "wb")
        return self.file

    def _write(self, data: bytes) -> None:
        self._open().write(data)

    def commit(self) -> None:
        self._open().close()
        self.file = None

    def abort(self) -> None:
        if self.file is None:
            return
        file, self.file = self.file, None
        with contextlib.suppress(Exception):
            # Object stores' buffered files can drop an upload; others just close.
            if hasattr(file, "discard"):
                file.discard()
            else:
                file.close()
        with contextlib.suppress(Exception):
            if self.fs.exists(self.file_path):
                self.fs.rm(self.file_path)


class _FsspecJournal(JournalWriter):
    def __init__(self, fs: Any, base: str) -> None:
        self.fs = fs
        self.base = base
        self.lines: list[str] = []
        self.seq = 0
        self.flushed = time.monotonic()

    def append(self, line: str) -> None:
        self.lines.append(line)
        now = time.monotonic()
        if len(self.lines) >= JOURNAL_FLUSH_LINES or now - self.flushed >= JOURNAL_FLUSH_SECONDS:
            self._flush(now)

    def _flush(self, now: float) -> None:
        self.flushed = now
        if not self.lines:
            return
        data = "".join(line + "\n" for line in self.lines).encode("utf-8")
        if self.seq == 0:
            self.fs.makedirs(self.base.rsplit("/", 1)[0], exist_ok=True)
        self.fs.pipe_file(f"{self.base}.{self.seq:06d}.jsonl", data)
        self.seq += 1
        self.lines.clear()

    def close(self) -> None:
        self._flush(time.monotonic())


class FsspecSink(Sink):
    """Any fsspec file system: `s3://bucket/prefix`, `gcs://...`, `file:///path`, ...

    `storage_options` go to `fsspec.core.url_to_fs` on every machine that opens the sink.
    """

    def __init__(self, url: str, storage_options: dict[str, Any] | None = None) -> None:
        self.url = url
        self.storage_options = dict(storage_options or {})
        self._fs: Any = None
        self._root = ""
        self._connect()  # fail here, on the client, when the URL or fsspec is unusable

    def __getstate__(self) -> dict[str, Any]:
        return {"url": self.url, "storage_options": self.storage_options}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.url = state["url"]
        self.storage_options = state["storage_options"]
        self._fs = None
        self._root = ""

    def _connect(self) -> Any:
        if self._fs is None:
            fs, root = _fsspec().core.url_to_fs(self.url, **self.storage_options)
            self._fs, self._root = fs, str(root).rstrip("/")
        return self._fs

    @property
    def location(self) -> str:
        return self.url

    def path(self, name: str) -> str:
        self._connect()
        return f"{self._root}/{name}"

    def open_body(self, name: str, scratch: str) -> BodyWriter:
        return _FsspecBody(self._connect(), self.path(name))

    def open_journal(self, base: str) -> JournalWriter:
        return _FsspecJournal(self._connect(), self.path(base))

    def list_files(self, prefix: str) -> list[str]:
        fs = self._connect()
        top = self.path(prefix)
        if not fs.exists(top):
            return []
        cut = len(self._root) + 1
        return sorted(str(p)[cut:] for p in fs.find(top))

    def read_bytes(self, name: str, start: int = 0) -> bytes:
        data: bytes = self._connect().cat_file(self.path(name), start=start or None)
        return data

    def write_bytes(self, name: str, data: bytes) -> None:
        fs = self._connect()
        path = self.path(name)
        fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        fs.pipe_file(path, data)

    def exists(self, name: str) -> bool:
        return bool(self._connect().exists(self.path(name)))

    def remove_tree(self, name: str) -> None:
        fs = self._connect()
        path = self.path(name)
        if fs.exists(path):
            fs.rm(path, recursive=True)


def open_sink(target: Sink | str | os.PathLike[str], **storage_options: Any) -> Sink:
    """A `Sink` for `target`: a Sink as is, a URL (`scheme://...`) through fsspec, anything
    else as a local directory. Raises ImportError when a URL needs fsspec and it is missing."""
    if isinstance(target, Sink):
        return target
    text = os.fspath(target)
    if "://" in text:
        return FsspecSink(text, storage_options)
    if storage_options:
        raise ValueError("storage options apply to fsspec URLs only")
    return LocalSink(text)
