"""The CLI on logs whose paths or identity do not fit their run directory (issue 8, point 2)."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from attractor.cli._app import _register, app
from tests.pipeline.test_paths import PIPELINE, rehash

runner = CliRunner()
_register()


def _cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _finished(tmp_path: Path, root: str = "runs") -> Path:
    dot = tmp_path / "p.dot"
    dot.write_text(PIPELINE)
    code, out, err = _cli("run", str(dot), "--logs-root", str(tmp_path / root), "--quiet")
    assert code == 0, err
    return Path(out.rsplit("run directory: ", 1)[1].split()[0])


def test_project_of_a_climbing_node_id_is_one_error_line(tmp_path: Path) -> None:
    """`attractor project` on a re-hashed log naming `../../x`: exit 2, nothing outside."""
    run_dir = _finished(tmp_path)
    name = f"out-{tmp_path.name}"
    rehash(
        run_dir / "events.jsonl",
        lambda line: (
            line.replace('"node":"t"', f'"node":"../../{name}"')
            if '"type":"stage.completed"' in line
            else line
        ),
    )
    code, _, err = _cli("project", str(run_dir))
    assert code == 2
    assert err.startswith("error: ")
    assert "outside the run directory" in err
    assert "Traceback" not in err
    assert list(tmp_path.rglob(name)) == []


def _foreign(tmp_path: Path) -> tuple[Path, Path]:
    """Run B's directory holding run A's log (and B's own manifest)."""
    a, b = _finished(tmp_path, "a"), _finished(tmp_path, "b")
    shutil.copy(a / "events.jsonl", b / "events.jsonl")
    return a, b


def test_resume_refuses_a_log_from_another_run(tmp_path: Path) -> None:
    """A log dropped into another run's directory is refused by resume, naming both runs."""
    a, b = _foreign(tmp_path)
    manifest = (b / "manifest.json").read_bytes()
    code, _, err = _cli("resume", str(b))
    assert code == 2
    assert a.name in err
    assert b.name in err
    assert (b / "manifest.json").read_bytes() == manifest


def test_project_refuses_a_log_from_another_run(tmp_path: Path) -> None:
    """`project` would overwrite run B's projections with run A's: refused."""
    _, b = _foreign(tmp_path)
    code, _, err = _cli("project", str(b))
    assert code == 2
    assert "another run" in err


def test_status_warns_about_a_log_from_another_run(tmp_path: Path) -> None:
    """Read-only commands report the mismatch as a warning and go on."""
    a, b = _foreign(tmp_path)
    code, out, err = _cli("status", str(b))
    assert code == 0
    assert err.startswith("warning: ")
    assert a.name in out


def test_a_renamed_copy_resumes_with_a_note(tmp_path: Path) -> None:
    """A copy under a new name is a legitimate run: it resumes, and the rename is mentioned."""
    run_dir = _finished(tmp_path)
    copy = tmp_path / "backup" / "my-copy"
    shutil.copytree(run_dir, copy)
    code, _, err = _cli("resume", str(copy), "--quiet")
    assert code == 0
    assert "under another name" in err


def test_replay_of_a_moved_run(tmp_path: Path) -> None:
    """A moved run directory replays identically from its new place."""
    run_dir = _finished(tmp_path)
    moved = tmp_path / "elsewhere" / run_dir.name
    moved.parent.mkdir()
    shutil.move(run_dir, moved)
    code, out, _ = _cli("replay", str(moved))
    assert code == 0
    assert out.startswith("identical")
