"""Agent layer (pure): the two typed errors of apply_patch.

Rule: the message is written for the model that sent the patch (it reads `str(error)` as the
tool result): where, what, and a hint for the usual fix. No traceback is ever needed.
"""

from __future__ import annotations


class PatchSyntaxError(ValueError):
    """The text is not a v4a patch.

    Attributes:
        line: 1-based line of the patch text where parsing stopped.
        message: What is wrong, one sentence.
        source_line: That line's text ("" past the end).
        hint: The usual fix, or "".
    """

    def __init__(self, line: int, message: str, source_line: str = "", hint: str = "") -> None:
        self.line = line
        self.message = message
        self.source_line = source_line
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"invalid patch: line {self.line}: {self.message}"
        if self.source_line:
            text += f"\n  {self.line} | {self.source_line}"
        return text + (f"\n  hint: {self.hint}" if self.hint else "")


class PatchApplyError(ValueError):
    """A well-formed patch that cannot be applied; nothing was changed.

    Attributes:
        path: The file the failing operation names.
        message: What is wrong (for a hunk: which one and its first lines).
        hunk: 1-based number of the failing hunk within its Update File, or None.
        hint: The usual fix, or "".
    """

    def __init__(self, path: str, message: str, *, hunk: int | None = None, hint: str = "") -> None:
        self.path = path
        self.message = message
        self.hunk = hunk
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"patch not applied: {self.path}: {self.message}"
        return text + (f"\n  hint: {self.hint}" if self.hint else "")
