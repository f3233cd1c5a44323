"""`attractor serve` from the command line: it serves the dashboard and the API, stops cleanly
on SIGTERM (its running drives stopped, their logs resumable), and refuses bad settings."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from attractor.events import verify_log
from tests.server.kit import GATE_DOT
from tests.server.served import served


def test_serve_answers_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    """The dashboard and API answer; SIGTERM shuts down gracefully (uvicorn then re-raises the
    signal, so the exit status is -15, with nothing on stderr) and the run's log stays valid."""
    logs = tmp_path / "runs"
    with served(logs, cwd=tmp_path) as server:
        page = httpx.get(server.url + "/", timeout=10)
        run_id = httpx.post(
            server.url + "/pipelines", json={"source": GATE_DOT}, timeout=30
        ).json()["id"]
        os.killpg(server.proc.pid, signal.SIGTERM)
        code = server.proc.wait(30)
        errors = server.stderr()
    assert page.status_code == 200
    assert "Start a run" in page.text
    assert code == -signal.SIGTERM
    assert "Traceback" not in errors
    assert verify_log(logs / run_id / "events.jsonl").count > 0


def test_port_in_use_is_exit_2_with_a_clear_message(tmp_path: Path) -> None:
    """A port something else listens on is refused before the server starts."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "attractor",
                "serve",
                "--port",
                str(port),
                "--logs-root",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            start_new_session=True,
        )
    assert proc.returncode == 2
    assert "cannot listen" in proc.stderr
    assert "Traceback" not in proc.stderr
