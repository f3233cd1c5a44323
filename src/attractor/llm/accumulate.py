"""StreamAccumulator: fold stream events into the Response that `complete()` would return.

Layer: llm (pure). Rule: `process(event)` only updates in-memory segments; no I/O, no clock.
Adapters use it to build the FINISH event's response; callers use it to turn any stream into a
Response. When a FINISH event carries the adapter's own accumulated response, that response
wins (it knows provider details the events do not carry).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from attractor.llm.types import (
    ContentPart,
    FinishReason,
    Message,
    Response,
    ResponseWarning,
    Role,
    StreamEvent,
    StreamEventType,
    ThinkingData,
    ToolCall,
    ToolCallData,
    Usage,
)
from attractor.llm.wire import decode_json_object

__all__ = ["StreamAccumulator"]

_ET = StreamEventType


@dataclass(slots=True)
class _Segment:
    kind: str  # "text" | "reasoning" | "tool"
    key: str
    chunks: list[str] = field(default_factory=list)
    thinking: ThinkingData | None = None
    call: ToolCall | None = None


class StreamAccumulator:
    """Collects stream events into a complete Response.

    Args:
        provider: Provider name for the built response (FINISH's response overrides it).
        model: Model name for the built response.
        response_id: Response id for the built response.
    """

    def __init__(self, provider: str = "", model: str = "", response_id: str = "") -> None:
        self.provider = provider
        self.model = model
        self.response_id = response_id
        self._segments: list[_Segment] = []
        self._by_key: dict[str, _Segment] = {}
        self._finish: FinishReason | None = None
        self._usage: Usage | None = None
        self._final: Response | None = None
        self._warnings: list[ResponseWarning] = []

    @property
    def finished(self) -> bool:
        """True once a FINISH event was processed."""
        return self._finish is not None or self._final is not None

    def process(self, event: StreamEvent) -> None:
        """Fold one event into the accumulated state."""
        kind = event.type
        if kind in (_ET.TEXT_START, _ET.TEXT_DELTA, _ET.TEXT_END):
            self._text(event)
        elif kind in (_ET.REASONING_START, _ET.REASONING_DELTA, _ET.REASONING_END):
            self._reasoning(event)
        elif kind in (_ET.TOOL_CALL_START, _ET.TOOL_CALL_DELTA, _ET.TOOL_CALL_END):
            self._tool(event)
        elif kind == _ET.FINISH:
            self._finish = event.finish_reason or FinishReason()
            self._usage = event.usage
            self._final = event.response
        if event.warnings:
            self._warnings.extend(event.warnings)

    def _segment(self, kind: str, key: str | None) -> _Segment:
        if key is None:
            last = self._segments[-1] if self._segments else None
            if last is not None and last.kind == kind:
                return last
            key = f"{kind}#{len(self._segments)}"
        full_key = f"{kind}:{key}"
        seg = self._by_key.get(full_key)
        if seg is None:
            seg = _Segment(kind, full_key)
            self._by_key[full_key] = seg
            self._segments.append(seg)
        return seg

    def _text(self, event: StreamEvent) -> None:
        seg = self._segment("text", event.text_id)
        if event.type == _ET.TEXT_DELTA and event.delta:
            seg.chunks.append(event.delta)

    def _reasoning(self, event: StreamEvent) -> None:
        seg = self._segment("reasoning", event.text_id)
        piece = event.reasoning_delta if event.reasoning_delta is not None else event.delta
        if event.type == _ET.REASONING_DELTA and piece:
            seg.chunks.append(piece)
        if event.thinking is not None:
            seg.thinking = event.thinking

    def _tool(self, event: StreamEvent) -> None:
        call = event.tool_call
        seg = self._segment("tool", call.id if call is not None else None)
        if event.type == _ET.TOOL_CALL_DELTA and event.delta:
            seg.chunks.append(event.delta)
        if call is not None and (seg.call is None or event.type == _ET.TOOL_CALL_END):
            seg.call = call

    def _parts(self) -> list[ContentPart]:
        parts: list[ContentPart] = []
        for seg in self._segments:
            part = self._part(seg)
            if part is not None:
                parts.append(part)
        return parts

    def _part(self, seg: _Segment) -> ContentPart | None:
        text = "".join(seg.chunks)
        if seg.kind == "text":
            return ContentPart.of_text(text) if text else None
        if seg.kind == "reasoning":
            thinking = seg.thinking or ThinkingData(text=text)
            if seg.thinking is not None and not seg.thinking.text and text:
                thinking = msgspec.structs.replace(seg.thinking, text=text)
            return ContentPart.of_thinking(thinking)
        if seg.call is None:
            return None
        return ContentPart.of_tool_call(self._call_data(seg.call, text))

    @staticmethod
    def _call_data(call: ToolCall, streamed: str) -> ToolCallData:
        """The call's final arguments: END's parsed ones, else its raw string, else the deltas.

        Invalid JSON stays a raw string so that tool execution can report it to the model.
        """
        if call.arguments:
            return call.to_data()
        raw = call.raw_arguments if call.raw_arguments is not None else streamed
        if not raw.strip():
            return call.to_data()
        parsed = decode_json_object(raw)
        arguments: dict[str, Any] | str = parsed if parsed is not None else raw
        return ToolCallData(id=call.id, name=call.name, arguments=arguments, type=call.type)

    def response(self) -> Response:
        """The accumulated response (FINISH's own response when it carried one)."""
        if self._final is not None:
            return self._final
        message = Message(role=Role.ASSISTANT, content=tuple(self._parts()))
        return Response(
            id=self.response_id,
            model=self.model,
            provider=self.provider,
            message=message,
            finish_reason=self._finish or FinishReason(),
            usage=self._usage or Usage(),
            warnings=tuple(self._warnings),
        )

    @property
    def partial_response(self) -> Response:
        """The response as accumulated so far (segments still open included)."""
        if self._final is not None:
            return self._final
        message = Message(role=Role.ASSISTANT, content=tuple(self._parts()))
        return Response(
            id=self.response_id,
            model=self.model,
            provider=self.provider,
            message=message,
            finish_reason=self._finish or FinishReason(reason="other"),
            usage=self._usage or Usage(),
            warnings=tuple(self._warnings),
        )
