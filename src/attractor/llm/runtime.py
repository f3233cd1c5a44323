"""Runtimes: who is calling, with which credentials and settings (stateless-provider seed).

Layer: llm (shell). Rule: adapters hold no per-call state; every call receives a `CallContext`
built from exactly one `Runtime`, so several runtimes with different keys and base URLs share a
process (and one `Client`) without ever seeing each other's settings.

- `Runtime` — an identity (`id`) plus a `ProviderConfig` per provider, optionally per profile.
- `ProviderConfig` — credentials (`Secret`), base URL, extra headers, timeouts, options.
- `CallContext` — what an adapter receives for one call: runtime id, provider, profile, the
  resolved config and the shared HTTP pool (which carries no auth, base URL or headers).
- `use_runtime()` / `current_runtime()` — the ambient runtime, kept in a `ContextVar` so that it
  follows the caller across `await`s and into tasks it spawns.
- `CredentialCache` — resolved credentials cached under the key (runtime, provider, profile).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import httpx

from attractor.events.secrets import register_secret
from attractor.llm.errors import AuthenticationError, ConfigurationError

__all__ = [
    "AdapterTimeout",
    "CallContext",
    "CredentialCache",
    "CredentialLoader",
    "ProviderConfig",
    "Runtime",
    "Secret",
    "current_runtime",
    "use_runtime",
]


class Secret:
    """A credential string that never shows itself in `repr`, `str`, logs or encoders.

    Creating one registers its value with `attractor.events.secrets`, so that provider errors
    and effect results are scrubbed of it wherever they are built.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        register_secret(value)

    def reveal(self) -> str:
        """The secret value; call only where it goes on the wire."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))


@dataclass(frozen=True, slots=True)
class AdapterTimeout:
    """Adapter-level timeouts in seconds (spec §4.7).

    Attributes:
        connect: Time to establish the HTTP connection.
        request: Time for a whole non-streaming request/response cycle.
        stream_read: Longest gap allowed between two stream events.
    """

    connect: float = 10.0
    request: float = 120.0
    stream_read: float = 30.0


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """Everything an adapter needs to reach one provider for one runtime.

    Attributes:
        api_key: The credential, or None (the adapter then raises AuthenticationError).
        base_url: Endpoint root, e.g. `https://api.openai.com/v1`; None means the adapter's default.
        headers: Extra HTTP headers sent on every call.
        timeout: Connect / request / stream-read timeouts.
        organization: OpenAI organization id (`OPENAI_ORG_ID`).
        project: OpenAI project id (`OPENAI_PROJECT_ID`).
        options: Adapter-specific settings (e.g. `anthropic_version`).
    """

    api_key: Secret | None = None
    base_url: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    timeout: AdapterTimeout = field(default_factory=AdapterTimeout)
    organization: str | None = None
    project: str | None = None
    options: tuple[tuple[str, Any], ...] = ()

    def option(self, key: str, default: Any = None) -> Any:
        """The adapter-specific option `key`, or `default`."""
        return dict(self.options).get(key, default)


CredentialLoader = Callable[[str, str, str | None], Awaitable["ProviderConfig"]]
"""Async loader `(runtime_id, provider, profile) -> ProviderConfig` (token exchange, vault...)."""

CacheKey = tuple[str, str, str | None]


@dataclass(frozen=True, slots=True)
class Runtime:
    """An isolated caller identity with its own provider settings.

    Attributes:
        id: Stable identity; part of every credential-cache key.
        providers: Default-profile config per provider name.
        profiles: Named profiles: profile -> provider -> config.
        loader: Resolves configs not given statically; results are cached per
            (runtime id, provider, profile) by the Client's CredentialCache.
    """

    id: str
    providers: tuple[tuple[str, ProviderConfig], ...] = ()
    profiles: tuple[tuple[str, tuple[tuple[str, ProviderConfig], ...]], ...] = ()
    loader: CredentialLoader | None = None

    @classmethod
    def of(
        cls,
        runtime_id: str,
        providers: dict[str, ProviderConfig],
        profiles: dict[str, dict[str, ProviderConfig]] | None = None,
        loader: CredentialLoader | None = None,
    ) -> Runtime:
        """Build a runtime from plain dicts."""
        frozen_profiles = tuple(
            (name, tuple(configs.items())) for name, configs in (profiles or {}).items()
        )
        return cls(runtime_id, tuple(providers.items()), frozen_profiles, loader)

    def config_for(self, provider: str, profile: str | None = None) -> ProviderConfig | None:
        """The config for `provider` under `profile` (None: the default profile)."""
        if profile is not None:
            configs = dict(dict(self.profiles).get(profile, ()))
            return configs.get(provider)
        return dict(self.providers).get(provider)

    @property
    def provider_names(self) -> tuple[str, ...]:
        """Providers configured in the default profile, in registration order."""
        return tuple(name for name, _ in self.providers)


@dataclass(frozen=True, slots=True)
class CallContext:
    """The explicit per-call context an adapter receives with each request.

    Attributes:
        runtime_id: Which runtime made the call.
        provider: The provider name the call was routed to.
        profile: The credential profile, or None for the default.
        config: Credentials and settings for this runtime/provider/profile.
        http: Shared connection pool; it carries no auth, base URL or default headers.
    """

    runtime_id: str
    provider: str
    profile: str | None
    config: ProviderConfig
    http: httpx.AsyncClient

    def api_key(self) -> str:
        """The revealed API key; raises AuthenticationError naming the runtime when missing."""
        if self.config.api_key is None:
            raise AuthenticationError(
                f"no API key configured for provider {self.provider!r} in runtime "
                f"{self.runtime_id!r}; set it in ProviderConfig(api_key=...) or the environment",
                provider=self.provider,
            )
        return self.config.api_key.reveal()

    def base_url(self, default: str) -> str:
        """The configured base URL without trailing slash, or `default`."""
        return (self.config.base_url or default).rstrip("/")


_CURRENT_RUNTIME: ContextVar[Runtime | None] = ContextVar("attractor_llm_runtime", default=None)


def current_runtime() -> Runtime | None:
    """The runtime bound to the current context by `use_runtime`, if any."""
    return _CURRENT_RUNTIME.get()


@contextmanager
def use_runtime(runtime: Runtime) -> Iterator[Runtime]:
    """Bind `runtime` to the current context (and tasks created inside it) for the block."""
    token = _CURRENT_RUNTIME.set(runtime)
    try:
        yield runtime
    finally:
        _CURRENT_RUNTIME.reset(token)


class CredentialCache:
    """Resolved credentials keyed by (runtime id, provider, profile).

    Each key loads at most once at a time; a key never serves another runtime's entry.
    """

    def __init__(self) -> None:
        self._entries: dict[CacheKey, ProviderConfig] = {}
        self._locks: dict[CacheKey, asyncio.Lock] = {}

    async def get(self, key: CacheKey, loader: CredentialLoader) -> ProviderConfig:
        """The cached config for `key`, loading it with `loader` on first use."""
        cached = self._entries.get(key)
        if cached is not None:
            return cached
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._entries.get(key)
            if cached is None:
                cached = await loader(*key)
                if not isinstance(cached, ProviderConfig):
                    raise ConfigurationError(
                        f"credential loader returned {type(cached).__name__} for {key!r}; "
                        "it must return a ProviderConfig"
                    )
                self._entries[key] = cached
            return cached

    def invalidate(self, runtime_id: str | None = None, provider: str | None = None) -> int:
        """Drop cached entries matching the filters; returns how many were dropped."""
        doomed = [
            key
            for key in self._entries
            if (runtime_id is None or key[0] == runtime_id)
            and (provider is None or key[1] == provider)
        ]
        for key in doomed:
            del self._entries[key]
        return len(doomed)

    def keys(self) -> list[CacheKey]:
        """The keys currently cached."""
        return list(self._entries)
