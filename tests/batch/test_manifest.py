"""Journals and the manifest: torn lines, merging, resumability, Parquet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from purecurl.batch.manifest import (
    MANIFEST_JSONL,
    JournalTail,
    ManifestError,
    Record,
    consolidate,
    journal_base,
    parse_journal,
    read_manifest,
)
from purecurl.batch.sink import LocalSink


def record(output: str, *, ok: bool = True, finished: float = 1.0, run: str = "r1") -> Record:
    return Record(
        output=output,
        url=f"http://a.test/{output}",
        method="GET",
        ok=ok,
        result_code=0 if ok else 7,
        error="" if ok else "Could not connect to server",
        response_code=200 if ok else 0,
        effective_url=f"http://a.test/{output}",
        bytes=3 if ok else 0,
        sha256="ab" if ok else "",
        attempts=1,
        worker="w1",
        partition=0,
        run=run,
        started=0.5,
        finished=finished,
        timings={"total": 0.1},
    )


def test_a_torn_last_line_is_not_a_record() -> None:
    whole = (record("a").to_line() + "\n").encode()
    records, used = parse_journal(whole + whole[:40])
    assert [r.output for r in records] == ["a"]
    assert used == len(whole)


def test_tail_reads_each_record_once_even_across_a_torn_write(tmp_path: Path) -> None:
    sink = LocalSink(tmp_path)
    path = Path(sink.path(journal_base("r1", 0, "x") + ".jsonl"))
    path.parent.mkdir(parents=True)
    line = (record("a").to_line() + "\n").encode()
    path.write_bytes(line[:10])
    tail = JournalTail(sink, "r1")
    assert tail.poll() == []
    path.write_bytes(line + (record("b").to_line() + "\n").encode())
    assert [r.output for r in tail.poll()] == ["a", "b"]
    assert tail.poll() == []


def test_consolidate_merges_runs_last_finished_wins_and_cleans_up(tmp_path: Path) -> None:
    sink = LocalSink(tmp_path)
    sink.write_bytes(
        MANIFEST_JSONL,
        (record("a", ok=False, finished=1.0).to_line() + "\n").encode()
        + (record("b", finished=1.0).to_line() + "\n").encode(),
    )
    journal = sink.open_journal(journal_base("r2", 3, "x"))
    journal.append(record("a", ok=True, finished=2.0, run="r2").to_line())
    journal.append(record("c", finished=3.0, run="r2").to_line())
    journal.close()
    merged = consolidate(sink, parquet=False)
    assert [(r.output, r.ok, r.run) for r in merged] == [
        ("a", True, "r2"),
        ("b", True, "r1"),
        ("c", True, "r2"),
    ]
    assert read_manifest(sink) == merged
    assert not (tmp_path / ".batch").exists()
    assert consolidate(sink, parquet=False) == merged  # merging again changes nothing


def test_a_manifest_line_the_batch_did_not_write_is_an_error(tmp_path: Path) -> None:
    (tmp_path / MANIFEST_JSONL).write_text(record("a").to_line() + "\n{not json}\n")
    with pytest.raises(ManifestError, match=r"manifest.jsonl:2: not a batch record"):
        read_manifest(LocalSink(tmp_path))


def test_records_round_trip_through_json() -> None:
    r = record("x")
    assert Record.from_json(json.loads(r.to_line())) == r


def test_parquet_manifest_when_pyarrow_is_installed(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    sink = LocalSink(tmp_path)
    journal = sink.open_journal(journal_base("r1", 0, "x"))
    journal.append(record("a").to_line())
    journal.append(record("b", ok=False).to_line())
    journal.close()
    consolidate(sink)
    table = pq.read_table(str(tmp_path / "manifest.parquet"))
    rows = table.to_pylist()
    assert [(r["output"], r["ok"], r["result_code"]) for r in rows] == [
        ("a", True, 0),
        ("b", False, 7),
    ]
    assert rows[0]["timings"]["total"] == 0.1
    assert rows[0]["timings"]["connect"] is None


def test_consolidate_takes_what_the_tail_read_and_reads_only_the_rest(tmp_path: Path) -> None:
    sink = LocalSink(tmp_path)
    journal = sink.open_journal(journal_base("r1", 0, "x"))
    journal.append(record("a").to_line())
    tail = JournalTail(sink, "r1")
    assert [r.output for r in tail.poll()] == ["a"]
    journal.append(record("b", finished=2.0).to_line())
    journal.close()
    # Spoil what the tail read: were it read again, "a" would be lost.
    path = Path(sink.path(journal_base("r1", 0, "x") + ".jsonl"))
    data = path.read_bytes()
    offset = tail.offsets[".batch/r1/journal/p00000-x.jsonl"]
    path.write_bytes(b"#" * (offset - 1) + b"\n" + data[offset:])
    merged = consolidate(sink, parquet=False, known=tail)
    assert [r.output for r in merged] == ["a", "b"]
