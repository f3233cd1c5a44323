"""Events layer (pure): the typed errors a log can raise.

Rule: every problem with a log names the file, the 1-based line and the reason, and offers a hint
when one is obvious. None of these errors is ever raised by *reading* in a way that changes the
log: reading is side-effect free.
"""

from __future__ import annotations


class LogError(Exception):
    """Base class of every error about an event log."""

    def __init__(self, path: str, reason: str, *, line: int | None = None, hint: str = "") -> None:
        self.path = path
        self.line = line
        self.reason = reason
        self.hint = hint
        where = f"{path}:{line}" if line is not None else path
        text = f"{where}: {reason}"
        if hint:
            text += f" (hint: {hint})"
        super().__init__(text)


class LogCorruptError(LogError):
    """A line is damaged: bad JSON, wrong field types, a seq gap or a broken hash chain."""


class UnknownEventTypeError(LogCorruptError):
    """A line names an event type that no registered event class carries."""


class NewerSchemaError(LogError):
    """A line was written by a newer Attractor whose event shape this version cannot read."""


class EmptyLogError(LogError):
    """The file holds no event at all."""


class NotALogError(LogError):
    """The path is missing, a directory, or otherwise not a readable log file."""


class LogKeyError(LogError):
    """The log key is missing (a keyed log read without it) or misconfigured (too short, both
    variables set, the key file unreadable or inside the run directory)."""


class RecordingError(LogError):
    """A write that records the run failed (disk full, quota, I/O error): the log append, a blob,
    a projection. Nothing recorded before it is lost, and the effect in flight is not failed —
    the run stops, and `resume` performs the effect again once the cause is fixed."""


class LogLockedError(LogError):
    """Another writer holds the log's lock; two appenders would corrupt it."""


class EventTypeError(TypeError):
    """An event class is declared wrongly (no explicit tag, duplicate tag)."""
