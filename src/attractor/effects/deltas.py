"""Effects layer (async shell): live deltas — streamed LLM text that watchers see as it arrives.

Rule: a delta is never a fact of the run. The log keeps only the completed result (DESIGN
§3.2), so a delta goes to whoever watches *now* and is lost otherwise; replay never sees one.
A host (the HTTP server) installs a sink for the run it drives with `deltas_to(sink)`; the
sink is a context variable, so it follows the run's tasks (asyncio copies the context into
every task it creates) and never leaks into another run in the same process. Performers call
`publish` only when `watching()` is true, so an unwatched run does no extra work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar

import msgspec


class Delta(msgspec.Struct, frozen=True):
    """A piece of streamed output: which traversal and node produced it, and the text."""

    stream: str
    node: str
    text: str
    kind: str = "text"  # "text" (LLM tokens); later "tool_output"


DeltaSink = Callable[[Delta], None]

_sink: ContextVar[DeltaSink | None] = ContextVar("attractor_delta_sink", default=None)


def watching() -> bool:
    """Whether someone receives deltas in the current context."""
    return _sink.get() is not None


def publish(delta: Delta) -> None:
    """Hand a delta to the current sink (none: dropped). A failing sink never breaks a run."""
    sink = _sink.get()
    if sink is None:
        return
    with suppress(Exception):  # a watcher's bug must not fail the stage being watched
        sink(delta)


@contextmanager
def deltas_to(sink: DeltaSink) -> Iterator[None]:
    """Send the deltas of everything started inside the block (and its tasks) to `sink`."""
    token = _sink.set(sink)
    try:
        yield
    finally:
        _sink.reset(token)
