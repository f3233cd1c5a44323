"""Every bad input of the issue is a 4xx problem document (RFC 9457) with a clear `detail` —
never a 500, never a traceback; the token is required off loopback; no secret in a response."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from attractor.server import ConfigError, ServerConfig, create_app
from tests.server.kit import GATE_DOT, LINEAR_DOT, LiveServer, finished, live_server, start

SYNTAX_ERROR = "digraph broken {\n  start [shape=Mdiamond]\n  start -> \n}\n"
INVALID = 'digraph invalid {\n  start [shape=Mdiamond]\n  a [prompt="x"]\n  start -> a\n}\n'


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    (tmp_path / "ok.dot").write_text(LINEAR_DOT)
    with live_server(tmp_path, max_body=4096) as live:
        yield live


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is a problem document with this status and a non-empty detail."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    doc: dict[str, Any] = response.json()
    assert doc["status"] == status
    assert doc["type"].startswith("https://")
    assert doc["detail"]
    assert doc["title"]
    assert "Traceback" not in response.text
    return doc


def test_malformed_json_is_400(server: LiveServer) -> None:
    """A body that is not JSON is a 400 saying so."""
    with server.client() as c:
        r = c.post("/pipelines", content=b"{not json", headers={"content-type": "application/json"})
    assert "not valid JSON" in _problem(r, 400)["detail"]


def test_wrong_types_are_400_naming_the_field(server: LiveServer) -> None:
    """`{"source": 5}` is a 400 naming `source` and the expected type."""
    with server.client() as c:
        doc = _problem(c.post("/pipelines", json={"source": 5}), 400)
    assert "source" in doc["detail"]
    assert "str" in doc["detail"]


def test_unknown_fields_are_400(server: LiveServer) -> None:
    """A misspelt option is refused, not ignored."""
    with server.client() as c:
        doc = _problem(c.post("/pipelines", json={"source": LINEAR_DOT, "auto_aprove": True}), 400)
    assert "auto_aprove" in doc["detail"]


def test_source_and_path_together_or_neither_are_400(server: LiveServer) -> None:
    """Exactly one of `source` and `path`."""
    with server.client() as c:
        _problem(c.post("/pipelines", json={}), 400)
        _problem(c.post("/pipelines", json={"source": LINEAR_DOT, "path": "ok.dot"}), 400)


def test_unknown_run_is_404(server: LiveServer) -> None:
    """An id that names no run is a 404 for every run endpoint."""
    with server.client() as c:
        for path in ("", "/events", "/graph", "/questions", "/checkpoint", "/context"):
            _problem(c.get(f"/pipelines/20990101T000000-deadbeef{path}"), 404)
        _problem(c.post("/pipelines/20990101T000000-deadbeef/cancel"), 404)


def test_run_ids_that_escape_the_logs_root_are_400(server: LiveServer) -> None:
    """`..`, dot files and encoded traversal never reach the filesystem."""
    with server.client() as c:  # httpx would normalise a literal `..` away: send it encoded
        for bad in ("%2e%2e", ".hidden", "a%00b", "a%5c..%5cb"):
            assert "not a run id" in _problem(c.get(f"/pipelines/{bad}"), 400)["detail"]
            _problem(c.get(f"/pipelines/{bad}/events"), 400)
        _problem(c.get("/pipelines/%2e%2e%2fruns"), 404)  # a `/` inside: no route matches


def test_unknown_question_and_node_are_404(server: LiveServer) -> None:
    """A node the graph lacks is a 404."""
    with server.client() as c:
        run_id = start(c, source=LINEAR_DOT)
        finished(c, run_id)
        _problem(c.get(f"/pipelines/{run_id}/stages/nosuchnode"), 404)


def test_dot_syntax_error_is_422_with_its_location(server: LiveServer) -> None:
    """A DOT syntax error is a 422 whose problem holds the line, column and caret text."""
    with server.client() as c:
        doc = _problem(c.post("/pipelines", json={"source": SYNTAX_ERROR}), 422)
    assert doc["syntax_error"]["line"] == 4
    assert "^" in doc["syntax_error"]["rendered"]


def test_invalid_graph_is_422_with_diagnostics(server: LiveServer) -> None:
    """A graph that fails validation is a 422 listing the diagnostics (rule, line, fix)."""
    with server.client() as c:
        doc = _problem(c.post("/pipelines", json={"source": INVALID}), 422)
    assert any(d["rule"] == "terminal_node" for d in doc["diagnostics"])
    assert "not valid" in doc["detail"]


def test_oversized_body_is_413(server: LiveServer) -> None:
    """A body over --max-body is refused before it is read whole."""
    with server.client() as c:
        doc = _problem(c.post("/pipelines", json={"source": "x" * 10_000}), 413)
    assert "--max-body" in doc["detail"]


def test_dot_path_outside_the_allowed_roots_is_403(server: LiveServer) -> None:
    """`../../etc/passwd` and absolute paths elsewhere are refused before being opened."""
    with server.client() as c:
        for path in ("../../../../etc/passwd", "/etc/passwd", "ok.dot/../../x.dot"):
            doc = _problem(c.post("/pipelines", json={"path": path}), 403)
            assert "outside the allowed roots" in doc["detail"]
        _problem(c.post("/validate", json={"path": "/etc/hostname"}), 403)


def test_missing_dot_file_is_404(server: LiveServer) -> None:
    """A path inside the roots that does not exist is a 404 naming it."""
    with server.client() as c:
        assert (
            "missing.dot"
            in _problem(c.post("/pipelines", json={"path": "missing.dot"}), 404)["detail"]
        )


def test_bad_backend_is_400_or_422(server: LiveServer) -> None:
    """An unknown backend fails the schema (400); a script outside the roots is 403."""
    with server.client() as c:
        _problem(c.post("/pipelines", json={"source": LINEAR_DOT, "backend": "gpt"}), 400)
        _problem(
            c.post("/pipelines", json={"source": LINEAR_DOT, "backend": "scripted:/etc/passwd"}),
            403,
        )


def test_state_and_fork_outside_the_log_are_400(server: LiveServer) -> None:
    """`at` beyond the log's last seq is refused with the valid range."""
    with server.client() as c:
        run_id = start(c, source=LINEAR_DOT)
        finished(c, run_id)
        assert (
            "outside the log"
            in _problem(c.get(f"/pipelines/{run_id}/state?at=9999"), 400)["detail"]
        )
        _problem(c.post(f"/pipelines/{run_id}/fork?at=9999"), 400)
        _problem(c.get(f"/pipelines/{run_id}/state?at=0"), 400)
        _problem(c.get(f"/pipelines/{run_id}/state?at=abc"), 400)


def test_actions_on_finished_runs_are_409(server: LiveServer) -> None:
    """Cancel, pause, resume and unpause of a finished run are conflicts, clearly worded."""
    with server.client() as c:
        run_id = start(c, source=LINEAR_DOT)
        finished(c, run_id)
        for verb in ("cancel", "pause", "resume", "unpause"):
            _problem(c.post(f"/pipelines/{run_id}/{verb}"), 409)


def test_bad_last_event_id_is_400(server: LiveServer) -> None:
    """A Last-Event-ID that is not a seq is refused."""
    with server.client() as c:
        run_id = start(c, source=LINEAR_DOT)
        finished(c, run_id)
        _problem(c.get(f"/pipelines/{run_id}/events", headers={"Last-Event-ID": "x"}), 400)


def test_unknown_route_and_method_are_404_and_405(server: LiveServer) -> None:
    """The framework's own errors are problem documents too."""
    with server.client() as c:
        _problem(c.get("/nope"), 404)
        _problem(c.delete("/pipelines"), 405)


def test_non_loopback_bind_without_a_token_is_refused() -> None:
    """ServerConfig refuses 0.0.0.0 without a token, and `attractor serve` exits 2."""
    with pytest.raises(ConfigError, match="--token"):
        create_app(ServerConfig(host="0.0.0.0"))
    env = {k: v for k, v in os.environ.items() if k != "ATTRACTOR_TOKEN"}
    proc = subprocess.run(
        [sys.executable, "-m", "attractor", "serve", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        start_new_session=True,
    )
    assert proc.returncode == 2
    assert "--token" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_with_a_token_every_request_needs_it(tmp_path: Path) -> None:
    """With --token: no token or a wrong one is 401; the right one (header or cookie) works."""
    with live_server(tmp_path, token="s3cret-t0ken") as live, live.client() as c:
        for path in ("/pipelines", "/schema", "/static/app.js"):
            assert "no token" in _problem(c.get(path), 401)["detail"]
        wrong = c.get("/pipelines", headers={"Authorization": "Bearer nope"})
        assert "wrong" in _problem(wrong, 401)["detail"]
        assert c.get("/", headers={"Accept": "text/html"}).status_code == 303
        ok = c.get("/pipelines", headers={"Authorization": "Bearer s3cret-t0ken"})
        login = c.post("/login", data={"token": "s3cret-t0ken"})
        cookie = c.get("/pipelines")  # the client keeps the cookie /login set
    assert ok.status_code == 200
    assert login.status_code == 303
    assert cookie.status_code == 200
    assert "s3cret-t0ken" not in ok.text + login.text + cookie.text


def test_no_api_key_appears_in_any_response(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A provider key in the server's environment never reaches a response body."""
    secret = "sk-live-DO-NOT-LEAK-0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    with live_server(tmp_path) as live, live.client() as c:
        run_id = start(c, source=GATE_DOT)
        bodies = [c.get(p).text for p in ("/pipelines", f"/pipelines/{run_id}", "/schema", "/")]
        for path in ("/checkpoint", "/context", "/questions", "/stages/write", "/state?at=3"):
            bodies.append(c.get(f"/pipelines/{run_id}{path}").text)
        bodies.append(c.get(f"/runs/{run_id}").text)
        c.post(f"/pipelines/{run_id}/cancel")
    assert all(secret not in body for body in bodies)


def test_a_tilde_path_is_taken_literally(server: LiveServer) -> None:
    """`~` and `~user` are not expanded to the server's home: such a file is simply not there."""
    with server.client() as c:
        for path in ("~/x.dot", "~nosuchuser\u0081/x.dot"):
            _problem(c.post("/pipelines", json={"path": path}), 404)
