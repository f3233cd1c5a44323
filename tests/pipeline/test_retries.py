"""Retries (spec §3.5-3.6), goal gates (§3.4), failure routing (§3.7), loop_restart and the
execution bound, driven through the whole engine."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from attractor.dot import parse_dot
from attractor.effects import EffectCompleted, RandomDrawn
from attractor.events import read_log
from attractor.pipeline.events import (
    EdgeSelected,
    GoalGateUnsatisfied,
    LoopRestarted,
    RunStarted,
    StageFailed,
    StageRetrying,
)
from attractor.pipeline.model import StageStatus
from attractor.pipeline.retry import PRESETS, delay_ms, policy_for
from attractor.pipeline.run import RunOptions, start_run
from tests.pipeline.kit import World, reply, run_dot


def one_node(attrs: str, graph_attrs: str = "") -> str:
    """start -> work -> done, `work` with `attrs`."""
    return f"""digraph r {{
        graph [{graph_attrs}]
        start [shape=Mdiamond]; done [shape=Msquare]
        work [prompt="w", {attrs}]
        start -> work -> done
    }}"""


def attempts(world: World) -> list[int]:
    """The attempts of the `work` node's backend calls."""
    return [c.attempt for c in world.calls if c.node_id == "work"]


def test_fail_is_retried_up_to_max_retries() -> None:
    """max_retries=2 with FAIL every time: three attempts, then a FAIL outcome."""
    world = World(replies={"work": [reply("fail", failure_reason="nope")]})
    ran = run_dot(one_node("max_retries=2"), world)
    assert attempts(world) == [1, 2, 3]
    assert ran.outcome.status == StageStatus.FAIL
    assert ran.outcome.failure_reason == "nope"
    assert [e.attempt for e in ran.events(StageFailed)] == [1, 2]


def test_retry_status_is_retried_then_fails_when_exhausted() -> None:
    """RETRY every time: attempts exhausted → FAIL "max retries exceeded"."""
    world = World(replies={"work": [reply("retry", failure_reason="again")]})
    ran = run_dot(one_node("max_retries=1"), world)
    assert attempts(world) == [1, 2]
    assert ran.outcome.status == StageStatus.FAIL
    assert "max retries exceeded" in ran.outcome.failure_reason


def test_allow_partial_turns_exhausted_retry_into_partial_success() -> None:
    """allow_partial=true: RETRY exhausted is PARTIAL_SUCCESS, and the run goes on."""
    world = World(replies={"work": [reply("retry")]})
    ran = run_dot(one_node("max_retries=1, allow_partial=true"), world)
    assert ran.state.top().outcomes["work"].status == StageStatus.PARTIAL_SUCCESS  # type: ignore[union-attr]
    assert ran.outcome.status == StageStatus.SUCCESS
    assert ran.completed == ("start", "work", "done")


def test_no_retries_by_default() -> None:
    """Without max_retries or a graph default, a FAIL is final after one attempt."""
    world = World(replies={"work": [reply("fail")]})
    run_dot(one_node(""), world)
    assert attempts(world) == [1]


def test_default_max_retries_applies_to_nodes_without_max_retries() -> None:
    """Graph `default_max_retries=2`: three attempts."""
    world = World(replies={"work": [reply("fail")]})
    run_dot(one_node("", "default_max_retries=2"), world)
    assert attempts(world) == [1, 2, 3]


def test_legacy_default_max_retry_alias() -> None:
    """Graph `default_max_retry=1` (legacy spelling): two attempts."""
    world = World(replies={"work": [reply("fail")]})
    run_dot(one_node("", "default_max_retry=1"), world)
    assert attempts(world) == [1, 2]


def test_node_max_retries_overrides_graph_default() -> None:
    """Node `max_retries=0` wins over graph `default_max_retries=3`."""
    world = World(replies={"work": [reply("fail")]})
    run_dot(one_node("max_retries=0", "default_max_retries=3"), world)
    assert attempts(world) == [1]


def test_success_after_retry_resets_the_retry_counter() -> None:
    """`internal.retry_count.work` counts failures and is cleared by a success."""
    world = World(replies={"work": [reply("fail"), reply("success")]})
    ran = run_dot(one_node("max_retries=3"), world)
    assert "internal.retry_count.work" not in ran.context
    assert ran.state.top().retries == {}  # type: ignore[union-attr]


def test_retry_counter_is_in_the_context_while_retrying() -> None:
    """After two failures the counter reads 2 (checked on the state before attempt 3)."""
    world = World(replies={"work": [reply("fail")]})
    ran = run_dot(one_node("max_retries=2"), world)
    assert ran.context["internal.retry_count.work"] == 2


def test_jitter_delay_is_recorded_and_matches_the_drawn_factor() -> None:
    """stage.retrying.delay_ms is the backoff of that attempt times the recorded random factor."""
    world = World(replies={"work": [reply("fail")]})
    ran = run_dot(one_node("max_retries=3"), world, seed=7)
    draws = [
        e.event.result.value
        for e in ran.entries
        if isinstance(e.event, EffectCompleted) and isinstance(e.event.result, RandomDrawn)
    ]
    retrying = ran.events(StageRetrying)
    assert len(draws) == len(retrying) == 3
    policy = policy_for(parse_dot(one_node("max_retries=3")).nodes["work"], parse_dot(one_node("")))
    for event, factor in zip(retrying, draws, strict=True):
        assert 0.5 <= factor < 1.5
        assert event.delay_ms == delay_ms(policy, event.attempt, factor)
    assert [e.delay_ms for e in retrying] != [200, 400, 800]  # jitter actually applied


@pytest.mark.parametrize(
    ("preset", "attempts_", "delays"),
    [
        ("none", 1, []),
        ("standard", 5, [200, 400, 800, 1600]),
        ("aggressive", 5, [500, 1000, 2000, 4000]),
        ("linear", 3, [500, 500]),
        ("patient", 3, [2000, 6000]),
    ],
)
def test_retry_policy_presets(preset: str, attempts_: int, delays: list[int]) -> None:
    """Each preset's attempts and (un-jittered) delays are those of spec §3.6."""
    graph = parse_dot(one_node(f'retry_policy="{preset}"'))
    policy = policy_for(graph.nodes["work"], graph)
    assert policy.max_attempts == attempts_
    assert PRESETS[preset].max_attempts == attempts_
    assert [delay_ms(policy, a, 1.0) for a in range(1, attempts_)] == delays


def test_preset_attempts_used_by_the_engine() -> None:
    """`retry_policy=linear`: three attempts, delays 500 ms times the jitter factor."""
    world = World(replies={"work": [reply("fail")]})
    ran = run_dot(one_node('retry_policy="linear"'), world)
    assert attempts(world) == [1, 2, 3]
    assert all(250 <= e.delay_ms < 750 for e in ran.events(StageRetrying))


def test_stage_retrying_carries_the_failed_attempts_outcome() -> None:
    """stage.retrying.outcome is the outcome of the attempt that is being retried."""
    world = World(replies={"work": [reply("retry", failure_reason="flaky network")]})
    ran = run_dot(one_node("max_retries=1"), world)
    (retrying,) = ran.events(StageRetrying)
    assert retrying.outcome.status == StageStatus.RETRY
    assert retrying.outcome.failure_reason == "flaky network"


# --- goal gates


GATE_NODE = """digraph g {
    start [shape=Mdiamond]; done [shape=Msquare]
    plan [prompt="p"]
    impl [prompt="i", goal_gate=true, retry_target=plan]
    start -> plan -> impl
    impl -> done [condition="outcome=fail"]
    impl -> done [condition="outcome=success"]
}
"""


def test_goal_gate_node_retry_target() -> None:
    """An unsatisfied gate at exit jumps to the gate's retry_target; the second pass exits."""
    world = World(replies={"impl": [reply("fail"), reply("success")], "*": [reply("success")]})
    ran = run_dot(GATE_NODE, world)
    (gate,) = ran.events(GoalGateUnsatisfied)
    assert (gate.gate, gate.retry_target) == ("impl", "plan")
    assert ran.completed == ("start", "plan", "impl", "plan", "impl", "done")
    assert ran.outcome.status == StageStatus.SUCCESS
    jumps = [e for e in ran.events(EdgeSelected) if e.reason == "goal_gate"]
    assert [(e.source, e.target) for e in jumps] == [("done", "plan")]


def test_goal_gate_graph_level_retry_target() -> None:
    """Without a node-level target the graph `retry_target` is used."""
    source = GATE_NODE.replace(", retry_target=plan", "").replace(
        "digraph g {", 'digraph g {\n graph [retry_target="plan"]'
    )
    world = World(replies={"impl": [reply("fail"), reply("success")], "*": [reply("success")]})
    ran = run_dot(source, world)
    (gate,) = ran.events(GoalGateUnsatisfied)
    assert gate.retry_target == "plan"
    assert ran.outcome.status == StageStatus.SUCCESS


def test_goal_gate_without_target_fails_the_run() -> None:
    """No retry target anywhere: the run FAILs naming the gate."""
    source = GATE_NODE.replace(", retry_target=plan", "")
    ran = run_dot(source, World(replies={"impl": [reply("fail")], "*": [reply("success")]}))
    assert ran.outcome.status == StageStatus.FAIL
    assert "'impl'" in ran.outcome.failure_reason


def test_partial_success_satisfies_a_goal_gate() -> None:
    """PARTIAL_SUCCESS counts as satisfied."""
    ran = run_dot(GATE_NODE, World(replies={"impl": [reply("partial_success")]}))
    assert not ran.events(GoalGateUnsatisfied)
    assert ran.outcome.status == StageStatus.SUCCESS


# --- failure routing


ROUTE = """digraph f {
    start [shape=Mdiamond]; done [shape=Msquare]
    work [prompt="w"EXTRA]
    onfail [prompt="x"]; target [prompt="t"]; fallback [prompt="b"]
    start -> work
    work -> done
    FAILEDGE
    onfail -> done; target -> done; fallback -> done
}
"""


def route(extra: str, fail_edge: bool) -> tuple[str, ...]:
    """The completed nodes after `work` FAILs once (then everything succeeds)."""
    source = ROUTE.replace("EXTRA", extra).replace(
        "FAILEDGE", 'work -> onfail [condition="outcome=fail"]' if fail_edge else ""
    )
    world = World(replies={"work": [reply("fail")], "*": [reply("success")]})
    return run_dot(source, world).completed


def test_failure_routing_fail_edge_first() -> None:
    """A fail edge wins over retry_target and fallback_retry_target."""
    extra = ", retry_target=target, fallback_retry_target=fallback"
    assert route(extra, fail_edge=True)[2] == "onfail"


def test_failure_routing_retry_target_second() -> None:
    """No fail edge: retry_target."""
    extra = ", retry_target=target, fallback_retry_target=fallback"
    assert route(extra, fail_edge=False)[2] == "target"


def test_failure_routing_fallback_third() -> None:
    """No fail edge, no retry_target: fallback_retry_target."""
    assert route(", fallback_retry_target=fallback", fail_edge=False)[2] == "fallback"


def test_failure_without_route_ends_the_run_with_the_stage_reason() -> None:
    """No route: the run FAILs with the stage's failure reason, never taking `work -> done`."""
    world = World(replies={"work": [reply("fail", failure_reason="compiler error")]})
    ran = run_dot(ROUTE.replace("EXTRA", "").replace("FAILEDGE", ""), world)
    assert ran.outcome.status == StageStatus.FAIL
    assert ran.outcome.failure_reason == "compiler error"
    assert ran.completed == ("start", "work")


# --- execution bound and loop restart


def test_execution_bound_stops_a_cycle() -> None:
    """An endless a <-> b cycle stops at `max_node_executions` with a clear FAIL."""
    source = """digraph loop {
        start [shape=Mdiamond]; done [shape=Msquare]
        a [prompt="a"]; b [prompt="b"]
        start -> a -> b -> a
        b -> done [condition="context.never=1"]
    }"""
    ran = run_dot(source, backend="simulate", max_node_executions=25)
    assert ran.outcome.status == StageStatus.FAIL
    assert "execution limit reached (25)" in ran.outcome.failure_reason
    assert ran.state.executions == 25


def test_execution_bound_via_start_run(tmp_path: Path) -> None:
    """RunOptions(max_node_executions=…) is honoured by start_run."""
    dot = tmp_path / "loop.dot"
    dot.write_text(
        'digraph loop { start [shape=Mdiamond]; done [shape=Msquare]; a [prompt="a"];'
        ' b [prompt="b"]; start -> a -> b -> a; b -> done [condition="context.x=1"] }'
    )
    opts = RunOptions(logs_root=str(tmp_path / "runs"), fsync=False, max_node_executions=10)
    result = asyncio.run(start_run(dot, opts))
    assert result.state.finished is not None
    assert result.state.finished.status == StageStatus.FAIL
    assert "execution limit" in result.state.finished.failure_reason


def test_loop_restart_starts_a_new_linked_run(tmp_path: Path) -> None:
    """A `loop_restart` edge ends the run and starts a new run (linked) at the edge's target."""
    marks = tmp_path / "count"
    dot = tmp_path / "restart.dot"
    dot.write_text(
        f"""digraph restart {{
        start [shape=Mdiamond]; done [shape=Msquare]
        prep [prompt="p"]
        count [shape=parallelogram, tool_command="echo x >> {marks}; test $(wc -l < {marks}) -ge 2"]
        start -> prep -> count
        count -> done [condition="outcome=success"]
        count -> prep [condition="outcome=fail", loop_restart=true]
    }}"""
    )
    opts = RunOptions(logs_root=str(tmp_path / "runs"), fsync=False)
    result = asyncio.run(start_run(dot, opts))
    assert result.state.finished is not None
    assert result.state.finished.status == StageStatus.SUCCESS
    runs = sorted((tmp_path / "runs").iterdir())
    assert len(runs) == 2
    firsts = {p: list(read_log(p / "events.jsonl")) for p in runs}
    old = next(p for p, es in firsts.items() if any(isinstance(e.event, LoopRestarted) for e in es))
    new = result.run_dir
    assert old != new
    old_start = firsts[old][0].event
    new_start = firsts[new][0].event
    assert isinstance(old_start, RunStarted)
    assert isinstance(new_start, RunStarted)
    assert new_start.parent_run == old_start.run_id
    assert new_start.start_at == "prep"
    assert result.state.top().completed == ("prep", "count", "done")  # type: ignore[union-attr]
