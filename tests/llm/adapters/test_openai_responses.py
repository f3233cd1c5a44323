"""OpenAI Responses adapter over real loopback HTTP: the §8.9 parity rows, bad input, requests.

Every request goes through `Client` to the fake provider server, which validates each body
against the official SDK's `ResponseCreateParams` (a body it would refuse fails with a 400).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types.responses import response_create_params

from attractor.llm import Client, ProviderConfig, Runtime, Secret, generate, generate_object, stream
from attractor.llm import errors as e
from attractor.llm.adapters import load_adapter
from attractor.llm.adapters.openai_responses import ResponsesStream, parse_response, request_body
from attractor.llm.types import (
    ContentPart,
    DocumentData,
    ImageData,
    Message,
    Request,
    ResponseFormat,
    ToolCallData,
    ToolChoice,
    ToolDefinition,
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
from tests.llm.guardrail import drive_runtimes

from ._shared import (
    CITY,
    COUNTER,
    PNG,
    SSE_TYPE,
    TOOL_CALLS,
    assert_sdk_body,
    make_request,
    maybe_cut,
    mutate_one,
    named_sse,
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

MODEL = "gpt-5.2"
_request = partial(make_request, MODEL)
MESSAGES = openai_messages(image_detail="low", error_results=True)
SDK_PARAMS = sdk_params(
    response_create_params.ResponseCreateParamsNonStreaming,
    response_create_params.ResponseCreateParamsStreaming,
)


# ---- parity matrix -------------------------------------------------------------------------


async def test_simple_generation(fake_server: FakeProviderServer, make_client: MakeClient) -> None:
    """A plain request returns text, a stop finish, usage, and sends system text as instructions."""
    play(fake_server, Step(text="Hello there."))
    client = make_client("openai")
    messages = (Message.system("Be brief."), Message.developer("No emoji."), Message.user("hi"))
    response = await client.complete(_request(*messages))
    assert response.text == "Hello there."
    assert (response.provider, response.model) == ("openai", MODEL)
    assert response.finish_reason.reason == "stop"
    assert response.usage.input_tokens > 0
    assert response.usage.output_tokens > 0
    body = sent_body(fake_server)
    assert body["instructions"] == "Be brief.\n\nNo emoji."
    assert body["input"] == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
    ]
    assert fake_server.requests[-1].has_api_key(TEST_KEY)


async def test_streaming_text(fake_server: FakeProviderServer, make_client: MakeClient) -> None:
    """Text deltas arrive between TEXT_START and TEXT_END and join to the FINISH response text."""
    play(fake_server, Step(text="one two three four five", deltas=5))
    events = [ev async for ev in make_client("openai").stream(_request())]
    kinds = [ev.type for ev in events]
    assert kinds[0] == "stream_start"
    assert kinds[-1] == "finish"
    assert kinds[1:-1] == ["text_start"] + ["text_delta"] * 5 + ["text_end"]
    joined = "".join(ev.delta or "" for ev in events if ev.type == "text_delta")
    final = events[-1].response
    assert final is not None
    assert joined == final.text == "one two three four five"
    assert sent_body(fake_server)["stream"] is True


async def test_image_input_base64_url_and_local_path(
    fake_server: FakeProviderServer, make_client: MakeClient, tmp_path: Path
) -> None:
    """Inline bytes and local files become data URIs; URLs are passed as they are."""
    play(fake_server, Step(text="a cat"))
    shot = tmp_path / "shot.jpg"
    shot.write_bytes(PNG)
    message = Message.user(
        "what is this?",
        ContentPart.of_image(ImageData(data=PNG, media_type="image/png", detail="high")),
        ContentPart.of_image(ImageData(url="https://example.com/cat.png")),
        ContentPart.of_image(ImageData(url=str(shot))),
    )
    response = await make_client("openai").complete(_request(message))
    assert response.text == "a cat"
    images = [
        p for p in sent_body(fake_server)["input"][0]["content"] if p["type"] == "input_image"
    ]
    assert images[0]["image_url"].startswith("data:image/png;base64,")
    assert images[0]["detail"] == "high"
    assert images[1]["image_url"] == "https://example.com/cat.png"
    assert images[2]["image_url"].startswith("data:image/jpeg;base64,")


async def test_single_tool_call_and_execution(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """generate() runs the tool and sends function_call + function_call_output items back."""
    play(
        fake_server,
        Step(tool_calls=(ToolCall("get_weather", {"city": "SF"}, id="call_1"),)),
        Step(text="It is sunny."),
    )
    tool = weather(lambda city: f"72F in {city}")
    result = await generate(
        MODEL, "weather?", tools=[tool], max_tool_rounds=3, client=make_client("openai")
    )
    assert result.text == "It is sunny."
    assert len(result.steps) == 2
    follow_up = sent_body(fake_server)["input"]
    assert follow_up[1] == {
        "type": "function_call",
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": '{"city":"SF"}',
    }
    assert follow_up[2] == {
        "type": "function_call_output",
        "call_id": "call_1",
        "output": "72F in SF",
    }
    assert sent_body(fake_server, 0)["tools"][0]["name"] == "get_weather"


async def test_parallel_tool_calls(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """Two calls in one turn both run; their outputs go back in call order."""
    calls = (ToolCall("get_weather", {"city": "SF"}), ToolCall("get_weather", {"city": "NY"}))
    play(fake_server, Step(tool_calls=calls), Step(text="Both sunny."))
    tool = weather(lambda city: f"sun in {city}")
    result = await generate(
        MODEL, "weather?", tools=[tool], max_tool_rounds=1, client=make_client("openai")
    )
    assert result.text == "Both sunny."
    outputs = [i for i in sent_body(fake_server)["input"] if i["type"] == "function_call_output"]
    assert [o["output"] for o in outputs] == ["sun in SF", "sun in NY"]


async def test_multi_step_tool_loop(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """Three tool rounds then an answer: four LLM calls, each continuing the conversation."""
    steps = [Step(tool_calls=(ToolCall("count", {"n": n}),)) for n in range(3)]
    play(fake_server, *steps, Step(text="done"))
    result = await generate(
        MODEL, "count", tools=[COUNTER], max_tool_rounds=5, client=make_client("openai")
    )
    assert result.text == "done"
    assert len(result.steps) == 4
    outputs = [i for i in sent_body(fake_server)["input"] if i["type"] == "function_call_output"]
    assert [o["output"] for o in outputs] == ["1", "2", "3"]


async def test_streaming_with_tool_calls(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """A streamed tool call has START, argument DELTAs and an END with parsed arguments."""
    play(fake_server, Step(tool_calls=(ToolCall("get_weather", {"city": "Paris"}),)))
    request = _request(tools=(ToolDefinition("get_weather", parameters=CITY),))
    events = [ev async for ev in make_client("openai").stream(request)]
    kinds = [ev.type for ev in events]
    assert kinds[:2] == ["stream_start", "tool_call_start"]
    assert "tool_call_delta" in kinds
    assert kinds[-2:] == ["tool_call_end", "finish"]
    end = events[-2].tool_call
    assert end is not None
    assert end.arguments == {"city": "Paris"}
    final = events[-1].response
    assert final is not None
    assert final.finish_reason.reason == "tool_calls"
    assert final.tool_calls[0].name == "get_weather"


async def test_high_level_stream_runs_tools(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """stream() executes the tool between steps and ends with the final answer."""
    play(fake_server, Step(tool_calls=(ToolCall("get_weather", {"city": "SF"}),)), Step(text="ok"))
    tool = weather(lambda city: "sunny")
    result = stream(MODEL, "w?", tools=[tool], max_tool_rounds=2, client=make_client("openai"))
    kinds = [ev.type async for ev in result]
    assert "step_finish" in kinds
    assert kinds[-1] == "finish"
    assert (await result.response()).text == "ok"


async def test_structured_output(fake_server: FakeProviderServer, make_client: MakeClient) -> None:
    """generate_object sends text.format json_schema (strict) and validates the answer."""
    play(fake_server, Step(text='{"name": "Ada", "age": 36}'))
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    result = await generate_object(
        MODEL, "who?", schema=schema, schema_name="person", client=make_client("openai")
    )
    assert result.output == {"name": "Ada", "age": 36}
    fmt = sent_body(fake_server)["text"]["format"]
    assert fmt == {"type": "json_schema", "name": "person", "strict": True, "schema": schema}


async def test_reasoning_tokens_and_thinking(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """reasoning.effort is sent; reasoning tokens and the summary come back; replay keeps the id."""
    usage = Usage(input_tokens=50, output_tokens=40, reasoning_tokens=30)
    thinking = (Thinking(text="Let me think.", signature="enc-123"),)
    play(fake_server, Step(text="42", thinking=thinking, usage=usage), Step(text="ok"))
    client = make_client("openai")
    response = await client.complete(_request(reasoning_effort="high"))
    assert sent_body(fake_server)["reasoning"] == {"effort": "high"}
    assert response.usage.reasoning_tokens == 30
    assert response.reasoning == "Let me think."
    await client.complete(_request(Message.user("hi"), response.message, Message.user("and?")))
    replayed = sent_body(fake_server)["input"][1]
    assert replayed["type"] == "reasoning"
    assert replayed["encrypted_content"] == "enc-123"
    assert replayed["id"].startswith("rs_")


async def test_streamed_reasoning_events(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """Reasoning summary deltas become REASONING_* events ending with the signed thinking."""
    play(fake_server, Step(text="x", thinking=(Thinking(text="a b c", signature="s1"),)))
    events = [ev async for ev in make_client("openai").stream(_request())]
    deltas = [ev.reasoning_delta for ev in events if ev.type == "reasoning_delta"]
    assert "".join(d or "" for d in deltas) == "a b c"
    end = next(ev for ev in events if ev.type == "reasoning_end")
    assert end.thinking is not None
    assert end.thinking.signature == "s1"


async def test_streaming_error_status_raises_before_data(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """A 429 on a stream raises RateLimitError before any event (so it can be retried)."""
    play(fake_server, Step(error=Error(status=429, retry_after="3")))
    with pytest.raises(e.RateLimitError) as caught:
        async for _ in make_client("openai").stream(_request()):
            pass
    assert caught.value.retry_after == 3.0


async def test_usage_is_accurate(fake_server: FakeProviderServer, make_client: MakeClient) -> None:
    """Scripted token counts arrive unchanged, total included, in complete() and stream()."""
    usage = Usage(input_tokens=123, output_tokens=45, reasoning_tokens=6, cache_read_tokens=100)
    play(fake_server, Step(text="x", usage=usage, repeat=True))
    client = make_client("openai")
    plain = (await client.complete(_request())).usage
    streamed = [ev async for ev in client.stream(_request())][-1].usage
    for got in (plain, streamed):
        assert got is not None
        assert (got.input_tokens, got.output_tokens, got.total_tokens) == (123, 45, 168)
        assert (got.reasoning_tokens, got.cache_read_tokens) == (6, 100)


async def test_prompt_caching_reports_cache_reads(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """Turn 2 of a conversation reports cache_read_tokens > 0 (automatic prefix caching)."""
    play(fake_server, prompt_caching=True)
    client = make_client("openai")
    system = Message.system("You are a careful assistant. " * 40)
    first = await client.complete(_request(system, Message.user("turn one")))
    second = await client.complete(
        _request(system, Message.user("turn one"), first.message, Message.user("turn two"))
    )
    assert not first.usage.cache_read_tokens
    assert (second.usage.cache_read_tokens or 0) > 0


async def test_provider_options_pass_through(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """provider_options.openai keys reach the body; nested objects merge with ours."""
    play(fake_server, Step(text="ok"))
    options = {"openai": {"store": False, "reasoning": {"summary": "auto"}}, "anthropic": {"x": 1}}
    await make_client("openai").complete(_request(reasoning_effort="low", provider_options=options))
    body = sent_body(fake_server)
    assert body["store"] is False
    assert body["reasoning"] == {"effort": "low", "summary": "auto"}
    assert "x" not in body


async def test_tool_choice_modes(fake_server: FakeProviderServer, make_client: MakeClient) -> None:
    """auto/none/required are strings; a named choice names the function."""
    play(fake_server, Step(text="ok", repeat=True))
    client = make_client("openai")
    tools = (ToolDefinition("f"),)
    sent = []
    for choice in (ToolChoice(), ToolChoice("none"), ToolChoice("required"), ToolChoice.named("f")):
        await client.complete(_request(tools=tools, tool_choice=choice))
        sent.append(sent_body(fake_server)["tool_choice"])
    assert sent == ["auto", "none", "required", {"type": "function", "name": "f"}]


async def test_rate_limit_headers_are_read(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """x-ratelimit-* response headers become the Response's RateLimitInfo."""
    headers = {"x-ratelimit-remaining-requests": "42", "x-ratelimit-limit-tokens": "9000"}
    play(fake_server, Step(text="ok", headers=headers))
    info = (await make_client("openai").complete(_request())).rate_limit
    assert info is not None
    assert (info.requests_remaining, info.tokens_limit) == (42, 9000)


async def test_html_error_page_on_a_stream_is_typed(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """A proxy's HTML 502 page instead of a stream raises ServerError before any event."""
    play(fake_server, Step(text="x", fault=Fault(kind="html", status=502)))
    with pytest.raises(e.ServerError) as caught:
        async for _ in make_client("openai").stream(_request()):
            pass
    assert caught.value.status_code == 502
    assert "502 Bad Gateway" in caught.value.message


# ---- bad input -----------------------------------------------------------------------------


async def test_invalid_tool_arguments_keep_the_raw_text(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """Arguments that are not JSON stay available raw; generate() reports them to the model."""
    play(
        fake_server,
        Step(tool_calls=(ToolCall("get_weather", raw_arguments='{"city": "SF"'),)),
        Step(text="sorry"),
    )
    tool = weather(lambda city: "sunny")
    result = await generate(
        MODEL, "w?", tools=[tool], max_tool_rounds=1, client=make_client("openai")
    )
    first = result.steps[0].response.tool_calls[0]
    assert first.raw_arguments == '{"city": "SF"'
    assert result.steps[0].tool_results[0].is_error
    output = next(i for i in sent_body(fake_server)["input"] if i["type"] == "function_call_output")
    assert output["output"].startswith("Error:")


async def test_unknown_model_is_passed_through(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """A model id the catalog does not know is sent unchanged."""
    play(fake_server, Step(text="ok"))
    response = await make_client("openai").complete(
        Request(model="my-finetune:v7", messages=(Message.user("hi"),))
    )
    assert response.model == "my-finetune:v7" == sent_body(fake_server)["model"]


async def test_audio_is_rejected_clearly(make_client: MakeClient) -> None:
    """Audio input raises UnsupportedContentError naming the message, before any request."""
    from attractor.llm.types import AudioData

    audio = ContentPart(kind="audio", audio=AudioData(data=b"RIFF", media_type="audio/wav"))
    with pytest.raises(e.UnsupportedContentError, match=r"messages\[0\].*'audio'"):
        await make_client("openai").complete(_request(Message.user("listen", audio)))


async def test_documents_become_input_files(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """A PDF given as bytes becomes an input_file with a data URI and a file name."""
    play(fake_server, Step(text="read"))
    doc = DocumentData(data=b"%PDF-1.4", media_type="application/pdf", file_name="a.pdf")
    part = ContentPart(kind="document", document=doc)
    await make_client("openai").complete(_request(Message.user("read", part)))
    part = sent_body(fake_server)["input"][0]["content"][1]
    assert part["type"] == "input_file"
    assert part["filename"] == "a.pdf"
    assert part["file_data"].startswith("data:application/pdf;base64,")


def test_stop_sequences_give_a_warning_not_a_field() -> None:
    """The Responses API has no stop parameter: translation warns instead of sending one."""
    wire = request_body(_request(stop_sequences=("END",)))
    assert "stop" not in wire.body
    assert wire.warnings[0].code == "unsupported_parameter"


def test_json_mode_uses_json_object_format() -> None:
    """ResponseFormat(type='json') maps to text.format json_object."""
    wire = request_body(_request(response_format=ResponseFormat(type="json")))
    assert wire.body["text"] == {"format": {"type": "json_object"}}


# ---- robustness and translation properties -------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(data=st.data(), cut=st.floats(0, 1))
def test_stream_survives_mutated_and_truncated_events(
    openai_samples: dict[str, dict[str, Any]], data: Any, cut: float
) -> None:
    """A stream with one mutated event, or cut anywhere, ends in FINISH/ERROR or an SDKError."""
    raw = maybe_cut(data, named_sse(mutate_one(data, openai_samples["openai"]["events"])), cut)
    run_once(replying("openai", raw, SSE_TYPE), _request(), streaming=True)


@given(text=st.text(min_size=1, max_size=30), calls=st.lists(TOOL_CALLS, max_size=3))
def test_assistant_turns_round_trip(text: str, calls: list[ToolCallData]) -> None:
    """Text and tool calls sent back as input items parse back to the same content."""
    message = Message.assistant(text, *(ContentPart.of_tool_call(c) for c in calls))
    items = request_body(_request(message)).body["input"]
    output = [
        {"type": "message", "content": [{"type": "output_text", "text": i["content"]}]}
        if i["type"] == "message"
        else i
        for i in items
    ]
    parsed = parse_response({"output": output, "status": "completed"}, provider="openai")
    assert parsed.message.content == message.content


@settings(max_examples=80)
@given(
    messages=st.lists(MESSAGES, min_size=1, max_size=5),
    effort=st.sampled_from([None, "low", "high"]),
    json_mode=st.sampled_from([None, "json", "json_schema"]),
    tools=st.booleans(),
    streaming=st.booleans(),
)
def test_request_bodies_match_the_official_sdk_types(
    messages: list[Message], effort: str | None, json_mode: str | None, tools: bool, streaming: bool
) -> None:
    """Every body we build validates against ResponseCreateParams and uses only its keys."""
    fmt = None
    if json_mode is not None:
        fmt = ResponseFormat(
            type=json_mode, json_schema={"type": "object"} if json_mode != "json" else None
        )
    request = _request(
        *messages,
        reasoning_effort=effort,
        response_format=fmt,
        tools=(ToolDefinition("f", "d"),) if tools else None,
        tool_choice=ToolChoice.named("f") if tools else None,
        max_tokens=100,
        temperature=0.5,
        metadata={"k": "v"},
    )
    assert_sdk_body(SDK_PARAMS, request_body(request, stream=streaming).body, streaming=streaming)


# ---- runtime isolation over HTTP -----------------------------------------------------------

GUARD_RUNTIMES = 8
GUARD_CALLS = 1000


async def test_runtimes_never_leak_over_http() -> None:
    """8 runtimes, each with its own server and keys, 1,000 mixed calls: no request crosses over.

    Both OpenAI-family adapters share one Client; calls alternate complete/stream and explicit/
    ambient runtimes. Every request a runtime's server saw must carry that runtime's key for the
    API it arrived on, and every answer must echo the caller's own prompt.
    """
    servers = [FakeProviderServer() for _ in range(GUARD_RUNTIMES)]
    for server in servers:
        server.start()
    try:
        runtimes = [_guard_runtime(n, server) for n, server in enumerate(servers)]
        adapters = {
            "openai": load_adapter("openai"),
            "openai_compatible": load_adapter("openai_compatible"),
        }
        client = Client(adapters, default_provider="openai")
        outcomes = await drive_runtimes(
            client, runtimes, tuple(adapters), GUARD_CALLS, model=MODEL, concurrency=48
        )
        await client.close()
    finally:
        for server in servers:
            server.close()
    for outcome in outcomes:
        assert outcome.response.text == f"call {outcome.index}"
        assert outcome.response.provider == outcome.provider
    for n, server in enumerate(servers):
        for record in server.requests:
            provider = "openai" if record.api == "openai_responses" else "openai_compatible"
            assert record.has_api_key(f"sk-{provider}-{n}"), (n, record.ordinal, record.api)
            assert record.headers.get("x-runtime") == str(n)
    assert sum(len(server.requests) for server in servers) == GUARD_CALLS


def _guard_runtime(n: int, server: FakeProviderServer) -> Runtime:
    configs = {
        provider: ProviderConfig(
            api_key=Secret(f"sk-{provider}-{n}"),
            base_url=server.base_url("openai"),
            headers=(("x-runtime", str(n)),),
        )
        for provider in ("openai", "openai_compatible")
    }
    return Runtime.of(f"runtime-{n}", configs)


@pytest.mark.parametrize(
    ("code", "error_class"),
    [
        ("rate_limit_exceeded", e.RateLimitError),
        ("insufficient_quota", e.QuotaExceededError),
        ("context_length_exceeded", e.ContextLengthError),
        ("server_error", e.ServerError),
        (None, e.ServerError),
    ],
)
def test_stream_failure_events_are_typed_by_code(code: str | None, error_class: type) -> None:
    """`response.failed` is typed by its error code (then message), with no HTTP status."""
    stream_ = ResponsesStream("openai")
    failed = {"type": "response.failed", "response": {"error": {"code": code, "message": "m"}}}
    with pytest.raises(error_class) as caught:
        stream_.feed("response.failed", failed)
    assert caught.value.status_code is None
    assert caught.value.provider == "openai"
