"""Pipeline layer (shell): the artifact store of spec §5.5 and the atomic file writer.

Rule: an artifact larger than `FILE_BACKING_THRESHOLD` (100 KB) lives in
`<base_dir>/artifacts/{artifact_id}.json` (its JSON encoding); a smaller one stays in memory.
The bytes of an artifact file come from `encode_artifact` alone, so the pure projector
(`attractor.pipeline.projector.project`) computes exactly the file this store writes.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from attractor.events import atomic_write

FILE_BACKING_THRESHOLD = 100 * 1024
ARTIFACTS_DIR = "artifacts"
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]*")


class ArtifactInfo(msgspec.Struct, frozen=True):
    """What the store knows about one artifact (spec §5.5)."""

    id: str
    name: str
    size_bytes: int
    stored_at: str
    is_file_backed: bool


class ArtifactNotFoundError(LookupError):
    """`retrieve` or `remove` named an artifact the store does not hold."""

    def __init__(self, artifact_id: str, known: list[str]) -> None:
        self.artifact_id = artifact_id
        shown = ", ".join(known[:10]) or "none"
        super().__init__(f"artifact {artifact_id!r} not found (stored: {shown})")


def check_artifact_id(artifact_id: str) -> str:
    """Return `artifact_id` if it is safe as a file name, else raise ValueError with a hint."""
    if not _ID_RE.fullmatch(artifact_id):
        raise ValueError(
            f"invalid artifact id {artifact_id!r}: use letters, digits and ._- "
            "(e.g. 'plan-response'), not starting with a dot or dash"
        )
    return artifact_id


def encode_artifact(data: Any) -> bytes:
    """The bytes of an artifact file: the JSON encoding of `data`, newline-terminated."""
    return msgspec.json.encode(data) + b"\n"


def byte_size(data: Any) -> int:
    """The size that decides file backing: UTF-8 bytes of text, else of the JSON encoding."""
    if isinstance(data, str):
        return len(data.encode())
    if isinstance(data, bytes):
        return len(data)
    return len(msgspec.json.encode(data))


def artifact_path(artifact_id: str) -> str:
    """Where a file-backed artifact lives, relative to the base (run) directory."""
    return f"{ARTIFACTS_DIR}/{check_artifact_id(artifact_id)}.json"


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file and a rename (no fsync: callers'
    files are rebuildable); `RecordingError` when it cannot, leaving no temporary file."""
    atomic_write(path, data, fsync=False, what="write a projected file")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ArtifactStore:
    """Named storage for large stage outputs (spec §5.5), safe to share between threads.

    Args:
        base_dir: the run directory; without one every artifact stays in memory.
        threshold: artifacts of more than this many bytes are file-backed.
        clock: returns the `stored_at` timestamp (UTC, ISO 8601).
    """

    def __init__(
        self,
        base_dir: str | Path | None = None,
        *,
        threshold: int = FILE_BACKING_THRESHOLD,
        clock: Callable[[], str] = _now,
    ) -> None:
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self.threshold = threshold
        self._clock = clock
        self._lock = threading.Lock()
        self._items: dict[str, tuple[ArtifactInfo, Any]] = {}

    def store(self, artifact_id: str, name: str, data: Any) -> ArtifactInfo:
        """Keep `data` under `artifact_id`, on disk when it is larger than the threshold."""
        check_artifact_id(artifact_id)
        size = byte_size(data)
        backed = size > self.threshold and self.base_dir is not None
        held: Any = data
        if backed:
            assert self.base_dir is not None
            held = self.base_dir / artifact_path(artifact_id)
            write_atomic(held, encode_artifact(data))
        info = ArtifactInfo(
            id=artifact_id,
            name=name,
            size_bytes=size,
            stored_at=self._clock(),
            is_file_backed=backed,
        )
        with self._lock:
            self._items[artifact_id] = (info, held)
        return info

    def retrieve(self, artifact_id: str) -> Any:
        """The data stored under `artifact_id` (read back from its file when file-backed)."""
        with self._lock:
            item = self._items.get(artifact_id)
            known = sorted(self._items)
        if item is None:
            raise ArtifactNotFoundError(artifact_id, known)
        info, held = item
        if info.is_file_backed:
            return msgspec.json.decode(Path(held).read_bytes())
        return held

    def has(self, artifact_id: str) -> bool:
        """Whether the store holds `artifact_id`."""
        with self._lock:
            return artifact_id in self._items

    def list(self) -> list[ArtifactInfo]:
        """Every artifact's info, by id."""
        with self._lock:
            return [self._items[k][0] for k in sorted(self._items)]

    def remove(self, artifact_id: str) -> None:
        """Forget `artifact_id` and delete its file if it has one."""
        with self._lock:
            item = self._items.pop(artifact_id, None)
            known = sorted(self._items)
        if item is None:
            raise ArtifactNotFoundError(artifact_id, known)
        if item[0].is_file_backed:
            Path(item[1]).unlink(missing_ok=True)

    def clear(self) -> None:
        """Forget every artifact and delete every artifact file."""
        with self._lock:
            items, self._items = list(self._items.values()), {}
        for info, held in items:
            if info.is_file_backed:
                Path(held).unlink(missing_ok=True)
