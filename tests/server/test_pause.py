"""The pause gate: a run paused at any moment stops at a node boundary, and resuming it gives
the very log an uninterrupted run writes (so replay and resume are untouched)."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from attractor.effects import drive
from attractor.events import Entry, MemoryStore
from attractor.pipeline.events import StageStarted
from attractor.pipeline.machine import PipelineMachine
from attractor.server._pause import PauseGate
from tests.pipeline.kit import World, clock, replay_lines, run_dot, started

PIPELINE = """digraph p {
    start [shape=Mdiamond]
    plan  [prompt="plan"]
    fan   [shape=component]
    left  [prompt="left"]
    right [prompt="right"]
    join  [shape=tripleoctagon]
    gate  [shape=hexagon, label="Go?"]
    tool  [shape=parallelogram, tool_command="echo hi"]
    done  [shape=Msquare]
    start -> plan -> fan
    fan -> left
    fan -> right
    left -> join
    right -> join
    join -> gate
    gate -> tool [label="[Y] Yes"]
    tool -> done
}
"""


def _gate(machine: PipelineMachine) -> PauseGate:
    return PauseGate(machine, lambda event: isinstance(event, StageStarted))


def _paused_then_resumed(pause_after: int) -> tuple[MemoryStore, list[Entry]]:
    """Pause once `pause_after` entries are in the log, then resume on the same store."""
    store, world = MemoryStore(clock()), World(answers=["Y"])
    gate = _gate(PipelineMachine(started(PIPELINE)))

    def observe(entry: Entry) -> None:
        if entry.seq >= pause_after:
            gate.pause()

    asyncio.run(drive(gate, store, world.interpreter(), observe=observe))
    at_pause = list(store.entries())
    machine = PipelineMachine.from_log(at_pause[:1])
    asyncio.run(drive(_gate(machine), store, world.interpreter()))
    return store, at_pause


def test_a_pause_stops_before_the_next_node_starts() -> None:
    """Paused after `plan` completed, the log ends at a boundary: no stage is left open."""
    store, at_pause = _paused_then_resumed(pause_after=6)
    assert not isinstance(at_pause[-1].event, StageStarted)
    starts = sum(isinstance(e.event, StageStarted) for e in at_pause)
    assert starts < sum(isinstance(e.event, StageStarted) for e in store.entries())


@given(st.integers(min_value=1, max_value=60))
def test_paused_and_resumed_is_the_uninterrupted_log(pause_after: int) -> None:
    """Wherever the pause falls, pause + resume writes the same lines as one run, which replay."""
    store, _ = _paused_then_resumed(pause_after)
    whole = run_dot(PIPELINE, World(answers=["Y"]))
    assert store.lines == whole.store.lines
    assert replay_lines(store.lines) == "done"


def test_without_a_pause_the_gate_changes_nothing() -> None:
    """An unpaused gate passes every decision through."""
    store, world = MemoryStore(clock()), World(answers=["Y"])
    gate = _gate(PipelineMachine(started(PIPELINE)))
    asyncio.run(drive(gate, store, world.interpreter()))
    assert not gate.paused
    assert store.lines == run_dot(PIPELINE, World(answers=["Y"])).store.lines
