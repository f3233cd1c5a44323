"""Pipeline layer (async shell): codergen backends that run installed CLI agents.

Rule: `--backend claude-code|codex|gemini-cli` (or a node's `backend` attribute) answers a
codergen stage by running that CLI non-interactively in the run's working directory
(`attractor.agent.external`). Like every backend it is called through the recorded
`Call("codergen")` effect, so replay and resume never start the CLI for a stage already answered.
The stage's timeout (`timeout` attribute, default 30 minutes) bounds the session; the model comes
from `llm_model`, extra CLI arguments from `agent_args`. Text the agent streams goes to live
watchers as deltas; a readable `transcript.md` lands in the stage directory. The outcome follows
the codergen contract: an agent that writes `status.json` decides it (the engine reads the file
when the reply carries no outcome); one that fails, hangs or is missing is a FAIL naming why.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path

from attractor.agent.external import (
    KINDS,
    CliAgentMissing,
    CliAgentRequest,
    Step,
    Transcript,
    find_executable,
    run_cli_agent,
    split_args,
)
from attractor.dot import parse_duration
from attractor.effects import deltas
from attractor.pipeline.model import CodergenCall, CodergenReply, Outcome, StageStatus

DEFAULT_TIMEOUT = timedelta(minutes=30)


class CliAgentBackend:
    """Answers codergen calls with one session of the CLI agent `kind`."""

    def __init__(
        self, kind: str, *, workdir: str = "", env: Mapping[str, str] | None = None
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown CLI agent {kind!r} (known: {', '.join(KINDS)})")
        self.kind, self.workdir, self.env = kind, workdir, env

    def check(self) -> str:
        """The executable's path; raises `CliAgentMissing` before a run starts without it."""
        return find_executable(self.kind, self.env)

    async def run(self, call: CodergenCall) -> CodergenReply:
        """Run the session; its final answer is the response, its failure a FAIL outcome."""
        request = CliAgentRequest(
            kind=self.kind,
            prompt=_prompt(call),
            cwd=call.node_attrs.get("workdir") or self.workdir or os.getcwd(),
            model=call.node_attrs.get("llm_model", ""),
            extra_args=split_args(call.node_attrs.get("agent_args", "")),
            timeout_s=_timeout(call).total_seconds(),
        )
        try:
            transcript = await run_cli_agent(request, env=self.env, on_step=_watcher(call))
        except CliAgentMissing as exc:
            return _fail(str(exc))
        if call.stage_dir:
            write_transcript(Path(call.stage_dir) / "transcript.md", self.kind, call, transcript)
        outcome = None if transcript.ok else _fail(transcript.error).outcome
        return CodergenReply(
            response=transcript.final_text,
            outcome=outcome,
            usage=transcript.usage,
            model=request.model,
            cost_usd=transcript.cost_usd,
        )


def _prompt(call: CodergenCall) -> str:
    parts = [call.preamble] if call.preamble else []
    parts.append(call.prompt)
    if call.stage_dir:
        parts.append(
            "When you are done you may write your verdict as JSON to "
            f"{call.stage_dir}/status.json, e.g. "
            '{"outcome": "success", "notes": "..."} (outcome: success, partial_success, retry or '
            "fail)."
        )
    return "\n\n".join(parts)


def _timeout(call: CodergenCall) -> timedelta:
    text = call.node_attrs.get("timeout", "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        return parse_duration(text)
    except ValueError:
        return DEFAULT_TIMEOUT


def _watcher(call: CodergenCall) -> Callable[[Step], None] | None:
    if not deltas.watching():
        return None

    def on_step(step: Step) -> None:
        text = step.text if step.kind == "text" else f"[{step.tool or step.kind}] {step.text}\n"
        deltas.publish(deltas.Delta(stream=call.stream or "run", node=call.node_id, text=text))

    return on_step


def _fail(reason: str) -> CodergenReply:
    return CodergenReply(outcome=Outcome(status=StageStatus.FAIL, failure_reason=reason))


def transcript_markdown(kind: str, call: CodergenCall, transcript: Transcript) -> str:
    """A readable account of the session: the prompt, each step, how it ended."""
    lines = [f"# {call.node_id} — {kind} (attempt {call.attempt})", ""]
    if transcript.session_id:
        lines += [f"Session: `{transcript.session_id}`", ""]
    lines += ["## Prompt", "", call.prompt, "", "## Session", ""]
    for step in transcript.steps:
        if step.kind == "text":
            lines += [step.text, ""]
        elif step.kind == "tool_call":
            lines += [f"**{step.tool or 'tool'}** `{_one_line(step.text)}`", ""]
        elif step.kind == "tool_result":
            lines += ["```", step.text[:4000], "```", ""]
        else:
            lines += [f"> {step.text}", ""]
    ended = "succeeded" if transcript.ok else f"failed: {transcript.error}"
    lines += ["## End", "", f"The session {ended}."]
    if transcript.usage:
        usage = ", ".join(f"{k} {v}" for k, v in sorted(transcript.usage.items()))
        lines.append(f"Usage: {usage}.")
    if transcript.cost_usd is not None:
        lines.append(f"Cost reported by {kind}: ${transcript.cost_usd:.4f}.")
    if transcript.malformed:
        lines.append(f"Lines of its stream that were not JSON: {list(transcript.malformed)}.")
    return "\n".join(lines) + "\n"


def write_transcript(path: Path, kind: str, call: CodergenCall, transcript: Transcript) -> None:
    """Write `transcript.md` atomically (a projection: the reply in the log is the fact)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(transcript_markdown(kind, call, transcript), encoding="utf-8")
    tmp.replace(path)


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 200 else flat[:199] + "…"
