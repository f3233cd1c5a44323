"""Server layer (pure): API response values made from a run's fold.

Rule: each function here turns a `RunFold` (the run state and the dashboard view, folded once
per entry) plus what the server knows about the drive (its status, whether it can answer)
into one response Struct. No I/O: blob contents and the clock come in as arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from attractor.events import BlobRef
from attractor.pipeline.status import run_status
from attractor.server._feed import RunFold
from attractor.server._schemas import (
    AttemptOut,
    Checkpoint,
    ContextOut,
    OptionOut,
    PipelineStatus,
    QuestionOut,
    RunItem,
    ShellOut,
    StageOut,
    StageSummary,
    StateAt,
    Status,
)
from attractor.server._view import Attempt, PendingQuestion, RunView, ShellRun

BlobText = Callable[[BlobRef], str]


def seconds_between(start: str, end: str) -> float | None:
    """Seconds from one log timestamp to another (None when either is missing or malformed)."""
    try:
        a = datetime.fromisoformat(start)
        b = datetime.fromisoformat(end)
    except ValueError:
        return None
    return round((b - a).total_seconds(), 3)


def base_status(fold: RunFold) -> Status:
    """The status the log alone says: running until `run.finished`, then how it ended."""
    return run_status(fold.state)


def path_id(question_id: str) -> str:
    """A question id as one URL segment: each `/` written as `~` (never in a stream or node)."""
    return question_id.replace("/", "~")


def question_out(run_id: str, q: PendingQuestion, answerable: bool) -> QuestionOut:
    """A pending question for the API."""
    question = q.question
    return QuestionOut(
        id=question.id,
        path_id=path_id(question.id),
        node=q.node,
        stream=q.stream,
        text=question.text,
        kind=question.kind,
        options=[OptionOut(key=o.key, label=o.label) for o in question.options],
        default=question.default,
        timeout_ms=question.timeout_ms,
        asked_seq=q.asked_seq,
        answer_url=f"/pipelines/{run_id}/questions/{path_id(question.id)}/answer",
        answerable=answerable,
    )


def total_tokens(tokens: dict[str, int]) -> int:
    """Total tokens, or input + output when the provider gave no total."""
    return tokens.get(
        "total_tokens", tokens.get("input_tokens", 0) + tokens.get("output_tokens", 0)
    )


def run_item(run_id: str, fold: RunFold, status: Status, now: str) -> RunItem:
    """A runs-list row."""
    started, view = fold.state.started, fold.view
    end = view.finished_at or now
    return RunItem(
        id=run_id,
        name=started.name if started else "",
        goal=started.goal if started else "",
        status=status,
        started_at=view.started_at,
        finished_at=view.finished_at,
        duration_s=seconds_between(view.started_at, end),
        current=view.current(),
        tokens=total_tokens(view.tokens),
        event_count=fold.seq,
        dot_path=started.dot_path if started else "",
        forked_from=view.forked_from,
        parent_run=started.parent_run if started else "",
        cost_usd=known_cost(view),
    )


def known_cost(view: RunView) -> float | None:
    """The run's known cost, or None when no stage had a price."""
    spend = view.usage.total
    return spend.cost_usd if spend.priced_stages else None


def pipeline_status(
    run_id: str,
    fold: RunFold,
    status: Status,
    now: str,
    *,
    driven: bool,
    pid: int | None,
    error: str,
) -> PipelineStatus:
    """`GET /pipelines/{id}`."""
    item = run_item(run_id, fold, status, now)
    state, view = fold.state, fold.view
    top = state.top()
    finished = state.finished
    return PipelineStatus(
        id=run_id,
        name=item.name,
        goal=item.goal,
        status=status,
        started_at=item.started_at,
        finished_at=item.finished_at,
        duration_s=item.duration_s,
        current=item.current,
        completed_nodes=list(top.completed) if top else [],
        nodes=dict(view.nodes),
        retries=view.retries(),
        stages=stage_list(view.attempts),
        pending_questions=[question_out(run_id, q, driven) for q in view.questions.values()],
        failure_reason=finished.failure_reason if finished else "",
        tokens=dict(view.tokens),
        event_count=fold.seq,
        last_seq=fold.seq,
        dot_path=item.dot_path,
        backend=state.started.config.backend if state.started else "",
        forked_from=item.forked_from,
        parent_run=item.parent_run,
        restart_target=state.restart_at,
        driven_here=driven,
        cost_usd=item.cost_usd,
        usage=view.usage.summary() if view.usage.stages else {},
        writer_pid=pid,
        error=error,
    )


def _ms(a: Attempt) -> int | None:
    seconds = seconds_between(a.started_at, a.finished_at) if a.finished_at else None
    return int(seconds * 1000) if seconds is not None else None


def stage_list(attempts: list[Attempt]) -> list[StageSummary]:
    """One row per (stream, node), in the order stages first started, with the latest attempt."""
    rows: dict[tuple[str, str], list[Attempt]] = {}
    for a in attempts:
        rows.setdefault((a.stream, a.node), []).append(a)
    out = []
    for (stream, node), tries in rows.items():
        last = tries[-1]
        out.append(
            StageSummary(
                node=node,
                stream=stream,
                status=last.status,
                attempts=len(tries),
                retries=sum(1 for t in tries if t.retried),
                started_at=tries[0].started_at,
                duration_ms=_ms(last),
                failure_reason=last.failure_reason,
            )
        )
    return out


def state_at(fold: RunFold, last_seq: int, at: str, event_type: str) -> StateAt:
    """`GET /pipelines/{id}/state?at=SEQ`: the fold of the first SEQ entries."""
    top = fold.state.top()
    return StateAt(
        seq=fold.seq,
        last_seq=last_seq,
        at=at,
        event_type=event_type,
        status=base_status(fold),
        nodes=dict(fold.view.nodes),
        current=fold.view.current(),
        completed_nodes=list(top.completed) if top else [],
        context=dict(top.context) if top else {},
        pending_questions=[q.question.id for q in fold.view.questions.values()],
    )


def checkpoint(fold: RunFold) -> Checkpoint:
    """The latest checkpoint, as of the last `checkpoint.saved` of the top-level run."""
    data: dict[str, Any] = fold.checkpoint
    return Checkpoint(
        timestamp=data.get("timestamp", ""),
        current_node=data.get("current_node", ""),
        completed_nodes=data.get("completed_nodes", []),
        node_retries=data.get("node_retries", {}),
        context=data.get("context", {}),
    )


def context(fold: RunFold) -> ContextOut:
    """The context of every traversal, the top-level run's first."""
    top = fold.state.top()
    streams = {s: dict(t.context) for s, t in sorted(fold.state.traversals.items()) if s != "run"}
    return ContextOut(seq=fold.seq, context=dict(top.context) if top else {}, streams=streams)


def _text(value: str | BlobRef, blob_text: BlobText) -> str:
    return value if isinstance(value, str) else blob_text(value)


def _shell(run: ShellRun, blob_text: BlobText) -> ShellOut:
    return ShellOut(
        command=run.command,
        exit_code=run.exit_code,
        stdout=_text(run.stdout, blob_text),
        stderr=_text(run.stderr, blob_text),
        duration_ms=run.duration_ms,
        timed_out=run.timed_out,
        error=run.error,
    )


def attempt_out(a: Attempt, blob_text: BlobText) -> AttemptOut:
    """One attempt of a stage, blobs resolved."""
    return AttemptOut(
        attempt=a.attempt,
        stream=a.stream,
        index=a.index,
        handler=a.handler,
        status=a.status,
        started_at=a.started_at,
        finished_at=a.finished_at,
        duration_ms=_ms(a),
        failure_reason=a.failure_reason,
        notes=a.notes,
        prompt=a.prompt,
        response=a.response,
        usage=dict(a.usage),
        cost_usd=a.cost_usd,
        shell=[_shell(s, blob_text) for s in a.shell],
        question=a.question,
        answer=a.answer,
        started_seq=a.started_seq,
    )


def stage_out(fold: RunFold, node: str, blob_text: BlobText) -> StageOut:
    """`GET /pipelines/{id}/stages/{node}`."""
    graph = fold.state.graphs.get("main")
    found = graph.nodes.get(node) if graph is not None else None
    attempts = fold.view.stages(node)
    return StageOut(
        node=node,
        label=found.label if found is not None else node,
        handler=found.handler_type
        if found is not None
        else (attempts[0].handler if attempts else ""),
        status=fold.view.nodes.get(node, "pending"),
        attempts=[attempt_out(a, blob_text) for a in attempts],
    )
