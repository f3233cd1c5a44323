"""Effects layer: a fake interpreter for tests — deterministic clock, ids and randomness, and
scripted answers for everything else, still run as concurrent tasks like the live one.

Rule: fakes behave like the world, only predictably. Every effect performed is counted by id, so
tests can prove that no completed effect is ever performed twice.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from attractor.effects._types import (
    ClockRead,
    DrawRandom,
    Effect,
    EffectError,
    EffectOutcome,
    IdMade,
    NewId,
    RandomDrawn,
    ReadClock,
    Sleep,
    Slept,
)
from attractor.effects.interpreter import TaskInterpreter

Responder = Callable[[Any], EffectOutcome]

_EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


class FakeInterpreter(TaskInterpreter):
    """Answers effects without touching the world.

    Args:
        responders: by request type, a function from the request to its outcome; they win over
            the built-in clock/id/random/sleep answers.
        seed: makes `DrawRandom` answers a fixed sequence.
        delay_s: optional per-request-type delay, to exercise concurrency.
    """

    def __init__(
        self,
        responders: Mapping[type[Any], Responder] | None = None,
        *,
        seed: int = 0,
        delay_s: Mapping[type[Any], float] | None = None,
    ) -> None:
        super().__init__()
        self.responders = dict(responders or {})
        self.delay_s = dict(delay_s or {})
        self.counts: Counter[str] = Counter()
        self._ticks = 0
        self._ids = 0
        self._state = seed * 2654435761 % 2**32 or 1

    def start(self, effect_id: str, request: Effect) -> None:
        """Count, then start like the live interpreter."""
        self.counts[effect_id] += 1
        super().start(effect_id, request)

    async def perform(self, request: Effect) -> EffectOutcome:
        """Answer from the responders, else the deterministic built-ins."""
        delay = self.delay_s.get(type(request))
        if delay:
            await asyncio.sleep(delay)
        responder = self.responders.get(type(request))
        if responder is not None:
            return responder(request)
        match request:
            case ReadClock():
                self._ticks += 1
                ms = _EPOCH_MS + self._ticks * 1000
                return ClockRead(unix_ms=ms, iso=_iso(ms))
            case NewId(prefix=prefix):
                self._ids += 1
                return IdMade(id=f"{prefix}{self._ids:032x}")
            case DrawRandom(low=low, high=high):
                return RandomDrawn(value=low + (high - low) * self._next_unit())
            case Sleep(ms=ms):
                return Slept(ms=ms)
            case _:
                return EffectError(
                    kind="unsupported", message=f"no fake responder for {type(request).__name__}"
                )

    def _next_unit(self) -> float:
        # xorshift32: a tiny deterministic generator, no `random` module in fakes
        x = self._state
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self._state = x
        return x / 2**32


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
