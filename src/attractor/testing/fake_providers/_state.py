"""The fake server's mutable state: scenario cursor and request log (shell layer, thread-safe).

Rule: every handler thread goes through one lock for both picking a step and recording a
request, so arrival numbers, consumed steps and records always agree.
"""

from __future__ import annotations

import threading
from collections import deque

from attractor.testing.fake_providers._caching import Prefix, cache_tokens
from attractor.testing.fake_providers._recording import RecordedRequest
from attractor.testing.fake_providers._scenario import (
    Api,
    RequestView,
    Scenario,
    Step,
    select_step,
)

MAX_CACHED_PREFIXES = 200_000
"""Simulated cache entries kept; the cache is emptied when it grows past this."""
DEFAULT_MAX_RECORDED = 100_000
"""Records kept per server; older ones are dropped so a long benchmark stays memory-bounded."""


class ServerState:
    """Scenario cursor and request records shared by the handler threads."""

    def __init__(self, scenario: Scenario, max_recorded: int = DEFAULT_MAX_RECORDED) -> None:
        self._lock = threading.Lock()
        self._scenario = scenario
        self._consumed: set[int] = set()
        self._ordinal = 0
        self._records: deque[RecordedRequest] = deque(maxlen=max_recorded)
        self._cached: set[str] = set()

    @property
    def scenario(self) -> Scenario:
        """The scenario being played."""
        with self._lock:
            return self._scenario

    def next_ordinal(self) -> int:
        """Number the next arriving request (1-based)."""
        with self._lock:
            self._ordinal += 1
            return self._ordinal

    def record(self, request: RecordedRequest) -> None:
        """Keep a record of a received request."""
        with self._lock:
            self._records.append(request)

    def records(self) -> tuple[RecordedRequest, ...]:
        """A snapshot of the records, oldest first."""
        with self._lock:
            return tuple(self._records)

    def take_step(self, view: RequestView) -> Step:
        """Pick the step answering a request and consume it unless it repeats."""
        with self._lock:
            index, step = select_step(self._scenario, frozenset(self._consumed), view)
            if index is not None and not step.repeat:
                self._consumed.add(index)
            return step

    def cache_lookup(self, api: Api, prefixes: tuple[Prefix, ...]) -> tuple[int, int]:
        """Cache read and write tokens for a request's prefixes, then remember them."""
        with self._lock:
            tokens = cache_tokens(api, prefixes, self._cached)
            if len(self._cached) + len(prefixes) > MAX_CACHED_PREFIXES:
                self._cached.clear()
            self._cached.update(prefix.digest for prefix in prefixes)
            return tokens

    def reset(self, scenario: Scenario | None = None, *, clear_records: bool = True) -> None:
        """Restart the scenario (or play a new one) and optionally forget the records."""
        with self._lock:
            if scenario is not None:
                self._scenario = scenario
            self._consumed.clear()
            self._cached.clear()
            if clear_records:
                self._records.clear()

    def remaining_steps(self) -> int:
        """How many non-repeating steps have not answered yet."""
        with self._lock:
            return sum(
                1
                for index, step in enumerate(self._scenario.steps)
                if index not in self._consumed and not step.repeat
            )
