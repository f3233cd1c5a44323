"""Server layer (shell): the Litestar app and `serve` (uvicorn).

Rule: `create_app(config)` builds everything from the config alone — the runs under
`logs_root`, the API, the dashboard, the schema — so tests build the same app the CLI serves.
Shutting down stops every drive this server started (their logs stay resumable) and ends
every SSE stream, within a bounded time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import OpenAPI, Schema
from litestar.static_files import create_static_files_router

from attractor import __version__
from attractor.server._api import ROUTES
from attractor.server._pages import PAGES
from attractor.server._problems import EXCEPTION_HANDLERS, on_login_needed
from attractor.server._security import BearerGuard, RedirectToLogin, ServerConfig
from attractor.server._services import Services


def _load_event_types() -> None:
    """Import every module that defines event types, so any run log decodes."""
    import attractor.effects
    import attractor.pipeline.events  # noqa: F401


def _refine_schema(schema: OpenAPI) -> None:
    """Say in the schema what the handlers check but Litestar does not derive from the Structs:
    request bodies refuse unknown fields (`forbid_unknown_fields`), and exactly one of `source`
    and `path` is given as a non-empty string."""
    components = schema.components.schemas if schema.components else {}
    for name in ("StartRequest", "ValidateRequest", "AnswerRequest"):
        component = components.get(name)
        if component is None:
            continue
        component.additional_properties = False
        if name != "AnswerRequest":
            component.one_of = [
                Schema(required=[field], properties={field: Schema(min_length=1)})
                for field in ("source", "path")
            ]


def create_app(config: ServerConfig) -> Litestar:
    """The ASGI app serving the runs under `config.logs_root`."""
    config.check()
    _load_event_types()
    services = Services(config)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        services.closing = asyncio.Event()
        _refine_schema(app.openapi_schema)
        try:
            yield
        finally:
            services.closing.set()
            for feed in services.hub.feeds():
                feed.wake()
            await services.manager.aclose()

    static = create_static_files_router(
        path="/static", directories=[str(files("attractor.server").joinpath("static"))]
    )
    middleware: list[Any] = [BearerGuard(config.token)] if config.token else []
    return Litestar(
        route_handlers=[*ROUTES, *PAGES, static],
        state=State({"services": services}),
        exception_handlers={**EXCEPTION_HANDLERS, RedirectToLogin: on_login_needed},
        middleware=middleware,
        request_max_body_size=config.max_body,
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(
            title="Attractor",
            version=__version__,
            description="Run DOT pipelines over HTTP: start, watch (SSE), answer, travel in time.",
            path="/schema",
            render_plugins=[JsonRenderPlugin(path="/")],
        ),
        logging_config=LoggingConfig(
            root={"level": "WARNING", "handlers": ["queue_listener"]}, log_exceptions="never"
        ),
    )


def serve(config: ServerConfig) -> None:
    """Run the server until interrupted (uvicorn, one process)."""
    import uvicorn

    app = create_app(config)
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        log_level="warning",
        timeout_graceful_shutdown=5,
        timeout_keep_alive=30,  # a client reusing an idle connection rarely races its close
        access_log=False,
    )
