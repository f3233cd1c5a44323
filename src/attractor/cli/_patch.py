"""CLI: `attractor apply-patch` — apply a v4a patch read on stdin, as the agent's tool does.

For people debugging a model's patch: the same parser, planner and messages as the
`apply_patch` tool, over the files under `--cwd`. Exit codes: 0 applied (one `A|M|D|R` line
per file on stdout), 1 the patch is invalid or does not apply (the tool's message on stderr;
nothing was changed), 2 bad usage.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import typer

from attractor.cli._app import app
from attractor.cli._output import err_console, fail


@app.command("apply-patch")
def apply_patch(
    cwd: Path = typer.Option(
        Path("."), "--cwd", help="Directory the patch's paths are relative to.", file_okay=False
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check the patch; change nothing."),
) -> None:
    """Apply a v4a patch (`*** Begin Patch` … `*** End Patch`) read on stdin."""
    from attractor.agent.patch import (
        LocalPatchFiles,
        PatchApplyError,
        PatchSyntaxError,
        apply_patch_text,
    )

    if not cwd.is_dir():
        fail(f"{cwd}: not a directory", code=2)
    if sys.stdin.isatty():
        err_console.print("reading a patch from stdin (end it with Ctrl-D)")
    try:
        text = sys.stdin.buffer.read().decode("utf-8")
    except UnicodeDecodeError as err:
        fail(f"stdin is not UTF-8 text (offset {err.start})")
    try:
        applied = asyncio.run(apply_patch_text(text, LocalPatchFiles(cwd), dry_run=dry_run))
    except (PatchSyntaxError, PatchApplyError) as err:
        err_console.print(str(err), markup=False, highlight=False)
        raise typer.Exit(1) from None
    for line in applied.files:
        typer.echo(line.line())
