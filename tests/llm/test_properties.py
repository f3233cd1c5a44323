"""Property tests: Usage addition laws and JSON codec round-trips of every LLM data type."""

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from attractor.llm.accumulate import StreamAccumulator
from attractor.llm.catalog import ModelInfo
from attractor.llm.errors import ErrorInfo
from attractor.llm.generate import GenerateResult, StepResult
from attractor.llm.retry import RetryPolicy, backoff_delay
from attractor.llm.types import (
    AudioData,
    ContentKind,
    ContentPart,
    DocumentData,
    FinishReason,
    ImageData,
    Message,
    RateLimitInfo,
    Request,
    Response,
    ResponseFormat,
    ResponseWarning,
    Role,
    StreamEvent,
    StreamEventType,
    ThinkingData,
    ToolCall,
    ToolCallData,
    ToolChoice,
    ToolDefinition,
    ToolResult,
    ToolResultData,
    Usage,
)
from attractor.testing.scripted_llm import events_from_response

small = st.integers(min_value=0, max_value=10**9)
opt_small = st.none() | small
text = st.text(max_size=12)
opt_text = st.none() | text
json_scalar = st.none() | st.booleans() | st.integers(-(10**9), 10**9) | text
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
json_obj = st.dictionaries(text, json_value, max_size=3)

usages = st.builds(
    Usage,
    input_tokens=small,
    output_tokens=small,
    total_tokens=small,
    reasoning_tokens=opt_small,
    cache_read_tokens=opt_small,
    cache_write_tokens=opt_small,
)


@given(usages, usages, usages)
def test_usage_addition_is_associative(a: Usage, b: Usage, c: Usage) -> None:
    """(a + b) + c == a + (b + c)."""
    assert (a + b) + c == a + (b + c)


@given(usages)
def test_usage_zero_is_identity(a: Usage) -> None:
    """Usage() is the identity of +."""
    assert a + Usage() == a
    assert Usage() + a == a


@given(usages, usages)
def test_usage_addition_commutes(a: Usage, b: Usage) -> None:
    """a + b == b + a."""
    assert a + b == b + a


@given(usages, usages)
def test_usage_optional_none_only_if_both_none(a: Usage, b: Usage) -> None:
    """An optional field of a sum is None exactly when it is None on both sides."""
    total = a + b
    for name in ("reasoning_tokens", "cache_read_tokens", "cache_write_tokens"):
        both_none = getattr(a, name) is None and getattr(b, name) is None
        assert (getattr(total, name) is None) == both_none


def _source(cls: Any, **extra: Any) -> st.SearchStrategy[Any]:
    by_url = st.builds(cls, url=text, media_type=opt_text, **extra)
    by_data = st.builds(cls, data=st.binary(max_size=16), media_type=opt_text, **extra)
    return by_url | by_data


tool_call_data = st.builds(ToolCallData, id=text, name=text, arguments=json_obj | text)
thinking = st.builds(ThinkingData, text=text, signature=opt_text, redacted=st.booleans())
parts = st.one_of(
    st.builds(ContentPart.of_text, text),
    st.builds(ContentPart.of_image, _source(ImageData, detail=opt_text)),
    st.builds(lambda a: ContentPart(kind=ContentKind.AUDIO, audio=a), _source(AudioData)),
    st.builds(
        lambda d: ContentPart(kind=ContentKind.DOCUMENT, document=d),
        _source(DocumentData, file_name=opt_text),
    ),
    st.builds(ContentPart.of_tool_call, tool_call_data),
    st.builds(
        ContentPart.of_tool_result,
        st.builds(
            ToolResultData, tool_call_id=text, content=text | json_obj, is_error=st.booleans()
        ),
    ),
    st.builds(ContentPart.of_thinking, thinking),
    st.builds(ContentPart, kind=st.just("provider_specific"), extra=json_obj),
)
messages = st.builds(
    Message,
    role=st.sampled_from(Role),
    content=st.lists(parts, max_size=3).map(tuple),
    name=opt_text,
    tool_call_id=opt_text,
)
tool_defs = st.builds(
    ToolDefinition,
    name=st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
    description=text,
)
finish = st.builds(
    FinishReason, reason=st.sampled_from(["stop", "length", "tool_calls"]), raw=opt_text
)
rate = st.builds(
    RateLimitInfo,
    requests_remaining=opt_small,
    tokens_limit=opt_small,
    reset_at=st.none() | st.datetimes(timezones=st.just(UTC), min_value=datetime(2000, 1, 1)),
)
responses = st.builds(
    Response,
    id=text,
    model=text,
    provider=text,
    message=messages,
    finish_reason=finish,
    usage=usages,
    raw=st.none() | json_obj,
    warnings=st.lists(st.builds(ResponseWarning, message=text, code=opt_text), max_size=2).map(
        tuple
    ),
    rate_limit=st.none() | rate,
)
requests = st.builds(
    Request,
    model=text,
    messages=st.lists(messages, max_size=3).map(tuple),
    provider=opt_text,
    tools=st.none() | st.lists(tool_defs, max_size=2).map(tuple),
    tool_choice=st.none() | st.just(ToolChoice()) | st.builds(ToolChoice.named, text.filter(bool)),
    response_format=st.none()
    | st.just(ResponseFormat(type="json"))
    | st.builds(
        ResponseFormat, type=st.just("json_schema"), json_schema=json_obj, strict=st.booleans()
    ),
    temperature=st.none() | st.floats(0, 2),
    max_tokens=opt_small,
    stop_sequences=st.none() | st.lists(text, max_size=2).map(tuple),
    reasoning_effort=st.none() | st.sampled_from(["low", "medium", "high"]),
    metadata=st.none() | st.dictionaries(text, text, max_size=2),
    provider_options=st.none() | st.dictionaries(text, json_obj, max_size=2),
)
tool_calls = st.builds(ToolCall, id=text, name=text, arguments=json_obj, raw_arguments=opt_text)
errors = st.builds(
    ErrorInfo,
    kind=st.sampled_from(["RateLimitError", "ServerError", "StreamError"]),
    message=text,
    retryable=st.booleans(),
    provider=opt_text,
    status_code=st.none() | st.integers(400, 599),
    retry_after=st.none() | st.floats(0, 100),
)
events = st.builds(
    StreamEvent,
    type=st.sampled_from(StreamEventType),
    delta=opt_text,
    text_id=opt_text,
    tool_call=st.none() | tool_calls,
    thinking=st.none() | thinking,
    finish_reason=st.none() | finish,
    usage=st.none() | usages,
    response=st.none() | responses,
    error=st.none() | errors,
    raw=st.none() | json_obj,
)
tool_results = st.builds(
    ToolResult, tool_call_id=text, content=text | json_obj, is_error=st.booleans()
)
steps = st.builds(
    StepResult,
    text=text,
    reasoning=opt_text,
    tool_calls=st.lists(tool_calls, max_size=2).map(tuple),
    tool_results=st.lists(tool_results, max_size=2).map(tuple),
    finish_reason=finish,
    usage=usages,
    response=responses,
)
generate_results = st.builds(
    GenerateResult,
    text=text,
    reasoning=opt_text,
    tool_calls=st.just(()),
    tool_results=st.just(()),
    finish_reason=finish,
    usage=usages,
    total_usage=usages,
    steps=st.lists(steps, max_size=2).map(tuple),
    response=responses,
    output=json_value,
)
models = st.builds(
    ModelInfo,
    id=text,
    provider=text,
    display_name=text,
    context_window=small,
    max_output=opt_small,
    aliases=st.lists(text, max_size=2).map(tuple),
)


def _round_trip(value: Any) -> None:
    encoded = msgspec.json.encode(value)
    assert msgspec.json.decode(encoded, type=type(value)) == value


ALL_TYPES = {
    "ContentPart": parts,
    "Message": messages,
    "Request": requests,
    "Response": responses,
    "StreamEvent": events,
    "ToolDefinition": tool_defs,
    "ToolCall": tool_calls,
    "ToolResult": tool_results,
    "Usage": usages,
    "ErrorInfo": errors,
    "RateLimitInfo": rate,
    "StepResult": steps,
    "GenerateResult": generate_results,
    "ModelInfo": models,
}


@pytest.mark.parametrize("name", sorted(ALL_TYPES))
@given(data=st.data())
def test_codec_round_trip(name: str, data: st.DataObject) -> None:
    """Every LLM data type encodes to JSON and decodes back to an equal value."""
    _round_trip(data.draw(ALL_TYPES[name]))


@pytest.mark.parametrize("name", ["Request", "Response", "StreamEvent", "GenerateResult"])
@given(data=st.data())
def test_builtins_round_trip(name: str, data: st.DataObject) -> None:
    """to_builtins/convert round-trips, as the effect log stores requests and responses as JSON."""
    value = data.draw(ALL_TYPES[name])
    assert msgspec.convert(msgspec.to_builtins(value), type(value)) == value


assistant_parts = st.one_of(
    st.builds(ContentPart.of_text, st.text(min_size=1, max_size=20)),
    st.builds(ContentPart.of_thinking, thinking),
    st.builds(
        ContentPart.of_tool_call,
        st.builds(ToolCallData, id=st.uuids().map(str), name=text, arguments=json_obj),
    ),
)


@given(
    st.lists(assistant_parts, max_size=5),
    finish,
    usages,
    st.integers(min_value=1, max_value=7),
)
def test_accumulated_events_rebuild_response(
    content: list[ContentPart], reason: FinishReason, usage: Usage, chunk: int
) -> None:
    """Folding a response's start/delta/end events (without FINISH's copy) rebuilds it."""
    original = Response(
        id="r",
        model="m",
        provider="p",
        message=Message(Role.ASSISTANT, tuple(content)),
        finish_reason=reason,
        usage=usage,
    )
    events = events_from_response(original, chunk_size=chunk)
    acc = StreamAccumulator(provider="p", model="m", response_id="r")
    for event in [*events[:-1], msgspec.structs.replace(events[-1], response=None)]:
        acc.process(event)
    assert acc.response() == original


@given(st.integers(0, 30), st.floats(0.01, 5), st.floats(1.1, 4), st.floats(0, 0.999))
def test_backoff_bounds(attempt: int, base: float, mult: float, rand: float) -> None:
    """Backoff never exceeds max_delay * 1.5 and without jitter never decreases per attempt."""
    policy = RetryPolicy(base_delay=base, backoff_multiplier=mult, max_delay=30.0)
    plain = RetryPolicy(base_delay=base, backoff_multiplier=mult, max_delay=30.0, jitter=False)
    assert 0 <= backoff_delay(policy, attempt, rand) <= 45.0
    assert backoff_delay(plain, attempt, 0) <= backoff_delay(plain, attempt + 1, 0)
