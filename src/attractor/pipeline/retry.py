"""Pipeline layer (pure): retry policies and backoff (spec §3.5, §3.6).

Rule: the delay is computed here; the randomness for jitter arrives as a recorded
`DrawRandom` result (a factor in [0.5, 1.5)), so the delay actually slept is in the log.
"""

from __future__ import annotations

import msgspec

from attractor.dot import Graph, Node


class Backoff(msgspec.Struct, frozen=True):
    """Delay calculation between attempts."""

    initial_delay_ms: int = 200
    backoff_factor: float = 2.0
    max_delay_ms: int = 60_000
    jitter: bool = True


class RetryPolicy(msgspec.Struct, frozen=True):
    """How many attempts a node gets, and how long to wait between them."""

    max_attempts: int = 1
    backoff: Backoff = Backoff()


PRESETS: dict[str, RetryPolicy] = {
    "none": RetryPolicy(max_attempts=1),
    "standard": RetryPolicy(max_attempts=5, backoff=Backoff(200, 2.0)),
    "aggressive": RetryPolicy(max_attempts=5, backoff=Backoff(500, 2.0)),
    "linear": RetryPolicy(max_attempts=3, backoff=Backoff(500, 1.0)),
    "patient": RetryPolicy(max_attempts=3, backoff=Backoff(2000, 3.0)),
}


def policy_for(node: Node, graph: Graph) -> RetryPolicy:
    """`retry_policy` preset (node, else graph) for the backoff; `max_retries` (node, else the
    graph's `default_max_retries` / legacy `default_max_retry`) for the attempts when set."""
    preset_name = node.get("retry_policy") or graph.get("retry_policy") or ""
    policy = PRESETS.get(preset_name, RetryPolicy())
    explicit = node.max_retries is not None or graph.get("default_max_retries") is not None
    if explicit or graph.get("default_max_retry") is not None or not preset_name:
        policy = msgspec.structs.replace(policy, max_attempts=graph.max_retries_for(node) + 1)
    return policy


def delay_ms(policy: RetryPolicy, attempt: int, jitter_factor: float) -> int:
    """The delay before the next attempt; `attempt` is the 1-based attempt that just failed."""
    b = policy.backoff
    delay = min(b.initial_delay_ms * b.backoff_factor ** (attempt - 1), b.max_delay_ms)
    if b.jitter:
        delay *= jitter_factor
    return int(delay)
