"""Paths from a log are data, not trust (issue 8, point 2): every path resolves against the run
directory a command was given; what escapes it is a typed error; a moved or copied run directory
resumes, replays and projects in its new place."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from attractor.effects import EffectRequested, PathEscapeError
from attractor.events import Entry, chain_hash, read_log
from attractor.pipeline.projector import rebuild
from attractor.pipeline.run import (
    RunOptions,
    RunResult,
    fork_run,
    replay_run,
    resume_run,
    start_run,
)

_HASH_SUFFIX = len(',"hash":"') + 16 + len('"}')
PIPELINE = """digraph moved {
  start [shape=Mdiamond]
  a [shape=parallelogram, tool_command="true"]
  t [shape=parallelogram,
     tool_command="echo made > $ATTRACTOR_STAGE_DIR/out.txt; echo $ATTRACTOR_RUN_DIR"]
  done [shape=Msquare]
  start -> a -> t -> done
}
"""


def _run(tmp_path: Path, source: str = PIPELINE) -> RunResult:
    dot = tmp_path / "p.dot"
    dot.write_text(source)
    opts = RunOptions(logs_root=str(tmp_path / "runs"), fsync=False)
    return asyncio.run(start_run(dot, opts))


def rehash(log: Path, edit: Callable[[str], str]) -> None:
    """Rewrite every line through `edit` and re-hash the chain (what an attacker can do)."""
    prev, out = "", []
    for raw in log.read_bytes().splitlines():
        body = edit(raw[:-_HASH_SUFFIX].decode()).encode()
        prev = chain_hash(prev, body)
        out.append(body + b',"hash":"' + prev.encode() + b'"}')
    log.write_bytes(b"\n".join(out) + b"\n")


def cut_after(log: Path, keep: Callable[[Entry], bool]) -> None:
    """Keep the lines up to and including the first entry `keep` accepts (a crash there)."""
    entries = list(read_log(log))
    n = next(i for i, e in enumerate(entries, start=1) if keep(e))
    log.write_bytes(b"".join(log.read_bytes().splitlines(keepends=True)[:n]))


def _crash_before_t(run_dir: Path) -> None:
    """The state of a run killed while its first tool (`a`) ran: `t` never started."""
    cut_after(run_dir / "events.jsonl", _requested("a"))
    shutil.rmtree(run_dir / "t", ignore_errors=True)


def _requested(node: str) -> Callable[[Entry], bool]:
    return lambda e: isinstance(e.event, EffectRequested) and f"#{node}/" in e.event.effect_id


def _outside(tmp_path: Path, name: str) -> list[Path]:
    return list(tmp_path.parent.rglob(name))


def test_project_refuses_a_node_id_that_climbs_out(tmp_path: Path) -> None:
    """A re-hashed log whose stage.completed names `../../../x` is a typed error; nothing is
    written outside the run directory."""
    result = _run(tmp_path)
    log = result.run_dir / "events.jsonl"
    name = f"escaped-{tmp_path.name}"

    def climb(line: str) -> str:
        if '"type":"stage.completed"' not in line:
            return line
        return line.replace('"node":"t"', f'"node":"../../../{name}"')

    rehash(log, climb)
    with pytest.raises(PathEscapeError, match="outside the run directory"):
        rebuild(result.run_dir)
    assert _outside(tmp_path, name) == []


def test_absolute_node_id_lands_inside_the_run_dir(tmp_path: Path) -> None:
    """A node id that is an absolute path is resolved against the run directory."""
    result = _run(tmp_path)
    target = tmp_path / "abs-target"
    rehash(
        result.run_dir / "events.jsonl",
        lambda line: (
            line.replace('"node":"t"', f'"node":"{target}"')
            if '"type":"stage.completed"' in line
            else line
        ),
    )
    rebuild(result.run_dir)
    assert (result.run_dir / str(target).lstrip("/") / "status.json").is_file()
    assert not target.exists()


def test_resume_with_an_edited_run_dir_works_in_the_actual_one(tmp_path: Path) -> None:
    """An edited `config.run_dir` does not move tool stages: ATTRACTOR_STAGE_DIR and the stage
    directory are those of the run directory resume was given."""
    result = _run(tmp_path)
    log = result.run_dir / "events.jsonl"
    _crash_before_t(result.run_dir)
    elsewhere = tmp_path / "elsewhere"
    rehash(log, lambda line: line.replace(str(result.run_dir), str(elsewhere)))
    resumed = asyncio.run(resume_run(result.run_dir, options=RunOptions(fsync=False)))
    assert resumed.stopped == "done"
    assert not elsewhere.exists()
    assert (result.run_dir / "t" / "out.txt").read_text() == "made\n"


def _moved(tmp_path: Path) -> tuple[Path, Path]:
    """A run cut after its first tool's request, then moved: (old place, new place)."""
    result = _run(tmp_path)
    _crash_before_t(result.run_dir)
    new = tmp_path / "moved" / result.run_dir.name
    new.parent.mkdir()
    shutil.move(result.run_dir, new)
    return result.run_dir, new


def test_moved_run_dir_resumes_in_its_new_place(tmp_path: Path) -> None:
    """Resume of a moved run writes only in the new place, and tools see the new paths."""
    old, new = _moved(tmp_path)
    resumed = asyncio.run(resume_run(new, options=RunOptions(fsync=False)))
    assert resumed.stopped == "done"
    assert not old.exists()
    assert (new / "t" / "out.txt").read_text() == "made\n"
    top = resumed.state.top()
    assert top is not None
    assert top.context["tool.output"] == f"{new}\n"


def test_moved_run_dir_replays_and_projects_in_its_new_place(tmp_path: Path) -> None:
    """After resuming in the new place, the log replays exactly and projects there."""
    old, new = _moved(tmp_path)
    asyncio.run(resume_run(new, options=RunOptions(fsync=False)))
    replayed = asyncio.run(replay_run(new))
    assert replayed.stopped == "done"
    files = rebuild(new)
    assert "t/status.json" in files
    assert (new / "manifest.json").is_file()
    assert not old.exists()


def test_copied_run_dir_leaves_the_original_untouched(tmp_path: Path) -> None:
    """Resuming a copy never writes into the directory it was copied from."""
    result = _run(tmp_path)
    _crash_before_t(result.run_dir)
    before = sorted(p.relative_to(result.run_dir) for p in result.run_dir.rglob("*"))
    log_bytes = (result.run_dir / "events.jsonl").read_bytes()
    copy = tmp_path / "copy" / result.run_dir.name
    shutil.copytree(result.run_dir, copy)
    assert asyncio.run(resume_run(copy, options=RunOptions(fsync=False))).stopped == "done"
    assert sorted(p.relative_to(result.run_dir) for p in result.run_dir.rglob("*")) == before
    assert (result.run_dir / "events.jsonl").read_bytes() == log_bytes
    assert (copy / "t" / "out.txt").is_file()


def test_fork_of_a_moved_run_goes_beside_it(tmp_path: Path) -> None:
    """A fork without --logs-root goes next to the run it forks, wherever that now is."""
    old, new = _moved(tmp_path)
    forked = asyncio.run(fork_run(new, 3))
    assert forked.run_dir.parent == new.parent
    assert not old.parent.exists() or not any(old.parent.iterdir())
    assert (forked.run_dir / "t" / "out.txt").is_file()
