"""Server layer (shell): what every request handler shares — config, runs, feeds, drives.

Rule: handlers stay thin; the questions they all ask ("which run is this?", "what is its
status?", "may I read this file?") are answered here once, each failure a `ProblemError`
with a clear message.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from attractor.dot import DotSyntaxError, format_dot, parse_dot
from attractor.events import BlobRef, LogError
from attractor.pipeline.backends import BackendSpecError, ScriptFileError, backend_from_spec
from attractor.pipeline.run import RunOptions
from attractor.server._checks import check_source
from attractor.server._feed import FeedHub, RunFeed, RunFold
from attractor.server._graph import GraphRenderer
from attractor.server._manager import RunManager
from attractor.server._present import base_status, run_item
from attractor.server._problems import ProblemError
from attractor.server._runs import BadRunIdError, RunDirectory, RunSource, UnknownRunError
from attractor.server._schemas import RunItem, Status
from attractor.server._security import ServerConfig, confine

SOURCES_DIR = "_sources"  # pasted DOT sources, under the logs root (not a run: no events.jsonl)


def now_iso() -> str:
    """The server's clock, in the log's timestamp format."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Services:
    """The server's shared state (one per app)."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.source: RunSource = RunDirectory(config.logs_root)
        self.root = Path(config.logs_root).resolve()
        self.hub = FeedHub(self.source)
        self.manager = RunManager(self.hub, self.root, fsync=config.fsync)
        self.renderer = GraphRenderer()
        self.roots = config.roots()
        self.closing = asyncio.Event()
        self._finished_items: dict[str, tuple[int, RunItem]] = {}  # run id -> (log size, row)

    # --- runs

    def feed(self, run_id: str) -> RunFeed:
        """The feed of a run (400 for a bad id, 404 for an unknown one)."""
        try:
            return self.hub.feed(run_id)
        except BadRunIdError as exc:
            raise ProblemError(400, "bad-run-id", str(exc)) from None
        except UnknownRunError as exc:
            raise ProblemError(
                404, "unknown-run", str(exc), hint="GET /pipelines lists the runs"
            ) from None

    def fold(self, run_id: str) -> tuple[RunFeed, RunFold]:
        """A run's feed and its fold, up to date (422 for a log that cannot be read)."""
        feed = self.feed(run_id)
        try:
            return feed, feed.folded()
        except LogError as exc:
            raise ProblemError(
                422, "unreadable-log", f"the run's log cannot be read: {exc}"
            ) from None

    def fold_at(self, feed: RunFeed, seq: int) -> RunFold:
        """The fold of the first `seq` entries."""
        try:
            return feed.fold_at(seq)
        except LogError as exc:
            raise ProblemError(
                422, "unreadable-log", f"the run's log cannot be read: {exc}"
            ) from None

    def writer(self, run_id: str) -> int | None:
        """Another live process appending to the run (a CLI run), if any."""
        pid = self.source.writer_pid(run_id)
        return None if pid == os.getpid() else pid

    def status(self, run_id: str, fold: RunFold) -> Status:
        """The log's status, refined by what is known about the drive (a finished run's log
        says it all; only an unfinished one needs a look at who, if anyone, is driving it)."""
        status = base_status(fold)
        if status != "running":
            return status
        live = self.manager.get(run_id)
        if live is not None and live.active:
            return "pausing" if live.control == "pausing" else "running"
        if live is not None and live.control in ("paused", "cancelled"):
            return "paused" if live.control == "paused" else "cancelled"
        return "running" if self.writer(run_id) else "stopped"

    def run_items(self) -> list[RunItem]:
        """Every run as a runs-list row, newest first (a log that cannot be read is left out
        here; `GET /pipelines/{id}` says why)."""
        now, items = now_iso(), []
        for run_id in self.source.run_ids():
            item = self._finished_items.get(run_id)
            if item is None or item[0] != self._log_size(run_id):
                try:
                    _, fold = self.fold(run_id)
                except ProblemError:
                    continue
                item = (
                    self._log_size(run_id),
                    run_item(run_id, fold, self.status(run_id, fold), now),
                )
                if fold.state.finished is not None:  # a finished run's row never changes again
                    self._finished_items[run_id] = item
            items.append(item[1])
        items.sort(key=lambda i: (i.started_at, i.id), reverse=True)  # ids tie within a second
        return items

    def _log_size(self, run_id: str) -> int:
        try:
            return self.source.log_path(run_id).stat().st_size
        except OSError:
            return -1

    def blob_text(self, run_id: str) -> Callable[[BlobRef], str]:
        """Reads a run's blobs as text (a missing blob is named, not an error)."""
        blobs = self.source.blobs(run_id)

        def text(ref: BlobRef) -> str:
            try:
                return blobs.get(ref).decode("utf-8", "replace")
            except (OSError, LogError):
                return f"(blob {ref.digest} is missing)"

        return text

    # --- what a start request names

    def dot_file(self, path: str) -> tuple[Path, str]:
        """A DOT file under an allowed root, and its text."""
        resolved = confine(path, self.roots, "DOT file")
        shown = path if len(path) <= 200 else path[:200] + "..."
        try:
            return resolved, resolved.read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            raise ProblemError(404, "no-such-file", f"{shown}: no such file") from None
        except IsADirectoryError:
            raise ProblemError(422, "not-a-file", f"{shown}: a directory, not a DOT file") from None
        except UnicodeDecodeError:
            raise ProblemError(422, "not-utf8", f"{shown}: not UTF-8 text") from None
        except PermissionError:
            raise ProblemError(403, "unreadable", f"{shown}: permission denied") from None
        except OSError as exc:
            raise ProblemError(
                404, "no-such-file", f"{shown}: cannot read: {exc.strerror}"
            ) from None

    def checked(self, source: str, filename: str) -> None:
        """422 with the diagnostics (or the syntax error) when `source` cannot run."""
        found = check_source(source, filename)
        if found.syntax_error is not None:
            raise ProblemError(
                422,
                "dot-syntax",
                f"the pipeline does not parse: {found.syntax_error.message}",
                syntax_error=found.syntax_error,
                hint=found.syntax_error.hint or "",
            )
        if not found.valid:
            first = next(d for d in found.diagnostics if d.is_error)
            raise ProblemError(
                422,
                "invalid-pipeline",
                f"the pipeline is not valid ({found.errors} error(s)): {first.message}",
                diagnostics=found.diagnostics,
                hint=first.fix or "",
            )

    def saved_source(self, source: str, goal: str) -> Path:
        """Store pasted (or goal-overridden) DOT under the logs root, named by its digest."""
        if goal:
            try:
                source = format_dot(parse_dot(source).with_attrs(goal=goal))
            except DotSyntaxError as exc:  # checked before; kept for safety
                raise ProblemError(422, "dot-syntax", str(exc)) from None
        digest = hashlib.sha256(source.encode()).hexdigest()[:20]
        target = self.root / SOURCES_DIR / f"{digest}.dot"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            tmp = target.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(source, encoding="utf-8")
            tmp.replace(target)
        return target

    def backend(self, spec: str) -> str:
        """The backend spec, a script path confined and made absolute; 422 if it cannot work."""
        name, _, arg = spec.partition(":")
        if name == "scripted":
            spec = f"scripted:{confine(arg, self.roots, 'script file')}"
        try:
            backend_from_spec(spec)
        except (BackendSpecError, ScriptFileError) as exc:
            raise ProblemError(422, "bad-backend", str(exc)) from None
        return spec

    def options(self, backend: str, auto_approve: bool, max_nodes: int) -> RunOptions:
        """The run options of a start request."""
        return RunOptions(
            backend=backend,
            logs_root=str(self.root),
            auto_approve=auto_approve,
            max_node_executions=max_nodes,
            fsync=self.config.fsync,
        )
