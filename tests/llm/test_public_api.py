"""Tests for the attractor.llm public surface and the purity of its pure modules."""

import ast
import importlib
from pathlib import Path

import pytest

import attractor.llm

PURE_MODULES = ["types", "content", "errors", "wire", "accumulate", "partial_json", "translate"]
FORBIDDEN = {"httpx", "asyncio", "anyio", "subprocess", "os", "time", "random", "uuid", "socket"}
SRC = Path(attractor.llm.__file__).parent
LOWER_PURE = {"attractor.events.secrets"}  # pure modules of lower layers (see tests/test_purity)


def test_all_is_sorted_and_exported() -> None:
    """__all__ is sorted and every name in it exists."""
    names = attractor.llm.__all__
    assert names == sorted(names)
    for name in names:
        assert hasattr(attractor.llm, name), name


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_modules_import_no_io(module: str) -> None:
    """Pure llm modules import no I/O, clock, randomness or concurrency modules."""
    tree = ast.parse((SRC / f"{module}.py").read_text())
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & FORBIDDEN


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_modules_do_not_import_shell_llm_modules(module: str) -> None:
    """Pure llm modules depend only on other pure llm modules (and pure lower-layer ones)."""
    importlib.import_module(f"attractor.llm.{module}")
    tree = ast.parse((SRC / f"{module}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("attractor"):
            if node.module in LOWER_PURE:
                continue
            assert node.module.removeprefix("attractor.llm.") in PURE_MODULES, node.module
