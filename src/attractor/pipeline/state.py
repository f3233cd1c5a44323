"""Pipeline layer (pure): the run state folded from the log.

Rule: `RunState` is an immutable value. A run is a set of *traversals* — cursors walking a graph,
one per stream: the top-level walk on `run`, one per parallel branch, one per child pipeline.
Each traversal owns its context, its completed nodes, outcomes and retry counters; the reducer
moves them, the decider reads them.
"""

from __future__ import annotations

from itertools import chain
from typing import Any, Literal

import msgspec

from attractor.dot import Graph
from attractor.effects import EffectOutcome
from attractor.pipeline.events import RunStarted
from attractor.pipeline.model import Outcome

Phase = Literal[
    "enter",  # at a node, about to start it (or to finish, at a terminal / join point)
    "run",  # the handler is to be stepped
    "route",  # the node has its final outcome; the next edge is to be chosen
    "wait",  # an effect the handler asked for is in flight
    "retry",  # an attempt failed and will be retried: drawing jitter
    "sleeping",  # waiting out the retry delay
    "branches",  # a parallel node waits for its branches
    "queued",  # a branch waiting for a free slot (max_parallel)
    "done",
]

Kind = Literal["top", "branch", "child"]

CHUNK = 64


class Traversal(msgspec.Struct, frozen=True):
    """One cursor walking one graph on one stream."""

    stream: str
    kind: Kind
    graph: str  # key into RunState.graphs
    node: str
    phase: Phase = "enter"
    attempt: int = 1
    index: int = 0  # execution index of the current node within this traversal
    executions: int = 0
    results: tuple[EffectOutcome, ...] = ()
    waiting_on: str = ""
    jitter: float = 1.0
    context: dict[str, Any] = {}
    done_chunks: tuple[tuple[str, ...], ...] = ()  # completed nodes, in full chunks …
    done_tail: tuple[str, ...] = ()  # … and the last partial chunk (see `completed`)
    outcomes: dict[str, Outcome] = {}
    retries: dict[str, int] = {}
    parent: str = ""  # the stream that spawned this one
    origin: str = ""  # the parallel / manager node that spawned it
    branch: str = ""  # branch id (its first node)
    branch_index: int = 0
    fork_context: dict[str, Any] = {}
    stop_at: tuple[str, ...] = ()  # fan-in nodes where a branch stops
    result: Outcome | None = None
    last_failure: Outcome | None = None  # the attempt being retried
    stopped_at: str = ""
    children: tuple[str, ...] = ()  # streams of branches or the child this traversal waits on
    thread: tuple[tuple[str, str, str], ...] = ()  # (thread key, prompt, response) of codergen
    prev_node: str = ""  # where the traversal came from (for the incoming edge's attributes)
    via_join: bool = False  # arrived at this node from its own parallel node's join

    @property
    def completed(self) -> tuple[str, ...]:
        """Every node completed by this traversal, in order."""
        return (*chain.from_iterable(self.done_chunks), *self.done_tail)

    def with_completed(self, node: str) -> dict[str, Any]:
        """The fields that append `node` to `completed`: amortized O(1) — the tail is copied
        (at most `CHUNK` names) and the chunk tuple only once per `CHUNK` appends, so folding a
        long run stays linear (an immutable tuple copied whole per stage would be quadratic)."""
        if len(self.done_tail) < CHUNK:
            return {"done_tail": (*self.done_tail, node)}
        return {"done_chunks": (*self.done_chunks, self.done_tail), "done_tail": (node,)}


class RunState(msgspec.Struct, frozen=True):
    """The whole run: its start event, graphs by key, traversals by stream, and how it ended."""

    started: RunStarted | None = None
    seq: int = 0  # the seq of the last entry folded
    graphs: dict[str, Graph] = {}
    traversals: dict[str, Traversal] = {}
    executions: int = 0
    finished: Outcome | None = None
    restart_at: str = ""
    invalid: str = ""  # the embedded DOT could not be prepared (a replayed, changed file)

    def top(self) -> Traversal | None:
        """The top-level traversal."""
        return self.traversals.get("run")

    def graph_of(self, t: Traversal) -> Graph:
        """The graph a traversal walks."""
        return self.graphs[t.graph]
