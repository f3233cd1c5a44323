"""Helpers shared by the adapter test modules (test support; no tests of its own).

Request builders, the scripted-server shortcuts, the mock-transport runner used by the
bad-payload properties, SSE encoders, SDK request-type checks and hypothesis strategies
that more than one adapter's tests need.
"""

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pydantic
from hypothesis import strategies as st

from attractor.llm import (
    Client,
    ContentPart,
    ImageData,
    Message,
    Request,
    Response,
    Role,
    Tool,
    ToolCallData,
    errors,
)
from attractor.llm.retry import RetryPolicy
from attractor.testing.fake_providers import FakeProviderServer, Scenario, Step

from .conftest import MakeClient, mock_client, mutate_json

PNG = b"\x89PNG\r\n\x1a\nfake-image-bytes"
CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
"""JSON Schema of the weather tool's parameters."""
WEATHER = Tool("get_weather", "Weather for a city", CITY, execute=lambda city: f"sunny in {city}")
FAST_RETRY = RetryPolicy(max_retries=2, base_delay=0.001, jitter=False)
COUNTER = Tool(
    "count",
    "Count",
    {"type": "object", "properties": {"n": {"type": "integer"}}},
    execute=lambda n: n + 1,
)
"""A tool that answers `n + 1`, for multi-round tool loops."""
JSON_TYPE = "application/json"
SSE_TYPE = "text/event-stream"


def weather(answer: Callable[[str], str]) -> Tool:
    """A `get_weather` tool described as "Weather" that answers with `answer(city)`."""
    return Tool("get_weather", "Weather", CITY, execute=answer)


def make_request(model: str, *messages: Message, **fields: Any) -> Request:
    """A Request for `model` with the given messages (a lone "hi" when there are none)."""
    return Request(model=model, messages=messages or (Message.user("hi"),), **fields)


def play(server: FakeProviderServer, *steps: Step, **options: Any) -> None:
    """Script the fake server's next answers."""
    server.play(Scenario(steps=steps, **options))


def scripted(
    provider: str, server: FakeProviderServer, make: MakeClient, *steps: Step, **scenario: Any
) -> Client:
    """Script the fake server and return a Client for `provider` pointed at it."""
    play(server, *steps, **scenario)
    return make(provider)


def sent_body(server: FakeProviderServer, index: int = -1) -> dict[str, Any]:
    """The JSON body of one request the fake server received (the last by default)."""
    body = server.requests[index].body
    assert isinstance(body, dict), server.requests[index]
    return body


# ---- bad-payload properties over a mock transport -------------------------------------------


def replying(provider: str, content: bytes, content_type: str | None = None) -> Client:
    """A Client whose `provider` gets a 200 with `content` (and the content type, if any)."""
    headers = {"content-type": content_type} if content_type else {}
    return mock_client(provider, lambda _: httpx.Response(200, content=content, headers=headers))


def run_once(client: Client, request: Request, *, streaming: bool) -> None:
    """Complete or stream once; only a Response, events ending FINISH/ERROR or SDKError may come."""

    async def go() -> None:
        try:
            if streaming:
                events = [ev async for ev in client.stream(request)]
                assert events[-1].type in ("finish", "error")
            else:
                assert isinstance(await client.complete(request), Response)
        except errors.SDKError:
            pass
        finally:
            await client.close()

    asyncio.run(go())


def check_payload(provider: str, request: Request, content: bytes, *, streaming: bool) -> None:
    """Serve `content` (labelled SSE or JSON) once; only typed SDK errors may escape."""
    content_type = SSE_TYPE if streaming else JSON_TYPE
    run_once(replying(provider, content, content_type), request, streaming=streaming)


def named_sse(events: list[tuple[str, Any]]) -> bytes:
    """SSE bytes with an `event:` name and a JSON `data:` line per event."""
    return "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events).encode()


def mutate_one(data: st.DataObject, items: list[Any]) -> list[Any]:
    """A copy of `items` with one drawn item mutated; `(name, payload)` pairs keep their name."""
    items = list(items)
    index = data.draw(st.integers(0, len(items) - 1))
    item = items[index]
    if isinstance(item, tuple):
        items[index] = (item[0], mutate_json(data, item[1]))
    else:
        items[index] = mutate_json(data, item)
    return items


def maybe_cut(data: st.DataObject, raw: bytes, cut: float) -> bytes:
    """`raw` cut at fraction `cut`, or whole, as hypothesis draws."""
    return raw[: int(len(raw) * cut)] if data.draw(st.booleans()) else raw


# ---- request bodies against the official SDK types ------------------------------------------

SdkParams = dict[bool, tuple[Any, pydantic.TypeAdapter[Any]]]


def sdk_params(non_streaming: Any, streaming: Any) -> SdkParams:
    """The SDK's request TypedDicts with their validators, keyed by `stream`."""
    pairs = ((False, non_streaming), (True, streaming))
    return {flag: (params, pydantic.TypeAdapter(params)) for flag, params in pairs}


def assert_sdk_body(params_by_stream: SdkParams, body: dict[str, Any], *, streaming: bool) -> None:
    """`body` uses only the SDK request type's keys and validates against it."""
    params, adapter = params_by_stream[streaming]
    assert set(body) <= set(params.__required_keys__) | set(params.__optional_keys__)
    adapter.validate_python(body)


# ---- hypothesis strategies -------------------------------------------------------------------

TOOL_CALLS = st.builds(
    ToolCallData,
    id=st.from_regex(r"call_[a-z0-9]{1,8}", fullmatch=True),
    name=st.from_regex(r"[a-z][a-z_]{0,10}", fullmatch=True),
    arguments=st.dictionaries(st.text(min_size=1, max_size=5), st.integers() | st.text(max_size=5)),
)
"""Tool calls with OpenAI-style ids and simple argument objects."""


def openai_messages(*, image_detail: str | None, error_results: bool) -> Any:
    """Messages of every role with texts, images (URL or bytes), tool calls and results."""
    parts = st.one_of(
        st.text(max_size=10).map(ContentPart.of_text),
        st.just(
            ContentPart.of_image(ImageData(url="https://example.com/a.png", detail=image_detail))
        ),
        st.binary(min_size=1, max_size=8).map(lambda b: ContentPart.of_image(ImageData(data=b))),
    )
    results = st.tuples(
        TOOL_CALLS, st.text(max_size=10), st.booleans() if error_results else st.just(False)
    )
    return st.one_of(
        st.lists(parts, min_size=1, max_size=3).map(
            lambda p: Message(role=Role.USER, content=tuple(p))
        ),
        st.text(max_size=10).map(Message.system),
        st.tuples(st.text(max_size=10), TOOL_CALLS).map(
            lambda t: Message.assistant(t[0], ContentPart.of_tool_call(t[1]))
        ),
        results.map(lambda t: Message.tool_result(t[0].id, t[1], is_error=t[2])),
    )
