"""The applier: writes through `PatchFiles`, all or nothing; `LocalPatchFiles` on disk."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from attractor.agent.patch import (
    AppliedFile,
    AppliedPatch,
    LocalPatchFiles,
    PatchApplyError,
    PatchSyntaxError,
    apply_patch_text,
)
from tests.agent.patch.kit import patch, update


class DictFiles:
    """In-memory files that record every call and fail the writes numbered in `failing`."""

    def __init__(self, files: dict[str, str], failing: frozenset[int] = frozenset()) -> None:
        self.files = dict(files)
        self.calls: list[tuple[str, str]] = []
        self.failing = failing

    async def read_text(self, path: str) -> str | None:
        self.calls.append(("read", path))
        return self.files.get(path)

    async def write_text(self, path: str, text: str) -> None:
        self.calls.append(("write", path))
        if sum(call[0] == "write" for call in self.calls) in self.failing:
            raise OSError(28, "No space left on device")
        self.files[path] = text

    async def remove(self, path: str) -> None:
        self.calls.append(("remove", path))
        self.files.pop(path, None)


MIXED = patch(
    "*** Add File: a.txt", "+A", "*** Delete File: d.txt",
    "*** Update File: m.txt", "@@", "-old", "+new", "+more",
    "*** Update File: r.txt", "*** Move to: s/r.txt", "@@", " keep", "-x",
)  # fmt: skip
BEFORE = {"d.txt": "1\n2\n3\n", "m.txt": "old\n", "r.txt": "keep\nx\n"}


def _apply(files: DictFiles, text: str = MIXED, **kwargs: bool) -> AppliedPatch:
    return asyncio.run(apply_patch_text(text, files, **kwargs))


def test_applies_every_operation_and_summarises() -> None:
    """Add, delete, update and move land in the files; the summary has one line per file."""
    files = DictFiles(BEFORE)
    applied = _apply(files)
    assert files.files == {"a.txt": "A\n", "m.txt": "new\nmore\n", "s/r.txt": "keep\n"}
    assert applied.files == (
        AppliedFile(op="A", path="a.txt", added=1),
        AppliedFile(op="D", path="d.txt", removed=3),
        AppliedFile(op="M", path="m.txt", added=2, removed=1),
        AppliedFile(op="R", path="r.txt", new_path="s/r.txt", removed=1),
    )
    assert applied.summary() == (
        "A a.txt (+1 -0)\nD d.txt (+0 -3)\nM m.txt (+2 -1)\nR r.txt -> s/r.txt (+0 -1)"
    )


def test_every_file_is_read_before_any_write() -> None:
    """All reads come first, so a plan failure leaves every file untouched."""
    files = DictFiles(BEFORE)
    _apply(files)
    kinds = [kind for kind, _ in files.calls]
    assert kinds[:5] == ["read"] * 5
    assert "read" not in kinds[5:]


def test_dry_run_writes_nothing() -> None:
    """With dry_run the summary is computed and no file is written or removed."""
    files = DictFiles(BEFORE)
    assert len(_apply(files, dry_run=True).files) == 4
    assert files.files == BEFORE
    assert {kind for kind, _ in files.calls} == {"read"}


def test_a_mismatch_changes_nothing() -> None:
    """A hunk that does not match raises before the first write."""
    files = DictFiles(BEFORE)
    with pytest.raises(PatchApplyError, match=r"m\.txt: hunk 1 of 1 does not match"):
        _apply(files, MIXED.replace("-old", "-olde"))
    assert files.files == BEFORE
    assert {kind for kind, _ in files.calls} == {"read"}


def test_a_syntax_error_reads_nothing() -> None:
    """A patch that does not parse touches no file at all."""
    files = DictFiles(BEFORE)
    with pytest.raises(PatchSyntaxError):
        _apply(files, "*** Begin Patch\n")
    assert files.calls == []


def test_a_path_outside_the_root_is_never_read() -> None:
    """`../secret` is refused before any file is read."""
    files = DictFiles({})
    with pytest.raises(PatchApplyError, match="leaves the working directory"):
        _apply(files, update("../secret", "-x"))
    assert files.calls == []


@pytest.mark.parametrize("failing_write", [1, 2, 3])
def test_a_failed_write_is_rolled_back(failing_write: int) -> None:
    """A write that fails midway puts every file back; the error says nothing changed."""
    files = DictFiles(BEFORE, failing=frozenset({failing_write}))
    with pytest.raises(PatchApplyError, match="No space left on device; no file was changed"):
        _apply(files)
    assert files.files == BEFORE


def test_a_failed_rollback_is_reported() -> None:
    """When putting a file back fails too, the error names the files that could not be."""
    files = DictFiles(BEFORE, failing=frozenset(range(2, 10)))
    with pytest.raises(PatchApplyError, match=r"m\.txt: cannot write: .*could not restore d\.txt"):
        _apply(files)
    assert "a.txt" not in files.files


def test_local_files_keep_bytes_and_mode(tmp_path: Path) -> None:
    """On disk: CRLF bytes and the file mode survive, parents are created, no temp file stays."""
    script = tmp_path / "run.sh"
    script.write_bytes(b"#!/bin/sh\r\necho old\r\n")
    script.chmod(0o755)
    text = patch(
        "*** Update File: run.sh", "@@", "-echo old", "+echo new", "*** Add File: d/e/f.txt", "+x"
    )
    asyncio.run(apply_patch_text(text, LocalPatchFiles(tmp_path)))
    assert script.read_bytes() == b"#!/bin/sh\r\necho new\r\n"
    assert script.stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "d/e/f.txt").read_text() == "x\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d", "run.sh"]


def test_local_files_refuse_a_symlink_out_of_the_root(tmp_path: Path) -> None:
    """A path through a symlink that leaves the root is an error, not a write outside."""
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside, root / "link")
    with pytest.raises(PatchApplyError, match="outside"):
        asyncio.run(apply_patch_text(patch("*** Add File: link/x", "+x"), LocalPatchFiles(root)))
    assert list(outside.iterdir()) == []


def test_local_files_refuse_binary_files(tmp_path: Path) -> None:
    """A file that is not UTF-8 cannot be patched, and says so."""
    (tmp_path / "img.bin").write_bytes(b"\x89PNG\r\n\x1a\n\xff")
    with pytest.raises(PatchApplyError, match=r"not UTF-8 text \(byte 0x89 at offset 0\)"):
        asyncio.run(apply_patch_text(update("img.bin", "-x"), LocalPatchFiles(tmp_path)))


def test_local_files_report_a_directory(tmp_path: Path) -> None:
    """Updating a path that is a directory is a clear error."""
    (tmp_path / "pkg").mkdir()
    with pytest.raises(PatchApplyError, match="pkg: cannot read"):
        asyncio.run(apply_patch_text(update("pkg", "-x"), LocalPatchFiles(tmp_path)))
