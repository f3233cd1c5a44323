"""Tests for the shipped model catalog and its lookups."""

import pytest

from attractor.llm.catalog import (
    get_latest_model,
    get_model_info,
    list_models,
    parse_catalog,
)
from attractor.llm.errors import ConfigurationError


def test_catalog_has_spec_models() -> None:
    """The models named by spec §2.9 are in the catalog."""
    for model_id in ("claude-opus-4-6", "gpt-5.2", "gpt-5.2-codex", "gemini-3-flash-preview"):
        info = get_model_info(model_id)
        assert info is not None
        assert info.supports_tools


def test_aliases_resolve() -> None:
    """Aliases such as 'sonnet' find their model."""
    info = get_model_info("sonnet")
    assert info is not None
    assert info.id == "claude-sonnet-4-5"


def test_unknown_model_is_none() -> None:
    """Unknown ids give None (the catalog is advisory, ids still pass through)."""
    assert get_model_info("nonexistent-model-xyz") is None


def test_list_models_filters_by_provider() -> None:
    """list_models(provider) returns only that provider's models."""
    gemini = list_models("gemini")
    assert gemini
    assert {m.provider for m in gemini} == {"gemini"}
    assert len(list_models()) > len(gemini)


@pytest.mark.parametrize(
    ("provider", "expected"),
    [("anthropic", "claude-opus-4-6"), ("openai", "gpt-5.2"), ("gemini", "gemini-3.1-pro-preview")],
)
def test_latest_model_per_provider(provider: str, expected: str) -> None:
    """get_latest_model prefers the newest model of each provider."""
    info = get_latest_model(provider)
    assert info is not None
    assert info.id == expected


def test_latest_model_by_capability() -> None:
    """Capability filtering skips models without it."""
    info = get_latest_model("openai", "reasoning")
    assert info is not None
    assert info.supports_reasoning
    assert get_latest_model("nobody") is None


def test_unknown_capability_is_clear_error() -> None:
    """An unknown capability name raises ConfigurationError listing valid ones."""
    with pytest.raises(ConfigurationError, match="tools, vision, reasoning"):
        get_latest_model("openai", "telepathy")


def test_bad_catalog_names_the_field() -> None:
    """A malformed catalog file gives an error naming the source and field path."""
    with pytest.raises(ConfigurationError, match=r"custom.json.*context_window"):
        parse_catalog(
            b'{"models":[{"id":"x","provider":"p","display_name":"X","context_window":"big"}]}',
            source="custom.json",
        )
