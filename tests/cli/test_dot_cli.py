"""CLI: `attractor validate|parse|fmt|render` — output format and exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attractor.cli import _app

_app._register()
runner = CliRunner()

CLEAN = """digraph Demo {
    graph [goal="Ship it", model_stylesheet="* { llm_model: m1 }"]
    start [shape=Mdiamond]
    exit [shape=Msquare]
    work [prompt="Do: $goal", human.default_choice=exit]
    start -> work -> exit
}
"""
WARNS = CLEAN.replace('[prompt="Do: $goal", human.default_choice=exit]', "[goal_gate=true label=W]")
ERRORS = CLEAN.replace("start -> work -> exit", "start -> work -> exit\n    orphan [prompt=o]")
SYNTAX = 'digraph Demo {\n    a [label "x"]\n}\n'


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _run(*args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(_app.app, list(args), env=env)


def test_validate_clean_file_exits_zero(tmp_path: Path) -> None:
    """A clean file exits 0 with a summary line."""
    result = _run("validate", str(_write(tmp_path, "ok.dot", CLEAN)))
    assert result.exit_code == 0
    assert "1 file checked: 0 errors, 0 warnings" in result.output


def test_validate_warnings_only_exits_zero(tmp_path: Path) -> None:
    """Warnings are printed compiler-style but the exit code stays 0."""
    path = _write(tmp_path, "warn.dot", WARNS)
    result = _run("validate", str(path))
    assert result.exit_code == 0
    assert f"{path}:5:11: warning[goal_gate_has_retry]: " in result.output
    assert f"{path}:5:26: warning[missing_comma]: " in result.output
    assert "0 errors, 2 warnings" in result.output


def test_validate_errors_exit_one_with_caret_and_fix(tmp_path: Path) -> None:
    """Errors print file:line:col: error[rule]: message, the line, a caret and a hint."""
    path = _write(tmp_path, "bad.dot", ERRORS)
    result = _run("validate", str(path))
    assert result.exit_code == 1
    assert f"{path}:7:5: error[reachability]: node 'orphan' cannot be reached" in result.output
    assert "  7 |     orphan [prompt=o]\n    |     ^\n  hint: add an edge into " in result.output
    assert "1 error, 0 warnings" in result.output


def test_validate_syntax_error_exits_two(tmp_path: Path) -> None:
    """A syntax error prints the located error with caret and hint, exit 2."""
    path = _write(tmp_path, "syntax.dot", SYNTAX)
    result = _run("validate", str(path))
    assert result.exit_code == 2
    assert f"{path}:2:14: error: unexpected string" in result.output
    assert "hint: every attribute needs a value" in result.output


def test_validate_unreadable_files_exit_two(tmp_path: Path) -> None:
    """Missing files and non-UTF-8 bytes exit 2 with a clear message."""
    missing = _run("validate", str(tmp_path / "nope.dot"))
    assert missing.exit_code == 2
    assert "cannot read" in missing.output
    binary = tmp_path / "bin.dot"
    binary.write_bytes(b'digraph G { a [label="\xff"] }')
    result = _run("validate", str(binary))
    assert result.exit_code == 2
    assert "not UTF-8 text (byte 0xff at offset 22)" in result.output


def test_validate_several_files_takes_the_worst_exit_code(tmp_path: Path) -> None:
    """Several files: every file is reported, the exit code is the worst one."""
    ok = _write(tmp_path, "ok.dot", CLEAN)
    bad = _write(tmp_path, "bad.dot", ERRORS)
    result = _run("validate", str(ok), str(bad))
    assert result.exit_code == 1
    assert "2 files checked: 1 error, 0 warnings" in result.output


def test_validate_json(tmp_path: Path) -> None:
    """--json prints one record per file with structured diagnostics."""
    bad = _write(tmp_path, "bad.dot", ERRORS)
    syntax = _write(tmp_path, "syntax.dot", SYNTAX)
    result = _run("validate", "--json", str(bad), str(syntax))
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    first, second = data["files"]
    assert first["diagnostics"][0]["rule"] == "reachability"
    assert first["diagnostics"][0]["severity"] == "error"
    assert (first["diagnostics"][0]["line"], first["diagnostics"][0]["column"]) == (7, 5)
    assert second["syntax_error"]["line"] == 2
    assert second["syntax_error"]["expected"] == ["'='"]
    assert data["summary"]["error"] == 2


def test_parse_json_is_the_transformed_graph(tmp_path: Path) -> None:
    """parse --json prints the normalized graph after $goal expansion and the stylesheet."""
    result = _run("parse", "--json", str(_write(tmp_path, "ok.dot", CLEAN)))
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    work = next(n for n in data["nodes"] if n["id"] == "work")
    assert work["attrs"]["prompt"] == "Do: Ship it"
    assert work["attrs"]["llm_model"] == "m1"
    assert work["attrs"]["human.default_choice"] == "exit"
    assert work["handler_type"] == "codergen"
    assert [(e["source"], e["target"]) for e in data["edges"]] == [
        ("start", "work"),
        ("work", "exit"),
    ]


def test_parse_syntax_error_exits_two(tmp_path: Path) -> None:
    """parse reports syntax errors like validate."""
    assert _run("parse", "--json", str(_write(tmp_path, "s.dot", SYNTAX))).exit_code == 2


def test_fmt_prints_canonical_form(tmp_path: Path) -> None:
    """fmt prints the canonical text, which is a fixed point."""
    path = _write(tmp_path, "warn.dot", WARNS)
    result = _run("fmt", str(path))
    assert result.exit_code == 0
    assert "work [goal_gate=true, label=W]" in result.stdout
    formatted = _write(tmp_path, "formatted.dot", result.stdout)
    assert _run("fmt", "--check", str(formatted)).exit_code == 0


def test_fmt_check_and_write(tmp_path: Path) -> None:
    """fmt --check exits 1 for unformatted files; --write rewrites them in place."""
    path = _write(tmp_path, "warn.dot", WARNS)
    check = _run("fmt", "--check", str(path))
    assert check.exit_code == 1
    assert "would be reformatted" in check.output
    assert _run("fmt", "--write", str(path)).exit_code == 0
    assert _run("fmt", "--check", str(path)).exit_code == 0


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
@pytest.mark.parametrize(("suffix", "magic"), [(".svg", b"<?xml"), (".png", b"\x89PNG")])
def test_render_with_graphviz(tmp_path: Path, suffix: str, magic: bytes) -> None:
    """render draws SVG and PNG through Graphviz; dotted keys do not break it."""
    out = tmp_path / f"out{suffix}"
    result = _run("render", str(_write(tmp_path, "ok.dot", CLEAN)), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(magic)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_render_colours_nodes_by_handler_type(tmp_path: Path) -> None:
    """The SVG fills start, exit and LLM nodes with their handler colours."""
    out = tmp_path / "out.svg"
    _run("render", str(_write(tmp_path, "ok.dot", CLEAN)), "-o", str(out))
    svg = out.read_text()
    for colour in ("#b7e4c7", "#f4a6a6", "#cfe2ff"):
        assert colour in svg


def test_render_without_graphviz_exits_two(tmp_path: Path) -> None:
    """With no `dot` on PATH, render says how to install Graphviz and exits 2."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    path = _write(tmp_path, "ok.dot", CLEAN)
    result = _run("render", str(path), "-o", str(tmp_path / "o.svg"), env={"PATH": str(empty)})
    assert result.exit_code == 2
    assert "Graphviz's `dot` program was not found" in result.output
    assert "apt-get install graphviz" in result.output


def test_render_rejects_unknown_output_format(tmp_path: Path) -> None:
    """Only .svg and .png outputs are accepted."""
    path = _write(tmp_path, "ok.dot", CLEAN)
    result = _run("render", str(path), "-o", str(tmp_path / "o.pdf"))
    assert result.exit_code == 2
    assert "svg or .png" in result.output


def test_python_dash_m_validate_subprocess(tmp_path: Path) -> None:
    """A real `python -m attractor validate` process reports and exits like the runner."""
    ok = _write(tmp_path, "ok.dot", CLEAN)
    bad = _write(tmp_path, "bad.dot", ERRORS)
    done = subprocess.run(
        [sys.executable, "-m", "attractor", "validate", str(ok), str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "error[reachability]" in done.stdout
    assert "2 files checked: 1 error, 0 warnings" in done.stdout


def test_validate_lists_errors_before_warnings_in_file_order(tmp_path: Path) -> None:
    """Human output: errors first, then warnings, each in line order."""
    text = WARNS.replace("start -> work -> exit", "start -> work -> exit\n    zz [prompt=z]")
    result = _run("validate", str(_write(tmp_path, "mixed.dot", text)))
    lines = [line for line in result.output.splitlines() if "]: " in line]
    kinds = [("error" if "error[" in line else "warning") for line in lines]
    assert kinds == ["error", "warning", "warning"]
    assert ":5:11: warning" in lines[1]
    assert ":5:26: warning" in lines[2]


def test_fmt_keeps_comments_and_structure(tmp_path: Path) -> None:
    """fmt keeps comments and default blocks; --normalize prints the flat normal form."""
    text = "// pipeline\ndigraph G {\n  node [shape=box]  // defaults\n  a -> b\n}\n"
    path = _write(tmp_path, "c.dot", text)
    kept = _run("fmt", str(path)).stdout
    assert kept == "// pipeline\ndigraph G {\n    node [shape=box] // defaults\n    a -> b\n}\n"
    flat = _run("fmt", "--normalize", str(path)).stdout
    assert "//" not in flat
    assert "a [shape=box]" in flat
