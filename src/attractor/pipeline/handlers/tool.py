"""Pipeline layer (pure): the tool handler (spec §4.10) with tool hooks (§9.7).

Rule: the command runs as a `RunShell` effect in the run's working directory (`config.workdir`,
where `attractor run` was started), with the stage directory (created before the command
starts), run directory and node id in
`ATTRACTOR_STAGE_DIR`, `ATTRACTOR_RUN_DIR`, `ATTRACTOR_NODE_ID`. `tool_hooks.pre` runs first (node
attribute, else graph attribute): a non-zero exit skips the command (SKIPPED). `tool_hooks.post`
runs after; its failure is noted, never fatal. Hooks get the tool metadata as JSON on stdin.
Commands and hooks inherit the environment without its sensitive variables (`*_API_KEY`,
`*_TOKEN`, `*_SECRET`, `*_PASSWORD`, `*_CREDENTIAL`…); `tool_env_passthrough` (node attribute,
else graph attribute: names separated by commas or spaces) passes named ones through.
"""

from __future__ import annotations

import json

import msgspec

from attractor.effects import EffectError, RunShell, ShellRan
from attractor.pipeline.handlers.base import Done, HandlerInput, Need, Step, done

DEFAULT_TIMEOUT_MS = 600_000
_TAIL = 2000


def _env(inp: HandlerInput) -> dict[str, str]:
    return {
        "ATTRACTOR_STAGE_DIR": inp.stage_dir,
        "ATTRACTOR_RUN_DIR": inp.config.run_dir,
        "ATTRACTOR_NODE_ID": inp.node.id,
    }


def _passthrough(inp: HandlerInput) -> tuple[str, ...]:
    names = inp.node.get("tool_env_passthrough") or inp.graph.get("tool_env_passthrough") or ""
    return tuple(n for n in names.replace(",", " ").split() if n)


def _hook(inp: HandlerInput, which: str) -> str:
    return inp.node.get(f"tool_hooks.{which}") or inp.graph.get(f"tool_hooks.{which}") or ""


def _shell(inp: HandlerInput, command: str, stdin: str = "") -> Need:
    timeout = inp.node.timeout
    ms = int(timeout.total_seconds() * 1000) if timeout is not None else DEFAULT_TIMEOUT_MS
    return Need(
        RunShell(
            command=command,
            cwd=inp.config.workdir,
            timeout_ms=ms,
            env=_env(inp),
            stdin=stdin,
            ensure_dirs=(inp.stage_dir,),
            env_passthrough=_passthrough(inp),
        )
    )


class ToolHandler:
    """Runs `tool_command`; exit 0 is SUCCESS with `tool.output` in the context."""

    def step(self, inp: HandlerInput) -> Step:
        """Pre-hook, command, post-hook — one effect at a time."""
        command = inp.node.get("tool_command") or ""
        if not command.strip():
            return done("fail", failure_reason=f"node {inp.node.id!r} has no tool_command")
        pre, post = _hook(inp, "pre"), _hook(inp, "post")
        meta = json.dumps({"node": inp.node.id, "tool_command": command, "attempt": inp.attempt})
        results = list(inp.results)
        if pre:
            if not results:
                return _shell(inp, pre, stdin=meta)
            hook = results.pop(0)
            if not (isinstance(hook, ShellRan) and hook.exit_code == 0):
                return done("skipped", notes=f"tool_hooks.pre refused the command: {_why(hook)}")
        if not results:
            return _shell(inp, command)
        main = results.pop(0)
        outcome = _outcome(inp, command, main)
        if post and not results:
            result = {"exit_code": main.exit_code} if isinstance(main, ShellRan) else {}
            return _shell(inp, post, stdin=json.dumps({**json.loads(meta), "result": result}))
        if post and not (isinstance(results[0], ShellRan) and results[0].exit_code == 0):
            notes = f"{outcome.outcome.notes}; tool_hooks.post failed: {_why(results[0])}"
            return Done(msgspec.structs.replace(outcome.outcome, notes=notes))
        return outcome


def _why(result: object) -> str:
    if isinstance(result, ShellRan):
        return f"exit code {result.exit_code}"
    if isinstance(result, EffectError):
        return result.message
    return "unexpected result"


def _outcome(inp: HandlerInput, command: str, result: object) -> Done:
    if isinstance(result, EffectError):
        return done("fail", failure_reason=f"could not run tool_command: {result.message}")
    if not isinstance(result, ShellRan):
        return done("fail", failure_reason="tool_command produced no shell result")
    stdout = result.stdout
    if not isinstance(stdout, str):  # a large output: its head, and where the rest is
        stdout = f"{result.stdout_head}\n… [{stdout.size} bytes in all; blob {stdout.digest}]"
    stderr = result.stderr if isinstance(result.stderr, str) else ""
    updates = {"tool.output": stdout, "tool.exit_code": result.exit_code, "last_stage": inp.node.id}
    if result.timed_out:
        return done(
            "fail",
            failure_reason=f"tool_command timed out after {result.duration_ms} ms",
            context_updates=updates,
        )
    if result.exit_code != 0:
        tail = stderr[-_TAIL:].strip() or stdout[-_TAIL:].strip()
        return done(
            "fail",
            failure_reason=f"tool_command exited with code {result.exit_code}: {tail}",
            context_updates=updates,
        )
    return done("success", notes=f"Tool completed: {command}", context_updates=updates)
