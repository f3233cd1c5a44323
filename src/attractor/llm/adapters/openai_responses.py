"""OpenAI Responses API adapter: `POST {base}/responses`, JSON and SSE (spec §7.3, §7.7).

Layer: llm adapters. Rule: the translation half is pure — `request_body` (Request -> JSON body),
`parse_response` (JSON -> Response) and `ResponsesStream` (SSE payloads -> StreamEvents) do no
I/O; `OpenAIResponsesAdapter` is a stateless shell that inlines local images, sends the body
with the call context's key and base URL, and feeds the answer through those functions.
`openai_headers` and `inline_local_images` are shared with the Chat Completions adapter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any, NamedTuple

import msgspec

from attractor.llm.adapters._base import (
    load_image_bytes,
    parse_json_response,
    post_json,
    stream_sse,
    translate_sse,
)
from attractor.llm.runtime import CallContext
from attractor.llm.translate import (
    arguments_of,
    as_count,
    as_list,
    as_object,
    as_str,
    merge_options,
    split_system,
    tool_output_text,
    tool_result_text,
    unsupported_content,
)
from attractor.llm.types import (
    ContentKind,
    ContentPart,
    FinishReason,
    ImageData,
    Message,
    RateLimitInfo,
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
from attractor.llm.wire import data_uri, error_from_payload

__all__ = [
    "DEFAULT_BASE_URL",
    "OpenAIResponsesAdapter",
    "ResponsesStream",
    "WireRequest",
    "inline_local_images",
    "openai_headers",
    "parse_response",
    "request_body",
    "usage_of",
]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
ITEM_ID = "openai_item_id"
"""Key in a THINKING part's `extra` holding the reasoning item id needed to send it back."""
TOOL_CHOICE_MODES = frozenset({"auto", "none", "required", "named"})


class WireRequest(NamedTuple):
    """A translated request: the JSON body and the warnings translation produced."""

    body: dict[str, Any]
    warnings: tuple[ResponseWarning, ...]


# ---- request translation (pure) -------------------------------------------------------------


def request_body(
    request: Request, *, options_key: str = "openai", stream: bool = False
) -> WireRequest:
    """Translate a Request to a Responses API body (local image paths must be inlined first).

    Raises:
        UnsupportedContentError: a part the Responses API cannot take (audio, unknown kinds).
    """
    warnings: list[ResponseWarning] = []
    instructions, rest = split_system(request.messages)
    body: dict[str, Any] = {"model": request.model, "input": _input_items(rest, options_key)}
    if instructions:
        body["instructions"] = "\n\n".join(instructions)
    _generation(request, body, warnings)
    if request.tools:
        body["tools"] = [_tool(t.name, t.description, t.parameters) for t in request.tools]
    choice = request.tool_choice
    if choice is not None:
        body["tool_choice"] = (
            {"type": "function", "name": choice.tool_name}
            if choice.mode == "named"
            else choice.mode
        )
    if stream:
        body["stream"] = True
    merge_options(body, request.options_for(options_key))
    return WireRequest(body, tuple(warnings))


def _generation(request: Request, body: dict[str, Any], warnings: list[ResponseWarning]) -> None:
    for key, value in (
        ("temperature", request.temperature),
        ("top_p", request.top_p),
        ("max_output_tokens", request.max_tokens),
        ("metadata", request.metadata),
    ):
        if value is not None:
            body[key] = value
    if request.reasoning_effort is not None:
        body["reasoning"] = {"effort": request.reasoning_effort}
    fmt = request.response_format
    if fmt is not None and fmt.type == "json":
        body["text"] = {"format": {"type": "json_object"}}
    elif fmt is not None and fmt.type == "json_schema":
        schema = {"type": "json_schema", "name": fmt.name or "response", "strict": fmt.strict}
        body["text"] = {"format": {**schema, "schema": fmt.json_schema}}
    if request.stop_sequences:
        warnings.append(
            ResponseWarning(
                "stop_sequences are not supported by the OpenAI Responses API and were not sent",
                code="unsupported_parameter",
            )
        )


def _tool(name: str, description: str, parameters: dict[str, Any]) -> dict[str, Any]:
    # The Responses API makes function tools strict by default, which rejects ordinary schemas.
    tool = {"type": "function", "name": name, "parameters": parameters, "strict": False}
    if description:
        tool["description"] = description
    return tool


def _input_items(messages: Sequence[Message], provider: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        if message.role == Role.ASSISTANT:
            result.extend(_assistant_items(index, message, provider))
        elif message.role == Role.TOOL:
            result.extend(_tool_items(index, message, provider))
        else:
            result.extend(_user_items(index, message, provider))
    return result


def _user_items(index: int, message: Message, provider: str) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = []
    outputs: list[dict[str, Any]] = []
    for part in message.content:
        if part.tool_result is not None:
            outputs.append(_function_output(part.tool_result))
        else:
            content.append(_user_part(index, part, provider))
    head = [{"type": "message", "role": "user", "content": content}] if content else []
    return outputs + head


def _user_part(index: int, part: ContentPart, provider: str) -> dict[str, Any]:
    if part.kind == ContentKind.TEXT:
        return {"type": "input_text", "text": part.text or ""}
    if part.image is not None:
        image = part.image
        url = data_uri(image.effective_media_type, image.data) if image.data else image.url
        return {"type": "input_image", "image_url": url, "detail": image.detail or "auto"}
    if part.document is not None:
        doc = part.document
        file: dict[str, Any] = {"type": "input_file"}
        if doc.data is not None:
            file["file_data"] = data_uri(doc.media_type or "application/pdf", doc.data)
            file["filename"] = doc.file_name or "document.pdf"
        else:
            file["file_url"] = doc.url
        return file
    if part.extra is not None and part.kind not in _KNOWN_KINDS:
        return dict(part.extra)
    hint = "send audio as a transcript, or use a provider that accepts audio input"
    raise unsupported_content(provider, index, str(part.kind), "user", hint)


_KNOWN_KINDS = frozenset(ContentKind)


def _assistant_items(index: int, message: Message, provider: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    pending: list[str] = []
    for part in message.content:
        if part.kind == ContentKind.TEXT:
            pending.append(part.text or "")
            continue
        if pending:
            result.append({"type": "message", "role": "assistant", "content": "".join(pending)})
            pending = []
        if part.tool_call is not None:
            result.append(_function_call(part.tool_call))
        elif part.thinking is not None:
            result.extend(_reasoning_item(part))
        elif part.extra is not None and part.kind not in _KNOWN_KINDS:
            result.append(dict(part.extra))
        else:
            hint = "assistant turns may hold text, tool calls and reasoning"
            raise unsupported_content(provider, index, str(part.kind), "assistant", hint)
    if pending:
        result.append({"type": "message", "role": "assistant", "content": "".join(pending)})
    return result


def _function_call(call: ToolCallData) -> dict[str, Any]:
    args = call.arguments if isinstance(call.arguments, str) else tool_result_text(call.arguments)
    return {"type": "function_call", "call_id": call.id, "name": call.name, "arguments": args}


def _reasoning_item(part: ContentPart) -> list[dict[str, Any]]:
    """A reasoning item, only for thinking that came from this API (it needs its item id)."""
    item_id = as_str(as_object(part.extra).get(ITEM_ID))
    thinking = part.thinking
    if not item_id or thinking is None:
        return []  # other providers' thinking cannot be replayed here (spec §3.5)
    summary = [{"type": "summary_text", "text": thinking.text}] if thinking.text else []
    item: dict[str, Any] = {"type": "reasoning", "id": item_id, "summary": summary}
    if thinking.signature:
        item["encrypted_content"] = thinking.signature
    return [item]


def _tool_items(index: int, message: Message, provider: str) -> list[dict[str, Any]]:
    results = [p.tool_result for p in message.content if p.tool_result is not None]
    if not results and message.tool_call_id:
        results = [ToolResultData(tool_call_id=message.tool_call_id, content=message.text)]
    if not results:
        hint = "a TOOL message needs a tool_result part or tool_call_id"
        raise unsupported_content(provider, index, "text", "tool", hint)
    return [_function_output(result) for result in results]


def _function_output(result: ToolResultData) -> dict[str, Any]:
    output: Any = tool_output_text(result)
    if result.image_data is not None:
        image = data_uri(result.image_media_type or "image/png", result.image_data)
        output = [
            {"type": "input_text", "text": output},
            {"type": "input_image", "image_url": image, "detail": "auto"},
        ]
    return {"type": "function_call_output", "call_id": result.tool_call_id, "output": output}


# ---- response translation (pure) ------------------------------------------------------------


def parse_response(
    body: dict[str, Any],
    *,
    provider: str,
    warnings: Iterable[ResponseWarning] = (),
    rate_limit: RateLimitInfo | None = None,
) -> Response:
    """Translate a Responses API response object to a Response.

    Raises:
        SDKError: the body reports a failed response (`status: failed` with an `error`).
    """
    if body.get("status") == "failed" or body.get("error"):
        raise error_from_payload(provider, body.get("error"), body)
    parts = [part for item in as_list(body.get("output")) for part in output_parts(item)]
    has_calls = any(p.kind == ContentKind.TOOL_CALL for p in parts)
    return Response(
        id=as_str(body.get("id")),
        model=as_str(body.get("model")),
        provider=provider,
        message=Message(role=Role.ASSISTANT, content=tuple(parts)),
        finish_reason=_finish(body, has_calls),
        usage=usage_of(body.get("usage")),
        raw=body,
        warnings=tuple(warnings),
        rate_limit=rate_limit,
    )


def output_parts(item: Any) -> list[ContentPart]:
    """The content parts of one output item (unknown item types pass through as `extra`)."""
    data = as_object(item)
    kind = as_str(data.get("type"))
    if kind == "message":
        texts = [
            as_str(c.get("text")) or as_str(c.get("refusal"))
            for c in map(as_object, as_list(data.get("content")))
        ]
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
    summary = [as_str(as_object(s).get("text")) for s in as_list(item.get("summary"))]
    content = [as_str(as_object(c).get("text")) for c in as_list(item.get("content"))]
    said = "\n\n".join(t for t in summary + content if t)
    encrypted = as_str(item.get("encrypted_content")) or None
    thinking = ThinkingData(text=said, signature=encrypted, redacted=not said and bool(encrypted))
    kind = ContentKind.REDACTED_THINKING if thinking.redacted else ContentKind.THINKING
    return ContentPart(kind=kind, thinking=thinking, extra={ITEM_ID: as_str(item.get("id"))})


_INCOMPLETE = {"max_output_tokens": "length", "content_filter": "content_filter"}


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
    input_tokens = as_count(raw.get("input_tokens")) or 0
    output_tokens = as_count(raw.get("output_tokens")) or 0
    total = as_count(raw.get("total_tokens"))
    details_in = as_object(raw.get("input_tokens_details"))
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens if total is None else total,
        reasoning_tokens=as_count(
            as_object(raw.get("output_tokens_details")).get("reasoning_tokens")
        ),
        cache_read_tokens=as_count(details_in.get("cached_tokens")),
        cache_write_tokens=as_count(details_in.get("cache_write_tokens")) or None,
        raw=raw or None,
    )


# ---- stream translation (pure) --------------------------------------------------------------


class ResponsesStream:
    """Turns Responses API stream payloads into unified StreamEvents, one payload at a time.

    One instance per stream, never shared. `feed(event_name, payload)` returns the events for
    one SSE message; `done` turns True at `response.completed` / `incomplete` / `failed` /
    `error`. Unknown event types yield nothing.
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
            item_id = as_str(payload.get("item_id"))
            delta = StreamEvent(
                type="text_delta", delta=as_str(payload.get("delta")), text_id=item_id
            )
            return [delta] if item_id in self._open else [*self._start("text", item_id), delta]
        handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
        return handler(self, payload) if handler is not None else []

    def finished(self) -> bool:
        """True once a terminal event was translated."""
        return self.done

    def _created(self, payload: dict[str, Any]) -> list[StreamEvent]:
        if self._started:
            return []
        self._started = True
        return [StreamEvent(type="stream_start", warnings=self.warnings)]

    def _start(self, kind: str, item_id: str) -> list[StreamEvent]:
        self._open.add(item_id)
        return [StreamEvent(type=f"{kind}_start", text_id=item_id)]

    def _reasoning(self, payload: dict[str, Any]) -> list[StreamEvent]:
        item_id = as_str(payload.get("item_id"))
        piece = as_str(payload.get("delta"))
        delta = StreamEvent(type="reasoning_delta", reasoning_delta=piece, text_id=item_id)
        return [delta] if item_id in self._open else [*self._start("reasoning", item_id), delta]

    def _item_added(self, payload: dict[str, Any]) -> list[StreamEvent]:
        item = as_object(payload.get("item"))
        if item.get("type") == "reasoning":
            return self._start("reasoning", as_str(item.get("id")))
        if item.get("type") != "function_call":
            return []
        call = _call_data(item)
        head = ToolCall(id=call.id, name=call.name)
        self._calls[as_str(item.get("id"))] = head
        return [StreamEvent(type="tool_call_start", tool_call=head)]

    def _arguments(self, payload: dict[str, Any]) -> list[StreamEvent]:
        head = self._calls.get(as_str(payload.get("item_id")))
        piece = as_str(payload.get("delta"))
        return (
            []
            if head is None
            else [StreamEvent(type="tool_call_delta", tool_call=head, delta=piece)]
        )

    def _item_done(self, payload: dict[str, Any]) -> list[StreamEvent]:
        item = as_object(payload.get("item"))
        item_id, kind = as_str(item.get("id")), item.get("type")
        if kind == "function_call":
            call = ToolCall.from_data(_call_data(item))
            done = msgspec.structs.replace(call, raw_arguments=as_str(item.get("arguments")))
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
        return [
            StreamEvent(
                type="finish",
                finish_reason=response.finish_reason,
                usage=response.usage,
                response=response,
            )
        ]

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
    "response.reasoning_summary_text.delta": ResponsesStream._reasoning,
    "response.reasoning_text.delta": ResponsesStream._reasoning,
    "response.completed": ResponsesStream._completed,
    "response.incomplete": ResponsesStream._completed,
    "response.failed": ResponsesStream._failed,
    "error": ResponsesStream._failed,
}


# ---- the adapter (shell) --------------------------------------------------------------------


def openai_headers(ctx: CallContext, *, key_required: bool = True) -> dict[str, str]:
    """Bearer auth plus the OpenAI organization/project headers of the call context.

    Raises:
        AuthenticationError: no key configured and `key_required` (names provider and runtime).
    """
    headers: dict[str, str] = {}
    if key_required or ctx.config.api_key is not None:
        headers["authorization"] = f"Bearer {ctx.api_key()}"
    if ctx.config.organization:
        headers["openai-organization"] = ctx.config.organization
    if ctx.config.project:
        headers["openai-project"] = ctx.config.project
    return headers


def inline_local_images(request: Request, provider: str) -> Request:
    """The request with local-path images replaced by their bytes (reads those files)."""
    if not any(
        p.image is not None and p.image.is_local_path for m in request.messages for p in m.content
    ):
        return request
    messages = tuple(
        msgspec.structs.replace(m, content=tuple(_inline(p, provider) for p in m.content))
        for m in request.messages
    )
    return msgspec.structs.replace(request, messages=messages)


def _inline(part: ContentPart, provider: str) -> ContentPart:
    image = part.image
    if image is None or not image.is_local_path:
        return part
    loaded = load_image_bytes(image, provider)
    if loaded is None:
        return part
    media_type, data = loaded
    return ContentPart.of_image(ImageData(data=data, media_type=media_type, detail=image.detail))


class OpenAIResponsesAdapter:
    """Stateless adapter for the OpenAI Responses API (spec §2.7: OpenAI's native API)."""

    @property
    def name(self) -> str:
        """The provider name, `openai`."""
        return "openai"

    def supports_tool_choice(self, mode: str) -> bool:
        """auto, none, required and named are all supported."""
        return mode in TOOL_CHOICE_MODES

    async def complete(self, request: Request, ctx: CallContext) -> Response:
        """POST the request and translate the JSON answer (typed errors on failure)."""
        wire = request_body(inline_local_images(request, ctx.provider), options_key=ctx.provider)
        url = f"{ctx.base_url(DEFAULT_BASE_URL)}/responses"
        answer = await post_json(ctx, url, wire.body, headers=openai_headers(ctx))
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
        messages = stream_sse(ctx, url, wire.body, headers=openai_headers(ctx))
        async for event in translate_sse(ctx, messages, translator.feed, translator.finished):
            yield event
