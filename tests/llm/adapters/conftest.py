"""Fixtures for the adapter tests: one fake provider server per module, clients per test.

The server validates every request body against the official SDKs' request types
(`validate_requests=True`), so a body our adapters send that the SDKs would not accept fails
the test with a 400 naming the field.
"""

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from attractor.llm import Client, ProviderConfig, Secret
from attractor.llm.adapters import load_adapter
from attractor.llm.runtime import AdapterTimeout
from attractor.testing.fake_providers import FakeProviderServer

TEST_KEY = "sk-test-key"

MakeClient = Callable[..., Client]


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeProviderServer]:
    """A loopback fake provider server shared by the tests of one module."""
    with FakeProviderServer(validate_requests=True) as server:
        yield server


@pytest.fixture
async def make_client(fake_server: FakeProviderServer) -> AsyncIterator[MakeClient]:
    """Build Clients for one provider against the fake server; closed after the test."""
    made: list[Client] = []

    def make(provider: str, *, api_key: str | None = TEST_KEY, **config: Any) -> Client:
        settings = ProviderConfig(
            api_key=Secret(api_key) if api_key is not None else None,
            base_url=fake_server.base_url(provider),  # type: ignore[arg-type]
            timeout=AdapterTimeout(connect=5, request=20, stream_read=10),
            **config,
        )
        client = Client(
            {provider: load_adapter(provider)},
            configs={provider: settings},
            default_provider=provider,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()
