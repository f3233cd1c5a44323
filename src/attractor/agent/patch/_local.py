"""Agent layer (shell): `PatchFiles` over a local directory (used by `attractor apply-patch`).

Rule: bytes in, bytes out. Files are read and written as UTF-8 without newline translation,
so CRLF files keep their endings, and written through a temporary file and a rename, so a
crash leaves the old file or the new one, never half of it. Paths stay inside the root unless
the caller allows otherwise (a symlink pointing out of the root counts as outside).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from attractor.agent.patch._errors import PatchApplyError


class LocalPatchFiles:
    """The files under `root`, for `apply_patch_text`."""

    def __init__(self, root: str | Path, *, allow_outside: bool = False) -> None:
        self.root = Path(root).resolve()
        self.allow_outside = allow_outside

    def _resolve(self, path: str) -> Path:
        full = (self.root / path).resolve()
        if not self.allow_outside and not full.is_relative_to(self.root):
            raise PatchApplyError(path, f"resolves to {full}, outside {self.root}")
        return full

    async def read_text(self, path: str) -> str | None:
        return await asyncio.to_thread(self._read, path)

    async def write_text(self, path: str, text: str) -> None:
        await asyncio.to_thread(self._write, path, text)

    async def remove(self, path: str) -> None:
        await asyncio.to_thread(self._resolve(path).unlink, missing_ok=True)

    def _read(self, path: str) -> str | None:
        full = self._resolve(path)
        try:
            data = full.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as err:
            raise PatchApplyError(path, f"cannot read: {err.strerror or err}") from None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise PatchApplyError(
                path,
                f"not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start})",
                hint="apply_patch edits text files only",
            ) from None

    def _write(self, path: str, text: str) -> None:
        full = self._resolve(path)
        full.parent.mkdir(parents=True, exist_ok=True)
        mode = full.stat().st_mode & 0o7777 if full.exists() else None
        fd, tmp = tempfile.mkstemp(dir=full.parent, prefix=f".{full.name}.", suffix=".patch")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(text.encode("utf-8"))
            if mode is not None:
                os.chmod(tmp, mode)
            os.replace(tmp, full)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
