"""Request validation against the official SDKs' request types (`validate_requests=True`)."""

from __future__ import annotations

import httpx
import pytest

from attractor.testing.fake_providers import FakeProviderServer, Step

KEY = {"authorization": "Bearer sk-x", "x-api-key": "k", "anthropic-version": "2023-06-01"}


def post(server: FakeProviderServer, path: str, body: object) -> httpx.Response:
    """POST a JSON body with every provider's auth headers."""
    return httpx.post(server.url + path, json=body, headers={**KEY, "x-goog-api-key": "g"})


def test_valid_bodies_pass(play):
    """Well-formed bodies of every API are served."""
    server = play(Step(text="ok", repeat=True))
    user = {"role": "user", "content": "hi"}
    bodies = {
        "/v1/responses": {"model": "m", "input": "hi", "reasoning": {"effort": "high"}},
        "/v1/chat/completions": {"model": "m", "messages": [user], "stream": False},
        "/v1/messages": {"model": "m", "max_tokens": 5, "messages": [user]},
        "/v1beta/models/m:generateContent": {
            "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
            "systemInstruction": {"parts": [{"text": "be brief"}]},
            "generationConfig": {"maxOutputTokens": 5, "thinkingConfig": {"thinkingBudget": 0}},
        },
    }
    assert [post(server, path, body).status_code for path, body in bodies.items()] == [200] * 4


def test_bad_enum_value_names_the_field(play):
    """A reasoning effort the SDK type does not allow is refused, naming the field."""
    server = play()
    response = post(
        server, "/v1/responses", {"model": "m", "input": "hi", "reasoning": {"effort": "extreme"}}
    )
    assert response.status_code == 400
    assert "reasoning.effort" in response.json()["error"]["message"]


def test_unknown_top_level_parameter_is_refused(play):
    """A misspelt top-level parameter is refused."""
    server = play()
    body = {"model": "m", "max_tokens": 5, "messages": [], "temprature": 0.5}
    response = post(server, "/v1/messages", body)
    assert response.status_code == 400
    assert "temprature: unknown parameter" in response.json()["error"]["message"]


def test_wrong_field_type_is_refused(play):
    """A max_tokens that is not an integer is refused, naming the field."""
    server = play()
    body = {"model": "m", "max_tokens": "five", "messages": []}
    response = post(server, "/v1/messages", body)
    assert response.status_code == 400
    assert "max_tokens" in response.json()["error"]["message"]


def test_gemini_unknown_nested_field_is_refused(play):
    """Gemini bodies refuse unknown fields at any depth, in the INVALID_ARGUMENT shape."""
    server = play()
    body = {"contents": [{"role": "user", "parts": [{"txt": "hi"}]}]}
    response = post(server, "/v1beta/models/m:generateContent", body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert "parts.0.txt" in error["message"]


@pytest.mark.parametrize("path", ["/v1/responses", "/v1beta/models/m:generateContent"])
def test_without_validation_bodies_are_not_checked(path):
    """A server without validate_requests serves a body the SDK types would refuse."""
    with FakeProviderServer() as server:
        body = {
            "model": "m",
            "input": "hi",
            "reasoning": {"effort": "extreme"},
            "contents": [{"x": 1}],
        }
        assert post(server, path, body).status_code == 200
