"""Server layer (pure): the dashboard's view of a run — a projection of its log, entry by entry.

Rule: `RunView.apply(entry, state)` takes each entry once, with the run state the engine folded
for it (one fold per entry: the view never reduces the log itself), and keeps what the pages
and the API show: each node's live status on the main graph, every stage attempt (prompt,
response, usage, shell output, the question asked and its answer), the questions still
waiting, token totals and times. Nothing here reads the clock or the disk; large outputs stay
blob references for the shell to resolve.
"""

from __future__ import annotations

from typing import Any

import msgspec

from attractor.effects import (
    AskHuman,
    Called,
    EffectCompleted,
    EffectFailed,
    EffectRequested,
    HumanAnswered,
    Question,
    RunShell,
    ShellRan,
)
from attractor.events import BlobRef, Entry
from attractor.pipeline.events import (
    InterviewCompleted,
    InterviewStarted,
    ParallelCompleted,
    RunFinished,
    RunForked,
    RunStarted,
    StageCompleted,
    StageFailed,
    StageStarted,
)
from attractor.pipeline.state import RunState
from attractor.pipeline.usage import UsageBook, spend_of

ACTIVE = frozenset({"running", "waiting", "retrying"})
_USAGE_KEYS = ("input_tokens", "output_tokens", "total_tokens")


class ShellRun(msgspec.Struct):
    """A shell command a stage ran (the tool command or a hook) and what it did."""

    command: str
    exit_code: int | None = None
    stdout: str | BlobRef = ""
    stderr: str | BlobRef = ""
    duration_ms: int = 0
    timed_out: bool = False
    error: str = ""


class Attempt(msgspec.Struct):
    """One attempt of one node on one stream."""

    node: str
    stream: str
    attempt: int
    index: int
    handler: str
    started_at: str
    started_seq: int
    finished_at: str = ""
    status: str = "running"
    failure_reason: str = ""
    notes: str = ""
    prompt: str = ""
    response: str = ""
    usage: dict[str, int] = {}
    cost_usd: float | None = None
    shell: list[ShellRun] = []
    question: str = ""
    answer: str = ""
    retried: bool = False  # ended by `stage.failed`: another attempt follows


class PendingQuestion(msgspec.Struct, frozen=True):
    """A question waiting for a human: the engine's question and where it was asked."""

    stream: str
    node: str
    asked_seq: int
    question: Question


class RunView:
    """The dashboard's projection of one run. Feed entries in order with `apply`."""

    def __init__(self) -> None:
        self.run_id = ""
        self.seq = 0
        self.started_at = ""
        self.finished_at = ""
        self.nodes: dict[str, str] = {}  # main-graph node -> pending|running|waiting|…|outcome
        self.attempts: list[Attempt] = []
        self.questions: dict[str, PendingQuestion] = {}  # effect id -> question
        self.tokens: dict[str, int] = {}
        self.usage = UsageBook()  # tokens and cost per stage attempt, and in total
        self.forked_from = ""
        self._current: dict[str, int] = {}  # stream -> index of its open attempt
        self._effects: dict[str, tuple[int, Any]] = {}  # effect id -> (attempt, request)

    def apply(self, entry: Entry, state: RunState) -> None:
        """Take one entry; `state` is the run state with this entry folded in."""
        self.seq = entry.seq
        self.usage(entry)
        event = entry.event
        match event:
            case RunStarted():
                self.run_id, self.started_at = event.run_id, self.started_at or entry.at
            case RunForked():
                self.run_id, self.started_at, self.finished_at = event.run_id, entry.at, ""
                self.forked_from = f"{event.source_run}@{event.at_seq}"
            case StageStarted():
                self._started(entry, event, state)
            case StageFailed():
                self._attempt_failed(entry, event, state)
            case StageCompleted():
                self._completed(entry, event, state)
            case InterviewStarted() | InterviewCompleted():
                self._interview(entry, event, state)
            case EffectRequested():
                self._requested(entry, event)
            case EffectCompleted() | EffectFailed():
                self._answered(event)
            case ParallelCompleted():
                self._cancelled_branches(event, state)
            case RunFinished():
                self._finished(entry)
            case _:
                pass

    def _on_main(self, stream: str, state: RunState) -> bool:
        t = state.traversals.get(stream)
        return t.graph == "main" if t is not None else ":child" not in stream

    def _mark(self, stream: str, node: str, status: str, state: RunState) -> None:
        if self._on_main(stream, state):
            self.nodes[node] = status

    def _started(self, entry: Entry, event: StageStarted, state: RunState) -> None:
        self._current[entry.stream] = len(self.attempts)
        self.attempts.append(
            Attempt(
                node=event.node,
                stream=entry.stream,
                attempt=event.attempt,
                index=event.index,
                handler=event.handler,
                started_at=entry.at,
                started_seq=entry.seq,
            )
        )
        self._mark(entry.stream, event.node, "running", state)

    def _open(self, stream: str) -> Attempt | None:
        index = self._current.get(stream)
        return self.attempts[index] if index is not None else None

    def _close(self, entry: Entry, status: str, reason: str, notes: str) -> Attempt | None:
        attempt = self._open(entry.stream)
        if attempt is None:
            return None
        attempt.finished_at, attempt.status = entry.at, status
        attempt.failure_reason, attempt.notes = reason, notes
        self._current.pop(entry.stream, None)
        return attempt

    def _attempt_failed(self, entry: Entry, event: StageFailed, state: RunState) -> None:
        out = event.outcome
        attempt = self._close(entry, out.status.value, out.failure_reason, out.notes)
        if attempt is not None:
            attempt.retried = True
        self._mark(entry.stream, event.node, "retrying", state)

    def _completed(self, entry: Entry, event: StageCompleted, state: RunState) -> None:
        out = event.outcome
        attempt = self._close(entry, out.status.value, out.failure_reason, out.notes)
        if attempt is not None:
            attempt.prompt, attempt.response = event.prompt, event.response
        self._mark(entry.stream, event.node, out.status.value, state)

    def _interview(
        self, entry: Entry, event: InterviewStarted | InterviewCompleted, state: RunState
    ) -> None:
        attempt = self._open(entry.stream)
        if isinstance(event, InterviewStarted):
            if attempt is not None:
                attempt.question, attempt.status = event.text, "waiting"
            self._mark(entry.stream, event.node, "waiting", state)
            return
        if attempt is not None:
            attempt.answer = event.answer + (" (timed out)" if event.timed_out else "")
            attempt.status = "running"
        self._mark(entry.stream, event.node, "running", state)

    def _requested(self, entry: Entry, event: EffectRequested) -> None:
        index = self._current.get(entry.stream, -1)
        request = event.request
        self._effects[event.effect_id] = (index, request)
        if isinstance(request, AskHuman) and index >= 0:
            node = self.attempts[index].node
            self.questions[event.effect_id] = PendingQuestion(
                stream=entry.stream, node=node, asked_seq=entry.seq, question=request.question
            )

    def _answered(self, event: EffectCompleted | EffectFailed) -> None:
        self.questions.pop(event.effect_id, None)
        index, request = self._effects.pop(event.effect_id, (-1, None))
        if index < 0:
            return
        attempt = self.attempts[index]
        if isinstance(event, EffectFailed):
            if isinstance(request, RunShell):
                attempt.shell.append(ShellRun(command=request.command, error=event.error.message))
            return
        result = event.result
        if isinstance(result, ShellRan) and isinstance(request, RunShell):
            attempt.shell.append(_shell_run(request, result))
        elif isinstance(result, Called):
            self._usage(attempt, result.value)
            spend = spend_of(getattr(request, "args", None), result.value)
            if spend is not None and spend.cost_usd is not None:
                attempt.cost_usd = (attempt.cost_usd or 0.0) + spend.cost_usd
        elif isinstance(result, HumanAnswered) and not attempt.answer:
            attempt.answer = result.answer.text or result.answer.value

    def _usage(self, attempt: Attempt, value: Any) -> None:
        usage = value.get("usage") if isinstance(value, dict) else None
        if not isinstance(usage, dict):
            return
        counts = {k: v for k, v in usage.items() if isinstance(v, int)}
        attempt.usage = {k: attempt.usage.get(k, 0) + v for k, v in counts.items()}
        for key in _USAGE_KEYS:
            if key in counts:
                self.tokens[key] = self.tokens.get(key, 0) + counts[key]

    def _cancelled_branches(self, event: ParallelCompleted, state: RunState) -> None:
        for stream in event.cancelled:
            attempt = self._open(stream)
            if attempt is not None:
                attempt.status, attempt.failure_reason = "skipped", "cancelled"
                self._current.pop(stream, None)
                self._mark(stream, attempt.node, "skipped", state)

    def _finished(self, entry: Entry) -> None:
        self.finished_at = entry.at
        self.questions.clear()
        for node, status in self.nodes.items():
            if status in ACTIVE:
                self.nodes[node] = "stopped"

    def current(self) -> list[str]:
        """The main-graph nodes being executed now (highlighted on the graph)."""
        return [node for node, status in self.nodes.items() if status in ACTIVE]

    def retries(self) -> dict[str, int]:
        """Attempts that failed and were retried, by node (every stream)."""
        counts: dict[str, int] = {}
        for a in self.attempts:
            if a.retried:
                counts[a.node] = counts.get(a.node, 0) + 1
        return counts

    def stages(self, node: str) -> list[Attempt]:
        """Every attempt of `node`, on any stream, in order."""
        return [a for a in self.attempts if a.node == node]


def _shell_run(request: RunShell, result: ShellRan) -> ShellRun:
    return ShellRun(
        command=request.command,
        exit_code=result.exit_code,
        stdout=result.stdout,
        stderr=result.stderr,
        duration_ms=result.duration_ms,
        timed_out=result.timed_out,
    )
