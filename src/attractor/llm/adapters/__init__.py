"""Provider adapters, named by wire API, and the registry `Client.from_env()` uses.

Layer: llm (shell). Rule: adapters are loaded lazily by name so that importing the client never
imports every adapter, and a missing adapter is a clear ConfigurationError, not an ImportError.
"""

from __future__ import annotations

import importlib

from attractor.llm.adapters._base import ProviderAdapter
from attractor.llm.errors import ConfigurationError

__all__ = ["ADAPTER_CLASSES", "ProviderAdapter", "load_adapter"]

ADAPTER_CLASSES: dict[str, tuple[str, str]] = {
    "openai": ("attractor.llm.adapters.openai_responses", "OpenAIResponsesAdapter"),
    "anthropic": ("attractor.llm.adapters.anthropic_messages", "AnthropicMessagesAdapter"),
    "gemini": ("attractor.llm.adapters.gemini_generate", "GeminiGenerateAdapter"),
    "openai_compatible": ("attractor.llm.adapters.openai_chat", "OpenAIChatAdapter"),
}
"""Provider name -> (module, class) of its stateless adapter, constructed with no arguments."""


def load_adapter(provider: str) -> ProviderAdapter:
    """Instantiate the built-in adapter for `provider`.

    Raises:
        ConfigurationError: unknown provider, or its adapter module is not available.
    """
    target = ADAPTER_CLASSES.get(provider)
    if target is None:
        known = ", ".join(sorted(ADAPTER_CLASSES))
        raise ConfigurationError(f"no built-in adapter for provider {provider!r}; known: {known}")
    module_name, class_name = target
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(
            f"adapter module {module_name} for provider {provider!r} is not available: {exc}",
            cause=exc,
        ) from exc
    adapter: ProviderAdapter = getattr(module, class_name)()
    return adapter
