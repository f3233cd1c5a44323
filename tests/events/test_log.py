"""The JSONL event log: append, read, verify, torn tails, locking, corruption, bad inputs."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from attractor.events import (
    BlobStore,
    EmptyLogError,
    EventLog,
    LogCorruptError,
    LogLockedError,
    NotALogError,
    UnknownEventTypeError,
    read_log,
    verify_log,
)
from attractor.testing.machines import ScriptNoted
from tests.events.test_codec import seal


def _write(path: Path, n: int) -> list[bytes]:
    with EventLog.open(path) as log:
        log.append([("run", ScriptNoted(step=i, note=f"note {i}")) for i in range(n)])
    return path.read_bytes().splitlines()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_append_then_read_back(tmp_path: Path) -> None:
    """Appended events come back in order with gap-free seqs."""
    path = tmp_path / "events.jsonl"
    _write(path, 5)
    entries = list(read_log(path))
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert [e.event for e in entries] == [ScriptNoted(step=i, note=f"note {i}") for i in range(5)]


def test_reopen_continues_the_chain(tmp_path: Path) -> None:
    """A log reopened for append continues seq and hash chain."""
    path = tmp_path / "events.jsonl"
    _write(path, 3)
    with EventLog.open(path) as log:
        assert log.last_seq == 3
        log.append([("run/x", ScriptNoted(step=9, note=""))])
    assert verify_log(path).count == 4


def test_torn_tail_is_skipped_by_readers_without_change(tmp_path: Path) -> None:
    """A partial last line is reported, skipped, and reading leaves the file untouched."""
    path = tmp_path / "events.jsonl"
    lines = _write(path, 3)
    path.write_bytes(b"\n".join(lines) + b"\n" + lines[0][:20])
    before = _digest(path)
    report = verify_log(path)
    assert report.count == 3
    assert report.torn_tail is not None
    assert report.torn_tail.line == 4
    assert _digest(path) == before


def test_writer_cuts_torn_tail_and_keeps_a_copy(tmp_path: Path) -> None:
    """Opening for append saves the torn bytes beside the log and stays appendable."""
    path = tmp_path / "events.jsonl"
    lines = _write(path, 2)
    path.write_bytes(b"\n".join(lines) + b"\n" + b'{"seq":3,"at":"20')
    with EventLog.open(path) as log:
        assert log.torn_tail is not None
        log.append([("run", ScriptNoted(step=3, note=""))])
    assert verify_log(path).count == 3
    saved = list(tmp_path.glob("events.jsonl.torn-*"))
    assert [p.read_bytes() for p in saved] == [b'{"seq":3,"at":"20']


def test_second_writer_in_process_is_refused(tmp_path: Path) -> None:
    """Two appenders in one process are refused, and the first keeps its lock."""
    path = tmp_path / "events.jsonl"
    with EventLog.open(path) as first:
        with pytest.raises(LogLockedError, match="already appending to this log"):
            EventLog.open(path)
        first.append([("run", ScriptNoted(step=0, note=""))])
    assert verify_log(path).count == 1


def test_second_writer_process_is_refused(tmp_path: Path) -> None:
    """A writer in another process is refused, naming the holder's pid."""
    path = tmp_path / "events.jsonl"
    code = (
        "import sys; from attractor.events import EventLog\n"
        "try:\n    EventLog.open(sys.argv[1])\n"
        "except Exception as e:\n    print(type(e).__name__, e)"
    )
    with EventLog.open(path):
        out = subprocess.run(
            [sys.executable, "-c", code, str(path)], capture_output=True, text=True
        )
    assert out.stdout.startswith("LogLockedError")
    assert f"another writer (pid {os.getpid()})" in out.stdout


@pytest.mark.parametrize(
    ("damage", "line", "reason"),
    [
        ("flip", 3, "hash chain broken"),
        ("delete", 3, "hash chain broken"),
        ("reorder", 2, "hash chain broken"),
        ("truncate_middle", 3, "not an event line"),
        ("flip_last", 5, "hash chain broken"),
    ],
)
def test_corruption_is_located(tmp_path: Path, damage: str, line: int, reason: str) -> None:
    """Each kind of damage is detected and reported at the right line."""
    path = tmp_path / "events.jsonl"
    lines = _write(path, 5)
    if damage == "flip":
        lines[2] = lines[2].replace(b"note 2", b"note X")
    elif damage == "delete":
        del lines[2]
    elif damage == "reorder":
        lines[1], lines[2] = lines[2], lines[1]
    elif damage == "truncate_middle":
        lines[2] = lines[2][:30]
    elif damage == "flip_last":
        lines[4] = lines[4].replace(b"note 4", b"note 5")
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(LogCorruptError, match=reason) as info:
        verify_log(path)
    assert info.value.line == line
    assert f"events.jsonl:{line}:" in str(info.value)


def test_seq_gap_with_valid_hashes_is_reported(tmp_path: Path) -> None:
    """A forged line with a valid hash but a skipped seq is still caught."""
    path = tmp_path / "events.jsonl"
    lines = _write(path, 1)
    prev = lines[0][-18:-2].decode()
    path.write_bytes(
        lines[0]
        + b"\n"
        + seal(b'{"type":"script.noted","step":1,"note":""}', seq=3, prev=prev)
        + b"\n"
    )
    with pytest.raises(LogCorruptError, match="seq 3 where 2 was expected") as info:
        verify_log(path)
    assert info.value.line == 2


def test_empty_file_is_a_typed_error(tmp_path: Path) -> None:
    """An empty file is not a log."""
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"")
    with pytest.raises(EmptyLogError, match="holds no event"):
        verify_log(path)


def test_directory_is_a_typed_error(tmp_path: Path) -> None:
    """A directory gets a hint towards its events.jsonl."""
    with pytest.raises(NotALogError, match="is a directory") as info:
        verify_log(tmp_path)
    assert "events.jsonl" in info.value.hint


def test_missing_file_is_a_typed_error(tmp_path: Path) -> None:
    """A missing path says so."""
    with pytest.raises(NotALogError, match="no such file"):
        list(read_log(tmp_path / "nope.jsonl"))


def test_unknown_type_in_file_names_the_line(tmp_path: Path) -> None:
    """A registered-nowhere type on line 2 is reported at line 2; the file is unchanged."""
    path = tmp_path / "events.jsonl"
    lines = _write(path, 1)
    prev = lines[0][-18:-2].decode()
    path.write_bytes(lines[0] + b"\n" + seal(b'{"type":"no.such","x":1}', seq=2, prev=prev) + b"\n")
    before = _digest(path)
    with pytest.raises(UnknownEventTypeError) as info:
        verify_log(path)
    assert info.value.line == 2
    assert _digest(path) == before


def test_blob_store_round_trip_and_threshold(tmp_path: Path) -> None:
    """Small text stays inline, large text becomes a verified blob reference."""
    blobs = BlobStore(tmp_path / "blobs", threshold=10)
    assert blobs.pack("short") == "short"
    ref = blobs.pack("x" * 100)
    assert not isinstance(ref, str)
    assert ref.digest.startswith("sha256-")
    assert blobs.unpack(ref) == "x" * 100


def test_tampered_blob_is_detected(tmp_path: Path) -> None:
    """A blob whose bytes no longer match its name is corrupt."""
    blobs = BlobStore(tmp_path, threshold=1)
    ref = blobs.put(b"payload")
    (tmp_path / ref.digest).write_bytes(b"tampered")
    with pytest.raises(LogCorruptError, match="does not match its digest"):
        blobs.get(ref)
