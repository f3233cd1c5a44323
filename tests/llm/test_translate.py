"""Tests for the pure translation helpers shared by adapters."""

from attractor.llm.translate import (
    arguments_of,
    estimate_tokens,
    split_system,
    tool_call_names,
    tool_result_object,
    tool_result_text,
)
from attractor.llm.types import ContentPart, Message, Role, ToolCallData


def test_split_system_lifts_system_and_developer() -> None:
    """System and developer texts are lifted in order; the rest keeps its order."""
    msgs = [Message.system("a"), Message.user("u"), Message.developer("b"), Message.assistant("x")]
    texts, rest = split_system(msgs)
    assert texts == ["a", "b"]
    assert [m.role for m in rest] == [Role.USER, Role.ASSISTANT]


def test_split_system_can_keep_developer() -> None:
    """include_developer=False leaves developer messages in the conversation."""
    texts, rest = split_system([Message.developer("d"), Message.user("u")], include_developer=False)
    assert texts == []
    assert [m.role for m in rest] == [Role.DEVELOPER, Role.USER]


def test_tool_call_names_from_history() -> None:
    """Tool-call ids map back to function names found in the history."""
    call = ContentPart.of_tool_call(ToolCallData(id="call_9", name="get_weather"))
    msgs = [Message.user("q"), Message(Role.ASSISTANT, (call,)), Message.tool_result("call_9", "x")]
    assert tool_call_names(msgs) == {"call_9": "get_weather"}


def test_tool_result_text() -> None:
    """Strings pass through; structures become compact JSON."""
    assert tool_result_text("72F") == "72F"
    assert tool_result_text({"t": 72}) == '{"t":72}'


def test_arguments_of() -> None:
    """Argument strings parse to dicts; invalid JSON stays raw; empty means {}."""
    assert arguments_of('{"a": 1}') == {"a": 1}
    assert arguments_of("{bad") == "{bad"
    assert arguments_of("") == {}
    assert arguments_of(None) == {}
    assert arguments_of({"b": 2}) == {"b": 2}


def test_tool_result_object_wraps_non_objects() -> None:
    """Strings and lists are wrapped under "result"; objects pass through."""
    assert tool_result_object("72F") == {"result": "72F"}
    assert tool_result_object([1]) == {"result": [1]}
    assert tool_result_object({"t": 1}) == {"t": 1}


def test_estimate_tokens() -> None:
    """About four characters per token; empty text is zero."""
    assert estimate_tokens("") == 0
    assert estimate_tokens("abc") == 1
    assert estimate_tokens("a" * 400) == 100
