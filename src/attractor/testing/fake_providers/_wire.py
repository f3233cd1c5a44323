"""What every wire format shares (pure layer: no I/O).

Rule: a `Step` is resolved once into an `Answer` — echo applied, text split into deltas, ids
and token counts fixed — so each wire module only *formats* an answer and never decides one.

Token conventions of `Answer.usage`: `input_tokens` includes cached tokens and `output_tokens`
includes reasoning tokens (the OpenAI convention); wire modules convert where their provider
counts differently.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

import msgspec

from attractor.testing.fake_providers._scenario import (
    Api,
    FinishReason,
    RequestView,
    Step,
    Thinking,
    Usage,
)

SseEvent = tuple[str | None, bytes]
"""One server-sent event: its `event:` name (None for data-only events) and its data."""

_ENCODER = msgspec.json.Encoder()
_WORD = re.compile(r"\S+\s*|\s+")
_ARGUMENT_CHUNK = 8


class WireError(Exception):
    """A request the provider would refuse with a 4xx answer.

    Attributes:
        status: HTTP status to answer with.
        message: The provider-style error message.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Call(msgspec.Struct, frozen=True):
    """A resolved tool call: id fixed, arguments as JSON text and as stream fragments."""

    id: str
    name: str
    arguments: str
    argument_deltas: tuple[str, ...]

    def arguments_object(self) -> Any:
        """The arguments decoded, or `{}` when the scripted text is not valid JSON."""
        try:
            return msgspec.json.decode(self.arguments)
        except msgspec.DecodeError:
            return {}


class Tokens(msgspec.Struct, frozen=True):
    """Resolved token counts (conventions in the module docstring)."""

    input_tokens: int
    output_tokens: int
    reasoning_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int


class Answer(msgspec.Struct, frozen=True):
    """A step resolved for one request: everything a wire module needs to format it."""

    ordinal: int
    model: str
    text: str
    text_deltas: tuple[str, ...]
    thinking: tuple[Thinking, ...]
    calls: tuple[Call, ...]
    finish: FinishReason
    usage: Tokens
    flags: frozenset[str] = frozenset()


class Wire(Protocol):
    """The surface each wire module offers the server."""

    api: Api
    named_events: bool

    def view(self, body: Any, path_model: str | None, query: Mapping[str, str]) -> RequestView:
        """Check a decoded request body and extract what selection needs."""
        ...

    def check_headers(self, headers: Mapping[str, str]) -> None:
        """Refuse (with `WireError`) a request lacking a header the provider requires."""
        ...

    def api_key(self, headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
        """The API key the request carries, if any."""
        ...

    def render_body(self, answer: Answer) -> dict[str, Any]:
        """The non-streaming response body."""
        ...

    def render_stream(self, answer: Answer) -> Iterator[SseEvent]:
        """The streamed response, event by event."""
        ...

    def render_error(self, status: int, message: str, code: str | None) -> dict[str, Any]:
        """The provider's error body for an HTTP error."""
        ...

    def stream_error(self, answer: Answer, status: int, message: str, sent: int) -> SseEvent:
        """The provider's in-stream error event, after `sent` events."""
        ...

    def key_error(self, key: str | None) -> tuple[int, str, str | None]:
        """Status, message and code the provider answers for a missing or rejected key."""
        ...


def encode(value: Any) -> bytes:
    """Encode a JSON value compactly."""
    return _ENCODER.encode(value)


def split_text(text: str, deltas: int) -> tuple[str, ...]:
    """Split text into stream deltas: one per word when `deltas` is 0, else `deltas` pieces."""
    if not text:
        return ()
    if deltas <= 0:
        return tuple(_WORD.findall(text))
    count = min(deltas, len(text))
    size, extra = divmod(len(text), count)
    pieces: list[str] = []
    start = 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        pieces.append(text[start:end])
        start = end
    return tuple(pieces)


def estimate_tokens(text: str) -> int:
    """A deterministic token estimate: one token per four characters, rounded up."""
    return math.ceil(len(text) / 4)


def _resolve_calls(step: Step, ordinal: int, id_prefix: str) -> tuple[Call, ...]:
    calls: list[Call] = []
    for index, call in enumerate(step.tool_calls):
        arguments = (
            call.raw_arguments
            if call.raw_arguments is not None
            else encode(call.arguments).decode()
        )
        pieces = tuple(
            arguments[i : i + _ARGUMENT_CHUNK] for i in range(0, len(arguments), _ARGUMENT_CHUNK)
        )
        call_id = call.id or f"{id_prefix}{ordinal:06d}_{index}"
        calls.append(Call(call_id, call.name, arguments, pieces))
    return tuple(calls)


def _resolve_usage(
    given: Usage | None,
    text: str,
    calls: tuple[Call, ...],
    thinking: tuple[Thinking, ...],
    body_size: int,
) -> Tokens:
    given = given or Usage()
    reasoning = given.reasoning_tokens
    if reasoning is None:
        reasoning = sum(estimate_tokens(t.text or t.redacted_data or "") for t in thinking)
    output = given.output_tokens
    if output is None:
        output = (
            estimate_tokens(text) + sum(estimate_tokens(c.arguments) for c in calls) + reasoning
        )
    input_tokens = given.input_tokens
    if input_tokens is None:
        input_tokens = max(1, body_size // 4) + given.cache_read_tokens + given.cache_write_tokens
    return Tokens(
        input_tokens, output, reasoning, given.cache_read_tokens, given.cache_write_tokens
    )


def resolve(
    step: Step, view: RequestView, ordinal: int, body_size: int, call_id_prefix: str
) -> Answer:
    """Resolve a step for one request.

    Args:
        step: The scripted step.
        view: The request it answers.
        ordinal: The request's 1-based number on this server (used in ids).
        body_size: Size of the request body in bytes (used to estimate input tokens).
        call_id_prefix: Prefix of generated tool-call ids (`call_`, `toolu_` …).
    """
    text = view.user_text if step.echo else (step.text or "")
    calls = _resolve_calls(step, ordinal, call_id_prefix)
    finish = step.finish or ("tool_calls" if calls else "stop")
    usage = _resolve_usage(step.usage, text, calls, step.thinking, body_size)
    return Answer(
        ordinal=ordinal,
        model=view.model,
        text=text,
        text_deltas=split_text(text, step.deltas),
        thinking=step.thinking,
        calls=calls,
        finish=finish,
        usage=usage,
        flags=view.flags,
    )


def text_of(content: Any, text_types: frozenset[str]) -> str:
    """Join the text of a message content that is a string or a list of typed parts."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    texts = [
        part["text"]
        for part in content
        if isinstance(part, dict)
        and part.get("type", "text") in text_types
        and isinstance(part.get("text"), str)
    ]
    return "\n".join(texts)


def require(condition: bool, message: str) -> None:
    """Refuse a request with a 400 when a condition does not hold."""
    if not condition:
        raise WireError(400, message)


def bearer(headers: Mapping[str, str]) -> str | None:
    """The token of an `Authorization: Bearer …` header."""
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None
