"""Tests for stream() / stream_object(): events, steps, retries before data, abort, timeouts."""

import asyncio

import pytest

from attractor.llm import errors as e
from attractor.llm.abort import AbortController
from attractor.llm.client import Client
from attractor.llm.retry import RetryPolicy
from attractor.llm.runtime import ProviderConfig, Runtime, Secret, use_runtime
from attractor.llm.streaming import stream, stream_object, stream_sync
from attractor.llm.tools import Tool
from attractor.llm.types import StreamEvent, StreamEventType
from attractor.testing.scripted_llm import (
    ScriptedAdapter,
    ScriptItem,
    events_from_response,
    text_response,
    tool_call_response,
)

pytestmark = pytest.mark.anyio

ET = StreamEventType
FAST = RetryPolicy(base_delay=0.001, jitter=False)
WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def _client(*script: ScriptItem, event_delay: float = 0.0) -> tuple[Client, ScriptedAdapter]:
    adapter = ScriptedAdapter(script, name="s", chunk_size=4, event_delay=event_delay)
    return Client({"s": adapter}, default_provider="s"), adapter


async def test_text_deltas_concatenate_to_response_text() -> None:
    """TEXT_DELTA events join to the final response text (spec §8.10 check 2)."""
    client, _ = _client(text_response("A haiku about code, flowing"))
    result = stream("m", "haiku", client=client)
    chunks = [ev.delta async for ev in result if ev.type == ET.TEXT_DELTA]
    assert "".join(c or "" for c in chunks) == (await result.response()).text


async def test_stream_start_and_finish_with_metadata() -> None:
    """The stream starts with STREAM_START and ends with FINISH carrying usage and response."""
    client, _ = _client(text_response("hello"))
    events = [ev async for ev in stream("m", "x", client=client)]
    assert events[0].type == ET.STREAM_START
    assert events[-1].type == ET.FINISH
    assert events[-1].usage is not None
    assert events[-1].response is not None


async def test_text_follows_start_delta_end() -> None:
    """Text events follow TEXT_START, TEXT_DELTA..., TEXT_END with one text_id."""
    client, _ = _client(text_response("hello world"))
    kinds = [ev async for ev in stream("m", "x", client=client)]
    text = [ev for ev in kinds if ev.type in (ET.TEXT_START, ET.TEXT_DELTA, ET.TEXT_END)]
    assert text[0].type == ET.TEXT_START
    assert text[-1].type == ET.TEXT_END
    assert len({ev.text_id for ev in text}) == 1


async def test_text_stream_yields_only_text() -> None:
    """text_stream yields just the text deltas."""
    client, _ = _client(text_response("abcdefgh"))
    result = stream("m", "x", client=client)
    assert [t async for t in result.text_stream] == ["abcd", "efgh"]


async def test_streaming_with_tools_emits_step_finish() -> None:
    """Tool steps end with STEP_FINISH after the tools ran; the stream ends with FINISH."""
    tool = Tool("get_weather", "", WEATHER, lambda city: f"sun in {city}")
    client, adapter = _client(
        tool_call_response(("get_weather", {"city": "SF"})), text_response("It is sunny")
    )
    result = stream("m", "x", tools=[tool], client=client)
    events = [ev async for ev in result]
    types = [ev.type for ev in events]
    assert ET.TOOL_CALL_START in types
    assert ET.TOOL_CALL_END in types
    assert types.count(ET.STEP_FINISH) == 1
    assert types.count(ET.FINISH) == 1
    assert types[-1] == ET.FINISH
    assert (await result.response()).text == "It is sunny"
    assert len(result.steps) == 2
    assert adapter.calls[1].request.messages[-1].tool_call_id == "call_1"


async def test_stream_retried_before_data() -> None:
    """A connection failure before data is retried."""
    client, adapter = _client(e.ServerError("down", provider="s"), text_response("ok"))
    result = stream("m", "x", retry_policy=FAST, client=client)
    assert (await result.response()).text == "ok"
    assert len(adapter.calls) == 2


async def test_mid_stream_error_becomes_error_event_without_retry() -> None:
    """A failure after data gives an ERROR event, no retry, and response() raises it."""
    partial: list[StreamEvent | e.SDKError] = [
        *events_from_response(text_response("hello world"))[:3],
        e.StreamError("connection reset"),
    ]
    client, adapter = _client(partial, text_response("never"))
    result = stream("m", "x", retry_policy=FAST, client=client)
    events = [ev async for ev in result]
    assert events[-1].type == ET.ERROR
    assert len(adapter.calls) == 1
    with pytest.raises(e.StreamError, match="connection reset"):
        await result.response()


async def test_stream_without_finish_is_error() -> None:
    """A provider stream that stops without FINISH ends with an ERROR event."""
    client, _ = _client(events_from_response(text_response("cut"))[:-1])
    result = stream("m", "x", client=client)
    events = [ev async for ev in result]
    assert events[-1].type == ET.ERROR
    with pytest.raises(e.StreamError, match="without a FINISH"):
        await result.response()


async def test_abort_closes_stream() -> None:
    """Aborting mid-stream raises AbortError from the iteration."""
    client, _ = _client(text_response("x" * 400), event_delay=0.01)
    controller = AbortController()
    result = stream("m", "x", abort_signal=controller.signal, client=client)
    seen = 0

    async def consume() -> None:
        nonlocal seen
        async for _ in result:
            seen += 1
            if seen == 3:
                controller.abort()

    with pytest.raises(e.AbortError):
        await consume()
    assert seen == 3


async def test_stream_read_timeout() -> None:
    """A step timeout stops a stream that stalls."""
    client, _ = _client(text_response("slow " * 50), event_delay=0.2)
    result = stream("m", "x", timeout=0.1, client=client)
    with pytest.raises(e.RequestTimeoutError):
        await result.response()


async def test_partial_response_grows() -> None:
    """partial_response reflects text received so far."""
    client, _ = _client(text_response("abcdefgh"))
    result = stream("m", "x", client=client)
    seen: list[str] = []
    async for ev in result:
        if ev.type == ET.TEXT_DELTA and result.partial_response is not None:
            seen.append(result.partial_response.text)
    assert seen == ["abcd", "abcdefgh"]


RECIPES = {
    "type": "object",
    "properties": {"recipes": {"type": "array", "items": {"type": "string"}}},
    "required": ["recipes"],
}


async def test_stream_object_yields_growing_partials() -> None:
    """stream_object yields partial objects that grow to the validated final object."""
    client, _ = _client(text_response('{"recipes": ["pasta", "soup", "salad"]}'))
    result = stream_object("m", "recipes", schema=RECIPES, client=client)
    partials = [p async for p in result]
    assert partials[0] == {} or partials[0] == {"recipes": []}
    lengths = [len(p.get("recipes", [])) for p in partials]
    assert lengths == sorted(lengths)
    assert await result.object() == {"recipes": ["pasta", "soup", "salad"]}


async def test_stream_object_invalid_final_raises() -> None:
    """A final object breaking the schema raises NoObjectGeneratedError."""
    client, _ = _client(text_response('{"recipes": 3}'))
    result = stream_object("m", "x", schema=RECIPES, client=client)
    with pytest.raises(e.NoObjectGeneratedError):
        await result.object()


def test_stream_sync_iterates_events() -> None:
    """stream_sync yields the events without an event loop."""
    adapter = ScriptedAdapter([text_response("sync")], name="s")
    client = Client({"s": adapter}, default_provider="s")
    events = list(stream_sync("m", "x", client=client))
    assert events[-1].type == ET.FINISH


async def test_stream_result_aclose_early() -> None:
    """aclose() stops a stream early without error."""
    client, _ = _client(text_response("x" * 100))
    result = stream("m", "x", client=client)
    async for _ in result:
        break
    await result.aclose()
    await asyncio.sleep(0)


async def test_stream_keeps_runtime_of_its_creator() -> None:
    """A high-level stream created under one runtime keeps it when consumed elsewhere."""
    client, adapter = _client(text_response("x"))
    mine = Runtime.of("mine", {"s": ProviderConfig(api_key=Secret("k-mine"))})
    other = Runtime.of("other", {"s": ProviderConfig(api_key=Secret("k-other"))})
    with use_runtime(mine):
        result = stream("m", "x", client=client)
    with use_runtime(other):
        await result.response()
    assert (adapter.calls[0].runtime_id, adapter.calls[0].api_key) == ("mine", "k-mine")
