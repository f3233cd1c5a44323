"""Cancellation and timeouts for the high-level API (spec §4.7).

Layer: llm (shell). Rule: cancellation is cooperative and explicit — an `AbortController`
(which may be triggered from any thread) and the `TimeoutConfig` limits both end up in
`guarded()`, which races one awaitable against the signal and the deadline and turns the loser
into `AbortError` or `RequestTimeoutError`; the cancelled work is awaited, never leaked.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from attractor.llm.errors import AbortError, RequestTimeoutError

__all__ = ["AbortController", "AbortSignal", "Deadline", "TimeoutConfig", "guarded"]

T = TypeVar("T")


class AbortSignal:
    """Observed side of an abort: `aborted`, `reason`, `wait()`; set by its AbortController."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._aborted = False
        self._reason: str | None = None
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    @property
    def aborted(self) -> bool:
        """True once abort() was called."""
        return self._aborted

    @property
    def reason(self) -> str | None:
        """The reason given to abort(), if any."""
        return self._reason

    def throw_if_aborted(self) -> None:
        """Raise AbortError when the signal has fired."""
        if self._aborted:
            raise AbortError(f"operation aborted: {self._reason or 'abort() was called'}")

    async def wait(self) -> None:
        """Return once the signal fires."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self._aborted:
                return
            self._waiters.append((loop, future))
        try:
            await future
        finally:
            with self._lock:
                if (loop, future) in self._waiters:
                    self._waiters.remove((loop, future))

    def _fire(self, reason: str | None) -> None:
        with self._lock:
            if self._aborted:
                return
            self._aborted, self._reason = True, reason
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class AbortController:
    """Owner of an AbortSignal; `abort()` is safe from any thread or task."""

    def __init__(self) -> None:
        self.signal = AbortSignal()

    def abort(self, reason: str | None = None) -> None:
        """Fire the signal; operations observing it raise AbortError."""
        self.signal._fire(reason)


@dataclass(frozen=True, slots=True)
class TimeoutConfig:
    """High-level limits in seconds: `total` for the whole operation, `per_step` per LLM call."""

    total: float | None = None
    per_step: float | None = None

    @classmethod
    def of(cls, value: float | TimeoutConfig | None) -> TimeoutConfig:
        """Normalise a number (a total timeout), a TimeoutConfig or None."""
        if isinstance(value, TimeoutConfig):
            return value
        return cls(total=float(value)) if value is not None else cls()


class Deadline:
    """The total-timeout clock of one operation (monotonic loop time)."""

    def __init__(self, config: TimeoutConfig) -> None:
        self.config = config
        loop = asyncio.get_running_loop()
        self._end = loop.time() + config.total if config.total is not None else None

    def remaining(self) -> float | None:
        """Seconds left of the total budget, or None when unlimited."""
        if self._end is None:
            return None
        return self._end - asyncio.get_running_loop().time()

    def step_budget(self) -> tuple[float | None, str]:
        """(seconds, label) for the next step: the tighter of per-step and remaining total."""
        remaining = self.remaining()
        per_step = self.config.per_step
        if remaining is not None and (per_step is None or remaining <= per_step):
            return max(remaining, 0.0), f"total timeout of {self.config.total}s"
        if per_step is not None:
            return per_step, f"per-step timeout of {per_step}s"
        return None, ""


async def guarded(
    work: Awaitable[T],
    *,
    signal: AbortSignal | None = None,
    timeout: float | None = None,
    label: str = "timeout",
) -> T:
    """Await `work` unless the abort signal fires or `timeout` seconds pass first.

    Raises:
        AbortError: the signal fired (the work is cancelled and awaited).
        RequestTimeoutError: the timeout passed (likewise), naming `label`.
    """
    if signal is None and timeout is None:
        return await work
    if signal is not None and signal.aborted:
        _close_unstarted(work)
        signal.throw_if_aborted()
    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(signal.wait()) if signal is not None else None
    pending = {task} if waiter is None else {task, waiter}
    try:
        done, _ = await asyncio.wait(pending, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if waiter is not None:
            waiter.cancel()
    if task in done:
        return task.result()
    await _cancel(task)
    if signal is not None and signal.aborted:
        signal.throw_if_aborted()
    raise RequestTimeoutError(f"{label} exceeded")


def _close_unstarted(work: Awaitable[object]) -> None:
    close = getattr(work, "close", None)
    if callable(close):
        close()


async def _cancel(task: asyncio.Future[T]) -> None:
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise
    except Exception:  # the work lost the race; its own failure no longer matters
        pass
