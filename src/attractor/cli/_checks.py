"""CLI helper: the checks and the error that issue 8's hardening added to the run commands.

- `one_way_to_answer`: `--answers` and `--auto-approve` together are a usage error (ADR 0101).
- `check_identity`: a log that does not belong to its run directory is refused by the commands
  that write there and warned about by the others (ADR 0103).
- `cannot_record`: a failure to record the run (disk full) stops it with one error line and
  exit 75 (ADR 0105).
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer

from attractor.cli._output import fail, warn
from attractor.events import RecordingError
from attractor.pipeline.run import run_log
from attractor.pipeline.rundir import ForeignLogError, identity_problem

EXIT_CANNOT_RECORD = 75  # EX_TEMPFAIL: the run stopped because it could not be recorded; resume


def one_way_to_answer(auto_approve: bool, answers: Path | None) -> None:
    """`--answers` and `--auto-approve` are two ways to answer gates: asking for both is a
    usage error, not a silent preference."""
    if auto_approve and answers is not None:
        raise typer.BadParameter(
            "use either --answers FILE or --auto-approve, not both",
            param_hint="'--answers' / '--auto-approve'",
        )


def check_identity(path: Path, *, writing: bool) -> None:
    """Say when a log does not belong to the directory it is in; refuse to write there when the
    directory's manifest names another run (ADR 0103)."""
    log = run_log(path)
    if log.name != "events.jsonl":
        return
    message, foreign = identity_problem(log.parent)
    if foreign and writing:
        raise ForeignLogError(message)
    if message:
        warn(message)


def cannot_record(exc: RecordingError, run_dir: Path | None) -> NoReturn:
    """A write that records the run failed (disk full…): the run stops, interrupted (ADR 0105)."""
    where = run_dir or "the run directory"
    fail(
        f"{exc.path}: {exc.reason}",
        hint=f"the run stopped, interrupted; nothing it recorded was lost. Free space (or fix "
        f"the cause), then `attractor resume {where}` performs the step in flight again",
        code=EXIT_CANNOT_RECORD,
    )
