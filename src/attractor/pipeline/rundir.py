"""Pipeline layer (shell): a run directory's identity and the run directories its log names.

Rule: the log's paths are labels (`attractor.effects.paths`); the directory a command is given
is the run. `recorded_roots` lists the labels (the `run_dir` of `run.started` and of every
`run.forked`) so the live interpreter can rebase them. `identity_problem` compares the run the
log holds with the directory it sits in: a `manifest.json` naming another run means the log was
dropped in from elsewhere (ADR 0103); a directory name that is not the run id is a copy or a
rename, which is allowed but said.
"""

from __future__ import annotations

import errno
from pathlib import Path

import msgspec

from attractor.events import LogReader, recording_error
from attractor.pipeline.machine import PipelineMachine

_FORKED = b'"type":"run.forked"'
_STARTED = b'"type":"run.started"'


class _Envelope(msgspec.Struct):
    run_id: str
    run_dir: str = ""
    config: dict[str, object] = {}


class _Manifest(msgspec.Struct):
    run_id: str = ""


_envelope = msgspec.json.Decoder(_Envelope)
_manifest = msgspec.json.Decoder(_Manifest)


class LogIdentity(msgspec.Struct, frozen=True):
    """Which run a log holds (the fork's id once forked) and the run directories it names."""

    run_id: str
    roots: tuple[str, ...]


def log_identity(log: Path) -> LogIdentity:
    """The run a log holds and its recorded run directories (one pass over the raw lines,
    decoding only `run.started` and `run.forked`)."""
    run_id, roots = "", []
    for raw in LogReader(log).raw_lines():
        if _STARTED not in raw and _FORKED not in raw:
            continue
        try:
            head = _envelope.decode(raw)
        except msgspec.DecodeError:
            continue  # the checked readers report a bad line; identity only needs good ones
        run_id = head.run_id
        recorded = head.run_dir or head.config.get("run_dir", "")
        if isinstance(recorded, str) and recorded:
            roots.append(recorded)
    return LogIdentity(run_id=run_id, roots=tuple(roots))


def machine_roots(machine: PipelineMachine) -> tuple[str, ...]:
    """The run directories a machine's own events name (`run.started`, `run.forked`)."""
    fork = machine.forked
    return (machine.started.config.run_dir, *((fork.run_dir,) if fork else ()))


class ForeignLogError(Exception):
    """The run directory's manifest names another run than its log: the log was dropped in."""

    def __init__(self, message: str) -> None:
        self.hint = (
            "put the log back in its own run directory (or delete manifest.json if this "
            "directory really is that run's); nothing was changed"
        )
        super().__init__(message)


def identity_problem(run_dir: Path) -> tuple[str, bool]:
    """(message, foreign): "" when the directory and its log agree; `foreign` when a
    manifest.json beside the log names another run."""
    ident = log_identity(run_dir / "events.jsonl")
    if not ident.run_id:
        return "", False
    claimed = _manifest_run_id(run_dir / "manifest.json")
    if claimed and claimed != ident.run_id:
        return (
            f"{run_dir}: its manifest.json is run {claimed}, but its events.jsonl holds run "
            f"{ident.run_id} (a log from another run)",
            True,
        )
    if run_dir.name != ident.run_id:
        return (
            f"{run_dir}: the directory holds run {ident.run_id} under another name (a copy or a "
            "rename; fine if you made it)",
            False,
        )
    return "", False


def _manifest_run_id(path: Path) -> str:
    try:
        return _manifest.decode(path.read_bytes()).run_id
    except (OSError, msgspec.DecodeError):
        return ""


class LogsRootError(Exception):
    """`--logs-root` cannot hold run directories (a file, a read-only or virtual file system)."""

    def __init__(self, message: str) -> None:
        self.hint = "pass --logs-root a writable directory (it is created if missing)"
        super().__init__(message)


_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def make_run_dir(logs_root: Path, run_id: str) -> Path:
    """Create `<logs_root>/<run_id>` (absolute); `LogsRootError` when `logs_root` cannot hold
    it, `RecordingError` when the disk is full."""
    run_dir = (logs_root / run_id).resolve()
    try:
        run_dir.mkdir(parents=True)
    except OSError as exc:
        if exc.errno in _FULL:
            raise recording_error(run_dir, "create the run directory", exc) from None
        raise LogsRootError(
            f"--logs-root {logs_root}: cannot create a run directory there: {exc.strerror or exc}"
        ) from None
    return run_dir
