"""Error hierarchy of the unified LLM client (spec §6) and its pure classification rules.

Layer: llm (pure). Rule: this module decides *which* error a provider failure is — from an
HTTP status, a gRPC status, an error code or the message text — and never performs I/O or reads
the clock (Retry-After dates are resolved against a `now` the caller passes in).

Secrets: every error scrubs its message (and a provider error its raw body) when it is built —
registered secret values and provider-key-shaped tokens become `<redacted>`
(`attractor.events.secrets`) — so no later layer that records or prints an error can leak a key.

The hierarchy stays exceptions, as the spec defines it. `ErrorInfo` is the serialisable twin of
an exception: stream ERROR events and effect logs carry it, and `ErrorInfo.to_exception()`
rebuilds the typed exception on the other side.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import msgspec

from attractor.events.secrets import scrub, scrub_value

__all__ = [
    "AbortError",
    "AccessDeniedError",
    "AuthenticationError",
    "ConfigurationError",
    "ContentFilterError",
    "ContextLengthError",
    "ErrorInfo",
    "InvalidRequestError",
    "InvalidToolCallError",
    "InvalidValueError",
    "NetworkError",
    "NoObjectGeneratedError",
    "NotFoundError",
    "ProviderError",
    "QuotaExceededError",
    "RateLimitError",
    "RequestTimeoutError",
    "SDKError",
    "ServerError",
    "StreamError",
    "UnsupportedContentError",
    "UnsupportedToolChoiceError",
    "classify_message",
    "error_from_grpc_status",
    "error_from_status",
    "error_info",
    "parse_retry_after",
]


class SDKError(Exception):
    """Base of every error the library raises.

    Attributes:
        message: Human-readable description.
        cause: The underlying exception, if any.
        retryable: Whether retrying the same call may succeed.
    """

    default_retryable: ClassVar[bool] = True

    def __init__(
        self, message: str, *, cause: BaseException | None = None, retryable: bool | None = None
    ) -> None:
        message = scrub(message)
        super().__init__(message)
        self.message = message
        self.cause = cause
        self.retryable = self.default_retryable if retryable is None else retryable
        if cause is not None:
            self.__cause__ = cause


class ProviderError(SDKError):
    """An error reported by (or while talking to) an LLM provider.

    Attributes:
        provider: Which provider returned the error.
        status_code: HTTP status code, if any.
        error_code: Provider-specific error code or type.
        retry_after: Seconds the provider asked us to wait, if it said.
        raw: The raw error body, parsed when it was JSON.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status_code: int | None = None,
        error_code: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        raw: Any = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message, cause=cause, retryable=retryable)
        self.provider = provider
        self.status_code = status_code
        self.error_code = error_code
        self.retry_after = retry_after
        self.raw = scrub_value(raw)

    def __str__(self) -> str:
        status = f" {self.status_code}" if self.status_code is not None else ""
        return f"{self.provider}{status}: {self.message}"


class AuthenticationError(ProviderError):
    """401: invalid or expired credentials."""

    default_retryable = False


class AccessDeniedError(ProviderError):
    """403: the credentials lack permission."""

    default_retryable = False


class NotFoundError(ProviderError):
    """404: unknown model or endpoint."""

    default_retryable = False


class InvalidRequestError(ProviderError):
    """400/422: malformed request or invalid parameters."""

    default_retryable = False


class RateLimitError(ProviderError):
    """429: rate limit exceeded; `retry_after` says how long to wait when known."""

    default_retryable = True


class ServerError(ProviderError):
    """5xx: provider-side failure."""

    default_retryable = True


class ContentFilterError(ProviderError):
    """The response was blocked by a safety or content filter."""

    default_retryable = False


class ContextLengthError(ProviderError):
    """Input plus output exceeds the model's context window."""

    default_retryable = False


class QuotaExceededError(ProviderError):
    """Billing or usage quota exhausted."""

    default_retryable = False


class UnsupportedContentError(InvalidRequestError):
    """The provider cannot accept a content part (audio, document, unknown kind) of the request."""


class RequestTimeoutError(SDKError):
    """A request or stream read timed out (not retried by default, spec §6.3)."""

    default_retryable = False

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status_code: int | None = None,
        cause: BaseException | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message, cause=cause, retryable=retryable)
        self.provider = provider
        self.status_code = status_code


class AbortError(SDKError):
    """The operation was cancelled through an abort signal."""

    default_retryable = False


class NetworkError(SDKError):
    """A network-level failure (connection refused, reset, DNS)."""

    default_retryable = True


class StreamError(SDKError):
    """The stream broke or carried data we could not interpret."""

    default_retryable = True


class InvalidToolCallError(SDKError):
    """Tool-call arguments failed parsing or schema validation."""

    default_retryable = False


class UnsupportedToolChoiceError(SDKError):
    """The provider does not support the requested tool-choice mode."""

    default_retryable = False


class NoObjectGeneratedError(SDKError):
    """Structured output could not be parsed or validated."""

    default_retryable = False


class ConfigurationError(SDKError):
    """The SDK is misconfigured (no provider, missing key, unknown provider...)."""

    default_retryable = False


class InvalidValueError(ConfigurationError, ValueError):
    """A data value (tool name, tool choice, content part...) breaks the data model's rules.

    It is also a `ValueError`, so msgspec turns it into a `ValidationError` with a path when the
    bad value arrives through decoding.
    """


_STATUS_TABLE: dict[int, type[SDKError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: AccessDeniedError,
    404: NotFoundError,
    408: RequestTimeoutError,
    413: ContextLengthError,
    422: InvalidRequestError,
    429: RateLimitError,
}

_GRPC_TABLE: dict[str, type[SDKError]] = {
    "NOT_FOUND": NotFoundError,
    "INVALID_ARGUMENT": InvalidRequestError,
    "FAILED_PRECONDITION": InvalidRequestError,
    "OUT_OF_RANGE": InvalidRequestError,
    "UNAUTHENTICATED": AuthenticationError,
    "PERMISSION_DENIED": AccessDeniedError,
    "RESOURCE_EXHAUSTED": RateLimitError,
    "UNAVAILABLE": ServerError,
    "DEADLINE_EXCEEDED": RequestTimeoutError,
    "INTERNAL": ServerError,
    "UNKNOWN": ServerError,
    "ABORTED": ServerError,
    "CANCELLED": ServerError,
}

# Ordered: the first matching phrase wins (spec §6.5 plus quota/billing signals).
_MESSAGE_RULES: tuple[tuple[tuple[str, ...], type[ProviderError]], ...] = (
    (
        ("context length", "context_length", "too many tokens", "maximum context"),
        ContextLengthError,
    ),
    (("insufficient_quota", "quota", "billing"), QuotaExceededError),
    (("content filter", "content_filter", "safety"), ContentFilterError),
    (("unauthorized", "invalid key", "invalid api key", "invalid x-api-key"), AuthenticationError),
    (("not found", "does not exist", "not_found"), NotFoundError),
)


def classify_message(text: str | None) -> type[ProviderError] | None:
    """Return the error class a provider message or error code points at, if any (spec §6.5)."""
    if not text:
        return None
    lowered = text.lower()
    for phrases, cls in _MESSAGE_RULES:
        if any(phrase in lowered for phrase in phrases):
            return cls
    return None


def _class_for_status(status: int) -> type[SDKError]:
    if status in _STATUS_TABLE:
        return _STATUS_TABLE[status]
    if 500 <= status <= 599:
        return ServerError
    return ProviderError


def _refine(base: type[SDKError], signal: str) -> type[SDKError]:
    """Let message/code signals sharpen ambiguous statuses without overriding clear ones."""
    hinted = classify_message(signal)
    if hinted is None:
        return base
    if base in (InvalidRequestError, ProviderError):
        return hinted
    if base is RateLimitError and hinted is QuotaExceededError:
        return hinted
    if base is AccessDeniedError and hinted in (QuotaExceededError, ContentFilterError):
        return hinted
    return base


def _build(
    cls: type[SDKError],
    message: str,
    *,
    provider: str,
    status_code: int | None,
    error_code: str | None,
    retry_after: float | None,
    raw: Any,
    cause: BaseException | None,
) -> SDKError:
    if issubclass(cls, ProviderError):
        return cls(
            message,
            provider=provider,
            status_code=status_code,
            error_code=error_code,
            retry_after=retry_after,
            raw=raw,
            cause=cause,
        )
    if cls is RequestTimeoutError:
        return RequestTimeoutError(message, provider=provider, status_code=status_code, cause=cause)
    return cls(message, cause=cause)


def error_from_status(
    status_code: int,
    message: str,
    *,
    provider: str,
    error_code: str | None = None,
    retry_after: float | None = None,
    raw: Any = None,
    cause: BaseException | None = None,
) -> SDKError:
    """Map an HTTP error status (and message/code signals) to a typed error (spec §6.4, §6.5).

    Unknown statuses become a plain, retryable `ProviderError` (spec §6.3: unknown errors
    default to retryable).
    """
    base = _class_for_status(status_code)
    cls = _refine(base, f"{error_code or ''} {message}")
    return _build(
        cls,
        message,
        provider=provider,
        status_code=status_code,
        error_code=error_code,
        retry_after=retry_after,
        raw=raw,
        cause=cause,
    )


def error_from_grpc_status(
    grpc_status: str,
    message: str,
    *,
    provider: str,
    status_code: int | None = None,
    retry_after: float | None = None,
    raw: Any = None,
) -> SDKError:
    """Map a gRPC status name such as `RESOURCE_EXHAUSTED` (Gemini) to a typed error."""
    base = _GRPC_TABLE.get(grpc_status.upper(), ProviderError)
    cls = _refine(base, f"{grpc_status} {message}")
    return _build(
        cls,
        message,
        provider=provider,
        status_code=status_code,
        error_code=grpc_status,
        retry_after=retry_after,
        raw=raw,
        cause=None,
    )


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Parse a Retry-After value: delta seconds (`"12"`, `"1.5"`) or an HTTP date.

    Args:
        value: The header value, or None when absent.
        now: The current time (aware, UTC); dates are converted to seconds from it.

    Returns:
        Seconds to wait (never negative), or None when absent or unparseable.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        return _seconds_until_date(text, now)
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(seconds, 0.0)


def _seconds_until_date(text: str, now: datetime) -> float | None:
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None or now.tzinfo is None:
        when = when.replace(tzinfo=None)
        now = now.replace(tzinfo=None)
    return max((when - now).total_seconds(), 0.0)


class ErrorInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    """Serialisable description of an `SDKError` (stream ERROR events, effect logs).

    Attributes:
        kind: The error class name, e.g. `"RateLimitError"`.
        message: Human-readable description.
        retryable: Whether a retry may succeed.
        provider: Provider name, for provider errors.
        status_code: HTTP status, when there was one.
        error_code: Provider error code, when there was one.
        retry_after: Seconds to wait, when the provider said.
        raw: Raw error body.
    """

    kind: str
    message: str
    retryable: bool = False
    provider: str | None = None
    status_code: int | None = None
    error_code: str | None = None
    retry_after: float | None = None
    raw: Any = None

    def to_exception(self) -> SDKError:
        """Rebuild the typed exception this info describes (unknown kinds give `SDKError`)."""
        cls = _all_error_classes().get(self.kind, SDKError)
        if issubclass(cls, ProviderError):
            return cls(
                self.message,
                provider=self.provider or "unknown",
                status_code=self.status_code,
                error_code=self.error_code,
                retryable=self.retryable,
                retry_after=self.retry_after,
                raw=self.raw,
            )
        if cls is RequestTimeoutError:
            return RequestTimeoutError(
                self.message,
                provider=self.provider,
                status_code=self.status_code,
                retryable=self.retryable,
            )
        return cls(self.message, retryable=self.retryable)


def error_info(exc: SDKError) -> ErrorInfo:
    """Describe an `SDKError` as a serialisable `ErrorInfo`."""
    provider = getattr(exc, "provider", None)
    return ErrorInfo(
        kind=type(exc).__name__,
        message=exc.message,
        retryable=exc.retryable,
        provider=provider,
        status_code=getattr(exc, "status_code", None),
        error_code=getattr(exc, "error_code", None),
        retry_after=getattr(exc, "retry_after", None),
        raw=getattr(exc, "raw", None),
    )


def _all_error_classes() -> dict[str, type[SDKError]]:
    found: dict[str, type[SDKError]] = {}
    pending: list[type[SDKError]] = [SDKError]
    while pending:
        cls = pending.pop()
        found[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return found
