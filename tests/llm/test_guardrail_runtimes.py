"""Stateless-provider guardrail: many runtimes share one Client and never see each other.

Eight or more runtimes, each with its own keys and base URLs for two providers, run well over a
thousand interleaved calls (complete and stream, explicit and ambient runtime) through one
Client. Every request the adapters saw must carry its own runtime's key and base URL, and every
answer must reach the runtime that asked.
"""

import asyncio
import random
from collections.abc import AsyncIterator

import pytest

from attractor.llm.client import Client, Middleware, NextComplete, NextStream
from attractor.llm.runtime import CallContext, ProviderConfig, Runtime, Secret
from attractor.llm.types import Request, Response, StreamEvent
from attractor.testing.scripted_llm import ScriptedAdapter, text_response
from tests.llm.guardrail import drive_runtimes

pytestmark = pytest.mark.anyio

RUNTIMES = 10
CALLS = 1200
PROVIDERS = ("alpha", "beta")


def _runtime(n: int) -> Runtime:
    configs = {
        p: ProviderConfig(
            api_key=Secret(f"sk-{p}-{n}"),
            base_url=f"http://127.0.0.1:{10000 + 10 * n + i}/v1",
            headers=(("x-runtime", str(n)),),
        )
        for i, p in enumerate(PROVIDERS)
    }
    return Runtime.of(f"runtime-{n}", configs)


async def _echo(req: Request, ctx: CallContext) -> Response:
    await asyncio.sleep(random.random() / 1000)
    return text_response(f"{ctx.runtime_id}|{ctx.api_key()}|{ctx.config.base_url}")


class _Yielding(Middleware):
    """Forces task switches inside the middleware chain to shake out shared state."""

    async def complete(self, request: Request, call_next: NextComplete) -> Response:
        await asyncio.sleep(0)
        return await call_next(request)

    async def _wrap(self, request: Request, call_next: NextStream) -> AsyncIterator[StreamEvent]:
        async for event in call_next(request):
            await asyncio.sleep(0)
            yield event

    def stream(self, request: Request, call_next: NextStream) -> AsyncIterator[StreamEvent]:
        return self._wrap(request, call_next)


def _expected(rt: Runtime, provider: str) -> str:
    config = rt.config_for(provider)
    assert config is not None
    assert config.api_key is not None
    return f"{rt.id}|{config.api_key.reveal()}|{config.base_url}"


async def test_runtimes_never_leak_into_each_other() -> None:
    """1,200 concurrent calls over 10 runtimes: each request carries only its runtime's settings."""
    await _check(RUNTIMES, CALLS)


@pytest.mark.slow
async def test_runtimes_never_leak_under_heavy_load() -> None:
    """10,000 concurrent calls over 16 runtimes (slow variant of the guardrail)."""
    await _check(16, 10_000)


async def _check(n_runtimes: int, n_calls: int) -> None:
    adapters = {p: ScriptedAdapter(name=p, responder=_echo, chunk_size=7) for p in PROVIDERS}
    client = Client(adapters, default_provider="alpha", middleware=[_Yielding(), _Yielding()])
    runtimes = [_runtime(n) for n in range(n_runtimes)]
    outcomes = await drive_runtimes(client, runtimes, PROVIDERS, n_calls)

    for outcome in outcomes:
        assert outcome.response.text == _expected(outcome.runtime, outcome.provider)
    by_id = {rt.id: rt for rt in runtimes}
    seen = 0
    for provider, adapter in adapters.items():
        for call in adapter.calls:
            config = by_id[call.runtime_id].config_for(provider)
            assert config is not None
            assert config.api_key is not None
            assert call.api_key == config.api_key.reveal()
            assert call.base_url == config.base_url
            assert call.headers == config.headers
            seen += 1
    assert seen == n_calls
    await client.close()
