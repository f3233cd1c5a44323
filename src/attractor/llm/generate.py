"""High-level generation (spec §4.3, §4.5, §5.6): `generate` and `generate_object`.

Layer: llm (shell). Rule: the tool loop is the spec's loop, step by step — each LLM call is
retried on its own (never earlier steps), bounded by the per-step and total timeouts and the
abort signal; tool failures go back to the model as error results; the result records every
step and the total usage.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import msgspec

from attractor.llm.abort import AbortSignal, Deadline, TimeoutConfig, guarded
from attractor.llm.client import Client, get_default_client
from attractor.llm.errors import InvalidValueError, NoObjectGeneratedError
from attractor.llm.partial_json import extract_json_text
from attractor.llm.retry import RetryPolicy, retry
from attractor.llm.runtime import Runtime
from attractor.llm.tools import RepairHook, Tool, ToolRun, execute_tools
from attractor.llm.types import (
    FinishReason,
    Message,
    Request,
    Response,
    ResponseFormat,
    ResponseWarning,
    ToolCall,
    ToolChoice,
    ToolResult,
    Usage,
)

__all__ = [
    "GenerateOptions",
    "GenerateResult",
    "StepResult",
    "StopCondition",
    "generate",
    "generate_object",
    "generate_object_sync",
    "generate_sync",
    "parse_object",
]


class StepResult(msgspec.Struct, frozen=True):
    """One LLM call of a (possibly multi-step) generation (spec §4.3)."""

    text: str
    reasoning: str | None
    tool_calls: tuple[ToolCall, ...]
    tool_results: tuple[ToolResult, ...]
    finish_reason: FinishReason
    usage: Usage
    response: Response
    warnings: tuple[ResponseWarning, ...] = ()


class GenerateResult(msgspec.Struct, frozen=True):
    """Outcome of `generate()`: the final step's view plus all steps and total usage."""

    text: str
    reasoning: str | None
    tool_calls: tuple[ToolCall, ...]
    tool_results: tuple[ToolResult, ...]
    finish_reason: FinishReason
    usage: Usage
    total_usage: Usage
    steps: tuple[StepResult, ...]
    response: Response
    output: Any = None


StopCondition = Callable[[Sequence[StepResult]], bool]


@dataclass(frozen=True)
class GenerateOptions:
    """Everything `generate`/`stream` take, normalised (shared by both)."""

    model: str
    messages: tuple[Message, ...]
    tools: tuple[Tool, ...] = ()
    tool_choice: ToolChoice | None = None
    max_tool_rounds: int = 1
    stop_when: StopCondition | None = None
    response_format: ResponseFormat | None = None
    params: dict[str, Any] = field(default_factory=dict)
    provider: str | None = None
    provider_options: dict[str, Any] | None = None
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: TimeoutConfig = field(default_factory=TimeoutConfig)
    abort_signal: AbortSignal | None = None
    client: Client | None = None
    runtime: Runtime | None = None
    repair_tool_call: RepairHook | None = None
    validate_tool_arguments: bool = True

    def request(self, messages: Sequence[Message]) -> Request:
        """The Request for one step over `messages`."""
        definitions = tuple(t.definition for t in self.tools) or None
        return Request(
            model=self.model,
            messages=tuple(messages),
            provider=self.provider,
            tools=definitions,
            tool_choice=self.tool_choice,
            response_format=self.response_format,
            provider_options=self.provider_options,
            **self.params,
        )

    def tool_run(self, messages: Sequence[Message]) -> ToolRun:
        """The tool-execution context for a step."""
        return ToolRun(
            tuple(messages), self.abort_signal, self.repair_tool_call, self.validate_tool_arguments
        )

    @property
    def the_client(self) -> Client:
        """The explicit client or the module default."""
        return self.client or get_default_client()


def build_messages(
    prompt: str | None, messages: Sequence[Message] | None, system: str | None
) -> tuple[Message, ...]:
    """Standardise prompt/messages/system into a conversation (exactly one of prompt/messages)."""
    if prompt is not None and messages is not None:
        raise InvalidValueError("pass either `prompt` or `messages`, not both")
    if prompt is None and messages is None:
        raise InvalidValueError("pass `prompt` (a string) or `messages` (a conversation)")
    body = (Message.user(prompt),) if prompt is not None else tuple(messages or ())
    return ((Message.system(system),) if system is not None else ()) + body


_OPTION_KEYS = frozenset(
    {
        "tool_choice",
        "stop_when",
        "response_format",
        "provider",
        "provider_options",
        "abort_signal",
        "client",
        "runtime",
        "repair_tool_call",
        "validate_tool_arguments",
    }
)
_PARAM_KEYS = (
    "temperature",
    "top_p",
    "max_tokens",
    "stop_sequences",
    "reasoning_effort",
    "metadata",
)
_OWN_KEYS = frozenset(
    {"messages", "system", "max_tool_rounds", "max_retries", "retry_policy", "tools", "timeout"}
)


def _params(kw: dict[str, Any]) -> dict[str, Any]:
    params = {k: kw[k] for k in _PARAM_KEYS if kw.get(k) is not None}
    if "stop_sequences" in params:
        params["stop_sequences"] = tuple(params["stop_sequences"])
    return params


def make_options(model: str, prompt: str | None, **kw: Any) -> GenerateOptions:
    """Normalise the keyword arguments of `generate`/`stream` into GenerateOptions."""
    unknown = set(kw) - _OPTION_KEYS - _OWN_KEYS - set(_PARAM_KEYS)
    if unknown:
        raise InvalidValueError(
            f"unknown argument(s) {', '.join(sorted(unknown))}; see help(attractor.llm.generate)"
        )
    rounds = kw.get("max_tool_rounds", 1)
    if not isinstance(rounds, int) or rounds < 0:
        raise InvalidValueError(f"max_tool_rounds must be an integer >= 0, got {rounds!r}")
    policy = kw.get("retry_policy") or RetryPolicy(max_retries=kw.get("max_retries", 2))
    return GenerateOptions(
        model=model,
        messages=build_messages(prompt, kw.get("messages"), kw.get("system")),
        tools=tuple(kw.get("tools") or ()),
        max_tool_rounds=rounds,
        params=_params(kw),
        retry_policy=policy,
        timeout=TimeoutConfig.of(kw.get("timeout")),
        **{k: v for k, v in kw.items() if k in _OPTION_KEYS},
    )


async def _call(opts: GenerateOptions, request: Request, deadline: Deadline) -> Response:
    client = opts.the_client

    async def once() -> Response:
        budget, label = deadline.step_budget()
        work = client.complete(request, runtime=opts.runtime)
        return await guarded(work, signal=opts.abort_signal, timeout=budget, label=label)

    return await retry(once, opts.retry_policy)


def wants_tools(opts: GenerateOptions, response: Response, round_num: int) -> bool:
    calls = response.tool_calls
    if not calls or response.finish_reason.reason != "tool_calls":
        return False
    if round_num >= opts.max_tool_rounds:
        return False
    active = {t.name for t in opts.tools if t.is_active}
    passive = {t.name for t in opts.tools if not t.is_active}
    # A call to a passive tool hands the whole turn back to the caller (spec §5.5).
    return bool(active) and not any(c.name in passive for c in calls)


def step_of(response: Response, results: Sequence[ToolResult]) -> StepResult:
    """The StepResult for a response and the tool results produced for it."""
    return StepResult(
        text=response.text,
        reasoning=response.reasoning,
        tool_calls=tuple(response.tool_calls),
        tool_results=tuple(results),
        finish_reason=response.finish_reason,
        usage=response.usage,
        response=response,
        warnings=response.warnings,
    )


def result_of(steps: Sequence[StepResult], output: Any = None) -> GenerateResult:
    """The GenerateResult summarising `steps` (the last step is the final one)."""
    last = steps[-1]
    total = Usage()
    for step in steps:
        total = total + step.usage
    return GenerateResult(
        text=last.text,
        reasoning=last.reasoning,
        tool_calls=last.tool_calls,
        tool_results=last.tool_results,
        finish_reason=last.finish_reason,
        usage=last.usage,
        total_usage=total,
        steps=tuple(steps),
        response=last.response,
        output=output,
    )


def continue_with(
    conversation: list[Message], response: Response, results: Sequence[ToolResult]
) -> None:
    """Append the assistant turn and every tool result, in call order (one continuation)."""
    conversation.append(response.message)
    conversation.extend(result.to_message() for result in results)


async def run_tools(
    opts: GenerateOptions, response: Response, convo: Sequence[Message], deadline: Deadline
) -> list[ToolResult]:
    """Execute the response's tool calls under the abort signal and the total budget."""
    work = execute_tools(opts.tools, response.tool_calls, opts.tool_run(convo))
    remaining = deadline.remaining()
    label = f"total timeout of {opts.timeout.total}s"
    return await guarded(work, signal=opts.abort_signal, timeout=remaining, label=label)


async def run_loop(opts: GenerateOptions) -> GenerateResult:
    """The multi-step tool loop of spec §5.6 over `client.complete`."""
    deadline = Deadline(opts.timeout)
    conversation = list(opts.messages)
    steps: list[StepResult] = []
    for round_num in range(opts.max_tool_rounds + 1):
        response = await _call(opts, opts.request(conversation), deadline)
        execute = wants_tools(opts, response, round_num)
        results = await run_tools(opts, response, conversation, deadline) if execute else []
        steps.append(step_of(response, results))
        if not execute or (opts.stop_when is not None and opts.stop_when(steps)):
            break
        continue_with(conversation, response, results)
    return result_of(steps)


async def generate(model: str, prompt: str | None = None, **kwargs: Any) -> GenerateResult:
    """Generate a response, running active tools in a loop (spec §4.3).

    Args:
        model: Provider-native model id.
        prompt: A user prompt (exclusive with `messages`).
        **kwargs: messages, system, tools, tool_choice, max_tool_rounds (default 1),
            stop_when, response_format, temperature, top_p, max_tokens, stop_sequences,
            reasoning_effort, metadata, provider, provider_options, max_retries (default 2),
            retry_policy, timeout (seconds or TimeoutConfig), abort_signal, client, runtime,
            repair_tool_call, validate_tool_arguments.

    Raises:
        InvalidValueError: both or neither of prompt/messages, bad options.
        SDKError: provider errors after retries; AbortError; RequestTimeoutError.
    """
    return await run_loop(make_options(model, prompt, **kwargs))


def parse_object(text: str, schema: dict[str, Any]) -> Any:
    """Parse model text as JSON and validate it against `schema` (NoObjectGeneratedError)."""
    candidate = extract_json_text(text)
    try:
        value = msgspec.json.decode(candidate)
    except msgspec.DecodeError as exc:
        raise NoObjectGeneratedError(
            f"model output is not valid JSON ({exc}): {text[:200]!r}", cause=exc
        ) from exc
    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise NoObjectGeneratedError(
            f"model output does not match the schema at {where}: {exc.message}", cause=exc
        ) from exc
    return value


def object_format(schema: dict[str, Any], name: str | None) -> ResponseFormat:
    """The json_schema response format used for structured output (adapters translate it)."""
    return ResponseFormat(
        type="json_schema", json_schema=schema, strict=True, name=name or "output"
    )


async def generate_object(
    model: str,
    prompt: str | None = None,
    *,
    schema: dict[str, Any],
    schema_name: str | None = None,
    **kwargs: Any,
) -> GenerateResult:
    """Generate JSON matching `schema`; `result.output` is the parsed, validated value.

    The request carries `ResponseFormat(type="json_schema", strict=True)`; each adapter maps
    it to its provider's mechanism. Validation failures are not retried (spec §6.6).

    Raises:
        NoObjectGeneratedError: the output was not JSON or did not match the schema.
    """
    kwargs["response_format"] = object_format(schema, schema_name)
    result = await generate(model, prompt, **kwargs)
    return msgspec.structs.replace(result, output=parse_object(result.text, schema))


def ensure_no_loop(what: str) -> None:
    """Raise a clear error when a blocking wrapper is called inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise InvalidValueError(
        f"{what} was called inside a running event loop; await the async version"
    )


async def _then_release(coro: Awaitable[Any], client: Client | None) -> Any:
    try:
        return await coro
    finally:
        # The loop dies with asyncio.run: close its pool now rather than leak its sockets.
        await (client or get_default_client()).release_connections()


def _run_sync(make: Callable[[], Awaitable[Any]], client: Client | None, what: str) -> Any:
    ensure_no_loop(what)
    return asyncio.run(_then_release(make(), client))


def generate_sync(model: str, prompt: str | None = None, **kwargs: Any) -> GenerateResult:
    """Blocking `generate()` for code without an event loop."""
    make = functools.partial(generate, model, prompt, **kwargs)
    result: GenerateResult = _run_sync(make, kwargs.get("client"), "generate_sync")
    return result


def generate_object_sync(
    model: str, prompt: str | None = None, *, schema: dict[str, Any], **kwargs: Any
) -> GenerateResult:
    """Blocking `generate_object()` for code without an event loop."""
    make = functools.partial(generate_object, model, prompt, schema=schema, **kwargs)
    result: GenerateResult = _run_sync(make, kwargs.get("client"), "generate_object_sync")
    return result
