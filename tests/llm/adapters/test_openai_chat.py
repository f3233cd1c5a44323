"""OpenAI-compatible Chat Completions adapter over real loopback HTTP: §8.9 rows and bad input.

Requests go through `Client` to the fake provider server (`/v1/chat/completions`), which
validates each body against the official SDK's `CompletionCreateParams`.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types.chat import completion_create_params

from attractor.llm import errors as e
from attractor.llm import generate, generate_object
from attractor.llm.adapters.openai_chat import message_parts, request_body
from attractor.llm.types import (
    AudioData,
    ContentPart,
    ImageData,
    Message,
    ResponseFormat,
    ToolCallData,
    ToolChoice,
    ToolDefinition,
)
from attractor.testing.fake_providers import FakeProviderServer, Step, Thinking, ToolCall, Usage

from ._shared import (
    COUNTER,
    PNG,
    SSE_TYPE,
    TOOL_CALLS,
    assert_sdk_body,
    make_request,
    maybe_cut,
    mutate_one,
    openai_messages,
    play,
    replying,
    run_once,
    sdk_params,
    sent_body,
    weather,
)
from .conftest import TEST_KEY, MakeClient

pytestmark = pytest.mark.anyio

MODEL = "llama-3.3-70b"
PROVIDER = "openai_compatible"
_request = partial(make_request, MODEL)
MESSAGES = openai_messages(image_detail=None, error_results=False)
SDK_PARAMS = sdk_params(
    completion_create_params.CompletionCreateParamsNonStreaming,
    completion_create_params.CompletionCreateParamsStreaming,
)


async def test_simple_generation(fake_server: FakeProviderServer, make_client: MakeClient) -> None:
    """Text, a stop finish and usage come back; system and developer go as system messages."""
    play(fake_server, Step(text="Hello."))
    messages = (Message.system("Be brief."), Message.developer("No emoji."), Message.user("hi"))
    response = await make_client(PROVIDER).complete(_request(*messages))
    assert response.text == "Hello."
    assert response.provider == PROVIDER
    assert response.finish_reason.reason == "stop"
    assert response.usage.input_tokens > 0
    assert sent_body(fake_server)["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "system", "content": "No emoji."},
        {"role": "user", "content": "hi"},
    ]
    assert fake_server.requests[-1].has_api_key(TEST_KEY)


async def test_streaming_text(fake_server: FakeProviderServer, make_client: MakeClient) -> None:
    """Deltas join to the FINISH text; usage is requested and reported; [DONE] ends the stream."""
    play(fake_server, Step(text="one two three", deltas=3, usage=Usage(10, 3)))
    events = [ev async for ev in make_client(PROVIDER).stream(_request())]
    kinds = [ev.type for ev in events]
    assert kinds == ["stream_start", "text_start"] + ["text_delta"] * 3 + ["text_end", "finish"]
    final = events[-1]
    assert final.response is not None
    assert final.response.text == "one two three"
    assert final.usage is not None
    assert (final.usage.input_tokens, final.usage.output_tokens) == (10, 3)
    assert sent_body(fake_server)["stream_options"] == {"include_usage": True}


async def test_image_input(
    fake_server: FakeProviderServer, make_client: MakeClient, tmp_path: Path
) -> None:
    """Bytes and local files become data URIs in image_url parts; URLs pass unchanged."""
    play(fake_server, Step(text="a cat"))
    shot = tmp_path / "shot.png"
    shot.write_bytes(PNG)
    message = Message.user(
        "what?",
        ContentPart.of_image(ImageData(data=PNG, media_type="image/png")),
        ContentPart.of_image(ImageData(url="https://example.com/cat.png", detail="low")),
        ContentPart.of_image(ImageData(url=str(shot))),
    )
    assert (await make_client(PROVIDER).complete(_request(message))).text == "a cat"
    parts = sent_body(fake_server)["messages"][0]["content"]
    assert parts[0] == {"type": "text", "text": "what?"}
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert parts[2]["image_url"] == {"url": "https://example.com/cat.png", "detail": "low"}
    assert parts[3]["image_url"]["url"].startswith("data:image/png;base64,")


async def test_single_tool_call_and_execution(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """generate() runs the tool; the follow-up has assistant tool_calls and a tool message."""
    play(
        fake_server,
        Step(tool_calls=(ToolCall("get_weather", {"city": "SF"}, id="call_9"),)),
        Step(text="Sunny."),
    )
    tool = weather(lambda city: f"72F in {city}")
    result = await generate(
        MODEL, "w?", tools=[tool], max_tool_rounds=2, client=make_client(PROVIDER)
    )
    assert result.text == "Sunny."
    follow = sent_body(fake_server)["messages"]
    assert follow[1]["tool_calls"] == [
        {
            "id": "call_9",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city":"SF"}'},
        }
    ]
    assert follow[2] == {"role": "tool", "tool_call_id": "call_9", "content": "72F in SF"}
    function = sent_body(fake_server, 0)["tools"][0]["function"]
    assert (function["name"], function["description"]) == ("get_weather", "Weather")


async def test_parallel_tool_calls(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """Two calls run; both tool messages go back in call order."""
    calls = (ToolCall("get_weather", {"city": "SF"}), ToolCall("get_weather", {"city": "NY"}))
    play(fake_server, Step(tool_calls=calls), Step(text="Both."))
    tool = weather(lambda city: f"sun in {city}")
    result = await generate(
        MODEL, "w?", tools=[tool], max_tool_rounds=1, client=make_client(PROVIDER)
    )
    assert result.text == "Both."
    tool_messages = [m for m in sent_body(fake_server)["messages"] if m["role"] == "tool"]
    assert [m["content"] for m in tool_messages] == ["sun in SF", "sun in NY"]


async def test_multi_step_tool_loop(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """Three tool rounds then an answer make four calls."""
    steps = [Step(tool_calls=(ToolCall("count", {"n": n}),)) for n in range(3)]
    play(fake_server, *steps, Step(text="done"))
    result = await generate(
        MODEL, "go", tools=[COUNTER], max_tool_rounds=5, client=make_client(PROVIDER)
    )
    assert result.text == "done"
    assert len(result.steps) == 4


async def test_streaming_with_parallel_tool_calls(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """Tool-call deltas keyed by index become START/DELTA/END per call with parsed arguments."""
    calls = (ToolCall("f", {"a": 1}), ToolCall("g", {"b": [1, 2]}))
    play(fake_server, Step(tool_calls=calls))
    request = _request(tools=(ToolDefinition("f"), ToolDefinition("g")))
    events = [ev async for ev in make_client(PROVIDER).stream(request)]
    starts = [ev.tool_call.name for ev in events if ev.type == "tool_call_start" and ev.tool_call]
    ends = [ev.tool_call for ev in events if ev.type == "tool_call_end" and ev.tool_call]
    assert starts == ["f", "g"]
    assert [c.arguments for c in ends] == [{"a": 1}, {"b": [1, 2]}]
    final = events[-1].response
    assert final is not None
    assert final.finish_reason.reason == "tool_calls"


async def test_structured_output(fake_server: FakeProviderServer, make_client: MakeClient) -> None:
    """generate_object sends response_format json_schema and validates the answer."""
    play(fake_server, Step(text='{"ok": true}'))
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    result = await generate_object(MODEL, "ok?", schema=schema, client=make_client(PROVIDER))
    assert result.output == {"ok": True}
    fmt = sent_body(fake_server)["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["schema"] == schema
    assert fmt["json_schema"]["strict"] is True


async def test_reasoning_tokens_and_content(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """reasoning_effort is sent; reasoning_content and reasoning tokens come back."""
    usage = Usage(input_tokens=20, output_tokens=30, reasoning_tokens=12)
    play(fake_server, Step(text="42", thinking=(Thinking(text="hmm"),), usage=usage, repeat=True))
    client = make_client(PROVIDER)
    response = await client.complete(_request(reasoning_effort="medium"))
    assert sent_body(fake_server)["reasoning_effort"] == "medium"
    assert response.reasoning == "hmm"
    assert response.usage.reasoning_tokens == 12
    events = [ev async for ev in client.stream(_request())]
    kinds = [ev.type for ev in events]
    assert kinds.index("reasoning_end") < kinds.index("text_start")


async def test_usage_is_accurate(fake_server: FakeProviderServer, make_client: MakeClient) -> None:
    """Scripted counts (cached and reasoning details included) arrive unchanged."""
    usage = Usage(input_tokens=300, output_tokens=20, reasoning_tokens=5, cache_read_tokens=256)
    play(fake_server, Step(text="x", usage=usage))
    got = (await make_client(PROVIDER).complete(_request())).usage
    assert (got.input_tokens, got.output_tokens, got.total_tokens) == (300, 20, 320)
    assert (got.cache_read_tokens, got.reasoning_tokens) == (256, 5)


async def test_provider_options_and_parameters(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """Parameters map to Chat fields; provider_options under the provider name are merged."""
    play(fake_server, Step(text="ok"))
    request = _request(
        temperature=0.2,
        top_p=0.9,
        max_tokens=64,
        stop_sequences=("END",),
        tools=(ToolDefinition("f"),),
        tool_choice=ToolChoice.named("f"),
        provider_options={PROVIDER: {"seed": 7, "user": "u1"}, "openai": {"store": True}},
    )
    await make_client(PROVIDER).complete(request)
    body = sent_body(fake_server)
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.2, 0.9, 64)
    assert body["stop"] == ["END"]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "f"}}
    assert (body["seed"], body["user"]) == (7, "u1")
    assert "store" not in body


async def test_invalid_tool_arguments_keep_the_raw_text(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """Non-JSON arguments are kept raw, streamed or not."""
    play(fake_server, Step(tool_calls=(ToolCall("f", raw_arguments="{oops"),), repeat=True))
    client = make_client(PROVIDER)
    plain = (await client.complete(_request(tools=(ToolDefinition("f"),)))).tool_calls[0]
    final = [ev async for ev in client.stream(_request(tools=(ToolDefinition("f"),)))][-1].response
    assert final is not None
    for call in (plain, final.tool_calls[0]):
        assert call.raw_arguments == "{oops"
        assert call.arguments == {}


async def test_no_key_is_allowed_and_a_401_is_typed(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """Keyless servers are allowed; a server that wants a key answers 401 -> AuthenticationError."""
    fake_server.play()
    with pytest.raises(e.AuthenticationError) as caught:
        await make_client(PROVIDER, api_key=None).complete(_request())
    assert caught.value.provider == PROVIDER
    assert "authorization" not in fake_server.requests[-1].headers


async def test_missing_base_url_is_a_configuration_error(make_client: MakeClient) -> None:
    """Without a base URL the adapter refuses with a hint naming the variable."""
    with pytest.raises(e.ConfigurationError, match="OPENAI_COMPATIBLE_BASE_URL"):
        await make_client(PROVIDER, base_url=None).complete(_request())


async def test_audio_bytes_are_sent_and_audio_urls_rejected(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """wav bytes become input_audio; an audio URL is an UnsupportedContentError."""
    play(fake_server, Step(text="heard"))
    wav = ContentPart(kind="audio", audio=AudioData(data=b"RIFF", media_type="audio/wav"))
    await make_client(PROVIDER).complete(_request(Message.user("listen", wav)))
    part = sent_body(fake_server)["messages"][0]["content"][1]
    assert part == {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
    remote = ContentPart(kind="audio", audio=AudioData(url="https://x/a.wav"))
    with pytest.raises(e.UnsupportedContentError, match=r"messages\[0\]"):
        await make_client(PROVIDER).complete(_request(Message.user("listen", remote)))


# ---- robustness and translation properties -------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(data=st.data(), cut=st.floats(0, 1), done=st.booleans())
def test_stream_survives_mutated_and_truncated_chunks(
    openai_samples: dict[str, dict[str, Any]], data: Any, cut: float, done: bool
) -> None:
    """One mutated chunk, a cut anywhere or a missing [DONE] end in FINISH/ERROR or SDKError."""
    chunks = mutate_one(data, openai_samples[PROVIDER]["chunks"])
    raw = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + (
        "data: [DONE]\n\n" if done else ""
    )
    run_once(
        replying(PROVIDER, maybe_cut(data, raw.encode(), cut), SSE_TYPE), _request(), streaming=True
    )


@given(text=st.text(min_size=1, max_size=30), calls=st.lists(TOOL_CALLS, max_size=3))
def test_assistant_turns_round_trip(text: str, calls: list[ToolCallData]) -> None:
    """An assistant message sent back parses, as a response message, to the same content."""
    message = Message.assistant(text, *(ContentPart.of_tool_call(c) for c in calls))
    sent = request_body(_request(message)).body["messages"][0]
    assert message_parts(sent) == list(message.content)


@settings(max_examples=80)
@given(
    messages=st.lists(MESSAGES, min_size=1, max_size=5),
    json_mode=st.sampled_from([None, "json", "json_schema"]),
    tools=st.booleans(),
    streaming=st.booleans(),
)
def test_request_bodies_match_the_official_sdk_types(
    messages: list[Message], json_mode: str | None, tools: bool, streaming: bool
) -> None:
    """Every body validates against openai's CompletionCreateParams and uses only its keys."""
    schema = {"type": "object"} if json_mode == "json_schema" else None
    fmt = ResponseFormat(type=json_mode, json_schema=schema) if json_mode else None
    request = _request(
        *messages,
        response_format=fmt,
        tools=(ToolDefinition("f", "d"),) if tools else None,
        tool_choice=ToolChoice("required") if tools else None,
        max_tokens=10,
        stop_sequences=("x",),
        reasoning_effort="low",
    )
    assert_sdk_body(SDK_PARAMS, request_body(request, stream=streaming).body, streaming=streaming)
