"""Events layer (I/O): the content-addressed blob store beside a log.

Rule: a blob's name is its digest (`sha256-<hex>`), so writing is idempotent, reading verifies,
and a log line only ever holds the small `BlobRef`. Writes are atomic (temp file + fsync + rename);
a failed write leaves no temporary file and raises `RecordingError`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from attractor.events._errors import LogCorruptError
from attractor.events._event import BlobRef, Text
from attractor.events._files import atomic_write

DEFAULT_THRESHOLD = 64 * 1024


class BlobStore:
    """Blobs in `<dir>/sha256-<hex>`; payloads of `threshold` bytes or more belong here."""

    def __init__(self, root: str | Path, threshold: int = DEFAULT_THRESHOLD) -> None:
        self.root = Path(root)
        self.threshold = threshold

    def put(self, data: bytes) -> BlobRef:
        """Store `data` (once) and return its reference."""
        digest = "sha256-" + hashlib.sha256(data).hexdigest()
        target = self.root / digest
        if not target.exists():
            atomic_write(target, data, fsync=True, what="store a blob")
        return BlobRef(digest=digest, size=len(data))

    def get(self, ref: BlobRef) -> bytes:
        """Read a blob back, checking its digest."""
        path = self.root / ref.digest
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise LogCorruptError(str(path), f"blob missing: {exc.strerror}") from None
        if "sha256-" + hashlib.sha256(data).hexdigest() != ref.digest:
            raise LogCorruptError(str(path), "blob content does not match its digest")
        return data

    def pack(self, text: str) -> Text:
        """Keep small text inline; move large text to a blob."""
        data = text.encode("utf-8")
        return text if len(data) < self.threshold else self.put(data)

    def unpack(self, value: Text) -> str:
        """The text behind an inline value or a blob reference."""
        return value if isinstance(value, str) else self.get(value).decode("utf-8")
