"""Events layer (I/O): the event log as a JSONL file — durable append, streaming read, verify.

Rules:
- One writer at a time: `EventLog.open` takes an exclusive POSIX lock on `<log>.lock`; a second
  writer gets `LogLockedError` naming the holder's pid. The kernel drops the lock when the
  process dies (children never inherit it), so a crashed run can always be resumed.
- An append is durable when it returns: one write, flush, and fsync per call (a batch of events
  is one call and one fsync — callers choose the batch). It is whole or nothing: when the write
  or the fsync fails (disk full…), the file is cut back to its last complete line and a
  `RecordingError` is raised, so the log stays valid and nothing half-written remains.
- Reading never changes the file. A last line without its newline is a *torn tail* (a crash
  mid-write): readers skip it and report it; only `EventLog.open` (a writer) cuts it off, after
  saving its bytes to `<log>.torn-<offset>` so nothing is lost.
- The log key (ADR 0104): readers and writers take `key=` — by default the key configured in
  the environment (`ATTRACTOR_LOG_KEY`, or `ATTRACTOR_LOG_KEY_FILE` naming a file outside the
  run directory), else none. With a key every line is MAC-chained and checked; without one the
  format is the plain hash chain, byte for byte.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import msgspec

from attractor.events._codec import GENESIS, Entry, LineCodec, check_stream
from attractor.events._errors import (
    EmptyLogError,
    LogCorruptError,
    LogKeyError,
    LogLockedError,
    NotALogError,
    RecordingError,
)
from attractor.events._files import atomic_write, recording_error, write_all
from attractor.events.blobs import BlobStore
from attractor.events.keys import FROM_ENV, KeyArg, resolve_key
from attractor.events.store import Emit


class TornTail(msgspec.Struct, frozen=True):
    """A partial last line left by a crash: where it starts and how many bytes it has."""

    line: int
    offset: int
    size: int


class Verification(msgspec.Struct, frozen=True):
    """What `verify_log` found: how many events, the last seq and hash, and any torn tail."""

    count: int
    last_seq: int
    last_hash: str
    torn_tail: TornTail | None = None
    keyed: bool = False  # checked with a log key (a MAC chain), not just the plain hash chain


def utc_now() -> str:
    """The store's clock: UTC, microseconds, ISO 8601 with `Z`."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LogReader:
    """Iterates a log's entries in constant memory, checking every line as it goes.

    After iteration, `torn_tail` says whether a partial last line was skipped.
    """

    def __init__(self, path: str | Path, *, key: KeyArg = FROM_ENV) -> None:
        self.path = Path(path)
        self.torn_tail: TornTail | None = None
        _check_readable(self.path)
        self.key = resolve_key(key, self.path)

    def __iter__(self) -> Iterator[Entry]:
        codec = LineCodec(str(self.path), self.key)
        prev, expected, offset = GENESIS, 1, 0
        with open(self.path, "rb") as f:
            for lineno, raw in enumerate(f, start=1):
                if not raw.endswith(b"\n"):
                    self.torn_tail = _torn(self.path, lineno, offset, raw)
                    return
                offset += len(raw)
                entry = codec.decode(raw[:-1], lineno, prev)
                if entry.seq != expected:
                    raise LogCorruptError(
                        str(self.path),
                        f"seq {entry.seq} where {expected} was expected",
                        line=lineno,
                        hint="lines were removed, duplicated or reordered",
                    )
                prev, expected = entry.hash, expected + 1
                yield entry

    def raw_lines(self) -> Iterator[bytes]:
        """The complete lines as bytes (without newlines), unchecked; the torn tail excluded."""
        with open(self.path, "rb") as f:
            for raw in f:
                if raw.endswith(b"\n"):
                    yield raw[:-1]


_LINE_START = b'{"seq":'


def _torn(path: Path, lineno: int, offset: int, raw: bytes) -> TornTail:
    """A last line without its newline: a torn tail when it is the start of an event line (a
    crash mid-write), else corruption (garbage is not excused by a missing newline)."""
    start = raw[: len(_LINE_START)]
    plausible = _LINE_START.startswith(start) and (
        len(raw) <= len(_LINE_START) or raw[len(_LINE_START) : len(_LINE_START) + 1].isdigit()
    )
    if not plausible:
        excerpt = raw[:80].decode("utf-8", "replace")
        raise LogCorruptError(
            str(path),
            "not an event line (and it has no newline: not even a line cut short by a crash)",
            line=lineno,
            hint=f"the line starts with {excerpt!r}",
        )
    return TornTail(line=lineno, offset=offset, size=len(raw))


def read_log(path: str | Path, *, key: KeyArg = FROM_ENV) -> LogReader:
    """Open a log for reading; iterate the result for `Entry` values."""
    return LogReader(path, key=key)


def verify_log(path: str | Path, *, key: KeyArg = FROM_ENV) -> Verification:
    """Check every line (decodes, seq gap-free, hash chain intact); raise on the first problem."""
    reader = LogReader(path, key=key)
    count, last_seq, last_hash = 0, 0, GENESIS
    for entry in reader:
        count, last_seq, last_hash = count + 1, entry.seq, entry.hash
    if count == 0 and reader.torn_tail is None:
        raise EmptyLogError(str(path), "the log holds no event", hint="is this the right file?")
    if count == 0:
        raise EmptyLogError(
            str(path),
            "the log holds no complete event: its only line is cut short (a crash while the "
            "first event was written)",
            line=1,
            hint="a run that crashed before its first event can be started again",
        )
    return Verification(
        count=count,
        last_seq=last_seq,
        last_hash=last_hash,
        torn_tail=reader.torn_tail,
        keyed=reader.key is not None,
    )


def _check_readable(path: Path) -> None:
    if path.is_dir():
        raise NotALogError(
            str(path), "is a directory, not a log file", hint=f"try {path / 'events.jsonl'}"
        )
    if not path.exists():
        raise NotALogError(str(path), "no such file")
    if not os.access(path, os.R_OK):
        raise NotALogError(str(path), "permission denied")


class EventLog:
    """The JSONL event log, opened for appending. Implements `Store`.

    Use `EventLog.open(path)`; close it (or use `with`) to release the writer lock.
    """

    def __init__(
        self,
        path: Path,
        fd: int,
        lock_fd: int,
        *,
        last_seq: int,
        last_hash: str,
        fsync: bool,
        clock: Callable[[], str],
        key: bytes | None = None,
    ) -> None:
        self.path = path
        self.name = str(path)
        self._fd: int | None = fd
        self._size = os.fstat(fd).st_size  # where the last complete line ends
        self._failed: RecordingError | None = None
        self._lock_fd = lock_fd
        self._seq = last_seq
        self._hash = last_hash
        self._fsync = fsync
        self._clock = clock
        self.key = key
        self._codec = LineCodec(str(path), key)
        self.blobs = BlobStore(path.parent / "blobs")
        self.torn_tail: TornTail | None = None

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        fsync: bool = True,
        clock: Callable[[], str] = utc_now,
        key: KeyArg = FROM_ENV,
    ) -> EventLog:
        """Open (creating if needed) a log for appending; take the writer lock; cut a torn tail.

        A log whose last line is keyed differently from `key` (a keyed log without the key, a
        plain one with it) is refused, so a log never mixes the two chains."""
        path = Path(path)
        if path.is_dir():
            raise NotALogError(str(path), "is a directory, not a log file")
        secret = resolve_key(key, path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise recording_error(path.parent, "create the run directory", exc) from None
        lock_fd = _take_lock(path)
        try:
            torn = _cut_torn_tail(path)
            last_seq, last_hash = _tail_envelope(path, secret)
            fd = _open_for_append(path)
        except BaseException:
            _release_lock(path, lock_fd)
            raise
        log = cls(
            path,
            fd,
            lock_fd,
            last_seq=last_seq,
            last_hash=last_hash,
            fsync=fsync,
            clock=clock,
            key=secret,
        )
        log.torn_tail = torn
        return log

    @property
    def last_seq(self) -> int:
        """The seq of the last entry appended (0 for an empty log)."""
        return self._seq

    def entries(self) -> Iterator[Entry]:
        """Read every entry back from the file (checked, in constant memory)."""
        return iter(LogReader(self.path, key=self.key))

    def append(self, items: Sequence[Emit]) -> list[Entry]:
        """Append `items` as one write and (if enabled) one fsync; return their entries.

        Raises:
            RecordingError: the write or the fsync failed; the file is as it was before.
        """
        if self._failed is not None:
            raise self._failed
        lines: list[bytes] = []
        out: list[Entry] = []
        seq, prev = self._seq, self._hash
        for stream, event in items:
            seq += 1
            at = self._clock()
            line, prev = self._codec.encode(seq, at, check_stream(stream), event, prev)
            lines.append(line)
            out.append(Entry(seq=seq, at=at, stream=stream, event=event, hash=prev))
        if not lines:
            return out
        self._write(b"\n".join(lines) + b"\n")
        self._seq, self._hash = seq, prev
        return out

    def _write(self, data: bytes) -> None:
        """One durable write of whole lines, or none at all (the file cut back on failure)."""
        assert self._fd is not None, "append after close"
        try:
            write_all(self._fd, data)
            if self._fsync:
                os.fsync(self._fd)
        except OSError as exc:
            self._failed = recording_error(self.path, "append to the log", exc)
            with contextlib.suppress(OSError):  # if even this fails: a torn tail, resume cuts it
                os.ftruncate(self._fd, self._size)
            raise self._failed from None
        self._size += len(data)

    def close(self) -> None:
        """Close and release the writer lock (every append was already written and synced)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            _release_lock(self.path, self._lock_fd)

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_held: set[str] = set()
"""Logs this process holds the writer lock of (POSIX locks do not conflict within a process)."""


def _open_for_append(path: Path) -> int:
    try:
        return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as exc:
        raise recording_error(path, "open the log for appending", exc) from None


def _take_lock(path: Path) -> int:
    """Take the writer lock: a POSIX record lock (held by this process only — unlike `flock`,
    not inherited by the shell commands a run starts), plus an in-process guard."""
    lock_path = path.with_name(path.name + ".lock")
    key = str(lock_path.resolve())
    if key in _held:  # never open a second fd here: closing it would drop this process's lock
        raise LogLockedError(
            str(path),
            f"this process (pid {os.getpid()}) is already appending to this log",
            hint="close the other EventLog first; two writers would corrupt the log",
        )
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise LogLockedError(
            str(path),
            f"another writer (pid {holder}) is appending to this log",
            hint="wait for it to finish, or stop it; two writers would corrupt the log",
        ) from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
    except OSError as exc:
        os.close(fd)
        raise recording_error(lock_path, "write the writer lock", exc) from None
    _held.add(key)
    return fd


def _release_lock(path: Path, fd: int) -> None:
    _held.discard(str(path.with_name(path.name + ".lock").resolve()))
    os.close(fd)


def _cut_torn_tail(path: Path) -> TornTail | None:
    """Save and cut a partial last line. Only a writer (holding the lock) calls this."""
    if not path.exists():
        return None
    with open(path, "r+b") as f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return None
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return None
        start = _last_newline_before(f, size) + 1
        f.seek(start)
        partial = f.read()
        saved = path.with_name(f"{path.name}.torn-{start}")
        atomic_write(saved, partial, fsync=True, what="save the torn last line")
        f.truncate(start)
        f.flush()
        os.fsync(f.fileno())
    return TornTail(line=-1, offset=start, size=len(partial))


def _last_newline_before(f: BinaryIO, end: int) -> int:
    """Offset of the last b'\\n' before `end`, or -1; reads backwards in blocks."""
    pos = end
    while pos > 0:
        step = min(65536, pos)
        pos -= step
        f.seek(pos)
        block = f.read(step)
        idx = block.rfind(b"\n", 0, end - pos)
        if idx >= 0:
            return pos + idx
    return -1


def _tail_envelope(path: Path, key: bytes | None) -> tuple[int, str]:
    """Seq and hash (or MAC) of the last complete line, checked by decoding it (no full scan);
    the line must be chained the way `key` says."""
    if not path.exists() or path.stat().st_size == 0:
        return 0, GENESIS
    with open(path, "rb") as f:
        end = f.seek(0, os.SEEK_END)
        start = _last_newline_before(f, end - 1) + 1
        f.seek(start)
        last = f.read().rstrip(b"\n")
    try:
        head = _tail_fields.decode(last)
    except msgspec.DecodeError:
        raise LogCorruptError(
            str(path), "the last line is not an event line", hint="run `attractor log verify`"
        ) from None
    if key is None and head.mac:
        raise LogKeyError(
            str(path),
            "the log is keyed; it cannot be continued without its key",
            hint="set ATTRACTOR_LOG_KEY (or ATTRACTOR_LOG_KEY_FILE) to the key it was written with",
        )
    if key is not None and head.hash:
        raise LogCorruptError(
            str(path),
            "a log key is set but this log is not keyed (plain hashes): continuing it would mix "
            "two chains",
            hint="unset ATTRACTOR_LOG_KEY to continue a log written without it",
        )
    return head.seq, head.hash or head.mac


class _Tail(msgspec.Struct):
    seq: int
    hash: str = ""
    mac: str = ""


_tail_fields = msgspec.json.Decoder(_Tail)
