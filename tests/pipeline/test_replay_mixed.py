"""Hypothesis over random pipelines mixing LLM stages, tool stages, human gates and a parallel
block: the live log replays byte for byte, and resuming from any append boundary reproduces it;
forking at any seq of a real run finishes."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from attractor.effects import RunShell, ShellRan
from attractor.events import Emit, Entry, MemoryStore
from attractor.pipeline.run import RunOptions, fork_run, replay_run, start_run
from tests.pipeline.kit import World, clock, replay_lines, reply, run_dot

KINDS = st.sampled_from(["llm", "tool", "gate", "diamond"])


@st.composite
def mixed(draw: st.DrawFn) -> tuple[str, dict[str, int], list[str], list[str]]:
    """A pipeline, tool exit codes by node, gate answers in order, and LLM statuses."""
    n = draw(st.integers(min_value=1, max_value=6))
    lines = ["start [shape=Mdiamond]", "done [shape=Msquare]"]
    edges = ["start -> n0"]
    codes: dict[str, int] = {}
    for i in range(n):
        node, nxt = f"n{i}", (f"n{i + 1}" if i + 1 < n else "done")
        kind = draw(KINDS)
        if kind == "llm":
            retries = draw(st.integers(min_value=0, max_value=1))
            lines.append(f'{node} [prompt="do {node}", max_retries={retries}]')
            edges += [f"{node} -> {nxt}", f'{node} -> {nxt} [condition="outcome=fail"]']
        elif kind == "tool":
            lines.append(f'{node} [shape=parallelogram, tool_command="step {node}"]')
            codes[node] = draw(st.sampled_from([0, 0, 1]))
            edges += [f"{node} -> {nxt}", f'{node} -> {nxt} [condition="outcome=fail"]']
        elif kind == "gate":
            lines.append(f'{node} [shape=hexagon, label="go on?"]')
            edges += [f'{node} -> {nxt} [label="[Y] yes"]', f'{node} -> {nxt} [label="[N] no"]']
        else:
            lines += [
                f"{node} [shape=diamond]",
                f"{node}_fan [shape=component]; {node}_j [shape=tripleoctagon]",
                f'{node}_a [prompt="a"]; {node}_b [prompt="b"]',
            ]
            edges += [
                f"{node} -> {node}_fan",
                f"{node}_fan -> {node}_a",
                f"{node}_fan -> {node}_b",
                f"{node}_a -> {node}_j",
                f"{node}_b -> {node}_j",
                f"{node}_j -> {nxt}",
            ]
    source = "digraph mixed {\n  " + "\n  ".join(lines + edges) + "\n}\n"
    answers = draw(st.lists(st.sampled_from(["Y", "N", "y", "yes"]), min_size=1, max_size=4))
    statuses = draw(st.lists(st.sampled_from(["success", "fail", "retry"]), min_size=1, max_size=3))
    return source, codes, answers, statuses


def world_for(codes: dict[str, int], answers: list[str], statuses: list[str]) -> World:
    """Deterministic answers for every effect."""

    def shell(request: RunShell) -> ShellRan:
        node = request.command.split()[-1]
        return ShellRan(
            exit_code=codes.get(node, 0), stdout=f"out {node}", stderr="", duration_ms=1
        )

    return World(
        replies={"*": [reply(s) for s in statuses]},
        answers=answers,
        shell=shell,
        by_attempt=True,
        random_value=0.9,
    )


class BatchStore(MemoryStore):
    """Remembers where each append ended."""

    def __init__(self) -> None:
        super().__init__(clock())
        self.boundaries: list[int] = []

    def append(self, items: Sequence[Emit]) -> list[Entry]:
        out = super().append(items)
        self.boundaries.append(len(self.lines))
        return out


@settings(max_examples=40)
@given(mixed())
def test_mixed_pipelines_replay_byte_for_byte(
    case: tuple[str, dict[str, int], list[str], list[str]],
) -> None:
    """Tools, gates, retries and parallel blocks: the recorded log replays exactly."""
    source, codes, answers, statuses = case
    ran = run_dot(source, world_for(codes, answers, statuses), max_node_executions=60)
    assert ran.stopped == "done"
    assert replay_lines(ran.store.lines) == "done"


@settings(max_examples=30)
@given(mixed(), st.data())
def test_mixed_pipelines_resume_from_any_append(
    case: tuple[str, dict[str, int], list[str], list[str]], data: st.DataObject
) -> None:
    """Resuming from any append boundary finishes with the same outcome and completed nodes."""
    source, codes, answers, statuses = case
    store = BatchStore()
    whole = run_dot(
        source, world_for(codes, answers, statuses), store=store, max_node_executions=60
    )
    cut = data.draw(st.sampled_from(store.boundaries))
    resumed_store = MemoryStore(clock())
    resumed_store.append([(e.stream, e.event) for e in whole.entries[:cut]])
    world = world_for(codes, answers, statuses)
    world.answers = (
        answers[
            len([e for e in whole.entries[:cut] if "interview.completed" in repr(type(e.event))]) :
        ]
        or answers
    )
    resumed = run_dot(source, world, store=resumed_store, max_node_executions=60)
    assert resumed.stopped == "done"
    assert resumed.finished.outcome.status == whole.finished.outcome.status


def test_fork_at_every_seq_of_a_parallel_run(tmp_path: Path) -> None:
    """Forking a real parallel run at every seq gives a run that finishes and replays."""
    examples = Path(__file__).resolve().parents[2] / "examples"
    opts = RunOptions(logs_root=str(tmp_path / "runs"), fsync=False)
    original = asyncio.run(start_run(examples / "parallel.dot", opts))
    total = sum(1 for _ in (original.run_dir / "events.jsonl").read_bytes().splitlines())
    for at in range(1, total + 1):
        forked = asyncio.run(fork_run(original.run_dir, at, logs_root=tmp_path / "forks"))
        assert forked.stopped == "done", at
        assert forked.state.finished is not None
        assert forked.state.finished.status == "success", at
        assert asyncio.run(replay_run(forked.run_dir)).stopped == "done", at
