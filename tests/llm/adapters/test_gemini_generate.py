"""Tests for the Gemini generateContent adapter over real loopback HTTP against the fake server.

Every request passes the fake server's validation against `google.genai.types` (unknown fields
refused at every depth), so each test also checks the body's wire shape.
"""

import base64
from functools import partial
from pathlib import Path
from typing import Any

import pytest
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
)
from attractor.llm.adapters.gemini_generate import GenerateStream, build_body, parse_response
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
from attractor.testing.fake_providers._validate import load_validators

from ._samples import GEMINI_BODY, GEMINI_CHUNKS, gemini_sse
from ._shared import PNG, WEATHER, check_payload, make_request, scripted, sent_body
from .conftest import TEST_KEY, MakeClient

pytestmark = pytest.mark.anyio

MODEL = "gemini-2.5-pro"
_client = partial(scripted, "gemini")
_request = partial(make_request, MODEL)
_body = sent_body


def _call(call_id: str, name: str = "get_weather", **args: Any) -> Message:
    part = ContentPart.of_tool_call(ToolCallData(call_id, name, args))
    return Message(role=Role.ASSISTANT, content=(part,))


# ---------------------------------------------------------------- parity matrix (spec §8.9)


async def test_simple_generation(fake_server: FakeProviderServer, make_client: MakeClient) -> None:
    """A plain prompt returns the text, STOP as stop, and the response id."""
    client = _client(fake_server, make_client, Step(text="Hello there"))
    response = await client.complete(_request())
    assert response.text == "Hello there"
    assert (response.finish_reason.reason, response.finish_reason.raw) == ("stop", "STOP")
    assert response.id.startswith("fake")
    assert response.model == MODEL


async def test_path_and_key_header(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """generateContent is called on the v1beta model path with the key in x-goog-api-key."""
    client = _client(fake_server, make_client, Step(text="ok"))
    await client.complete(_request())
    record = fake_server.requests[-1]
    assert record.path == f"/v1beta/models/{MODEL}:generateContent"
    assert record.has_api_key(TEST_KEY)
    assert "key" not in record.query


async def test_streaming_text(fake_server: FakeProviderServer, make_client: MakeClient) -> None:
    """streamGenerateContent?alt=sse yields start, text deltas, end and FINISH."""
    client = _client(fake_server, make_client, Step(text="one two three"))
    events = [e async for e in client.stream(_request())]
    kinds = [e.type for e in events]
    assert kinds[0] == "stream_start"
    assert kinds[-1] == "finish"
    assert kinds.count("text_delta") == 3
    assert "".join(e.delta or "" for e in events if e.type == "text_delta") == "one two three"
    final = events[-1].response
    assert final is not None
    assert final.text == "one two three"
    record = fake_server.requests[-1]
    assert record.path.endswith(":streamGenerateContent")
    assert record.query.get("alt") == "sse"


async def test_image_base64(fake_server: FakeProviderServer, make_client: MakeClient) -> None:
    """Inline image bytes go as inlineData."""
    client = _client(fake_server, make_client, Step(text="a cat"))
    image = ContentPart.of_image(ImageData(data=PNG, media_type="image/png"))
    await client.complete(_request(Message.user("what?", image)))
    part = _body(fake_server)["contents"][0]["parts"][1]
    assert part == {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(PNG).decode()}}


async def test_image_url(fake_server: FakeProviderServer, make_client: MakeClient) -> None:
    """A remote image URL goes as fileData with a guessed MIME type."""
    client = _client(fake_server, make_client, Step(text="a cat"))
    image = ContentPart.of_image(ImageData(url="https://example.com/cat.png"))
    await client.complete(_request(Message.user("what?", image)))
    part = _body(fake_server)["contents"][0]["parts"][1]
    assert part == {"fileData": {"mimeType": "image/png", "fileUri": "https://example.com/cat.png"}}


async def test_image_local_path(
    fake_server: FakeProviderServer, make_client: MakeClient, tmp_path: Path
) -> None:
    """A local image path is read and sent inline."""
    (tmp_path / "cat.png").write_bytes(PNG)
    client = _client(fake_server, make_client, Step(text="a cat"))
    image = ContentPart.of_image(ImageData(url=str(tmp_path / "cat.png")))
    await client.complete(_request(Message.user("what?", image)))
    inline = _body(fake_server)["contents"][0]["parts"][1]["inlineData"]
    assert base64.b64decode(inline["data"]) == PNG


async def test_single_tool_call_executes(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """generate() runs the tool; the functionResponse names the function and wraps the text."""
    client = _client(
        fake_server,
        make_client,
        Step(tool_calls=(ToolCall("get_weather", {"city": "Paris"}),)),
        Step(text="It is sunny."),
    )
    result = await generate(MODEL, "weather?", tools=[WEATHER], client=client)
    assert result.text == "It is sunny."
    assert result.steps[0].tool_calls[0].id.startswith("call_")
    contents = _body(fake_server)["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    assert contents[2]["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"result": "sunny in Paris"}}}
    ]


async def test_parallel_tool_calls_get_unique_ids(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """Parallel calls get distinct synthetic ids; their responses share one user turn."""
    calls = (ToolCall("get_weather", {"city": "SF"}), ToolCall("get_weather", {"city": "NY"}))
    client = _client(fake_server, make_client, Step(tool_calls=calls), Step(text="Both sunny."))
    result = await generate(MODEL, "weather?", tools=[WEATHER], client=client)
    ids = [c.id for c in result.steps[0].tool_calls]
    assert len(set(ids)) == 2
    last = _body(fake_server)["contents"][-1]
    responses = [p["functionResponse"]["response"]["result"] for p in last["parts"]]
    assert responses == ["sunny in SF", "sunny in NY"]


async def test_multi_step_tool_loop(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """Three tool rounds then an answer, with ids unique across rounds."""
    rounds = [Step(tool_calls=(ToolCall("get_weather", {"city": c}),)) for c in "ABC"]
    client = _client(fake_server, make_client, *rounds, Step(text="done"))
    result = await generate(MODEL, "go", tools=[WEATHER], max_tool_rounds=5, client=client)
    assert result.text == "done"
    ids = [c.id for step in result.steps for c in step.tool_calls]
    assert len(ids) == len(set(ids)) == 3
    roles = [c["role"] for c in _body(fake_server)["contents"]]
    assert roles == ["user", "model"] * 3 + ["user"]


async def test_streaming_with_tool_calls(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """A streamed functionCall becomes tool-call start and end with the full arguments."""
    calls = (ToolCall("get_weather", {"city": "Oslo"}),)
    client = _client(fake_server, make_client, Step(tool_calls=calls))
    events = [e async for e in client.stream(_request(tools=(WEATHER.definition,)))]
    kinds = [e.type for e in events]
    assert kinds.index("tool_call_start") + 1 == kinds.index("tool_call_end")
    final = events[-1].response
    assert final is not None
    assert final.finish_reason.reason == "tool_calls"
    assert final.tool_calls[0].arguments == {"city": "Oslo"}


async def test_structured_output(fake_server: FakeProviderServer, make_client: MakeClient) -> None:
    """generate_object sends responseMimeType and the JSON Schema, and parses the answer."""
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    client = _client(fake_server, make_client, Step(text='{"n": 3}'))
    result = await generate_object(MODEL, "count", schema=schema, client=client)
    assert result.output == {"n": 3}
    config = _body(fake_server)["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"] == schema


async def test_thinking_tokens_reported(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """Thought parts become reasoning; thoughtsTokenCount becomes reasoning_tokens."""
    usage = Usage(input_tokens=10, output_tokens=30, reasoning_tokens=20)
    thinking = (Thinking("Consider the options.", "c2ln"),)
    client = _client(fake_server, make_client, Step(text="42", thinking=thinking, usage=usage))
    response = await client.complete(_request(reasoning_effort="medium"))
    assert response.reasoning == "Consider the options."
    assert (response.usage.reasoning_tokens, response.usage.output_tokens) == (20, 30)
    thinking_config = _body(fake_server)["generationConfig"]["thinkingConfig"]
    assert thinking_config == {"thinkingBudget": 8192, "includeThoughts": True}


async def test_thought_signature_round_trips_on_function_call(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """The thoughtSignature of a call goes back on the same functionCall part."""
    step = Step(
        tool_calls=(ToolCall("get_weather", {"city": "A"}),), thinking=(Thinking("t", "c2ln"),)
    )
    client = _client(fake_server, make_client, step, Step(text="done"))
    await generate(MODEL, "go", tools=[WEATHER], client=client)
    model_turn = _body(fake_server)["contents"][1]["parts"]
    assert model_turn[0]["functionCall"]["name"] == "get_weather"
    assert model_turn[0]["thoughtSignature"] == "c2ln"
    assert not any(p.get("thought") for p in model_turn)


async def test_streamed_thought_signature_round_trips(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """A streamed answer keeps the signature so the next request can send it back."""
    client = _client(
        fake_server,
        make_client,
        Step(text="a b", thinking=(Thinking("hm", "c2ln"),)),
        Step(text="x"),
    )
    events = [e async for e in client.stream(_request())]
    final = events[-1].response
    assert final is not None
    assert final.message.content[0].thinking == ThinkingData("hm", signature="c2ln")
    await client.complete(_request(Message.user("hi"), final.message, Message.user("more")))
    assert _body(fake_server)["contents"][1]["parts"][0] == {
        "text": "a b",
        "thoughtSignature": "c2ln",
    }


async def test_gateway_timeout_is_a_request_timeout(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """504 DEADLINE_EXCEEDED maps to RequestTimeoutError (other statuses: test_parity)."""
    client = _client(fake_server, make_client, Step(error=Error(status=504)))
    with pytest.raises(errors.RequestTimeoutError):
        await client.complete(_request())


async def test_rate_limit_has_retry_after(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """429 RESOURCE_EXHAUSTED becomes a retryable RateLimitError with Retry-After."""
    client = _client(fake_server, make_client, Step(error=Error(status=429, retry_after="3")))
    with pytest.raises(errors.RateLimitError) as caught:
        await client.complete(_request())
    assert caught.value.retry_after == 3.0
    assert caught.value.provider == "gemini"


async def test_wrong_key_is_authentication_error(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """Gemini's 400 API_KEY_INVALID is raised as an AuthenticationError."""
    fake_server.play(Scenario(accepted_api_keys=("other-key",)))
    with pytest.raises(errors.AuthenticationError) as caught:
        await make_client("gemini").complete(_request())
    assert caught.value.error_code == "API_KEY_INVALID"


async def test_wrong_key_on_stream_is_authentication_error(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """A refused key on a stream raises AuthenticationError before any event."""
    fake_server.play(Scenario(accepted_api_keys=("other-key",)))
    with pytest.raises(errors.AuthenticationError):
        [e async for e in make_client("gemini").stream(_request())]


async def test_usage_and_cache_tokens(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """promptTokenCount is input; cachedContentTokenCount is cache_read_tokens."""
    usage = Usage(input_tokens=100, output_tokens=20, cache_read_tokens=64)
    client = _client(fake_server, make_client, Step(text="ok", usage=usage))
    got = (await client.complete(_request())).usage
    assert (got.input_tokens, got.output_tokens, got.total_tokens) == (100, 20, 120)
    assert got.cache_read_tokens == 64
    assert got.cache_write_tokens is None


async def test_prompt_caching_reads_on_second_turn(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """Turn 2 of a conversation reports cached prefix tokens."""
    client = _client(fake_server, make_client, prompt_caching=True)
    system = Message.system("You are a careful assistant. " * 20)
    first = await client.complete(_request(system, Message.user("first question")))
    turn2 = _request(system, Message.user("first question"), first.message, Message.user("next"))
    second = await client.complete(turn2)
    assert second.usage.cache_read_tokens
    assert second.usage.cache_read_tokens > 0


async def test_provider_options_pass_through(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """safetySettings go into the body; generationConfig options merge with ours."""
    client = _client(fake_server, make_client, Step(text="ok"))
    safety = [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]
    options = {"gemini": {"safetySettings": safety, "generationConfig": {"topK": 5}}}
    await client.complete(_request(max_tokens=50, provider_options=options))
    body = _body(fake_server)
    assert body["safetySettings"] == safety
    assert body["generationConfig"] == {"maxOutputTokens": 50, "topK": 5}


# ---------------------------------------------------------------- request translation


def test_system_instruction_and_roles() -> None:
    """System and developer text go to systemInstruction; assistant turns are role model."""
    request = _request(
        Message.system("S"), Message.developer("D"), Message.user("u"), Message.assistant("a")
    )
    body = build_body(request)
    assert body["systemInstruction"] == {"parts": [{"text": "S\n\nD"}]}
    assert [c["role"] for c in body["contents"]] == ["user", "model"]


def test_tool_declarations_and_choice_modes() -> None:
    """Tools become functionDeclarations; choice modes map to AUTO/NONE/ANY (+ allowed names)."""

    def config(choice: ToolChoice) -> dict[str, Any]:
        body = build_body(_request(tools=(WEATHER.definition,), tool_choice=choice))
        declaration = body["tools"][0]["functionDeclarations"][0]
        assert declaration["parametersJsonSchema"] == WEATHER.parameters
        calling: dict[str, Any] = body["toolConfig"]["functionCallingConfig"]
        return calling

    assert config(ToolChoice()) == {"mode": "AUTO"}
    assert config(ToolChoice("none")) == {"mode": "NONE"}
    assert config(ToolChoice("required")) == {"mode": "ANY"}
    named = config(ToolChoice.named("get_weather"))
    assert named == {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}


def test_error_and_object_results() -> None:
    """Object results go as they are; failed results go under "error"."""
    request = _request(
        Message.user("hi"),
        _call("c1"),
        Message.tool_result("c1", {"temp": 20}),
        _call("c2"),
        Message.tool_result("c2", "boom", is_error=True),
    )
    contents = build_body(request)["contents"]
    assert contents[2]["parts"][0]["functionResponse"]["response"] == {"temp": 20}
    assert contents[4]["parts"][0]["functionResponse"]["response"] == {"error": "boom"}


def test_tool_result_without_call_is_refused() -> None:
    """A tool result whose call is not in the history is a clear error naming the id."""
    with pytest.raises(errors.InvalidRequestError, match="'ghost'"):
        build_body(_request(Message.user("hi"), Message.tool_result("ghost", "x")))


def test_thinking_level_for_gemini_3() -> None:
    """Gemini 3 models get thinkingLevel instead of a budget."""
    request = Request(
        model="gemini-3-pro-preview", messages=(Message.user("x"),), reasoning_effort="high"
    )
    config = build_body(request)["generationConfig"]["thinkingConfig"]
    assert config == {"thinkingLevel": "HIGH", "includeThoughts": True}


def test_audio_and_documents_are_inline_data() -> None:
    """Audio bytes and PDF bytes go as inlineData; a document URL as fileData."""
    audio = ContentPart(kind="audio", audio=AudioData(data=b"RIFF", media_type="audio/wav"))
    pdf = ContentPart(kind="document", document=DocumentData(data=b"%PDF"))
    remote = ContentPart(kind="document", document=DocumentData(url="https://x.test/a.pdf"))
    parts = build_body(_request(Message(role=Role.USER, content=(audio, pdf, remote))))["contents"][
        0
    ]["parts"]
    assert parts[0]["inlineData"]["mimeType"] == "audio/wav"
    assert parts[1]["inlineData"]["mimeType"] == "application/pdf"
    assert parts[2] == {
        "fileData": {"mimeType": "application/pdf", "fileUri": "https://x.test/a.pdf"}
    }


def test_unknown_part_kind_is_unsupported() -> None:
    """A part kind without a Gemini form raises UnsupportedContentError."""
    odd = ContentPart(kind="hologram")
    with pytest.raises(errors.UnsupportedContentError) as caught:
        build_body(_request(Message(role=Role.USER, content=(odd,))))
    assert caught.value.provider == "gemini"


def test_rich_body_satisfies_genai_types() -> None:
    """A body with every feature validates against the google-genai request types."""
    thinking = ContentPart.of_thinking(ThinkingData("t", signature="c2ln"))
    call = ContentPart.of_tool_call(ToolCallData("c1", "get_weather", {"city": "A"}))
    request = _request(
        Message.system("sys"),
        Message.user("hi", ContentPart.of_image(ImageData(url="https://x.test/a.png"))),
        Message(role=Role.ASSISTANT, content=(thinking, call)),
        Message.tool_result("c1", "ok"),
        tools=(WEATHER.definition,),
        tool_choice=ToolChoice.named("get_weather"),
        temperature=0.5,
        top_p=0.9,
        max_tokens=100,
        stop_sequences=("END",),
        reasoning_effort="low",
        response_format=ResponseFormat(type="json_schema", json_schema={"type": "object"}),
    )
    assert load_validators()["gemini_generate"](build_body(request)) == []


# ---------------------------------------------------------------- bad input


async def test_in_stream_error_is_typed(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """An error object after data becomes an ERROR event mapped by its gRPC status."""
    fault = Fault(kind="error_event", after_events=2, status=503)
    client = _client(fake_server, make_client, Step(text="a b c", fault=fault))
    events = [e async for e in client.stream(_request())]
    error = events[-1].error
    assert error is not None
    assert (error.kind, error.status_code) == ("ServerError", 503)


async def test_uncatalogued_model_passes_through(
    fake_server: FakeProviderServer, make_client: MakeClient
) -> None:
    """A model id the catalog does not know is used in the path unchanged."""
    client = _client(fake_server, make_client, Step(text="ok"))
    await client.complete(Request(model="models/gemini-9-ultra", messages=(Message.user("x"),)))
    assert fake_server.requests[-1].path == "/v1beta/models/gemini-9-ultra:generateContent"


def test_blocked_prompt_is_content_filter() -> None:
    """A response without candidates but with a blockReason is a content_filter finish."""
    body = {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 3}}
    response = parse_response(body)
    assert response.finish_reason.reason == "content_filter"
    assert response.text == ""
    assert response.usage.input_tokens == 3


def test_provider_call_ids_are_kept() -> None:
    """A functionCall that carries an id keeps it instead of a synthetic one."""
    part = {"functionCall": {"id": "fc-9", "name": "f", "args": {}}}
    body = {"candidates": [{"content": {"parts": [part]}, "finishReason": "STOP"}]}
    assert parse_response(body).tool_calls[0].id == "fc-9"


# ---------------------------------------------------------------- properties: bad payloads


def test_sample_payloads_parse() -> None:
    """The samples mutated by the bad-payload properties (test_parity) are valid as they are."""
    response = parse_response(GEMINI_BODY)
    assert response.tool_calls[0].id == "call_r1_0"
    assert response.usage.cache_read_tokens == 1
    check_payload("gemini", _request(), gemini_sse(GEMINI_CHUNKS), streaming=True)


ANSWER_PARTS = st.one_of(
    st.text(min_size=1, max_size=20).map(ContentPart.of_text),
    st.builds(
        lambda args: ContentPart.of_tool_call(ToolCallData("ignored", "get_weather", args)),
        st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3),
    ),
)


@given(
    parts=st.lists(ANSWER_PARTS, min_size=1, max_size=5),
    signature=st.none() | st.text(min_size=1, max_size=8),
)
def test_model_turns_round_trip(parts: list[ContentPart], signature: str | None) -> None:
    """A model turn sent back and parsed again keeps texts, calls and the thought signature."""
    if signature is not None:
        parts = [ContentPart.of_thinking(ThinkingData("", signature=signature)), *parts]
    message = Message(role=Role.ASSISTANT, content=tuple(parts))
    body = build_body(_request(Message.user("hi"), message))
    native = body["contents"][1]["parts"]
    parsed = parse_response({"candidates": [{"content": {"parts": native}}], "responseId": "r"})
    calls = iter(parsed.tool_calls)

    def normal(part: ContentPart) -> ContentPart:
        if part.tool_call is None:
            return part
        return ContentPart.of_tool_call(
            ToolCallData(next(calls).id, "get_weather", part.tool_call.arguments)
        )

    assert parsed.message.content == tuple(normal(p) for p in message.content)


def test_empty_text_parts_are_left_out() -> None:
    """Empty text parts are dropped and the emptied model turn disappears."""
    body = build_body(_request(Message.user("hi"), Message.assistant(""), Message.user("x")))
    assert body["contents"] == [{"role": "user", "parts": [{"text": "hi"}, {"text": "x"}]}]


def test_streamed_signature_on_a_thought_part_is_kept() -> None:
    """A signature on a streamed thought part is kept; text in the final chunk is not lost."""
    state = GenerateStream(MODEL, "p")
    chunks = [
        {
            "candidates": [
                {
                    "content": {
                        "parts": [{"text": "hm", "thought": True, "thoughtSignature": "c2ln"}]
                    }
                }
            ]
        },
        {"candidates": [{"content": {"parts": [{"text": "answer"}]}, "finishReason": "STOP"}]},
    ]
    events = [e for chunk in chunks for e in state.feed("message", chunk)]
    final = events[-1].response
    assert final is not None
    assert final.message.content[0].thinking == ThinkingData("hm", signature="c2ln")
    assert final.text == "answer"


def test_local_audio_path_is_inline(tmp_path: Path) -> None:
    """Audio given as a local path is read and sent inline with its guessed type."""
    (tmp_path / "note.wav").write_bytes(b"RIFFdata")
    audio = ContentPart(kind="audio", audio=AudioData(url=str(tmp_path / "note.wav")))
    part = build_body(_request(Message(role=Role.USER, content=(audio,))))["contents"][0]["parts"][
        0
    ]
    assert part["inlineData"]["mimeType"] in ("audio/wav", "audio/x-wav")
    assert base64.b64decode(part["inlineData"]["data"]) == b"RIFFdata"


def test_streamed_prompt_block_finishes_as_content_filter() -> None:
    """A streamed chunk that only reports a blocked prompt ends the stream with content_filter."""
    state = GenerateStream(MODEL, "p")
    events = state.feed("message", {"promptFeedback": {"blockReason": "SAFETY"}})
    assert events[-1].type == "finish"
    assert events[-1].finish_reason is not None
    assert events[-1].finish_reason.reason == "content_filter"
