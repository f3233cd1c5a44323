"""Tests for Tool definitions and execute_tools outside the loop."""

import pytest

from attractor.llm.errors import InvalidValueError
from attractor.llm.tools import Tool, ToolRun, execute_tools
from attractor.llm.types import ToolCall

pytestmark = pytest.mark.anyio


def test_tool_name_validated_at_definition() -> None:
    """Tool names follow the identifier rule when the Tool is created."""
    with pytest.raises(InvalidValueError, match="tool name"):
        Tool("bad-name")


def test_tool_schema_must_be_valid_json_schema() -> None:
    """A parameters schema that is not valid JSON Schema is rejected at definition."""
    with pytest.raises(InvalidValueError, match="not a valid JSON Schema"):
        Tool("t", parameters={"type": "object", "properties": {"x": {"type": "nonsense"}}})


def test_definition_drops_handler() -> None:
    """definition is the provider-facing ToolDefinition; is_active reflects the handler."""
    tool = Tool("t", "desc", execute=lambda: "x")
    assert tool.definition.name == "t"
    assert tool.is_active
    assert not Tool("p").is_active


async def test_non_string_results_are_serialised() -> None:
    """Handlers returning numbers or structs give JSON-friendly content."""
    tools = [Tool("n", execute=lambda: 42), Tool("d", execute=lambda: {"a": 1})]
    results = await execute_tools(tools, [ToolCall("1", "n"), ToolCall("2", "d")])
    assert [r.content for r in results] == ["42", {"a": 1}]


async def test_validation_can_be_disabled() -> None:
    """validate=False passes arguments through without schema checks."""
    schema = {"type": "object", "properties": {"x": {"type": "integer"}}}
    tool = Tool("t", parameters=schema, execute=lambda x: f"got {x}")
    results = await execute_tools(
        [tool], [ToolCall("1", "t", {"x": "str"})], ToolRun(validate=False)
    )
    assert results[0].content == "got str"
    assert not results[0].is_error
