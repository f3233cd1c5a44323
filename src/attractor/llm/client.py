"""The core Client (spec §2.2-2.6, §4.1-4.2): routing, middleware, runtimes, default client.

Layer: llm (shell). Rule: the Client holds no per-request mutable state. Each call resolves its
runtime once — the explicit `runtime=` argument, else the ambient `use_runtime()` runtime, else
the client's own — builds a `CallContext` from it and hands that to a stateless adapter. The
only shared things are the adapters, the HTTP connection pools (no auth, no base URL) and the
credential cache, whose keys are (runtime id, provider, profile).

Middleware wraps calls like an onion: the first registered sees the request first and the
response last. Plain async functions `(request, call_next) -> Response` wrap `complete()` only;
subclass `Middleware` to also wrap `stream()`.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import aclosing
from typing import Any

import httpx

from attractor.llm.adapters import load_adapter
from attractor.llm.adapters._base import ProviderAdapter
from attractor.llm.errors import ConfigurationError, UnsupportedToolChoiceError
from attractor.llm.runtime import (
    CallContext,
    CredentialCache,
    ProviderConfig,
    Runtime,
    Secret,
    current_runtime,
)
from attractor.llm.types import Request, Response, StreamEvent

__all__ = [
    "Client",
    "CompleteMiddleware",
    "Middleware",
    "NextComplete",
    "NextStream",
    "get_default_client",
    "runtime_from_env",
    "set_default_client",
]

NextComplete = Callable[[Request], Awaitable[Response]]
NextStream = Callable[[Request], AsyncIterator[StreamEvent]]
CompleteMiddleware = Callable[[Request, NextComplete], Awaitable[Response]]


class Middleware:
    """Base middleware: passes both modes through; override `complete` and/or `stream`."""

    async def complete(self, request: Request, call_next: NextComplete) -> Response:
        """Wrap a non-streaming call."""
        return await call_next(request)

    def stream(self, request: Request, call_next: NextStream) -> AsyncIterator[StreamEvent]:
        """Wrap a streaming call; may observe or transform events."""
        return call_next(request)


class _FunctionMiddleware(Middleware):
    def __init__(self, fn: CompleteMiddleware) -> None:
        self._fn = fn

    async def complete(self, request: Request, call_next: NextComplete) -> Response:
        return await self._fn(request, call_next)


def _as_middleware(item: Middleware | CompleteMiddleware) -> Middleware:
    if isinstance(item, Middleware):
        return item
    if callable(item):
        return _FunctionMiddleware(item)
    raise ConfigurationError(f"middleware must be a Middleware or a callable, got {item!r}")


# provider -> (key variables in priority order, base-URL variable, base URL required)
_ENV_PROVIDERS: tuple[tuple[str, tuple[str, ...], str, bool], ...] = (
    ("openai", ("OPENAI_API_KEY",), "OPENAI_BASE_URL", False),
    ("anthropic", ("ANTHROPIC_API_KEY",), "ANTHROPIC_BASE_URL", False),
    ("gemini", ("GEMINI_API_KEY", "GOOGLE_API_KEY"), "GEMINI_BASE_URL", False),
    ("openai_compatible", ("OPENAI_COMPATIBLE_API_KEY",), "OPENAI_COMPATIBLE_BASE_URL", True),
)


def _env_config(
    env: Mapping[str, str], provider: str, keys: tuple[str, ...], url_var: str
) -> ProviderConfig | None:
    key = next((env[k] for k in keys if env.get(k, "").strip()), None)
    base_url = env.get(url_var, "").strip() or None
    if key is None and not (provider == "openai_compatible" and base_url):
        return None
    return ProviderConfig(
        api_key=Secret(key.strip()) if key else None,
        base_url=base_url,
        organization=env.get("OPENAI_ORG_ID") if provider == "openai" else None,
        project=env.get("OPENAI_PROJECT_ID") if provider == "openai" else None,
    )


def runtime_from_env(env: Mapping[str, str] | None = None, runtime_id: str = "env") -> Runtime:
    """A runtime holding the providers whose keys are set in `env` (default: os.environ).

    Variables (spec §2.2): OPENAI_API_KEY [+ OPENAI_BASE_URL, OPENAI_ORG_ID, OPENAI_PROJECT_ID],
    ANTHROPIC_API_KEY [+ ANTHROPIC_BASE_URL], GEMINI_API_KEY or GOOGLE_API_KEY
    [+ GEMINI_BASE_URL], and OPENAI_COMPATIBLE_BASE_URL [+ OPENAI_COMPATIBLE_API_KEY] for a
    Chat Completions endpoint. Empty values count as absent.
    """
    source = os.environ if env is None else env
    configs: dict[str, ProviderConfig] = {}
    for provider, keys, url_var, needs_url in _ENV_PROVIDERS:
        if needs_url and not source.get(url_var, "").strip():
            continue
        config = _env_config(source, provider, keys, url_var)
        if config is not None:
            configs[provider] = config
    return Runtime.of(runtime_id, configs)


class Client:
    """Routes requests to provider adapters under an explicit runtime, through middleware.

    Args:
        providers: Provider name -> adapter.
        default_provider: Used when a request names no provider; must be registered.
        middleware: Applied in registration order on the way in.
        runtime: The runtime used when a call names none and none is ambient.
        configs: Shorthand for `runtime=Runtime.of("default", configs)`.
        transport: Custom httpx transport for the connection pools (tests, proxies).
    """

    def __init__(
        self,
        providers: Mapping[str, ProviderAdapter] | None = None,
        *,
        default_provider: str | None = None,
        middleware: Sequence[Middleware | CompleteMiddleware] = (),
        runtime: Runtime | None = None,
        configs: Mapping[str, ProviderConfig] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._adapters: dict[str, ProviderAdapter] = dict(providers or {})
        if default_provider is not None and default_provider not in self._adapters:
            raise ConfigurationError(
                f"default provider {default_provider!r} is not registered; "
                f"registered: {self._registered()}"
            )
        if runtime is not None and configs is not None:
            raise ConfigurationError("pass either `runtime` or `configs` to Client, not both")
        self._default = default_provider
        self._middleware = tuple(_as_middleware(m) for m in middleware)
        self._runtime = runtime or Runtime.of("default", dict(configs or {}))
        self._transport = transport
        self._credentials = CredentialCache()
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]
        self._pools = weakref.WeakKeyDictionary()
        for adapter in self._adapters.values():
            initialize = getattr(adapter, "initialize", None)
            if callable(initialize):
                initialize()

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        adapters: Mapping[str, ProviderAdapter] | None = None,
        middleware: Sequence[Middleware | CompleteMiddleware] = (),
        runtime_id: str = "env",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> Client:
        """A client for every provider whose key is in the environment; the first is default.

        Args:
            env: Variables to read (default: os.environ).
            adapters: Adapter instances to use instead of the built-in ones, by provider.
            middleware: Middleware for the client.
            runtime_id: Identity of the runtime built from the environment.
            transport: Custom httpx transport.
        """
        runtime = runtime_from_env(env, runtime_id)
        chosen = dict(adapters or {})
        providers = {
            name: chosen[name] if name in chosen else load_adapter(name)
            for name in runtime.provider_names
        }
        default = runtime.provider_names[0] if runtime.provider_names else None
        return cls(
            providers,
            default_provider=default,
            middleware=middleware,
            runtime=runtime,
            transport=transport,
        )

    @property
    def provider_names(self) -> tuple[str, ...]:
        """Registered providers, in registration order."""
        return tuple(self._adapters)

    @property
    def default_provider(self) -> str | None:
        """The provider used when a request names none."""
        return self._default

    @property
    def runtime(self) -> Runtime:
        """The client's own runtime (used when no other is given or ambient)."""
        return self._runtime

    @property
    def credentials(self) -> CredentialCache:
        """The credential cache, keyed by (runtime id, provider, profile)."""
        return self._credentials

    def adapter(self, provider: str) -> ProviderAdapter:
        """The adapter registered for `provider` (ConfigurationError when unknown)."""
        adapter = self._adapters.get(provider)
        if adapter is None:
            raise ConfigurationError(
                f"provider {provider!r} is not registered; registered: {self._registered()}"
            )
        return adapter

    def _registered(self) -> str:
        return ", ".join(self._adapters) or "(none — set an API key such as OPENAI_API_KEY)"

    def _resolve_runtime(self, runtime: Runtime | None) -> Runtime:
        return runtime or current_runtime() or self._runtime

    def _provider_of(self, request: Request) -> str:
        name = request.provider or self._default
        if name is None:
            raise ConfigurationError(
                f"request for model {request.model!r} names no provider and the client has no "
                f"default provider; registered: {self._registered()}"
            )
        return name

    async def _config(self, runtime: Runtime, provider: str, profile: str | None) -> ProviderConfig:
        static = runtime.config_for(provider, profile)
        if static is not None:
            return static
        if runtime.loader is not None:
            key = (runtime.id, provider, profile)
            return await self._credentials.get(key, runtime.loader)
        if profile is not None:
            raise ConfigurationError(
                f"runtime {runtime.id!r} has no profile {profile!r} for provider {provider!r}"
            )
        return ProviderConfig()

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        pool = self._pools.get(loop)
        if pool is None or pool.is_closed:
            pool = httpx.AsyncClient(transport=self._transport, timeout=None)
            self._pools[loop] = pool
        return pool

    async def context_for(
        self, request: Request, runtime: Runtime | None = None, profile: str | None = None
    ) -> tuple[ProviderAdapter, CallContext]:
        """The adapter and call context a request would be sent with (no middleware)."""
        provider = self._provider_of(request)
        adapter = self.adapter(provider)
        _check_tool_choice(adapter, provider, request)
        chosen = self._resolve_runtime(runtime)
        config = await self._config(chosen, provider, profile)
        return adapter, CallContext(chosen.id, provider, profile, config, self._http())

    async def complete(
        self, request: Request, *, runtime: Runtime | None = None, profile: str | None = None
    ) -> Response:
        """Send `request` through the middleware to its adapter; never retries (spec §4.1)."""
        chosen = self._resolve_runtime(runtime)

        async def terminal(req: Request) -> Response:
            adapter, ctx = await self.context_for(req, chosen, profile)
            return await adapter.complete(req, ctx)

        call: NextComplete = terminal
        for mw in reversed(self._middleware):
            call = _bind_complete(mw, call)
        return await call(request)

    def stream(
        self, request: Request, *, runtime: Runtime | None = None, profile: str | None = None
    ) -> AsyncIterator[StreamEvent]:
        """An async iterator of the request's stream events; never retries (spec §4.2).

        The runtime is resolved now, at the call, so it survives handing the iterator to
        another task.
        """
        chosen = self._resolve_runtime(runtime)

        def terminal(req: Request) -> AsyncIterator[StreamEvent]:
            return self._adapter_stream(req, chosen, profile)

        call: NextStream = terminal
        for mw in reversed(self._middleware):
            call = _bind_stream(mw, call)
        return call(request)

    async def _adapter_stream(
        self, request: Request, runtime: Runtime, profile: str | None
    ) -> AsyncIterator[StreamEvent]:
        adapter, ctx = await self.context_for(request, runtime, profile)
        async with aclosing(_aiter(adapter.stream(request, ctx))) as events:
            async for event in events:
                yield event

    async def close(self) -> None:
        """Close the adapters (when they have `close`) and this loop's connection pool."""
        for adapter in self._adapters.values():
            closer = getattr(adapter, "close", None)
            if callable(closer):
                result = closer()
                if asyncio.iscoroutine(result):
                    await result
        await self.release_connections()

    async def release_connections(self) -> None:
        """Close the connection pool of the running event loop (adapters stay usable)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        pool = self._pools.pop(loop, None)
        if pool is not None:
            await pool.aclose()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def _aiter(events: AsyncIterator[StreamEvent]) -> AsyncGenerator[StreamEvent, None]:
    """Wrap any async iterator as an async generator so `aclosing` can close it."""
    try:
        async for event in events:
            yield event
    finally:
        aclose: Any = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()


def _check_tool_choice(adapter: ProviderAdapter, provider: str, request: Request) -> None:
    choice = request.tool_choice
    supports = getattr(adapter, "supports_tool_choice", None)
    if choice is None or not callable(supports) or supports(choice.mode):
        return
    raise UnsupportedToolChoiceError(
        f"provider {provider!r} does not support tool choice mode {choice.mode!r}"
    )


def _bind_complete(mw: Middleware, call_next: NextComplete) -> NextComplete:
    async def bound(request: Request) -> Response:
        return await mw.complete(request, call_next)

    return bound


def _bind_stream(mw: Middleware, call_next: NextStream) -> NextStream:
    def bound(request: Request) -> AsyncIterator[StreamEvent]:
        return mw.stream(request, call_next)

    return bound


_default_client: Client | None = None


def set_default_client(client: Client | None) -> None:
    """Use `client` for high-level calls that pass no client (None: rebuild lazily from env)."""
    global _default_client
    _default_client = client


def get_default_client() -> Client:
    """The module-level client, created from the environment on first use (spec §2.5)."""
    global _default_client
    if _default_client is None:
        _default_client = Client.from_env()
    return _default_client
