"""Tests for the LLM error hierarchy, status/gRPC mapping, classification and Retry-After."""

from datetime import UTC, datetime

import pytest

from attractor.llm import errors as e

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        (400, e.InvalidRequestError, False),
        (401, e.AuthenticationError, False),
        (403, e.AccessDeniedError, False),
        (404, e.NotFoundError, False),
        (408, e.RequestTimeoutError, False),
        (413, e.ContextLengthError, False),
        (422, e.InvalidRequestError, False),
        (429, e.RateLimitError, True),
        (500, e.ServerError, True),
        (503, e.ServerError, True),
        (504, e.ServerError, True),
        (599, e.ServerError, True),
    ],
)
def test_status_mapping(status: int, cls: type[e.SDKError], retryable: bool) -> None:
    """Each HTTP status of spec §6.4 maps to its error type and retryable flag."""
    err = e.error_from_status(status, "boom", provider="openai")
    assert type(err) is cls
    assert err.retryable is retryable


def test_unknown_status_defaults_to_retryable_provider_error() -> None:
    """An unmapped status gives a retryable ProviderError (spec §6.3)."""
    err = e.error_from_status(418, "teapot", provider="x")
    assert type(err) is e.ProviderError
    assert err.retryable


def test_provider_error_fields() -> None:
    """ProviderError keeps provider, status, code, retry_after and raw."""
    err = e.error_from_status(
        429, "slow down", provider="anthropic", error_code="rate", retry_after=3.0, raw={"a": 1}
    )
    assert isinstance(err, e.RateLimitError)
    assert (err.provider, err.status_code, err.error_code) == ("anthropic", 429, "rate")
    assert (err.retry_after, err.raw) == (3.0, {"a": 1})
    assert str(err) == "anthropic 429: slow down"


@pytest.mark.parametrize(
    ("message", "cls"),
    [
        ("model xyz not found", e.NotFoundError),
        ("resource does not exist", e.NotFoundError),
        ("Unauthorized", e.AuthenticationError),
        ("invalid key provided", e.AuthenticationError),
        ("maximum context length exceeded", e.ContextLengthError),
        ("too many tokens in prompt", e.ContextLengthError),
        ("blocked by content filter", e.ContentFilterError),
        ("safety system triggered", e.ContentFilterError),
        ("you exceeded your quota", e.QuotaExceededError),
    ],
)
def test_message_classification_refines_400(message: str, cls: type[e.SDKError]) -> None:
    """An ambiguous 400 is classified by its message (spec §6.5)."""
    assert type(e.error_from_status(400, message, provider="p")) is cls


def test_clear_status_is_not_overridden_by_message() -> None:
    """A 401 stays an AuthenticationError even if the message says 'not found'."""
    assert type(e.error_from_status(401, "key not found", provider="p")) is e.AuthenticationError


def test_insufficient_quota_429_is_quota_error() -> None:
    """OpenAI's 429 insufficient_quota is a non-retryable QuotaExceededError."""
    err = e.error_from_status(429, "x", provider="openai", error_code="insufficient_quota")
    assert type(err) is e.QuotaExceededError
    assert not err.retryable


@pytest.mark.parametrize(
    ("grpc", "cls"),
    [
        ("NOT_FOUND", e.NotFoundError),
        ("INVALID_ARGUMENT", e.InvalidRequestError),
        ("UNAUTHENTICATED", e.AuthenticationError),
        ("PERMISSION_DENIED", e.AccessDeniedError),
        ("RESOURCE_EXHAUSTED", e.RateLimitError),
        ("UNAVAILABLE", e.ServerError),
        ("DEADLINE_EXCEEDED", e.RequestTimeoutError),
        ("INTERNAL", e.ServerError),
    ],
)
def test_grpc_mapping(grpc: str, cls: type[e.SDKError]) -> None:
    """Gemini gRPC status names map per spec §6.4."""
    assert type(e.error_from_grpc_status(grpc, "m", provider="gemini")) is cls


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", 12.0),
        ("1.5", 1.5),
        ("  7 ", 7.0),
        ("-3", 0.0),
        ("Thu, 01 Jan 2026 12:00:30 GMT", 30.0),
        ("Thu, 01 Jan 2026 11:00:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    """Retry-After accepts delta seconds or an HTTP date; junk gives None."""
    assert e.parse_retry_after(value, NOW) == expected


def test_error_info_round_trips_provider_error() -> None:
    """error_info/to_exception rebuild the same type and fields."""
    err = e.RateLimitError("slow", provider="openai", status_code=429, retry_after=2.0)
    back = e.error_info(err).to_exception()
    assert type(back) is e.RateLimitError
    assert isinstance(back, e.RateLimitError)
    assert (back.provider, back.status_code, back.retry_after) == ("openai", 429, 2.0)


def test_error_info_unknown_kind_gives_sdk_error() -> None:
    """An ErrorInfo naming an unknown class rebuilds a plain SDKError."""
    back = e.ErrorInfo(kind="Nope", message="m").to_exception()
    assert type(back) is e.SDKError


def test_hierarchy_shape() -> None:
    """Every error type of spec §6.1 derives from SDKError; provider ones from ProviderError."""
    for cls in (e.AuthenticationError, e.ContentFilterError, e.QuotaExceededError):
        assert issubclass(cls, e.ProviderError)
    for other in (e.RequestTimeoutError, e.AbortError, e.NetworkError, e.StreamError):
        assert issubclass(other, e.SDKError)
        assert not issubclass(other, e.ProviderError)


def test_invalid_value_error_is_configuration_and_value_error() -> None:
    """InvalidValueError is both a ConfigurationError and a ValueError."""
    assert issubclass(e.InvalidValueError, e.ConfigurationError)
    assert issubclass(e.InvalidValueError, ValueError)
