"""The nine built-in handlers and custom handlers, driven through the whole engine in memory."""

from __future__ import annotations

from typing import Any

from attractor.effects import Answer, EffectError, RunShell, ShellRan, Sleep
from attractor.pipeline.events import (
    BranchCompleted,
    BranchStarted,
    ChildFinished,
    ChildStarted,
    InterviewCompleted,
    InterviewStarted,
    ParallelCompleted,
    StageCompleted,
)
from attractor.pipeline.handlers import HandlerInput, Need, Step, builtin_registry, done
from attractor.pipeline.model import CodergenCall, CodergenReply, StageStatus
from tests.pipeline.kit import Ran, World, reply, run_dot


def stage(ran: Ran, node: str, stream: str = "run") -> Any:
    """The last stage.completed of `node` on `stream`."""
    return [e for s, e in ran.where(StageCompleted) if e.node == node and s == stream][-1]


def chain(body: str, graph_attrs: str = "") -> str:
    """A pipeline `start -> <body> -> done` (body: node statements, then `FLOW`)."""
    return f"""digraph h {{
        graph [goal="ship" {graph_attrs}]
        start [shape=Mdiamond]; done [shape=Msquare]
        {body}
    }}"""


# --- start, exit, conditional


def test_start_exit_conditional_are_no_ops() -> None:
    """Start, conditional and exit succeed; the conditional routes on the context."""
    source = chain(
        """check [shape=diamond]; fast [prompt="f"]; slow [prompt="s"]
        start -> check
        check -> fast [condition="context.graph.goal=ship"]
        check -> slow
        fast -> done; slow -> done"""
    )
    ran = run_dot(source, backend="simulate")
    assert ran.completed == ("start", "check", "fast", "done")
    assert stage(ran, "check").outcome.notes == "Conditional node evaluated: check"
    assert stage(ran, "start").outcome.status == StageStatus.SUCCESS


# --- codergen


CODE = chain('work [prompt="Do $goal now"]\n start -> work -> done')


def test_codergen_simulation_mode() -> None:
    """Simulation: no effect, the spec's response text, last_stage/last_response set."""
    ran = run_dot(CODE, backend="simulate")
    work = stage(ran, "work")
    assert work.response == "[Simulated] Response for stage: work"
    assert work.prompt == "Do ship now"
    assert ran.context["last_stage"] == "work"
    assert ran.context["last_response"] == "[Simulated] Response for stage: work"
    assert not ran.fake.counts


def test_codergen_reply_text_is_a_success() -> None:
    """A reply with text only: SUCCESS, last_response truncated to 200 characters."""
    ran = run_dot(CODE, World(replies={"work": [CodergenReply(response="x" * 500)]}))
    assert stage(ran, "work").outcome.status == StageStatus.SUCCESS
    assert ran.context["last_response"] == "x" * 200
    assert stage(ran, "work").response == "x" * 500


def test_codergen_reply_with_outcome_is_used() -> None:
    """A reply carrying an outcome decides the stage (status, context updates, label)."""
    world = World(replies={"work": [reply("partial_success", context_updates={"k": 1})]})
    ran = run_dot(CODE, world)
    assert stage(ran, "work").outcome.status == StageStatus.PARTIAL_SUCCESS
    assert ran.context["k"] == 1


def test_codergen_status_json_written_by_the_backend_is_honoured() -> None:
    """A backend that writes status.json (and replies text only) sets the outcome."""
    world = World()

    def writes_status(call: CodergenCall) -> CodergenReply:
        world.files[f"{call.stage_dir}/status.json"] = (
            '{"outcome": "fail", "failure_reason": "tests red", "context_updates": {"t": "red"}}'
        )
        return CodergenReply(response="wrote status")

    world.replies = {"work": [writes_status]}
    ran = run_dot(CODE, world)
    work = stage(ran, "work")
    assert work.outcome.status == StageStatus.FAIL
    assert work.outcome.failure_reason == "tests red"
    assert world.writes[0].path == "/runs/r1/work/status.json"  # cleared before the call
    assert world.writes[0].content == ""


def test_codergen_auto_status_synthesises_success() -> None:
    """auto_status=true and no status.json: SUCCESS with the auto-status note."""
    source = chain('work [prompt="p", auto_status=true]\n start -> work -> done')
    ran = run_dot(source, World(replies={"work": [CodergenReply(response="r")]}))
    work = stage(ran, "work")
    assert work.outcome.status == StageStatus.SUCCESS
    assert work.outcome.notes == "auto-status: handler completed without writing status"


def test_codergen_malformed_status_json_fails_clearly() -> None:
    """A status.json with an unknown outcome is a FAIL naming the problem."""
    world = World()

    def bad_status(call: CodergenCall) -> CodergenReply:
        world.files[f"{call.stage_dir}/status.json"] = '{"outcome": "great"}'
        return CodergenReply(response="r")

    world.replies = {"work": [bad_status]}
    ran = run_dot(CODE, world)
    assert ran.outcome.status == StageStatus.FAIL
    assert "'great'" in ran.outcome.failure_reason


def test_codergen_backend_error_is_a_fail_outcome() -> None:
    """A failed backend effect becomes a FAIL outcome, not a crash."""
    world = World()
    world.codergen = lambda request: EffectError(kind="crashed", message="boom")  # type: ignore[method-assign]
    ran = run_dot(CODE, world)
    assert ran.outcome.status == StageStatus.FAIL
    assert "boom" in ran.outcome.failure_reason


# --- wait.human


HUMAN = chain(
    """gate [shape=hexagon, label="Deploy?" EXTRA]
    yes [prompt="y"]; no [prompt="n"]
    start -> gate
    gate -> yes [label="[Y] Yes, deploy"]
    gate -> no [label="N) No"]
    yes -> done; no -> done"""
)


def human(answer: Answer | str, extra: str = "") -> Ran:
    """Run the human gate with one answer."""
    return run_dot(HUMAN.replace("EXTRA", extra), World(answers=[answer]))


def test_human_choices_come_from_edges_with_accelerators() -> None:
    """Options are the edge labels with their accelerator keys; the id is stable."""
    ran = human("Y")
    (question,) = ran.world.questions
    assert [(o.key, o.label) for o in question.options] == [
        ("Y", "[Y] Yes, deploy"),
        ("N", "N) No"),
    ]
    assert question.id == "gate@2.1"
    assert question.text == "Deploy?"
    (started,) = ran.events(InterviewStarted)
    (answered,) = ran.events(InterviewCompleted)
    assert started.question_id == answered.question_id == "gate@2.1"


def test_human_accelerator_key_routes() -> None:
    """Answer "n" (the key, any case) takes the No edge and records the choice."""
    ran = human("n")
    assert ran.completed == ("start", "gate", "no", "done")
    assert ran.context["human.gate.selected"] == "N"
    assert ran.context["human.gate.label"] == "N) No"


def test_human_label_answer_routes() -> None:
    """Answering with the label text (without the accelerator) also works."""
    assert human("yes, deploy").completed == ("start", "gate", "yes", "done")


def test_human_default_choice_on_timeout() -> None:
    """A timed-out answer uses `human.default_choice`."""
    ran = human(Answer(value="", timed_out=True), ', human.default_choice="N"')
    assert ran.completed == ("start", "gate", "no", "done")
    (answered,) = ran.events(InterviewCompleted)
    assert answered.timed_out


def test_human_timeout_without_default_fails() -> None:
    """No default: RETRY, and with no retries left the stage FAILs."""
    ran = human(Answer(value="", timed_out=True))
    assert ran.outcome.status == StageStatus.FAIL
    assert "human gate timeout" in ran.outcome.failure_reason


def test_human_skipped_fails() -> None:
    """A skipped question is a FAIL."""
    ran = human(Answer(value="", skipped=True))
    assert ran.outcome.status == StageStatus.FAIL
    assert ran.outcome.failure_reason == "human skipped interaction"


def test_human_unknown_answer_fails_listing_options() -> None:
    """An answer matching no option is a FAIL that lists the options."""
    ran = human("maybe")
    assert ran.outcome.status == StageStatus.FAIL
    assert "[Y] Yes, deploy" in ran.outcome.failure_reason


# --- tool (in memory; real shell behaviour is in test_tools.py)


TOOL = chain('t [shape=parallelogram, tool_command="make test" EXTRA]\n start -> t -> done')


def test_tool_stdout_goes_to_tool_output() -> None:
    """Exit 0: SUCCESS with stdout in `tool.output`, the env names the stage directory."""
    world = World(shell=lambda r: ShellRan(exit_code=0, stdout="42\n", stderr="", duration_ms=3))
    ran = run_dot(TOOL.replace("EXTRA", ""), world)
    assert ran.context["tool.output"] == "42\n"
    (cmd,) = world.commands
    assert cmd.env["ATTRACTOR_STAGE_DIR"] == "/runs/r1/t"
    assert cmd.env["ATTRACTOR_NODE_ID"] == "t"
    assert cmd.cwd == "/work"


def test_tool_nonzero_exit_fails_with_stderr() -> None:
    """Exit ≠ 0: FAIL naming the code and the stderr tail."""
    world = World(shell=lambda r: ShellRan(exit_code=3, stdout="", stderr="E!", duration_ms=1))
    ran = run_dot(TOOL.replace("EXTRA", ""), world)
    assert ran.outcome.status == StageStatus.FAIL
    assert ran.outcome.failure_reason == "tool_command exited with code 3: E!"


def test_tool_timeout_attribute_reaches_the_effect() -> None:
    """`timeout="2s"` becomes the shell effect's timeout."""
    world = World()
    run_dot(TOOL.replace("EXTRA", ', timeout="2s"'), world)
    assert world.commands[0].timeout_ms == 2000


def test_tool_pre_hook_refusal_skips() -> None:
    """A failing `tool_hooks.pre` skips the command: SKIPPED, the command never runs."""
    world = World(shell=lambda r: ShellRan(exit_code=1, stdout="", stderr="", duration_ms=1))
    ran = run_dot(TOOL.replace("EXTRA", ', tool_hooks.pre="check"'), world)
    assert [c.command for c in world.commands] == ["check"]
    assert stage(ran, "t").outcome.status == StageStatus.SKIPPED
    assert ran.outcome.status == StageStatus.SUCCESS


def test_tool_post_hook_failure_is_noted() -> None:
    """A failing `tool_hooks.post` (graph level) is noted; the stage still succeeds."""

    def shell(r: RunShell) -> ShellRan:
        return ShellRan(
            exit_code=9 if r.command == "post" else 0, stdout="", stderr="", duration_ms=1
        )

    world = World(shell=shell)
    source = chain(
        't [shape=parallelogram, tool_command="make"]\n start -> t -> done',
        ', tool_hooks.post="post"',
    )
    ran = run_dot(source, world)
    assert [c.command for c in world.commands] == ["make", "post"]
    t = stage(ran, "t")
    assert t.outcome.status == StageStatus.SUCCESS
    assert "tool_hooks.post failed: exit code 9" in t.outcome.notes


def test_tool_without_command_fails() -> None:
    """A tool node with no tool_command FAILs."""
    ran = run_dot(chain("t [shape=parallelogram]\n start -> t -> done"), backend="simulate")
    assert ran.outcome.status == StageStatus.FAIL
    assert "no tool_command" in ran.outcome.failure_reason


# --- parallel and fan-in


def parallel(attrs: str, branches: str, edges: str) -> str:
    """start -> fan(attrs) -> branches -> join -> done."""
    return chain(
        f"""fan [shape=component {attrs}]
        join [shape=tripleoctagon]
        {branches}
        start -> fan
        {edges}
        join -> done"""
    )


THREE = parallel(
    "EXTRA",
    'a [prompt="a"]; b [prompt="b"]; c [prompt="c"]',
    "fan -> a; fan -> b; fan -> c; a -> join; b -> join; c -> join",
)


def test_parallel_wait_all_with_a_failure_is_partial() -> None:
    """wait_all: one failed branch makes the parallel stage PARTIAL_SUCCESS; fan-in still runs."""
    world = World(replies={"b": [reply("fail", failure_reason="b broke")], "*": [reply("success")]})
    ran = run_dot(THREE.replace("EXTRA", ""), world)
    fan = stage(ran, "fan")
    assert fan.outcome.status == StageStatus.PARTIAL_SUCCESS
    assert fan.outcome.context_updates["parallel.failure_count"] == 1
    assert ran.completed == ("start", "fan", "join", "done")
    results = ran.context["parallel.results"]
    assert [(r["id"], r["status"]) for r in results] == [
        ("a", "success"),
        ("b", "fail"),
        ("c", "success"),
    ]


def test_parallel_branches_run_on_their_own_streams() -> None:
    """Each branch has its own stream, named after the parallel node and its index."""
    ran = run_dot(THREE.replace("EXTRA", ""), backend="simulate")
    streams = [e.stream for e in ran.events(BranchStarted)]
    assert streams == ["run/fan@2:0", "run/fan@2:1", "run/fan@2:2"]
    for stream, event in ran.where(BranchCompleted):
        assert False or stream.startswith("run/fan@2:")
        assert event.stopped_at == "join"


def test_parallel_context_changes_merge_and_conflicts_are_listed() -> None:
    """Branch changes appear in parallel.results; agreeing keys merge; disagreeing are listed."""
    world = World(
        replies={
            "a": [reply("success", context_updates={"only_a": 1, "same": "x", "clash": "A"})],
            "b": [reply("success", context_updates={"same": "x", "clash": "B"})],
            "c": [reply("success")],
        }
    )
    ran = run_dot(THREE.replace("EXTRA", ""), world)
    fan = stage(ran, "fan").outcome.context_updates
    assert fan["only_a"] == 1
    assert fan["same"] == "x"
    assert "clash" not in fan
    assert fan["parallel.conflicts"] == ["clash"]
    by_id = {r["id"]: r["context_changes"] for r in fan["parallel.results"]}
    assert by_id["a"]["clash"] == "A"
    assert by_id["b"]["clash"] == "B"
    # the fan-in winner's changes settle the conflict
    assert ran.context["parallel.fan_in.best_id"] == "a"
    assert ran.context["clash"] == "A"


FIRST = parallel(
    ', join_policy="first_success"',
    'a [shape=parallelogram, tool_command="quick"]\n'
    'b1 [shape=parallelogram, tool_command="slow1"]\n'
    'b2 [shape=parallelogram, tool_command="slow2"]\n'
    'b3 [shape=parallelogram, tool_command="slow3"]',
    "fan -> a; fan -> b1; a -> join; b1 -> b2 -> b3 -> join",
)


def test_parallel_first_success_cancels_the_rest() -> None:
    """first_success: once one branch succeeds the others are cancelled and stop running."""
    world = World()
    ran = run_dot(FIRST, world)
    (joined,) = ran.events(ParallelCompleted)
    assert joined.cancelled == ("run/fan@2:1",)
    assert "slow3" not in [c.command for c in world.commands]
    results = {r["id"]: r for r in ran.context["parallel.results"]}
    assert results["b1"]["cancelled"] is True
    assert stage(ran, "fan").outcome.status == StageStatus.SUCCESS
    assert ran.outcome.status == StageStatus.SUCCESS


def test_parallel_k_of_n() -> None:
    """k_of_n with join_k=2: two successes satisfy the join even with a failure."""
    world = World(replies={"a": [reply("fail")], "*": [reply("success")]})
    ran = run_dot(THREE.replace("EXTRA", ', join_policy="k_of_n", join_k=2'), world)
    assert stage(ran, "fan").outcome.status == StageStatus.SUCCESS


def test_parallel_quorum_not_reached_fails() -> None:
    """quorum: two failures of three leave no majority: FAIL."""
    world = World(replies={"a": [reply("fail")], "b": [reply("fail")], "*": [reply("success")]})
    ran = run_dot(THREE.replace("EXTRA", ', join_policy="quorum"'), world)
    assert stage(ran, "fan").outcome.status == StageStatus.FAIL


def test_parallel_max_parallel_bounds_running_branches() -> None:
    """max_parallel=1: a branch starts only after the previous one completed."""
    ran = run_dot(THREE.replace("EXTRA", ", max_parallel=1"), World())
    order = [
        (type(e.event).__name__, e.stream)
        for e in ran.entries
        if isinstance(e.event, BranchStarted | BranchCompleted)
    ]
    running = 0
    for kind, _ in order:
        running += 1 if kind == "BranchStarted" else -1
        assert running <= 1
    assert len(order) == 6


def test_parallel_unknown_join_policy_fails() -> None:
    """An unknown join_policy is a FAIL naming the allowed ones."""
    ran = run_dot(THREE.replace("EXTRA", ', join_policy="most"'), backend="simulate")
    assert ran.outcome.status == StageStatus.FAIL
    assert "wait_all" in ran.outcome.failure_reason


def test_two_parallel_nodes_in_sequence_each_fork() -> None:
    """A second parallel node forks its own branches (it does not reuse the first one's)."""
    source = chain(
        """p1 [shape=component]; p2 [shape=component]
        f1 [shape=tripleoctagon]; f2 [shape=tripleoctagon]
        a [prompt="a"]; b [prompt="b"]; c [prompt="c"]; d [prompt="d"]
        start -> p1; p1 -> a; p1 -> b; a -> f1; b -> f1
        f1 -> p2; p2 -> c; p2 -> d; c -> f2; d -> f2; f2 -> done"""
    )
    ran = run_dot(source, backend="simulate")
    assert ran.completed == ("start", "p1", "f1", "p2", "f2", "done")
    assert [e.node for e in ran.events(ParallelCompleted)] == ["p1", "p2"]
    assert ran.context["parallel.fan_in.best_id"] == "c"


def test_nested_parallel_runs_the_inner_fan_in() -> None:
    """A branch containing a parallel node runs through its inner fan-in to the outer one."""
    source = chain(
        """P1 [shape=component]; J1 [shape=tripleoctagon]
        P2 [shape=component]; J2 [shape=tripleoctagon]
        x [prompt="x"]; y [prompt="y"]; z [prompt="z"]; w [prompt="w"]
        start -> P1; P1 -> x; P1 -> P2; x -> J1
        P2 -> y; P2 -> z; y -> J2; z -> J2; J2 -> w; w -> J1
        J1 -> done"""
    )
    ran = run_dot(source, backend="simulate", max_steps=500)
    ran_nodes = {e.node for e in ran.events(StageCompleted)}
    assert {"J2", "w"} <= ran_nodes
    assert ran.completed == ("start", "P1", "J1", "done")


def test_fan_in_heuristic_prefers_status_then_score() -> None:
    """Heuristic: best status first, then the highest `score` a branch set."""
    world = World(
        replies={
            "a": [reply("partial_success", context_updates={"score": 99})],
            "b": [reply("success", context_updates={"score": 1})],
            "c": [reply("success", context_updates={"score": 5})],
        }
    )
    ran = run_dot(THREE.replace("EXTRA", ""), world)
    assert ran.context["parallel.fan_in.best_id"] == "c"
    assert ran.context["parallel.fan_in.best_outcome"] == "success"


def test_fan_in_ranked_by_the_backend() -> None:
    """A fan-in with a prompt asks the backend (purpose fan_in) and takes the id it names."""
    source = (
        parallel(
            "",
            'alpha [prompt="a"]; beta [prompt="b"]; gamma [prompt="c"]',
            "fan -> alpha; fan -> beta; fan -> gamma; alpha -> join; beta -> join; gamma -> join",
        )
    ).replace("join [shape=tripleoctagon]", 'join [shape=tripleoctagon, prompt="Pick the best"]')
    world = World(
        replies={"join": [CodergenReply(response="Best: beta.")], "*": [reply("success")]}
    )
    ran = run_dot(source, world)
    (call,) = [c for c in world.calls if c.node_id == "join"]
    assert call.purpose == "fan_in"
    assert "id: alpha" in call.prompt
    assert "Pick the best" in call.prompt
    assert ran.context["parallel.fan_in.best_id"] == "beta"


def test_fan_in_ranking_matches_whole_ids() -> None:
    """The backend's answer "I pick b." selects b, not c (the c of "pick")."""
    source = THREE.replace("EXTRA", "").replace(
        "join [shape=tripleoctagon]", 'join [shape=tripleoctagon, prompt="Pick the best"]'
    )
    world = World(replies={"join": [CodergenReply(response="I pick b.")], "*": [reply("success")]})
    ran = run_dot(source, world)
    assert ran.context["parallel.fan_in.best_id"] == "b"


def test_fan_in_all_failed_fails() -> None:
    """Every candidate failed (branches routed to the fan-in by fail edges): the fan-in FAILs."""
    source = parallel(
        "",
        'a [prompt="a"]; b [prompt="b"]',
        'fan -> a; fan -> b; a -> join [condition="outcome=fail"]\n'
        'b -> join [condition="outcome=fail"]',
    )
    ran = run_dot(source, World(replies={"*": [reply("fail")]}))
    join = stage(ran, "join")
    assert join.outcome.status == StageStatus.FAIL
    assert join.outcome.failure_reason == "every parallel candidate failed"


def test_parallel_failure_follows_its_retry_target() -> None:
    """A parallel node whose join FAILs is routed like any failed stage (here: retry_target)."""
    source = parallel(
        ", retry_target=recover",
        'a [prompt="a"]; b [prompt="b"]; recover [prompt="r"]',
        "fan -> a; fan -> b; a -> join; b -> join; recover -> done",
    )
    ran = run_dot(source, World(replies={"a": [reply("fail")], "b": [reply("fail")]}))
    assert stage(ran, "fan").outcome.status == StageStatus.FAIL
    assert "recover" in ran.completed


# --- manager loop


CHILD = """digraph child {
    start [shape=Mdiamond]; done [shape=Msquare]
    step1 [prompt="c1"]; step2 [prompt="c2"]
    start -> step1 -> step2 -> done
}
"""


def manager(attrs: str = "", graph_attrs: str = ', stack.child_dotfile="child.dot"') -> str:
    """start -> mgr -> done with a manager loop node."""
    return chain(f"mgr [shape=house {attrs}]\n start -> mgr -> done", graph_attrs)


def test_manager_runs_the_child_on_its_own_stream() -> None:
    """The child DOT is read (relative to the parent), runs on `run/mgr@2:child`, and its
    success is the manager's."""
    world = World(files={"/pipelines/child.dot": CHILD}, replies={"*": [reply("success")]})
    ran = run_dot(manager(', manager.poll_interval="10ms"'), world)
    (started,) = ran.events(ChildStarted)
    assert started.stream == "run/mgr@2:child"
    assert started.dot_path == "/pipelines/child.dot"
    child_nodes = [e.node for s, e in ran.where(StageCompleted) if s == "run/mgr@2:child"]
    assert child_nodes == ["start", "step1", "step2", "done"]
    assert [c.stage_dir for c in world.calls] == [
        "/runs/r1/mgr.child/step1",
        "/runs/r1/mgr.child/step2",
    ]
    assert stage(ran, "mgr").outcome.status == StageStatus.SUCCESS
    assert ran.context["stack.child.status"] == "completed"
    assert ran.outcome.status == StageStatus.SUCCESS


def test_manager_child_failure_fails_the_manager() -> None:
    """A failed child makes the manager FAIL."""
    world = World(files={"/pipelines/child.dot": CHILD}, replies={"step2": [reply("fail")]})
    ran = run_dot(manager(', manager.poll_interval="10ms"'), world)
    assert stage(ran, "mgr").outcome.status == StageStatus.FAIL
    assert "Child failed" in stage(ran, "mgr").outcome.failure_reason


class _Forever:
    """A custom handler that never finishes: it keeps sleeping."""

    def step(self, inp: HandlerInput) -> Step:
        return Need(Sleep(ms=1))


HANGING_CHILD = """digraph child {
    start [shape=Mdiamond]; done [shape=Msquare]
    hang [type="forever"]
    start -> hang -> done
}
"""


def forever_registry() -> Any:
    """The built-ins plus `forever`."""
    registry = builtin_registry()
    registry.register("forever", _Forever())
    return registry


def test_manager_max_cycles() -> None:
    """A child that never ends: after `manager.max_cycles` polls the manager FAILs and the
    child is stopped."""
    world = World(files={"/pipelines/child.dot": HANGING_CHILD})
    ran = run_dot(
        manager(', manager.max_cycles=3, manager.poll_interval="1ms"'),
        world,
        registry=forever_registry(),
    )
    mgr = stage(ran, "mgr")
    assert mgr.outcome.status == StageStatus.FAIL
    assert mgr.outcome.failure_reason == "Max cycles exceeded (3)"
    (finished,) = ran.events(ChildFinished)
    assert finished.outcome.status == StageStatus.SKIPPED
    assert ran.stopped == "done"


def test_manager_stop_condition() -> None:
    """`manager.stop_condition` over the child telemetry ends the loop with SUCCESS."""
    world = World(files={"/pipelines/child.dot": HANGING_CHILD})
    ran = run_dot(
        manager(
            ', manager.stop_condition="stack.child.current_node=hang", manager.poll_interval="1ms"'
        ),
        world,
        registry=forever_registry(),
    )
    mgr = stage(ran, "mgr")
    assert mgr.outcome.status == StageStatus.SUCCESS
    assert mgr.outcome.notes == "Stop condition satisfied"
    assert ran.outcome.status == StageStatus.SUCCESS


def test_manager_without_child_dotfile_fails() -> None:
    """No `stack.child_dotfile`: FAIL."""
    ran = run_dot(manager(graph_attrs=""), backend="simulate")
    assert ran.outcome.status == StageStatus.FAIL
    assert "stack.child_dotfile" in ran.outcome.failure_reason


def test_manager_missing_child_file_fails() -> None:
    """A child dotfile that does not exist: FAIL naming the path."""
    ran = run_dot(manager(), World())
    assert ran.outcome.status == StageStatus.FAIL
    assert "/pipelines/child.dot" in ran.outcome.failure_reason


def test_manager_child_with_bad_dot_fails() -> None:
    """A child dotfile that is not valid DOT: the manager FAILs (no crash, no endless loop)."""
    world = World(files={"/pipelines/child.dot": "digraph {"})
    ran = run_dot(manager(', manager.poll_interval="1ms"'), world, max_steps=200)
    assert ran.stopped == "done"
    assert ran.outcome.status == StageStatus.FAIL


def test_manager_child_with_bad_condition_fails() -> None:
    """A child pipeline with an unparsable condition FAILs the manager; the run does not crash."""
    bad = CHILD.replace(
        "start -> step1 -> step2 -> done",
        'start -> step1 -> step2; step2 -> done [condition="outcome=="]',
    )
    world = World(files={"/pipelines/child.dot": bad})
    ran = run_dot(manager(', manager.poll_interval="1ms"'), world, max_steps=200)
    assert ran.stopped == "done"
    assert stage(ran, "mgr").outcome.status == StageStatus.FAIL


# --- custom handlers and robustness


class _Raises:
    def step(self, inp: HandlerInput) -> Step:
        raise RuntimeError("handler bug")


def test_custom_handler_that_raises_is_a_fail() -> None:
    """A handler exception becomes a FAIL outcome (spec §4.12)."""
    registry = builtin_registry()
    registry.register("bad", _Raises())
    ran = run_dot(
        chain('x [type="bad"]\n start -> x -> done'), registry=registry, backend="simulate"
    )
    assert ran.outcome.status == StageStatus.FAIL
    assert "RuntimeError: handler bug" in ran.outcome.failure_reason


def test_unknown_handler_type_fails() -> None:
    """A node whose explicit type nobody registered FAILs clearly."""
    ran = run_dot(chain('x [type="nope"]\n start -> x -> done'), backend="simulate")
    assert ran.outcome.status == StageStatus.FAIL
    assert "'nope'" in ran.outcome.failure_reason


def test_registering_a_type_again_replaces_the_handler() -> None:
    """register() on a built-in type replaces it."""

    class Always:
        def step(self, inp: HandlerInput) -> Step:
            return done("success", context_updates={"mine": True})

    registry = builtin_registry()
    registry.register("codergen", Always())
    ran = run_dot(CODE, registry=registry, backend="simulate")
    assert ran.context["mine"] is True
