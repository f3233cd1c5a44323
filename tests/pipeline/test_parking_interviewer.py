"""ParkingInterviewer: questions wait, parked, until an answer arrives from elsewhere (the HTTP
server); wrong answers and unknown ids are typed errors; a stopped run withdraws its question."""

from __future__ import annotations

import asyncio

import pytest

from attractor.effects import Answer, AskHuman, HumanAnswered, Option, Question
from attractor.pipeline.interviewers import (
    InvalidAnswerError,
    ParkingInterviewer,
    UnknownQuestionError,
    as_performer,
)

GATE = Question(
    id="review@3.1",
    text="Ship it?",
    kind="multiple_choice",
    options=(Option(key="A", label="[A] Approve"), Option(key="R", label="[R] Revise")),
    stage="review",
)


def test_a_parked_question_is_answered_from_outside() -> None:
    """`ask` waits; `answer(id, reply)` from another task completes it."""

    async def scenario() -> tuple[list[Question], Answer]:
        parking = ParkingInterviewer()
        asked = asyncio.ensure_future(parking.ask(GATE))
        await asyncio.sleep(0)
        pending = parking.pending()
        parking.answer("review@3.1", "approve")
        return pending, await asked

    pending, answer = asyncio.run(scenario())
    assert pending == [GATE]
    assert (answer.value, answer.text) == ("A", "[A] Approve")


def test_a_wrong_reply_is_refused_and_the_question_keeps_waiting() -> None:
    """A reply that fits no option raises InvalidAnswerError naming the options."""

    async def scenario() -> list[Question]:
        parking = ParkingInterviewer()
        asked = asyncio.ensure_future(parking.ask(GATE))
        await asyncio.sleep(0)
        with pytest.raises(InvalidAnswerError, match=r"\[A\] Approve"):
            parking.answer("review@3.1", "maybe")
        still = parking.pending()
        asked.cancel()
        return still

    assert asyncio.run(scenario()) == [GATE]


def test_an_unknown_question_names_those_waiting() -> None:
    """Answering an id that is not parked raises UnknownQuestionError listing the parked ids."""

    async def scenario() -> None:
        parking = ParkingInterviewer()
        asked = asyncio.ensure_future(parking.ask(GATE))
        await asyncio.sleep(0)
        with pytest.raises(UnknownQuestionError, match=r"review@3\.1"):
            parking.answer("nope@1.1", "A")
        asked.cancel()

    asyncio.run(scenario())


def test_a_cancelled_ask_withdraws_its_question() -> None:
    """When the run stops (the ask is cancelled) the question is no longer pending."""
    unparked: list[str] = []

    async def scenario() -> list[Question]:
        parking = ParkingInterviewer(on_unpark=lambda q: unparked.append(q.id))
        asked = asyncio.ensure_future(parking.ask(GATE))
        await asyncio.sleep(0)
        asked.cancel()
        await asyncio.gather(asked, return_exceptions=True)
        return parking.pending()

    assert asyncio.run(scenario()) == []
    assert unparked == ["review@3.1"]


def test_timeouts_apply_through_the_performer() -> None:
    """A parked question with timeout_ms times out (as_performer enforces it)."""
    timed = Question(id="q@1.1", text="?", kind="yes_no", timeout_ms=20)
    result = asyncio.run(as_performer(ParkingInterviewer())(AskHuman(question=timed)))
    assert isinstance(result, HumanAnswered)
    assert result.answer.timed_out
