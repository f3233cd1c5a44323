"""Interviewers (spec §6): every built-in one, timeouts, answers files and the performer."""

from __future__ import annotations

import asyncio
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from rich.console import Console

from attractor.effects import Answer, AskHuman, EffectError, HumanAnswered, Option, Question
from attractor.pipeline.interviewers import (
    AnswersFile,
    AnswersFileError,
    AnswersFileInterviewer,
    AutoApproveInterviewer,
    CallbackInterviewer,
    ConsoleInterviewer,
    InvalidAnswerError,
    QueueInterviewer,
    RecordingInterviewer,
    answers_from_mapping,
    as_performer,
    ask_in_time,
    check_answers,
    load_answers,
)
from attractor.pipeline.labels import answer_from_text, default_answer, timed_out_answer

OPTIONS = (Option(key="A", label="[A] Approve"), Option(key="R", label="[R] Revise"))
GATE = Question(
    id="review@0.1", text="Ship it?", kind="multiple_choice", options=OPTIONS, stage="review"
)
YES_NO = Question(id="q-yn", text="Deploy?", kind="yes_no")
FREE = Question(id="q-free", text="Why?")
AUTO = "auto-approved"


def _with(q: Question, **changes: Any) -> Question:
    return msgspec.structs.replace(q, **changes)


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def _console(lines: str, **kw: Any) -> tuple[ConsoleInterviewer, io.StringIO]:
    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None)
    return ConsoleInterviewer(console=console, stdin=io.StringIO(lines), **kw), out


@pytest.fixture
def pipe() -> Iterator[tuple[io.TextIOWrapper, io.TextIOWrapper]]:
    """A real pipe: (reader, writer); nothing arrives until the test writes."""
    r, w = os.pipe()
    reader, writer = os.fdopen(r, "r"), os.fdopen(w, "w")
    yield reader, writer
    writer.close()  # EOF lets a still-waiting reader thread finish
    reader.close()


# --- pure helpers -----------------------------------------------------------------------------


def test_answer_from_text_per_question_kind() -> None:
    """Multiple choice gives key and label; yes/no gives yes/no; freeform gives the text."""
    assert answer_from_text(GATE, "revise") == Answer(value="R", text="[R] Revise")
    assert answer_from_text(YES_NO, " Y ") == Answer(value="yes")
    assert answer_from_text(YES_NO, "no") == Answer(value="no")
    assert answer_from_text(YES_NO, "maybe") is None
    assert answer_from_text(FREE, " because ") == Answer(value="because", text="because")


def test_a_default_that_is_no_option_passes_through_raw() -> None:
    """A default naming a target node id (not an option) is kept as the raw value."""
    q = Question(id="q", text="?", kind="multiple_choice", options=OPTIONS, default="deploy")
    assert default_answer(q) == Answer(value="deploy")


def test_timed_out_answer_uses_the_default_when_set() -> None:
    """Spec §6.5: a timeout takes the default (marked timed_out), else an empty timed-out answer."""
    with_default = Question(id="q", text="?", kind="multiple_choice", options=OPTIONS, default="r")
    assert timed_out_answer(with_default) == Answer(value="R", text="[R] Revise", timed_out=True)
    assert timed_out_answer(GATE) == Answer(value="", timed_out=True)


# --- simple interviewers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        (YES_NO, Answer(value="yes")),
        (Question(id="c", text="Sure?", kind="confirmation"), Answer(value="yes")),
        (GATE, Answer(value="A", text="[A] Approve")),
        (Question(id="m", text="?", kind="multiple_choice"), Answer("auto-approved", AUTO)),
        (FREE, Answer(value="auto-approved", text=AUTO)),
    ],
)  # fmt: skip
def test_auto_approve_answers_every_kind(question: Question, answer: Answer) -> None:
    """Yes for yes/no and confirmation, the first option for choices, else 'auto-approved'."""
    assert _run(AutoApproveInterviewer().ask(question)) == answer


def test_callback_interviewer_takes_sync_and_async_callbacks() -> None:
    """A sync callback's Answer and an async callback's reply string are both used."""

    async def later(q: Question) -> str:
        return "approve"

    assert _run(CallbackInterviewer(lambda q: Answer(value="R")).ask(GATE)) == Answer(value="R")
    assert _run(CallbackInterviewer(later).ask(GATE)) == Answer(value="A", text="[A] Approve")


def test_callback_reply_that_fits_no_option_is_a_typed_error() -> None:
    """A callback string naming no option raises InvalidAnswerError listing the options."""
    with pytest.raises(InvalidAnswerError, match=r"callback: question 'review@0.1'.*\[A\] Approve"):
        _run(CallbackInterviewer(lambda q: "maybe").ask(GATE))


def test_callback_inform_reaches_on_inform() -> None:
    """Messages go to the optional on_inform hook."""
    seen: list[tuple[str, str]] = []
    CallbackInterviewer(lambda q: "a", on_inform=lambda m, s: seen.append((m, s))).inform("hi", "x")
    assert seen == [("hi", "x")]


def test_queue_answers_in_order_then_skips() -> None:
    """Queued answers come out in order; an empty queue answers skipped."""
    interviewer = QueueInterviewer([Answer(value="R"), "approve"])
    answers = _run(interviewer.ask_multiple([GATE, GATE, GATE]))
    assert answers == [
        Answer(value="R"),
        Answer(value="A", text="[A] Approve"),
        Answer(value="", skipped=True),
    ]


def test_recording_keeps_question_answer_pairs_and_messages() -> None:
    """The recording interviewer records what it forwarded, in order."""
    rec = RecordingInterviewer(AutoApproveInterviewer())
    _run(rec.ask_multiple([YES_NO, GATE]))
    rec.inform("started", "review")
    assert rec.recordings == [(YES_NO, Answer(value="yes")), (GATE, Answer("A", "[A] Approve"))]
    assert rec.messages == [("started", "review")]


# --- console ----------------------------------------------------------------------------------


def test_console_shows_the_question_and_option_keys() -> None:
    """The prompt shows the text, stage and each option as `[K] label`, markup left alone."""
    interviewer, out = _console("a\n")
    assert _run(interviewer.ask(GATE)) == Answer(value="A", text="[A] Approve")
    shown = out.getvalue()
    assert "[?] Ship it?  (review)" in shown
    assert "  [A] Approve\n" in shown
    assert "  [R] Revise\n" in shown
    assert "Select: " in shown


@pytest.mark.parametrize("reply", ["R", "r", "Revise", "[R] Revise", "rev"])
def test_console_accepts_key_label_or_prefix(reply: str) -> None:
    """Key, full label and a unique prefix all select the option, in any case."""
    interviewer, _ = _console(reply + "\n")
    assert _run(interviewer.ask(GATE)).value == "R"


def test_console_reasks_after_invalid_input() -> None:
    """An invalid reply is explained and asked again."""
    interviewer, out = _console("maybe\napprove\n")
    assert _run(interviewer.ask(GATE)).value == "A"
    assert "'maybe' is not an option; choose one of [A] Approve, [R] Revise" in out.getvalue()


def test_console_skips_after_three_invalid_replies() -> None:
    """Three invalid replies skip the question, and the fourth line is not read."""
    interviewer, out = _console("x\ny\nz\nA\n")
    assert _run(interviewer.ask(GATE)) == Answer(value="", skipped=True)
    assert "no valid answer after 3 tries" in out.getvalue()


def test_console_end_of_input_skips() -> None:
    """EOF on stdin answers skipped."""
    interviewer, _ = _console("")
    assert _run(interviewer.ask(GATE)) == Answer(value="", skipped=True)


def test_console_empty_line_takes_the_default() -> None:
    """Pressing Enter picks the question's default."""
    q = Question(id="q", text="?", kind="multiple_choice", options=OPTIONS, default="R")
    interviewer, out = _console("\n")
    assert _run(interviewer.ask(q)) == Answer(value="R", text="[R] Revise")
    assert "Select (default R): " in out.getvalue()


def test_console_yes_no_and_freeform() -> None:
    """Yes/no reads y/n; freeform reads the whole line."""
    interviewer, out = _console("n\nit is late\n")
    assert _run(interviewer.ask(YES_NO)) == Answer(value="no")
    assert _run(interviewer.ask(FREE)) == Answer(value="it is late", text="it is late")
    assert "[Y/N]: " in out.getvalue()


def test_console_ambiguous_prefix_is_explained() -> None:
    """A prefix matching two options is rejected as ambiguous."""
    q = Question(id="q", text="?", kind="multiple_choice", options=(
        Option(key="1", label="Retry"), Option(key="2", label="Revert")))  # fmt: skip
    interviewer, out = _console("re\nrev\n")
    assert _run(interviewer.ask(q)).value == "2"
    assert "'re' is ambiguous: it matches [1] Retry, [2] Revert" in out.getvalue()


def test_console_inform_prints_stage_and_message() -> None:
    """inform writes the message tagged with its stage."""
    interviewer, out = _console("")
    interviewer.inform("tests passed", "test")
    assert "[test] tests passed" in out.getvalue()


def test_console_timeout_without_default(pipe: tuple[io.TextIOWrapper, io.TextIOWrapper]) -> None:
    """No reply within timeout_ms answers timed_out with an empty value."""
    q = Question(id="q", text="?", kind="yes_no", timeout_ms=50)
    interviewer = ConsoleInterviewer(console=Console(file=io.StringIO()), stdin=pipe[0])
    assert _run(interviewer.ask(q)) == Answer(value="", timed_out=True)


def test_console_timeout_with_default(pipe: tuple[io.TextIOWrapper, io.TextIOWrapper]) -> None:
    """No reply within timeout_ms takes the default, marked timed_out."""
    q = Question(id="q", text="?", kind="yes_no", default="no", timeout_ms=50)
    interviewer = ConsoleInterviewer(console=Console(file=io.StringIO()), stdin=pipe[0])
    assert _run(interviewer.ask(q)) == Answer(value="no", timed_out=True)


def test_console_waiting_does_not_block_the_event_loop(
    pipe: tuple[io.TextIOWrapper, io.TextIOWrapper],
) -> None:
    """Other tasks keep running while the console waits; a late line feeds the next question."""
    reader, writer = pipe
    interviewer = ConsoleInterviewer(console=Console(file=io.StringIO()), stdin=reader)
    q = Question(id="q", text="?", kind="yes_no", timeout_ms=200)

    async def scenario() -> tuple[int, Answer, Answer]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        first = await interviewer.ask(q)
        writer.write("y\n")
        writer.flush()
        second = await interviewer.ask(_with(q, timeout_ms=2000))
        task.cancel()
        return ticks, first, second

    ticks, first, second = _run(scenario())
    assert ticks >= 5
    assert first == Answer(value="", timed_out=True)
    assert second == Answer(value="yes")


def test_concurrent_console_questions_take_turns() -> None:
    """Two questions asked at once are asked one after the other, each getting its own line."""
    interviewer, _ = _console("a\nr\n")

    async def both() -> list[Answer]:
        return list(await asyncio.gather(interviewer.ask(GATE), interviewer.ask(GATE)))

    assert [a.value for a in _run(both())] == ["A", "R"]


# --- answers file -----------------------------------------------------------------------------


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "answers.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_load_answers_reads_strings_and_lists(tmp_path: Path) -> None:
    """A reply string or a list of replies per id is accepted."""
    loaded = load_answers(_write(tmp_path, {"review": "A", "deploy": ["no", "yes"]}))
    assert loaded.answers == {"review": ("A",), "deploy": ("no", "yes")}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        ("[1]", "must be a JSON object"),
        ('{"review": 3}', "'review': give a reply or a non-empty list of replies"),
        ('{"review": []}', "'review': give a reply or a non-empty list of replies"),
        ('{"review": ["a", 1]}', "'review': every reply must be a string"),
        ('{" ": "a"}', "must be a non-empty string"),
    ],
)
def test_malformed_answers_files_are_rejected_up_front(
    tmp_path: Path, content: str, message: str
) -> None:
    """Every malformed file gives AnswersFileError naming the file and the problem."""
    path = _write(tmp_path, content)
    with pytest.raises(AnswersFileError) as info:
        load_answers(path)
    assert str(info.value).startswith(str(path))
    assert message in str(info.value)


def test_missing_answers_file_is_a_clear_error(tmp_path: Path) -> None:
    """A file that cannot be read says so."""
    with pytest.raises(AnswersFileError, match="cannot read the answers file"):
        load_answers(tmp_path / "nope.json")


def test_answers_match_by_question_id_before_stage() -> None:
    """An answer keyed by question id wins over one keyed by the stage."""
    interviewer = AnswersFileInterviewer({"review": "R", "review@0.1": "approve"})
    assert _run(interviewer.ask(GATE)) == Answer(value="A", text="[A] Approve")


def test_answer_lists_are_used_in_order_and_the_last_repeats() -> None:
    """Successive questions under one key take successive replies; the last one repeats."""
    interviewer = AnswersFileInterviewer({"review": ["R", "R", "A"]})
    answers = _run(interviewer.ask_multiple([GATE] * 4))
    assert [a.value for a in answers] == ["R", "R", "A", "A"]


def test_answer_naming_no_option_is_a_typed_error_with_options() -> None:
    """An unknown option raises AnswersFileError with file, question id and the valid options."""
    interviewer = AnswersFileInterviewer({"review": "maybe"})
    with pytest.raises(AnswersFileError) as info:
        _run(interviewer.ask(GATE))
    err = info.value
    assert (err.file, err.question_id) == ("<mapping>", "review@0.1")
    assert err.options == ("[A] Approve", "[R] Revise")
    assert str(err) == (
        "<mapping>: question 'review@0.1': 'maybe' is not an option "
        "(valid options: [A] Approve, [R] Revise)"
    )


def test_missing_answer_without_default_is_a_typed_error(tmp_path: Path) -> None:
    """A question the file does not answer, with no default, says which ids to add."""
    interviewer = AnswersFileInterviewer(_write(tmp_path, {"other": "A"}))
    with pytest.raises(AnswersFileError, match=r"no answer given; add 'review@0.1' or 'review'"):
        _run(interviewer.ask(GATE))


def test_missing_answer_takes_the_default_or_the_fallback() -> None:
    """An unanswered question takes its default; with a fallback, the fallback answers."""
    q = _with(GATE, default="R")
    assert _run(AnswersFileInterviewer({}).ask(q)).value == "R"
    with_fallback = AnswersFileInterviewer({}, fallback=AutoApproveInterviewer())
    assert _run(with_fallback.ask(GATE)).value == "A"


def test_check_answers_finds_bad_replies_before_the_run() -> None:
    """Replies for known gates are checked against their options before anything runs."""
    answers = answers_from_mapping({"review": ["A", "nope"]}, "answers.json")
    check_answers(answers, {"other": OPTIONS})
    with pytest.raises(AnswersFileError, match=r"answers.json: question 'review': 'nope'"):
        check_answers(answers, {"review": OPTIONS})


def test_answers_file_struct_is_accepted_directly() -> None:
    """An already loaded AnswersFile can be passed in."""
    loaded = AnswersFile(source="f.json", answers={"review": ("r",)})
    assert _run(AnswersFileInterviewer(loaded).ask(GATE)).value == "R"


# --- performer --------------------------------------------------------------------------------


def test_performer_wraps_the_answer() -> None:
    """The performer answers AskHuman with HumanAnswered."""
    perform = as_performer(QueueInterviewer(["yes"]))
    assert _run(perform(AskHuman(question=YES_NO))) == HumanAnswered(answer=Answer(value="yes"))


def test_performer_turns_answers_file_errors_into_invalid_effect_errors() -> None:
    """A mismatching answers file is a failed effect (kind invalid) carrying the clear message."""
    perform = as_performer(AnswersFileInterviewer({"review": "maybe"}))
    outcome = _run(perform(AskHuman(question=GATE)))
    assert isinstance(outcome, EffectError)
    assert outcome.kind == "invalid"
    assert "question 'review@0.1': 'maybe' is not an option" in outcome.message


def test_performer_enforces_timeouts_for_any_interviewer() -> None:
    """A callback slower than timeout_ms is cut off and the default is used (spec §6.5)."""

    async def slow(q: Question) -> Answer:
        await asyncio.sleep(5)
        return Answer(value="A")

    q = _with(GATE, timeout_ms=30, default="R")
    outcome = _run(as_performer(CallbackInterviewer(slow))(AskHuman(question=q)))
    assert outcome == HumanAnswered(answer=Answer(value="R", text="[R] Revise", timed_out=True))


def test_ask_in_time_leaves_console_timeouts_to_the_console() -> None:
    """Interviewers that handle timeouts themselves are not wrapped (no double timeout)."""
    interviewer, _ = _console("a\n")
    q = _with(GATE, timeout_ms=5000)
    assert _run(ask_in_time(interviewer, q)).value == "A"
