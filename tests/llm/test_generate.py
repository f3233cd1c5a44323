"""Tests for generate(): prompts, tool loops, parallel tools, retries, timeouts, abort, objects."""

import asyncio
import threading
import time
from typing import Any

import pytest

from attractor.llm import errors as e
from attractor.llm.abort import AbortController, AbortSignal, TimeoutConfig
from attractor.llm.client import Client
from attractor.llm.generate import generate, generate_object, generate_sync
from attractor.llm.retry import RetryPolicy
from attractor.llm.tools import Tool
from attractor.llm.types import Message, Role, ToolCall, Usage
from attractor.testing.scripted_llm import (
    ScriptedAdapter,
    ScriptItem,
    text_response,
    tool_call_response,
)

pytestmark = pytest.mark.anyio

FAST = RetryPolicy(base_delay=0.001, jitter=False)
WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def _setup(*script: ScriptItem, delay: float = 0.0) -> tuple[Client, ScriptedAdapter]:
    adapter = ScriptedAdapter(script, name="s", delay=delay)
    return Client({"s": adapter}, default_provider="s"), adapter


def _weather(log: list[str] | None = None) -> Tool:
    def get_weather(city: str) -> str:
        if log is not None:
            log.append(city)
        return f"sunny in {city}"

    return Tool("get_weather", "Weather by city", WEATHER, get_weather)


async def test_prompt_becomes_user_message_after_system() -> None:
    """prompt and system become [system, user] messages."""
    client, adapter = _setup(text_response("hi"))
    result = await generate("m", "Hello", system="Be brief", client=client)
    assert result.text == "hi"
    msgs = adapter.calls[0].request.messages
    assert [m.role for m in msgs] == [Role.SYSTEM, Role.USER]
    assert msgs[1].text == "Hello"


async def test_messages_are_sent_as_given() -> None:
    """A full messages list is sent unchanged."""
    client, adapter = _setup(text_response("ok"))
    convo = [Message.user("a"), Message.assistant("b"), Message.user("c")]
    await generate("m", messages=convo, client=client)
    assert list(adapter.calls[0].request.messages) == convo


async def test_prompt_and_messages_together_rejected() -> None:
    """Passing both prompt and messages is an error."""
    client, _ = _setup()
    with pytest.raises(e.InvalidValueError, match="not both"):
        await generate("m", "x", messages=[Message.user("y")], client=client)


async def test_neither_prompt_nor_messages_rejected() -> None:
    """Passing neither prompt nor messages is an error."""
    client, _ = _setup()
    with pytest.raises(e.InvalidValueError, match="pass `prompt`"):
        await generate("m", client=client)


async def test_unknown_argument_rejected() -> None:
    """A misspelled keyword argument gives a clear error, not a TypeError."""
    client, _ = _setup()
    with pytest.raises(e.InvalidValueError, match="temprature"):
        await generate("m", "x", temprature=0.5, client=client)


async def test_generation_params_reach_request() -> None:
    """Sampling parameters and provider options land on the Request."""
    client, adapter = _setup(text_response("ok"))
    await generate(
        "m", "x", temperature=0.2, max_tokens=9, stop_sequences=["END"],
        reasoning_effort="low", provider_options={"s": {"k": 1}}, client=client,
    )  # fmt: skip
    req = adapter.calls[0].request
    assert (req.temperature, req.max_tokens, req.stop_sequences) == (0.2, 9, ("END",))
    assert (req.reasoning_effort, req.provider_options) == ("low", {"s": {"k": 1}})


async def test_single_tool_round() -> None:
    """A tool call is executed and its result sent back in one continuation."""
    log: list[str] = []
    client, adapter = _setup(
        tool_call_response(("get_weather", {"city": "SF"})), text_response("done")
    )
    result = await generate("m", "weather?", tools=[_weather(log)], client=client)
    assert result.text == "done"
    assert log == ["SF"]
    assert len(result.steps) == 2
    second = adapter.calls[1].request.messages
    assert second[-2].role == Role.ASSISTANT
    assert second[-1].role == Role.TOOL
    assert second[-1].tool_call_id == "call_1"
    assert result.steps[0].tool_results[0].content == "sunny in SF"


async def test_total_usage_sums_steps() -> None:
    """total_usage adds every step's usage; usage is the last step's."""
    client, _ = _setup(
        tool_call_response(("get_weather", {"city": "A"}), usage=Usage.of(10, 1)),
        text_response("done", usage=Usage.of(20, 2)),
    )
    result = await generate("m", "x", tools=[_weather()], client=client)
    assert result.total_usage == Usage.of(30, 3)
    assert result.usage == Usage.of(20, 2)


async def test_max_tool_rounds_zero_returns_calls() -> None:
    """max_tool_rounds=0 makes one call and returns the tool calls unexecuted."""
    log: list[str] = []
    client, adapter = _setup(tool_call_response(("get_weather", {"city": "A"})))
    result = await generate("m", "x", tools=[_weather(log)], max_tool_rounds=0, client=client)
    assert len(adapter.calls) == 1
    assert log == []
    assert result.tool_calls[0].name == "get_weather"
    assert result.tool_results == ()


async def test_max_tool_rounds_caps_llm_calls() -> None:
    """At most max_tool_rounds + 1 LLM calls are made; the last calls are not executed."""
    calls = [tool_call_response(("get_weather", {"city": str(i)})) for i in range(5)]
    log: list[str] = []
    client, adapter = _setup(*calls)
    result = await generate("m", "x", tools=[_weather(log)], max_tool_rounds=2, client=client)
    assert len(adapter.calls) == 3
    assert log == ["0", "1"]
    assert result.tool_calls
    assert not result.tool_results


async def test_multi_step_loop_three_rounds() -> None:
    """A loop of three tool rounds then text gives four steps."""
    script = [tool_call_response(("get_weather", {"city": c})) for c in "ABC"]
    client, _ = _setup(*script, text_response("all done"))
    result = await generate("m", "x", tools=[_weather()], max_tool_rounds=5, client=client)
    assert len(result.steps) == 4
    assert result.text == "all done"


async def test_parallel_tools_run_concurrently_and_keep_order() -> None:
    """N tool calls run at once; results keep call order though they finish out of order."""
    inside: list[str] = []
    all_in = asyncio.Event()
    finished: list[str] = []

    async def slow(city: str) -> str:
        inside.append(city)
        if len(inside) == 3:
            all_in.set()
        await asyncio.wait_for(all_in.wait(), timeout=10)  # only if all three run at once
        await asyncio.sleep({"A": 0.03, "B": 0.0, "C": 0.01}[city])
        finished.append(city)
        return city

    tool = Tool("get_weather", "", WEATHER, slow)
    first = tool_call_response(*[("get_weather", {"city": c}) for c in "ABC"])
    client, adapter = _setup(first, text_response("ok"))
    result = await generate("m", "x", tools=[tool], client=client)
    assert finished != ["A", "B", "C"]  # they finished out of call order …
    assert [r.content for r in result.steps[0].tool_results] == ["A", "B", "C"]  # … kept in it
    continuation = adapter.calls[1].request.messages
    assert [m.tool_call_id for m in continuation[-3:]] == ["call_1", "call_2", "call_3"]


async def test_sync_handlers_run_in_parallel() -> None:
    """Blocking handlers run in threads, so parallel calls overlap."""
    barrier = threading.Barrier(3, timeout=10)  # broken (an error result) unless all overlap

    def block(city: str) -> str:
        barrier.wait()
        return city

    tool = Tool("get_weather", "", WEATHER, block)
    first = tool_call_response(*[("get_weather", {"city": c}) for c in "ABC"])
    client, _ = _setup(first, text_response("ok"))
    result = await generate("m", "x", tools=[tool], client=client)
    assert [r.content for r in result.steps[0].tool_results] == ["A", "B", "C"]


async def test_partial_failure_sends_all_results() -> None:
    """A failing handler gives is_error for its call; the others still succeed."""

    def flaky(city: str) -> str:
        if city == "B":
            raise RuntimeError("station offline")
        return city

    first = tool_call_response(*[("get_weather", {"city": c}) for c in "ABC"])
    client, _ = _setup(first, text_response("ok"))
    result = await generate(
        "m", "x", tools=[Tool("get_weather", "", WEATHER, flaky)], client=client
    )
    results = result.steps[0].tool_results
    assert [r.is_error for r in results] == [False, True, False]
    assert "station offline" in str(results[1].content)


async def test_unknown_tool_gets_error_result() -> None:
    """A call to an undefined tool becomes an error result, not an exception."""
    client, _ = _setup(tool_call_response(("teleport", {})), text_response("sorry"))
    result = await generate("m", "x", tools=[_weather()], client=client)
    res = result.steps[0].tool_results[0]
    assert res.is_error
    assert "Unknown tool: teleport" in str(res.content)


async def test_invalid_json_arguments_get_error_result() -> None:
    """Arguments that are not JSON go back as an error result."""
    bad = ToolCall(id="c1", name="get_weather", raw_arguments="{city: SF")
    client, _ = _setup(tool_call_response(bad), text_response("ok"))
    result = await generate("m", "x", tools=[_weather()], client=client)
    res = result.steps[0].tool_results[0]
    assert res.is_error
    assert "not a JSON object" in str(res.content)


async def test_schema_violation_gets_error_with_path() -> None:
    """Arguments breaking the schema give an error naming the field."""
    client, _ = _setup(tool_call_response(("get_weather", {"city": 5})), text_response("ok"))
    result = await generate("m", "x", tools=[_weather()], client=client)
    res = result.steps[0].tool_results[0]
    assert res.is_error
    assert "arguments.city" in str(res.content)


async def test_repair_hook_fixes_arguments() -> None:
    """A repair hook may fix invalid arguments before execution."""
    log: list[str] = []

    def repair(call: ToolCall, error: e.InvalidToolCallError) -> ToolCall:
        return ToolCall(call.id, call.name, {"city": str(call.arguments["city"])})

    client, _ = _setup(tool_call_response(("get_weather", {"city": 5})), text_response("ok"))
    result = await generate("m", "x", tools=[_weather(log)], repair_tool_call=repair, client=client)
    assert log == ["5"]
    assert not result.steps[0].tool_results[0].is_error


async def test_passive_tool_returns_calls_to_caller() -> None:
    """A call to a tool without handler stops the loop and returns the call."""
    passive = Tool("approve", "needs a human", {"type": "object", "properties": {}})
    client, adapter = _setup(tool_call_response(("approve", {})))
    result = await generate("m", "x", tools=[passive, _weather()], max_tool_rounds=3, client=client)
    assert len(adapter.calls) == 1
    assert result.tool_calls[0].name == "approve"


async def test_stop_when_ends_loop() -> None:
    """stop_when(steps) == True ends the loop after executing that step's tools."""
    client, adapter = _setup(tool_call_response(("get_weather", {"city": "A"})), text_response("x"))
    result = await generate(
        "m", "x", tools=[_weather()], max_tool_rounds=5, stop_when=lambda steps: True, client=client
    )
    assert len(adapter.calls) == 1
    assert result.tool_results[0].content == "sunny in A"


async def test_tool_context_injection() -> None:
    """Handlers declaring messages/tool_call_id/abort_signal receive them."""
    seen: dict[str, Any] = {}

    def handler(city: str, messages: list[Message], tool_call_id: str, abort_signal: Any) -> str:
        seen.update(city=city, n=len(messages), id=tool_call_id, signal=abort_signal)
        return "ok"

    controller = AbortController()
    client, _ = _setup(tool_call_response(("get_weather", {"city": "A"})), text_response("x"))
    await generate(
        "m", "x", tools=[Tool("get_weather", "", WEATHER, handler)],
        abort_signal=controller.signal, client=client,
    )  # fmt: skip
    assert seen == {"city": "A", "n": 1, "id": "call_1", "signal": controller.signal}


async def test_handler_taking_arguments_dict() -> None:
    """A handler with an `arguments` parameter gets the whole argument dict."""
    got: list[dict[str, Any]] = []

    def handler(arguments: dict[str, Any]) -> str:
        got.append(arguments)
        return "ok"

    tool = Tool("get_weather", "", WEATHER, handler)
    client, _ = _setup(tool_call_response(("get_weather", {"city": "Z"})), text_response("x"))
    await generate("m", "x", tools=[tool], client=client)
    assert got == [{"city": "Z"}]


async def test_transient_errors_retried_per_step() -> None:
    """A 500 on step 2 retries only step 2; step 1's tools are not re-run."""
    log: list[str] = []
    client, adapter = _setup(
        tool_call_response(("get_weather", {"city": "A"})),
        e.ServerError("boom", provider="s", status_code=500),
        text_response("done"),
    )
    result = await generate("m", "x", tools=[_weather(log)], retry_policy=FAST, client=client)
    assert result.text == "done"
    assert log == ["A"]
    assert len(adapter.calls) == 3


async def test_non_retryable_error_raised_at_once() -> None:
    """A 401 is raised without retry."""
    client, adapter = _setup(e.AuthenticationError("bad key", provider="s", status_code=401))
    with pytest.raises(e.AuthenticationError):
        await generate("m", "x", retry_policy=FAST, client=client)
    assert len(adapter.calls) == 1


async def test_rate_limit_retried_transparently() -> None:
    """A 429 with a short Retry-After is retried and succeeds."""
    client, _ = _setup(
        e.RateLimitError("slow", provider="s", status_code=429, retry_after=0.01),
        text_response("ok"),
    )
    assert (await generate("m", "x", retry_policy=FAST, client=client)).text == "ok"


async def test_max_retries_zero_disables_retry() -> None:
    """max_retries=0 raises the first transient error."""
    client, _ = _setup(e.ServerError("boom", provider="s"), text_response("never"))
    with pytest.raises(e.ServerError):
        await generate("m", "x", max_retries=0, client=client)


async def test_total_timeout() -> None:
    """A total timeout shorter than the call raises RequestTimeoutError."""
    client, _ = _setup(text_response("late"), delay=30.0)
    start = time.perf_counter()
    with pytest.raises(e.RequestTimeoutError, match="total timeout"):
        await generate("m", "x", timeout=0.05, client=client)
    assert time.perf_counter() - start < 10  # the call itself would take 30 s


async def test_per_step_timeout() -> None:
    """A per-step timeout bounds each LLM call."""
    client, _ = _setup(text_response("late"), delay=30.0)
    with pytest.raises(e.RequestTimeoutError, match="per-step"):
        await generate("m", "x", timeout=TimeoutConfig(per_step=0.05), max_retries=0, client=client)


async def test_abort_signal_cancels_generate() -> None:
    """Aborting while the call runs raises AbortError promptly."""
    client, _ = _setup(text_response("late"), delay=30.0)
    controller = AbortController()
    asyncio.get_running_loop().call_later(0.03, controller.abort, "user pressed stop")
    start = time.perf_counter()
    with pytest.raises(e.AbortError, match="user pressed stop"):
        await generate("m", "x", abort_signal=controller.signal, client=client)
    assert time.perf_counter() - start < 10  # the call itself would take 30 s


async def test_already_aborted_signal_makes_no_call() -> None:
    """An already-fired signal raises before any provider call."""
    client, adapter = _setup(text_response("x"))
    controller = AbortController()
    controller.abort()
    with pytest.raises(e.AbortError):
        await generate("m", "x", abort_signal=controller.signal, client=client)
    assert adapter.calls == []


async def test_abort_from_another_thread() -> None:
    """abort() from a different thread wakes the waiting call."""
    signal_holder = AbortController()
    client, _ = _setup(text_response("late"), delay=1.0)
    loop = asyncio.get_running_loop()
    loop.call_later(0.02, lambda: loop.run_in_executor(None, signal_holder.abort))
    with pytest.raises(e.AbortError):
        await generate("m", "x", abort_signal=signal_holder.signal, client=client)
    assert isinstance(signal_holder.signal, AbortSignal)


PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
}


async def test_generate_object_parses_and_validates() -> None:
    """generate_object returns the validated object and asks for json_schema output."""
    client, adapter = _setup(text_response('```json\n{"name": "Alice", "age": 30}\n```'))
    result = await generate_object("m", "Alice is 30", schema=PERSON, client=client)
    assert result.output == {"name": "Alice", "age": 30}
    fmt = adapter.calls[0].request.response_format
    assert fmt is not None
    assert (fmt.type, fmt.json_schema, fmt.strict) == ("json_schema", PERSON, True)


async def test_generate_object_invalid_json() -> None:
    """Non-JSON output raises NoObjectGeneratedError."""
    client, _ = _setup(text_response("I cannot do that"))
    with pytest.raises(e.NoObjectGeneratedError, match="not valid JSON"):
        await generate_object("m", "x", schema=PERSON, client=client)


async def test_generate_object_schema_mismatch_not_retried() -> None:
    """Output breaking the schema raises NoObjectGeneratedError after one call."""
    client, adapter = _setup(text_response('{"name": "Alice", "age": "thirty"}'))
    with pytest.raises(e.NoObjectGeneratedError, match="at age"):
        await generate_object("m", "x", schema=PERSON, client=client)
    assert len(adapter.calls) == 1


def test_generate_sync() -> None:
    """generate_sync runs generate without an event loop."""
    adapter = ScriptedAdapter([text_response("sync ok")], name="s")
    client = Client({"s": adapter}, default_provider="s")
    assert generate_sync("m", "x", client=client).text == "sync ok"


async def test_generate_sync_inside_loop_is_clear_error() -> None:
    """generate_sync inside a running loop tells the caller to await generate()."""
    client, _ = _setup(text_response("x"))
    with pytest.raises(e.InvalidValueError, match="await the async version"):
        generate_sync("m", "x", client=client)
