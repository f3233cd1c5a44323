"""Server layer (pure): a pipeline checked as `attractor validate` checks it, for the API.

Rule: validation is the DOT layer's (`prepare_pipeline` with the engine's handler types); this
module only shapes the result — the diagnostics as data, and the same compiler-style text the
CLI prints (`file:line:col: severity[rule]: message`, the source line with a caret, the hint).
"""

from __future__ import annotations

from attractor.dot import Diagnostic, DotSyntaxError, Severity, prepare_pipeline
from attractor.dot._errors import caret_snippet
from attractor.pipeline.handlers import builtin_registry
from attractor.server._schemas import SyntaxProblem, Validation

_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def render(diag: Diagnostic, lines: list[str]) -> str:
    """One diagnostic as compiler-style text."""
    out = [str(diag)]
    if 1 <= diag.line <= len(lines):
        out.extend(caret_snippet(lines[diag.line - 1], diag.line, diag.column))
    if diag.fix:
        out.append(f"  hint: {diag.fix}")
    return "\n".join(out)


def syntax_problem(err: DotSyntaxError) -> SyntaxProblem:
    """A syntax error as data, with its rendered text."""
    return SyntaxProblem(
        message=err.message,
        line=err.line,
        column=err.column,
        expected=list(err.expected),
        hint=err.hint,
        rendered=err.render(),
    )


def check_source(source: str, filename: str) -> Validation:
    """Parse, transform and validate `source`; never raises for a bad pipeline."""
    result = prepare_pipeline(source, filename=filename, handler_types=builtin_registry().types())
    prepared = result.value_or(None)
    if prepared is None:
        err = result.failure()
        assert isinstance(err, DotSyntaxError)
        problem = syntax_problem(err)
        return Validation(
            valid=False,
            errors=1,
            warnings=0,
            diagnostics=[],
            syntax_error=problem,
            rendered=problem.rendered,
        )
    found = sorted(prepared.diagnostics, key=lambda d: (_RANK[d.severity], d.line, d.column))
    lines = source.splitlines()
    errors = sum(1 for d in found if d.is_error)
    return Validation(
        valid=errors == 0,
        errors=errors,
        warnings=sum(1 for d in found if d.severity is Severity.WARNING),
        diagnostics=found,
        syntax_error=None,
        rendered="\n".join(render(d, lines) for d in found),
    )
