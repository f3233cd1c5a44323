"""The hand-written DOT lexer agrees with lark's contextual lexer on the grammar's terminals."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lark import Token
from lark.exceptions import LarkError

from attractor.dot._grammar import load_grammar
from attractor.dot._lexer import DotLexer
from attractor.dot._parse import _TRANSFORMER, _Reject

ROOT = Path(__file__).parents[2]
EXAMPLES = sorted((ROOT / "fixtures" / "dot" / "spec_examples").glob("*.dot"))


def _shape(value: Any) -> Any:
    """Statement trees with every token made comparable by (type, text, line, column)."""
    if isinstance(value, Token):
        return (value.type, str(value), value.line, value.column)
    if isinstance(value, list | tuple):
        return [_shape(v) for v in value]
    return value


def _statements(text: str, lexer: Any) -> Any:
    try:
        return _shape(load_grammar("dot.lark", _TRANSFORMER, lexer).parse(text))
    except _Reject as reject:
        return ("rejected", reject.message, reject.token.line, reject.token.column)
    except LarkError:
        return "syntax error"


KEYWORDS = {"strict", "digraph", "graph", "node", "edge", "subgraph"}


def _keyword_as_name(shape: Any) -> bool:
    """Whether lark's lexer turned a reserved word into a NAME (it only knows the state)."""
    if isinstance(shape, tuple) and len(shape) == 4 and shape[0] == "NAME":
        return shape[1] in KEYWORDS
    if isinstance(shape, list | tuple):
        return any(_keyword_as_name(s) for s in shape)
    return False


def _agree(text: str) -> None:
    ours, larks = _statements(text, DotLexer), _statements(text, "contextual")
    if _keyword_as_name(larks):
        # Ours reserves keywords outside [...], as Graphviz does (ADR 0014).
        assert ours == "syntax error"
    else:
        assert ours == larks


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_same_statements_on_spec_examples(path: Path) -> None:
    """Both lexers give identical statement trees, positions included, on every example."""
    _agree(path.read_text(encoding="utf-8"))


def test_same_statements_on_the_benchmark_pipeline() -> None:
    """Both lexers agree on the generated benchmark file (subgraphs, comma-less blocks)."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from bench_dot import generate
    finally:
        sys.path.remove(str(ROOT / "bench"))
    _agree(generate(60))


def test_same_statements_on_tricky_input() -> None:
    """Keywords as values and keys, strings with newlines, comments, numbers, rejections."""
    _agree(
        'digraph G {\n a [node=edge, graph="x\ny", w=-1.5, d=900s]\n /* c\n */ b -> c\n'
        ' k = v; "q" -> 2\n}'
    )


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet='digraphnodeg{}[]=,;:"\\-></*+ \n\tab1.', max_size=60))
def test_same_outcome_on_random_input(text: str) -> None:
    """On random DOT-ish text both lexers lead to the same statements or both fail."""
    _agree(text)


def test_keywords_are_reserved_outside_attribute_lists() -> None:
    """`a -> node` is an error for us (as in Graphviz) although lark's lexer would allow it."""
    assert _statements("digraph G { a -> node }", DotLexer) == "syntax error"
    assert _statements("digraph G { a -> node }", "contextual") != "syntax error"
