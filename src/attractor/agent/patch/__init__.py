"""Agent layer: `apply_patch`, the v4a patch format of spec Appendix A.

Pure: `parse_patch`, `format_patch`, `plan_patch` (and the typed patch). Shell:
`apply_patch_text` through a `PatchFiles` (`LocalPatchFiles` for a directory).
"""

from attractor.agent.patch._apply import PatchFiles, apply_patch_text
from attractor.agent.patch._errors import PatchApplyError, PatchSyntaxError
from attractor.agent.patch._format import format_patch
from attractor.agent.patch._local import LocalPatchFiles
from attractor.agent.patch._model import (
    AddFile,
    AppliedFile,
    AppliedPatch,
    DeleteFile,
    FileChange,
    Hunk,
    HunkLine,
    Operation,
    Patch,
    UpdateFile,
)
from attractor.agent.patch._parse import parse_patch
from attractor.agent.patch._plan import check_path, patch_paths, plan_patch

__all__ = [
    "AddFile",
    "AppliedFile",
    "AppliedPatch",
    "DeleteFile",
    "FileChange",
    "Hunk",
    "HunkLine",
    "LocalPatchFiles",
    "Operation",
    "Patch",
    "PatchApplyError",
    "PatchFiles",
    "PatchSyntaxError",
    "UpdateFile",
    "apply_patch_text",
    "check_path",
    "format_patch",
    "parse_patch",
    "patch_paths",
    "plan_patch",
]
