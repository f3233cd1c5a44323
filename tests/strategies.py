"""Hypothesis strategies shared by the kernel tests: any event, any effect, any script."""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import msgspec
from hypothesis import strategies as st

from attractor.effects import (
    Call,
    DrawRandom,
    NewId,
    ReadClock,
    Sleep,
)
from attractor.events import BlobRef, Event
from attractor.testing.machines import Step

json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
streams = st.from_regex(r"run(/[a-z]{1,6}(:[a-z0-9]{1,4})?){0,2}", fullmatch=True)
blob_refs = st.builds(
    BlobRef,
    digest=st.from_regex(r"sha256-[0-9a-f]{64}", fullmatch=True),
    size=st.integers(0, 2**40),
)


def for_type(tp: Any) -> st.SearchStrategy[Any]:
    """A strategy for a msgspec-encodable annotation (structs, unions, containers, literals)."""
    origin = get_origin(tp)
    if tp is Any:
        return json_values
    if tp is BlobRef:
        return blob_refs
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return structs(tp)
    if origin is Literal:
        return st.sampled_from(get_args(tp))
    if origin in (Union, types.UnionType):
        return st.one_of([for_type(a) for a in get_args(tp)])
    if origin is tuple:
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(for_type(args[0]), max_size=3).map(tuple)
        return st.tuples(*(for_type(a) for a in args))
    if origin in (list, typing.Sequence):
        return st.lists(for_type(get_args(tp)[0]), max_size=3)
    if origin is dict:
        k, v = get_args(tp)
        return st.dictionaries(for_type(k), for_type(v), max_size=3)
    if tp is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if tp is int:
        return st.integers(-(2**53), 2**53)
    return st.from_type(tp)


def structs(cls: type[msgspec.Struct]) -> st.SearchStrategy[Any]:
    """Any instance of a msgspec Struct, every field generated from its annotation."""
    hints = get_type_hints(cls)
    fields = {f.name: for_type(hints[f.name]) for f in msgspec.structs.fields(cls)}
    return st.fixed_dictionaries(fields).map(lambda kw: cls(**kw))


def effect_steps() -> st.SearchStrategy[Step]:
    """Steps whose effects the fake interpreter answers deterministically."""
    effects = st.one_of(
        st.just(ReadClock()),
        st.builds(NewId, prefix=st.sampled_from(["", "run-", "q-"])),
        st.builds(DrawRandom),
        st.builds(Sleep, ms=st.integers(0, 50)),
        st.builds(Call, name=st.sampled_from(["double", "echo"]), args=st.integers(0, 100)),
    )
    notes = st.builds(Step, kind=st.just("note"), note=st.text(max_size=10))
    return notes | st.builds(Step, kind=st.just("effect"), effect=effects)


scripts = st.dictionaries(
    st.sampled_from(["run", "run/branch:a", "run/branch:b", "run/node:x"]),
    st.lists(effect_steps(), min_size=0, max_size=6),
    min_size=1,
    max_size=4,
)


def any_event(classes: list[type[Event]]) -> st.SearchStrategy[Event]:
    """Any event of the given classes."""
    return st.one_of([structs(c) for c in classes])
