"""Transforms between parsing and validation (spec §9.1-9.3, §11.11)."""

from __future__ import annotations

from attractor.dot import (
    BUILTIN_TRANSFORMS,
    Graph,
    TransformRegistry,
    apply_stylesheet,
    apply_transforms,
    expand_goal,
    parse_dot,
)

TEXT = (
    'digraph G { graph [goal="Ship X", model_stylesheet="* { llm_model: m }"]\n'
    ' a [prompt="Plan for: $goal ($goal)"]\n b [label=B] }'
)


def test_goal_expansion_in_prompts() -> None:
    """§9.2: every $goal in a prompt becomes the graph goal."""
    graph = expand_goal(parse_dot(TEXT))
    assert graph.node("a").prompt == "Plan for: Ship X (Ship X)"


def test_goal_expansion_leaves_other_attributes() -> None:
    """Only `prompt` is expanded; labels keep a literal $goal."""
    graph = expand_goal(parse_dot('digraph G { goal=x\n a [label="$goal", prompt=p] }'))
    assert graph.node("a").label == "$goal"


def test_builtins_run_goal_then_stylesheet() -> None:
    """apply_transforms runs $goal expansion and the stylesheet by default."""
    assert (expand_goal, apply_stylesheet) == BUILTIN_TRANSFORMS
    graph = apply_transforms(parse_dot(TEXT))
    assert graph.node("a").prompt.startswith("Plan for: Ship X")
    assert graph.node("b").llm_model == "m"


def test_transforms_do_not_modify_their_input() -> None:
    """§9.1: a transform returns a new graph; the parsed graph is unchanged."""
    original = parse_dot(TEXT)
    apply_transforms(original)
    assert original.node("a").prompt == "Plan for: $goal ($goal)"
    assert "llm_model" not in original.node("b").attrs


def test_custom_transforms_run_after_builtins_in_order() -> None:
    """§9.3: custom transforms run after the built-ins, in registration order."""
    seen: list[str] = []

    def first(graph: Graph) -> Graph:
        seen.append(f"first saw {graph.node('a').prompt[:8]}")
        return graph.with_attrs(step="1")

    def second(graph: Graph) -> Graph:
        seen.append(f"second saw step={graph.get('step')}")
        return graph.with_attrs(step="2")

    registry = TransformRegistry()
    registry.register(first)
    registry.register(second)
    result = registry.apply(parse_dot(TEXT))
    assert seen == ["first saw Plan for", "second saw step=1"]
    assert result.get("step") == "2"
    assert registry.transforms == (first, second)


def test_custom_transform_can_rewrite_structure() -> None:
    """A transform may add nodes and edges (e.g. inject an audit step)."""

    def add_audit(graph: Graph) -> Graph:
        from attractor.dot import Edge, Node

        audited = graph.with_node(Node("audit", {"prompt": "Audit"}))
        return audited.with_edges((*graph.edges, Edge("b", "audit")))

    graph = apply_transforms(parse_dot(TEXT), [add_audit])
    assert "audit" in graph.nodes
    assert graph.edges[-1].target == "audit"


def test_builtins_can_be_skipped() -> None:
    """builtins=False runs only the given transforms."""
    graph = apply_transforms(parse_dot(TEXT), builtins=False)
    assert "$goal" in graph.node("a").prompt
