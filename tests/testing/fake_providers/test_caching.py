"""Simulated prompt caching: cache reads on turn 2+, Anthropic only at cache_control marks."""

from __future__ import annotations

import anthropic
import pytest

from attractor.testing.fake_providers import ECHO, Step, Usage

LONG = "You are a careful assistant. " * 40
TURN_1 = [{"role": "user", "content": "first question"}]
TURN_2 = [
    *TURN_1,
    {"role": "assistant", "content": "first answer"},
    {"role": "user", "content": "next"},
]


@pytest.fixture
def caching(play):
    """A scenario that echoes and simulates prompt caching."""
    return play(prompt_caching=True)


def test_responses_reports_cached_tokens_on_turn_two(caching, openai_client):
    """OpenAI caches automatically: turn 2 reads the prefix turn 1 sent."""
    first = openai_client.responses.create(model="m", instructions=LONG, input=TURN_1).usage
    second = openai_client.responses.create(model="m", instructions=LONG, input=TURN_2).usage
    assert first.input_tokens_details.cached_tokens == 0
    assert second.input_tokens_details.cached_tokens > 0
    assert second.input_tokens >= second.input_tokens_details.cached_tokens


def test_chat_reports_cached_tokens_on_turn_two(caching, openai_client):
    """Chat Completions reports prompt_tokens_details.cached_tokens on turn 2."""
    openai_client.chat.completions.create(model="m", messages=TURN_1)
    usage = openai_client.chat.completions.create(model="m", messages=TURN_2).usage
    assert usage.prompt_tokens_details.cached_tokens > 0


def test_anthropic_writes_then_reads_at_breakpoints(caching, anthropic_client):
    """With cache_control, turn 1 writes the cache and turn 2 reads it."""
    system = [{"type": "text", "text": LONG, "cache_control": {"type": "ephemeral"}}]
    first = anthropic_client.messages.create(
        model="m", max_tokens=9, system=system, messages=TURN_1
    )
    second = anthropic_client.messages.create(
        model="m", max_tokens=9, system=system, messages=TURN_2
    )
    assert (first.usage.cache_read_input_tokens, first.usage.cache_creation_input_tokens > 0) == (
        0,
        True,
    )
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens


def test_anthropic_without_breakpoints_caches_nothing(caching, anthropic_client):
    """Without cache_control, Anthropic reports no cache activity."""
    for messages in (TURN_1, TURN_2):
        usage = anthropic_client.messages.create(
            model="m", max_tokens=9, system=LONG, messages=messages
        ).usage
        assert (usage.cache_read_input_tokens, usage.cache_creation_input_tokens) == (0, 0)


def test_gemini_reports_cached_content_tokens(caching, gemini_client):
    """Gemini reports cachedContentTokenCount on turn 2."""
    turn_1 = [{"role": "user", "parts": [{"text": "first"}]}]
    turn_2 = [
        *turn_1,
        {"role": "model", "parts": [{"text": "a"}]},
        {"role": "user", "parts": [{"text": "b"}]},
    ]
    gemini_client.models.generate_content(model="m", contents=turn_1)
    meta = gemini_client.models.generate_content(model="m", contents=turn_2).usage_metadata
    assert meta.cached_content_token_count > 0


def test_caches_are_separate_per_api_key(caching, server, openai_client):
    """A prefix cached under one key is not a hit under another."""
    openai_client.responses.create(model="m", input=TURN_1)
    other = openai_client.with_options(api_key="sk-someone-else")
    usage = other.responses.create(model="m", input=TURN_2).usage
    assert usage.input_tokens_details.cached_tokens == 0


def test_scripted_cache_tokens_win(play, anthropic_client):
    """Steps with scripted cache tokens report exactly those."""
    play(Step(text="x", usage=Usage(cache_read_tokens=5), repeat=True), prompt_caching=True)
    usage = anthropic_client.messages.create(model="m", max_tokens=9, messages=TURN_2).usage
    assert usage.cache_read_input_tokens == 5


def test_caching_is_off_by_default(play, openai_client):
    """Without prompt_caching no cache tokens are reported."""
    play(fallback=ECHO)
    for turn in (TURN_1, TURN_2):
        assert (
            openai_client.responses.create(
                model="m", input=turn
            ).usage.input_tokens_details.cached_tokens
            == 0
        )


def test_anthropic_sdk_type_is_message(caching, anthropic_client):
    """Cache simulation keeps the response a valid SDK Message."""
    message = anthropic_client.messages.create(model="m", max_tokens=9, messages=TURN_1)
    assert isinstance(message, anthropic.types.Message)
