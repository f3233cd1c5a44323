"""`run_events`: the async stream of a run's entries for hosts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from attractor.pipeline.events import RunFinished, RunStarted, StageCompleted
from attractor.pipeline.run import RunError, RunOptions, run_events

SMOKE = Path(__file__).resolve().parents[2] / "examples" / "smoke.dot"


def test_stream_yields_every_entry_in_order(tmp_path: Path) -> None:
    """The stream starts with run.started, ends with run.finished, seqs gap-free."""

    async def collect() -> list:
        opts = RunOptions(logs_root=str(tmp_path), fsync=False)
        return [e async for e in run_events(SMOKE, opts)]

    entries = asyncio.run(collect())
    assert isinstance(entries[0].event, RunStarted)
    assert isinstance(entries[-1].event, RunFinished)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert sum(isinstance(e.event, StageCompleted) for e in entries) == 5


def test_stream_raises_the_runs_error(tmp_path: Path) -> None:
    """A run that cannot start raises its RunError from the iteration."""

    async def collect() -> None:
        async for _ in run_events(tmp_path / "missing.dot", RunOptions(logs_root=str(tmp_path))):
            pass

    with pytest.raises(RunError, match="no such file"):
        asyncio.run(collect())
