"""Tests for runtimes: explicit context, ambient runtime across awaits, scoped credential cache."""

import asyncio

import pytest

from attractor.llm.client import Client
from attractor.llm.errors import AuthenticationError, ConfigurationError
from attractor.llm.runtime import (
    CallContext,
    CredentialCache,
    ProviderConfig,
    Runtime,
    Secret,
    current_runtime,
    use_runtime,
)
from attractor.llm.types import Message, Request
from attractor.testing.scripted_llm import ScriptedAdapter, text_response

pytestmark = pytest.mark.anyio

REQ = Request(model="m", messages=(Message.user("hi"),))


def _runtime(n: int) -> Runtime:
    config = ProviderConfig(api_key=Secret(f"key-{n}"), base_url=f"http://127.0.0.1:{9000 + n}")
    return Runtime.of(f"rt-{n}", {"p": config})


def _client() -> tuple[Client, ScriptedAdapter]:
    def echo(req: Request, ctx: CallContext) -> object:
        return text_response(f"{ctx.runtime_id}|{ctx.api_key()}")

    adapter = ScriptedAdapter(name="p", responder=echo)  # type: ignore[arg-type]
    return Client({"p": adapter}, default_provider="p"), adapter


async def test_ambient_runtime_is_used() -> None:
    """Inside use_runtime, calls run under that runtime's identity and credentials."""
    client, _ = _client()
    with use_runtime(_runtime(1)):
        assert (await client.complete(REQ)).text == "rt-1|key-1"


async def test_explicit_runtime_beats_ambient() -> None:
    """runtime= on the call wins over the ambient runtime."""
    client, _ = _client()
    with use_runtime(_runtime(1)):
        assert (await client.complete(REQ, runtime=_runtime(2))).text == "rt-2|key-2"


async def test_runtime_survives_task_boundaries() -> None:
    """Tasks created inside use_runtime keep its identity after awaits."""
    client, _ = _client()

    async def later() -> str:
        await asyncio.sleep(0.001)
        return (await client.complete(REQ)).text

    with use_runtime(_runtime(3)):
        task = asyncio.create_task(later())
    assert current_runtime() is None
    assert await task == "rt-3|key-3"


async def test_stream_binds_runtime_at_call_time() -> None:
    """A stream created under one runtime keeps it when iterated elsewhere."""
    client, adapter = _client()
    with use_runtime(_runtime(4)):
        events = client.stream(REQ)
    with use_runtime(_runtime(5)):
        got = [ev async for ev in events]
    assert got[-1].response is not None
    assert adapter.calls[0].runtime_id == "rt-4"


async def test_missing_key_is_authentication_error_naming_runtime() -> None:
    """ctx.api_key() without a key raises AuthenticationError naming provider and runtime."""
    client, _ = _client()
    with pytest.raises(AuthenticationError, match="runtime 'default'"):
        await client.complete(REQ)


async def test_profiles_select_other_credentials() -> None:
    """profile= picks the runtime's named profile."""
    client, _ = _client()
    rt = Runtime.of(
        "rt-p",
        {"p": ProviderConfig(api_key=Secret("main"))},
        profiles={"ci": {"p": ProviderConfig(api_key=Secret("ci-key"))}},
    )
    assert (await client.complete(REQ, runtime=rt, profile="ci")).text == "rt-p|ci-key"
    with pytest.raises(ConfigurationError, match="no profile 'nope'"):
        await client.complete(REQ, runtime=rt, profile="nope")


async def test_credential_loader_cached_per_runtime_provider_profile() -> None:
    """A runtime's loader runs once per (runtime, provider, profile) key, even concurrently."""
    loads: list[tuple[str, str, str | None]] = []

    async def loader(runtime_id: str, provider: str, profile: str | None) -> ProviderConfig:
        loads.append((runtime_id, provider, profile))
        await asyncio.sleep(0.001)
        return ProviderConfig(api_key=Secret(f"loaded-{runtime_id}"))

    client, _ = _client()
    a, b = Runtime("A", loader=loader), Runtime("B", loader=loader)
    responses = await asyncio.gather(*(client.complete(REQ, runtime=rt) for rt in [a, b] * 10))
    texts = {r.text for r in responses}
    assert sorted(texts) == ["A|loaded-A", "B|loaded-B"]
    assert sorted(loads) == [("A", "p", None), ("B", "p", None)]
    assert sorted(client.credentials.keys()) == [("A", "p", None), ("B", "p", None)]


async def test_cache_invalidate_by_runtime() -> None:
    """invalidate(runtime_id) drops only that runtime's entries."""
    cache = CredentialCache()

    async def loader(rt: str, provider: str, profile: str | None) -> ProviderConfig:
        return ProviderConfig(base_url=rt)

    await cache.get(("A", "p", None), loader)
    await cache.get(("B", "p", None), loader)
    assert cache.invalidate(runtime_id="A") == 1
    assert cache.keys() == [("B", "p", None)]


async def test_loader_must_return_provider_config() -> None:
    """A loader returning the wrong type gives a ConfigurationError naming the key."""
    cache = CredentialCache()

    async def bad(rt: str, provider: str, profile: str | None) -> ProviderConfig:
        return "sk-oops"  # type: ignore[return-value]

    with pytest.raises(ConfigurationError, match="must return a ProviderConfig"):
        await cache.get(("A", "p", None), bad)
