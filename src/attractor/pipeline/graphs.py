"""Pipeline layer (pure): graph questions the engine asks — where to start, what ends a walk."""

from __future__ import annotations

from attractor.dot import Graph, Node

START_IDS = ("start", "Start")
EXIT_IDS = ("exit", "end", "Exit", "End", "done")


class PipelineError(ValueError):
    """The graph cannot run (spec Appendix D pipeline errors): no start node, unknown node."""


def start_node(graph: Graph) -> str:
    """The start node: shape Mdiamond, else id `start`/`Start` (spec §3.2)."""
    for node in graph.nodes.values():
        if node.shape == "Mdiamond":
            return node.id
    for node_id in START_IDS:
        if node_id in graph.nodes:
            return node_id
    raise PipelineError("the graph has no start node (shape=Mdiamond or id 'start')")


def is_terminal(node: Node) -> bool:
    """An exit node: shape Msquare (or type exit), or id `exit`/`end` with no explicit type."""
    if node.handler_type == "exit":
        return True
    return (
        node.id in EXIT_IDS[:4]
        and not node.node_type
        and node.shape == "box"
        and "shape" not in node.attrs
    )


def handler_type(node: Node) -> str:
    """The handler type the registry resolves, with the id conventions for start and exit."""
    if is_terminal(node):
        return "exit"
    if node.id in START_IDS and not node.node_type and "shape" not in node.attrs:
        return "start"
    return node.handler_type
