"""Agent layer (pure): print a `Patch` as v4a text, the inverse of `parse_patch`.

Rule: `parse_patch(format_patch(p)) == p` for every patch whose paths and lines are single
lines (hypothesis checks it). The output is canonical: every hunk gets its `@@` line, every
context line its leading space.
"""

from __future__ import annotations

from typing import assert_never

from attractor.agent.patch._model import AddFile, DeleteFile, Hunk, Operation, Patch, UpdateFile
from attractor.agent.patch._parse import (
    ADD,
    BEGIN,
    DELETE,
    END,
    END_OF_FILE,
    MOVE,
    UPDATE,
    parse_hint,
)

_PREFIX = {"context": " ", "removed": "-", "added": "+"}


def format_patch(patch: Patch) -> str:
    """The v4a text of `patch`, ending with a newline."""
    lines = [BEGIN]
    for operation in patch.operations:
        lines += _operation(operation)
    lines.append(END)
    return "\n".join(lines) + "\n"


def _operation(operation: Operation) -> list[str]:
    match operation:
        case AddFile(path=path, lines=added):
            return [f"{ADD} {path}", *(f"+{line}" for line in added)]
        case DeleteFile(path=path):
            return [f"{DELETE} {path}"]
        case UpdateFile(path=path, move_to=move_to, hunks=hunks):
            head = [f"{UPDATE} {path}"] + ([f"{MOVE} {move_to}"] if move_to is not None else [])
            return head + [line for hunk in hunks for line in _hunk(hunk)]
        case _:
            assert_never(operation)


def _hunk(hunk: Hunk) -> list[str]:
    lines = [_head(hint) for hint in hunk.hints] or ["@@"]
    lines += [_PREFIX[line.kind] + line.text for line in hunk.lines]
    return lines + ([END_OF_FILE] if hunk.end_of_file else [])


def _head(hint: str) -> str:
    """`@@ hint`; a hint the parser would read differently is wrapped in a unified range."""
    if parse_hint(f"@@ {hint}") != hint:
        return f"@@ -1 +1 @@ {hint}"
    return f"@@ {hint}"
