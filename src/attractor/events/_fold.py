"""Events layer (pure): folding events into state.

Rule: state is never stored, only derived. `fold(events, initial, reduce)` is the whole story;
`state_hash` gives a stable fingerprint so tests (and `replay`) can compare states cheaply.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import TypeVar

import msgspec

S = TypeVar("S")
E = TypeVar("E")

_encoder = msgspec.json.Encoder(order="deterministic")


def fold(events: Iterable[E], initial: S, reduce: Callable[[S, E], S]) -> S:
    """Reduce `events` left to right from `initial`, consuming them once, in constant memory."""
    state = initial
    for event in events:
        state = reduce(state, event)
    return state


def fold_from(state: S, events: Iterable[E], reduce: Callable[[S, E], S]) -> S:
    """Continue a fold from an existing state: `fold(a + b) == fold_from(fold(a), b)`."""
    return fold(events, state, reduce)


def state_hash(state: object) -> str:
    """A stable SHA-256 of any msgspec-encodable state (dict keys in deterministic order)."""
    return hashlib.sha256(_encoder.encode(state)).hexdigest()
