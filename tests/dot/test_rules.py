"""Lint rules (spec §7, §11.2): one positive and one negative case per rule."""

from __future__ import annotations

import pytest

from attractor.dot import (
    BUILTIN_RULES,
    Diagnostic,
    Edge,
    Graph,
    RuleRegistry,
    Severity,
    ValidationError,
    lint_rule,
    parse_dot,
    validate,
    validate_or_raise,
)

CLEAN = """digraph G {
    start [shape=Mdiamond]
    exit  [shape=Msquare]
    work  [prompt="do the work"]
    start -> work -> exit
}"""


def _graph(extra: str = "", *, replace: tuple[str, str] | None = None) -> Graph:
    text = CLEAN if replace is None else CLEAN.replace(*replace)
    return parse_dot(text.replace("\n}", f"\n{extra}\n}}"), filename="p.dot")


def _found(graph: Graph) -> list[Diagnostic]:
    return validate(graph)


def _only(graph: Graph, rule: str) -> list[Diagnostic]:
    found = _found(graph)
    assert {d.rule for d in found} == {rule}, found
    return found


def test_clean_graph_has_no_diagnostics() -> None:
    """The baseline used by every negative case is clean."""
    assert _found(_graph()) == []


def test_rule_ids_are_the_specs_plus_ours() -> None:
    """The 13 spec rule IDs are present, followed by our three."""
    assert [r.name for r in BUILTIN_RULES] == [
        "start_node",
        "terminal_node",
        "reachability",
        "edge_target_exists",
        "start_no_incoming",
        "exit_no_outgoing",
        "condition_syntax",
        "stylesheet_syntax",
        "type_known",
        "fidelity_valid",
        "retry_target_exists",
        "goal_gate_has_retry",
        "prompt_on_llm_nodes",
        "attribute_type",
        "missing_comma",
        "unbounded_loop",
    ]


def test_start_node_missing() -> None:
    """start_node: no start node is an error (§11.12 'missing start node')."""
    graph = parse_dot(CLEAN.replace("start", "begin").replace("[shape=Mdiamond]", "[label=B]"))
    found = _only(graph, "start_node")
    assert found[0].severity is Severity.ERROR
    assert "no start node" in found[0].message


def test_start_node_duplicate() -> None:
    """start_node: two start nodes are an error naming the second."""
    found = _only(_graph("begin [shape=Mdiamond]\n begin -> work"), "start_node")
    assert found[0].node_id == "begin"


def test_start_node_by_id() -> None:
    """start_node: a node called `start` counts even without the shape."""
    graph = _graph(replace=("start [shape=Mdiamond]", "start [label=S]"))
    assert not [d for d in _found(graph) if d.rule == "start_node"]


def test_terminal_node_missing() -> None:
    """terminal_node: no exit node is an error (§11.12 'missing exit node')."""
    graph = parse_dot(CLEAN.replace("exit", "finish").replace("[shape=Msquare]", "[label=F]"))
    found = _only(graph, "terminal_node")
    assert found[0].severity is Severity.ERROR


def test_terminal_node_duplicate() -> None:
    """terminal_node: two exits are an error; `end` counts by ID."""
    found = _only(_graph("end [shape=Msquare]\n work -> end"), "terminal_node")
    assert found[0].node_id == "end"


def test_reachability() -> None:
    """reachability: an orphan node is reported with its location (§11.12)."""
    found = _only(_graph('orphan [prompt="x"]'), "reachability")
    assert found[0].node_id == "orphan"
    assert (found[0].file, found[0].line, found[0].column) == ("p.dot", 6, 1)


def test_reachability_negative_with_branches() -> None:
    """reachability: every node on some path from start is fine."""
    assert (
        _found(_graph('side [prompt="s"]\n work -> side [condition="outcome=fail"]\n side -> exit'))
        == []
    )


def test_edge_target_exists() -> None:
    """edge_target_exists: an edge to a node a transform removed is an error."""
    graph = _graph()
    broken = graph.with_edges((*graph.edges, Edge("work", "ghost")))
    found = [d for d in _found(broken) if d.rule == "edge_target_exists"]
    assert found[0].edge == ("work", "ghost")
    assert found[0].severity is Severity.ERROR


def test_edge_target_exists_negative() -> None:
    """edge_target_exists: parsed graphs always satisfy it (edges create nodes)."""
    assert not [d for d in _found(_graph("work -> extra")) if d.rule == "edge_target_exists"]


def test_start_no_incoming() -> None:
    """start_no_incoming: an edge into the start node is an error."""
    found = _only(_graph('work -> start [condition="outcome=fail"]'), "start_no_incoming")
    assert found[0].edge == ("work", "start")


def test_exit_no_outgoing() -> None:
    """exit_no_outgoing: an edge out of the exit node is an error."""
    found = _only(_graph("exit -> extra\n extra [prompt=x]"), "exit_no_outgoing")
    assert found[0].edge == ("exit", "extra")


def test_condition_syntax_points_into_the_condition() -> None:
    """condition_syntax: the location is the bad character inside the condition string."""
    graph = _graph('work -> exit [condition="outcome==success"]')
    found = _only(graph, "condition_syntax")
    line = 'work -> exit [condition="outcome==success"]'
    assert (found[0].line, found[0].column) == (6, line.index("==") + 2)
    assert "single '='" in (found[0].fix or "")


def test_condition_syntax_negative() -> None:
    """condition_syntax: well-formed conditions pass."""
    assert _found(_graph('work -> exit [condition="outcome=success && context.a!=b"]')) == []


def test_stylesheet_syntax() -> None:
    """stylesheet_syntax: a broken stylesheet is an error located in the file."""
    graph = _graph('model_stylesheet="* { llm_model: a; } #x { nope: 1 }"')
    found = _only(graph, "stylesheet_syntax")
    assert found[0].line == 6
    assert found[0].column == len('model_stylesheet="* { llm_model: a; } #x { ') + 1


def test_stylesheet_syntax_negative() -> None:
    """stylesheet_syntax: a valid stylesheet passes."""
    assert _found(_graph('model_stylesheet="box { reasoning_effort: low }"')) == []


def test_type_known() -> None:
    """type_known: an unknown handler type is a warning."""
    found = _only(_graph('work2 [type="magic", prompt=p]\n work -> work2'), "type_known")
    assert found[0].severity is Severity.WARNING


def test_type_known_negative_and_custom_types() -> None:
    """type_known: spec types pass, and engine-registered types can be allowed."""
    assert _found(_graph('gate [type="wait.human"]\n work -> gate -> exit')) == []
    graph = _graph('work2 [type="magic", prompt=p]\n work -> work2 -> exit')
    assert validate(graph, handler_types={"magic", "codergen", "start", "exit"}) == []


def test_fidelity_valid() -> None:
    """fidelity_valid: unknown modes on graph, node and edge are warnings."""
    graph = parse_dot(
        CLEAN.replace("work -> exit", "work -> exit [fidelity=x]").replace(
            "start [", "default_fidelity=huge\n work [fidelity=medium]\n start ["
        )
    )
    found = _only(graph, "fidelity_valid")
    assert len(found) == 4  # the graph, the node, and both edges of the chain


def test_fidelity_valid_negative() -> None:
    """fidelity_valid: all six modes are accepted."""
    modes = ["full", "truncate", "compact", "summary:low", "summary:medium", "summary:high"]
    extra = "\n".join(
        f'n{i} [fidelity="{m}", prompt=p]\n work -> n{i}' for i, m in enumerate(modes)
    )
    found = [d for d in _found(_graph(extra)) if d.rule == "fidelity_valid"]
    assert found == []


def test_retry_target_exists() -> None:
    """retry_target_exists: a target that names no node is a warning."""
    found = _only(_graph("work [retry_target=ghost]"), "retry_target_exists")
    assert "ghost" in found[0].message
    assert found[0].severity is Severity.WARNING


def test_retry_target_exists_negative() -> None:
    """retry_target_exists: existing targets pass (node and graph level)."""
    assert _found(_graph("retry_target=work\n work [fallback_retry_target=start]")) == []


def test_goal_gate_has_retry() -> None:
    """goal_gate_has_retry: a gate without any retry target is a warning."""
    found = _only(_graph("work [goal_gate=true]"), "goal_gate_has_retry")
    assert found[0].node_id == "work"


def test_goal_gate_has_retry_negative() -> None:
    """goal_gate_has_retry: a node or graph retry target satisfies it."""
    assert _found(_graph("work [goal_gate=true, retry_target=work]")) == []
    assert _found(_graph("retry_target=work\n work [goal_gate=true]")) == []


def test_prompt_on_llm_nodes() -> None:
    """prompt_on_llm_nodes: a codergen node with neither prompt nor label warns."""
    found = _only(_graph(replace=('work  [prompt="do the work"]', "work")), "prompt_on_llm_nodes")
    assert found[0].node_id == "work"


def test_prompt_on_llm_nodes_negative() -> None:
    """prompt_on_llm_nodes: a label is enough, and non-LLM shapes are exempt."""
    assert _found(_graph(replace=('work  [prompt="do the work"]', "work [label=W]"))) == []
    assert _found(_graph(replace=('work  [prompt="do the work"]', "work [shape=diamond]"))) == []


@pytest.mark.parametrize(
    "attrs",
    [
        "max_retries=many",
        "max_retries=-1",
        "goal_gate=yes",
        'timeout="900"',
        "reasoning_effort=max",
        "manager.poll_interval=soon",
        "max_parallel=all",
    ],
)
def test_attribute_type(attrs: str) -> None:
    """attribute_type: malformed typed values are errors at the attribute."""
    found = _only(_graph(f"work [{attrs}]"), "attribute_type")
    assert found[0].severity is Severity.ERROR
    assert found[0].column == len("work [") + 1


def test_attribute_type_on_edges_and_graph() -> None:
    """attribute_type: edge weight and graph default_max_retries are checked too."""
    found = _only(_graph("default_max_retries=x\n start -> work [weight=1.5]"), "attribute_type")
    assert len(found) == 2


def test_attribute_type_negative() -> None:
    """attribute_type: well-typed values pass."""
    assert (
        _found(_graph("work [max_retries=2, goal_gate=false, timeout=2h, retry_target=work]")) == []
    )


def test_missing_comma() -> None:
    """missing_comma: attributes separated only by whitespace warn (ADR 0010)."""
    found = _only(_graph("work [label=W\n      prompt=P]"), "missing_comma")
    assert (found[0].line, found[0].column) == (7, 7)
    assert found[0].severity is Severity.WARNING


def test_missing_comma_negative() -> None:
    """missing_comma: commas (or semicolons) between attributes pass."""
    assert _found(_graph("work [label=W, prompt=P; timeout=1m]")) == []


def test_unbounded_loop() -> None:
    """unbounded_loop: a cycle no edge can leave is a warning (ADR 0011)."""
    graph = _graph(
        replace=(
            "start -> work -> exit",
            "start -> work -> check -> work\n check [prompt=c]\n work -> exit [weight=-1]",
        )
    )
    found = [d for d in _found(graph) if d.rule == "unbounded_loop"]
    assert len(found) == 1
    assert "work -> check -> work" in found[0].message


def test_unbounded_loop_negative_conditional_exit() -> None:
    """unbounded_loop: a guarded exit edge bounds the loop (spec §2.13 branching example)."""
    graph = _graph(
        replace=(
            "start -> work -> exit",
            "start -> work -> gate\n gate [shape=diamond]\n"
            ' gate -> exit [condition="outcome=success"]\n'
            ' gate -> work [condition="outcome!=success"]',
        )
    )
    assert _found(graph) == []


def test_unbounded_loop_negative_human_or_retry_target() -> None:
    """unbounded_loop: a human gate or a retry target outside the loop is a way out."""
    human = _graph("gate [shape=hexagon]\n work -> gate -> work\n gate -> exit")
    assert not [d for d in _found(human) if d.rule == "unbounded_loop"]
    retry = _graph("work [retry_target=exit]\n work -> again -> work\n again [prompt=a]")
    assert not [d for d in _found(retry) if d.rule == "unbounded_loop"]


def test_unbounded_loop_negative_deterministic_exit() -> None:
    """unbounded_loop: an unconditional exit chosen by weight leaves the loop."""
    graph = _graph("work -> again\n again -> work\n again -> exit [weight=1]\n again [prompt=a]")
    assert not [d for d in _found(graph) if d.rule == "unbounded_loop"]


def test_validate_or_raise() -> None:
    """validate_or_raise raises ValidationError on errors and returns warnings otherwise."""
    with pytest.raises(ValidationError) as info:
        validate_or_raise(_graph("exit -> extra\n extra [prompt=x]"))
    assert [d.rule for d in info.value.errors] == ["exit_no_outgoing"]
    assert "exit_no_outgoing" in str(info.value)
    assert [d.rule for d in validate_or_raise(_graph("work [goal_gate=true]"))] == [
        "goal_gate_has_retry"
    ]


def test_custom_rules_run_after_builtins() -> None:
    """§7.4: custom rules are appended to the built-in rules."""

    @lint_rule("no_shouting")
    def no_shouting(graph: Graph) -> list[Diagnostic]:
        return [
            Diagnostic("no_shouting", Severity.INFO, f"{n.id} shouts", node_id=n.id)
            for n in graph.nodes.values()
            if n.prompt.isupper()
        ]

    registry = RuleRegistry()
    registry.register(no_shouting)
    graph = _graph(replace=("do the work", "DO IT"))
    assert [d.rule for d in registry.validate(graph)] == ["no_shouting"]
    assert validate(graph, [no_shouting])[-1].message == "work shouts"
    assert no_shouting.name == "no_shouting"


def test_diagnostics_carry_rule_severity_ids_and_message() -> None:
    """§11.2: results include rule name, severity, node/edge ID and message."""
    found = _found(_graph("exit -> extra\n extra [prompt=x]"))[0]
    assert (found.rule, found.severity, found.edge) == (
        "exit_no_outgoing",
        Severity.ERROR,
        ("exit", "extra"),
    )
    assert str(found).startswith("p.dot:6:1: error[exit_no_outgoing]: ")


def test_condition_syntax_reports_a_chain_once() -> None:
    """A bad condition on a chained edge statement is one diagnostic, not one per edge."""
    graph = _graph('start -> x -> y -> exit [condition="a=="]\n x [prompt=x]\n y [prompt=y]')
    assert len([d for d in _found(graph) if d.rule == "condition_syntax"]) == 1
