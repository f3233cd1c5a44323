"""The real-world patch corpus (`fixtures/patches/`): every case applied on disk."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from attractor.agent.patch import (
    LocalPatchFiles,
    PatchApplyError,
    PatchSyntaxError,
    apply_patch_text,
)

CORPUS = Path(__file__).parents[3] / "fixtures" / "patches"
CASES = sorted(p for p in CORPUS.iterdir() if p.is_dir())


def _tree(root: Path) -> dict[str, bytes]:
    if not root.is_dir():
        return {}
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _work(case: Path, tmp_path: Path) -> Path:
    work = tmp_path / "work"
    if (case / "before").is_dir():
        shutil.copytree(case / "before", work)
    else:
        work.mkdir()
    return work


def test_the_corpus_covers_both_outcomes() -> None:
    """The corpus holds both applied cases and error cases."""
    errors = [c for c in CASES if (c / "error.txt").exists()]
    assert len(errors) >= 10
    assert len(CASES) - len(errors) >= 20


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case(case: Path, tmp_path: Path) -> None:
    """The case's patch yields its `after/` tree, or its error with the tree unchanged."""
    work = _work(case, tmp_path)
    text = (case / "patch.txt").read_bytes().decode("utf-8")
    expected_error = case / "error.txt"
    if not expected_error.exists():
        asyncio.run(apply_patch_text(text, LocalPatchFiles(work)))
        assert _tree(work) == _tree(case / "after")
        return
    with pytest.raises((PatchApplyError, PatchSyntaxError)) as info:
        asyncio.run(apply_patch_text(text, LocalPatchFiles(work)))
    for line in expected_error.read_text(encoding="utf-8").splitlines():
        assert line in str(info.value)
    assert _tree(work) == _tree(case / "before")
