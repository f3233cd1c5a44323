"""Tests for UnifiedLlmCodergenBackend and `backend_from_spec("llm")`: model choice, fidelity,
usage, errors as FAIL/RETRY outcomes, and a recorded pipeline run that replays offline."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec
import pytest

from attractor.events import read_log
from attractor.llm import errors as e
from attractor.llm.client import Client
from attractor.llm.codergen import UnifiedLlmCodergenBackend, stage_messages, usage_counts
from attractor.llm.types import Role, Usage
from attractor.pipeline.backends import (
    BackendSpecError,
    LlmBackend,
    backend_from_spec,
    llm_backend,
)
from attractor.pipeline.model import CodergenCall, StageStatus
from attractor.pipeline.run import RunOptions, replay_run, start_run
from attractor.testing.scripted_llm import ScriptedAdapter, ScriptItem, text_response

KEY_VARS = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "OPENAI_COMPATIBLE_API_KEY",
    "OPENAI_COMPATIBLE_BASE_URL",
)


def _call(**fields: object) -> CodergenCall:
    base: dict[str, object] = {"node_id": "plan", "prompt": "Plan it", "attempt": 1}
    return msgspec.convert({"stage_dir": "", **base, **fields}, CodergenCall)


def _backend(
    *script: ScriptItem, name: str = "anthropic"
) -> tuple[UnifiedLlmCodergenBackend, ScriptedAdapter]:
    adapter = ScriptedAdapter(script, name=name)
    client = Client({name: adapter}, default_provider=name)
    return UnifiedLlmCodergenBackend(client, max_retries=0), adapter


def _run(backend: UnifiedLlmCodergenBackend, call: CodergenCall) -> object:
    return asyncio.run(backend.run(call))


def test_node_model_provider_and_effort_reach_the_request() -> None:
    """llm_model, llm_provider and reasoning_effort from the node attributes are sent."""
    backend, adapter = _backend(text_response("ok"))
    attrs = {
        "llm_model": "claude-sonnet-4-5",
        "llm_provider": "anthropic",
        "reasoning_effort": "low",
    }
    _run(backend, _call(node_attrs=attrs))
    request = adapter.calls[0].request
    assert (request.model, request.provider, request.reasoning_effort) == (
        "claude-sonnet-4-5",
        "anthropic",
        "low",
    )


def test_catalogued_model_routes_to_its_provider() -> None:
    """A catalogued llm_model without llm_provider goes to that model's registered provider."""
    openai, anthropic = ScriptedAdapter(name="openai"), ScriptedAdapter([text_response("a")])
    client = Client({"openai": openai, "anthropic": anthropic}, default_provider="openai")
    asyncio.run(UnifiedLlmCodergenBackend(client).run(_call(node_attrs={"llm_model": "opus"})))
    assert not openai.calls
    assert anthropic.calls[0].request.provider == "anthropic"


def test_missing_model_uses_the_providers_latest_catalogued_model() -> None:
    """Without llm_model the default provider's newest catalogued model answers."""
    backend, adapter = _backend(text_response("ok"))
    _run(backend, _call())
    assert adapter.calls[0].request.model == "claude-opus-4-6"


def test_reasoning_effort_is_dropped_for_models_without_reasoning() -> None:
    """A catalogued model that cannot reason gets no reasoning_effort."""
    backend, adapter = _backend(text_response("ok"), name="openai")
    _run(backend, _call(node_attrs={"llm_model": "gpt-4o", "reasoning_effort": "high"}))
    assert adapter.calls[0].request.reasoning_effort is None


def test_full_fidelity_sends_the_thread_history_as_turns() -> None:
    """`full` fidelity replays earlier (prompt, response) turns before the prompt."""
    call = _call(fidelity="full", history=[["p1", "r1"], ["p2", "r2"]], preamble="ignored")
    messages = stage_messages(call)
    assert [(m.role, m.text) for m in messages] == [
        (Role.USER, "p1"),
        (Role.ASSISTANT, "r1"),
        (Role.USER, "p2"),
        (Role.ASSISTANT, "r2"),
        (Role.USER, "Plan it"),
    ]


def test_other_fidelities_prepend_the_preamble() -> None:
    """Non-full fidelity sends one user message: the preamble, then the prompt."""
    (message,) = stage_messages(_call(fidelity="compact", preamble="Goal: x\n"))
    assert message.text == "Goal: x\n\nPlan it"


def test_reply_carries_text_and_usage() -> None:
    """The reply holds the answer and its token counts, optional ones only when reported."""
    usage = Usage.of(12, 5, reasoning_tokens=2)
    backend, _ = _backend(text_response("the plan", usage=usage))
    reply = asyncio.run(backend.run(_call()))
    assert reply.response == "the plan"
    assert reply.usage == {
        "input_tokens": 12,
        "output_tokens": 5,
        "total_tokens": 17,
        "reasoning_tokens": 2,
    }
    assert usage_counts(Usage()) == {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}


def test_permanent_provider_error_is_a_fail_naming_provider_and_status() -> None:
    """A 401 becomes FAIL whose reason names the provider, status and error class."""
    backend, _ = _backend(e.AuthenticationError("bad key", provider="anthropic", status_code=401))
    reply = asyncio.run(backend.run(_call()))
    assert reply.outcome is not None
    assert reply.outcome.status == "fail"
    assert reply.outcome.failure_reason == "anthropic 401: AuthenticationError: bad key"


def test_retryable_provider_error_is_a_retry() -> None:
    """A 429 becomes RETRY so the engine retries the stage."""
    backend, _ = _backend(e.RateLimitError("slow down", provider="anthropic", status_code=429))
    reply = asyncio.run(backend.run(_call()))
    assert reply.outcome is not None
    assert reply.outcome.status == "retry"
    assert "429" in reply.outcome.failure_reason


def test_no_model_at_all_is_a_clear_fail() -> None:
    """A provider with no catalogued model and no llm_model gives a FAIL saying what to set."""
    backend, adapter = _backend(name="custom")
    reply = asyncio.run(backend.run(_call()))
    assert reply.outcome is not None
    assert reply.outcome.status == "fail"
    assert "llm_model" in reply.outcome.failure_reason
    assert not adapter.calls


def test_pipeline_wrapper_returns_a_codergen_reply() -> None:
    """LlmBackend answers with the pipeline's CodergenReply type (same JSON shape)."""
    adapter = ScriptedAdapter([e.ServerError("down", provider="anthropic", status_code=503)])
    wrapped = llm_backend(Client({"anthropic": adapter}, default_provider="anthropic"))
    wrapped.inner.max_retries = 0
    reply = asyncio.run(wrapped.run(_call()))
    assert reply.outcome is not None
    assert reply.outcome.status == StageStatus.RETRY


def test_backend_spec_llm_without_keys_names_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """`--backend llm` with no provider key set is a BackendSpecError naming the env vars."""
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)
    names = r"OPENAI_API_KEY.*ANTHROPIC_API_KEY.*GEMINI_API_KEY"
    with pytest.raises(BackendSpecError, match=names):
        backend_from_spec("llm")


def test_backend_spec_llm_builds_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a key set, `llm` builds the unified backend over that provider."""
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    backend = backend_from_spec("llm")
    assert isinstance(backend, LlmBackend)
    assert backend.inner.client.provider_names == ("openai",)
    with pytest.raises(BackendSpecError, match="'llm'"):
        backend_from_spec("llm:extra")


STYLE = "* { llm_model: claude-haiku-4-5; reasoning_effort: low; }"
PIPELINE = "\n".join(
    [
        "digraph p {",
        f'    graph [goal="greet", model_stylesheet="{STYLE}"]',
        "    start [shape=Mdiamond]; done [shape=Msquare]",
        '    plan [shape=box, prompt="Plan: $goal", fidelity="full", thread_id="t"]',
        '    build [shape=box, prompt="Build it", fidelity="full", thread_id="t"]',
        "    start -> plan -> build -> done",
        "}",
    ]
)


def _recorded_usage(run_dir: Path) -> list[dict[str, int]]:
    out = []
    for entry in read_log(run_dir / "events.jsonl"):
        result = getattr(entry.event, "result", None)
        value = getattr(result, "value", None)
        if isinstance(value, dict) and "usage" in value:
            out.append(value["usage"])
    return out


def test_pipeline_run_records_usage_and_replays_without_the_llm(tmp_path: Path) -> None:
    """A run with the llm backend records each stage's usage; replay reproduces it offline."""
    dot = tmp_path / "p.dot"
    dot.write_text(PIPELINE)
    adapter = ScriptedAdapter(
        [
            text_response("plan A", usage=Usage.of(7, 3)),
            text_response("built", usage=Usage.of(9, 4)),
        ],
        name="anthropic",
    )
    backend = llm_backend(Client({"anthropic": adapter}, default_provider="anthropic"))
    options = RunOptions(backend="llm", logs_root=str(tmp_path / "runs"), fsync=False)
    result = asyncio.run(start_run(dot, options, backend=backend))
    assert result.state.finished is not None
    assert [c.request.model for c in adapter.calls] == ["claude-haiku-4-5"] * 2
    assert adapter.calls[0].request.reasoning_effort == "low"
    build = adapter.calls[1].request.messages
    assert [(m.role, m.text) for m in build] == [
        (Role.USER, "Plan: greet"),
        (Role.ASSISTANT, "plan A"),
        (Role.USER, "Build it"),
    ]
    assert _recorded_usage(result.run_dir) == [
        {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10},
        {"input_tokens": 9, "output_tokens": 4, "total_tokens": 13},
    ]
    replayed = asyncio.run(replay_run(result.run_dir))
    assert replayed.stopped == "done"
    assert len(adapter.calls) == 2


def test_watched_stage_streams_its_text_as_deltas_with_the_same_reply() -> None:
    """With a delta sink installed the backend streams: the deltas spell the response, and the
    reply (what the log records) is the one `generate` gives."""
    from attractor.effects.deltas import Delta, deltas_to

    text = "a haiku about ponds and frogs"
    plain, _ = _backend(text_response(text))
    streamed, adapter = _backend(text_response(text))
    got: list[Delta] = []
    with deltas_to(got.append):
        watched = _run(streamed, _call(stream="run/fan@2:0"))
    assert watched == _run(plain, _call())
    assert "".join(d.text for d in got) == text
    assert len(got) > 1
    assert {(d.stream, d.node) for d in got} == {("run/fan@2:0", "plan")}
    assert adapter.calls[0].method == "stream"
