"""OpenAI Responses API wire format: `POST /v1/responses` (pure layer: formatting only).

Rule: output items come in the order the real API sends them — reasoning items, then the
message, then function calls — and every streamed event carries a `sequence_number` that
increases by one from 0.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from attractor.testing.fake_providers._scenario import Api, RequestView, Thinking
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

_INPUT_TEXT = frozenset({"input_text", "text"})
_ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("tokens", "rate_limit_exceeded"),
}
_INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}


class OpenAIResponses:
    """Formats answers as the OpenAI Responses API does."""

    api: Api = "openai_responses"
    named_events = True

    def view(self, body: Any, path_model: str | None, query: Mapping[str, str]) -> RequestView:
        """Check a Responses request and extract model, last user text and stream flag."""
        require(isinstance(body, dict), "The request body must be a JSON object.")
        require(isinstance(body.get("model"), str), "Missing required parameter: 'model'.")
        require("input" in body, "Missing required parameter: 'input'.")
        return RequestView(
            self.api, body["model"], _last_user_text(body["input"]), body.get("stream") is True
        )

    def check_headers(self, headers: Mapping[str, str]) -> None:
        """OpenAI needs no special header."""

    def api_key(self, headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
        """The bearer token."""
        return bearer(headers)

    def key_error(self, key: str | None) -> tuple[int, str, str | None]:
        """401 for a missing or wrong key, worded like the real API."""
        if key is None:
            return 401, "You didn't provide an API key.", None
        return 401, "Incorrect API key provided.", "invalid_api_key"

    def render_body(self, answer: Answer) -> dict[str, Any]:
        """The complete response object."""
        return _response(answer, _output(answer), _final_status(answer), with_usage=True)

    def render_stream(self, answer: Answer) -> Iterator[SseEvent]:
        """`response.created` … `response.completed` (or `response.incomplete`)."""
        seq = _Sequencer()
        start = _response(answer, [], "in_progress", with_usage=False)
        yield seq.event("response.created", {"response": start})
        yield seq.event("response.in_progress", {"response": start})
        index = 0
        for block in answer.thinking:
            yield from _stream_reasoning(seq, answer, index, block)
            index += 1
        if answer.text:
            yield from _stream_message(seq, answer, index)
            index += 1
        for position, call in enumerate(answer.calls):
            yield from _stream_call(seq, index + position, call)
        status = _final_status(answer)
        final = _response(answer, _output(answer), status, with_usage=True)
        kind = "response.completed" if status == "completed" else "response.incomplete"
        yield seq.event(kind, {"response": final})

    def render_error(self, status: int, message: str, code: str | None) -> dict[str, Any]:
        """`{"error": {"message", "type", "param", "code"}}`."""
        kind, default_code = _ERROR_TYPES.get(status, ("server_error", None))
        return {
            "error": {"message": message, "type": kind, "param": None, "code": code or default_code}
        }

    def stream_error(self, answer: Answer, status: int, message: str, sent: int) -> SseEvent:
        """A `response.failed` event carrying the error."""
        failed = _response(answer, [], "failed", with_usage=False)
        failed["error"] = {"code": "server_error", "message": message}
        return "response.failed", encode(
            {"type": "response.failed", "sequence_number": sent, "response": failed}
        )


class _Sequencer:
    def __init__(self) -> None:
        self.number = 0

    def event(self, kind: str, fields: dict[str, Any]) -> SseEvent:
        data = {"type": kind, "sequence_number": self.number, **fields}
        self.number += 1
        return kind, encode(data)


def _last_user_text(items: Any) -> str:
    if isinstance(items, str):
        return items
    if not isinstance(items, list):
        return ""
    for item in reversed(items):
        if isinstance(item, dict) and item.get("role") == "user":
            return text_of(item.get("content"), _INPUT_TEXT)
    return ""


def _final_status(answer: Answer) -> str:
    return "incomplete" if answer.finish in _INCOMPLETE else "completed"


def _usage(answer: Answer) -> dict[str, Any]:
    usage = answer.usage
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {
            "cached_tokens": usage.cache_read_tokens,
            "cache_write_tokens": usage.cache_write_tokens,
        },
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }


def _response(
    answer: Answer, output: list[dict[str, Any]], status: str, *, with_usage: bool
) -> dict[str, Any]:
    reason = _INCOMPLETE.get(answer.finish) if status == "incomplete" else None
    return {
        "id": f"resp_fake{answer.ordinal:06d}",
        "object": "response",
        "created_at": 1_700_000_000 + answer.ordinal,
        "status": status,
        "error": None,
        "incomplete_details": {"reason": reason} if reason else None,
        "instructions": None,
        "max_output_tokens": None,
        "model": answer.model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": _usage(answer) if with_usage else None,
        "user": None,
        "metadata": {},
    }


def _reasoning_item(answer: Answer, index: int, block: Thinking, done: bool) -> dict[str, Any]:
    summary = [{"type": "summary_text", "text": block.text}] if done and block.text else []
    if block.redacted_data is not None:
        summary = []
    encrypted = block.redacted_data if block.redacted_data is not None else block.signature
    return {
        "id": f"rs_fake{answer.ordinal:06d}_{index}",
        "type": "reasoning",
        "summary": summary,
        "encrypted_content": encrypted,
        "status": "completed" if done else "in_progress",
    }


def _message_item(answer: Answer, done: bool) -> dict[str, Any]:
    content = [_text_part(answer.text)] if done else []
    return {
        "id": f"msg_fake{answer.ordinal:06d}",
        "type": "message",
        "status": "completed" if done else "in_progress",
        "role": "assistant",
        "content": content,
    }


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _call_item(call: Call, done: bool) -> dict[str, Any]:
    return {
        "id": f"fc_{call.id}",
        "type": "function_call",
        "status": "completed" if done else "in_progress",
        "call_id": call.id,
        "name": call.name,
        "arguments": call.arguments if done else "",
    }


def _output(answer: Answer) -> list[dict[str, Any]]:
    items = [_reasoning_item(answer, i, b, True) for i, b in enumerate(answer.thinking)]
    if answer.text:
        items.append(_message_item(answer, True))
    items.extend(_call_item(call, True) for call in answer.calls)
    return items


def _stream_reasoning(
    seq: _Sequencer, answer: Answer, index: int, block: Thinking
) -> Iterator[SseEvent]:
    item = _reasoning_item(answer, index, block, False)
    where = {"item_id": item["id"], "output_index": index, "summary_index": 0}
    yield seq.event("response.output_item.added", {"output_index": index, "item": item})
    if block.text and block.redacted_data is None:
        empty = {"type": "summary_text", "text": ""}
        yield seq.event("response.reasoning_summary_part.added", {**where, "part": empty})
        for delta in split_text(block.text, 0):
            yield seq.event("response.reasoning_summary_text.delta", {**where, "delta": delta})
        yield seq.event("response.reasoning_summary_text.done", {**where, "text": block.text})
        full = {"type": "summary_text", "text": block.text}
        yield seq.event("response.reasoning_summary_part.done", {**where, "part": full})
    done = _reasoning_item(answer, index, block, True)
    yield seq.event("response.output_item.done", {"output_index": index, "item": done})


def _stream_message(seq: _Sequencer, answer: Answer, index: int) -> Iterator[SseEvent]:
    item = _message_item(answer, False)
    where = {"item_id": item["id"], "output_index": index, "content_index": 0}
    yield seq.event("response.output_item.added", {"output_index": index, "item": item})
    yield seq.event("response.content_part.added", {**where, "part": _text_part("")})
    for delta in answer.text_deltas:
        yield seq.event("response.output_text.delta", {**where, "delta": delta, "logprobs": []})
    yield seq.event("response.output_text.done", {**where, "text": answer.text, "logprobs": []})
    yield seq.event("response.content_part.done", {**where, "part": _text_part(answer.text)})
    done = _message_item(answer, True)
    yield seq.event("response.output_item.done", {"output_index": index, "item": done})


def _stream_call(seq: _Sequencer, index: int, call: Call) -> Iterator[SseEvent]:
    item = _call_item(call, False)
    where = {"item_id": item["id"], "output_index": index}
    yield seq.event("response.output_item.added", {"output_index": index, "item": item})
    for delta in call.argument_deltas:
        yield seq.event("response.function_call_arguments.delta", {**where, "delta": delta})
    yield seq.event(
        "response.function_call_arguments.done",
        {**where, "name": call.name, "arguments": call.arguments},
    )
    yield seq.event(
        "response.output_item.done", {"output_index": index, "item": _call_item(call, True)}
    )
