"""Fidelity of `POST /v1/chat/completions`: the official `openai` SDK parses the fake."""

from __future__ import annotations

import json

import openai
import pytest

from attractor.testing.fake_providers import Error, Fault, Step, Thinking, ToolCall, Usage

MODEL = "llama-3-70b"
HELLO = [{"role": "user", "content": "hello"}]


def test_text_completion_is_parsed(play, openai_client):
    """A scripted text is the assistant message content with finish_reason stop."""
    play(Step(text="Hi there."))
    completion = openai_client.chat.completions.create(model=MODEL, messages=HELLO)
    assert completion.choices[0].message.content == "Hi there."
    assert completion.choices[0].finish_reason == "stop"


def test_echo_uses_the_last_user_message(play, openai_client):
    """The default answer echoes the last user message's text parts."""
    play()
    messages = [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "reply"},
        {"role": "user", "content": [{"type": "text", "text": "second"}]},
    ]
    completion = openai_client.chat.completions.create(model=MODEL, messages=messages)
    assert completion.choices[0].message.content == "second"


def test_usage_counts_cached_and_reasoning_tokens(play, openai_client):
    """Usage maps to prompt/completion tokens with cached and reasoning details."""
    usage = Usage(input_tokens=50, output_tokens=20, reasoning_tokens=5, cache_read_tokens=32)
    play(Step(text="ok", usage=usage))
    result = openai_client.chat.completions.create(model=MODEL, messages=HELLO).usage
    assert (result.prompt_tokens, result.completion_tokens, result.total_tokens) == (50, 20, 70)
    assert result.prompt_tokens_details.cached_tokens == 32
    assert result.completion_tokens_details.reasoning_tokens == 5


def test_parallel_tool_calls(play, openai_client):
    """Two tool calls arrive as `tool_calls` with finish_reason tool_calls."""
    play(Step(tool_calls=(ToolCall("a", {"x": 1}), ToolCall("b", {"y": 2}))))
    choice = openai_client.chat.completions.create(model=MODEL, messages=HELLO).choices[0]
    assert choice.finish_reason == "tool_calls"
    names = [
        (call.function.name, json.loads(call.function.arguments))
        for call in choice.message.tool_calls
    ]
    assert names == [("a", {"x": 1}), ("b", {"y": 2})]


def test_stream_text_deltas_and_done(play, openai_client):
    """Streamed content deltas join to the text; the stream ends at `[DONE]`."""
    play(Step(text="streamed words here", deltas=3))
    chunks = list(openai_client.chat.completions.create(model=MODEL, messages=HELLO, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "streamed words here"
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_stream_tool_call_deltas_by_index(play, openai_client):
    """Tool-call deltas carry id and name once, then argument fragments keyed by index."""
    play(Step(tool_calls=(ToolCall("first", {"arg": "value one"}), ToolCall("second", {"n": 2}))))
    chunks = list(openai_client.chat.completions.create(model=MODEL, messages=HELLO, stream=True))
    arguments: dict[int, str] = {}
    names: dict[int, str] = {}
    for chunk in chunks:
        for delta in chunk.choices[0].delta.tool_calls or []:
            arguments[delta.index] = arguments.get(delta.index, "") + delta.function.arguments
            if delta.function.name:
                names[delta.index] = delta.function.name
    assert names == {0: "first", 1: "second"}
    assert json.loads(arguments[0]) == {"arg": "value one"}
    assert json.loads(arguments[1]) == {"n": 2}


def test_stream_usage_chunk_when_asked(play, openai_client):
    """With include_usage the last chunk has empty choices and the usage."""
    play(Step(text="x", usage=Usage(input_tokens=9, output_tokens=4)))
    chunks = list(
        openai_client.chat.completions.create(
            model=MODEL, messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[-1].choices == []
    assert chunks[-1].usage.total_tokens == 13


def test_stream_without_usage_request_has_no_usage(play, openai_client):
    """Without include_usage no chunk carries usage."""
    play(Step(text="x"))
    chunks = list(openai_client.chat.completions.create(model=MODEL, messages=HELLO, stream=True))
    assert all(chunk.usage is None for chunk in chunks)


def test_thinking_is_reasoning_content(play, openai_client):
    """Thinking is exposed as the OpenAI-compatible `reasoning_content` field."""
    play(Step(text="answer", thinking=(Thinking(text="hmm"),)))
    message = openai_client.chat.completions.create(model=MODEL, messages=HELLO).choices[0].message
    assert message.model_extra["reasoning_content"] == "hmm"


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, openai.BadRequestError),
        (429, openai.RateLimitError),
        (503, openai.InternalServerError),
    ],
)
def test_scripted_errors_raise_the_sdk_error(play, openai_client, status, error_type):
    """Scripted statuses raise the SDK's typed errors."""
    play(Step(error=Error(status)))
    with pytest.raises(error_type) as caught:
        openai_client.chat.completions.create(model=MODEL, messages=HELLO)
    assert caught.value.status_code == status


def test_stream_error_data_raises_api_error(play, openai_client):
    """An in-stream error object makes the SDK raise APIError."""
    play(Step(text="a b c", fault=Fault("error_event", after_events=2)))
    stream = openai_client.chat.completions.create(model=MODEL, messages=HELLO, stream=True)
    with pytest.raises(openai.APIError):
        list(stream)
