"""Property: any scripted answer is parsed back whole by every official SDK, streamed or not."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attractor.testing.fake_providers import FakeProviderServer, Scenario, Step, Thinking, ToolCall

HI = [{"role": "user", "content": "hi"}]
NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**31), 2**31), st.text(max_size=20))
ARGUMENTS = st.dictionaries(NAMES, st.one_of(SCALARS, st.lists(SCALARS, max_size=3)), max_size=4)
STEPS = st.builds(
    Step,
    text=st.text(max_size=80),
    thinking=st.lists(st.builds(Thinking, text=st.text(min_size=1, max_size=40)), max_size=2).map(
        tuple
    ),
    tool_calls=st.lists(st.builds(ToolCall, name=NAMES, arguments=ARGUMENTS), max_size=3).map(
        tuple
    ),
    repeat=st.just(True),
)
PROPERTY = settings(
    max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)

Parsed = tuple[str, list[tuple[str, Any]]]


def expected(step: Step) -> Parsed:
    """The text and calls a client should rebuild from the step."""
    return step.text or "", [(call.name, call.arguments) for call in step.tool_calls]


def responses(client: Any, stream: bool) -> Parsed:
    """Text and calls as the OpenAI Responses SDK sees them."""
    if stream:
        events = list(client.responses.create(model="m", input="hi", stream=True))
        text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
        assert text == events[-1].response.output_text
        output = events[-1].response.output
    else:
        response = client.responses.create(model="m", input="hi")
        text, output = response.output_text, response.output
    calls = [(i.name, json.loads(i.arguments)) for i in output if i.type == "function_call"]
    return text, calls


def chat(client: Any, stream: bool) -> Parsed:
    """Text and calls as the OpenAI Chat Completions SDK sees them."""
    if not stream:
        message = client.chat.completions.create(model="m", messages=HI).choices[0].message
        calls = message.tool_calls or []
        parsed = [(c.function.name, json.loads(c.function.arguments)) for c in calls]
        return message.content or "", parsed
    text, names, arguments = "", {}, {}
    for chunk in client.chat.completions.create(model="m", messages=HI, stream=True):
        delta = chunk.choices[0].delta
        text += delta.content or ""
        for call in delta.tool_calls or []:
            names.setdefault(call.index, call.function.name)
            arguments[call.index] = arguments.get(call.index, "") + call.function.arguments
    return text, [(names[i], json.loads(arguments[i])) for i in sorted(names)]


def messages(client: Any, stream: bool) -> Parsed:
    """Text and calls as the Anthropic SDK sees them."""
    if stream:
        with client.messages.stream(model="m", max_tokens=9, messages=HI) as events:
            blocks = events.get_final_message().content
    else:
        blocks = client.messages.create(model="m", max_tokens=9, messages=HI).content
    text = "".join(b.text for b in blocks if b.type == "text")
    return text, [(b.name, b.input) for b in blocks if b.type == "tool_use"]


def gemini(client: Any, stream: bool) -> Parsed:
    """Text and calls as the google-genai SDK sees them."""
    models = client.models
    if stream:
        chunks = list(models.generate_content_stream(model="m", contents="hi"))
    else:
        chunks = [models.generate_content(model="m", contents="hi")]
    parts = [p for c in chunks for p in (c.candidates[0].content.parts or [])]
    text = "".join(p.text for p in parts if p.text and not p.thought)
    return text, [(p.function_call.name, p.function_call.args) for p in parts if p.function_call]


def check(server: FakeProviderServer, step: Step, parse: Any, client: Any) -> None:
    """Both the plain and the streamed answer parse back to the step."""
    server.play(Scenario(fallback=step))
    assert parse(client, False) == expected(step)
    assert parse(client, True) == expected(step)


@PROPERTY
@given(step=STEPS)
def test_responses_round_trip(server, openai_client, step):
    """The Responses SDK rebuilds any scripted text and tool calls."""
    check(server, step, responses, openai_client)


@PROPERTY
@given(step=STEPS)
def test_chat_round_trip(server, openai_client, step):
    """The Chat Completions SDK rebuilds any scripted text and tool calls."""
    check(server, step, chat, openai_client)


@PROPERTY
@given(step=STEPS)
def test_messages_round_trip(server, anthropic_client, step):
    """The Anthropic SDK rebuilds any scripted text and tool calls."""
    check(server, step, messages, anthropic_client)


@PROPERTY
@given(step=STEPS)
def test_gemini_round_trip(server, gemini_client, step):
    """The google-genai SDK rebuilds any scripted text and tool calls."""
    check(server, step, gemini, gemini_client)
