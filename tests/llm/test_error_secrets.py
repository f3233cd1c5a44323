"""Provider errors never carry a secret: scrubbed where they are built (issue 8, point 1)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from attractor.events.secrets import REDACTED
from attractor.llm import errors as e
from attractor.llm.client import Client
from attractor.llm.runtime import ProviderConfig, Secret
from attractor.llm.types import Message, Request
from attractor.llm.wire import error_from_http

NOW = datetime(2026, 1, 1, tzinfo=UTC)
KEY = "zz-configured-marker-5821"


def test_configured_key_is_scrubbed_from_the_message() -> None:
    """A message quoting a configured key (any shape) loses it when the error is built."""
    Secret(KEY)
    err = e.error_from_status(401, f"Incorrect API key provided: {KEY}.", provider="openai")
    assert KEY not in err.message
    assert KEY not in str(err)
    assert REDACTED in err.message


def test_key_shaped_token_is_scrubbed_from_message_and_raw() -> None:
    """An unregistered sk-… token in the message or the raw body is scrubbed too."""
    token = "sk-proj-unregisteredKey0123456789"
    body = {"error": {"message": f"bad key {token}", "type": "invalid_request_error"}}
    err = e.error_from_status(400, f"bad key {token}", provider="openai", raw=body)
    assert token not in err.message
    assert token not in repr(err.raw)


@pytest.mark.parametrize("status", [400, 401, 403, 429, 500, 503])
def test_http_error_bodies_are_scrubbed(status: int) -> None:
    """`error_from_http` (every adapter's error path) scrubs message and raw for every status."""
    Secret(KEY)
    body = b'{"error":{"message":"key ' + KEY.encode() + b' refused","type":"x"}}'
    err = error_from_http("openai", status, {}, body, NOW)
    assert KEY not in str(err)
    assert KEY not in repr(getattr(err, "raw", None))


def test_non_json_body_is_scrubbed() -> None:
    """An HTML or text error page quoting the key is scrubbed in the raw excerpt as well."""
    Secret(KEY)
    err = error_from_http("anthropic", 502, {"content-type": "text/html"}, KEY.encode(), NOW)
    assert KEY not in str(err)
    assert KEY not in repr(getattr(err, "raw", None))


def test_error_info_round_trip_stays_scrubbed() -> None:
    """The serialisable twin of a scrubbed error holds no secret, nor does the rebuilt one."""
    Secret(KEY)
    err = e.error_from_status(401, f"key {KEY}", provider="gemini", raw={"k": KEY})
    info = e.error_info(err)
    assert KEY not in repr(info)
    assert KEY not in str(info.to_exception())


def test_non_provider_errors_are_scrubbed() -> None:
    """Any SDKError message (network, stream, configuration) is scrubbed at construction."""
    Secret(KEY)
    for cls in (e.NetworkError, e.StreamError, e.ConfigurationError, e.RequestTimeoutError):
        assert KEY not in cls(f"failed at http://x/?key={KEY}").message


@pytest.mark.anyio
async def test_adapter_error_through_the_client_is_scrubbed() -> None:
    """A real adapter call answered with a 401 quoting the key raises a scrubbed error."""

    def answer(request: httpx.Request) -> httpx.Response:
        message = f"Incorrect API key provided: {KEY}"
        return httpx.Response(401, json={"error": {"message": message, "type": "auth"}})

    client = Client.from_env(
        {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": "http://fake/v1"},
        transport=httpx.MockTransport(answer),
    )
    assert isinstance(client.runtime.config_for("openai"), ProviderConfig)
    with pytest.raises(e.AuthenticationError) as caught:
        await client.complete(Request(model="gpt-5", messages=[Message.user("hi")]))
    await client.close()
    assert KEY not in str(caught.value)
    assert KEY not in repr(caught.value.raw)
