"""RunDir: recorded paths rebased onto the actual run directory and confined to it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attractor.effects import (
    LiveInterpreter,
    PathEscapeError,
    ReadFile,
    RunDir,
    RunShell,
    ShellRan,
    confine,
)
from attractor.events import BlobStore

OLD = "/old/runs/r1"


def test_recorded_paths_are_rebased(tmp_path: Path) -> None:
    """A path under a recorded root lands under the actual directory; others are unchanged."""
    rd = RunDir(tmp_path, [OLD])
    assert rd.rebase(OLD) == str(tmp_path)
    assert rd.rebase(f"{OLD}/plan") == str(tmp_path / "plan")
    assert rd.rebase("/work/project") == "/work/project"
    assert rd.rebase("/old/runs/r10/x") == "/old/runs/r10/x"


@pytest.mark.parametrize("path", [f"{OLD}/../x", f"{OLD}/a/../../b", f"{OLD}/.."])
def test_climbing_out_is_an_escape(tmp_path: Path, path: str) -> None:
    """`..` that leaves the run directory is a PathEscapeError naming the path."""
    with pytest.raises(PathEscapeError, match="outside the run directory"):
        RunDir(tmp_path, [OLD]).rebase(path)


def test_symlink_out_of_the_run_dir_is_an_escape(tmp_path: Path) -> None:
    """A symbolic link planted in the run directory cannot carry a write outside it."""
    run_dir, outside = tmp_path / "run", tmp_path / "outside"
    run_dir.mkdir()
    outside.mkdir()
    (run_dir / "plan").symlink_to(outside)
    with pytest.raises(PathEscapeError, match="symbolic link"):
        confine(run_dir, "plan/status.json")


def test_stage_dirs_must_be_inside(tmp_path: Path) -> None:
    """A directory the run must own (ensure_dirs) outside every root is an escape."""
    rd = RunDir(tmp_path, [OLD])
    with pytest.raises(PathEscapeError):
        rd.shell(RunShell(command="true", ensure_dirs=("/etc/x",)))
    moved = rd.shell(RunShell(command="true", ensure_dirs=(f"{OLD}/t",), env={"D": f"{OLD}/t"}))
    assert moved.ensure_dirs == (str(tmp_path / "t"),)
    assert moved.env == {"D": str(tmp_path / "t")}


@given(st.lists(st.sampled_from(["a", "b", "..", ".", "", "/"]), max_size=8))
def test_rebased_paths_never_leave_the_run_dir(parts: list[str]) -> None:
    """Whatever a recorded path says after its root, the result is inside or an error."""
    rd = RunDir("/actual/run", [OLD])
    try:
        out = rd.rebase(OLD + "/" + "/".join(parts))
    except PathEscapeError:
        return
    assert out == "/actual/run" or out.startswith("/actual/run/")


def test_the_interpreter_stops_on_an_escape(tmp_path: Path) -> None:
    """An escaping path stops the run (raised by next_result), it is not an effect failure."""

    async def go() -> None:
        interp = LiveInterpreter(BlobStore(tmp_path / "b"), run_dir=RunDir(tmp_path, [OLD]))
        interp.start("run#x", ReadFile(path=f"{OLD}/../../etc/passwd"))
        await interp.next_result()

    with pytest.raises(PathEscapeError):
        asyncio.run(go())


def test_the_interpreter_runs_commands_in_the_actual_dir(tmp_path: Path) -> None:
    """ATTRACTOR_STAGE_DIR and the stage directory a command gets are the actual ones."""
    request = RunShell(
        command="echo $ATTRACTOR_STAGE_DIR; pwd",
        cwd=f"{OLD}/t",
        env={"ATTRACTOR_STAGE_DIR": f"{OLD}/t"},
        ensure_dirs=(f"{OLD}/t",),
    )
    interp = LiveInterpreter(BlobStore(tmp_path / "b"), run_dir=RunDir(tmp_path, [OLD]))
    out = asyncio.run(interp.perform(request))
    assert isinstance(out, ShellRan)
    assert out.stdout == f"{tmp_path / 't'}\n{tmp_path / 't'}\n"
