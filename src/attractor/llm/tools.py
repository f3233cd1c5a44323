"""Tools with execute handlers and their concurrent execution (spec §5.1-5.8).

Layer: llm (shell: handlers are user code, run concurrently). Rule: a tool failure never raises
out of the loop — unknown tools, invalid JSON, schema violations and handler exceptions all
become `ToolResult(is_error=True)` sent back to the model, in the order of the calls.

Handlers receive the parsed arguments as keyword arguments (or as one dict when they declare a
parameter named `arguments`/`args` that the schema does not define), plus any of the injected
names they declare: `messages`, `abort_signal`, `tool_call_id`, `tool_call`. Sync handlers run in
a worker thread so that parallel calls really run in parallel.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import msgspec
from jsonschema.validators import validator_for  # type: ignore[import-untyped]

from attractor.llm.abort import AbortSignal
from attractor.llm.errors import InvalidToolCallError, InvalidValueError
from attractor.llm.types import Message, ToolCall, ToolDefinition, ToolResult
from attractor.llm.wire import decode_json_object

__all__ = ["RepairHook", "Tool", "ToolRun", "execute_tools", "validate_arguments"]

_INJECTED = frozenset({"messages", "abort_signal", "tool_call_id", "tool_call"})
_DICT_PARAMS = ("arguments", "args")

RepairHook = Callable[
    [ToolCall, InvalidToolCallError], "ToolCall | Awaitable[ToolCall | None] | None"
]
"""`(call, error) -> fixed call or None`: may repair arguments that failed validation."""


@dataclass(frozen=True)
class Tool:
    """A tool definition with an optional `execute` handler (active when it has one).

    Raises:
        InvalidValueError: bad name, non-object parameters, or an invalid JSON Schema.
    """

    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    execute: Callable[..., Any] | None = None
    _validator: Any = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        ToolDefinition(self.name, self.description, self.parameters)
        cls = validator_for(self.parameters)
        try:
            cls.check_schema(self.parameters)
        except jsonschema.SchemaError as exc:
            raise InvalidValueError(
                f"tool {self.name!r}: parameters is not a valid JSON Schema: {exc.message}"
            ) from exc
        object.__setattr__(self, "_validator", cls(self.parameters))

    @property
    def definition(self) -> ToolDefinition:
        """The provider-facing definition (no handler)."""
        return ToolDefinition(self.name, self.description, self.parameters)

    @property
    def is_active(self) -> bool:
        """Whether the library executes this tool automatically."""
        return self.execute is not None

    def schema_errors(self, arguments: Mapping[str, Any]) -> list[str]:
        """Human-readable schema violations of `arguments` (empty when valid)."""
        found = sorted(self._validator.iter_errors(dict(arguments)), key=lambda err: list(err.path))
        return [f"{_path(err.absolute_path)}: {err.message}" for err in found[:5]]


def _path(parts: Sequence[Any]) -> str:
    return "arguments" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def validate_arguments(tool: Tool, call: ToolCall) -> ToolCall:
    """Return `call` if it parsed and fits `tool`'s schema, else raise InvalidToolCallError."""
    raw = call.raw_arguments
    if raw is not None and raw.strip() and decode_json_object(raw) is None:
        raise InvalidToolCallError(
            f"tool {call.name!r}: arguments are not a JSON object: {raw[:200]!r}"
        )
    problems = tool.schema_errors(call.arguments)
    if problems:
        raise InvalidToolCallError(f"tool {call.name!r}: invalid arguments: {'; '.join(problems)}")
    return call


@dataclass(frozen=True)
class ToolRun:
    """What tool handlers may receive besides their arguments."""

    messages: tuple[Message, ...] = ()
    abort_signal: AbortSignal | None = None
    repair: RepairHook | None = None
    validate: bool = True


def _call_args(
    handler: Callable[..., Any], tool: Tool, call: ToolCall, run: ToolRun
) -> dict[str, Any]:
    params = inspect.signature(handler).parameters
    takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    props = tool.parameters.get("properties", {})
    injected: dict[str, Any] = {
        "messages": list(run.messages),
        "abort_signal": run.abort_signal,
        "tool_call_id": call.id,
        "tool_call": call,
    }
    kwargs = {k: v for k, v in injected.items() if k in params and k not in props}
    dict_param = next((n for n in _DICT_PARAMS if n in params and n not in props), None)
    if dict_param is not None:
        kwargs[dict_param] = dict(call.arguments)
    elif takes_kwargs:
        kwargs.update(call.arguments)
    else:
        kwargs.update({k: v for k, v in call.arguments.items() if k in params})
    return kwargs


def _content(value: Any) -> str | dict[str, Any] | list[Any]:
    if isinstance(value, str | dict | list):
        return value
    if value is None:
        return ""
    try:
        built = msgspec.to_builtins(value)
    except TypeError:
        return str(value)
    return built if isinstance(built, str | dict | list) else msgspec.json.encode(built).decode()


async def _invoke(tool: Tool, call: ToolCall, run: ToolRun) -> ToolResult:
    assert tool.execute is not None
    handler = tool.execute
    kwargs = _call_args(handler, tool, call, run)
    if inspect.iscoroutinefunction(handler):
        value = await handler(**kwargs)
    else:
        value = await asyncio.to_thread(handler, **kwargs)
        if inspect.isawaitable(value):
            value = await value
    return ToolResult(tool_call_id=call.id, content=_content(value))


async def _checked(tool: Tool, call: ToolCall, run: ToolRun) -> ToolCall:
    if not run.validate:
        return call
    try:
        return validate_arguments(tool, call)
    except InvalidToolCallError as error:
        if run.repair is None:
            raise
        fixed = run.repair(call, error)
        repaired = await fixed if inspect.isawaitable(fixed) else fixed
        if repaired is None:
            raise
        return validate_arguments(tool, repaired)


async def _run_one(tools: Mapping[str, Tool], call: ToolCall, run: ToolRun) -> ToolResult:
    tool = tools.get(call.name)
    if tool is None or tool.execute is None:
        known = ", ".join(sorted(n for n, t in tools.items() if t.is_active)) or "none"
        return ToolResult(call.id, f"Unknown tool: {call.name}. Available tools: {known}", True)
    try:
        checked = await _checked(tool, call, run)
        return await _invoke(tool, checked, run)
    except InvalidToolCallError as exc:
        return ToolResult(call.id, exc.message, True)
    except Exception as exc:
        return ToolResult(call.id, f"Tool {call.name} failed: {type(exc).__name__}: {exc}", True)


async def execute_tools(
    tools: Sequence[Tool], calls: Sequence[ToolCall], run: ToolRun | None = None
) -> list[ToolResult]:
    """Execute all `calls` concurrently; one result per call, in call order (spec §5.7)."""
    by_name = {tool.name: tool for tool in tools}
    chosen = run or ToolRun()
    return list(await asyncio.gather(*(_run_one(by_name, call, chosen) for call in calls)))
