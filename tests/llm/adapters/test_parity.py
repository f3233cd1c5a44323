"""Adapter behaviours checked in the same words for several providers, over loopback HTTP.

Each test is parametrized by provider; the per-adapter modules keep what differs.
"""

import contextlib
import json
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attractor.llm import ContentPart, Message, errors, generate, stream_object
from attractor.llm.adapters import (
    anthropic_messages,
    gemini_generate,
    openai_chat,
    openai_responses,
)
from attractor.testing.fake_providers import (
    Error,
    FakeProviderServer,
    Fault,
    Step,
    Thinking,
    ToolCall,
    Usage,
)

from ._samples import ANTHROPIC_BODY, ANTHROPIC_EVENTS, GEMINI_BODY, GEMINI_CHUNKS, gemini_sse
from ._shared import (
    FAST_RETRY,
    check_payload,
    make_request,
    maybe_cut,
    mutate_one,
    named_sse,
    replying,
    run_once,
    scripted,
)
from .conftest import MakeClient, check_runtime_isolation, mutate_json

pytestmark = pytest.mark.anyio

MODELS = {
    "anthropic": "claude-sonnet-4-5",
    "gemini": "gemini-2.5-pro",
    "openai": "gpt-5.2",
    "openai_compatible": "llama-3.3-70b",
}
ANTHROPIC_GEMINI = pytest.mark.parametrize("provider", ["anthropic", "gemini"])
OPENAI_FAMILY = pytest.mark.parametrize("provider", ["openai", "openai_compatible"])
COMMON_STATUSES = [
    (400, errors.InvalidRequestError),
    (401, errors.AuthenticationError),
    (403, errors.AccessDeniedError),
    (404, errors.NotFoundError),
]
MORE_STATUSES = {
    "anthropic": [(500, errors.ServerError), (529, errors.ServerError)],
    "gemini": [(500, errors.ServerError), (503, errors.ServerError)],
    "openai": [(429, errors.RateLimitError), (500, errors.ServerError)],
    "openai_compatible": [(429, errors.RateLimitError)],
}
HTTP_ERRORS = [
    (provider, status, kind)
    for provider, more in MORE_STATUSES.items()
    for status, kind in COMMON_STATUSES + more
]
RETRIED_STATUSES = {"anthropic": 529, "gemini": 503, "openai": 500, "openai_compatible": 503}
BROKEN_ANSWERS = [
    ("malformed_json", errors.ServerError),
    ("empty_body", errors.ServerError),
    ("html", errors.ServerError),
    ("disconnect", errors.NetworkError),
]
"""Faults of a 200 plain answer and the error each must raise."""
STREAM_BREAKS = {
    "anthropic": (3, "a b c d"),
    "gemini": (2, "a b c d"),
    "openai": (4, "a b c d e f g h"),
    "openai_compatible": (3, "a b c d e f"),
}
"""Per provider: events sent before a mid-stream fault, and the scripted text."""
BUILDERS: dict[str, Callable[..., Any]] = {
    "anthropic": anthropic_messages.build_body,
    "gemini": gemini_generate.build_body,
}
SAMPLE_BODIES = {"anthropic": ANTHROPIC_BODY, "gemini": GEMINI_BODY}
SAMPLE_STREAMS: dict[str, tuple[list[Any], Callable[[list[Any]], bytes]]] = {
    "anthropic": (ANTHROPIC_EVENTS, named_sse),
    "gemini": (GEMINI_CHUNKS, gemini_sse),
}
PARSERS: dict[str, tuple[Callable[..., Any], str]] = {
    "openai": (openai_responses.parse_response, "output"),
    "openai_compatible": (openai_chat.parse_response, "choices"),
}
"""Per OpenAI-family provider: the body parser, and the key a non-object body is put under."""
STREAM_SHAPES = [
    Step(text="plain answer here"),
    Step(text="thought through", thinking=(Thinking("first this, then that", "c2lnbg=="),)),
    Step(
        thinking=(Thinking("two lookups", "c2lnbg=="),),
        tool_calls=(ToolCall("get_weather", {"city": "A"}), ToolCall("get_weather", {"city": "B"})),
    ),
    Step(text="cut", finish="length"),
]


@ANTHROPIC_GEMINI
async def test_stream_object_yields_growing_partials(
    fake_server: FakeProviderServer, make_client: MakeClient, provider: str
) -> None:
    """stream_object parses the streamed JSON incrementally and validates the final object."""
    schema = {"type": "object", "properties": {"items": {"type": "array"}}, "required": ["items"]}
    text = '{"items": [1, 2, 3, 4]}'
    client = scripted(provider, fake_server, make_client, Step(text=text, deltas=len(text)))
    result = stream_object(MODELS[provider], "list", schema=schema, client=client)
    partials = [p async for p in result]
    assert len(partials) > 2
    assert await result.object() == {"items": [1, 2, 3, 4]}


@ANTHROPIC_GEMINI
@pytest.mark.parametrize("step", STREAM_SHAPES)
async def test_stream_and_complete_agree(
    fake_server: FakeProviderServer, make_client: MakeClient, provider: str, step: Step
) -> None:
    """The streamed FINISH response equals what complete() returns for the same answer."""
    usage = Usage(input_tokens=30, output_tokens=12, reasoning_tokens=4, cache_read_tokens=8)
    answer = msgspec.structs.replace(step, repeat=True, usage=usage)
    client = scripted(provider, fake_server, make_client, answer)
    request = make_request(MODELS[provider])
    whole = await client.complete(request)
    final = [e async for e in client.stream(request)][-1].response
    assert final is not None
    assert _numbered_calls(final.message) == _numbered_calls(whole.message)
    assert final.finish_reason == whole.finish_reason
    assert final.usage == whole.usage


def _numbered_calls(message: Message) -> Message:
    """The message with tool-call ids replaced by their position (ids differ per request)."""
    parts = [
        ContentPart.of_tool_call(msgspec.structs.replace(p.tool_call, id=f"#{n}"))
        if p.tool_call is not None
        else p
        for n, p in enumerate(message.content)
    ]
    return msgspec.structs.replace(message, content=tuple(parts))


@pytest.mark.parametrize(("provider", "status", "kind"), HTTP_ERRORS)
async def test_http_errors_are_typed(
    fake_server: FakeProviderServer,
    make_client: MakeClient,
    provider: str,
    status: int,
    kind: type[errors.ProviderError],
) -> None:
    """Each error status raises its typed error with provider, status, message and Retry-After."""
    error = Error(status=status, message="scripted", retry_after="7")
    client = scripted(provider, fake_server, make_client, Step(error=error))
    with pytest.raises(kind) as caught:
        await client.complete(make_request(MODELS[provider]))
    err = caught.value
    assert (err.provider, err.status_code, err.message) == (provider, status, "scripted")
    assert err.retry_after == 7.0


@pytest.mark.parametrize("provider", list(MODELS))
@pytest.mark.parametrize(("kind", "error_class"), BROKEN_ANSWERS)
async def test_broken_plain_answers_are_typed_errors(
    fake_server: FakeProviderServer,
    make_client: MakeClient,
    provider: str,
    kind: Any,
    error_class: type[errors.SDKError],
) -> None:
    """Cut, empty, HTML and half-sent bodies raise typed errors naming the provider."""
    answer = Step(text="hello", fault=Fault(kind=kind))
    client = scripted(provider, fake_server, make_client, answer)
    with pytest.raises(error_class) as caught:
        await client.complete(make_request(MODELS[provider]))
    assert provider in str(caught.value)
    if isinstance(caught.value, errors.ProviderError):
        assert caught.value.provider == provider
    if kind == "html":
        assert "proxy page" in caught.value.message


@pytest.mark.parametrize("provider", list(MODELS))
@pytest.mark.parametrize("after", [0, 2])
@pytest.mark.parametrize("kind", ["wrong_content_type", "garbage_sse", "unknown_event"])
async def test_tolerated_stream_oddities(
    fake_server: FakeProviderServer,
    make_client: MakeClient,
    provider: str,
    kind: Any,
    after: int,
) -> None:
    """Mislabelled SSE, garbage lines and unknown events or chunks do not disturb the stream."""
    step = Step(text="still fine", fault=Fault(kind=kind, after_events=after))
    client = scripted(provider, fake_server, make_client, step)
    events = [ev async for ev in client.stream(make_request(MODELS[provider]))]
    assert events[-1].type == "finish"
    assert events[-1].response is not None
    assert events[-1].response.text == "still fine"


@pytest.mark.parametrize("provider", list(STREAM_BREAKS))
@pytest.mark.parametrize(
    ("kind", "error_kind"),
    [
        ("disconnect", "StreamError"),
        ("malformed_json", "StreamError"),
        ("empty_body", "StreamError"),
        ("error_event", "ServerError"),
    ],
)
async def test_mid_stream_failures_end_with_an_error_event(
    fake_server: FakeProviderServer,
    make_client: MakeClient,
    provider: str,
    kind: Any,
    error_kind: str,
) -> None:
    """A stream broken after data ends with exactly one ERROR event of the right kind."""
    after, text = STREAM_BREAKS[provider]
    step = Step(text=text, fault=Fault(kind=kind, after_events=after))
    client = scripted(provider, fake_server, make_client, step)
    events = [ev async for ev in client.stream(make_request(MODELS[provider]))]
    assert events[0].type == "stream_start"
    assert events[-1].type == "error"
    assert events[-1].error is not None
    assert events[-1].error.kind == error_kind
    assert [ev.type for ev in events].count("error") == 1


@pytest.mark.parametrize("provider", ["anthropic", "gemini", "openai"])
async def test_missing_key_names_provider(
    fake_server: FakeProviderServer, make_client: MakeClient, provider: str
) -> None:
    """Without a key the call fails before sending, naming the provider and the runtime."""
    client = scripted(provider, fake_server, lambda p: make_client(p, api_key=None))
    with pytest.raises(errors.AuthenticationError, match=provider) as caught:
        await client.complete(make_request(MODELS[provider]))
    assert caught.value.provider == provider
    assert "runtime" in caught.value.message
    assert fake_server.requests == ()


@pytest.mark.parametrize("provider", list(MODELS))
async def test_server_error_is_retried_by_generate(
    fake_server: FakeProviderServer, make_client: MakeClient, provider: str
) -> None:
    """A 5xx then a success: generate() retries once and returns the answer."""
    failure = Step(error=Error(status=RETRIED_STATUSES[provider]))
    client = scripted(provider, fake_server, make_client, failure, Step(text="recovered"))
    result = await generate(MODELS[provider], "hi", client=client, retry_policy=FAST_RETRY)
    assert result.text == "recovered"
    assert len(fake_server.requests) == 2


@ANTHROPIC_GEMINI
def test_unknown_effort_is_refused(provider: str) -> None:
    """An unknown reasoning effort names the accepted values."""
    with pytest.raises(errors.InvalidValueError, match="low, medium or high"):
        BUILDERS[provider](make_request(MODELS[provider], reasoning_effort="extreme"))


@ANTHROPIC_GEMINI
async def test_runtimes_never_see_each_others_keys(provider: str) -> None:
    """8 runtimes with their own keys and servers, 400 interleaved calls: no cross-talk."""
    await check_runtime_isolation(provider)


# ---- properties: bad payloads (the samples are checked valid in each adapter's module) -------


@ANTHROPIC_GEMINI
@given(data=st.data())
def test_mutated_bodies_give_typed_errors(provider: str, data: st.DataObject) -> None:
    """A success body with any subtree replaced or removed gives a Response or an SDKError."""
    raw = json.dumps(mutate_json(data, SAMPLE_BODIES[provider])).encode()
    check_payload(provider, make_request(MODELS[provider]), raw, streaming=False)


@ANTHROPIC_GEMINI
@given(cut=st.floats(0, 1))
def test_truncated_bodies_give_typed_errors(provider: str, cut: float) -> None:
    """A success body cut anywhere gives a Response or an SDKError."""
    raw = json.dumps(SAMPLE_BODIES[provider]).encode()
    check_payload(
        provider, make_request(MODELS[provider]), raw[: int(len(raw) * cut)], streaming=False
    )


@ANTHROPIC_GEMINI
@given(data=st.data(), cut=st.floats(0, 1))
def test_mutated_streams_give_typed_errors(provider: str, data: st.DataObject, cut: float) -> None:
    """An SSE stream with one event mutated and cut anywhere ends in FINISH/ERROR or an SDKError."""
    events, encode = SAMPLE_STREAMS[provider]
    raw = encode(mutate_one(data, events))
    cut_raw = raw[: max(1, int(len(raw) * cut))]
    check_payload(provider, make_request(MODELS[provider]), cut_raw, streaming=True)


@OPENAI_FAMILY
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_parse_response_survives_mutated_bodies(
    openai_samples: dict[str, dict[str, Any]], provider: str, data: Any
) -> None:
    """Any mutation of a valid body gives a Response or a typed SDKError, nothing else."""
    parse, list_key = PARSERS[provider]
    body = mutate_json(data, openai_samples[provider]["body"])
    with contextlib.suppress(errors.SDKError):
        parse(body if isinstance(body, dict) else {list_key: body}, provider=provider)


@OPENAI_FAMILY
@settings(max_examples=40, deadline=None)
@given(data=st.data(), cut=st.floats(0, 1))
def test_complete_survives_mutated_and_truncated_bodies(
    openai_samples: dict[str, dict[str, Any]], provider: str, data: Any, cut: float
) -> None:
    """Over HTTP, mutated JSON and truncated bytes give a Response or a typed SDKError."""
    raw = json.dumps(mutate_json(data, openai_samples[provider]["body"])).encode()
    raw = maybe_cut(data, raw, cut)
    run_once(replying(provider, raw), make_request(MODELS[provider]), streaming=False)
