"""DOT language layer (pure): the immutable pipeline model — `Graph`, `Node`, `Edge`.

Rule: attribute values are kept exactly as written (decoded strings, unknown keys included);
typed properties interpret them with the defaults of spec Appendix A. Where an element came
from (`Origin`) is carried along for diagnostics but never takes part in equality, so that
`parse_dot(format_dot(g)) == g` holds although the formatted text has different positions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Any, TypeVar

import msgspec

from attractor.dot._values import parse_bool, parse_duration, parse_int, split_classes

T = TypeVar("T")

EMPTY: Mapping[str, Any] = MappingProxyType({})

#: Spec §2.8 / Appendix B: which handler a shape selects when the node has no `type`.
SHAPE_TO_HANDLER: Mapping[str, str] = MappingProxyType(
    {
        "Mdiamond": "start",
        "Msquare": "exit",
        "box": "codergen",
        "hexagon": "wait.human",
        "diamond": "conditional",
        "component": "parallel",
        "tripleoctagon": "parallel.fan_in",
        "parallelogram": "tool",
        "house": "stack.manager_loop",
    }
)

#: The handler types the spec defines (§4); `type_known` warns about others.
BUILTIN_HANDLER_TYPES: frozenset[str] = frozenset(SHAPE_TO_HANDLER.values())

#: Spec §5.4 fidelity modes.
FIDELITY_MODES: frozenset[str] = frozenset(
    {"full", "truncate", "compact", "summary:low", "summary:medium", "summary:high"}
)

#: Position of one attribute: (key line, key column, value line, value column), 1-based;
#: the value position is that of its first character of text (after an opening quote).
AttrPosition = tuple[int, int, int, int]


def freeze(mapping: Mapping[str, T]) -> Mapping[str, T]:
    """A read-only view of a copy of `mapping` (no copy if it is already frozen)."""
    if isinstance(mapping, MappingProxyType):
        return mapping
    return MappingProxyType(dict(mapping))


class Origin(msgspec.Struct, frozen=True):
    """Where a node, edge or graph was written. Compares equal to every other `Origin`.

    Attributes:
        line: 1-based line of the statement (0 when built in code).
        column: 1-based column of the statement.
        attrs: Position of each attribute written *explicitly* on this element.
        implicit: True for a node that was only ever mentioned as an edge endpoint.
    """

    line: int = 0
    column: int = 0
    attrs: Mapping[str, AttrPosition] = EMPTY
    implicit: bool = False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Origin)

    def __hash__(self) -> int:
        return 0

    def attr_position(self, key: str) -> tuple[int, int]:
        """(line, column) of attribute `key`'s name, falling back to the element itself."""
        pos = self.attrs.get(key)
        return (pos[0], pos[1]) if pos else (self.line, self.column)

    def value_position(self, key: str) -> tuple[int, int]:
        """(line, column) of the first character of `key`'s value text (after any quote)."""
        pos = self.attrs.get(key)
        return (pos[2], pos[3]) if pos else (self.line, self.column)


class GraphOrigin(Origin, frozen=True):
    """`Origin` of a whole graph, plus what the parser noticed about the file as a whole.

    Attributes:
        filename: The name handed to `parse_dot`.
        missing_commas: (line, column) of each attribute that followed another without a comma.
    """

    filename: str = "<string>"
    missing_commas: tuple[tuple[int, int], ...] = ()


NO_ORIGIN = Origin()
NO_GRAPH_ORIGIN = GraphOrigin()


def _typed(attrs: Mapping[str, str], key: str, parse: Callable[[str], T], default: T) -> T:
    """`parse(attrs[key])`, or `default` when absent or malformed (lint rule `attribute_type`)."""
    raw = attrs.get(key)
    if raw is None:
        return default
    try:
        return parse(raw)
    except ValueError:
        return default


def _hashable(value: Any) -> Any:
    return frozenset(value.items()) if isinstance(value, Mapping) else value


class _Attributed(msgspec.Struct, frozen=True):
    """Shared accessors for anything that carries DOT attributes."""

    def __post_init__(self) -> None:
        # Callers may pass plain dicts; store read-only views so the model stays immutable.
        for name in ("attrs", "nodes"):
            value = getattr(self, name, None)
            if value is not None and not isinstance(value, MappingProxyType):
                msgspec.structs.force_setattr(self, name, MappingProxyType(dict(value)))

    def __hash__(self) -> int:
        # Consistent with ==: mappings hash as sets of items (order-free, like dict equality).
        return hash(tuple(_hashable(getattr(self, f)) for f in self.__struct_fields__))

    def get(self, key: str, default: str | None = None) -> str | None:
        """The raw value of any attribute (qualified keys like `human.default_choice` too)."""
        attrs: Mapping[str, str] = getattr(self, "attrs", EMPTY)
        return attrs.get(key, default)

    def _str(self, key: str, default: str = "") -> str:
        attrs: Mapping[str, str] = getattr(self, "attrs", EMPTY)
        return attrs.get(key, default)


class Node(_Attributed, frozen=True):
    """A pipeline stage. `attrs` holds every attribute: explicit ones and inherited defaults.

    Attributes:
        id: The node ID (`[A-Za-z_][A-Za-z0-9_]*`).
        attrs: Attribute values as written (read-only).
        subgraph_classes: Classes derived from the labels of enclosing subgraphs (§2.10).
        origin: Source position (ignored by equality).
    """

    id: str
    attrs: Mapping[str, str] = EMPTY
    subgraph_classes: tuple[str, ...] = ()
    origin: Origin = NO_ORIGIN

    @property
    def shape(self) -> str:
        """Graphviz shape; default `box`."""
        return self._str("shape", "box")

    @property
    def node_type(self) -> str:
        """The explicit `type` attribute (handler override), "" when unset."""
        return self._str("type")

    @property
    def handler_type(self) -> str:
        """`type` if set, else the handler for `shape` (§2.8), else `codergen`."""
        attrs = self.attrs  # hot in validation: read the mapping directly
        return attrs.get("type") or SHAPE_TO_HANDLER.get(attrs.get("shape", "box"), "codergen")

    @property
    def label(self) -> str:
        """Display name; defaults to the node ID."""
        return self._str("label", self.id)

    @property
    def prompt(self) -> str:
        """The stage instruction ("" when unset; LLM stages fall back to `label`)."""
        return self._str("prompt")

    @property
    def max_retries(self) -> int | None:
        """Additional attempts; None means "inherit the graph's `default_max_retries`"."""
        return _typed(self.attrs, "max_retries", parse_int, None)

    @property
    def goal_gate(self) -> bool:
        """Whether the node must succeed before the pipeline may exit."""
        return _typed(self.attrs, "goal_gate", parse_bool, False)

    @property
    def retry_target(self) -> str:
        """Node to jump to when retries are exhausted ("" when unset)."""
        return self._str("retry_target")

    @property
    def fallback_retry_target(self) -> str:
        """Secondary retry target ("" when unset)."""
        return self._str("fallback_retry_target")

    @property
    def fidelity(self) -> str:
        """Context fidelity mode ("" means inherit)."""
        return self._str("fidelity")

    @property
    def thread_id(self) -> str:
        """Explicit LLM thread key ("" means derived at run time)."""
        return self._str("thread_id")

    @property
    def class_(self) -> str:
        """The raw `class` attribute."""
        return self._str("class")

    @property
    def classes(self) -> tuple[str, ...]:
        """Class names from `class` followed by those derived from enclosing subgraphs."""
        own = split_classes(self.class_)
        return own + tuple(c for c in self.subgraph_classes if c not in own)

    @property
    def timeout(self) -> timedelta | None:
        """Maximum execution time, or None when unset."""
        return _typed(self.attrs, "timeout", parse_duration, None)

    @property
    def llm_model(self) -> str:
        """LLM model ID ("" means inherit)."""
        return self._str("llm_model")

    @property
    def llm_provider(self) -> str:
        """LLM provider key ("" means auto-detect from the model)."""
        return self._str("llm_provider")

    @property
    def reasoning_effort(self) -> str:
        """`low`, `medium` or `high` (default)."""
        return self._str("reasoning_effort", "high")

    @property
    def auto_status(self) -> bool:
        """Whether a missing status is treated as SUCCESS."""
        return _typed(self.attrs, "auto_status", parse_bool, False)

    @property
    def allow_partial(self) -> bool:
        """Whether PARTIAL_SUCCESS is accepted when retries are exhausted."""
        return _typed(self.attrs, "allow_partial", parse_bool, False)

    # Handler-specific attributes (spec §4.6-4.11), with the defaults the handlers use.

    @property
    def human_default_choice(self) -> str:
        """`human.default_choice`: the edge target chosen when a human gate times out."""
        return self._str("human.default_choice")

    @property
    def join_policy(self) -> str:
        """Parallel join policy: `wait_all` (default) or `first_success`."""
        return self._str("join_policy", "wait_all")

    @property
    def max_parallel(self) -> int:
        """Parallel branches run at once; default 4."""
        return _typed(self.attrs, "max_parallel", parse_int, 4)

    @property
    def tool_command(self) -> str:
        """The shell command of a tool node ("" when unset)."""
        return self._str("tool_command")

    @property
    def manager_poll_interval(self) -> timedelta:
        """`manager.poll_interval`; default 45s."""
        return _typed(self.attrs, "manager.poll_interval", parse_duration, timedelta(seconds=45))

    @property
    def manager_max_cycles(self) -> int:
        """`manager.max_cycles`; default 1000."""
        return _typed(self.attrs, "manager.max_cycles", parse_int, 1000)

    @property
    def manager_stop_condition(self) -> str:
        """`manager.stop_condition`: a condition expression ("" when unset)."""
        return self._str("manager.stop_condition")

    @property
    def manager_actions(self) -> tuple[str, ...]:
        """`manager.actions`, split on commas; default ("observe", "wait")."""
        return split_classes(self._str("manager.actions", "observe,wait"))

    @property
    def stack_child_autostart(self) -> bool:
        """`stack.child_autostart`; default true."""
        return _typed(self.attrs, "stack.child_autostart", parse_bool, True)

    def with_attrs(self, **changes: str) -> Node:
        """A copy with attributes set (use `with_attrs(**{"a.b": "x"})` for qualified keys)."""
        return msgspec.structs.replace(self, attrs=freeze({**self.attrs, **changes}))


class Edge(_Attributed, frozen=True):
    """A directed transition `source -> target` with its attributes (explicit and defaults)."""

    source: str
    target: str
    attrs: Mapping[str, str] = EMPTY
    origin: Origin = NO_ORIGIN

    @property
    def label(self) -> str:
        """Caption and preferred-label routing key ("" when unset)."""
        return self._str("label")

    @property
    def condition(self) -> str:
        """The raw condition expression ("" means always eligible)."""
        return self._str("condition")

    @property
    def weight(self) -> int:
        """Selection priority; default 0."""
        return _typed(self.attrs, "weight", parse_int, 0)

    @property
    def fidelity(self) -> str:
        """Fidelity override for the target ("" when unset)."""
        return self._str("fidelity")

    @property
    def thread_id(self) -> str:
        """Thread override for the target ("" when unset)."""
        return self._str("thread_id")

    @property
    def loop_restart(self) -> bool:
        """Whether taking this edge restarts the run."""
        return _typed(self.attrs, "loop_restart", parse_bool, False)

    def with_attrs(self, **changes: str) -> Edge:
        """A copy with attributes set."""
        return msgspec.structs.replace(self, attrs=freeze({**self.attrs, **changes}))


class UnknownNodeError(KeyError):
    """Raised by `Graph.node` for an ID the graph does not contain."""

    def __str__(self) -> str:
        return f"no node with ID {self.args[0]!r} in this graph"


class Graph(_Attributed, frozen=True):
    """One pipeline: graph attributes, nodes (in first-mention order) and edges (in order)."""

    name: str = ""
    attrs: Mapping[str, str] = EMPTY
    nodes: Mapping[str, Node] = EMPTY
    edges: tuple[Edge, ...] = ()
    origin: GraphOrigin = NO_GRAPH_ORIGIN

    @property
    def goal(self) -> str:
        """The pipeline goal (expands `$goal`)."""
        return self._str("goal")

    @property
    def label(self) -> str:
        """Display name ("" when unset)."""
        return self._str("label")

    @property
    def model_stylesheet(self) -> str:
        """The raw stylesheet text (§8)."""
        return self._str("model_stylesheet")

    @property
    def default_max_retries(self) -> int:
        """Retries for nodes without `max_retries`; accepts the legacy `default_max_retry`."""
        key = "default_max_retries" if "default_max_retries" in self.attrs else "default_max_retry"
        return _typed(self.attrs, key, parse_int, 0)

    @property
    def default_max_retry(self) -> int:
        """Legacy spelling of `default_max_retries`."""
        return self.default_max_retries

    @property
    def retry_target(self) -> str:
        """Graph-level retry target for unsatisfied goal gates."""
        return self._str("retry_target")

    @property
    def fallback_retry_target(self) -> str:
        """Graph-level secondary retry target."""
        return self._str("fallback_retry_target")

    @property
    def default_fidelity(self) -> str:
        """Default fidelity ("" means unset; the engine falls back to `compact`)."""
        return self._str("default_fidelity")

    @property
    def stack_child_dotfile(self) -> str:
        """`stack.child_dotfile`: the child pipeline a manager supervises ("" when unset)."""
        return self._str("stack.child_dotfile")

    @property
    def stack_child_workdir(self) -> str:
        """`stack.child_workdir` ("" means the current directory)."""
        return self._str("stack.child_workdir")

    @property
    def tool_hooks_pre(self) -> str:
        """`tool_hooks.pre`: shell command run before each tool call ("" when unset)."""
        return self._str("tool_hooks.pre")

    @property
    def tool_hooks_post(self) -> str:
        """`tool_hooks.post`: shell command run after each tool call ("" when unset)."""
        return self._str("tool_hooks.post")

    @property
    def filename(self) -> str:
        """The file name the graph was parsed from."""
        return self.origin.filename

    def node(self, node_id: str) -> Node:
        """The node with ID `node_id`.

        Raises:
            UnknownNodeError: if there is none.
        """
        try:
            return self.nodes[node_id]
        except KeyError:
            raise UnknownNodeError(node_id) from None

    def max_retries_for(self, node: Node) -> int:
        """The node's `max_retries`, or the graph default when the node omits it."""
        own = node.max_retries
        return self.default_max_retries if own is None else own

    def outgoing_edges(self, node_id: str) -> tuple[Edge, ...]:
        """Edges leaving `node_id`, in declaration order (O(edges))."""
        return tuple(e for e in self.edges if e.source == node_id)

    def incoming_edges(self, node_id: str) -> tuple[Edge, ...]:
        """Edges entering `node_id`, in declaration order (O(edges))."""
        return tuple(e for e in self.edges if e.target == node_id)

    def with_node(self, node: Node) -> Graph:
        """A copy with `node` added or replaced (keeps position in node order)."""
        return msgspec.structs.replace(self, nodes=freeze({**self.nodes, node.id: node}))

    def with_nodes(self, nodes: Mapping[str, Node]) -> Graph:
        """A copy with the whole node map replaced."""
        return msgspec.structs.replace(self, nodes=freeze(nodes))

    def with_edges(self, edges: tuple[Edge, ...]) -> Graph:
        """A copy with the edges replaced."""
        return msgspec.structs.replace(self, edges=tuple(edges))

    def with_attrs(self, **changes: str) -> Graph:
        """A copy with graph attributes set."""
        return msgspec.structs.replace(self, attrs=freeze({**self.attrs, **changes}))
