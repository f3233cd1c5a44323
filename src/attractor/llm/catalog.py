"""Model catalog (spec §2.9): the shipped `models.json`, looked up by id, alias and capability.

Layer: llm. Rule: the catalog is advisory — unknown model ids are never rejected; they pass
through to the provider. The data lives in `models.json` beside this module so it can be
updated without touching code; `parse_catalog` is pure and validates that file's shape.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import msgspec

from attractor.llm.errors import ConfigurationError

__all__ = [
    "Catalog",
    "ModelInfo",
    "default_catalog",
    "get_latest_model",
    "get_model_info",
    "list_models",
    "load_catalog",
    "parse_catalog",
]

_CAPABILITIES = ("tools", "vision", "reasoning")


class ModelInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    """One known model and its capabilities."""

    id: str
    provider: str
    display_name: str
    context_window: int
    max_output: int | None = None
    supports_tools: bool = False
    supports_vision: bool = False
    supports_reasoning: bool = False
    input_cost_per_million: float | None = None
    output_cost_per_million: float | None = None
    aliases: tuple[str, ...] = ()

    def supports(self, capability: str) -> bool:
        """Whether the model has `capability` (`tools`, `vision` or `reasoning`)."""
        if capability not in _CAPABILITIES:
            raise ConfigurationError(
                f"unknown model capability {capability!r}; use one of {', '.join(_CAPABILITIES)}"
            )
        return bool(getattr(self, f"supports_{capability}"))


class Catalog(msgspec.Struct, frozen=True):
    """A list of models, newest/best first within each provider."""

    models: tuple[ModelInfo, ...]
    schema_version: int = 1
    updated: str | None = None
    note: str | None = None

    def get(self, model_id: str) -> ModelInfo | None:
        """The entry whose id or alias is `model_id`, or None."""
        for model in self.models:
            if model.id == model_id or model_id in model.aliases:
                return model
        return None

    def of_provider(self, provider: str | None = None) -> list[ModelInfo]:
        """All models, or those of `provider`, in catalog order."""
        return [m for m in self.models if provider is None or m.provider == provider]

    def latest(self, provider: str, capability: str | None = None) -> ModelInfo | None:
        """The first (newest/best) model of `provider` having `capability`, if any."""
        for model in self.of_provider(provider):
            if capability is None or model.supports(capability):
                return model
        return None


_DECODER = msgspec.json.Decoder(Catalog)


def parse_catalog(data: bytes, *, source: str = "models.json") -> Catalog:
    """Decode and validate catalog JSON; errors name the source and the bad field path."""
    try:
        return _DECODER.decode(data)
    except msgspec.DecodeError as exc:
        raise ConfigurationError(f"{source}: invalid model catalog: {exc}", cause=exc) from exc


@cache
def default_catalog() -> Catalog:
    """The catalog shipped with the package (loaded once)."""
    data = resources.files("attractor.llm").joinpath("models.json").read_bytes()
    return parse_catalog(data)


def load_catalog(path: str | Path) -> Catalog:
    """A catalog read from a JSON file of the same shape as the shipped one."""
    return parse_catalog(Path(path).read_bytes(), source=str(path))


def get_model_info(model_id: str) -> ModelInfo | None:
    """The catalog entry for `model_id` (id or alias), or None when unknown."""
    return default_catalog().get(model_id)


def list_models(provider: str | None = None) -> list[ModelInfo]:
    """All known models, optionally only those of `provider`."""
    return default_catalog().of_provider(provider)


def get_latest_model(provider: str, capability: str | None = None) -> ModelInfo | None:
    """The newest/best model of `provider`, optionally having `capability`."""
    return default_catalog().latest(provider, capability)
