"""Agent layer (shell): apply patch text through a `PatchFiles`, all or nothing.

Rule: the pure core decides (parse, check paths, plan every write); this module only reads the
files the patch names first, then writes. If a write fails midway, the files already written
are put back as they were, so nothing is half-applied.
"""

from __future__ import annotations

from typing import Protocol

from attractor.agent.patch._errors import PatchApplyError
from attractor.agent.patch._model import AppliedPatch, FileChange
from attractor.agent.patch._parse import parse_patch
from attractor.agent.patch._plan import patch_paths, plan_with_summary


class PatchFiles(Protocol):
    """The files a patch works on (an execution environment, a local directory, a test dict).

    Paths are the patch's, normalised (relative to the root unless absolute paths are allowed).
    `read_text` returns None for a missing file and raises `PatchApplyError` for one that
    cannot be read as text; `write_text` creates parent directories; `remove` of a missing
    file does nothing.
    """

    async def read_text(self, path: str) -> str | None: ...

    async def write_text(self, path: str, text: str) -> None: ...

    async def remove(self, path: str) -> None: ...


async def apply_patch_text(
    text: str, files: PatchFiles, *, allow_outside: bool = False, dry_run: bool = False
) -> AppliedPatch:
    """Parse, plan and apply a v4a patch; raises `PatchSyntaxError` or `PatchApplyError`.

    Args:
        text: The patch (the `apply_patch` tool's `patch` argument).
        files: Where the files are.
        allow_outside: Accept absolute paths and `..` that leave the root.
        dry_run: Plan only; write nothing.
    """
    patch = parse_patch(text)
    originals = {
        path: await files.read_text(path)
        for path in patch_paths(patch, allow_outside=allow_outside)
    }
    planned = plan_with_summary(patch, originals.__getitem__, allow_outside=allow_outside)
    if not dry_run:
        await _write_all([change for change, _ in planned], files, originals)
    return AppliedPatch(tuple(summary for _, summary in planned))


async def _write_all(
    changes: list[FileChange], files: PatchFiles, originals: dict[str, str | None]
) -> None:
    touched: list[str] = []
    try:
        for change in changes:
            target = change.new_path or change.path
            touched += [target, change.path]
            if change.content is not None:
                await files.write_text(target, change.content)
            if change.content is None or target != change.path:
                await files.remove(change.path)
    except (OSError, PatchApplyError) as err:
        lost = await _restore(dict.fromkeys(touched), files, originals)
        reason = (err.strerror or str(err)) if isinstance(err, OSError) else err.message
        outcome = f"could not restore {', '.join(lost)}" if lost else "no file was changed"
        raise PatchApplyError(touched[-2], f"cannot write: {reason}; {outcome}") from None


async def _restore(
    paths: dict[str, None], files: PatchFiles, originals: dict[str, str | None]
) -> list[str]:
    """Put `paths` back as they were; the paths that could not be."""
    lost = []
    for path in paths:
        original = originals[path]
        try:
            if original is None:
                await files.remove(path)
            else:
                await files.write_text(path, original)
        except (OSError, PatchApplyError):
            lost.append(path)
    return lost
