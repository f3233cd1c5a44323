"""Testing: `ScriptMachine`, a small multi-stream machine that exercises the kernel end to end.

Rule: like every machine, it is pure — a reducer and a decider. Its script (what each stream
does, step by step: write a note or ask for an effect) travels inside its first event, so a log
alone is enough to replay it. Tests generate scripts with hypothesis; the shipped demo log
(`fixtures/logs/demo.jsonl`) was recorded from one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import msgspec

from attractor.effects import Effect, EffectCompleted, EffectFailed, EffectRequested, request_effect
from attractor.effects import effect_id as make_effect_id
from attractor.events import Emit, Entry, Event


class Step(msgspec.Struct, frozen=True, omit_defaults=True):
    """One step of a stream: a note to record, or an effect to ask for and wait on."""

    kind: Literal["note", "effect"]
    note: str = ""
    effect: Effect | None = None


class ScriptStarted(Event, frozen=True, tag="script.started"):
    """The run began; `streams` maps each stream name to its steps."""

    streams: dict[str, tuple[Step, ...]]


class ScriptNoted(Event, frozen=True, tag="script.noted"):
    """A stream wrote a note."""

    step: int
    note: str


class ScriptFinished(Event, frozen=True, tag="script.finished"):
    """Every stream has run all its steps."""

    steps: int


class ScriptState(msgspec.Struct, frozen=True):
    """Where each stream is: the next step index, and the effect it waits on (if any)."""

    streams: dict[str, tuple[Step, ...]] | None = None
    cursor: tuple[tuple[str, int], ...] = ()
    waiting: tuple[tuple[str, str], ...] = ()
    outcomes: int = 0
    finished: bool = False


def _get(pairs: tuple[tuple[str, int], ...], key: str) -> int:
    return dict(pairs).get(key, 0)


def _set(pairs: tuple[tuple[str, int], ...], key: str, value: int) -> tuple[tuple[str, int], ...]:
    return tuple(sorted({**dict(pairs), key: value}.items()))


class ScriptMachine:
    """Runs a script. Construct with the script for a new run, or with none to replay/resume."""

    def __init__(self, streams: Mapping[str, Sequence[Step]] | None = None) -> None:
        self.script = {k: tuple(v) for k, v in (streams or {}).items()}

    @classmethod
    def from_log(cls, entries: Iterable[Entry]) -> ScriptMachine:
        """The machine that recorded a log: its script is in the first event."""
        first = next(iter(entries), None)
        if first is None or not isinstance(first.event, ScriptStarted):
            raise ValueError("not a script log: the first event is not script.started")
        return cls(first.event.streams)

    def initial(self) -> ScriptState:
        """Nothing has happened."""
        return ScriptState()

    def reduce(self, state: ScriptState, entry: Entry) -> ScriptState:
        """Fold one entry."""
        event = entry.event
        match event:
            case ScriptStarted(streams=streams):
                return msgspec.structs.replace(state, streams=streams)
            case ScriptNoted():
                return _advance(state, entry.stream)
            case EffectRequested(effect_id=eid):
                waiting = tuple(sorted({**dict(state.waiting), entry.stream: eid}.items()))
                return msgspec.structs.replace(state, waiting=waiting)
            case EffectCompleted() | EffectFailed():
                state = msgspec.structs.replace(state, outcomes=state.outcomes + 1)
                return _advance(state, entry.stream)
            case ScriptFinished():
                return msgspec.structs.replace(state, finished=True)
            case _:
                return state

    def decide(self, state: ScriptState) -> list[Emit]:
        """Each idle stream takes its next step; when all are through, the run finishes."""
        if state.streams is None:
            return [("run", ScriptStarted(streams=self.script))]
        if state.finished:
            return []
        out: list[Emit] = []
        busy = dict(state.waiting)
        all_done = True
        for stream, steps in sorted(state.streams.items()):
            i = _get(state.cursor, stream)
            if i >= len(steps):
                continue
            all_done = False
            if stream in busy:
                continue
            step = steps[i]
            if step.kind == "note" or step.effect is None:
                out.append((stream, ScriptNoted(step=i, note=step.note)))
            else:
                out.append((stream, request_effect(make_effect_id(stream, "step", i), step.effect)))
        if all_done and not out:
            total = sum(len(s) for s in state.streams.values())
            out.append(("run", ScriptFinished(steps=total)))
        return out

    def is_done(self, state: ScriptState) -> bool:
        """Finished once `script.finished` is folded."""
        return state.finished


def _advance(state: ScriptState, stream: str) -> ScriptState:
    waiting = tuple(p for p in state.waiting if p[0] != stream)
    cursor = _set(state.cursor, stream, _get(state.cursor, stream) + 1)
    return msgspec.structs.replace(state, cursor=cursor, waiting=waiting)
