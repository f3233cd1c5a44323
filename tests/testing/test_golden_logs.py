"""Golden logs: recorded runs under fixtures/ that replay must reproduce byte for byte."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from attractor.effects import NonDeterminismError, Recording, RunShell, replay
from attractor.events import read_log
from attractor.testing.golden import DEMO_SCRIPT
from attractor.testing.machines import ScriptMachine, Step

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "logs"


def test_demo_log_replays_exactly() -> None:
    """The shipped demo recording replays to the end with no difference."""
    machine = ScriptMachine.from_log(read_log(FIXTURES / "demo.jsonl"))
    result = asyncio.run(replay(machine, FIXTURES / "demo.jsonl"))
    assert result.stopped == "done"
    assert result.appended == len((FIXTURES / "demo.jsonl").read_bytes().splitlines())


def test_demo_log_diverges_under_a_changed_program() -> None:
    """Replaying the demo with a changed shell command stops at that command, readably."""
    changed = {k: list(v) for k, v in DEMO_SCRIPT.items()}
    changed["run"][2] = Step("effect", effect=RunShell(command="echo changed", timeout_ms=5000))
    with pytest.raises(NonDeterminismError) as info:
        asyncio.run(replay(ScriptMachine(changed), Recording.from_file(FIXTURES / "demo.jsonl")))
    assert info.value.seq == 1  # the program travels in the first event, so it differs at once
    assert "echo changed" in info.value.render()
