"""The dashboard's view of a run (pure): node statuses, attempts, questions, usage — one fold per
entry, and a view of a prefix is the view of that moment."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from attractor.effects import Answer, AskHuman, EffectRequested
from attractor.pipeline.model import CodergenReply
from attractor.pipeline.reducer import reduce
from attractor.pipeline.state import RunState
from attractor.server._feed import RunFold
from attractor.server._view import RunView
from tests.pipeline.kit import Ran, World, reply, run_dot

GATE = """digraph g {
    start [shape=Mdiamond]
    work  [prompt="work", max_retries=1]
    gate  [shape=hexagon, label="Ok?"]
    tool  [shape=parallelogram, tool_command="echo hi"]
    done  [shape=Msquare]
    start -> work -> gate
    gate -> tool [label="[Y] Yes"]
    tool -> done
}
"""


def _view(ran: Ran, until: int | None = None) -> RunView:
    view, state = RunView(), RunState()
    for entry in ran.entries[:until]:
        state = reduce(state, entry)
        view.apply(entry, state)
    return view


def _ran() -> Ran:
    world = World(
        replies={"work": [reply("retry"), CodergenReply(response="ok", usage={"total_tokens": 7})]},
        answers=[Answer(value="Y", text="[Y] Yes")],
    )
    return run_dot(GATE, world)


def test_finished_run_colours_every_visited_node_by_its_outcome() -> None:
    """After the run, each main-graph node has its final outcome and nothing is current."""
    view = _view(_ran())
    assert view.nodes == dict.fromkeys(["start", "work", "gate", "tool", "done"], "success")
    assert view.current() == []
    assert view.finished_at


def test_a_retried_stage_keeps_both_attempts() -> None:
    """A retry shows as two attempts of the node, the first marked retried."""
    view = _view(_ran())
    attempts = view.stages("work")
    assert [(a.attempt, a.status, a.retried) for a in attempts] == [
        (1, "retry", True),
        (2, "success", False),
    ]
    assert view.retries() == {"work": 1}


def test_usage_and_tool_output_are_collected() -> None:
    """Codergen usage is summed; the tool command and its stdout are in its attempt."""
    view = _view(_ran())
    assert view.tokens == {"total_tokens": 7}
    (tool,) = view.stages("tool")
    assert [(s.command, s.exit_code, s.stdout) for s in tool.shell] == [
        ("echo hi", 0, "ran echo hi")
    ]


def test_cost_per_attempt_and_per_run_comes_from_the_catalog() -> None:
    """A reply naming a catalogued model is priced per attempt and in the run's total."""
    priced = CodergenReply(
        response="ok", usage={"input_tokens": 1000, "output_tokens": 200}, model="claude-sonnet-4-5"
    )
    ran = run_dot(
        GATE,
        World(
            replies={"work": [reply("retry"), priced]}, answers=[Answer(value="Y", text="[Y] Yes")]
        ),
    )
    view = _view(ran)
    first, second = view.stages("work")
    assert first.cost_usd is None
    assert second.cost_usd == 0.006
    assert view.usage.total.cost_usd == 0.006
    assert view.usage.total.tokens == {"input_tokens": 1000, "output_tokens": 200}


def test_a_pending_question_is_listed_with_its_options_until_answered() -> None:
    """While the gate waits its question (with options) is pending and the node is waiting."""
    ran = _ran()
    asked = next(
        i
        for i, e in enumerate(ran.entries, 1)
        if isinstance(e.event, EffectRequested) and isinstance(e.event.request, AskHuman)
    )
    view = _view(ran, asked)
    (q,) = view.questions.values()
    assert (q.node, [o.key for o in q.question.options]) == ("gate", ["Y"])
    assert view.nodes["gate"] == "waiting"
    assert view.current() == ["gate"]
    assert _view(ran).questions == {}


@given(st.data())
def test_the_view_of_a_prefix_is_the_fold_of_that_prefix(data: st.DataObject) -> None:
    """Folding entries one by one into a RunFold equals a fresh fold of the same prefix."""
    ran = _ran()
    cut = data.draw(st.integers(min_value=1, max_value=len(ran.entries)))
    fold = RunFold("<memory>")
    for entry in ran.entries[:cut]:
        fold.apply(entry)
    view = _view(ran, cut)
    assert (fold.view.nodes, fold.view.current(), fold.seq) == (view.nodes, view.current(), cut)
