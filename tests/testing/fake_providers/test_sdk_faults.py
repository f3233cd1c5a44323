"""How the official SDKs react to each scripted fault (the matrix in docs/fake-providers.md).

These pin what the fake's faults do to real clients: a transport fault must reach the SDK as
the failure it imitates, and every fault that leaves the protocol valid must still parse.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import openai
import pytest
from google.genai import errors as genai_errors
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attractor.testing.fake_providers import Fault, Step

HI = [{"role": "user", "content": "hi"}]
# Some SDKs ship their own httpx fork; a cut connection surfaces as either library's error.
REMOTE_PROTOCOL_ERRORS: tuple[type[BaseException], ...] = (httpx.RemoteProtocolError,)
try:
    import httpx2

    REMOTE_PROTOCOL_ERRORS += (httpx2.RemoteProtocolError,)
except ImportError:  # pragma: no cover - depends on the installed SDK versions
    pass


def calls(openai_client, anthropic_client, gemini_client) -> dict[str, Callable[[bool], Any]]:
    """One call per API, streaming or not, consuming the whole answer."""

    def responses(stream: bool) -> Any:
        result = openai_client.responses.create(model="m", input="hi", stream=stream)
        return list(result) if stream else result

    def chat(stream: bool) -> Any:
        result = openai_client.chat.completions.create(model="m", messages=HI, stream=stream)
        return list(result) if stream else result

    def messages(stream: bool) -> Any:
        result = anthropic_client.messages.create(
            model="m", max_tokens=8, messages=HI, stream=stream
        )
        return list(result) if stream else result

    def gemini(stream: bool) -> Any:
        models = gemini_client.models
        if stream:
            return list(models.generate_content_stream(model="m", contents="hi"))
        return models.generate_content(model="m", contents="hi")

    return {"responses": responses, "chat": chat, "messages": messages, "gemini": gemini}


@pytest.fixture
def api_calls(openai_client, anthropic_client, gemini_client) -> dict[str, Callable[[bool], Any]]:
    """The per-API calls bound to the module's SDK clients."""
    return calls(openai_client, anthropic_client, gemini_client)


@pytest.mark.parametrize("api", ["responses", "chat", "messages"])
@pytest.mark.parametrize("stream", [False, True])
def test_disconnect_is_a_connection_error(play, api_calls, api, stream):
    """A cut connection raises the SDK's connection error (or the transport's)."""
    play(Step(text="a b c d", fault=Fault("disconnect", after_events=3)))
    expected = (openai.APIConnectionError, anthropic.APIConnectionError, *REMOTE_PROTOCOL_ERRORS)
    with pytest.raises(expected):
        api_calls[api](stream)


@pytest.mark.parametrize("stream", [False, True])
def test_gemini_disconnect_surfaces_the_transport_error(play, api_calls, stream):
    """google-genai does not wrap a cut connection; the transport error reaches the caller."""
    play(Step(text="a b c d", fault=Fault("disconnect", after_events=3)))
    with pytest.raises(REMOTE_PROTOCOL_ERRORS):
        api_calls["gemini"](stream)


@pytest.mark.parametrize(
    ("api", "error_type"),
    [
        ("responses", openai.InternalServerError),
        ("chat", openai.InternalServerError),
        ("messages", anthropic.InternalServerError),
        ("gemini", genai_errors.ServerError),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_html_page_is_a_server_error(play, api_calls, api, error_type, stream):
    """A proxy's 502 HTML page raises each SDK's server error."""
    play(Step(fault=Fault("html", status=502)))
    with pytest.raises(error_type):
        api_calls[api](stream)


@pytest.mark.parametrize("api", ["responses", "chat", "messages", "gemini"])
def test_malformed_json_body_breaks_sdk_parsing(play, api_calls, api):
    """A truncated JSON body is not valid JSON to any SDK (they raise JSONDecodeError)."""
    play(Step(text="x", fault=Fault("malformed_json")))
    with pytest.raises(json.JSONDecodeError):
        api_calls[api](False)


@pytest.mark.parametrize("api", ["responses", "chat", "messages", "gemini"])
@pytest.mark.parametrize("stream", [False, True])
def test_wrong_content_type_still_parses(play, api_calls, api, stream):
    """The SDKs ignore a wrong content type and parse the body anyway."""
    play(Step(text="fine", fault=Fault("wrong_content_type")))
    assert api_calls[api](stream)


def test_gemini_sdk_chokes_on_sse_comments(play, api_calls):
    """google-genai treats any non-`data:` line as JSON, so SSE comments break it."""
    play(Step(text="x", fault=Fault("garbage_sse")))
    with pytest.raises(genai_errors.UnknownApiResponseError):
        api_calls["gemini"](True)


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=12))
def test_responses_stream_cut_anywhere_is_typed(play, openai_client, cut):
    """Cut after any event, the OpenAI SDK keeps what arrived and raises APIConnectionError."""
    total = 11  # created, in_progress, item/part added, 3 deltas, text/part/item done, completed
    play(Step(text="one two three", fault=Fault("disconnect", after_events=cut)))
    received: list[Any] = []
    with pytest.raises(openai.APIConnectionError):
        received.extend(openai_client.responses.create(model="m", input="hi", stream=True))
    assert len(received) == min(cut, total)


def test_unknown_event_passes_through_the_openai_sdk(play, openai_client):
    """An unknown Responses event type is handed to the caller, the rest is intact."""
    play(Step(text="a b", fault=Fault("unknown_event", after_events=2)))
    events = list(openai_client.responses.create(model="m", input="hi", stream=True))
    assert events[2].type == "fake.unknown_event"
    assert events[-1].response.output_text == "a b"


def test_unknown_event_is_ignored_by_the_anthropic_accumulator(play, anthropic_client):
    """The Anthropic SDK's stream accumulator skips an unknown event type."""
    play(Step(text="a b", fault=Fault("unknown_event", after_events=2)))
    with anthropic_client.messages.stream(model="m", max_tokens=5, messages=HI) as stream:
        assert stream.get_final_text() == "a b"


def test_unknown_chunk_is_an_empty_gemini_chunk(play, gemini_client):
    """google-genai parses an unknown data object as a chunk without candidates."""
    play(Step(text="a b", fault=Fault("unknown_event", after_events=2)))
    chunks = list(gemini_client.models.generate_content_stream(model="m", contents="hi"))
    assert [chunk.candidates is None for chunk in chunks] == [False, False, True, False]
