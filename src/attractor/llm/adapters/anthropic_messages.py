"""Anthropic Messages API adapter (`POST /v1/messages`, spec §7.3, §7.7, §2.8, §2.10).

Layer: llm (shell around pure translation). Rule: `build_body` (Request -> JSON body and
headers), `parse_response` (JSON -> Response) and `MessagesStream` (SSE events -> StreamEvents)
are pure; only `AnthropicMessagesAdapter` does HTTP, and it keeps nothing per call on `self`.
Decisions: ADR 0075 (cache breakpoints), 0076 (thinking, usage), 0077 (structured output).
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

from msgspec.structs import replace

from attractor.llm.accumulate import StreamAccumulator
from attractor.llm.adapters._base import (
    load_image_bytes,
    parse_json_response,
    post_json,
    stream_sse,
    translate_sse,
)
from attractor.llm.errors import InvalidValueError, SDKError, UnsupportedContentError
from attractor.llm.errors import error_from_status as status_error
from attractor.llm.runtime import CallContext
from attractor.llm.translate import (
    arguments_of,
    estimate_tokens,
    merge_options,
    merge_turns,
    split_system,
    tool_result_text,
)
from attractor.llm.types import (
    ContentKind,
    ContentPart,
    FinishReason,
    ImageData,
    Message,
    Request,
    Response,
    ResponseWarning,
    Role,
    StreamEvent,
    ThinkingData,
    ToolCall,
    ToolCallData,
    Usage,
)

__all__ = ["AnthropicMessagesAdapter", "MessagesStream", "build_body", "parse_response"]

PROVIDER = "anthropic"
DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
_PATH = "/v1/messages"
DEFAULT_MAX_TOKENS = 4096
THINKING_BUDGETS = {"none": 0, "minimal": 0, "low": 1024, "medium": 4096, "high": 16384}
"""reasoning_effort -> `thinking.budget_tokens` (ADR 0076)."""
_RESERVED_OPTIONS = frozenset({"beta_headers", "auto_cache"})
_EPHEMERAL = {"type": "ephemeral"}
_CACHEABLE = frozenset({"text", "image", "document", "tool_result"})
_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "tool_use": "tool_calls"}
_FINISH |= {"max_tokens": "length", "model_context_window_exceeded": "length"}
_FINISH |= {"refusal": "content_filter"}
_ERROR_STATUS = {"invalid_request_error": 400, "authentication_error": 401, "permission_error": 403}
_ERROR_STATUS |= {"not_found_error": 404, "request_too_large": 413, "rate_limit_error": 429}
_ERROR_STATUS |= {"api_error": 500, "overloaded_error": 529}
JSON_INSTRUCTION = "Answer with only a JSON value that conforms to this JSON Schema; no prose."


def build_body(request: Request) -> tuple[dict[str, Any], dict[str, str], list[ResponseWarning]]:
    """A Messages API body, its extra headers and warnings (temperature/top_p are dropped).

    Reads local-path images; raises UnsupportedContentError and InvalidValueError.
    """
    options = request.options_for(PROVIDER)
    texts, rest = split_system(request.messages)
    body: dict[str, Any] = {"model": request.model, "max_tokens": request.max_tokens}
    body["messages"] = merge_turns((_message(m) for m in rest), "content")
    system = [{"type": "text", "text": t} for t in texts] + _format_instruction(request)
    if system:
        body["system"] = system
    _tools(request, body)
    _sampling(request, body)
    if options.get("auto_cache", True) is not False:
        _place_breakpoints(body)
    merge_options(body, {k: v for k, v in options.items() if k not in _RESERVED_OPTIONS})
    dropped = [k for k in ("temperature", "top_p") if getattr(request, k) is not None]
    note, code = "is not a Messages API parameter; not sent", "unsupported_parameter"
    warnings = [ResponseWarning(f"{k} {note}", code) for k in dropped if k not in body]
    return body, _headers(options), warnings


def _headers(options: dict[str, Any]) -> dict[str, str]:
    headers = {"anthropic-version": API_VERSION}
    betas = options.get("beta_headers")
    betas = [betas] if isinstance(betas, str) else betas
    if betas:
        headers["anthropic-beta"] = ",".join(str(b).strip() for b in betas)
    return headers


def _format_instruction(request: Request) -> list[dict[str, Any]]:
    fmt = request.response_format
    if fmt is None or fmt.type == "text":
        return []
    schema = tool_result_text(fmt.json_schema) if fmt.json_schema else '{"type": "object"}'
    return [{"type": "text", "text": f"{JSON_INSTRUCTION}\n{schema}"}]


def _tools(request: Request, body: dict[str, Any]) -> None:
    choice = request.effective_tool_choice
    if not request.tools or choice is None or choice.mode == "none":
        return  # Anthropic has no "none": the tools are left out (spec §7.8).
    body["tools"] = [
        {"name": t.name, "description": t.description, "input_schema": t.parameters}
        for t in request.tools
    ]
    modes = {"required": {"type": "any"}, "named": {"type": "tool", "name": choice.tool_name}}
    body["tool_choice"] = modes.get(choice.mode, {"type": "auto"})


def _sampling(request: Request, body: dict[str, Any]) -> None:
    if request.stop_sequences:
        body["stop_sequences"] = list(request.stop_sequences)
    if request.metadata and "user_id" in request.metadata:
        body["metadata"] = {"user_id": request.metadata["user_id"]}
    effort, limit = request.reasoning_effort, body["max_tokens"]
    budget = THINKING_BUDGETS.get(effort or "none", 0)
    if effort is not None and effort not in THINKING_BUDGETS:
        raise InvalidValueError(f"reasoning_effort {effort!r}: use none, low, medium or high")
    if budget and limit is not None and limit <= budget:
        raise InvalidValueError(
            f"max_tokens={limit} must exceed the thinking budget {budget} of "
            f"reasoning_effort={effort!r}; raise max_tokens or lower the effort"
        )
    body["max_tokens"] = limit or budget + DEFAULT_MAX_TOKENS
    if budget:
        body["thinking"] = {"type": "enabled", "budget_tokens": budget}


def _place_breakpoints(body: dict[str, Any]) -> None:
    """Mark the last tool, last system block and last two user turns (ADR 0075; max 4)."""
    for key in ("tools", "system"):
        if body.get(key):
            body[key][-1] = {**body[key][-1], "cache_control": _EPHEMERAL}
    for message in [m for m in body["messages"] if m["role"] == "user"][-2:]:
        blocks = message["content"]
        spots = [i for i, b in enumerate(blocks) if b.get("text", True) and b["type"] in _CACHEABLE]
        if spots:  # empty text blocks cannot carry cache_control
            blocks[spots[-1]] = {**blocks[spots[-1]], "cache_control": _EPHEMERAL}


def _message(message: Message) -> dict[str, Any]:
    role = "assistant" if message.role == Role.ASSISTANT else "user"  # tool results: user turns
    return {"role": role, "content": [_block(p) for p in message.content if p.text != ""]}


def _block(part: ContentPart) -> dict[str, Any]:
    kind = part.kind
    if kind == ContentKind.TEXT:
        return {"type": "text", "text": part.text or ""}
    if kind == ContentKind.IMAGE and part.image is not None:
        return {"type": "image", "source": _image_source(part.image)}
    if kind == ContentKind.DOCUMENT and part.document is not None:
        return _document(part)
    if (call := part.tool_call) is not None and kind == ContentKind.TOOL_CALL:
        args = arguments_of(call.arguments)
        tool_input = args if isinstance(args, dict) else {"raw_arguments": args}
        return {"type": "tool_use", "id": call.id, "name": call.name, "input": tool_input}
    if kind == ContentKind.TOOL_RESULT and part.tool_result is not None:
        return _tool_result(part)
    if part.thinking is not None and kind == ContentKind.REDACTED_THINKING:
        return {"type": "redacted_thinking", "data": part.thinking.signature or part.thinking.text}
    if part.thinking is not None and kind == ContentKind.THINKING:
        text, signature = part.thinking.text, part.thinking.signature or ""
        return {"type": "thinking", "thinking": text, "signature": signature}
    if part.extra is not None and isinstance(part.extra.get("type"), str):
        return dict(part.extra)  # provider-native block passed through (ADR 0023)
    hint = "send text, images, PDF documents, tool calls/results or thinking"
    raise UnsupportedContentError(
        f"anthropic cannot take {kind!r} parts; {hint}", provider=PROVIDER
    )


def _image_source(image: ImageData) -> dict[str, Any]:
    loaded = load_image_bytes(image, PROVIDER)
    if loaded is None:
        return {"type": "url", "url": image.url}
    return _base64(*loaded)


def _base64(media_type: str, data: bytes) -> dict[str, Any]:
    return {"type": "base64", "media_type": media_type, "data": base64.b64encode(data).decode()}


def _document(part: ContentPart) -> dict[str, Any]:
    doc = part.document
    assert doc is not None
    media_type = doc.media_type or "application/pdf"
    file = ImageData(url=doc.url, data=doc.data, media_type=media_type)
    loaded = load_image_bytes(file, PROVIDER)  # bytes, or a local file read (any media type)
    source = {"type": "url", "url": doc.url} if loaded is None else _base64(*loaded)
    if loaded is not None and media_type == "text/plain":
        source = {
            "type": "text",
            "media_type": media_type,
            "data": loaded[1].decode("utf-8", "replace"),
        }
    if media_type == "application/pdf" or source["type"] == "text":
        return {"type": "document", "source": source}
    raise UnsupportedContentError(
        f"anthropic takes PDF documents (URL or bytes) and text/plain bytes, not {media_type!r}",
        provider=PROVIDER,
    )


def _tool_result(part: ContentPart) -> dict[str, Any]:
    result = part.tool_result
    assert result is not None
    text = tool_result_text(result.content)
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": result.tool_call_id}
    block["content"] = text
    if result.image_data is not None:
        image = _base64(result.image_media_type or "image/png", result.image_data)
        block["content"] = [{"type": "text", "text": text or "(image)"}]
        block["content"].append({"type": "image", "source": image})
    if result.is_error:
        block["is_error"] = True
    return block


def parse_response(body: dict[str, Any]) -> Response:
    """Translate a Messages API `message` object (KeyError/TypeError when malformed)."""
    parts = tuple(_part(block) for block in body["content"])
    return Response(
        id=str(body.get("id", "")),
        model=str(body.get("model", "")),
        provider=PROVIDER,
        message=Message(role=Role.ASSISTANT, content=parts),
        finish_reason=finish_reason(body.get("stop_reason")),
        usage=usage_of(body["usage"], parts),
        raw=body,
    )


def _part(block: dict[str, Any]) -> ContentPart:
    kind = block["type"]
    if kind == "text":
        return ContentPart.of_text(block["text"])
    if kind == "tool_use":
        return ContentPart.of_tool_call(ToolCallData(block["id"], block["name"], block["input"]))
    if kind == "thinking":
        return ContentPart.of_thinking(ThinkingData(block["thinking"], block.get("signature")))
    if kind == "redacted_thinking":
        return ContentPart.of_thinking(ThinkingData("", signature=block["data"], redacted=True))
    return ContentPart(kind=str(kind), extra=dict(block))


def finish_reason(raw: Any) -> FinishReason:
    """Map Anthropic's `stop_reason` to the unified finish reason."""
    if raw is None:
        return FinishReason(reason="other")
    return FinishReason(reason=_FINISH.get(str(raw), "other"), raw=str(raw))


def usage_of(usage: dict[str, Any], parts: tuple[ContentPart, ...]) -> Usage:
    """Usage with input including cache reads and writes; reasoning estimated from thinking."""
    read, write = (int(usage.get(f"cache_{k}_input_tokens") or 0) for k in ("read", "creation"))
    thinking = [p.thinking.text for p in parts if p.kind == "thinking" and p.thinking]
    reasoning = sum(estimate_tokens(t) for t in thinking) if thinking else None
    fresh, output = int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)
    extra = {"reasoning_tokens": reasoning, "cache_read_tokens": read, "cache_write_tokens": write}
    return Usage.of(fresh + read + write, output, raw=dict(usage), **extra)


def error_of(data: dict[str, Any]) -> SDKError:
    """The typed error of an in-stream `error` event."""
    err = data["error"] if isinstance(data.get("error"), dict) else {}
    kind, message = str(err.get("type", "api_error")), str(err.get("message", "error event"))
    status = _ERROR_STATUS.get(kind, 500)
    return status_error(status, message, provider=PROVIDER, error_code=kind, raw=data)


class MessagesStream:
    """Turns Messages API SSE events into StreamEvents; one instance per stream."""

    def __init__(self, warnings: tuple[ResponseWarning, ...] = ()) -> None:
        self.acc = StreamAccumulator(provider=PROVIDER)
        self.warnings, self.done = warnings, False
        self.message: dict[str, Any] = {}
        self.blocks: dict[int, dict[str, Any]] = {}
        self.handlers = {n[4:]: getattr(self, n) for n in dir(self) if n.startswith("_on_")}

    def feed(self, event: str, data: dict[str, Any]) -> list[StreamEvent]:
        """Events for one SSE message (the JSON `type` wins over the SSE event name)."""
        kind = data.get("type", event)
        if kind == "error":
            raise error_of(data)
        handler = self.handlers.get(kind)
        out: list[StreamEvent] = handler(data) if handler is not None else []  # ping, unknown
        for item in out:
            self.acc.process(item)
        return out

    def _on_message_start(self, data: dict[str, Any]) -> list[StreamEvent]:
        self.message = dict(data["message"])
        self.acc.response_id = str(self.message.get("id", ""))
        self.acc.model = str(self.message.get("model", ""))
        return [StreamEvent(type="stream_start", raw=data, warnings=self.warnings)]

    def _on_content_block_start(self, data: dict[str, Any]) -> list[StreamEvent]:
        index, block = int(data["index"]), dict(data["content_block"])
        self.blocks[index] = {**block, "chunks": []}
        key, kind = str(index), block["type"]
        if kind == "text":
            text = block.get("text") or ""
            first = [StreamEvent(type="text_delta", text_id=key, delta=text)] if text else []
            return [StreamEvent(type="text_start", text_id=key), *first]
        if kind == "tool_use":
            head = ToolCall(block["id"], block["name"])
            return [StreamEvent(type="tool_call_start", tool_call=head)]
        if kind == "thinking":
            return [StreamEvent(type="reasoning_start", text_id=key)]
        if kind == "redacted_thinking":
            thinking = ThinkingData("", signature=block["data"], redacted=True)
            end = StreamEvent(type="reasoning_end", text_id=key, thinking=thinking)
            return [StreamEvent(type="reasoning_start", text_id=key), end]
        return []

    def _on_content_block_delta(self, data: dict[str, Any]) -> list[StreamEvent]:
        block, delta, key = self.blocks[int(data["index"])], data["delta"], str(data["index"])
        kind = delta["type"]
        if kind == "text_delta":
            return [StreamEvent(type="text_delta", text_id=key, delta=delta["text"])]
        if kind == "thinking_delta":
            piece = delta["thinking"]
            return [StreamEvent(type="reasoning_delta", text_id=key, reasoning_delta=piece)]
        if kind == "signature_delta":
            block["signature"] = delta["signature"]
        elif kind == "input_json_delta" and delta["partial_json"]:
            block["chunks"].append(delta["partial_json"])
            head, piece = ToolCall(block["id"], block["name"]), delta["partial_json"]
            return [StreamEvent(type="tool_call_delta", tool_call=head, delta=piece)]
        return []

    def _on_content_block_stop(self, data: dict[str, Any]) -> list[StreamEvent]:
        block, key = self.blocks[int(data["index"])], str(data["index"])
        if block["type"] == "text":
            return [StreamEvent(type="text_end", text_id=key)]
        if block["type"] == "thinking":  # the text was streamed; the accumulator keeps it
            thinking = ThinkingData("", signature=block.get("signature") or None)
            return [StreamEvent(type="reasoning_end", text_id=key, thinking=thinking)]
        if block["type"] == "tool_use":
            raw = "".join(block["chunks"])
            args = arguments_of(raw)
            call = ToolCall(block["id"], block["name"], args if isinstance(args, dict) else {}, raw)
            return [StreamEvent(type="tool_call_end", tool_call=call)]
        return []

    def _on_message_delta(self, data: dict[str, Any]) -> list[StreamEvent]:
        self.message["stop_reason"] = data["delta"].get("stop_reason")
        self.message["usage"] = {**self.message.get("usage", {}), **data.get("usage", {})}
        return []

    def _on_message_stop(self, data: dict[str, Any]) -> list[StreamEvent]:
        self.done = True
        partial = self.acc.partial_response
        usage = usage_of(self.message.get("usage") or {}, partial.message.content)
        reason = finish_reason(self.message.get("stop_reason"))
        response = replace(partial, finish_reason=reason, usage=usage, raw=self.message)
        return [StreamEvent(type="finish", finish_reason=reason, usage=usage, response=response)]


class AnthropicMessagesAdapter:
    """Stateless adapter for the Anthropic Messages API (`x-api-key`, `anthropic-version`)."""

    name = PROVIDER

    async def complete(self, request: Request, ctx: CallContext) -> Response:
        """Send one Messages request and translate the answer."""
        body, headers, warnings = build_body(request)
        headers["x-api-key"] = ctx.api_key()
        url = ctx.base_url(DEFAULT_BASE_URL) + _PATH
        response = await post_json(ctx, url, body, headers=headers)
        parsed = parse_json_response(ctx, response, parse_response)
        return replace(parsed, warnings=tuple(warnings)) if warnings else parsed

    def stream(self, request: Request, ctx: CallContext) -> AsyncIterator[StreamEvent]:
        """Stream one Messages request; failures after the first event become ERROR events."""
        body, headers, warnings = build_body(request)
        headers["x-api-key"] = ctx.api_key()
        url, body = ctx.base_url(DEFAULT_BASE_URL) + _PATH, {**body, "stream": True}
        sse = stream_sse(ctx, url, body, headers=headers)
        state = MessagesStream(tuple(warnings))
        return translate_sse(ctx, sse, state.feed, lambda: state.done)
