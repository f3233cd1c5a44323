"""Hypothesis strategies for v4a patches (any single-line paths and line texts)."""

from __future__ import annotations

from hypothesis import strategies as st

from attractor.agent.patch import AddFile, DeleteFile, Hunk, HunkLine, Patch, UpdateFile

# Line texts: anything but line breaks, with the characters the format gives meaning to.
texts = st.text(
    st.sampled_from(" -+*@\t:EOF\u2014\u00a0\u201c") | st.characters(exclude_characters="\n\r"),
    max_size=16,
)
paths = st.lists(
    st.from_regex(r"[A-Za-z0-9_]([A-Za-z0-9_. -]{0,6}[A-Za-z0-9_])?", fullmatch=True),
    min_size=1,
    max_size=3,
).map("/".join)
hunk_lines = st.builds(HunkLine, st.sampled_from(["context", "removed", "added"]), texts)
hunks = st.builds(
    Hunk,
    hints=st.lists(
        texts.filter(bool) | st.from_regex(r"-\d,\d \+\d @@ ?[a-z ]{0,4}", fullmatch=True),
        max_size=2,
    ).map(tuple),
    lines=st.lists(hunk_lines, min_size=1, max_size=6).map(tuple),
    end_of_file=st.booleans(),
)


@st.composite
def updates(draw: st.DrawFn) -> UpdateFile:
    move_to = draw(st.none() | paths)
    found = draw(st.lists(hunks, min_size=0 if move_to else 1, max_size=3))
    return UpdateFile(path=draw(paths), move_to=move_to, hunks=tuple(found))


operations = st.one_of(
    st.builds(AddFile, paths, st.lists(texts, max_size=5).map(tuple)),
    st.builds(DeleteFile, paths),
    updates(),
)
patches = st.builds(Patch, st.lists(operations, max_size=5).map(tuple))
