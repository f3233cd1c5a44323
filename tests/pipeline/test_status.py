"""Run summaries (`attractor status`): a pure function of the folded state and its entries."""

from __future__ import annotations

from attractor.events import Entry
from attractor.pipeline.events import InterviewCompleted, InterviewStarted, ParallelStarted
from attractor.pipeline.reducer import reduce
from attractor.pipeline.state import RunState
from attractor.pipeline.status import summarize
from tests.pipeline.kit import World, reply, run_dot

LINEAR = """digraph p {
  start [shape=Mdiamond]; a [shape=box, prompt="A", max_retries=2]; done [shape=Msquare]
  start -> a -> done
}"""
GATE = """digraph g {
  start [shape=Mdiamond]; gate [shape=hexagon, label="Go?"]; done [shape=Msquare]
  start -> gate; gate -> done [label="[Y] Yes"]
}"""
PARALLEL = """digraph p {
  start [shape=Mdiamond]; par [shape=component]; x [shape=box]; y [shape=box]
  join [shape=tripleoctagon]; done [shape=Msquare]
  start -> par; par -> x; par -> y; x -> join; y -> join; join -> done
}"""


def _fold(entries: list[Entry]) -> RunState:
    state = RunState()
    for entry in entries:
        state = reduce(state, entry)
    return state


def _upto(entries: list[Entry], kind: type) -> list[Entry]:
    cut = next(i for i, e in enumerate(entries) if isinstance(e.event, kind))
    return entries[: cut + 1]


def test_finished_run_summary() -> None:
    """A finished run: succeeded, every completed node, times and event count from the log."""
    entries = run_dot(LINEAR).entries
    s = summarize(_fold(entries), entries)
    assert s.status == "succeeded"
    assert s.run_id == "r1"
    assert s.name == "t"
    assert s.completed_nodes == ["start", "a", "done"]
    assert s.current == {}
    assert s.pending_questions == []
    assert s.started_at == entries[0].at
    assert s.finished_at == entries[-1].at
    assert s.event_count == len(entries)
    assert s.last_seq == entries[-1].seq


def test_retries_are_counted_per_node() -> None:
    """Each attempt that failed and was retried counts once for its node."""
    world = World(replies={"a": [reply("retry"), reply("retry"), reply("success")]})
    entries = run_dot(LINEAR, world).entries
    s = summarize(_fold(entries), entries)
    assert s.retries == {"a": 2}
    assert s.status == "succeeded"


def test_failed_run_names_its_reason() -> None:
    """A run that ends in FAIL is `failed` with the failure reason."""
    world = World(replies={"a": [reply("fail", failure_reason="broken")]})
    entries = run_dot(LINEAR, world).entries
    s = summarize(_fold(entries), entries)
    assert s.status == "failed"
    assert "broken" in s.failure_reason


def test_prefix_is_running_at_its_current_node() -> None:
    """A log prefix summarizes as running, with the node each traversal stands at."""
    entries = run_dot(LINEAR).entries[:5]
    s = summarize(_fold(entries), entries)
    assert s.status == "running"
    assert s.finished_at == ""
    assert s.current == {"run": "a"}


def test_pending_question_has_its_stable_id() -> None:
    """A question asked and not yet answered is listed with its id, node and text."""
    entries = _upto(run_dot(GATE, World(answers=["Y"])).entries, InterviewStarted)
    s = summarize(_fold(entries), entries)
    (q,) = s.pending_questions
    assert q.id == "gate@2.1"
    assert q.node == "gate"
    assert q.text == "Go?"


def test_answered_question_is_no_longer_pending() -> None:
    """Once answered (and the run over) no question is pending."""
    entries = run_dot(GATE, World(answers=["Y"])).entries
    assert summarize(_fold(entries), entries).pending_questions == []


def test_parallel_branches_show_as_current_traversals() -> None:
    """While branches run, each branch stream appears with its node."""
    entries = run_dot(PARALLEL).entries
    cut = next(i for i, e in enumerate(entries) if isinstance(e.event, ParallelStarted))
    prefix = entries[: cut + 3]
    s = summarize(_fold(prefix), prefix)
    assert any(stream.startswith("run/par@") for stream in s.current)


def test_empty_log_summarizes_without_error() -> None:
    """No entries at all: an empty, running summary rather than an exception."""
    s = summarize(RunState(), [])
    assert s.status == "running"
    assert s.run_id == ""
    assert s.event_count == 0


def test_questions_from_two_branches_are_both_pending() -> None:
    """Two branches asking at once are two pending questions, even with equal ids."""
    ask = InterviewStarted(node="g", question_id="g@2.1", text="Go?")
    asks = [
        Entry(seq=n, at="T", stream=stream, event=ask, hash="")
        for n, stream in ((1, "run/par@1:0"), (2, "run/par@1:1"))
    ]
    answered = Entry(
        seq=3,
        at="T",
        stream="run/par@1:0",
        event=InterviewCompleted(node="g", question_id="g@2.1", answer="Y"),
        hash="",
    )
    pending = summarize(RunState(), asks).pending_questions
    assert [q.stream for q in pending] == ["run/par@1:0", "run/par@1:1"]
    left = summarize(RunState(), [*asks, answered]).pending_questions
    assert [q.stream for q in left] == ["run/par@1:1"]
