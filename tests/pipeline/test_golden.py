"""Golden run logs (`fixtures/runs/<case>/`): each replays byte for byte; the divergent case
fails with a readable first-divergence report. Re-record with
`python -m tests.pipeline.golden_update` (see docs/engine.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from attractor.effects import NonDeterminismError
from attractor.events import read_log, verify_log
from attractor.pipeline.events import (
    BranchStarted,
    ChildStarted,
    InterviewCompleted,
    RunFinished,
    StageRetrying,
)
from attractor.pipeline.model import StageStatus
from attractor.pipeline.run import replay_run
from tests.pipeline.golden_update import CASES, FIXTURES


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_log_replays_byte_for_byte(case: str) -> None:
    """The recorded log is reproduced exactly, to its last line."""
    log = FIXTURES / case / "events.jsonl"
    verify_log(log)
    result = asyncio.run(replay_run(FIXTURES / case))
    assert result.stopped == "done"
    assert result.appended == sum(1 for _ in read_log(log))


def _events(case: str, kind: type) -> list[object]:
    return [
        e.event for e in read_log(FIXTURES / case / "events.jsonl") if isinstance(e.event, kind)
    ]


def test_golden_cases_cover_the_interesting_features() -> None:
    """Parallel branches, a human answer, a child pipeline and recorded retries are in the set."""
    assert len(_events("parallel", BranchStarted)) == 3
    assert [e.answer for e in _events("human_gate", InterviewCompleted)] == ["R", "A"]  # type: ignore[attr-defined]
    assert len(_events("manager", ChildStarted)) == 1
    assert len(_events("retries", StageRetrying)) == 3
    for case in CASES:
        (finished,) = _events(case, RunFinished)
        assert finished.outcome.status == StageStatus.SUCCESS  # type: ignore[attr-defined]


def test_replay_until_stops_at_the_given_seq() -> None:
    """`until` replays a prefix and returns the state at exactly that seq."""
    result = asyncio.run(replay_run(FIXTURES / "linear", until=10))
    assert result.stopped == "recording-ended"
    assert result.appended == 10


def test_divergent_case_fails_with_a_clear_report() -> None:
    """The linear log replayed against a pipeline with an extra stage stops at the first
    difference and says what was expected and what happened."""
    case = FIXTURES / "divergent"
    with pytest.raises(NonDeterminismError) as err:
        asyncio.run(replay_run(case, pipeline=case / "changed.dot"))
    report = str(err.value)
    assert report.startswith(f"non-determinism at seq {err.value.seq} (stream run):")
    assert 'target: expected "draft"' in report
    assert 'actual   "review"' in report
    assert "recorded:" in report
    assert "replayed:" in report


def test_divergent_log_itself_still_replays() -> None:
    """Without the changed pipeline, the divergent case's log is a good log."""
    assert asyncio.run(replay_run(FIXTURES / "divergent")).stopped == "done"


def test_golden_fixture_files_are_present() -> None:
    """Every case ships its pipeline next to the log."""
    for case, (example, extra, script, answers) in CASES.items():
        for name in (f"{example}.dot", *extra, script, answers, "events.jsonl"):
            if name:
                assert (Path(FIXTURES) / case / name).is_file(), (case, name)
