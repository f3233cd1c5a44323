"""The integration smoke test of unified-llm-spec §8.10, against the real providers.

Each check needs a real API key and is skipped without it (no provider is reachable from CI).
Run them with keys exported: `pytest -m real_keys tests/llm/test_smoke_real_keys.py`
(the default `-m "not slow"` selection also runs them when the keys are set).
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import AsyncIterator

import pytest

from attractor.llm import errors as e
from attractor.llm.catalog import get_latest_model
from attractor.llm.client import Client
from attractor.llm.content import ContentPart, ImageData, Message
from attractor.llm.generate import generate, generate_object
from attractor.llm.streaming import stream
from attractor.llm.tools import Tool
from attractor.llm.types import StreamEventType

pytestmark = [pytest.mark.real_keys, pytest.mark.anyio]

KEYS = {
    "anthropic": ("ANTHROPIC_API_KEY",),
    "openai": ("OPENAI_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
}


def _has_key(provider: str) -> bool:
    return any(os.environ.get(var, "").strip() for var in KEYS[provider])


def needs(provider: str) -> pytest.MarkDecorator:
    """Skip unless the provider's key is set."""
    names = " or ".join(KEYS[provider])
    return pytest.mark.skipif(not _has_key(provider), reason=f"needs {names}")


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    """A client for every provider whose key is set, closed after the test."""
    built = Client.from_env()
    yield built
    await built.close()


def _png(width: int = 8, height: int = 8) -> bytes:
    """A small solid red PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    "provider",
    [pytest.param(p, marks=needs(p)) for p in ("anthropic", "openai", "gemini")],
)
async def test_basic_generation_across_providers(client: Client, provider: str) -> None:
    """1. Each provider's latest model says hello, with usage and a `stop` finish."""
    latest = get_latest_model(provider)
    assert latest is not None
    result = await generate(
        latest.id,
        "Say hello in one sentence.",
        max_tokens=100,
        provider=provider,
        client=client,
    )
    assert result.text
    assert result.usage.input_tokens > 0
    assert result.usage.output_tokens > 0
    assert result.finish_reason.reason == "stop"


@needs("anthropic")
async def test_streaming_text_matches_the_response(client: Client) -> None:
    """2. The streamed text deltas join to the final response text."""
    result = stream("claude-opus-4-6", "Write a haiku.", provider="anthropic", client=client)
    chunks = [ev.delta async for ev in result if ev.type == StreamEventType.TEXT_DELTA]
    response = await result.response()
    assert "".join(c or "" for c in chunks) == response.text


@needs("anthropic")
async def test_parallel_tool_calls(client: Client) -> None:
    """3. A weather tool is called for both cities and the answer names both."""

    def get_weather(city: str) -> str:
        return f"The weather in {city} is 18C and sunny."

    weather = Tool(
        "get_weather",
        "Current weather for a city",
        {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        get_weather,
    )
    result = await generate(
        "claude-opus-4-6",
        "What is the weather in San Francisco and New York?",
        tools=[weather],
        max_tool_rounds=3,
        provider="anthropic",
        client=client,
    )
    assert len(result.steps) >= 2
    assert "San Francisco" in result.text
    assert "New York" in result.text


@needs("anthropic")
async def test_image_input(client: Client) -> None:
    """4. An inline PNG is accepted and described."""
    image = ContentPart.of_image(ImageData(data=_png(), media_type="image/png"))
    result = await generate(
        "claude-opus-4-6",
        messages=[Message.user("What do you see?", image)],
        provider="anthropic",
        client=client,
    )
    assert result.text


@needs("openai")
async def test_structured_output(client: Client) -> None:
    """5. generate_object extracts a validated object."""
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    result = await generate_object(
        "gpt-5.2",
        "Extract: Alice is 30 years old",
        schema=schema,
        provider="openai",
        client=client,
    )
    assert result.output["name"] == "Alice"
    assert result.output["age"] == 30


@needs("openai")
async def test_unknown_model_is_not_found(client: Client) -> None:
    """6. A model that does not exist raises NotFoundError."""
    with pytest.raises(e.NotFoundError):
        await generate("nonexistent-model-xyz", "test", provider="openai", client=client)


@pytest.fixture
def anyio_backend() -> str:
    """Run on asyncio only."""
    return "asyncio"
