"""Agent layer (pure): find where a hunk's lines are in a file, tolerating what models get wrong.

Rule: stricter first. Each search tries, in order, exact lines, then lines compared without
trailing whitespace, then without leading and trailing whitespace, then with Unicode
punctuation folded to ASCII (dashes, quotes, non-breaking and other spaces); the first level
that matches anywhere forward of the start wins, so a fuzzy match never beats an exact one
further down. Searches only move forward: hunks apply in order and never overlap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

# Characters models substitute for ASCII ones (typographic dashes, quotes and spaces).
_FOLD = str.maketrans(
    {
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\uff07", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\uff02", '"'),
        **dict.fromkeys("\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a", " "),
        **dict.fromkeys("\u202f\u205f\u3000", " "),
        "\u2026": "...",
    }
)


def _fold(line: str) -> str:
    return line.translate(_FOLD).strip()


LEVELS: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("exact", lambda line: line),
    ("trailing whitespace ignored", str.rstrip),
    ("surrounding whitespace ignored", str.strip),
    ("unicode punctuation folded", _fold),
)


class FileView:
    """A file's lines with each tolerance level's normalised copy, computed once when needed."""

    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = lines
        self._levels: dict[int, list[str]] = {}

    def level(self, index: int) -> list[str]:
        if index not in self._levels:
            norm = LEVELS[index][1]
            self._levels[index] = [norm(line) for line in self.lines]
        return self._levels[index]


def seek(view: FileView, pattern: Sequence[str], start: int, *, at_end: bool) -> int | None:
    """Index ≥ `start` where `pattern` occurs in the file (only at the very end if `at_end`)."""
    size = len(pattern)
    last = len(view.lines) - size
    if last < start:
        return None
    if not size:
        return last if at_end else start
    candidates = range(last, last + 1) if at_end else range(start, last + 1)
    for index, (_name, norm) in enumerate(LEVELS):
        lines, wanted = view.level(index), [norm(line) for line in pattern]
        for i in candidates:
            if lines[i] == wanted[0] and lines[i : i + size] == wanted:
                return i
    return None


def seek_line(view: FileView, target: str, start: int) -> int | None:
    """Index ≥ `start` of the first line equal to `target` at the strictest level that has one."""
    for index, (_name, norm) in enumerate(LEVELS):
        lines, wanted = view.level(index), norm(target)
        for i in range(start, len(lines)):
            if lines[i] == wanted:
                return i
    return None


def closest(view: FileView, pattern: Sequence[str], start: int) -> tuple[int, int] | None:
    """(index, count): where the longest run of `pattern`'s first lines matches, most lenient."""
    lines, wanted = view.level(len(LEVELS) - 1), [_fold(line) for line in pattern]
    best: tuple[int, int] | None = None
    for i in range(start, len(lines)):
        count = 0
        while count < len(wanted) and i + count < len(lines) and lines[i + count] == wanted[count]:
            count += 1
        if count and (best is None or count > best[1]):
            best = (i, count)
    return best
