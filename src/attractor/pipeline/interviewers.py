"""Pipeline layer (async shell): interviewers — the humans behind `AskHuman` effects (spec §6).

Rule: an interviewer turns a `Question` into an `Answer` and nothing else; the engine never
talks to one directly. `as_performer` plugs an interviewer into the live interpreter
(`LiveInterpreter(performers={AskHuman: as_performer(i)})`), enforces `timeout_ms` (§6.5) and
turns an interviewer's typed error into an `EffectError`, so every answer — or failure to get
one — is a recorded event and replay never asks a human again.

Answer conventions (all interviewers): yes/no and confirmation questions answer `"yes"` or
`"no"`; multiple choice answers the option key in `value` (the label if two options share the
key) and its label in `text`; freeform
answers the text in both. `skipped` means nobody will answer; `timed_out` means nobody answered
in time, and `value` then holds the question's default (or `""` without one).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import sys
import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol, TextIO
from weakref import WeakKeyDictionary

import msgspec
from rich.console import Console

from attractor.effects import Answer, AskHuman, EffectError, HumanAnswered, Option, Question
from attractor.pipeline.labels import (
    answer_from_text,
    choice_answer,
    default_answer,
    describe_options,
    explain_mismatch,
    timed_out_answer,
)


class InterviewerError(ValueError):
    """An interviewer could not produce a valid answer (a configuration problem, not a human's)."""


class InvalidAnswerError(InterviewerError):
    """A scripted answer (queue, callback) does not fit its question."""


class AnswersFileError(InterviewerError):
    """An answers file is malformed, or does not answer a question it is asked.

    Attributes:
        file: the answers file (or `<mapping>`).
        question_id: the question (or key) concerned; empty for whole-file problems.
        options: the valid choices as `[K] Label` strings, when there are any.
        reason: what is wrong.
    """

    def __init__(
        self, file: str, reason: str, *, question_id: str = "", options: Sequence[str] = ()
    ) -> None:
        self.file, self.reason = file, reason
        self.question_id, self.options = question_id, tuple(options)
        where = f"{file}: question {question_id!r}" if question_id else file
        hint = f" (valid options: {', '.join(self.options)})" if self.options else ""
        super().__init__(f"{where}: {reason}{hint}")


def _coerce(question: Question, given: Answer | str, source: str) -> Answer:
    if isinstance(given, Answer):
        return given
    answer = answer_from_text(question, given)
    if answer is None:
        raise InvalidAnswerError(
            f"{source}: question {question.id!r}: {explain_mismatch(question, given)}"
        )
    return answer


# --- The protocol and the simple interviewers


class Interviewer(Protocol):
    """The human-interaction frontend (spec §6.1)."""

    async def ask(self, question: Question) -> Answer:
        """Ask one question and wait for its answer."""
        ...

    async def ask_multiple(self, questions: Sequence[Question]) -> list[Answer]:
        """Ask several questions, answering in order."""
        ...

    def inform(self, message: str, stage: str) -> None:
        """Tell the human something that needs no answer."""
        ...


class _Sequential(ABC):
    """`ask_multiple` as one `ask` after another, and a silent `inform`."""

    @abstractmethod
    async def ask(self, question: Question) -> Answer:
        """Ask one question."""

    async def ask_multiple(self, questions: Sequence[Question]) -> list[Answer]:
        """Ask each question in turn."""
        return [await self.ask(q) for q in questions]

    def inform(self, message: str, stage: str) -> None:  # noqa: B027 - a real default: no-op
        """Nobody is watching: drop the message."""


class AutoApproveInterviewer(_Sequential):
    """Approves everything (CI, `--auto-approve`): yes, the first option, or `auto-approved`."""

    async def ask(self, question: Question) -> Answer:
        """Answer without asking anybody."""
        if question.kind in ("yes_no", "confirmation"):
            return Answer(value="yes")
        if question.kind == "multiple_choice" and question.options:
            return choice_answer(question.options[0], question.options)
        return Answer(value="auto-approved", text="auto-approved")


AnswerCallback = Callable[[Question], Answer | str | Awaitable[Answer | str]]


class CallbackInterviewer(_Sequential):
    """Delegates to a function (Slack bot, web UI, test): sync or async, returning an `Answer` or
    a reply string read as `answer_from_text` reads it."""

    def __init__(
        self, callback: AnswerCallback, on_inform: Callable[[str, str], None] | None = None
    ) -> None:
        self.callback = callback
        self.on_inform = on_inform

    async def ask(self, question: Question) -> Answer:
        """Call the callback; a reply that fits no option raises `InvalidAnswerError`."""
        given = self.callback(question)
        if inspect.isawaitable(given):
            given = await given
        return _coerce(question, given, "callback")

    def inform(self, message: str, stage: str) -> None:
        """Pass the message to `on_inform`, if given."""
        if self.on_inform is not None:
            self.on_inform(message, stage)


class QueueInterviewer(_Sequential):
    """Answers from a pre-filled queue, in order; when it runs dry every answer is `skipped`."""

    def __init__(self, answers: Iterable[Answer | str] = ()) -> None:
        self.answers: deque[Answer | str] = deque(answers)

    async def ask(self, question: Question) -> Answer:
        """Take the next queued answer."""
        if not self.answers:
            return Answer(value="", skipped=True)
        return _coerce(question, self.answers.popleft(), "answer queue")


class RecordingInterviewer(_Sequential):
    """Wraps another interviewer and keeps every (question, answer) pair and message."""

    def __init__(self, inner: Interviewer) -> None:
        self.inner = inner
        self.recordings: list[tuple[Question, Answer]] = []
        self.messages: list[tuple[str, str]] = []

    async def ask(self, question: Question) -> Answer:
        """Ask the inner interviewer and record the pair."""
        answer = await self.inner.ask(question)
        self.recordings.append((question, answer))
        return answer

    def inform(self, message: str, stage: str) -> None:
        """Record the message and pass it on."""
        self.messages.append((message, stage))
        self.inner.inform(message, stage)


# --- Parked questions (the HTTP server)


class UnknownQuestionError(InterviewerError):
    """An answer names a question that is not waiting (never asked, or already answered)."""


class ParkingInterviewer(_Sequential):
    """Parks each question until `answer(question_id, reply)` arrives from elsewhere (the HTTP
    server's `POST .../questions/{qid}/answer`, a web UI, a chat bot).

    `ask` waits without a thread or a poll; `pending()` lists the parked questions in the order
    they were asked; `on_park` (if given) is called with each question when it is parked and
    `on_unpark` when it is answered or withdrawn (the run stopped). Timeouts are enforced by
    `as_performer`, like every interviewer's.
    """

    def __init__(
        self,
        on_park: Callable[[Question], None] | None = None,
        on_unpark: Callable[[Question], None] | None = None,
    ) -> None:
        self.on_park, self.on_unpark = on_park, on_unpark
        self._parked: dict[str, tuple[Question, asyncio.Future[Answer]]] = {}

    async def ask(self, question: Question) -> Answer:
        """Park the question and wait for its answer."""
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._parked[question.id] = (question, future)
        if self.on_park is not None:
            self.on_park(question)
        try:
            return await future
        finally:
            if self._parked.get(question.id, (None, None))[1] is future:
                del self._parked[question.id]
            if self.on_unpark is not None:
                self.on_unpark(question)

    def pending(self) -> list[Question]:
        """The questions waiting for an answer, oldest first."""
        return [q for q, f in self._parked.values() if not f.done()]

    def answer(self, question_id: str, reply: Answer | str) -> Answer:
        """Answer a parked question; the run continues at once.

        Raises:
            UnknownQuestionError: no question with this id is waiting.
            InvalidAnswerError: the reply fits none of the question's options.
        """
        parked = self._parked.get(question_id)
        if parked is None or parked[1].done():
            waiting = ", ".join(repr(q.id) for q in self.pending()) or "none"
            raise UnknownQuestionError(
                f"question {question_id!r} is not waiting for an answer (waiting: {waiting})"
            )
        question, future = parked
        answer = _coerce(question, reply, "answer")
        future.set_result(answer)
        return answer


# --- Console


class _LineReader:
    """Reads lines in a daemon thread so a waiting question never blocks the event loop.

    A read that outlives its timeout stays pending and feeds the next question; being a daemon
    thread, it never keeps the process alive at exit.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._pending: concurrent.futures.Future[str] | None = None

    def _read_into(self, fut: concurrent.futures.Future[str]) -> None:
        try:
            line = self._stream.readline()
        except (OSError, ValueError):  # closed or broken stream: same as end of input
            line = ""
        fut.set_result(line)

    async def readline(self, timeout_s: float | None) -> str | None:
        """The next line (`""` at end of input), or None when `timeout_s` passes first."""
        if self._pending is None:
            self._pending = concurrent.futures.Future()
            args = (self._pending,)
            threading.Thread(target=self._read_into, args=args, daemon=True).start()
        waiting = asyncio.shield(asyncio.wrap_future(self._pending))
        try:
            line = await asyncio.wait_for(waiting, timeout_s)
        except TimeoutError:
            return None
        self._pending = None
        return line


_LoopLocks = WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]


class ConsoleInterviewer(_Sequential):
    """Asks on a terminal: prints the question and its option keys, reads a line per try.

    Accepts an option's key, its label, or a unique prefix (any case); an empty line takes the
    default. After `max_attempts` invalid replies, or at end of input, the question is skipped.
    Enforces `timeout_ms` itself. Prompts go to stderr by default so `--json` output stays clean.
    """

    handles_timeouts: ClassVar[bool] = True

    def __init__(
        self, *, console: Console | None = None, stdin: TextIO | None = None, max_attempts: int = 3
    ) -> None:
        self.console = console if console is not None else Console(stderr=True)
        self.max_attempts = max_attempts
        stream = stdin if stdin is not None else sys.stdin
        self._reader = _LineReader(stream)
        self._echo = not _is_tty(stream)  # a terminal echoes typing; piped input is shown here
        self._locks: _LoopLocks = WeakKeyDictionary()

    def _say(self, text: str, *, end: str = "\n", style: str | None = None) -> None:
        self.console.print(text, end=end, style=style, markup=False, highlight=False)

    def inform(self, message: str, stage: str) -> None:
        """Print a message, tagged with its stage."""
        self._say(f"[{stage}] {message}" if stage else message, style="dim")

    async def ask(self, question: Question) -> Answer:
        """Ask on the console; concurrent questions wait their turn (their timeouts still run)."""
        loop = asyncio.get_running_loop()
        deadline = None if question.timeout_ms is None else loop.time() + question.timeout_ms / 1000
        lock = self._locks.setdefault(loop, asyncio.Lock())
        try:
            await asyncio.wait_for(lock.acquire(), _remaining(loop, deadline))
        except TimeoutError:
            return timed_out_answer(question)
        try:
            return await self._converse(question, loop, deadline)
        finally:
            lock.release()

    async def _converse(
        self, question: Question, loop: asyncio.AbstractEventLoop, deadline: float | None
    ) -> Answer:
        self._show(question)
        for _ in range(self.max_attempts):
            self._say(_prompt(question), end="")
            line = await self._reader.readline(_remaining(loop, deadline))
            if line is None:
                self._say("\n(no answer in time)", style="yellow")
                return timed_out_answer(question)
            if not line:
                self._say("\n(end of input: question skipped)", style="yellow")
                return Answer(value="", skipped=True)
            reply = line.strip()
            if self._echo:
                self._say(reply)
            answer = default_answer(question) if not reply else None
            answer = answer or answer_from_text(question, reply)
            if answer is not None:
                return answer
            self._say(explain_mismatch(question, reply), style="red")
        self._say(f"(no valid answer after {self.max_attempts} tries: skipped)", style="yellow")
        return Answer(value="", skipped=True)

    def _show(self, question: Question) -> None:
        stage = f"  ({question.stage})" if question.stage else ""
        self._say(f"[?] {question.text}{stage}", style="bold")
        if question.kind == "multiple_choice":
            for option in question.options:
                self._say(f"  {describe_options([option])}")
        if question.timeout_ms is not None:
            self._say(f"  (answer within {question.timeout_ms / 1000:g}s)", style="dim")


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (OSError, ValueError):
        return False


def _remaining(loop: asyncio.AbstractEventLoop, deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - loop.time())


def _prompt(question: Question) -> str:
    choose = "Select" if question.options else ">"
    text = {"multiple_choice": choose, "yes_no": "[Y/N]", "confirmation": "Confirm [Y/N]"}
    default = f" (default {question.default})" if question.default else ""
    return f"{text.get(question.kind, '>')}{default}: "


# --- Answers file (`attractor run --answers FILE`)


def _file_error(source: str, question: Question, reason: str) -> AnswersFileError:
    options = [describe_options([o]) for o in question.options]
    return AnswersFileError(source, reason, question_id=question.id, options=options)


class AnswersFile(msgspec.Struct, frozen=True):
    """A validated answers file: question id or stage id -> the replies, in order of asking."""

    source: str
    answers: dict[str, tuple[str, ...]]


def load_answers(path: str | Path) -> AnswersFile:
    """Read and validate an answers file before a run starts.

    Raises:
        AnswersFileError: the file cannot be read, is not JSON, or is not an object mapping ids
            to a reply string or a non-empty list of reply strings.
    """
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise AnswersFileError(source, f"cannot read the answers file: {exc.strerror}") from None
    try:
        data = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise AnswersFileError(source, f"not valid JSON: {exc}") from None
    return answers_from_mapping(data, source)


def answers_from_mapping(data: Any, source: str = "<mapping>") -> AnswersFile:
    """Validate an in-memory answers mapping (same rules as `load_answers`)."""
    if not isinstance(data, dict):
        raise AnswersFileError(
            source, 'must be a JSON object such as {"review": "A"}, mapping question or stage ids'
        )
    answers: dict[str, tuple[str, ...]] = {}
    for key, value in data.items():
        replies = (value,) if isinstance(value, str) else value
        if not isinstance(key, str) or not key.strip():
            raise AnswersFileError(source, f"id {key!r} must be a non-empty string")
        if not isinstance(replies, list | tuple) or not replies:
            raise AnswersFileError(source, f"{key!r}: give a reply or a non-empty list of replies")
        if not all(isinstance(r, str) for r in replies):
            raise AnswersFileError(source, f"{key!r}: every reply must be a string")
        answers[key] = tuple(replies)
    return AnswersFile(source=source, answers=answers)


def check_answers(answers: AnswersFile, options_by_stage: Mapping[str, Sequence[Option]]) -> None:
    """Check, before a run, that every reply given for a known human gate names one option.

    Raises:
        AnswersFileError: naming the stage, the reply and the valid options.
    """
    for stage, options in options_by_stage.items():
        for reply in answers.answers.get(stage, ()):
            gate = Question(id=stage, text="", kind="multiple_choice", options=tuple(options))
            if answer_from_text(gate, reply) is None:
                reason = explain_mismatch(gate, reply, list_options=False)
                raise _file_error(answers.source, gate, reason)


class AnswersFileInterviewer(_Sequential):
    """Answers from an answers file: by question id first, then by stage (node) id.

    A list of replies is used one per question asked under that key, the last one repeating
    (the count starts again in each process, so on resume prefer question ids). A question the
    file does not answer goes to `fallback` if given, else takes its default; with neither, or
    when a reply fits no option, `ask` raises `AnswersFileError` (which `as_performer` turns
    into a failed effect, and the handler into a FAIL outcome).
    """

    def __init__(
        self,
        source: str | Path | Mapping[str, Any] | AnswersFile,
        fallback: Interviewer | None = None,
    ) -> None:
        if isinstance(source, AnswersFile):
            self.file = source
        elif isinstance(source, Mapping):
            self.file = answers_from_mapping(dict(source))
        else:
            self.file = load_answers(source)
        self.fallback = fallback
        self._used: dict[str, int] = {}

    async def ask(self, question: Question) -> Answer:
        """The file's reply for this question."""
        key = question.id if question.id in self.file.answers else question.stage
        replies = self.file.answers.get(key)
        if replies is None:
            return await self._unanswered(question)
        used = self._used.get(key, 0)
        self._used[key] = used + 1
        reply = replies[min(used, len(replies) - 1)]
        answer = answer_from_text(question, reply)
        if answer is None:
            reason = explain_mismatch(question, reply, list_options=False)
            raise _file_error(self.file.source, question, reason)
        return answer

    async def _unanswered(self, question: Question) -> Answer:
        if self.fallback is not None:
            return await self.fallback.ask(question)
        default = default_answer(question)
        if default is not None:
            return default
        ids = f"{question.id!r} or {question.stage!r}" if question.stage else repr(question.id)
        raise _file_error(self.file.source, question, f"no answer given; add {ids} to the file")


# --- Plugging into the live interpreter

HumanPerformer = Callable[[AskHuman], Awaitable[HumanAnswered | EffectError]]


async def ask_in_time(interviewer: Interviewer, question: Question) -> Answer:
    """Ask, enforcing `question.timeout_ms` unless the interviewer does so itself (spec §6.5)."""
    if question.timeout_ms is None or getattr(interviewer, "handles_timeouts", False):
        return await interviewer.ask(question)
    try:
        return await asyncio.wait_for(interviewer.ask(question), question.timeout_ms / 1000)
    except TimeoutError:
        return timed_out_answer(question)


def as_performer(interviewer: Interviewer) -> HumanPerformer:
    """The `AskHuman` performer for `LiveInterpreter(performers={AskHuman: ...})`.

    An `InterviewerError` (e.g. an answers file that does not fit) becomes
    `EffectError(kind="invalid")` with the error's message; any other exception is left to the
    interpreter, which records it as `EffectError(kind="error")`.
    """

    async def perform(request: AskHuman) -> HumanAnswered | EffectError:
        try:
            answer = await ask_in_time(interviewer, request.question)
        except InterviewerError as exc:
            return EffectError(kind="invalid", message=str(exc))
        return HumanAnswered(answer=answer)

    return perform
