"""Tool output truncation (spec §5): characters first, then lines, with visible markers."""

from __future__ import annotations

import re

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from attractor.agent.truncation import (
    TruncationLimits,
    chars_marker,
    lines_marker,
    truncate_chars,
    truncate_lines,
    truncate_tool_output,
)

MODES = st.sampled_from(["head_tail", "tail"])
# Text with line breaks, control characters, lone surrogates and non-"\n" line separators.
BINARYISH = st.text(
    st.characters(codec=None) | st.sampled_from("\n\r\x00\x1b\u2028\x0b\ufffd\ud800"), max_size=300
)
CHARS_MARKER = re.compile(r"\[WARNING: Tool output was truncated\. (?:First )?(\d+) characters")
LINES_MARKER = re.compile(r"\n\[\.\.\. (\d+) lines omitted \.\.\.\]\n")


def test_defaults_are_the_spec_tables() -> None:
    """Character limits, modes and line limits are those of spec §5.2 and §5.3."""
    limits = TruncationLimits()
    assert limits.for_tool("read_file") == (50_000, "head_tail", None)
    assert limits.for_tool("shell") == (30_000, "head_tail", 256)
    assert limits.for_tool("grep") == (20_000, "tail", 200)
    assert limits.for_tool("glob") == (20_000, "tail", 500)
    assert limits.for_tool("edit_file") == (10_000, "tail", None)
    assert limits.for_tool("apply_patch") == (10_000, "tail", None)
    assert limits.for_tool("write_file") == (1_000, "tail", None)
    assert limits.for_tool("spawn_agent") == (20_000, "head_tail", None)


def test_unknown_tool_gets_the_fallbacks() -> None:
    """A custom tool not in the tables gets the fallback limit, mode and no line pass."""
    assert TruncationLimits().for_tool("my_tool") == (30_000, "head_tail", None)


def test_override_replaces_only_the_named_tools() -> None:
    """Overrides change the tools they name and keep every other default."""
    limits = TruncationLimits().override(chars={"shell": 100}, lines={"grep": None})
    assert limits.for_tool("shell") == (100, "head_tail", 256)
    assert limits.for_tool("grep") == (20_000, "tail", None)
    assert TruncationLimits().for_tool("shell") == (30_000, "head_tail", 256)


def test_limits_round_trip_through_json() -> None:
    """Limits are a msgspec Struct that a session config can carry as JSON."""
    limits = TruncationLimits().override(modes={"read_file": "tail"})
    raw = msgspec.json.encode(limits)
    assert msgspec.json.decode(raw, type=TruncationLimits) == limits


def test_head_tail_marker_is_the_spec_text() -> None:
    """head_tail keeps both halves around the spec's middle marker."""
    out = truncate_chars("abcdefghij", 4, "head_tail")
    assert out == (
        "ab\n\n[WARNING: Tool output was truncated. 6 characters were removed from the middle. "
        "The full output is available in the event stream. If you need to see specific parts, "
        "re-run the tool with more targeted parameters.]\n\nij"
    )


def test_tail_marker_is_the_spec_text() -> None:
    """tail keeps the end after the spec's leading marker."""
    out = truncate_chars("abcdefghij", 3, "tail")
    assert out == (
        "[WARNING: Tool output was truncated. First 7 characters were removed. "
        "The full output is available in the event stream.]\n\nhij"
    )


def test_lines_marker_is_the_spec_text() -> None:
    """Line truncation keeps head and tail lines around `[... N lines omitted ...]`."""
    assert truncate_lines("1\n2\n3\n4\n5\n6", 4) == "1\n2\n[... 2 lines omitted ...]\n5\n6"


@given(text=BINARYISH, max_chars=st.integers(0, 120), mode=MODES)
def test_chars_keep_exactly_the_limit(text: str, max_chars: int, mode: str) -> None:
    """Uncut text is returned as is; cut text keeps max_chars of it, head/tail intact."""
    out = truncate_chars(text, max_chars, mode)  # type: ignore[arg-type]
    if len(text) <= max_chars:
        assert out == text
        return
    removed = len(text) - max_chars
    marker = chars_marker(removed, mode)  # type: ignore[arg-type]
    assert len(out) == max_chars + len(marker)
    head = max_chars // 2 if mode == "head_tail" else 0
    assert out == text[:head] + marker + text[head + removed :]


@given(lines=st.lists(st.text(st.characters(exclude_characters="\n"), max_size=5), min_size=1,
                      max_size=40), max_lines=st.integers(0, 30))  # fmt: skip
def test_lines_keep_head_and_tail_lines(lines: list[str], max_lines: int) -> None:
    """Uncut text is returned as is; cut text keeps max_lines lines, the first and last ones."""
    text = "\n".join(lines)
    out = truncate_lines(text, max_lines)
    if len(lines) <= max_lines:
        assert out == text
        return
    head, tail = max_lines // 2, max_lines - max_lines // 2
    omitted = len(lines) - max_lines
    expected = (
        "\n".join(lines[:head]) + lines_marker(omitted) + "\n".join(lines[len(lines) - tail :])
    )
    assert out == expected


@given(text=BINARYISH, max_chars=st.integers(0, 120), max_lines=st.integers(0, 12), mode=MODES)
def test_tool_output_bounded_and_marked_iff_cut(
    text: str, max_chars: int, max_lines: int, mode: str
) -> None:
    """The result is at most the limit plus its markers, and carries a marker iff it was cut."""
    limits = TruncationLimits(chars={"t": max_chars}, lines={"t": max_lines}, modes={"t": mode})  # type: ignore[dict-item]
    out = truncate_tool_output(text, "t", limits)
    if len(text) <= max_chars and len(text.split("\n")) <= max_lines:
        assert out == text
        return
    chars = CHARS_MARKER.search(out)
    lines = LINES_MARKER.search(out)
    assert chars or lines
    bound = max_chars
    if len(text) > max_chars:
        bound += len(chars_marker(len(text) - max_chars, mode))  # type: ignore[arg-type]
    if lines:
        bound += len(lines.group(0))
    assert len(out) <= bound


def test_ten_megabyte_single_line_is_cut_by_characters() -> None:
    """A 10 MB line (which the line pass alone would let through) is cut to the shell limit."""
    text = "x" * 10_000_000
    out = truncate_tool_output(text, "shell", TruncationLimits())
    assert len(out) == 30_000 + len(chars_marker(10_000_000 - 30_000, "head_tail"))
    assert out.startswith("x" * 15_000)
    assert out.endswith("x" * 15_000)


def test_characters_run_before_lines() -> None:
    """The line pass sees the character pass's result (its marker lines included)."""
    text = "\n".join(f"line {i}" for i in range(1000))
    limits = TruncationLimits().override(chars={"shell": 100}, lines={"shell": 4})
    out = truncate_tool_output(text, "shell", limits)
    assert out.startswith("line 0\nline 1\n[... ")
    assert out.endswith("line 998\nline 999")
    assert "WARNING" not in out  # the marker lines were in the middle, and were omitted


def test_many_short_lines_are_cut_by_lines() -> None:
    """Shell output under the character limit but over 256 lines keeps 128 + 128 lines."""
    text = "\n".join(str(i) for i in range(1000))
    out = truncate_tool_output(text, "shell", TruncationLimits())
    assert out.split("\n")[:128] == [str(i) for i in range(128)]
    assert "\n[... 744 lines omitted ...]\n" in out
    assert out.split("\n")[-128:] == [str(i) for i in range(872, 1000)]


def test_grep_keeps_the_tail() -> None:
    """grep output over its limit keeps the end (tail mode)."""
    text = "".join(f"m{i}\n" for i in range(10_000))
    out = truncate_tool_output(text, "grep", TruncationLimits().override(lines={"grep": None}))
    assert out.startswith("[WARNING: Tool output was truncated. First ")
    assert out.endswith("m9999\n")
