"""DOT language layer (pure): the canonical printer and the JSON view of a graph.

Rule: `format_dot` prints the *normal form* of a graph — every node and edge with all of
its attributes spelled out, commas everywhere, subgraphs only where they carry derived
classes — so that `parse_dot(format_dot(g)) == g` for every graph `parse_dot` can return.
Values are quoted unless Graphviz would accept them bare, so the output is valid input for
Graphviz's `dot` as well (ADR 0012).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import groupby
from typing import Any

from attractor.dot._model import Edge, Graph, Node
from attractor.dot._values import format_value, quote

INDENT = "    "
_WRAP = 88  # attribute lists longer than this go one per line


def format_key(key: str) -> str:
    """An attribute key as written: dotted keys quoted.

    Graphviz's own parser rejects dotted names bare; both parsers accept them quoted.
    """
    return key if "." not in key else quote(key)


def format_attrs(attrs: Mapping[str, str], indent: str) -> str:
    """` [k=v, ...]` for `attrs` ("" when empty), multi-line when long."""
    if not attrs:
        return ""
    parts = [f"{format_key(k)}={format_value(v)}" for k, v in attrs.items()]
    one_line = " [" + ", ".join(parts) + "]"
    if len(one_line) + len(indent) <= _WRAP and "\n" not in one_line:
        return one_line
    inner = indent + INDENT
    return " [\n" + ",\n".join(inner + p for p in parts) + "\n" + indent + "]"


def _node_lines(node: Node, indent: str) -> str:
    return f"{indent}{node.id}{format_attrs(node.attrs, indent)}"


def _edge_line(edge: Edge) -> str:
    return f"{INDENT}{edge.source} -> {edge.target}{format_attrs(edge.attrs, INDENT)}"


def _nodes_block(nodes: list[Node], counter: Iterator[int]) -> list[str]:
    """Consecutive runs of nodes sharing derived classes, wrapped in labelled subgraphs."""
    lines: list[str] = []
    for classes, run in groupby(nodes, key=lambda n: n.subgraph_classes):
        members = list(run)
        depth = len(classes)
        for level, cls in enumerate(classes):
            pad = INDENT * (level + 1)
            lines.append(f"{pad}subgraph cluster_{next(counter)} {{")
            lines.append(f"{pad}{INDENT}label={format_value(cls)}")
        lines.extend(_node_lines(n, INDENT * (depth + 1)) for n in members)
        lines.extend(f"{INDENT * (level + 1)}}}" for level in reversed(range(depth)))
    return lines


def format_dot(graph: Graph) -> str:
    """Print `graph` in canonical form (see module docstring); ends with a newline."""
    name = f"{graph.name} " if graph.name else ""
    lines = [f"digraph {name}{{"]
    if graph.attrs:
        lines.append(f"{INDENT}graph{format_attrs(graph.attrs, INDENT)}")
    if graph.nodes:
        lines.append("")
        lines.extend(_nodes_block(list(graph.nodes.values()), iter(range(1_000_000_000))))
    if graph.edges:
        lines.append("")
        lines.extend(_edge_line(e) for e in graph.edges)
    lines.append("}")
    return "\n".join(lines) + "\n"


def graph_to_builtins(graph: Graph) -> dict[str, Any]:
    """The graph as plain JSON-ready data (what `attractor parse --json` prints)."""
    return {
        "name": graph.name,
        "file": graph.origin.filename,
        "attrs": dict(graph.attrs),
        "nodes": [
            {
                "id": n.id,
                "handler_type": n.handler_type,
                "classes": list(n.classes),
                "attrs": dict(n.attrs),
                "line": n.origin.line,
                "column": n.origin.column,
            }
            for n in graph.nodes.values()
        ],
        "edges": [
            {
                "source": e.source,
                "target": e.target,
                "attrs": dict(e.attrs),
                "line": e.origin.line,
                "column": e.origin.column,
            }
            for e in graph.edges
        ],
    }
