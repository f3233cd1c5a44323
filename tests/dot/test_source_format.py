"""`format_source`: layout normalised, meaning, structure and comments kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attractor.dot import DotSyntaxError, format_dot, format_source, parse_dot
from attractor.dot._lexer import scan_comments

ROOT = Path(__file__).parents[2]
EXAMPLES = sorted((ROOT / "fixtures" / "dot" / "spec_examples").glob("*.dot"))
SEEDS = [p.read_text(encoding="utf-8") for p in EXAMPLES]

MESSY = """// header comment
digraph Demo {  // graph comment
    graph [goal="Ship" label="Demo"]; rankdir=LR


    node [shape=box, timeout="900s"]
    /* block
       comment */
    start [shape=Mdiamond]  // trailing
    exit [shape=Msquare]
    subgraph cluster_a { label="Loop A"; node [thread_id=a]
      plan [prompt="p", human.default_choice=x] // in sub
      // before close
    }
    start -> plan -> exit [label="go", condition="outcome=success"]
    a; b // on b
    // last
}
// after
"""

EXPECTED = """// header comment
digraph Demo { // graph comment
    graph [goal=Ship, label=Demo]
    rankdir=LR

    node [shape=box, timeout="900s"]
    /* block
       comment */
    start [shape=Mdiamond] // trailing
    exit [shape=Msquare]
    subgraph cluster_a {
        label="Loop A"
        node [thread_id=a]
        plan [prompt=p, "human.default_choice"=x] // in sub
        // before close
    }
    start -> plan -> exit [label=go, condition="outcome=success"]
    a
    b // on b
    // last
}
// after
"""


def _check(text: str) -> None:
    out = format_source(text)
    assert parse_dot(out) == parse_dot(text)
    assert format_source(out) == out
    assert [c[2] for c in scan_comments(out)] == [c[2] for c in scan_comments(text)]


def test_messy_file_is_laid_out_canonically() -> None:
    """Indentation, commas, one statement per line, single blank lines; comments kept."""
    assert format_source(MESSY) == EXPECTED


def test_messy_file_keeps_meaning_and_is_stable() -> None:
    """Same graph after formatting; formatting twice changes nothing."""
    _check(MESSY)


def test_spec_examples() -> None:
    """Every spec example keeps its meaning and comments and is a fixed point afterwards."""
    for text in SEEDS:
        _check(text)


def test_syntax_errors_are_reported() -> None:
    """format_source raises DotSyntaxError on bad input, like parse_dot."""
    with pytest.raises(DotSyntaxError, match=r"^x\.dot:1:10: "):
        format_source("digraph {", filename="x.dot")


def test_comment_inside_attribute_block_moves_after_statement() -> None:
    """A comment inside a multi-line attribute list goes on its own line after it."""
    out = format_source("digraph {\n a [\n  x=1 // why\n  y=2\n ]\n b\n}")
    assert out == "digraph {\n    a [x=1, y=2]\n    // why\n    b\n}\n"


def _mutate(data: st.DataObject, text: str) -> str:
    pieces = st.sampled_from(["// c\n", "/* c */", "\n\n", ";", " ", "\n", "a -> b\n", "x [k=v]"])
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(text)))
        text = text[:i] + data.draw(pieces) + text[i:]
    return text


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_mutated_examples_keep_meaning_and_comments(data: st.DataObject) -> None:
    """Inserted comments, blank lines and statements: meaning kept, output a fixed point."""
    text = _mutate(data, data.draw(st.sampled_from(SEEDS)))
    try:
        parse_dot(text)
    except DotSyntaxError:
        return
    _check(text)


def test_normal_form_is_also_formatted_source() -> None:
    """format_source of format_dot output keeps the same graph."""
    for text in SEEDS:
        _check(format_dot(parse_dot(text)))
