"""Server layer (async shell): a run's graph as SVG, drawn by Graphviz's `dot`.

Rule: the drawing is made from the run's *prepared* graph (as `run.started` embeds it), with
only ids, labels and shapes passed on — never a pipeline's own `URL`, `href`, `style` or other
Graphviz attributes — so a pipeline file cannot put a link or a script into the dashboard.
Each node's `<g class="node">` carries its node id in `<title>`; the dashboard colours nodes by
their live status with CSS classes. Drawings are cached by the graph's digest; `dot` runs in
its own process group and is killed after `RENDER_TIMEOUT_S`.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import signal
from collections import OrderedDict
from contextlib import suppress

from attractor.dot import Graph
from attractor.server._problems import ProblemError

RENDER_TIMEOUT_S = 20.0
_CACHE = 64


def _q(text: str) -> str:
    """A DOT double-quoted string."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def graphviz_source(graph: Graph) -> str:
    """The graph as plain DOT: node ids, labels, shapes and edge labels only."""
    lines = [
        "digraph pipeline {",
        '  graph [rankdir=TB, bgcolor="transparent", fontname="Helvetica"];',
        '  node [style="filled,rounded", fillcolor="#ffffff", fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    for node in graph.nodes.values():
        shape = node.shape or "box"
        lines.append(f"  {_q(node.id)} [label={_q(node.label or node.id)}, shape={_q(shape)}];")
    for edge in graph.edges:
        label = f" [label={_q(edge.label)}]" if edge.label else ""
        lines.append(f"  {_q(edge.source)} -> {_q(edge.target)}{label};")
    lines.append("}")
    return "\n".join(lines) + "\n"


class GraphRenderer:
    """Renders graphs to SVG with a small cache."""

    def __init__(self) -> None:
        self._cache: OrderedDict[str, bytes] = OrderedDict()

    async def svg(self, graph: Graph) -> bytes:
        """The SVG of `graph` (`ProblemError` 503 when Graphviz is missing or fails)."""
        source = graphviz_source(graph)
        key = hashlib.sha256(source.encode()).hexdigest()
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        svg = await _render(source)
        self._cache[key] = svg
        if len(self._cache) > _CACHE:
            self._cache.popitem(last=False)
        return svg


async def _render(source: str) -> bytes:
    dot = shutil.which("dot")
    if dot is None:
        raise ProblemError(
            503,
            "graphviz-missing",
            "Graphviz's `dot` program is not installed, so the graph cannot be drawn",
            hint="install Graphviz (Debian/Ubuntu: apt-get install graphviz)",
        )
    proc = await asyncio.create_subprocess_exec(
        dot,
        "-Tsvg",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(source.encode()), RENDER_TIMEOUT_S)
    except TimeoutError:
        _kill(proc)
        await proc.wait()
        raise ProblemError(
            503, "graphviz-timeout", f"Graphviz took more than {RENDER_TIMEOUT_S:g}s to draw"
        ) from None
    except asyncio.CancelledError:
        _kill(proc)
        await proc.wait()
        raise
    if proc.returncode != 0:
        message = err.decode("utf-8", "replace").strip()[:500]
        raise ProblemError(503, "graphviz-failed", f"Graphviz could not draw the graph: {message}")
    return _strip_prolog(out)


def _kill(proc: asyncio.subprocess.Process) -> None:
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def _strip_prolog(svg: bytes) -> bytes:
    """The `<svg>` element alone (no XML prolog or DOCTYPE), ready to be inlined in a page."""
    start = svg.find(b"<svg")
    return svg[start:] if start >= 0 else svg
