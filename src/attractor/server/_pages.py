"""Server layer (shell): the dashboard's HTML pages, rendered on the server.

Rule: pages are plain HTML from templates shipped as package data (`templates/*.html`,
`string.Template` placeholders), every value escaped; the live parts are `static/app.js`,
plain JavaScript that reads the same JSON API and SSE stream as any client. No Node build
step, no CDN, no inline script (the pages' Content-Security-Policy forbids it).
"""

from __future__ import annotations

import html
from functools import cache
from importlib.resources import files
from string import Template
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import State
from litestar.params import PathParameter, URLEncodedBody

from attractor import __version__
from attractor.server._security import COOKIE, same_token
from attractor.server._services import Services

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'"
)
_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}


@cache
def _template(name: str) -> Template:
    return Template(files("attractor.server").joinpath("templates", name).read_text("utf-8"))


def _page(template: str, http_status: int = 200, **values: str) -> Response[str]:
    body = _template(template).substitute(version=html.escape(__version__), **values)
    return Response(
        body, media_type="text/html; charset=utf-8", status_code=http_status, headers=_HEADERS
    )


def _services(state: State) -> Services:
    services: Services = state.services
    return services


def _dollars(cost: float | None) -> str:
    return "" if cost is None else f"${cost:.4f}"


def _row(item: Any) -> str:
    e = html.escape
    duration = f"{item.duration_s:.1f}s" if item.duration_s is not None else ""
    return (
        f'<tr data-id="{e(item.id)}"><td><a href="/runs/{e(item.id)}">{e(item.id)}</a></td>'
        f'<td>{e(item.name)}</td><td><span class="badge st-{e(item.status)}">'
        f"{e(item.status)}</span></td>"
        f"<td>{e(item.started_at[:19].replace('T', ' '))}</td><td>{e(duration)}</td>"
        f"<td>{e(', '.join(item.current))}</td><td>{item.tokens or ''}</td>"
        f"<td>{_dollars(item.cost_usd)}</td></tr>"
    )


@get("/", include_in_schema=False)
async def runs_page(state: State) -> Response[str]:
    """The runs list, with the start-a-run form."""
    s = _services(state)
    rows = [_row(item) for item in s.run_items()[:50]]
    return _page("runs.html", rows="\n".join(rows), logs_root=html.escape(str(s.root)))


@get("/runs/{run_id:str}", include_in_schema=False)
async def run_page(state: State, run_id: Annotated[str, PathParameter()]) -> Response[str]:
    """One run: graph, stages, questions, event log, time travel."""
    s = _services(state)
    _, fold = s.fold(run_id)
    started = fold.state.started
    name = started.name if started else run_id
    return _page(
        "run.html",
        run_id=html.escape(run_id),
        name=html.escape(name or run_id),
        goal=html.escape(started.goal if started else ""),
        status=html.escape(s.status(run_id, fold)),
    )


@get("/login", include_in_schema=False)
async def login_page() -> Response[str]:
    """Where a browser gives the server's token once (kept in an HttpOnly cookie)."""
    return _page("login.html", message="")


@post("/login", include_in_schema=False, status_code=303)
async def login(
    state: State,
    request: Request[Any, Any, Any],
    data: URLEncodedBody[dict[str, str]],
) -> Response[str]:
    """Check the token; on success set the cookie and go to the runs list."""
    expected = _services(state).config.token
    given = data.get("token", "")
    if not expected or not same_token(given, expected):
        return _page("login.html", http_status=401, message="That token is not the server's token.")
    response = Response("", status_code=303, headers={"Location": "/"})
    secure = request.url.scheme == "https"
    response.set_cookie(COOKIE, given, httponly=True, samesite="strict", secure=secure, path="/")
    return response


PAGES: list[Any] = [runs_page, run_page, login_page, login]
