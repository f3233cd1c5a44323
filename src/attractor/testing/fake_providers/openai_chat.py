"""OpenAI-compatible Chat Completions wire format: `POST /v1/chat/completions` (pure layer).

Rule: streamed tool calls are keyed by `index`; only the first delta of a call carries its id,
type and name. The usage chunk (empty `choices`) is sent only when the request asked for it
with `stream_options.include_usage`, and the stream always ends with `data: [DONE]`.
Thinking is sent as `reasoning_content`, the field OpenAI-compatible servers use for it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from attractor.testing.fake_providers._scenario import Api, RequestView
from attractor.testing.fake_providers._wire import (
    Answer,
    Call,
    SseEvent,
    bearer,
    encode,
    require,
    split_text,
    text_of,
)
from attractor.testing.fake_providers.openai_responses import OpenAIResponses

INCLUDE_USAGE = "include_usage"
_TEXT = frozenset({"text"})


class OpenAIChat:
    """Formats answers as OpenAI-compatible Chat Completions endpoints do."""

    api: Api = "openai_chat"
    named_events = False

    def view(self, body: Any, path_model: str | None, query: Mapping[str, str]) -> RequestView:
        """Check a Chat Completions request and extract what selection needs."""
        require(isinstance(body, dict), "The request body must be a JSON object.")
        require(isinstance(body.get("model"), str), "you must provide a model parameter")
        messages = body.get("messages")
        require(isinstance(messages, list), "Missing required parameter: 'messages'.")
        options = body.get("stream_options")
        wants_usage = isinstance(options, dict) and options.get("include_usage") is True
        flags = frozenset({INCLUDE_USAGE}) if wants_usage else frozenset()
        return RequestView(
            self.api, body["model"], _last_user_text(messages), body.get("stream") is True, flags
        )

    def check_headers(self, headers: Mapping[str, str]) -> None:
        """OpenAI needs no special header."""

    def api_key(self, headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
        """The bearer token."""
        return bearer(headers)

    def key_error(self, key: str | None) -> tuple[int, str, str | None]:
        """Same answers as the Responses API."""
        return OpenAIResponses().key_error(key)

    def render_body(self, answer: Answer) -> dict[str, Any]:
        """The `chat.completion` object."""
        message: dict[str, Any] = {
            "role": "assistant",
            "content": answer.text or None,
            "refusal": None,
        }
        reasoning = _reasoning_text(answer)
        if reasoning:
            message["reasoning_content"] = reasoning
        if answer.calls:
            message["tool_calls"] = [_call(call) for call in answer.calls]
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": answer.finish}
        body = _envelope(answer, "chat.completion", [choice])
        body["usage"] = _usage(answer)
        return body

    def render_stream(self, answer: Answer) -> Iterator[SseEvent]:
        """`chat.completion.chunk` events, the optional usage chunk, then `[DONE]`."""
        yield _chunk(answer, {"role": "assistant", "content": ""}, None)
        for delta in split_text(_reasoning_text(answer), 0):
            yield _chunk(answer, {"reasoning_content": delta}, None)
        for delta in answer.text_deltas:
            yield _chunk(answer, {"content": delta}, None)
        for index, call in enumerate(answer.calls):
            yield from _stream_call(answer, index, call)
        yield _chunk(answer, {}, answer.finish)
        if INCLUDE_USAGE in answer.flags:
            usage_chunk = _envelope(answer, "chat.completion.chunk", [])
            usage_chunk["usage"] = _usage(answer)
            yield None, encode(usage_chunk)
        yield None, b"[DONE]"

    def render_error(self, status: int, message: str, code: str | None) -> dict[str, Any]:
        """The OpenAI error shape (most compatible servers copy it)."""
        return OpenAIResponses().render_error(status, message, code)

    def stream_error(self, answer: Answer, status: int, message: str, sent: int) -> SseEvent:
        """A data line holding an `error` object, which the official SDK raises."""
        return None, encode(self.render_error(status, message, None))


def _last_user_text(messages: list[Any]) -> str:
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return text_of(message.get("content"), _TEXT)
    return ""


def _reasoning_text(answer: Answer) -> str:
    return "".join(block.text for block in answer.thinking if block.redacted_data is None)


def _envelope(answer: Answer, kind: str, choices: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-fake{answer.ordinal:06d}",
        "object": kind,
        "created": 1_700_000_000 + answer.ordinal,
        "model": answer.model,
        "system_fingerprint": "fp_fake",
        "choices": choices,
    }


def _call(call: Call) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
    }


def _usage(answer: Answer) -> dict[str, Any]:
    usage = answer.usage
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cache_read_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


def _chunk(answer: Answer, delta: dict[str, Any], finish: str | None) -> SseEvent:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    body = _envelope(answer, "chat.completion.chunk", [choice])
    if INCLUDE_USAGE in answer.flags:
        body["usage"] = None
    return None, encode(body)


def _stream_call(answer: Answer, index: int, call: Call) -> Iterator[SseEvent]:
    head = {
        "index": index,
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": ""},
    }
    yield _chunk(answer, {"tool_calls": [head]}, None)
    for piece in call.argument_deltas:
        yield _chunk(
            answer, {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}, None
        )
