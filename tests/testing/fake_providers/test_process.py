"""The fake server in a child process (for benchmarks) and its `python -m` entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from attractor.testing.fake_providers import FakeProviderProcess, Scenario, Step


def test_child_process_serves_the_scenario_and_stops():
    """The child serves the scenario, then exits and removes its scenario file on close."""
    scenario = Scenario(steps=(Step(text="from the child"),))
    with FakeProviderProcess(scenario) as server:
        process = server._process
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        url = server.base_url("openai_chat") + "/chat/completions"
        response = httpx.post(url, json=body, headers={"authorization": "Bearer k"})
        path = server._scenario_path
    assert response.json()["choices"][0]["message"]["content"] == "from the child"
    assert process is not None
    assert process.returncode == 0
    assert path is not None
    assert not Path(path).exists()


def test_module_entry_point_refuses_bad_scenarios(tmp_path):
    """`python -m attractor.testing.fake_providers` exits 1 with a clear error."""
    path = tmp_path / "bad.json"
    path.write_text("{")
    command = [sys.executable, "-m", "attractor.testing.fake_providers", "--scenario", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 1
    assert "not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr
