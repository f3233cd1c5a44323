"""Tests for the retry policy: backoff, jitter, Retry-After, retryability, stream rules."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from attractor.llm import errors as e
from attractor.llm.retry import RetryPolicy, backoff_delay, retry, retry_delay, retry_stream
from attractor.llm.types import StreamEvent, StreamEventType
from attractor.testing.scripted_llm import events_from_response, text_response

pytestmark = pytest.mark.anyio

NO_JITTER = RetryPolicy(jitter=False)


def _rate(retry_after: float | None = None) -> e.RateLimitError:
    return e.RateLimitError("slow", provider="p", status_code=429, retry_after=retry_after)


@pytest.mark.parametrize(("attempt", "delay"), [(0, 1.0), (1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0)])
def test_exponential_backoff(attempt: int, delay: float) -> None:
    """Delays double per attempt from base_delay (spec §6.6 table)."""
    assert backoff_delay(NO_JITTER, attempt, 0.0) == delay


def test_backoff_is_capped_at_max_delay() -> None:
    """The computed delay never exceeds max_delay before jitter."""
    assert backoff_delay(NO_JITTER, 20, 0.0) == 60.0


def test_jitter_spans_half_to_one_and_a_half() -> None:
    """Jitter multiplies by 0.5 + rand, i.e. [0.5, 1.5)."""
    policy = RetryPolicy()
    assert backoff_delay(policy, 1, 0.0) == 1.0
    assert backoff_delay(policy, 1, 0.999) == pytest.approx(2.998)


def test_retry_after_replaces_backoff_when_below_max() -> None:
    """A Retry-After within max_delay is used as the delay."""
    assert retry_delay(NO_JITTER, _rate(5.0), 0, 0.0) == 5.0


def test_retry_after_above_max_gives_up() -> None:
    """A Retry-After above max_delay means no retry."""
    assert retry_delay(NO_JITTER, _rate(120.0), 0, 0.0) is None


def test_non_retryable_errors_are_not_retried() -> None:
    """401/403/404-type errors give no retry."""
    err = e.AuthenticationError("no", provider="p", status_code=401)
    assert retry_delay(NO_JITTER, err, 0, 0.0) is None


def test_should_retry_overrides_flag() -> None:
    """A should_retry predicate can opt timeouts in."""
    policy = RetryPolicy(jitter=False, should_retry=lambda err: True)
    assert retry_delay(policy, e.RequestTimeoutError("t"), 0, 0.0) == 1.0


def test_budget_exhausted_gives_up() -> None:
    """No retry once attempt reaches max_retries."""
    assert retry_delay(NO_JITTER, _rate(), 2, 0.0) is None


class _Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


async def test_retry_retries_until_success() -> None:
    """retry() re-runs transient failures with growing delays and returns the result."""
    sleeps = _Sleeps()
    outcomes: list[Exception | str] = [e.ServerError("x", provider="p"), _rate(), "ok"]

    async def call() -> str:
        item = outcomes.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    assert await retry(call, NO_JITTER, sleep=sleeps) == "ok"
    assert sleeps.delays == [1.0, 2.0]


async def test_retry_zero_disables() -> None:
    """max_retries=0 raises the first error."""
    calls = 0

    async def call() -> None:
        nonlocal calls
        calls += 1
        raise e.ServerError("x", provider="p")

    with pytest.raises(e.ServerError):
        await retry(call, RetryPolicy(max_retries=0), sleep=_Sleeps())
    assert calls == 1


async def test_retry_raises_at_once_when_retry_after_too_long() -> None:
    """Retry-After above max_delay raises immediately with retry_after set."""
    sleeps = _Sleeps()

    async def call() -> None:
        raise _rate(600.0)

    with pytest.raises(e.RateLimitError) as info:
        await retry(call, NO_JITTER, sleep=sleeps)
    assert info.value.retry_after == 600.0
    assert sleeps.delays == []


async def test_retry_calls_on_retry_hook() -> None:
    """on_retry sees (error, attempt, delay) before each sleep."""
    seen: list[tuple[str, int, float]] = []
    policy = RetryPolicy(jitter=False, on_retry=lambda err, n, d: seen.append((err.message, n, d)))
    outcomes: list[Exception | str] = [e.NetworkError("down"), "ok"]

    async def call() -> str:
        item = outcomes.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    await retry(call, policy, sleep=_Sleeps())
    assert seen == [("down", 0, 1.0)]


def _events(*items: StreamEvent | Exception) -> AsyncIterator[StreamEvent]:
    async def gen() -> AsyncIterator[StreamEvent]:
        for item in items:
            await asyncio.sleep(0)
            if isinstance(item, Exception):
                raise item
            yield item

    return gen()


async def test_stream_retried_before_data() -> None:
    """A stream failing before any data is reopened; the held STREAM_START is dropped."""
    good = events_from_response(text_response("hello"))
    opens = [
        _events(StreamEvent(type=StreamEventType.STREAM_START), e.ServerError("x", provider="p")),
        _events(*good),
    ]
    got = [ev async for ev in retry_stream(lambda: opens.pop(0), NO_JITTER, sleep=_Sleeps())]
    assert got == good


async def test_stream_not_retried_after_data() -> None:
    """Once a delta was delivered, the failure reaches the consumer and no retry happens."""
    opens = [
        _events(
            StreamEvent(type=StreamEventType.TEXT_DELTA, delta="hi"),
            e.StreamError("dropped"),
        ),
        _events(*events_from_response(text_response("never"))),
    ]
    got: list[StreamEvent] = []

    async def drain() -> None:
        async for ev in retry_stream(lambda: opens.pop(0), NO_JITTER, sleep=_Sleeps()):
            got.append(ev)

    with pytest.raises(e.StreamError):
        await drain()
    assert [ev.delta for ev in got] == ["hi"]
    assert len(opens) == 1


async def test_stream_leading_error_event_is_retried() -> None:
    """A leading ERROR event (no data yet) counts as a retryable failure."""
    err = e.error_info(e.ServerError("x", provider="p"))
    good = events_from_response(text_response("ok"))
    opens = [_events(StreamEvent(type=StreamEventType.ERROR, error=err)), _events(*good)]
    got = [ev async for ev in retry_stream(lambda: opens.pop(0), NO_JITTER, sleep=_Sleeps())]
    assert got == good
