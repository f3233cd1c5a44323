"""Context fidelity (spec §5.4) as the backend sees it: `full` threads carry history, other
modes a deterministic preamble; resume keeps the full history exactly."""

from __future__ import annotations

from attractor.events import MemoryStore
from attractor.pipeline.fidelity import BUDGET_CHARS
from attractor.pipeline.model import CodergenCall, CodergenReply
from tests.pipeline.kit import World, clock, run_dot

THREE = """digraph f {{
    graph [goal="write docs" {graph}]
    start [shape=Mdiamond]; done [shape=Msquare]
    a [prompt="first" {a}]; b [prompt="second" {b}]; c [prompt="third" {c}]
    start -> a
    a -> b [{ab}]
    b -> c [{bc}]
    c -> done
}}"""


def source(
    graph: str = "", a: str = "", b: str = "", c: str = "", ab: str = "", bc: str = ""
) -> str:
    """The three-stage pipeline with extra attributes."""
    return THREE.format(graph=graph, a=a, b=b, c=c, ab=ab, bc=bc)


def echo(call: CodergenCall) -> CodergenReply:
    """Reply with a response naming the node."""
    return CodergenReply(response=f"answer to {call.node_id}")


def calls(src: str) -> dict[str, CodergenCall]:
    """Run and return the backend calls by node."""
    world = World(replies={"*": [echo]})
    run_dot(src, world)
    return {c.node_id: c for c in world.calls}


def test_full_fidelity_passes_the_thread_history() -> None:
    """Nodes on one `full` thread get the earlier turns of that thread, in order."""
    got = calls(source(graph=', default_fidelity="full", thread_id="main"'))
    assert got["a"].history == []
    assert got["b"].history == [("first", "answer to a")]
    assert got["c"].history == [("first", "answer to a"), ("second", "answer to b")]
    assert got["c"].fidelity == "full"
    assert got["c"].thread_key == "main"
    assert got["c"].preamble == ""


def test_full_fidelity_separate_threads_do_not_mix() -> None:
    """A node on another thread key starts fresh."""
    got = calls(
        source(
            graph=', default_fidelity="full"',
            a='thread_id="x"',
            b='thread_id="y"',
            c='thread_id="x"',
        )
    )
    assert got["b"].history == []
    assert got["c"].history == [("first", "answer to a")]


def test_default_is_compact_with_a_preamble() -> None:
    """Unset fidelity is `compact`: a preamble listing completed stages and context."""
    got = calls(source())
    call = got["c"]
    assert call.fidelity == "compact"
    assert call.history == []
    assert call.preamble.startswith("Run r1. Goal: write docs")
    assert "Completed stages (3): start, a, b" in call.preamble
    assert '- graph.goal = "write docs"' in call.preamble


def test_truncate_is_goal_and_run_id_only() -> None:
    """`truncate` carries only the run id and goal."""
    got = calls(source(graph=', default_fidelity="truncate"'))
    assert got["c"].preamble == "Run r1. Goal: write docs"


def test_precedence_edge_then_node_then_graph() -> None:
    """Edge fidelity beats node fidelity, which beats the graph default."""
    got = calls(
        source(
            graph=', default_fidelity="truncate"',
            b='fidelity="summary:low"',
            c='fidelity="summary:low"',
            bc='fidelity="summary:high"',
        )
    )
    assert got["a"].fidelity == "truncate"
    assert got["b"].fidelity == "summary:low"
    assert got["c"].fidelity == "summary:high"


def test_summary_preambles_respect_their_budgets() -> None:
    """Even with a huge context, every preamble stays within its mode's character budget."""
    big = {"*": [CodergenReply(response="r")]}
    for mode, budget in BUDGET_CHARS.items():
        world = World(replies=big)
        src = source(
            graph=f', default_fidelity="{mode}", '
            + ", ".join(f'k{i}="{"v" * 290}"' for i in range(60))
        )
        run_dot(src, world)
        for call in world.calls:
            assert len(call.preamble) <= budget, mode


def test_preamble_is_deterministic() -> None:
    """The same run gives the same preambles."""
    assert calls(source())["c"].preamble == calls(source())["c"].preamble


def test_resume_keeps_full_history() -> None:
    """Interrupted after `a` and resumed, `c` still gets the whole thread (no degrade)."""
    src = source(graph=', default_fidelity="full", thread_id="main"')
    whole = calls(src)
    store = MemoryStore(clock())
    first = World(replies={"*": [echo]})
    part = run_dot(src, first, store=store, max_steps=12)
    assert part.stopped == "step-limit"
    assert [c.node_id for c in first.calls] == ["a"]
    second = World(replies={"*": [echo]})
    resumed = run_dot(src, second, store=store)
    assert resumed.stopped == "done"
    got = {c.node_id: c for c in second.calls}
    assert got["c"].history == whole["c"].history
    assert got["c"].history == [("first", "answer to a"), ("second", "answer to b")]
