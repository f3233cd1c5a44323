"""Spec §11.12 cross-feature parity matrix: the rows that belong to the pipeline language."""

from __future__ import annotations

from attractor.dot import Severity, apply_transforms, parse_dot, validate

LINEAR = """digraph P {
    graph [goal="Write a haiku", label="Haiku"]
    start [shape=Mdiamond]
    done  [shape=Msquare]
    A [
        label="Draft",
        prompt="Draft: $goal"
    ]
    B [label="Polish", prompt="Polish it"]
    start -> A -> B -> done
}"""


def _rules(text: str) -> dict[str, Severity]:
    return {d.rule: d.severity for d in validate(apply_transforms(parse_dot(text)))}


def test_parse_a_simple_linear_pipeline() -> None:
    """Row: parse a simple linear pipeline (start -> A -> B -> done)."""
    graph = parse_dot(LINEAR)
    assert [(e.source, e.target) for e in graph.edges] == [
        ("start", "A"),
        ("A", "B"),
        ("B", "done"),
    ]
    assert _rules(LINEAR) == {}


def test_parse_graph_level_attributes() -> None:
    """Row: parse a pipeline with graph-level attributes (goal, label)."""
    graph = parse_dot(LINEAR)
    assert (graph.goal, graph.label) == ("Write a haiku", "Haiku")


def test_parse_multi_line_node_attributes() -> None:
    """Row: parse multi-line node attributes."""
    assert parse_dot(LINEAR).node("A").label == "Draft"


def test_validate_missing_start_node_is_an_error() -> None:
    """Row: validate — missing start node -> error."""
    text = LINEAR.replace("start [shape=Mdiamond]", "").replace("start -> A", "A")
    assert _rules(text)["start_node"] is Severity.ERROR


def test_validate_missing_exit_node_is_an_error() -> None:
    """Row: validate — missing exit node -> error."""
    text = LINEAR.replace("done  [shape=Msquare]", "").replace(" -> done", "")
    assert _rules(text)["terminal_node"] is Severity.ERROR


def test_validate_orphan_node_is_reported() -> None:
    """Row: orphan node — reported by `reachability` (ERROR per §7.2's table; ADR 0015)."""
    text = LINEAR.replace("start -> A", 'orphan [prompt="x"]\n    start -> A')
    assert _rules(text) == {"reachability": Severity.ERROR}


def test_stylesheet_applies_model_override_by_shape() -> None:
    """Row: stylesheet applies model override to nodes by shape."""
    text = LINEAR.replace('label="Haiku"', 'label="Haiku", model_stylesheet="box { llm_model: m }"')
    graph = apply_transforms(parse_dot(text))
    assert graph.node("A").llm_model == "m"
    assert graph.node("start").llm_model == ""


def test_prompt_variable_expansion() -> None:
    """Row: prompt variable expansion ($goal) works."""
    assert apply_transforms(parse_dot(LINEAR)).node("A").prompt == "Draft: Write a haiku"
