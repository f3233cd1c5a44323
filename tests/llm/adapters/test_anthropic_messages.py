"""Tests for the Anthropic Messages adapter over real loopback HTTP against the fake server.

Every request passes the fake server's validation against the official `anthropic` SDK's
`MessageCreateParams` types (see conftest), so each test also checks the body's wire shape.
"""

import base64
from functools import partial
from pathlib import Path
from typing import Any

import pydantic
import pytest
from anthropic.types import message_create_params
from hypothesis import given
from hypothesis import strategies as st

from attractor.llm import (
    ContentPart,
    DocumentData,
    ImageData,
    Message,
    Request,
    ResponseFormat,
    Role,
    ThinkingData,
    ToolCallData,
    ToolChoice,
    errors,
    generate,
    generate_object,
    stream,
)
from attractor.llm.adapters.anthropic_messages import build_body, parse_response
from attractor.llm.types import AudioData
from attractor.testing.fake_providers import (
    Error,
    FakeProviderServer,
    Fault,
    Scenario,
    Step,
    Thinking,
    ToolCall,
    Usage,
)

from ._samples import ANTHROPIC_BODY, ANTHROPIC_EVENTS
from ._shared import PNG, WEATHER, check_payload, make_request, named_sse, scripted, sent_body
from .conftest import TEST_KEY, MakeClient

pytestmark = pytest.mark.anyio

MODEL = "claude-sonnet-4-5"
_client = partial(scripted, "anthropic")
_request = partial(make_request, MODEL)
_body = sent_body


# ---------------------------------------------------------------- parity matrix (spec §8.9)


async def test_simple_generation(fake_server: FakeProviderServer, make_client: MakeClient) -> None:
    """A plain prompt returns the text, the stop reason and the message id."""
    client = _client(fake_server, make_client, Step(text="Hello there"))
    response = await client.complete(_request())
    assert (response.text, response.finish_reason.reason, response.finish_reason.raw) == (
        "Hello there",
        "stop",
        "end_turn",
    )
    assert response.id.startswith("msg_")
    assert response.provider == "anthropic"


async def test_headers_carry_key_and_version(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """Requests authenticate with x-api-key and name the API version."""
    client = _client(fake_server, make_client, Step(text="ok"))
    await client.complete(_request())
    record = fake_server.requests[-1]
    assert record.has_api_key(TEST_KEY)
    assert record.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in record.headers


async def test_streaming_text(fake_server: FakeProviderServer, make_client: MakeClient) -> None:
    """Streaming yields start, text start/deltas/end and FINISH with the whole response."""
    client = _client(fake_server, make_client, Step(text="one two three"))
    events = [e async for e in client.stream(_request())]
    kinds = [e.type for e in events]
    assert kinds[0] == "stream_start"
    assert kinds[-1] == "finish"
    assert kinds.count("text_delta") == 3
    assert "text_start" in kinds
    assert "text_end" in kinds
    assert "".join(e.delta or "" for e in events if e.type == "text_delta") == "one two three"
    final = events[-1].response
    assert final is not None
    assert final.text == "one two three"
    assert final.id.startswith("msg_")


async def test_image_base64(fake_server: FakeProviderServer, make_client: MakeClient) -> None:
    """Inline image bytes go as a base64 source with their media type."""
    client = _client(fake_server, make_client, Step(text="a cat"))
    image = ContentPart.of_image(ImageData(data=PNG, media_type="image/png"))
    await client.complete(_request(Message.user("what is it?", image)))
    block = _body(fake_server)["messages"][0]["content"][1]
    assert block["source"] == {
        "type": "base64",
        "media_type": "image/png",
        "data": base64.b64encode(PNG).decode(),
    }


async def test_image_url(fake_server: FakeProviderServer, make_client: MakeClient) -> None:
    """A remote image URL goes as a url source."""
    client = _client(fake_server, make_client, Step(text="a cat"))
    image = ContentPart.of_image(ImageData(url="https://example.com/cat.png"))
    await client.complete(_request(Message.user("what is it?", image)))
    block = _body(fake_server)["messages"][0]["content"][1]
    assert block == {
        "type": "image",
        "source": {"type": "url", "url": "https://example.com/cat.png"},
    } | {"cache_control": {"type": "ephemeral"}}


async def test_image_local_path(
    fake_server: FakeProviderServer, make_client: MakeClient, tmp_path: Path
) -> None:
    """A local image path is read and sent inline."""
    (tmp_path / "cat.png").write_bytes(PNG)
    client = _client(fake_server, make_client, Step(text="a cat"))
    image = ContentPart.of_image(ImageData(url=str(tmp_path / "cat.png")))
    await client.complete(_request(Message.user("what is it?", image)))
    source = _body(fake_server)["messages"][0]["content"][1]["source"]
    assert source["type"] == "base64"
    assert base64.b64decode(source["data"]) == PNG


async def test_single_tool_call_executes(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """generate() runs the tool and sends its result back as a tool_result in a user turn."""
    client = _client(
        fake_server,
        make_client,
        Step(tool_calls=(ToolCall("get_weather", {"city": "Paris"}, id="toolu_1"),)),
        Step(text="It is sunny."),
    )
    result = await generate(MODEL, "weather?", tools=[WEATHER], client=client)
    assert result.text == "It is sunny."
    assert len(result.steps) == 2
    last = _body(fake_server)["messages"][-1]
    assert last["role"] == "user"
    assert last["content"][0]["type"] == "tool_result"
    assert last["content"][0]["tool_use_id"] == "toolu_1"
    assert last["content"][0]["content"] == "sunny in Paris"


async def test_parallel_tool_calls_share_one_user_turn(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """Two parallel calls are answered by two tool_result blocks in one user message."""
    calls = (ToolCall("get_weather", {"city": "SF"}), ToolCall("get_weather", {"city": "NY"}))
    client = _client(fake_server, make_client, Step(tool_calls=calls), Step(text="Both sunny."))
    result = await generate(MODEL, "weather?", tools=[WEATHER], client=client)
    assert result.text == "Both sunny."
    messages = _body(fake_server)["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    results = messages[-1]["content"]
    assert [b["content"] for b in results] == ["sunny in SF", "sunny in NY"]
    assert [b["type"] for b in messages[1]["content"]] == ["tool_use", "tool_use"]


async def test_multi_step_tool_loop(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """Three tool rounds then an answer: four requests, strictly alternating roles."""
    rounds = [Step(tool_calls=(ToolCall("get_weather", {"city": c}),)) for c in "ABC"]
    client = _client(fake_server, make_client, *rounds, Step(text="done"))
    result = await generate(MODEL, "go", tools=[WEATHER], max_tool_rounds=5, client=client)
    assert result.text == "done"
    assert len(result.steps) == 4
    roles = [m["role"] for m in _body(fake_server)["messages"]]
    assert roles == ["user", "assistant"] * 3 + ["user"]


async def test_streaming_with_tool_calls(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """Streamed tool_use blocks become tool-call start/delta/end with parsed arguments."""
    calls = (ToolCall("get_weather", {"city": "Oslo"}, id="toolu_s"),)
    client = _client(fake_server, make_client, Step(tool_calls=calls))
    events = [e async for e in client.stream(_request(tools=(WEATHER.definition,)))]
    end = next(e for e in events if e.type == "tool_call_end")
    assert end.tool_call is not None
    assert end.tool_call.arguments == {"city": "Oslo"}
    assert any(e.type == "tool_call_delta" for e in events)
    final = events[-1].response
    assert final is not None
    assert final.finish_reason.reason == "tool_calls"
    assert final.tool_calls[0].id == "toolu_s"


async def test_stream_high_level_tool_loop(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """The high-level stream runs tools between streamed steps."""
    calls = (ToolCall("get_weather", {"city": "Rome"}),)
    client = _client(fake_server, make_client, Step(tool_calls=calls), Step(text="Warm."))
    result = stream(MODEL, "weather?", tools=[WEATHER], client=client)
    kinds = [e.type async for e in result]
    assert "step_finish" in kinds
    assert kinds[-1] == "finish"
    assert (await result.response()).text == "Warm."


async def test_structured_output(fake_server: FakeProviderServer, make_client: MakeClient) -> None:
    """generate_object asks for the schema in the system prompt and parses the answer."""
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    client = _client(fake_server, make_client, Step(text='{"n": 3}'))
    result = await generate_object(MODEL, "count", schema=schema, client=client)
    assert result.output == {"n": 3}
    system = _body(fake_server)["system"][-1]["text"]
    assert "JSON Schema" in system
    assert '"required":["n"]' in system


async def test_thinking_tokens_reported(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """Thinking blocks surface as reasoning text with an estimated reasoning token count."""
    thinking = (Thinking("Let me think about this carefully.", "c2lnLTE="),)
    client = _client(fake_server, make_client, Step(text="42", thinking=thinking))
    response = await client.complete(_request(reasoning_effort="low"))
    assert response.reasoning == "Let me think about this carefully."
    assert response.usage.reasoning_tokens == 9
    body = _body(fake_server)
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert body["max_tokens"] == 1024 + 4096


async def test_thinking_signature_round_trips(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """Thinking and redacted thinking go back verbatim, with signature and data."""
    blocks = (Thinking("step one", "sig-A"), Thinking(redacted_data="opaque-B"))
    client = _client(fake_server, make_client, Step(text="first", thinking=blocks), Step(text="2"))
    first = await client.complete(_request())
    follow = _request(Message.user("hi"), first.message, Message.user("and then?"))
    await client.complete(follow)
    sent = _body(fake_server)["messages"][1]["content"]
    assert sent[0] == {"type": "thinking", "thinking": "step one", "signature": "sig-A"}
    assert sent[1] == {"type": "redacted_thinking", "data": "opaque-B"}


async def test_streamed_thinking_keeps_signature(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """signature_delta ends up on the streamed thinking block of the final response."""
    client = _client(fake_server, make_client, Step(text="x", thinking=(Thinking("hmm", "S1"),)))
    events = [e async for e in client.stream(_request())]
    final = events[-1].response
    assert final is not None
    assert final.message.content[0].thinking == ThinkingData("hmm", signature="S1")
    assert [e.reasoning_delta for e in events if e.type == "reasoning_delta"] == ["hmm"]


async def test_rate_limit_has_retry_after(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """429 becomes a retryable RateLimitError carrying Retry-After."""
    client = _client(fake_server, make_client, Step(error=Error(status=429, retry_after="7")))
    with pytest.raises(errors.RateLimitError) as caught:
        await client.complete(_request())
    assert caught.value.retry_after == 7.0
    assert caught.value.retryable


async def test_invalid_key_is_authentication_error(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """A key the server refuses raises AuthenticationError."""
    fake_server.play(Scenario(accepted_api_keys=("sk-other",)))
    with pytest.raises(errors.AuthenticationError):
        await make_client("anthropic").complete(_request())


async def test_stream_error_before_data_raises(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """An HTTP error on a stream is raised before any event (so it can be retried)."""
    client = _client(fake_server, make_client, Step(error=Error(status=429, retry_after="1")))
    with pytest.raises(errors.RateLimitError):
        [e async for e in client.stream(_request())]


async def test_generate_retries_429(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """generate() retries a 429 with a short Retry-After and then succeeds."""
    client = _client(
        fake_server, make_client, Step(error=Error(status=429, retry_after="0")), Step(text="ok")
    )
    result = await generate(MODEL, "hi", client=client)
    assert result.text == "ok"
    assert len(fake_server.requests) == 2


async def test_usage_and_cache_tokens(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """Usage counts input including cache reads and writes, which are reported separately."""
    usage = Usage(input_tokens=100, output_tokens=20, cache_read_tokens=60, cache_write_tokens=30)
    client = _client(fake_server, make_client, Step(text="ok", usage=usage))
    got = (await client.complete(_request())).usage
    assert (got.input_tokens, got.output_tokens, got.total_tokens) == (100, 20, 120)
    assert (got.cache_read_tokens, got.cache_write_tokens) == (60, 30)
    assert got.raw is not None
    assert got.raw["input_tokens"] == 10


async def test_streamed_usage_matches(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """The FINISH event's usage merges message_start and message_delta counts."""
    usage = Usage(input_tokens=50, output_tokens=7, cache_read_tokens=40)
    client = _client(fake_server, make_client, Step(text="ok", usage=usage))
    events = [e async for e in client.stream(_request())]
    got = events[-1].usage
    assert got is not None
    assert (got.input_tokens, got.output_tokens) == (50, 7)
    assert got.cache_read_tokens == 40


async def test_prompt_caching_reads_on_second_turn(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """With automatic breakpoints, turn 2 of a conversation reads the cache."""
    client = _client(fake_server, make_client, prompt_caching=True)
    system = Message.system("You are a careful assistant. " * 20)
    first = await client.complete(_request(system, Message.user("first question")))
    assert first.usage.cache_write_tokens
    assert not first.usage.cache_read_tokens
    turn2 = _request(system, Message.user("first question"), first.message, Message.user("next"))
    second = await client.complete(turn2)
    assert second.usage.cache_read_tokens
    assert second.usage.cache_read_tokens > 0


async def test_auto_cache_false_sends_no_breakpoints(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """provider_options.anthropic.auto_cache=false leaves cache_control out entirely."""
    client = _client(fake_server, make_client, Step(text="ok"))
    options = {"anthropic": {"auto_cache": False}}
    request = _request(Message.system("sys"), Message.user("hi"), provider_options=options)
    await client.complete(request)
    assert "cache_control" not in str(_body(fake_server))


async def test_beta_headers_and_options_pass_through(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """beta_headers join with commas in anthropic-beta; other options go into the body."""
    client = _client(fake_server, make_client, Step(text="ok"))
    betas = ["interleaved-thinking-2025-05-14", "token-efficient-tools-2025-02-19"]
    options = {"anthropic": {"beta_headers": betas, "service_tier": "auto"}}
    await client.complete(_request(provider_options=options))
    record = fake_server.requests[-1]
    assert record.headers["anthropic-beta"] == ",".join(betas)
    body = _body(fake_server)
    assert body["service_tier"] == "auto"
    assert "beta_headers" not in body


async def test_rate_limit_headers_read(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """anthropic-ratelimit-* headers fill Response.rate_limit."""
    headers = {"anthropic-ratelimit-requests-remaining": "9"}
    client = _client(fake_server, make_client, Step(text="ok", headers=headers))
    response = await client.complete(_request())
    assert response.rate_limit is not None
    assert response.rate_limit.requests_remaining == 9


# ---------------------------------------------------------------- request translation


def test_system_and_developer_are_extracted() -> None:
    """System and developer messages leave the list and become system blocks."""
    request = _request(Message.system("S1"), Message.developer("D1"), Message.user("hi"))
    body, _, _ = build_body(request)
    assert [b["text"] for b in body["system"]] == ["S1", "D1"]
    assert [m["role"] for m in body["messages"]] == ["user"]


def test_consecutive_same_role_messages_merge() -> None:
    """Consecutive user-side messages (user, tool results) merge into one turn."""
    call = ContentPart.of_tool_call(ToolCallData("t1", "get_weather", {"city": "A"}))
    request = _request(
        Message.user("a"),
        Message.user("b"),
        Message(role=Role.ASSISTANT, content=(call,)),
        Message.tool_result("t1", "sunny"),
        Message.user("thanks"),
    )
    messages = build_body(request)[0]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert [b["type"] for b in messages[0]["content"]] == ["text", "text"]
    assert [b["type"] for b in messages[2]["content"]] == ["tool_result", "text"]


def test_breakpoints_on_tool_system_and_last_two_user_turns() -> None:
    """Auto cache marks the last tool, last system block and the last two user turns."""
    request = _request(
        Message.system("sys"),
        Message.user("u1"),
        Message.assistant("a1"),
        Message.user("u2"),
        Message.assistant("a2"),
        Message.user("u3"),
        tools=(WEATHER.definition,),
    )
    body, _, _ = build_body(request)
    marked = [
        m["content"][-1]["text"] for m in body["messages"] if "cache_control" in m["content"][-1]
    ]
    assert marked == ["u2", "u3"]
    assert "cache_control" in body["tools"][-1]
    assert "cache_control" in body["system"][-1]
    assert str(body).count("cache_control") == 4


def test_tool_choice_modes() -> None:
    """auto/required/named map to auto/any/tool; none leaves the tools out."""
    tools = (WEATHER.definition,)

    def choice(mode: ToolChoice) -> dict[str, Any]:
        return build_body(_request(tools=tools, tool_choice=mode))[0]

    assert choice(ToolChoice())["tool_choice"] == {"type": "auto"}
    assert choice(ToolChoice("required"))["tool_choice"] == {"type": "any"}
    named = choice(ToolChoice.named("get_weather"))["tool_choice"]
    assert named == {"type": "tool", "name": "get_weather"}
    none = choice(ToolChoice("none"))
    assert "tools" not in none
    assert "tool_choice" not in none


def test_max_tokens_default_and_explicit() -> None:
    """max_tokens defaults to 4096 and keeps an explicit value."""
    assert build_body(_request())[0]["max_tokens"] == 4096
    assert build_body(_request(max_tokens=77))[0]["max_tokens"] == 77


def test_thinking_budget_above_max_tokens_is_refused() -> None:
    """An explicit max_tokens not above the thinking budget is a clear error."""
    with pytest.raises(errors.InvalidValueError, match="thinking budget"):
        build_body(_request(max_tokens=500, reasoning_effort="low"))


async def test_temperature_dropped_with_warning(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """temperature is not a Messages API parameter: it is not sent and a warning says so."""
    client = _client(fake_server, make_client, Step(text="ok"))
    response = await client.complete(_request(temperature=0.2))
    assert "temperature" not in _body(fake_server)
    assert [w.code for w in response.warnings] == ["unsupported_parameter"]
    assert "temperature" in response.warnings[0].message


def test_pdf_document_is_base64() -> None:
    """PDF bytes become a base64 document block."""
    doc = ContentPart(kind="document", document=DocumentData(data=b"%PDF-1.4"))
    body, _, _ = build_body(_request(Message(role=Role.USER, content=(doc,))))
    source = body["messages"][0]["content"][0]["source"]
    assert source["type"] == "base64"
    assert source["media_type"] == "application/pdf"


def test_audio_is_unsupported() -> None:
    """Audio parts raise UnsupportedContentError naming the provider."""
    audio = ContentPart(kind="audio", audio=AudioData(data=b"RIFF", media_type="audio/wav"))
    with pytest.raises(errors.UnsupportedContentError) as caught:
        build_body(_request(Message(role=Role.USER, content=(audio,))))
    assert caught.value.provider == "anthropic"


def test_invalid_tool_arguments_go_back_wrapped() -> None:
    """A past call whose arguments were invalid JSON is resent as an object."""
    call = ContentPart.of_tool_call(ToolCallData("t1", "get_weather", "{oops"))
    body, _, _ = build_body(
        _request(Message.user("hi"), Message(role=Role.ASSISTANT, content=(call,)))
    )
    assert body["messages"][1]["content"][0]["input"] == {"raw_arguments": "{oops"}


def test_error_tool_result_flagged() -> None:
    """A failed tool result carries is_error."""
    call = ContentPart.of_tool_call(ToolCallData("t1", "get_weather", {}))
    request = _request(
        Message.user("hi"),
        Message(role=Role.ASSISTANT, content=(call,)),
        Message.tool_result("t1", {"error": "boom"}, is_error=True),
    )
    block = build_body(request)[0]["messages"][2]["content"][0]
    assert block["is_error"] is True
    assert block["content"] == '{"error":"boom"}'


def test_rich_body_satisfies_sdk_types() -> None:
    """A body with every feature validates against anthropic's MessageCreateParams."""
    call = ContentPart.of_tool_call(ToolCallData("t1", "get_weather", {"city": "A"}))
    thinking = ContentPart.of_thinking(ThinkingData("t", signature="s"))
    request = _request(
        Message.system("sys"),
        Message.user("hi", ContentPart.of_image(ImageData(url="https://x.test/a.png"))),
        Message(role=Role.ASSISTANT, content=(thinking, call)),
        Message.tool_result("t1", "ok"),
        tools=(WEATHER.definition,),
        stop_sequences=("END",),
        reasoning_effort="medium",
        metadata={"user_id": "u-1"},
        response_format=ResponseFormat(type="json_schema", json_schema={"type": "object"}),
    )
    body, _, _ = build_body(request)
    adapter = pydantic.TypeAdapter(message_create_params.MessageCreateParamsNonStreaming)
    adapter.validate_python(body)


# ---------------------------------------------------------------- bad input


async def test_in_stream_error_event_is_typed(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """An `error` event after data becomes an ERROR event with the mapped error type."""
    fault = Fault(kind="error_event", after_events=3, status=529)
    client = _client(fake_server, make_client, Step(text="a b c", fault=fault))
    events = [e async for e in client.stream(_request())]
    error = events[-1].error
    assert error is not None
    assert error.kind == "ServerError"
    assert error.status_code == 529


async def test_invalid_tool_call_json_stays_raw(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """Streamed arguments that are not valid JSON are kept raw for the tool loop to report."""
    call = ToolCall("get_weather", raw_arguments='{"city": "Par')
    client = _client(fake_server, make_client, Step(tool_calls=(call,)))
    events = [e async for e in client.stream(_request(tools=(WEATHER.definition,)))]
    final = events[-1].response
    assert final is not None
    assert final.message.content[0].tool_call == ToolCallData(
        final.tool_calls[0].id, "get_weather", '{"city": "Par'
    )


async def test_uncatalogued_model_passes_through(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """A model id the catalog does not know is sent unchanged."""
    client = _client(fake_server, make_client, Step(text="ok"))
    await client.complete(Request(model="claude-from-the-future-9", messages=(Message.user("x"),)))
    assert _body(fake_server)["model"] == "claude-from-the-future-9"


def test_unknown_response_block_passes_through() -> None:
    """An unknown content block type is kept as a pass-through part."""
    body = {
        "id": "m",
        "model": MODEL,
        "content": [{"type": "server_tool_use", "id": "x", "name": "web", "input": {}}],
        "stop_reason": "pause_turn",
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }
    response = parse_response(body)
    assert response.message.content[0].kind == "server_tool_use"
    assert response.finish_reason.reason == "other"


# ---------------------------------------------------------------- properties: bad payloads


def test_sample_payloads_parse() -> None:
    """The samples mutated by the bad-payload properties (test_parity) are valid as they are."""
    response = parse_response(ANTHROPIC_BODY)
    assert response.tool_calls[0].arguments == {"a": 1}
    check_payload("anthropic", _request(), named_sse(ANTHROPIC_EVENTS), streaming=True)


async def test_error_event_before_data_is_raised(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """An `error` event that arrives before any data is raised, so retries can still happen."""
    fault = Fault(kind="error_event", after_events=0, status=529)
    client = _client(fake_server, make_client, Step(text="a b", fault=fault))
    with pytest.raises(errors.ServerError) as caught:
        [e async for e in client.stream(_request())]
    assert caught.value.retryable


ASSISTANT_PARTS = st.one_of(
    st.text(min_size=1, max_size=20).map(ContentPart.of_text),
    st.builds(
        lambda i, args: ContentPart.of_tool_call(ToolCallData(f"toolu_{i}", "get_weather", args)),
        st.integers(0, 999),
        st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3),
    ),
    st.builds(
        lambda text, sig: ContentPart.of_thinking(ThinkingData(text, signature=sig)),
        st.text(max_size=20),
        st.text(min_size=1, max_size=10),
    ),
    st.text(min_size=1, max_size=10).map(
        lambda data: ContentPart.of_thinking(ThinkingData("", signature=data, redacted=True))
    ),
)


@given(parts=st.lists(ASSISTANT_PARTS, min_size=1, max_size=5))
def test_assistant_messages_round_trip(parts: list[ContentPart]) -> None:
    """An assistant message sent back and parsed again is the same message."""
    message = Message(role=Role.ASSISTANT, content=tuple(parts))
    body, _, _ = build_body(_request(Message.user("hi"), message, Message.user("next")))
    blocks = body["messages"][1]["content"]
    usage = {"input_tokens": 1, "output_tokens": 1}
    parsed = parse_response({"content": blocks, "stop_reason": "end_turn", "usage": usage})
    assert parsed.message == message


def test_empty_text_parts_are_left_out() -> None:
    """Empty text parts (the API refuses them) are dropped; an emptied turn disappears."""
    body, _, _ = build_body(_request(Message.user("hi"), Message.assistant(""), Message.user("x")))
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert [b["text"] for b in body["messages"][0]["content"]] == ["hi", "x"]


def test_local_document_path_is_read(tmp_path: Path) -> None:
    """A document given as a local path is read and sent as base64."""
    (tmp_path / "spec.pdf").write_bytes(b"%PDF-1.7 local")
    doc = ContentPart(kind="document", document=DocumentData(url=str(tmp_path / "spec.pdf")))
    body, _, _ = build_body(_request(Message(role=Role.USER, content=(doc,))))
    source = body["messages"][0]["content"][0]["source"]
    assert source["type"] == "base64"
    assert base64.b64decode(source["data"]) == b"%PDF-1.7 local"


def test_text_document_is_a_text_source() -> None:
    """text/plain document bytes go as a text source."""
    doc = ContentPart(
        kind="document", document=DocumentData(data=b"notes", media_type="text/plain")
    )
    body, _, _ = build_body(_request(Message(role=Role.USER, content=(doc,))))
    source = body["messages"][0]["content"][0]["source"]
    assert source == {"type": "text", "media_type": "text/plain", "data": "notes"}


def test_other_documents_are_unsupported() -> None:
    """Documents Anthropic cannot read (e.g. a Word file) raise UnsupportedContentError."""
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    doc = ContentPart(kind="document", document=DocumentData(data=b"PK", media_type=docx))
    with pytest.raises(errors.UnsupportedContentError, match="PDF"):
        build_body(_request(Message(role=Role.USER, content=(doc,))))
