"""The canonical printer: parse(format(g)) == g, stable output, Graphviz-safe quoting."""

from __future__ import annotations

from attractor.dot import Node, format_dot, graph_to_builtins, parse_dot

SOURCE = """// a comment that the canonical form drops
digraph Demo {
    graph [goal="Ship \\"it\\"", label="Demo"]
    node [shape=box, timeout="900s"]
    start [shape=Mdiamond]
    exit [shape=Msquare]
    subgraph cluster_a { label="Loop A"; node [thread_id=a]; plan [prompt="p\\nq"] }
    start -> plan -> exit [label="go", condition="outcome=success"]
    plan [human.default_choice=exit]
}
"""


def test_round_trip() -> None:
    """Formatting then parsing gives an equal graph."""
    graph = parse_dot(SOURCE)
    assert parse_dot(format_dot(graph)) == graph


def test_formatting_is_idempotent() -> None:
    """Formatting canonical text changes nothing."""
    once = format_dot(parse_dot(SOURCE))
    assert format_dot(parse_dot(once)) == once


def test_canonical_form_spells_out_defaults_and_chains() -> None:
    """Defaults are written on each node and chains become one edge per line."""
    text = format_dot(parse_dot(SOURCE))
    assert "node [" not in text
    assert '    start -> plan [label=go, condition="outcome=success"]' in text
    assert '    plan -> exit [label=go, condition="outcome=success"]' in text


def test_derived_classes_survive_as_labelled_subgraphs() -> None:
    """Nodes with subgraph classes are printed inside a subgraph labelled with the class."""
    text = format_dot(parse_dot(SOURCE))
    assert 'subgraph cluster_0 {\n        label="loop-a"' in text
    assert parse_dot(text).node("plan").classes == ("loop-a",)


def test_dotted_keys_and_odd_values_are_quoted() -> None:
    """Keys with dots and values Graphviz would not accept bare are quoted."""
    text = format_dot(parse_dot(SOURCE))
    assert '"human.default_choice"=exit' in text
    assert 'timeout="900s"' in text
    assert 'goal="Ship \\"it\\""' in text


def test_keywords_as_values_are_quoted() -> None:
    """A value spelled like a keyword is quoted so that it stays a value."""
    graph = parse_dot("digraph G { a [kind=node] }")
    assert 'kind="node"' in format_dot(graph)


def test_long_attribute_lists_wrap_one_per_line() -> None:
    """Attribute lists longer than the line width are printed one attribute per line."""
    node = Node("n", {f"k{i}": "x" * 10 for i in range(8)})
    graph = parse_dot("digraph G { }").with_node(node)
    assert "    n [\n        k0=xxxxxxxxxx,\n" in format_dot(graph)


def test_json_view() -> None:
    """graph_to_builtins exposes handler types, classes and positions."""
    data = graph_to_builtins(parse_dot(SOURCE, filename="demo.dot"))
    plan = next(n for n in data["nodes"] if n["id"] == "plan")
    assert plan["handler_type"] == "codergen"
    assert plan["classes"] == ["loop-a"]
    assert data["file"] == "demo.dot"
    assert data["edges"][0]["source"] == "start"
