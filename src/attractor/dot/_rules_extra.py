"""DOT language layer (pure): lint rules beyond spec §7.2 — typed values, commas, loops.

Rule: these catch what the spec's rules let through but that goes wrong at run time:
a value the typed accessors cannot read (`attribute_type`), comma-less attribute lists
(`missing_comma`, ADR 0010) and cycles nothing can leave (`unbounded_loop`, ADR 0011).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from attractor.dot._diagnostics import Diagnostic, Severity, diagnostic, lint_rule
from attractor.dot._graphs import cycles
from attractor.dot._model import Edge, Graph, Node
from attractor.dot._values import parse_bool, parse_duration, parse_int

_NODE_TYPES: Mapping[str, Callable[[str], object]] = {
    "max_retries": parse_int,
    "goal_gate": parse_bool,
    "auto_status": parse_bool,
    "allow_partial": parse_bool,
    "timeout": parse_duration,
    "max_parallel": parse_int,
    "manager.poll_interval": parse_duration,
    "manager.max_cycles": parse_int,
    "stack.child_autostart": parse_bool,
}
_EDGE_TYPES: Mapping[str, Callable[[str], object]] = {
    "weight": parse_int,
    "loop_restart": parse_bool,
}
_GRAPH_TYPES: Mapping[str, Callable[[str], object]] = {
    "default_max_retries": parse_int,
    "default_max_retry": parse_int,
}
_EFFORTS = frozenset({"low", "medium", "high"})


def _check_values(
    graph: Graph, owner: Graph | Node | Edge, types: Mapping[str, Callable[[str], object]]
) -> list[Diagnostic]:
    out = []
    node_id = owner.id if isinstance(owner, Node) else None
    edge = (owner.source, owner.target) if isinstance(owner, Edge) else None
    for key, parse in types.items():
        raw = owner.attrs.get(key)
        if raw is None:
            continue
        try:
            value = parse(raw)
        except ValueError as err:
            problem = str(err)
        else:
            if not (isinstance(value, int) and "retr" in key and value < 0):
                continue
            problem = f"{raw!r} is negative"
        out.append(
            diagnostic(
                graph,
                "attribute_type",
                Severity.ERROR,
                f"{key}: {problem}",
                at=owner.origin.attr_position(key),
                node_id=node_id,
                edge=edge,
                fix=f"give {key} a valid value",
            )
        )
    return out


@lint_rule("attribute_type")
def attribute_type(graph: Graph) -> list[Diagnostic]:
    """Typed attributes (Integer, Boolean, Duration, reasoning effort) hold valid values."""
    out = _check_values(graph, graph, _GRAPH_TYPES)
    for node in graph.nodes.values():
        out.extend(_check_values(graph, node, _NODE_TYPES))
        effort = node.attrs.get("reasoning_effort")
        if effort is not None and effort not in _EFFORTS:
            out.append(
                diagnostic(
                    graph,
                    "attribute_type",
                    Severity.ERROR,
                    f"reasoning_effort: {effort!r} is not low, medium or high",
                    at=node.origin.attr_position("reasoning_effort"),
                    node_id=node.id,
                    fix="use low, medium or high",
                )
            )
    for edge in graph.edges:
        out.extend(_check_values(graph, edge, _EDGE_TYPES))
    return out


@lint_rule("missing_comma")
def missing_comma(graph: Graph) -> list[Diagnostic]:
    """Attributes in a `[...]` list are separated by commas (accepted without, ADR 0010)."""
    return [
        diagnostic(
            graph,
            "missing_comma",
            Severity.WARNING,
            "attributes should be separated by ','",
            at=position,
            fix="add ',' before this attribute (`attractor fmt` does it for you)",
        )
        for position in graph.origin.missing_commas
    ]


def _can_leave(graph: Graph, node_id: str, loop: set[str], edges: list[Edge]) -> bool:
    """Whether a run at `node_id` has a way out of `loop` (ADR 0011)."""
    node = graph.nodes.get(node_id)
    if node is not None and {node.retry_target, node.fallback_retry_target} - loop - {""}:
        return True
    exits = [e for e in edges if e.target not in loop]
    if any(e.condition or e.label for e in exits):
        return True
    if node is not None and node.handler_type == "wait.human" and exits:
        return True
    unconditional = [e for e in edges if not e.condition]
    if not unconditional:
        return False
    chosen = max(unconditional, key=lambda e: (e.weight, _reverse(e.target)))
    return chosen.target not in loop


def _reverse(text: str) -> tuple[int, ...]:
    """Sort key that makes `max` pick the lexically *smallest* ID (spec §3.3 tiebreak)."""
    return (*(-ord(ch) for ch in text), 1)


@lint_rule("unbounded_loop")
def unbounded_loop(graph: Graph) -> list[Diagnostic]:
    """Every cycle has a way out: a guarded exit edge, a human choice or a retry target."""
    outgoing: dict[str, list[Edge]] = {}
    for edge in graph.edges:
        outgoing.setdefault(edge.source, []).append(edge)
    out = []
    for component in cycles(graph):
        loop = set(component)
        if any(_can_leave(graph, n, loop, outgoing.get(n, [])) for n in component):
            continue
        head = graph.nodes.get(component[0])
        path = " -> ".join([*component[:6], "..." if len(component) > 6 else component[0]])
        out.append(
            diagnostic(
                graph,
                "unbounded_loop",
                Severity.WARNING,
                f"the loop {path} has no way out: once entered it runs forever",
                at=(head.origin.line, head.origin.column) if head else (0, 0),
                node_id=component[0],
                fix='give an edge leaving the loop a condition, e.g. [condition="outcome=success"]',
            )
        )
    return out
