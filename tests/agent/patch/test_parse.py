"""The v4a parser: the spec's examples, the tolerated variants, and located errors."""

from __future__ import annotations

import pytest

from attractor.agent.patch import (
    AddFile,
    DeleteFile,
    Hunk,
    HunkLine,
    Patch,
    PatchSyntaxError,
    UpdateFile,
    parse_patch,
)


def _c(text: str) -> HunkLine:
    return HunkLine("context", text)


def _r(text: str) -> HunkLine:
    return HunkLine("removed", text)


def _a(text: str) -> HunkLine:
    return HunkLine("added", text)


def _patch(*lines: str) -> str:
    return "\n".join(["*** Begin Patch", *lines, "*** End Patch"]) + "\n"


def _error(text: str) -> PatchSyntaxError:
    with pytest.raises(PatchSyntaxError) as info:
        parse_patch(text)
    return info.value


def test_add_file() -> None:
    """Add File collects its '+' lines."""
    text = _patch("*** Add File: src/h.py", "+def greet(name):", '+    return f"Hi {name}"')
    assert parse_patch(text) == Patch(
        (AddFile("src/h.py", ("def greet(name):", '    return f"Hi {name}"')),)
    )


def test_delete_file() -> None:
    """Delete File is a path only."""
    assert parse_patch(_patch("*** Delete File: old.py")) == Patch((DeleteFile("old.py"),))


def test_update_with_hint_and_move() -> None:
    """Update File with Move to and an '@@ hint' hunk."""
    text = _patch(
        "*** Update File: old.py", "*** Move to: new.py", "@@ import os", " import sys", "-a", "+b"
    )
    hunk = Hunk(hints=("import os",), lines=(_c("import sys"), _r("a"), _a("b")))
    assert parse_patch(text) == Patch((UpdateFile(path="old.py", move_to="new.py", hunks=(hunk,)),))


def test_multi_hunk_and_end_of_file() -> None:
    """Several hunks in one Update File; '*** End of File' marks the hunk it follows."""
    text = _patch("*** Update File: c.py", "@@ A", "-A = 1", "+A = 2", "@@", " x", "+y",
                  "*** End of File")  # fmt: skip
    (update,) = parse_patch(text).operations
    assert isinstance(update, UpdateFile)
    assert update.hunks == (
        Hunk(hints=("A",), lines=(_r("A = 1"), _a("A = 2"))),
        Hunk(lines=(_c("x"), _a("y")), end_of_file=True),
    )


def test_several_operations_keep_their_order() -> None:
    """Operations come back in patch order."""
    text = _patch("*** Delete File: a", "*** Add File: b", "+1", "*** Update File: c", "@@", "-x")
    assert [type(op).__name__ for op in parse_patch(text).operations] == [
        "DeleteFile", "AddFile", "UpdateFile",
    ]  # fmt: skip


def test_crlf_patch_text() -> None:
    """A patch sent with CRLF line breaks parses like the LF one."""
    text = _patch("*** Update File: a", "@@ h", " c", "-x", "+y")
    assert parse_patch(text.replace("\n", "\r\n")) == parse_patch(text)


def test_surrounding_blank_lines_and_heredoc() -> None:
    """Blank lines around the patch and a shell heredoc wrapper are ignored."""
    text = _patch("*** Add File: a", "+1")
    assert parse_patch(f"\n\n  \n{text}\n\n") == parse_patch(text)
    assert parse_patch(f"apply_patch <<'EOF'\n{text}EOF\n") == parse_patch(text)
    assert parse_patch(f'<<"PATCH"\n{text}PATCH') == parse_patch(text)


def test_blank_line_in_hunk_is_empty_context() -> None:
    """A blank line inside a hunk (the model dropped its space) is an empty context line."""
    (update,) = parse_patch(_patch("*** Update File: a", "@@", " x", "", "-y")).operations
    assert isinstance(update, UpdateFile)
    assert update.hunks[0].lines == (_c("x"), _c(""), _r("y"))


def test_first_hunk_without_header() -> None:
    """The first hunk of an Update File may omit its '@@' line."""
    (update,) = parse_patch(_patch("*** Update File: a", " x", "-y", "+z")).operations
    assert isinstance(update, UpdateFile)
    assert update.hunks == (Hunk(lines=(_c("x"), _r("y"), _a("z"))),)


def test_unified_range_header_keeps_its_trailing_text_as_hint() -> None:
    """`@@ -3,7 +3,8 @@ def f():` reads as the hint `def f():`; a bare range as no hint."""
    text = _patch("*** Update File: a", "@@ -3,7 +3,8 @@ def f():", "-x", "@@ -9 +9 @@", "-y")
    (update,) = parse_patch(text).operations
    assert isinstance(update, UpdateFile)
    assert [h.hints for h in update.hunks] == [("def f():",), ()]


def test_blank_lines_between_operations_and_after_an_added_file() -> None:
    """Blank separator lines before a header are skipped, not taken as file content."""
    text = _patch(
        "*** Add File: a", "+1", "", "*** Delete File: b", "", "*** Add File: c", "+2", ""
    )
    assert parse_patch(text) == Patch((AddFile("a", ("1",)), DeleteFile("b"), AddFile("c", ("2",))))


def test_empty_added_file() -> None:
    """An Add File without lines creates an empty file."""
    assert parse_patch(_patch("*** Add File: empty.txt")) == Patch((AddFile("empty.txt"),))


def test_move_without_hunks_is_a_rename() -> None:
    """Update File + Move to with no hunk is a pure rename."""
    (update,) = parse_patch(_patch("*** Update File: a", "*** Move to: b")).operations
    assert update == UpdateFile(path="a", move_to="b")


@pytest.mark.parametrize(
    ("text", "line", "message", "hint"),
    [
        ("hello\n", 1, "expected '*** Begin Patch'", "start the patch with"),
        ("--- a/x\n+++ b/x\n", 1, "expected '*** Begin Patch'", "looks like a unified diff"),
        ("*** Begin Patch\n*** Add File: a\n+1\n", 4, "ends without '*** End Patch'", "end the"),
        (_patch("*** Add File: a") + "more\n", 4, "text after '*** End Patch'", "one patch"),
        (_patch("*** Rename File: a"), 2, "expected a file operation", "Add File: PATH"),
        (_patch("@@", "-x"), 2, "expected a file operation", "after a '*** Update File: PATH'"),
        (_patch("*** Add File:   "), 2, "a file header without a path", "Add File: PATH"),
        (_patch("*** Add File: a", "+1", "2"), 4, "must start with '+'", "a lone '+'"),
        (_patch("*** Add File: a", "", "+2"), 3, "must start with '+'", "a lone '+'"),
        (_patch("*** Delete File: a", "-x"), 3, "takes no lines", "Update File"),
        (_patch("*** Update File: a", "*** Move to:"), 3, "Move to:' without a path", "NEW_PATH"),
        (_patch("*** Update File: a"), 3, "has no hunk", "'@@' hunk"),
        (_patch("*** Update File: a", "@@", "*** End of File"), 3, "an empty hunk", "its lines"),
        (_patch("*** Update File: a", "@@", " x", "y"), 5, "must start with ' '", "leading space"),
        (_patch("*** Update File: a", "*** End of File"), 3, "expected an '@@'", "'@@ CONTEXT'"),
    ],
)
def test_syntax_errors_name_the_line_and_a_hint(
    text: str, line: int, message: str, hint: str
) -> None:
    """Each malformed patch fails at the right line, saying what is wrong and how to fix it."""
    error = _error(text)
    assert error.line == line
    assert message in error.message
    assert hint in error.hint


def test_error_text_shows_the_line() -> None:
    """str(error) is what the model reads: line number, the offending line and the hint."""
    error = _error("\n\n" + _patch("*** Update File: a", "@@", " x", "oops"))
    assert str(error) == (
        "invalid patch: line 7: a hunk line must start with ' ' (context), '-' (removed) or '+' "
        "(added)\n  7 | oops\n  hint: keep the leading space of every unchanged line"
    )


def test_stacked_hints_belong_to_one_hunk() -> None:
    """`@@ class A:` then `@@ def f(self):` are two anchors of the same hunk."""
    text = _patch("*** Update File: a", "@@ class A:", "@@     def f(self):", "-x")
    (update,) = parse_patch(text).operations
    assert isinstance(update, UpdateFile)
    assert update.hunks == (Hunk(hints=("class A:", "    def f(self):"), lines=(_r("x"),)),)
