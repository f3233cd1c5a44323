"""DOT language layer (pure): edge condition expressions (spec §10) — compile once, evaluate.

Rule: `compile_condition` turns text into an immutable `Condition` (cached per text);
`Condition.evaluate` is a pure function of the outcome status, the preferred label and a
read-only view of the context. Missing context keys resolve to "".
"""

from __future__ import annotations

import enum
import string
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Literal, cast

import msgspec
from lark import Token, Transformer
from lark.exceptions import LarkError

from attractor.dot._errors import ConditionSyntaxError, describe_terminals
from attractor.dot._grammar import load_grammar, translate
from attractor.dot._values import escape, unescape

Operator = Literal["=", "!=", "truthy"]
_BARE_LITERAL_CHARS = frozenset(string.ascii_letters + string.digits + "_.:-")


class Clause(msgspec.Struct, frozen=True):
    """`key op literal`, or a bare `key` tested for truthiness (op "truthy", literal "")."""

    key: str
    op: Operator
    literal: str = ""

    def evaluate(self, outcome: Any, preferred_label: str, context: Mapping[str, Any]) -> bool:
        """Whether this clause holds."""
        value = resolve_key(self.key, outcome, preferred_label, context)
        if self.op == "=":
            return value == self.literal
        if self.op == "!=":
            return value != self.literal
        return value != ""

    def __str__(self) -> str:
        if self.op == "truthy":
            return self.key
        literal = self.literal
        bare = literal and all(ch in _BARE_LITERAL_CHARS for ch in literal)
        return f"{self.key}{self.op}{literal if bare else chr(34) + escape(literal) + chr(34)}"


class Condition(msgspec.Struct, frozen=True):
    """A compiled condition: clauses AND-ed left to right. No clauses means always true."""

    clauses: tuple[Clause, ...] = ()

    def evaluate(
        self, outcome: Any, preferred_label: str = "", context: Mapping[str, Any] | None = None
    ) -> bool:
        """Evaluate against a node's outcome.

        Args:
            outcome: The outcome status: `success`, `fail`, `retry`, `partial_success`, …
                (a string, or an enum whose value is that string).
            preferred_label: The outcome's preferred label ("" when none).
            context: The run context; keys may be given with or without `context.`.

        Returns:
            True when every clause holds (an empty condition is always true).
        """
        ctx = context if context is not None else {}
        return all(c.evaluate(outcome, preferred_label, ctx) for c in self.clauses)

    def __str__(self) -> str:
        return " && ".join(str(c) for c in self.clauses)


def stringify(value: Any) -> str:
    """How a value compares: None as "", booleans as true/false, enums by value, else str()."""
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def resolve_key(key: str, outcome: str, preferred_label: str, context: Mapping[str, Any]) -> str:
    """Spec §10.4: the string a key stands for ("" for a missing context key)."""
    if key == "outcome":
        return stringify(outcome)
    if key == "preferred_label":
        return stringify(preferred_label)
    value = context.get(key)
    if value is None and key.startswith("context."):
        value = context.get(key[len("context.") :])
    return stringify(value)


class _ToCondition(Transformer[Token, Any]):
    def start(self, c: list[Any]) -> Condition:
        return Condition(tuple(x for x in c if isinstance(x, Clause)))

    def compare(self, c: list[Any]) -> Clause:
        op: Operator = "=" if c[1].value == "=" else "!="
        return Clause(c[0].value, op, c[2])

    def truthy(self, c: list[Token]) -> Clause:
        return Clause(c[0].value, "truthy")

    def literal(self, c: list[Token]) -> str:
        token = c[0]
        return unescape(token.value[1:-1]) if token.type == "STRING" else token.value


_TRANSFORMER = _ToCondition()


@lru_cache(maxsize=4096)
def compile_condition(text: str) -> Condition:
    """Compile a condition expression once (results are cached per text).

    Args:
        text: The expression, e.g. `outcome=success && context.tests_passed=true`.
            An empty or blank string compiles to the always-true condition.

    Raises:
        ConditionSyntaxError: with the column inside `text` (line > 1 only if it has newlines).
    """
    if not text.strip():
        return Condition()
    try:
        condition = cast(Condition, load_grammar("condition.lark", _TRANSFORMER).parse(text))
    except LarkError as error:
        raise translate(
            error,
            text,
            filename="<condition>",
            error_type=ConditionSyntaxError,
            words=_words,
            hinter=_hint,
        ) from None
    return condition


def _words(expected: frozenset[str]) -> tuple[str, ...]:
    names = set(expected)
    key = ("a key (outcome, preferred_label or context.<name>)",) if "KEY" in names else ()
    return key + describe_terminals(names - {"KEY"})


def _hint(
    found: str, token_type: str | None, expected: frozenset[str], rest: str, text: str
) -> str | None:
    if found == "=" or (found == "==" and token_type is None):
        return "compare with a single '=' (or '!=')"
    if found in {"|", "||"} or rest.startswith("||"):
        return "only '&&' is supported; write alternatives as separate edges"
    if found in {">", "<", "!"} or rest[:2] in {">=", "<="}:
        return "only '=' and '!=' are supported (spec §10.7)"
    if token_type == "$END" and {"STRING", "BARE"} & expected:
        return 'a value is missing after the operator; compare with "" for empty'
    if token_type == "$END" and "KEY" in expected:
        return "a clause is missing after '&&'"
    if token_type == "KEY" and {"AND", "OP"} & expected:
        return "quote values that contain spaces, or join clauses with '&&'"
    if token_type == "BARE" and "AND" in expected:
        return "quote values that contain spaces, or join clauses with '&&'"
    return None
