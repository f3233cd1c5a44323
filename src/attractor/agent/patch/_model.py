"""Agent layer (pure): the typed v4a patch (spec Appendix A) and the changes a plan makes.

Rule: a patch is data. Parsing, printing and planning are functions of these values; only the
applier (`_apply`) reads or writes files.
"""

from __future__ import annotations

from typing import Literal

import msgspec

LineKind = Literal["context", "removed", "added"]


class HunkLine(msgspec.Struct, frozen=True):
    """One line of a hunk: `' '` context (unchanged), `'-'` removed or `'+'` added."""

    kind: LineKind
    text: str


class Hunk(msgspec.Struct, frozen=True, kw_only=True):
    """One `@@` block of an Update File (several stacked `@@ hint` lines narrow its place).

    Attributes:
        hints: The texts after `@@ ` (lines above the change, e.g. a class then a method
            signature): each anchors the search after the previous; () when the hunk has none.
        lines: Context, removed and added lines in patch order.
        end_of_file: True when `*** End of File` follows: the hunk matches at the end.
    """

    hints: tuple[str, ...] = ()
    lines: tuple[HunkLine, ...]
    end_of_file: bool = False

    @property
    def old_lines(self) -> tuple[str, ...]:
        """The lines the file must have here (context and removed)."""
        return tuple(line.text for line in self.lines if line.kind != "added")

    @property
    def new_lines(self) -> tuple[str, ...]:
        """The lines the file has here afterwards (context and added)."""
        return tuple(line.text for line in self.lines if line.kind != "removed")


class AddFile(msgspec.Struct, frozen=True, tag="add"):
    """`*** Add File: path`: a new file made of `lines` (each ends with a newline)."""

    path: str
    lines: tuple[str, ...] = ()


class DeleteFile(msgspec.Struct, frozen=True, tag="delete"):
    """`*** Delete File: path`."""

    path: str


class UpdateFile(msgspec.Struct, frozen=True, tag="update", kw_only=True):
    """`*** Update File: path`, optionally `*** Move to: move_to`, then its hunks."""

    path: str
    move_to: str | None = None
    hunks: tuple[Hunk, ...] = ()


Operation = AddFile | DeleteFile | UpdateFile


class Patch(msgspec.Struct, frozen=True):
    """A whole `*** Begin Patch` … `*** End Patch` block: its operations in order."""

    operations: tuple[Operation, ...] = ()


class FileChange(msgspec.Struct, frozen=True):
    """One write the applier makes: `content` None deletes `path`; `new_path` moves it."""

    path: str
    new_path: str | None
    content: str | None


class AppliedFile(msgspec.Struct, frozen=True, kw_only=True):
    """What a patch did to one file, as `A`dded, `M`odified, `D`eleted or `R`enamed."""

    op: Literal["A", "M", "D", "R"]
    path: str
    new_path: str | None = None
    added: int = 0
    removed: int = 0

    def line(self) -> str:
        """`M src/app.py (+2 -1)`, `R old.py -> new.py (+0 -0)`."""
        target = f"{self.path} -> {self.new_path}" if self.new_path else self.path
        return f"{self.op} {target} (+{self.added} -{self.removed})"


class AppliedPatch(msgspec.Struct, frozen=True):
    """The files a patch changed, in patch order."""

    files: tuple[AppliedFile, ...] = ()

    def summary(self) -> str:
        """One `A|M|D|R path (+added -removed)` line per file (what the model sees)."""
        return "\n".join(f.line() for f in self.files)
