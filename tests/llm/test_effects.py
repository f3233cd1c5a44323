"""Tests for LLM calls as effects: compact linear requests, the MessageBook fold, the performer's
error mapping, and a multi-turn conversation that is recorded, replayed and resumed offline."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from attractor.effects import (
    CallLlm,
    EffectCompleted,
    EffectError,
    EffectRequested,
    LiveInterpreter,
    LlmResponded,
    drive,
    effect_id,
    replay,
    request_effect,
)
from attractor.events import Emit, Entry, Event, EventLog
from attractor.llm import errors as e
from attractor.llm.client import Client
from attractor.llm.effects import (
    LlmRecordError,
    MessageBook,
    call_llm,
    effect_error,
    llm_performer,
    record_response,
    response_of,
)
from attractor.llm.runtime import ProviderConfig, Secret
from attractor.llm.types import Message, Request, ToolDefinition, Usage
from attractor.testing.scripted_llm import ScriptedAdapter, ScriptItem, text_response

KEY = "sk-very-secret-key-123"


def _client(*script: ScriptItem) -> tuple[Client, ScriptedAdapter]:
    adapter = ScriptedAdapter(script, name="s")
    configs = {"s": ProviderConfig(api_key=Secret(KEY))}
    return Client({"s": adapter}, default_provider="s", configs=configs), adapter


def _request(*texts: str) -> Request:
    return Request(model="m", provider="s", messages=tuple(Message.user(t) for t in texts))


def test_empty_book_records_every_message_and_expands_back() -> None:
    """Without history the compact form holds all messages and rebuilds the same request."""
    request = _request("a", "b")
    effect = call_llm(request)
    assert effect.request["prefix_digest"] == ""
    assert len(effect.request["new_messages"]) == 2
    assert (effect.provider, effect.model) == ("s", "m")
    assert MessageBook().expand(effect.request) == request


def test_known_prefix_is_recorded_by_digest_only() -> None:
    """Messages the book already holds are replaced by the prefix digest."""
    book = MessageBook()
    book.remember(_request("a", "b").messages)
    effect = call_llm(_request("a", "b", "c"), book)
    assert effect.request["prefix_length"] == 2
    assert book.size == 2
    assert [m["content"][0]["text"] for m in effect.request["new_messages"]] == ["c"]
    assert book.expand(effect.request) == _request("a", "b", "c")


def test_unknown_prefix_is_a_record_error() -> None:
    """A compact request whose prefix the book never saw cannot be rebuilt."""
    book = MessageBook()
    book.remember(_request("a").messages)
    effect = call_llm(_request("a", "b"), book)
    with pytest.raises(LlmRecordError, match="not in the log folded so far"):
        MessageBook().expand(effect.request)


def test_tampered_request_fails_its_digest() -> None:
    """Changing a recorded message is detected by the request digest."""
    effect = call_llm(_request("a"))
    data = dict(effect.request)
    data["new_messages"] = [msgspec.to_builtins(Message.user("b"))]
    with pytest.raises(LlmRecordError, match="digest"):
        MessageBook().expand(data)


def test_malformed_request_is_a_record_error() -> None:
    """Shapes that are not compact requests give a clear error, never a KeyError."""
    with pytest.raises(LlmRecordError, match="missing"):
        MessageBook().expand({"model": "m"})
    bad = {**call_llm(_request("a")).request, "new_messages": [{"role": 7}]}
    with pytest.raises(LlmRecordError, match="malformed"):
        MessageBook().expand(bad)


WEATHER = ToolDefinition("get_weather", "Weather by city", {"type": "object", "properties": {}})


def test_a_tool_list_the_log_holds_is_recorded_by_digest() -> None:
    """The second call with the same tools records their digest; expansion restores them."""
    book = MessageBook()
    first = msgspec.structs.replace(_request("a"), tools=(WEATHER,))
    effect = call_llm(first, book)
    assert not isinstance(effect.request["tools"], str)
    book.observe(request_effect("e1", effect))
    second = msgspec.structs.replace(_request("a", "b"), tools=(WEATHER,))
    compact = call_llm(second, book).request
    assert isinstance(compact["tools"], str)
    assert book.expand(compact) == second
    with pytest.raises(LlmRecordError, match="tool list"):
        MessageBook().expand({**compact, "prefix_digest": "", "prefix_length": 0})


def test_recorded_response_drops_raw_and_keeps_usage() -> None:
    """The recorded response is the unified one with usage; the raw provider body is dropped."""
    response = msgspec.structs.replace(
        text_response("hi", usage=Usage.of(3, 1, raw={"x": 1})), raw={"big": "body"}
    )
    recorded = record_response(response)
    assert "raw" not in recorded.response
    assert recorded.response["usage"] == {"input_tokens": 3, "output_tokens": 1, "total_tokens": 4}
    assert response_of(recorded.response).text == "hi"
    assert record_response(response, keep_raw=True).response["raw"] == {"big": "body"}


def test_performer_answers_with_the_recorded_response() -> None:
    """The performer sends the rebuilt request and records the response."""
    client, adapter = _client(text_response("hello"))
    outcome = asyncio.run(llm_performer(client)(call_llm(_request("hi"))))
    assert isinstance(outcome, LlmResponded)
    assert response_of(outcome.response).text == "hello"
    assert adapter.calls[0].request == _request("hi")


def test_performer_maps_provider_errors_and_scrubs_keys() -> None:
    """A 401 is a non-retryable `permission` error naming provider and status, key redacted."""
    client, _ = _client(e.AuthenticationError(f"bad key {KEY}", provider="s", status_code=401))
    outcome = asyncio.run(llm_performer(client)(call_llm(_request("hi"))))
    assert outcome == EffectError(
        kind="permission",
        message="s 401: AuthenticationError: bad key <redacted>",
        retryable=False,
    )


@pytest.mark.parametrize(
    ("error", "kind", "retryable"),
    [
        (e.RateLimitError("slow", provider="s", status_code=429), "error", True),
        (e.NotFoundError("no model", provider="s", status_code=404), "not_found", False),
        (e.InvalidRequestError("bad", provider="s", status_code=400), "invalid", False),
        (e.RequestTimeoutError("late"), "timeout", False),
        (e.NetworkError("reset"), "error", True),
    ],
)
def test_error_kinds(error: e.SDKError, kind: str, retryable: bool) -> None:
    """Typed LLM errors map to effect error kinds and keep their retryable flag."""
    mapped = effect_error(error)
    assert (mapped.kind, mapped.retryable) == (kind, retryable)


def test_performer_refuses_a_request_it_cannot_rebuild() -> None:
    """An unknown prefix is an `invalid` effect error, and the provider is never called."""
    book = MessageBook()
    book.remember(_request("a").messages)
    client, adapter = _client()
    outcome = asyncio.run(llm_performer(client)(call_llm(_request("a", "b"), book)))
    assert isinstance(outcome, EffectError)
    assert outcome.kind == "invalid"
    assert not adapter.calls


_texts = st.lists(st.text(max_size=12), min_size=1, max_size=8)


@given(texts=_texts, known=st.integers(0, 8), temperature=st.none() | st.floats(0, 2))
def test_compact_round_trips_and_records_only_the_unknown_suffix(
    texts: list[str], known: int, temperature: float | None
) -> None:
    """For any conversation and known prefix, expand(compact(r)) == r and only the suffix is new."""
    request = msgspec.structs.replace(_request(*texts), temperature=temperature)
    book = MessageBook()
    known = min(known, len(texts))
    book.remember(request.messages[:known])
    effect = call_llm(request, book)
    assert effect.request["prefix_length"] == known
    assert len(effect.request["new_messages"]) == len(texts) - known
    assert book.expand(effect.request) == request
    decoded = msgspec.json.decode(msgspec.json.encode(effect), type=CallLlm)
    assert book.expand(decoded.request) == request


# ---------------------------------------------------------------------------------------------
# A conversation machine: each turn sends the whole conversation so far.


class ChatStarted(Event, frozen=True, tag="test.llm_chat.started"):
    """The chat's user turns."""

    turns: tuple[str, ...]


class ChatFinished(Event, frozen=True, tag="test.llm_chat.finished"):
    """Every turn was answered."""


class ChatState(msgspec.Struct, frozen=True):
    """The turns, the conversation so far, and the effect awaited."""

    turns: tuple[str, ...] | None = None
    messages: tuple[Message, ...] = ()
    answered: int = 0
    waiting: bool = False
    finished: bool = False


class ChatMachine:
    """Asks the LLM once per user turn, carrying the whole conversation each time."""

    def __init__(self, turns: tuple[str, ...]) -> None:
        self.turns = turns
        self.book = MessageBook()

    def initial(self) -> ChatState:
        return ChatState()

    def reduce(self, state: ChatState, entry: Entry) -> ChatState:
        self.book.observe(entry.event)
        replace = msgspec.structs.replace
        match entry.event:
            case ChatStarted(turns=turns):
                return replace(state, turns=turns)
            case EffectRequested(request=CallLlm(request=data)):
                return replace(state, messages=self.book.expand(data).messages, waiting=True)
            case EffectCompleted(result=LlmResponded(response=body)):
                messages = (*state.messages, response_of(body).message)
                return replace(state, messages=messages, answered=state.answered + 1, waiting=False)
            case ChatFinished():
                return replace(state, finished=True)
            case _:
                return state

    def decide(self, state: ChatState) -> list[Emit]:
        if state.turns is None:
            return [("run", ChatStarted(turns=self.turns))]
        if state.waiting or state.finished:
            return []
        if state.answered == len(state.turns):
            return [("run", ChatFinished())]
        messages = (*state.messages, Message.user(state.turns[state.answered]))
        request = Request(model="m", provider="s", messages=messages)
        eid = effect_id("run/chat", "turn", state.answered)
        return [("run/chat", request_effect(eid, call_llm(request, self.book)))]

    def is_done(self, state: ChatState) -> bool:
        return state.finished


TURNS = tuple(f"question number {i:02d}" for i in range(12))


def _answer(request: Request, _ctx: object) -> ScriptItem:
    return text_response(f"answer {len(request.messages):02d}", usage=Usage.of(5, 2))


async def _live(log_path: Path, adapter: ScriptedAdapter, max_steps: int | None = None) -> object:
    configs = {"s": ProviderConfig(Secret(KEY))}
    client = Client({"s": adapter}, default_provider="s", configs=configs)
    machine = ChatMachine(TURNS)
    with EventLog.open(log_path, fsync=False) as log:
        interpreter = LiveInterpreter(
            log.blobs, performers={CallLlm: llm_performer(client, machine.book)}
        )
        return await drive(machine, log, interpreter, max_steps=max_steps)


def _requested_lines(log_path: Path) -> list[dict[str, object]]:
    rows = [json.loads(line) for line in log_path.read_text().splitlines()]
    return [r for r in rows if r["type"] == "effect.requested"]


def test_conversation_log_grows_linearly_and_holds_no_secret(tmp_path: Path) -> None:
    """Each turn records only its new user message; the key never reaches the log."""
    log_path = tmp_path / "events.jsonl"
    adapter = ScriptedAdapter(name="s", responder=_answer)
    asyncio.run(_live(log_path, adapter))
    assert [len(c.request.messages) for c in adapter.calls] == [2 * i + 1 for i in range(12)]
    requested = _requested_lines(log_path)
    compact = [r["request"]["request"] for r in requested]  # type: ignore[index]
    assert [len(c["new_messages"]) for c in compact] == [1] * 12
    assert [c["prefix_length"] for c in compact] == [2 * i for i in range(12)]
    sizes = [len(json.dumps(r)) for r in requested]
    assert max(sizes) - min(sizes) < 120  # constant per turn: no quadratic growth
    assert KEY not in log_path.read_text()


def test_recorded_conversation_replays_without_the_provider(tmp_path: Path) -> None:
    """Replay with a fresh machine reproduces the log byte for byte and calls nothing."""
    log_path = tmp_path / "events.jsonl"
    adapter = ScriptedAdapter(name="s", responder=_answer)
    asyncio.run(_live(log_path, adapter))
    calls = len(adapter.calls)
    result = asyncio.run(replay(ChatMachine(TURNS), log_path))
    assert result.stopped == "done"
    assert result.state.answered == len(TURNS)
    assert len(adapter.calls) == calls


def test_resume_rebuilds_the_book_from_the_log(tmp_path: Path) -> None:
    """After a stop mid-conversation, a new process folds the log and sends full requests."""
    log_path = tmp_path / "events.jsonl"
    first = ScriptedAdapter(name="s", responder=_answer)
    stopped = asyncio.run(_live(log_path, first, max_steps=8))
    assert getattr(stopped, "stopped", None) == "step-limit"
    second = ScriptedAdapter(name="s", responder=_answer)
    resumed = asyncio.run(_live(log_path, second))
    assert getattr(resumed, "stopped", None) == "done"
    assert second.calls
    assert len(second.calls[0].request.messages) > 1
    assert [len(c.request.messages) for c in second.calls][-1] == 2 * len(TURNS) - 1
    assert asyncio.run(replay(ChatMachine(TURNS), log_path)).stopped == "done"
