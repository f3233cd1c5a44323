"""Pipeline layer (async shell): start, resume, replay and fork runs.

Rule: this module wires the pure engine to the world — it reads the DOT file, prepares it
(parse → transform → validate), opens the run's event log, builds the live interpreter with the
run's interviewer and codergen backend, and drives the `PipelineMachine`. Everything it decides
is recorded in `run.started`, so resume and replay need nothing but the log.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from attractor import __version__
from attractor.dot import DotSyntaxError, Graph, prepare_pipeline
from attractor.dot._diagnostics import Diagnostic
from attractor.effects import (
    AskHuman,
    DriveResult,
    LiveInterpreter,
    Machine,
    Recording,
    ReplayResult,
    RunDir,
    drive,
    replay,
)
from attractor.events import Entry, EventLog, LogReader, read_log, recording_error
from attractor.pipeline.backends import (
    CodergenBackend,
    as_call_performer,
    backend_from_spec,
    decode_call,
)
from attractor.pipeline.events import RunForked, RunStarted
from attractor.pipeline.handlers import HandlerRegistry, builtin_registry
from attractor.pipeline.interviewers import (
    AnswersFileInterviewer,
    AutoApproveInterviewer,
    ConsoleInterviewer,
    Interviewer,
    as_performer,
)
from attractor.pipeline.machine import PipelineMachine
from attractor.pipeline.model import RunConfig
from attractor.pipeline.reducer import prepare_graph
from attractor.pipeline.rundir import log_identity, machine_roots, make_run_dir
from attractor.pipeline.state import RunState
from attractor.pipeline.threads import ThreadBook
from attractor.pipeline.usage import SpendGuard, failed_reply

Observer = Callable[[Entry], None]
MachineWrapper = Callable[[PipelineMachine], Machine[RunState]]
"""Wraps the engine for one drive, e.g. the server's pause gate (stop at a node boundary)."""
MAX_LOOP_RESTARTS = 100


class RunError(Exception):
    """The run cannot start or continue (bad DOT, invalid graph, not a run directory, …).

    `diagnostics` holds the validation errors when that is the reason.
    """

    def __init__(
        self, message: str, *, hint: str = "", diagnostics: Sequence[Diagnostic] = ()
    ) -> None:
        self.hint = hint
        self.diagnostics = tuple(diagnostics)
        super().__init__(message)


class RunOptions(msgspec.Struct, frozen=True):
    """How to run: the backend spec, where runs go, how humans answer."""

    backend: str = "simulate"
    logs_root: str = "runs"
    auto_approve: bool = False
    answers: str = ""
    fsync: bool = True
    max_node_executions: int = 10_000


class RunResult(msgspec.Struct):
    """Where a run lives and how it ended."""

    run_dir: Path
    state: RunState
    stopped: str


def new_run_id() -> str:
    """A sortable, unique run id: UTC time plus 8 random hex digits."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def prepare(dot_path: str | Path) -> tuple[str, Graph]:
    """Read and prepare a pipeline; `RunError` with diagnostics when it cannot run."""
    path = Path(dot_path)
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise RunError(f"{path}: is a directory, not a DOT file") from None
    except UnicodeDecodeError:
        raise RunError(f"{path}: not UTF-8 text") from None
    result = prepare_pipeline(source, filename=str(path), handler_types=builtin_registry().types())
    prepared = result.value_or(None)
    if prepared is None:
        error = result.failure()
        assert isinstance(error, DotSyntaxError)
        raise RunError(str(error))
    if prepared.errors:
        first = prepared.errors[0]
        raise RunError(
            f"{path}: the pipeline is not valid ({len(prepared.errors)} error(s)): {first.message}",
            hint="run `attractor validate` for every diagnostic",
            diagnostics=prepared.errors,
        )
    return source, prepared.graph


def interviewer_for(options: RunOptions) -> Interviewer:
    """Answers file, else auto-approve, else the console."""
    if options.answers:
        return AnswersFileInterviewer(options.answers)
    if options.auto_approve:
        return AutoApproveInterviewer()
    return ConsoleInterviewer()


class _Session:
    """How a run is carried out in this process: backend, interviewer, observers, registry."""

    def __init__(
        self,
        options: RunOptions,
        backend: CodergenBackend,
        interviewer: Interviewer,
        observers: Sequence[Observer],
        registry: HandlerRegistry | None,
        wrap: MachineWrapper | None = None,
    ) -> None:
        self.options, self.backend, self.interviewer = options, backend, interviewer
        self.observers, self.registry, self.wrap = observers, registry, wrap

    def interpreter(
        self, log: EventLog, book: ThreadBook, run_dir: RunDir, guard: SpendGuard
    ) -> LiveInterpreter:
        """The live interpreter: humans through the interviewer, codergen through the backend
        (with `full` thread history filled in from the book); the log's paths rebased onto the
        actual run directory."""
        perform = as_call_performer(self.backend)

        async def codergen(args: Any) -> Any:
            call = book.expand(decode_call(args))
            call = msgspec.structs.replace(call, stage_dir=run_dir.rebase(call.stage_dir))
            refused = guard.before(call)
            if refused:
                return msgspec.to_builtins(failed_reply(refused))
            value = await perform(msgspec.to_builtins(call))
            crossed = guard.after(call, value)
            return msgspec.to_builtins(failed_reply(crossed, value)) if crossed else value

        return LiveInterpreter(
            log.blobs,
            performers={AskHuman: as_performer(self.interviewer)},
            calls={"codergen": codergen},
            run_dir=run_dir,
        )

    async def drive(self, machine: PipelineMachine, log_path: Path) -> RunResult:
        """Drive `machine` on the log at `log_path` (fresh or resumed) to its end."""
        book, guard = ThreadBook(), SpendGuard()
        if log_path.exists():
            for entry in read_log(log_path):  # a resume: the books catch up with the log
                book(entry)
                guard.book(entry)

        def observe(entry: Entry) -> None:
            book(entry)
            for fn in self.observers:
                fn(entry)

        roots = (
            (*log_identity(log_path).roots, *machine_roots(machine)) if log_path.exists() else ()
        )
        run_dir = RunDir(log_path.parent, roots or machine_roots(machine))
        with EventLog.open(log_path, fsync=self.options.fsync) as log:
            engine = self.wrap(machine) if self.wrap is not None else machine
            outcome: DriveResult[RunState] = await drive(
                engine, log, self.interpreter(log, book, run_dir, guard), observe=observe
            )
        return RunResult(run_dir=log_path.parent, state=outcome.state, stopped=outcome.stopped)

    async def new_run(
        self, source: str, dot_path: str, graph: Graph, start_at: str, parent_run: str
    ) -> RunResult:
        """A fresh run directory and log for `source`, driven to its end."""
        options = self.options
        run_id = new_run_id()
        run_dir = make_run_dir(Path(options.logs_root), run_id)
        config = RunConfig(
            run_dir=str(run_dir),
            workdir=os.getcwd(),
            backend=_absolute_backend(options.backend),
            max_node_executions=options.max_node_executions,
            auto_approve=options.auto_approve,
            answers=str(Path(options.answers).resolve()) if options.answers else "",
            logs_root=str(Path(options.logs_root).resolve()),
        )
        started = RunStarted(
            run_id=run_id,
            name=graph.name,
            goal=graph.goal,
            dot_source=source,
            dot_digest=hashlib.sha256(source.encode()).hexdigest(),
            dot_path=dot_path,
            config=config,
            attractor_version=__version__,
            start_at=start_at,
            parent_run=parent_run,
        )
        return await self.drive(PipelineMachine(started, self.registry), run_dir / "events.jsonl")

    async def follow_restarts(self, result: RunResult) -> RunResult:
        """A run that ended by a `loop_restart` edge continues as a new linked run, and so on."""
        for _ in range(MAX_LOOP_RESTARTS):
            started = result.state.started
            if not result.state.restart_at or started is None:
                return result
            graph = prepare_graph(started.dot_source, started.dot_path)
            result = await self.new_run(
                started.dot_source,
                started.dot_path,
                graph,
                start_at=result.state.restart_at,
                parent_run=started.run_id,
            )
        if result.state.restart_at:
            raise RunError(f"more than {MAX_LOOP_RESTARTS} loop restarts; stopping")
        return result


async def start_run(
    dot_path: str | Path,
    options: RunOptions | None = None,
    *,
    observers: Sequence[Observer] = (),
    interviewer: Interviewer | None = None,
    backend: CodergenBackend | None = None,
    registry: HandlerRegistry | None = None,
    start_at: str = "",
    parent_run: str = "",
    wrap: MachineWrapper | None = None,
) -> RunResult:
    """Prepare `dot_path` and run it to the end in a new run directory under `logs_root`
    (following loop restarts into new linked runs)."""
    options = options or RunOptions()
    source, graph = prepare(dot_path)
    session = _Session(
        options,
        backend or backend_from_spec(options.backend),
        interviewer or interviewer_for(options),
        observers,
        registry,
        wrap,
    )
    # recorded absolute: child pipelines resolve against it, from any working directory
    result = await session.new_run(
        source, str(Path(dot_path).resolve()), graph, start_at, parent_run
    )
    return await session.follow_restarts(result)


def _absolute_backend(spec: str) -> str:
    """`scripted:FILE` with FILE made absolute, so a resume from elsewhere finds it."""
    name, sep, arg = spec.partition(":")
    return f"{name}{sep}{Path(arg).resolve()}" if name == "scripted" and arg else spec


def _recorded_options(started: RunStarted, logs_root: Path) -> RunOptions:
    """The options a run was started with, as its `run.started` recorded them; linked runs go
    to `logs_root` (beside the run directory as it is now, wherever it was recorded)."""
    c = started.config
    return RunOptions(
        backend=c.backend,
        auto_approve=c.auto_approve,
        answers=c.answers,
        logs_root=str(logs_root),
        max_node_executions=c.max_node_executions,
    )


def run_log(run_dir: str | Path) -> Path:
    """The events.jsonl of a run directory (or the file itself)."""
    path = Path(run_dir)
    log = path / "events.jsonl" if path.is_dir() else path
    if not log.is_file():
        raise RunError(
            f"{path}: not a run directory (no events.jsonl)",
            hint="pass the directory `attractor run` printed",
        )
    return log


def _started(log: Path) -> RunStarted:
    first = next(iter(read_log(log)), None)
    if first is None or not isinstance(first.event, RunStarted):
        raise RunError(f"{log}: not a pipeline run log (it does not start with run.started)")
    return first.event


async def resume_run(
    run_dir: str | Path,
    *,
    observers: Sequence[Observer] = (),
    interviewer: Interviewer | None = None,
    backend: CodergenBackend | None = None,
    registry: HandlerRegistry | None = None,
    options: RunOptions | None = None,
    wrap: MachineWrapper | None = None,
) -> RunResult:
    """Continue a run from its log: completed effects are never repeated (DESIGN §1). A run that
    ends by a loop restart continues into its new linked run, as `start_run` does."""
    log = run_log(run_dir)
    started = _started(log)
    opts = options or _recorded_options(started, log.parent.parent)
    session = _Session(
        opts,
        backend or backend_from_spec(started.config.backend),
        interviewer or interviewer_for(opts),
        observers,
        registry,
        wrap,
    )
    result = await session.drive(PipelineMachine(started, registry), log)
    return await session.follow_restarts(result)


async def replay_run(
    source: str | Path,
    *,
    until: int | None = None,
    pipeline: str | Path | None = None,
    registry: HandlerRegistry | None = None,
    observers: Sequence[Observer] = (),
) -> ReplayResult[RunState]:
    """Re-run a recorded run with no effect on the world; raises `NonDeterminismError`.

    With `pipeline`, the recorded run is replayed against a changed DOT file: the first
    divergence is where behaviour changes.
    """
    log = run_log(source)
    override = prepare(Path(pipeline).resolve())[1] if pipeline else None
    machine = PipelineMachine.from_log(read_log(log), registry, graph_override=override)

    def observe(entry: Entry) -> None:
        for fn in observers:
            fn(entry)

    return await replay(machine, Recording.from_file(log, until), observe=observe)


async def fork_run(
    run_dir: str | Path,
    at: int,
    *,
    logs_root: str | Path | None = None,
    observers: Sequence[Observer] = (),
    interviewer: Interviewer | None = None,
    backend: CodergenBackend | None = None,
    registry: HandlerRegistry | None = None,
    wrap: MachineWrapper | None = None,
) -> RunResult:
    """Start a new run that shares the first `at` events of `run_dir` and continues live."""
    log = run_log(run_dir)
    started = _started(log)
    lines = list(LogReader(log).raw_lines())
    if not 1 <= at <= len(lines):
        raise RunError(f"--at {at} is outside the log (1..{len(lines)})")
    root = Path(logs_root) if logs_root else log.parent.parent  # beside the run, wherever it is
    run_id = new_run_id()
    new_dir = make_run_dir(root, run_id)
    try:
        (new_dir / "events.jsonl").write_bytes(b"\n".join(lines[:at]) + b"\n")
        blobs = log.parent / "blobs"
        if blobs.is_dir():
            shutil.copytree(blobs, new_dir / "blobs")
    except OSError as exc:  # a half-made fork is no run: remove it
        shutil.rmtree(new_dir, ignore_errors=True)
        raise recording_error(new_dir, "copy the run into its fork", exc) from None
    forked = RunForked(run_id=run_id, run_dir=str(new_dir), source_run=started.run_id, at_seq=at)
    with EventLog.open(new_dir / "events.jsonl") as new_log:
        for entry in new_log.append([("run", forked)]):
            for fn in observers:
                fn(entry)
    opts = _recorded_options(started, root)
    return await resume_run(
        new_dir,
        observers=observers,
        interviewer=interviewer,
        backend=backend,
        registry=registry,
        options=opts,
        wrap=wrap,
    )


async def run_events(
    dot_path: str | Path, options: RunOptions | None = None, **kwargs: Any
) -> AsyncIterator[Entry]:
    """Start a run and yield its entries as they are appended — the stream API for hosts (spec
    §9.6): `async for entry in run_events("p.dot"): ...`. Errors of the run are raised at the
    end of the iteration; leaving the loop early cancels the run (resume it later)."""
    queue: asyncio.Queue[Entry | None] = asyncio.Queue()
    observers = [*kwargs.pop("observers", ()), queue.put_nowait]
    task = asyncio.ensure_future(start_run(dot_path, options, observers=observers, **kwargs))
    task.add_done_callback(lambda _: queue.put_nowait(None))
    try:
        while (entry := await queue.get()) is not None:
            yield entry
        await task
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def is_interactive() -> bool:
    """Whether a human can answer on this terminal."""
    return sys.stdin.isatty()
