"""Pure modules import no I/O: no httpx, asyncio, subprocess, os, time, random, uuid, and no
reading of the clock. (DESIGN.md §2: the core is a fold; the world enters only through events.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import attractor

FORBIDDEN = {
    "httpx", "httpx_sse", "asyncio", "anyio", "subprocess", "os", "time", "random", "uuid",
    "socket", "threading", "shutil", "tempfile", "pathlib",
}  # fmt: skip
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today")}

SRC = Path(attractor.__file__).parent
# Whole packages that are pure, and single pure modules inside shell packages.
PURE_PACKAGES = ["dot", "pipeline/handlers"]
PURE_MODULES = [
    "events/_event.py",
    "events/_codec.py",
    "events/_fold.py",
    "events/_errors.py",
    "events/store.py",
    "events/secrets.py",
    "effects/_types.py",
    "testing/machines.py",
    "pipeline/events.py",
    "pipeline/model.py",
    "pipeline/state.py",
    "pipeline/graphs.py",
    "pipeline/edges.py",
    "pipeline/retry.py",
    "pipeline/fidelity.py",
    "pipeline/labels.py",
    "pipeline/reducer.py",
    "pipeline/decider.py",
    "pipeline/machine.py",
    "pipeline/status.py",
    "pipeline/threads.py",
    "server/_view.py",
    "server/_pause.py",
    "server/_present.py",
    "server/_schemas.py",
    "server/_checks.py",
    "agent/truncation.py",
    "agent/patch/_model.py",
    "agent/patch/_errors.py",
    "agent/patch/_parse.py",
    "agent/patch/_format.py",
    "agent/patch/_match.py",
    "agent/patch/_hunks.py",
    "agent/patch/_plan.py",
]


def _pure_files() -> list[Path]:
    files = [SRC / m for m in PURE_MODULES]
    for pkg in PURE_PACKAGES:
        if (SRC / pkg).is_dir():
            files += sorted((SRC / pkg).rglob("*.py"))
    return files


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        else:
            names = []
        found += [
            f"{path.name}:{node.lineno}: imports {n}" for n in names if n.split(".")[0] in FORBIDDEN
        ]
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (node.value.id, node.attr) in CLOCK_CALLS
        ):
            found.append(
                f"{path.name}:{node.lineno}: reads the clock ({node.value.id}.{node.attr})"
            )
    return found


@pytest.mark.parametrize("path", _pure_files(), ids=lambda p: str(p.relative_to(SRC)))
def test_pure_module_does_no_io(path: Path) -> None:
    """The module imports nothing that touches the world."""
    assert _violations(path) == []


def test_checker_catches_a_violation(tmp_path: Path) -> None:
    """The checker itself flags forbidden imports and clock reads."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import os\nfrom time import monotonic\nfrom datetime import datetime\nx = datetime.now()\n"
    )
    assert len(_violations(bad)) == 3


def test_listed_pure_modules_exist() -> None:
    """Every module named pure exists (a rename must update this list)."""
    assert [m for m in PURE_MODULES if not (SRC / m).is_file()] == []
