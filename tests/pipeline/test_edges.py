"""Edge selection (spec §3.3) and failure routing (§3.7): examples and hypothesis properties."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from attractor.dot import Edge, parse_dot
from attractor.pipeline.edges import gate_retry_target, next_step, select_edge
from attractor.pipeline.model import Outcome, StageStatus

SUCCESS = Outcome(status=StageStatus.SUCCESS)
TARGETS = st.sampled_from(["a", "b", "c", "d", "e", "zz"])
WEIGHTS = st.integers(min_value=-3, max_value=3)


def edge(target: str, **attrs: str) -> Edge:
    """An edge from `n`."""
    return Edge(source="n", target=target, attrs=attrs)


@st.composite
def unconditional(draw: st.DrawFn) -> list[Edge]:
    """1-6 unconditional edges with random weights."""
    n = draw(st.integers(min_value=1, max_value=6))
    return [edge(draw(TARGETS), weight=str(draw(WEIGHTS))) for _ in range(n)]


@given(unconditional(), TARGETS, WEIGHTS)
def test_condition_match_beats_any_weight(edges: list[Edge], target: str, w: int) -> None:
    """A matching conditional edge wins over unconditional edges whatever their weights."""
    cond = edge(target, condition="outcome=success", weight=str(w - 100))
    choice = select_edge([*edges, cond], SUCCESS, {})
    assert choice is not None
    assert choice.edge is cond
    assert choice.reason == "condition"


@given(unconditional(), TARGETS)
def test_non_matching_condition_is_never_taken(edges: list[Edge], target: str) -> None:
    """A conditional edge whose condition is false is not eligible at all."""
    cond = edge(target, condition="outcome=fail", weight="99")
    choice = select_edge([cond, *edges], SUCCESS, {})
    assert choice is not None
    assert choice.edge is not cond


@given(unconditional())
def test_weight_then_lexical(edges: list[Edge]) -> None:
    """Without conditions or hints: the highest weight, ties broken by the smallest target."""
    choice = select_edge(edges, SUCCESS, {})
    assert choice is not None
    best = max(e.weight for e in edges)
    assert choice.edge is not None
    assert choice.edge.weight == best
    assert choice.target == min(e.target for e in edges if e.weight == best)
    ties = [e for e in edges if e.weight == best]
    assert choice.reason == ("weight" if len(ties) == 1 else "lexical")


@given(unconditional(), st.randoms(use_true_random=False))
def test_selection_is_deterministic_and_order_independent(edges: list[Edge], rnd: object) -> None:
    """The same edges in any order (with no hints) select the same target, every time."""
    shuffled = list(edges)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    a, b = select_edge(edges, SUCCESS, {}), select_edge(shuffled, SUCCESS, {})
    assert a is not None
    assert b is not None
    assert (a.target, a.reason) == (b.target, b.reason)
    assert select_edge(edges, SUCCESS, {}) == a


LABELS = st.sampled_from(["Approve", "Reject", "Fix it", "Ship"])
DECOR = st.sampled_from(["{}", "[K] {}", "K) {}", "K - {}", "  {}  ", "{}"])


@given(unconditional(), LABELS, DECOR, DECOR, st.sampled_from(["upper", "lower", "same"]))
def test_preferred_label_matches_after_normalisation(
    edges: list[Edge], label: str, on_edge: str, in_outcome: str, case: str
) -> None:
    """Case, surrounding space and accelerator prefixes are ignored when matching labels."""
    labelled = edge("labelled", label=on_edge.format(label), weight="-50")
    wanted = in_outcome.format(label)
    wanted = {"upper": wanted.upper(), "lower": wanted.lower(), "same": wanted}[case]
    outcome = Outcome(status=StageStatus.SUCCESS, preferred_label=wanted)
    choice = select_edge([*edges, labelled], outcome, {})
    assert choice is not None
    assert choice.target == "labelled"
    assert choice.reason == "preferred_label"


def test_preferred_label_never_picks_a_conditional_edge() -> None:
    """A label on a conditional edge (whose condition fails) does not match."""
    edges = [edge("x", label="Go", condition="outcome=fail"), edge("y")]
    outcome = Outcome(status=StageStatus.SUCCESS, preferred_label="Go")
    choice = select_edge(edges, outcome, {})
    assert choice is not None
    assert choice.target == "y"


@given(unconditional(), st.lists(TARGETS, min_size=1, max_size=3))
def test_suggested_ids_in_order(edges: list[Edge], suggested: list[str]) -> None:
    """The first suggested id with an unconditional edge wins; otherwise weight/lexical."""
    outcome = Outcome(status=StageStatus.SUCCESS, suggested_next_ids=tuple(suggested))
    choice = select_edge(edges, outcome, {})
    assert choice is not None
    targets = {e.target for e in edges}
    hit = next((s for s in suggested if s in targets), None)
    if hit is not None:
        assert choice.target == hit
        assert choice.reason == "suggested_next_ids"
    else:
        assert choice.reason in ("weight", "lexical")


@given(unconditional(), LABELS, TARGETS)
def test_label_beats_suggested_ids(edges: list[Edge], label: str, suggested: str) -> None:
    """Step 2 (preferred label) comes before step 3 (suggested ids)."""
    labelled = edge("labelled", label=label)
    outcome = Outcome(
        status=StageStatus.SUCCESS, preferred_label=label, suggested_next_ids=(suggested,)
    )
    choice = select_edge([*edges, labelled], outcome, {})
    assert choice is not None
    assert choice.target == "labelled"


def test_no_edges_selects_nothing() -> None:
    """A node with no outgoing edges has no next step."""
    assert select_edge([], SUCCESS, {}) is None


def test_only_failing_conditions_selects_nothing() -> None:
    """If every edge is conditional and none matches, nothing is selected."""
    assert select_edge([edge("x", condition="outcome=fail")], SUCCESS, {}) is None


def test_condition_on_context_value() -> None:
    """Conditions read `context.*` keys."""
    edges = [edge("x", condition="context.mode=fast"), edge("y")]
    choice = select_edge(edges, SUCCESS, {"context.mode": "fast"})
    assert choice is not None
    assert choice.target == "x"


ROUTING = """digraph r {
    start [shape=Mdiamond]; done [shape=Msquare]
    a [prompt="a", retry_target=r1, fallback_retry_target=r2]
    b [prompt="b", fallback_retry_target=r2]
    c [prompt="c"]
    r1 [prompt="r1"]; r2 [prompt="r2"]; side [prompt="s"]
    start -> a
    a -> side [condition="outcome=fail"]
    a -> done
    b -> done
    c -> done
    r1 -> done; r2 -> done; side -> done
}
"""

FAIL = Outcome(status=StageStatus.FAIL, failure_reason="x")


def test_failure_routing_prefers_fail_edge() -> None:
    """A FAIL follows an `outcome=fail` edge before any retry target."""
    graph = parse_dot(ROUTING)
    choice = next_step(graph.nodes["a"], graph, FAIL, {})
    assert choice is not None
    assert (choice.target, choice.reason) == ("side", "fail_edge")


def test_failure_routing_then_fallback_retry_target() -> None:
    """Without a fail edge or retry_target, fallback_retry_target is used."""
    graph = parse_dot(ROUTING)
    choice = next_step(graph.nodes["b"], graph, FAIL, {})
    assert choice is not None
    assert (choice.target, choice.reason) == ("r2", "fallback_retry_target")


def test_failure_routing_never_takes_an_unconditional_edge() -> None:
    """A FAIL with no route ends the traversal instead of following an unconditional edge."""
    graph = parse_dot(ROUTING)
    assert next_step(graph.nodes["c"], graph, FAIL, {}) is None


def test_failure_routing_retry_target_before_fallback() -> None:
    """retry_target comes before fallback_retry_target."""
    graph = parse_dot(ROUTING.replace('a -> side [condition="outcome=fail"]', ""))
    choice = next_step(graph.nodes["a"], graph, FAIL, {})
    assert choice is not None
    assert (choice.target, choice.reason) == ("r1", "retry_target")


def test_gate_retry_target_order() -> None:
    """Node retry_target, node fallback, graph retry_target, graph fallback (spec §3.4)."""
    graph = parse_dot(
        "digraph g { graph [retry_target=g1, fallback_retry_target=g2]; g1; g2; n1;"
        " n2 [retry_target=n1]; n3 [fallback_retry_target=n2] }"
    )
    assert gate_retry_target(graph.nodes["n2"], graph) == "n1"
    assert gate_retry_target(graph.nodes["n3"], graph) == "n2"
    assert gate_retry_target(graph.nodes["n1"], graph) == "g1"
    no_graph_target = parse_dot("digraph g { graph [fallback_retry_target=g2]; g2; n1 }")
    assert gate_retry_target(no_graph_target.nodes["n1"], no_graph_target) == "g2"
