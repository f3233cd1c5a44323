"""OpenAI-compatible Chat Completions adapter: `POST {base}/chat/completions` (spec §7.10).

Layer: llm adapters. Rule: the translation half is pure — `request_body`, `parse_response` and
`ChatStream` (data-only SSE chunks -> StreamEvents, tool calls keyed by `index`) do no I/O;
`OpenAIChatAdapter` is a stateless shell for third-party servers (vLLM, Ollama, Groq...). It
needs a base URL; the key is optional (local servers often take none).
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterable
from contextlib import aclosing
from typing import Any

from attractor.llm.adapters._base import (
    ALL_TOOL_CHOICES,
    SseMessage,
    WireRequest,
    bearer_headers,
    finish_event,
    inline_local_images,
    parse_json_response,
    post_json,
    stream_sse,
    translate_sse,
)
from attractor.llm.errors import ConfigurationError, StreamError
from attractor.llm.runtime import CallContext
from attractor.llm.translate import (
    arguments_of,
    arguments_text,
    as_count,
    as_list,
    as_object,
    as_str,
    merge_options,
    tool_output_text,
    tool_results_of,
    unsupported_content,
)
from attractor.llm.types import (
    ContentKind,
    ContentPart,
    FinishReason,
    Message,
    Request,
    Response,
    ResponseWarning,
    Role,
    StreamEvent,
    ThinkingData,
    ToolCall,
    ToolCallData,
    ToolDefinition,
    Usage,
)
from attractor.llm.wire import data_uri, error_from_payload, image_url

__all__ = ["ChatStream", "OpenAIChatAdapter", "parse_response", "request_body", "usage_of"]

_AUDIO_FORMATS = {"audio/wav": "wav", "audio/x-wav": "wav", "audio/mpeg": "mp3", "audio/mp3": "mp3"}
_FINISH = {"function_call": "tool_calls"} | {k: k for k in ("stop", "length", "tool_calls")}
_FINISH["content_filter"] = "content_filter"
_END = "attractor.end_of_stream"
_ASSISTANT_TEXT = (ContentKind.TEXT, ContentKind.THINKING, ContentKind.REDACTED_THINKING)


def request_body(
    request: Request, *, options_key: str = "openai_compatible", stream: bool = False
) -> WireRequest:
    """A Chat Completions body (local images inlined first); UnsupportedContentError else."""
    body: dict[str, Any] = {"model": request.model, "messages": _messages(request, options_key)}
    for key, value in (
        ("temperature", request.temperature),
        ("top_p", request.top_p),
        ("max_tokens", request.max_tokens),
        ("stop", list(request.stop_sequences or ()) or None),
        ("reasoning_effort", request.reasoning_effort),
        ("metadata", request.metadata),
    ):
        if value is not None:
            body[key] = value
    if request.tools:
        body["tools"] = [{"type": "function", "function": _function(t)} for t in request.tools]
    choice = request.tool_choice
    if choice is not None:
        named = {"type": "function", "function": {"name": choice.tool_name}}
        body["tool_choice"] = named if choice.mode == "named" else choice.mode
    _response_format(request, body)
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    merge_options(body, request.options_for(options_key))
    return WireRequest(body, ())


def _function(tool: ToolDefinition) -> dict[str, Any]:
    function = {"name": tool.name, "parameters": tool.parameters}
    return function | {"description": tool.description} if tool.description else function


def _response_format(request: Request, body: dict[str, Any]) -> None:
    fmt = request.response_format
    if fmt is not None and fmt.type == "json":
        body["response_format"] = {"type": "json_object"}
    elif fmt is not None and fmt.type == "json_schema":
        schema = {"name": fmt.name or "response", "schema": fmt.json_schema, "strict": fmt.strict}
        body["response_format"] = {"type": "json_schema", "json_schema": schema}


def _messages(request: Request, provider: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for index, message in enumerate(request.messages):
        if message.role in (Role.SYSTEM, Role.DEVELOPER):
            # Compatible servers rarely know the `developer` role; `system` means the same there.
            result.append({"role": "system", "content": message.text})
        elif message.role == Role.ASSISTANT:
            result.append(_assistant(index, message, provider))
        else:
            result.extend(_user_or_tool(index, message, provider))
    return result


def _user_or_tool(index: int, message: Message, provider: str) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = [
        {"role": "tool", "tool_call_id": r.tool_call_id, "content": tool_output_text(r)}
        for r in tool_results_of(index, message, provider)
    ]
    rest = [p for p in message.content if p.tool_result is None]
    if message.role == Role.TOOL or not rest:
        return results
    if all(p.kind == ContentKind.TEXT for p in rest):
        content: Any = "".join(p.text or "" for p in rest)
    else:
        content = [_user_part(index, part, provider) for part in rest]
    return [*results, {"role": "user", "content": content}]


def _user_part(index: int, part: ContentPart, provider: str) -> dict[str, Any]:
    if part.kind == ContentKind.TEXT:
        return {"type": "text", "text": part.text or ""}
    if part.image is not None:
        url = {"url": image_url(part.image), "detail": part.image.detail or "auto"}
        return {"type": "image_url", "image_url": url}
    audio = part.audio
    if audio is not None and audio.data is not None and audio.media_type in _AUDIO_FORMATS:
        payload = base64.b64encode(audio.data).decode("ascii")
        fmt = _AUDIO_FORMATS[audio.media_type]
        return {"type": "input_audio", "input_audio": {"data": payload, "format": fmt}}
    doc = part.document
    if doc is not None and doc.data is not None:
        file = {"file_data": data_uri(doc.media_type or "application/pdf", doc.data)}
        return {"type": "file", "file": {**file, "filename": doc.file_name or "document.pdf"}}
    if part.extra is not None and part.kind not in frozenset(ContentKind):
        return dict(part.extra)
    hint = "Chat Completions takes audio as wav/mp3 bytes and documents as bytes, not URLs"
    raise unsupported_content(provider, index, str(part.kind), "user", hint)


def _assistant(index: int, message: Message, provider: str) -> dict[str, Any]:
    calls: list[dict[str, Any]] = []
    for part in message.content:
        call = part.tool_call
        if call is not None:
            function = {"name": call.name, "arguments": arguments_text(call)}
            calls.append({"id": call.id, "type": "function", "function": function})
        elif part.kind not in _ASSISTANT_TEXT:
            hint = "assistant turns may hold text and tool calls (thinking is not sent back)"
            raise unsupported_content(provider, index, str(part.kind), "assistant", hint)
    entry: dict[str, Any] = {"role": "assistant", "content": message.text or None}
    return {**entry, "tool_calls": calls} if calls else entry


def parse_response(
    body: dict[str, Any], *, provider: str, warnings: Iterable[ResponseWarning] = ()
) -> Response:
    """A Response from a `chat.completion`; an error object (some servers send 200) raises."""
    if "error" in body:
        raise error_from_payload(provider, body.get("error"), body)
    choice = as_object(next(iter(as_list(body.get("choices"))), None))
    parts = message_parts(as_object(choice.get("message")))
    return Response(
        id=as_str(body.get("id")),
        model=as_str(body.get("model")),
        provider=provider,
        message=Message(role=Role.ASSISTANT, content=tuple(parts)),
        finish_reason=_finish(choice.get("finish_reason"), parts),
        usage=usage_of(body.get("usage")),
        raw=body,
        warnings=tuple(warnings),
    )


def message_parts(message: dict[str, Any]) -> list[ContentPart]:
    """Reasoning, text and tool-call parts of a Chat `message` object, in that order."""
    parts: list[ContentPart] = []
    reasoning = as_str(message.get("reasoning_content")) or as_str(message.get("reasoning"))
    if reasoning:
        parts.append(ContentPart.of_thinking(ThinkingData(text=reasoning)))
    content = message.get("content")
    if isinstance(content, list):  # some servers answer with a list of text parts
        content = "".join(as_str(as_object(p).get("text")) for p in content)
    if as_str(content):
        parts.append(ContentPart.of_text(as_str(content)))
    for call in map(as_object, as_list(message.get("tool_calls"))):
        function = as_object(call.get("function"))
        arguments = arguments_of(as_str(function.get("arguments")))
        data = ToolCallData(as_str(call.get("id")), as_str(function.get("name")), arguments)
        parts.append(ContentPart.of_tool_call(data))
    return parts


def _finish(raw: Any, parts: list[ContentPart]) -> FinishReason:
    reason = as_str(raw)
    if not reason:
        has_calls = any(p.kind == ContentKind.TOOL_CALL for p in parts)
        return FinishReason("tool_calls" if has_calls else "stop", None)
    return FinishReason(_FINISH.get(reason, "other"), reason)


def usage_of(data: Any) -> Usage:
    """Usage from a Chat `usage` object (cached and reasoning details when sent)."""
    raw = as_object(data)
    prompt = as_count(raw.get("prompt_tokens")) or 0
    completion = as_count(raw.get("completion_tokens")) or 0
    total = as_count(raw.get("total_tokens"))
    reasoning = as_object(raw.get("completion_tokens_details")).get("reasoning_tokens")
    cached = as_object(raw.get("prompt_tokens_details")).get("cached_tokens")
    return Usage(
        input_tokens=prompt,
        output_tokens=completion,
        total_tokens=prompt + completion if total is None else total,
        reasoning_tokens=as_count(reasoning),
        cache_read_tokens=as_count(cached),
        raw=raw or None,
    )


class ChatStream:
    """`chat.completion.chunk` payloads -> StreamEvents; one instance per stream.

    Tool calls are keyed by `index` (id and name come first, then argument fragments). The
    `_END` marker (at `[DONE]` or a clean close) closes open segments and emits FINISH.
    """

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.done = False
        self._started = False
        self._meta: dict[str, Any] = {}
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._reasoning_open = False
        self._calls: dict[int, tuple[ToolCall, list[str]]] = {}
        self._finish: Any = None
        self._usage: Any = None

    def finished(self) -> bool:
        """True once FINISH was emitted."""
        return self.done

    def feed(self, event_name: str, payload: dict[str, Any]) -> list[StreamEvent]:
        """The events for one chunk (or the end marker)."""
        if event_name == _END:
            return self._end(payload.get("done") is True)
        if "error" in payload:
            raise error_from_payload(self.provider, payload.get("error"), payload)
        events = [] if self._started else self._begin(payload)
        if isinstance(payload.get("usage"), dict):
            self._usage = payload["usage"]
        choice = as_object(next(iter(as_list(payload.get("choices"))), None))
        delta = as_object(choice.get("delta"))
        piece = as_str(delta.get("reasoning_content")) or as_str(delta.get("reasoning"))
        if piece:
            events.extend(self._segment("reasoning", self._reasoning, piece))
        piece = as_str(delta.get("content"))
        if piece:
            events.extend(self._segment("text", self._text, piece))
        for position, call in enumerate(as_list(delta.get("tool_calls"))):
            events.extend(self._tool_delta(position, as_object(call)))
        self._finish = choice.get("finish_reason") or self._finish
        return events

    def _begin(self, payload: dict[str, Any]) -> list[StreamEvent]:
        self._started = True
        self._meta = {"id": payload.get("id"), "model": payload.get("model")}
        return [StreamEvent(type="stream_start")]

    def _segment(self, kind: str, chunks: list[str], piece: str) -> list[StreamEvent]:
        events = self._close_reasoning() if kind == "text" else []
        if not chunks:
            events.append(StreamEvent(type=f"{kind}_start", text_id=kind))
            self._reasoning_open = self._reasoning_open or kind == "reasoning"
        chunks.append(piece)
        if kind == "text":
            return [*events, StreamEvent(type="text_delta", delta=piece, text_id=kind)]
        return [*events, StreamEvent(type="reasoning_delta", reasoning_delta=piece, text_id=kind)]

    def _close_reasoning(self) -> list[StreamEvent]:
        if not self._reasoning_open:
            return []
        self._reasoning_open = False
        return [StreamEvent(type="reasoning_end", text_id="reasoning")]

    def _tool_delta(self, position: int, call: dict[str, Any]) -> list[StreamEvent]:
        index = call.get("index")
        key = index if isinstance(index, int) else position
        function = as_object(call.get("function"))
        events = self._close_reasoning()
        if key not in self._calls:
            call_id = as_str(call.get("id")) or f"call_{key}"
            head = ToolCall(id=call_id, name=as_str(function.get("name")))
            self._calls[key] = (head, [])
            events.append(StreamEvent(type="tool_call_start", tool_call=head))
        head, fragments = self._calls[key]
        piece = as_str(function.get("arguments"))
        if piece:
            fragments.append(piece)
            events.append(StreamEvent(type="tool_call_delta", tool_call=head, delta=piece))
        return events

    def _end(self, saw_done: bool) -> list[StreamEvent]:
        if not saw_done and self._finish is None:
            raise StreamError(f"{self.provider}: stream ended before finish_reason or [DONE]")
        self.done = True
        message = {
            "reasoning_content": "".join(self._reasoning),
            "content": "".join(self._text),
            "tool_calls": [
                {"id": head.id, "function": {"name": head.name, "arguments": "".join(chunks)}}
                for head, chunks in self._calls.values()
            ],
        }
        body = {**self._meta, "choices": [{"message": message, "finish_reason": self._finish}]}
        response = parse_response({**body, "usage": self._usage}, provider=self.provider)
        return [*self._closing(response), finish_event(response)]

    def _closing(self, response: Response) -> list[StreamEvent]:
        events = self._close_reasoning()
        if self._text:
            events.append(StreamEvent(type="text_end", text_id="text"))
        for call in response.tool_calls:
            events.append(StreamEvent(type="tool_call_end", tool_call=call))
        return events


def _url(ctx: CallContext) -> str:
    if not ctx.config.base_url:
        where = f"provider {ctx.provider!r} (runtime {ctx.runtime_id!r})"
        hint = "set ProviderConfig(base_url=...) or OPENAI_COMPATIBLE_BASE_URL"
        raise ConfigurationError(f"{where} has no base URL; {hint}, e.g. http://localhost:8000/v1")
    return f"{ctx.base_url('')}/chat/completions"


async def _until_done(messages: AsyncIterator[SseMessage]) -> AsyncIterator[SseMessage]:
    """The chunks before `data: [DONE]`, then the end marker (also at a clean close)."""
    done = False
    async with aclosing(messages):  # type: ignore[type-var]
        async for message in messages:
            if message.data.strip() == "[DONE]":
                done = True
                break
            yield message
    yield SseMessage(_END, '{"done": true}' if done else "{}")


class OpenAIChatAdapter:
    """Stateless adapter for OpenAI-compatible Chat Completions endpoints."""

    @property
    def name(self) -> str:
        """The provider name, `openai_compatible`."""
        return "openai_compatible"

    def supports_tool_choice(self, mode: str) -> bool:
        """auto, none, required and named are all supported."""
        return mode in ALL_TOOL_CHOICES

    async def complete(self, request: Request, ctx: CallContext) -> Response:
        """POST the request and translate the `chat.completion` answer."""
        url = _url(ctx)
        wire = request_body(inline_local_images(request, ctx.provider), options_key=ctx.provider)
        headers = bearer_headers(ctx, key_required=False)
        answer = await post_json(ctx, url, wire.body, headers=headers)
        return parse_json_response(
            ctx, answer, lambda body: parse_response(body, provider=ctx.provider)
        )

    async def stream(self, request: Request, ctx: CallContext) -> AsyncIterator[StreamEvent]:
        """Stream the request (usage requested with `stream_options.include_usage`)."""
        url = _url(ctx)
        prepared = inline_local_images(request, ctx.provider)
        wire = request_body(prepared, options_key=ctx.provider, stream=True)
        translator = ChatStream(ctx.provider)
        headers = bearer_headers(ctx, key_required=False)
        messages = _until_done(stream_sse(ctx, url, wire.body, headers=headers))
        async for event in translate_sse(ctx, messages, translator.feed, translator.finished):
            yield event
