"""The secret scrubber and the sensitive-variable filter (attractor.events.secrets)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from attractor.events.secrets import (
    REDACTED,
    Scrubber,
    filter_env,
    is_sensitive,
    register_secret,
    registered_secrets,
    scrub,
    scrub_value,
    sensitive_values,
)


def test_registered_value_is_scrubbed() -> None:
    """A registered secret is replaced wherever it occurs in text."""
    register_secret("marker-registered-7731")
    assert scrub("bad key marker-registered-7731, try again") == f"bad key {REDACTED}, try again"


def test_short_values_are_not_registered() -> None:
    """A value too short to be a credential is not registered (it would shred ordinary text)."""
    register_secret("abc")
    assert "abc" not in registered_secrets()
    assert scrub("abcabc") == "abcabc"


@pytest.mark.parametrize(
    "token",
    [
        "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t",
        "sk-ant-api03-Zyxwvutsrqponmlkjihg",
        "sk-abc12*******************xyz9",
        "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6",
        "ghp_16CharactersOrMoreXyz",
        "AKIAIOSFODNN7EXAMPLE",
    ],
)
def test_key_shaped_tokens_are_scrubbed(token: str) -> None:
    """Tokens shaped like provider keys are scrubbed even when nobody registered them."""
    assert token not in scrub(f"Incorrect API key provided: {token}.")


def test_bearer_header_value_is_scrubbed() -> None:
    """An echoed Authorization header loses its token."""
    assert scrub("got header Authorization: Bearer abcdefghijklmnop") == (
        f"got header Authorization: Bearer {REDACTED}"
    )


def test_ordinary_text_is_untouched() -> None:
    """Words that merely contain `sk-` or look technical are left alone."""
    text = "task-1234567890abcdefghij failed; see sk-short and the AIza prefix"
    assert scrub(text) == text


def test_values_are_scrubbed_deeply() -> None:
    """Strings inside dicts, lists and tuples (keys too) are scrubbed; other scalars stay."""
    register_secret("deep-secret-9912")
    body = {"error": {"message": "key deep-secret-9912", "n": 3, "list": ["deep-secret-9912"]}}
    assert scrub_value(body) == {
        "error": {"message": f"key {REDACTED}", "n": 3, "list": [REDACTED]}
    }


def test_extra_values_only_without_key_shapes() -> None:
    """A scrubber for effect results removes the values it is given, not key-shaped text."""
    scrubber = Scrubber(["my-own-value-123"])
    text = "my-own-value-123 and sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t"
    assert scrubber.text(text) == f"{REDACTED} and sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8t"


@given(st.text(min_size=8, max_size=40).filter(lambda s: s.strip() == s), st.text(max_size=60))
def test_scrubbed_text_never_holds_the_secret(secret: str, around: str) -> None:
    """Whatever surrounds it, a scrubbed text does not contain the secret."""
    scrubber = Scrubber([secret])
    text = around + secret + around
    assert secret not in scrubber.text(text) or secret in REDACTED


@pytest.mark.parametrize(
    ("name", "sensitive"),
    [
        ("OPENAI_API_KEY", True),
        ("github_token", True),
        ("DB_PASSWORD", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("AWS_SESSION_TOKEN", True),
        ("GCP_CREDENTIALS", True),
        ("MY_SECRET", True),
        ("ATTRACTOR_LOG_KEY", True),
        ("PATH", False),
        ("HOME", False),
        ("TOKENIZERS_PARALLELISM", False),
        ("KEYBOARD", False),
    ],
)
def test_sensitive_names(name: str, sensitive: bool) -> None:
    """Names ending in _API_KEY, _SECRET, _TOKEN, _PASSWORD, _CREDENTIAL(S)… are sensitive."""
    assert is_sensitive(name) is sensitive


def test_filter_env_drops_sensitive_unless_passed_through() -> None:
    """filter_env keeps ordinary variables and the sensitive ones named in passthrough."""
    env = {"PATH": "/bin", "OPENAI_API_KEY": "k" * 20, "NPM_TOKEN": "t" * 20}
    assert filter_env(env) == {"PATH": "/bin"}
    assert filter_env(env, ["NPM_TOKEN"]) == {"PATH": "/bin", "NPM_TOKEN": "t" * 20}


def test_sensitive_values_of_an_environment() -> None:
    """The values worth scrubbing are those of sensitive variables, long enough to matter."""
    env = {"PATH": "/usr/bin:/bin", "A_TOKEN": "x", "B_API_KEY": "long-enough-value"}
    assert sensitive_values(env) == ["long-enough-value"]
