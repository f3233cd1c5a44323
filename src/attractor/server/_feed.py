"""Server layer (async shell): one feed per watched run — its log followed, folded once, shared.

Rule: a run's log is read once per server, however many clients watch it. `RunFeed` keeps a
`LineIndex` of the log (for SSE, which sends the raw lines), a `RunFold` (state and dashboard
view, for the JSON endpoints and pages), and wakes its waiters when lines arrive. A run this
process drives hands its entries to `observe(entry, state)` with the state the engine folded,
so it is never decoded or folded a second time; any other run (a CLI run, a finished run) is
read from disk, each line checked (seq, hash chain) as `attractor log verify` does.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from contextlib import suppress
from pathlib import Path
from typing import Any

from attractor.effects.deltas import Delta
from attractor.events import FROM_ENV, GENESIS, Entry, LineCodec, LogCorruptError, resolve_key
from attractor.pipeline.events import CheckpointSaved
from attractor.pipeline.reducer import reduce
from attractor.pipeline.state import RunState
from attractor.server._runs import LineIndex, RunSource
from attractor.server._view import RunView

_FOLD_BATCH = 2_000
MAX_IDLE_FEEDS = 256
MAX_QUEUED_DELTAS = 2_000  # per client; a client slower than this loses the oldest deltas


class RunFold:
    """A run's state and dashboard view, each entry folded once."""

    def __init__(self, path: str) -> None:
        self.state = RunState()
        self.view = RunView()
        self.seq = 0
        self.prev = GENESIS
        self.checkpoint: dict[str, Any] = {}
        self.last_at = ""  # the timestamp and type of the last entry folded
        self.last_type = ""
        # a keyed hash chain (ATTRACTOR_LOG_KEY) is checked with the key, as `log verify` does
        self._codec = LineCodec(path, resolve_key(FROM_ENV, Path(path)))

    def apply(self, entry: Entry, state: RunState | None = None) -> None:
        """Take the next entry; `state` is the engine's fold of it when the engine has one."""
        if entry.seq != self.seq + 1:
            raise LogCorruptError(self._codec.path, f"seq {entry.seq} after {self.seq}")
        self.state = state if state is not None else reduce(self.state, entry)
        self.view.apply(entry, self.state)
        self.seq, self.prev = entry.seq, entry.hash
        self.last_at, self.last_type = entry.at, _tag(entry)
        if isinstance(entry.event, CheckpointSaved) and entry.stream == "run":
            self._checkpoint(entry, entry.event)

    def _checkpoint(self, entry: Entry, event: CheckpointSaved) -> None:
        top = self.state.top()
        self.checkpoint = {
            "timestamp": entry.at,
            "current_node": event.node,
            "completed_nodes": list(top.completed) if top else [],
            "node_retries": dict(sorted(top.retries.items())) if top else {},
            "context": dict(sorted(top.context.items())) if top else {},
        }

    def decode(self, line: bytes) -> Entry:
        """Decode and check the next line of the log."""
        return self._codec.decode(line, self.seq + 1, self.prev)


def _tag(entry: Entry) -> str:
    tag = type(entry.event).__struct_config__.tag
    return tag if isinstance(tag, str) else type(entry.event).__name__


class RunFeed:
    """The shared follower of one run's log."""

    def __init__(self, run_id: str, path: Path) -> None:
        self.run_id = run_id
        self.path = path
        self.index = LineIndex(path)
        self.fold = RunFold(str(path))
        self.watchers = 0
        self.driven = False  # this process appends to the log (and calls `observe`)
        self._changed = asyncio.Event()
        self._delta_queues: dict[int, deque[Delta]] = {}  # by id(): a deque is not hashable

    def wake(self) -> None:
        """Wake every waiter (new lines, new deltas, or the drive ended)."""
        self._changed.set()
        self._changed = asyncio.Event()

    def poke(self) -> int:
        """Index what was appended; wake the waiters when something was."""
        added = self.index.refresh()
        if added:
            self.wake()
        return added

    def subscribe_deltas(self) -> deque[Delta]:
        """A queue that receives this run's streamed deltas until `unsubscribe_deltas`."""
        queue: deque[Delta] = deque(maxlen=MAX_QUEUED_DELTAS)
        self._delta_queues[id(queue)] = queue
        return queue

    def unsubscribe_deltas(self, queue: deque[Delta]) -> None:
        """Stop delivering deltas to `queue`."""
        self._delta_queues.pop(id(queue), None)

    def publish_delta(self, delta: Delta) -> None:
        """Hand a delta to every subscribed client (it is not in the log: late clients miss it)."""
        if self._delta_queues:
            for queue in self._delta_queues.values():
                queue.append(delta)
            self.wake()

    def observe(self, entry: Entry, state: RunState) -> None:
        """An entry the engine appended and folded in this process."""
        if entry.seq == self.fold.seq + 1:
            self.fold.apply(entry, state)
        self.poke()

    async def wait(self, timeout: float) -> None:
        """Wait for the next wake-up, at most `timeout` seconds; then look at the log."""
        changed = self._changed
        with suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), timeout)
        self.poke()

    def folded(self) -> RunFold:
        """The fold brought up to date with the log."""
        self.poke()
        fold = self.fold
        while fold.seq < self.index.count:
            last = min(self.index.count, fold.seq + _FOLD_BATCH)
            for line in self.index.lines(fold.seq + 1, last):
                fold.apply(fold.decode(line))
        return fold

    def fold_at(self, seq: int) -> RunFold:
        """A fresh fold of the first `seq` entries (time travel); the live fold is untouched."""
        self.poke()
        fold = RunFold(str(self.path))
        last = min(seq, self.index.count)
        while fold.seq < last:
            stop = min(last, fold.seq + _FOLD_BATCH)
            for line in self.index.lines(fold.seq + 1, stop):
                fold.apply(fold.decode(line))
        return fold


class FeedHub:
    """Every feed of this server, created on first use; idle ones beyond a bound are dropped
    (least recently used first) and rebuilt from the log when asked for again."""

    def __init__(self, source: RunSource) -> None:
        self.source = source
        self._feeds: OrderedDict[str, RunFeed] = OrderedDict()

    def feed(self, run_id: str) -> RunFeed:
        """The feed of `run_id` (`BadRunIdError`, `UnknownRunError`)."""
        found = self._feeds.get(run_id)
        if found is None:
            found = RunFeed(run_id, self.source.log_path(run_id))
            self._feeds[run_id] = found
            self._evict()
        else:
            self._feeds.move_to_end(run_id)
        return found

    def feeds(self) -> list[RunFeed]:
        """Every feed alive now."""
        return list(self._feeds.values())

    def _evict(self) -> None:
        idle = [k for k, f in self._feeds.items() if not f.watchers and not f.driven]
        for run_id in idle[: max(0, len(idle) - MAX_IDLE_FEEDS)]:
            del self._feeds[run_id]
