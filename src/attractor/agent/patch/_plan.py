"""Agent layer (pure): plan a patch against file contents, all or nothing.

Rule: `plan_patch` reads through a callable and returns every write the patch needs, or raises
`PatchApplyError` before anything is written, so a patch is applied whole or not at all. The
operations of one patch see each other's results (delete then add the same path works). Line
endings are the file's: unchanged and context lines keep theirs, new lines take the file's
dominant ending, and a file without a final newline still has none afterwards.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from typing import assert_never

from attractor.agent.patch._errors import PatchApplyError
from attractor.agent.patch._hunks import apply_hunks
from attractor.agent.patch._model import (
    AddFile,
    AppliedFile,
    DeleteFile,
    FileChange,
    Operation,
    Patch,
    UpdateFile,
)

Read = Callable[[str], str | None]
_DRIVE = re.compile(r"[A-Za-z]:[\\/]")
_RELATIVE = "paths in a patch are relative to the working directory"


def plan_patch(patch: Patch, read: Read, *, allow_outside: bool = False) -> tuple[FileChange, ...]:
    """The writes that apply `patch` to the files `read` returns (None: no such file)."""
    planned = plan_with_summary(patch, read, allow_outside=allow_outside)
    return tuple(change for change, _ in planned)


def plan_with_summary(
    patch: Patch, read: Read, *, allow_outside: bool = False
) -> tuple[tuple[FileChange, AppliedFile], ...]:
    """`plan_patch`, each change paired with what it does to its file (for the summary)."""
    files = _Overlay(read)
    return tuple(_plan(op, files, allow_outside) for op in patch.operations)


def patch_paths(patch: Patch, *, allow_outside: bool = False) -> tuple[str, ...]:
    """Every path `patch` reads or writes, normalised and checked, in order, once each."""
    raw = [op.path for op in patch.operations]
    raw += [op.move_to for op in patch.operations if isinstance(op, UpdateFile) and op.move_to]
    return tuple(dict.fromkeys(check_path(path, allow_outside=allow_outside) for path in raw))


def check_path(path: str, *, allow_outside: bool = False) -> str:
    """`path` normalised; absolute paths and `..` escaping the root fail unless allowed."""
    if "\0" in path:
        raise PatchApplyError(path, "a path with a NUL character")
    absolute = path.startswith(("/", "\\")) or _DRIVE.match(path) is not None
    normal = posixpath.normpath(path)
    if absolute and not allow_outside:
        raise PatchApplyError(path, "an absolute path", hint=_RELATIVE)
    if (normal == ".." or normal.startswith("../")) and not allow_outside:
        raise PatchApplyError(path, "the path leaves the working directory", hint=_RELATIVE)
    if normal in (".", "/"):
        raise PatchApplyError(path, "not a file path", hint="name the file to change")
    return normal


class _Overlay:
    """The files as the operations planned so far left them."""

    def __init__(self, read: Read) -> None:
        self._read = read
        self._planned: dict[str, str | None] = {}

    def get(self, path: str) -> str | None:
        return self._planned[path] if path in self._planned else self._read(path)

    def set(self, path: str, content: str | None) -> None:
        self._planned[path] = content


def _plan(op: Operation, files: _Overlay, allow_outside: bool) -> tuple[FileChange, AppliedFile]:
    path = check_path(op.path, allow_outside=allow_outside)
    match op:
        case AddFile():
            return _add(op, path, files)
        case DeleteFile():
            return _delete(path, files)
        case UpdateFile():
            return _update(op, path, files, allow_outside)
        case _:
            assert_never(op)


def _add(op: AddFile, path: str, files: _Overlay) -> tuple[FileChange, AppliedFile]:
    if files.get(path) is not None:
        raise PatchApplyError(
            path,
            "cannot add a file that already exists",
            hint="use '*** Update File:' to change it (or delete it first to replace it whole)",
        )
    content = "".join(f"{line}\n" for line in op.lines)
    files.set(path, content)
    return FileChange(path, None, content), AppliedFile(op="A", path=path, added=len(op.lines))


def _delete(path: str, files: _Overlay) -> tuple[FileChange, AppliedFile]:
    old = _existing(path, files, "delete")
    files.set(path, None)
    return FileChange(path, None, None), AppliedFile(op="D", path=path, removed=_count(old))


def _update(
    op: UpdateFile, path: str, files: _Overlay, allow_outside: bool
) -> tuple[FileChange, AppliedFile]:
    content = apply_hunks(path, _existing(path, files, "update"), op.hunks)
    added = sum(line.kind == "added" for hunk in op.hunks for line in hunk.lines)
    removed = sum(line.kind == "removed" for hunk in op.hunks for line in hunk.lines)
    target = path if op.move_to is None else check_path(op.move_to, allow_outside=allow_outside)
    if target != path and files.get(target) is not None:
        raise PatchApplyError(
            path, f"cannot move to {target}: it already exists", hint="delete it first"
        )
    files.set(path, None)
    files.set(target, content)
    if target == path:
        return FileChange(path, None, content), AppliedFile(
            op="M", path=path, added=added, removed=removed
        )
    summary = AppliedFile(op="R", path=path, new_path=target, added=added, removed=removed)
    return FileChange(path, target, content), summary


def _existing(path: str, files: _Overlay, verb: str) -> str:
    old = files.get(path)
    if old is None:
        hint = "use '*** Add File:' to create it" if verb == "update" else "check the path"
        raise PatchApplyError(path, f"cannot {verb} a file that does not exist", hint=hint)
    return old


def _count(text: str) -> int:
    return text.count("\n") + (1 if text and not text.endswith("\n") else 0)
