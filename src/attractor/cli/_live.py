"""CLI helper: the view of a running pipeline — a rich live panel on a terminal, plain lines
elsewhere, nothing with `--quiet` / `--json`.

Rule: the view is an observer (`Callable[[Entry], None]`) placed after the projector; it reads
the run state the projector has folded, so nothing is folded twice. The live panel is redrawn by
rich's refresh thread from immutable state snapshots; the interviewer pauses it while it asks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Literal

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from attractor.effects import Answer, Question
from attractor.events import Entry
from attractor.pipeline.events import LoopRestarted, RunStarted, StageCompleted, StageFailed
from attractor.pipeline.interviewers import Interviewer
from attractor.pipeline.state import RunState
from attractor.pipeline.usage import UsageBook, format_spend

Mode = Literal["live", "plain", "quiet", "json"]
_ROWS = 12
_STYLE = {
    "success": "green",
    "partial_success": "yellow",
    "fail": "red",
    "retry": "yellow",
    "skipped": "dim",
}


class RunView:
    """Shows a run as it goes. Call `start()` before the run and `stop()` after it.

    Args:
        mode: `live` (rich panel), `plain` (one line per stage), `quiet` or `json` (silent).
        state: returns the current folded run state (the projector's).
        console: where to draw (stdout).
    """

    def __init__(self, mode: Mode, state: Callable[[], RunState], console: Console) -> None:
        self.mode = mode
        self._state = state
        self._console = console
        self._t0 = time.monotonic()
        self._stages: list[tuple[str, str, str, int]] = []  # stream, node, status, attempt
        self._retries = 0
        self._live: Live | None = None
        self._usage = UsageBook()

    def start(self) -> None:
        """Begin drawing (the live panel only)."""
        self._t0 = time.monotonic()
        if self.mode == "live":
            self._live = Live(
                console=self._console,
                get_renderable=self.render,
                refresh_per_second=8,
                transient=False,
            )
            self._live.start()

    def stop(self) -> None:
        """Draw the final panel and stop."""
        if self._live is not None:
            self._live.refresh()
            self._live.stop()
            self._live = None

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Hide the live panel while a human is asked something."""
        live = self._live
        if live is None:
            yield
            return
        live.stop()
        try:
            yield
        finally:
            live.start()

    def __call__(self, entry: Entry) -> None:
        """Observe one appended entry."""
        self._usage(entry)
        event = entry.event
        if isinstance(event, RunStarted) and entry.seq == 1:
            self._stages = []
        elif isinstance(event, StageCompleted):
            status = event.outcome.status.value
            self._stages.append((entry.stream, event.node, status, event.attempt))
            if self.mode == "plain":
                self._line(entry.stream, event.node, status, event.outcome.failure_reason)
        elif isinstance(event, LoopRestarted) and self.mode == "plain":
            self._line(entry.stream, event.source, f"loop restart at {event.target}", "")
        elif isinstance(event, StageFailed):
            self._retries += 1
            if self.mode == "plain":
                what = f"{event.outcome.status.value}, retrying (attempt {event.attempt + 1})"
                self._line(entry.stream, event.node, what, event.outcome.failure_reason)

    def _elapsed(self) -> float:
        return time.monotonic() - self._t0

    def _line(self, stream: str, node: str, what: str, reason: str) -> None:
        where = "" if stream == "run" else f"[{stream}] "
        why = f" - {reason}" if reason else ""
        self._console.print(
            f"[{self._elapsed():7.2f}s] {where}{node}: {what}{why}", markup=False, highlight=False
        )

    def render(self) -> RenderableType:
        """The live panel: counts, current nodes, and the latest stages."""
        state = self._state()
        graph = state.graphs.get("main")
        done = {node for stream, node, _, _ in self._stages if stream == "run"}
        running: dict[str, str] = {
            f"{t.node}" + ("" if s == "run" else f" ({s})"): t.phase
            for s, t in sorted(state.traversals.items())
            if t.phase != "done" and state.finished is None
        }
        total = len(graph.nodes) if graph is not None else 0
        pending = max(0, total - len(done) - sum(1 for s in running if " (" not in s))
        name = state.started.name if state.started else ""
        head = Text.from_markup(
            f"[bold]{escape(name)}[/]  done [green]{len(done)}[/] · running "
            f"[cyan]{len(running)}[/] · pending {pending} · retries {self._retries} · "
            f"elapsed {self._elapsed():.1f}s"
            + (f" · {escape(format_spend(self._usage.total))}" if self._usage.stages else "")
        )
        return Group(head, _table(self._stages[-_ROWS:], running))


def _table(stages: Sequence[tuple[str, str, str, int]], running: dict[str, str]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("stage", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("attempt", justify="right")
    for stream, node, status, attempt in stages:
        label = node if stream == "run" else f"{node} [dim]({escape(stream)})[/]"
        table.add_row(label, f"[{_STYLE.get(status, '')}]{status}[/]", str(attempt))
    for label, phase in running.items():
        table.add_row(escape(label), f"[cyan]{phase}…[/]", "")
    return table


class PausingInterviewer:
    """Wraps an interviewer so the live panel is hidden while it asks."""

    def __init__(self, inner: Interviewer, view: RunView) -> None:
        self.inner = inner
        self.view = view
        self.handles_timeouts = bool(getattr(inner, "handles_timeouts", False))

    async def ask(self, question: Question) -> Answer:
        """Ask through the wrapped interviewer with the panel paused."""
        with self.view.paused():
            return await self.inner.ask(question)

    async def ask_multiple(self, questions: Sequence[Question]) -> list[Answer]:
        """Ask each question in turn."""
        return [await self.ask(q) for q in questions]

    def inform(self, message: str, stage: str) -> None:
        """Pass a message on."""
        with self.view.paused():
            self.inner.inform(message, stage)
