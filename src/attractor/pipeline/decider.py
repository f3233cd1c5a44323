"""Pipeline layer (pure): the decider — what happens next, for every traversal of a run.

Rule: `decide(state)` returns the next events. Within one traversal it looks ahead through the
traversal reducer, so a node that needs no effect (start, a simulated stage, a conditional) is
started, completed and routed in one batch — one durable append per node. It stops at anything
that waits (an effect) or touches another traversal (fork, join, child).
"""

from __future__ import annotations

from typing import Any

from msgspec.structs import replace

from attractor.dot import Edge, Graph, Node, is_exit
from attractor.effects import AskHuman, DrawRandom, HumanAnswered, effect_id, request_effect
from attractor.effects import Sleep as SleepEffect
from attractor.events import Emit, Event
from attractor.pipeline.edges import Choice, gate_retry_target, next_step, route_failure
from attractor.pipeline.events import (
    BranchCompleted,
    BranchStarted,
    CheckpointSaved,
    ChildFinished,
    ChildStarted,
    EdgeSelected,
    GoalGateUnsatisfied,
    InterviewCompleted,
    InterviewStarted,
    LoopRestarted,
    ParallelCompleted,
    ParallelStarted,
    RunFinished,
    StageCompleted,
    StageFailed,
    StageRetrying,
    StageStarted,
)
from attractor.pipeline.fidelity import build_thread
from attractor.pipeline.graphs import handler_type
from attractor.pipeline.handlers import (
    BranchResult,
    ChildView,
    Done,
    Fork,
    HandlerInput,
    HandlerRegistry,
    Need,
    SpawnChild,
    Step,
)
from attractor.pipeline.handlers.human import question_id
from attractor.pipeline.handlers.parallel import int_attr, join_satisfied
from attractor.pipeline.model import Outcome, StageStatus
from attractor.pipeline.reducer import CANCELLED, child_stream, reduce_traversal
from attractor.pipeline.retry import delay_ms, policy_for
from attractor.pipeline.state import RunState, Traversal

_LOOKAHEAD = 64


def decide(state: RunState, registry: HandlerRegistry) -> list[Emit]:
    """The next events of the run (empty: wait for an effect, or the run is over)."""
    if state.started is None or state.finished is not None:
        return []
    if state.invalid:
        return [
            (
                "run",
                RunFinished(
                    outcome=_fail(f"the pipeline cannot run: {state.invalid}"), completed_nodes=()
                ),
            )
        ]
    out: list[Emit] = []
    for stream in sorted(state.traversals):
        t = state.traversals[stream]
        if t.phase == "done":
            continue
        events = _traversal(state, t, registry)
        out.extend(events)
        started = sum(isinstance(e, StageStarted) for _, e in events)
        if started:  # the run-wide bound counts stages started by earlier traversals too
            state = replace(state, executions=state.executions + started)
        if any(s == "run" and isinstance(e, RunFinished) for s, e in events):
            break
    return out


def _traversal(state: RunState, t: Traversal, registry: HandlerRegistry) -> list[Emit]:
    """Step one traversal as far as it can go without waiting or touching another one."""
    emitted: list[Emit] = []
    graph = state.graph_of(t)
    for _ in range(_LOOKAHEAD):
        events = _step(state, t, graph, registry)
        if not events:
            break
        emitted.extend(events)
        local = all(s == t.stream and _is_local(e) for s, e in events)
        if not local:
            break
        for _, event in events:
            t = reduce_traversal(t, event, graph)
            if isinstance(event, StageStarted):  # keep the run-wide execution bound exact
                state = replace(state, executions=state.executions + 1)
        if t.phase in ("wait", "retry", "sleeping", "done"):
            break
    return emitted


def _is_local(event: Event) -> bool:
    return isinstance(
        event,
        StageStarted
        | StageCompleted
        | EdgeSelected
        | CheckpointSaved
        | GoalGateUnsatisfied
        | InterviewCompleted,
    )


def _step(state: RunState, t: Traversal, graph: Graph, registry: HandlerRegistry) -> list[Emit]:
    match t.phase:
        case "enter":
            return _enter(state, t, graph)
        case "run":
            return _run(state, t, graph, registry)
        case "route":
            return _route(state, t, graph, graph.nodes[t.node], t.result or _fail("no outcome"))
        case "retry":
            return _retry(state, t, graph)
        case "branches":
            return _branches(state, t)
        case _:
            return []


def _enter(state: RunState, t: Traversal, graph: Graph) -> list[Emit]:
    node = graph.nodes.get(t.node)
    if node is None:
        return _finish(t, _fail(f"edge leads to unknown node {t.node!r}"), t.node)
    at_join = t.node in t.stop_at and not t.via_join  # its own nested join does not stop it
    if t.kind == "branch" and (at_join or (is_exit(node) and t.executions > 0)):
        return _finish(t, t.result or Outcome(status=StageStatus.SUCCESS), t.node)
    if is_exit(node):
        gate = _unsatisfied_gate(t, graph)
        if gate is not None:
            target = gate_retry_target(gate, graph)
            if not target:
                why = f"Goal gate {gate.id!r} unsatisfied and no retry target"
                return _finish(t, _fail(why), t.node)
            return [
                (t.stream, GoalGateUnsatisfied(gate=gate.id, retry_target=target)),
                (
                    t.stream,
                    EdgeSelected(source=t.node, target=target, label="", reason="goal_gate"),
                ),
            ]
    limit = state.started.config.max_node_executions if state.started else 0
    if state.executions >= limit:
        return _finish(
            t, _fail(f"node execution limit reached ({limit}); is the graph looping?"), t.node
        )
    start = StageStarted(
        node=t.node, attempt=t.attempt, index=t.executions + 1, handler=handler_type(node)
    )
    return [(t.stream, start)]


def _unsatisfied_gate(t: Traversal, graph: Graph) -> Node | None:
    for node_id in dict.fromkeys(t.completed):
        node = graph.nodes.get(node_id)
        outcome = t.outcomes.get(node_id)
        if (
            node is not None
            and node.goal_gate
            and outcome is not None
            and not outcome.status.succeeded
        ):
            return node
    return None


def _run(state: RunState, t: Traversal, graph: Graph, registry: HandlerRegistry) -> list[Emit]:
    node = graph.nodes[t.node]
    handler = registry.resolve(node)
    thread = _thread(state, t, graph, node)
    if handler is None:
        step: Step = Done(_fail(f"no handler is registered for type {node.node_type!r}"))
    else:
        try:
            step = handler.step(_input(state, t, graph, node, thread))
        except Exception as exc:  # a custom handler's bug is a FAIL outcome, not a crash
            step = Done(_fail(f"handler raised {type(exc).__name__}: {exc}"))
    match step:
        case Need(effect=effect):
            eid = effect_id(t.stream, t.node, t.index, t.attempt, len(t.results))
            events: list[Emit] = []
            if isinstance(effect, AskHuman):
                q = effect.question
                events.append(
                    (t.stream, InterviewStarted(node=t.node, question_id=q.id, text=q.text))
                )
            return [*events, (t.stream, request_effect(eid, effect))]
        case Fork():
            return [
                (
                    t.stream,
                    ParallelStarted(
                        node=t.node,
                        branches=step.targets,
                        join_policy=step.join_policy,
                        max_parallel=step.max_parallel,
                    ),
                )
            ]
        case SpawnChild():
            stream = child_stream(t.stream, t.node, t.index)
            return [
                (
                    t.stream,
                    ChildStarted(
                        node=t.node,
                        stream=stream,
                        dot_path=step.dot_path,
                        dot_source=step.dot_source,
                    ),
                )
            ]
        case Done():
            return _attempt_done(
                state, t, graph, node, step, thread.key if thread and node_is_codergen(node) else ""
            )


def node_is_codergen(node: Node) -> bool:
    """Whether the node is an LLM stage (its turns join a thread)."""
    return handler_type(node) == "codergen"


def _thread(state: RunState, t: Traversal, graph: Graph, node: Node) -> Any:
    if handler_type(node) not in ("codergen", "parallel.fan_in"):
        return None
    if state.started is not None and state.started.config.backend == "simulate":
        return None  # simulated stages call no backend: no thread, no preamble to build
    edge = _incoming(graph, t.prev_node, t.node)
    run_id = state.started.run_id if state.started else ""
    return build_thread(
        edge=edge,
        node=node,
        graph=graph,
        prev_node=t.prev_node,
        run_id=run_id,
        context=t.context,
        completed=t.completed,
        outcomes=t.outcomes,
        turns=t.thread,
    )


def _incoming(graph: Graph, source: str, target: str) -> Edge | None:
    for edge in graph.outgoing_edges(source) if source else ():
        if edge.target == target:
            return edge
    return None


def stage_dir(state: RunState, t: Traversal, node_id: str) -> str:
    """Where a node's files go: `<run_dir>/<node>`; a child pipeline's stages (and its branches')
    under `<manager>.child/`, nested for a child's children."""
    return f"{_stage_root(state, t)}/{node_id}"


def _stage_root(state: RunState, t: Traversal) -> str:
    root = state.started.config.run_dir if state.started else ""
    owner = state.traversals.get(t.graph) if t.graph != "main" else None
    if owner is None:
        return root
    parent = state.traversals.get(owner.parent)
    base = _stage_root(state, parent) if parent is not None and parent is not owner else root
    return f"{base}/{owner.origin}.child"


def _input(state: RunState, t: Traversal, graph: Graph, node: Node, thread: Any) -> HandlerInput:
    assert state.started is not None
    return HandlerInput(
        node=node,
        graph=graph,
        context=t.context,
        attempt=t.attempt,
        index=t.index,
        stream=t.stream,
        config=state.started.config,
        stage_dir=stage_dir(state, t, node.id),
        results=t.results,
        branches=_branch_results(state, t),
        child=_child_view(state, t),
        thread=thread,
    )


def _branch_results(state: RunState, t: Traversal) -> tuple[BranchResult, ...] | None:
    if not t.children or state.traversals[t.children[0]].kind != "branch":
        return None
    out = []
    for name in t.children:
        b = state.traversals[name]
        if b.phase != "done":
            return None
        cancelled = b.result is not None and b.result.notes.startswith("cancelled")
        out.append(
            BranchResult(
                id=b.branch,
                index=b.branch_index,
                outcome=b.result or _fail("no result"),
                stopped_at=b.stopped_at,
                context_changes=_changes(b),
                cancelled=cancelled,
            )
        )
    return tuple(out)


def _changes(b: Traversal) -> dict[str, Any]:
    skip = ("current_node", "outcome", "preferred_label")
    return {
        k: v
        for k, v in sorted(b.context.items())
        if b.fork_context.get(k, _MISSING) != v and k not in skip and not k.startswith("internal.")
    }


_MISSING = object()


def _child_view(state: RunState, t: Traversal) -> ChildView | None:
    if not t.children or state.traversals[t.children[0]].kind != "child":
        return None
    c = state.traversals[t.children[0]]
    if c.phase == "done":
        ok = c.result is not None and c.result.status.succeeded
        return ChildView(
            status="completed" if ok else "failed",
            current_node=c.node,
            completed=c.completed,
            outcome=c.result,
        )
    return ChildView(
        status="running",
        current_node=c.node,
        completed=c.completed,
        stage_dir=stage_dir(state, c, c.node),
    )


def _attempt_done(
    state: RunState, t: Traversal, graph: Graph, node: Node, done: Done, thread_key: str
) -> list[Emit]:
    outcome = done.outcome
    policy = policy_for(node, graph)
    if outcome.status in (StageStatus.RETRY, StageStatus.FAIL) and t.attempt < policy.max_attempts:
        return [(t.stream, StageFailed(node=node.id, attempt=t.attempt, outcome=outcome))]
    if outcome.status == StageStatus.RETRY:
        outcome = (
            Outcome(status=StageStatus.PARTIAL_SUCCESS, notes="retries exhausted, partial accepted")
            if node.allow_partial
            else _fail(f"max retries exceeded: {outcome.failure_reason or 'stage asked to retry'}")
        )
    events: list[Emit] = _cancel_child(state, t)
    interview = _interview_done(t, node)
    if interview is not None:
        events.append((t.stream, interview))
    completed = StageCompleted(
        node=node.id,
        attempt=t.attempt,
        index=t.index,
        outcome=outcome,
        prompt=done.prompt,
        response=done.response,
        thread_key=thread_key,
    )
    return [*events, (t.stream, completed), (t.stream, CheckpointSaved(node=node.id))]


def _cancel_child(state: RunState, t: Traversal) -> list[Emit]:
    """A manager node that ends while its child still runs stops the child."""
    out: list[Emit] = []
    for name in t.children:
        child = state.traversals.get(name)
        if child is not None and child.kind == "child" and child.phase != "done":
            out.append((t.stream, ChildFinished(node=t.node, stream=name, outcome=CANCELLED)))
    return out


def _interview_done(t: Traversal, node: Node) -> InterviewCompleted | None:
    answered = next((r for r in t.results if isinstance(r, HumanAnswered)), None)
    if answered is None:
        return None
    a = answered.answer
    qid = question_id(t.stream, node.id, t.index, t.attempt)
    return InterviewCompleted(
        node=node.id, question_id=qid, answer=a.value or a.text, timed_out=a.timed_out
    )


def _route(state: RunState, t: Traversal, graph: Graph, node: Node, outcome: Outcome) -> list[Emit]:
    """Where to go after a node's final outcome (already folded: context and completed)."""
    if is_exit(node):
        return _finish(t, Outcome(status=StageStatus.SUCCESS, notes="Pipeline completed"), node.id)
    if handler_type(node) == "parallel" and t.children:
        return _route_join(state, t, graph, node, outcome)
    choice = next_step(node, graph, outcome, t.context)
    if choice is None:
        if outcome.status == StageStatus.FAIL or t.kind == "branch":
            return _finish(t, outcome, node.id)
        return _finish(t, Outcome(status=StageStatus.SUCCESS, notes="Pipeline completed"), node.id)
    if choice.edge is not None and choice.edge.loop_restart and t.kind == "top":
        restarted = Outcome(status=StageStatus.SUCCESS, notes=f"loop restart at {choice.target}")
        return [
            (t.stream, LoopRestarted(source=node.id, target=choice.target)),
            (t.stream, RunFinished(outcome=restarted, completed_nodes=t.completed)),
        ]
    return [(t.stream, _edge(node.id, choice))]


def _route_join(
    state: RunState, t: Traversal, graph: Graph, node: Node, outcome: Outcome
) -> list[Emit]:
    """After a join: a FAIL takes failure routing first; otherwise (or when failure routing finds
    nothing) the parent continues at the fan-in node the branches reached, if any."""
    if outcome.status == StageStatus.FAIL:
        choice = route_failure(node, graph, outcome, t.context)
        if choice is not None:
            return [(t.stream, _edge(node.id, choice))]
    join = _join_target(state, t)
    if join:
        return [(t.stream, EdgeSelected(source=node.id, target=join, label="", reason="join"))]
    return _finish(t, outcome, node.id)


def _edge(source: str, choice: Choice) -> EdgeSelected:
    return EdgeSelected(
        source=source, target=choice.target, label=choice.label, reason=choice.reason
    )


def _join_target(state: RunState, t: Traversal) -> str:
    stops = sorted({state.traversals[c].stopped_at for c in t.children} - {""})
    graph = state.graph_of(t)
    fan_ins = [
        s for s in stops if s in graph.nodes and handler_type(graph.nodes[s]) == "parallel.fan_in"
    ]
    return fan_ins[0] if fan_ins else ""


def _finish(t: Traversal, outcome: Outcome, at: str) -> list[Emit]:
    """End a traversal: the run, a child pipeline, or a branch (at its join point)."""
    if t.kind == "top":
        return [(t.stream, RunFinished(outcome=outcome, completed_nodes=t.completed))]
    if t.kind == "child":
        return [(t.parent, ChildFinished(node=t.origin, stream=t.stream, outcome=outcome))]
    changes = _changes(t)
    completed = BranchCompleted(
        node=t.origin,
        branch=t.branch,
        index=t.branch_index,
        outcome=outcome,
        stopped_at=at,
        context_changes=changes,
    )
    return [(t.stream, completed)]


def _retry(state: RunState, t: Traversal, graph: Graph) -> list[Emit]:
    if t.waiting_on:
        return []
    node = graph.nodes[t.node]
    policy = policy_for(node, graph)
    base = f"{t.node}/{t.index}/{t.attempt}"
    if policy.backoff.jitter and t.jitter == 0.0:
        return [
            (
                t.stream,
                request_effect(effect_id(t.stream, base, "jitter"), DrawRandom(low=0.5, high=1.5)),
            )
        ]
    delay = delay_ms(policy, t.attempt, t.jitter or 1.0)
    outcome = t.last_failure or _fail("retrying")
    return [
        (t.stream, StageRetrying(node=t.node, attempt=t.attempt, delay_ms=delay, outcome=outcome)),
        (t.stream, request_effect(effect_id(t.stream, base, "backoff"), SleepEffect(ms=delay))),
    ]


def _branches(state: RunState, t: Traversal) -> list[Emit]:
    branches = [state.traversals[c] for c in t.children]
    done = [b for b in branches if b.phase == "done"]
    graph = state.graph_of(t)
    node = graph.nodes[t.node]
    policy = node.get("join_policy") or "wait_all"
    k = int_attr(node.get("join_k"), 1)
    results = [
        BranchResult(
            id=b.branch,
            index=b.branch_index,
            outcome=b.result or _fail(""),
            stopped_at=b.stopped_at,
        )
        for b in done
    ]
    if join_satisfied(policy, k, results, len(branches)):
        cancelled = tuple(b.stream for b in branches if b.phase != "done")
        ok = sum(r.outcome.status.succeeded for r in results)
        return [
            (
                t.stream,
                ParallelCompleted(
                    node=t.node,
                    success_count=ok,
                    failure_count=len(results) - ok,
                    cancelled=cancelled,
                ),
            )
        ]
    running = sum(b.phase not in ("queued", "done") for b in branches)
    limit = int_attr(node.get("max_parallel"), 4)
    queued = [b for b in branches if b.phase == "queued"]
    return [
        (
            b.stream,
            BranchStarted(
                node=t.node, branch=b.branch, index=b.branch_index, stream=b.stream, target=b.node
            ),
        )
        for b in queued[: max(0, max(1, limit) - running)]
    ]


def _fail(reason: str) -> Outcome:
    return Outcome(status=StageStatus.FAIL, failure_reason=reason)
