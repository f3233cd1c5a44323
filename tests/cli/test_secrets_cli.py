"""No configured key reaches a run directory, stdout or stderr — whatever the provider answers
(issue 8, point 1): `attractor run --backend llm` against the fake provider server after 401,
400, 500, a timeout and an unreachable server, then `status`, `status --json`, `log show --json`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attractor.cli._app import _register, app
from attractor.llm.runtime import AdapterTimeout
from attractor.testing.fake_providers import Error, FakeProviderServer, Scenario, Step

MARKER = "sk-proj-MARKER8f3a91c2d4e5b6a7z"  # unique: any hit is a leak
KEY_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY")
PIPELINE = """digraph leak {
  start [shape=Mdiamond]
  ask [shape=box, prompt="Say hi", llm_model="fake-model", llm_provider="PROVIDER"]
  done [shape=Msquare]
  start -> ask -> done
}
"""
runner = CliRunner()
_register()


@pytest.fixture(scope="module")
def server() -> Iterator[FakeProviderServer]:
    """One fake provider server for the module."""
    with FakeProviderServer() as fake:
        yield fake


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in KEY_VARS and "BASE_URL" not in k}
    env.update(extra)
    env["COLUMNS"] = "200"
    return env


def _quoting(status: int) -> Scenario:
    """Every request answered by `status` with a message (and code) quoting the key."""
    message = f"Incorrect API key provided: {MARKER}."
    error = Error(status=status, message=message, code=MARKER, retry_after="0")
    return Scenario(steps=(Step(error=error, repeat=True),))


def _run(tmp_path: Path, env: dict[str, str], provider: str = "openai") -> list[str]:
    """Run the pipeline in a subprocess; return stdout, stderr and the read commands' output."""
    dot = tmp_path / "leak.dot"
    dot.write_text(PIPELINE.replace("PROVIDER", provider))
    command = [sys.executable, "-m", "attractor", "run", str(dot), "--backend", "llm"]
    done = subprocess.run(
        [*command, "--logs-root", str(tmp_path / "runs")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    return [done.stdout, done.stderr, *_read_commands(tmp_path)]


def _read_commands(tmp_path: Path) -> list[str]:
    (run_dir,) = (tmp_path / "runs").iterdir()
    outputs = []
    for args in (["status"], ["status", "--json"], ["log", "show", "--json"]):
        result = runner.invoke(app, [*args, str(run_dir)])
        assert result.exit_code == 0, result.output
        outputs += [result.stdout, result.stderr]
    return outputs


def _leaks(tmp_path: Path, outputs: list[str]) -> list[str]:
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".dot"]
    hits = [str(p) for p in files if MARKER.encode() in p.read_bytes()]
    return hits + [f"output {i}" for i, text in enumerate(outputs) if MARKER in text]


@pytest.mark.parametrize("status", [401, 400, 500])
def test_provider_error_quoting_the_key_leaves_no_trace(
    server: FakeProviderServer, tmp_path: Path, status: int
) -> None:
    """An OpenAI error that quotes the key leaks it nowhere (run dir, stdout, stderr, status)."""
    server.play(_quoting(status))
    env = _env(OPENAI_API_KEY=MARKER, OPENAI_BASE_URL=server.base_url("openai"))
    outputs = _run(tmp_path, env)
    assert "<redacted>" in outputs[0]
    assert _leaks(tmp_path, outputs) == []


@pytest.mark.parametrize(
    ("provider", "key_var", "url_var"),
    [("anthropic", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"),
     ("gemini", "GEMINI_API_KEY", "GEMINI_BASE_URL")],
)  # fmt: skip
def test_other_providers_errors_leave_no_trace(
    server: FakeProviderServer, tmp_path: Path, provider: str, key_var: str, url_var: str
) -> None:
    """The same holds for Anthropic and Gemini error shapes."""
    server.play(_quoting(401))
    env = _env(**{key_var: MARKER, url_var: server.base_url(provider)})
    assert _leaks(tmp_path, _run(tmp_path, env, provider)) == []


def test_unreachable_provider_leaves_no_trace(tmp_path: Path) -> None:
    """Connection refused (retried, then failed) leaks no key."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = _env(OPENAI_API_KEY=MARKER, OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1")
    assert _leaks(tmp_path, _run(tmp_path, env)) == []


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A loopback server that accepts connections and never answers (a provider timing out)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    listener.close()


def test_timeout_leaves_no_trace(
    silent_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request that times out leaks no key (in-process, with a 0.3 s request timeout)."""
    monkeypatch.setattr(AdapterTimeout.__init__, "__defaults__", (0.3, 0.3, 0.3))
    for var in KEY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", MARKER)
    monkeypatch.setenv("OPENAI_BASE_URL", silent_server)
    dot = tmp_path / "leak.dot"
    dot.write_text(PIPELINE.replace("PROVIDER", "openai"))
    args = ["run", str(dot), "--backend", "llm", "--logs-root", str(tmp_path / "runs")]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "timed out" in result.stdout or "took longer" in result.stdout
    outputs = [result.stdout, result.stderr, *_read_commands(tmp_path)]
    assert _leaks(tmp_path, outputs) == []
