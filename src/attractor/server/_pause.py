"""Server layer (pure): the pause gate — a run that stops at its next node boundary.

Rule: pausing is a control of the driver, not a fact of the run. The gate wraps the engine's
machine for one drive: while a pause is asked for, it hands the driver the decided events only
up to the next `stage.started` (the events before it are the previous node's end, routing and
checkpoint), and tells the driver it is done once nothing but human questions is in flight.
The log is exactly what it would have been without the pause — the same events in the same
order, only split over more appends — so replay and resume are untouched; unpausing is a
resume. ADR 0183 says why this is not an event in the log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from attractor.effects import AskHuman, Effect, EffectCompleted, EffectFailed, EffectRequested
from attractor.effects.driver import Machine
from attractor.events import Emit, Entry, Event
from attractor.pipeline.state import RunState

Boundary = Callable[[Event], bool]


class PauseGate:
    """Wraps a machine; `pause()` stops it at the next boundary, `paused` says it has."""

    def __init__(self, inner: Machine[RunState], boundary: Boundary) -> None:
        self.inner = inner
        self.boundary = boundary
        self.requested = False
        self.holding = False  # a boundary was reached while a pause was asked for
        self._inflight: dict[str, Effect] = {}

    def pause(self) -> None:
        """Stop before the next node starts (effects in flight finish first)."""
        self.requested = True

    @property
    def idle(self) -> bool:
        """Nothing but human questions is in flight (a parked question can be asked again)."""
        return all(isinstance(r, AskHuman) for r in self._inflight.values())

    def initial(self) -> RunState:
        """The inner machine's initial state."""
        return self.inner.initial()

    def reduce(self, state: RunState, entry: Entry) -> RunState:
        """Fold as the inner machine does, tracking the effects in flight."""
        event = entry.event
        if isinstance(event, EffectRequested):
            self._inflight[event.effect_id] = event.request
        elif isinstance(event, EffectCompleted | EffectFailed):
            self._inflight.pop(event.effect_id, None)
        return self.inner.reduce(state, entry)

    def decide(self, state: RunState) -> Sequence[Emit]:
        """The inner decision, cut before the next node start while a pause is asked for."""
        emitted = self.inner.decide(state)
        if not self.requested:
            return emitted
        for i, (_, event) in enumerate(emitted):
            if self.boundary(event):
                self.holding = True
                return list(emitted[:i])
        return emitted

    def is_done(self, state: RunState) -> bool:
        """Finished, or paused at a boundary with nothing but questions in flight."""
        if self.inner.is_done(state):
            return True
        return self.requested and self.holding and self.idle

    @property
    def paused(self) -> bool:
        """Whether the gate has stopped the run (valid once the drive returned)."""
        return self.requested and self.holding
