"""Pipeline layer (pure): the manager loop handler (spec §4.11) — a supervisor over a child run.

Rule: the child pipeline (`stack.child_dotfile`, relative to the parent DOT file) is read through a
`ReadFile` effect — so its source is in the log — and runs on its own stream while the manager
polls: each cycle it observes the child, checks `manager.stop_condition`, optionally steers
(writes `manager.steer_message` to `steer.md` in the child's current stage directory), and
sleeps `manager.poll_interval` (a recorded `Sleep`). A child seen finishing ends the loop.
"""

from __future__ import annotations

import posixpath

from attractor.dot import compile_condition, parse_duration, parse_int
from attractor.effects import EffectError, FileRead, FileWritten, ReadFile, Sleep, Slept, WriteFile
from attractor.pipeline.handlers.base import HandlerInput, Need, SpawnChild, Step, done


def child_path(inp: HandlerInput) -> str:
    """The child DOT path, resolved against the parent DOT file's directory."""
    name = inp.node.get("stack.child_dotfile") or inp.graph.get("stack.child_dotfile") or ""
    if not name or posixpath.isabs(name):
        return name
    return posixpath.join(posixpath.dirname(inp.graph.filename), name)


class ManagerLoopHandler:
    """Starts the child, then observe / steer / wait until it ends or the stop condition holds."""

    def step(self, inp: HandlerInput) -> Step:
        """One decision per step."""
        path = child_path(inp)
        if not path:
            return done("fail", failure_reason="manager loop has no stack.child_dotfile")
        if inp.child is None:
            if not inp.results:
                return Need(ReadFile(path=path))
            first = inp.results[0]
            if isinstance(first, EffectError):
                return done(
                    "fail", failure_reason=f"cannot read child pipeline {path}: {first.message}"
                )
            if not isinstance(first, FileRead) or not isinstance(first.content, str):
                return done("fail", failure_reason=f"cannot read child pipeline {path}")
            return SpawnChild(dot_source=first.content, dot_path=path)
        return self._cycle(inp)

    def _cycle(self, inp: HandlerInput) -> Step:
        child = inp.child
        assert child is not None
        telemetry = {
            "stack.child.status": child.status,
            "stack.child.current_node": child.current_node,
            "stack.child.completed_count": len(child.completed),
            "stack.child.outcome": child.outcome.status.value if child.outcome else "",
        }
        if child.status != "running":
            ok = child.outcome is not None and child.outcome.status.succeeded
            reason = (
                ""
                if ok
                else f"Child failed: {child.outcome.failure_reason if child.outcome else ''}"
            )
            return done(
                "success" if ok else "fail",
                notes="Child completed" if ok else "",
                failure_reason=reason,
                context_updates=telemetry,
            )
        stop = inp.node.get("manager.stop_condition") or ""
        context = {**inp.context, **telemetry}
        if stop and compile_condition(stop).evaluate("", "", context):
            return done("success", notes="Stop condition satisfied", context_updates=telemetry)
        cycles = sum(isinstance(r, Slept) for r in inp.results)
        max_cycles = parse_int(inp.node.get("manager.max_cycles") or "1000")
        if cycles >= max_cycles:
            return done(
                "fail",
                failure_reason=f"Max cycles exceeded ({max_cycles})",
                context_updates=telemetry,
            )
        actions = [
            a.strip() for a in (inp.node.get("manager.actions") or "observe,wait").split(",")
        ]
        steer = inp.node.get("manager.steer_message") or ""
        last = inp.results[-1] if inp.results else None
        if "steer" in actions and steer and not isinstance(last, FileWritten) and child.stage_dir:
            target = posixpath.join(child.stage_dir, "steer.md")
            return Need(WriteFile(path=target, content=steer + "\n", append=True))
        poll = parse_duration(inp.node.get("manager.poll_interval") or "45s")
        return Need(Sleep(ms=int(poll.total_seconds() * 1000)))
