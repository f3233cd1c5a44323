"""Typed attribute access with the defaults of spec Appendix A, and value parsing (§2.4)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from attractor.dot import (
    Graph,
    Node,
    UnknownNodeError,
    parse_bool,
    parse_dot,
    parse_duration,
    parse_int,
)
from attractor.dot._values import derive_class, escape, unescape


def test_node_defaults_match_appendix_a() -> None:
    """An attribute-less node has the Appendix A defaults."""
    node = parse_dot("digraph G { n }").node("n")
    assert node.shape == "box"
    assert node.node_type == ""
    assert node.handler_type == "codergen"
    assert node.label == "n"
    assert node.prompt == ""
    assert node.max_retries is None
    assert node.goal_gate is False
    assert (node.retry_target, node.fallback_retry_target) == ("", "")
    assert (node.fidelity, node.thread_id, node.class_) == ("", "", "")
    assert node.timeout is None
    assert (node.llm_model, node.llm_provider, node.reasoning_effort) == ("", "", "high")
    assert (node.auto_status, node.allow_partial) == (False, False)


def test_node_typed_values() -> None:
    """Typed properties read Integer, Boolean and Duration values."""
    node = parse_dot(
        "digraph G { n [max_retries=3, goal_gate=true, timeout=15m, auto_status=true, "
        'allow_partial=true, reasoning_effort=low, class="a,b"] }'
    ).node("n")
    assert node.max_retries == 3
    assert node.goal_gate is True
    assert node.timeout == timedelta(minutes=15)
    assert (node.auto_status, node.allow_partial, node.reasoning_effort) == (True, True, "low")
    assert node.classes == ("a", "b")


def test_malformed_typed_values_fall_back_to_defaults() -> None:
    """A value the accessor cannot read gives the default (the lint rule reports it)."""
    node = parse_dot('digraph G { n [max_retries=many, goal_gate=yes, timeout="5 min"] }').node("n")
    assert (node.max_retries, node.goal_gate, node.timeout) == (None, False, None)


@pytest.mark.parametrize(
    ("shape", "handler"),
    [
        ("Mdiamond", "start"),
        ("Msquare", "exit"),
        ("box", "codergen"),
        ("hexagon", "wait.human"),
        ("diamond", "conditional"),
        ("component", "parallel"),
        ("tripleoctagon", "parallel.fan_in"),
        ("parallelogram", "tool"),
        ("house", "stack.manager_loop"),
        ("ellipse", "codergen"),
    ],
)
def test_shape_to_handler_type(shape: str, handler: str) -> None:
    """Appendix B: the shape selects the handler; unknown shapes use codergen."""
    assert Node("n", {"shape": shape}).handler_type == handler


def test_explicit_type_overrides_shape() -> None:
    """§2.6: `type` takes precedence over the shape mapping."""
    assert Node("n", {"shape": "box", "type": "wait.human"}).handler_type == "wait.human"


def test_edge_defaults_match_appendix_a() -> None:
    """An attribute-less edge has the Appendix A defaults."""
    edge = parse_dot("digraph G { a -> b }").edges[0]
    assert (edge.label, edge.condition, edge.weight) == ("", "", 0)
    assert (edge.fidelity, edge.thread_id, edge.loop_restart) == ("", "", False)


def test_edge_typed_values() -> None:
    """Edge weight and loop_restart are typed."""
    edge = parse_dot("digraph G { a -> b [weight=-2, loop_restart=true] }").edges[0]
    assert (edge.weight, edge.loop_restart) == (-2, True)


def test_graph_defaults_match_appendix_a() -> None:
    """An attribute-less graph has the Appendix A defaults."""
    graph = parse_dot("digraph G { }")
    assert (graph.goal, graph.label, graph.model_stylesheet) == ("", "", "")
    assert graph.default_max_retries == 0
    assert (graph.retry_target, graph.fallback_retry_target, graph.default_fidelity) == (
        "",
        "",
        "",
    )


def test_default_max_retry_legacy_alias() -> None:
    """§2.5: the legacy `default_max_retry` spelling is honoured."""
    graph = parse_dot("digraph G { default_max_retry=4 }")
    assert graph.default_max_retries == 4
    assert graph.default_max_retry == 4


def test_max_retries_for_inherits_graph_default() -> None:
    """A node without max_retries inherits default_max_retries; its own value wins."""
    graph = parse_dot("digraph G { default_max_retries=2\n a\n b [max_retries=0] }")
    assert graph.max_retries_for(graph.node("a")) == 2
    assert graph.max_retries_for(graph.node("b")) == 0


def test_unknown_node_is_a_typed_error() -> None:
    """Looking up a missing node raises UnknownNodeError with a readable message."""
    with pytest.raises(UnknownNodeError, match="no node with ID 'zz'"):
        Graph().node("zz")


def test_adjacency_helpers() -> None:
    """outgoing_edges/incoming_edges list edges in declaration order."""
    graph = parse_dot("digraph G { a -> b\n a -> c\n c -> b }")
    assert [e.target for e in graph.outgoing_edges("a")] == ["b", "c"]
    assert [e.source for e in graph.incoming_edges("b")] == ["a", "c"]


def test_model_is_immutable() -> None:
    """Nodes cannot be changed in place; with_attrs returns a copy."""
    node = Node("n", {"label": "x"})
    with pytest.raises(AttributeError):
        node.id = "m"  # type: ignore[misc]
    with pytest.raises(TypeError):
        node.attrs["label"] = "y"  # type: ignore[index]
    assert node.with_attrs(label="y").label == "y"
    assert node.label == "x"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("250ms", timedelta(milliseconds=250)),
        ("900s", timedelta(seconds=900)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    """§2.4: durations with ms, s, m, h and d units."""
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["900", "1.5h", "15 minutes", "", "m"])
def test_parse_duration_rejects_other_text(text: str) -> None:
    """Anything but integer+unit is a ValueError with an explanation."""
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_parse_bool_and_int() -> None:
    """Booleans are exactly true/false; integers allow a sign."""
    assert parse_bool("true") is True
    assert parse_bool("false") is False
    with pytest.raises(ValueError, match="boolean"):
        parse_bool("True")
    assert parse_int("-7") == -7
    with pytest.raises(ValueError, match="integer"):
        parse_int("7.0")


def test_escape_round_trips() -> None:
    """unescape(escape(s)) == s for awkward strings."""
    for text in ['a"b', "back\\slash", "new\nline\ttab", "\\n literal", "\\"]:
        assert unescape(escape(text)) == text


def test_derive_class() -> None:
    """§2.10: lowercase, spaces to hyphens, other punctuation dropped."""
    assert derive_class("Loop A") == "loop-a"
    assert derive_class("Fast Lane (beta)!") == "fast-lane-beta"


def test_start_and_exit_lookup() -> None:
    """start_nodes/exit_nodes find the entry and exit by shape, type or ID."""
    from attractor.dot import exit_nodes, start_nodes

    graph = parse_dot("digraph G { begin [shape=Mdiamond]\n done [type=exit]\n begin -> done }")
    assert [n.id for n in start_nodes(graph)] == ["begin"]
    assert [n.id for n in exit_nodes(graph)] == ["done"]


def test_handler_specific_attributes_have_spec_defaults() -> None:
    """§4 handler attributes: defaults when absent, typed values when present."""
    plain = Node("n")
    assert (plain.join_policy, plain.max_parallel, plain.tool_command) == ("wait_all", 4, "")
    assert plain.manager_poll_interval == timedelta(seconds=45)
    assert (plain.manager_max_cycles, plain.manager_actions) == (1000, ("observe", "wait"))
    assert (plain.stack_child_autostart, plain.human_default_choice) == (True, "")
    node = parse_dot(
        'digraph G { m [manager.poll_interval=2m, manager.max_cycles=3, manager.actions="wait",'
        ' manager.stop_condition="context.done=true", stack.child_autostart=false,'
        " human.default_choice=exit, join_policy=first_success, max_parallel=2,"
        ' tool_command="make test"] }'
    ).node("m")
    assert node.manager_poll_interval == timedelta(minutes=2)
    assert (node.manager_max_cycles, node.manager_actions) == (3, ("wait",))
    assert node.manager_stop_condition == "context.done=true"
    assert (node.stack_child_autostart, node.human_default_choice) == (False, "exit")
    assert (node.join_policy, node.max_parallel, node.tool_command) == (
        "first_success",
        2,
        "make test",
    )


def test_graph_qualified_attributes() -> None:
    """Appendix A qualified graph keys have typed accessors."""
    graph = parse_dot(
        'digraph G { stack.child_dotfile="c.dot", stack.child_workdir="/w",'
        ' tool_hooks.pre="pre", tool_hooks.post="post" }'.replace(",", "\n")
    )
    assert (graph.stack_child_dotfile, graph.stack_child_workdir) == ("c.dot", "/w")
    assert (graph.tool_hooks_pre, graph.tool_hooks_post) == ("pre", "post")


def test_model_values_are_hashable_consistently_with_equality() -> None:
    """Equal graphs, nodes and edges hash equal, so they work in sets and as cache keys."""
    from attractor.dot import format_dot

    graph = parse_dot("digraph G { goal=g\n a [label=x]\n a -> b [weight=2] }")
    again = parse_dot(format_dot(graph))
    assert hash(graph) == hash(again)
    assert {graph.node("a"), again.node("a")} == {graph.node("a")}
    assert len({graph.edges[0], again.edges[0]}) == 1
