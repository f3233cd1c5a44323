"""Effects layer (async shell): the generic driver — decide, append, perform, reduce, repeat.

Rule: the driver owns the loop and nothing else. A `Machine` (pure reducer + decider) says what
happens; a `Store` makes it durable; an `Interpreter` carries effects out. The same loop runs a
fresh run, a resume (fold the log first, re-perform effects requested but never completed — at
least once), and an exact replay (replay store + replay interpreter).

Between two effect outcomes the decider is drained completely, so the log order depends only on
the order of outcomes — which replay takes from the recording. That makes replay byte-identical.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Generic, Protocol, TypeVar

import msgspec

from attractor.effects._types import (
    Effect,
    EffectCompleted,
    EffectFailed,
    EffectRequested,
    outcome_event,
)
from attractor.effects.interpreter import Interpreter
from attractor.effects.replay import (
    NonDeterminismError,
    Recording,
    ReplayEnded,
    ReplayInterpreter,
    ReplayStore,
)
from attractor.events import Emit, Entry, Store

S = TypeVar("S")


class Machine(Protocol[S]):
    """A pure state machine over events: the part of a workflow that replay re-runs."""

    def initial(self) -> S:
        """The state before the first event."""
        ...

    def reduce(self, state: S, entry: Entry) -> S:
        """Fold one stored event into the state (pure, total)."""
        ...

    def decide(self, state: S) -> Sequence[Emit]:
        """The events that follow from `state` now (may request effects); empty when waiting."""
        ...

    def is_done(self, state: S) -> bool:
        """Whether the machine has reached a terminal state."""
        ...


class StalledError(RuntimeError):
    """The machine is not done, decides nothing, and no effect is running: it can never proceed."""


class DriveResult(msgspec.Struct, Generic[S]):
    """How a drive ended: the final state, how many entries were appended, and why it stopped."""

    state: S
    appended: int
    stopped: str  # "done" | "recording-ended" | "step-limit"


class ReplayResult(DriveResult[S]):
    """A replay's end: `identical` lines were reproduced byte for byte; `reencoded` lines matched
    as events but are written differently by this version (an older log: defaulted new fields,
    upcasts)."""

    identical: int = 0
    reencoded: int = 0


Observer = Callable[[Entry], None]


Inflight = dict[str, tuple[str, Effect]]
"""Effects requested and not yet answered: effect id -> (stream, request)."""


def _track(inflight: Inflight, entry: Entry) -> None:
    event = entry.event
    if isinstance(event, EffectRequested):
        inflight[event.effect_id] = (entry.stream, event.request)
    elif isinstance(event, EffectCompleted | EffectFailed):
        inflight.pop(event.effect_id, None)


async def drive(
    machine: Machine[S],
    store: Store,
    interpreter: Interpreter,
    *,
    observe: Observer | None = None,
    max_steps: int | None = None,
) -> DriveResult[S]:
    """Run `machine` to completion against `store`, performing effects with `interpreter`.

    The store's existing entries are folded first (resume); effects they requested without an
    outcome are performed again. Returns when the machine is done, the replay recording ends,
    or `max_steps` appends have happened.
    """
    inflight: Inflight = {}
    state = machine.initial()
    for entry in store.entries():
        state = machine.reduce(state, entry)
        _track(inflight, entry)
    for eid, (_, request) in sorted(inflight.items()):
        interpreter.start(eid, request)  # requested before a crash, never answered: again
    appended = 0

    def commit(items: Sequence[Emit]) -> None:
        nonlocal state, appended
        for entry in store.append(items):
            state = machine.reduce(state, entry)
            appended += 1
            _track(inflight, entry)
            if isinstance(entry.event, EffectRequested):
                interpreter.start(entry.event.effect_id, entry.event.request)
            if observe is not None:
                observe(entry)

    try:
        while True:
            if max_steps is not None and appended >= max_steps:
                return DriveResult(state=state, appended=appended, stopped="step-limit")
            emitted = machine.decide(state)
            if emitted:
                commit(emitted)
                continue
            if machine.is_done(state):
                return DriveResult(state=state, appended=appended, stopped="done")
            if not interpreter.busy():
                raise StalledError(
                    "the machine is not done, decided nothing, and no effect is running"
                )
            eid, outcome = await interpreter.next_result()
            commit([(inflight[eid][0], outcome_event(eid, outcome))])
    except ReplayEnded:
        return DriveResult(state=state, appended=appended, stopped="recording-ended")
    finally:
        await interpreter.aclose()


async def replay(
    machine: Machine[S],
    recording: Recording | str | Path,
    *,
    until: int | None = None,
    observe: Observer | None = None,
) -> ReplayResult[S]:
    """Re-run `machine` against a recorded log without touching the world.

    Raises `NonDeterminismError` at the first line that differs. Returns with `stopped ==
    "done"` when the machine finished exactly where the recording does, or "recording-ended"
    when the recording (or `until`) ran out first — e.g. a crashed run's log.
    """
    rec = recording if isinstance(recording, Recording) else Recording.from_file(recording, until)
    store = ReplayStore(rec)
    result = await drive(machine, store, ReplayInterpreter(rec), observe=observe)
    if result.stopped == "done" and rec.peek() is not None:
        entry, _ = rec.take()
        expected = msgspec.json.encode(entry.event).decode()
        raise NonDeterminismError(entry.seq, entry.stream, expected, "")
    return ReplayResult(
        state=result.state,
        appended=result.appended,
        stopped=result.stopped,
        identical=store.identical,
        reencoded=store.reencoded,
    )
