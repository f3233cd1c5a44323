"""DOT language layer (pure): the typed errors every parser in `attractor.dot` raises.

Rule: no lark exception ever crosses the package boundary. Each grammar's failures are
translated here into a `DotSyntaxError` that says *where* (file, line, column, the source
line with a caret), *what was expected in words*, and, when the mistake is a common one,
a hint.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

# Lark terminal names -> words a person understands. Names not listed fall back to their
# literal pattern (for anonymous tokens) or to the lowercased name.
_TERMINAL_WORDS: dict[str, str] = {
    "NAME": "a name",
    "KEY": "an attribute name",
    "STRING": "a quoted string",
    "VALUE": "a value",
    "BARE": "a bare value",
    "NUMBER": "a number",
    "LSQB": "'['",
    "RSQB": "']'",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LPAR": "'('",
    "RPAR": "')'",
    "EQUAL": "'='",
    "NOT_EQUAL": "'!='",
    "OP": "'=' or '!='",
    "COMMA": "','",
    "SEMICOLON": "';'",
    "SEMI": "';'",
    "COLON": "':'",
    "PLUS": "'+'",
    "STAR": "'*'",
    "HASH": "'#'",
    "DOT": "'.'",
    "ARROW": "'->'",
    "UNDIRECTED": "'--'",
    "AND": "'&&'",
    "DIGRAPH": "'digraph'",
    "GRAPH": "'graph'",
    "NODE": "'node'",
    "EDGE": "'edge'",
    "SUBGRAPH": "'subgraph'",
    "STRICT": "'strict'",
    "HTML_OPEN": "'<'",
    "CLASSNAME": "a class name",
    "PROPERTY": "a property name",
    "$END": "the end of the input",
}


def describe_terminals(names: Iterable[str]) -> tuple[str, ...]:
    """Turn lark terminal names into sorted, de-duplicated words ("']'", "a name")."""
    words = {_TERMINAL_WORDS.get(name, name.lower()) for name in names}
    return tuple(sorted(words, key=lambda w: (w.startswith("'"), w)))


def join_words(words: Sequence[str]) -> str:
    """Join words as English: "a", "a or b", "a, b or c"."""
    if not words:
        return "nothing"
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


class DotSyntaxError(ValueError):
    """A syntax error in a pipeline file (or in an embedded condition or stylesheet).

    Attributes:
        message: What is wrong, one sentence.
        filename: The file name given to the parser (or "<string>").
        line: 1-based line of the offending text.
        column: 1-based column of the offending text.
        source_line: The text of that line (without its newline), or "" if unknown.
        expected: What the parser would have accepted there, in words.
        hint: A suggestion for the usual fix, or None.
    """

    def __init__(
        self,
        message: str,
        *,
        filename: str = "<string>",
        line: int = 1,
        column: int = 1,
        source_line: str = "",
        expected: Sequence[str] = (),
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.filename = filename
        self.line = line
        self.column = column
        self.source_line = source_line
        self.expected = tuple(expected)
        self.hint = hint
        super().__init__(self.render())

    @classmethod
    def at(
        cls,
        message: str,
        text: str,
        line: int,
        column: int,
        *,
        filename: str = "<string>",
        expected: Sequence[str] = (),
        hint: str | None = None,
    ) -> DotSyntaxError:
        """Build an error located in `text`, filling in the source line."""
        return cls(
            message,
            filename=filename,
            line=line,
            column=column,
            source_line=source_line_of(text, line),
            expected=expected,
            hint=hint,
        )

    def render(self) -> str:
        """The compiler-style multi-line report: location, message, snippet, expectation, hint."""
        lines = [f"{self.filename}:{self.line}:{self.column}: error: {self.message}"]
        lines.extend(caret_snippet(self.source_line, self.line, self.column))
        if self.expected:
            lines.append(f"  expected {join_words(self.expected)}")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


class ConditionSyntaxError(DotSyntaxError):
    """An edge `condition` expression that does not parse (spec §10); located in the expression."""


class StylesheetSyntaxError(DotSyntaxError):
    """A `model_stylesheet` that does not parse (spec §8); located in the stylesheet text."""


def source_line_of(text: str, line: int) -> str:
    """Return line `line` (1-based) of `text` without its line ending, or "" if out of range."""
    lines = text.splitlines()
    return lines[line - 1] if 1 <= line <= len(lines) else ""


def caret_snippet(source_line: str, line: int, column: int) -> list[str]:
    """Render `source_line` with a caret under `column`, gutter-numbered like rustc."""
    if not source_line:
        return []
    gutter = str(line)
    shown = source_line.expandtabs(1)
    caret_col = max(column - 1, 0)
    return [
        f"  {gutter} | {shown}",
        f"  {' ' * len(gutter)} | {' ' * min(caret_col, len(shown))}^",
    ]
