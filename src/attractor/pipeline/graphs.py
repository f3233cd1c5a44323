"""Pipeline layer (pure): graph questions the engine asks — where to start, what ends a walk.

Rule: which node is a start or an exit is decided once, in `attractor.dot` (`is_start`,
`is_exit`), so the validator and the engine never disagree.
"""

from __future__ import annotations

from attractor.dot import Graph, Node, is_exit, is_start, start_nodes


class PipelineError(ValueError):
    """The graph cannot run (spec Appendix D pipeline errors): no start node, unknown node."""


def start_node(graph: Graph) -> str:
    """The start node: shape Mdiamond (or type start) first, else ID `start`/`Start` (§3.2)."""
    found = sorted(start_nodes(graph), key=lambda n: n.handler_type != "start")
    if not found:
        raise PipelineError("the graph has no start node (shape=Mdiamond or id 'start')")
    return found[0].id


def handler_type(node: Node) -> str:
    """The handler type the registry resolves, with the ID conventions for start and exit."""
    if is_exit(node):
        return "exit"
    if is_start(node):
        return "start"
    return node.handler_type
