"""LLM layer (async shell): `UnifiedLlmCodergenBackend`, which answers codergen stages with an LLM.

Rule: the backend maps one stage call to one `generate` call and its answer (or typed error) to
a reply; it never touches the pipeline's state. The layers point downward (pipeline → llm), so
this module does not import the pipeline: it reads the stage call structurally (`StageCall`, the
fields of the pipeline's `CodergenCall`) and answers a `StageReply` whose JSON shape is the
pipeline's `CodergenReply` (`response`, `outcome`, `usage`). `backend_from_spec("llm")` in the
pipeline wraps it.

Node attributes used (stylesheet-resolved): `llm_model`, `llm_provider`, `reasoning_effort`.
Fidelity `full` replays the thread's earlier (prompt, response) turns as messages; the other
modes prepend the carried-over preamble to the prompt.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import msgspec

from attractor.effects import deltas
from attractor.llm.catalog import get_latest_model, get_model_info
from attractor.llm.client import Client
from attractor.llm.errors import ConfigurationError, ProviderError, SDKError
from attractor.llm.generate import GenerateResult, generate
from attractor.llm.streaming import stream
from attractor.llm.types import Message, Usage

__all__ = [
    "StageCall",
    "StageOutcome",
    "StageReply",
    "UnifiedLlmCodergenBackend",
    "route",
    "stage_messages",
    "usage_counts",
]


class StageCall(Protocol):
    """What the backend reads from a codergen call (the pipeline's `CodergenCall`)."""

    @property
    def node_id(self) -> str: ...
    @property
    def prompt(self) -> str: ...
    @property
    def node_attrs(self) -> dict[str, str]: ...
    @property
    def fidelity(self) -> str: ...
    @property
    def preamble(self) -> str: ...
    @property
    def history(self) -> list[tuple[str, str]]: ...
    @property
    def stream(self) -> str: ...


class StageOutcome(msgspec.Struct, frozen=True, omit_defaults=True):
    """A stage outcome in status-file shape (only what this backend decides)."""

    status: str
    failure_reason: str = ""


class StageReply(msgspec.Struct, frozen=True, omit_defaults=True):
    """The backend's answer, encoding exactly like the pipeline's `CodergenReply`."""

    response: str = ""
    outcome: StageOutcome | None = None
    usage: dict[str, int] = {}
    model: str = ""


def usage_counts(usage: Usage) -> dict[str, int]:
    """Token counts as a flat mapping; optional counts only when the provider reported them."""
    counts = {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
    }
    for name in ("reasoning_tokens", "cache_read_tokens", "cache_write_tokens"):
        value = getattr(usage, name)
        if value is not None:
            counts[name] = value
    return counts


def stage_messages(call: StageCall) -> tuple[Message, ...]:
    """The conversation for a stage: history turns (`full`) or the preamble, then the prompt."""
    if call.fidelity == "full":
        turns: list[Message] = []
        for prompt, response in call.history:
            turns += [Message.user(prompt), Message.assistant(response)]
        return (*turns, Message.user(call.prompt))
    text = f"{call.preamble.rstrip()}\n\n{call.prompt}" if call.preamble.strip() else call.prompt
    return (Message.user(text),)


def route(client: Client, model: str, provider: str | None) -> tuple[str, str | None]:
    """The (model, provider) to ask: an empty model is the provider's newest catalogued one; a
    catalogued model without a provider goes to its own provider when `client` has it.

    Raises:
        ConfigurationError: no model given and none catalogued for the provider.
    """
    if not model:
        provider = provider or client.default_provider
        latest = get_latest_model(provider) if provider else None
        if latest is None:
            raise ConfigurationError(f"no model given and none is catalogued for {provider!r}")
        return latest.id, provider
    if provider is None:
        info = get_model_info(model)
        if info is not None and info.provider in client.provider_names:
            provider = info.provider
    return model, provider


def _failure(status: str, reason: str) -> StageReply:
    return StageReply(outcome=StageOutcome(status=status, failure_reason=reason))


def _error_reply(exc: SDKError) -> StageReply:
    """A typed LLM error as a stage outcome: RETRY when retrying may help, else FAIL."""
    if isinstance(exc, ProviderError):
        status = f" {exc.status_code}" if exc.status_code is not None else ""
        reason = f"{exc.provider}{status}: {type(exc).__name__}: {exc.message}"
    else:
        reason = f"{type(exc).__name__}: {exc.message}"
    return _failure("retry" if exc.retryable else "fail", reason)


class UnifiedLlmCodergenBackend:
    """Answers codergen stages through the unified client.

    Args:
        client: The client (e.g. `Client.from_env()`); its default provider answers nodes that
            name neither a provider nor a catalogued model.
        system: An optional system prompt for every stage.
        max_retries: Retries of one LLM call inside the stage (the engine retries the stage on a
            RETRY outcome after these are spent).
        max_tokens: An optional cap on each answer.
    """

    def __init__(
        self,
        client: Client,
        *,
        system: str | None = None,
        max_retries: int = 2,
        max_tokens: int | None = None,
    ) -> None:
        self.client = client
        self.system = system
        self.max_retries = max_retries
        self.max_tokens = max_tokens

    def choose(self, attrs: Mapping[str, str]) -> tuple[str, str | None]:
        """The (model, provider) for a node; `ConfigurationError` when no model can be chosen."""
        model = attrs.get("llm_model", "").strip()
        provider = attrs.get("llm_provider", "").strip() or None
        try:
            return route(self.client, model, provider)
        except ConfigurationError as exc:
            raise ConfigurationError(
                f"{exc.message}; set llm_model on the node or in the model_stylesheet"
            ) from None

    def _options(self, attrs: Mapping[str, str], model: str) -> dict[str, Any]:
        options: dict[str, Any] = {"max_retries": self.max_retries}
        effort = attrs.get("reasoning_effort", "").strip()
        info = get_model_info(model)
        if effort and (info is None or info.supports("reasoning")):
            options["reasoning_effort"] = effort
        if self.max_tokens is not None:
            options["max_tokens"] = self.max_tokens
        if self.system:
            options["system"] = self.system
        return options

    async def run(self, call: StageCall) -> StageReply:
        """Answer one stage: the response text and usage, or a FAIL/RETRY outcome."""
        try:
            model, provider = self.choose(call.node_attrs)
            kwargs: dict[str, Any] = {
                "messages": list(stage_messages(call)),
                "provider": provider,
                "client": self.client,
                **self._options(call.node_attrs, model),
            }
            if deltas.watching():
                result = await _streamed(call, model, kwargs)
            else:
                result = await generate(model, **kwargs)
        except SDKError as exc:
            return _error_reply(exc)
        return StageReply(response=result.text, usage=usage_counts(result.total_usage), model=model)


async def _streamed(call: StageCall, model: str, kwargs: dict[str, Any]) -> GenerateResult:
    """`generate` as a stream, each text delta handed to the watchers (the log keeps only the
    result, which is the same as `generate` would give)."""
    streamed = stream(model, **kwargs)
    async for text in streamed.text_stream:
        deltas.publish(deltas.Delta(stream=call.stream or "run", node=call.node_id, text=text))
    return await streamed.result()
