"""Server layer (pure): the request and response types of the HTTP API.

Rule: every body the API reads or writes is one of these msgspec Structs, so Litestar decodes
and validates requests with msgspec and the OpenAPI document at `/schema` describes every one.
Requests forbid unknown fields (a typo is a 400 naming the field, not a silently ignored
option); responses never hold a secret (the run config they echo is what `run.started`
recorded, which holds none).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from attractor.dot import Diagnostic

Status = Literal[
    "running", "pausing", "paused", "cancelled", "stopped", "succeeded", "failed", "restarted"
]
BackendSpec = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(simulate|llm|scripted:.+)$",
        description="`simulate`, `llm`, or `scripted:FILE` (a script file under an allowed root)",
        examples=["simulate"],
    ),
]


class StartRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Start a run: DOT `source`, or the `path` of a DOT file under an allowed root."""

    source: Annotated[str, msgspec.Meta(max_length=1_000_000)] = ""
    path: Annotated[str, msgspec.Meta(max_length=4096)] = ""
    backend: BackendSpec = "simulate"
    goal: Annotated[str, msgspec.Meta(max_length=10_000)] = ""
    auto_approve: bool = False
    max_node_executions: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = 10_000


class ValidateRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Check a pipeline without running it: DOT `source`, or a `path` under an allowed root."""

    source: Annotated[str, msgspec.Meta(max_length=1_000_000)] = ""
    path: Annotated[str, msgspec.Meta(max_length=4096)] = ""


class AnswerRequest(msgspec.Struct, forbid_unknown_fields=True):
    """A human's reply: an option's key or label (any case, a unique prefix), yes/no, or text."""

    answer: Annotated[str, msgspec.Meta(max_length=100_000, examples=["A"])]


class SyntaxProblem(msgspec.Struct, frozen=True):
    """Where a DOT source stops parsing."""

    message: str
    line: int
    column: int
    expected: list[str]
    hint: str | None
    rendered: str


class Validation(msgspec.Struct, frozen=True):
    """What validation found; `valid` is false on a syntax error or any ERROR diagnostic."""

    valid: bool
    errors: int
    warnings: int
    diagnostics: list[Diagnostic]
    syntax_error: SyntaxProblem | None
    rendered: str  # compiler-style text: file:line:col: severity[rule]: message, caret, hint


class Started(msgspec.Struct, frozen=True):
    """A run that was started (or resumed, or forked)."""

    id: str
    status: Status
    url: str
    events_url: str


class OptionOut(msgspec.Struct, frozen=True):
    """One choice of a question."""

    key: str
    label: str


class QuestionOut(msgspec.Struct, frozen=True):
    """A question waiting for a human. Answer it at `answer_url` (`path_id` is `id` with each
    `/` written as `~`, so it fits one URL segment)."""

    id: str
    path_id: str
    node: str
    stream: str
    text: str
    kind: str
    options: list[OptionOut]
    default: str | None
    timeout_ms: int | None
    asked_seq: int
    answer_url: str
    answerable: bool  # false while the run is not driven by this server (resume it first)


class Answered(msgspec.Struct, frozen=True):
    """The answer given to a question; the run has continued."""

    question_id: str
    value: str
    text: str


class RunItem(msgspec.Struct, frozen=True):
    """A run as the runs list shows it."""

    id: str
    name: str
    goal: str
    status: Status
    started_at: str
    finished_at: str
    duration_s: float | None
    current: list[str]
    tokens: int
    event_count: int
    dot_path: str
    forked_from: str
    parent_run: str
    cost_usd: float | None = None  # known cost (CLI-reported or catalog-priced); None: unknown


class RunPage(msgspec.Struct, frozen=True):
    """One page of the runs list (newest first)."""

    items: list[RunItem]
    total: int
    offset: int
    limit: int
    next_offset: int | None


class StageSummary(msgspec.Struct, frozen=True):
    """A stage in the stage list: its latest attempt on one stream."""

    node: str
    stream: str
    status: str
    attempts: int
    retries: int
    started_at: str
    duration_ms: int | None
    failure_reason: str


class PipelineStatus(msgspec.Struct, frozen=True):
    """Where a run stands (spec §9.5 `GET /pipelines/{id}`)."""

    id: str
    name: str
    goal: str
    status: Status
    started_at: str
    finished_at: str
    duration_s: float | None
    current: list[str]
    completed_nodes: list[str]
    nodes: dict[str, str]
    retries: dict[str, int]
    stages: list[StageSummary]
    pending_questions: list[QuestionOut]
    failure_reason: str
    tokens: dict[str, int]
    event_count: int
    last_seq: int
    dot_path: str
    backend: str
    forked_from: str
    parent_run: str
    restart_target: str
    driven_here: bool
    writer_pid: int | None
    error: str
    cost_usd: float | None = None
    usage: dict[str, Any] = {}  # per-stage tokens and cost, and the total (as `status --json`)


class StateAt(msgspec.Struct, frozen=True):
    """The run as it was just after event `seq` (time travel)."""

    seq: int
    last_seq: int
    at: str
    event_type: str
    status: Status
    nodes: dict[str, str]
    current: list[str]
    completed_nodes: list[str]
    context: dict[str, Any]
    pending_questions: list[str]


class Checkpoint(msgspec.Struct, frozen=True):
    """The latest checkpoint (spec §5.3), as `checkpoint.json` holds it."""

    timestamp: str
    current_node: str
    completed_nodes: list[str]
    node_retries: dict[str, int]
    context: dict[str, Any]


class ContextOut(msgspec.Struct, frozen=True):
    """The context of the top-level run, and of every other traversal (branches, children)."""

    seq: int
    context: dict[str, Any]
    streams: dict[str, dict[str, Any]]


class ShellOut(msgspec.Struct, frozen=True):
    """A shell command a stage ran and its output."""

    command: str
    exit_code: int | None
    stdout: str
    stderr: str
    duration_ms: int
    timed_out: bool
    error: str


class AttemptOut(msgspec.Struct, frozen=True):
    """One attempt of a stage."""

    attempt: int
    stream: str
    index: int
    handler: str
    status: str
    started_at: str
    finished_at: str
    duration_ms: int | None
    failure_reason: str
    notes: str
    prompt: str
    response: str
    usage: dict[str, int]
    shell: list[ShellOut]
    question: str
    answer: str
    started_seq: int
    cost_usd: float | None = None


class StageOut(msgspec.Struct, frozen=True):
    """A node's stage: its status now and every attempt (prompt, response, usage, output)."""

    node: str
    label: str
    handler: str
    status: str
    attempts: list[AttemptOut]


class Control(msgspec.Struct, frozen=True):
    """The result of a control action (cancel, pause, unpause)."""

    id: str
    status: Status
    detail: str


class Problem(msgspec.Struct, frozen=True, omit_defaults=True):
    """An error (RFC 9457 problem details), served as `application/problem+json`."""

    type: str
    title: str
    status: int
    detail: str
    instance: str = ""
    hint: str = ""
    errors: list[dict[str, Any]] = []
    diagnostics: list[Diagnostic] = []
    syntax_error: SyntaxProblem | None = None
