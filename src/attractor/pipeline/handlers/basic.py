"""Pipeline layer (pure): the no-op handlers — start, exit and conditional (spec §4.3, 4.4, 4.7).

Rule: routing belongs to the engine (edge selection, goal gates), never to these handlers.
"""

from __future__ import annotations

from attractor.pipeline.handlers.base import Done, HandlerInput, done


class StartHandler:
    """The entry point: succeeds at once."""

    def step(self, inp: HandlerInput) -> Done:
        """SUCCESS."""
        return done("success", notes="Pipeline started")


class ExitHandler:
    """The exit point: succeeds at once; the engine checks goal gates before it."""

    def step(self, inp: HandlerInput) -> Done:
        """SUCCESS."""
        return done("success", notes="Pipeline completed")


class ConditionalHandler:
    """A routing point: succeeds; the engine evaluates the outgoing edges' conditions."""

    def step(self, inp: HandlerInput) -> Done:
        """SUCCESS."""
        return done("success", notes=f"Conditional node evaluated: {inp.node.id}")
