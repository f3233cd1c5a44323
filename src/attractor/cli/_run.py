"""CLI: `attractor run|resume|status|replay|fork|project` — pipeline runs on the command line.

Exit codes: 0 the run succeeded (replay: byte-identical), 1 the pipeline failed (replay: a
divergence), 2 invalid input (bad DOT, invalid graph, missing file, bad answers/script file,
not a run directory, corrupt log), 75 the run could not be recorded (disk full…) and stopped,
interrupted — `resume` continues it. Every command that runs a pipeline prints the run directory
and keeps its projections current (`attractor.pipeline.projector`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import msgspec
import typer

from attractor.cli._app import app
from attractor.cli._checks import cannot_record, check_identity, one_way_to_answer
from attractor.cli._dot import render_diagnostic
from attractor.cli._events import load_event_types
from attractor.cli._live import Mode, PausingInterviewer, RunView
from attractor.cli._output import err_console, fail, out_console, warn
from attractor.dot import DotSyntaxError, parse_dot
from attractor.effects import NonDeterminismError, Option, PathEscapeError, ReplayResult
from attractor.effects.driver import StalledError
from attractor.events import Entry, LogError, RecordingError, read_log, verify_log
from attractor.pipeline.backends import BackendSpecError, ScriptFileError, backend_from_spec
from attractor.pipeline.events import RunStarted
from attractor.pipeline.graphs import handler_type
from attractor.pipeline.interviewers import (
    AnswersFileError,
    Interviewer,
    check_answers,
    load_answers,
)
from attractor.pipeline.labels import accelerator_key
from attractor.pipeline.machine import NotARunLogError
from attractor.pipeline.projector import Projector, rebuild
from attractor.pipeline.reducer import reduce
from attractor.pipeline.run import (
    RunError,
    RunOptions,
    RunResult,
    fork_run,
    interviewer_for,
    prepare,
    replay_run,
    resume_run,
    run_log,
    start_run,
)
from attractor.pipeline.rundir import ForeignLogError, LogsRootError
from attractor.pipeline.state import RunState
from attractor.pipeline.status import RunSummary, summarize
from attractor.pipeline.usage import Spend, format_spend

_JSON = typer.Option(False, "--json", help="Print the final summary as JSON.")
_QUIET = typer.Option(False, "--quiet", "-q", help="Print only the final line.")


def _mode(quiet: bool, as_json: bool) -> Mode:
    if as_json:
        return "json"
    if quiet:
        return "quiet"
    return "live" if out_console.is_terminal else "plain"


def _syntax_text(path: Path) -> str:
    """The rendered syntax error of a DOT file, or "" when it parses (or cannot be read)."""
    try:
        parse_dot(path.read_text(encoding="utf-8"), filename=str(path))
    except DotSyntaxError as err:
        return err.render()
    except (OSError, UnicodeDecodeError):
        return ""
    return ""


def _run_error(exc: RunError, dot: Path | None) -> NoReturn:
    if exc.diagnostics and dot is not None:
        lines = dot.read_text(encoding="utf-8").splitlines()
        for diag in exc.diagnostics:
            typer.echo(render_diagnostic(diag, lines), err=True)
    elif dot is not None and dot.is_file():
        text = _syntax_text(dot)
        if text:
            typer.echo(text, err=True)
            raise typer.Exit(2)
    fail(str(exc), hint=exc.hint, code=2)


@contextmanager
def _input_errors(dot: Path | None = None) -> Iterator[None]:
    """Turn every invalid-input error into a clear message and exit code 2."""
    try:
        yield
    except RunError as exc:
        _run_error(exc, dot)
    except (AnswersFileError, ScriptFileError, BackendSpecError, NotARunLogError) as exc:
        fail(str(exc), code=2)
    except RecordingError as exc:
        cannot_record(exc, None)
    except LogError as exc:
        fail(str(exc), hint="the log was not changed", code=2)
    except (PathEscapeError, ForeignLogError, LogsRootError) as exc:
        fail(str(exc), hint=exc.hint, code=2)
    except StalledError as exc:
        fail(
            f"the engine stalled: {exc}",
            hint="this is an engine bug; the log is intact and `attractor resume` continues it",
            code=1,
        )


def _started_of(log: Path) -> RunStarted:
    """The `run.started` a pipeline run log begins with; RunError for any other log."""
    first = next(iter(read_log(log)), None)
    if first is None or not isinstance(first.event, RunStarted):
        raise RunError(
            f"{log}: not a pipeline run log (it does not start with run.started)",
            hint="`attractor log show` reads any event log",
        )
    return first.event


def _pipeline_log(path: Path) -> Path:
    """The log of a run directory (or the log itself), checked to be a pipeline run's."""
    log = run_log(path)
    _started_of(log)
    return log


def _run_dir_of(path: Path) -> Path:
    """The run directory holding a pipeline run's `events.jsonl`."""
    log = _pipeline_log(path)
    if log.name != "events.jsonl":
        raise RunError(
            f"{log}: a run's log is `events.jsonl` inside its run directory",
            hint="pass the run directory `attractor run` printed",
        )
    return log.parent


def _fold(entries: list[Entry]) -> RunState:
    state = RunState()
    for entry in entries:
        state = reduce(state, entry)
    return state


def _entries(log: Path) -> list[Entry]:
    """Every complete entry of a log; a torn last line (a crash mid-write) is a warning."""
    reader = read_log(log)
    entries = list(reader)
    if reader.torn_tail is not None:
        warn(
            f"{log}: line {reader.torn_tail.line} is torn (a crash mid-write) and was ignored; "
            "`attractor resume` cuts it off"
        )
    return entries


def _summary(run_dir: Path) -> RunSummary:
    entries = _entries(_pipeline_log(run_dir))
    return summarize(_fold(entries), entries)


def _took(summary: RunSummary) -> str:
    """` in 1.23s`: from the log's start and finish times (resumed runs count the pause)."""
    try:
        began = datetime.fromisoformat(summary.started_at)
        ended = datetime.fromisoformat(summary.finished_at)
    except ValueError:
        return ""
    return f" in {(ended - began).total_seconds():.2f}s"


def _final(run_dir: Path, mode: Mode) -> NoReturn:
    """Print how the run ended (one line, or JSON) and exit 0 or 1."""
    summary = _summary(run_dir)
    if mode == "json":
        data = {**msgspec.to_builtins(summary), "run_dir": str(run_dir)}
        typer.echo(json.dumps(data, indent=2))
    else:
        retries = sum(summary.retries.values())
        why = f" ({summary.failure_reason})" if summary.failure_reason else ""
        colour = "green" if summary.status == "succeeded" else "red"
        out_console.print(
            f"[bold {colour}]{summary.status}[/]{why}: {summary.name} - "
            f"{len(summary.completed_nodes)} stage(s), {retries} retry(ies){_took(summary)}; "
            f"run directory: {run_dir}",
            highlight=False,
        )
    raise typer.Exit(0 if summary.status in ("succeeded", "restarted") else 1)


def _drive(view: RunView, coro: Any, projector: Projector) -> RunResult:
    view.start()
    try:
        result: RunResult = asyncio.run(coro)
    except KeyboardInterrupt:
        view.stop()
        where = projector.run_dir or "the run directory"
        fail("interrupted", hint=f"continue with `attractor resume {where}`", code=130)
    except RecordingError as exc:
        view.stop()
        cannot_record(exc, projector.run_dir)
    finally:
        view.stop()
        with suppress(RecordingError):  # projections are rebuilt by `resume` / `project`
            projector.flush()
    return result


def _session(mode: Mode, projector: Projector) -> RunView:
    return RunView(mode, lambda: projector.state, out_console)


def _check_answers(dot: Path, answers: Path) -> None:
    """Refuse, before the run, an answers file whose reply fits no choice of its gate."""
    graph = prepare(dot)[1]
    options: dict[str, list[Option]] = {}
    for node in graph.nodes.values():
        if handler_type(node) == "wait.human":
            labels = [e.label or e.target for e in graph.outgoing_edges(node.id)]
            options[node.id] = [Option(key=accelerator_key(x), label=x) for x in labels]
    check_answers(load_answers(answers), options)


@app.command("run")
def run_command(
    file: Path = typer.Argument(..., help="The pipeline (.dot)."),
    backend: str = typer.Option(
        "simulate",
        "--backend",
        help="simulate | scripted:FILE | llm | claude-code | codex | gemini-cli",
    ),
    logs_root: Path = typer.Option(Path("runs"), "--logs-root", help="Where run dirs go."),
    auto_approve: bool = typer.Option(False, "--auto-approve", help="Approve every human gate."),
    answers: Path | None = typer.Option(None, "--answers", help="Answers file for human gates."),
    quiet: bool = _QUIET,
    as_json: bool = _JSON,
    no_fsync: bool = typer.Option(False, "--no-fsync", help="Skip fsync on appends (faster)."),
) -> None:
    """Run a pipeline to the end: exit 0 success, 1 pipeline failure, 2 invalid input."""
    one_way_to_answer(auto_approve, answers)
    load_event_types()
    options = RunOptions(
        backend=backend,
        logs_root=str(logs_root),
        auto_approve=auto_approve,
        answers=str(answers) if answers else "",
        fsync=not no_fsync,
    )
    mode = _mode(quiet, as_json)
    projector = Projector()
    view = _session(mode, projector)
    with _input_errors(file):
        if not file.is_file():
            raise RunError(f"{file}: no such file", hint="pass a .dot pipeline file")
        chosen = backend_from_spec(backend)
        if answers is not None:
            _check_answers(file, answers)
        asker: Interviewer = PausingInterviewer(interviewer_for(options), view)
        result = _drive(
            view,
            start_run(
                file, options, observers=[projector, view], interviewer=asker, backend=chosen
            ),
            projector,
        )
    _final(result.run_dir, mode)


@app.command("resume")
def resume_command(
    run_dir: Path = typer.Argument(..., help="A run directory (holding events.jsonl)."),
    auto_approve: bool = typer.Option(False, "--auto-approve", help="Approve every human gate."),
    answers: Path | None = typer.Option(None, "--answers", help="Answers file for human gates."),
    quiet: bool = _QUIET,
    as_json: bool = _JSON,
) -> None:
    """Continue a run from its log; completed effects are never repeated."""
    one_way_to_answer(auto_approve, answers)
    load_event_types()
    mode = _mode(quiet, as_json)
    with _input_errors():
        run_dir = _run_dir_of(run_dir)
        check_identity(run_dir, writing=True)
        projector = Projector(run_dir)
        view = _session(mode, projector)
        options = _human_options(_started_of(run_dir / "events.jsonl"), auto_approve, answers)
        asker: Interviewer = PausingInterviewer(interviewer_for(options), view)
        _drive(view, resume_run(run_dir, observers=[projector, view], interviewer=asker), projector)
    _final(run_dir, mode)


@app.command("status")
def status_command(
    run_dir: Path = typer.Argument(..., help="A run directory (or its events.jsonl)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Show where a run stands: status, current node(s), retries, pending questions."""
    load_event_types()
    with _input_errors():
        summary = _summary(run_dir)
        check_identity(run_dir, writing=False)
    if as_json:
        typer.echo(json.dumps(msgspec.to_builtins(summary), indent=2))
        return
    for line in _status_lines(summary):
        out_console.print(line, highlight=False, markup=False)


def _status_lines(s: RunSummary) -> list[str]:
    lines = [
        f"run      {s.run_id}  ({s.name})",
        f"status   {s.status}" + (f": {s.failure_reason}" if s.failure_reason else ""),
        f"started  {s.started_at}" + (f"   finished {s.finished_at}" if s.finished_at else ""),
        f"events   {s.event_count} (last seq {s.last_seq})",
        f"done     {', '.join(s.completed_nodes) or '-'}",
    ]
    if s.current:
        lines.append("current  " + ", ".join(f"{n} [{st}]" for st, n in s.current.items()))
    if s.retries:
        lines.append("retries  " + ", ".join(f"{n}={c}" for n, c in s.retries.items()))
    for q in s.pending_questions:
        lines.append(f"waiting  {q.id}: {q.text}")
    if s.usage:
        lines.append("spend    " + format_spend(msgspec.convert(s.usage["total"], Spend)))
    if s.forked_from:
        lines.append(f"forked   from {s.forked_from}")
    if s.restart_target:
        lines.append(f"restart  at {s.restart_target}, in a new linked run")
    if s.parent_run:
        lines.append(f"parent   {s.parent_run} (this run continues it after a loop restart)")
    return lines


@app.command("replay")
def replay_command(
    source: Path = typer.Argument(..., help="A run directory or its events.jsonl."),
    until: int | None = typer.Option(None, "--until", min=1, help="Stop after this seq."),
    pipeline: Path | None = typer.Option(None, "--pipeline", help="Replay against this DOT."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Re-run a recorded run without touching the world: exit 0 identical, 1 divergence."""
    load_event_types()
    seen: list[Entry] = []
    with _input_errors(pipeline):
        check_identity(source, writing=False)
        try:
            result = asyncio.run(
                replay_run(source, until=until, pipeline=pipeline, observers=[seen.append])
            )
        except NonDeterminismError as exc:
            _diverged(exc, as_json)
    _identical(result, seen, as_json)


def _identical(result: ReplayResult[RunState], seen: list[Entry], as_json: bool) -> None:
    """Report a replay that reproduced every line it checked (every one it observed)."""
    ended_early = result.stopped == "recording-ended"
    summary = summarize(result.state, seen)
    if as_json:
        data = {
            "identical": True,
            "events": len(seen),
            "byte_identical": result.identical,
            "reencoded": result.reencoded,
            "ended_early": ended_early,
            "summary": msgspec.to_builtins(summary),
        }
        typer.echo(json.dumps(data, indent=2))
        return
    tail = (
        "the recording ends before the run finished (an incomplete run, or --until)"
        if ended_early
        else f"the run finished: {summary.status}"
    )
    how = "byte for byte"
    if result.reencoded:
        how = (
            f"({result.identical} byte for byte, {result.reencoded} written differently by this "
            "version: an older log)"
        )
    out_console.print(
        f"[green]identical[/]: {len(seen)} event(s) reproduced {how}; {tail}", highlight=False
    )
    if ended_early:
        for line in _status_lines(summary):
            out_console.print(line, highlight=False, markup=False)


def _diverged(exc: NonDeterminismError, as_json: bool) -> NoReturn:
    """Report the first divergence; every line before it was reproduced exactly."""
    same = max(0, exc.seq - 1)
    if as_json:
        data = {
            "identical": False,
            "events": same,
            "divergence": {
                "seq": exc.seq,
                "stream": exc.stream,
                "expected": exc.expected,
                "actual": exc.actual,
            },
        }
        typer.echo(json.dumps(data, indent=2))
    else:
        err_console.print(f"{same} event(s) reproduced byte for byte, then:", highlight=False)
        typer.echo(exc.render(), err=True)
        if exc.expected and exc.expected == exc.actual:
            err_console.print(
                "  note: the event is the same once decoded, but its recorded line is not: the "
                "log was written by a version whose event shape differs (a field was added or "
                "removed without an upcaster)",
                highlight=False,
            )
    raise typer.Exit(1)


@app.command("fork")
def fork_command(
    run_dir: Path = typer.Argument(..., help="The run to fork."),
    at: int = typer.Option(..., "--at", help="Keep events 1..SEQ, then continue live."),
    logs_root: Path | None = typer.Option(None, "--logs-root", help="Where the new run goes."),
    auto_approve: bool = typer.Option(False, "--auto-approve", help="Approve every human gate."),
    answers: Path | None = typer.Option(None, "--answers", help="Answers file for human gates."),
    quiet: bool = _QUIET,
    as_json: bool = _JSON,
) -> None:
    """Start a new run that shares the first SEQ events of RUN_DIR and continues live."""
    one_way_to_answer(auto_approve, answers)
    load_event_types()
    mode = _mode(quiet, as_json)
    with _input_errors():
        log = _pipeline_log(run_dir)
        verify_log(log)  # a corrupt source must not be copied into a new run
        started = _started_of(log)
        projector = Projector()
        view = _session(mode, projector)
        options = _human_options(started, auto_approve, answers)
        asker: Interviewer = PausingInterviewer(interviewer_for(options), view)
        result = _drive(
            view,
            fork_run(
                run_dir, at, logs_root=logs_root, observers=[projector, view], interviewer=asker
            ),
            projector,
        )
    _final(result.run_dir, mode)


def _human_options(started: RunStarted, auto_approve: bool, answers: Path | None) -> RunOptions:
    """How humans answer in a resumed or forked run: as given now, else as recorded."""
    config = started.config
    return RunOptions(
        auto_approve=auto_approve or config.auto_approve,
        answers=str(answers) if answers else config.answers,
    )


@app.command("project")
def project_command(
    run_dir: Path = typer.Argument(..., help="A run directory."),
) -> None:
    """Rebuild every projection (checkpoint, manifest, stage files) from the run's log."""
    load_event_types()
    with _input_errors():
        run_dir = _run_dir_of(run_dir)
        check_identity(run_dir, writing=True)
        files = rebuild(run_dir)
    out_console.print(f"rebuilt {len(files)} file(s) in {run_dir} from its log", highlight=False)
