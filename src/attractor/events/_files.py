"""Events layer (I/O): the few ways Attractor writes its own files — whole or not at all.

Rule: a write that records the run (a log append, a blob, a projection) either completes or
leaves nothing behind — no partial line, no temporary file — and its failure (disk full, quota,
I/O error) is a `RecordingError`, never an effect's failure and never a traceback (ADR 0105).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from attractor.events._errors import RecordingError

RESUME_HINT = (
    "the run stopped, interrupted; nothing it recorded was lost. Free space (or fix the cause), "
    "then `attractor resume` the run directory: the step in flight is performed again"
)


def recording_error(path: str | Path, what: str, exc: OSError) -> RecordingError:
    """The error for a failed write of `what` at `path` (naming the system's reason)."""
    reason = exc.strerror or type(exc).__name__
    return RecordingError(str(path), f"cannot {what}: {reason}", hint=RESUME_HINT)


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of `data` to `fd` (os.write may write less than asked)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def atomic_write(path: Path, data: bytes, *, fsync: bool, what: str) -> None:
    """Write `path` through a temporary file and a rename; on failure remove the temporary file
    and raise `RecordingError` (the old content of `path`, if any, stays)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            write_all(fd, data)
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise recording_error(path, what, exc) from None
