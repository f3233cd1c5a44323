"""Reusable driver for the stateless-runtime guardrail (REQ-SP2-002).

`drive_runtimes` sends many interleaved calls through one Client — complete and stream,
explicit `runtime=` and ambient `use_runtime`, round-robin over runtimes and providers — and
returns who asked what and what came back. The in-process test checks the scripted adapter's
records; the HTTP adapter tests can reuse it against the fake provider server and check the
server's recorded requests instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from attractor.llm.client import Client
from attractor.llm.runtime import Runtime, use_runtime
from attractor.llm.types import Message, Request, Response


@dataclass(frozen=True)
class Outcome:
    """One guardrail call: the runtime and provider used, the call index and the response."""

    runtime: Runtime
    provider: str
    index: int
    response: Response


async def _one(client: Client, rt: Runtime, provider: str, i: int, model: str) -> Outcome:
    req = Request(model=model, messages=(Message.user(f"call {i}"),), provider=provider)
    ambient = i % 3 == 0
    if i % 4 < 2:
        if ambient:
            with use_runtime(rt):
                response = await client.complete(req)
        else:
            response = await client.complete(req, runtime=rt)
        return Outcome(rt, provider, i, response)
    if ambient:
        with use_runtime(rt):
            events = client.stream(req)
    else:
        events = client.stream(req, runtime=rt)
    final = [ev async for ev in events][-1]
    if final.response is None:
        raise AssertionError(f"call {i}: stream ended with {final.type}, not FINISH")
    return Outcome(rt, provider, i, final.response)


async def drive_runtimes(
    client: Client,
    runtimes: Sequence[Runtime],
    providers: Sequence[str],
    calls: int,
    *,
    model: str = "m",
    concurrency: int | None = None,
) -> list[Outcome]:
    """Run `calls` interleaved calls; call i uses runtime i % len(runtimes), provider i % len."""
    gate = asyncio.Semaphore(concurrency or calls)

    async def bounded(i: int) -> Outcome:
        async with gate:
            rt = runtimes[i % len(runtimes)]
            provider = providers[(i // len(runtimes)) % len(providers)]
            return await _one(client, rt, provider, i, model)

    return list(await asyncio.gather(*(bounded(i) for i in range(calls))))
