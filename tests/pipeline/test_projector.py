"""Projections (DESIGN §1, spec §5.3/§5.5/§5.6/App. C): live files equal a rebuild from the log."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import msgspec
import pytest

from attractor.effects import RunShell, ShellRan
from attractor.events import BlobStore, Entry, read_log
from attractor.pipeline.artifacts import (
    FILE_BACKING_THRESHOLD,
    ArtifactNotFoundError,
    ArtifactStore,
    encode_artifact,
)
from attractor.pipeline.decider import stage_dir
from attractor.pipeline.events import CheckpointSaved, RunFinished, RunForked, RunStarted
from attractor.pipeline.model import outcome_from_status_json
from attractor.pipeline.projector import Projector, project, rebuild
from attractor.pipeline.run import RunOptions, RunResult, fork_run, resume_run, start_run
from tests.pipeline.kit import World, run_dot

PIPELINE = """digraph all {
  graph [goal="exercise every projection"]
  start [shape=Mdiamond]
  tool1 [shape=parallelogram, tool_command="echo hello-from-tool"]
  big [shape=parallelogram, tool_command="yes x | head -c 150000"]
  plan [shape=box, prompt="Plan $goal", max_retries=2]
  par [shape=component]
  a [shape=box, prompt="A"]
  b [shape=box, prompt="B"]
  join [shape=tripleoctagon]
  gate [shape=hexagon, label="Ship it?"]
  mgr [shape=house, stack.child_dotfile="child.dot", manager.poll_interval="5ms"]
  done [shape=Msquare]
  start -> tool1 -> big -> plan -> par
  par -> a
  par -> b
  a -> join
  b -> join
  join -> gate
  gate -> mgr [label="[Y] Yes"]
  gate -> done [label="[N] No"]
  mgr -> done
}
"""
CHILD = """digraph child {
  start [shape=Mdiamond]; work [shape=box, prompt="child work"]; done [shape=Msquare]
  start -> work -> done
}
"""
SCRIPT = {
    "plan": [
        {"outcome": {"outcome": "retry", "failure_reason": "flaky"}},
        {"response": "the plan"},
    ],
    "*": {"response": "ok"},
}
STATUS_KEYS = [
    "outcome",
    "preferred_label",
    "suggested_next_ids",
    "context_updates",
    "notes",
    "failure_reason",
]


def _write_pipeline(root: Path) -> Path:
    (root / "child.dot").write_text(CHILD)
    (root / "script.json").write_text(json.dumps(SCRIPT))
    dot = root / "all.dot"
    dot.write_text(PIPELINE)
    return dot


def _run(dot: Path, root: Path) -> RunResult:
    options = RunOptions(
        backend=f"scripted:{dot.parent / 'script.json'}",
        logs_root=str(root / "runs"),
        auto_approve=True,
        fsync=False,
    )
    return asyncio.run(start_run(dot, options, observers=[Projector()]))


def _files(run_dir: Path) -> dict[str, bytes]:
    skip = {"events.jsonl", "events.jsonl.lock"}
    return {
        str(p.relative_to(run_dir)): p.read_bytes()
        for p in sorted(run_dir.rglob("*"))
        if p.is_file() and p.name not in skip and "blobs" not in p.parts
    }


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished run of the full pipeline, projected live."""
    root = tmp_path_factory.mktemp("live")
    cwd = os.getcwd()
    os.chdir(root)
    try:
        result = _run(_write_pipeline(root), root)
    finally:
        os.chdir(cwd)
    assert result.state.finished is not None
    assert result.state.finished.status.succeeded
    return result.run_dir


def _pure(run_dir: Path) -> dict[str, bytes]:
    return project(read_log(run_dir / "events.jsonl"), BlobStore(run_dir / "blobs").get)


def test_pure_projection_equals_live_files(live: Path) -> None:
    """`project(entries)` computes exactly the files the live projector wrote, byte for byte."""
    assert _pure(live) == _files(live)


def test_rebuild_restores_deleted_projections(live: Path, tmp_path: Path) -> None:
    """Deleting every projection and rebuilding gives back the same bytes."""
    copy = tmp_path / "run"
    shutil.copytree(live, copy)
    before = _files(copy)
    for rel in before:
        (copy / rel).unlink()
    rebuild(copy)
    assert _files(copy) == before


def test_checkpoint_has_the_spec_fields(live: Path) -> None:
    """checkpoint.json carries timestamp, current_node, completed_nodes, node_retries, context,
    logs (spec §5.3), the timestamp being the `at` of the last checkpoint.saved."""
    data = json.loads((live / "checkpoint.json").read_text())
    assert list(data) == [
        "timestamp",
        "current_node",
        "completed_nodes",
        "node_retries",
        "context",
        "logs",
    ]
    saved = [e for e in read_log(live / "events.jsonl") if isinstance(e.event, CheckpointSaved)]
    last = saved[-1]
    assert data["timestamp"] == last.at
    assert data["current_node"] == "done"
    assert data["completed_nodes"][0] == "start"
    assert data["completed_nodes"][-1] == "done"
    assert data["context"]["graph.goal"] == "exercise every projection"
    assert any("plan: retry, will retry" in line for line in data["logs"])


def test_status_json_follows_the_status_file_contract(live: Path) -> None:
    """Every stage's status.json has the Appendix C fields and parses back as an outcome."""
    statuses = sorted(live.rglob("status.json"))
    assert {p.parent.name for p in statuses} >= {"start", "plan", "a", "b", "join", "gate", "mgr"}
    for path in statuses:
        data = json.loads(path.read_text())
        assert list(data) == STATUS_KEYS
        assert outcome_from_status_json(path.read_text()).status.value == data["outcome"]


def test_stage_prompt_and_response_files(live: Path) -> None:
    """prompt.md and response.md hold what a codergen stage sent and got."""
    assert (live / "plan" / "prompt.md").read_text() == "Plan exercise every projection"
    assert (live / "plan" / "response.md").read_text() == "the plan"
    assert not (live / "start" / "prompt.md").exists()


def test_branch_and_child_stages_are_projected(live: Path) -> None:
    """Parallel branches write their own stage dirs; a child pipeline writes under mgr.child/."""
    assert json.loads((live / "a" / "status.json").read_text())["outcome"] == "success"
    assert (live / "mgr.child" / "work" / "response.md").read_text() == "ok"


def test_tool_stage_files_hold_the_command_and_its_output(live: Path) -> None:
    """A tool stage's prompt.md is its command and response.md its stdout."""
    assert (live / "tool1" / "prompt.md").read_text() == "echo hello-from-tool"
    assert (live / "tool1" / "response.md").read_text() == "hello-from-tool\n"


def test_large_tool_output_becomes_a_file_backed_artifact(live: Path) -> None:
    """Output above 100 KB goes to artifacts/{stage}-response.json; response.md points to it."""
    artifact = live / "artifacts" / "big-response.json"
    assert json.loads(artifact.read_text()) == "x\n" * 75_000
    pointer = (live / "big" / "response.md").read_text()
    assert "artifacts/big-response.json" in pointer
    assert "150000 bytes" in pointer


def test_manifest_describes_the_run(live: Path) -> None:
    """manifest.json names the run, its pipeline and digest, version, times and status."""
    data = json.loads((live / "manifest.json").read_text())
    first = next(iter(read_log(live / "events.jsonl")))
    assert data["run_id"] == live.name
    assert data["name"] == "all"
    assert data["goal"] == "exercise every projection"
    assert data["status"] == "succeeded"
    assert data["started_at"] == first.at
    assert data["finished_at"]
    assert len(data["dot_digest"]) == 64
    assert data["attractor_version"]
    assert data["forked_from"] is None


def test_resumed_projector_catches_up_from_the_log(live: Path, tmp_path: Path) -> None:
    """A projector bound to an existing run dir first projects the whole log (resume)."""
    copy = tmp_path / "run"
    shutil.copytree(live, copy)
    before = _files(copy)
    shutil.rmtree(copy / "plan")
    (copy / "checkpoint.json").unlink()
    Projector(copy)
    assert _files(copy) == before


def test_fork_projection_names_its_source(live: Path, tmp_path: Path) -> None:
    """A fork's manifest records the source run and seq; its projection equals a rebuild."""
    result = asyncio.run(fork_run(live, 9, logs_root=tmp_path))
    rebuild(result.run_dir)
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["forked_from"] == {"run_id": live.name, "at_seq": 9}
    assert manifest["run_id"] == result.run_dir.name
    assert _pure(result.run_dir) == _files(result.run_dir)


def test_live_projection_of_a_resumed_run_equals_a_rebuild(tmp_path: Path) -> None:
    """Projecting a run cut short, then resuming it live, gives the rebuilt files."""
    dot = tmp_path / "p.dot"
    dot.write_text(
        'digraph p { start [shape=Mdiamond]; a [shape=box, prompt="A"]; '
        'b [shape=box, prompt="B"]; done [shape=Msquare]; start -> a -> b -> done }'
    )
    options = RunOptions(logs_root=str(tmp_path / "runs"), fsync=False)
    run_dir = asyncio.run(start_run(dot, options)).run_dir
    log = run_dir / "events.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:8]))  # as if killed after `a`
    projector = Projector(run_dir)
    asyncio.run(resume_run(run_dir, observers=[projector]))
    assert _files(run_dir) == _pure(run_dir)
    assert json.loads((run_dir / "manifest.json").read_text())["status"] == "succeeded"


def test_loop_restart_projects_each_run_in_its_own_directory(tmp_path: Path) -> None:
    """A loop_restart edge ends the run as `restarted`; the new run gets its own projection."""
    dot = tmp_path / "loop.dot"
    dot.write_text(
        "digraph l { start [shape=Mdiamond]; a [shape=box, prompt=A]; "
        "b [shape=box, prompt=B]; done [shape=Msquare]; start -> a; "
        'a -> b [condition="context.internal.run_id=never", loop_restart=true]; '
        'a -> b [loop_restart=true, condition="outcome=success"]; b -> done }'
    )
    options = RunOptions(logs_root=str(tmp_path / "runs"), fsync=False)
    result = asyncio.run(start_run(dot, options, observers=[Projector()]))
    dirs = sorted((tmp_path / "runs").iterdir())
    assert len(dirs) == 2
    statuses = {json.loads((d / "manifest.json").read_text())["status"] for d in dirs}
    assert statuses == {"restarted", "succeeded"}
    assert _files(result.run_dir) == _pure(result.run_dir)


def test_projector_ignores_entries_it_has_already_projected(live: Path, tmp_path: Path) -> None:
    """Re-observing old entries (seq not beyond the last) changes nothing."""
    copy = tmp_path / "run"
    shutil.copytree(live, copy)
    projector = Projector(copy)
    (copy / "plan" / "status.json").write_text("sentinel")
    for entry in read_log(copy / "events.jsonl"):
        if entry.seq > 1:
            projector(entry)
    assert (copy / "plan" / "status.json").read_text() == "sentinel"


# -- artifact store (spec §5.5) ------------------------------------------------------------


def test_small_artifact_stays_in_memory(tmp_path: Path) -> None:
    """At or below the threshold an artifact is held in memory, no file is written."""
    store = ArtifactStore(tmp_path)
    info = store.store("notes", "notes", "x" * FILE_BACKING_THRESHOLD)
    assert not info.is_file_backed
    assert info.size_bytes == FILE_BACKING_THRESHOLD
    assert store.retrieve("notes") == "x" * FILE_BACKING_THRESHOLD
    assert not (tmp_path / "artifacts").exists()


def test_large_artifact_is_file_backed(tmp_path: Path) -> None:
    """Above 100 KB the artifact is written to artifacts/{id}.json and read back from it."""
    store = ArtifactStore(tmp_path)
    data = {"rows": ["y" * 1000] * 120}
    info = store.store("table", "a big table", data)
    path = tmp_path / "artifacts" / "table.json"
    assert info.is_file_backed
    assert path.read_bytes() == encode_artifact(data)
    assert store.retrieve("table") == data


def test_without_base_dir_everything_stays_in_memory() -> None:
    """A store without a base directory never writes files."""
    info = ArtifactStore().store("big", "big", "z" * (FILE_BACKING_THRESHOLD + 1))
    assert not info.is_file_backed


def test_has_list_remove_clear(tmp_path: Path) -> None:
    """has/list/remove/clear keep the index and the files in step."""
    store = ArtifactStore(tmp_path, clock=lambda: "T")
    store.store("b", "B", "small")
    store.store("a", "A", "q" * (FILE_BACKING_THRESHOLD + 1))
    assert [i.id for i in store.list()] == ["a", "b"]
    assert store.has("a")
    store.remove("a")
    assert not store.has("a")
    assert not (tmp_path / "artifacts" / "a.json").exists()
    store.clear()
    assert store.list() == []


def test_missing_artifact_is_a_clear_error(tmp_path: Path) -> None:
    """Retrieving an unknown id names it and what is stored."""
    store = ArtifactStore(tmp_path)
    store.store("kept", "kept", "v")
    with pytest.raises(ArtifactNotFoundError, match=r"'gone' not found \(stored: kept\)"):
        store.retrieve("gone")


def test_artifact_ids_must_be_safe_file_names(tmp_path: Path) -> None:
    """An id that could escape the artifacts directory is refused with a hint."""
    with pytest.raises(ValueError, match="invalid artifact id"):
        ArtifactStore(tmp_path).store("../etc/passwd", "x", "v")


# -- engine behaviours the projections rely on (found as bugs while projecting, now fixed) ---

NESTED_PARENT = """digraph p {
  start [shape=Mdiamond]
  mgr [shape=house, stack.child_dotfile="child.dot", manager.poll_interval="1ms"]
  done [shape=Msquare]
  start -> mgr -> done
}"""
NESTED_CHILD = """digraph c {
  start [shape=Mdiamond]; par [shape=component]; x [shape=box]; y [shape=box]
  join [shape=tripleoctagon]; done [shape=Msquare]
  start -> par; par -> x; par -> y; x -> join; y -> join; join -> done
}"""


def test_branch_stages_of_a_child_pipeline_live_under_the_child_dir() -> None:
    """A parallel branch inside a child pipeline gets a stage dir under `<manager>.child/`."""
    ran = run_dot(NESTED_PARENT, World(files={"/pipelines/child.dot": NESTED_CHILD}))
    branches = [t for s, t in ran.state.traversals.items() if ":child/" in s]
    assert branches
    for t in branches:
        assert stage_dir(ran.state, t, "x").startswith("/runs/r1/mgr.child/")


def test_fork_observers_see_the_run_forked_entry(live: Path, tmp_path: Path) -> None:
    """Observers of `fork_run` are called with the `run.forked` entry first."""
    seen: list[Entry] = []
    asyncio.run(fork_run(live, 9, logs_root=tmp_path, observers=[seen.append]))
    assert isinstance(seen[0].event, RunForked)


def test_live_writes_wait_for_the_engine_to_yield(live: Path, tmp_path: Path) -> None:
    """In an event loop a burst of entries is written once the loop runs again, coalesced."""
    copy = tmp_path / "run"
    shutil.copytree(live / "blobs", copy / "blobs")
    entries = [e for e in read_log(live / "events.jsonl") if not isinstance(e.event, RunFinished)]

    first = entries[0].event
    assert isinstance(first, RunStarted)
    config = msgspec.structs.replace(first.config, run_dir=str(copy))
    event = msgspec.structs.replace(first, config=config)
    entries[0] = msgspec.structs.replace(entries[0], event=event)

    async def feed() -> tuple[bool, bool]:
        projector = Projector()
        for entry in entries:
            projector(entry)
        before = (copy / "checkpoint.json").exists()
        await asyncio.sleep(0)
        return before, (copy / "checkpoint.json").exists()

    assert asyncio.run(feed()) == (False, True)


HOOKED = """digraph h {
  graph [tool_hooks.pre="check-pre", tool_hooks.post="notify-post"]
  start [shape=Mdiamond]
  t [shape=parallelogram, tool_command="make build"]
  done [shape=Msquare]
  start -> t -> done
}"""


def test_tool_stage_with_hooks_projects_the_command_not_the_hooks() -> None:
    """With pre/post hooks around it, response.md is still the tool command's own stdout."""
    files = project(run_dot(HOOKED).entries)
    assert files["t/prompt.md"] == b"make build"
    assert files["t/response.md"] == b"ran make build"


def test_refused_tool_stage_has_no_response() -> None:
    """A pre-hook that refuses skips the command: status.json says skipped, no response.md."""

    def shell(request: RunShell) -> ShellRan:
        code = 1 if request.command == "check-pre" else 0
        return ShellRan(exit_code=code, stdout="", stderr="", duration_ms=1)

    files = project(run_dot(HOOKED, World(shell=shell)).entries)
    assert json.loads(files["t/status.json"])["outcome"] == "skipped"
    assert "t/response.md" not in files


def test_failed_stage_status_names_the_failure_reason() -> None:
    """A stage that ends in FAIL records outcome `fail` and why, in status.json."""

    def shell(request: RunShell) -> ShellRan:
        return ShellRan(exit_code=2, stdout="", stderr="boom", duration_ms=1)

    files = project(run_dot(HOOKED.replace("tool_hooks", "x"), World(shell=shell)).entries)
    status = json.loads(files["t/status.json"])
    assert status["outcome"] == "fail"
    assert "exited with code 2: boom" in status["failure_reason"]
    assert json.loads(files["manifest.json"])["status"] == "failed"


def test_every_prefix_of_a_log_projects(live: Path) -> None:
    """A log cut anywhere (a crash) still projects; the checkpoint is that of the last
    checkpoint.saved in the prefix."""
    entries = list(read_log(live / "events.jsonl"))
    blobs = BlobStore(live / "blobs").get
    for k in range(1, len(entries) + 1, 3):
        files = project(entries[:k], blobs)
        saved = [e for e in entries[:k] if isinstance(e.event, CheckpointSaved)]
        assert json.loads(files["manifest.json"])["run_id"] == live.name
        if saved:
            assert json.loads(files["checkpoint.json"])["timestamp"] == saved[-1].at
        else:
            assert "checkpoint.json" not in files
