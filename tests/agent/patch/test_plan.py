"""The planner: tolerant hunk matching, anchors, EOF, line endings, and all-or-nothing."""

from __future__ import annotations

import pytest

from attractor.agent.patch import FileChange, parse_patch, plan_patch
from tests.agent.patch.kit import apply, apply_one, failure, patch, update

CODE = "def a():\n    return 1\n\ndef b():\n    return 1\n"


def test_exact_match_replaces_the_lines() -> None:
    """An exact hunk removes its '-' lines and inserts its '+' lines in their place."""
    assert apply_one("x\ny\nz\n", "@@", " x", "-y", "+Y", "+Y2", " z") == "x\nY\nY2\nz\n"


@pytest.mark.parametrize(
    ("file_line", "patch_line"),
    [
        ("value = 1   ", "value = 1"),  # trailing whitespace
        ("\tvalue = 1", "    value = 1"),  # leading whitespace (tabs vs spaces)
        ("msg = \u201chi\u201d \u2014 ok", 'msg = "hi" - ok'),  # typographic quotes and dash
        ("a\u00a0=\u00a01", "a = 1"),  # non-breaking spaces
        ("it\u2019s\u2026", "it's..."),  # apostrophe and ellipsis
    ],
)
def test_tolerant_levels_match_and_keep_the_file_text(file_line: str, patch_line: str) -> None:
    """A context line matched leniently is kept as the file has it; removed lines go."""
    content = f"top\n{file_line}\nold\n"
    assert (
        apply_one(content, " top", f" {patch_line}", "-old", "+new") == f"top\n{file_line}\nnew\n"
    )
    assert apply_one(content, f"-{patch_line}", "+x") == "top\nx\nold\n"


def test_exact_match_further_down_beats_a_fuzzy_one_above() -> None:
    """The strictest level is tried over the whole file before a more lenient one."""
    assert apply_one("x  \nx\n", "-x", "+y") == "x  \ny\n"


def test_hint_selects_the_block_after_it() -> None:
    """`@@ def b():` makes the hunk apply to b's body, not a's identical one."""
    out = apply_one(CODE, "@@ def b():", "-    return 1", "+    return 2")
    assert out == CODE.replace("b():\n    return 1", "b():\n    return 2")


def test_hint_may_be_the_first_changed_line() -> None:
    """The anchor line itself is searched (the spec's `@@ DEFAULT_TIMEOUT = 30` example)."""
    assert apply_one("T = 30\n", "@@ T = 30", "-T = 30", "+T = 60") == "T = 60\n"


def test_hint_matched_leniently() -> None:
    """An anchor written without the line's indentation still anchors."""
    text = "class A:\n    def f(self):\n        pass\nclass B:\n    def f(self):\n        pass\n"
    out = apply_one(text, "@@ class B:", "@@ def f(self):", "-        pass", "+        return")
    assert out.endswith("class B:\n    def f(self):\n        return\n")


def test_hint_not_in_the_file_is_ignored() -> None:
    """A descriptive anchor that is no line of the file falls back to the context search."""
    assert apply_one(CODE, "@@ change b", " def b():", "-    return 1", "+    return 3").endswith(
        "def b():\n    return 3\n"
    )


def test_hint_found_but_hunk_only_before_it_fails() -> None:
    """A hunk is searched only after its anchor: an anchor below the change is an error."""
    error = failure({"f": CODE}, update("f", "@@ def b():", " def a():", "-    return 1"))
    assert error.hunk == 1


def test_hunks_search_forward_from_the_previous_one() -> None:
    """Two identical hunks change the first and then the second occurrence."""
    hunk = ["@@", "-    return 1", "+    return 9"]
    assert apply_one(CODE, *hunk, *hunk) == CODE.replace("return 1", "return 9")


def test_end_of_file_hunk_matches_only_at_the_end() -> None:
    """With `*** End of File` the last of two identical blocks is changed."""
    out = apply_one(CODE, "@@", "-    return 1", "+    return 5", "*** End of File")
    assert out == "def a():\n    return 1\n\ndef b():\n    return 5\n"


def test_end_of_file_hunk_not_at_the_end_fails() -> None:
    """An EOF hunk whose lines are only in the middle does not match."""
    error = failure({"f": CODE}, update("f", "@@", " def a():", "*** End of File"))
    assert "at its end" in error.message
    assert "which is not the end" in error.hint


def test_added_lines_only_go_after_the_hint_or_at_the_end() -> None:
    """A hunk without context inserts after its anchor line, or appends at the end."""
    assert apply_one("a\nb\n", "@@ a", "+x") == "a\nx\nb\n"
    assert apply_one("a\nb\n", "@@", "+x") == "a\nb\nx\n"
    assert apply_one("", "+x") == "x\n"


def test_trailing_empty_context_line_is_dropped_when_it_does_not_match() -> None:
    """A blank context line after the file's last line (models add one) is forgiven."""
    assert apply_one("a\nb\n", " a", "-b", "+c", "") == "a\nc\n"


def test_crlf_file_keeps_crlf() -> None:
    """Context lines keep their CRLF and new lines take it."""
    assert apply_one("a\r\nb\r\nc\r\n", " a", "-b", "+B", "+B2", " c") == "a\r\nB\r\nB2\r\nc\r\n"


def test_mixed_endings_are_kept_per_line() -> None:
    """Unchanged lines keep their own endings; new ones take the file's dominant one."""
    assert apply_one("a\r\nb\nc\r\nd\r\n", "-d", "+e") == "a\r\nb\nc\r\ne\r\n"


def test_missing_final_newline_is_preserved() -> None:
    """A file without a final newline has none afterwards, also when lines are appended."""
    assert apply_one("a\nb", " a", "-b", "+c") == "a\nc"
    assert apply_one("a\nb", "@@", " b", "+c", "*** End of File") == "a\nb\nc"
    assert apply_one("a\r\nb", "-b", "+c") == "a\r\nc"


def test_whole_file_removed() -> None:
    """Removing every line leaves an empty file."""
    assert apply_one("a\nb\n", "-a", "-b") == ""


def test_add_delete_and_move() -> None:
    """Add, Delete and Update+Move plan the expected writes, in order."""
    text = patch(
        "*** Add File: new.txt", "+hi", "*** Delete File: gone.txt",
        "*** Update File: old.py", "*** Move to: pkg/new.py", "@@", "-x", "+y",
    )  # fmt: skip
    files = {"gone.txt": "g\n", "old.py": "x\n"}
    assert plan_patch(parse_patch(text), files.get) == (
        FileChange("new.txt", None, "hi\n"),
        FileChange("gone.txt", None, None),
        FileChange("old.py", "pkg/new.py", "y\n"),
    )


def test_operations_see_each_other() -> None:
    """Delete then Add of one path replaces it; an Update after an Add sees the new file."""
    text = patch("*** Delete File: a", "*** Add File: a", "+1", "*** Update File: a", "-1", "+2")
    assert apply({"a": "old\n"}, text) == {"a": "2\n"}


@pytest.mark.parametrize(
    ("files", "text", "message", "hint"),
    [
        ({}, update("f", "-x"), "cannot update a file that does not exist", "Add File"),
        ({}, patch("*** Delete File: f"), "cannot delete a file that does not exist", "path"),
        ({"f": ""}, patch("*** Add File: f", "+x"), "already exists", "Update File"),
        ({"f": "x\n", "g": ""}, update("f", "*** Move to: g", "-x"), "cannot move to g", "delete"),
    ],
)
def test_file_level_errors(files: dict[str, str], text: str, message: str, hint: str) -> None:
    """Missing files, existing targets: each a PatchApplyError naming the file."""
    error = failure(files, text)
    assert error.path == "f"
    assert message in error.message
    assert hint in error.hint


def test_a_failing_operation_fails_the_whole_patch() -> None:
    """The second operation's mismatch raises: the plan returns nothing to write."""
    text = patch("*** Add File: new", "+1", "*** Update File: f", "@@", "-missing")
    error = failure({"f": "x\n"}, text)
    assert (error.path, error.hunk) == ("f", 1)


def test_mismatch_names_the_hunk_its_lines_and_the_closest_place() -> None:
    """The error says which hunk, quotes its first lines, and where the file differs."""
    text = update("f", "@@", "-a", "+A", "@@ def g():", " one", " two", "-tree", " four", "+x")
    error = failure({"f": "a\ndef g():\none\ntwo\nthree\nfour\n"}, text)
    assert str(error) == (
        "patch not applied: f: hunk 2 of 2 does not match the file after line 1:\n"
        "    @@ def g():\n     one\n     two\n    -tree\n    ... (2 more lines)\n"
        "  hint: the closest place is line 3: 2 of its 4 lines match, then the file has "
        "'three' where the hunk expects 'tree'; re-read f and resend the hunk with its current "
        "lines"
    )


def test_mismatch_with_no_line_in_the_file() -> None:
    """When nothing matches, the error says so, and that the anchor is missing too."""
    error = failure({"f": "a\n"}, update("f", "@@ nowhere", "-zzz"))
    assert "its first line 'zzz' is not in the file" in error.hint
    assert "'@@ nowhere' line is not in the file either" in error.hint


@pytest.mark.parametrize("path", ["/etc/passwd", "../x", "a/../../x", "C:\\x", "\\\\srv\\x"])
def test_paths_outside_the_root_are_refused(path: str) -> None:
    """Absolute paths and `..` that leave the root fail unless allowed."""
    error = failure({}, patch(f"*** Add File: {path}", "+x"))
    assert error.path == path
    assert "relative to the working directory" in error.hint


def test_paths_are_normalised_and_outside_paths_allowed_on_request() -> None:
    """`a/./b/../c` is `a/c`; with allow_outside an absolute path is planned."""
    assert apply({}, patch("*** Add File: a/./b/../c", "+x")) == {"a/c": "x\n"}
    assert apply({}, patch("*** Add File: /tmp/x", "+x"), allow_outside=True) == {"/tmp/x": "x\n"}
