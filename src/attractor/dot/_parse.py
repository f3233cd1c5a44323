"""DOT language layer (pure): `parse_dot` — source text to an immutable `Graph` (spec §2).

Rule: two passes. The lark LALR parser, with an inline transformer, turns the text into a
small statement tree (tuples, in source order) and rejects the DOT features we do not
support at the token that shows them. The builder then walks the statements once with a
scope stack, applying `node`/`edge` defaults to later statements of their scope, deriving
classes from subgraph labels, expanding chained edges and flattening subgraphs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, cast

from lark import Token, Transformer
from lark.exceptions import LarkError

from attractor.dot._errors import DotSyntaxError, describe_terminals
from attractor.dot._grammar import load_grammar, translate
from attractor.dot._lexer import DotLexer
from attractor.dot._model import AttrPosition, Edge, Graph, GraphOrigin, Node, Origin, freeze
from attractor.dot._values import derive_class, unescape

_QUALIFIED_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
MAX_SUBGRAPH_DEPTH = 100

# One attribute as the transformer hands it over: (key, value, position).
Attr = tuple[str, str, AttrPosition]
# An attribute block: its attributes and the positions of attributes missing a comma.
Block = tuple[list[Attr], list[tuple[int, int]]]
_KEYWORD_TOKENS = frozenset({"STRICT", "DIGRAPH", "GRAPH", "NODE", "EDGE", "SUBGRAPH"})
_REJECT_ONLY = frozenset({"NUMBER", "UNDIRECTED", "HTML_OPEN", "COLON", "STRICT", "PLUS"})


class _Reject(Exception):
    """Raised inside the transformer for valid-looking DOT that Attractor does not accept."""

    def __init__(self, message: str, token: Token, hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.token, self.hint = message, token, hint


def _at(token: Token) -> tuple[int, int]:
    """(line, column) of a token (lark types them as optional; ours always have them)."""
    return token.line or 1, token.column or 1


def _node_id(token: Token) -> Token:
    if token.type == "STRING":
        raise _Reject(
            "quoted node IDs are not supported",
            token,
            f"use a bare identifier and put the text in a label, e.g. n1 [label={token.value}]",
        )
    if token.type == "NUMBER":
        raise _Reject(
            "numeric node IDs are not supported",
            token,
            f"node IDs start with a letter or '_', e.g. n{token.value.lstrip('-')}",
        )
    if "." in token.value:
        raise _Reject(
            f"node ID {token.value!r} contains '.'",
            token,
            "node IDs match [A-Za-z_][A-Za-z0-9_]*; dotted names are only attribute keys",
        )
    return token


class _ToStatements(Transformer[Token, Any]):
    """Inline LALR callbacks: tokens -> statement tuples. Stateless (shared by all parses)."""

    def start(self, graphs: list[Any]) -> Any:
        if len(graphs) > 1:
            raise _Reject(
                "a pipeline file holds exactly one digraph",
                graphs[1][0],
                "move the second graph into its own file",
            )
        return graphs[0]

    def graph(self, c: list[Any]) -> Any:
        if c[0].type == "STRICT":
            raise _Reject("'strict' graphs are not supported", c[0], "remove 'strict'")
        kind: Token = c[0]
        if kind.type == "GRAPH":
            raise _Reject(
                "undirected graphs are not supported",
                kind,
                "pipelines are directed: write 'digraph' and use '->' for edges",
            )
        name = c[1] if isinstance(c[1], Token) and c[1].type != "LBRACE" else None
        body = [s for s in c if isinstance(s, tuple)]
        return (kind, name.value if name is not None else "", body, c[-1])

    def graph_kind(self, c: list[Token]) -> Token:
        return c[0]

    def graph_name(self, c: list[Token]) -> Token:
        token = c[0]
        if token.type != "NAME" or "." in token.value:
            raise _Reject(
                "graph names must be bare identifiers",
                token,
                "write e.g. 'digraph my_pipeline {' and put display text in graph [label=...]",
            )
        return token

    def graph_attrs(self, c: list[Any]) -> Any:
        return ("graph", c[0], c[1])

    def node_defaults(self, c: list[Any]) -> Any:
        return ("node", c[0], c[1])

    def edge_defaults(self, c: list[Any]) -> Any:
        return ("edge", c[0], c[1])

    def attr_decl(self, c: list[Token]) -> Any:
        return ("decl", _key(c[0]), _value(c[2:]))

    def subgraph(self, c: list[Any]) -> Any:
        name = c[1].value if c[1].type == "NAME" else ""
        return ("subgraph", c[0], [s for s in c if isinstance(s, tuple)], name, c[-1])

    def node_stmt(self, c: list[Any]) -> Any:
        return ("node_stmt", c[0], c[1] if len(c) > 1 else ([], []))

    def edge_stmt(self, c: list[Any]) -> Any:
        block: Block = c[-1] if isinstance(c[-1], tuple) else ([], [])
        ends = [t for t in c if isinstance(t, Token)]
        for op in ends[1::2]:
            if op.type == "UNDIRECTED":
                raise _Reject("undirected edges ('--') are not supported", op, "use '->'")
        return ("edge_stmt", ends[0::2], block)

    def node_ref(self, c: list[Token]) -> Token:
        return _node_id(c[0])

    def port(self, c: list[Token]) -> Token:
        raise _Reject(
            "ports ('node:port') are not supported",
            c[0],
            "connect nodes by ID only; Attractor routes on edges, not ports",
        )

    def attr_block(self, c: list[Any]) -> Block:
        attrs: list[Attr] = []
        missing: list[tuple[int, int]] = []
        after_attr = False
        for item in c[1:-1]:
            if isinstance(item, tuple):
                if after_attr:
                    missing.append((item[2][0], item[2][1]))
                attrs.append(item)
            after_attr = isinstance(item, tuple)
        return attrs, missing

    def attr(self, c: list[Token]) -> Attr:
        key, value = _key(c[0]), _value(c[2:])
        return (key[0], value[0], (key[1], key[2], value[1], value[2]))


def _key(token: Token) -> tuple[str, int, int]:
    """An attribute name (bare or quoted) with its position."""
    text = unescape(token.value[1:-1]) if token.type == "STRING" else token.value
    if _QUALIFIED_KEY.fullmatch(text) is None:
        raise _Reject(
            f"attribute name {text!r} is not an identifier",
            token,
            "attribute names look like label or human.default_choice",
        )
    return (text, *_at(token))


def _value(tokens: list[Token]) -> tuple[str, int, int]:
    """An attribute value with the position of its first character of text."""
    first = tokens[0]
    if first.type == "HTML_OPEN":
        raise _Reject("HTML labels are not supported", first, 'use a quoted string: label="..."')
    if first.type == "VALUE":
        return (first.value, *_at(first))
    text = "".join(unescape(t.value[1:-1]) for t in tokens if t.type == "STRING")
    line, column = _at(first)
    return text, line, column + 1  # the text starts after the opening quote


_TRANSFORMER = _ToStatements()


@dataclass
class _NodeDraft:
    line: int
    column: int
    attrs: dict[str, str]
    positions: dict[str, AttrPosition] = field(default_factory=dict)
    classes: list[str] = field(default_factory=list)
    implicit: bool = True


@dataclass
class _Scope:
    node_defaults: dict[str, str]
    edge_defaults: dict[str, str]
    classes: tuple[str, ...]


class _Builder:
    """Walks the statement tree once, in order, and accumulates the flattened graph."""

    def __init__(self) -> None:
        self.graph_attrs: dict[str, str] = {}
        self.graph_positions: dict[str, AttrPosition] = {}
        self.nodes: dict[str, _NodeDraft] = {}
        self.edges: list[Edge] = []
        self.missing_commas: list[tuple[int, int]] = []

    def walk(self, statements: list[Any], scope: _Scope, depth: int, top: bool) -> None:
        for stmt in statements:
            kind = stmt[0]
            if kind == "node_stmt":
                self._node_stmt(stmt[1], stmt[2], scope)
            elif kind == "edge_stmt":
                self._edge_stmt(stmt[1], stmt[2], scope)
            elif kind == "node":
                scope.node_defaults.update(self._block(stmt[2])[0])
            elif kind == "edge":
                scope.edge_defaults.update(self._block(stmt[2])[0])
            elif kind == "subgraph":
                self._subgraph(stmt[1], stmt[2], scope, depth)
            elif top:  # graph [...] or key=value at the top: graph attributes
                self._graph_attrs(stmt)
            elif kind == "graph":
                # A subgraph's own attributes: only its label matters (read by _subgraph_label),
                # but missing commas are still reported.
                self._block(stmt[2])

    def _block(self, block: Block) -> tuple[dict[str, str], dict[str, AttrPosition]]:
        self.missing_commas.extend(block[1])
        return {a[0]: a[1] for a in block[0]}, {a[0]: a[2] for a in block[0]}

    def _graph_attrs(self, stmt: Any) -> None:
        if stmt[0] == "graph":
            values, positions = self._block(stmt[2])
        else:
            key, value = stmt[1], stmt[2]
            values = {key[0]: value[0]}
            positions = {key[0]: (key[1], key[2], value[1], value[2])}
        self.graph_attrs.update(values)
        self.graph_positions.update(positions)

    def _touch(self, token: Token, scope: _Scope) -> _NodeDraft:
        draft = self.nodes.get(token.value)
        if draft is None:
            draft = _NodeDraft(*_at(token), dict(scope.node_defaults))
            self.nodes[token.value] = draft
        for cls in scope.classes:
            if cls not in draft.classes:
                draft.classes.append(cls)
        return draft

    def _node_stmt(self, token: Token, block: Block, scope: _Scope) -> None:
        draft = self._touch(token, scope)
        if draft.implicit:
            (draft.line, draft.column), draft.implicit = _at(token), False
        values, positions = self._block(block)
        draft.attrs.update(values)
        draft.positions.update(positions)

    def _edge_stmt(self, ends: list[Token], block: Block, scope: _Scope) -> None:
        for end in ends:
            self._touch(end, scope)
        values, positions = self._block(block)
        attrs = freeze({**scope.edge_defaults, **values})
        frozen_positions = freeze(positions)
        for src, dst in pairwise(ends):
            origin = Origin(*_at(src), frozen_positions)
            self.edges.append(Edge(src.value, dst.value, attrs, origin))

    def _subgraph(self, name: Token, body: list[Any], scope: _Scope, depth: int) -> None:
        if depth >= MAX_SUBGRAPH_DEPTH:
            raise _Reject(f"subgraphs are nested more than {MAX_SUBGRAPH_DEPTH} deep", name, None)
        label = _subgraph_label(body)
        derived = derive_class(label) if label else ""
        classes = scope.classes
        if derived and derived not in classes:
            classes = (*classes, derived)
        inner = _Scope(dict(scope.node_defaults), dict(scope.edge_defaults), classes)
        self.walk(body, inner, depth + 1, top=False)

    def finish(self, name: str, kind: Token, filename: str) -> Graph:
        nodes = {
            node_id: Node(
                node_id,
                freeze(d.attrs),
                tuple(d.classes),
                Origin(d.line, d.column, freeze(d.positions), d.implicit),
            )
            for node_id, d in self.nodes.items()
        }
        origin = GraphOrigin(
            *_at(kind),
            freeze(self.graph_positions),
            filename=filename,
            missing_commas=tuple(self.missing_commas),
        )
        return Graph(name, freeze(self.graph_attrs), freeze(nodes), tuple(self.edges), origin)


def _subgraph_label(body: list[Any]) -> str:
    """The subgraph's `label` from `label=...` or `graph [label=...]` anywhere in its body."""
    label = ""
    for stmt in body:
        if stmt[0] == "decl" and stmt[1][0] == "label":
            label = stmt[2][0]
        elif stmt[0] == "graph":
            for key, value, _ in stmt[2][0]:
                label = value if key == "label" else label
    return label


def parse_dot(text: str, *, filename: str = "<string>") -> Graph:
    """Parse one pipeline written in Attractor's DOT subset.

    Args:
        text: The DOT source.
        filename: Name used in error messages and kept on `graph.origin`.

    Returns:
        The flattened, immutable graph (no transforms applied).

    Raises:
        DotSyntaxError: for any syntax error or unsupported DOT feature, with location,
            expectation and hint.
    """
    text = text.removeprefix("\ufeff")
    with syntax_errors(text, filename):
        kind, name, body, _ = parse_statements(text)
        builder = _Builder()
        builder.walk(body, _Scope({}, {}, ()), 0, top=True)
    return builder.finish(name, kind, filename)


def parse_statements(text: str) -> tuple[Token, str, list[Any], Token]:
    """The statement tree of `text`: (digraph token, name, statements, closing brace).

    Raises lark errors and `_Reject`; call inside `syntax_errors`.
    """
    parsed: Any = load_grammar("dot.lark", _TRANSFORMER, DotLexer).parse(text)
    return cast(tuple[Token, str, list[Any], Token], parsed)


@contextmanager
def syntax_errors(text: str, filename: str) -> Iterator[None]:
    """Turn rejections and lark failures inside the block into `DotSyntaxError`."""
    try:
        yield
    except _Reject as reject:
        line, column = _at(reject.token)
        raise DotSyntaxError.at(
            reject.message, text, line, column, filename=filename, hint=reject.hint
        ) from None
    except LarkError as error:
        raise translate(
            error,
            text,
            filename=filename,
            error_type=DotSyntaxError,
            words=_expected_words,
            hinter=_hint,
        ) from None


def _expected_words(expected: frozenset[str]) -> tuple[str, ...]:
    names = set(expected - _REJECT_ONLY)
    if "RSQB" in names and "EQUAL" not in names:
        # Inside [...]: LALR lookahead merging may list statement tokens too; they cannot occur.
        return ("an attribute name", "','", "']'")
    words: list[str] = []
    if "DIGRAPH" in names:
        names.discard("GRAPH")
    if {"NAME", "RBRACE"} <= names:
        names -= {"NAME", "NODE", "EDGE", "GRAPH", "SUBGRAPH", "SEMI", "STRING"}
        words.append("a statement (node, edge, attribute or subgraph)")
    if "NAME" in names and "NUMBER" in expected:  # an edge endpoint or a graph name
        names -= {"NAME", "STRING"}
        words.append("a node ID" if "LBRACE" not in names else "a name")
    if "RSQB" in names and "NAME" in names:
        names -= {"NAME", "STRING", "SEMI"}
        words.append("an attribute name")
    if "VALUE" in names:
        names -= {"VALUE", "STRING"}
        words.append("a value")
    return tuple(words) + describe_terminals(names)


def _unclosed(text: str, opening: str, closing: str) -> bool:
    """Rough check (strings not excluded) that `text` opens more brackets than it closes."""
    return text.count(opening) > text.count(closing)


def _hint(
    found: str, token_type: str | None, expected: frozenset[str], rest: str, text: str
) -> str | None:
    """A suggestion for the usual cause of an error, or None."""
    if found == '"' and token_type is None:
        return "this string is never closed: add the missing '\"'"
    if token_type is None and len(found) == 1 and ord(found) < 32:
        return "a control character: is this a text file?"
    if token_type is None and found and not found.isascii():
        return "names use ASCII letters, digits and '_'; put other text in a quoted label"
    if token_type in _KEYWORD_TOKENS and "NAME" in expected:
        return f"'{found}' is a reserved word; it cannot be a node ID or graph name"
    if found == "/" and rest.startswith("/*"):
        return "this comment is never closed: add '*/'"
    if token_type == "$END" and "RSQB" in expected and rest == "" and _unclosed(text, "[", "]"):
        return "an attribute list is missing its ']'"
    if token_type == "$END" and "RBRACE" in expected:
        return "a '}' is missing: every '{' needs a matching '}'"
    if "DIGRAPH" in expected and "NODE" not in expected:
        return "a pipeline file starts with 'digraph Name {'"
    if token_type == "RBRACE" and "RSQB" in expected:
        return "an attribute list is missing its ']'"
    if found == "=" and "RSQB" in expected:
        return 'quote values that contain "=", e.g. condition="outcome=success"'
    if "EQUAL" in expected:
        return "every attribute needs a value: key=value"
    if token_type == "ARROW" and "RBRACE" in expected:
        return "attributes come after the whole edge: a -> b [label=x]"
    if token_type == "LBRACE" and "NAME" in expected:
        return "edge endpoints must be node IDs; 'a -> {b c}' is not supported"
    if "VALUE" in expected and found in {",", "]", ";", "}"}:
        return 'the value is missing after "="; write key=value or key=""'
    if "LBRACE" in expected and token_type == "NAME":
        return "graph names are single identifiers; put display text in label"
    return None
