"""Pipeline layer (pure): `PipelineMachine` — the reducer, decider and handlers as one Machine.

Rule: a new run's machine holds the `run.started` event it will emit first; a resumed or replayed
run's machine is built from the log's `run.started` (`PipelineMachine.from_log`). Replaying against
a changed DOT file (`graph_override`) re-emits the recorded `run.started` but walks the new graph,
so the first divergence shows where behaviour changes.
"""

from __future__ import annotations

from collections.abc import Iterable

from attractor.dot import Graph
from attractor.events import Emit, Entry
from attractor.pipeline.decider import decide
from attractor.pipeline.events import RunForked, RunStarted
from attractor.pipeline.handlers import HandlerRegistry, builtin_registry
from attractor.pipeline.reducer import reduce
from attractor.pipeline.state import RunState


class NotARunLogError(ValueError):
    """The log does not start with `run.started`."""


class PipelineMachine:
    """The pure engine, ready for `attractor.effects.drive` / `replay`."""

    def __init__(
        self,
        started: RunStarted,
        registry: HandlerRegistry | None = None,
        graph_override: Graph | None = None,
        forked: RunForked | None = None,
    ) -> None:
        self.started = started
        self.forked = forked
        self.registry = registry or builtin_registry()
        self.graph_override = graph_override

    @classmethod
    def from_log(
        cls,
        entries: Iterable[Entry],
        registry: HandlerRegistry | None = None,
        graph_override: Graph | None = None,
    ) -> PipelineMachine:
        """The machine that recorded a log."""
        it = iter(entries)
        first = next(it, None)
        if first is None or not isinstance(first.event, RunStarted):
            raise NotARunLogError("not a pipeline run log: its first event is not run.started")
        forked = next((e.event for e in it if isinstance(e.event, RunForked)), None)
        return cls(first.event, registry, graph_override, forked)

    def initial(self) -> RunState:
        """Before `run.started`."""
        return RunState()

    def reduce(self, state: RunState, entry: Entry) -> RunState:
        """Fold one entry."""
        return reduce(state, entry, self.graph_override)

    def decide(self, state: RunState) -> list[Emit]:
        """`run.started` first, then whatever the decider says."""
        if state.started is None:
            return [("run", self.started)]
        fork = self.forked
        if fork is not None and state.seq == fork.at_seq:
            return [("run", fork)]  # a fork's log: its run.forked follows the copied prefix
        events = decide(state, self.registry)
        if fork is not None and state.seq < fork.at_seq:
            return events[: fork.at_seq - state.seq]  # the prefix was cut there, mid-batch maybe
        return events

    def is_done(self, state: RunState) -> bool:
        """Finished once `run.finished` is folded."""
        return state.finished is not None
