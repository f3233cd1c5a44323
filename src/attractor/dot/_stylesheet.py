"""DOT language layer (pure): the model stylesheet (spec §8) — parse, match, apply.

Rule: a stylesheet only ever *fills in* `llm_model`, `llm_provider` and `reasoning_effort`
on nodes that do not have them; the winner for each property is the matching rule with the
highest specificity (`*` 0 < shape 1 < `.class` 2 < `#id` 3), later rules winning ties.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast

import msgspec
from lark import Token, Transformer
from lark.exceptions import LarkError

from attractor.dot._errors import StylesheetSyntaxError
from attractor.dot._grammar import load_grammar, translate
from attractor.dot._model import Graph, Node, freeze
from attractor.dot._values import unescape

#: Properties a stylesheet may set (spec §8.4).
STYLESHEET_PROPERTIES: frozenset[str] = frozenset({"llm_model", "llm_provider", "reasoning_effort"})

SelectorKind = Literal["universal", "shape", "class", "id"]
_SPECIFICITY: Mapping[str, int] = {"universal": 0, "shape": 1, "class": 2, "id": 3}


class Selector(msgspec.Struct, frozen=True):
    """What a rule matches: every node, a shape, a class or one node ID."""

    kind: SelectorKind
    value: str = ""

    @property
    def specificity(self) -> int:
        """0 for `*`, 1 for a shape, 2 for a class, 3 for an ID."""
        return _SPECIFICITY[self.kind]

    def matches(self, node: Node) -> bool:
        """Whether this selector selects `node`."""
        if self.kind == "universal":
            return True
        if self.kind == "shape":
            return node.shape == self.value
        if self.kind == "class":
            return self.value in node.classes
        return node.id == self.value

    def __str__(self) -> str:
        prefix = {"universal": "*", "shape": "", "class": ".", "id": "#"}[self.kind]
        return prefix + self.value


class StyleRule(msgspec.Struct, frozen=True):
    """One `selector { property: value; ... }` rule, with its 1-based position."""

    selector: Selector
    declarations: tuple[tuple[str, str], ...]
    line: int = 0
    column: int = 0


class Stylesheet(msgspec.Struct, frozen=True):
    """A parsed stylesheet: its rules in source order."""

    rules: tuple[StyleRule, ...] = ()

    def resolve(self, node: Node) -> dict[str, str]:
        """The property values the stylesheet gives `node` (before explicit attributes)."""
        best: dict[str, tuple[tuple[int, int], str]] = {}
        for order, rule in enumerate(self.rules):
            if not rule.selector.matches(node):
                continue
            rank = (rule.selector.specificity, order)
            for prop, value in rule.declarations:
                if prop not in best or rank >= best[prop][0]:
                    best[prop] = (rank, value)
        return {prop: value for prop, (_, value) in best.items()}


class _Reject(Exception):
    def __init__(self, message: str, token: Token, hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.token, self.hint = message, token, hint


class _ToRules(Transformer[Token, Any]):
    def start(self, rules: list[StyleRule]) -> Stylesheet:
        return Stylesheet(tuple(rules))

    def rule(self, c: list[Any]) -> StyleRule:
        selector, brace = c[0], c[1]
        declarations: list[tuple[str, str]] = []
        previous: Any = None
        for item in c[2:-1]:
            if isinstance(item, tuple) and isinstance(previous, tuple):
                raise _Reject("expected ';' between declarations", item[2], "separate with ';'")
            if isinstance(item, tuple):
                declarations.append((item[0], item[1]))
            previous = item
        return StyleRule(selector[0], tuple(declarations), brace.line, brace.column)

    def universal(self, c: list[Token]) -> tuple[Selector, Token]:
        return Selector("universal"), c[0]

    def shape(self, c: list[Token]) -> tuple[Selector, Token]:
        return Selector("shape", c[0].value), c[0]

    def class_(self, c: list[Token]) -> tuple[Selector, Token]:
        return Selector("class", c[1].value), c[0]

    def node_id(self, c: list[Token]) -> tuple[Selector, Token]:
        return Selector("id", c[1].value), c[0]

    def declaration(self, c: list[Token]) -> tuple[str, str, Token]:
        name, value = c[0], c[2]
        if name.value not in STYLESHEET_PROPERTIES:
            raise _Reject(
                f"unknown stylesheet property {name.value!r}",
                name,
                "a stylesheet sets only " + ", ".join(sorted(STYLESHEET_PROPERTIES)),
            )
        text = unescape(value.value[1:-1]) if value.type == "STRING" else value.value
        return name.value, text, name


_TRANSFORMER = _ToRules()


def parse_stylesheet(text: str, *, filename: str = "<stylesheet>") -> Stylesheet:
    """Parse a `model_stylesheet` value.

    Args:
        text: The stylesheet source (an empty or blank string is an empty stylesheet).
        filename: Name used in error messages.

    Raises:
        StylesheetSyntaxError: with line and column inside `text`.
    """
    try:
        sheet = cast(Stylesheet, load_grammar("stylesheet.lark", _TRANSFORMER).parse(text))
    except _Reject as reject:
        raise StylesheetSyntaxError.at(
            reject.message,
            text,
            reject.token.line or 1,
            reject.token.column or 1,
            filename=filename,
            hint=reject.hint,
        ) from None
    except LarkError as error:
        raise translate(
            error, text, filename=filename, error_type=StylesheetSyntaxError, hinter=_hint
        ) from None
    return sheet


def _hint(
    found: str, token_type: str | None, expected: frozenset[str], rest: str, text: str
) -> str | None:
    if "COLON" in expected:
        return "declarations look like llm_model: claude-opus-4-6"
    if token_type == "$END" and "RBRACE" in expected:
        return "a rule is missing its closing '}'"
    if "LBRACE" in expected:
        return "a selector is '*', a shape name, '.class' or '#node_id', followed by '{'"
    if found == '"' and token_type is None:
        return "this string is never closed"
    return None


def apply_stylesheet(graph: Graph) -> Graph:
    """Transform: fill in model properties from `graph.model_stylesheet` (spec §8.5).

    Nodes keep every attribute they already have. A stylesheet that does not parse leaves
    the graph unchanged; the `stylesheet_syntax` lint rule reports it.
    """
    if not graph.model_stylesheet.strip():
        return graph
    try:
        sheet = parse_stylesheet(graph.model_stylesheet)
    except StylesheetSyntaxError:
        return graph
    nodes: dict[str, Node] = {}
    changed = False
    for node_id, node in graph.nodes.items():
        extra = {k: v for k, v in sheet.resolve(node).items() if k not in node.attrs}
        if extra:
            node = msgspec.structs.replace(node, attrs=freeze({**node.attrs, **extra}))
            changed = True
        nodes[node_id] = node
    return graph.with_nodes(nodes) if changed else graph
