"""Planner properties: a patch made by a diff of two files turns the first into the second."""

from __future__ import annotations

import difflib

from hypothesis import given
from hypothesis import strategies as st

from attractor.agent.patch import Hunk, HunkLine, Patch, UpdateFile, format_patch
from tests.agent.patch.kit import apply

lines = st.text(st.sampled_from("ab \t-\u2014\u00a0*+@"), max_size=4)


def _hunks(before: list[str], after: list[str], data: st.DataObject) -> tuple[Hunk, ...]:
    """v4a hunks of a 3-line-context diff, some anchored on the line above, some EOF-marked."""
    found = []
    cursor = 0
    for group in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_grouped_opcodes(3):
        body: list[HunkLine] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                body += [HunkLine("context", line) for line in before[i1:i2]]
            body += [HunkLine("removed", line) for line in before[i1:i2] if tag != "equal"]
            body += [HunkLine("added", line) for line in after[j1:j2] if tag != "equal"]
        start, end = group[0][1], group[-1][2]
        anchored = start > cursor and data.draw(st.booleans())
        at_end = end == len(before) and data.draw(st.booleans())
        hints = (before[start - 1],) if anchored and before[start - 1] else ()
        found.append(Hunk(hints=hints, lines=tuple(body), end_of_file=at_end))
        cursor = end
    return tuple(found)


def _text(lines: list[str], eol: str, final: bool) -> str:
    return eol.join(lines) + (eol if lines and final else "")


@given(
    before=st.lists(lines, unique=True, max_size=25),
    after=st.lists(lines, max_size=25),
    eol=st.sampled_from(["\n", "\r\n"]),
    final=st.booleans(),
    data=st.data(),
)
def test_a_diff_as_a_patch_reproduces_the_new_file(
    before: list[str], after: list[str], eol: str, final: bool, data: st.DataObject
) -> None:
    """Any edit of a file (of distinct lines) written as v4a hunks applies to give the edit."""
    final = final or not before or not before[-1]
    hunks = _hunks(before, after, data)
    if not hunks:
        return
    text = format_patch(Patch((UpdateFile(path="f", hunks=hunks),)))
    result = apply({"f": _text(before, eol, final)}, text)["f"]
    # A file without any line break has no ending to keep: new lines get "\n".
    known = len(before) > 1 or (before and final)
    assert result == _text(after, eol if known else "\n", final)
