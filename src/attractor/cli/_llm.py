"""CLI: `attractor llm` (one prompt through the unified client) and `attractor models` (catalog).

Exit codes: 0 success; 1 the provider refused or failed (one line naming provider and status);
2 bad usage or configuration (no key for any provider, an unregistered provider). Keys are read
from the environment and never printed: error messages are scrubbed of them.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import msgspec
import typer
from rich.table import Table

from attractor.cli._app import app
from attractor.cli._output import fail, out_console
from attractor.llm import catalog
from attractor.llm.client import Client
from attractor.llm.codergen import route
from attractor.llm.effects import effect_error, record_response
from attractor.llm.errors import ConfigurationError, SDKError
from attractor.llm.generate import generate
from attractor.llm.streaming import stream
from attractor.llm.types import Response, StreamEventType

ENV_KEYS = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY (or GOOGLE_API_KEY)",
    "openai_compatible": "OPENAI_COMPATIBLE_BASE_URL (+ OPENAI_COMPATIBLE_API_KEY)",
}
ALL_KEYS_HINT = "set one of " + ", ".join(ENV_KEYS.values())

make_client: Callable[[], Client] = Client.from_env
"""How the commands build their client (tests replace it)."""


def _secrets(client: Client) -> list[str]:
    runtime = client.runtime
    configs = (runtime.config_for(p) for p in runtime.provider_names)
    return [c.api_key.reveal() for c in configs if c is not None and c.api_key is not None]


def _client(provider: str | None) -> Client:
    try:
        client = make_client()
    except ConfigurationError as exc:
        fail(exc.message, code=2)
    if not client.provider_names:
        fail("no LLM provider is configured", hint=ALL_KEYS_HINT, code=2)
    if provider is not None and provider not in client.provider_names:
        needed = ENV_KEYS.get(provider)
        hint = f"set {needed}" if needed else f"known providers: {', '.join(ENV_KEYS)}"
        fail(f"provider {provider!r} is not configured", hint=hint, code=2)
    return client


def _route(client: Client, model: str | None, provider: str | None) -> tuple[str, str | None]:
    try:
        return route(client, model or "", provider)
    except ConfigurationError as exc:
        fail(exc.message, hint="pass --model", code=2)


def _provider_error(exc: SDKError, client: Client) -> NoReturn:
    fail(effect_error(exc, _secrets(client)).message)


def _response_json(response: Response) -> str:
    return msgspec.json.encode(record_response(response).response).decode()


class _Echo:
    """Writes streamed text to stdout and remembers whether a line is left open."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.open_line = False

    def write(self, text: str) -> None:
        if self.enabled:
            sys.stdout.write(text)
            sys.stdout.flush()
            self.open_line = True


async def _streamed(model: str, prompt: str, echo: _Echo, **kwargs: Any) -> Response:
    result = stream(model, prompt, **kwargs)
    async for event in result:
        if event.type == StreamEventType.TEXT_DELTA and event.delta:
            echo.write(event.delta)
    return await result.response()


async def _ask(model: str, prompt: str, echo: _Echo | None, **kwargs: Any) -> Response:
    try:
        if echo is not None:
            return await _streamed(model, prompt, echo, **kwargs)
        return (await generate(model, prompt, **kwargs)).response
    finally:
        await kwargs["client"].close()


@app.command("llm")
def llm_command(
    prompt: str = typer.Argument(..., help="The user prompt."),
    model: str | None = typer.Option(
        None, "--model", "-m", help="Model id (default: the provider's latest catalogued model)."
    ),
    provider: str | None = typer.Option(
        None, "--provider", "-p", help="openai | anthropic | gemini | openai_compatible."
    ),
    system: str | None = typer.Option(None, "--system", "-s", help="A system prompt."),
    streaming: bool = typer.Option(False, "--stream", help="Print text as it arrives."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole Response as JSON."),
    max_tokens: int | None = typer.Option(None, "--max-tokens", min=1, help="Answer length cap."),
) -> None:
    """Send one prompt through the unified LLM client and print the answer."""
    client = _client(provider)
    chosen, provider = _route(client, model, provider)
    kwargs: dict[str, Any] = {"client": client, "provider": provider, "system": system}
    if max_tokens is not None:
        kwargs["max_tokens"] = max_tokens
    echo = _Echo(enabled=not as_json) if streaming else None
    try:
        response = asyncio.run(_ask(chosen, prompt, echo, **kwargs))
    except SDKError as exc:
        if echo is not None and echo.open_line:
            sys.stdout.write("\n")
        _provider_error(exc, client)
    if as_json:
        typer.echo(_response_json(response))
    elif streaming:
        typer.echo("")
    else:
        typer.echo(response.text)


def _cost(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _tokens(value: int | None) -> str:
    if not value:
        return "-"
    return f"{value / 1e6:.2g}M" if value >= 1_000_000 else f"{value // 1000}K"


_CAPS = ("tools", "vision", "reasoning")


def _models_table(models: list[catalog.ModelInfo]) -> Table:
    table = Table(
        caption="caps: T tools, V vision, R reasoning; costs in USD per million tokens",
        caption_justify="left",
    )
    for column in ("id", "provider", "context", "output", "caps", "in $", "out $"):
        table.add_column(column, no_wrap=True)
    table.add_column("aliases")
    for m in models:
        caps = " ".join(c[0].upper() if m.supports(c) else "-" for c in _CAPS)
        table.add_row(
            m.id,
            m.provider,
            _tokens(m.context_window),
            _tokens(m.max_output),
            caps,
            _cost(m.input_cost_per_million),
            _cost(m.output_cost_per_million),
            ", ".join(m.aliases) or "-",
        )
    return table


@app.command("models")
def models_command(
    provider: str | None = typer.Option(None, "--provider", "-p", help="Only this provider."),
    as_json: bool = typer.Option(False, "--json", help="One JSON array of model records."),
) -> None:
    """List the shipped model catalog, newest first within each provider."""
    models = catalog.list_models(provider)
    if provider is not None and not models:
        known = sorted({m.provider for m in catalog.list_models()})
        fail(f"no models for provider {provider!r}", hint=f"known: {', '.join(known)}", code=2)
    if as_json:
        typer.echo(msgspec.json.encode(models).decode())
        return
    out_console.print(_models_table(models))
