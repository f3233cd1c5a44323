"""Helpers for planner tests: build patch text, apply a plan to a dict of files."""

from __future__ import annotations

import pytest

from attractor.agent.patch import PatchApplyError, parse_patch, plan_patch


def patch(*lines: str) -> str:
    """A patch made of these lines between Begin and End."""
    return "\n".join(["*** Begin Patch", *lines, "*** End Patch"]) + "\n"


def update(path: str, *lines: str) -> str:
    """A patch with one Update File of `path`."""
    return patch(f"*** Update File: {path}", *lines)


def apply(files: dict[str, str], text: str, *, allow_outside: bool = False) -> dict[str, str]:
    """`files` after planning `text` against them and making the planned writes."""
    result = dict(files)
    for change in plan_patch(parse_patch(text), files.get, allow_outside=allow_outside):
        result.pop(change.path, None)
        if change.content is not None:
            result[change.new_path or change.path] = change.content
    return result


def apply_one(content: str, *hunk_lines: str) -> str:
    """The content of file `f` after an Update File with these lines."""
    return apply({"f": content}, update("f", *hunk_lines))["f"]


def failure(files: dict[str, str], text: str, *, allow_outside: bool = False) -> PatchApplyError:
    """The error planning `text` against `files` raises."""
    with pytest.raises(PatchApplyError) as info:
        plan_patch(parse_patch(text), files.get, allow_outside=allow_outside)
    return info.value
