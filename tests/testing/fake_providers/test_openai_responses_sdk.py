"""Fidelity of `POST /v1/responses`: the official `openai` SDK parses what the fake sends."""

from __future__ import annotations

import json

import openai
import pytest

from attractor.testing.fake_providers import Error, Fault, Step, Thinking, ToolCall, Usage

from .conftest import OPENAI_KEY

MODEL = "gpt-5.2"


def test_text_response_is_parsed(play, openai_client):
    """A scripted text arrives as `output_text` with a completed status."""
    play(Step(text="Hello from the fake."))
    response = openai_client.responses.create(model=MODEL, input="hi")
    assert response.output_text == "Hello from the fake."
    assert response.status == "completed"
    assert response.model == MODEL


def test_echo_is_the_default(play, openai_client):
    """Without a scenario the last user message is echoed."""
    play()
    items = [{"role": "user", "content": [{"type": "input_text", "text": "say this back"}]}]
    response = openai_client.responses.create(model=MODEL, input=items)
    assert response.output_text == "say this back"


def test_usage_reports_reasoning_and_cached_tokens(play, openai_client):
    """Usage carries reasoning tokens and cached input tokens."""
    usage = Usage(input_tokens=100, output_tokens=40, reasoning_tokens=30, cache_read_tokens=64)
    play(Step(text="ok", usage=usage))
    result = openai_client.responses.create(model=MODEL, input="hi").usage
    assert result is not None
    assert (result.input_tokens, result.output_tokens, result.total_tokens) == (100, 40, 140)
    assert result.output_tokens_details.reasoning_tokens == 30
    assert result.input_tokens_details.cached_tokens == 64


def test_reasoning_item_precedes_the_message(play, openai_client):
    """Thinking becomes a reasoning item with a summary and encrypted content."""
    play(Step(text="answer", thinking=(Thinking(text="pondering", signature="sig-1"),)))
    output = openai_client.responses.create(model=MODEL, input="hi").output
    assert [item.type for item in output] == ["reasoning", "message"]
    assert output[0].summary[0].text == "pondering"
    assert output[0].encrypted_content == "sig-1"


def test_parallel_tool_calls_are_function_call_items(play, openai_client):
    """Two scripted tool calls become two function_call items with JSON arguments."""
    calls = (ToolCall("get_weather", {"city": "SF"}), ToolCall("get_weather", {"city": "NY"}))
    play(Step(tool_calls=calls))
    output = openai_client.responses.create(model=MODEL, input="weather?").output
    assert [item.type for item in output] == ["function_call", "function_call"]
    assert [json.loads(item.arguments)["city"] for item in output] == ["SF", "NY"]
    assert output[0].call_id != output[1].call_id


def test_stream_text_deltas_join_to_the_text(play, openai_client):
    """Streamed `output_text.delta` events join to the final text, split as scripted."""
    play(Step(text="one two three four", deltas=4))
    events = list(openai_client.responses.create(model=MODEL, input="hi", stream=True))
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) == 4
    assert "".join(deltas) == "one two three four"
    assert events[0].type == "response.created"
    assert events[-1].type == "response.completed"


def test_stream_sequence_numbers_increase_by_one(play, openai_client):
    """Every streamed event carries the next sequence number."""
    play(Step(text="a b c", thinking=(Thinking(text="x y"),), tool_calls=(ToolCall("f"),)))
    events = list(openai_client.responses.create(model=MODEL, input="hi", stream=True))
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_stream_tool_call_arguments_arrive_in_deltas(play, openai_client):
    """Function-call argument deltas join to the arguments of the finished item."""
    play(Step(tool_calls=(ToolCall("lookup", {"query": "a fairly long argument"}),)))
    events = list(openai_client.responses.create(model=MODEL, input="hi", stream=True))
    deltas = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
    done = [e.item for e in events if e.type == "response.output_item.done"]
    assert len(deltas) > 1
    assert json.loads("".join(deltas)) == {"query": "a fairly long argument"}
    assert done[0].arguments == "".join(deltas)


def test_stream_completed_event_carries_usage(play, openai_client):
    """`response.completed` holds the whole response with its usage."""
    play(Step(text="hi", usage=Usage(input_tokens=7, output_tokens=3, reasoning_tokens=1)))
    events = list(openai_client.responses.create(model=MODEL, input="hi", stream=True))
    final = events[-1].response
    assert final.output_text == "hi"
    assert final.usage.output_tokens_details.reasoning_tokens == 1


def test_stream_reasoning_summary_deltas(play, openai_client):
    """Reasoning summary text is streamed before the answer text."""
    play(Step(text="done", thinking=(Thinking(text="step by step"),)))
    events = list(openai_client.responses.create(model=MODEL, input="hi", stream=True))
    kinds = [e.type for e in events]
    first_text = kinds.index("response.output_text.delta")
    assert kinds.index("response.reasoning_summary_text.delta") < first_text


def test_length_finish_is_an_incomplete_response(play, openai_client):
    """A `length` finish gives status incomplete with reason max_output_tokens."""
    play(Step(text="cut", finish="length"))
    response = openai_client.responses.create(model=MODEL, input="hi")
    assert response.status == "incomplete"
    assert response.incomplete_details.reason == "max_output_tokens"


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, openai.BadRequestError),
        (401, openai.AuthenticationError),
        (403, openai.PermissionDeniedError),
        (404, openai.NotFoundError),
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (503, openai.InternalServerError),
    ],
)
def test_scripted_errors_raise_the_sdk_error(play, openai_client, status, error_type):
    """Each scripted status raises the SDK's own typed error with that status."""
    play(Step(error=Error(status, message="scripted failure")))
    with pytest.raises(error_type) as caught:
        openai_client.responses.create(model=MODEL, input="hi")
    assert caught.value.status_code == status
    assert "scripted failure" in caught.value.message


def test_rate_limit_carries_retry_after(play, openai_client):
    """A 429 carries the scripted Retry-After header and the rate_limit_exceeded code."""
    play(Step(error=Error(429, retry_after="7")))
    with pytest.raises(openai.RateLimitError) as caught:
        openai_client.responses.create(model=MODEL, input="hi")
    assert caught.value.response.headers["retry-after"] == "7"
    assert caught.value.code == "rate_limit_exceeded"


def test_sdk_retry_honours_retry_after(play, server, openai_client):
    """The SDK retries a 429 after Retry-After and then gets the scripted answer."""
    play(Step(error=Error(429, retry_after="0.05")), Step(text="second time lucky"))
    response = openai_client.with_options(max_retries=1).responses.create(model=MODEL, input="x")
    assert response.output_text == "second time lucky"
    assert [r.headers["x-stainless-retry-count"] for r in server.requests] == ["0", "1"]


def test_wrong_key_is_refused(play, openai_client):
    """With accepted keys set, another key gets 401 invalid_api_key."""
    play(accepted_api_keys=("sk-other",))
    with pytest.raises(openai.AuthenticationError) as caught:
        openai_client.responses.create(model=MODEL, input="hi")
    assert caught.value.code == "invalid_api_key"


def test_accepted_key_is_served(play, openai_client):
    """The configured key is accepted."""
    play(Step(text="welcome"), accepted_api_keys=(OPENAI_KEY,))
    assert openai_client.responses.create(model=MODEL, input="hi").output_text == "welcome"


def test_stream_error_event_is_a_failed_response(play, openai_client):
    """An `error_event` fault ends the stream with `response.failed`."""
    play(Step(text="a b c d", fault=Fault("error_event", after_events=4, status=500)))
    events = list(openai_client.responses.create(model=MODEL, input="hi", stream=True))
    assert events[-1].type == "response.failed"
    assert events[-1].response.error.message


def test_mid_stream_disconnect_raises_connection_error(play, openai_client):
    """A disconnect fault cuts the stream; the SDK raises APIConnectionError."""
    play(Step(text="a b c d e f", fault=Fault("disconnect", after_events=5)))
    stream = openai_client.responses.create(model=MODEL, input="hi", stream=True)
    received = []
    with pytest.raises(openai.APIConnectionError):
        received.extend(stream)
    assert len(received) == 5


def test_garbage_sse_lines_are_ignored(play, openai_client):
    """Comments, unknown fields and colon-less lines do not disturb the SDK's SSE parser."""
    play(Step(text="still fine", fault=Fault("garbage_sse")))
    events = list(openai_client.responses.create(model=MODEL, input="hi", stream=True))
    assert events[-1].response.output_text == "still fine"


def test_html_error_page_is_a_status_error(play, openai_client):
    """A proxy's HTML page gives the SDK's status error with the page as body."""
    play(Step(fault=Fault("html", status=502)))
    with pytest.raises(openai.InternalServerError) as caught:
        openai_client.responses.create(model=MODEL, input="hi")
    assert caught.value.status_code == 502
    assert "<html>" in caught.value.response.text
