"""Server layer: HTTP mode and the web dashboard (`attractor serve`) — spec §9.5.

A shell over the same core as the CLI: every view is a fold of a run's log (the state at any
seq included), every action starts the CLI's own driver, SSE is read from the durable log.
This is the only package that imports the web framework (Litestar) and its server (uvicorn).
See docs/http.md.
"""

from attractor.server._app import create_app, serve
from attractor.server._security import ConfigError, ServerConfig

__all__ = ["ConfigError", "ServerConfig", "create_app", "serve"]
