"""Events layer (pure): secrets — what must never reach a log, a file or the screen.

Rules:
- A secret value is registered once, where it enters the process (`llm.runtime.Secret`, the
  live interpreter's view of the environment, the log key), and scrubbed everywhere text leaves
  a provider or an effect: `scrub(text)` replaces every registered value, and — for provider
  errors — every provider-key-shaped token (`sk-…`, `sk-ant-…`, `AIza…`, `Bearer …`) by
  `<redacted>`. Values shorter than `MIN_SECRET_LENGTH` are not registered: scrubbing `abc`
  from every message would destroy text and protect nothing.
- The registry only grows (up to `MAX_SECRETS`, oldest dropped first); it changes no behaviour
  but redaction, so it is the one process-wide table this layer keeps.
- Environment filtering (coding-agent-loop spec §4.2): variables whose names end in `_API_KEY`,
  `_SECRET`, `_TOKEN`, `_PASSWORD`, `_CREDENTIAL(S)`, … are not inherited by commands unless
  passed through by name (`filter_env`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

REDACTED: Final = "<redacted>"
MIN_SECRET_LENGTH: Final = 8
MAX_SECRETS: Final = 4096

_KEY_SHAPES: Final = re.compile(
    r"""
    \bsk-[A-Za-z0-9_\-]{16,}                                   # OpenAI, Anthropic (sk-ant-…)
    | \bsk-[A-Za-z0-9_\-]*\*{3,}[A-Za-z0-9_\-*]*              # a provider's masked echo of one
    | \bAIza[0-9A-Za-z_\-]{30,}                                # Google API keys
    | \b(?:xai|gsk|ghp|gho|ghs|github_pat|glpat|hf)[-_][A-Za-z0-9_]{16,}  # xAI, Groq, GitHub…
    | \bAKIA[0-9A-Z]{16}\b                                     # AWS access key ids
    | (?<=Bearer\ )[A-Za-z0-9._~+/=\-]{12,}                    # an Authorization header value
    """,
    re.VERBOSE,
)
"""Tokens shaped like provider credentials, scrubbed from provider errors whoever's they are."""

_SENSITIVE_NAME: Final = re.compile(
    r"(?:^|_)(?:API_?KEY|SECRET|SECRET_KEY|TOKEN|PASSWORD|PASSWD|CREDENTIALS?|PRIVATE_KEY|"
    r"ACCESS_KEY)$|^ATTRACTOR_LOG_KEY(?:_FILE)?$",
    re.IGNORECASE,
)

_registry: dict[str, None] = {}
"""Registered secret values, in registration order (a dict as an ordered set)."""


def register_secret(value: str) -> None:
    """Remember `value` as a secret so that `scrub` removes it from now on."""
    value = value.strip()
    if len(value) < MIN_SECRET_LENGTH or value in _registry:
        return
    _registry[value] = None
    if len(_registry) > MAX_SECRETS:
        del _registry[next(iter(_registry))]


def registered_secrets() -> tuple[str, ...]:
    """The secret values registered so far (longest first, so overlapping values scrub whole)."""
    return tuple(sorted(_registry, key=len, reverse=True))


def is_sensitive(name: str) -> bool:
    """Whether an environment variable's *name* says it holds a secret (spec §4.2)."""
    return _SENSITIVE_NAME.search(name) is not None


def sensitive_values(env: Mapping[str, str]) -> list[str]:
    """The values of the sensitive variables of `env` (long enough to be worth scrubbing)."""
    return [v for k, v in env.items() if is_sensitive(k) and len(v.strip()) >= MIN_SECRET_LENGTH]


def filter_env(env: Mapping[str, str], passthrough: Iterable[str] = ()) -> dict[str, str]:
    """`env` without its sensitive variables, except those named in `passthrough`."""
    keep = {name.strip() for name in passthrough if name.strip()}
    return {k: v for k, v in env.items() if k in keep or not is_sensitive(k)}


class Scrubber:
    """Replaces secret values (and, with `key_shapes`, provider-key-shaped tokens) by
    `<redacted>` in text and in JSON-like values.

    Args:
        secrets: Extra values to scrub besides the registered ones.
        key_shapes: Also scrub tokens shaped like provider keys (for provider errors).
    """

    def __init__(self, secrets: Iterable[str] = (), *, key_shapes: bool = False) -> None:
        self._extra = tuple(s.strip() for s in secrets if len(s.strip()) >= MIN_SECRET_LENGTH)
        self._key_shapes = key_shapes

    def values(self) -> tuple[str, ...]:
        """Every value this scrubber removes, longest first."""
        return tuple(sorted({*self._extra, *_registry}, key=len, reverse=True))

    def text(self, text: str) -> str:
        """`text` with every secret replaced."""
        for secret in self.values():
            if secret in text:
                text = text.replace(secret, REDACTED)
        return _KEY_SHAPES.sub(REDACTED, text) if self._key_shapes else text

    def finds(self, text: str) -> bool:
        """Whether `text` holds anything this scrubber would replace."""
        return self.text(text) != text

    def value(self, value: Any) -> Any:
        """A JSON-like value (str, list, tuple, dict, scalars) with every string scrubbed."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.value(v) for v in value)
        return value


def scrub(text: str) -> str:
    """Provider text without registered secrets or provider-key-shaped tokens."""
    return Scrubber(key_shapes=True).text(text)


def scrub_value(value: Any) -> Any:
    """A JSON-like provider body without registered secrets or provider-key-shaped tokens."""
    return Scrubber(key_shapes=True).value(value)
