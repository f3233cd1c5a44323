"""Syntax errors and rejected DOT features: typed, located, explained (spec §2.3)."""

from __future__ import annotations

import pytest

from attractor.dot import DotSyntaxError, parse_dot


def _error(text: str) -> DotSyntaxError:
    with pytest.raises(DotSyntaxError) as info:
        parse_dot(text, filename="p.dot")
    return info.value


@pytest.mark.parametrize(
    ("text", "words", "column"),
    [
        ("graph G { a }", "undirected graphs", 1),
        ("digraph G { a -- b }", "undirected edges", 15),
        ("strict digraph G { a }", "'strict'", 1),
        ("digraph A { a }\ndigraph B { b }", "exactly one digraph", 1),
        ("digraph G { a [label=<b>x</b>] }", "HTML labels", 22),
        ("digraph G { a:n -> b }", "ports", 14),
        ('digraph G { "my node" -> b }', "quoted node IDs", 13),
        ("digraph G { 42 -> b }", "numeric node IDs", 13),
        ("digraph G { a.b }", "contains '.'", 13),
    ],
)
def test_unsupported_features_are_rejected_with_a_message(
    text: str, words: str, column: int
) -> None:
    """Each unsupported DOT feature is a DotSyntaxError naming it, at its column."""
    error = _error(text)
    assert words in error.message
    assert error.column == column
    assert error.hint


def test_error_carries_file_line_column_and_caret() -> None:
    """The rendered error has file:line:col, the source line and a caret under the column."""
    error = _error('digraph G {\n  a [label "x"]\n}')
    assert (error.filename, error.line, error.column) == ("p.dot", 2, 12)
    assert error.source_line == '  a [label "x"]'
    rendered = str(error)
    assert rendered.startswith("p.dot:2:12: error: unexpected string")
    assert '  2 |   a [label "x"]\n    |            ^' in rendered


def test_expected_is_given_in_words() -> None:
    """Expectations use words and punctuation, never lark terminal names."""
    error = _error('digraph G {\n  a [label "x"]\n}')
    assert error.expected == ("'='",)
    assert "every attribute needs a value" in (error.hint or "")


def test_missing_closing_brace_has_a_hint() -> None:
    """End of input inside the graph says a '}' is missing."""
    error = _error("digraph G {\n  a -> b\n")
    assert error.message == "unexpected end of input"
    assert "'}'" in (error.hint or "")


def test_missing_closing_bracket_has_a_hint() -> None:
    """End of input inside an attribute list says a ']' is missing."""
    assert "']'" in (_error("digraph G { a [label=x").hint or "")


def test_unterminated_string_has_a_hint() -> None:
    """An unclosed quote is pointed at and explained."""
    error = _error('digraph G { a [label="oops] }')
    assert error.column == 22
    assert "never closed" in (error.hint or "")


def test_unterminated_comment_has_a_hint() -> None:
    """An unclosed /* is pointed at and explained."""
    assert "comment" in (_error("digraph G { /* open\n a }").hint or "")


def test_empty_input() -> None:
    """An empty file says a digraph was expected."""
    error = _error("")
    assert error.expected == ("'digraph'",)


def test_missing_value_after_equals() -> None:
    """`key=` followed by ']' says the value is missing."""
    error = _error("digraph G { a [x=] }")
    assert error.expected == ("a value",)
    assert "value is missing" in (error.hint or "")


def test_subgraph_as_edge_endpoint_is_explained() -> None:
    """`a -> {b c}` is rejected with a hint."""
    assert "endpoints" in (_error("digraph G { a -> {b c} }").hint or "")


def test_deep_subgraph_nesting_is_a_syntax_error() -> None:
    """Absurd nesting is a DotSyntaxError, not a RecursionError."""
    text = "digraph G {" + "subgraph {" * 150 + "a" + "}" * 150 + "}"
    assert "nested" in _error(text).message


def test_error_is_a_value_error() -> None:
    """DotSyntaxError is a ValueError, so generic handlers catch it."""
    assert isinstance(_error("nonsense"), ValueError)


def test_control_characters_are_explained() -> None:
    """Binary junk gets a 'is this a text file?' hint."""
    assert "text file" in (_error("\x00\x01").hint or "")


def test_unquoted_condition_is_explained() -> None:
    """An unquoted value containing '=' says to quote it."""
    error = _error("digraph G { a -> b [condition=outcome=success] }")
    assert error.expected == ("an attribute name", "','", "']'")
    assert "quote values" in (error.hint or "")


def test_bracket_closed_by_brace_is_explained() -> None:
    """A '}' inside an attribute list says the ']' is missing."""
    assert "']'" in (_error("digraph G { a [x=1 }").hint or "")


def test_non_ascii_names_are_explained() -> None:
    """A non-ASCII character in a name says to use a label."""
    assert "label" in (_error("digraph G { café }").hint or "")


def test_attributes_before_an_arrow_are_explained() -> None:
    """`a [x=1] -> b` says attributes follow the whole edge."""
    assert "after the whole edge" in (_error("digraph G { a [x=1] -> b }").hint or "")
