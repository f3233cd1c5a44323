"""DOT language layer (pure): loading the `.lark` grammars and translating lark's failures.

Rule: each grammar is compiled once per process (LALR, contextual lexer) from the package
data beside this file; every lark exception is turned into a `DotSyntaxError` subclass here
and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from lark import Lark, Token
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from attractor.dot._errors import DotSyntaxError, describe_terminals

# hinter(found text, token type or None for a bad character, expected names, rest of line, text)
Hinter = Callable[[str, str | None, frozenset[str], str, str], str | None]


@cache
def load_grammar(filename: str, transformer: Any = None, lexer: Any = "contextual") -> Lark:
    """The LALR parser for `filename` (a `.lark` file in this package), built once."""
    return Lark.open_from_package(
        "attractor.dot",
        filename,
        parser="lalr",
        lexer=lexer,
        transformer=transformer,
        maybe_placeholders=False,
        propagate_positions=False,
    )


def describe_token(token: Token) -> str:
    """A token as words: "end of input", "'->'", "name 'plan'", "string \"x\"" …"""
    if token.type == "$END":
        return "end of input"
    text = str(token.value)
    if len(text) > 24:
        text = text[:21] + "..."
    kinds = {"NAME": "name", "STRING": "string", "VALUE": "value", "NUMBER": "number"}
    kind = kinds.get(token.type)
    return f"{kind} {text}" if kind == "string" else f"{kind} {text!r}" if kind else repr(text)


def end_position(text: str) -> tuple[int, int]:
    """(line, column) just after the last character of `text`."""
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


def translate(
    error: LarkError,
    text: str,
    *,
    filename: str,
    error_type: type[DotSyntaxError],
    words: Callable[[frozenset[str]], tuple[str, ...]] = describe_terminals,
    hinter: Hinter | None = None,
) -> DotSyntaxError:
    """Turn a lark failure on `text` into `error_type` with a location, expectation and hint."""
    if isinstance(error, UnexpectedCharacters):
        pos = error.pos_in_stream if error.pos_in_stream is not None else -1
        char = text[pos] if 0 <= pos < len(text) else ""
        expected = frozenset(error.allowed or ())
        message = f"unexpected character {char!r}"
        found, token_type = char, None
        line, column = error.line, error.column
    elif isinstance(error, UnexpectedToken):
        token = error.token
        expected = frozenset(error.expected or ())
        message = f"unexpected {describe_token(token)}"
        found, token_type = str(token.value), token.type
        line, column = _token_position(token, text)
    elif isinstance(error, UnexpectedInput):  # UnexpectedEOF and anything lark adds later
        expected = frozenset(getattr(error, "expected", None) or ())
        message, found, token_type = "unexpected end of input", "", "$END"
        line, column = end_position(text)
    else:
        line, column = end_position(text)
        return error_type.at(f"cannot parse: {error}", text, line, column, filename=filename)
    rest = _rest_of(text, line, column)
    hint = hinter(found, token_type, expected, rest, text) if hinter else None
    return error_type.at(
        message, text, line, column, filename=filename, expected=words(expected), hint=hint
    )


def _token_position(token: Token, text: str) -> tuple[int, int]:
    if token.type == "$END" or not token.line:
        return end_position(text)
    return int(token.line), int(token.column or 1)


def _rest_of(text: str, line: int, column: int) -> str:
    """The text from (line, column) to the end of that line (used by hinters)."""
    lines = text.splitlines()
    return lines[line - 1][column - 1 :] if 1 <= line <= len(lines) else ""


def without(names: Iterable[str], drop: Iterable[str]) -> frozenset[str]:
    """`names` minus `drop`."""
    return frozenset(names) - frozenset(drop)
