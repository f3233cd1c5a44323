"""DOT language layer (pure): graph algorithms the lint rules share.

Rule: iterative only — a generated pipeline may be a chain thousands of nodes long, and
recursion would hit Python's limit.
"""

from __future__ import annotations

from collections import deque

from attractor.dot._model import Graph, Node

START_IDS = frozenset({"start", "Start"})
EXIT_IDS = frozenset({"exit", "Exit", "end", "End"})


def is_start(node: Node) -> bool:
    """Whether a node acts as the start: handler `start` (shape=Mdiamond or type) or ID
    start/Start. The one definition the validator and the engine share."""
    return node.handler_type == "start" or node.id in START_IDS


def is_exit(node: Node) -> bool:
    """Whether a node acts as the exit: handler `exit` (shape=Msquare or type) or ID exit/end."""
    return node.handler_type == "exit" or node.id in EXIT_IDS


def start_nodes(graph: Graph) -> list[Node]:
    """Nodes that act as the start, in definition order."""
    return [n for n in graph.nodes.values() if is_start(n)]


def exit_nodes(graph: Graph) -> list[Node]:
    """Nodes that act as the exit, in definition order."""
    return [n for n in graph.nodes.values() if is_exit(n)]


def successors(graph: Graph) -> dict[str, list[str]]:
    """Adjacency lists (targets in edge order) for every node, built once."""
    adjacency: dict[str, list[str]] = {node_id: [] for node_id in graph.nodes}
    for edge in graph.edges:
        adjacency.setdefault(edge.source, []).append(edge.target)
    return adjacency


def reachable_from(graph: Graph, root: str) -> set[str]:
    """IDs reachable from `root` (BFS), `root` included."""
    adjacency = successors(graph)
    seen = {root}
    queue = deque([root])
    while queue:
        for nxt in adjacency.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def cycles(graph: Graph) -> list[list[str]]:
    """Strongly connected components that contain a cycle (Tarjan, iterative), in node order."""
    adjacency = successors(graph)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for root in adjacency:
        if root in index:
            continue
        work = [(root, iter(adjacency[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(adjacency.get(child, ()))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = _pop_component(stack, on_stack, node)
                if len(component) > 1 or node in adjacency.get(node, ()):
                    found.append(component)
    order = {node_id: i for i, node_id in enumerate(graph.nodes)}
    for component in found:
        component.sort(key=lambda n: order.get(n, len(order)))
    return sorted(found, key=lambda c: order.get(c[0], len(order)))


def _pop_component(stack: list[str], on_stack: set[str], root: str) -> list[str]:
    component = []
    while True:
        member = stack.pop()
        on_stack.discard(member)
        component.append(member)
        if member == root:
            return component
