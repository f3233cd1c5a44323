"""The model stylesheet (spec §8, §11.10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from attractor.dot import (
    Node,
    Selector,
    StylesheetSyntaxError,
    apply_stylesheet,
    parse_dot,
    parse_stylesheet,
)
from attractor.dot._values import quote

FIXTURES = Path(__file__).parents[2] / "fixtures" / "dot" / "spec_examples"


def _styled(stylesheet: str, body: str) -> dict[str, dict[str, str]]:
    text = f"digraph G {{ model_stylesheet={quote(stylesheet)}\n{body} }}"
    graph = apply_stylesheet(parse_dot(text))
    return {n.id: dict(n.attrs) for n in graph.nodes.values()}


def test_parses_rules_in_order() -> None:
    """Every selector kind parses, declarations keep order, trailing ';' is optional."""
    sheet = parse_stylesheet(
        '* { llm_model: a; llm_provider: "b" }\nbox { reasoning_effort: low; }\n'
        ".code { llm_model: c }\n#review { llm_model: d; }"
    )
    assert [str(r.selector) for r in sheet.rules] == ["*", "box", ".code", "#review"]
    assert sheet.rules[0].declarations == (("llm_model", "a"), ("llm_provider", "b"))


@pytest.mark.parametrize(
    ("selectors", "winner"),
    [
        (["*", "box"], "box"),
        (["box", "*"], "box"),
        (["box", ".c"], ".c"),
        ([".c", "box"], ".c"),
        ([".c", "#n"], "#n"),
        (["#n", ".c"], "#n"),
        (["*", "box", ".c", "#n"], "#n"),
        (["#n", ".c", "box", "*"], "#n"),
    ],
)
def test_specificity_table(selectors: list[str], winner: str) -> None:
    """§8.3: universal < shape < class < ID, whatever the rule order."""
    sheet = " ".join(f"{s} {{ llm_model: {s.strip('*.#') or 'star'} }}" for s in selectors)
    node = _styled(sheet, 'n [shape=box, class="c"]')["n"]
    assert node["llm_model"] == (winner.strip("*.#") or "star")


def test_later_rule_of_equal_specificity_wins() -> None:
    """§8.3: of two equally specific rules, the later one wins."""
    node = _styled("* { llm_model: first } * { llm_model: second }", "n")["n"]
    assert node["llm_model"] == "second"


def test_properties_resolve_independently() -> None:
    """Each property takes its value from the most specific rule that sets it."""
    node = _styled("* { llm_model: m; llm_provider: p } #n { reasoning_effort: low }", "n")["n"]
    assert (node["llm_model"], node["llm_provider"], node["reasoning_effort"]) == ("m", "p", "low")


def test_explicit_node_attributes_win() -> None:
    """§8.5: an attribute the node already has is never replaced."""
    node = _styled("#n { llm_model: sheet }", "n [llm_model=explicit]")["n"]
    assert node["llm_model"] == "explicit"


def test_shape_selector_uses_default_shape() -> None:
    """A node without a shape is matched by the `box` selector (§11.10)."""
    nodes = _styled('box { llm_model: "claude-opus-4-6" }', "a\n b [shape=hexagon]")
    assert nodes["a"]["llm_model"] == "claude-opus-4-6"
    assert "llm_model" not in nodes["b"]


def test_class_selector_matches_derived_classes() -> None:
    """Classes derived from subgraph labels are matched by .class selectors."""
    nodes = _styled(".fast { llm_model: flash }", 'subgraph s { label="Fast"; a } b')
    assert nodes["a"]["llm_model"] == "flash"
    assert "llm_model" not in nodes["b"]


def test_spec_example_section_8_6() -> None:
    """§8.6: plan gets sonnet, implement opus, critical_review gpt-5.2."""
    text = (FIXTURES / "8_6_stylesheet.dot").read_text()
    graph = apply_stylesheet(parse_dot(text))
    assert graph.node("plan").llm_model == "claude-sonnet-4-5"
    assert graph.node("implement").llm_model == "claude-opus-4-6"
    review = graph.node("critical_review")
    assert (review.llm_model, review.llm_provider, review.reasoning_effort) == (
        "gpt-5.2",
        "openai",
        "high",
    )


def test_invalid_stylesheet_leaves_graph_unchanged() -> None:
    """The transform does not raise; validation reports the problem."""
    graph = parse_dot('digraph G { model_stylesheet="* { nope }"\n n }')
    assert apply_stylesheet(graph) is graph


def test_empty_stylesheet() -> None:
    """A blank stylesheet has no rules."""
    assert parse_stylesheet("  \n ").rules == ()


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("* { colour: red }", "unknown stylesheet property 'colour'", 5),
        ("* { llm_model: a llm_provider: b }", "expected ';'", 18),
        ("* { llm_model a }", "unexpected", 15),
        ("* { llm_model: a ", "end of input", 18),
        ("> { llm_model: a }", "unexpected character", 1),
    ],
)
def test_syntax_errors(text: str, message: str, column: int) -> None:
    """Stylesheet errors are located inside the stylesheet text."""
    with pytest.raises(StylesheetSyntaxError) as info:
        parse_stylesheet(text)
    assert message in info.value.message
    assert (info.value.line, info.value.column) == (1, column)


def test_selector_matching() -> None:
    """Selectors match by kind."""
    node = Node("n", {"shape": "hexagon", "class": "x"})
    assert Selector("universal").matches(node)
    assert Selector("shape", "hexagon").matches(node)
    assert Selector("class", "x").matches(node)
    assert Selector("id", "n").matches(node)
    assert not Selector("id", "m").matches(node)
