"""DOT language layer (pure): a hand-tuned lexer for `dot.lark`, plugged into lark's LALR parser.

Rule: it produces exactly the terminals `dot.lark` declares, with the context rule of lark's
contextual lexer — right after '=' a value is lexed (VALUE, STRING or '<'); elsewhere names,
numbers, strings and punctuation. One deliberate difference: outside '[...]' the keywords
(`node`, `edge`, `graph`, …) are always keywords, as in Graphviz, so they can never become
node IDs (which `format_dot` could not print back). It exists for speed: one master regex
per mode and incremental line counting lex a 270 KB pipeline several times faster than the
generic lexer (bench/).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lark import Token
from lark.exceptions import UnexpectedCharacters
from lark.lexer import Lexer

_SKIP = r"(?P<WS>[ \t\f\r\n]+)|(?P<COMMENT>//[^\n]*|/\*[\s\S]*?\*/)"
_STRING = r'(?P<STRING>"(?:[^"\\]|\\[\s\S])*")'
_NORMAL = re.compile(
    "|".join(
        [
            _SKIP,
            _STRING,
            r"(?P<ARROW>->)",
            r"(?P<UNDIRECTED>--)",
            r"(?P<NUMBER>-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))",
            r"(?P<NAME>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)",
            r"(?P<PUNCT>[{}\[\]=,;:+<])",
        ]
    )
)
_VALUE = re.compile(
    "|".join(
        [
            _SKIP,
            _STRING,
            r"(?P<VALUE>[A-Za-z0-9_.\-][A-Za-z0-9_.:\-]*)",
            r"(?P<HTML_OPEN><)",
        ]
    )
)
_PUNCT = {
    "{": "LBRACE",
    "}": "RBRACE",
    "[": "LSQB",
    "]": "RSQB",
    "=": "EQUAL",
    ",": "COMMA",
    ";": "SEMI",
    ":": "COLON",
    "+": "PLUS",
    "<": "HTML_OPEN",
}
_KEYWORDS = {
    "strict": "STRICT",
    "digraph": "DIGRAPH",
    "graph": "GRAPH",
    "node": "NODE",
    "edge": "EDGE",
    "subgraph": "SUBGRAPH",
}
_MULTILINE = frozenset({"WS", "COMMENT", "STRING"})
# lark's Token() checks for deprecated keyword arguments on every call; its positional
# constructor behind that check is ~2x cheaper. Fall back to Token if lark renames it.
_new_token = getattr(Token, "_future_new", Token)


class DotLexer(Lexer):
    """Context-aware DOT lexer (see module docstring). Stateless between calls."""

    def __init__(self, lexer_conf: Any) -> None:
        self.lexer_conf = lexer_conf

    def lex(self, data: Any) -> Iterator[Token]:  # type: ignore[override]
        """Yield the tokens of `data`; raise lark's UnexpectedCharacters on a stray character."""
        text: str = data
        pos, line, line_start, depth = 0, 1, 0, 0
        value_next = False
        end = len(text)
        while pos < end:
            match = (_VALUE if value_next else _NORMAL).match(text, pos)
            if match is None:
                allowed = {"STRING", "VALUE"} if value_next else None
                column = pos - line_start + 1
                raise UnexpectedCharacters(text, pos, line, column, allowed=allowed)  # type: ignore[no-untyped-call]
            kind = match.lastgroup or ""
            value = match.group()
            column = pos - line_start + 1
            if kind in _MULTILINE and "\n" in value:
                line_start = text.rfind("\n", pos, match.end()) + 1
                token_line = line
                line += value.count("\n")
            else:
                token_line = line
            pos = match.end()
            if kind in ("WS", "COMMENT"):
                continue
            if kind == "PUNCT":
                kind = _PUNCT[value]
                depth += kind == "LSQB"
                depth -= kind == "RSQB"
            elif kind == "NAME" and depth <= 0 and value in _KEYWORDS:
                kind = _KEYWORDS[value]
            value_next = kind == "EQUAL"
            yield _new_token(kind, value, match.start(), token_line, column)


_COMMENT_SCAN = re.compile(
    r'(?P<STRING>"(?:[^"\\]|\\[\s\S])*")|(?P<COMMENT>//[^\n]*|/\*[\s\S]*?\*/)|[^"/]+|[\s\S]'
)


def scan_comments(text: str) -> list[tuple[int, int, str]]:
    """Every comment in `text` (not inside strings) as (line, column, text), in order."""
    found = []
    line, counted_to = 1, 0
    for match in _COMMENT_SCAN.finditer(text):
        if match.lastgroup == "COMMENT":
            start = match.start()
            line += text.count("\n", counted_to, start)
            counted_to = start
            column = start - (text.rfind("\n", 0, start) + 1) + 1
            found.append((line, column, match.group()))
    return found
