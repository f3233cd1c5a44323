"""Scenario format: decoding, validation errors with locations, step selection, splitting."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attractor.testing.fake_providers import (
    Match,
    Scenario,
    ScenarioError,
    Step,
    load_scenario,
    parse_scenario,
)
from attractor.testing.fake_providers._scenario import RequestView, select_step
from attractor.testing.fake_providers._wire import resolve, split_text

VIEW = RequestView("anthropic_messages", "claude-x", "what is the weather", False)


def test_full_scenario_decodes():
    """Every documented field decodes from JSON."""
    document = {
        "steps": [
            {
                "when": {"api": "openai_chat", "model": "m", "user_text": "hi"},
                "text": "hello",
                "thinking": [{"text": "t", "signature": "s"}, {"redacted_data": "r"}],
                "tool_calls": [{"name": "f", "arguments": {"a": 1}, "id": "c1"}],
                "usage": {"input_tokens": 1, "cache_read_tokens": 2},
                "deltas": 3,
                "chunk_delay_ms": 5,
                "headers": {"x-ratelimit-remaining-requests": "9"},
                "repeat": True,
            },
            {"error": {"status": 429, "retry_after": "2"}},
            {"fault": {"kind": "disconnect", "after_events": 4}},
        ],
        "fallback": {"text": "default"},
        "accepted_api_keys": ["k"],
    }
    scenario = parse_scenario(json.dumps(document))
    assert scenario.steps[0].tool_calls[0].arguments == {"a": 1}
    assert scenario.steps[1].error is not None
    assert scenario.steps[1].error.retry_after == "2"
    assert scenario.accepted_api_keys == ("k",)


def test_unknown_field_names_its_path():
    """A misspelt field gives ScenarioError naming the JSON path."""
    with pytest.raises(ScenarioError, match=r"steps\[0\]") as caught:
        parse_scenario('{"steps": [{"txt": "typo"}]}', "s.json")
    assert caught.value.location == "s.json"


def test_bad_status_is_refused():
    """Error statuses outside 400..599 are refused with the reason."""
    with pytest.raises(ScenarioError, match=r"400\.\.599"):
        parse_scenario('{"steps": [{"error": {"status": 200}}]}')


def test_more_deltas_than_characters_is_refused():
    """A delta count above the text length is refused with a hint."""
    with pytest.raises(ScenarioError, match="exceeds"):
        parse_scenario('{"steps": [{"text": "ab", "deltas": 3}]}')


@pytest.mark.parametrize(
    "headers", [{"content-length": "1"}, {"x-bad": "a\r\nset-cookie: x"}, {"bad name": "v"}]
)
def test_unsafe_scripted_headers_are_refused(headers):
    """Framing headers, CR/LF in values and invalid names cannot be scripted."""
    document = json.dumps({"steps": [{"headers": headers}]})
    with pytest.raises(ScenarioError, match="header"):
        parse_scenario(document)


def test_invalid_json_is_a_scenario_error():
    """Malformed JSON gives ScenarioError, not a msgspec error."""
    with pytest.raises(ScenarioError, match="not valid JSON"):
        parse_scenario("{nope")


def test_missing_file_is_a_scenario_error(tmp_path):
    """An unreadable file gives ScenarioError naming the path."""
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "absent.json")


def test_load_reads_a_file(tmp_path):
    """load_scenario decodes a file."""
    path = tmp_path / "s.json"
    path.write_text('{"steps": [{"text": "from file"}]}')
    assert load_scenario(path).steps[0].text == "from file"


def test_selection_skips_consumed_and_unmatched_steps():
    """The first unconsumed step whose conditions hold answers."""
    steps = (
        Step(text="a"),
        Step(text="b", when=Match(model="other")),
        Step(text="c", when=Match(user_text="weather")),
    )
    index, step = select_step(Scenario(steps=steps), frozenset({0}), VIEW)
    assert (index, step.text) == (2, "c")


def test_selection_by_stream_flag():
    """A step can be limited to streaming (or plain) requests."""
    steps = (Step(text="streamed", when=Match(stream=True)), Step(text="plain"))
    assert select_step(Scenario(steps=steps), frozenset(), VIEW)[1].text == "plain"


def test_fallback_when_nothing_matches():
    """When no step matches, the fallback answers."""
    index, step = select_step(
        Scenario(steps=(Step(when=Match(api="gemini_generate")),)), frozenset(), VIEW
    )
    assert index is None
    assert step.echo


def test_echo_answers_with_the_user_text():
    """An echo step resolves to the request's last user text."""
    answer = resolve(Step(echo=True), VIEW, 1, 100, "call_")
    assert answer.text == "what is the weather"
    assert answer.usage.input_tokens == 25


def test_tool_calls_default_to_tool_calls_finish():
    """Tool calls without an explicit finish resolve to the tool_calls finish."""
    from attractor.testing.fake_providers import ToolCall

    answer = resolve(Step(tool_calls=(ToolCall("f"),)), VIEW, 3, 10, "toolu_")
    assert answer.finish == "tool_calls"
    assert answer.calls[0].id == "toolu_000003_0"


@given(st.text(min_size=1, max_size=200), st.integers(min_value=1, max_value=300))
def test_split_text_joins_back(text, deltas):
    """Splitting into N deltas yields min(N, len) pieces that join to the text."""
    pieces = split_text(text, deltas)
    assert "".join(pieces) == text
    assert len(pieces) == min(deltas, len(text))


@given(st.text(max_size=200))
def test_word_split_joins_back(text):
    """The default word split loses nothing."""
    assert "".join(split_text(text, 0)) == text
