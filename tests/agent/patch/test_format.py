"""The v4a printer: canonical text that parses back to the same patch."""

from __future__ import annotations

from hypothesis import given

from attractor.agent.patch import Hunk, HunkLine, Patch, UpdateFile, format_patch, parse_patch
from tests.agent.patch.strategies import patches


@given(patches)
def test_parse_of_format_is_identity(patch: Patch) -> None:
    """parse_patch(format_patch(p)) == p for every patch."""
    assert parse_patch(format_patch(patch)) == patch


@given(patches)
def test_format_is_a_fixed_point(patch: Patch) -> None:
    """Printing a parsed printout changes nothing (the output is canonical)."""
    text = format_patch(patch)
    assert format_patch(parse_patch(text)) == text


def test_canonical_text() -> None:
    """Every hunk gets its '@@' line, empty context its space, EOF its marker."""
    hunk = Hunk(lines=(HunkLine("context", ""), HunkLine("added", "x")), end_of_file=True)
    text = format_patch(Patch((UpdateFile(path="a", move_to="b", hunks=(hunk,)),)))
    assert text == (
        "*** Begin Patch\n*** Update File: a\n*** Move to: b\n@@\n \n+x\n*** End of File\n"
        "*** End Patch\n"
    )


def test_a_hint_that_reads_as_a_range_is_wrapped() -> None:
    """A hint that looks like a unified range is printed so that it parses back unchanged."""
    hunk = Hunk(hints=("-1,2 +1 @@",), lines=(HunkLine("removed", "x"),))
    patch = Patch((UpdateFile(path="a", hunks=(hunk,)),))
    assert "@@ -1 +1 @@ -1,2 +1 @@\n" in format_patch(patch)
    assert parse_patch(format_patch(patch)) == patch
