"""Server layer (I/O): where runs live — the one module through which the server reads runs.

Rule: every byte the server shows about a run comes through here, from the run's durable log.
Today a run is a directory `<logs_root>/<run_id>/events.jsonl` (CLI runs and server runs
alike); a PostgreSQL store (`--store URL`) will be a second `RunSource` with the same methods,
so nothing else in the server changes. Run ids are checked before they touch the filesystem:
an id is one path segment of letters, digits and `._-` (not starting with a dot), and the
resolved directory must be a direct child of the root — no traversal, no symlink escape.

`LineIndex` follows one growing log: it reads only complete lines (a line being written is
left for the next read), remembers where each line starts, and hands out raw lines by seq, so
a thousand SSE clients of one run cost one read of each new line, not a thousand.
"""

from __future__ import annotations

import os
import re
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from attractor.events import BlobStore

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_LINE_HEAD = re.compile(
    rb'\{"seq":(\d+),"at":"[^"\\]*","stream":"([^"\\]*)",(?:"v":\d+,)?"type":"([^"\\]+)"'
)
_READ_CHUNK = 1 << 20


class UnknownRunError(LookupError):
    """No run with this id exists under the logs root."""


class BadRunIdError(ValueError):
    """A run id that is not a single safe path segment (traversal, separators, dot files)."""


class RunSource(Protocol):
    """What the server needs from a store of runs (the seam for `--store URL`)."""

    def run_ids(self) -> list[str]:
        """Every run's id, newest first."""
        ...

    def log_path(self, run_id: str) -> Path:
        """The run's log; `BadRunIdError` / `UnknownRunError`."""
        ...

    def run_dir(self, run_id: str) -> Path:
        """Where a run's files (projections, blobs) live."""
        ...

    def blobs(self, run_id: str) -> BlobStore:
        """The run's blob store (large outputs the log refers to)."""
        ...

    def writer_pid(self, run_id: str) -> int | None:
        """The live process appending to the run, if any."""
        ...


def check_run_id(run_id: str) -> str:
    """`run_id` if it is a safe single path segment, else `BadRunIdError`."""
    if not RUN_ID.fullmatch(run_id):
        raise BadRunIdError(
            f"{run_id!r} is not a run id: use letters, digits and ._- (at most 128, not "
            "starting with a dot), e.g. 20261204T101500-1a2b3c4d"
        )
    return run_id


class RunDirectory:
    """Runs as directories under one logs root (the embedded store)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self._dirs: dict[str, Path] = {}  # checked run ids (a run directory never moves)

    def run_ids(self) -> list[str]:
        """Every directory under the root that holds an `events.jsonl`, newest id first."""
        if not self.root.is_dir():
            return []
        found = [
            d.name
            for d in self.root.iterdir()
            if RUN_ID.fullmatch(d.name) and (d / "events.jsonl").is_file()
        ]
        return sorted(found, reverse=True)

    def run_dir(self, run_id: str) -> Path:
        """The run's directory, confined to the root (`BadRunIdError`, `UnknownRunError`)."""
        known = self._dirs.get(run_id)
        if known is not None:
            return known
        path = (self.root / check_run_id(run_id)).resolve()
        if path.parent != self.root:
            raise BadRunIdError(f"{run_id!r} leads outside the logs root")
        if not (path / "events.jsonl").is_file():
            raise UnknownRunError(f"no run {run_id!r} under {self.root}")
        if len(self._dirs) < 100_000:
            self._dirs[run_id] = path
        return path

    def log_path(self, run_id: str) -> Path:
        """The run's `events.jsonl`."""
        return self.run_dir(run_id) / "events.jsonl"

    def blobs(self, run_id: str) -> BlobStore:
        """The run's blob store."""
        return BlobStore(self.run_dir(run_id) / "blobs")

    def writer_pid(self, run_id: str) -> int | None:
        """The pid recorded by the log's writer lock, when that process is still alive.

        The lock file keeps the last writer's pid; a dead pid means the run was stopped (a
        crash, Ctrl-C, a cancelled server run) and can be resumed.
        """
        lock = self.log_path(run_id).with_name("events.jsonl.lock")
        try:
            pid = int(lock.read_text(encoding="ascii").strip() or "0")
        except (OSError, ValueError):
            return None
        if pid <= 0:
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return pid


class LineIndex:
    """The complete lines of one growing log: their offsets, and the type of the last one read.

    `refresh()` reads what was appended since the last call (complete lines only); `lines(a, b)`
    yields the raw lines of seqs a..b (1-based, inclusive) from the file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._starts = array("q")  # byte offset of line seq (index seq - 1)
        self._end = 0  # offset just after the last complete line
        self.finished_seq = 0  # seq of the first `run.finished` line, 0 until there is one

    @property
    def count(self) -> int:
        """How many complete lines are indexed (the last seq)."""
        return len(self._starts)

    def refresh(self) -> int:
        """Index the lines appended since the last call; return how many were added."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return 0
        added = 0
        while size > self._end:
            with open(self.path, "rb") as f:
                f.seek(self._end)
                chunk = f.read(min(_READ_CHUNK, size - self._end))
            cut = chunk.rfind(b"\n")
            if cut < 0:
                break  # a line being written: read it next time
            added += self._index(chunk[: cut + 1])
        return added

    def _index(self, block: bytes) -> int:
        pos, added = 0, 0
        while pos < len(block):
            nl = block.index(b"\n", pos)
            self._starts.append(self._end + pos)
            if not self.finished_seq and block.startswith(b'{"seq":', pos):
                head = _LINE_HEAD.match(block, pos)
                if head is not None and head.group(3) == b"run.finished":
                    self.finished_seq = len(self._starts)
            pos, added = nl + 1, added + 1
        self._end += len(block)
        return added

    def lines(self, first: int, last: int) -> Iterator[bytes]:
        """The raw lines (without newline) of seqs `first`..`last` that are indexed."""
        last = min(last, self.count)
        if first > last:
            return
        start = self._starts[first - 1]
        stop = self._starts[last] if last < self.count else self._end
        with open(self.path, "rb") as f:
            f.seek(start)
            data = f.read(stop - start)
        yield from data.split(b"\n")[:-1]


def line_head(line: bytes) -> tuple[int, str, str]:
    """(seq, stream, type) of a raw log line, read from its envelope without decoding it."""
    head = _LINE_HEAD.match(line)
    if head is None:
        return 0, "", ""
    return int(head.group(1)), head.group(2).decode(), head.group(3).decode()
