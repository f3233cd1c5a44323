"""Pipeline layer (pure): the wait.human handler (spec §4.6, §6.5).

Rule: the choices are the node's outgoing edges; the question has a stable id (`<node>@<index>`,
attempt-qualified) so answers can be matched by id. On timeout, `human.default_choice` (an edge
label, accelerator key or target id) is used; without one the stage asks for a RETRY.
"""

from __future__ import annotations

from attractor.effects import AskHuman, EffectError, HumanAnswered, Option, Question
from attractor.pipeline.handlers.base import HandlerInput, Need, Step, done
from attractor.pipeline.labels import accelerator_key, normalize_label


class _Choice:
    __slots__ = ("key", "label", "target")

    def __init__(self, key: str, label: str, target: str) -> None:
        self.key, self.label, self.target = key, label, target


def _choices(inp: HandlerInput) -> list[_Choice]:
    out = []
    for edge in inp.graph.outgoing_edges(inp.node.id):
        label = edge.label or edge.target
        out.append(_Choice(accelerator_key(label), label, edge.target))
    return out


def question_id(stream: str, node: str, index: int, attempt: int) -> str:
    """The stable id of a node's question for one visit and attempt: `gate@3.1`, prefixed by the
    branch or child stream when not asked on the top-level run (`fan@2:0/gate@3.1`)."""
    local = f"{node}@{index}.{attempt}"
    return local if stream == "run" else f"{stream.removeprefix('run/')}/{local}"


def _match(answer: str, choices: list[_Choice]) -> _Choice | None:
    wanted = answer.strip()
    if not wanted:
        return None
    for test in (
        lambda c: c.key.lower() == wanted.lower(),
        lambda c: normalize_label(c.label) == normalize_label(wanted),
        lambda c: c.target == wanted,
    ):
        found = [c for c in choices if test(c)]
        if found:
            return found[0]
    return None


class WaitForHumanHandler:
    """Asks a human to pick one of the outgoing edges."""

    def step(self, inp: HandlerInput) -> Step:
        """Ask, then route on the answer."""
        choices = _choices(inp)
        if not choices:
            return done("fail", failure_reason="No outgoing edges for human gate")
        if not inp.results:
            timeout = inp.node.timeout
            question = Question(
                id=question_id(inp.stream, inp.node.id, inp.index, inp.attempt),
                text=inp.node.get("question") or inp.node.label or "Select an option:",
                kind="multiple_choice",
                options=tuple(Option(key=c.key, label=c.label) for c in choices),
                default=inp.node.get("human.default_choice"),
                timeout_ms=int(timeout.total_seconds() * 1000) if timeout else None,
                stage=inp.node.id,
            )
            return Need(AskHuman(question=question))
        result = inp.results[0]
        if isinstance(result, EffectError):
            return done("fail", failure_reason=f"could not ask a human: {result.message}")
        if not isinstance(result, HumanAnswered):
            return done("fail", failure_reason="the human gate got no answer")
        answer = result.answer
        if answer.skipped:
            return done("fail", failure_reason="human skipped interaction")
        value = answer.value or answer.text
        if answer.timed_out:
            default = inp.node.get("human.default_choice")
            if not default:
                return done("retry", failure_reason="human gate timeout, no default")
            value = default
        selected = _match(value, choices)
        if selected is None:
            options = ", ".join(f"[{c.key}] {c.label}" for c in choices)
            return done("fail", failure_reason=f"answer {value!r} matches no option ({options})")
        return done(
            "success",
            preferred_label=selected.label,
            suggested_next_ids=(selected.target,),
            context_updates={
                "human.gate.selected": selected.key,
                "human.gate.label": selected.label,
            },
            notes=f"human selected {selected.label}",
        )
