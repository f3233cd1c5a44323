"""Simulated prompt caching (pure layer: which request prefixes are cacheable, and their sizes).

Rule: a request is cut into a *header* (system prompt, tools) and its conversation list; a
cacheable prefix is the header plus the first k conversation entries. OpenAI and Gemini cache
automatically, so every prefix is cacheable; Anthropic caches only up to blocks marked with
`cache_control`. The server keeps digests of prefixes it has seen (per API key) and reports
the longest seen prefix as cache reads — and, for Anthropic, the unseen part up to the last
breakpoint as cache writes. Sizes use the same 4-characters-per-token estimate as elsewhere;
provider minimums (e.g. 1,024 tokens) are not modelled.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from attractor.testing.fake_providers._scenario import Api

_ENCODER = msgspec.json.Encoder(order="sorted")
_HEADER_KEYS: dict[str, tuple[str, ...]] = {
    "openai_responses": ("instructions", "tools"),
    "openai_chat": ("tools",),
    "anthropic_messages": ("system", "tools"),
    "gemini_generate": ("systemInstruction", "tools"),
}
_LIST_KEYS = {
    "openai_responses": "input",
    "openai_chat": "messages",
    "anthropic_messages": "messages",
    "gemini_generate": "contents",
}


class Prefix(msgspec.Struct, frozen=True):
    """A cacheable request prefix: its digest (scoped by key) and its size in tokens."""

    digest: str
    tokens: int


def _prefix(scope: str, header: Any, entries: list[Any]) -> Prefix:
    encoded = _ENCODER.encode([header, entries])
    digest = hashlib.sha256(scope.encode() + b"\0" + encoded).hexdigest()
    return Prefix(digest, (len(encoded) + 3) // 4)


def _has_breakpoint(value: Any) -> bool:
    if isinstance(value, dict):
        return "cache_control" in value or any(_has_breakpoint(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_breakpoint(item) for item in value)
    return False


def cacheable_prefixes(api: Api, body: Any, scope: str) -> tuple[Prefix, ...]:
    """The prefixes of a request that a provider would cache, shortest first.

    Args:
        api: The wire API.
        body: The decoded request body.
        scope: What isolates caches from each other (the API key's digest).
    """
    if not isinstance(body, dict):
        return ()
    entries = body.get(_LIST_KEYS[api])
    if not isinstance(entries, list):
        return ()
    header = [body.get(key) for key in _HEADER_KEYS[api]]
    if api != "anthropic_messages":
        return tuple(_prefix(scope, header, entries[:k]) for k in range(1, len(entries) + 1))
    marked = [k for k in range(1, len(entries) + 1) if _has_breakpoint(entries[k - 1])]
    if not marked and _has_breakpoint(header):
        marked = [0]
    return tuple(_prefix(scope, header, entries[:k]) for k in marked)


def cache_tokens(api: Api, prefixes: tuple[Prefix, ...], seen: set[str]) -> tuple[int, int]:
    """Cache read and write tokens for a request, given the prefix digests seen before.

    The request's last entry is new, so automatic caching can only hit shorter prefixes.
    """
    if api == "anthropic_messages":
        read = max((p.tokens for p in prefixes if p.digest in seen), default=0)
        last = prefixes[-1] if prefixes else None
        write = 0 if last is None or last.digest in seen else last.tokens - read
        return read, max(0, write)
    earlier = prefixes[:-1]
    return max((p.tokens for p in earlier if p.digest in seen), default=0), 0
