"""Pipeline layer (pure): the summary of a run — what `attractor status` shows.

Rule: a summary is a function of the folded `RunState` and the log entries it came from; nothing
is read from projections or the clock. Status is `running` until `run.finished`, then
`succeeded`, `failed`, or `restarted` (a `loop_restart` edge continued in a new linked run).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import msgspec

from attractor.events import Entry
from attractor.pipeline.events import (
    InterviewCompleted,
    InterviewStarted,
    RunFinished,
    RunForked,
    RunStarted,
    StageFailed,
)
from attractor.pipeline.state import RunState
from attractor.pipeline.usage import UsageBook

RunStatus = Literal["running", "succeeded", "failed", "restarted"]


class PendingQuestion(msgspec.Struct, frozen=True):
    """A question put to a human that has no answer yet."""

    id: str
    node: str
    stream: str
    text: str


class RunSummary(msgspec.Struct, frozen=True):
    """Where a run stands (the `--json` shape of `attractor status`)."""

    run_id: str
    name: str
    goal: str
    status: RunStatus
    current: dict[str, str]  # stream -> node, for every traversal still walking
    completed_nodes: list[str]
    retries: dict[str, int]  # node -> attempts that failed and were retried (every stream)
    pending_questions: list[PendingQuestion]
    started_at: str
    finished_at: str
    event_count: int
    last_seq: int
    failure_reason: str = ""
    restart_target: str = ""
    parent_run: str = ""
    forked_from: str = ""
    dot_path: str = ""
    usage: dict[str, Any] = {}  # per-stage tokens and cost, and the run's total (UsageBook)


def run_status(state: RunState) -> RunStatus:
    """`running` until the run finished; then how it ended."""
    if state.finished is None:
        return "running"
    if state.restart_at:
        return "restarted"
    return "succeeded" if state.finished.status.succeeded else "failed"


def _pending(state: RunState, entries: Sequence[Entry]) -> list[PendingQuestion]:
    if state.finished is not None:
        return []
    # Keyed by stream too: parallel branches may ask questions that carry the same id.
    asked: dict[tuple[str, str], PendingQuestion] = {}
    for entry in entries:
        event = entry.event
        if isinstance(event, InterviewStarted):
            asked[(entry.stream, event.question_id)] = PendingQuestion(
                id=event.question_id, node=event.node, stream=entry.stream, text=event.text
            )
        elif isinstance(event, InterviewCompleted):
            asked.pop((entry.stream, event.question_id), None)
    return list(asked.values())


def _retries(entries: Sequence[Entry]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in entries:
        if isinstance(entry.event, StageFailed):
            counts[entry.event.node] = counts.get(entry.event.node, 0) + 1
    return dict(sorted(counts.items()))


def _times(entries: Sequence[Entry]) -> tuple[str, str, str]:
    started = finished = forked = ""
    for entry in entries:
        event = entry.event
        if isinstance(event, RunStarted) and not started:
            started = entry.at
        elif isinstance(event, RunForked):
            started, finished = entry.at, ""
            forked = f"{event.source_run}@{event.at_seq}"
        elif isinstance(event, RunFinished):
            finished = entry.at
    return started, finished, forked


def summarize(state: RunState, entries: Sequence[Entry]) -> RunSummary:
    """Summarize a run from its folded state and the entries folded into it."""
    started = state.started
    top = state.top()
    current = {s: t.node for s, t in sorted(state.traversals.items()) if t.phase != "done"}
    if state.finished is not None:
        current = {}
    began, ended, forked = _times(entries)
    outcome = state.finished
    return RunSummary(
        run_id=started.run_id if started else "",
        name=started.name if started else "",
        goal=started.goal if started else "",
        status=run_status(state),
        current=current,
        completed_nodes=list(top.completed) if top else [],
        retries=_retries(entries),
        pending_questions=_pending(state, entries),
        started_at=began,
        finished_at=ended,
        event_count=len(entries),
        last_seq=entries[-1].seq if entries else 0,
        failure_reason=outcome.failure_reason if outcome is not None else "",
        restart_target=state.restart_at,
        parent_run=started.parent_run if started else "",
        forked_from=forked,
        dot_path=started.dot_path if started else "",
        usage=usage_summary(entries),
    )


def usage_summary(entries: Sequence[Entry]) -> dict[str, Any]:
    """Tokens and cost per codergen stage and in total; empty when no stage reported usage."""
    book = UsageBook()
    for entry in entries:
        book(entry)
    return book.summary() if book.stages else {}
