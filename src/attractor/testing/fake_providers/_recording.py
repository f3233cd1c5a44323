"""Records of the requests the fake server received (pure layer: data and redaction).

Rule: a secret never enters a record. API-key headers and the `key` query parameter are
replaced by `<redacted>`; the key itself is kept only as a SHA-256 digest, so a test can ask
`record.has_api_key("sk-a")` while a failing assertion that prints the record leaks nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import msgspec

from attractor.testing.fake_providers._scenario import Api

REDACTED = "<redacted>"
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "x-goog-api-key", "api-key", "cookie"}
)
SECRET_QUERY = frozenset({"key", "api_key"})


def key_digest(key: str) -> str:
    """The digest under which a record keeps an API key."""
    return hashlib.sha256(key.encode()).hexdigest()


class RecordedRequest(msgspec.Struct, frozen=True):
    """One request as the fake server received it, secrets redacted.

    Attributes:
        ordinal: 1-based arrival number on this server.
        method: HTTP method.
        path: URL path without the query.
        query: Query parameters (last value of each), secrets redacted.
        headers: Headers with lower-case names, secrets redacted.
        body: The decoded JSON body, or None when it was empty or not JSON.
        body_size: Size of the raw body in bytes.
        api: The wire API the path belongs to, None for unknown paths.
        api_key_digest: SHA-256 of the API key the request carried (see `key_digest`).
    """

    ordinal: int
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    body_size: int
    api: Api | None
    api_key_digest: str | None

    def has_api_key(self, key: str) -> bool:
        """Tell whether the request carried exactly this API key."""
        return self.api_key_digest == key_digest(key)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-case header names and hide secret values."""
    return {
        name.lower(): REDACTED if name.lower() in SECRET_HEADERS else value
        for name, value in headers.items()
    }


def redact_query(query: Mapping[str, str]) -> dict[str, str]:
    """Hide secret query parameters."""
    return {name: REDACTED if name in SECRET_QUERY else value for name, value in query.items()}


def redact_path(raw_path: str) -> str:
    """A request line's path with secret query values hidden (for log lines)."""
    path, sep, query = raw_path.partition("?")
    if not sep:
        return path
    pairs = []
    for pair in query.split("&"):
        name, eq, _ = pair.partition("=")
        pairs.append(f"{name}={REDACTED}" if eq and name in SECRET_QUERY else pair)
    return f"{path}?{'&'.join(pairs)}"
