"""DOT language layer (pure): `format_source` — reformat a pipeline file, keeping its structure.

Rule: the output means exactly what the input meant (`parse_dot` gives equal graphs) and
keeps what the author wrote — statement order, default blocks, subgraphs, chains and
comments — while normalising layout: 4-space indentation, one statement per line, commas
between attributes, no semicolons, values quoted only where Graphviz needs it, at most one
blank line where the author left one. Comments are kept in place: a comment on the line a
statement starts stays at the end of that statement's first line; any other comment goes on
its own line before the next statement (or before the closing brace).
"""

from __future__ import annotations

from typing import Any

from lark import Token

from attractor.dot._format import INDENT, format_attrs, format_key
from attractor.dot._lexer import scan_comments
from attractor.dot._parse import parse_statements, syntax_errors
from attractor.dot._values import format_value

Comment = tuple[int, int, str]


class _Printer:
    """Emits statements and interleaves the comments that precede or trail them."""

    def __init__(self, text: str, comments: list[Comment]) -> None:
        self.source_lines = text.splitlines()
        self.comments = comments
        self.out: list[str] = []

    def _blank_before(self, line: int) -> bool:
        return 2 <= line <= len(self.source_lines) + 1 and not self.source_lines[line - 2].strip()

    def comments_before(self, line: int, column: int, indent: str, first: bool) -> bool:
        """Emit comments positioned before (line, column); returns whether any was emitted."""
        emitted = False
        while self.comments and self.comments[0][:2] < (line, column):
            c_line, _, body = self.comments.pop(0)
            if self._blank_before(c_line) and not (first and not emitted) and self.out:
                self.out.append("")
            self.out.append(indent + body)
            emitted = True
        return emitted

    def trailing(self, line: int, next_line: int | None) -> str:
        """A comment starting later on `line` (and before the next statement), if any."""
        if self.comments and self.comments[0][0] == line and next_line != line:
            return " " + self.comments.pop(0)[2]
        return ""

    def block(self, body: list[Any], depth: int, end: Token) -> None:
        indent = INDENT * depth
        for index, stmt in enumerate(body):
            line, column = _start(stmt)
            had_comment = self.comments_before(line, column, indent, first=index == 0)
            if index and not had_comment and self._blank_before(line):
                self.out.append("")
            nxt = _start(body[index + 1])[0] if index + 1 < len(body) else None
            self.statement(stmt, depth, nxt)
        self.comments_before(end.line or 0, end.column or 0, indent, first=not body)

    def statement(self, stmt: Any, depth: int, next_line: int | None) -> None:
        indent = INDENT * depth
        line = _start(stmt)[0]
        if stmt[0] == "subgraph":
            name = f"{stmt[3]} " if stmt[3] else ""
            self.out.append(f"{indent}subgraph {name}{{{self.trailing(line, None)}")
            self.block(stmt[2], depth + 1, stmt[4])
            self.out.append(f"{indent}}}")
            return
        text = indent + _render(stmt, indent)
        first, _, rest = text.partition("\n")
        self.out.append(first + self.trailing(line, next_line) + ("\n" + rest if rest else ""))


def _start(stmt: Any) -> tuple[int, int]:
    anchor = stmt[1][0] if stmt[0] == "edge_stmt" else stmt[1]
    if isinstance(anchor, Token):
        return anchor.line or 0, anchor.column or 0
    return anchor[1], anchor[2]  # a key: (text, line, column)


def _attrs(block: Any) -> dict[str, str]:
    return {key: value for key, value, _ in block[0]}


def _render(stmt: Any, indent: str) -> str:
    kind: str = stmt[0]
    if kind in ("graph", "node", "edge"):
        return kind + (format_attrs(_attrs(stmt[2]), indent) or " []")
    if kind == "decl":
        return f"{format_key(stmt[1][0])}={format_value(stmt[2][0])}"
    if kind == "node_stmt":
        return str(stmt[1].value) + format_attrs(_attrs(stmt[2]), indent)
    ends = " -> ".join(t.value for t in stmt[1])
    return ends + format_attrs(_attrs(stmt[2]), indent)


def format_source(text: str, *, filename: str = "<string>") -> str:
    """Reformat a pipeline file, keeping statements, defaults, subgraphs and comments.

    Raises:
        DotSyntaxError: if `text` does not parse.
    """
    text = text.removeprefix("\ufeff")
    with syntax_errors(text, filename):
        kind, name, body, end = parse_statements(text)
    printer = _Printer(text, scan_comments(text))
    printer.comments_before(kind.line or 0, kind.column or 0, "", first=True)
    header = f"digraph {name} {{" if name else "digraph {"
    printer.out.append(header + printer.trailing(kind.line or 0, None))
    printer.block(body, 1, end)
    printer.out.append("}" + printer.trailing(end.line or 0, None))
    for _, _, body_text in printer.comments:  # after the closing brace
        printer.out.append(body_text)
    return "\n".join(printer.out) + "\n"
