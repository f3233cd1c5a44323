"""Agent layer (pure): the v4a patch parser (spec Appendix A), a line-by-line reader.

Rule: every line is classified by its first characters (`*** ` headers, `@@` hunk heads,
`' '`/`'-'`/`'+'` hunk lines), so the reader never backtracks; an unexpected line stops it
with a `PatchSyntaxError` naming the line and the usual fix (ADR 0155: why not lark).
Tolerated because real models write them: CRLF patch text, blank lines around the patch, a
heredoc wrapper (`apply_patch <<'EOF'` … `EOF`), a blank line inside a hunk (an empty context
line), a first hunk without its `@@` line, `@@` without a hint, stacked `@@` lines (a class,
then a method), and a unified-diff range (`@@ -3,7 +3,8 @@ def f():`, whose trailing text is
the hint).
"""

from __future__ import annotations

import re

from attractor.agent.patch._errors import PatchSyntaxError
from attractor.agent.patch._model import (
    AddFile,
    DeleteFile,
    Hunk,
    HunkLine,
    LineKind,
    Operation,
    Patch,
    UpdateFile,
)

BEGIN = "*** Begin Patch"
END = "*** End Patch"
ADD = "*** Add File:"
DELETE = "*** Delete File:"
UPDATE = "*** Update File:"
MOVE = "*** Move to:"
END_OF_FILE = "*** End of File"
UNIFIED_RANGE = re.compile(r"-\d+(?:,\d+)? \+\d+(?:,\d+)? @@(?: (.*))?")
_HEREDOC = re.compile(r"(?:\S+\s+)?<<\s*(['\"]?)(\w+)\1\s*")
_KINDS: dict[str, LineKind] = {" ": "context", "-": "removed", "+": "added"}
_HEADERS = f"'{ADD} PATH', '{DELETE} PATH', '{UPDATE} PATH' or '{END}'"


class _Reader:
    """The patch's lines with their 1-based numbers in the original text."""

    def __init__(self, lines: list[str], first_number: int) -> None:
        self.lines = lines
        self.first = first_number
        self.pos = 0

    def peek(self) -> str | None:
        return self.lines[self.pos] if self.pos < len(self.lines) else None

    def take(self) -> str:
        self.pos += 1
        return self.lines[self.pos - 1]

    def error(self, message: str, hint: str = "", *, back: int = 0) -> PatchSyntaxError:
        index = self.pos - back
        source = self.lines[index] if index < len(self.lines) else ""
        return PatchSyntaxError(self.first + index, message, source, hint)


def parse_patch(text: str) -> Patch:
    """Parse v4a patch text into a `Patch`; raises `PatchSyntaxError` (line number, hint)."""
    reader = _reader(text)
    _begin(reader)
    operations: list[Operation] = []
    while (line := _skip_blank(reader)) is None or line.rstrip() != END:
        if line is None:
            raise reader.error(f"the patch ends without '{END}'", f"end the patch with '{END}'")
        operations.append(_operation(reader))
    reader.take()
    if _skip_blank(reader) is not None:
        raise reader.error(f"text after '{END}'", "send one patch per call, nothing after it")
    return Patch(tuple(operations))


def _reader(text: str) -> _Reader:
    """Lines without CR, surrounding blank lines and a heredoc wrapper removed."""
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    first = 0
    while first < len(lines) and not lines[first].strip():
        first += 1
    last = len(lines)
    while last > first and not lines[last - 1].strip():
        last -= 1
    heredoc = _HEREDOC.fullmatch(lines[first]) if first < last else None
    if heredoc and last - first >= 2 and lines[last - 1].strip() == heredoc.group(2):
        first, last = first + 1, last - 1
    return _Reader(lines[first:last], first + 1)


def _skip_blank(reader: _Reader) -> str | None:
    """The next non-blank line (blank lines between operations are separators)."""
    while (line := reader.peek()) is not None and not line.strip():
        reader.take()
    return line


def _begin(reader: _Reader) -> None:
    line = reader.peek()
    if line is not None and line.rstrip() == BEGIN:
        reader.take()
        return
    unified = line is not None and line.startswith(("--- ", "diff --git", "Index: "))
    hint = (
        "this looks like a unified diff; apply_patch takes the v4a format"
        if unified
        else f"start the patch with '{BEGIN}'"
    )
    raise reader.error(f"expected '{BEGIN}'", hint)


def _operation(reader: _Reader) -> Operation:
    line = reader.take().rstrip()
    for header, parse in ((ADD, _add), (DELETE, _delete), (UPDATE, _update)):
        if line.startswith(header):
            path = line[len(header) :].strip()
            if not path:
                raise reader.error("a file header without a path", f"write '{header} PATH'", back=1)
            return parse(reader, path)
    hint = f"an operation starts with {_HEADERS}"
    if line.startswith(("@@", "+", "-", " ")):
        hint = f"hunk lines belong after a '{UPDATE} PATH' header"
    raise reader.error("expected a file operation", hint, back=1)


def _add(reader: _Reader, path: str) -> AddFile:
    lines: list[str] = []
    while (line := reader.peek()) is not None and not line.startswith("***"):
        if line.startswith("+"):
            lines.append(reader.take()[1:])
        elif not line.strip() and _only_blank_until_header(reader):
            break
        else:
            raise reader.error(
                "a line of an added file must start with '+'",
                "prefix every line of the new file with '+' (an empty line is a lone '+')",
            )
    return AddFile(path, tuple(lines))


def _only_blank_until_header(reader: _Reader) -> bool:
    """Whether only blank lines remain before the next header (trailing separators)."""
    for line in reader.lines[reader.pos :]:
        if line.startswith("***"):
            return True
        if line.strip():
            return False
    return True


def _delete(reader: _Reader, path: str) -> DeleteFile:
    line = _skip_blank(reader)
    if line is not None and not line.startswith("***"):
        raise reader.error("a Delete File takes no lines", f"the next line must be {_HEADERS}")
    return DeleteFile(path)


def _update(reader: _Reader, path: str) -> UpdateFile:
    move_to = None
    if (line := reader.peek()) is not None and line.startswith(MOVE):
        move_to = reader.take()[len(MOVE) :].strip()
        if not move_to:
            raise reader.error("'*** Move to:' without a path", f"write '{MOVE} NEW_PATH'", back=1)
    hunks: list[Hunk] = []
    while (line := reader.peek()) is not None and _in_update(line):
        hunks.append(_hunk(reader, first=not hunks))
    if not hunks and move_to is None:
        raise reader.error(
            f"'{UPDATE} {path}' has no hunk",
            "add an '@@' hunk with context, '-' and '+' lines (or use '*** Move to:')",
        )
    return UpdateFile(path=path, move_to=move_to, hunks=tuple(hunks))


def _in_update(line: str) -> bool:
    """Whether `line` still belongs to the current Update File."""
    return not line.startswith("***") or line.rstrip() == END_OF_FILE


def _hunk(reader: _Reader, *, first: bool) -> Hunk:
    line = reader.peek() or ""
    if not line.startswith("@@") and not (first and (not line or line[0] in _KINDS)):
        raise reader.error("expected an '@@' hunk header", "start each hunk with '@@ CONTEXT'")
    hints: list[str] = []
    while (line := reader.peek() or "").startswith("@@"):
        hints += [hint] if (hint := parse_hint(reader.take())) else []
    lines: list[HunkLine] = []
    while (text := reader.peek()) is not None and not text.startswith(("@@", "***")):
        if text and text[0] not in _KINDS:
            raise reader.error(
                "a hunk line must start with ' ' (context), '-' (removed) or '+' (added)",
                "keep the leading space of every unchanged line",
            )
        reader.take()
        lines.append(HunkLine(_KINDS[text[0]], text[1:]) if text else HunkLine("context", ""))
    if not lines:
        raise reader.error("an empty hunk", "give each '@@' hunk its lines", back=1)
    end_of_file = text is not None and text.rstrip() == END_OF_FILE
    if end_of_file:
        reader.take()
    return Hunk(hints=tuple(hints), lines=tuple(lines), end_of_file=end_of_file)


def parse_hint(line: str) -> str:
    """The anchor of an `@@` line: its text after `@@ `, or a unified range's trailing text."""
    rest = line[2:].removeprefix(" ")
    unified = UNIFIED_RANGE.fullmatch(rest)
    return (unified.group(1) or "") if unified else rest
