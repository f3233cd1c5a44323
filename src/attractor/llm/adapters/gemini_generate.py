"""Gemini API adapter (`models/{model}:generateContent` / `:streamGenerateContent?alt=sse`).

Layer: llm (shell around pure translation). Rule: `build_body` (Request -> JSON body),
`parse_response` (JSON -> Response) and `GenerateStream` (SSE chunks -> StreamEvents) are pure;
only `GeminiGenerateAdapter` does HTTP, keeping nothing per call on `self` (a synthetic tool-call
id's function name is found in the request's history). Decisions: ADR 0078, 0079.
"""

from __future__ import annotations

import base64
import functools
import uuid
from collections.abc import AsyncIterator
from typing import Any

from msgspec.structs import replace

from attractor.llm import errors
from attractor.llm.accumulate import StreamAccumulator
from attractor.llm.adapters._base import (
    guess_media_type,
    load_image_bytes,
    parse_json_response,
    post_json,
    stream_sse,
    translate_sse,
)
from attractor.llm.errors import InvalidRequestError
from attractor.llm.runtime import CallContext
from attractor.llm.translate import (
    arguments_of,
    merge_options,
    merge_turns,
    split_system,
    tool_call_names,
    tool_result_object,
)
from attractor.llm.types import (
    ContentKind,
    ContentPart,
    FinishReason,
    ImageData,
    Message,
    Request,
    Response,
    Role,
    StreamEvent,
    ThinkingData,
    ToolCall,
    ToolCallData,
    Usage,
)

__all__ = ["GeminiGenerateAdapter", "GenerateStream", "build_body", "parse_response"]

PROVIDER = "gemini"
DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
API_VERSION = "v1beta"
THINKING_BUDGETS = {"none": 0, "minimal": 512, "low": 1024, "medium": 8192, "high": 24576}
"""reasoning_effort -> `thinkingBudget` for Gemini 2.x (Gemini 3 takes `thinkingLevel`)."""
_FILTERED = ("SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY")
_FINISH = {"STOP": "stop", "MAX_TOKENS": "length"} | dict.fromkeys(_FILTERED, "content_filter")
_CHOICE = {"auto": "AUTO", "none": "NONE", "required": "ANY", "named": "ANY"}


def build_body(request: Request) -> dict[str, Any]:
    """Translate `request` into a generateContent body (reads local-path images).

    Raises InvalidRequestError (a tool result without its call in the history),
    UnsupportedContentError and InvalidValueError (unknown reasoning effort).
    """
    texts, rest = split_system(request.messages)
    names = tool_call_names(request.messages)
    body: dict[str, Any] = {"contents": merge_turns((_content(m, names) for m in rest), "parts")}
    if texts:
        body["systemInstruction"] = {"parts": [{"text": "\n\n".join(texts)}]}
    _tools(request, body)
    config = _generation_config(request)
    if config:
        body["generationConfig"] = config
    merge_options(body, request.options_for(PROVIDER))
    return body


def _tools(request: Request, body: dict[str, Any]) -> None:
    choice = request.effective_tool_choice
    if not request.tools or choice is None:
        return
    declarations = [
        {"name": t.name, "description": t.description, "parametersJsonSchema": t.parameters}
        for t in request.tools
    ]
    body["tools"] = [{"functionDeclarations": declarations}]
    calling: dict[str, Any] = {"mode": _CHOICE[choice.mode]}
    if choice.mode == "named":
        calling["allowedFunctionNames"] = [choice.tool_name]
    body["toolConfig"] = {"functionCallingConfig": calling}


def _generation_config(request: Request) -> dict[str, Any]:
    stops = list(request.stop_sequences or ()) or None
    config: dict[str, Any] = {"temperature": request.temperature, "topP": request.top_p}
    config |= {"maxOutputTokens": request.max_tokens, "stopSequences": stops}
    fmt = request.response_format
    if fmt is not None and fmt.type != "text":
        config["responseMimeType"] = "application/json"
        config["responseJsonSchema"] = fmt.json_schema
    if request.reasoning_effort is not None:
        config["thinkingConfig"] = _thinking(request.model, request.reasoning_effort)
    return {k: v for k, v in config.items() if v is not None}


def _thinking(model: str, effort: str) -> dict[str, Any]:
    if effort not in THINKING_BUDGETS:
        raise errors.InvalidValueError(
            f"reasoning_effort {effort!r}: use none, low, medium or high"
        )
    if "gemini-3" in model and effort != "none":
        level = "LOW" if effort in ("minimal", "low") else effort.upper()
        return {"thinkingLevel": level, "includeThoughts": True}
    return {"thinkingBudget": THINKING_BUDGETS[effort], "includeThoughts": effort != "none"}


def _content(message: Message, names: dict[str, str]) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    signature: str | None = None
    for part in message.content:
        if part.kind == ContentKind.THINKING and part.thinking is not None:
            signature = part.thinking.signature or signature  # rides on the next part
            continue
        if part.kind == ContentKind.REDACTED_THINKING or part.text == "":
            continue  # Gemini has no redacted thinking and refuses empty text parts
        native = _part(part, names)
        if signature:
            native["thoughtSignature"], signature = signature, None
        parts.append(native)
    return {"role": "model" if message.role == Role.ASSISTANT else "user", "parts": parts}


def _part(part: ContentPart, names: dict[str, str]) -> dict[str, Any]:
    kind = part.kind
    if kind == ContentKind.TEXT:
        return {"text": part.text or ""}
    if kind == ContentKind.TOOL_CALL and part.tool_call is not None:
        args = arguments_of(part.tool_call.arguments)
        args = args if isinstance(args, dict) else {"raw_arguments": args}
        return {"functionCall": {"name": part.tool_call.name, "args": args}}
    if kind == ContentKind.TOOL_RESULT and part.tool_result is not None:
        return _function_response(part, names)
    if kind == ContentKind.IMAGE and part.image is not None:
        return _image(part.image)
    media = part.audio or part.document
    if kind in (ContentKind.AUDIO, ContentKind.DOCUMENT) and media is not None:
        default = "audio/wav" if kind == ContentKind.AUDIO else "application/pdf"
        media_type = media.media_type or guess_media_type(media.url or "", default)
        return _image(ImageData(url=media.url, data=media.data, media_type=media_type))
    if part.extra is not None:
        return dict(part.extra)  # a provider-native part passed through (ADR 0023)
    raise errors.UnsupportedContentError(f"gemini cannot take {kind!r} parts", provider=PROVIDER)


def _media(media_type: str, url: str | None, data: bytes | None) -> dict[str, Any]:
    if data is not None:
        encoded = base64.b64encode(data).decode("ascii")
        return {"inlineData": {"mimeType": media_type, "data": encoded}}
    return {"fileData": {"mimeType": media_type, "fileUri": url}}


def _image(image: ImageData) -> dict[str, Any]:
    """Inline data for bytes and local files (of any media), fileData for URLs."""
    loaded = load_image_bytes(image, PROVIDER)
    if loaded is not None:
        return _media(loaded[0], None, loaded[1])
    media_type = image.media_type or guess_media_type(image.url or "", "image/jpeg")
    return _media(media_type, image.url, None)


def _function_response(part: ContentPart, names: dict[str, str]) -> dict[str, Any]:
    result = part.tool_result
    assert result is not None
    name = names.get(result.tool_call_id)
    if name is None:
        hint = "Gemini needs its function name: keep the assistant message with the call"
        where = f"tool result for call id {result.tool_call_id!r}"
        raise InvalidRequestError(
            f"{where} has no tool call in the history; {hint}", provider=PROVIDER
        )
    content = {"error": result.content} if result.is_error else tool_result_object(result.content)
    return {"functionResponse": {"name": name, "response": content}}


def parse_response(body: dict[str, Any], *, id_prefix: str = "", model: str = "") -> Response:
    """Translate a GenerateContentResponse (KeyError/TypeError when malformed).

    Function calls without an `id` get `call_<responseId or id_prefix>_<n>`.
    """
    candidates = body.get("candidates") or [{}]
    candidate = candidates[0]
    native = (candidate.get("content") or {}).get("parts") or []
    prefix = str(body.get("responseId") or id_prefix)
    parts = _parts(native, prefix)
    return Response(
        id=str(body.get("responseId", "")),
        model=str(body.get("modelVersion") or model),
        provider=PROVIDER,
        message=Message(role=Role.ASSISTANT, content=tuple(parts)),
        finish_reason=finish_reason(candidate.get("finishReason"), parts, body),
        usage=usage_of(body.get("usageMetadata") or {}),
        raw=body,
    )


def _parts(native: list[dict[str, Any]], prefix: str) -> list[ContentPart]:
    parts: list[ContentPart] = []
    calls = 0  # numbered as GenerateStream numbers them, so both modes give the same ids
    for item in native:
        signature = item.get("thoughtSignature")
        if item.get("thought"):
            parts.append(ContentPart.of_thinking(ThinkingData(item.get("text", ""), signature)))
            continue
        if signature:  # a thought signature rides on the first answer part
            _attach(parts, str(signature))
        if "functionCall" in item:
            call = item["functionCall"]
            call_id, calls = call.get("id") or f"call_{prefix}_{calls}", calls + 1
            data = ToolCallData(call_id, call["name"], call.get("args") or {})
            parts.append(ContentPart.of_tool_call(data))
        elif item.get("text"):
            parts.append(ContentPart.of_text(item["text"]))
    return parts


def _attach(parts: list[ContentPart], signature: str) -> None:
    last = parts[-1] if parts else None
    if last is not None and last.thinking is not None and last.kind == ContentKind.THINKING:
        parts[-1] = ContentPart.of_thinking(replace(last.thinking, signature=signature))
    else:
        parts.append(ContentPart.of_thinking(ThinkingData("", signature=signature)))


def finish_reason(raw: Any, parts: list[ContentPart], body: dict[str, Any]) -> FinishReason:
    """Map `finishReason`; function calls mean TOOL_CALLS, a blocked prompt CONTENT_FILTER."""
    blocked = (body.get("promptFeedback") or {}).get("blockReason")
    if raw is None and blocked:
        return FinishReason(reason="content_filter", raw=str(blocked))
    if any(p.kind == ContentKind.TOOL_CALL for p in parts):
        return FinishReason(reason="tool_calls", raw=None if raw is None else str(raw))
    if raw is None:
        return FinishReason(reason="other")
    return FinishReason(reason=_FINISH.get(str(raw), "other"), raw=str(raw))


def usage_of(meta: dict[str, Any]) -> Usage:
    """Usage from `usageMetadata`; output counts thoughts too (as OpenAI's does)."""
    thoughts, cached = meta.get("thoughtsTokenCount"), meta.get("cachedContentTokenCount")
    prompt, answer = (
        int(meta.get("promptTokenCount") or 0),
        int(meta.get("candidatesTokenCount") or 0),
    )
    reasoning, read = (None if n is None else int(n) for n in (thoughts, cached))
    extra = {"reasoning_tokens": reasoning, "cache_read_tokens": read, "raw": dict(meta)}
    return Usage.of(prompt, answer + (reasoning or 0), **extra)


def error_of(data: dict[str, Any]) -> errors.SDKError:
    """The typed error of an error object (gRPC `status`, HTTP `code`) inside a stream."""
    err = data["error"]
    status = str(err.get("status") or "UNKNOWN")
    code = err.get("code") if isinstance(err.get("code"), int) else None
    text = str(err.get("message") or status)
    return errors.error_from_grpc_status(
        status, text, provider=PROVIDER, status_code=code, raw=data
    )


class GenerateStream:
    """Turns streamed GenerateContentResponse chunks into StreamEvents; one per stream."""

    def __init__(self, model: str, id_prefix: str) -> None:
        self.acc = StreamAccumulator(provider=PROVIDER, model=model)
        self.id_prefix, self.segments, self.calls = id_prefix, 0, 0
        self.segment: tuple[str, str] | None = None  # (kind, text_id) of the open segment
        self.started = self.done = False
        self.signature: str | None = None  # a signature seen on a thought part

    def feed(self, event: str, data: dict[str, Any]) -> list[StreamEvent]:
        """Events for one chunk."""
        if "error" in data:
            raise error_of(data)
        out = [] if self.started else [StreamEvent(type="stream_start")]
        self.started = True
        candidate = (data.get("candidates") or [{}])[0]
        for item in (candidate.get("content") or {}).get("parts") or []:
            out.extend(self._part(item, str(data.get("responseId") or self.id_prefix)))
        blocked = (data.get("promptFeedback") or {}).get("blockReason") is not None
        last = candidate.get("finishReason") is not None or blocked
        out += self._close() if last else []
        for item in out:
            self.acc.process(item)
        return [*out, self._finish(data, candidate.get("finishReason"))] if last else out

    def _open(self, kind: str) -> tuple[list[StreamEvent], str]:
        """Events opening a `kind` segment (closing another first) and its text_id."""
        if self.segment is not None and self.segment[0] == kind:
            return [], self.segment[1]
        out = self._close()
        self.segments += 1
        self.segment = (kind, str(self.segments))
        return [*out, StreamEvent(type=f"{kind}_start", text_id=self.segment[1])], self.segment[1]

    def _close(self, signature: str | None = None) -> list[StreamEvent]:
        if self.segment is None:
            return []
        (kind, key), self.segment = self.segment, None
        signature, self.signature = signature or self.signature, None
        thinking = ThinkingData("", signature=signature) if kind == "reasoning" else None
        return [StreamEvent(type=f"{kind}_end", text_id=key, thinking=thinking)]

    def _part(self, item: dict[str, Any], prefix: str) -> list[StreamEvent]:
        signature = item.get("thoughtSignature")
        if item.get("thought"):
            out, key = self._open("reasoning")
            self.signature, piece = signature or self.signature, item.get("text") or ""
            return [*out, StreamEvent(type="reasoning_delta", text_id=key, reasoning_delta=piece)]
        out = self._open("reasoning")[0] + self._close(str(signature)) if signature else []
        if "functionCall" in item:
            out += self._close()
            call = item["functionCall"]
            call_id = call.get("id") or f"call_{prefix}_{self.calls}"
            self.calls += 1
            head = ToolCall(call_id, call["name"])
            full = ToolCall(call_id, call["name"], dict(call.get("args") or {}))
            start = StreamEvent(type="tool_call_start", tool_call=head)
            return [*out, start, StreamEvent(type="tool_call_end", tool_call=full)]
        if item.get("text"):
            opened, key = self._open("text")
            out += [*opened, StreamEvent(type="text_delta", text_id=key, delta=item["text"])]
        return out

    def _finish(self, data: dict[str, Any], raw: Any) -> StreamEvent:
        """FINISH with the response accumulated from every event so far (this chunk's too)."""
        self.done = True
        partial = self.acc.partial_response
        parts = list(partial.message.content)
        reason = finish_reason(raw, parts, data)
        usage = usage_of(data.get("usageMetadata") or {})
        fields = {"id": str(data.get("responseId", "")), "raw": data, "usage": usage}
        model = str(data.get("modelVersion") or partial.model)
        response = replace(partial, model=model, finish_reason=reason, **fields)
        return StreamEvent(type="finish", finish_reason=reason, usage=usage, response=response)


class GeminiGenerateAdapter:
    """Stateless adapter for the Gemini API (`x-goog-api-key` header, `v1beta` paths)."""

    name = PROVIDER

    async def complete(self, request: Request, ctx: CallContext) -> Response:
        """Send one generateContent request and translate the answer."""
        body, headers = build_body(request), {"x-goog-api-key": ctx.api_key()}
        prefix = uuid.uuid4().hex[:12]
        url = _url(ctx, request, "generateContent")
        try:
            response = await post_json(ctx, url, body, headers=headers)
        except InvalidRequestError as exc:
            _raise_key_error(exc)
            raise
        parse = functools.partial(parse_response, id_prefix=prefix, model=request.model)
        return parse_json_response(ctx, response, parse)

    async def stream(self, request: Request, ctx: CallContext) -> AsyncIterator[StreamEvent]:
        """Stream one request over `?alt=sse`; failures after the first event become ERRORs."""
        body, headers = build_body(request), {"x-goog-api-key": ctx.api_key()}
        url = _url(ctx, request, "streamGenerateContent")
        sse = stream_sse(ctx, url, body, headers=headers, params={"alt": "sse"})
        state = GenerateStream(request.model, uuid.uuid4().hex[:12])
        try:
            async for event in translate_sse(ctx, sse, state.feed, lambda: state.done):
                yield event
        except InvalidRequestError as exc:
            _raise_key_error(exc)
            raise


def _url(ctx: CallContext, request: Request, method: str) -> str:
    model = request.model.removeprefix("models/")
    return f"{ctx.base_url(DEFAULT_BASE_URL)}/{API_VERSION}/models/{model}:{method}"


def _raise_key_error(exc: InvalidRequestError) -> None:
    """Gemini answers a wrong key with 400 `API_KEY_INVALID`: raise an AuthenticationError."""
    error = exc.raw.get("error") if isinstance(exc.raw, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    reasons = [d.get("reason") for d in details or () if isinstance(d, dict)]
    if "API_KEY_INVALID" in reasons:
        fields = {"status_code": exc.status_code, "error_code": "API_KEY_INVALID", "raw": exc.raw}
        raise errors.AuthenticationError(
            f"invalid API key: {exc.message}", provider=PROVIDER, **fields
        ) from exc
