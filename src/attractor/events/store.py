"""Events layer: the `Store` interface and an in-memory store.

Rule: the core never knows which store it writes to. A store assigns the envelope (seq, time,
hash) at append and hands back `Entry` values; `entries()` yields them again in order.
The JSONL file log (`attractor.events.log`) is the embedded default; PostgreSQL comes later.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from attractor.events._codec import GENESIS, Entry, LineCodec, check_stream
from attractor.events._event import Event

Emit = tuple[str, Event]
"""An event to append and the stream it belongs to."""


class Store(Protocol):
    """An append-only, gap-free, hash-chained sequence of entries."""

    name: str

    def entries(self) -> Iterator[Entry]:
        """Every entry from seq 1, in order."""
        ...

    def append(self, items: Sequence[Emit]) -> list[Entry]:
        """Append durably (per the store's policy) and return the entries with their envelopes."""
        ...

    def close(self) -> None:
        """Release the store (locks, files)."""
        ...


class MemoryStore:
    """A store in a list: for tests, replays and forks that never touch the disk."""

    def __init__(self, clock: Callable[[], str], name: str = "<memory>") -> None:
        self.name = name
        self._clock = clock
        self._codec = LineCodec(name)
        self._entries: list[Entry] = []
        self.lines: list[bytes] = []

    def entries(self) -> Iterator[Entry]:
        """Every entry appended so far."""
        return iter(list(self._entries))

    def append(self, items: Sequence[Emit]) -> list[Entry]:
        """Append in memory; returns the new entries."""
        out: list[Entry] = []
        for stream, event in items:
            prev = self._entries[-1].hash if self._entries else GENESIS
            seq = len(self._entries) + 1
            at = self._clock()
            line, digest = self._codec.encode(seq, at, check_stream(stream), event, prev)
            entry = Entry(seq=seq, at=at, stream=stream, event=event, hash=digest)
            self._entries.append(entry)
            self.lines.append(line)
            out.append(entry)
        return out

    def close(self) -> None:
        """Nothing to release."""
