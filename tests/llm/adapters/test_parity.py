"""Adapter behaviours checked in the same words for several providers, over loopback HTTP.

Each test is parametrized by provider; the per-adapter modules keep what differs.
"""

import json
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from attractor.llm import ContentPart, Message, errors, stream_object
from attractor.llm.adapters import anthropic_messages, gemini_generate
from attractor.testing.fake_providers import (
    FakeProviderServer,
    Fault,
    Step,
    Thinking,
    ToolCall,
    Usage,
)

from ._samples import ANTHROPIC_BODY, ANTHROPIC_EVENTS, GEMINI_BODY, GEMINI_CHUNKS, gemini_sse
from ._shared import check_payload, make_request, mutate_one, named_sse, scripted
from .conftest import MakeClient, check_runtime_isolation, mutate_json

pytestmark = pytest.mark.anyio

MODELS = {"anthropic": "claude-sonnet-4-5", "gemini": "gemini-2.5-pro"}
PROVIDERS = pytest.mark.parametrize("provider", list(MODELS))
BUILDERS: dict[str, Callable[..., Any]] = {
    "anthropic": anthropic_messages.build_body,
    "gemini": gemini_generate.build_body,
}
SAMPLE_BODIES = {"anthropic": ANTHROPIC_BODY, "gemini": GEMINI_BODY}
SAMPLE_STREAMS: dict[str, tuple[list[Any], Callable[[list[Any]], bytes]]] = {
    "anthropic": (ANTHROPIC_EVENTS, named_sse),
    "gemini": (GEMINI_CHUNKS, gemini_sse),
}
STREAM_SHAPES = [
    Step(text="plain answer here"),
    Step(text="thought through", thinking=(Thinking("first this, then that", "c2lnbg=="),)),
    Step(
        thinking=(Thinking("two lookups", "c2lnbg=="),),
        tool_calls=(ToolCall("get_weather", {"city": "A"}), ToolCall("get_weather", {"city": "B"})),
    ),
    Step(text="cut", finish="length"),
]


@PROVIDERS
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


@PROVIDERS
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


@PROVIDERS
async def test_html_proxy_page(
    fake_server: FakeProviderServer, make_client: MakeClient, provider: str
) -> None:
    """An HTML error page from a proxy is a ServerError that says so."""
    client = scripted(provider, fake_server, make_client, Step(text="x", fault=Fault(kind="html")))
    with pytest.raises(errors.ServerError, match="proxy"):
        await client.complete(make_request(MODELS[provider]))


@PROVIDERS
async def test_missing_key_names_provider(
    fake_server: FakeProviderServer, make_client: MakeClient, provider: str
) -> None:
    """Without a key the call fails before sending, naming the provider."""
    client = scripted(provider, fake_server, lambda p: make_client(p, api_key=None))
    with pytest.raises(errors.AuthenticationError, match=provider):
        await client.complete(make_request(MODELS[provider]))
    assert not fake_server.requests


@PROVIDERS
def test_unknown_effort_is_refused(provider: str) -> None:
    """An unknown reasoning effort names the accepted values."""
    with pytest.raises(errors.InvalidValueError, match="low, medium or high"):
        BUILDERS[provider](make_request(MODELS[provider], reasoning_effort="extreme"))


@PROVIDERS
async def test_runtimes_never_see_each_others_keys(provider: str) -> None:
    """8 runtimes with their own keys and servers, 400 interleaved calls: no cross-talk."""
    await check_runtime_isolation(provider)


# ---- properties: bad payloads (the samples are checked valid in each adapter's module) -------


@PROVIDERS
@given(data=st.data())
def test_mutated_bodies_give_typed_errors(provider: str, data: st.DataObject) -> None:
    """A success body with any subtree replaced or removed gives a Response or an SDKError."""
    raw = json.dumps(mutate_json(data, SAMPLE_BODIES[provider])).encode()
    check_payload(provider, make_request(MODELS[provider]), raw, streaming=False)


@PROVIDERS
@given(cut=st.floats(0, 1))
def test_truncated_bodies_give_typed_errors(provider: str, cut: float) -> None:
    """A success body cut anywhere gives a Response or an SDKError."""
    raw = json.dumps(SAMPLE_BODIES[provider]).encode()
    check_payload(
        provider, make_request(MODELS[provider]), raw[: int(len(raw) * cut)], streaming=False
    )


@PROVIDERS
@given(data=st.data(), cut=st.floats(0, 1))
def test_mutated_streams_give_typed_errors(provider: str, data: st.DataObject, cut: float) -> None:
    """An SSE stream with one event mutated and cut anywhere ends in FINISH/ERROR or an SDKError."""
    events, encode = SAMPLE_STREAMS[provider]
    raw = encode(mutate_one(data, events))
    cut_raw = raw[: max(1, int(len(raw) * cut))]
    check_payload(provider, make_request(MODELS[provider]), cut_raw, streaming=True)
