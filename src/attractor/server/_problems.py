"""Server layer (shell): errors as RFC 9457 problem details, never a traceback.

Rule: every error the server answers is `application/problem+json` with a `type` URI, a short
`title`, the HTTP `status` and a `detail` a person can act on (plus `hint`, `errors`,
`diagnostics` or `syntax_error` where they help). Our own errors raise `ProblemError`; the
framework's (404 route, 405, 413, a body that fails validation) are rewritten here into the
same shape; anything unexpected is logged and answered as a generic 500 that reveals nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from attractor.server._schemas import Problem

PROBLEM_JSON = "application/problem+json"
_BASE = "https://attractor.dev/problems/"
_log = logging.getLogger("attractor.server")
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Unprocessable pipeline",
    500: "Internal server error",
    503: "Service unavailable",
}


class ProblemError(Exception):
    """Answer the request with a problem document."""

    def __init__(self, status: int, kind: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.kind, self.detail, self.extra = status, kind, detail, extra


def problem_response(
    request: Request[Any, Any, Any], problem: Problem, headers: dict[str, str] | None = None
) -> Response[bytes]:
    """The problem as a response, with the request path as its `instance`."""
    doc = msgspec.structs.replace(problem, instance=problem.instance or request.url.path)
    headers = dict(headers or {})
    if problem.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return Response(
        msgspec.json.encode(doc),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def make_problem(status: int, kind: str, detail: str, **extra: Any) -> Problem:
    """A problem of `kind` (the last segment of its type URI)."""
    return Problem(
        type=_BASE + kind,
        title=_TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        **extra,
    )


def on_problem(request: Request[Any, Any, Any], exc: ProblemError) -> Response[bytes]:
    """Our own errors."""
    return problem_response(request, make_problem(exc.status, exc.kind, exc.detail, **exc.extra))


def on_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[bytes]:
    """A body or parameter that does not fit its type: name each field and what is wrong."""
    errors = exc.extra if isinstance(exc.extra, list) else []
    items = [e for e in errors if isinstance(e, dict)]
    where = "; ".join(_field_error(e) for e in items)
    detail = where or str(exc.detail)
    if detail.startswith("JSON is malformed") or "malformed" in detail.lower():
        kind, detail = "malformed-json", f"the request body is not valid JSON: {detail}"
    else:
        kind, detail = "invalid-request", f"the request does not fit the API: {detail}"
    return problem_response(request, make_problem(400, kind, detail, errors=items))


def _field_error(error: dict[str, Any]) -> str:
    key, message = error.get("key", ""), error.get("message", "invalid")
    source = error.get("source", "")
    return f"{source} `{key}`: {message}" if key and key != "data" else f"{source}: {message}"


def on_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    """The framework's own errors (no route, wrong method, body too large, …)."""
    status = exc.status_code
    detail = str(exc.detail) if exc.detail else _TITLES.get(status, "error")
    if isinstance(exc, ValidationException):
        return on_validation(request, exc)
    if status == 404:
        detail = f"no such resource: {request.method} {request.url.path}"
    elif status == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    elif status == 413:
        detail = "the request body is larger than the server's limit (--max-body)"
    elif detail.startswith("JSON is malformed"):
        return problem_response(
            request,
            make_problem(400, "malformed-json", f"the request body is not valid JSON: {detail}"),
        )
    headers = {str(k): str(v) for k, v in (exc.headers or {}).items()}  # e.g. 405's Allow
    return problem_response(request, make_problem(status, f"http-{status}", detail), headers)


def on_crash(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """An unexpected error: logged with its traceback here, a plain problem for the client."""
    _log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    detail = "the server hit an unexpected error; it is logged on the server"
    return problem_response(request, make_problem(500, "internal", detail))


def on_login_needed(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """A browser without the token goes to the sign-in page."""
    return Response(b"", status_code=303, headers={"Location": "/login"})


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ProblemError: on_problem,
    ValidationException: on_validation,
    HTTPException: on_http,
    Exception: on_crash,
}
