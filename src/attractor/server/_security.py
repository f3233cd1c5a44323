"""Server layer (shell): who may talk to the server, and which files a request may name.

Rules:
- Bound to a loopback address the server may run without a token; bound to anything else it
  refuses to start without one (`ServerConfig.check`). With a token, *every* request — pages,
  static files, the schema, SSE — carries `Authorization: Bearer <token>`, or the
  `attractor_token` cookie that `POST /login` sets for browsers (EventSource cannot send
  headers). Tokens are compared in constant time and never echoed.
- A DOT file or script named in a request must resolve (symlinks followed) inside one of the
  allowed roots; anything else is refused before it is opened.
"""

from __future__ import annotations

import hmac
import ipaddress
from pathlib import Path

import msgspec
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from attractor.server._problems import ProblemError

COOKIE = "attractor_token"


class ConfigError(ValueError):
    """The server cannot start with these settings."""


class ServerConfig(msgspec.Struct, frozen=True, kw_only=True):
    """How `attractor serve` runs."""

    host: str = "127.0.0.1"
    port: int = 8000
    logs_root: str = "runs"
    token: str = ""
    allowed_roots: tuple[str, ...] = ()  # where DOT files may be read from; default: the cwd
    max_body: int = 2 * 1024 * 1024
    heartbeat_s: float = 15.0
    poll_s: float = 0.2  # how often a run driven by another process is looked at for new lines
    fsync: bool = True

    def check(self) -> None:
        """Refuse a non-loopback bind without a token (`ConfigError`)."""
        if not is_loopback(self.host) and not self.token:
            raise ConfigError(
                f"--host {self.host} is reachable from other machines: give a token with "
                "--token or ATTRACTOR_TOKEN (every request must then send it as "
                "`Authorization: Bearer <token>`)"
            )
        if self.max_body < 1024:
            raise ConfigError("--max-body must be at least 1024 bytes")

    def roots(self) -> list[Path]:
        """The allowed roots, resolved (the working directory when none is given)."""
        return [Path(r).resolve() for r in (self.allowed_roots or (".",))]


def is_loopback(host: str) -> bool:
    """Whether `host` names only this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def confine(path: str, roots: list[Path], what: str) -> Path:
    """`path` resolved, if it lies inside one of `roots`; else a 403 problem."""
    if not path.strip():
        raise ProblemError(400, "invalid-request", f"the {what} path is empty")
    if "\x00" in path:
        raise ProblemError(
            404, "no-such-file", f"the {what} path contains a NUL byte: no such file"
        )
    given = Path(path)  # taken literally: a `~` is the server's user's home, not the client's
    try:
        resolved = (given if given.is_absolute() else roots[0] / given).resolve()
    except (OSError, RuntimeError, ValueError):  # a name too long, a symlink loop
        raise ProblemError(404, "no-such-file", f"the {what} cannot be found") from None
    for root in roots:
        if resolved == root or resolved.is_relative_to(root):
            return resolved
    allowed = ", ".join(str(r) for r in roots)
    raise ProblemError(
        403,
        "path-outside-roots",
        f"the {what} {path!r} is outside the allowed roots ({allowed})",
        hint="start the server with --allow-root DIR to allow another directory",
    )


def token_of(headers: dict[str, str]) -> str:
    """The bearer token of a request (header first, then the login cookie)."""
    auth = headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            return value
    return ""


def same_token(given: str, expected: str) -> bool:
    """Constant-time comparison."""
    return hmac.compare_digest(given.encode(), expected.encode())


class BearerGuard(ASGIMiddleware):
    """Every HTTP request must carry the token (header or login cookie); `/login` is open."""

    scopes = (ScopeType.HTTP,)
    exclude_path_pattern = ("^/login$",)

    def __init__(self, token: str) -> None:
        self.token = token

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        """Pass the request on, or refuse it (browsers asking for a page go to /login)."""
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        given = token_of(headers)
        if given and same_token(given, self.token):
            await next_app(scope, receive, send)
            return
        if "text/html" in headers.get("accept", "") and scope.get("method") == "GET":
            raise RedirectToLogin()
        why = "the token is wrong" if given else "the request carries no token"
        raise ProblemError(
            401,
            "unauthorized",
            f"{why}: send `Authorization: Bearer <token>` (browsers: sign in at /login)",
        )


class RedirectToLogin(Exception):
    """A browser without the token: show it the sign-in page."""
