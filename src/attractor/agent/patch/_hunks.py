"""Agent layer (pure): apply an Update File's hunks to one file's text.

Rule: every hunk is located in the original lines first (each search starting where the
previous hunk ended), then all replacements are made at once, so a hunk that does not match
fails the whole file with the hunk's number and first lines. Context lines keep the file's
own text (a fuzzy match never rewrites them); removed lines go; added lines come in.
"""

from __future__ import annotations

from collections.abc import Sequence

from attractor.agent.patch._errors import PatchApplyError
from attractor.agent.patch._match import FileView, closest, seek, seek_line
from attractor.agent.patch._model import Hunk, HunkLine

_EMPTY_CONTEXT = HunkLine("context", "")
_SHOWN = 3  # hunk lines quoted in an error


class _Lines:
    """A file as line contents and each line's own ending ("\\r\\n", "\\n" or "" at the end)."""

    def __init__(self, text: str) -> None:
        parts = text.split("\n")
        last = parts.pop()
        self.contents = [part.removesuffix("\r") for part in parts]
        self.endings = ["\r\n" if part.endswith("\r") else "\n" for part in parts]
        if last:
            self.contents.append(last)
            self.endings.append("")
        crlf = self.endings.count("\r\n")
        self.eol = "\r\n" if crlf > len(parts) - crlf else "\n"
        self.final_newline = not last


def apply_hunks(path: str, text: str, hunks: Sequence[Hunk]) -> str:
    """`text` with `hunks` applied; raises `PatchApplyError` naming the hunk that fails."""
    file = _Lines(text)
    view = FileView(file.contents)
    out: list[tuple[str, str | None]] = []
    cursor = 0
    for number, hunk in enumerate(hunks, 1):
        start, lines = _locate(path, view, hunk, cursor, (number, len(hunks)))
        out += zip(file.contents[cursor:start], file.endings[cursor:start], strict=True)
        cursor = start
        for line in lines:
            if line.kind == "added":
                out.append((line.text, None))
                continue
            if line.kind == "context":
                out.append((file.contents[cursor], file.endings[cursor]))
            cursor += 1
    out += zip(file.contents[cursor:], file.endings[cursor:], strict=True)
    return _join(out, file)


def _join(lines: list[tuple[str, str | None]], file: _Lines) -> str:
    """The lines with their endings; only the last line may lack one, and only if it did."""
    parts = [content + (ending or file.eol) for content, ending in lines]
    if lines and not file.final_newline:
        parts[-1] = lines[-1][0]
    return "".join(parts)


def _locate(
    path: str, view: FileView, hunk: Hunk, cursor: int, number: tuple[int, int]
) -> tuple[int, list[HunkLine]]:
    """Where the hunk starts and the lines it applies (trailing empty context may be dropped)."""
    anchor, missing = _anchor(view, hunk.hints, cursor)
    start = cursor if anchor is None else anchor
    lines = list(hunk.lines)
    while True:
        old = [line.text for line in lines if line.kind != "added"]
        if old:
            found = seek(view, old, start, at_end=hunk.end_of_file)
        else:
            found = _insertion_point(view, hunk, anchor)
        if found is not None:
            return found, lines
        if not lines or lines[-1] != _EMPTY_CONTEXT:
            raise _mismatch(path, view, hunk, start, number, missing=missing)
        lines.pop()


def _anchor(view: FileView, hints: Sequence[str], cursor: int) -> tuple[int | None, list[str]]:
    """The line of the last hint found (each searched after the previous), and those missing.

    A hint that is no line of the file is skipped: models also write descriptive ones.
    """
    anchor: int | None = None
    missing = []
    for hint in hints:
        found = seek_line(view, hint, cursor if anchor is None else anchor + 1)
        if found is None:
            missing.append(hint)
        else:
            anchor = found
    return anchor, missing


def _insertion_point(view: FileView, hunk: Hunk, anchor: int | None) -> int | None:
    """A hunk of added lines only goes after its anchor line, or at the end of the file."""
    if hunk.hints and not hunk.end_of_file:
        return None if anchor is None else anchor + 1
    return len(view.lines)


def _mismatch(
    path: str,
    view: FileView,
    hunk: Hunk,
    start: int,
    number: tuple[int, int],
    *,
    missing: list[str],
) -> PatchApplyError:
    """The error for a hunk found nowhere: its first lines and the closest place in the file."""
    where = f" after line {start}" if start else ""
    where += " at its end" if hunk.end_of_file else ""
    quoted = [f"@@ {hint}" for hint in hunk.hints] or ["@@"]
    quoted += [_quote(line) for line in hunk.lines[:_SHOWN]]
    if len(hunk.lines) > _SHOWN:
        more = len(hunk.lines) - _SHOWN
        quoted.append(f"... ({more} more line{'s' if more > 1 else ''})")
    message = f"hunk {number[0]} of {number[1]} does not match the file{where}:\n" + "\n".join(
        f"    {line}" for line in quoted
    )
    details = [_closest(view, hunk, start)]
    details += [f"its '@@ {hint}' line is not in the file either" for hint in missing]
    hint = "; ".join(details) + f"; re-read {path} and resend the hunk with its current lines"
    return PatchApplyError(path, message, hunk=number[0], hint=hint)


def _quote(line: HunkLine) -> str:
    return {"context": " ", "removed": "-", "added": "+"}[line.kind] + line.text


def _closest(view: FileView, hunk: Hunk, start: int) -> str:
    old = hunk.old_lines
    best = closest(view, old, start)
    if best is None:
        if not old:
            return "its place is not found"
        return f"its first line {old[0]!r} is not in the file after line {start}"
    at, count = best
    if count == len(old):
        return f"it matches at line {at + 1}, which is not the end ('*** End of File')"
    if at + count >= len(view.lines):
        return f"lines {at + 1}-{at + count} match its first {count} lines, then the file ends"
    return (
        f"the closest place is line {at + 1}: {count} of its {len(old)} lines match, then the "
        f"file has {view.lines[at + count]!r} where the hunk expects {old[count]!r}"
    )
