"""Pipeline layer (pure): edge selection (spec §3.3) and failure routing (§3.7).

Rule: selection is deterministic — condition matches, then the preferred label, then suggested
ids, then the highest weight, then the lexically first target. On FAIL only edges whose condition
matches (fail edges) are eligible; then the node's `retry_target`, then `fallback_retry_target`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from attractor.dot import Edge, Graph, Node, compile_condition
from attractor.pipeline.labels import normalize_label
from attractor.pipeline.model import Outcome, StageStatus


class Choice(msgspec.Struct, frozen=True):
    """The edge taken (or the jump target) and the step of the algorithm that chose it."""

    target: str
    label: str
    reason: str
    edge: Edge | None = None


def _best(edges: Sequence[Edge]) -> Edge:
    return sorted(edges, key=lambda e: (-e.weight, e.target))[0]


def matching(edges: Sequence[Edge], outcome: Outcome, context: Mapping[str, Any]) -> list[Edge]:
    """Edges whose non-empty condition holds."""
    status, label = outcome.status.value, outcome.preferred_label
    return [
        e
        for e in edges
        if e.condition and compile_condition(e.condition).evaluate(status, label, context)
    ]


def select_edge(
    edges: Sequence[Edge], outcome: Outcome, context: Mapping[str, Any]
) -> Choice | None:
    """The five-step selection of spec §3.3 among a node's outgoing edges."""
    if not edges:
        return None
    matched = matching(edges, outcome, context)
    if matched:
        return _choice(_best(matched), "condition")
    unconditional = [e for e in edges if not e.condition]
    if outcome.preferred_label:
        wanted = normalize_label(outcome.preferred_label)
        for e in unconditional:
            if normalize_label(e.label) == wanted:
                return _choice(e, "preferred_label")
    for suggested in outcome.suggested_next_ids:
        for e in unconditional:
            if e.target == suggested:
                return _choice(e, "suggested_next_ids")
    if unconditional:
        best = _best(unconditional)
        ties = [e for e in unconditional if e.weight == best.weight]
        return _choice(best, "weight" if len(ties) == 1 else "lexical")
    return None


def route_failure(
    node: Node, graph: Graph, outcome: Outcome, context: Mapping[str, Any]
) -> Choice | None:
    """Where a FAIL goes: a matching fail edge, else retry_target, else fallback_retry_target."""
    matched = matching(graph.outgoing_edges(node.id), outcome, context)
    if matched:
        return _choice(_best(matched), "fail_edge")
    for attr, reason in (
        (node.retry_target, "retry_target"),
        (node.fallback_retry_target, "fallback_retry_target"),
    ):
        if attr and attr in graph.nodes:
            return Choice(target=attr, label="", reason=reason)
    return None


def next_step(
    node: Node, graph: Graph, outcome: Outcome, context: Mapping[str, Any]
) -> Choice | None:
    """Where to go after a node's final outcome (None: the traversal ends here)."""
    if outcome.status == StageStatus.FAIL:
        return route_failure(node, graph, outcome, context)
    return select_edge(graph.outgoing_edges(node.id), outcome, context)


def gate_retry_target(gate: Node, graph: Graph) -> str:
    """Where an unsatisfied goal gate sends the run (spec §3.4), "" when nowhere."""
    for target in (
        gate.retry_target,
        gate.fallback_retry_target,
        graph.retry_target,
        graph.fallback_retry_target,
    ):
        if target and target in graph.nodes:
            return target
    return ""


def _choice(edge: Edge, reason: str) -> Choice:
    return Choice(target=edge.target, label=edge.label, reason=reason, edge=edge)
