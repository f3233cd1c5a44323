"""Pipeline layer: projections — the run-directory files of spec §5.6, derived from the log.

Rule: every projected file is a function of the log prefix that ends at the event that writes it
(DESIGN §1). `Projection` (pure) folds entries and says which files each one changes; `project`
runs it over a whole log; `Projector` (the shell) writes the same bytes as a live run goes, each
file atomically. So a rebuild (`attractor project RUN_DIR`) equals the live files byte for byte.

Files: `manifest.json` (at `run.started`, `run.forked`, `run.finished`), `checkpoint.json` (at
each `checkpoint.saved`), and per stage `{stage}/status.json` (Appendix C), `{stage}/prompt.md`,
`{stage}/response.md` (at `stage.completed`; prompt/response only when not empty). A child
pipeline's stages live under `{manager}.child/`. A response or tool output larger than 100 KB is
stored as `artifacts/{stage}-response.json` and `response.md` points to it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import msgspec

from attractor.effects import ShellRan, confine
from attractor.effects.paths import relative_inside
from attractor.events import BlobRef, BlobStore, Entry, RecordingError, read_log
from attractor.pipeline.artifacts import (
    FILE_BACKING_THRESHOLD,
    ArtifactStore,
    artifact_path,
    byte_size,
    encode_artifact,
    write_atomic,
)
from attractor.pipeline.decider import stage_dir
from attractor.pipeline.events import (
    CheckpointSaved,
    LoopRestarted,
    RunFinished,
    RunForked,
    RunStarted,
    StageCompleted,
    StageFailed,
)
from attractor.pipeline.graphs import handler_type
from attractor.pipeline.model import Outcome
from attractor.pipeline.reducer import reduce
from attractor.pipeline.state import RunState, Traversal
from attractor.pipeline.usage import UsageBook

BlobReader = Callable[[BlobRef], bytes]
LOG_LINES = 100  # checkpoint `logs` keeps the latest lines; the event log keeps everything
Artifact = tuple[str, str, str]  # (artifact id, name, text)


class Changes(msgspec.Struct):
    """What one entry changes: files by path relative to the run directory, and artifacts."""

    files: dict[str, bytes] = {}
    artifacts: list[Artifact] = []


def _json(value: Any) -> bytes:
    return msgspec.json.format(msgspec.json.encode(value), indent=2) + b"\n"


def status_json(outcome: Outcome) -> dict[str, Any]:
    """The status-file shape of an outcome (spec Appendix C), every field present."""
    return {
        "outcome": outcome.status.value,
        "preferred_label": outcome.preferred_label,
        "suggested_next_ids": list(outcome.suggested_next_ids),
        "context_updates": dict(sorted(outcome.context_updates.items())),
        "notes": outcome.notes,
        "failure_reason": outcome.failure_reason,
    }


def stage_path(state: RunState, t: Traversal, node: str) -> str:
    """A stage's directory relative to the run directory: the engine's `stage_dir`, so the
    projection lands where handlers and backends were told to write. A node id from the log
    that climbs out (`../x`) is a `PathEscapeError`."""
    root = state.started.config.run_dir if state.started else ""
    full = stage_dir(state, t, node)
    rel = full[len(root) + 1 :] if root and full.startswith(root + "/") else node
    return relative_inside(rel, root or ".", "the stage directory of a projected file")


class Projection:
    """The pure fold behind every projected file. Feed entries in order with `apply`."""

    def __init__(self, blobs: BlobReader | None = None) -> None:
        self.state = RunState()
        self.seq = 0
        self.logs: list[str] = []
        self.manifest: dict[str, Any] = {}
        self._blobs = blobs
        self.usage = UsageBook()

    def apply(self, entry: Entry) -> Changes:
        """Fold one entry; return the files (and artifacts) it changes."""
        before, event = self.state, entry.event
        self.state = reduce(before, entry)
        self.seq = entry.seq
        self.usage(entry)
        match event:
            case RunStarted():
                return self._started(entry, event)
            case RunForked():
                return self._forked(entry, event)
            case StageCompleted():
                return self._stage(entry, event, before)
            case StageFailed():
                self._log(entry, event.node, f"{event.outcome.status.value}, will retry")
                return Changes()
            case CheckpointSaved():
                return Changes(files={"checkpoint.json": self._checkpoint(entry, event)})
            case RunFinished():
                return self._finished(entry, event)
            case LoopRestarted():
                self.manifest["restart_target"] = event.target
                return Changes()
            case _:
                return Changes()

    def _started(self, entry: Entry, event: RunStarted) -> Changes:
        self.manifest = {
            "name": event.name,
            "goal": event.goal,
            "run_id": event.run_id,
            "dot_path": event.dot_path,
            "dot_digest": event.dot_digest,
            "started_at": entry.at,
            "status": "running",
            "finished_at": "",
            "parent_run": event.parent_run,
            "start_node": event.start_at,
            "forked_from": None,
            "attractor_version": event.attractor_version,
            "backend": event.config.backend,
            "event_log": "events.jsonl",
        }
        return Changes(files={"manifest.json": _json(self.manifest)})

    def _forked(self, entry: Entry, event: RunForked) -> Changes:
        self.manifest.update(
            run_id=event.run_id,
            started_at=entry.at,
            status="running",
            finished_at="",
            forked_from={"run_id": event.source_run, "at_seq": event.at_seq},
        )
        return Changes(files={"manifest.json": _json(self.manifest)})

    def _finished(self, entry: Entry, event: RunFinished) -> Changes:
        if "restart_target" in self.manifest:
            status = "restarted"
        else:
            status = "succeeded" if event.outcome.status.succeeded else "failed"
        self.manifest.update(
            status=status, finished_at=entry.at, failure_reason=event.outcome.failure_reason
        )
        if self.usage.stages:
            self.manifest["usage"] = self.usage.summary()
        return Changes(files={"manifest.json": _json(self.manifest)})

    def _log(self, entry: Entry, node: str, what: str) -> None:
        self.logs.append(f"{entry.at} seq {entry.seq} [{entry.stream}] {node}: {what}")
        if len(self.logs) > LOG_LINES:
            del self.logs[0]

    def _checkpoint(self, entry: Entry, event: CheckpointSaved) -> bytes:
        top = self.state.top()
        data = {
            "timestamp": entry.at,
            "current_node": event.node,
            "completed_nodes": list(top.completed) if top else [],
            "node_retries": dict(sorted(top.retries.items())) if top else {},
            "context": dict(sorted(top.context.items())) if top else {},
            "logs": self.logs,
        }
        return _json(data)

    def _stage(self, entry: Entry, event: StageCompleted, before: RunState) -> Changes:
        outcome = event.outcome
        reason = f" ({outcome.failure_reason})" if outcome.failure_reason else ""
        self._log(entry, event.node, outcome.status.value + reason)
        t = before.traversals.get(entry.stream)
        if t is None:
            return Changes()
        rel = stage_path(before, t, event.node)
        files = {f"{rel}/status.json": _json(status_json(outcome))}
        prompt, response = event.prompt, event.response
        tool = self._tool(before, t, event.node)
        if tool is not None and not prompt and not response:
            prompt, response = tool
        artifacts: list[Artifact] = []
        if prompt:
            files[f"{rel}/prompt.md"] = prompt.encode()
        if response and byte_size(response) > FILE_BACKING_THRESHOLD:
            art = rel.replace("/", ".") + "-response"
            artifacts.append((art, f"{rel}/response.md", response))
            response = _pointer(art, byte_size(response))
        if response:
            files[f"{rel}/response.md"] = response.encode()
        return Changes(files=files, artifacts=artifacts)

    def _tool(self, before: RunState, t: Traversal, node_id: str) -> tuple[str, str] | None:
        """(command, stdout) of a tool stage, from the shell result its attempt recorded."""
        graph = before.graphs.get(t.graph)
        node = graph.nodes.get(node_id) if graph else None
        if graph is None or node is None or handler_type(node) != "tool":
            return None
        pre = node.get("tool_hooks.pre") or graph.get("tool_hooks.pre")
        index = 1 if pre else 0  # the results are: pre-hook (if any), command, post-hook
        result = t.results[index] if len(t.results) > index else None
        if not isinstance(result, ShellRan):
            return None
        return node.get("tool_command") or "", self._text(result.stdout)

    def _text(self, value: str | BlobRef) -> str:
        if isinstance(value, str):
            return value
        if self._blobs is None:
            return f"(output in blobs/{value.digest}, {value.size} bytes)\n"
        return self._blobs(value).decode("utf-8", errors="replace")


def _pointer(artifact_id: str, size: int) -> str:
    return (
        f"The response is {size} bytes, more than the 100 KB file-backing threshold; it is stored "
        f"as artifact `{artifact_id}` in `{artifact_path(artifact_id)}` (a JSON string).\n"
    )


def project(entries: Iterable[Entry], blobs: BlobReader | None = None) -> dict[str, bytes]:
    """Every projected file of a run log, by path relative to the run directory (pure).

    Args:
        entries: the run's log entries, in order.
        blobs: reads a blob the log refers to (large tool outputs); without it the projected
            text names the blob instead.
    """
    projection = Projection(blobs)
    files: dict[str, bytes] = {}
    for entry in entries:
        changes = projection.apply(entry)
        files.update(changes.files)
        for art, _, text in changes.artifacts:
            files[artifact_path(art)] = encode_artifact(text)
    return files


class Projector:
    """Writes projections as a run goes: an observer (`Callable[[Entry], None]`) for run.py.

    Bound to `run_dir` when given (the log there, if any, is projected first: resume); else to
    the directory each `run.started` names (new runs and loop restarts) or a `run.forked` names
    (a fork: its copied prefix is projected first). Entries already projected (seq not beyond
    the last one) are ignored.

    Inside an event loop, changed files are written when the engine next waits for the world
    (one `call_soon` per burst of entries, so a file changed several times in one burst is
    written once) and always at `run.finished`; outside a loop, at once. Call `flush()` when
    a run stops early (interrupt): whatever is pending is then written.

    A write that fails (disk full) raises `RecordingError` — from `flush()`, or, for a deferred
    write, from the next entry the projector is given — so the run stops instead of going on
    with projections behind its log.
    """

    def __init__(self, run_dir: str | Path | None = None) -> None:
        self.run_dir: Path | None = None
        self._projection = Projection()
        self._artifacts = ArtifactStore()
        self._files: dict[str, bytes] = {}
        self._pending_artifacts: dict[str, tuple[str, str]] = {}
        self._scheduled = False
        self._failed: RecordingError | None = None
        if run_dir is not None:
            self._catch_up(Path(run_dir))

    @property
    def state(self) -> RunState:
        """The run state folded so far (the live view reads it)."""
        return self._projection.state

    def _catch_up(self, run_dir: Path) -> None:
        """Bind to `run_dir` and project the log it already holds."""
        self._bind(run_dir)
        if (run_dir / "events.jsonl").is_file():
            for entry in read_log(run_dir / "events.jsonl"):
                self._collect(self._projection.apply(entry))
            self.flush()

    def _bind(self, run_dir: Path) -> None:
        self.flush()
        self.run_dir = run_dir
        blobs = BlobStore(run_dir / "blobs")
        self._projection = Projection(blobs.get)
        self._artifacts = ArtifactStore(run_dir)

    def __call__(self, entry: Entry) -> None:
        """Project one live entry."""
        if self._failed is not None:
            raise self._failed
        event = entry.event
        if entry.seq == 1 and isinstance(event, RunStarted):
            self._bind(Path(event.config.run_dir))
        elif isinstance(event, RunForked) and self.run_dir != Path(event.run_dir):
            self._catch_up(Path(event.run_dir))  # a new fork: its log already holds this entry
            return
        elif entry.seq <= self._projection.seq:
            return
        self._collect(self._projection.apply(entry))
        if isinstance(entry.event, RunFinished):
            self.flush()
        elif not self._scheduled:
            self._schedule()

    def _collect(self, changes: Changes) -> None:
        self._files.update(changes.files)
        for art, name, text in changes.artifacts:
            self._pending_artifacts[art] = (name, text)

    def _schedule(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        self._scheduled = True
        loop.call_soon(self._deferred_flush)

    def _deferred_flush(self) -> None:
        try:
            self.flush()
        except RecordingError as exc:  # raised again at the next entry: the run stops there
            self._failed = exc

    def flush(self) -> None:
        """Write every pending file now."""
        self._scheduled = False
        files, self._files = self._files, {}
        arts, self._pending_artifacts = self._pending_artifacts, {}
        if self.run_dir is None:
            return
        for rel, data in files.items():
            write_atomic(confine(self.run_dir, rel, "a projected file"), data)
        for art, (name, text) in arts.items():
            self._artifacts.store(art, name, text)


def rebuild(run_dir: str | Path) -> dict[str, bytes]:
    """Re-project a run directory from its log, rewriting every projected file; return them."""
    root = Path(run_dir)
    files = project(read_log(root / "events.jsonl"), BlobStore(root / "blobs").get)
    for rel, data in files.items():
        write_atomic(confine(root, rel, "a projected file"), data)
    return files
