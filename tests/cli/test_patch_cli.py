"""CLI: `attractor apply-patch` in a real subprocess (own process group, bounded wait)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.agent.patch.kit import patch, update

TIMEOUT_S = 60


def _apply_patch(stdin: bytes, *args: str, cwd: Path) -> tuple[int, str, str]:
    """Run `python -m attractor apply-patch ARGS` with `stdin`; (exit code, stdout, stderr)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "attractor", "apply-patch", *args],
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(stdin, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        raise
    return proc.returncode, out.decode(), err.decode()


def _project(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_bytes(b"def main():\r\n    return 0\r\n")
    (root / "old.txt").write_text("bye\n")
    (root / "name.txt").write_text("n\n")
    return root


CHANGE = patch(
    "*** Update File: src/app.py", "@@ def main():", "-    return 0", "+    return 1",
    "*** Add File: docs/new.md", "+# New", "*** Delete File: old.txt",
    "*** Update File: name.txt", "*** Move to: renamed.txt",
)  # fmt: skip


def test_applies_and_prints_one_line_per_file(tmp_path: Path) -> None:
    """Exit 0; stdout has an A/M/D/R line per file; the files are changed on disk."""
    root = _project(tmp_path / "p")
    code, out, err = _apply_patch(CHANGE.encode(), "--cwd", str(root), cwd=tmp_path)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "M src/app.py (+1 -1)", "A docs/new.md (+1 -0)", "D old.txt (+0 -1)",
        "R name.txt -> renamed.txt (+0 -0)",
    ]  # fmt: skip
    assert (root / "src" / "app.py").read_bytes() == b"def main():\r\n    return 1\r\n"
    assert sorted(p.name for p in root.iterdir()) == ["docs", "renamed.txt", "src"]


def test_cwd_defaults_to_the_current_directory(tmp_path: Path) -> None:
    """Without --cwd, paths are relative to the process's working directory."""
    root = _project(tmp_path)
    code, out, _ = _apply_patch(update("old.txt", "-bye", "+hi").encode(), cwd=root)
    assert (code, out) == (0, "M old.txt (+1 -1)\n")
    assert (root / "old.txt").read_text() == "hi\n"


def test_a_hunk_that_does_not_match_exits_one_and_changes_nothing(tmp_path: Path) -> None:
    """Exit 1 with the tool's message on stderr, no traceback, every file as it was."""
    root = _project(tmp_path / "p")
    bad = CHANGE.replace("*** Move to: renamed.txt", "*** Move to: renamed.txt\n@@\n-zzz")
    code, out, err = _apply_patch(bad.encode(), "--cwd", str(root), cwd=tmp_path)
    assert (code, out) == (1, "")
    assert err.startswith("patch not applied: name.txt: hunk 1 of 1 does not match the file:")
    assert "Traceback" not in err
    assert sorted(p.name for p in root.iterdir()) == ["name.txt", "old.txt", "src"]


def test_an_invalid_patch_exits_one_with_the_line(tmp_path: Path) -> None:
    """A syntax error prints its line number and hint, exit 1."""
    code, _, err = _apply_patch(b"--- a/x\n+++ b/x\n", cwd=tmp_path)
    assert code == 1
    assert err == (
        "invalid patch: line 1: expected '*** Begin Patch'\n  1 | --- a/x\n"
        "  hint: this looks like a unified diff; apply_patch takes the v4a format\n"
    )


def test_dry_run_checks_without_writing(tmp_path: Path) -> None:
    """--dry-run prints what would change and leaves the files alone."""
    root = _project(tmp_path / "p")
    code, out, _ = _apply_patch(CHANGE.encode(), "--cwd", str(root), "--dry-run", cwd=tmp_path)
    assert code == 0
    assert len(out.splitlines()) == 4
    assert sorted(p.name for p in root.iterdir()) == ["name.txt", "old.txt", "src"]


def test_bad_input_exits_without_traceback(tmp_path: Path) -> None:
    """Non-UTF-8 stdin exits 1; a --cwd that is not a directory exits 2."""
    code, _, err = _apply_patch(b"\xff\xfe", cwd=tmp_path)
    assert (code, "Traceback" in err) == (1, False)
    assert "stdin is not UTF-8 text" in err
    code, _, err = _apply_patch(b"", "--cwd", str(tmp_path / "missing"), cwd=tmp_path)
    assert (code, "Traceback" in err) == (2, False)
    assert "not a directory" in err
