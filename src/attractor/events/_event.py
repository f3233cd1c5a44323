"""Events layer (pure): the event base class, blob references, the type registry and upcasters.

Rule: an event is a frozen msgspec Struct with an explicit, stable tag (`tag="node.started"`).
Renaming a class never breaks an old log; changing an event's shape bumps its `version` and
registers an upcaster that turns the old shape (a dict) into the new one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import msgspec

from attractor.events._errors import EventTypeError


class Event(
    msgspec.Struct, frozen=True, tag_field="type", forbid_unknown_fields=True, omit_defaults=True
):
    """Base of every event. Subclasses declare `tag="area.fact"` and their own fields.

    The envelope (`seq`, `at`, `stream`, `hash`) is not part of the event: the store adds it when
    the event is appended, and hands it back beside the event as an `Entry`. Fields equal to their
    default are omitted from the line, so adding a defaulted field never changes existing lines.
    """

    schema_version: ClassVar[int] = 1


class BlobRef(msgspec.Struct, frozen=True, tag="blob"):
    """A payload kept in the content-addressed blob store beside the log."""

    digest: str
    size: int


Text = str | BlobRef
"""A text payload that is inline when small and a `BlobRef` when above the store's threshold."""

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

_upcasters: dict[tuple[str, int], Upcaster] = {}


def register_upcaster(tag: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register a function turning a `tag` event of `from_version` into `from_version + 1`."""

    def deco(fn: Upcaster) -> Upcaster:
        _upcasters[(tag, from_version)] = fn
        return fn

    return deco


def upcast(tag: str, version: int, target: int, fields: dict[str, Any]) -> dict[str, Any] | None:
    """Apply the upcaster chain from `version` to `target`; None if a step is missing."""
    while version < target:
        step = _upcasters.get((tag, version))
        if step is None:
            return None
        fields = step(fields)
        version += 1
    return fields


def event_tag(cls: type[Event]) -> str:
    """The stable tag of an event class."""
    tag = cls.__struct_config__.tag
    if not isinstance(tag, str) or tag == cls.__name__:
        raise EventTypeError(f"event class {cls.__qualname__} needs an explicit tag='area.fact'")
    return tag


def event_classes() -> dict[str, type[Event]]:
    """Every concrete event class defined so far, by tag (leaf subclasses of `Event`)."""
    found: dict[str, type[Event]] = {}
    stack: list[type[Event]] = list(Event.__subclasses__())
    while stack:
        cls = stack.pop()
        subs = cls.__subclasses__()
        if subs:
            stack.extend(subs)
            continue
        tag = event_tag(cls)
        other = found.get(tag)
        if other is not None and other is not cls:
            raise EventTypeError(
                f"tag {tag!r} is used by {other.__qualname__} and {cls.__qualname__}"
            )
        found[tag] = cls
    return found
