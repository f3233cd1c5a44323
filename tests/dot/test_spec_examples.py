"""Every DOT example of the specs parses (fixtures/dot/spec_examples) and behaves as described."""

from __future__ import annotations

from pathlib import Path

import pytest

from attractor.dot import apply_transforms, format_dot, parse_dot, validate

EXAMPLES = Path(__file__).parents[2] / "fixtures" / "dot" / "spec_examples"
ALL = sorted(EXAMPLES.glob("*.dot"))
COMPLETE = [p for p in ALL if p.stem.startswith(("2_13", "8_6", "11_13"))]


def _load(path: Path):  # type: ignore[no-untyped-def]
    return parse_dot(path.read_text(encoding="utf-8"), filename=path.name)


def test_examples_were_extracted() -> None:
    """All eleven spec examples are present (five complete graphs, six fragments)."""
    assert len(ALL) == 11
    assert len(COMPLETE) == 5


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_example_parses_and_round_trips(path: Path) -> None:
    """Each example parses, and its canonical form parses back to the same graph."""
    graph = _load(path)
    assert parse_dot(format_dot(graph)) == graph


@pytest.mark.parametrize("path", COMPLETE, ids=lambda p: p.stem)
def test_complete_examples_have_no_errors(path: Path) -> None:
    """The spec's complete pipelines validate without error-severity diagnostics."""
    found = validate(apply_transforms(_load(path)))
    assert [d for d in found if d.is_error] == []


def test_chained_edge_example_equals_its_expansion() -> None:
    """§2.9: the chained form and the expanded form are the same graph."""
    chained = _load(EXAMPLES / "2_9_chained_edges.dot")
    expanded = _load(EXAMPLES / "2_9_chained_edges_expanded.dot")
    assert chained.edges == expanded.edges


def test_smoke_test_example_counts() -> None:
    """§11.13 step 1: goal, five nodes, six edges."""
    graph = _load(EXAMPLES / "11_13_smoke_test.dot")
    assert graph.goal == "Create a hello world Python script"
    assert (len(graph.nodes), len(graph.edges)) == (5, 6)


def test_human_gate_example() -> None:
    """§2.13: the review gate is a wait.human node with two labelled choices."""
    graph = _load(EXAMPLES / "2_13_human_gate.dot")
    gate = graph.node("review_gate")
    assert gate.handler_type == "wait.human"
    assert [e.label for e in graph.outgoing_edges("review_gate")] == ["[A] Approve", "[F] Fix"]
