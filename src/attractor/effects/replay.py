"""Effects layer: replay — the recorded log answers every effect and checks every new line.

Rule: in replay nothing touches the world. The driver runs the same decider and reducer; each event
it would append must equal the recorded one (same stream, same encoding — for a log of this
version, the recorded line byte for byte), and each effect's outcome is taken from the log in the
recorded global order. The first difference stops the replay with a `NonDeterminismError` that
says where and what.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path

import msgspec

from attractor.effects._types import (
    Effect,
    EffectCompleted,
    EffectFailed,
    EffectOutcome,
)
from attractor.events import (
    FROM_ENV,
    GENESIS,
    Emit,
    Entry,
    KeyArg,
    LineCodec,
    LogReader,
    derive_key,
)


class ReplayEnded(Exception):
    """The recording has no more lines: the replay reproduced all of it."""


class NonDeterminismError(Exception):
    """The replayed run did something other than the recorded one.

    Attributes:
        seq: the seq of the first line that differs.
        stream: the stream of the recorded line there (or of the produced one).
        expected: the recorded event as JSON ("" when the recording had ended).
        actual: what the replay produced there, as JSON ("" when it produced nothing).
    """

    def __init__(self, seq: int, stream: str, expected: str, actual: str) -> None:
        self.seq, self.stream, self.expected, self.actual = seq, stream, expected, actual
        super().__init__(self.render())

    def render(self) -> str:
        """A readable report: where, then expected vs actual, field by field when both exist."""
        lines = [f"non-determinism at seq {self.seq} (stream {self.stream}):"]
        exp, act = _fields(self.expected), _fields(self.actual)
        if exp is not None and act is not None:
            for key in sorted(set(exp) | set(act), key=lambda k: (k != "type", k)):
                if exp.get(key) != act.get(key):
                    lines.append(f"  {key}: expected {_show(exp.get(key))}")
                    lines.append(f"  {' ' * len(key)}  actual   {_show(act.get(key))}")
        lines.append(f"  recorded: {self.expected or '(the recording ends here)'}")
        lines.append(f"  replayed: {self.actual or '(nothing: the replay stopped or waited)'}")
        return "\n".join(lines)


def _fields(text: str) -> dict[str, object] | None:
    if not text:
        return None
    value = json.loads(text)
    return value if isinstance(value, dict) else None


def _show(value: object) -> str:
    text = json.dumps(value) if value is not None else "(absent)"
    return text if len(text) <= 200 else text[:197] + "..."


class Recording:
    """A cursor over a recorded log: entries and their exact bytes, read lazily in order."""

    def __init__(
        self,
        entries: Iterator[Entry],
        lines: Iterator[bytes],
        until: int | None,
        key: bytes | None = None,
    ) -> None:
        pairs = zip(entries, lines, strict=False)
        self._pairs = islice(pairs, until) if until is not None else pairs
        self._head: tuple[Entry, bytes] | None = None
        self.consumed = 0
        self.key = key  # the derived log key the recording is chained with (None: plain hashes)

    @classmethod
    def from_file(
        cls, path: str | Path, until: int | None = None, *, key: KeyArg = FROM_ENV
    ) -> Recording:
        """Replay the log at `path` (up to and including seq `until`), checked with the log key
        the environment configures (or `key`)."""
        reader = LogReader(path, key=key)
        return cls(iter(reader), reader.raw_lines(), until, reader.key)

    @classmethod
    def from_lines(
        cls, lines: Sequence[bytes], until: int | None = None, *, key: bytes | None = None
    ) -> Recording:
        """Replay lines held in memory (tests, the HTTP server); `key` is the raw log key."""
        derived = derive_key(key) if key is not None else None
        codec, prev, entries = LineCodec("<memory>", derived), GENESIS, []
        for n, line in enumerate(lines, start=1):
            entry = codec.decode(line, n, prev)
            prev = entry.hash
            entries.append(entry)
        return cls(iter(entries), iter(lines), until, derived)

    def peek(self) -> tuple[Entry, bytes] | None:
        """The next recorded line, without consuming it."""
        if self._head is None:
            self._head = next(self._pairs, None)
        return self._head

    def take(self) -> tuple[Entry, bytes]:
        """Consume the next recorded line; `ReplayEnded` when there is none."""
        head = self.peek()
        if head is None:
            raise ReplayEnded
        self._head = None
        self.consumed += 1
        return head


class ReplayStore:
    """A store that writes nothing: every append must reproduce the next recorded event.

    An event matches when its stream and its encoding equal the recorded event's encoding by the
    current code. For a log written by this version that is the recorded line byte for byte;
    for an older log it tolerates what schema evolution allows (defaulted new fields, upcasts).
    `identical` counts the lines reproduced byte for byte, `reencoded` the others.
    """

    def __init__(self, recording: Recording, name: str = "<replay>") -> None:
        self.name = name
        self._rec = recording
        self._codec = LineCodec(name, recording.key)
        self._prev = GENESIS
        self.identical = 0
        self.reencoded = 0

    def entries(self) -> Iterator[Entry]:
        """A replay starts from nothing; the recording is consumed as the run proceeds."""
        return iter(())

    def append(self, items: Sequence[Emit]) -> list[Entry]:
        """Check each item against the recording; return the entries matched.

        When the recording ends inside a batch, the entries matched so far are returned (so the
        driver folds them) and the next append raises `ReplayEnded`.
        """
        out: list[Entry] = []
        for stream, event in items:
            head = self._rec.peek()
            if head is None:
                if out:
                    return out
                raise ReplayEnded
            rec, raw = head
            actual = self._codec.encode_event(event)
            expected = self._codec.encode_event(rec.event)
            if actual != expected or stream != rec.stream:
                a, e = actual.decode(), expected.decode()
                if rec.stream != stream:
                    a = a[:-1] + f',"stream":{json.dumps(stream)}}}'
                    e = e[:-1] + f',"stream":{json.dumps(rec.stream)}}}'
                raise NonDeterminismError(rec.seq, rec.stream, e, a)
            line, digest = self._codec.encode(rec.seq, rec.at, stream, event, self._prev)
            if line == raw:
                self.identical += 1
            else:
                self.reencoded += 1
            self._rec.take()
            self._prev = digest
            out.append(Entry(seq=rec.seq, at=rec.at, stream=stream, event=event, hash=digest))
        return out

    def close(self) -> None:
        """Nothing to release."""


class ReplayInterpreter:
    """Answers effects from the recording, in the recorded global order."""

    def __init__(self, recording: Recording) -> None:
        self._rec = recording
        self._started: dict[str, Effect] = {}
        self.performed: list[str] = []

    def start(self, effect_id: str, request: Effect) -> None:
        """Note the request; its outcome will come from the recording."""
        self._started[effect_id] = request

    def busy(self) -> bool:
        """Whether started effects await their recorded outcome."""
        return bool(self._started)

    async def next_result(self) -> tuple[str, EffectOutcome]:
        """The outcome the recording holds next; the next recorded line must be one."""
        head = self._rec.peek()
        if head is None:
            raise ReplayEnded
        rec, _ = head
        event = rec.event
        if isinstance(event, EffectCompleted | EffectFailed) and event.effect_id in self._started:
            del self._started[event.effect_id]
            outcome: EffectOutcome = (
                event.result if isinstance(event, EffectCompleted) else event.error
            )
            return event.effect_id, outcome
        expected = msgspec.json.encode(event).decode()
        waiting = ", ".join(sorted(self._started))
        raise NonDeterminismError(
            rec.seq, rec.stream, expected, f'{{"waiting_for_effects":"{waiting}"}}'
        )

    async def aclose(self) -> None:
        """Nothing runs in replay."""
        self._started.clear()
