"""Fixtures for the adapter tests: one fake provider server per module, clients per test.

The server validates every request body against the official SDKs' request types
(`validate_requests=True`), so a body our adapters send that the SDKs would not accept fails
the test with a 400 naming the field.
"""

import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from hypothesis import strategies as st

from attractor.llm import Client, ProviderConfig, Secret
from attractor.llm.adapters import load_adapter
from attractor.llm.runtime import AdapterTimeout, Runtime
from attractor.testing.fake_providers import FakeProviderServer
from tests.llm.guardrail import drive_runtimes

from ._samples import fetch_chat_samples, fetch_responses_samples

TEST_KEY = "sk-test-key"

MakeClient = Callable[..., Client]
SERVER_APIS = {"openai_compatible": "openai_chat"}
"""The fake server's API name for providers that are not named by their wire API."""


def server_url(server: FakeProviderServer, provider: str) -> str:
    """The fake server's base URL for `provider`'s adapter."""
    return server.base_url(SERVER_APIS.get(provider, provider))  # type: ignore[arg-type]


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
        config.setdefault("base_url", server_url(fake_server, provider))
        settings = ProviderConfig(
            api_key=Secret(api_key) if api_key is not None else None,
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


@pytest.fixture(scope="module")
def openai_samples(fake_server: FakeProviderServer) -> dict[str, dict[str, Any]]:
    """Real bodies and streams of the fake server's two OpenAI APIs, keyed by provider."""
    return {
        "openai": fetch_responses_samples(fake_server, "gpt-5.2", TEST_KEY),
        "openai_compatible": fetch_chat_samples(fake_server, "llama-3.3-70b", TEST_KEY),
    }


# ---- shared robustness helpers (OpenAI adapters; usable by any adapter test) --------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3)
    ),
    max_leaves=8,
)
"""Arbitrary JSON values, used to replace parts of valid provider payloads."""


def json_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a subtree of a decoded JSON value (the root is `()`)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(json_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(json_paths(child, (*prefix, index)))
    return found


def mutate_json(data: st.DataObject, value: Any) -> Any:
    """A copy of `value` with one subtree replaced by arbitrary JSON or (in objects) removed."""
    path = data.draw(st.sampled_from(json_paths(value)))
    copy = json.loads(json.dumps(value))
    if not path:
        return data.draw(JSON_VALUES)
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    if isinstance(parent, dict) and data.draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(JSON_VALUES)
    return copy


def mock_client(provider: str, handler: Callable[[httpx.Request], httpx.Response]) -> Client:
    """A Client whose `provider` adapter talks to an in-process httpx handler (no sockets)."""
    config = ProviderConfig(api_key=Secret(TEST_KEY), base_url="http://mock.local/v1")
    return Client(
        {provider: load_adapter(provider)},
        configs={provider: config},
        default_provider=provider,
        transport=httpx.MockTransport(handler),
    )


async def check_runtime_isolation(provider: str, *, runtimes: int = 8, calls: int = 400) -> None:
    """Stateless-runtime guardrail over HTTP: each runtime has its own key and fake server.

    Calls are interleaved (complete and stream, explicit and ambient runtimes) through one
    Client; fails if any server sees a request with another runtime's key, or any answer
    belongs to another call.
    """
    with ExitStack() as stack:
        servers = [stack.enter_context(FakeProviderServer()) for _ in range(runtimes)]
        keys = [f"sk-runtime-{n}" for n in range(runtimes)]
        chosen = [
            Runtime.of(
                f"rt-{n}",
                {
                    provider: ProviderConfig(
                        api_key=Secret(keys[n]), base_url=server_url(server, provider)
                    )
                },
            )
            for n, server in enumerate(servers)
        ]
        client = Client({provider: load_adapter(provider)}, default_provider=provider)
        try:
            outcomes = await drive_runtimes(client, chosen, [provider], calls, concurrency=64)
        finally:
            await client.close()
        for outcome in outcomes:
            assert outcome.response.text == f"call {outcome.index}"
        for n, server in enumerate(servers):
            assert len(server.requests) == calls // runtimes
            assert all(r.has_api_key(keys[n]) for r in server.requests), f"runtime {n} leaked"
