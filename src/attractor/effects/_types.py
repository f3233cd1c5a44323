"""Effects layer (pure): effect requests, their results, and the three events that record them.

Rule: an effect is a plain value the pure core asks for; an interpreter carries it out; the
result enters the core only as an `EffectCompleted` / `EffectFailed` event in the log. Each
request carries a deterministic `effect_id` derived from where it was asked, and a digest of the
request so that replay can prove the core asked for the same thing again.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

import msgspec

from attractor.events import Event, Text

# ---------------------------------------------------------------------------------------------
# Requests


class _Request(
    msgspec.Struct, frozen=True, tag_field="kind", forbid_unknown_fields=True, omit_defaults=True
):
    """Base of effect requests."""


class ReadClock(_Request, frozen=True, tag="clock"):
    """The current wall-clock time."""


class NewId(_Request, frozen=True, tag="id"):
    """A fresh unique id (UUID4 hex), optionally prefixed."""

    prefix: str = ""


class DrawRandom(_Request, frozen=True, tag="random"):
    """A uniform random float in [low, high)."""

    low: float = 0.0
    high: float = 1.0


class Sleep(_Request, frozen=True, tag="sleep"):
    """Wait `ms` milliseconds (retry backoff, polling)."""

    ms: int


class RunShell(_Request, frozen=True, tag="shell"):
    """Run `command` through the shell. `env` adds variables; the inherited environment is never
    recorded, and its sensitive variables (`*_API_KEY`, `*_TOKEN`, … — coding-agent-loop spec
    §4.2) are not inherited unless named in `env_passthrough`. A command still running after
    `timeout_ms` is killed with its process group."""

    command: str
    cwd: str = ""
    timeout_ms: int = 600_000
    env: dict[str, str] = {}
    stdin: str = ""
    ensure_dirs: tuple[str, ...] = ()  # created (with parents) before the command starts
    env_passthrough: tuple[str, ...] = ()  # sensitive inherited variables to keep, by name


class ReadFile(_Request, frozen=True, tag="read_file"):
    """Read a UTF-8 text file."""

    path: str


class WriteFile(_Request, frozen=True, tag="write_file"):
    """Write (or append to) a UTF-8 text file, creating parent directories."""

    path: str
    content: Text
    append: bool = False


class Option(msgspec.Struct, frozen=True):
    """One choice of a question: the key the human types and its label."""

    key: str
    label: str


QuestionKind = Literal["yes_no", "multiple_choice", "freeform", "confirmation"]


class Question(msgspec.Struct, frozen=True, omit_defaults=True):
    """A question for a human, with a stable id so several pending questions are answered by id."""

    id: str
    text: str
    kind: QuestionKind = "freeform"
    options: tuple[Option, ...] = ()
    default: str | None = None
    timeout_ms: int | None = None
    stage: str = ""


class AskHuman(_Request, frozen=True, tag="ask_human"):
    """Ask a human and wait for the answer."""

    question: Question


class CallLlm(_Request, frozen=True, tag="llm"):
    """Call an LLM provider. The LLM layer owns the request/response shapes (JSON objects here);
    it may record a large conversation by digest and new parts only."""

    provider: str
    model: str
    request: dict[str, Any]


class Call(_Request, frozen=True, tag="call"):
    """Call a registered user function by name with JSON arguments, so imperative custom code
    is recorded and replays exactly."""

    name: str
    args: Any = None


Effect = (
    ReadClock
    | NewId
    | DrawRandom
    | Sleep
    | RunShell
    | ReadFile
    | WriteFile
    | AskHuman
    | CallLlm
    | Call
)

# ---------------------------------------------------------------------------------------------
# Results


class _Result(
    msgspec.Struct, frozen=True, tag_field="kind", forbid_unknown_fields=True, omit_defaults=True
):
    """Base of effect results."""


class ClockRead(_Result, frozen=True, tag="clock"):
    """The time, as Unix milliseconds and ISO 8601 UTC."""

    unix_ms: int
    iso: str


class IdMade(_Result, frozen=True, tag="id"):
    """A fresh id."""

    id: str


class RandomDrawn(_Result, frozen=True, tag="random"):
    """A drawn random value."""

    value: float


class Slept(_Result, frozen=True, tag="sleep"):
    """How long the sleep lasted."""

    ms: int


class ShellRan(_Result, frozen=True, tag="shell"):
    """What a shell command did. Large outputs live in the blob store."""

    exit_code: int
    stdout: Text
    stderr: Text
    duration_ms: int
    timed_out: bool = False
    stdout_head: str = ""  # the first 16 KiB of stdout when stdout itself went to a blob


class FileRead(_Result, frozen=True, tag="read_file"):
    """A file's text."""

    content: Text
    size: int


class FileWritten(_Result, frozen=True, tag="write_file"):
    """Where and how much was written."""

    path: str
    size: int


class Answer(msgspec.Struct, frozen=True, omit_defaults=True):
    """A human's answer: the chosen option key or free text; `timed_out` when nobody answered."""

    value: str
    text: str = ""
    timed_out: bool = False
    skipped: bool = False


class HumanAnswered(_Result, frozen=True, tag="ask_human"):
    """The answer to an `AskHuman`."""

    answer: Answer


class LlmResponded(_Result, frozen=True, tag="llm"):
    """A provider's unified response (JSON object owned by the LLM layer), usage included."""

    response: dict[str, Any]


class Called(_Result, frozen=True, tag="call"):
    """The JSON value a user function returned."""

    value: Any = None


EffectResult = (
    ClockRead
    | IdMade
    | RandomDrawn
    | Slept
    | ShellRan
    | FileRead
    | FileWritten
    | HumanAnswered
    | LlmResponded
    | Called
)

ErrorKind = Literal[
    "timeout", "not_found", "permission", "unsupported", "invalid", "cancelled", "error"
]


class EffectError(msgspec.Struct, frozen=True, omit_defaults=True):
    """Why an effect failed. Failures are data: the core decides what they mean."""

    kind: ErrorKind
    message: str
    retryable: bool = False


EffectOutcome = EffectResult | EffectError

# ---------------------------------------------------------------------------------------------
# Events


class EffectRequested(Event, frozen=True, tag="effect.requested"):
    """The core asked for an effect."""

    effect_id: str
    request: Effect
    digest: str


class EffectCompleted(Event, frozen=True, tag="effect.completed"):
    """An effect's result."""

    effect_id: str
    result: EffectResult


class EffectFailed(Event, frozen=True, tag="effect.failed"):
    """An effect could not be carried out."""

    effect_id: str
    error: EffectError


_digest_encoder = msgspec.json.Encoder(order="deterministic")


def request_digest(request: Effect) -> str:
    """SHA-256 (first 32 hex digits) of the request's canonical JSON."""
    return hashlib.sha256(_digest_encoder.encode(request)).hexdigest()[:32]


def effect_id(stream: str, *parts: object) -> str:
    """A deterministic effect id: the stream, then where in it the effect was asked.

    Example: `effect_id("run/node:plan", "attempt:2", "shell", 0)` is
    `"run/node:plan#attempt:2/shell/0"`. Never derive ids from a counter shared across streams.
    """
    return stream + "#" + "/".join(str(p) for p in parts)


def request_effect(eid: str, request: Effect) -> EffectRequested:
    """The event asking for `request` under `eid`, with its digest."""
    return EffectRequested(effect_id=eid, request=request, digest=request_digest(request))


def outcome_event(eid: str, outcome: EffectOutcome) -> EffectCompleted | EffectFailed:
    """The event recording an effect's outcome."""
    if isinstance(outcome, EffectError):
        return EffectFailed(effect_id=eid, error=outcome)
    return EffectCompleted(effect_id=eid, result=outcome)
