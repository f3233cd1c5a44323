"""CLI: `attractor serve` — the HTTP API and the web dashboard over the runs under --logs-root.

Exit codes: 0 stopped cleanly (Ctrl-C), 2 invalid settings (a non-loopback --host without a
token, the server extra not installed, the port in use).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import typer

from attractor.cli._app import app
from attractor.cli._output import fail, out_console


@app.command("serve")
def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback by default)."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="TCP port."),
    logs_root: Path = typer.Option(Path("runs"), "--logs-root", help="Where run dirs live."),
    token: str = typer.Option(
        "",
        "--token",
        envvar="ATTRACTOR_TOKEN",
        show_default=False,
        help="Bearer token every request must send (required off loopback).",
    ),
    allow_root: list[Path] = typer.Option(
        [],
        "--allow-root",
        help="A directory DOT files may be read from (repeatable; default: cwd).",
    ),
    max_body: int = typer.Option(2 * 1024 * 1024, "--max-body", help="Request body limit, bytes."),
    no_fsync: bool = typer.Option(False, "--no-fsync", help="Skip fsync on appends (faster)."),
) -> None:
    """Serve the HTTP API (spec §9.5) and the live dashboard at http://HOST:PORT/."""
    try:
        from attractor.server import ConfigError, ServerConfig, serve
    except ModuleNotFoundError as exc:
        fail(
            f"the server needs {exc.name!r}, which is not installed",
            hint="pip install 'attractor[server]'",
            code=2,
        )
    config = ServerConfig(
        host=host,
        port=port,
        logs_root=str(logs_root),
        token=token,
        allowed_roots=tuple(str(p) for p in allow_root) or (os.getcwd(),),
        max_body=max_body,
        fsync=not no_fsync,
    )
    try:
        config.check()
    except ConfigError as exc:
        fail(str(exc), code=2)
    _check_port(host, port)
    logs_root.mkdir(parents=True, exist_ok=True)
    out_console.print(
        f"attractor serve: http://{host}:{port}/ (runs under {logs_root.resolve()}; Ctrl-C stops)",
        highlight=False,
    )
    serve(config)


def _check_port(host: str, port: int) -> None:
    """Exit 2 with a clear message when the address cannot be bound (uvicorn would exit 3)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        fail(f"--host {host}: {exc.strerror}", code=2)
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            fail(
                f"cannot listen on {host}:{port}: {exc.strerror}",
                hint="choose another --port, or stop what listens there",
                code=2,
            )
