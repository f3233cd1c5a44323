"""Pure translation helpers shared by the provider adapters (spec §7.2-7.3).

Layer: llm (pure). Rule: functions from unified values to plain values; no I/O. Adapters use
them so that the four wire formats agree on the small decisions: what counts as system text,
how a tool result becomes text, how raw argument strings are parsed, and how a tool-call id maps
back to its function name (Gemini needs the name; it is found in the request's own history, so
adapters keep no id map between calls).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from attractor.llm.errors import UnsupportedContentError
from attractor.llm.types import ContentKind, Message, Role, ToolCallData, ToolResultData
from attractor.llm.wire import decode_json_object

__all__ = [
    "arguments_of",
    "arguments_text",
    "as_count",
    "as_list",
    "as_object",
    "as_str",
    "estimate_tokens",
    "merge_options",
    "merge_turns",
    "split_system",
    "tool_call_names",
    "tool_output_text",
    "tool_result_object",
    "tool_result_text",
    "tool_results_of",
    "unsupported_content",
]

_ENCODER = msgspec.json.Encoder()


def split_system(
    messages: Sequence[Message], *, include_developer: bool = True
) -> tuple[list[str], list[Message]]:
    """Separate system (and, by default, developer) text from the conversation.

    Returns:
        (texts of system/developer messages in order, the remaining messages in order).
    """
    lifted = {Role.SYSTEM, Role.DEVELOPER} if include_developer else {Role.SYSTEM}
    texts = [m.text for m in messages if m.role in lifted and m.text]
    rest = [m for m in messages if m.role not in lifted]
    return texts, rest


def tool_call_names(messages: Iterable[Message]) -> dict[str, str]:
    """Map every tool-call id in the conversation to its function name."""
    names: dict[str, str] = {}
    for message in messages:
        for part in message.content:
            if part.kind == ContentKind.TOOL_CALL and part.tool_call is not None:
                names[part.tool_call.id] = part.tool_call.name
    return names


def tool_result_text(content: str | dict[str, Any] | list[Any]) -> str:
    """A tool result as text: strings unchanged, structures as compact JSON."""
    if isinstance(content, str):
        return content
    return _ENCODER.encode(content).decode()


def arguments_of(raw: str | dict[str, Any] | None) -> dict[str, Any] | str:
    """Tool-call arguments: a dict as is, a JSON object string parsed, invalid JSON kept raw.

    An empty or missing string means no arguments ({}).
    """
    if raw is None:
        return {}
    if isinstance(raw, dict):
        return raw
    if not raw.strip():
        return {}
    parsed = decode_json_object(raw)
    return parsed if parsed is not None else raw


def tool_result_object(content: str | dict[str, Any] | list[Any]) -> dict[str, Any]:
    """A tool result as a JSON object (Gemini's functionResponse): non-objects go under "result"."""
    return content if isinstance(content, dict) else {"result": content}


def estimate_tokens(text: str) -> int:
    """A rough token count (about four characters per token, at least 1 for non-empty text).

    Used where a provider reports no count, e.g. reasoning tokens from Anthropic thinking blocks
    (spec §3.9 says those are estimated).
    """
    return (len(text) + 3) // 4 if text else 0


# Accessors for provider JSON of unknown quality: they never raise, so a mutated body can only
# ever produce a typed error upstream, never a KeyError or TypeError.


def as_object(value: Any) -> dict[str, Any]:
    """`value` if it is a JSON object, else {}."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """`value` if it is a JSON array, else []."""
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str:
    """`value` if it is a string, else ''."""
    return value if isinstance(value, str) else ""


def as_count(value: Any) -> int | None:
    """`value` if it is a non-negative integer (a token count), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def merge_options(body: dict[str, Any], options: dict[str, Any]) -> None:
    """Merge `provider_options[provider]` into a request body; objects merge one level deep."""
    for key, value in options.items():
        current = body.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            body[key] = {**current, **value}
        else:
            body[key] = value


def tool_output_text(result: ToolResultData) -> str:
    """A tool result as the text the model reads; a failure says so ("Error: ...")."""
    body = tool_result_text(result.content)
    return f"Error: {body}" if result.is_error and not body.lower().startswith("error") else body


def unsupported_content(
    provider: str, index: int, kind: str, role: str, hint: str
) -> UnsupportedContentError:
    """The error for content a wire format cannot carry, naming the message and a way out."""
    return UnsupportedContentError(
        f"messages[{index}] ({role}): content kind {kind!r} is not supported by {provider}; {hint}",
        provider=provider,
    )


def merge_turns(turns: Iterable[dict[str, Any]], items: str) -> list[dict[str, Any]]:
    """Merge consecutive wire turns of the same `role` by joining their `items` lists.

    Turns with no items are dropped. Anthropic needs this for strict user/assistant
    alternation; Gemini for parallel function responses, which must share one turn.
    """
    merged: list[dict[str, Any]] = []
    for turn in turns:
        if not turn[items]:
            continue
        if merged and merged[-1]["role"] == turn["role"]:
            merged[-1][items].extend(turn[items])
        else:
            merged.append({**turn, items: list(turn[items])})
    return merged


def arguments_text(call: ToolCallData) -> str:
    """A tool call's arguments as the JSON text wire formats carry (raw strings unchanged)."""
    return call.arguments if isinstance(call.arguments, str) else tool_result_text(call.arguments)


def tool_results_of(index: int, message: Message, provider: str) -> list[ToolResultData]:
    """The tool results a message carries; a TOOL message with only text answers its call id.

    Raises:
        UnsupportedContentError: a TOOL message with neither a tool_result part nor an id.
    """
    results = [p.tool_result for p in message.content if p.tool_result is not None]
    if message.role != Role.TOOL or results:
        return results
    if not message.tool_call_id:
        hint = "a TOOL message needs a tool_result part or tool_call_id"
        raise unsupported_content(provider, index, "text", "tool", hint)
    return [ToolResultData(tool_call_id=message.tool_call_id, content=message.text)]
