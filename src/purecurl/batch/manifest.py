"""The record of a batch: one JSON line per finished request, journals merged into a manifest.

Theory of operation
-------------------
A transfer is *recorded* when its record is in a journal (after its body was committed). Each
partition attempt appends to its own journal under `.batch/<run>/journal/`, so no two writers
share a file and a worker that dies loses nothing it recorded. Three readers use the journals:

- a partition attempt, before it starts, reads every journal of its partition and skips what
  is recorded there: that is how a partition Dask re-runs after a lost worker (or one the
  client resubmits) fetches only its unrecorded URLs;
- the client tails all journals of the run (`JournalTail`) for its progress display;
- `consolidate` merges the old `manifest.jsonl` with every journal under `.batch/` (this
  run's and any a crashed client left behind), one line per output, the record that finished
  last winning; writes `manifest.jsonl` atomically (and `manifest.parquet` when pyarrow is
  installed) and only then removes the journals. Merging twice gives the same manifest, so a
  crash between the two steps loses nothing.

A rerun skips every request whose output has a successful record for the same method and URL;
failed ones are tried again.
"""

from __future__ import annotations

import importlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from purecurl.batch.sink import Sink

__all__ = [
    "MANIFEST_JSONL",
    "MANIFEST_PARQUET",
    "TIMING_NAMES",
    "JournalTail",
    "ManifestError",
    "Record",
    "consolidate",
    "input_name",
    "journal_base",
    "journal_prefix",
    "parse_journal",
    "read_manifest",
    "run_dir",
    "scratch_dir",
    "stop_name",
]

MANIFEST_JSONL = "manifest.jsonl"
MANIFEST_PARQUET = "manifest.parquet"
BATCH_DIR = ".batch"
# getinfo's *_TIME values, in seconds since the transfer started (libcurl's timing names).
TIMING_NAMES = (
    "namelookup",
    "connect",
    "appconnect",
    "pretransfer",
    "starttransfer",
    "total",
    "redirect",
)


class ManifestError(ValueError):
    """manifest.jsonl cannot be read as this batch wrote it."""


@dataclass(frozen=True)
class Record:
    """How one request ended. `ok` is result_code == 0; `bytes` and `sha256` describe the body
    stored under `output` (sha256 is "" when nothing was stored)."""

    output: str
    url: str
    method: str
    ok: bool
    result_code: int
    error: str
    response_code: int
    effective_url: str
    bytes: int
    sha256: str
    attempts: int
    worker: str
    partition: int
    run: str
    started: float
    finished: float
    timings: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        # Not dataclasses.asdict: its deep copy is most of the cost of a record.
        data = {name: getattr(self, name) for name in _FIELD_NAMES}
        data["timings"] = dict(self.timings)
        return data

    def to_line(self) -> str:
        return json.dumps(self.to_json(), separators=(",", ":"), sort_keys=False)

    @classmethod
    def from_json(cls, data: Any) -> Record:
        """Raises ValueError (or TypeError) when `data` is not a record."""
        if not isinstance(data, dict):
            raise ValueError("a record is a JSON object")
        timings = data.get("timings") or {}
        if not isinstance(timings, dict):
            raise ValueError("timings must be an object")
        return cls(
            output=str(data["output"]),
            url=str(data["url"]),
            method=str(data.get("method", "GET")),
            ok=bool(data["ok"]),
            result_code=int(data["result_code"]),
            error=str(data.get("error", "")),
            response_code=int(data.get("response_code", 0)),
            effective_url=str(data.get("effective_url", "")),
            bytes=int(data.get("bytes", 0)),
            sha256=str(data.get("sha256", "")),
            attempts=int(data.get("attempts", 1)),
            worker=str(data.get("worker", "")),
            partition=int(data.get("partition", 0)),
            run=str(data.get("run", "")),
            started=float(data.get("started", 0.0)),
            finished=float(data.get("finished", 0.0)),
            timings={str(k): float(v) for k, v in timings.items()},
        )


_FIELD_NAMES = tuple(f.name for f in fields(Record))


# -- names in the sink ----------------------------------------------------------------------


def run_dir(run: str) -> str:
    return f"{BATCH_DIR}/{run}"


def input_name(run: str, partition: int) -> str:
    return f"{BATCH_DIR}/{run}/input/p{partition:05d}.jsonl"


def journal_prefix(run: str) -> str:
    return f"{BATCH_DIR}/{run}/journal"


def journal_base(run: str, partition: int, attempt: str) -> str:
    return f"{journal_prefix(run)}/p{partition:05d}-{attempt}"


def scratch_dir(run: str) -> str:
    return f"{BATCH_DIR}/{run}/scratch"


def stop_name(run: str) -> str:
    return f"{BATCH_DIR}/{run}/STOP"


def _partition_of(name: str) -> int | None:
    base = name.rsplit("/", 1)[-1]
    if not base.startswith("p") or not base.endswith(".jsonl"):
        return None
    digits = base[1:].split("-", 1)[0]
    return int(digits) if digits.isdigit() else None


# -- reading journals -----------------------------------------------------------------------


def parse_journal(data: bytes) -> tuple[list[Record], int]:
    """The records of the complete lines of `data` and the number of bytes they took; a torn
    or unreadable line (a writer killed mid-write) is skipped."""
    end = data.rfind(b"\n") + 1
    records = []
    for line in data[:end].splitlines():
        if not line.strip():
            continue
        try:
            records.append(Record.from_json(json.loads(line)))
        except (ValueError, KeyError, TypeError):
            continue
    return records, end


class JournalTail:
    """Reads the records appended to a run's journals since the last `poll` (one partition's
    when `partition` is given)."""

    def __init__(self, sink: Sink, run: str, partition: int | None = None) -> None:
        self.sink = sink
        self.run = run
        self.prefix = journal_prefix(run)
        self.partition = partition
        self.offsets: dict[str, int] = {}
        self.read: dict[str, list[Record]] = {}  # every record read so far, per file

    def poll(self) -> list[Record]:
        found: list[Record] = []
        for name in self.sink.list_files(self.prefix):
            if not name.endswith(".jsonl"):
                continue
            if self.partition is not None and _partition_of(name) != self.partition:
                continue
            offset = self.offsets.get(name, 0)
            try:
                data = self.sink.read_bytes(name, offset)
            except FileNotFoundError:
                continue
            records, used = parse_journal(data)
            self.offsets[name] = offset + used
            self.read.setdefault(name, []).extend(records)
            found.extend(records)
        return found


# -- the manifest ---------------------------------------------------------------------------


def read_manifest(sink: Sink) -> list[Record]:
    """The records of `manifest.jsonl` ([] when there is none). Raises ManifestError."""
    try:
        data = sink.read_bytes(MANIFEST_JSONL)
    except FileNotFoundError:
        return []
    records = []
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(Record.from_json(json.loads(line)))
        except (ValueError, KeyError, TypeError) as exc:
            raise ManifestError(
                f"{sink.location}/{MANIFEST_JSONL}:{number}: not a batch record ({exc})"
            ) from None
    return records


def _leftover_runs(sink: Sink, known: JournalTail | None) -> dict[str, list[Record]]:
    runs: dict[str, list[Record]] = {}
    for name in sink.list_files(BATCH_DIR):
        parts = name.split("/")
        if len(parts) < 3:
            continue
        records_of_run = runs.setdefault(parts[1], [])
        if len(parts) != 4 or parts[2] != "journal" or not name.endswith(".jsonl"):
            continue
        offset = 0
        if known is not None and known.partition is None and parts[1] == known.run:
            # What the tail parsed already is not parsed again.
            records_of_run.extend(known.read.get(name, ()))
            offset = known.offsets.get(name, 0)
        try:
            records, _ = parse_journal(sink.read_bytes(name, offset))
        except FileNotFoundError:
            continue
        records_of_run.extend(records)
    return runs


def _parquet(records: list[Record]) -> bytes | None:
    try:
        pa = importlib.import_module("pyarrow")
        pq = importlib.import_module("pyarrow.parquet")
    except ImportError:
        return None
    rows = [r.to_json() for r in records]
    for row in rows:
        # One struct type for every row: missing timings are null, not absent.
        row["timings"] = {name: row["timings"].get(name) for name in TIMING_NAMES}
    table = pa.Table.from_pylist(rows)
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def merge(records: Iterable[Record]) -> list[Record]:
    """One record per output: the one that finished last (ties: the later one given). The
    order is that of each output's first appearance."""
    merged: dict[str, Record] = {}
    for record in records:
        seen = merged.get(record.output)
        if seen is None or record.finished >= seen.finished:
            merged[record.output] = record
    return list(merged.values())


def consolidate(
    sink: Sink, *, parquet: bool = True, known: JournalTail | None = None
) -> list[Record]:
    """Merge manifest.jsonl and every journal under `.batch/` into a new manifest.jsonl (and
    manifest.parquet when `parquet` and pyarrow is installed); then remove the merged runs'
    directories. `known`, a tail of one run's journals, saves reading again what it read.
    Returns the merged records. Raises ManifestError, OSError."""
    previous = read_manifest(sink)
    runs = _leftover_runs(sink, known)
    fresh = sorted((r for records in runs.values() for r in records), key=lambda r: r.finished)
    records = merge([*previous, *fresh])
    if runs or not previous or not sink.exists(MANIFEST_JSONL):
        body = "".join(r.to_line() + "\n" for r in records).encode("utf-8")
        sink.write_bytes(MANIFEST_JSONL, body)
        table = _parquet(records) if parquet else None
        if table is not None:
            sink.write_bytes(MANIFEST_PARQUET, table)
    for run in runs:
        sink.remove_tree(run_dir(run))
    if not sink.list_files(BATCH_DIR):
        sink.remove_tree(BATCH_DIR)
    return records
