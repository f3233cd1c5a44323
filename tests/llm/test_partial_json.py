"""Tests for incremental JSON parsing used by stream_object."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attractor.llm.partial_json import PartialJsonError, extract_json_text, parse_partial

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=5), json_values, max_size=4))
def test_every_prefix_parses_and_full_text_round_trips(value: dict[str, object]) -> None:
    """Every prefix of a JSON object parses without error; the whole text gives the value."""
    text = json.dumps(value)
    for end in range(len(text)):
        parse_partial(text[:end])
    assert parse_partial(text) == value


def test_partial_string_is_kept() -> None:
    """An unterminated string value appears cut where it stops."""
    assert parse_partial('{"name": "Ali') == {"name": "Ali"}


def test_incomplete_key_and_number_are_dropped() -> None:
    """A key without value and an unterminated number are left out."""
    assert parse_partial('{"a": 1, "b') == {"a": 1}
    assert parse_partial('{"a": 12') == {}


def test_fences_and_prose_are_stripped() -> None:
    """Markdown fences and leading prose around JSON are tolerated."""
    assert parse_partial('```json\n{"a": [1, 2]}\n```') == {"a": [1, 2]}
    assert extract_json_text('Sure! {"x": 1}') == '{"x": 1}'


def test_invalid_prefix_raises_with_offset() -> None:
    """A prefix that can never be JSON raises PartialJsonError naming the offset."""
    with pytest.raises(PartialJsonError, match="offset"):
        parse_partial('{"a" 1}')


def test_unicode_escapes() -> None:
    """\\u escapes decode; a cut escape is dropped until complete."""
    assert parse_partial('{"s": "caf\\u00e9"}') == {"s": "café"}
    assert parse_partial('{"s": "caf\\u00') == {"s": "caf"}
