"""Gemini API wire format: `models/{model}:generateContent` and `:streamGenerateContent`.

Pure layer: formatting only. Rule: every streamed chunk is a whole `GenerateContentResponse`;
thoughts are parts with `thought: true`, function calls arrive whole (all parallel calls in one
chunk, without ids, as the real API sends them) and only the last chunk carries
`finishReason` and `usageMetadata`. The first thinking block's signature rides on the first
non-thought part as `thoughtSignature` (base64: a signature that is not base64 is encoded).
Gemini has no redacted thinking; such blocks are left out. Errors carry gRPC `status` names.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator, Mapping
from typing import Any

from attractor.testing.fake_providers._scenario import Api, RequestView
from attractor.testing.fake_providers._wire import (
    Answer,
    SseEvent,
    encode,
    require,
    split_text,
)

ALT_SSE = "alt_sse"
_FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "tool_calls": "STOP", "content_filter": "SAFETY"}
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_UNREGISTERED = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API."
)


class GeminiGenerate:
    """Formats answers as the Gemini API (generativelanguage.googleapis.com) does."""

    api: Api = "gemini_generate"
    named_events = False

    def view(self, body: Any, path_model: str | None, query: Mapping[str, str]) -> RequestView:
        """Check a generateContent request and extract its view (model from the path)."""
        require(isinstance(body, dict), "Invalid JSON payload received. Expected an object.")
        contents = body.get("contents")
        require(
            isinstance(contents, list) and bool(contents),
            "* GenerateContentRequest.contents: contents is not specified",
        )
        stream = path_model is not None and path_model.endswith(":streamGenerateContent")
        model = (path_model or "").rsplit(":", 1)[0]
        flags = frozenset({ALT_SSE}) if query.get("alt") == "sse" else frozenset()
        return RequestView(self.api, model, _last_user_text(contents), stream, flags)

    def check_headers(self, headers: Mapping[str, str]) -> None:
        """Gemini needs no special header."""

    def api_key(self, headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
        """The `x-goog-api-key` header, else the `key` query parameter."""
        return headers.get("x-goog-api-key") or query.get("key") or None

    def key_error(self, key: str | None) -> tuple[int, str, str | None]:
        """403 without a key, 400 `API_KEY_INVALID` with a wrong one, as the real API does."""
        if key is None:
            return 403, _UNREGISTERED, None
        return 400, "API key not valid. Please pass a valid API key.", "API_KEY_INVALID"

    def render_body(self, answer: Answer) -> dict[str, Any]:
        """The complete `GenerateContentResponse`."""
        parts = _thought_parts(answer, split=False) + _answer_parts(answer)
        return _chunk(answer, parts, final=True)

    def render_stream(self, answer: Answer) -> Iterator[SseEvent]:
        """One chunk per thought/text delta, one for all calls, a final one with usage."""
        for part in _thought_parts(answer, split=True):
            yield None, encode(_chunk(answer, [part], final=False))
        signature = _signature(answer)
        for index, delta in enumerate(answer.text_deltas):
            piece: dict[str, Any] = {"text": delta}
            if index == 0 and signature and not answer.calls:
                piece["thoughtSignature"] = signature
            yield None, encode(_chunk(answer, [piece], final=False))
        calls = _call_parts(answer, signature)
        if calls:
            yield None, encode(_chunk(answer, calls, final=False))
        yield None, encode(_chunk(answer, [{"text": ""}], final=True))

    def render_error(self, status: int, message: str, code: str | None) -> dict[str, Any]:
        """`{"error": {"code", "message", "status"[, "details"]}}`."""
        error: dict[str, Any] = {
            "code": status,
            "message": message,
            "status": STATUS_NAMES.get(status, "UNKNOWN"),
        }
        if code:
            error["details"] = [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": code,
                    "domain": "googleapis.com",
                }
            ]
        return {"error": error}

    def stream_error(self, answer: Answer, status: int, message: str, sent: int) -> SseEvent:
        """A data line holding an error object."""
        return None, encode(self.render_error(status, message, None))


def with_retry_info(body: dict[str, Any], retry_after: str | None) -> dict[str, Any]:
    """Add the `RetryInfo` detail Gemini puts in 429 bodies when Retry-After is in seconds."""
    try:
        seconds = float(retry_after) if retry_after is not None else None
    except ValueError:
        seconds = None
    if seconds is None:
        return body
    detail = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{seconds:g}s"}
    error = {**body["error"], "details": [*body["error"].get("details", []), detail]}
    return {**body, "error": error}


def _last_user_text(contents: list[Any]) -> str:
    for content in reversed(contents):
        if isinstance(content, dict) and content.get("role", "user") == "user":
            parts = content.get("parts")
            texts = (
                [
                    part["text"]
                    for part in parts
                    if isinstance(part, dict) and isinstance(part.get("text"), str)
                ]
                if isinstance(parts, list)
                else []
            )
            if texts:
                return "\n".join(texts)
    return ""


def as_base64(signature: str) -> str:
    """Gemini signatures are base64 bytes: keep a base64 signature, encode any other text."""
    try:
        base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return base64.b64encode(signature.encode()).decode()
    return signature


def _signature(answer: Answer) -> str | None:
    for block in answer.thinking:
        if block.redacted_data is None:
            return as_base64(block.signature)
    return None


def _thought_parts(answer: Answer, *, split: bool) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for block in answer.thinking:
        if block.redacted_data is not None or not block.text:
            continue
        pieces = split_text(block.text, 0) if split else (block.text,)
        parts.extend({"text": piece, "thought": True} for piece in pieces)
    return parts


def _call_parts(answer: Answer, signature: str | None) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for index, call in enumerate(answer.calls):
        part: dict[str, Any] = {
            "functionCall": {"name": call.name, "args": call.arguments_object()}
        }
        if index == 0 and signature:
            part["thoughtSignature"] = signature
        parts.append(part)
    return parts


def _answer_parts(answer: Answer) -> list[dict[str, Any]]:
    signature = _signature(answer)
    parts: list[dict[str, Any]] = []
    if answer.text:
        parts.append({"text": answer.text})
        if signature and not answer.calls:
            parts[0]["thoughtSignature"] = signature
    return parts + _call_parts(answer, signature)


def _usage(answer: Answer) -> dict[str, Any]:
    usage = answer.usage
    metadata: dict[str, Any] = {
        "promptTokenCount": usage.input_tokens,
        "candidatesTokenCount": usage.output_tokens - usage.reasoning_tokens,
        "totalTokenCount": usage.input_tokens + usage.output_tokens,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": usage.input_tokens}],
    }
    if usage.reasoning_tokens:
        metadata["thoughtsTokenCount"] = usage.reasoning_tokens
    if usage.cache_read_tokens:
        metadata["cachedContentTokenCount"] = usage.cache_read_tokens
    return metadata


def _chunk(answer: Answer, parts: list[dict[str, Any]], *, final: bool) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    body: dict[str, Any] = {"candidates": [candidate]}
    if final:
        candidate["finishReason"] = _FINISH[answer.finish]
        body["usageMetadata"] = _usage(answer)
    body["modelVersion"] = answer.model
    body["responseId"] = f"fake{answer.ordinal:06d}"
    return body
