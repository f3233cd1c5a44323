"""DOT language layer (pure): the diagnostic model and the lint-rule interface (spec §7.1, §7.4).

Rule: a lint rule is data in, data out — `apply(graph) -> list[Diagnostic]` — and never
raises for a bad graph; validation is the sum of the rules' findings.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import msgspec

from attractor.dot._model import Graph


class Severity(enum.Enum):
    """How bad a finding is. ERROR stops the engine from running the pipeline."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Diagnostic(msgspec.Struct, frozen=True):
    """One finding of one lint rule (spec §7.1), with a source location when known.

    Attributes:
        rule: The rule ID (`start_node`, `reachability`, …).
        severity: ERROR, WARNING or INFO.
        message: What is wrong, one sentence.
        node_id: The node concerned, if any.
        edge: The edge concerned as (source, target), if any.
        fix: A suggested fix, if any.
        file: The file the graph was parsed from.
        line: 1-based line (0 when unknown).
        column: 1-based column (0 when unknown).
    """

    rule: str
    severity: Severity
    message: str
    node_id: str | None = None
    edge: tuple[str, str] | None = None
    fix: str | None = None
    file: str = "<string>"
    line: int = 0
    column: int = 0

    @property
    def is_error(self) -> bool:
        """Whether this diagnostic has ERROR severity."""
        return self.severity is Severity.ERROR

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}: " if self.line else f"{self.file}: "
        return f"{where}{self.severity.value}[{self.rule}]: {self.message}"


@runtime_checkable
class LintRule(Protocol):
    """The custom-rule interface (spec §7.4): a name and `apply(graph)`."""

    @property
    def name(self) -> str:
        """The rule ID used in diagnostics."""
        ...

    def apply(self, graph: Graph) -> list[Diagnostic]:
        """Every finding of this rule on `graph`."""
        ...


class FunctionRule:
    """A `LintRule` made from a plain function (see `lint_rule`)."""

    def __init__(self, name: str, check: Callable[[Graph], list[Diagnostic]]) -> None:
        self._name = name
        self._check = check
        self.__doc__ = check.__doc__

    @property
    def name(self) -> str:
        """The rule ID."""
        return self._name

    def apply(self, graph: Graph) -> list[Diagnostic]:
        """Run the wrapped function."""
        return self._check(graph)

    def __repr__(self) -> str:
        return f"<lint rule {self._name}>"


def lint_rule(name: str) -> Callable[[Callable[[Graph], list[Diagnostic]]], FunctionRule]:
    """Decorator: turn `def check(graph) -> list[Diagnostic]` into a `LintRule` named `name`."""

    def wrap(check: Callable[[Graph], list[Diagnostic]]) -> FunctionRule:
        return FunctionRule(name, check)

    return wrap


class ValidationError(ValueError):
    """Raised by `validate_or_raise` when any diagnostic has ERROR severity."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        self.errors = [d for d in diagnostics if d.is_error]
        lines = [f"pipeline has {len(self.errors)} error(s):"]
        lines.extend(f"  {d}" for d in self.errors)
        super().__init__("\n".join(lines))


def diagnostic(
    graph: Graph,
    rule: str,
    severity: Severity,
    message: str,
    *,
    at: tuple[int, int] = (0, 0),
    node_id: str | None = None,
    edge: tuple[str, str] | None = None,
    fix: str | None = None,
) -> Diagnostic:
    """A `Diagnostic` on `graph`, located at `at` = (line, column)."""
    return Diagnostic(
        rule,
        severity,
        message,
        node_id=node_id,
        edge=edge,
        fix=fix,
        file=graph.origin.filename,
        line=at[0],
        column=at[1],
    )
