"""Concurrent clients: async SDKs work, and records keep each request's own key."""

from __future__ import annotations

import asyncio
import threading

import anthropic
import httpx
import openai
import pytest
from google import genai
from google.genai import types as genai_types

from attractor.testing.fake_providers import FakeProviderServer, Scenario, Step


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
    """Eight keys, 12 calls each, concurrently: every record carries the key its sender used."""
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
        limits = httpx.Limits(max_connections=16)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            await asyncio.gather(*(call(client, key, i) for key in keys for i in range(12)))

    asyncio.run(run())
    records = server.requests
    assert len(records) == 96
    for record in records:
        sender = record.body["input"].split("#")[0]
        assert record.has_api_key(sender)


@pytest.mark.slow
def test_two_thousand_concurrent_calls_leave_nothing_behind():
    """2,000 calls from 8 keys over 64 connections: all answered, no crash, no thread left."""
    before = threading.active_count()
    keys = [f"sk-stress-{index}" for index in range(8)]
    with FakeProviderServer(Scenario(fallback=Step(text="ok", deltas=2, repeat=True))) as server:

        async def call(client: httpx.AsyncClient, key: str, index: int) -> None:
            body = {"model": "m", "input": f"{key}#{index}", "stream": index % 2 == 0}
            url = server.base_url("openai") + "/responses"
            response = await client.post(url, json=body, headers={"authorization": f"Bearer {key}"})
            response.raise_for_status()

        async def run() -> None:
            limits = httpx.Limits(max_connections=64)
            async with httpx.AsyncClient(limits=limits, timeout=60) as client:
                await asyncio.gather(*(call(client, k, i) for k in keys for i in range(250)))

        asyncio.run(run())
        records = server.requests
        assert server.internal_errors == ()
    assert len(records) == 2_000
    assert all(r.has_api_key(r.body["input"].split("#")[0]) for r in records)
    assert threading.active_count() == before


def test_async_gemini_client_streams_against_the_fake(play, server):
    """google-genai's async client parses plain and streamed answers."""
    play(Step(text="aio ok", deltas=2, repeat=True))

    async def run() -> tuple[str | None, list[str | None]]:
        options = genai_types.HttpOptions(base_url=server.base_url("gemini"))
        client = genai.Client(api_key="k", http_options=options)
        try:
            plain = await client.aio.models.generate_content(model="m", contents="hi")
            stream = await client.aio.models.generate_content_stream(model="m", contents="hi")
            return plain.text, [chunk.text async for chunk in stream]
        finally:
            await client.aio.aclose()
            client.close()

    assert asyncio.run(run()) == ("aio ok", ["aio", " ok", ""])
