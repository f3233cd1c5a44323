"""Pipeline layer (pure): the thread book — LLM turns by stream and thread key, folded from the
log, so a `full`-fidelity codergen call records only *how many* earlier turns it continues and
the performer fills them in (DESIGN §3.2: the log grows linearly with the work).

Rule: it mirrors the reducer exactly — a turn joins its traversal when `stage.completed` carries a
thread key, and a branch starts with its parent's turns (`parallel.branch_started`).
"""

from __future__ import annotations

from typing import Any

from attractor.events import Entry
from attractor.pipeline.events import BranchStarted, StageCompleted
from attractor.pipeline.model import CodergenCall


class ThreadBook:
    """Turns `(thread key, prompt, response)` per stream, fed with every entry of a run."""

    def __init__(self) -> None:
        self._turns: dict[str, list[tuple[str, str, str]]] = {}

    def __call__(self, entry: Entry) -> None:
        """Fold one entry."""
        event = entry.event
        if isinstance(event, StageCompleted) and event.thread_key:
            turn = (event.thread_key, event.prompt, event.response)
            self._turns.setdefault(entry.stream, []).append(turn)
        elif isinstance(event, BranchStarted):
            parent = entry.stream.rsplit("/", 1)[0]
            self._turns[entry.stream] = list(self._turns.get(parent, ()))

    def history(self, stream: str, key: str, count: int) -> list[tuple[str, str]]:
        """The first `count` turns of thread `key` as seen by `stream`."""
        turns = [(p, r) for k, p, r in self._turns.get(stream, ()) if k == key]
        return turns[:count]

    def expand(self, call: CodergenCall) -> CodergenCall:
        """The call with its thread history filled in from the book."""
        if not call.history_turns or call.history:
            return call
        history = self.history(call.stream, call.thread_key, call.history_turns)
        return CodergenCall(**{**_fields(call), "history": history})


def _fields(call: CodergenCall) -> dict[str, Any]:
    return {name: getattr(call, name) for name in call.__struct_fields__}
