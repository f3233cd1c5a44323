"""CLI layer: the typer application. The only package that imports typer."""

from attractor.cli._app import app, main

__all__ = ["app", "main"]
