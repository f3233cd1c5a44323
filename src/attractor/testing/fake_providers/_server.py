"""Starting and stopping the fake provider server (shell layer: threads and sockets).

Rule: the server binds loopback addresses only and `close()` leaves nothing behind — the
listening socket, every connection and every handler thread are gone when it returns.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

from attractor.testing.fake_providers._http import FakeHTTPServer
from attractor.testing.fake_providers._load import load_scenario
from attractor.testing.fake_providers._recording import RecordedRequest
from attractor.testing.fake_providers._scenario import Scenario
from attractor.testing.fake_providers._state import DEFAULT_MAX_RECORDED, ServerState
from attractor.testing.fake_providers._validate import load_validators

Provider = Literal["openai", "openai_chat", "anthropic", "gemini"]
BASE_PATHS: dict[str, str] = {"openai": "/v1", "openai_chat": "/v1", "anthropic": "", "gemini": ""}


class NotLoopbackError(ValueError):
    """The fake server was asked to listen on an address other machines could reach."""


def check_loopback(host: str) -> None:
    """Refuse any host that is not a loopback address.

    Raises:
        NotLoopbackError: The host is not `localhost` or a loopback IP.
    """
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise NotLoopbackError(
            f"refusing to listen on {host!r}: the fake provider server binds loopback only "
            "(hint: use 127.0.0.1)"
        )


class FakeProviderServer:
    """A loopback HTTP server speaking the OpenAI, Anthropic and Gemini wire formats.

    Example:
        >>> with FakeProviderServer() as server:  # doctest: +SKIP
        ...     client = openai.OpenAI(base_url=server.base_url("openai"), api_key="sk-x")
    """

    def __init__(
        self,
        scenario: Scenario | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_recorded: int = DEFAULT_MAX_RECORDED,
        validate_requests: bool = False,
    ) -> None:
        """Create a server (call `start()` or use `with` to listen).

        Args:
            scenario: What to answer; without one every request is echoed.
            host: Loopback address to bind.
            port: Port to bind; 0 picks a free one.
            max_recorded: How many request records to keep (oldest dropped).
            validate_requests: Refuse (400) bodies the official SDKs' request types reject.

        Raises:
            NotLoopbackError: `host` is not a loopback address.
            ValidationUnavailableError: `validate_requests` without the SDKs installed.
        """
        check_loopback(host)
        self._address = (host, port)
        self._state = ServerState(scenario or Scenario(), max_recorded)
        self._validators = load_validators() if validate_requests else None
        self._http: FakeHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        """Bind and start serving in a background thread (idempotent)."""
        if self._http is None:
            self._http = FakeHTTPServer(self._address, self._state, self._validators)
            self._thread = threading.Thread(
                target=self._http.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="fake-providers",
                daemon=True,
            )
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, drop every connection and join every thread (idempotent)."""
        http, thread = self._http, self._thread
        if http is None or thread is None:
            return
        http.stopping.set()
        http.shutdown()
        thread.join()
        http.drop_connections()
        http.server_close()
        self._http = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def port(self) -> int:
        """The port actually bound (useful with port 0)."""
        if self._http is None:
            raise RuntimeError("the fake provider server is not started; use start() or `with`")
        return int(self._http.server_address[1])

    @property
    def url(self) -> str:
        """`http://host:port` without a path."""
        host = self._address[0]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}"

    def base_url(self, provider: Provider) -> str:
        """The base URL an official SDK (or our adapter) for `provider` should use.

        OpenAI SDKs expect the `/v1` suffix; the Anthropic and Gemini SDKs add their own
        version path.
        """
        return self.url + BASE_PATHS[provider]

    def env(self) -> dict[str, str]:
        """`OPENAI_BASE_URL`, `ANTHROPIC_BASE_URL` and `GEMINI_BASE_URL` for this server."""
        return {
            "OPENAI_BASE_URL": self.base_url("openai"),
            "ANTHROPIC_BASE_URL": self.base_url("anthropic"),
            "GEMINI_BASE_URL": self.base_url("gemini"),
        }

    @property
    def requests(self) -> tuple[RecordedRequest, ...]:
        """Every request received so far (up to `max_recorded`), oldest first."""
        return self._state.records()

    @property
    def internal_errors(self) -> tuple[BaseException, ...]:
        """Exceptions raised inside request handlers (a bug in the fake; should stay empty)."""
        return tuple(self._http.internal_errors) if self._http else ()

    @property
    def remaining_steps(self) -> int:
        """Non-repeating scenario steps that have not answered yet."""
        return self._state.remaining_steps()

    def play(self, scenario: Scenario | None = None, *, clear_requests: bool = True) -> None:
        """Restart the scenario, or switch to another one, between tests."""
        self._state.reset(scenario or Scenario(), clear_records=clear_requests)


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    scenario_file: str | Path | None = None,
    *,
    announce: Callable[[str], None] = print,
    stop: threading.Event | None = None,
    validate_requests: bool = False,
) -> None:
    """Serve until interrupted (Ctrl-C) or `stop` is set; `attractor fake-llm serve` calls it.

    Args:
        host: Loopback address to bind.
        port: Port to bind (0 picks a free one).
        scenario_file: JSON scenario file; without one every request is echoed.
        announce: Receives the listening URL and the `export …=…` lines for the base URLs.
        stop: Set it to stop serving (tests); Ctrl-C stops too.
        validate_requests: Refuse bodies the official SDKs' request types reject.

    Raises:
        NotLoopbackError: `host` is not a loopback address.
        ScenarioError: The scenario file is unreadable or invalid.
    """
    scenario = load_scenario(scenario_file) if scenario_file is not None else None
    stop = stop or threading.Event()
    server = FakeProviderServer(scenario, host=host, port=port, validate_requests=validate_requests)
    with server:
        announce(f"fake provider server listening on {server.url}")
        for name, value in server.env().items():
            announce(f"export {name}={value}")
        try:
            stop.wait()
        except KeyboardInterrupt:
            announce("stopping")
