"""`attractor fake-llm serve`: refuses bad input clearly and serves until interrupted."""

from __future__ import annotations

import signal
import subprocess
import sys

import httpx
from typer.testing import CliRunner

import attractor.cli._fake_llm  # noqa: F401  (registers `fake-llm` on the app)
from attractor.cli._app import app

runner = CliRunner()


def test_public_host_is_refused():
    """A non-loopback --host exits 1 with an error and a hint, no traceback."""
    result = runner.invoke(app, ["fake-llm", "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 1
    assert "loopback" in result.output
    assert "Traceback" not in result.output


def test_bad_scenario_is_refused(tmp_path):
    """An invalid scenario file exits 1 naming the file and the JSON path."""
    path = tmp_path / "bad.json"
    path.write_text('{"steps": [{"txt": "typo"}]}')
    result = runner.invoke(app, ["fake-llm", "serve", "--scenario", str(path)])
    assert result.exit_code == 1
    assert "bad.json" in result.output
    assert "$.steps[0]" in result.output


def test_serves_a_scenario_until_interrupted(tmp_path):
    """The command prints the base URLs, answers from the scenario and stops on Ctrl-C."""
    path = tmp_path / "s.json"
    path.write_text('{"steps": [{"text": "offline answer"}]}')
    command = [sys.executable, "-m", "attractor", "fake-llm", "serve", "--port", "0"]
    with subprocess.Popen(
        [*command, "--scenario", str(path)], stdout=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        process.stdout.readline()
        openai_line = process.stdout.readline().strip()
        base = openai_line.split("=", 1)[1]
        response = httpx.post(
            f"{base}/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
            headers={"authorization": "Bearer sk-x"},
        )
        process.send_signal(signal.SIGINT)
        process.wait(10)
        process.stdout.close()
    assert openai_line.startswith("export OPENAI_BASE_URL=http://127.0.0.1:")
    assert response.json()["choices"][0]["message"]["content"] == "offline answer"
    assert process.returncode == 0
