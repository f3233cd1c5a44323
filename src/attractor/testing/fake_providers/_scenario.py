"""Scenario model of the fake provider server (pure layer: data and selection, no I/O).

Rule: a scenario is provider-neutral. A `Step` says *what* the fake model answers (text,
thinking, tool calls, an error, a transport fault); each wire module renders it in its own
format. Selection is a pure function of the steps already consumed and the request's view.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import msgspec

Api = Literal["openai_responses", "openai_chat", "anthropic_messages", "gemini_generate"]
FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]
FaultKind = Literal[
    "disconnect",
    "html",
    "malformed_json",
    "garbage_sse",
    "empty_body",
    "wrong_content_type",
    "error_event",
    "unknown_event",
]

MAX_DELTAS = 1_000_000
"""Upper bound on `Step.deltas`: keeps one scripted stream finite and memory-bounded."""
FRAMING_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "content-type", "retry-after"}
)
"""Headers the server sets itself (`retry-after` comes from `Error.retry_after`)."""
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
MAX_DELAY_MS = 60_000.0
"""Upper bound on `Step.chunk_delay_ms`, so a scripted slow stream always ends."""


class Match(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Conditions a request must meet for a step to answer it (all given ones must hold).

    Attributes:
        api: Wire API the request arrived on.
        model: Exact model name of the request.
        user_text: Substring of the last user message's text.
        stream: Whether the request streams.
    """

    api: Api | None = None
    model: str | None = None
    user_text: str | None = None
    stream: bool | None = None


class ToolCall(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A tool call the fake model makes.

    Attributes:
        name: Function name.
        arguments: Arguments as a JSON object.
        raw_arguments: Literal argument text sent instead of `arguments` (may be invalid JSON).
        id: Call id; a deterministic one is generated when absent.
    """

    name: str
    arguments: dict[str, Any] = msgspec.field(default_factory=dict)
    raw_arguments: str | None = None
    id: str | None = None


class Thinking(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A reasoning block: visible thinking text with a signature, or opaque redacted data.

    Attributes:
        text: Thinking text (Anthropic thinking, OpenAI reasoning summary, Gemini thought).
        signature: Opaque signature that clients must round-trip.
        redacted_data: When set, the block is redacted (Anthropic `redacted_thinking`,
            OpenAI `encrypted_content`); `text` is then ignored.
    """

    text: str = ""
    signature: str = "fake-signature"
    redacted_data: str | None = None


class Usage(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Token counts to report; any count left out is estimated from the texts."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


class Error(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An HTTP error answer in the provider's own error shape.

    Attributes:
        status: HTTP status code (400, 401, 403, 404, 429, 500, 503 …).
        message: Error message; a provider-like default is used when absent.
        retry_after: Value of the `Retry-After` header (seconds or an HTTP date).
        code: Provider error code (OpenAI `code`, Anthropic `error.type`).
    """

    status: int
    message: str | None = None
    retry_after: str | None = None
    code: str | None = None

    def __post_init__(self) -> None:
        if not 400 <= self.status <= 599:
            raise ValueError(f"error status must be 400..599, got {self.status}")


class Fault(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A transport or protocol fault, injected in place of (or inside) a valid answer.

    Attributes:
        kind: Which fault (see docs/fake-providers.md for each kind's effect).
        after_events: Stream faults fire after this many SSE events were sent.
        status: HTTP status of `html` pages and of `error_event` errors.
    """

    kind: FaultKind
    after_events: int = 0
    status: int = 502

    def __post_init__(self) -> None:
        if self.after_events < 0:
            raise ValueError(f"after_events must be >= 0, got {self.after_events}")


class Step(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One scripted answer.

    Attributes:
        when: Conditions for this step; a step without `when` answers any request.
        text: Assistant text. `echo` takes precedence.
        echo: Answer with the last user message's text.
        thinking: Reasoning blocks emitted before the text.
        tool_calls: Tool calls (several make parallel calls).
        error: Answer with this HTTP error instead.
        fault: Inject this fault.
        finish: Finish reason; defaults to `tool_calls` with tool calls, else `stop`.
        usage: Token counts; estimated when absent.
        deltas: Number of text deltas in a stream (0 = one per word).
        chunk_delay_ms: Delay before each streamed event.
        headers: Extra response headers (e.g. `x-ratelimit-remaining-requests`).
        repeat: Answer every matching request instead of being consumed once.
    """

    when: Match | None = None
    text: str | None = None
    echo: bool = False
    thinking: tuple[Thinking, ...] = ()
    tool_calls: tuple[ToolCall, ...] = ()
    error: Error | None = None
    fault: Fault | None = None
    finish: FinishReason | None = None
    usage: Usage | None = None
    deltas: int = 0
    chunk_delay_ms: float = 0.0
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    repeat: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.deltas <= MAX_DELTAS:
            raise ValueError(f"deltas must be 0..{MAX_DELTAS}, got {self.deltas}")
        if self.text is not None and self.deltas > max(len(self.text), 1):
            raise ValueError(
                f"deltas={self.deltas} exceeds the text's {len(self.text)} characters; "
                "give a longer text or fewer deltas"
            )
        if not 0.0 <= self.chunk_delay_ms <= MAX_DELAY_MS:
            raise ValueError(f"chunk_delay_ms must be 0..{MAX_DELAY_MS}, got {self.chunk_delay_ms}")
        for name, value in self.headers.items():
            _check_header(name, value)


def _check_header(name: str, value: str) -> None:
    if not _HEADER_NAME.fullmatch(name) or "\r" in value or "\n" in value:
        raise ValueError(f"header {name!r} is not a valid HTTP header name and value")
    if name.lower() in FRAMING_HEADERS:
        raise ValueError(f"header {name!r} is set by the server itself and cannot be scripted")


ECHO = Step(echo=True, repeat=True)
"""The default step: echo the last user message."""


class Scenario(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A script of answers.

    Attributes:
        steps: Candidate steps; the first unconsumed one whose `when` matches answers.
        fallback: Answer used when no step matches (default: echo).
        accepted_api_keys: When set, requests carrying any other key are rejected the way
            the provider rejects an invalid key. Missing keys are always rejected.
        prompt_caching: Simulate prompt caching: steps without scripted cache tokens report
            cache reads (and Anthropic cache writes) from the prefixes seen before.
    """

    steps: tuple[Step, ...] = ()
    fallback: Step = ECHO
    accepted_api_keys: tuple[str, ...] | None = None
    prompt_caching: bool = False


class RequestView(msgspec.Struct, frozen=True):
    """What step selection and rendering need to know about an incoming request."""

    api: Api
    model: str
    user_text: str
    stream: bool
    flags: frozenset[str] = frozenset()


def matches(match: Match | None, view: RequestView) -> bool:
    """Tell whether a request meets a step's conditions."""
    if match is None:
        return True
    return (
        (match.api is None or match.api == view.api)
        and (match.model is None or match.model == view.model)
        and (match.user_text is None or match.user_text in view.user_text)
        and (match.stream is None or match.stream == view.stream)
    )


def select_step(
    scenario: Scenario, consumed: frozenset[int], view: RequestView
) -> tuple[int | None, Step]:
    """Pick the step answering a request.

    Returns:
        The index of the chosen step (None for the fallback) and the step itself.
    """
    for index, step in enumerate(scenario.steps):
        if index not in consumed and matches(step.when, view):
            return index, step
    return None, scenario.fallback
