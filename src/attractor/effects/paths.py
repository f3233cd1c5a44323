"""Effects layer (shell): the run directory — paths from a log are data, not trust.

Rules:
- A run's log records absolute paths (its `run_dir`, stage directories, `ATTRACTOR_STAGE_DIR`).
  They are *labels* for "this run's directory", not places: the directory is the one the
  command was given (`RunDir.actual`). A recorded path under a recorded root is rebased onto the
  actual directory before anything touches the disk, so a moved or copied run works in its new
  place, and an edited `run_dir` sends nothing elsewhere. The log keeps the recorded paths, so
  replay stays exact.
- A path that claims the run directory but leaves it (`<root>/../../x`, a symlink planted inside
  pointing out) is a `PathEscapeError`, never a write. So is a directory the run itself must own
  (`RunShell.ensure_dirs`, a projected file) that is not inside it.
- Paths outside every recorded root (the workspace a tool runs in, a file a user named) are
  left as they are.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

import msgspec

from attractor.effects._types import ReadFile, RunShell, WriteFile

_File = TypeVar("_File", ReadFile, WriteFile)


class PathEscapeError(ValueError):
    """A path taken from a log leaves the run directory it must stay in.

    Attributes:
        path: the offending path as recorded.
        root: the run directory.
        what: what the path was for (e.g. "a projected file").
    """

    def __init__(self, path: str, root: str, what: str) -> None:
        self.path, self.root, self.what = path, root, what
        self.hint = (
            "the log names a path outside its run directory: it was edited, or it does not "
            "belong here; nothing was written there"
        )
        super().__init__(f"{what} {path!r} is outside the run directory {root}")


def relative_inside(rel: str, root: str, what: str = "a path") -> str:
    """`rel` normalised as a path inside a directory (a leading `/` dropped); `PathEscapeError`
    when it climbs out. Lexical only: `confine` also resolves symbolic links."""
    norm = posixpath.normpath(rel.lstrip("/") or ".")
    if norm == ".." or norm.startswith("../"):
        raise PathEscapeError(rel, root, what)
    return norm


def confine(root: str | Path, rel: str, what: str = "a path") -> Path:
    """`root/rel`, normalised and checked to stay inside `root` (symlinks resolved).

    A leading `/` in `rel` does not make it absolute: it is still resolved under `root`.
    """
    base = posixpath.normpath(str(root))
    candidate = posixpath.normpath(f"{base}/{rel}")
    if not _within(candidate, base):
        raise PathEscapeError(rel, base, what)
    real_base = os.path.realpath(base)
    if not _within(os.path.realpath(candidate), real_base):
        raise PathEscapeError(rel, base, f"{what} (through a symbolic link)")
    return Path(candidate)


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


class RunDir:
    """The run directory a command was given, and the roots its log recorded for it.

    Args:
        actual: where the run directory is now (made absolute).
        recorded: the run directories the log names (`run.started`'s `config.run_dir`, each
            `run.forked`'s `run_dir`); all of them mean `actual`.
    """

    def __init__(self, actual: str | Path, recorded: Iterable[str] = ()) -> None:
        self.actual = posixpath.normpath(str(Path(actual).absolute()))
        roots = {posixpath.normpath(r) for r in recorded if r.startswith("/")}
        roots |= {self.actual, os.path.realpath(self.actual)}
        self.roots = tuple(sorted(roots, key=len, reverse=True))

    def rebase(self, path: str, what: str = "a path") -> str:
        """A recorded path moved onto the actual directory; a path under no root unchanged."""
        root = self._root_of(path)
        if root is None:
            return path
        return str(confine(self.actual, path[len(root) :], what))

    def inside(self, path: str, what: str) -> str:
        """Like `rebase`, but the path must be in the run directory."""
        if self._root_of(path) is None:
            raise PathEscapeError(path, self.actual, what)
        return self.rebase(path, what)

    def _root_of(self, path: str) -> str | None:
        """The recorded root `path` claims to be under (lexically, before normalising)."""
        for root in self.roots:
            if path == root or path.startswith(root + "/"):
                return root
        return None

    def shell(self, req: RunShell) -> RunShell:
        """The command with its directory, environment and stage directories rebased."""
        return msgspec.structs.replace(
            req,
            cwd=self.rebase(req.cwd, "the working directory") if req.cwd else "",
            env={k: self.rebase(v, f"${k}") for k, v in req.env.items()},
            ensure_dirs=tuple(self.inside(d, "a stage directory") for d in req.ensure_dirs),
        )

    def file(self, req: _File) -> _File:
        """The file request with its path rebased."""
        return msgspec.structs.replace(req, path=self.rebase(req.path, "a file"))
