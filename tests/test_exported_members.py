"""Each public package exposes its API once, with a sorted `__all__` whose names all exist."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = ["attractor", "attractor.events", "attractor.effects"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_complete(name: str) -> None:
    """`__all__` is sorted, unique, and every name is importable."""
    module = importlib.import_module(name)
    exported = list(module.__all__)
    # isort style, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions
    assert exported == sorted(exported, key=lambda n: (not n.isupper(), not n[:1].isupper(), n))
    assert len(set(exported)) == len(exported)
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == []
