"""Tests for the Client: routing, default provider, configuration errors, middleware, env setup."""

from collections.abc import AsyncIterator

import msgspec
import pytest

from attractor.llm.client import (
    Client,
    Middleware,
    NextComplete,
    NextStream,
    get_default_client,
    runtime_from_env,
    set_default_client,
)
from attractor.llm.errors import ConfigurationError, UnsupportedToolChoiceError
from attractor.llm.runtime import ProviderConfig, Secret
from attractor.llm.types import (
    Message,
    Request,
    Response,
    StreamEvent,
    StreamEventType,
    ToolChoice,
    ToolDefinition,
)
from attractor.testing.scripted_llm import ScriptedAdapter, text_response

pytestmark = pytest.mark.anyio


def _req(provider: str | None = None) -> Request:
    return Request(model="m", messages=(Message.user("hi"),), provider=provider)


def _echo(name: str) -> ScriptedAdapter:
    return ScriptedAdapter(name=name, responder=lambda req, ctx: text_response(ctx.provider))


async def test_routes_by_provider_field() -> None:
    """A request naming a provider goes to that adapter."""
    client = Client({"a": _echo("a"), "b": _echo("b")}, default_provider="a")
    assert (await client.complete(_req("b"))).text == "b"


async def test_default_provider_used_when_omitted() -> None:
    """A request without provider goes to the default."""
    client = Client({"a": _echo("a"), "b": _echo("b")}, default_provider="b")
    assert (await client.complete(_req())).text == "b"


async def test_no_provider_and_no_default_is_configuration_error() -> None:
    """Without provider or default the client raises ConfigurationError, never guesses."""
    client = Client({"a": _echo("a")})
    with pytest.raises(ConfigurationError, match="no default provider"):
        await client.complete(_req())


async def test_unknown_provider_is_configuration_error() -> None:
    """A provider that is not registered gives ConfigurationError listing the registered ones."""
    client = Client({"a": _echo("a")}, default_provider="a")
    with pytest.raises(ConfigurationError, match="registered: a"):
        await client.complete(_req("zzz"))


def test_default_provider_must_be_registered() -> None:
    """Naming an unregistered default provider fails at construction."""
    with pytest.raises(ConfigurationError, match="not registered"):
        Client({"a": _echo("a")}, default_provider="b")


class _Tag(Middleware):
    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log

    async def complete(self, request: Request, call_next: NextComplete) -> Response:
        self.log.append(f"{self.name}>")
        response = await call_next(request)
        self.log.append(f"<{self.name}")
        return response

    async def _wrap(self, request: Request, call_next: NextStream) -> AsyncIterator[StreamEvent]:
        self.log.append(f"{self.name}>")
        async for event in call_next(request):
            yield event
        self.log.append(f"<{self.name}")

    def stream(self, request: Request, call_next: NextStream) -> AsyncIterator[StreamEvent]:
        return self._wrap(request, call_next)


async def test_middleware_onion_order_for_complete() -> None:
    """Request phase runs in registration order, response phase in reverse."""
    log: list[str] = []
    client = Client(
        {"a": _echo("a")}, default_provider="a", middleware=[_Tag("1", log), _Tag("2", log)]
    )
    await client.complete(_req())
    assert log == ["1>", "2>", "<2", "<1"]


async def test_middleware_onion_order_for_stream() -> None:
    """Streaming middleware wraps the event iterator in the same onion order."""
    log: list[str] = []
    client = Client(
        {"a": _echo("a")}, default_provider="a", middleware=[_Tag("1", log), _Tag("2", log)]
    )
    events = [ev async for ev in client.stream(_req())]
    assert events[-1].type == StreamEventType.FINISH
    assert log == ["1>", "2>", "<2", "<1"]


async def test_function_middleware_can_rewrite_request() -> None:
    """A plain async function middleware may change the request (here: its provider)."""

    async def reroute(request: Request, call_next: NextComplete) -> Response:
        return await call_next(
            Request(model=request.model, messages=request.messages, provider="b")
        )

    client = Client({"a": _echo("a"), "b": _echo("b")}, default_provider="a", middleware=[reroute])
    assert (await client.complete(_req())).text == "b"


async def test_stream_events_pass_through() -> None:
    """client.stream yields the adapter's events ending in FINISH with the response."""
    client = Client(
        {"a": ScriptedAdapter([text_response("hello world")], name="a")}, default_provider="a"
    )
    events = [ev async for ev in client.stream(_req())]
    deltas = "".join(ev.delta or "" for ev in events if ev.type == StreamEventType.TEXT_DELTA)
    assert deltas == "hello world"
    assert events[0].type == StreamEventType.STREAM_START


def test_runtime_from_env_reads_keys_and_base_urls() -> None:
    """Keys, base URLs and OpenAI org/project are read; absent providers are skipped."""
    env = {
        "OPENAI_API_KEY": "sk-o",
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        "OPENAI_ORG_ID": "org",
        "OPENAI_PROJECT_ID": "proj",
        "GEMINI_API_KEY": "",
        "GOOGLE_API_KEY": "g-key",
    }
    rt = runtime_from_env(env)
    assert rt.provider_names == ("openai", "gemini")
    openai = rt.config_for("openai")
    assert openai is not None
    assert openai.api_key == Secret("sk-o")
    assert (openai.base_url, openai.organization, openai.project) == (
        "http://127.0.0.1:9/v1",
        "org",
        "proj",
    )
    gemini = rt.config_for("gemini")
    assert gemini is not None
    assert gemini.api_key == Secret("g-key")


def test_gemini_key_preferred_over_google_key() -> None:
    """GEMINI_API_KEY wins over the GOOGLE_API_KEY fallback."""
    rt = runtime_from_env({"GEMINI_API_KEY": "gem", "GOOGLE_API_KEY": "goo"})
    config = rt.config_for("gemini")
    assert config is not None
    assert config.api_key == Secret("gem")


def test_from_env_first_registered_is_default() -> None:
    """from_env registers only providers with keys; the first becomes default."""
    env = {"ANTHROPIC_API_KEY": "a", "GEMINI_API_KEY": "g"}
    client = Client.from_env(
        env, adapters={"anthropic": _echo("anthropic"), "gemini": _echo("gemini")}
    )
    assert client.provider_names == ("anthropic", "gemini")
    assert client.default_provider == "anthropic"


def test_from_env_without_keys_has_no_providers() -> None:
    """An environment without keys gives a client with no providers and no default."""
    client = Client.from_env({})
    assert client.provider_names == ()
    assert client.default_provider is None


def test_openai_compatible_needs_base_url() -> None:
    """The Chat Completions provider is registered only when its base URL is set."""
    assert runtime_from_env({"OPENAI_COMPATIBLE_API_KEY": "k"}).provider_names == ()
    rt = runtime_from_env({"OPENAI_COMPATIBLE_BASE_URL": "http://127.0.0.1:1/v1"})
    assert rt.provider_names == ("openai_compatible",)


async def test_configs_shorthand_reaches_adapter() -> None:
    """configs= gives the adapter its key and base URL through the call context."""
    adapter = _echo("a")
    config = ProviderConfig(api_key=Secret("k1"), base_url="http://127.0.0.1:1")
    client = Client({"a": adapter}, default_provider="a", configs={"a": config})
    await client.complete(_req())
    assert (adapter.calls[0].api_key, adapter.calls[0].base_url) == ("k1", "http://127.0.0.1:1")


async def test_close_closes_adapters() -> None:
    """Client.close() calls the adapters' close()."""
    adapter = _echo("a")
    async with Client({"a": adapter}, default_provider="a") as client:
        await client.complete(_req())
    assert adapter.closed


def test_default_client_can_be_set_and_reset() -> None:
    """set_default_client overrides the lazily created module client."""
    mine = Client({"a": _echo("a")}, default_provider="a")
    set_default_client(mine)
    try:
        assert get_default_client() is mine
    finally:
        set_default_client(None)


def test_secret_never_shows_in_repr() -> None:
    """Secrets and configs holding them never print the key."""
    config = ProviderConfig(api_key=Secret("sk-very-secret"))
    assert "sk-very-secret" not in repr(config)
    assert "sk-very-secret" not in str(Secret("sk-very-secret"))


class _NoRequired(ScriptedAdapter):
    def supports_tool_choice(self, mode: str) -> bool:
        return mode != "required"


async def test_unsupported_tool_choice_rejected_before_sending() -> None:
    """A tool-choice mode the adapter does not support raises UnsupportedToolChoiceError."""
    adapter = _NoRequired([text_response("x")], name="a")
    client = Client({"a": adapter}, default_provider="a")
    req = Request(
        model="m",
        messages=(Message.user("hi"),),
        tools=(ToolDefinition(name="t"),),
        tool_choice=ToolChoice(mode="required"),
    )
    with pytest.raises(UnsupportedToolChoiceError, match="'required'"):
        await client.complete(req)
    assert adapter.calls == []


def test_secrets_cannot_be_serialised() -> None:
    """Encoding a config holding a key fails instead of writing the key out."""
    with pytest.raises(TypeError, match="Secret"):
        msgspec.json.encode(ProviderConfig(api_key=Secret("sk-x")))
