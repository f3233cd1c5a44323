"""Effects layer (async shell): the interpreter interface and the task-based base class.

Rule: an interpreter is handed requests (`start`) and hands back outcomes one at a time
(`next_result`). The driver appends each outcome to the log before the core sees it. Whether the
outcome comes from the world (live), a script (fake) or the recorded log (replay) is the
interpreter's business alone.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from typing import Protocol

from attractor.effects._types import Effect, EffectError, EffectOutcome
from attractor.effects.paths import PathEscapeError
from attractor.events import RecordingError

FATAL: tuple[type[Exception], ...] = (RecordingError, PathEscapeError)
"""What stops the run instead of becoming an effect's failure: the run cannot be recorded, or
the log asked for a path outside its run directory."""


class Interpreter(Protocol):
    """Carries out effect requests and yields their outcomes."""

    def start(self, effect_id: str, request: Effect) -> None:
        """Begin carrying out `request`."""
        ...

    def busy(self) -> bool:
        """Whether any started effect has not been handed back yet."""
        ...

    async def next_result(self) -> tuple[str, EffectOutcome]:
        """Wait for the next finished effect: its id and outcome."""
        ...

    async def aclose(self) -> None:
        """Cancel whatever is still running."""
        ...


class TaskInterpreter(ABC):
    """Runs each effect as an asyncio task; subclasses implement `perform`.

    When several effects finish together, the one with the smallest id is handed back first,
    so a run's log order does not depend on set iteration order.
    """

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[EffectOutcome]] = {}
        self.performed: list[str] = []

    @abstractmethod
    async def perform(self, request: Effect) -> EffectOutcome:
        """Carry out one request. Expected failures are returned as `EffectError`, not raised."""

    def start(self, effect_id: str, request: Effect) -> None:
        """Begin `request` as a task."""
        self.performed.append(effect_id)
        self._tasks[effect_id] = asyncio.ensure_future(self._guarded(request))

    def finish(self, outcome: EffectOutcome) -> EffectOutcome:
        """The last look at an outcome before it is handed back (the live one scrubs secrets)."""
        return outcome

    async def _guarded(self, request: Effect) -> EffectOutcome:
        try:
            return await self.perform(request)
        except asyncio.CancelledError:
            raise
        except FATAL:
            raise
        except Exception as exc:  # a performer bug must not kill the run: it becomes data
            return self.finish(EffectError(kind="error", message=f"{type(exc).__name__}: {exc}"))

    def busy(self) -> bool:
        """Whether tasks are pending."""
        return bool(self._tasks)

    async def next_result(self) -> tuple[str, EffectOutcome]:
        """The next finished task's id and outcome."""
        done = [eid for eid, t in self._tasks.items() if t.done()]
        if not done:
            await asyncio.wait(self._tasks.values(), return_when=asyncio.FIRST_COMPLETED)
            done = [eid for eid, t in self._tasks.items() if t.done()]
        eid = min(done)
        return eid, self._tasks.pop(eid).result()

    async def aclose(self) -> None:
        """Cancel running tasks and wait for them to unwind."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
