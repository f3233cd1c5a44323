"""CLI: `attractor validate|parse|fmt|render` — the pipeline language on the command line.

Exit codes: 0 clean (or warnings only), 1 lint errors (or `fmt --check` found changes,
or Graphviz failed), 2 unreadable file, syntax error, or missing Graphviz.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import msgspec
import typer

from attractor.cli._app import app
from attractor.cli._output import fail
from attractor.dot import (
    Diagnostic,
    DotSyntaxError,
    Graph,
    Severity,
    apply_transforms,
    format_dot,
    format_source,
    graph_to_builtins,
    parse_dot,
    validate,
)
from attractor.dot._errors import caret_snippet

# Fill colours by handler type for `render` (light, so black labels stay readable).
HANDLER_COLOURS = {
    "start": "#b7e4c7",
    "exit": "#f4a6a6",
    "codergen": "#cfe2ff",
    "wait.human": "#ffe8a3",
    "conditional": "#e2d4f0",
    "parallel": "#c7ecee",
    "parallel.fan_in": "#a9dfe3",
    "tool": "#ffd6a5",
    "stack.manager_loop": "#d9d9d9",
}
RENDER_FORMATS = {".svg": "svg", ".png": "png"}
# Human output lists errors first, then warnings, then notes; each group in file order.
_SEVERITY_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


class _Unreadable(Exception):
    """A file that cannot be read as UTF-8 text (exit code 2)."""


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as err:
        raise _Unreadable(f"{path}: cannot read: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise _Unreadable(
            f"{path}: not UTF-8 text (byte 0x{err.object[err.start]:02x} at offset {err.start})"
        ) from None


def _load(path: Path) -> tuple[str, Graph]:
    """Read, parse and transform one file; exits 2 on unreadable input or syntax errors."""
    try:
        text = _read(path)
        return text, apply_transforms(parse_dot(text, filename=str(path)))
    except _Unreadable as err:
        fail(str(err), code=2)
    except DotSyntaxError as err:
        typer.echo(err.render(), err=True)
        raise typer.Exit(2) from None


def render_diagnostic(diag: Diagnostic, lines: list[str]) -> str:
    """Compiler-style text: `file:line:col: severity[rule]: message`, snippet, hint (the fix)."""
    out = [str(diag)]
    if 1 <= diag.line <= len(lines):
        out.extend(caret_snippet(lines[diag.line - 1], diag.line, diag.column))
    if diag.fix:
        out.append(f"  hint: {diag.fix}")
    return "\n".join(out)


def _count(diagnostics: list[Diagnostic], severity: Severity) -> int:
    return sum(1 for d in diagnostics if d.severity is severity)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class _Checked(msgspec.Struct):
    """The outcome of validating one file."""

    code: int
    record: dict[str, object]
    human: str
    diagnostics: list[Diagnostic]


def _validate_one(path: Path) -> _Checked:
    """Read, parse, transform and validate one file."""
    record: dict[str, object] = {"file": str(path), "syntax_error": None, "diagnostics": []}
    try:
        text = _read(path)
        graph = apply_transforms(parse_dot(text, filename=str(path)))
    except _Unreadable as err:
        record["syntax_error"] = {"message": str(err)}
        return _Checked(2, record, f"error: {err}", [])
    except DotSyntaxError as err:
        record["syntax_error"] = {
            "message": err.message,
            "line": err.line,
            "column": err.column,
            "expected": list(err.expected),
            "hint": err.hint,
        }
        return _Checked(2, record, err.render(), [])
    found = validate(graph)
    record["diagnostics"] = msgspec.to_builtins(found)
    lines = text.splitlines()
    in_order = sorted(found, key=lambda d: (_SEVERITY_RANK[d.severity], d.line, d.column))
    human = "\n".join(render_diagnostic(d, lines) for d in in_order)
    return _Checked(1 if any(d.is_error for d in found) else 0, record, human, found)


@app.command("validate")
def validate_command(
    files: list[Path] = typer.Argument(..., help="Pipeline files (.dot)."),
    as_json: bool = typer.Option(False, "--json", help="Print machine-readable JSON."),
) -> None:
    """Check pipeline files: syntax and every lint rule (exit 0 ok, 1 errors, 2 unreadable)."""
    code, records = 0, []
    totals = {"error": 0, "warning": 0, "info": 0}
    for path in files:
        checked = _validate_one(path)
        code = max(code, checked.code)
        records.append(checked.record)
        for severity in Severity:
            totals[severity.value] += _count(checked.diagnostics, severity)
        totals["error"] += 1 if checked.record["syntax_error"] else 0
        if not as_json and checked.human:
            typer.echo(checked.human)
    if as_json:
        typer.echo(json.dumps({"files": records, "summary": totals, "exit_code": code}, indent=2))
        raise typer.Exit(code)
    summary = (
        f"{_plural(len(files), 'file')} checked: {_plural(totals['error'], 'error')}, "
        f"{_plural(totals['warning'], 'warning')}"
    )
    typer.echo(summary)
    raise typer.Exit(code)


@app.command("parse")
def parse_command(
    file: Path = typer.Argument(..., help="Pipeline file (.dot)."),
    as_json: bool = typer.Option(False, "--json", help="Print the normalized graph as JSON."),
) -> None:
    """Print the normalized graph (after `$goal` expansion and the stylesheet)."""
    _, graph = _load(file)
    if as_json:
        typer.echo(json.dumps(graph_to_builtins(graph), indent=2, ensure_ascii=False))
        return
    typer.echo(
        f"digraph {graph.name or '(unnamed)'}: {len(graph.nodes)} nodes, {len(graph.edges)} edges"
    )
    for node in graph.nodes.values():
        typer.echo(f"  {node.id:<24} {node.handler_type:<20} {node.label}")


@app.command("fmt")
def fmt_command(
    file: Path = typer.Argument(..., help="Pipeline file (.dot)."),
    check: bool = typer.Option(False, "--check", help="Exit 1 if the file is not formatted."),
    write: bool = typer.Option(False, "--write", "-w", help="Rewrite the file in place."),
    normalize: bool = typer.Option(
        False, "--normalize", help="Print the flat normal form (defaults spelled out, no comments)."
    ),
) -> None:
    """Format a pipeline: canonical layout, keeping statements, subgraphs and comments."""
    try:
        text = _read(file)
        if normalize:
            formatted = format_dot(parse_dot(text, filename=str(file)))
        else:
            formatted = format_source(text, filename=str(file))
    except _Unreadable as err:
        fail(str(err), code=2)
    except DotSyntaxError as err:
        typer.echo(err.render(), err=True)
        raise typer.Exit(2) from None
    if check:
        if formatted != text:
            typer.echo(f"{file}: would be reformatted", err=True)
            raise typer.Exit(1)
        typer.echo(f"{file}: already formatted")
        return
    if write:
        file.write_text(formatted, encoding="utf-8")
        return
    typer.echo(formatted, nl=False)


def graphviz_source(graph: Graph) -> str:
    """The graph as DOT for Graphviz, with nodes filled by handler type."""
    nodes = {}
    for node_id, node in graph.nodes.items():
        colour = HANDLER_COLOURS.get(node.handler_type, "#ffffff")
        nodes[node_id] = node.with_attrs(style="filled", fillcolor=colour)
    return format_dot(graph.with_nodes(nodes))


@app.command("render")
def render_command(
    file: Path = typer.Argument(..., help="Pipeline file (.dot)."),
    output: Path = typer.Option(..., "--output", "-o", help="OUT.svg or OUT.png"),
) -> None:
    """Draw the pipeline with Graphviz's `dot` (nodes coloured by handler type)."""
    fmt = RENDER_FORMATS.get(output.suffix.lower())
    if fmt is None:
        fail(f"cannot render to {output.name!r}", hint="use an .svg or .png output file", code=2)
    dot = shutil.which("dot")
    if dot is None:
        fail(
            "Graphviz's `dot` program was not found on PATH",
            hint="install Graphviz (Debian/Ubuntu: apt-get install graphviz), then retry",
            code=2,
        )
    _, graph = _load(file)
    result = subprocess.run(
        [dot, f"-T{fmt}", "-o", str(output)],
        input=graphviz_source(graph).encode("utf-8"),
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        fail(f"Graphviz failed: {result.stderr.decode('utf-8', 'replace').strip()}", code=1)
    typer.echo(f"wrote {output}")
