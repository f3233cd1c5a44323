"""The spec §11.12 cross-feature parity matrix (one test per row) and the §11.13 smoke test."""

from __future__ import annotations

from attractor.dot import Severity, apply_transforms, parse_dot, validate
from attractor.effects import Answer, Call, Called
from attractor.events import MemoryStore
from attractor.pipeline.events import (
    CheckpointSaved,
    EdgeSelected,
    GoalGateUnsatisfied,
    ParallelCompleted,
    RunFinished,
    StageCompleted,
)
from attractor.pipeline.handlers import HandlerInput, Need, Step, builtin_registry, done
from attractor.pipeline.model import StageStatus
from tests.pipeline.kit import World, clock, reply, run_dot

SMOKE = """digraph test_pipeline {
    graph [goal="Create a hello world Python script"]

    start       [shape=Mdiamond]
    plan        [shape=box, prompt="Plan how to create a hello world script for: $goal"]
    implement   [shape=box, prompt="Write the code based on the plan", goal_gate=true]
    review      [shape=box, prompt="Review the code for correctness"]
    done        [shape=Msquare]

    start -> plan
    plan -> implement
    implement -> review [condition="outcome=success"]
    implement -> plan   [condition="outcome=fail", label="Retry"]
    review -> done      [condition="outcome=success"]
    review -> implement [condition="outcome=fail", label="Fix"]
}
"""

LINEAR = """digraph linear {
    start [shape=Mdiamond]; done [shape=Msquare]
    A [prompt="do A"]; B [prompt="do B"]
    start -> A -> B -> done
}
"""


def _errors(source: str) -> list[str]:
    return [d.rule for d in validate(parse_dot(source)) if d.severity == Severity.ERROR]


def test_parse_a_simple_linear_pipeline() -> None:
    """start -> A -> B -> done parses into four nodes and three edges."""
    graph = parse_dot(LINEAR)
    assert list(graph.nodes) == ["start", "done", "A", "B"]
    assert [(e.source, e.target) for e in graph.edges] == [
        ("start", "A"),
        ("A", "B"),
        ("B", "done"),
    ]


def test_parse_a_pipeline_with_graph_level_attributes() -> None:
    """Graph `goal` and `label` are read."""
    graph = parse_dot('digraph g { graph [goal="ship it", label="Release"]; start -> exit }')
    assert (graph.goal, graph.label) == ("ship it", "Release")


def test_parse_multi_line_node_attributes() -> None:
    """Node attributes spread over several lines are all read."""
    graph = parse_dot(
        'digraph g {\n  a [\n    shape=box,\n    prompt="line one",\n    max_retries=2\n  ]\n}'
    )
    node = graph.nodes["a"]
    assert (node.shape, node.prompt, node.max_retries) == ("box", "line one", 2)


def test_validate_missing_start_node_is_an_error() -> None:
    """A graph without a start node fails validation."""
    assert "start_node" in _errors("digraph g { a -> done; done [shape=Msquare] }")


def test_validate_missing_exit_node_is_an_error() -> None:
    """A graph without an exit node fails validation."""
    assert "terminal_node" in _errors("digraph g { start [shape=Mdiamond]; start -> a }")


def test_validate_orphan_node_is_reported() -> None:
    """An unreachable node is reported by the `reachability` rule.

    The matrix row says "warning"; the rule table of spec §7.2 says ERROR, which the validator
    follows (the stricter reading: an orphan is never run).
    """
    source = "digraph g { start [shape=Mdiamond]; done [shape=Msquare]; start -> done; lost }"
    found = [d for d in validate(parse_dot(source)) if d.node_id == "lost"]
    assert "reachability" in [d.rule for d in found]


def test_execute_a_linear_3_node_pipeline_end_to_end() -> None:
    """The linear pipeline completes every node in order."""
    ran = run_dot(LINEAR, backend="simulate")
    assert ran.stopped == "done"
    assert ran.outcome.status == StageStatus.SUCCESS
    assert ran.completed == ("start", "A", "B", "done")


BRANCHING = """digraph b {
    start [shape=Mdiamond]; done [shape=Msquare]
    work [prompt="w"]; good [prompt="g"]; bad [prompt="b"]
    start -> work
    work -> good [condition="outcome=success"]
    work -> bad  [condition="outcome=fail"]
    good -> done; bad -> done
}
"""


def test_execute_with_conditional_branching_success_and_fail_paths() -> None:
    """A success goes down the success edge, a fail down the fail edge."""
    up = run_dot(BRANCHING, World(replies={"work": [reply("success")]}))
    down = run_dot(BRANCHING, World(replies={"work": [reply("fail", failure_reason="no")]}))
    assert up.completed == ("start", "work", "good", "done")
    assert down.completed == ("start", "work", "bad", "done")


def test_execute_with_retry_on_failure_max_retries_2() -> None:
    """max_retries=2: two failures then a success run the node three times."""
    source = """digraph r {
        start [shape=Mdiamond]; done [shape=Msquare]
        flaky [prompt="x", max_retries=2]
        start -> flaky -> done
    }"""
    world = World(replies={"flaky": [reply("fail"), reply("retry"), reply("success")]})
    ran = run_dot(source, world)
    assert [c.attempt for c in world.calls] == [1, 2, 3]
    assert ran.outcome.status == StageStatus.SUCCESS
    assert ran.completed == ("start", "flaky", "done")


GATED = """digraph g {
    start [shape=Mdiamond]; done [shape=Msquare]
    impl [prompt="i", goal_gate=true, retry_target=impl]
    check [prompt="c"]
    start -> impl -> check -> done
}
"""


def test_goal_gate_blocks_exit_when_unsatisfied() -> None:
    """A goal gate that failed (routed on by a fail edge) keeps the run from exiting."""
    source = """digraph g {
        start [shape=Mdiamond]; done [shape=Msquare]
        impl [prompt="i", goal_gate=true]
        start -> impl
        impl -> done [condition="outcome=fail"]
        impl -> done [condition="outcome=success"]
    }"""
    ran = run_dot(source, World(replies={"impl": [reply("fail", failure_reason="broken")]}))
    assert ran.outcome.status == StageStatus.FAIL
    assert "impl" in ran.outcome.failure_reason
    assert "done" not in ran.completed


def test_goal_gate_allows_exit_when_all_satisfied() -> None:
    """With every goal gate successful the run exits successfully."""
    ran = run_dot(GATED, World(replies={"*": [reply("success")]}))
    assert ran.outcome.status == StageStatus.SUCCESS
    assert not ran.events(GoalGateUnsatisfied)


HUMAN = """digraph h {
    start [shape=Mdiamond]; done [shape=Msquare]
    gate [shape=hexagon, label="Ship it?"]
    ship [prompt="s"]; fix [prompt="f"]
    start -> gate
    gate -> ship [label="[Y] Yes, ship"]
    gate -> fix  [label="[N] No, fix"]
    ship -> done; fix -> done
}
"""


def test_wait_human_presents_choices_and_routes_on_selection() -> None:
    """The edges become the options; the answer picks the route."""
    world = World(answers=["N"])
    ran = run_dot(HUMAN, world)
    (question,) = world.questions
    assert [(o.key, o.label) for o in question.options] == [
        ("Y", "[Y] Yes, ship"),
        ("N", "[N] No, fix"),
    ]
    assert ran.completed == ("start", "gate", "fix", "done")


def test_edge_selection_condition_match_wins_over_weight() -> None:
    """A matching condition beats a heavier unconditional edge."""
    source = """digraph e {
        start [shape=Mdiamond]; done [shape=Msquare]
        a [prompt="a"]; heavy [prompt="h"]; cond [prompt="c"]
        start -> a
        a -> heavy [weight=100]
        a -> cond [condition="outcome=success"]
        heavy -> done; cond -> done
    }"""
    ran = run_dot(source, backend="simulate")
    assert "cond" in ran.completed
    assert "heavy" not in ran.completed


def test_edge_selection_weight_breaks_ties_for_unconditional_edges() -> None:
    """Among unconditional edges the highest weight wins."""
    source = """digraph e {
        start [shape=Mdiamond]; done [shape=Msquare]
        a [prompt="a"]; aa [prompt="x"]; zz [prompt="y"]
        start -> a; a -> aa [weight=1]; a -> zz [weight=5]; aa -> done; zz -> done
    }"""
    ran = run_dot(source, backend="simulate")
    assert ran.completed == ("start", "a", "zz", "done")


def test_edge_selection_lexical_tiebreak_as_final_fallback() -> None:
    """Equal weights: the lexically first target wins."""
    source = """digraph e {
        start [shape=Mdiamond]; done [shape=Msquare]
        a [prompt="a"]; mango [prompt="x"]; apple [prompt="y"]
        start -> a; a -> mango; a -> apple; mango -> done; apple -> done
    }"""
    ran = run_dot(source, backend="simulate")
    assert ran.completed == ("start", "a", "apple", "done")
    selected = [e for e in ran.events(EdgeSelected) if e.source == "a"]
    assert selected[0].reason == "lexical"


def test_context_updates_from_one_node_are_visible_to_the_next() -> None:
    """A key set by one stage is in the context the next stage is called with."""
    source = """digraph c {
        start [shape=Mdiamond]; done [shape=Msquare]
        a [prompt="a"]; b [prompt="b"]
        start -> a -> b -> done
    }"""
    world = World(replies={"a": [reply("success", context_updates={"context.plan": "v1"})]})
    run_dot(source, world)
    b_call = next(c for c in world.calls if c.node_id == "b")
    assert b_call.context["context.plan"] == "v1"


def test_checkpoint_save_and_resume_produces_same_result() -> None:
    """A run stopped part-way and resumed ends exactly like an uninterrupted one."""
    replies = {"*": [reply("success", context_updates={"k": "v"})]}
    whole = run_dot(SMOKE, World(replies=replies))
    store = MemoryStore(clock())
    part = run_dot(SMOKE, World(replies=replies), store=store, max_steps=15)
    assert part.stopped == "step-limit"
    resumed = run_dot(SMOKE, World(replies=replies), store=store)
    assert resumed.stopped == "done"
    assert resumed.finished == whole.finished
    assert resumed.context == whole.context
    assert store.lines == whole.store.lines


def test_stylesheet_applies_model_override_to_nodes_by_shape() -> None:
    """`box { llm_model: … }` reaches the codergen call's node attributes."""
    source = """digraph s {
        graph [model_stylesheet="box { llm_model: model-by-shape; }"]
        start [shape=Mdiamond]; done [shape=Msquare]
        a [shape=box, prompt="a"]
        start -> a -> done
    }"""
    graph = apply_transforms(parse_dot(source))
    assert graph.nodes["a"].attrs["llm_model"] == "model-by-shape"
    world = World()
    run_dot(source, world)
    assert world.calls[0].node_attrs["llm_model"] == "model-by-shape"


def test_prompt_variable_expansion_goal_works() -> None:
    """`$goal` in a prompt becomes the graph goal."""
    world = World(replies={"*": [reply("success")]})
    run_dot(SMOKE, world)
    assert world.calls[0].prompt == (
        "Plan how to create a hello world script for: Create a hello world Python script"
    )


PARALLEL = """digraph p {
    start [shape=Mdiamond]; done [shape=Msquare]
    fan [shape=component]
    a [prompt="a"]; b [prompt="b"]
    join [shape=tripleoctagon]
    start -> fan; fan -> a; fan -> b; a -> join; b -> join; join -> done
}
"""


def test_parallel_fan_out_and_fan_in_complete_correctly() -> None:
    """Both branches run on their own streams; the fan-in picks a winner; the run succeeds."""
    ran = run_dot(PARALLEL, backend="simulate")
    assert ran.outcome.status == StageStatus.SUCCESS
    assert ran.completed == ("start", "fan", "join", "done")
    branch_nodes = {(s, e.node) for s, e in ran.where(StageCompleted) if s != "run"}
    assert branch_nodes == {("run/fan@2:0", "a"), ("run/fan@2:1", "b")}
    (joined,) = ran.events(ParallelCompleted)
    assert (joined.success_count, joined.failure_count) == (2, 0)
    assert ran.context["parallel.fan_in.best_id"] == "a"


class _Stamp:
    """A custom handler: one `Call` effect to an imperative function, then done."""

    def step(self, inp: HandlerInput) -> Step:
        if not inp.results:
            return Need(Call(name="stamp", args={"node": inp.node.id}))
        result = inp.results[0]
        value = result.value if isinstance(result, Called) else None
        return done("success", context_updates={"stamp": value})


def test_custom_handler_registration_and_execution_works() -> None:
    """A handler registered by type string runs, and its Call effect's result is used."""
    source = """digraph c {
        start [shape=Mdiamond]; done [shape=Msquare]
        s [type="stamp"]
        start -> s -> done
    }"""
    registry = builtin_registry()
    registry.register("stamp", _Stamp())
    world = World(functions={"stamp": lambda args: f"stamped {args['node']}"})
    ran = run_dot(source, world, registry=registry, backend="simulate")
    assert ran.context["stamp"] == "stamped s"
    assert ran.outcome.status == StageStatus.SUCCESS
    assert ran.fake.counts["run#s/2/1/0"] == 1


def test_pipeline_with_10_plus_nodes_completes_without_errors() -> None:
    """A 12-stage pipeline mixing handler types completes."""
    stages = " -> ".join(f"s{i}" for i in range(12))
    source = f"""digraph big {{
        start [shape=Mdiamond]; done [shape=Msquare]
        s5 [shape=diamond]; s8 [shape=parallelogram, tool_command="echo hi"]
        start -> {stages} -> done
    }}"""
    ran = run_dot(source, backend="simulate")
    assert ran.outcome.status == StageStatus.SUCCESS
    assert len(ran.completed) == 14
    assert ran.context["tool.output"] == "ran echo hi"


# --- §11.13 smoke test


def test_smoke_parse_and_validate() -> None:
    """The smoke pipeline parses to 5 nodes, 6 edges, and has no validation errors."""
    graph = parse_dot(SMOKE)
    assert graph.goal == "Create a hello world Python script"
    assert (len(graph.nodes), len(graph.edges)) == (5, 6)
    assert not [d for d in validate(graph) if d.severity == Severity.ERROR]


def test_smoke_run_with_scripted_backend() -> None:
    """plan/implement/review succeed: success, gate satisfied, checkpoint at `done`."""
    world = World(replies={"*": [reply("success", response="done it")]})
    ran = run_dot(SMOKE, world)
    assert ran.outcome.status == StageStatus.SUCCESS
    assert ran.completed == ("start", "plan", "implement", "review", "done")
    assert [c.node_id for c in world.calls] == ["plan", "implement", "review"]
    assert ran.state.top() is not None
    assert ran.state.top().outcomes["implement"].status == StageStatus.SUCCESS  # type: ignore[union-attr]
    assert not ran.events(GoalGateUnsatisfied)
    checkpoints = [e.node for e in ran.events(CheckpointSaved)]
    assert checkpoints[-1] == "done"
    assert {"plan", "implement", "review"} <= set(checkpoints)
    stages = {e.node: e for e in ran.events(StageCompleted)}
    for node in ("plan", "implement", "review"):
        assert stages[node].prompt
        assert stages[node].response == "done it"
    assert isinstance(ran.entries[-1].event, RunFinished)


def test_smoke_fix_loop_through_review_failure() -> None:
    """A review failure goes back to implement (Fix) and then succeeds."""
    world = World(
        replies={
            "review": [reply("fail", failure_reason="bug"), reply("success")],
            "*": [reply("success")],
        }
    )
    ran = run_dot(SMOKE, world)
    assert ran.outcome.status == StageStatus.SUCCESS
    assert ran.completed == (
        "start",
        "plan",
        "implement",
        "review",
        "implement",
        "review",
        "done",
    )


def test_human_answer_object_with_timeout_uses_default() -> None:
    """(Parity helper) a timed-out answer falls back to `human.default_choice`."""
    source = HUMAN.replace('label="Ship it?"', 'label="Ship it?", human.default_choice="Y"')
    ran = run_dot(source, World(answers=[Answer(value="", timed_out=True)]))
    assert ran.completed == ("start", "gate", "ship", "done")
