"""Fidelity of `POST /v1/messages`: the official `anthropic` SDK parses what the fake sends."""

from __future__ import annotations

import anthropic
import httpx
import pytest

from attractor.testing.fake_providers import Error, Fault, Step, Thinking, ToolCall, Usage

from .conftest import ANTHROPIC_KEY

MODEL = "claude-opus-4-6"
HELLO = [{"role": "user", "content": "hello"}]


def create(client: anthropic.Anthropic, **options: object) -> anthropic.types.Message:
    return client.messages.create(model=MODEL, max_tokens=1024, messages=HELLO, **options)  # type: ignore[arg-type]


def test_text_message_is_parsed(play, anthropic_client):
    """A scripted text is one text block with stop_reason end_turn."""
    play(Step(text="Hello, human."))
    message = create(anthropic_client)
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == "Hello, human."
    assert message.stop_reason == "end_turn"


def test_thinking_and_redacted_thinking_blocks(play, anthropic_client):
    """Thinking keeps its signature; redacted thinking keeps its data; both precede text."""
    thinking = (Thinking(text="reasoning", signature="sig-abc"), Thinking(redacted_data="opaque=="))
    play(Step(text="answer", thinking=thinking))
    blocks = create(anthropic_client).content
    assert [block.type for block in blocks] == ["thinking", "redacted_thinking", "text"]
    assert (blocks[0].thinking, blocks[0].signature) == ("reasoning", "sig-abc")
    assert blocks[1].data == "opaque=="


def test_tool_use_blocks(play, anthropic_client):
    """Parallel tool calls are tool_use blocks with decoded input and stop_reason tool_use."""
    play(
        Step(
            tool_calls=(
                ToolCall("search", {"q": "a"}),
                ToolCall("search", {"q": "b"}, id="toolu_x"),
            )
        )
    )
    message = create(anthropic_client)
    assert message.stop_reason == "tool_use"
    assert [block.input for block in message.content] == [{"q": "a"}, {"q": "b"}]
    assert message.content[1].id == "toolu_x"


def test_usage_separates_cache_reads_and_writes(play, anthropic_client):
    """input_tokens excludes cached tokens, which are reported on their own."""
    usage = Usage(
        input_tokens=1000, output_tokens=50, cache_read_tokens=800, cache_write_tokens=100
    )
    play(Step(text="ok", usage=usage))
    result = create(anthropic_client).usage
    assert (result.input_tokens, result.output_tokens) == (100, 50)
    assert result.cache_read_input_tokens == 800
    assert result.cache_creation_input_tokens == 100


def test_stream_accumulates_text_thinking_and_tools(play, anthropic_client):
    """The SDK's stream accumulator rebuilds every block from the streamed deltas."""
    thinking = (Thinking(text="let me see", signature="sig-1"), Thinking(redacted_data="xyz"))
    play(
        Step(text="the answer", thinking=thinking, tool_calls=(ToolCall("calc", {"expr": "1+1"}),))
    )
    with anthropic_client.messages.stream(model=MODEL, max_tokens=64, messages=HELLO) as stream:
        message = stream.get_final_message()
    assert [block.type for block in message.content] == [
        "thinking",
        "redacted_thinking",
        "text",
        "tool_use",
    ]
    assert message.content[0].signature == "sig-1"
    assert message.content[2].text == "the answer"
    assert message.content[3].input == {"expr": "1+1"}
    assert message.stop_reason == "tool_use"


def test_stream_event_sequence(play, anthropic_client):
    """The raw stream follows message_start … message_delta, message_stop."""
    play(Step(text="a b", thinking=(Thinking(text="t"),)))
    events = list(create(anthropic_client, stream=True))
    kinds = [event.type for event in events]
    assert kinds[0] == "message_start"
    assert kinds[-2:] == ["message_delta", "message_stop"]
    delta_types = [e.delta.type for e in events if e.type == "content_block_delta"]
    assert delta_types == ["thinking_delta", "signature_delta", "text_delta", "text_delta"]


def test_stream_usage_in_message_delta(play, anthropic_client):
    """Output tokens arrive in message_delta; cache reads in message_start."""
    play(Step(text="x", usage=Usage(input_tokens=30, output_tokens=12, cache_read_tokens=10)))
    events = list(create(anthropic_client, stream=True))
    assert events[0].message.usage.cache_read_input_tokens == 10
    assert events[-2].usage.output_tokens == 12


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, anthropic.BadRequestError),
        (401, anthropic.AuthenticationError),
        (403, anthropic.PermissionDeniedError),
        (404, anthropic.NotFoundError),
        (429, anthropic.RateLimitError),
        (500, anthropic.InternalServerError),
        (503, anthropic.APIStatusError),
    ],
)
def test_scripted_errors_raise_the_sdk_error(play, anthropic_client, status, error_type):
    """Each scripted status raises the SDK's own typed error with that status."""
    play(Step(error=Error(status, message="scripted")))
    with pytest.raises(error_type) as caught:
        create(anthropic_client)
    assert caught.value.status_code == status


def test_rate_limit_body_and_retry_after(play, anthropic_client):
    """A 429 has a rate_limit_error body and the Retry-After header."""
    play(Step(error=Error(429, retry_after="12")))
    with pytest.raises(anthropic.RateLimitError) as caught:
        create(anthropic_client)
    assert caught.value.body["error"]["type"] == "rate_limit_error"
    assert caught.value.response.headers["retry-after"] == "12"


def test_sdk_retry_honours_retry_after(play, server, anthropic_client):
    """The SDK retries a 429 after Retry-After and then gets the scripted answer."""
    play(Step(error=Error(429, retry_after="0.05")), Step(text="ok now"))
    message = create(anthropic_client.with_options(max_retries=1))
    assert message.content[0].text == "ok now"
    assert len(server.requests) == 2


def test_wrong_key_is_an_authentication_error(play, anthropic_client):
    """A key outside the accepted ones gets 401 authentication_error."""
    play(accepted_api_keys=("sk-ant-other",))
    with pytest.raises(anthropic.AuthenticationError) as caught:
        create(anthropic_client)
    assert caught.value.body["error"]["type"] == "authentication_error"


def test_missing_version_header_is_refused(play, server):
    """Without `anthropic-version` the request is refused with 400."""
    play(Step(text="never"))
    body = {"model": MODEL, "max_tokens": 10, "messages": HELLO}
    url = server.base_url("anthropic") + "/v1/messages"
    response = httpx.post(url, json=body, headers={"x-api-key": ANTHROPIC_KEY})
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_missing_max_tokens_is_refused(play, anthropic_client):
    """max_tokens is required, as on the real API."""
    play()
    raw = anthropic_client.with_options(max_retries=0)
    with pytest.raises(anthropic.BadRequestError):
        raw.post("/v1/messages", body={"model": MODEL, "messages": HELLO}, cast_to=object)


def test_stream_error_event_raises(play, anthropic_client):
    """An in-stream `error` event makes the SDK raise a status error."""
    play(Step(text="a b c", fault=Fault("error_event", after_events=3, status=529)))
    with pytest.raises(anthropic.APIStatusError):
        list(create(anthropic_client, stream=True))


def test_ping_and_garbage_lines_are_ignored(play, anthropic_client):
    """Pings, comments and unknown SSE fields do not disturb the SDK."""
    play(Step(text="fine", fault=Fault("garbage_sse")))
    with anthropic_client.messages.stream(model=MODEL, max_tokens=8, messages=HELLO) as stream:
        assert stream.get_final_text() == "fine"
