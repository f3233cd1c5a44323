"""DOT language layer (pure): the built-in lint rules (spec §7.2 plus our own).

Rule: one function per rule ID, each a few lines over the immutable graph. Structural
rules (start, exit, reachability, loops) share the adjacency helpers in `_graphs.py`.
"""

from __future__ import annotations

from collections.abc import Collection

from attractor.dot._condition import compile_condition
from attractor.dot._diagnostics import Diagnostic, LintRule, Severity, diagnostic, lint_rule
from attractor.dot._errors import ConditionSyntaxError, StylesheetSyntaxError, join_words
from attractor.dot._graphs import exit_nodes, reachable_from, start_nodes
from attractor.dot._model import BUILTIN_HANDLER_TYPES, FIDELITY_MODES, Edge, Graph, Node
from attractor.dot._stylesheet import parse_stylesheet

ERROR, WARNING = Severity.ERROR, Severity.WARNING


def _at(element: Node | Edge, key: str | None = None) -> tuple[int, int]:
    origin = element.origin
    return origin.attr_position(key) if key else (origin.line, origin.column)


def _exactly_one(
    graph: Graph, rule: str, found: list[Node], what: str, add: str, many_fix: str
) -> list[Diagnostic]:
    """One ERROR when no node plays the role, one per extra node when several do."""
    if len(found) == 1:
        return []
    if not found:
        at = (graph.origin.line, graph.origin.column)
        return [
            diagnostic(
                graph, rule, ERROR, f"the pipeline has no {what} node", at=at, fix=f"add: {add}"
            )
        ]
    message = (
        f"the pipeline has {len(found)} {what} nodes ({join_words([n.id for n in found])}); "
        "exactly one is allowed"
    )
    return [
        diagnostic(graph, rule, ERROR, message, at=_at(node), node_id=node.id, fix=many_fix)
        for node in found[1:]
    ]


@lint_rule("start_node")
def start_node(graph: Graph) -> list[Diagnostic]:
    """Exactly one start node (shape=Mdiamond, type=start, or ID start/Start)."""
    fix = "keep one node with shape=Mdiamond and rename the others"
    return _exactly_one(
        graph, "start_node", start_nodes(graph), "start", "start [shape=Mdiamond]", fix
    )


@lint_rule("terminal_node")
def terminal_node(graph: Graph) -> list[Diagnostic]:
    """Exactly one exit node (shape=Msquare, type=exit, or ID exit/end)."""
    fix = "route every finished branch to a single node with shape=Msquare"
    return _exactly_one(
        graph, "terminal_node", exit_nodes(graph), "exit", "exit [shape=Msquare]", fix
    )


@lint_rule("reachability")
def reachability(graph: Graph) -> list[Diagnostic]:
    """Every node is reachable from the (single) start node."""
    starts = start_nodes(graph)
    if len(starts) != 1:
        return []
    seen = reachable_from(graph, starts[0].id)
    return [
        diagnostic(
            graph,
            "reachability",
            ERROR,
            f"node {node.id!r} cannot be reached from the start node {starts[0].id!r}",
            at=_at(node),
            node_id=node.id,
            fix=f"add an edge into {node.id!r} or remove it",
        )
        for node in graph.nodes.values()
        if node.id not in seen
    ]


@lint_rule("edge_target_exists")
def edge_target_exists(graph: Graph) -> list[Diagnostic]:
    """Both ends of every edge name existing nodes (matters after transforms)."""
    out = []
    for edge in graph.edges:
        for end in (edge.source, edge.target):
            if end not in graph.nodes:
                out.append(
                    diagnostic(
                        graph,
                        "edge_target_exists",
                        ERROR,
                        f"edge {edge.source} -> {edge.target} refers to missing node {end!r}",
                        at=_at(edge),
                        edge=(edge.source, edge.target),
                        fix=f"declare {end!r} or correct the edge",
                    )
                )
    return out


@lint_rule("start_no_incoming")
def start_no_incoming(graph: Graph) -> list[Diagnostic]:
    """No edge enters a start node."""
    starts = {n.id for n in start_nodes(graph)}
    return [
        diagnostic(
            graph,
            "start_no_incoming",
            ERROR,
            f"the start node {edge.target!r} has an incoming edge from {edge.source!r}",
            at=_at(edge),
            edge=(edge.source, edge.target),
            fix="loop back to the first real stage instead of the start node",
        )
        for edge in graph.edges
        if edge.target in starts
    ]


@lint_rule("exit_no_outgoing")
def exit_no_outgoing(graph: Graph) -> list[Diagnostic]:
    """No edge leaves an exit node."""
    exits = {n.id for n in exit_nodes(graph)}
    return [
        diagnostic(
            graph,
            "exit_no_outgoing",
            ERROR,
            f"the exit node {edge.source!r} has an outgoing edge to {edge.target!r}",
            at=_at(edge),
            edge=(edge.source, edge.target),
            fix="the exit node ends the run; remove this edge",
        )
        for edge in graph.edges
        if edge.source in exits
    ]


def _inner_position(element: Node | Edge | Graph, key: str, line: int, col: int) -> tuple[int, int]:
    """Map (line, col) inside an attribute value to a file position.

    Exact when the value has no escapes before that point; otherwise close.
    """
    vline, vcol = element.origin.value_position(key)
    if key not in element.origin.attrs:
        return vline, vcol
    return (vline, vcol + col - 1) if line == 1 else (vline + line - 1, col)


@lint_rule("condition_syntax")
def condition_syntax(graph: Graph) -> list[Diagnostic]:
    """Every edge condition parses (spec §10); a chain's shared condition is reported once."""
    out = []
    seen: set[tuple[str, tuple[int, int]]] = set()
    for edge in graph.edges:
        try:
            compile_condition(edge.condition)
        except ConditionSyntaxError as err:
            at = _inner_position(edge, "condition", err.line, err.column)
            if (edge.condition, at) in seen:
                continue
            seen.add((edge.condition, at))
            fix = err.hint or (f"expected {join_words(err.expected)}" if err.expected else None)
            out.append(
                diagnostic(
                    graph,
                    "condition_syntax",
                    ERROR,
                    f"condition {edge.condition!r} does not parse: {err.message} "
                    f"at column {err.column}",
                    at=at,
                    edge=(edge.source, edge.target),
                    fix=fix,
                )
            )
    return out


@lint_rule("stylesheet_syntax")
def stylesheet_syntax(graph: Graph) -> list[Diagnostic]:
    """The graph's `model_stylesheet` parses (spec §8)."""
    try:
        parse_stylesheet(graph.model_stylesheet)
    except StylesheetSyntaxError as err:
        fix = err.hint or (f"expected {join_words(err.expected)}" if err.expected else None)
        return [
            diagnostic(
                graph,
                "stylesheet_syntax",
                ERROR,
                f"model_stylesheet does not parse: {err.message} "
                f"(stylesheet line {err.line}, column {err.column})",
                at=_inner_position(graph, "model_stylesheet", err.line, err.column),
                fix=fix,
            )
        ]
    return []


def type_known_rule(known: Collection[str] = BUILTIN_HANDLER_TYPES) -> LintRule:
    """The `type_known` rule for a handler registry that knows `known` types."""
    known_set = frozenset(known)

    @lint_rule("type_known")
    def type_known(graph: Graph) -> list[Diagnostic]:
        """Explicit node `type` values name a registered handler."""
        return [
            diagnostic(
                graph,
                "type_known",
                WARNING,
                f"node {node.id!r} has unknown handler type {node.node_type!r}",
                at=_at(node, "type"),
                node_id=node.id,
                fix="use one of " + join_words(sorted(known_set)) + " or register a handler",
            )
            for node in graph.nodes.values()
            if node.node_type and node.node_type not in known_set
        ]

    return type_known


@lint_rule("fidelity_valid")
def fidelity_valid(graph: Graph) -> list[Diagnostic]:
    """Fidelity values on nodes, edges and the graph are known modes (spec §5.4)."""
    fix = "use one of " + join_words(sorted(FIDELITY_MODES))
    out = []
    if graph.default_fidelity and graph.default_fidelity not in FIDELITY_MODES:
        msg = f"graph default_fidelity {graph.default_fidelity!r} is not a fidelity mode"
        out.append(
            diagnostic(
                graph,
                "fidelity_valid",
                WARNING,
                msg,
                at=graph.origin.attr_position("default_fidelity"),
                fix=fix,
            )
        )
    for node in graph.nodes.values():
        if node.fidelity and node.fidelity not in FIDELITY_MODES:
            msg = f"node {node.id!r} has unknown fidelity {node.fidelity!r}"
            at = _at(node, "fidelity")
            out.append(
                diagnostic(graph, "fidelity_valid", WARNING, msg, at=at, node_id=node.id, fix=fix)
            )
    for edge in graph.edges:
        if edge.fidelity and edge.fidelity not in FIDELITY_MODES:
            msg = f"edge {edge.source} -> {edge.target} has unknown fidelity {edge.fidelity!r}"
            at, pair = _at(edge, "fidelity"), (edge.source, edge.target)
            out.append(diagnostic(graph, "fidelity_valid", WARNING, msg, at=at, edge=pair, fix=fix))
    return out


@lint_rule("retry_target_exists")
def retry_target_exists(graph: Graph) -> list[Diagnostic]:
    """`retry_target` / `fallback_retry_target` name existing nodes."""
    out = []
    owners: list[tuple[Graph | Node, str | None]] = [(graph, None)]
    owners.extend((node, node.id) for node in graph.nodes.values())
    for owner, node_id in owners:
        for key in ("retry_target", "fallback_retry_target"):
            target = owner.attrs.get(key, "")
            if target and target not in graph.nodes:
                where = f"node {node_id!r}" if node_id else "the graph"
                out.append(
                    diagnostic(
                        graph,
                        "retry_target_exists",
                        WARNING,
                        f"{where} has {key}={target!r}, but no node has that ID",
                        at=owner.origin.attr_position(key),
                        node_id=node_id,
                        fix=f"point {key} at an existing node",
                    )
                )
    return out


@lint_rule("goal_gate_has_retry")
def goal_gate_has_retry(graph: Graph) -> list[Diagnostic]:
    """Goal-gate nodes have somewhere to retry (node or graph `retry_target`)."""
    graph_has = bool(graph.retry_target or graph.fallback_retry_target)
    return [
        diagnostic(
            graph,
            "goal_gate_has_retry",
            WARNING,
            f"goal gate {node.id!r} has no retry_target or fallback_retry_target",
            at=_at(node, "goal_gate"),
            node_id=node.id,
            fix=f'add retry_target="<node>" to {node.id!r} or to the graph',
        )
        for node in graph.nodes.values()
        if node.goal_gate and not (node.retry_target or node.fallback_retry_target or graph_has)
    ]


@lint_rule("prompt_on_llm_nodes")
def prompt_on_llm_nodes(graph: Graph) -> list[Diagnostic]:
    """Codergen (LLM) nodes carry a `prompt` or a `label`."""
    return [
        diagnostic(
            graph,
            "prompt_on_llm_nodes",
            WARNING,
            f"LLM node {node.id!r} has neither a prompt nor a label",
            at=_at(node),
            node_id=node.id,
            fix=f'add prompt="..." to {node.id!r} (or give it a shape for another handler)',
        )
        for node in graph.nodes.values()
        if node.handler_type == "codergen"
        and not node.attrs.get("prompt")
        and not node.attrs.get("label")
    ]
