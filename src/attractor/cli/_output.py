"""CLI helper: one way to print errors, warnings and hints, and to exit with a code."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

err_console = Console(stderr=True, highlight=False, soft_wrap=True)
out_console = Console(highlight=False, soft_wrap=True)


def fail(message: str, *, hint: str = "", code: int = 1) -> NoReturn:
    """Print `error: message` (and a hint) to stderr and exit with `code`."""
    err_console.print(f"[bold red]error:[/] {escape(message)}")
    if hint:
        err_console.print(f"  [cyan]hint:[/] {escape(hint)}")
    raise typer.Exit(code)


def warn(message: str) -> None:
    """Print `warning: message` to stderr."""
    err_console.print(f"[bold yellow]warning:[/] {escape(message)}")
