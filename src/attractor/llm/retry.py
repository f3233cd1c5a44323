"""Retry policy (spec §6.6): exponential backoff with jitter, Retry-After, stream rules.

Layer: llm. Rule: the *decision* (`backoff_delay`, `retry_delay`) is pure and takes its random
number as an argument; only `retry()` and `retry_stream()` sleep, and they take `sleep` and
`rand` as parameters so tests (and replay) control time and chance.

- A Retry-After below `max_delay` replaces the computed backoff; above it, the error is raised
  at once with `retry_after` set.
- Streams are retried only while nothing but STREAM_START has been produced; once data was
  delivered the error goes to the consumer.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from attractor.llm.errors import SDKError
from attractor.llm.types import StreamEvent, StreamEventType

__all__ = ["RetryPolicy", "backoff_delay", "retry", "retry_delay", "retry_stream"]

T = TypeVar("T")

OnRetry = Callable[[SDKError, int, float], None]
ShouldRetry = Callable[[SDKError], bool]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How to retry transient failures.

    Attributes:
        max_retries: Retries after the first attempt (0 disables retrying).
        base_delay: Delay before the first retry, in seconds.
        max_delay: Cap on any single delay; a larger Retry-After aborts retrying.
        backoff_multiplier: Growth factor per attempt.
        jitter: Multiply each delay by a random factor in [0.5, 1.5).
        on_retry: Called with (error, attempt, delay) before each retry sleep.
        should_retry: Overrides the errors' own `retryable` flag (e.g. to retry timeouts).
    """

    max_retries: int = 2
    base_delay: float = 1.0
    max_delay: float = 60.0
    backoff_multiplier: float = 2.0
    jitter: bool = True
    on_retry: OnRetry | None = None
    should_retry: ShouldRetry | None = None


def backoff_delay(policy: RetryPolicy, attempt: int, rand: float) -> float:
    """Backoff for 0-based `attempt`: min(base * mult**n, max), times 0.5 + rand with jitter."""
    delay = min(policy.base_delay * policy.backoff_multiplier**attempt, policy.max_delay)
    return delay * (0.5 + rand) if policy.jitter else delay


def retry_delay(
    policy: RetryPolicy, error: BaseException, attempt: int, rand: float
) -> float | None:
    """Seconds to wait before retrying after `error` on 0-based `attempt`, or None to give up."""
    if not isinstance(error, SDKError) or attempt >= policy.max_retries:
        return None
    allowed = policy.should_retry(error) if policy.should_retry else error.retryable
    if not allowed:
        return None
    retry_after = getattr(error, "retry_after", None)
    if isinstance(retry_after, int | float):
        return float(retry_after) if retry_after <= policy.max_delay else None
    return backoff_delay(policy, attempt, rand)


async def retry(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy | None = None,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rand: Callable[[], float] = random.random,
) -> T:
    """Run `call`, retrying transient SDK errors per `policy`; the last error is re-raised."""
    policy = policy or RetryPolicy()
    attempt = 0
    while True:
        try:
            return await call()
        except SDKError as exc:
            delay = retry_delay(policy, exc, attempt, rand())
            if delay is None:
                raise
            if policy.on_retry is not None:
                policy.on_retry(exc, attempt, delay)
            await sleep(delay)
            attempt += 1


async def retry_stream(
    open_stream: Callable[[], AsyncIterator[StreamEvent]],
    policy: RetryPolicy | None = None,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rand: Callable[[], float] = random.random,
) -> AsyncGenerator[StreamEvent, None]:
    """Yield the events of `open_stream()`, reopening it on transient failures before data.

    A failure (raised SDKError or a leading ERROR event) is retried only while the stream has
    produced nothing but STREAM_START; the held STREAM_START is then discarded.
    """
    policy = policy or RetryPolicy()
    attempt = 0
    while True:
        failure: SDKError | None = None
        held: StreamEvent | None = None
        delivered = False
        stream = open_stream()
        try:
            async for event in stream:
                if not delivered and event.type == StreamEventType.STREAM_START:
                    held = event
                    continue
                if not delivered and event.type == StreamEventType.ERROR and event.error:
                    failure = event.error.to_exception()
                    break
                if held is not None:
                    yield held
                    held = None
                delivered = True
                yield event
        except SDKError as exc:
            if delivered:
                raise
            failure = exc
        finally:
            await _close(stream)
        if failure is None:
            if held is not None:
                yield held
            return
        delay = retry_delay(policy, failure, attempt, rand())
        if delay is None:
            raise failure
        if policy.on_retry is not None:
            policy.on_retry(failure, attempt, delay)
        await sleep(delay)
        attempt += 1


async def _close(stream: AsyncIterator[StreamEvent]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()
