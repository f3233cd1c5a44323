"""Pipeline layer (pure): context fidelity and thread keys (spec §5.4).

Rule: what a codergen node is told about the run so far is a deterministic function of the run
state, so it is identical on resume and replay. `full` fidelity passes the thread's earlier turns
(folded from the log — no degrade on resume is ever needed); other modes pass a preamble built
within a character budget (≈ 4 characters a token).
"""

from __future__ import annotations

import json
from typing import Any

from attractor.dot import Edge, Graph, Node
from attractor.pipeline.handlers.base import Thread
from attractor.pipeline.model import Outcome

MODES = ("full", "truncate", "compact", "summary:low", "summary:medium", "summary:high")
DEFAULT_MODE = "compact"
BUDGET_CHARS = {"compact": 4000, "summary:low": 2400, "summary:medium": 6000, "summary:high": 12000}
_STAGES_SHOWN = {"compact": 20, "summary:low": 5, "summary:medium": 15, "summary:high": 60}


def resolve_fidelity(edge: Edge | None, node: Node, graph: Graph) -> str:
    """Edge `fidelity`, then node, then graph `default_fidelity`, then `compact`."""
    for value in (edge.fidelity if edge else "", node.fidelity, graph.default_fidelity):
        if value in MODES:
            return value
    return DEFAULT_MODE


def resolve_thread_key(
    edge: Edge | None, node: Node, graph: Graph, prev_node: str, prev_thread: str = ""
) -> str:
    """Node `thread_id`, edge `thread_id`, graph default thread, subgraph class, then the
    previous stage's thread (so a chain continues one session), then the previous node id."""
    for value in (
        node.thread_id,
        edge.thread_id if edge else "",
        graph.get("thread_id") or "",
        node.subgraph_classes[0] if node.subgraph_classes else "",
        prev_thread,
        prev_node,
    ):
        if value:
            return value
    return node.id


def build_thread(
    *,
    edge: Edge | None,
    node: Node,
    graph: Graph,
    prev_node: str,
    run_id: str,
    context: dict[str, Any],
    completed: tuple[str, ...],
    outcomes: dict[str, Outcome],
    turns: tuple[tuple[str, str, str], ...],
) -> Thread:
    """The fidelity, thread key and carried context for one codergen call."""
    mode = resolve_fidelity(edge, node, graph)
    prev_thread = turns[-1][0] if turns else ""
    key = resolve_thread_key(edge, node, graph, prev_node, prev_thread)
    if mode == "full":
        history = tuple((p, r) for k, p, r in turns if k == key)
        return Thread(fidelity=mode, key=key, history=history)
    return Thread(
        fidelity=mode, key=key, preamble=preamble(mode, run_id, graph, context, completed, outcomes)
    )


def preamble(
    mode: str,
    run_id: str,
    graph: Graph,
    context: dict[str, Any],
    completed: tuple[str, ...],
    outcomes: dict[str, Outcome],
) -> str:
    """The text a fresh session starts from, for every mode except `full`."""
    lines = [f"Run {run_id}. Goal: {graph.goal or '(none)'}"]
    if mode == "truncate":
        return lines[0]
    shown = completed[-_STAGES_SHOWN[mode] :]
    lines.append(f"Completed stages ({len(completed)}): " + ", ".join(shown))
    for node_id in dict.fromkeys(reversed(shown)):
        outcome = outcomes.get(node_id)
        if outcome is not None:
            detail = outcome.notes or outcome.failure_reason
            lines.append(
                f"- {node_id}: {outcome.status.value}" + (f" — {detail}" if detail else "")
            )
    values = {k: v for k, v in sorted(context.items()) if not k.startswith("internal.")}
    if mode != "summary:low":
        lines.append("Context:")
        lines += [f"- {k} = {json.dumps(v, default=str)[:300]}" for k, v in values.items()]
    text = "\n".join(lines)
    budget = BUDGET_CHARS[mode]
    return text if len(text) <= budget else text[: budget - 1] + "…"
