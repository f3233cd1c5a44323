"""Pipeline layer (pure): the parallel handler (spec §4.8) and its join policies.

Rule: each outgoing edge starts a branch on its own stream with a clone of the context. A branch
runs until it reaches a `parallel.fan_in` node (or an exit, or a node with nowhere to go); that
fan-in node is where the parent continues after the join. Branch context changes are never lost:
every branch's changes are in `parallel.results`; keys changed by one branch only (or to the same
value by several) are merged into the context; keys set to different values by several branches
are listed in `parallel.conflicts` and left for the fan-in node to settle.

Join policies: `wait_all` (default), `first_success`, `k_of_n` (with `join_k`), `quorum` (a strict
majority). When a policy is satisfied early, the remaining branches are cancelled.
"""

from __future__ import annotations

from typing import Any

from attractor.dot import parse_int
from attractor.pipeline.handlers.base import BranchResult, Fork, HandlerInput, Step, done

POLICIES = ("wait_all", "first_success", "k_of_n", "quorum")


def int_attr(text: str | None, default: int) -> int:
    """An Integer attribute, or `default` when unset or malformed."""
    try:
        return parse_int(text) if text else default
    except ValueError:
        return default


def required_successes(policy: str, total: int, k: int) -> int:
    """How many successes satisfy the policy (wait_all: every branch must *finish*)."""
    if policy == "first_success":
        return 1
    if policy == "k_of_n":
        return max(1, min(k, total))
    if policy == "quorum":
        return total // 2 + 1
    return total


def join_satisfied(policy: str, k: int, results: list[BranchResult], total: int) -> bool:
    """Whether the join can complete now (all done, or enough successes for early policies)."""
    if len(results) == total:
        return True
    if policy == "wait_all":
        return False
    successes = sum(r.outcome.status.succeeded for r in results)
    failures = len(results) - successes
    need = required_successes(policy, total, k)
    return successes >= need or total - failures < need


class ParallelHandler:
    """Fans out to every outgoing edge, then joins by the node's `join_policy`."""

    def step(self, inp: HandlerInput) -> Step:
        """Fork first; when stepped again with the branch results, report the join."""
        node = inp.node
        policy = node.get("join_policy") or "wait_all"
        if policy not in POLICIES:
            return done(
                "fail", failure_reason=f"unknown join_policy {policy!r} (use {', '.join(POLICIES)})"
            )
        if inp.branches is None:
            targets = tuple(e.target for e in inp.graph.outgoing_edges(node.id))
            if not targets:
                return done("fail", failure_reason="parallel node has no outgoing edges")
            return Fork(
                targets=targets,
                join_policy=policy,
                max_parallel=max(1, int_attr(node.get("max_parallel"), 4)),
                quorum=int_attr(node.get("join_k"), 1),
            )
        return _join(inp, policy, list(inp.branches))


def _join(inp: HandlerInput, policy: str, results: list[BranchResult]) -> Step:
    finished = [r for r in results if not r.cancelled]
    successes = sum(r.outcome.status.succeeded for r in finished)
    failures = len(finished) - successes
    need = required_successes(policy, len(results), int_attr(inp.node.get("join_k"), 1))
    merged, conflicts = merge_changes(finished)
    updates: dict[str, Any] = {
        **merged,
        "parallel.results": [_summary(r) for r in results],
        "parallel.success_count": successes,
        "parallel.failure_count": failures,
        "parallel.conflicts": conflicts,
    }
    notes = f"{successes} of {len(results)} branches succeeded ({policy})"
    if policy == "wait_all":
        status = "success" if failures == 0 else ("partial_success" if successes else "fail")
    else:
        status = "success" if successes >= need else "fail"
    reason = "" if status != "fail" else f"join policy {policy} not satisfied: {notes}"
    return done(status, context_updates=updates, notes=notes, failure_reason=reason)


def merge_changes(results: list[BranchResult]) -> tuple[dict[str, Any], list[str]]:
    """Merge branch context changes in branch order; keys set differently are conflicts."""
    seen: dict[str, Any] = {}
    conflicts: set[str] = set()
    for r in sorted(results, key=lambda r: r.index):
        for key, value in r.context_changes.items():
            if key in seen and seen[key] != value:
                conflicts.add(key)
            seen.setdefault(key, value)
    return {k: v for k, v in seen.items() if k not in conflicts}, sorted(conflicts)


def _summary(r: BranchResult) -> dict[str, Any]:
    return {
        "id": r.id,
        "index": r.index,
        "status": r.outcome.status.value,
        "notes": r.outcome.notes,
        "failure_reason": r.outcome.failure_reason,
        "stopped_at": r.stopped_at,
        "cancelled": r.cancelled,
        "context_changes": r.context_changes,
    }
