"""Tests for the shipped ScriptedAdapter test double."""

import pytest

from attractor.llm.client import Client
from attractor.llm.errors import ConfigurationError, RateLimitError
from attractor.llm.runtime import CallContext, ProviderConfig, Secret
from attractor.llm.types import Message, Request, Response, StreamEventType
from attractor.testing.scripted_llm import ScriptedAdapter, events_from_response, text_response

pytestmark = pytest.mark.anyio

REQ = Request(model="m", messages=(Message.user("hi"),))


async def test_script_items_answer_in_order_and_are_recorded() -> None:
    """Items answer calls in order; each call records request, runtime and credentials."""
    adapter = ScriptedAdapter([text_response("one"), text_response("two")], name="s")
    cfg = ProviderConfig(api_key=Secret("k"), base_url="http://127.0.0.1:1")
    client = Client({"s": adapter}, default_provider="s", configs={"s": cfg})
    assert (await client.complete(REQ)).text == "one"
    assert (await client.complete(REQ)).text == "two"
    call = adapter.calls[0]
    assert (call.method, call.runtime_id, call.api_key, call.request) == (
        "complete",
        "default",
        "k",
        REQ,
    )


async def test_exhausted_script_is_clear_error() -> None:
    """Running out of script gives a ConfigurationError saying so."""
    client = Client({"s": ScriptedAdapter(name="s")}, default_provider="s")
    with pytest.raises(ConfigurationError, match="no answer left"):
        await client.complete(REQ)


async def test_error_items_raise() -> None:
    """An SDKError item is raised like an HTTP error."""
    err = RateLimitError("slow", provider="s", status_code=429)
    client = Client({"s": ScriptedAdapter([err], name="s")}, default_provider="s")
    with pytest.raises(RateLimitError):
        await client.complete(REQ)


async def test_async_responder() -> None:
    """A responder may be async and see the request and context."""

    async def answer(req: Request, ctx: CallContext) -> Response:
        return text_response(f"{ctx.provider}:{req.model}")

    client = Client({"s": ScriptedAdapter(name="s", responder=answer)}, default_provider="s")
    assert (await client.complete(REQ)).text == "s:m"


async def test_event_script_for_complete_is_accumulated() -> None:
    """A list of events answers complete() with the accumulated response."""
    events = events_from_response(text_response("streamed"))
    client = Client({"s": ScriptedAdapter([events], name="s")}, default_provider="s")
    assert (await client.complete(REQ)).text == "streamed"
    stream_client = Client({"s": ScriptedAdapter([events], name="s")}, default_provider="s")
    got = [ev async for ev in stream_client.stream(REQ)]
    assert got[-1].type == StreamEventType.FINISH
