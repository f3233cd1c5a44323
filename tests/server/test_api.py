"""Every endpoint of `attractor serve` over real HTTP (httpx against uvicorn on 127.0.0.1)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from attractor.events import read_log
from tests.server.kit import (
    GATE_DOT,
    LINEAR_DOT,
    TOOL_DOT,
    LiveServer,
    finished,
    live_server,
    sse,
    start,
    status_of,
    waiting_question,
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    (tmp_path / "gate.dot").write_text(GATE_DOT)
    (tmp_path / "linear.dot").write_text(LINEAR_DOT)
    (tmp_path / "tools.dot").write_text(TOOL_DOT)
    with live_server(tmp_path) as live:
        yield live


def test_list_is_empty_then_lists_started_runs_newest_first(server: LiveServer) -> None:
    """GET /pipelines lists every run under the logs root, newest first."""
    with server.client() as c:
        assert c.get("/pipelines").json()["total"] == 0
        first = start(c, source=LINEAR_DOT, auto_approve=True)
        second = start(c, source=LINEAR_DOT, auto_approve=True)
        finished(c, first), finished(c, second)
        page = c.get("/pipelines").json()
    assert [i["id"] for i in page["items"]] == [second, first]


def test_list_filters_by_status_and_paginates(server: LiveServer) -> None:
    """`status` filters and `limit`/`offset` page the list, with `next_offset`."""
    with server.client() as c:
        done = [start(c, source=LINEAR_DOT) for _ in range(3)]
        for run_id in done:
            finished(c, run_id)
        waiting = start(c, path=str(server.logs_root.parent / "gate.dot"))
        waiting_question(c, waiting)
        running = c.get("/pipelines", params={"status": "running"}).json()
        page = c.get("/pipelines", params={"status": "succeeded", "limit": 2}).json()
        rest = c.get("/pipelines", params={"status": "succeeded", "offset": 2}).json()
        c.post(f"/pipelines/{waiting}/cancel")
    assert [i["id"] for i in running["items"]] == [waiting]
    assert (page["total"], len(page["items"]), page["next_offset"]) == (3, 2, 2)
    assert len(rest["items"]) == 1
    assert rest["next_offset"] is None


def test_start_by_path_runs_to_the_end(server: LiveServer) -> None:
    """POST /pipelines with a DOT path under an allowed root starts the run; it succeeds."""
    with server.client() as c:
        run_id = start(c, path=str(server.logs_root.parent / "linear.dot"))
        final = finished(c, run_id)
    assert final["status"] == "succeeded"
    assert final["completed_nodes"] == ["start", "a", "b", "done"]
    assert final["nodes"] == dict.fromkeys(["start", "a", "b", "done"], "success")


def test_start_with_a_goal_overrides_the_graphs_goal(server: LiveServer) -> None:
    """`goal` replaces the graph's goal for this run."""
    with server.client() as c:
        run_id = start(c, source=LINEAR_DOT, goal="Count to three")
        final = finished(c, run_id)
        context = c.get(f"/pipelines/{run_id}/context").json()
    assert final["goal"] == "Count to three"
    assert context["context"]["graph.goal"] == "Count to three"


def test_run_directory_matches_a_cli_run(server: LiveServer) -> None:
    """A server run leaves the projections `attractor run` leaves (manifest, checkpoint, stages)."""
    with server.client() as c:
        run_id = start(c, source=LINEAR_DOT)
        finished(c, run_id)
    run_dir = server.logs_root / run_id
    assert {"events.jsonl", "manifest.json", "checkpoint.json"} <= {
        p.name for p in run_dir.iterdir()
    }
    assert (run_dir / "a" / "status.json").is_file()


def test_status_of_a_waiting_run_names_its_question(server: LiveServer) -> None:
    """GET /pipelines/{id} shows the current node waiting and the pending question."""
    with server.client() as c:
        run_id = start(c, source=GATE_DOT)
        waiting_question(c, run_id)
        s = status_of(c, run_id)
        c.post(f"/pipelines/{run_id}/cancel")
    assert (s["status"], s["current"], s["nodes"]["review"]) == ("running", ["review"], "waiting")
    assert s["pending_questions"][0]["text"] == "Ship this?"
    assert s["driven_here"] is True


def test_questions_lists_options_and_answer_continues_the_run(server: LiveServer) -> None:
    """GET questions gives the options; POST answer picks one and the run goes that way."""
    with server.client() as c:
        run_id = start(c, source=GATE_DOT)
        q = waiting_question(c, run_id)
        answered = c.post(q["answer_url"], json={"answer": "A"})
        final = finished(c, run_id)
    assert [o["key"] for o in q["options"]] == ["A", "R"]
    assert answered.json() == {"question_id": q["id"], "value": "A", "text": "[A] Approve"}
    assert final["status"] == "succeeded"
    assert "ship" in final["completed_nodes"]
    assert "revise" not in final["completed_nodes"]


def test_events_stream_is_the_log_line_for_line(server: LiveServer) -> None:
    """GET events sends every log line as `event: entry` with `id` = seq, then `event: end`."""
    with server.client() as c:
        run_id = start(c, source=LINEAR_DOT)
        finished(c, run_id)
        events = sse(c, f"/pipelines/{run_id}/events")
    lines = (server.logs_root / run_id / "events.jsonl").read_text().splitlines()
    entries = [e for e in events if e.event == "entry"]
    assert [e.data for e in entries] == lines
    assert [e.id for e in entries] == [str(i) for i in range(1, len(lines) + 1)]
    assert events[-1].event == "end"


def test_graph_is_an_svg_with_every_node(server: LiveServer) -> None:
    """GET graph is Graphviz SVG; every node's <title> is its id."""
    with server.client() as c:
        run_id = start(c, source=GATE_DOT, auto_approve=True)
        finished(c, run_id)
        response = c.get(f"/pipelines/{run_id}/graph")
    assert response.headers["content-type"].startswith("image/svg+xml")
    for node in ("start", "write", "review", "revise", "ship", "done"):
        assert f"<title>{node}</title>" in response.text


def test_checkpoint_is_the_last_checkpoint_folded_from_the_log(server: LiveServer) -> None:
    """GET checkpoint equals the checkpoint.json projection's fields."""
    with server.client() as c:
        run_id = start(c, source=LINEAR_DOT)
        finished(c, run_id)
        cp = c.get(f"/pipelines/{run_id}/checkpoint").json()
    assert cp["current_node"] == "done"
    assert cp["completed_nodes"] == ["start", "a", "b", "done"]
    assert cp["context"]["last_stage"] == "b"


def test_context_is_the_runs_context(server: LiveServer) -> None:
    """GET context is the top-level context store."""
    with server.client() as c:
        run_id = start(c, source=LINEAR_DOT)
        finished(c, run_id)
        ctx = c.get(f"/pipelines/{run_id}/context").json()
    assert ctx["context"]["graph.goal"] == "Count"
    assert ctx["context"]["outcome"] == "success"


def test_state_at_a_seq_is_the_fold_of_that_prefix(server: LiveServer) -> None:
    """GET state?at=SEQ shows the run as it was just after entry SEQ."""
    with server.client() as c:
        run_id = start(c, source=LINEAR_DOT)
        finished(c, run_id)
        entries = list(read_log(server.logs_root / run_id / "events.jsonl"))
        at = next(e.seq for e in entries if getattr(e.event, "node", "") == "a")  # a started
        then = c.get(f"/pipelines/{run_id}/state", params={"at": at}).json()
        first = c.get(f"/pipelines/{run_id}/state", params={"at": 1}).json()
    assert (then["seq"], then["event_type"], then["status"]) == (at, "stage.started", "running")
    assert then["nodes"] == {"start": "success", "a": "running"}
    assert then["current"] == ["a"]
    assert then["last_seq"] == len(entries)
    assert first["nodes"] == {}
    assert first["event_type"] == "run.started"


def test_stage_shows_prompt_response_and_status(server: LiveServer) -> None:
    """GET stages/{node} gives each attempt's prompt, response, status and duration."""
    with server.client() as c:
        run_id = start(c, source=LINEAR_DOT)
        finished(c, run_id)
        stage = c.get(f"/pipelines/{run_id}/stages/a").json()
    attempt = stage["attempts"][0]
    assert (stage["status"], stage["handler"]) == ("success", "codergen")
    assert attempt["prompt"] == "one"
    assert attempt["response"] == "[Simulated] Response for stage: a"
    assert attempt["duration_ms"] is not None


def test_stage_shows_tool_output(server: LiveServer) -> None:
    """A tool stage's shell command and its stdout are in its stage."""
    with server.client() as c:
        run_id = start(c, path=str(server.logs_root.parent / "tools.dot"))
        finished(c, run_id)
        stage = c.get(f"/pipelines/{run_id}/stages/hello").json()
    shell = stage["attempts"][0]["shell"][0]
    assert shell["command"] == "echo hello-from-tool"
    assert (shell["exit_code"], shell["stdout"]) == (0, "hello-from-tool\n")


def test_validate_gives_compiler_style_diagnostics(server: LiveServer) -> None:
    """POST /validate returns the diagnostics as data and as `file:line:col` text."""
    bad = 'digraph x {\n  start [shape=Mdiamond]\n  a [prompt="x"]\n  start -> a\n}\n'
    with server.client() as c:
        good = c.post("/validate", json={"source": LINEAR_DOT}).json()
        found = c.post("/validate", json={"source": bad}).json()
    assert good["valid"] is True
    assert good["errors"] == 0
    assert found["valid"] is False
    assert found["errors"] >= 1
    assert any(d["rule"] == "terminal_node" for d in found["diagnostics"])
    assert "<pasted>:" in found["rendered"]
    assert "error[" in found["rendered"]


def test_validate_reports_a_syntax_error_with_its_location(server: LiveServer) -> None:
    """A DOT syntax error is a `syntax_error` with line and column."""
    with server.client() as c:
        found = c.post("/validate", json={"source": "digraph x {\n  a -> \n}"}).json()
    assert found["valid"] is False
    assert found["syntax_error"]["line"] >= 2
    assert "^" in found["syntax_error"]["rendered"]


def test_cancel_stops_the_run_and_resume_continues_it(server: LiveServer) -> None:
    """POST cancel stops a running run (its log stays valid); POST resume finishes it."""
    with server.client() as c:
        run_id = start(c, source=GATE_DOT)
        waiting_question(c, run_id)
        cancelled = c.post(f"/pipelines/{run_id}/cancel")
        after_cancel = status_of(c, run_id)
        resumed = c.post(f"/pipelines/{run_id}/resume")
        q = waiting_question(c, run_id)
        c.post(q["answer_url"], json={"answer": "approve"})
        final = finished(c, run_id)
    assert cancelled.json()["status"] == "cancelled"
    assert after_cancel["status"] == "cancelled"
    assert not after_cancel["driven_here"]
    assert resumed.status_code == 200
    assert resumed.json()["id"] == run_id
    assert final["status"] == "succeeded"


def test_pause_stops_at_a_node_boundary_and_unpause_continues(server: LiveServer) -> None:
    """POST pause while a gate waits stops the run; unpause continues and asks again."""
    with server.client() as c:
        run_id = start(c, source=GATE_DOT)
        first = waiting_question(c, run_id)
        paused = c.post(f"/pipelines/{run_id}/pause").json()
        during = status_of(c, run_id)
        c.post(f"/pipelines/{run_id}/unpause")
        again = waiting_question(c, run_id)
        c.post(again["answer_url"], json={"answer": "A"})
        final = finished(c, run_id)
    assert paused["status"] == "paused"
    assert during["status"] == "paused"
    assert again["id"] == first["id"]  # the same question, asked again after the pause
    assert final["status"] == "succeeded"


def test_fork_starts_a_new_run_from_a_prefix(server: LiveServer) -> None:
    """POST fork?at=SEQ starts a new run sharing the first SEQ events, continued live."""
    with server.client() as c:
        run_id = start(c, source=LINEAR_DOT)
        finished(c, run_id)
        forked = c.post(f"/pipelines/{run_id}/fork", params={"at": 5})
        new_id = forked.json()["id"]
        final = finished(c, new_id)
    assert forked.status_code == 201
    assert new_id != run_id
    assert final["status"] == "succeeded"
    assert final["forked_from"] == f"{run_id}@5"
    old = (server.logs_root / run_id / "events.jsonl").read_text().splitlines()
    new = (server.logs_root / new_id / "events.jsonl").read_text().splitlines()
    assert new[:5] == old[:5]


def test_a_cli_run_under_the_logs_root_appears(server: LiveServer) -> None:
    """A run made by `attractor run --logs-root` shows in the list and reads like any other."""
    dot = server.logs_root.parent / "linear.dot"
    cmd = [sys.executable, "-m", "attractor", "run", str(dot), "--logs-root", str(server.logs_root)]
    proc = subprocess.Popen(
        [*cmd, "-q", "--no-fsync"],
        start_new_session=True,
        env={**os.environ},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    assert proc.returncode == 0, err
    with server.client() as c:
        items = c.get("/pipelines").json()["items"]
        run_id = items[0]["id"]
        s = status_of(c, run_id)
    assert s["status"] == "succeeded"
    assert s["name"] == "linear"
    assert not s["driven_here"]


def test_a_keyed_log_is_read_with_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run whose hash chain is keyed (ATTRACTOR_LOG_KEY) is checked and shown with that key."""
    monkeypatch.setenv("ATTRACTOR_LOG_KEY", "k" * 40)
    (tmp_path / "linear.dot").write_text(LINEAR_DOT)
    with live_server(tmp_path) as server, server.client() as c:
        run_id = start(c, path=str(tmp_path / "linear.dot"))
        final = finished(c, run_id)
        events = sse(c, f"/pipelines/{run_id}/events")
    assert final["status"] == "succeeded"
    assert events[-1].event == "end"
