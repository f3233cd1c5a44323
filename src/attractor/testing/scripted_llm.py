"""ScriptedAdapter: an in-process ProviderAdapter that replays scripted answers.

Layer: testing (ships with the package so tests, the pipeline engine and users can run LLM code
offline). Rule: it is a real `ProviderAdapter` — it receives the same `Request` and `CallContext`
as the HTTP adapters — and it records every call (request, runtime id, provider, key, base URL)
so tests can assert exactly what was sent under which runtime.

A script item is one of:
- a `Response` — returned by `complete()`, or streamed as start/delta/end events by `stream()`;
- a sequence of `StreamEvent`s (an `SDKError` inside it ends the stream with an ERROR event, as
  a mid-stream failure would) — streamed as is, or accumulated for `complete()`;
- an `SDKError` — raised before any data (like an HTTP error status);
- a callable `(request, ctx) -> item` (sync or async) — computed per call.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Union

import msgspec

from attractor.llm.accumulate import StreamAccumulator
from attractor.llm.errors import ConfigurationError, SDKError, error_info
from attractor.llm.runtime import CallContext
from attractor.llm.types import (
    ContentKind,
    ContentPart,
    FinishReason,
    Message,
    Request,
    Response,
    Role,
    StreamEvent,
    StreamEventType,
    ThinkingData,
    ToolCall,
    ToolCallData,
    Usage,
)

__all__ = [
    "RecordedCall",
    "ScriptItem",
    "ScriptedAdapter",
    "events_from_response",
    "text_response",
    "thinking_part",
    "tool_call_response",
]

_ET = StreamEventType
_StaticItem = Union[Response, Sequence[StreamEvent | SDKError], SDKError]  # noqa: UP007
ScriptItem = Union[  # noqa: UP007
    _StaticItem, Callable[[Request, CallContext], "_StaticItem | Awaitable[_StaticItem]"]
]


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """What one call to the scripted adapter carried."""

    method: str
    request: Request
    runtime_id: str
    provider: str
    profile: str | None
    api_key: str | None
    base_url: str | None
    headers: tuple[tuple[str, str], ...]


def text_response(
    text: str,
    *,
    model: str = "scripted-model",
    provider: str = "scripted",
    usage: Usage | None = None,
    response_id: str = "resp_scripted",
    finish: str = "stop",
) -> Response:
    """A Response holding one text part."""
    return Response(
        id=response_id,
        model=model,
        provider=provider,
        message=Message.assistant(text),
        finish_reason=FinishReason(reason=finish, raw=finish),
        usage=usage or Usage.of(10, max(1, len(text) // 4)),
    )


def tool_call_response(
    *calls: ToolCall | tuple[str, dict[str, Any]],
    text: str = "",
    model: str = "scripted-model",
    provider: str = "scripted",
    usage: Usage | None = None,
) -> Response:
    """A Response asking for tool calls (ids `call_1`, `call_2`... when given as tuples)."""
    parts: list[ContentPart] = [ContentPart.of_text(text)] if text else []
    for index, call in enumerate(calls, start=1):
        if isinstance(call, ToolCall):
            data = (
                call.to_data()
                if call.raw_arguments is None
                else ToolCallData(id=call.id, name=call.name, arguments=call.raw_arguments)
            )
        else:
            data = ToolCallData(id=f"call_{index}", name=call[0], arguments=call[1])
        parts.append(ContentPart.of_tool_call(data))
    return Response(
        id="resp_scripted_tools",
        model=model,
        provider=provider,
        message=Message(role=Role.ASSISTANT, content=tuple(parts)),
        finish_reason=FinishReason(reason="tool_calls", raw="tool_calls"),
        usage=usage or Usage.of(10, 5),
    )


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _part_events(index: int, part: ContentPart, size: int) -> list[StreamEvent]:
    seg = f"seg_{index}"
    if part.kind == ContentKind.TEXT and part.text is not None:
        body = [
            StreamEvent(type=_ET.TEXT_DELTA, delta=c, text_id=seg) for c in _chunks(part.text, size)
        ]
        return [
            StreamEvent(type=_ET.TEXT_START, text_id=seg),
            *body,
            StreamEvent(type=_ET.TEXT_END, text_id=seg),
        ]
    if part.thinking is not None:
        text = "" if part.thinking.redacted else part.thinking.text
        body = [
            StreamEvent(type=_ET.REASONING_DELTA, reasoning_delta=c, text_id=seg)
            for c in _chunks(text, size)
            if c
        ]
        end = StreamEvent(type=_ET.REASONING_END, text_id=seg, thinking=part.thinking)
        return [StreamEvent(type=_ET.REASONING_START, text_id=seg), *body, end]
    if part.tool_call is not None:
        call = ToolCall.from_data(part.tool_call)
        raw = call.raw_arguments or msgspec.json.encode(call.arguments).decode()
        head = ToolCall(id=call.id, name=call.name, type=call.type)
        body = [
            StreamEvent(type=_ET.TOOL_CALL_DELTA, delta=c, tool_call=head)
            for c in _chunks(raw, size)
        ]
        done = ToolCall(call.id, call.name, call.arguments, raw, call.type)
        return [
            StreamEvent(type=_ET.TOOL_CALL_START, tool_call=head),
            *body,
            StreamEvent(type=_ET.TOOL_CALL_END, tool_call=done),
        ]
    return [StreamEvent(type=_ET.PROVIDER_EVENT, raw={"part": msgspec.to_builtins(part)})]


def events_from_response(response: Response, chunk_size: int = 8) -> list[StreamEvent]:
    """The start/delta/end event sequence a provider would stream for `response`."""
    events = [StreamEvent(type=_ET.STREAM_START, warnings=response.warnings)]
    for index, part in enumerate(response.message.content):
        events.extend(_part_events(index, part, chunk_size))
    finish = StreamEvent(
        type=_ET.FINISH,
        finish_reason=response.finish_reason,
        usage=response.usage,
        response=response,
    )
    return [*events, finish]


class ScriptedAdapter:
    """A ProviderAdapter answering from a script or a responder function.

    Args:
        script: Items answered in order, one per call.
        name: Provider name reported by `name`.
        responder: Used when the script is exhausted (or instead of it): `(request, ctx) -> item`.
        delay: Seconds to wait before answering each call (timeouts, abort, concurrency tests).
        event_delay: Seconds to wait before each streamed event.
        chunk_size: Characters per delta when streaming a Response.
    """

    def __init__(
        self,
        script: Iterable[ScriptItem] = (),
        *,
        name: str = "scripted",
        responder: ScriptItem | None = None,
        delay: float = 0.0,
        event_delay: float = 0.0,
        chunk_size: int = 8,
    ) -> None:
        self._name = name
        self._script: deque[ScriptItem] = deque(script)
        self._responder = responder
        self.delay = delay
        self.event_delay = event_delay
        self.chunk_size = chunk_size
        self.calls: list[RecordedCall] = []
        self.closed = False

    @property
    def name(self) -> str:
        """The provider name."""
        return self._name

    def supports_tool_choice(self, mode: str) -> bool:
        """Every tool-choice mode is supported."""
        return mode in ("auto", "none", "required", "named")

    async def close(self) -> None:
        """Mark the adapter closed (recorded for tests)."""
        self.closed = True

    def _record(self, method: str, request: Request, ctx: CallContext) -> None:
        key = ctx.config.api_key.reveal() if ctx.config.api_key else None
        self.calls.append(
            RecordedCall(
                method,
                request,
                ctx.runtime_id,
                ctx.provider,
                ctx.profile,
                key,
                ctx.config.base_url,
                ctx.config.headers,
            )
        )

    async def _next(self, request: Request, ctx: CallContext) -> _StaticItem:
        if self._script:
            item = self._script.popleft()
        elif self._responder is not None:
            item = self._responder
        else:
            raise ConfigurationError(
                f"scripted adapter {self._name!r} has no answer left for call "
                f"#{len(self.calls)} (model {request.model!r}); add items to its script"
            )
        if callable(item) and not isinstance(item, SDKError):
            produced = item(request, ctx)
            return await produced if inspect.isawaitable(produced) else produced
        return item

    async def complete(self, request: Request, ctx: CallContext) -> Response:
        """Answer with the next script item as a complete Response."""
        self._record("complete", request, ctx)
        item = await self._next(request, ctx)
        if self.delay:
            await asyncio.sleep(self.delay)
        if isinstance(item, SDKError):
            raise item
        if isinstance(item, Response):
            return item
        acc = StreamAccumulator(provider=ctx.provider, model=request.model)
        for event in item:
            if isinstance(event, SDKError):
                raise event
            acc.process(event)
        return acc.response()

    async def stream(self, request: Request, ctx: CallContext) -> AsyncIterator[StreamEvent]:
        """Stream the next script item (a Response is cut into start/delta/end events)."""
        self._record("stream", request, ctx)
        item = await self._next(request, ctx)
        if self.delay:
            await asyncio.sleep(self.delay)
        if isinstance(item, SDKError):
            raise item
        events = events_from_response(item, self.chunk_size) if isinstance(item, Response) else item
        for event in events:
            if self.event_delay:
                await asyncio.sleep(self.event_delay)
            if isinstance(event, SDKError):
                yield StreamEvent(type=_ET.ERROR, error=error_info(event))
                return
            yield event


def thinking_part(text: str, signature: str | None = None) -> ContentPart:
    """A THINKING content part (convenience for scripts)."""
    return ContentPart.of_thinking(ThinkingData(text=text, signature=signature))
