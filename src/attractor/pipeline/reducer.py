"""Pipeline layer (pure): the reducer — `reduce(state, entry) -> state`, total and pure.

Rule: one `match` over the event, each arm a small named helper. Traversal-local events go through
`reduce_traversal`, which the decider also uses to look ahead within one batch; events that touch
several traversals (fork, join, child start) are handled at the run level.
"""

from __future__ import annotations

from typing import Any

from msgspec.structs import replace

from attractor.dot import Graph, apply_transforms, parse_dot, validate
from attractor.dot._errors import DotSyntaxError
from attractor.effects import (
    EffectCompleted,
    EffectFailed,
    EffectRequested,
    RandomDrawn,
)
from attractor.events import Entry, Event
from attractor.pipeline.events import (
    BranchCompleted,
    BranchStarted,
    ChildFinished,
    ChildStarted,
    EdgeSelected,
    GoalGateUnsatisfied,
    LoopRestarted,
    ParallelCompleted,
    ParallelStarted,
    RunFinished,
    RunForked,
    RunStarted,
    StageCompleted,
    StageFailed,
    StageRetrying,
    StageStarted,
)
from attractor.pipeline.graphs import PipelineError, start_node
from attractor.pipeline.model import Outcome, StageStatus
from attractor.pipeline.state import RunState, Traversal

CANCELLED = Outcome(status=StageStatus.SKIPPED, notes="cancelled: the join was already satisfied")


def prepare_graph(source: str, path: str) -> Graph:
    """Parse and transform a DOT source the way the run did (pure)."""
    return apply_transforms(parse_dot(source, filename=path or "<run>"))


def initial_context(graph: Graph, run_id: str) -> dict[str, Any]:
    """Graph attributes mirrored under `graph.*`, plus the run id (spec §3.1 INITIALIZE)."""
    ctx: dict[str, Any] = {f"graph.{k}": v for k, v in sorted(graph.attrs.items())}
    ctx["graph.goal"] = graph.goal
    ctx["internal.run_id"] = run_id
    return ctx


def reduce(state: RunState, entry: Entry, graph_override: Graph | None = None) -> RunState:
    """Fold one entry into the run state."""
    return _fold(replace(state, seq=entry.seq), entry, graph_override)


def _fold(state: RunState, entry: Entry, graph_override: Graph | None) -> RunState:
    event = entry.event
    match event:
        case RunStarted():
            return _started(state, event, graph_override)
        case ParallelStarted():
            return _forked(state, entry.stream, event)
        case BranchCompleted():
            return _branch_done(state, entry.stream, event)
        case ParallelCompleted():
            return _joined(state, entry.stream, event)
        case ChildStarted():
            return _child_started(state, entry.stream, event)
        case ChildFinished():
            return _child_finished(state, entry.stream, event)
        case RunFinished():
            return replace(state, finished=event.outcome)
        case LoopRestarted():
            return replace(state, restart_at=event.target)
        case RunForked():
            return _forked_run(state, event)
        case StageStarted():
            state = replace(state, executions=state.executions + 1)
            return _local(state, entry.stream, event)
        case _:
            return _local(state, entry.stream, event)


def _local(state: RunState, stream: str, event: Event) -> RunState:
    t = state.traversals.get(stream)
    if t is None:
        return state
    graph = state.graphs.get(t.graph)
    new = reduce_traversal(t, event, graph)
    if new is t:
        return state
    return replace(state, traversals={**state.traversals, stream: new})


def reduce_traversal(t: Traversal, event: Event, graph: Graph | None) -> Traversal:
    """Fold an event that concerns one traversal only."""
    match event:
        case BranchStarted():
            return replace(t, phase="enter")
        case StageStarted(node=node, attempt=attempt, index=index):
            ctx = {**t.context, "current_node": node}
            return replace(
                t,
                phase="run",
                node=node,
                attempt=attempt,
                index=index,
                executions=t.executions + 1,
                results=(),
                context=ctx,
                jitter=0.0,
                children=(),
            )
        case EffectRequested(effect_id=eid):
            return replace(t, waiting_on=eid, phase="wait" if t.phase == "run" else t.phase)
        case EffectCompleted(effect_id=eid) | EffectFailed(effect_id=eid) if eid == t.waiting_on:
            return _effect_done(t, event)
        case StageFailed(node=node, outcome=failed):
            retries = {**t.retries, node: t.retries.get(node, 0) + 1}
            ctx = {**t.context, f"internal.retry_count.{node}": retries[node]}
            return replace(
                t, phase="retry", retries=retries, context=ctx, results=(), last_failure=failed
            )
        case StageRetrying():
            return replace(t, phase="sleeping")
        case StageCompleted():
            return _stage_completed(t, event)
        case EdgeSelected(source=source, target=target, reason=reason):
            return replace(
                t,
                phase="enter",
                node=target,
                attempt=1,
                prev_node=source,
                results=(),
                via_join=reason == "join",
            )
        case GoalGateUnsatisfied():
            return t
        case _:
            return t


def _effect_done(t: Traversal, event: EffectCompleted | EffectFailed) -> Traversal:
    outcome = event.result if isinstance(event, EffectCompleted) else event.error
    if t.phase == "wait":
        return replace(t, phase="run", waiting_on="", results=(*t.results, outcome))
    if t.phase == "retry":
        factor = outcome.value if isinstance(outcome, RandomDrawn) else 1.0
        return replace(t, waiting_on="", jitter=factor)
    if t.phase == "sleeping":
        return replace(t, phase="enter", waiting_on="", attempt=t.attempt + 1)
    return replace(t, waiting_on="")


def _stage_completed(t: Traversal, event: StageCompleted) -> Traversal:
    outcome, node = event.outcome, event.node
    ctx = dict(t.context)
    if outcome.status != StageStatus.SKIPPED:
        ctx.update(outcome.context_updates)
        ctx["outcome"] = outcome.status.value
        if outcome.preferred_label:
            ctx["preferred_label"] = outcome.preferred_label
    retries = dict(t.retries)
    if outcome.status.succeeded:
        retries.pop(node, None)
        ctx.pop(f"internal.retry_count.{node}", None)
    thread = t.thread
    if event.thread_key:
        thread = (*thread, (event.thread_key, event.prompt, event.response))
    skipped = outcome.status == StageStatus.SKIPPED  # spec §5.2: proceed, record no outcome
    return replace(
        t,
        phase="route",
        context=ctx,
        **t.with_completed(node),
        outcomes=t.outcomes if skipped else {**t.outcomes, node: outcome},
        retries=retries,
        result=outcome,
        results=(),
        thread=thread,
    )


def _started(state: RunState, event: RunStarted, override: Graph | None) -> RunState:
    try:
        graph = override or prepare_graph(event.dot_source, event.dot_path)
        node = event.start_at or start_node(graph)
    except (DotSyntaxError, PipelineError) as exc:
        return replace(state, started=event, invalid=str(exc))
    top = Traversal(
        stream="run",
        kind="top",
        graph="main",
        node=node,
        context=initial_context(graph, event.run_id),
    )
    return replace(state, started=event, graphs={"main": graph}, traversals={"run": top})


def _forked_run(state: RunState, event: RunForked) -> RunState:
    if state.started is None:
        return state
    config = replace(state.started.config, run_dir=event.run_dir)
    started = replace(state.started, run_id=event.run_id, config=config)
    top = state.traversals.get("run")
    traversals = state.traversals
    if top is not None:
        ctx = {**top.context, "internal.run_id": event.run_id}
        traversals = {**traversals, "run": replace(top, context=ctx)}
    return replace(state, started=started, traversals=traversals, finished=None, restart_at="")


def _forked(state: RunState, stream: str, event: ParallelStarted) -> RunState:
    parent = state.traversals[stream]
    graph = state.graphs[parent.graph]
    fan_ins = tuple(n.id for n in graph.nodes.values() if n.handler_type == "parallel.fan_in")
    children = []
    traversals = dict(state.traversals)
    for i, target in enumerate(event.branches):
        name = branch_stream(stream, event.node, parent.index, i)
        children.append(name)
        traversals[name] = Traversal(
            stream=name,
            kind="branch",
            graph=parent.graph,
            node=target,
            phase="queued",
            context=dict(parent.context),
            fork_context=dict(parent.context),
            parent=stream,
            origin=event.node,
            branch=target,
            branch_index=i,
            stop_at=fan_ins,
            prev_node=event.node,
            thread=parent.thread,
        )
    traversals[stream] = replace(parent, phase="branches", children=tuple(children))
    return replace(state, traversals=traversals)


def branch_stream(parent: str, node: str, index: int, i: int) -> str:
    """The stream of branch `i` of parallel node `node` at execution `index` of `parent`."""
    return f"{parent}/{node}@{index}:{i}"


def child_stream(parent: str, node: str, index: int) -> str:
    """The stream of the child pipeline of manager node `node` at execution `index`."""
    return f"{parent}/{node}@{index}:child"


def _branch_done(state: RunState, stream: str, event: BranchCompleted) -> RunState:
    t = state.traversals[stream]
    done = replace(t, phase="done", result=event.outcome, stopped_at=event.stopped_at)
    return replace(state, traversals={**state.traversals, stream: done})


def _joined(state: RunState, stream: str, event: ParallelCompleted) -> RunState:
    traversals = dict(state.traversals)
    for name in event.cancelled:
        traversals[name] = replace(traversals[name], phase="done", result=CANCELLED)
    traversals[stream] = replace(traversals[stream], phase="run", results=())
    return replace(state, traversals=traversals)


def _child_started(state: RunState, stream: str, event: ChildStarted) -> RunState:
    parent = state.traversals[stream]
    try:
        graph = prepare_graph(event.dot_source, event.dot_path)
        first = start_node(graph)
        errors = [d for d in validate(graph) if d.is_error]
        if errors:
            raise PipelineError(f"{errors[0].rule}: {errors[0].message}")
    except (DotSyntaxError, PipelineError) as exc:
        return _child_invalid(state, stream, event, str(exc))
    child = Traversal(
        stream=event.stream,
        kind="child",
        graph=event.stream,
        node=first,
        context=initial_context(graph, str(parent.context.get("internal.run_id", ""))),
        parent=stream,
        origin=event.node,
    )
    traversals = {
        **state.traversals,
        event.stream: child,
        stream: replace(parent, children=(event.stream,)),
    }
    return replace(state, graphs={**state.graphs, event.stream: graph}, traversals=traversals)


def _child_invalid(state: RunState, stream: str, event: ChildStarted, why: str) -> RunState:
    """A child pipeline that cannot run is a child that failed at once."""
    parent = state.traversals[stream]
    failed = Outcome(
        status=StageStatus.FAIL, failure_reason=f"child pipeline {event.dot_path} is invalid: {why}"
    )
    child = Traversal(
        stream=event.stream,
        kind="child",
        graph=parent.graph,
        node="",
        phase="done",
        parent=stream,
        origin=event.node,
        result=failed,
    )
    traversals = {
        **state.traversals,
        event.stream: child,
        stream: replace(parent, children=(event.stream,)),
    }
    return replace(state, traversals=traversals)


def _child_finished(state: RunState, stream: str, event: ChildFinished) -> RunState:
    child = state.traversals.get(event.stream)
    if child is None:
        return state
    done = replace(child, phase="done", result=event.outcome)
    return replace(state, traversals={**state.traversals, event.stream: done})
