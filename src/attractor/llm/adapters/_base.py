"""The provider adapter contract (spec §2.4, §7.1) and the shared async HTTP/SSE plumbing.

Layer: llm (shell). Rule: an adapter is a stateless translator plus transport. Everything a
call needs — credentials, base URL, headers, timeouts, the HTTP pool — arrives in the
`CallContext`; adapters keep no per-call mutable state on `self` (Gemini's synthetic tool-call
ids, for example, are resolved from the request's own messages, not from a map on the adapter).

Adapters use `post_json` for one-shot calls and `stream_sse` for streams; both map transport
failures and HTTP error statuses to the typed hierarchy of `attractor.llm.errors`.
"""

from __future__ import annotations

import asyncio
import mimetypes
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, Protocol, runtime_checkable

import httpx
import msgspec

from attractor.llm.errors import (
    InvalidRequestError,
    NetworkError,
    RequestTimeoutError,
    SDKError,
    ServerError,
    StreamError,
    error_info,
)
from attractor.llm.runtime import AdapterTimeout, CallContext, ProviderConfig, Secret
from attractor.llm.types import (
    ContentPart,
    ImageData,
    RateLimitInfo,
    Request,
    Response,
    ResponseWarning,
    StreamEvent,
)
from attractor.llm.wire import (
    SseDecoder,
    SseMessage,
    decode_json_object,
    error_from_http,
    rate_limit_from_headers,
)

__all__ = [
    "ALL_TOOL_CHOICES",
    "AdapterTimeout",
    "CallContext",
    "ProviderAdapter",
    "ProviderConfig",
    "Secret",
    "SseMessage",
    "WireRequest",
    "bearer_headers",
    "error_event",
    "finish_event",
    "guess_media_type",
    "inline_local_images",
    "json_body",
    "load_image_bytes",
    "parse_json_response",
    "post_json",
    "rate_limit_of",
    "stream_sse",
    "translate_sse",
    "utc_now",
]


@runtime_checkable
class ProviderAdapter(Protocol):
    """What every provider adapter implements (spec §2.4 with an explicit call context).

    Optional methods the Client uses when present: `async close()`, `async initialize()`,
    `supports_tool_choice(mode: str) -> bool`.
    """

    @property
    def name(self) -> str:
        """Provider name, e.g. `openai`, `anthropic`, `gemini`."""
        ...

    async def complete(self, request: Request, ctx: CallContext) -> Response:
        """Send `request` and return the full response (raises SDKError subclasses)."""
        ...

    def stream(self, request: Request, ctx: CallContext) -> AsyncIterator[StreamEvent]:
        """Send `request` and yield normalised stream events ending with FINISH or ERROR."""
        ...


_ENCODER = msgspec.json.Encoder()


def utc_now() -> datetime:
    """The current UTC time (shell only; pure helpers take it as an argument)."""
    return datetime.now(UTC)


def _timeout(config: AdapterTimeout, *, read: float) -> httpx.Timeout:
    return httpx.Timeout(connect=config.connect, read=read, write=read, pool=config.connect)


def _headers(ctx: CallContext, headers: Mapping[str, str]) -> dict[str, str]:
    merged = {"content-type": "application/json", "accept": "application/json"}
    merged.update(headers)
    merged.update(dict(ctx.config.headers))
    return merged


def _transport_error(ctx: CallContext, exc: httpx.HTTPError, *, streaming: bool) -> SDKError:
    where = f"{ctx.provider} (runtime {ctx.runtime_id!r})"
    if isinstance(exc, httpx.TimeoutException):
        scope = "stream read" if streaming else type(exc).__name__
        return RequestTimeoutError(f"{where}: {scope} timed out", provider=ctx.provider, cause=exc)
    if streaming and isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return StreamError(f"{where}: connection closed mid-stream ({exc})", cause=exc)
    return NetworkError(f"{where}: {type(exc).__name__}: {exc}", cause=exc)


async def post_json(
    ctx: CallContext,
    url: str,
    body: Mapping[str, Any],
    *,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
) -> httpx.Response:
    """POST `body` as JSON and return the 2xx response; raise typed errors otherwise."""
    timeout = ctx.config.timeout
    try:
        # httpx's read timeout is per read; the deadline bounds the whole cycle (spec §4.7).
        async with asyncio.timeout(timeout.request):
            response = await ctx.http.post(
                url,
                content=_ENCODER.encode(body),
                headers=_headers(ctx, headers or {}),
                params=dict(params or {}),
                timeout=_timeout(timeout, read=timeout.request),
            )
    except httpx.HTTPError as exc:
        raise _transport_error(ctx, exc, streaming=False) from exc
    except TimeoutError as exc:
        raise RequestTimeoutError(
            f"{ctx.provider} (runtime {ctx.runtime_id!r}): request took longer than "
            f"{timeout.request}s",
            provider=ctx.provider,
            cause=exc,
        ) from exc
    if response.status_code >= 400:
        raise error_from_http(
            ctx.provider, response.status_code, response.headers, response.content, utc_now()
        )
    return response


def json_body(ctx: CallContext, response: httpx.Response) -> dict[str, Any]:
    """The response body as a JSON object, or a typed ServerError naming what came instead."""
    body = decode_json_object(response.content)
    if body is None:
        content_type = response.headers.get("content-type", "unknown")
        preview = response.content[:120].decode("utf-8", "replace")
        raise ServerError(
            f"expected a JSON object but got {content_type} ({len(response.content)} bytes): "
            f"{preview!r}",
            provider=ctx.provider,
            status_code=response.status_code,
        )
    return body


def parse_json_response(
    ctx: CallContext, response: httpx.Response, parse: Callable[[dict[str, Any]], Response]
) -> Response:
    """Run a pure body parser over a 2xx response, attaching rate-limit information.

    A body of the wrong shape (the parser raising KeyError, TypeError...) becomes a typed
    ServerError naming the provider and what was wrong, never a bare exception.
    """
    body = json_body(ctx, response)
    try:
        parsed = parse(body)
    except SDKError:
        raise
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
        raise ServerError(
            f"malformed response body ({type(exc).__name__}: {exc})",
            provider=ctx.provider,
            status_code=response.status_code,
            raw=body,
        ) from exc
    return msgspec.structs.replace(parsed, rate_limit=rate_limit_of(response))


def rate_limit_of(response: httpx.Response) -> RateLimitInfo | None:
    """Rate-limit information from the response headers, if present."""
    return rate_limit_from_headers(response.headers, utc_now())


async def stream_sse(
    ctx: CallContext,
    url: str,
    body: Mapping[str, Any],
    *,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
) -> AsyncIterator[SseMessage]:
    """POST `body` and yield the SSE messages of the response.

    Raises typed errors for HTTP error statuses (before any message), RequestTimeoutError when
    no data arrives within `stream_read` seconds, StreamError when the connection drops.
    """
    timeout = ctx.config.timeout
    request_headers = _headers(ctx, headers or {})
    request_headers["accept"] = "text/event-stream"
    try:
        async with ctx.http.stream(
            "POST",
            url,
            content=_ENCODER.encode(body),
            headers=request_headers,
            params=dict(params or {}),
            timeout=_timeout(timeout, read=timeout.stream_read),
        ) as response:
            if response.status_code >= 400:
                content = await response.aread()
                raise error_from_http(
                    ctx.provider, response.status_code, response.headers, content, utc_now()
                )
            decoder = SseDecoder()
            async for line in response.aiter_lines():
                message = decoder.feed(line)
                if message is not None:
                    yield message
            last = decoder.flush()
            if last is not None:
                yield last
    except httpx.HTTPError as exc:
        raise _transport_error(ctx, exc, streaming=True) from exc


def error_event(exc: SDKError, raw: dict[str, Any] | None = None) -> StreamEvent:
    """An ERROR stream event describing `exc`."""
    return StreamEvent(type="error", error=error_info(exc), raw=raw)


def guess_media_type(path: str, default: str = "application/octet-stream") -> str:
    """The MIME type for a file name from its extension (reads the system MIME table)."""
    media_type, _ = mimetypes.guess_type(path)
    return media_type or default


def load_image_bytes(image: ImageData, provider: str) -> tuple[str, bytes] | None:
    """(media_type, bytes) for inline or local-path images; None for remote URLs.

    Raises InvalidRequestError naming the path when a local file cannot be read.
    """
    if image.data is not None:
        return image.effective_media_type, image.data
    if image.url is None or not image.is_local_path:
        return None
    path = Path(image.url).expanduser()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidRequestError(
            f"cannot read local image {image.url!r}: {exc.strerror or exc}",
            provider=provider,
            cause=exc,
        ) from exc
    return image.media_type or guess_media_type(str(path), "image/png"), data


EventFeed = Callable[[str, dict[str, Any]], list[StreamEvent]]
"""Pure per-stream translator: (SSE event name, decoded JSON data) -> unified events."""


async def translate_sse(
    ctx: CallContext,
    messages: AsyncIterator[SseMessage],
    feed: EventFeed,
    finished: Callable[[], bool],
) -> AsyncIterator[StreamEvent]:
    """Drive `feed` over an SSE stream of JSON events (the loop every SSE adapter shares).

    Failures before the first yielded event are raised (so retries can still happen); later
    ones become a final ERROR event. Non-JSON data, payloads of the wrong shape (KeyError,
    TypeError... inside `feed`) and a stream that ends before `finished()` are StreamErrors.
    """
    started = False
    try:
        async for sse in messages:
            data = decode_json_object(sse.data)
            if data is None:
                raise StreamError(f"{ctx.provider}: non-JSON {sse.event!r} event {sse.data[:80]!r}")
            try:
                events = feed(sse.event, data)
            except SDKError:
                raise
            except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
                what = f"{type(exc).__name__}: {exc}"
                raise StreamError(
                    f"{ctx.provider}: malformed {sse.event!r} event ({what})"
                ) from exc
            for event in events:
                started = True
                yield event
        if not finished():
            raise StreamError(f"{ctx.provider}: the stream ended before its final event")
    except SDKError as exc:
        if not started:
            raise
        yield error_event(exc)


def inline_local_images(request: Request, provider: str) -> Request:
    """The request with local-path images replaced by their bytes (reads those files).

    Adapters call this in their shell so that request translation stays pure.
    """
    if not any(p.image and p.image.is_local_path for m in request.messages for p in m.content):
        return request
    messages = tuple(
        msgspec.structs.replace(m, content=tuple(_inline(p, provider) for p in m.content))
        for m in request.messages
    )
    return msgspec.structs.replace(request, messages=messages)


def _inline(part: ContentPart, provider: str) -> ContentPart:
    image = part.image
    loaded = load_image_bytes(image, provider) if image and image.is_local_path else None
    if image is None or loaded is None:
        return part
    media_type, data = loaded
    return ContentPart.of_image(ImageData(data=data, media_type=media_type, detail=image.detail))


def bearer_headers(ctx: CallContext, *, key_required: bool = True) -> dict[str, str]:
    """`Authorization: Bearer` plus OpenAI-style organization/project headers from `ctx`.

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


ALL_TOOL_CHOICES = frozenset({"auto", "none", "required", "named"})
"""Tool-choice modes for adapters whose wire format supports all of them."""


class WireRequest(NamedTuple):
    """A translated request: the JSON body and the warnings translation produced."""

    body: dict[str, Any]
    warnings: tuple[ResponseWarning, ...]


def finish_event(response: Response) -> StreamEvent:
    """The FINISH event carrying a complete response, its finish reason and usage."""
    return StreamEvent(
        type="finish",
        finish_reason=response.finish_reason,
        usage=response.usage,
        response=response,
    )
