"""A disk that fills up on demand: ENOSPC injected at the system-call wrappers our writers use.

`FullDisk` patches `os.write`, `os.fsync` and `os.mkdir`; a call on a file whose path matches
the chosen site fails with ENOSPC while the disk is "full" (from the moment `full_when()` first
holds until `free()`). Other files — pipes, sockets, the test's own files — are untouched, so the
kernel-level behaviour of every other write stays real.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

SITES: dict[str, tuple[str, ...]] = {
    "log": ("*/events.jsonl",),
    "blob": ("*/blobs/*",),
    "projection": ("*manifest.json*", "*checkpoint.json*", "*status.json*", "*.md.*"),
    "stage_dir": ("*/runs/*/big",),
    "torn": ("*events.jsonl.torn-*",),
}


class FullDisk:
    """ENOSPC for writes to `site`'s files once `full_when()` holds, until `free()`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, site: str, calls: tuple[str, ...]) -> None:
        self.patterns = SITES[site]
        self.full_when: Callable[[], bool] = lambda: True
        self._full = False
        self._freed = False
        self.refused = 0
        real_write, real_fsync, real_mkdir = os.write, os.fsync, os.mkdir

        def write(fd: int, data: bytes | memoryview) -> int:
            self._check(_fd_path(fd))
            return real_write(fd, data)

        def fsync(fd: int) -> None:
            self._check(_fd_path(fd))
            real_fsync(fd)

        def mkdir(path: str | Path, mode: int = 0o777, *a: object, **kw: object) -> None:
            self._check(str(path))
            real_mkdir(path, mode)

        for name, fake in (("write", write), ("fsync", fsync), ("mkdir", mkdir)):
            if name in calls:
                monkeypatch.setattr(os, name, fake)

    def _check(self, path: str) -> None:
        if self._freed or not any(fnmatchcase(path, p) for p in self.patterns):
            return
        if not self._full and self.full_when():
            self._full = True
        if self._full:
            self.refused += 1
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)

    def free(self) -> None:
        """Space was freed: every write works again."""
        self._freed = True


def _fd_path(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return ""


def leftovers(root: Path) -> list[Path]:
    """Temporary files a failed write left behind (blobs' and projections' temp files)."""
    return [p for p in root.rglob("*") if p.is_file() and ".tmp" in p.name]
