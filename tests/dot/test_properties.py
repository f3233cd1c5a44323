"""Property tests: printer round-trips, condition AST round-trips, and fuzzing for typed errors."""

from __future__ import annotations

import contextlib
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attractor.dot import (
    Clause,
    Condition,
    ConditionSyntaxError,
    DotSyntaxError,
    Edge,
    Graph,
    Node,
    StylesheetSyntaxError,
    apply_transforms,
    compile_condition,
    format_dot,
    parse_dot,
    parse_stylesheet,
    validate,
)

KEYWORDS = {"node", "edge", "graph", "digraph", "subgraph", "strict"}
EXAMPLES = sorted((Path(__file__).parents[2] / "fixtures" / "dot" / "spec_examples").glob("*.dot"))
SEEDS = [p.read_text(encoding="utf-8") for p in EXAMPLES]

_FIRST = string.ascii_letters + "_"
_REST = _FIRST + string.digits
identifiers = st.builds(
    str.__add__, st.sampled_from(_FIRST), st.text(alphabet=_REST, max_size=7)
).filter(lambda s: s.lower() not in KEYWORDS)
keys = st.lists(identifiers, min_size=1, max_size=3).map(".".join)
values = st.one_of(
    st.text(max_size=12),
    identifiers,
    st.from_regex(r"-?[0-9]{1,4}(\.[0-9]{1,2})?(ms|s|m|h|d)?", fullmatch=True),
)
attrs = st.dictionaries(keys, values, max_size=4)
class_names = st.builds(
    str.__add__,
    st.sampled_from(string.ascii_lowercase + string.digits),
    st.text(alphabet=string.ascii_lowercase + string.digits + "-", max_size=5),
)


@st.composite
def graphs(draw: st.DrawFn) -> Graph:
    """Graphs `parse_dot` could produce: valid IDs, any attribute text, derived classes, edges."""
    ids = draw(st.lists(identifiers, min_size=1, max_size=8, unique=True))
    nodes = {}
    for node_id in ids:
        classes = tuple(draw(st.lists(class_names, max_size=2, unique=True)))
        nodes[node_id] = Node(node_id, draw(attrs), classes)
    pairs = st.tuples(st.sampled_from(ids), st.sampled_from(ids), attrs)
    edges = tuple(Edge(s, t, a) for s, t, a in draw(st.lists(pairs, max_size=10)))
    name = draw(st.one_of(st.just(""), identifiers))
    return Graph(name, draw(attrs), nodes, edges)


KNOWN_KEYS = [
    "shape", "type", "label", "prompt", "max_retries", "goal_gate", "retry_target",
    "fallback_retry_target", "fidelity", "thread_id", "class", "timeout", "llm_model",
    "reasoning_effort", "auto_status", "allow_partial", "condition", "weight", "loop_restart",
    "goal", "model_stylesheet", "default_max_retries", "default_fidelity",
]  # fmt: skip
shapes = st.sampled_from(["Mdiamond", "Msquare", "box", "hexagon", "diamond", "house", "x"])
known_values = st.one_of(values, shapes, st.sampled_from(["start", "exit", "outcome=success"]))
known_attrs = st.dictionaries(st.sampled_from(KNOWN_KEYS), known_values, max_size=5)


@st.composite
def pipelines(draw: st.DrawFn) -> Graph:
    """Graphs whose attributes are the spec's, with arbitrary (often malformed) values."""
    ids = draw(st.lists(identifiers, min_size=1, max_size=6, unique=True))
    nodes = {i: Node(i, draw(known_attrs)) for i in ids}
    pairs = st.tuples(st.sampled_from(ids), st.sampled_from(ids), known_attrs)
    edges = tuple(Edge(s, t, a) for s, t, a in draw(st.lists(pairs, max_size=8)))
    return Graph("P", draw(known_attrs), nodes, edges)


@given(pipelines())
def test_transforms_and_validation_never_raise(graph: Graph) -> None:
    """Any graph, however malformed its values, transforms and validates without raising."""
    for diagnostic in validate(apply_transforms(graph)):
        assert diagnostic.rule
        assert diagnostic.message


@given(graphs())
def test_format_then_parse_is_identity(graph: Graph) -> None:
    """parse_dot(format_dot(g)) == g for generated graphs."""
    assert parse_dot(format_dot(graph)) == graph


clauses = st.one_of(
    st.builds(Clause, keys, st.sampled_from(["=", "!="]), st.text(max_size=10)),
    st.builds(Clause, keys, st.just("truthy")),
)


@given(st.lists(clauses, min_size=1, max_size=4).map(lambda cs: Condition(tuple(cs))))
def test_condition_ast_round_trips(condition: Condition) -> None:
    """compile_condition(str(c)) == c for generated condition ASTs."""
    assert compile_condition(str(condition)) == condition


def _mutate(data: st.DataObject, text: str) -> str:
    """Apply a few random edits (delete, insert, replace, duplicate a slice)."""
    alphabet = st.sampled_from([*'{}[]=,;:"\\-><+/*#\n ', "->", "--", "digraph", "node"])
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 8)))
        op = data.draw(st.sampled_from(["delete", "insert", "replace", "duplicate"]))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "insert":
            text = text[:i] + data.draw(st.one_of(alphabet, st.text(max_size=3))) + text[i:]
        elif op == "replace":
            text = text[:i] + data.draw(alphabet) + text[j:]
        else:
            text = text[:j] + text[i:j] + text[j:]
    return text


def _only_dot_errors(text: str) -> None:
    """Parsing either succeeds (then transforms and validation never raise) or is typed."""
    try:
        graph = parse_dot(text, filename="fuzz.dot")
    except DotSyntaxError as error:
        located = (error.line >= 1, error.column >= 1, str(error).startswith("fuzz.dot:"))
    else:
        validate(apply_transforms(graph))
        return
    assert located == (True, True, True)


def _fuzz_random_text(text: str) -> None:
    _only_dot_errors(text)
    with contextlib.suppress(ConditionSyntaxError):
        compile_condition(text)
    with contextlib.suppress(StylesheetSyntaxError):
        parse_stylesheet(text)


def _fuzz_bytes(raw: bytes) -> None:
    _fuzz_random_text(raw.decode("utf-8", errors="replace"))


def _fuzz_mutation(data: st.DataObject) -> None:
    _only_dot_errors(_mutate(data, data.draw(st.sampled_from(SEEDS))))


FAST = settings(max_examples=200, deadline=None)
SLOW = settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.text(max_size=200))
def test_random_text_raises_only_typed_errors(text: str) -> None:
    """Random text: parse_dot, compile_condition, parse_stylesheet raise only their errors."""
    _fuzz_random_text(text)


@FAST
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_typed_errors(raw: bytes) -> None:
    """Random bytes (decoded leniently) raise only DotSyntaxError and friends."""
    _fuzz_bytes(raw)


@FAST
@given(st.data())
def test_mutated_examples_raise_only_dot_syntax_errors(data: st.DataObject) -> None:
    """Random edits of valid files give a graph or a DotSyntaxError, never another exception."""
    _fuzz_mutation(data)


@pytest.mark.slow
@pytest.mark.timeout(1800)  # 10,000 examples on a shared 2-core machine
@SLOW
@given(st.binary(max_size=400))
def test_random_bytes_slow(raw: bytes) -> None:
    """10,000 random byte strings: only typed errors escape."""
    _fuzz_bytes(raw)


@pytest.mark.slow
@pytest.mark.timeout(1800)  # 10,000 examples on a shared 2-core machine
@SLOW
@given(st.data())
def test_mutated_examples_slow(data: st.DataObject) -> None:
    """10,000 mutations of valid files: only DotSyntaxError escapes."""
    _fuzz_mutation(data)


@pytest.mark.slow
@pytest.mark.timeout(1800)
@settings(max_examples=1_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_format_then_parse_is_identity_slow(graph: Graph) -> None:
    """1,000 generated graphs round-trip through the printer."""
    assert parse_dot(format_dot(graph)) == graph
