"""The root typer app. Each command group lives in its own module and registers itself here."""

from __future__ import annotations

import typer

from attractor import __version__

app = typer.Typer(
    name="attractor",
    help="Run multi-stage AI workflows written as Graphviz DOT graphs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"attractor {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Attractor: pipelines as DOT graphs, runs as event logs."""


def _register() -> None:
    # Imported for their side effect: each module adds its commands to `app`.
    import attractor.cli._fake_llm  # noqa: F401
    from attractor.cli import (
        _dot,  # noqa: F401
        _llm,  # noqa: F401
        _log,  # noqa: F401
        _patch,  # noqa: F401
        _run,  # noqa: F401
    )


def main() -> None:
    """Console-script entry point."""
    _register()
    app()
