"""DOT language layer (pure): Attractor's pipeline language — spec §2, §7, §8, §9.1-9.3, §10.

Rule: this package depends only on lark, msgspec, returns and the standard library, and does
no I/O beyond reading the text it is handed. Typical use::

    graph = apply_transforms(parse_dot(text, filename="pipeline.dot"))
    diagnostics = validate_or_raise(graph)
    if compile_condition(edge.condition).evaluate("success", "", context): ...

See docs/dot.md for the language as accepted, the lint rules and this API.
"""

from attractor.dot._condition import Clause, Condition, compile_condition, resolve_key, stringify
from attractor.dot._diagnostics import (
    Diagnostic,
    FunctionRule,
    LintRule,
    Severity,
    ValidationError,
    lint_rule,
)
from attractor.dot._errors import ConditionSyntaxError, DotSyntaxError, StylesheetSyntaxError
from attractor.dot._format import format_dot, graph_to_builtins
from attractor.dot._graphs import exit_nodes, is_exit, is_start, start_nodes
from attractor.dot._model import (
    BUILTIN_HANDLER_TYPES,
    FIDELITY_MODES,
    SHAPE_TO_HANDLER,
    Edge,
    Graph,
    GraphOrigin,
    Node,
    Origin,
    UnknownNodeError,
)
from attractor.dot._parse import parse_dot
from attractor.dot._source_format import format_source
from attractor.dot._stylesheet import (
    STYLESHEET_PROPERTIES,
    Selector,
    StyleRule,
    Stylesheet,
    apply_stylesheet,
    parse_stylesheet,
)
from attractor.dot._transforms import (
    BUILTIN_TRANSFORMS,
    Transform,
    TransformRegistry,
    apply_transforms,
    expand_goal,
)
from attractor.dot._validate import (
    BUILTIN_RULES,
    Prepared,
    RuleRegistry,
    prepare_pipeline,
    validate,
    validate_or_raise,
)
from attractor.dot._values import derive_class, parse_bool, parse_duration, parse_float, parse_int

__all__ = [
    "BUILTIN_HANDLER_TYPES",
    "BUILTIN_RULES",
    "BUILTIN_TRANSFORMS",
    "FIDELITY_MODES",
    "SHAPE_TO_HANDLER",
    "STYLESHEET_PROPERTIES",
    "Clause",
    "Condition",
    "ConditionSyntaxError",
    "Diagnostic",
    "DotSyntaxError",
    "Edge",
    "FunctionRule",
    "Graph",
    "GraphOrigin",
    "LintRule",
    "Node",
    "Origin",
    "Prepared",
    "RuleRegistry",
    "Selector",
    "Severity",
    "StyleRule",
    "Stylesheet",
    "StylesheetSyntaxError",
    "Transform",
    "TransformRegistry",
    "UnknownNodeError",
    "ValidationError",
    "apply_stylesheet",
    "apply_transforms",
    "compile_condition",
    "derive_class",
    "exit_nodes",
    "expand_goal",
    "format_dot",
    "format_source",
    "graph_to_builtins",
    "is_exit",
    "is_start",
    "lint_rule",
    "parse_bool",
    "parse_dot",
    "parse_duration",
    "parse_float",
    "parse_int",
    "parse_stylesheet",
    "prepare_pipeline",
    "resolve_key",
    "start_nodes",
    "stringify",
    "validate",
    "validate_or_raise",
]
