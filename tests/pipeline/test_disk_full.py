"""Disk full (issue 8, point 4): a failure to *record* is not a failure of the effect. At every
write site — log append (write and fsync), blob store, projections, stage directory — ENOSPC
stops the run with `RecordingError`, leaves a valid log and no temporary file, and `resume`
after space is freed performs the step in flight again and finishes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from attractor.events import RecordingError, verify_log
from attractor.pipeline.model import StageStatus
from attractor.pipeline.projector import Projector
from attractor.pipeline.run import RunOptions, resume_run, start_run
from tests.diskfull import FullDisk, leftovers


def _pipeline(tmp_path: Path, size: int) -> Path:
    """start -> big (counts its runs, prints `size` bytes) -> after -> done."""
    count = tmp_path / "count"
    dot = tmp_path / "p.dot"
    dot.write_text(f"""digraph full {{
      start [shape=Mdiamond]
      big [shape=parallelogram,
           tool_command="echo run >> {count}; head -c {size} /dev/zero | tr '\\\\0' x"]
      after [shape=parallelogram, tool_command="echo after"]
      done [shape=Msquare]
      start -> big -> after -> done
    }}""")
    return dot


CASES = [
    # site, patched calls, output size (a blob from 64 KiB), runs of `big` after resume
    pytest.param("log", ("write",), 10, 2, id="log-write"),
    pytest.param("log", ("fsync",), 10, 2, id="log-fsync"),
    pytest.param("blob", ("write",), 100_000, 2, id="blob-write"),
    pytest.param("blob", ("fsync",), 100_000, 2, id="blob-fsync"),
    pytest.param("projection", ("write",), 10, 1, id="projection"),
    pytest.param("stage_dir", ("mkdir",), 10, 1, id="stage-dir"),
]


@pytest.mark.parametrize(("site", "calls", "size", "runs"), CASES)
def test_enospc_stops_the_run_and_resume_finishes_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    site: str,
    calls: tuple[str, ...],
    size: int,
    runs: int,
) -> None:
    """ENOSPC at one write site: RecordingError, a valid log, no temporary file; after freeing
    space, resume performs the step in flight again (at least once) and the run succeeds."""
    dot = _pipeline(tmp_path, size)
    disk = FullDisk(monkeypatch, site, calls)
    count = tmp_path / "count"
    disk.full_when = count.exists if site != "stage_dir" else lambda: True
    opts = RunOptions(logs_root=str(tmp_path / "runs"), fsync=True)
    with pytest.raises(RecordingError, match="No space left on device") as err:
        asyncio.run(start_run(dot, opts, observers=[Projector()]))
    assert disk.refused >= 1
    assert "resume" in err.value.hint
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert verify_log(run_dir / "events.jsonl").torn_tail is None
    assert leftovers(run_dir) == []
    disk.free()
    resumed = asyncio.run(resume_run(run_dir, observers=[Projector(run_dir)]))
    assert resumed.state.finished is not None
    assert resumed.state.finished.status == StageStatus.SUCCESS
    assert count.read_text().count("run") == runs
    assert (run_dir / "big" / "status.json").is_file()
    assert leftovers(run_dir) == []


def test_failed_append_leaves_the_log_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed append writes nothing (not even part of a line) and later appends refuse."""
    from attractor.events import EventLog
    from attractor.testing.machines import ScriptNoted

    path = tmp_path / "runs" / "r" / "events.jsonl"
    with EventLog.open(path, fsync=True) as log:
        log.append([("run", ScriptNoted(step=1, note="kept"))])
        before = path.read_bytes()
        disk = FullDisk(monkeypatch, "log", ("fsync",))
        with pytest.raises(RecordingError):
            log.append([("run", ScriptNoted(step=2, note="lost"))])
        disk.free()
        assert path.read_bytes() == before
        with pytest.raises(RecordingError):
            log.append([("run", ScriptNoted(step=3, note="refused"))])
    assert verify_log(path).count == 1


def test_torn_tail_is_kept_when_its_copy_cannot_be_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that cannot save a torn line's copy does not cut it: RecordingError, the file
    unchanged, no temporary copy left."""
    from attractor.events import EventLog
    from attractor.testing.machines import ScriptNoted

    path = tmp_path / "events.jsonl"
    with EventLog.open(path, fsync=False) as log:
        log.append([("run", ScriptNoted(step=1, note="kept"))])
    path.write_bytes(path.read_bytes() + b'{"seq":2,"at":"20')
    before = path.read_bytes()
    FullDisk(monkeypatch, "torn", ("write",))
    with pytest.raises(RecordingError, match="save the torn last line"):
        EventLog.open(path)
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []
    assert not list(tmp_path.glob("*.torn-*"))
