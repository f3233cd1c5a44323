"""Server layer (shell): the JSON and SSE endpoints — spec §9.5 and the actions beyond it.

Rule: a handler reads (a fold of the run's log, through `Services`) or acts (through the run
manager, which starts the CLI's own driver); it never touches the log itself. Every failure is
a `ProblemError`; every body is a Struct from `_schemas`, so `/schema` documents it.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Response, get, post, route
from litestar.datastructures import State
from litestar.enums import HttpMethod
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter, JSONBody, PathParameter, QueryParameter
from litestar.response import Stream

from attractor.pipeline.interviewers import InvalidAnswerError, UnknownQuestionError
from attractor.pipeline.run import RunOptions
from attractor.server._checks import check_source
from attractor.server._feed import RunFeed
from attractor.server._present import (
    checkpoint,
    context,
    pipeline_status,
    question_out,
    stage_out,
    state_at,
)
from attractor.server._problems import PROBLEM_JSON, ProblemError
from attractor.server._runs import RUN_ID
from attractor.server._schemas import (
    Answered,
    AnswerRequest,
    Checkpoint,
    ContextOut,
    Control,
    PipelineStatus,
    Problem,
    QuestionOut,
    RunPage,
    StageOut,
    Started,
    StartRequest,
    StateAt,
    Status,
    ValidateRequest,
    Validation,
)
from attractor.server._services import Services, now_iso
from attractor.server._sse import sse_events


def _problem(description: str) -> ResponseSpec:
    return ResponseSpec(Problem, description=description, media_type=PROBLEM_JSON)


BAD = {
    400: _problem("Malformed request (JSON, types, ids)"),
    401: _problem("Missing or wrong token"),
}
RUN = {**BAD, 404: _problem("No such run"), 422: _problem("The run's log cannot be read")}
ACT = {**RUN, 409: _problem("The run is not in a state that allows this")}
START = {
    **ACT,
    403: _problem("A path outside the allowed roots"),
    413: _problem("Body too large"),
    422: _problem("Invalid pipeline (diagnostics), bad backend, or unreadable log"),
}
SVG = {**RUN, 503: _problem("Graphviz is missing or failed")}
RunId = Annotated[
    str,
    PathParameter(
        description="A run id, as `GET /pipelines` lists them",
        schema_extra={"pattern": RUN_ID.pattern, "maxLength": 128},
    ),
]


def svc(state: State) -> Services:
    """The app's services."""
    services: Services = state.services
    return services


def _started(run_id: str, status: Status = "running") -> Started:
    return Started(
        id=run_id,
        status=status,
        url=f"/pipelines/{run_id}",
        events_url=f"/pipelines/{run_id}/events",
    )


# --- reading


@get("/pipelines", responses=BAD, tags=["runs"])
async def list_pipelines(
    state: State,
    status: Annotated[
        Status | None, QueryParameter(description="Only runs with this status")
    ] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
) -> RunPage:
    """Every run under the logs root (server and CLI runs), newest first, paginated."""
    items = [i for i in svc(state).run_items() if status is None or i.status == status]
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    return RunPage(
        items=page,
        total=len(items),
        offset=offset,
        limit=limit,
        next_offset=offset + limit if more else None,
    )


@get("/pipelines/{run_id:str}", responses=RUN, tags=["runs"])
async def get_pipeline(state: State, run_id: RunId) -> PipelineStatus:
    """Status and progress of a run (spec §9.5)."""
    s = svc(state)
    _, fold = s.fold(run_id)
    live = s.manager.get(run_id)
    status = s.status(run_id, fold)
    return pipeline_status(
        run_id,
        fold,
        status,
        now_iso(),
        driven=s.manager.driving(run_id),
        pid=s.writer(run_id) if fold.state.finished is None else None,
        error=live.error if live else "",
    )


@get("/pipelines/{run_id:str}/events", responses=RUN, tags=["runs"], media_type="text/event-stream")
async def pipeline_events(
    state: State,
    run_id: RunId,
    after: Annotated[int, QueryParameter(ge=0, description="Send entries after this seq")] = 0,
    last_event_id: Annotated[
        str,
        HeaderParameter(
            name="Last-Event-ID",
            description="Resume after this seq (what EventSource sends on reconnect)",
            required=False,
            schema_extra={"pattern": "^[0-9]{1,12}$"},
        ),
    ] = "",
    deltas: Annotated[bool, QueryParameter(description="Also send streamed LLM text")] = True,
) -> Stream:
    """The run's log as Server-Sent Events: `event: entry` with `id` = seq, `event: delta` for
    streamed text (not in the log), `event: end` after `run.finished`. Reconnect with
    `Last-Event-ID` (or `?after=SEQ`) to get exactly the entries missed."""
    s = svc(state)
    start = after
    if last_event_id:
        if not last_event_id.strip().isdigit():
            raise ProblemError(
                400, "bad-last-event-id", f"Last-Event-ID {last_event_id!r} is not a seq"
            )
        start = int(last_event_id)
    feed, _ = s.fold(run_id)  # folded first: an unreadable log is a 422 now, not mid-stream
    stream = sse_events(
        feed,
        start,
        heartbeat_s=s.config.heartbeat_s,
        poll_s=s.config.poll_s,
        deltas=deltas,
        closing=s.closing,
    )
    return Stream(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@get("/pipelines/{run_id:str}/graph", responses=SVG, tags=["runs"], media_type="image/svg+xml")
async def pipeline_graph(state: State, run_id: RunId) -> Response[bytes]:
    """The pipeline drawn by Graphviz (SVG); each node's `<title>` is its id."""
    s = svc(state)
    _, fold = s.fold(run_id)
    graph = fold.state.graphs.get("main")
    if graph is None:
        raise ProblemError(
            404, "no-graph", f"run {run_id} has no graph (its DOT could not be prepared)"
        )
    svg = await s.renderer.svg(graph)
    return Response(
        svg,
        media_type="image/svg+xml",
        headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
    )


@get("/pipelines/{run_id:str}/questions", responses=RUN, tags=["humans"])
async def pipeline_questions(state: State, run_id: RunId) -> list[QuestionOut]:
    """Questions waiting for a human (spec §9.5)."""
    s = svc(state)
    _, fold = s.fold(run_id)
    driven = s.manager.driving(run_id)
    return [question_out(run_id, q, driven) for q in fold.view.questions.values()]


@get("/pipelines/{run_id:str}/checkpoint", responses=RUN, tags=["runs"])
async def pipeline_checkpoint(state: State, run_id: RunId) -> Checkpoint:
    """The latest checkpoint (spec §5.3), folded from the log."""
    return checkpoint(svc(state).fold(run_id)[1])


@get("/pipelines/{run_id:str}/context", responses=RUN, tags=["runs"])
async def pipeline_context(state: State, run_id: RunId) -> ContextOut:
    """The current context key-value store (spec §9.5), and each branch's."""
    return context(svc(state).fold(run_id)[1])


@get("/pipelines/{run_id:str}/state", responses=RUN, tags=["time travel"])
async def pipeline_state(
    state: State, run_id: RunId, at: Annotated[int, QueryParameter(ge=1, le=1_000_000_000)]
) -> StateAt:
    """The run as it was just after event `at` (a fold of the log's first `at` entries)."""
    s = svc(state)
    feed, fold = s.fold(run_id)
    if at > fold.seq:
        raise ProblemError(400, "seq-out-of-range", f"at={at} is outside the log (1..{fold.seq})")
    then = s.fold_at(feed, at)
    return state_at(then, fold.seq, then.last_at, then.last_type)


@get("/pipelines/{run_id:str}/stages/{node:str}", responses=RUN, tags=["runs"])
async def pipeline_stage(
    state: State, run_id: RunId, node: Annotated[str, PathParameter(max_length=200)]
) -> StageOut:
    """A stage: its status and every attempt (prompt, response, status, usage, shell output)."""
    s = svc(state)
    _, fold = s.fold(run_id)
    graph = fold.state.graphs.get("main")
    known = graph is not None and node in graph.nodes
    if not known and not fold.view.stages(node):
        raise ProblemError(404, "unknown-node", f"run {run_id} has no node {node!r}")
    return stage_out(fold, node, s.blob_text(run_id))


@post("/validate", responses=START, tags=["pipelines"], status_code=200)
async def validate_pipeline(state: State, data: JSONBody[ValidateRequest]) -> Validation:
    """Check a pipeline without running it: the compiler-style diagnostics `attractor validate`
    prints, as data and as text. `valid` is false on a syntax error or any error."""
    s = svc(state)
    source, filename = _source_of(s, data.source, data.path)
    return check_source(source, filename)


def _source_of(s: Services, source: str, path: str) -> tuple[str, str]:
    if bool(source) == bool(path):
        raise ProblemError(
            400, "source-or-path", "give exactly one of `source` (DOT text) or `path`"
        )
    if path:
        resolved, text = s.dot_file(path)
        return text, str(resolved)
    return source, "<pasted>"


# --- acting


@post("/pipelines", responses=START, tags=["runs"], status_code=201)
async def create_pipeline(state: State, data: JSONBody[StartRequest]) -> Started:
    """Validate and start a run (spec §9.5): DOT `source` or a `path` under an allowed root."""
    s = svc(state)
    source, filename = _source_of(s, data.source, data.path)
    s.checked(source, filename)
    backend = s.backend(data.backend)
    if data.path and not data.goal:
        dot_path = s.dot_file(data.path)[0]
    else:
        dot_path = s.saved_source(source, data.goal)
    options = s.options(backend, data.auto_approve, data.max_node_executions)
    run_id = await s.manager.start(dot_path, options)
    return _started(run_id)


def _recorded(s: Services, feed: RunFeed, run_id: str) -> RunOptions:
    fold = feed.folded()
    started = fold.state.started
    if started is None:
        raise ProblemError(409, "not-a-run", f"run {run_id} has no run.started")
    c = started.config
    return RunOptions(
        backend=c.backend,
        logs_root=str(s.root),
        auto_approve=c.auto_approve,
        answers=c.answers,
        max_node_executions=c.max_node_executions,
        fsync=s.config.fsync,
    )


def _resumable(s: Services, run_id: str, verb: str) -> RunFeed:
    feed, fold = s.fold(run_id)
    status = s.status(run_id, fold)
    if fold.state.finished is not None:
        raise ProblemError(
            409, "run-finished", f"cannot {verb} run {run_id}: it {status}; fork it instead"
        )
    if s.manager.driving(run_id):
        raise ProblemError(409, "run-active", f"cannot {verb} run {run_id}: it is running here")
    pid = s.writer(run_id)
    if pid:
        raise ProblemError(
            409, "run-elsewhere", f"cannot {verb} run {run_id}: process {pid} is running it"
        )
    return feed


@post("/pipelines/{run_id:str}/resume", responses=ACT, tags=["runs"], status_code=200)
async def resume_pipeline(state: State, run_id: RunId) -> Started:
    """Continue a stopped, cancelled or paused run from its log (`attractor resume`)."""
    s = svc(state)
    feed = _resumable(s, run_id, "resume")
    await s.manager.resume(run_id, s.source.run_dir(run_id), _recorded(s, feed, run_id))
    return _started(run_id)


@post("/pipelines/{run_id:str}/unpause", responses=ACT, tags=["runs"], status_code=200)
async def unpause_pipeline(state: State, run_id: RunId) -> Started:
    """Continue a paused run where it stopped."""
    s = svc(state)
    _, fold = s.fold(run_id)
    status = s.status(run_id, fold)
    if status != "paused":
        raise ProblemError(
            409, "not-paused", f"run {run_id} is {status}, not paused", hint="use resume"
        )
    feed = _resumable(s, run_id, "unpause")
    await s.manager.resume(run_id, s.source.run_dir(run_id), _recorded(s, feed, run_id))
    return _started(run_id)


@post("/pipelines/{run_id:str}/fork", responses=ACT, tags=["time travel"], status_code=201)
async def fork_pipeline(
    state: State, run_id: RunId, at: Annotated[int, QueryParameter(ge=1, le=1_000_000_000)]
) -> Started:
    """A new run sharing events 1..`at` of this one, continued live (`attractor fork`)."""
    s = svc(state)
    feed, fold = s.fold(run_id)
    if at > fold.seq:
        raise ProblemError(400, "seq-out-of-range", f"at={at} is outside the log (1..{fold.seq})")
    new_id = await s.manager.fork(s.source.run_dir(run_id), at, _recorded(s, feed, run_id))
    return _started(new_id)


@post("/pipelines/{run_id:str}/cancel", responses=ACT, tags=["runs"], status_code=200)
async def cancel_pipeline(state: State, run_id: RunId) -> Control:
    """Stop a run now (spec §9.5). Its log stays valid; resume continues it."""
    s = svc(state)
    s.feed(run_id)
    await s.manager.cancel(run_id)
    return Control(id=run_id, status="cancelled", detail="stopped; POST .../resume continues it")


@post("/pipelines/{run_id:str}/pause", responses=ACT, tags=["runs"], status_code=200)
async def pause_pipeline(state: State, run_id: RunId) -> Control:
    """Stop at the next node boundary (effects in flight finish first); unpause continues."""
    s = svc(state)
    s.feed(run_id)
    live = await s.manager.pause(run_id)
    status: Status = "paused" if live.control == "paused" else "pausing"
    return Control(id=run_id, status=status, detail="stops before the next node starts")


@post(
    "/pipelines/{run_id:str}/questions/{question_id:str}/answer",
    responses={**ACT, 422: _problem("The answer fits none of the options")},
    tags=["humans"],
    status_code=200,
)
async def answer_question(
    state: State,
    run_id: RunId,
    question_id: Annotated[
        str, PathParameter(description="The question's `path_id`", max_length=500)
    ],
    data: JSONBody[AnswerRequest],
) -> Answered:
    """Answer a waiting question (spec §9.5); the run continues at once."""
    s = svc(state)
    s.feed(run_id)
    qid = question_id.replace("~", "/")
    try:
        answer = s.manager.answer(run_id, qid, data.answer)
    except UnknownQuestionError as exc:
        raise ProblemError(404, "unknown-question", str(exc)) from None
    except InvalidAnswerError as exc:
        raise ProblemError(422, "invalid-answer", str(exc)) from None
    return Answered(question_id=qid, value=answer.value, text=answer.text)


@route("/pipelines", http_method=[HttpMethod.OPTIONS], include_in_schema=False, status_code=204)
async def pipelines_options() -> Response[None]:
    """`Allow` for the one path with two handlers (Litestar's own OPTIONS answer there lists
    only the first handler's methods)."""
    return Response(None, status_code=204, headers={"Allow": "GET, OPTIONS, POST"})


ROUTES: list[Any] = [
    pipelines_options,
    list_pipelines,
    create_pipeline,
    get_pipeline,
    pipeline_events,
    cancel_pipeline,
    pipeline_graph,
    pipeline_questions,
    answer_question,
    pipeline_checkpoint,
    pipeline_context,
    pipeline_state,
    pipeline_stage,
    resume_pipeline,
    pause_pipeline,
    unpause_pipeline,
    fork_pipeline,
    validate_pipeline,
]
