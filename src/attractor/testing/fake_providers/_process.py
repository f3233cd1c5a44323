"""The fake provider server in a child process (shell layer: subprocess and temp files).

Rule: a benchmark that times a client must not share its interpreter (and GIL) with the
server it talks to, so this runs the same server in another Python process and only hands
back its address. Requests are not recorded across the process boundary.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from types import TracebackType
from typing import Self

import msgspec

from attractor.testing.fake_providers._scenario import Scenario
from attractor.testing.fake_providers._server import BASE_PATHS, Provider

_READY = "fake provider server listening on "
STOP_TIMEOUT_S = 10.0


class FakeProviderProcess:
    """Runs `python -m attractor.testing.fake_providers` with a scenario, for benchmarks.

    Example:
        >>> with FakeProviderProcess(scenario) as server:  # doctest: +SKIP
        ...     client = openai.OpenAI(base_url=server.base_url("openai"), api_key="sk-x")
    """

    def __init__(
        self, scenario: Scenario | None = None, *, port: int = 0, validate_requests: bool = False
    ) -> None:
        self._scenario = scenario or Scenario()
        self._port = port
        self._validate = validate_requests
        self._process: subprocess.Popen[str] | None = None
        self._scenario_path: str | None = None
        self.url = ""

    def __enter__(self) -> Self:
        handle, self._scenario_path = tempfile.mkstemp(prefix="fake-scenario-", suffix=".json")
        with os.fdopen(handle, "wb") as file:
            file.write(msgspec.json.encode(self._scenario))
        command = [sys.executable, "-m", "attractor.testing.fake_providers"]
        command += ["--port", str(self._port), "--scenario", self._scenario_path]
        if self._validate:
            command.append("--validate-requests")
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        first = self._process.stdout.readline()
        if not first.startswith(_READY):
            self.__exit__(None, None, None)
            raise RuntimeError(f"the fake provider process did not start: {first!r}")
        self.url = first[len(_READY) :].strip()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        if self._scenario_path is not None:
            os.unlink(self._scenario_path)
            self._scenario_path = None

    def base_url(self, provider: Provider) -> str:
        """The base URL an SDK for `provider` should use (see `FakeProviderServer.base_url`)."""
        return self.url + BASE_PATHS[provider]
