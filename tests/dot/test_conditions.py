"""The condition language (spec §10, §11.9)."""

from __future__ import annotations

import pytest

from attractor.dot import Clause, Condition, ConditionSyntaxError, compile_condition


def _eval(text: str, outcome: str = "success", label: str = "", **context: object) -> bool:
    return compile_condition(text).evaluate(outcome, label, context)


def test_equals() -> None:
    """`=` compares strings exactly."""
    assert _eval("outcome=success")
    assert not _eval("outcome=success", outcome="fail")


def test_not_equals() -> None:
    """`!=` is the negation of `=`."""
    assert _eval("outcome!=success", outcome="fail")
    assert not _eval("outcome!=success")


def test_and_requires_every_clause() -> None:
    """`&&` joins clauses; all must hold."""
    text = "outcome=success && context.tests_passed=true"
    assert _eval(text, tests_passed=True)
    assert not _eval(text, tests_passed=False)
    assert not _eval(text, outcome="fail", tests_passed=True)


def test_preferred_label() -> None:
    """`preferred_label` resolves to the outcome's preferred label."""
    assert _eval("preferred_label=Fix", label="Fix")
    assert not _eval("preferred_label=Fix", label="Approve")


def test_context_keys_with_and_without_prefix() -> None:
    """§10.4: context.x looks up `context.x`, then `x`."""
    assert compile_condition("context.a=1").evaluate("success", "", {"context.a": 1})
    assert compile_condition("context.a=1").evaluate("success", "", {"a": "1"})


def test_missing_context_key_is_empty_string() -> None:
    """Missing keys compare as "" — never equal to a non-empty value."""
    assert not _eval("context.loop_state=exhausted")
    assert _eval("context.loop_state!=exhausted")
    assert _eval('context.loop_state=""')


def test_nested_context_paths() -> None:
    """Dotted paths are whole keys in the flat context."""
    assert _eval("context.build.status=green", **{"build.status": "green"})


def test_bare_key_is_truthiness() -> None:
    """A clause without operator is true when the value is non-empty."""
    assert _eval("context.flag", flag="yes")
    assert not _eval("context.flag")
    assert not _eval("context.flag", flag="")


def test_unqualified_key_reads_context() -> None:
    """An unqualified key other than outcome/preferred_label is a context lookup."""
    assert _eval("mode=fast", mode="fast")


def test_quoted_literals_with_spaces_and_escapes() -> None:
    """Quoted literals may contain spaces, '&&' and escaped quotes."""
    assert _eval('preferred_label="Fix it && ship"', label="Fix it && ship")
    assert _eval(r'context.q="say \"hi\""', q='say "hi"')


def test_integer_and_boolean_literals_compare_as_strings() -> None:
    """Context values are stringified: booleans as true/false, numbers via str()."""
    assert _eval("context.n=42", n=42)
    assert _eval("context.ok=true", ok=True)
    assert _eval("context.ok=false", ok=False)


def test_comparison_is_case_sensitive() -> None:
    """§10.3: string comparison is exact."""
    assert not _eval("outcome=SUCCESS")


def test_empty_condition_is_always_true() -> None:
    """An empty (or blank) condition is the unconditional edge."""
    assert compile_condition("") == Condition()
    assert _eval("   ", outcome="fail")


def test_compile_is_cached() -> None:
    """Compiling the same text twice returns the same object."""
    assert compile_condition("outcome=fail") is compile_condition("outcome=fail")


def test_ast_shape() -> None:
    """The compiled AST is a tuple of clauses."""
    cond = compile_condition('outcome=success && context.x!="a b" && ready')
    assert cond.clauses == (
        Clause("outcome", "=", "success"),
        Clause("context.x", "!=", "a b"),
        Clause("ready", "truthy"),
    )
    assert str(cond) == 'outcome=success && context.x!="a b" && ready'


@pytest.mark.parametrize(
    ("text", "column", "hint"),
    [
        ("outcome==success", 9, "single '='"),
        ("outcome=success || outcome=fail", 17, "'&&'"),
        ("context.n >= 3", 11, "'!='"),
        ("outcome=success &&", 19, "missing after '&&'"),
        ("outcome=", 9, "missing after the operator"),
        ("context.x=a b", 13, "quote values"),
    ],
)
def test_syntax_errors_are_located_inside_the_expression(text: str, column: int, hint: str) -> None:
    """Bad conditions raise ConditionSyntaxError at the offending column, with a hint."""
    with pytest.raises(ConditionSyntaxError) as info:
        compile_condition(text)
    assert info.value.column == column
    assert hint in (info.value.hint or "")


def test_outcome_may_be_an_enum() -> None:
    """An engine status enum compares by its value."""
    import enum

    class Status(enum.Enum):
        SUCCESS = "success"

    assert compile_condition("outcome=success").evaluate(Status.SUCCESS, "", {})
