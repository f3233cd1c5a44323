"""Fidelity of Gemini `generateContent`: the official `google-genai` SDK parses the fake."""

from __future__ import annotations

import httpx
import pytest
from google.genai import errors, types

from attractor.testing.fake_providers import Error, Fault, Step, Thinking, ToolCall, Usage

from .conftest import GEMINI_KEY

MODEL = "gemini-3-flash-preview"


def test_text_response_is_parsed(play, gemini_client):
    """A scripted text is the candidate's text with finish reason STOP."""
    play(Step(text="Hello from Gemini."))
    response = gemini_client.models.generate_content(model=MODEL, contents="hi")
    assert response.text == "Hello from Gemini."
    assert response.candidates[0].finish_reason == types.FinishReason.STOP


def test_echo_of_the_last_user_content(play, gemini_client):
    """The default answer echoes the last user content."""
    play()
    response = gemini_client.models.generate_content(model=MODEL, contents="repeat me")
    assert response.text == "repeat me"


def test_usage_metadata_counts_thoughts_and_cache(play, gemini_client):
    """usageMetadata has thoughtsTokenCount and cachedContentTokenCount."""
    usage = Usage(input_tokens=100, output_tokens=30, reasoning_tokens=10, cache_read_tokens=60)
    play(Step(text="ok", usage=usage))
    meta = gemini_client.models.generate_content(model=MODEL, contents="hi").usage_metadata
    assert (meta.prompt_token_count, meta.candidates_token_count) == (100, 20)
    assert (meta.thoughts_token_count, meta.cached_content_token_count) == (10, 60)
    assert meta.total_token_count == 130


def test_thought_parts_and_signature(play, gemini_client):
    """Thinking becomes thought parts; the signature rides on the first answer part."""
    play(Step(text="final", thinking=(Thinking(text="musing", signature="c2ln"),)))
    parts = (
        gemini_client.models.generate_content(model=MODEL, contents="hi")
        .candidates[0]
        .content.parts
    )
    assert [(part.text, bool(part.thought)) for part in parts] == [
        ("musing", True),
        ("final", False),
    ]
    assert parts[1].thought_signature == b"sig"


def test_parallel_function_calls(play, gemini_client):
    """Two tool calls are two functionCall parts with their args."""
    play(
        Step(
            tool_calls=(
                ToolCall("get_weather", {"city": "SF"}),
                ToolCall("get_weather", {"city": "NY"}),
            )
        )
    )
    response = gemini_client.models.generate_content(model=MODEL, contents="weather?")
    assert [(call.name, call.args) for call in response.function_calls] == [
        ("get_weather", {"city": "SF"}),
        ("get_weather", {"city": "NY"}),
    ]


def test_stream_chunks_join_to_the_text(play, gemini_client):
    """Streamed chunks carry the deltas; the last one has finishReason and usage."""
    play(Step(text="alpha beta gamma", deltas=3, usage=Usage(input_tokens=5, output_tokens=6)))
    chunks = list(gemini_client.models.generate_content_stream(model=MODEL, contents="hi"))
    assert "".join(chunk.text or "" for chunk in chunks) == "alpha beta gamma"
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert chunks[-1].usage_metadata.total_token_count == 11


def test_stream_function_calls_arrive_whole(play, gemini_client):
    """Function calls arrive complete, all in one chunk."""
    play(Step(tool_calls=(ToolCall("a", {"k": 1}), ToolCall("b", {"k": 2}))))
    chunks = list(gemini_client.models.generate_content_stream(model=MODEL, contents="hi"))
    with_calls = [chunk.function_calls for chunk in chunks if chunk.function_calls]
    assert len(with_calls) == 1
    assert [call.name for call in with_calls[0]] == ["a", "b"]


def test_stream_uses_alt_sse(play, server, gemini_client):
    """The SDK asks for `alt=sse` on streamGenerateContent, which the fake honours."""
    play(Step(text="x"))
    list(gemini_client.models.generate_content_stream(model=MODEL, contents="hi"))
    assert server.requests[0].query.get("alt") == "sse"
    assert server.requests[0].path.endswith(f"/models/{MODEL}:streamGenerateContent")


@pytest.mark.parametrize(
    ("status", "error_type", "grpc"),
    [
        (400, errors.ClientError, "INVALID_ARGUMENT"),
        (401, errors.ClientError, "UNAUTHENTICATED"),
        (403, errors.ClientError, "PERMISSION_DENIED"),
        (404, errors.ClientError, "NOT_FOUND"),
        (429, errors.ClientError, "RESOURCE_EXHAUSTED"),
        (500, errors.ServerError, "INTERNAL"),
        (503, errors.ServerError, "UNAVAILABLE"),
    ],
)
def test_scripted_errors_carry_grpc_status(play, gemini_client, status, error_type, grpc):
    """Errors raise the SDK's Client/ServerError with the code and gRPC status name."""
    play(Step(error=Error(status, message="scripted")))
    with pytest.raises(error_type) as caught:
        gemini_client.models.generate_content(model=MODEL, contents="hi")
    assert (caught.value.code, caught.value.status) == (status, grpc)
    assert caught.value.message == "scripted"


def test_invalid_key_is_api_key_invalid(play, gemini_client):
    """A rejected key gives 400 INVALID_ARGUMENT with reason API_KEY_INVALID, like Gemini."""
    play(accepted_api_keys=("another-key",))
    with pytest.raises(errors.ClientError) as caught:
        gemini_client.models.generate_content(model=MODEL, contents="hi")
    assert (caught.value.code, caught.value.status) == (400, "INVALID_ARGUMENT")
    assert caught.value.details["error"]["details"][0]["reason"] == "API_KEY_INVALID"


def test_key_in_query_parameter_is_accepted(play, server):
    """The API key may come as `?key=`."""
    play(Step(text="via query"), accepted_api_keys=(GEMINI_KEY,))
    url = f"{server.base_url('gemini')}/v1beta/models/{MODEL}:generateContent?key={GEMINI_KEY}"
    response = httpx.post(url, json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
    assert response.json()["candidates"][0]["content"]["parts"][0]["text"] == "via query"


def test_stream_without_alt_sse_is_a_json_array(play, server):
    """streamGenerateContent without `alt=sse` answers a JSON array of chunks."""
    play(Step(text="one two", deltas=2))
    url = f"{server.base_url('gemini')}/v1beta/models/{MODEL}:streamGenerateContent"
    body = {"contents": [{"parts": [{"text": "hi"}]}]}
    chunks = httpx.post(url, json=body, headers={"x-goog-api-key": GEMINI_KEY}).json()
    texts = [chunk["candidates"][0]["content"]["parts"][0]["text"] for chunk in chunks]
    assert "".join(texts) == "one two"


def test_stream_error_chunk_raises(play, gemini_client):
    """An in-stream error object makes the SDK raise its APIError."""
    play(Step(text="a b c", fault=Fault("error_event", after_events=1, status=503)))
    with pytest.raises(errors.APIError) as caught:
        list(gemini_client.models.generate_content_stream(model=MODEL, contents="hi"))
    assert caught.value.code == 503


def test_missing_contents_is_invalid_argument(play, server):
    """A request without contents is refused with 400 INVALID_ARGUMENT."""
    play()
    url = f"{server.base_url('gemini')}/v1beta/models/{MODEL}:generateContent"
    response = httpx.post(url, json={"contents": []}, headers={"x-goog-api-key": GEMINI_KEY})
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


def test_rate_limit_carries_retry_info(play, gemini_client):
    """A 429 with Retry-After also carries Gemini's RetryInfo detail with the delay."""
    play(Step(error=Error(429, retry_after="27")))
    with pytest.raises(errors.ClientError) as caught:
        gemini_client.models.generate_content(model=MODEL, contents="hi")
    details = caught.value.details["error"]["details"]
    assert {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "27s"} in details
