"""Anthropic Messages API wire format: `POST /v1/messages` (pure layer: formatting only).

Rule: content blocks come thinking first, then text, then tool_use; a streamed thinking block
ends with one `signature_delta`, a redacted block arrives whole in its `content_block_start`.
Anthropic counts `input_tokens` *without* cached tokens, so cache reads and writes are
subtracted from the neutral total here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from attractor.testing.fake_providers._scenario import Api, RequestView, Thinking
from attractor.testing.fake_providers._wire import (
    Answer,
    Call,
    SseEvent,
    WireError,
    bearer,
    encode,
    require,
    split_text,
    text_of,
)

_TEXT = frozenset({"text"})
_STOP = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
}
_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "overloaded_error",
    529: "overloaded_error",
}


class AnthropicMessages:
    """Formats answers as the Anthropic Messages API does."""

    api: Api = "anthropic_messages"
    named_events = True

    def view(self, body: Any, path_model: str | None, query: Mapping[str, str]) -> RequestView:
        """Check a Messages request (model, max_tokens, messages) and extract its view."""
        require(isinstance(body, dict), "The request body must be a JSON object.")
        require(isinstance(body.get("model"), str), "model: Field required")
        require(isinstance(body.get("max_tokens"), int), "max_tokens: Field required")
        messages = body.get("messages")
        require(isinstance(messages, list), "messages: Field required")
        return RequestView(
            self.api, body["model"], _last_user_text(messages), body.get("stream") is True
        )

    def check_headers(self, headers: Mapping[str, str]) -> None:
        """The real API refuses requests without `anthropic-version`."""
        if not headers.get("anthropic-version"):
            raise WireError(400, "anthropic-version: header is required")

    def api_key(self, headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
        """The `x-api-key` header, else an `Authorization: Bearer` token (both are accepted)."""
        return headers.get("x-api-key") or bearer(headers)

    def key_error(self, key: str | None) -> tuple[int, str, str | None]:
        """401 `authentication_error` for a missing or wrong key."""
        if key is None:
            return 401, "x-api-key header is required", None
        return 401, "invalid x-api-key", None

    def render_body(self, answer: Answer) -> dict[str, Any]:
        """The complete `message` object."""
        message = _message(answer, _blocks(answer))
        message["stop_reason"] = _STOP[answer.finish]
        return message

    def render_stream(self, answer: Answer) -> Iterator[SseEvent]:
        """`message_start`, blocks with `ping` after the first, `message_delta`, `message_stop`."""
        start = _message(answer, [])
        start["usage"]["output_tokens"] = 1
        yield _event("message_start", {"message": start})
        index = 0
        for block in answer.thinking:
            yield from _stream_thinking(index, block)
            index += 1
        if answer.text:
            yield from _stream_text(index, answer)
            index += 1
        for position, call in enumerate(answer.calls):
            yield from _stream_tool_use(index + position, call)
        delta = {"stop_reason": _STOP[answer.finish], "stop_sequence": None}
        yield _event("message_delta", {"delta": delta, "usage": _usage(answer)})
        yield _event("message_stop", {})

    def render_error(self, status: int, message: str, code: str | None) -> dict[str, Any]:
        """`{"type": "error", "error": {"type", "message"}, "request_id"}`."""
        kind = code or _ERROR_TYPES.get(status, "api_error")
        return {
            "type": "error",
            "error": {"type": kind, "message": message},
            "request_id": "req_fake",
        }

    def stream_error(self, answer: Answer, status: int, message: str, sent: int) -> SseEvent:
        """An `error` event, as the API sends when it overloads mid-stream."""
        return "error", encode(self.render_error(status, message, None))


def _last_user_text(messages: list[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            text = text_of(message.get("content"), _TEXT)
            if text:
                return text
    return ""


def _usage(answer: Answer) -> dict[str, Any]:
    usage = answer.usage
    cached = usage.cache_read_tokens + usage.cache_write_tokens
    return {
        "input_tokens": max(0, usage.input_tokens - cached),
        "output_tokens": usage.output_tokens,
        "cache_creation_input_tokens": usage.cache_write_tokens,
        "cache_read_input_tokens": usage.cache_read_tokens,
    }


def _message(answer: Answer, content: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": f"msg_fake{answer.ordinal:06d}",
        "type": "message",
        "role": "assistant",
        "model": answer.model,
        "content": content,
        "stop_reason": None,
        "stop_sequence": None,
        "usage": _usage(answer),
    }


def _thinking_block(block: Thinking) -> dict[str, Any]:
    if block.redacted_data is not None:
        return {"type": "redacted_thinking", "data": block.redacted_data}
    return {"type": "thinking", "thinking": block.text, "signature": block.signature}


def _tool_use(call: Call) -> dict[str, Any]:
    return {"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments_object()}


def _blocks(answer: Answer) -> list[dict[str, Any]]:
    blocks = [_thinking_block(block) for block in answer.thinking]
    if answer.text:
        blocks.append({"type": "text", "text": answer.text})
    blocks.extend(_tool_use(call) for call in answer.calls)
    return blocks


def _event(kind: str, fields: dict[str, Any]) -> SseEvent:
    return kind, encode({"type": kind, **fields})


def _start(index: int, block: dict[str, Any]) -> Iterator[SseEvent]:
    yield _event("content_block_start", {"index": index, "content_block": block})
    if index == 0:
        yield _event("ping", {})


def _delta(index: int, delta: dict[str, Any]) -> SseEvent:
    return _event("content_block_delta", {"index": index, "delta": delta})


def _stream_thinking(index: int, block: Thinking) -> Iterator[SseEvent]:
    if block.redacted_data is not None:
        yield from _start(index, _thinking_block(block))
    else:
        yield from _start(index, {"type": "thinking", "thinking": "", "signature": ""})
        for piece in split_text(block.text, 0):
            yield _delta(index, {"type": "thinking_delta", "thinking": piece})
        yield _delta(index, {"type": "signature_delta", "signature": block.signature})
    yield _event("content_block_stop", {"index": index})


def _stream_text(index: int, answer: Answer) -> Iterator[SseEvent]:
    yield from _start(index, {"type": "text", "text": ""})
    for piece in answer.text_deltas:
        yield _delta(index, {"type": "text_delta", "text": piece})
    yield _event("content_block_stop", {"index": index})


def _stream_tool_use(index: int, call: Call) -> Iterator[SseEvent]:
    yield from _start(index, {"type": "tool_use", "id": call.id, "name": call.name, "input": {}})
    yield _delta(index, {"type": "input_json_delta", "partial_json": ""})
    for piece in call.argument_deltas:
        yield _delta(index, {"type": "input_json_delta", "partial_json": piece})
    yield _event("content_block_stop", {"index": index})
