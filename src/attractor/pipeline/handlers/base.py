"""Pipeline layer (pure): the handler protocol and registry.

Rule: a handler is a pure function of what it is shown — the node, the graph, the context, the
attempt, and the results of the effects it asked for so far in this attempt. It answers with
what it needs next: an effect (`Need`), a final outcome (`Done`), parallel branches (`Fork`), or a
child pipeline (`SpawnChild`). It never performs anything; so a custom handler replays exactly
like a built-in one (wrap imperative code in a `Call` effect).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import msgspec

from attractor.dot import Graph, Node
from attractor.effects import Effect, EffectOutcome
from attractor.pipeline.graphs import handler_type
from attractor.pipeline.model import Outcome, RunConfig, StageStatus


class BranchResult(msgspec.Struct, frozen=True):
    """How one parallel branch ended, for the parallel handler's join."""

    id: str
    index: int
    outcome: Outcome
    stopped_at: str
    context_changes: dict[str, Any] = {}
    cancelled: bool = False


class ChildView(msgspec.Struct, frozen=True):
    """What a manager loop can observe of its child pipeline."""

    status: str  # "running" | "completed" | "failed"
    current_node: str
    completed: tuple[str, ...]
    outcome: Outcome | None = None
    stage_dir: str = ""  # the child's current stage directory (where steering is written)


class Thread(msgspec.Struct, frozen=True):
    """Context fidelity resolved for a codergen node (spec §5.4)."""

    fidelity: str
    key: str
    preamble: str = ""
    history: tuple[tuple[str, str], ...] = ()  # (prompt, response) of earlier turns, `full` only


class HandlerInput(msgspec.Struct, frozen=True):
    """Everything a handler may look at."""

    node: Node
    graph: Graph
    context: Mapping[str, Any]
    attempt: int
    index: int
    stream: str
    config: RunConfig
    stage_dir: str
    results: tuple[EffectOutcome, ...] = ()
    branches: tuple[BranchResult, ...] | None = None
    child: ChildView | None = None
    thread: Thread | None = None


class Need(msgspec.Struct, frozen=True):
    """Carry out this effect, then step me again with its result appended to `results`."""

    effect: Effect


class Done(msgspec.Struct, frozen=True):
    """The attempt is over. `prompt`/`response` feed the stage's prompt.md and response.md."""

    outcome: Outcome
    prompt: str = ""
    response: str = ""


class Fork(msgspec.Struct, frozen=True):
    """Run a branch from each target, then step me again with `branches` filled in."""

    targets: tuple[str, ...]
    join_policy: str = "wait_all"
    max_parallel: int = 4
    quorum: int = 0  # for k_of_n / quorum


class SpawnChild(msgspec.Struct, frozen=True):
    """Start a child pipeline from this DOT source on its own stream; step me again while it runs
    (with `child` filled in) and after each effect."""

    dot_source: str
    dot_path: str


Step = Need | Done | Fork | SpawnChild


class Handler(Protocol):
    """A node handler (spec §4.1), pure."""

    def step(self, inp: HandlerInput) -> Step:
        """Decide the next thing this node needs, from what it has seen so far."""
        ...


class HandlerRegistry:
    """Handlers by type string (spec §4.2). Registering a type again replaces the handler."""

    def __init__(self, handlers: Mapping[str, Handler] | None = None) -> None:
        self._handlers: dict[str, Handler] = dict(handlers or {})

    def register(self, type_name: str, handler: Handler) -> None:
        """Add or replace the handler for `type_name`."""
        self._handlers[type_name] = handler

    def resolve(self, node: Node) -> Handler | None:
        """The handler for a node: explicit `type`, else its shape's type (with the start/exit id
        conventions), else codergen. None for an explicit type nobody registered."""
        if node.node_type:
            return self._handlers.get(node.node_type)
        return self._handlers.get(handler_type(node)) or self._handlers.get("codergen")

    def types(self) -> frozenset[str]:
        """Every registered type string."""
        return frozenset(self._handlers)


def done(status: str, **fields: Any) -> Done:
    """Shorthand: `done("success", notes=...)`."""
    return Done(Outcome(status=StageStatus(status), **fields))
