"""Agent layer (pure): tool output truncation, exactly as spec §5.

Rule: characters first, then lines. The character pass bounds the size whatever the shape of the
output (a 10 MB single line included); the line pass only makes long listings readable. Every
cut leaves a visible marker telling the model what was removed and where the full output lives
(the `TOOL_CALL_END` event carries it untruncated). Lengths are counted in code points.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Mode = Literal["head_tail", "tail"]

# Spec §5.2: default character limit and mode per tool.
DEFAULT_CHAR_LIMITS: dict[str, int] = {
    "read_file": 50_000,
    "shell": 30_000,
    "grep": 20_000,
    "glob": 20_000,
    "edit_file": 10_000,
    "apply_patch": 10_000,
    "write_file": 1_000,
    "spawn_agent": 20_000,
}
DEFAULT_MODES: dict[str, Mode] = {
    "read_file": "head_tail",
    "shell": "head_tail",
    "grep": "tail",
    "glob": "tail",
    "edit_file": "tail",
    "apply_patch": "tail",
    "write_file": "tail",
    "spawn_agent": "head_tail",
}
# Spec §5.3: line limits applied after the character pass (tools not listed have none).
DEFAULT_LINE_LIMITS: dict[str, int | None] = {
    "shell": 256,
    "grep": 200,
    "glob": 500,
    "read_file": None,
    "edit_file": None,
}


class TruncationLimits(msgspec.Struct, frozen=True, kw_only=True):
    """Per-tool limits (spec §5.2/§5.3 defaults); tools not in the tables get the fallbacks.

    Attributes:
        chars: Character limit per tool name.
        lines: Line limit per tool name (None: no line pass).
        modes: `head_tail` keeps both ends, `tail` keeps the end.
        fallback_chars: Character limit of a tool not in `chars` (custom tools, `wait`...).
        fallback_mode: Mode of a tool not in `modes`.
        fallback_lines: Line limit of a tool not in `lines`.
    """

    chars: dict[str, int] = msgspec.field(default_factory=lambda: dict(DEFAULT_CHAR_LIMITS))
    lines: dict[str, int | None] = msgspec.field(default_factory=lambda: dict(DEFAULT_LINE_LIMITS))
    modes: dict[str, Mode] = msgspec.field(default_factory=lambda: dict(DEFAULT_MODES))
    fallback_chars: int = 30_000
    fallback_mode: Mode = "head_tail"
    fallback_lines: int | None = None

    def override(
        self,
        *,
        chars: dict[str, int] | None = None,
        lines: dict[str, int | None] | None = None,
        modes: dict[str, Mode] | None = None,
    ) -> TruncationLimits:
        """These limits with some tools' entries replaced (`SessionConfig.tool_output_limits`)."""
        return msgspec.structs.replace(
            self,
            chars={**self.chars, **(chars or {})},
            lines={**self.lines, **(lines or {})},
            modes={**self.modes, **(modes or {})},
        )

    def for_tool(self, tool_name: str) -> tuple[int, Mode, int | None]:
        """(character limit, mode, line limit) that apply to `tool_name`."""
        return (
            self.chars.get(tool_name, self.fallback_chars),
            self.modes.get(tool_name, self.fallback_mode),
            self.lines.get(tool_name, self.fallback_lines),
        )


def chars_marker(removed: int, mode: Mode) -> str:
    """The visible marker that replaces `removed` characters (spec §5.1 wording)."""
    if mode == "head_tail":
        return (
            f"\n\n[WARNING: Tool output was truncated. {removed} characters were removed from "
            "the middle. The full output is available in the event stream. If you need to see "
            "specific parts, re-run the tool with more targeted parameters.]\n\n"
        )
    return (
        f"[WARNING: Tool output was truncated. First {removed} characters were removed. "
        "The full output is available in the event stream.]\n\n"
    )


def lines_marker(omitted: int) -> str:
    """The visible marker that replaces `omitted` lines (spec §5.3 wording)."""
    return f"\n[... {omitted} lines omitted ...]\n"


def truncate_chars(text: str, max_chars: int, mode: Mode) -> str:
    """`text` if it fits in `max_chars`, else its head and/or tail around a marker.

    Exactly `max_chars` characters of `text` are kept (`head_tail`: the first half and the
    rest from the end), so the result is at most `max_chars + len(chars_marker(...))` long.
    """
    if len(text) <= max_chars:
        return text
    keep = max(max_chars, 0)
    removed = len(text) - keep
    if mode == "tail":
        return chars_marker(removed, mode) + text[removed:]
    head = keep // 2
    return text[:head] + chars_marker(removed, mode) + text[head + removed :]


def truncate_lines(text: str, max_lines: int) -> str:
    """`text` if it has at most `max_lines` lines ("\\n"-separated), else head and tail lines."""
    lines = text.split("\n")
    if len(lines) <= max_lines:
        return text
    head_count = max(max_lines, 0) // 2
    tail_count = max(max_lines, 0) - head_count
    omitted = len(lines) - head_count - tail_count
    head = "\n".join(lines[:head_count])
    tail = "\n".join(lines[len(lines) - tail_count :])
    return head + lines_marker(omitted) + tail


def truncate_tool_output(text: str, tool_name: str, limits: TruncationLimits) -> str:
    """What the model sees of a tool's output: the character pass, then the line pass."""
    max_chars, mode, max_lines = limits.for_tool(tool_name)
    result = truncate_chars(text, max_chars, mode)
    if max_lines is not None:
        result = truncate_lines(result, max_lines)
    return result
