"""Fixtures: one fake provider server per test module, official SDK clients bound to it."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import openai
import pytest
from google import genai
from google.genai import types as genai_types

from attractor.testing.fake_providers import FakeProviderServer, Scenario, Step

OPENAI_KEY = "sk-openai-test"
ANTHROPIC_KEY = "sk-ant-test"
GEMINI_KEY = "gemini-test-key"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeProviderServer]:
    """A fake provider server shared by the tests of one module, checking request bodies.

    Request validation is on, so every body the official SDKs send in these tests is also
    checked against their own request types (a false positive there fails the test).
    """
    with FakeProviderServer(validate_requests=True) as fake:
        yield fake
        assert fake.internal_errors == ()


@pytest.fixture
def play(server: FakeProviderServer):  # type: ignore[no-untyped-def]
    """Start a fresh scenario made of the given steps (records cleared)."""

    def _play(*steps: Step, **options: object) -> FakeProviderServer:
        server.play(Scenario(steps=steps, **options))  # type: ignore[arg-type]
        return server

    yield _play
    server.play()


@pytest.fixture(scope="module")
def openai_client(server: FakeProviderServer) -> Iterator[openai.OpenAI]:
    """The official OpenAI SDK pointed at the fake server, retries off."""
    client = openai.OpenAI(base_url=server.base_url("openai"), api_key=OPENAI_KEY, max_retries=0)
    yield client
    client.close()


@pytest.fixture(scope="module")
def anthropic_client(server: FakeProviderServer) -> Iterator[anthropic.Anthropic]:
    """The official Anthropic SDK pointed at the fake server, retries off."""
    client = anthropic.Anthropic(
        base_url=server.base_url("anthropic"), api_key=ANTHROPIC_KEY, max_retries=0
    )
    yield client
    client.close()


@pytest.fixture(scope="module")
def gemini_client(server: FakeProviderServer) -> Iterator[genai.Client]:
    """The official google-genai SDK pointed at the fake server."""
    options = genai_types.HttpOptions(base_url=server.base_url("gemini"))
    client = genai.Client(api_key=GEMINI_KEY, http_options=options)
    yield client
    client.close()
