"""Concurrent clients: async SDKs work, and records keep each request's own key."""

from __future__ import annotations

import asyncio

import anthropic
import httpx
import openai

from attractor.testing.fake_providers import FakeProviderServer, Step


def test_async_sdks_stream_against_the_fake(play):
    """AsyncOpenAI and AsyncAnthropic stream from the fake concurrently."""
    server = play(Step(text="async hello", repeat=True))

    async def run() -> tuple[str, str]:
        async with (
            openai.AsyncOpenAI(
                base_url=server.base_url("openai"), api_key="k", max_retries=0
            ) as oa,
            anthropic.AsyncAnthropic(base_url=server.base_url("anthropic"), api_key="k") as an,
        ):

            async def responses() -> str:
                stream = await oa.responses.create(model="m", input="hi", stream=True)
                return "".join(
                    [e.delta async for e in stream if e.type == "response.output_text.delta"]
                )

            async def messages() -> str:
                async with an.messages.stream(
                    model="m", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
                ) as s:
                    return await s.get_final_text()

            first, second = await asyncio.gather(responses(), messages())
            return first, second

    assert asyncio.run(run()) == ("async hello", "async hello")


def test_records_keep_each_runtime_key_under_concurrency(play):
    """Eight keys, 40 calls each, concurrent calls: every record carries the key its sender used."""
    server: FakeProviderServer = play()
    keys = [f"sk-runtime-{index}" for index in range(8)]

    async def call(client: httpx.AsyncClient, key: str, index: int) -> None:
        body = {"model": "m", "input": f"{key}#{index}"}
        response = await client.post(
            server.base_url("openai") + "/responses",
            json=body,
            headers={"authorization": f"Bearer {key}"},
        )
        response.raise_for_status()

    async def run() -> None:
        limits = httpx.Limits(max_connections=32)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            await asyncio.gather(*(call(client, key, i) for key in keys for i in range(40)))

    asyncio.run(run())
    records = server.requests
    assert len(records) == 320
    for record in records:
        sender = record.body["input"].split("#")[0]
        assert record.has_api_key(sender)
