"""Pipeline layer (pure): the fan-in handler (spec §4.9).

Rule: the candidates are the `parallel.results` the parallel node put in the context. With a
`prompt` (and a real backend) the backend ranks them: the first candidate id its answer names
wins. Otherwise the heuristic ranks by status, then by a branch's `score` context value, then by
id. The winner's context changes are applied — including keys the branches disagreed on.
"""

from __future__ import annotations

import re
from typing import Any

from attractor.pipeline.handlers.base import Done, HandlerInput, Need, Step, done
from attractor.pipeline.handlers.codergen import codergen_call, expand_prompt, reply_of

_RANK = {"success": 0, "partial_success": 1, "retry": 2, "skipped": 3, "fail": 4}


def _score(candidate: dict[str, Any]) -> float:
    value = candidate.get("context_changes", {}).get("score", 0)
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def heuristic_select(candidates: list[dict[str, Any]]) -> dict[str, Any]:
    """Best by (status rank, -score, id)."""
    return sorted(candidates, key=lambda c: (_RANK.get(c["status"], 9), -_score(c), c["id"]))[0]


def _mention(candidate_id: str, text: str) -> int:
    """Where `text` first names the id as a whole word (-1 when it never does)."""
    found = re.search(rf"(?<![\w.-]){re.escape(candidate_id)}(?![\w-])", text)
    return found.start() if found else -1


def _ranking_prompt(inp: HandlerInput, candidates: list[dict[str, Any]]) -> str:
    lines = [expand_prompt(inp), "", "Candidates (answer with the id of the best one):"]
    for c in candidates:
        lines.append(f"- id: {c['id']}; status: {c['status']}; notes: {c.get('notes', '')}")
    return "\n".join(lines)


class FanInHandler:
    """Picks the best parallel candidate and applies its context changes."""

    def step(self, inp: HandlerInput) -> Step:
        """Heuristic, or one backend call to rank."""
        raw = inp.context.get("parallel.results") or []
        candidates = [c for c in raw if isinstance(c, dict) and not c.get("cancelled")]
        if not candidates:
            return done("fail", failure_reason="No parallel results to evaluate")
        if all(c.get("status") == "fail" for c in candidates):
            return done("fail", failure_reason="every parallel candidate failed")
        use_llm = bool(inp.node.prompt) and inp.config.backend != "simulate"
        if use_llm and not inp.results:
            return Need(codergen_call(inp, _ranking_prompt(inp, candidates), purpose="fan_in"))
        best = heuristic_select(candidates)
        how = "heuristic"
        if use_llm:
            reply = reply_of(inp.results[0])
            text = reply if isinstance(reply, str) else reply.response
            named = {c["id"]: _mention(c["id"], text) for c in candidates}
            found = [c for c in candidates if named[c["id"]] >= 0]
            if found and not isinstance(reply, str):
                best = min(found, key=lambda c: named[c["id"]])
                how = "ranked by the backend"
        return _winner(best, how)


def _winner(best: dict[str, Any], how: str) -> Done:
    updates = {
        **best.get("context_changes", {}),
        "parallel.fan_in.best_id": best["id"],
        "parallel.fan_in.best_outcome": best["status"],
    }
    return done(
        "success", context_updates=updates, notes=f"Selected best candidate: {best['id']} ({how})"
    )
