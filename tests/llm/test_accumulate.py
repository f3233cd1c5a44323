"""Tests for StreamAccumulator: events fold back into the Response complete() would return."""

import msgspec

from attractor.llm.accumulate import StreamAccumulator
from attractor.llm.types import (
    ContentPart,
    FinishReason,
    Message,
    Response,
    Role,
    StreamEvent,
    StreamEventType,
    ThinkingData,
    ToolCall,
    ToolCallData,
    Usage,
)
from attractor.testing.scripted_llm import events_from_response, tool_call_response

ET = StreamEventType


def _fold(events: list[StreamEvent]) -> Response:
    acc = StreamAccumulator(provider="p", model="m", response_id="r")
    for event in events:
        acc.process(event)
    return acc.response()


def _mixed() -> Response:
    parts = (
        ContentPart.of_thinking(ThinkingData(text="think", signature="sig")),
        ContentPart.of_text("Hello there, world"),
        ContentPart.of_tool_call(ToolCallData(id="c1", name="t", arguments={"q": "x"})),
    )
    return Response(
        id="r",
        model="m",
        provider="p",
        message=Message(Role.ASSISTANT, parts),
        finish_reason=FinishReason(reason="tool_calls", raw="tool_use"),
        usage=Usage.of(3, 4),
    )


def test_events_without_final_response_rebuild_it() -> None:
    """Folding start/delta/end events (FINISH without response) rebuilds the same message."""
    response = _mixed()
    events = events_from_response(response, chunk_size=3)
    finish = msgspec.structs.replace(events[-1], response=None)
    assert _fold([*events[:-1], finish]) == response


def test_finish_response_wins() -> None:
    """FINISH's own accumulated response is returned as is."""
    response = _mixed()
    assert _fold(events_from_response(response)) is response


def test_text_deltas_without_ids_join_one_segment() -> None:
    """Deltas without text_id append to the current text segment."""
    events = [StreamEvent(type=ET.TEXT_DELTA, delta=d) for d in ("a", "b", "c")]
    assert _fold(events).text == "abc"


def test_invalid_streamed_arguments_stay_raw() -> None:
    """Tool-call argument deltas that are not valid JSON stay a raw string."""
    head = ToolCall(id="c", name="t")
    events = [
        StreamEvent(type=ET.TOOL_CALL_START, tool_call=head),
        StreamEvent(type=ET.TOOL_CALL_DELTA, tool_call=head, delta='{"a": '),
        StreamEvent(type=ET.TOOL_CALL_END, tool_call=head),
    ]
    call = _fold(events).tool_calls[0]
    assert call.arguments == {}
    assert call.raw_arguments == '{"a": '


def test_parallel_tool_calls_keep_order() -> None:
    """Several tool calls are accumulated in the order they started."""
    response = tool_call_response(("a", {"x": 1}), ("b", {"y": 2}))
    events = events_from_response(response, chunk_size=2)
    rebuilt = _fold([*events[:-1], msgspec.structs.replace(events[-1], response=None)])
    assert [c.name for c in rebuilt.tool_calls] == ["a", "b"]
    assert rebuilt.tool_calls[1].arguments == {"y": 2}


def test_partial_response_before_finish() -> None:
    """partial_response shows text accumulated so far and is not finished."""
    acc = StreamAccumulator()
    acc.process(StreamEvent(type=ET.TEXT_DELTA, delta="par"))
    assert acc.partial_response.text == "par"
    assert not acc.finished
