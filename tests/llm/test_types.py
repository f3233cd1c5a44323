"""Tests for the LLM data model: constructors, accessors, validation, unknown-kind passthrough."""

import msgspec
import pytest

from attractor.llm.errors import InvalidValueError
from attractor.llm.types import (
    ContentKind,
    ContentPart,
    FinishReason,
    ImageData,
    Message,
    Request,
    Response,
    ResponseFormat,
    Role,
    ThinkingData,
    ToolCall,
    ToolCallData,
    ToolChoice,
    ToolDefinition,
    Usage,
    from_json_object,
    to_json_object,
)


def _response(*parts: ContentPart) -> Response:
    return Response(id="r1", model="m", provider="p", message=Message(Role.ASSISTANT, parts))


def test_message_text_concatenates_text_parts_only() -> None:
    """Message.text joins TEXT parts and skips other kinds."""
    call = ContentPart.of_tool_call(ToolCallData(id="c", name="t"))
    msg = Message(Role.ASSISTANT, (ContentPart.of_text("a"), call, ContentPart.of_text("b")))
    assert msg.text == "ab"


def test_message_text_is_empty_without_text_parts() -> None:
    """Message.text is '' when there is no TEXT part."""
    assert Message(Role.USER, ()).text == ""


def test_tool_result_constructor_links_call_id() -> None:
    """Message.tool_result builds a TOOL message linked to its call."""
    msg = Message.tool_result("call_1", "72F", is_error=True)
    assert msg.role is Role.TOOL
    assert msg.tool_call_id == "call_1"
    assert msg.content[0].tool_result is not None
    assert msg.content[0].tool_result.is_error


def test_convenience_constructors_set_roles() -> None:
    """system/user/assistant/developer constructors set the matching role."""
    roles = [Message.system("s"), Message.user("u"), Message.assistant("a"), Message.developer("d")]
    assert [m.role for m in roles] == [Role.SYSTEM, Role.USER, Role.ASSISTANT, Role.DEVELOPER]


def test_content_part_requires_its_payload() -> None:
    """A known kind without its payload field is rejected with a clear error."""
    with pytest.raises(InvalidValueError, match="needs its `image` field"):
        ContentPart(kind=ContentKind.IMAGE)


def test_unknown_content_kind_round_trips() -> None:
    """Unknown provider kinds decode and re-encode unchanged."""
    wire = b'{"kind":"web_search_result","extra":{"url":"https://x"}}'
    part = msgspec.json.decode(wire, type=ContentPart)
    assert part.kind == "web_search_result"
    assert msgspec.json.encode(part) == wire


def test_known_kind_decodes_equal_to_enum() -> None:
    """A decoded kind string compares equal to its ContentKind member."""
    part = msgspec.json.decode(b'{"kind":"text","text":"hi"}', type=ContentPart)
    assert part == ContentPart.of_text("hi")


def test_bad_payload_on_decode_is_a_validation_error() -> None:
    """Decoding a known kind without payload gives a msgspec ValidationError, not KeyError."""
    with pytest.raises(msgspec.ValidationError, match="needs its `tool_call` field"):
        msgspec.json.decode(b'{"kind":"tool_call"}', type=ContentPart)


def test_image_needs_exactly_one_source() -> None:
    """ImageData rejects both or neither of url and data."""
    with pytest.raises(InvalidValueError, match="exactly one"):
        ImageData()
    with pytest.raises(InvalidValueError, match="exactly one"):
        ImageData(url="https://x", data=b"1")


def test_image_media_type_defaults_to_png() -> None:
    """Inline image bytes default to image/png."""
    assert ImageData(data=b"x").effective_media_type == "image/png"


def test_image_local_path_detection() -> None:
    """Paths starting with /, ./ or ~ count as local files; URLs do not."""
    assert ImageData(url="./a.png").is_local_path
    assert ImageData(url="~/a.png").is_local_path
    assert not ImageData(url="https://a/b.png").is_local_path


@pytest.mark.parametrize("name", ["get_weather", "a", "A1_b", "x" * 64])
def test_valid_tool_names(name: str) -> None:
    """Names of a letter then letters/digits/underscores up to 64 chars are accepted."""
    assert ToolDefinition(name=name).name == name


@pytest.mark.parametrize("name", ["", "1abc", "get-weather", "has space", "x" * 65, "_x"])
def test_invalid_tool_names(name: str) -> None:
    """Names breaking the rule are rejected at definition time."""
    with pytest.raises(InvalidValueError, match="tool name"):
        ToolDefinition(name=name)


def test_tool_parameters_root_must_be_object() -> None:
    """A parameters schema whose root is not an object is rejected."""
    with pytest.raises(InvalidValueError, match='"type": "object"'):
        ToolDefinition(name="t", parameters={"type": "array"})


def test_tool_choice_named_requires_tool_name() -> None:
    """Mode 'named' without a tool name is rejected."""
    with pytest.raises(InvalidValueError, match="tool_name"):
        ToolChoice(mode="named")
    assert ToolChoice.named("t").tool_name == "t"


def test_tool_choice_rejects_unknown_mode() -> None:
    """Unknown tool-choice modes are rejected with the allowed list."""
    with pytest.raises(InvalidValueError, match="auto, none, required, named"):
        ToolChoice(mode="sometimes")


def test_response_format_json_schema_needs_schema() -> None:
    """json_schema format without a schema is rejected."""
    with pytest.raises(InvalidValueError, match="needs `json_schema`"):
        ResponseFormat(type="json_schema")


def test_request_defaults_tool_choice_to_auto_with_tools() -> None:
    """effective_tool_choice is AUTO when tools exist and no choice was given."""
    req = Request(model="m", messages=(), tools=(ToolDefinition(name="t"),))
    assert req.effective_tool_choice == ToolChoice(mode="auto")
    assert Request(model="m", messages=()).effective_tool_choice is None


def test_request_options_for_provider() -> None:
    """options_for returns the provider's own options and {} otherwise."""
    req = Request(model="m", messages=(), provider_options={"anthropic": {"auto_cache": False}})
    assert req.options_for("anthropic") == {"auto_cache": False}
    assert req.options_for("openai") == {}


def test_response_accessors() -> None:
    """Response exposes text, tool calls and reasoning of its message."""
    resp = _response(
        ContentPart.of_thinking(ThinkingData(text="hmm", signature="s")),
        ContentPart.of_text("hi"),
        ContentPart.of_tool_call(ToolCallData(id="c1", name="t", arguments={"a": 1})),
    )
    assert resp.text == "hi"
    assert resp.reasoning == "hmm"
    assert resp.tool_calls == [ToolCall(id="c1", name="t", arguments={"a": 1})]


def test_response_reasoning_none_without_thinking() -> None:
    """reasoning is None when no visible thinking exists (redacted does not count)."""
    redacted = ContentPart.of_thinking(ThinkingData(text="opaque", redacted=True))
    assert redacted.kind == ContentKind.REDACTED_THINKING
    assert _response(redacted).reasoning is None


def test_tool_call_from_raw_string_arguments() -> None:
    """String arguments are parsed when valid JSON and kept raw either way."""
    good = ToolCall.from_data(ToolCallData(id="c", name="t", arguments='{"x": 2}'))
    bad = ToolCall.from_data(ToolCallData(id="c", name="t", arguments="{oops"))
    assert good.arguments == {"x": 2}
    assert good.raw_arguments == '{"x": 2}'
    assert bad.arguments == {}
    assert bad.raw_arguments == "{oops"


def test_usage_addition_sums_and_keeps_none() -> None:
    """Usage + Usage sums ints; optional fields stay None only when None on both sides."""
    a = Usage.of(10, 5, reasoning_tokens=3)
    b = Usage.of(1, 2, cache_read_tokens=4)
    total = a + b
    assert (total.input_tokens, total.output_tokens, total.total_tokens) == (11, 7, 18)
    assert total.reasoning_tokens == 3
    assert total.cache_read_tokens == 4
    assert total.cache_write_tokens is None


def test_finish_reason_defaults_to_stop() -> None:
    """FinishReason() is a natural stop without raw value."""
    assert FinishReason() == FinishReason(reason="stop", raw=None)


def test_json_object_round_trip() -> None:
    """to_json_object/from_json_object round-trip a request with inline bytes."""
    image = ContentPart.of_image(ImageData(data=b"\x00\x01"))
    req = Request(model="m", messages=(Message.user("look", image),))
    data = to_json_object(req)
    assert data["messages"][0]["content"][1]["image"]["data"] == "AAE="
    assert from_json_object(data, Request) == req


def test_from_json_object_names_the_path() -> None:
    """Bad builtins give InvalidValueError naming the field path."""
    with pytest.raises(InvalidValueError, match=r"\$\.model"):
        from_json_object({"model": 3, "messages": []}, Request)
