"""CLI: `attractor fake-llm serve` — run the fake provider server for offline pipelines."""

from __future__ import annotations

from pathlib import Path

import typer

from attractor.cli._app import app
from attractor.cli._output import fail, out_console
from attractor.testing.fake_providers import (
    NotLoopbackError,
    ScenarioError,
    ValidationUnavailableError,
    serve,
)

fake_llm_app = typer.Typer(
    help="A loopback fake of the OpenAI, Anthropic and Gemini APIs (offline runs and tests).",
    no_args_is_help=True,
)
app.add_typer(fake_llm_app, name="fake-llm")


@fake_llm_app.command("serve")
def serve_command(
    host: str = typer.Option("127.0.0.1", help="Loopback address to listen on."),
    port: int = typer.Option(8765, min=0, max=65535, help="Port (0 picks a free one)."),
    scenario: Path | None = typer.Option(
        None, "--scenario", help="JSON scenario file; without one, every request is echoed."
    ),
    validate_requests: bool = typer.Option(
        False, help="Refuse (400) request bodies the official SDKs' request types reject."
    ),
) -> None:
    """Serve until Ctrl-C; point OPENAI_BASE_URL / ANTHROPIC_BASE_URL / GEMINI_BASE_URL at it."""
    try:
        serve(
            host,
            port,
            scenario,
            announce=lambda line: out_console.print(line, markup=False),
            validate_requests=validate_requests,
        )
    except NotLoopbackError as exc:
        fail(str(exc), hint="the fake server never listens beyond this machine")
    except ScenarioError as exc:
        fail(str(exc))
    except ValidationUnavailableError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror}", hint="try another --port")
