"""docs/dot.md stays true: its example pipeline parses and validates cleanly."""

from __future__ import annotations

import re
from pathlib import Path

from attractor.dot import apply_transforms, format_source, parse_dot, validate

DOC = Path(__file__).parents[2] / "docs" / "dot.md"


def test_language_example_is_a_clean_pipeline() -> None:
    """The ```dot example in docs/dot.md has no diagnostics and survives formatting."""
    match = re.search(r"```dot\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert match is not None
    text = match.group(1)
    graph = parse_dot(text)
    assert validate(apply_transforms(graph)) == []
    assert graph.node("implement").get("human.default_choice") == "exit"
    assert parse_dot(format_source(text)) == graph
