"""Data model of the unified LLM client (spec §3, §5.3, §5.4): frozen msgspec Structs.

Layer: llm (pure). Rule: every value that crosses the adapter boundary is defined here as an
immutable Struct that encodes to and decodes from JSON without loss; nothing here does I/O.

Message content (Role, ContentPart and its payloads, Message) lives in `content.py` and is
re-exported here, so adapters import the whole model from `attractor.llm.types`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

import msgspec

from attractor.llm.content import (
    AudioData,
    ContentKind,
    ContentPart,
    DocumentData,
    ImageData,
    Message,
    Role,
    ThinkingData,
    ToolCallData,
    ToolResultData,
    tool_calls_of,
)
from attractor.llm.errors import ErrorInfo, InvalidValueError

__all__ = [
    "AudioData",
    "ContentKind",
    "ContentPart",
    "DocumentData",
    "FinishKind",
    "FinishReason",
    "ImageData",
    "Message",
    "RateLimitInfo",
    "Request",
    "Response",
    "ResponseFormat",
    "ResponseWarning",
    "Role",
    "StreamEvent",
    "StreamEventType",
    "ThinkingData",
    "ToolCall",
    "ToolCallData",
    "ToolChoice",
    "ToolDefinition",
    "ToolResult",
    "ToolResultData",
    "Usage",
    "from_json_object",
    "to_json_object",
    "tool_calls_of",
]


_TOOL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


class ToolDefinition(msgspec.Struct, frozen=True, omit_defaults=True):
    """A tool the model may call: name, description, JSON Schema of its input (spec §5.1)."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = msgspec.field(
        default_factory=lambda: {"type": "object", "properties": {}}
    )

    def __post_init__(self) -> None:
        if not _TOOL_NAME.fullmatch(self.name):
            raise InvalidValueError(
                f"tool name {self.name!r} is invalid: use a letter then letters, digits or "
                "underscores, at most 64 characters (e.g. 'get_weather')"
            )
        if self.parameters.get("type") != "object":
            raise InvalidValueError(
                f"tool {self.name!r}: parameters must be a JSON Schema whose root has "
                f'"type": "object" (got {self.parameters.get("type")!r})'
            )


_CHOICE_MODES = frozenset({"auto", "none", "required", "named"})


class ToolChoice(msgspec.Struct, frozen=True, omit_defaults=True):
    """How the model may use tools: auto, none, required or named (spec §5.3)."""

    mode: str = "auto"
    tool_name: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in _CHOICE_MODES:
            raise InvalidValueError(
                f"tool choice mode {self.mode!r} is unknown; use one of auto, none, required, named"
            )
        if self.mode == "named" and not self.tool_name:
            raise InvalidValueError("tool choice mode 'named' needs `tool_name`")

    @classmethod
    def named(cls, tool_name: str) -> ToolChoice:
        """Force a call to the tool `tool_name`."""
        return cls(mode="named", tool_name=tool_name)


_FORMAT_TYPES = frozenset({"text", "json", "json_schema"})


class ResponseFormat(msgspec.Struct, frozen=True, omit_defaults=True):
    """Requested output shape: text, json, or json_schema with a schema (spec §3.10)."""

    type: str = "text"
    json_schema: dict[str, Any] | None = None
    strict: bool = False
    name: str | None = None

    def __post_init__(self) -> None:
        if self.type not in _FORMAT_TYPES:
            raise InvalidValueError(
                f"response format type {self.type!r} is unknown; use text, json or json_schema"
            )
        if self.type == "json_schema" and self.json_schema is None:
            raise InvalidValueError("response format 'json_schema' needs `json_schema`")


class Request(msgspec.Struct, frozen=True, omit_defaults=True):
    """The single input of `complete()` and `stream()` (spec §3.6)."""

    model: str
    messages: tuple[Message, ...]
    provider: str | None = None
    tools: tuple[ToolDefinition, ...] | None = None
    tool_choice: ToolChoice | None = None
    response_format: ResponseFormat | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop_sequences: tuple[str, ...] | None = None
    reasoning_effort: str | None = None
    metadata: dict[str, str] | None = None
    provider_options: dict[str, Any] | None = None

    def options_for(self, provider: str) -> dict[str, Any]:
        """The `provider_options[provider]` mapping, or {} (a non-mapping value is ignored)."""
        value = (self.provider_options or {}).get(provider)
        return dict(value) if isinstance(value, Mapping) else {}

    @property
    def effective_tool_choice(self) -> ToolChoice | None:
        """The tool choice, defaulting to AUTO when tools are present (spec §3.6)."""
        if self.tool_choice is not None:
            return self.tool_choice
        return ToolChoice() if self.tools else None


class FinishKind(StrEnum):
    """Unified finish reasons (spec §3.8)."""

    STOP = "stop"
    LENGTH = "length"
    TOOL_CALLS = "tool_calls"
    CONTENT_FILTER = "content_filter"
    ERROR = "error"
    OTHER = "other"


class FinishReason(msgspec.Struct, frozen=True, omit_defaults=True):
    """Why generation stopped: the unified `reason` plus the provider's `raw` string."""

    reason: str = FinishKind.STOP
    raw: str | None = None


def _add_opt(a: int | None, b: int | None) -> int | None:
    if a is None and b is None:
        return None
    return (a or 0) + (b or 0)


class Usage(msgspec.Struct, frozen=True, omit_defaults=True):
    """Token counts; `+` sums them (optional fields stay None only if None on both sides)."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    reasoning_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    raw: dict[str, Any] | None = None

    @classmethod
    def of(cls, input_tokens: int, output_tokens: int, **optional: Any) -> Usage:
        """Usage whose total is input + output."""
        total = input_tokens + output_tokens
        return cls(input_tokens, output_tokens, total, **optional)

    def __add__(self, other: Usage) -> Usage:
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            reasoning_tokens=_add_opt(self.reasoning_tokens, other.reasoning_tokens),
            cache_read_tokens=_add_opt(self.cache_read_tokens, other.cache_read_tokens),
            cache_write_tokens=_add_opt(self.cache_write_tokens, other.cache_write_tokens),
        )


class ResponseWarning(msgspec.Struct, frozen=True, omit_defaults=True):
    """A non-fatal issue (spec §3.11 `Warning`, renamed to not shadow the builtin)."""

    message: str
    code: str | None = None


class RateLimitInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    """Rate-limit figures read from response headers (informational only)."""

    requests_remaining: int | None = None
    requests_limit: int | None = None
    tokens_remaining: int | None = None
    tokens_limit: int | None = None
    reset_at: datetime | None = None


class ToolCall(msgspec.Struct, frozen=True, omit_defaults=True):
    """A tool call extracted for execution (spec §5.4)."""

    id: str
    name: str
    arguments: dict[str, Any] = msgspec.field(default_factory=dict)
    raw_arguments: str | None = None
    type: str = "function"

    @classmethod
    def from_data(cls, data: ToolCallData) -> ToolCall:
        """The extracted form of a ToolCallData (string arguments kept raw, parsed if JSON)."""
        if isinstance(data.arguments, str):
            return cls(data.id, data.name, _parse_object(data.arguments), data.arguments, data.type)
        return cls(data.id, data.name, dict(data.arguments), None, data.type)

    def to_data(self) -> ToolCallData:
        """The message-model form of this call."""
        return ToolCallData(id=self.id, name=self.name, arguments=self.arguments, type=self.type)


def _parse_object(text: str) -> dict[str, Any]:
    """Parse a JSON object; anything else (invalid JSON, non-object) gives {}."""
    try:
        value = msgspec.json.decode(text) if text.strip() else {}
    except msgspec.DecodeError:
        return {}
    return value if isinstance(value, dict) else {}


class ToolResult(msgspec.Struct, frozen=True, omit_defaults=True):
    """The outcome of one tool execution (spec §5.4)."""

    tool_call_id: str
    content: str | dict[str, Any] | list[Any] = ""
    is_error: bool = False

    def to_message(self) -> Message:
        """The TOOL message carrying this result."""
        return Message.tool_result(self.tool_call_id, self.content, is_error=self.is_error)


class Response(msgspec.Struct, frozen=True, omit_defaults=True):
    """A complete model answer (spec §3.7)."""

    id: str
    model: str
    provider: str
    message: Message
    finish_reason: FinishReason = msgspec.field(default_factory=FinishReason)
    usage: Usage = msgspec.field(default_factory=Usage)
    raw: dict[str, Any] | None = None
    warnings: tuple[ResponseWarning, ...] = ()
    rate_limit: RateLimitInfo | None = None

    @property
    def text(self) -> str:
        """Concatenated text of the message."""
        return self.message.text

    @property
    def tool_calls(self) -> list[ToolCall]:
        """Tool calls in the message, in order."""
        return [
            ToolCall.from_data(p.tool_call)
            for p in self.message.content
            if p.kind == ContentKind.TOOL_CALL and p.tool_call is not None
        ]

    @property
    def reasoning(self) -> str | None:
        """Concatenated visible reasoning text, or None when there is none."""
        texts = [
            p.thinking.text
            for p in self.message.content
            if p.kind == ContentKind.THINKING and p.thinking is not None
        ]
        return "".join(texts) if texts else None


class StreamEventType(StrEnum):
    """Kinds of stream events (spec §3.14) plus `step_finish` of the high-level stream."""

    STREAM_START = "stream_start"
    TEXT_START = "text_start"
    TEXT_DELTA = "text_delta"
    TEXT_END = "text_end"
    REASONING_START = "reasoning_start"
    REASONING_DELTA = "reasoning_delta"
    REASONING_END = "reasoning_end"
    TOOL_CALL_START = "tool_call_start"
    TOOL_CALL_DELTA = "tool_call_delta"
    TOOL_CALL_END = "tool_call_end"
    FINISH = "finish"
    ERROR = "error"
    PROVIDER_EVENT = "provider_event"
    STEP_FINISH = "step_finish"


class StreamEvent(msgspec.Struct, frozen=True, omit_defaults=True):
    """One normalised streaming event (spec §3.13).

    Conventions: `text_id` identifies the text *or* reasoning segment of START/DELTA/END events;
    TOOL_CALL_START/DELTA/END carry `tool_call` (id and name; arguments complete on END) and
    DELTA carries the argument fragment in `delta`; REASONING_END may carry the finished
    `thinking` (with its signature, or redacted); FINISH carries `finish_reason`, `usage` and
    the accumulated `response`; ERROR carries `error`.
    """

    type: str
    delta: str | None = None
    text_id: str | None = None
    reasoning_delta: str | None = None
    tool_call: ToolCall | None = None
    thinking: ThinkingData | None = None
    finish_reason: FinishReason | None = None
    usage: Usage | None = None
    response: Response | None = None
    error: ErrorInfo | None = None
    warnings: tuple[ResponseWarning, ...] = ()
    raw: dict[str, Any] | None = None


_T = TypeVar("_T")


def to_json_object(value: msgspec.Struct) -> dict[str, Any]:
    """A data-model value as plain JSON builtins (bytes as base64), e.g. for effect records."""
    built = msgspec.to_builtins(value)
    if not isinstance(built, dict):
        raise InvalidValueError(f"{type(value).__name__} does not encode to a JSON object")
    return built


def from_json_object(data: Any, cls: type[_T]) -> _T:
    """Rebuild a data-model value from JSON builtins; errors name the bad path.

    Raises:
        InvalidValueError: e.g. "invalid Request: Expected `str`, got `int` - at `$.model`".
    """
    try:
        return msgspec.convert(data, cls)
    except msgspec.ValidationError as exc:
        raise InvalidValueError(f"invalid {cls.__name__}: {exc}") from exc
