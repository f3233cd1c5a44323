"""The package surface: exported names, purity of imports, grammars shipped as data."""

from __future__ import annotations

import ast
from pathlib import Path

import attractor.dot as dot
from attractor.dot._grammar import load_grammar

PACKAGE = Path(dot.__file__).parent
ALLOWED_TOP_LEVEL = {
    "__future__",
    "ast",
    "collections",
    "contextlib",
    "dataclasses",
    "datetime",
    "enum",
    "functools",
    "itertools",
    "re",
    "string",
    "types",
    "typing",
    "lark",
    "msgspec",
    "returns",
    "attractor",
}


def test_all_is_sorted_and_complete() -> None:
    """`__all__` is sorted, and every name in it exists."""
    assert dot.__all__ == sorted(dot.__all__, key=lambda n: (not n.isupper(), n[0].islower(), n))
    for name in dot.__all__:
        assert hasattr(dot, name), name


def test_engine_facing_api_is_exported() -> None:
    """The names the pipeline engine relies on are public."""
    for name in [
        "parse_dot",
        "format_dot",
        "apply_transforms",
        "parse_stylesheet",
        "compile_condition",
        "validate",
        "validate_or_raise",
        "Diagnostic",
        "Severity",
        "DotSyntaxError",
        "parse_duration",
        "prepare_pipeline",
    ]:
        assert name in dot.__all__


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_package_is_pure() -> None:
    """attractor.dot imports only lark, msgspec, returns, pure stdlib and itself."""
    for path in PACKAGE.glob("*.py"):
        for module in _imports(path):
            top = module.split(".")[0]
            assert top in ALLOWED_TOP_LEVEL, f"{path.name} imports {module}"
            if top == "attractor":
                assert module.startswith("attractor.dot"), f"{path.name} imports {module}"


def test_grammars_ship_beside_the_code_with_header_and_example() -> None:
    """Three .lark grammars, each with a header comment and an example, load as LALR."""
    grammars = sorted(p.name for p in PACKAGE.glob("*.lark"))
    assert grammars == ["condition.lark", "dot.lark", "stylesheet.lark"]
    for name in grammars:
        text = (PACKAGE / name).read_text(encoding="utf-8")
        assert text.startswith("//")
        assert "// Example:" in text
        assert load_grammar(name).options.parser == "lalr"


def test_grammars_are_loaded_once() -> None:
    """Loading a grammar twice returns the same parser object."""
    assert load_grammar("condition.lark") is load_grammar("condition.lark")


def test_prepare_pipeline_result() -> None:
    """prepare_pipeline returns Success(Prepared) or Failure(DotSyntaxError)."""
    from returns.result import Failure, Success

    ok = dot.prepare_pipeline(
        'digraph G { goal=g\n start [shape=Mdiamond]\n a [prompt="$goal"]\n'
        " exit [shape=Msquare]\n start -> a -> exit }"
    )
    assert isinstance(ok, Success)
    prepared = ok.unwrap()
    assert prepared.graph.node("a").prompt == "g"
    assert prepared.errors == ()
    bad = dot.prepare_pipeline("digraph {", filename="x.dot")
    assert isinstance(bad, Failure)
    assert bad.failure().filename == "x.dot"
