"""Hypothesis properties over random valid pipelines with random scripted outcomes:
a live run replays byte for byte, and any prefix of its log resumes to the very same log."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from attractor.events import Emit, Entry, MemoryStore, fold
from attractor.pipeline.events import CheckpointSaved
from attractor.pipeline.machine import PipelineMachine
from attractor.pipeline.model import CodergenReply
from tests.pipeline.kit import World, clock, replay_lines, reply, run_dot

STATUSES = st.sampled_from(["success", "success", "fail", "retry", "partial_success"])


@st.composite
def pipelines(draw: st.DrawFn, parallel: bool = True) -> tuple[str, dict[str, list[str]]]:
    """A random runnable pipeline and, per node, the statuses its attempts return."""
    n = draw(st.integers(min_value=1, max_value=5))
    nodes = [f"n{i}" for i in range(n)]
    lines = ["start [shape=Mdiamond]", "done [shape=Msquare]"]
    edges = []
    gate = draw(st.sampled_from([None, *nodes]))
    for i, node in enumerate(nodes):
        attrs = [f'prompt="do {node}"']
        retries = draw(st.integers(min_value=0, max_value=2))
        if retries:
            attrs.append(f"max_retries={retries}")
        if draw(st.booleans()):
            attrs.append("allow_partial=true")
        if node == gate:
            attrs += ["goal_gate=true", "retry_target=n0"]
        lines.append(f"{node} [{', '.join(attrs)}]")
        nxt = nodes[i + 1] if i + 1 < n else "done"
        shape = draw(st.sampled_from(["chain", "diamond", "side"]))
        if shape == "chain":
            edges.append(f"{node} -> {nxt}")
        elif shape == "diamond":
            lines.append(f"d{i} [shape=diamond]")
            edges += [
                f'{node} -> d{i} [condition="outcome=success"]',
                f'{node} -> d{i} [condition="outcome=partial_success"]',
                f'{node} -> fix{i} [condition="outcome=fail"]',
                f'd{i} -> {nxt} [condition="context.last_stage={node}"]',
                f"d{i} -> {nxt}",
            ]
            lines.append(f'fix{i} [prompt="fix {node}"]')
            edges.append(f"fix{i} -> {nxt}")
        else:
            lines.append(f'side{i} [prompt="side {node}"]')
            edges += [f"{node} -> {nxt} [weight=2]", f"{node} -> side{i}", f"side{i} -> {nxt}"]
    first = "n0"
    if parallel and draw(st.booleans()):
        lines += [
            "fan [shape=component]",
            "join [shape=tripleoctagon]",
            'pa [prompt="pa"]',
            'pb [prompt="pb"]',
        ]
        edges += [
            "start -> fan",
            "fan -> pa",
            "fan -> pb",
            "pa -> join",
            "pb -> join",
            f"join -> {first}",
        ]
    else:
        edges.append(f"start -> {first}")
    source = "digraph random {\n  " + "\n  ".join(lines + edges) + "\n}\n"
    names = [*nodes, *(f"fix{i}" for i in range(n)), *(f"side{i}" for i in range(n)), "pa", "pb"]
    script = {name: draw(st.lists(STATUSES, min_size=1, max_size=3)) for name in names}
    return source, script


def world_for(script: dict[str, list[str]]) -> World:
    """A world answering each node's attempts from the script, deterministic per attempt."""
    replies: dict[str, list[CodergenReply]] = {
        node: [
            reply(s, response=f"{node}:{s}", context_updates={"last_stage": node}) for s in statuses
        ]
        for node, statuses in script.items()
    }
    return World(replies=replies, by_attempt=True, random_value=0.75)


@settings(max_examples=40)
@given(pipelines())
def test_live_run_replays_byte_for_byte(case: tuple[str, dict[str, list[str]]]) -> None:
    """Whatever the graph and outcomes, the recorded log replays to the identical log."""
    source, script = case
    ran = run_dot(source, world_for(script), max_node_executions=40)
    assert ran.stopped == "done"
    assert replay_lines(ran.store.lines) == "done"


class BatchStore(MemoryStore):
    """A memory store that remembers where each append (one write in `EventLog`) ended."""

    def __init__(self) -> None:
        super().__init__(clock())
        self.boundaries: list[int] = []

    def append(self, items: Sequence[Emit]) -> list[Entry]:
        out = super().append(items)
        self.boundaries.append(len(self.lines))
        return out


@settings(max_examples=30)
@given(pipelines(parallel=False), st.data())
def test_any_crash_point_resumes_to_the_same_log(
    case: tuple[str, dict[str, list[str]]], data: st.DataObject
) -> None:
    """Cut the log after any append (what a SIGKILL can leave), resume: the same log results."""
    source, script = case
    store = BatchStore()
    whole = run_dot(source, world_for(script), store=store, max_node_executions=40)
    cut = data.draw(st.sampled_from(store.boundaries))
    entries = whole.entries
    resumed_store = MemoryStore(clock())
    resumed_store.append([(e.stream, e.event) for e in entries[:cut]])
    resumed = run_dot(source, world_for(script), store=resumed_store, max_node_executions=40)
    assert resumed.stopped == "done"
    assert resumed_store.lines == store.lines


LINEAR = """digraph l {
    start [shape=Mdiamond]; done [shape=Msquare]
    n0 [prompt="do n0"]
    start -> n0 -> done
}
"""


def test_prefix_ending_at_a_completed_stage_resumes_by_routing() -> None:
    """Cut right after `n0`'s stage.completed + checkpoint.saved: resume routes on, it does not
    run n0 again."""
    whole = run_dot(LINEAR, world_for({"n0": ["success"]}))
    entries = whole.entries
    cut = next(
        i + 1
        for i, e in enumerate(entries)
        if isinstance(e.event, CheckpointSaved) and e.event.node == "n0"
    )
    store = MemoryStore(clock())
    store.append([(e.stream, e.event) for e in entries[:cut]])
    again = world_for({"n0": ["success"]})
    resumed = run_dot(LINEAR, again, store=store)
    assert again.calls == []
    assert resumed.completed == ("start", "n0", "done")
    assert store.lines == whole.store.lines


@settings(max_examples=30)
@given(pipelines(), st.data())
def test_fold_of_a_prefix_is_the_state_the_run_had_there(
    case: tuple[str, dict[str, list[str]]], data: st.DataObject
) -> None:
    """fold(prefix) then fold(rest) equals fold(all); and the prefix state finished iff the
    prefix contains run.finished."""
    source, script = case
    whole = run_dot(source, world_for(script), max_node_executions=40)
    entries: list[Entry] = whole.entries
    cut = data.draw(st.integers(min_value=1, max_value=len(entries)))
    machine = PipelineMachine.from_log(entries)
    prefix = fold(entries[:cut], machine.initial(), machine.reduce)
    rest = fold(entries[cut:], prefix, machine.reduce)
    assert rest == whole.state
    assert (prefix.finished is not None) == (cut == len(entries))


def test_replay_with_parallel_branches_is_exact() -> None:
    """A run with interleaved branch streams replays exactly (the recorded order is followed)."""
    source = """digraph p {
        start [shape=Mdiamond]; done [shape=Msquare]
        fan [shape=component]; join [shape=tripleoctagon]
        a1 [prompt="a1"]; a2 [prompt="a2"]; b1 [prompt="b1"]
        start -> fan; fan -> a1; fan -> b1; a1 -> a2 -> join; b1 -> join; join -> done
    }"""
    ran = run_dot(source, World())
    streams = {e.stream for e in ran.entries}
    assert {"run/fan@2:0", "run/fan@2:1"} <= streams
    assert replay_lines(ran.store.lines) == "done"
    assert asyncio.iscoroutinefunction(run_dot) is False
