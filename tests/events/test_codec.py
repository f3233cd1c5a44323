"""The line codec: round-trips, the hash chain, and typed errors for bad lines."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

import attractor.effects
import attractor.testing.machines  # noqa: F401 — registers the script events
from attractor.effects import Effect, EffectResult
from attractor.events import (
    GENESIS,
    Event,
    LineCodec,
    LogCorruptError,
    NewerSchemaError,
    UnknownEventTypeError,
    chain_hash,
    event_classes,
    register_upcaster,
)
from tests.strategies import any_event, for_type, streams

ALL_EVENTS = sorted(event_classes().values(), key=lambda c: c.__name__)
AT = "2026-11-22T00:00:00.000000Z"


def seal(body: bytes, seq: int = 1, prev: str = GENESIS, stream: str = "run", v: int = 1) -> bytes:
    """Hand-build a line with a valid hash around an arbitrary event body (for bad-input tests)."""
    head = b'{"seq":%d,"at":"%s","stream":"%s",' % (seq, AT.encode(), stream.encode())
    if v != 1:
        head += b'"v":%d,' % v
    unhashed = head + body[1:-1]
    return unhashed + b',"hash":"' + chain_hash(prev, unhashed).encode() + b'"}'


@given(st.data())
def test_every_event_type_round_trips(data: st.DataObject) -> None:
    """encode → decode gives back an equal event, with its envelope, for every event class."""
    codec = LineCodec()
    event = data.draw(any_event(ALL_EVENTS))
    stream = data.draw(streams)
    line, digest = codec.encode(7, AT, stream, event, "abcd")
    entry = codec.decode(line, 7, "abcd")
    assert entry.event == event
    assert (entry.seq, entry.at, entry.stream, entry.hash) == (7, AT, stream, digest)


@given(for_type(Effect), for_type(EffectResult))
def test_every_effect_and_result_round_trips(request: Effect, result: EffectResult) -> None:
    """Every effect request and result survives msgspec JSON encode → decode unchanged."""
    assert msgspec.json.decode(msgspec.json.encode(request), type=Effect) == request
    assert msgspec.json.decode(msgspec.json.encode(result), type=EffectResult) == result


def test_hash_covers_the_line_itself() -> None:
    """Changing any byte of a line, even the last one in a log, breaks its own hash."""
    codec = LineCodec()
    from attractor.testing.machines import ScriptNoted

    line, _ = codec.encode(1, AT, "run", ScriptNoted(step=0, note="hello"), GENESIS)
    tampered = line.replace(b"hello", b"jello")
    with pytest.raises(LogCorruptError, match="hash chain broken") as info:
        codec.decode(tampered, 1, GENESIS)
    assert info.value.line == 1


def test_unknown_event_type_is_typed_with_suggestion() -> None:
    """An unregistered type names the line and suggests close tags."""
    with pytest.raises(UnknownEventTypeError, match=r"unknown event type 'script\.notd'") as info:
        LineCodec("x.jsonl").decode(seal(b'{"type":"script.notd","step":0,"note":""}'), 1, GENESIS)
    assert info.value.line == 1
    assert "script.noted" in info.value.hint


def test_unknown_field_is_rejected() -> None:
    """Fields the event does not declare are an error, not silently dropped."""
    with pytest.raises(LogCorruptError, match="unknown field `extra`"):
        LineCodec().decode(
            seal(b'{"type":"script.noted","step":0,"note":"","extra":1}'), 1, GENESIS
        )


def test_wrong_field_type_is_rejected() -> None:
    """A field of the wrong type names the field."""
    with pytest.raises(LogCorruptError, match=r"Expected `int`, got `str` - at `\$.step`"):
        LineCodec().decode(seal(b'{"type":"script.noted","step":"0","note":""}'), 1, GENESIS)


def test_non_json_line_is_rejected() -> None:
    """A line that is not an event line at all says so, with its start."""
    with pytest.raises(LogCorruptError, match="not an event line") as info:
        LineCodec().decode(b"hello world, this is not JSON at all", 3, GENESIS)
    assert info.value.line == 3
    assert "hello world" in info.value.hint


def test_newer_schema_version_is_refused() -> None:
    """A line from a newer schema says which version and how to read it."""
    line = seal(b'{"type":"script.noted","step":0,"note":""}', v=9)
    with pytest.raises(NewerSchemaError, match="schema version 9") as info:
        LineCodec().decode(line, 1, GENESIS)
    assert "upgrade" in info.value.hint


class _Renamed(Event, frozen=True, tag="test.renamed"):
    """Version 2 of an event whose field `name` was called `title` in version 1."""

    schema_version = 2
    name: str


@register_upcaster("test.renamed", 1)
def _rename_title(fields: dict[str, object]) -> dict[str, object]:
    return {"name": fields.pop("title"), **fields}


def test_old_shape_is_upcast() -> None:
    """A v1 line (no `v` field) of a v2 event is converted by its upcaster."""
    entry = LineCodec().decode(seal(b'{"type":"test.renamed","title":"x"}'), 1, GENESIS)
    assert entry.event == _Renamed(name="x")


def test_current_version_is_written_and_read() -> None:
    """Events above version 1 carry `v` in the envelope and read back directly."""
    codec = LineCodec()
    line, _ = codec.encode(1, AT, "run", _Renamed(name="y"), GENESIS)
    assert b'"v":2,' in line
    assert codec.decode(line, 1, GENESIS).event == _Renamed(name="y")
