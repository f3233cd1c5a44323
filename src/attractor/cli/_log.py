"""CLI: `attractor log show|verify` — read and check event logs without changing them."""

from __future__ import annotations

import json
import sys
from fnmatch import fnmatchcase
from pathlib import Path

import typer
from rich.table import Table

from attractor.cli._app import app
from attractor.cli._events import load_event_types
from attractor.cli._output import fail, out_console, warn
from attractor.events import (
    EmptyLogError,
    LineCodec,
    LogError,
    NotALogError,
    TornTail,
    read_log,
    verify_log,
)

log_app = typer.Typer(help="Read and check event logs (never modifies them).", no_args_is_help=True)
app.add_typer(log_app, name="log")


def _torn_warning(path: Path, torn: TornTail) -> None:
    warn(
        f"{path}: line {torn.line} is torn ({torn.size} bytes without a newline: a crash "
        "mid-write); it was skipped. Resuming the run cuts it off and keeps a copy."
    )


@log_app.command("show")
def show(
    file: Path = typer.Argument(..., help="The events.jsonl file (or a run directory)."),
    stream: str = typer.Option(
        "", "--stream", help="Only streams matching this glob, e.g. 'run/*'."
    ),
    type_: str = typer.Option(
        "", "--type", help="Only event types matching this glob, e.g. 'effect.*'."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the matching lines as JSON Lines."),
) -> None:
    """Print a log's events as a table (or JSON Lines), checking every line as it goes."""
    load_event_types()
    path = _resolve(file)
    codec = LineCodec(str(path))
    rows: list[tuple[str, str, str, str, str]] = []
    try:
        reader = read_log(path)
        count = total = 0
        for entry in reader:
            total += 1
            tag = entry.event.__struct_config__.tag
            if stream and not fnmatchcase(entry.stream, stream):
                continue
            if type_ and not fnmatchcase(str(tag), type_):
                continue
            count += 1
            body = json.loads(codec.encode_event(entry.event))
            body.pop("type", None)
            if as_json:
                line = {"seq": entry.seq, "at": entry.at, "stream": entry.stream, "type": tag}
                sys.stdout.write(json.dumps({**line, **body}) + "\n")
            else:
                rows.append(
                    (str(entry.seq), entry.at[11:23], entry.stream, str(tag), _summary(body))
                )
    except LogError as exc:
        fail(
            f"{exc.path}{f':{exc.line}' if exc.line else ''}: {exc.reason}",
            hint=exc.hint,
            code=_code(exc),
        )
    if total == 0:
        torn = " (its only line is cut short: a crash while the first event was written)"
        fail(
            f"{path}: the log is empty: it holds no event, so it is not a run log"
            + (torn if reader.torn_tail is not None else ""),
            hint="is this the right file? a run's log is RUN_DIR/events.jsonl",
            code=1,
        )
    if not as_json:
        out_console.print(_table(rows))
        out_console.print(f"[dim]{count} event(s) shown from {path}[/]")
    if reader.torn_tail is not None:
        _torn_warning(path, reader.torn_tail)


@log_app.command("verify")
def verify(
    file: Path = typer.Argument(..., help="The events.jsonl file (or a run directory)."),
) -> None:
    """Check every line: it decodes, seq is gap-free, the hash chain is intact.

    Exit 0 when the log is sound (a torn last line is a warning), 1 when it is corrupt.
    """
    load_event_types()
    path = _resolve(file)
    try:
        report = verify_log(path)
    except LogError as exc:
        fail(
            f"{exc.path}{f':{exc.line}' if exc.line else ''}: {exc.reason}",
            hint=exc.hint,
            code=_code(exc),
        )
    if report.torn_tail is not None:
        _torn_warning(path, report.torn_tail)
    chain = "MAC chain (keyed)" if report.keyed else "chain"
    out_console.print(
        f"[green]ok[/] {path}: {report.count} event(s), last seq {report.last_seq}, "
        f"{chain} head {report.last_hash}"
    )


def _table(rows: list[tuple[str, str, str, str, str]]) -> Table:
    """Fixed columns keep their width; only the details column is cut to fit the terminal."""
    table = Table(box=None, header_style="bold", pad_edge=False)
    used = 0
    for i, name in enumerate(("seq", "time", "stream", "type")):
        width = max([len(name), *(len(r[i]) for r in rows)])
        table.add_column(name, no_wrap=True, min_width=width)
        used += width + 2
    room = max(20, out_console.width - used - 1)
    table.add_column("details", no_wrap=True)
    for *fixed, details in rows:
        table.add_row(*fixed, details if len(details) <= room else details[: room - 1] + "…")
    return table


def _resolve(file: Path) -> Path:
    """Accept a run directory for its `events.jsonl`."""
    if file.is_dir() and (file / "events.jsonl").is_file():
        return file / "events.jsonl"
    return file


def _code(exc: LogError) -> int:
    return 2 if isinstance(exc, NotALogError) and not isinstance(exc, EmptyLogError) else 1


def _summary(body: dict[str, object]) -> str:
    return ", ".join(f"{k}={json.dumps(v, separators=(',', ':'))}" for k, v in body.items())
