"""DOT language layer (pure): `validate`, `validate_or_raise` and rule registration (spec §7.3).

Rule: validation runs every built-in rule, then custom rules in registration order, and
returns all findings; only `validate_or_raise` turns ERROR findings into an exception.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

import msgspec
from returns.result import Failure, Result, Success

from attractor.dot._diagnostics import Diagnostic, LintRule, ValidationError
from attractor.dot._errors import DotSyntaxError
from attractor.dot._model import Graph
from attractor.dot._parse import parse_dot
from attractor.dot._rules import (
    condition_syntax,
    edge_target_exists,
    exit_no_outgoing,
    fidelity_valid,
    goal_gate_has_retry,
    prompt_on_llm_nodes,
    reachability,
    retry_target_exists,
    start_no_incoming,
    start_node,
    stylesheet_syntax,
    terminal_node,
    type_known_rule,
)
from attractor.dot._rules_extra import attribute_type, missing_comma, unbounded_loop
from attractor.dot._transforms import Transform, apply_transforms

#: The rules `validate` always runs, in order: the 13 of spec §7.2, then ours.
BUILTIN_RULES: tuple[LintRule, ...] = (
    start_node,
    terminal_node,
    reachability,
    edge_target_exists,
    start_no_incoming,
    exit_no_outgoing,
    condition_syntax,
    stylesheet_syntax,
    type_known_rule(),
    fidelity_valid,
    retry_target_exists,
    goal_gate_has_retry,
    prompt_on_llm_nodes,
    attribute_type,
    missing_comma,
    unbounded_loop,
)


def validate(
    graph: Graph,
    extra_rules: Iterable[LintRule] = (),
    *,
    handler_types: Collection[str] | None = None,
) -> list[Diagnostic]:
    """Run every built-in rule, then `extra_rules`, and return all diagnostics.

    Args:
        graph: The (transformed) graph.
        extra_rules: Custom rules, run after the built-ins in the order given.
        handler_types: The handler types the engine knows, if it registered custom ones;
            `type_known` warns about any other `type`. Defaults to the spec's nine.
    """
    rules: list[LintRule] = list(BUILTIN_RULES)
    if handler_types is not None:
        rules = [type_known_rule(handler_types) if r.name == "type_known" else r for r in rules]
    diagnostics: list[Diagnostic] = []
    for rule in (*rules, *extra_rules):
        diagnostics.extend(rule.apply(graph))
    return diagnostics


def validate_or_raise(
    graph: Graph,
    extra_rules: Iterable[LintRule] = (),
    *,
    handler_types: Collection[str] | None = None,
) -> list[Diagnostic]:
    """`validate`, raising if anything has ERROR severity.

    Returns:
        All diagnostics (warnings and infos) when there is no error.

    Raises:
        ValidationError: carrying every diagnostic, when at least one is an error.
    """
    diagnostics = validate(graph, extra_rules, handler_types=handler_types)
    if any(d.is_error for d in diagnostics):
        raise ValidationError(diagnostics)
    return diagnostics


class RuleRegistry:
    """Custom lint rules in registration order (spec §7.4)."""

    def __init__(self, rules: Iterable[LintRule] = ()) -> None:
        self._rules: list[LintRule] = list(rules)

    def register(self, rule: LintRule) -> LintRule:
        """Append `rule`; returns it so this works as a decorator over `lint_rule(...)`."""
        self._rules.append(rule)
        return rule

    @property
    def rules(self) -> tuple[LintRule, ...]:
        """The registered rules, in order."""
        return tuple(self._rules)

    def validate(self, graph: Graph) -> list[Diagnostic]:
        """Built-in rules, then the registered ones."""
        return validate(graph, self._rules)


class Prepared(msgspec.Struct, frozen=True):
    """A parsed, transformed and validated pipeline (spec §9.1 `prepare_pipeline`)."""

    graph: Graph
    diagnostics: tuple[Diagnostic, ...]

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """The ERROR diagnostics; the engine must not run the pipeline if there are any."""
        return tuple(d for d in self.diagnostics if d.is_error)


def prepare_pipeline(
    text: str,
    *,
    filename: str = "<string>",
    transforms: Iterable[Transform] = (),
    extra_rules: Iterable[LintRule] = (),
    handler_types: Collection[str] | None = None,
) -> Result[Prepared, DotSyntaxError]:
    """Parse, transform (built-ins, then `transforms`) and validate, as one boundary call.

    Returns:
        `Success(Prepared)` — check `.errors` before running — or `Failure(DotSyntaxError)`.
    """
    try:
        graph = parse_dot(text, filename=filename)
    except DotSyntaxError as error:
        return Failure(error)
    graph = apply_transforms(graph, transforms)
    found = validate(graph, extra_rules, handler_types=handler_types)
    return Success(Prepared(graph, tuple(found)))
