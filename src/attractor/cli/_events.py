"""CLI helper: import every module that defines event types, so any log can be decoded."""

from __future__ import annotations

import importlib

# Modules that define `Event` subclasses. A module missing from an install is skipped.
EVENT_MODULES = (
    "attractor.effects",
    "attractor.testing.machines",
    "attractor.pipeline.events",
    "attractor.agent.events",
    "attractor.llm.events",
)


def load_event_types() -> None:
    """Import every known event module (idempotent)."""
    for name in EVENT_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise
