"""DOT language layer (pure): graph transforms between parsing and validation (spec §9).

Rule: a transform is a function `Graph -> Graph` that returns a new graph and never changes
its input (the model is immutable, so it cannot). The built-ins run first — `$goal`
expansion, then stylesheet application — followed by custom transforms in the order given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from attractor.dot._model import Graph, Node
from attractor.dot._stylesheet import apply_stylesheet

Transform = Callable[[Graph], Graph]


def expand_goal(graph: Graph) -> Graph:
    """Transform: replace `$goal` in every node's `prompt` with the graph's `goal` (§9.2)."""
    goal = graph.goal
    nodes: dict[str, Node] = {}
    changed = False
    for node_id, node in graph.nodes.items():
        prompt = node.attrs.get("prompt")
        if prompt is not None and "$goal" in prompt:
            node = node.with_attrs(prompt=prompt.replace("$goal", goal))
            changed = True
        nodes[node_id] = node
    return graph.with_nodes(nodes) if changed else graph


#: The built-in transforms, in the order they run.
BUILTIN_TRANSFORMS: tuple[Transform, ...] = (expand_goal, apply_stylesheet)


def apply_transforms(
    graph: Graph, transforms: Iterable[Transform] = (), *, builtins: bool = True
) -> Graph:
    """Run the built-in transforms (unless `builtins=False`), then `transforms` in order.

    Args:
        graph: The parsed graph.
        transforms: Custom transforms, run after the built-ins in the order given.
        builtins: Whether to run `BUILTIN_TRANSFORMS` first.

    Returns:
        The transformed graph (the input is untouched).
    """
    chain = (*(BUILTIN_TRANSFORMS if builtins else ()), *transforms)
    for transform in chain:
        graph = transform(graph)
    return graph


class TransformRegistry:
    """Custom transforms in registration order (spec §9.3 `register_transform`)."""

    def __init__(self, transforms: Iterable[Transform] = ()) -> None:
        self._transforms: list[Transform] = list(transforms)

    def register(self, transform: Transform) -> Transform:
        """Add `transform` after those already registered; returns it (usable as decorator)."""
        self._transforms.append(transform)
        return transform

    @property
    def transforms(self) -> tuple[Transform, ...]:
        """The registered transforms, in order."""
        return tuple(self._transforms)

    def apply(self, graph: Graph) -> Graph:
        """Built-ins, then every registered transform in order."""
        return apply_transforms(graph, self._transforms)
