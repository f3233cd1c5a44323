"""Message content of the unified LLM data model (spec §3.1-3.5): roles, parts, messages.

Layer: llm (pure). Rule: immutable msgspec Structs only; `ContentPart.kind` is a plain string
so provider-specific kinds round-trip untouched (ADR 0023). Re-exported by `attractor.llm.types`.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

import msgspec

from attractor.llm.errors import InvalidValueError

__all__ = [
    "AudioData",
    "ContentKind",
    "ContentPart",
    "DocumentData",
    "ImageData",
    "Message",
    "Role",
    "ThinkingData",
    "ToolCallData",
    "ToolResultData",
    "tool_calls_of",
]


class Role(StrEnum):
    """Who produced a message (spec §3.2)."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"
    DEVELOPER = "developer"


class ContentKind(StrEnum):
    """Known content-part kinds (spec §3.4); other strings are allowed and pass through."""

    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    DOCUMENT = "document"
    TOOL_CALL = "tool_call"
    TOOL_RESULT = "tool_result"
    THINKING = "thinking"
    REDACTED_THINKING = "redacted_thinking"


def _one_source(owner: str, url: str | None, data: bytes | None) -> None:
    if (url is None) == (data is None):
        raise InvalidValueError(
            f"{owner}: exactly one of `url` or `data` must be set "
            f"(got url={'set' if url is not None else 'None'}, "
            f"data={'set' if data is not None else 'None'})"
        )


class ImageData(msgspec.Struct, frozen=True, omit_defaults=True):
    """An image given by URL (or local path) or by raw bytes (spec §3.5)."""

    url: str | None = None
    data: bytes | None = None
    media_type: str | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        _one_source("ImageData", self.url, self.data)

    @property
    def effective_media_type(self) -> str:
        """The media type, defaulting to `image/png` for inline bytes (spec §3.5)."""
        return self.media_type or "image/png"

    @property
    def is_local_path(self) -> bool:
        """True when `url` names a local file (starts with `/`, `./`, `../` or `~`)."""
        return self.url is not None and self.url.startswith(("/", "./", "../", "~"))


class AudioData(msgspec.Struct, frozen=True, omit_defaults=True):
    """Audio given by URL or raw bytes."""

    url: str | None = None
    data: bytes | None = None
    media_type: str | None = None

    def __post_init__(self) -> None:
        _one_source("AudioData", self.url, self.data)


class DocumentData(msgspec.Struct, frozen=True, omit_defaults=True):
    """A document (PDF...) given by URL or raw bytes."""

    url: str | None = None
    data: bytes | None = None
    media_type: str | None = None
    file_name: str | None = None

    def __post_init__(self) -> None:
        _one_source("DocumentData", self.url, self.data)


class ToolCallData(msgspec.Struct, frozen=True, omit_defaults=True):
    """A model-initiated tool invocation inside a message (spec §3.5).

    `arguments` is the parsed JSON object, or the raw string when it was not valid JSON.
    """

    id: str
    name: str
    arguments: dict[str, Any] | str = msgspec.field(default_factory=dict)
    type: str = "function"


class ToolResultData(msgspec.Struct, frozen=True, omit_defaults=True):
    """The result of executing a tool call, inside a TOOL message."""

    tool_call_id: str
    content: str | dict[str, Any] | list[Any] = ""
    is_error: bool = False
    image_data: bytes | None = None
    image_media_type: str | None = None


class ThinkingData(msgspec.Struct, frozen=True, omit_defaults=True):
    """Model reasoning; `signature` and redacted payloads must round-trip verbatim."""

    text: str
    signature: str | None = None
    redacted: bool = False


_PAYLOAD_FIELD: dict[str, str] = {
    ContentKind.TEXT: "text",
    ContentKind.IMAGE: "image",
    ContentKind.AUDIO: "audio",
    ContentKind.DOCUMENT: "document",
    ContentKind.TOOL_CALL: "tool_call",
    ContentKind.TOOL_RESULT: "tool_result",
    ContentKind.THINKING: "thinking",
    ContentKind.REDACTED_THINKING: "thinking",
}


class ContentPart(msgspec.Struct, frozen=True, omit_defaults=True):
    """One piece of a message body; `kind` selects the populated payload (spec §3.3).

    Unknown kinds are accepted and carry their payload in `extra` (a JSON object).
    """

    kind: str
    text: str | None = None
    image: ImageData | None = None
    audio: AudioData | None = None
    document: DocumentData | None = None
    tool_call: ToolCallData | None = None
    tool_result: ToolResultData | None = None
    thinking: ThinkingData | None = None
    extra: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        wanted = _PAYLOAD_FIELD.get(self.kind)
        if wanted is not None and getattr(self, wanted) is None:
            raise InvalidValueError(
                f"ContentPart(kind={str(self.kind)!r}) needs its `{wanted}` field set"
            )

    @classmethod
    def of_text(cls, text: str) -> ContentPart:
        """A TEXT part."""
        return cls(kind=ContentKind.TEXT, text=text)

    @classmethod
    def of_image(cls, image: ImageData) -> ContentPart:
        """An IMAGE part."""
        return cls(kind=ContentKind.IMAGE, image=image)

    @classmethod
    def of_tool_call(cls, call: ToolCallData) -> ContentPart:
        """A TOOL_CALL part."""
        return cls(kind=ContentKind.TOOL_CALL, tool_call=call)

    @classmethod
    def of_tool_result(cls, result: ToolResultData) -> ContentPart:
        """A TOOL_RESULT part."""
        return cls(kind=ContentKind.TOOL_RESULT, tool_result=result)

    @classmethod
    def of_thinking(cls, thinking: ThinkingData) -> ContentPart:
        """A THINKING part, or REDACTED_THINKING when `thinking.redacted`."""
        kind = ContentKind.REDACTED_THINKING if thinking.redacted else ContentKind.THINKING
        return cls(kind=kind, thinking=thinking)


class Message(msgspec.Struct, frozen=True, omit_defaults=True):
    """One conversation turn (spec §3.1)."""

    role: Role
    content: tuple[ContentPart, ...] = ()
    name: str | None = None
    tool_call_id: str | None = None

    @property
    def text(self) -> str:
        """Concatenation of all TEXT parts ('' when there are none)."""
        return "".join(p.text or "" for p in self.content if p.kind == ContentKind.TEXT)

    @classmethod
    def system(cls, text: str) -> Message:
        """A SYSTEM message with one text part."""
        return cls(role=Role.SYSTEM, content=(ContentPart.of_text(text),))

    @classmethod
    def developer(cls, text: str) -> Message:
        """A DEVELOPER message with one text part."""
        return cls(role=Role.DEVELOPER, content=(ContentPart.of_text(text),))

    @classmethod
    def user(cls, text: str, *parts: ContentPart) -> Message:
        """A USER message: the text, then any further parts (images...)."""
        return cls(role=Role.USER, content=(ContentPart.of_text(text), *parts))

    @classmethod
    def assistant(cls, text: str, *parts: ContentPart) -> Message:
        """An ASSISTANT message: the text, then any further parts (tool calls...)."""
        return cls(role=Role.ASSISTANT, content=(ContentPart.of_text(text), *parts))

    @classmethod
    def tool_result(
        cls,
        tool_call_id: str,
        content: str | dict[str, Any] | list[Any],
        *,
        is_error: bool = False,
        name: str | None = None,
    ) -> Message:
        """A TOOL message answering the tool call `tool_call_id`."""
        data = ToolResultData(tool_call_id=tool_call_id, content=content, is_error=is_error)
        part = ContentPart.of_tool_result(data)
        return cls(role=Role.TOOL, content=(part,), tool_call_id=tool_call_id, name=name)


def tool_calls_of(parts: Iterable[ContentPart]) -> list[ToolCallData]:
    """The ToolCallData payloads among `parts`, in order."""
    return [p.tool_call for p in parts if p.kind == ContentKind.TOOL_CALL and p.tool_call]
