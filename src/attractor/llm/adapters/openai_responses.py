"""OpenAI Responses API adapter: `POST {base}/responses`, JSON and SSE (spec §7.3, §7.7).

Layer: llm adapters. Rule: the translation half is pure — `request_body` (Request -> JSON body),
`parse_response` (JSON -> Response) and `ResponsesStream` (SSE payloads -> StreamEvents) do no
I/O; `OpenAIResponsesAdapter` is a stateless shell that inlines local images, sends the body
with the call context's key and base URL, and feeds the answer through those functions.
ADRs 0070-0074.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from msgspec.structs import replace

from attractor.llm.adapters._base import (
    ALL_TOOL_CHOICES,
    WireRequest,
    bearer_headers,
    finish_event,
    inline_local_images,
    parse_json_response,
    post_json,
    stream_sse,
    translate_sse,
)
from attractor.llm.runtime import CallContext
from attractor.llm.translate import (
    arguments_of,
    arguments_text,
    as_count,
    as_list,
    as_object,
    as_str,
    merge_options,
    split_system,
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
    ToolResultData,
    Usage,
)
from attractor.llm.wire import data_uri, error_from_payload, image_url

__all__ = ["OpenAIResponsesAdapter", "ResponsesStream", "parse_response", "request_body"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
ITEM_ID = "openai_item_id"
"""Key in a THINKING part's `extra` holding the reasoning item id needed to send it back."""
_KNOWN_KINDS = frozenset(ContentKind)
_NO_STOP = ResponseWarning(
    "stop_sequences are not supported by the OpenAI Responses API and were not sent",
    code="unsupported_parameter",
)
_INCOMPLETE = {"max_output_tokens": "length", "content_filter": "content_filter"}


def request_body(
    request: Request, *, options_key: str = "openai", stream: bool = False
) -> WireRequest:
    """A Responses API body (local images inlined first); audio is an UnsupportedContentError."""
    instructions, rest = split_system(request.messages)
    body: dict[str, Any] = {"model": request.model, "input": _input_items(rest, options_key)}
    for key, value in (
        ("instructions", "\n\n".join(instructions) or None),
        ("temperature", request.temperature),
        ("top_p", request.top_p),
        ("max_output_tokens", request.max_tokens),
        ("metadata", request.metadata),
        ("stream", True if stream else None),
    ):
        if value is not None:
            body[key] = value
    if request.reasoning_effort is not None:
        body["reasoning"] = {"effort": request.reasoning_effort}
    fmt = request.response_format
    if fmt is not None and fmt.type == "json":
        body["text"] = {"format": {"type": "json_object"}}
    elif fmt is not None and fmt.type == "json_schema":
        name, schema = fmt.name or "response", fmt.json_schema
        body["text"] = {
            "format": {"type": "json_schema", "name": name, "strict": fmt.strict, "schema": schema}
        }
    if request.tools:
        # Function tools are strict by default in this API, which rejects ordinary schemas.
        body["tools"] = [
            {"type": "function", "name": t.name, "parameters": t.parameters, "strict": False}
            | ({"description": t.description} if t.description else {})
            for t in request.tools
        ]
    choice = request.tool_choice
    if choice is not None:
        named = {"type": "function", "name": choice.tool_name}
        body["tool_choice"] = named if choice.mode == "named" else choice.mode
    merge_options(body, request.options_for(options_key))
    return WireRequest(body, (_NO_STOP,) if request.stop_sequences else ())


def _input_items(messages: Sequence[Message], provider: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        if message.role == Role.ASSISTANT:
            result.extend(_assistant_items(index, message, provider))
            continue
        result.extend(_function_output(r) for r in tool_results_of(index, message, provider))
        content = [_user_part(index, p, provider) for p in message.content if not p.tool_result]
        if content and message.role != Role.TOOL:
            result.append({"type": "message", "role": "user", "content": content})
    return result


def _user_part(index: int, part: ContentPart, provider: str) -> dict[str, Any]:
    if part.kind == ContentKind.TEXT:
        return {"type": "input_text", "text": part.text or ""}
    if part.image is not None:
        detail = part.image.detail or "auto"
        return {"type": "input_image", "image_url": image_url(part.image), "detail": detail}
    doc = part.document
    if doc is not None and doc.data is not None:
        data = data_uri(doc.media_type or "application/pdf", doc.data)
        return {"type": "input_file", "file_data": data, "filename": doc.file_name or "file.pdf"}
    if doc is not None:
        return {"type": "input_file", "file_url": doc.url}
    if part.extra is not None and part.kind not in _KNOWN_KINDS:
        return dict(part.extra)
    hint = "send audio as a transcript, or use a provider that accepts audio input"
    raise unsupported_content(provider, index, str(part.kind), "user", hint)


def _assistant_items(index: int, message: Message, provider: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for part in message.content:
        if part.kind == ContentKind.TEXT:
            last = result[-1] if result else {}
            if last.get("role") == "assistant":  # adjacent text parts make one message
                last["content"] += part.text or ""
            else:
                text = part.text or ""
                result.append({"type": "message", "role": "assistant", "content": text})
        elif part.tool_call is not None:
            call, encoded = part.tool_call, arguments_text(part.tool_call)
            item = {"type": "function_call", "call_id": call.id, "name": call.name}
            result.append({**item, "arguments": encoded})
        elif part.thinking is not None:
            result.extend(_reasoning_item(part))
        elif part.extra is not None and part.kind not in _KNOWN_KINDS:
            result.append(dict(part.extra))
        else:
            hint = "assistant turns may hold text, tool calls and reasoning"
            raise unsupported_content(provider, index, str(part.kind), "assistant", hint)
    return result


def _reasoning_item(part: ContentPart) -> list[dict[str, Any]]:
    """A reasoning item, only for thinking that came from this API (it needs its item id)."""
    item_id = as_str(as_object(part.extra).get(ITEM_ID))
    thinking = part.thinking
    if not item_id or thinking is None:
        return []  # other providers' thinking cannot be replayed here (spec §3.5)
    summary = [{"type": "summary_text", "text": thinking.text}] if thinking.text else []
    item: dict[str, Any] = {"type": "reasoning", "id": item_id, "summary": summary}
    return [item | {"encrypted_content": thinking.signature} if thinking.signature else item]


def _function_output(result: ToolResultData) -> dict[str, Any]:
    output: Any = tool_output_text(result)
    if result.image_data is not None:
        image = data_uri(result.image_media_type or "image/png", result.image_data)
        output = [
            {"type": "input_text", "text": output},
            {"type": "input_image", "image_url": image, "detail": "auto"},
        ]
    return {"type": "function_call_output", "call_id": result.tool_call_id, "output": output}


def parse_response(
    body: dict[str, Any], *, provider: str, warnings: Iterable[ResponseWarning] = ()
) -> Response:
    """A Response from a Responses API object; a `failed` one raises its typed SDKError."""
    if body.get("status") == "failed" or body.get("error"):
        raise error_from_payload(provider, body.get("error"), body)
    parts = [part for item in as_list(body.get("output")) for part in output_parts(item)]
    return Response(
        id=as_str(body.get("id")),
        model=as_str(body.get("model")),
        provider=provider,
        message=Message(role=Role.ASSISTANT, content=tuple(parts)),
        finish_reason=_finish(body, any(p.kind == ContentKind.TOOL_CALL for p in parts)),
        usage=usage_of(body.get("usage")),
        raw=body,
        warnings=tuple(warnings),
    )


def output_parts(item: Any) -> list[ContentPart]:
    """The content parts of one output item (unknown item types pass through as `extra`)."""
    data = as_object(item)
    kind = as_str(data.get("type"))
    if kind == "message":
        content = map(as_object, as_list(data.get("content")))
        texts = [as_str(c.get("text")) or as_str(c.get("refusal")) for c in content]
        return [ContentPart.of_text(t) for t in texts if t]
    if kind == "function_call":
        return [ContentPart.of_tool_call(_call_data(data))]
    if kind == "reasoning":
        return [_reasoning_part(data)]
    return [ContentPart(kind=f"openai:{kind or 'unknown'}", extra=data)] if data else []


def _call_data(item: dict[str, Any]) -> ToolCallData:
    raw = as_str(item.get("arguments"))
    call_id = as_str(item.get("call_id")) or as_str(item.get("id"))
    return ToolCallData(id=call_id, name=as_str(item.get("name")), arguments=arguments_of(raw))


def _reasoning_part(item: dict[str, Any]) -> ContentPart:
    texts = [*as_list(item.get("summary")), *as_list(item.get("content"))]
    said = "\n\n".join(t for t in (as_str(as_object(x).get("text")) for x in texts) if t)
    encrypted = as_str(item.get("encrypted_content")) or None
    thinking = ThinkingData(text=said, signature=encrypted, redacted=not said and bool(encrypted))
    return replace(ContentPart.of_thinking(thinking), extra={ITEM_ID: as_str(item.get("id"))})


def _finish(body: dict[str, Any], has_calls: bool) -> FinishReason:
    status = as_str(body.get("status")) or "completed"
    if status == "incomplete":
        reason = as_str(as_object(body.get("incomplete_details")).get("reason"))
        return FinishReason(_INCOMPLETE.get(reason, "other"), reason or status)
    if status not in ("completed", "in_progress"):
        return FinishReason("other", status)
    return FinishReason("tool_calls" if has_calls else "stop", status)


def usage_of(data: Any) -> Usage:
    """Usage from a Responses `usage` object (reasoning and cached tokens included)."""
    raw = as_object(data)
    inp, out = as_count(raw.get("input_tokens")) or 0, as_count(raw.get("output_tokens")) or 0
    total = as_count(raw.get("total_tokens"))
    details_in = as_object(raw.get("input_tokens_details"))
    details_out = as_object(raw.get("output_tokens_details"))
    return Usage(
        input_tokens=inp,
        output_tokens=out,
        total_tokens=inp + out if total is None else total,
        reasoning_tokens=as_count(details_out.get("reasoning_tokens")),
        cache_read_tokens=as_count(details_in.get("cached_tokens")),
        cache_write_tokens=as_count(details_in.get("cache_write_tokens")) or None,
        raw=raw or None,
    )


class ResponsesStream:
    """Responses API stream payloads -> StreamEvents; one instance per stream, never shared.

    `done` turns True at `response.completed`/`incomplete`; `response.failed` and `error` raise
    their typed error; unknown event types yield nothing.
    """

    def __init__(self, provider: str, warnings: tuple[ResponseWarning, ...] = ()) -> None:
        self.provider = provider
        self.warnings = warnings
        self.done = False
        self._started = False
        self._calls: dict[str, ToolCall] = {}
        self._open: set[str] = set()

    def feed(self, event_name: str, payload: dict[str, Any]) -> list[StreamEvent]:
        """The events for one SSE message (the payload's `type` wins over the event name)."""
        kind = payload.get("type") or event_name
        if kind == "response.output_text.delta" or kind == "response.refusal.delta":
            return self._delta("text", payload)
        handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
        return handler(self, payload) if handler is not None else []

    def finished(self) -> bool:
        """True once a terminal event was translated."""
        return self.done

    def _created(self, payload: dict[str, Any]) -> list[StreamEvent]:
        started, self._started = self._started, True
        return [] if started else [StreamEvent(type="stream_start", warnings=self.warnings)]

    def _start(self, kind: str, item_id: str) -> list[StreamEvent]:
        self._open.add(item_id)
        return [StreamEvent(type=f"{kind}_start", text_id=item_id)]

    def _delta(self, kind: str, payload: dict[str, Any]) -> list[StreamEvent]:
        item_id, piece = as_str(payload.get("item_id")), as_str(payload.get("delta"))
        if kind == "text":
            delta = StreamEvent(type="text_delta", delta=piece, text_id=item_id)
        else:
            delta = StreamEvent(type="reasoning_delta", reasoning_delta=piece, text_id=item_id)
        return [delta] if item_id in self._open else [*self._start(kind, item_id), delta]

    def _item_added(self, payload: dict[str, Any]) -> list[StreamEvent]:
        item = as_object(payload.get("item"))
        if item.get("type") == "reasoning":
            return self._start("reasoning", as_str(item.get("id")))
        if item.get("type") != "function_call":
            return []
        call = _call_data(item)
        head = self._calls[as_str(item.get("id"))] = ToolCall(id=call.id, name=call.name)
        return [StreamEvent(type="tool_call_start", tool_call=head)]

    def _arguments(self, payload: dict[str, Any]) -> list[StreamEvent]:
        head = self._calls.get(as_str(payload.get("item_id")))
        piece = as_str(payload.get("delta"))
        return [StreamEvent(type="tool_call_delta", tool_call=head, delta=piece)] if head else []

    def _item_done(self, payload: dict[str, Any]) -> list[StreamEvent]:
        item = as_object(payload.get("item"))
        item_id, kind = as_str(item.get("id")), item.get("type")
        if kind == "function_call":
            call = ToolCall.from_data(_call_data(item))
            done = replace(call, raw_arguments=as_str(item.get("arguments")))
            return [StreamEvent(type="tool_call_end", tool_call=done)]
        if item_id not in self._open:
            return []
        self._open.discard(item_id)
        if kind == "reasoning":
            thinking = _reasoning_part(item).thinking
            return [StreamEvent(type="reasoning_end", text_id=item_id, thinking=thinking)]
        return [StreamEvent(type="text_end", text_id=item_id)]

    def _completed(self, payload: dict[str, Any]) -> list[StreamEvent]:
        self.done = True
        body = as_object(payload.get("response"))
        response = parse_response(body, provider=self.provider, warnings=self.warnings)
        return [finish_event(response)]

    def _failed(self, payload: dict[str, Any]) -> list[StreamEvent]:
        self.done = True
        error = (
            as_object(payload.get("response")).get("error") if "response" in payload else payload
        )
        raise error_from_payload(self.provider, error, payload)


_HANDLERS = {
    "response.created": ResponsesStream._created,
    "response.in_progress": ResponsesStream._created,
    "response.output_item.added": ResponsesStream._item_added,
    "response.output_item.done": ResponsesStream._item_done,
    "response.function_call_arguments.delta": ResponsesStream._arguments,
    "response.reasoning_summary_text.delta": lambda self, p: self._delta("reasoning", p),
    "response.reasoning_text.delta": lambda self, p: self._delta("reasoning", p),
    "response.completed": ResponsesStream._completed,
    "response.incomplete": ResponsesStream._completed,
    "response.failed": ResponsesStream._failed,
    "error": ResponsesStream._failed,
}


class OpenAIResponsesAdapter:
    """Stateless adapter for the OpenAI Responses API (spec §2.7: OpenAI's native API)."""

    @property
    def name(self) -> str:
        """The provider name, `openai`."""
        return "openai"

    def supports_tool_choice(self, mode: str) -> bool:
        """auto, none, required and named are all supported."""
        return mode in ALL_TOOL_CHOICES

    async def complete(self, request: Request, ctx: CallContext) -> Response:
        """POST the request and translate the JSON answer (typed errors on failure)."""
        wire = request_body(inline_local_images(request, ctx.provider), options_key=ctx.provider)
        url = f"{ctx.base_url(DEFAULT_BASE_URL)}/responses"
        answer = await post_json(ctx, url, wire.body, headers=bearer_headers(ctx))
        return parse_json_response(
            ctx,
            answer,
            lambda body: parse_response(body, provider=ctx.provider, warnings=wire.warnings),
        )

    async def stream(self, request: Request, ctx: CallContext) -> AsyncIterator[StreamEvent]:
        """Stream the request; failures after the first event end it with an ERROR event."""
        prepared = inline_local_images(request, ctx.provider)
        wire = request_body(prepared, options_key=ctx.provider, stream=True)
        url = f"{ctx.base_url(DEFAULT_BASE_URL)}/responses"
        translator = ResponsesStream(ctx.provider, wire.warnings)
        messages = stream_sse(ctx, url, wire.body, headers=bearer_headers(ctx))
        async for event in translate_sse(ctx, messages, translator.feed, translator.finished):
            yield event
