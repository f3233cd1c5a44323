"""Pipeline layer (pure): the codergen handler (spec §4.5) and the status-file contract (App. C).

Rule: with the `simulate` backend the stage answers itself, with no effect. With any other
backend it (1) clears `status.json` in the stage directory, (2) calls the backend through a
`Call(name="codergen")` effect — recorded, so replay never calls it again — and (3) if the backend
returned no outcome, reads `status.json` in case the backend (or an agent it ran) wrote one.
"""

from __future__ import annotations

from typing import Any

import msgspec

from attractor.effects import Call, Called, EffectError, FileRead, ReadFile, WriteFile
from attractor.pipeline.handlers.base import Done, HandlerInput, Need, Step, done
from attractor.pipeline.model import (
    CodergenCall,
    CodergenReply,
    StatusFileError,
    outcome_from_status_json,
)

LAST_RESPONSE_CHARS = 200


def expand_prompt(inp: HandlerInput) -> str:
    """The node's prompt (or label) with `$goal` replaced by the graph goal."""
    text = inp.node.prompt or inp.node.label
    return text.replace("$goal", inp.graph.goal)


def _success(inp: HandlerInput, prompt: str, response: str) -> Done:
    updates = {"last_stage": inp.node.id, "last_response": response[:LAST_RESPONSE_CHARS]}
    outcome = done("success", notes=f"Stage completed: {inp.node.id}", context_updates=updates)
    return Done(outcome.outcome, prompt=prompt, response=response)


def codergen_call(inp: HandlerInput, prompt: str, purpose: str = "stage") -> Call:
    """The backend call for this stage, with its fidelity and thread. A `full` thread's earlier
    turns are recorded by count only (`history_turns`); the performer fills them in from the
    log (`attractor.pipeline.threads.ThreadBook`), so the log grows linearly."""
    thread = inp.thread
    call = CodergenCall(
        node_id=inp.node.id,
        prompt=prompt,
        attempt=inp.attempt,
        stage_dir=inp.stage_dir,
        context=_plain(inp.context),
        node_attrs=dict(inp.node.attrs),
        purpose=purpose,
        fidelity=thread.fidelity if thread else "compact",
        thread_key=thread.key if thread else inp.node.id,
        preamble=thread.preamble if thread else "",
        history_turns=len(thread.history) if thread else 0,
        stream=inp.stream,
        run_max_cost_usd=inp.graph.attrs.get("max_cost_usd", ""),
    )
    return Call(name="codergen", args=msgspec.to_builtins(call))


def _plain(context: Any) -> dict[str, Any]:
    return {k: v for k, v in context.items() if not k.startswith("internal.")}


def reply_of(result: object) -> CodergenReply | str:
    """The backend's reply, or a failure reason."""
    if isinstance(result, EffectError):
        return f"backend failed: {result.message}"
    if not isinstance(result, Called):
        return "backend returned no result"
    try:
        return msgspec.convert(result.value, CodergenReply)
    except msgspec.ValidationError as exc:
        return f"backend reply is malformed: {exc}"


class CodergenHandler:
    """Runs an LLM stage through the configured backend."""

    def step(self, inp: HandlerInput) -> Step:
        """Simulate, or clear status.json → call the backend → read status.json."""
        prompt = expand_prompt(inp)
        if inp.config.backend == "simulate" and inp.node.attrs.get("backend", "simulate") == (
            "simulate"
        ):
            return _success(inp, prompt, f"[Simulated] Response for stage: {inp.node.id}")
        status_path = f"{inp.stage_dir}/status.json"
        results = inp.results
        if not results:
            return Need(WriteFile(path=status_path, content=""))
        if len(results) == 1:
            return Need(codergen_call(inp, prompt))
        reply = reply_of(results[1])
        if isinstance(reply, str):
            return Done(done("fail", failure_reason=reply).outcome, prompt=prompt)
        if reply.outcome is not None:
            return Done(reply.outcome, prompt=prompt, response=reply.response)
        if len(results) == 2:
            return Need(ReadFile(path=status_path))
        return _from_status_file(inp, prompt, reply.response, results[2])


def _from_status_file(inp: HandlerInput, prompt: str, response: str, result: object) -> Done:
    if isinstance(result, FileRead) and isinstance(result.content, str) and result.content.strip():
        try:
            outcome = outcome_from_status_json(result.content)
        except StatusFileError as exc:
            return Done(
                done("fail", failure_reason=str(exc)).outcome, prompt=prompt, response=response
            )
        return Done(outcome, prompt=prompt, response=response)
    done_ = _success(inp, prompt, response)
    if inp.node.auto_status:
        note = "auto-status: handler completed without writing status"
        return Done(
            msgspec.structs.replace(done_.outcome, notes=note), prompt=prompt, response=response
        )
    return done_
