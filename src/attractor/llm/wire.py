"""Pure wire helpers shared by the provider adapters: SSE decoding, error bodies, headers.

Layer: llm (pure). Rule: bytes and header mappings in, typed values out; no sockets, no clock
(callers pass `now`), no file access. The async transport around these lives in
`attractor.llm.adapters._base`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec

from attractor.llm.errors import (
    ProviderError,
    SDKError,
    error_from_grpc_status,
    error_from_status,
    parse_retry_after,
)
from attractor.llm.types import ImageData, RateLimitInfo

__all__ = [
    "SseDecoder",
    "SseMessage",
    "data_uri",
    "decode_json_object",
    "error_from_http",
    "error_from_payload",
    "image_url",
    "rate_limit_from_headers",
]


@dataclass(frozen=True, slots=True)
class SseMessage:
    """One Server-Sent Event: its `event` name ('message' when absent), `data`, `id`, `retry`."""

    event: str
    data: str
    id: str | None = None
    retry: int | None = None


class SseDecoder:
    """Incremental SSE line decoder (WHATWG rules): feed lines, get complete messages.

    Handles `event:`, multi-line `data:`, `id:`, `retry:`, comments (`:`), blank-line
    boundaries, and ignores unknown fields and garbage lines instead of failing.
    """

    __slots__ = ("_data", "_event", "_id", "_retry")

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None
        self._retry: int | None = None

    def feed(self, line: str) -> SseMessage | None:
        """Consume one line (without its newline); return a message when one completes."""
        line = line.rstrip("\r")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None

    def flush(self) -> SseMessage | None:
        """Dispatch a final message that was not followed by a blank line."""
        return self._dispatch()

    def _dispatch(self) -> SseMessage | None:
        if not self._data and not self._event:
            return None
        message = SseMessage(self._event or "message", "\n".join(self._data), self._id, self._retry)
        self._event, self._data, self._retry = "", [], None
        return message


_JSON = msgspec.json.Decoder()


def decode_json_object(payload: bytes | str) -> dict[str, Any] | None:
    """Decode `payload` as a JSON object; None when it is not valid JSON or not an object."""
    try:
        value = _JSON.decode(payload)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _error_fields(body: Any) -> tuple[str | None, str | None, str | None]:
    """(message, code, grpc_status) from the common provider error shapes."""
    if isinstance(body, list) and body:
        body = body[0]
    if not isinstance(body, dict):
        return None, None, None
    err = body.get("error", body)
    if isinstance(err, str):
        return err, None, None
    if not isinstance(err, dict):
        return None, None, None
    message = err.get("message") if isinstance(err.get("message"), str) else None
    code = err.get("code", err.get("type"))
    status = err.get("status") if isinstance(err.get("status"), str) else None
    return message, (str(code) if code is not None else None), status


_TITLE = re.compile(r"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _describe_body(body: bytes, content_type: str) -> str:
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return "empty response body"
    title = _TITLE.search(text)
    if title or "html" in content_type.lower():
        label = title.group(1).strip() if title else text[:80]
        return f"non-JSON {content_type or 'text'} body (looks like a proxy page): {label!r}"
    return text[:500]


def error_from_http(
    provider: str,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
) -> SDKError:
    """Turn an HTTP error response into a typed error (spec §7.6).

    Reads the message and code from JSON bodies of the OpenAI/Anthropic/Gemini shapes, falls
    back to a description of non-JSON bodies (HTML pages, empty bodies), honours Retry-After
    (seconds or HTTP date) and `retry-after-ms`, and maps Gemini's gRPC status when the HTTP
    status alone is not in the table.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        parsed: Any = _JSON.decode(body) if body.strip() else None
    except (msgspec.DecodeError, UnicodeDecodeError):
        parsed = None
    message, code, grpc = _error_fields(parsed)
    text = message or _describe_body(body, lowered.get("content-type", ""))
    retry_after = _retry_after(lowered, now)
    raw = parsed if parsed is not None else {"body": body[:2000].decode("utf-8", "replace")}
    if grpc is not None and status not in (400, 401, 403, 404, 408, 413, 422, 429):
        return error_from_grpc_status(
            grpc, text, provider=provider, status_code=status, retry_after=retry_after, raw=raw
        )
    return error_from_status(
        status, text, provider=provider, error_code=code, retry_after=retry_after, raw=raw
    )


def _retry_after(headers: Mapping[str, str], now: datetime) -> float | None:
    millis = headers.get("retry-after-ms")
    if millis is not None:
        seconds = parse_retry_after(millis, now)
        if seconds is not None:
            return seconds / 1000.0
    return parse_retry_after(headers.get("retry-after"), now)


def _int_header(headers: Mapping[str, str], *names: str) -> int | None:
    for name in names:
        value = headers.get(name)
        if value is not None and value.strip().isdigit():
            return int(value.strip())
    return None


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def _reset_at(headers: Mapping[str, str], now: datetime) -> datetime | None:
    for name in ("anthropic-ratelimit-requests-reset", "anthropic-ratelimit-tokens-reset"):
        value = headers.get(name)
        if value:
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
    value = headers.get("x-ratelimit-reset-requests") or headers.get("x-ratelimit-reset-tokens")
    if not value:
        return None
    parts = _DURATION.findall(value)
    if not parts:
        return None
    seconds = sum(float(n) * _UNIT_SECONDS[unit] for n, unit in parts)
    return now + timedelta(seconds=seconds)


def rate_limit_from_headers(headers: Mapping[str, str], now: datetime) -> RateLimitInfo | None:
    """Read `x-ratelimit-*` (OpenAI style) or `anthropic-ratelimit-*` headers, if any."""
    h = {k.lower(): v for k, v in headers.items()}
    info = RateLimitInfo(
        requests_remaining=_int_header(
            h, "x-ratelimit-remaining-requests", "anthropic-ratelimit-requests-remaining"
        ),
        requests_limit=_int_header(
            h, "x-ratelimit-limit-requests", "anthropic-ratelimit-requests-limit"
        ),
        tokens_remaining=_int_header(
            h, "x-ratelimit-remaining-tokens", "anthropic-ratelimit-tokens-remaining"
        ),
        tokens_limit=_int_header(h, "x-ratelimit-limit-tokens", "anthropic-ratelimit-tokens-limit"),
        reset_at=_reset_at(h, now),
    )
    return None if info == RateLimitInfo() else info


def data_uri(media_type: str, data: bytes) -> str:
    """A `data:<mime>;base64,<...>` URI for inline bytes."""
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def image_url(image: ImageData) -> str:
    """An image as a URL: its data URI for inline bytes, else its own URL."""
    if image.data is not None:
        return data_uri(image.effective_media_type, image.data)
    return image.url or ""


# Error codes that name their HTTP-status family, for errors reported without a status (an
# error object inside a 200 body or an SSE stream).
_CODE_STATUS = {
    "rate_limit_exceeded": 429,
    "insufficient_quota": 429,
    "invalid_api_key": 401,
    "invalid_prompt": 400,
    "invalid_request_error": 400,
    "context_length_exceeded": 400,
    "model_not_found": 404,
}


def error_from_payload(provider: str, error: Any, raw: Any = None) -> SDKError:
    """A typed error for an `{"code", "type", "message"}` object that came without HTTP status.

    The class follows the code (`rate_limit_exceeded` -> RateLimitError ...), then the message
    (spec §6.5); anything else is a retryable ServerError. `status_code` stays None.
    """
    err = error if isinstance(error, dict) else {}
    code = next((v for v in (err.get("code"), err.get("type")) if isinstance(v, str) and v), None)
    message = err.get("message") if isinstance(err.get("message"), str) else None
    text = message or f"{provider} reported an error without a message"
    exc = error_from_status(
        _CODE_STATUS.get(code or "", 500), text, provider=provider, error_code=code, raw=raw
    )
    if isinstance(exc, ProviderError):
        exc.status_code = None
    return exc
