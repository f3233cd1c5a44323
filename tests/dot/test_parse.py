"""Parsing the DOT subset (spec §2, §11.1, §11.12 parse rows)."""

from __future__ import annotations

from attractor.dot import Edge, parse_dot


def _edges(text: str) -> list[tuple[str, str, dict[str, str]]]:
    return [(e.source, e.target, dict(e.attrs)) for e in parse_dot(text).edges]


def test_simple_linear_pipeline() -> None:
    """§11.12: start -> A -> B -> done parses into four nodes and three edges."""
    graph = parse_dot(
        "digraph P { start [shape=Mdiamond]; done [shape=Msquare]; start -> A -> B -> done }"
    )
    assert list(graph.nodes) == ["start", "done", "A", "B"]
    assert [(e.source, e.target) for e in graph.edges] == [
        ("start", "A"),
        ("A", "B"),
        ("B", "done"),
    ]


def test_graph_level_attributes_from_block_and_declarations() -> None:
    """§11.12: `graph [...]` and top-level key=value both set graph attributes."""
    graph = parse_dot('digraph G { graph [goal="Ship it", label="Release"]\n rankdir=LR }')
    assert graph.goal == "Ship it"
    assert graph.label == "Release"
    assert graph.get("rankdir") == "LR"
    assert graph.name == "G"


def test_multi_line_attribute_block() -> None:
    """§11.12: attributes spanning several lines inside [...] are parsed."""
    graph = parse_dot(
        'digraph G {\n  review [\n    shape=hexagon,\n    label="Review",\n'
        '    type="wait.human"\n  ]\n}'
    )
    node = graph.node("review")
    assert dict(node.attrs) == {"shape": "hexagon", "label": "Review", "type": "wait.human"}


def test_edge_attributes() -> None:
    """Edge label, condition and weight are parsed."""
    graph = parse_dot('digraph G { a -> b [label="Yes", condition="outcome=success", weight=3] }')
    edge = graph.edges[0]
    assert (edge.label, edge.condition, edge.weight) == ("Yes", "outcome=success", 3)


def test_chained_edges_expand_with_shared_attributes() -> None:
    """§2.9: A -> B -> C [label=next] is two edges, both labelled."""
    assert _edges('digraph G { A -> B -> C [label="next"] }') == [
        ("A", "B", {"label": "next"}),
        ("B", "C", {"label": "next"}),
    ]


def test_chained_edges_take_edge_defaults_and_override_them() -> None:
    """Edge defaults apply to each edge of a chain; the chain's own attributes win."""
    text = 'digraph G { edge [weight=2, label="d"]\n A -> B -> C [label="x"] }'
    assert _edges(text) == [
        ("A", "B", {"weight": "2", "label": "x"}),
        ("B", "C", {"weight": "2", "label": "x"}),
    ]


def test_defaults_apply_only_to_later_statements() -> None:
    """§2.11: a node default block does not affect nodes created before it."""
    graph = parse_dot("digraph G { early\n node [shape=hexagon]\n late }")
    assert graph.node("early").shape == "box"
    assert graph.node("late").shape == "hexagon"


def test_explicit_attributes_override_defaults() -> None:
    """§2.11: attributes on a node win over the default block."""
    graph = parse_dot('digraph G { node [timeout="900s"]\n a [timeout="60s"]\n b }')
    assert graph.node("a").get("timeout") == "60s"
    assert graph.node("b").get("timeout") == "900s"


def test_subgraph_defaults_are_scoped() -> None:
    """§2.10: defaults set inside a subgraph stop at its closing brace."""
    graph = parse_dot(
        'digraph G {\n subgraph cluster_loop {\n  label = "Loop A"\n'
        '  node [thread_id="loop-a", timeout="900s"]\n'
        '  Plan [label="Plan next step"]\n  Implement [label="Implement", timeout="1800s"]\n'
        " }\n after\n}"
    )
    plan, implement, after = (graph.node(n) for n in ("Plan", "Implement", "after"))
    assert (plan.thread_id, plan.get("timeout")) == ("loop-a", "900s")
    assert (implement.thread_id, implement.get("timeout")) == ("loop-a", "1800s")
    assert (after.thread_id, after.get("timeout")) == ("", None)


def test_subgraph_inherits_outer_defaults() -> None:
    """Defaults set before a subgraph apply inside it too."""
    graph = parse_dot("digraph G { node [shape=hexagon]\n subgraph s { inner } }")
    assert graph.node("inner").shape == "hexagon"


def test_subgraph_label_is_not_a_graph_attribute() -> None:
    """A subgraph's `label` belongs to the subgraph, not to the graph."""
    graph = parse_dot('digraph G { label="Top"\n subgraph s { label="Inner"\n a } }')
    assert graph.label == "Top"


def test_subgraph_label_derives_class() -> None:
    """§2.10: label "Loop A" gives nodes inside the class `loop-a`."""
    graph = parse_dot('digraph G { subgraph cluster_x { label="Loop A"; a -> b } c }')
    assert graph.node("a").classes == ("loop-a",)
    assert graph.node("b").classes == ("loop-a",)
    assert graph.node("c").classes == ()


def test_subgraph_label_after_nodes_still_derives_class() -> None:
    """The subgraph label applies to all its nodes wherever it is written."""
    graph = parse_dot('digraph G { subgraph s { a\n graph [label="Fast Lane!"] } }')
    assert graph.node("a").classes == ("fast-lane",)


def test_nested_subgraphs_accumulate_classes() -> None:
    """A node in nested labelled subgraphs gets every derived class, outermost first."""
    graph = parse_dot('digraph G { subgraph a { label="Outer"; subgraph b { label="In"; n } } }')
    assert graph.node("n").classes == ("outer", "in")


def test_class_attribute_lists() -> None:
    """§2.12: class="code,critical" gives two classes, explicit ones first."""
    graph = parse_dot('digraph G { subgraph s { label="Loop"; r [class="code, critical"] } }')
    assert graph.node("r").classes == ("code", "critical", "loop")


def test_comments_are_stripped_but_not_inside_strings() -> None:
    """§2.3: // and /* */ comments vanish; the same characters inside strings stay."""
    graph = parse_dot(
        'digraph G { // line\n a [label="x // y /* z */"] /* block\n over lines */ b }'
    )
    assert graph.node("a").label == "x // y /* z */"
    assert list(graph.nodes) == ["a", "b"]


def test_semicolons_are_optional() -> None:
    """§2.3: statements may or may not end in ';'."""
    with_semis = parse_dot("digraph G { a; b; a -> b; }")
    without = parse_dot("digraph G { a\n b\n a -> b }")
    assert with_semis == without


def test_quoted_and_bare_values_are_equivalent() -> None:
    """§11.1: shape=box and shape="box" mean the same."""
    assert parse_dot('digraph G { a [shape="box"] }') == parse_dot("digraph G { a [shape=box] }")


def test_string_escapes_decode() -> None:
    """Strings decode \\" \\n \\t \\\\ and keep other backslash sequences."""
    graph = parse_dot(r'digraph G { a [label="say \"hi\"\n\tnow \\ \l"] }')
    assert graph.node("a").label == 'say "hi"\n\tnow \\ \\l'


def test_string_concatenation() -> None:
    """Graphviz's "a" + "b" concatenation is accepted."""
    graph = parse_dot('digraph G { a [prompt="one " + "two"] }')
    assert graph.node("a").prompt == "one two"


def test_value_types_bare() -> None:
    """Integers, floats, booleans, durations and bare values parse unquoted (§2.4)."""
    graph = parse_dot(
        "digraph G { a [max_retries=-1, ratio=0.5, goal_gate=true, timeout=250ms, "
        "fidelity=summary:high, llm_model=claude-opus-4-6] }"
    )
    attrs = graph.node("a").attrs
    assert attrs["ratio"] == "0.5"
    assert attrs["fidelity"] == "summary:high"
    assert attrs["llm_model"] == "claude-opus-4-6"
    assert graph.node("a").max_retries == -1


def test_qualified_keys() -> None:
    """Qualified keys like human.default_choice and stack.child_dotfile are attributes."""
    graph = parse_dot(
        'digraph G { stack.child_dotfile="child.dot"\n graph [tool_hooks.pre="make lint"]\n'
        ' h [human.default_choice=approve, "manager.poll_interval"="45s"] }'
    )
    assert graph.get("stack.child_dotfile") == "child.dot"
    assert graph.get("tool_hooks.pre") == "make lint"
    assert graph.node("h").get("human.default_choice") == "approve"
    assert graph.node("h").get("manager.poll_interval") == "45s"


def test_unknown_attributes_are_preserved() -> None:
    """Custom attributes are kept verbatim (extension point)."""
    graph = parse_dot('digraph G { a [my_custom="v", x.y.z=1] }')
    assert graph.node("a").get("my_custom") == "v"
    assert graph.node("a").get("x.y.z") == "1"


def test_nodes_created_by_edges_get_defaults_and_are_marked_implicit() -> None:
    """A node first mentioned in an edge exists, takes current defaults and is implicit."""
    graph = parse_dot("digraph G { node [shape=hexagon]\n a -> b\n a [label=A] }")
    assert graph.node("b").shape == "hexagon"
    assert graph.node("b").origin.implicit
    assert not graph.node("a").origin.implicit


def test_redeclaring_a_node_merges_attributes() -> None:
    """A second statement for a node adds and overrides attributes."""
    graph = parse_dot("digraph G { a [label=x, shape=box]\n a [label=y] }")
    assert dict(graph.node("a").attrs) == {"label": "y", "shape": "box"}


def test_anonymous_graph_and_missing_name() -> None:
    """The graph name is optional (Graphviz allows `digraph {`)."""
    assert parse_dot("digraph { a }").name == ""


def test_source_positions_are_kept() -> None:
    """Nodes, edges and attributes remember line and column."""
    graph = parse_dot("digraph G {\n  a [label=x,\n     shape=box]\n  a -> b\n}", filename="f.dot")
    node = graph.node("a")
    assert (node.origin.line, node.origin.column) == (2, 3)
    assert node.origin.attr_position("shape") == (3, 6)
    assert (graph.edges[0].origin.line, graph.edges[0].origin.column) == (4, 3)
    assert graph.filename == "f.dot"


def test_positions_do_not_affect_equality() -> None:
    """Graphs that differ only in layout are equal."""
    assert parse_dot("digraph G { a -> b }") == parse_dot("digraph G {\n\n   a\n ->\n b\n}")


def test_byte_order_mark_is_ignored() -> None:
    """A leading UTF-8 BOM does not break parsing."""
    assert parse_dot("\ufeffdigraph G { a }").name == "G"


def test_keywords_are_values_inside_attribute_values() -> None:
    """`node`, `edge` and `graph` are fine as attribute values."""
    graph = parse_dot("digraph G { a [kind=node, other=graph] }")
    assert graph.node("a").get("kind") == "node"


def test_edges_are_model_edges() -> None:
    """Edges are `Edge` values with source and target."""
    edge = parse_dot("digraph G { a -> b }").edges[0]
    assert isinstance(edge, Edge)
    assert (edge.source, edge.target) == ("a", "b")
