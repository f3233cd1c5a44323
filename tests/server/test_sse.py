"""SSE from the durable log: resume by Last-Event-ID / ?after= with nothing lost or repeated,
heartbeats, the end after run.finished, and streamed LLM text as `event: delta`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from attractor.testing.fake_providers import FakeProviderServer, Scenario, Step
from tests.server.kit import (
    GATE_DOT,
    LINEAR_DOT,
    LiveServer,
    finished,
    live_server,
    sse,
    start,
    waiting_question,
)

LLM_DOT = """digraph llm {
    start [shape=Mdiamond]
    write [prompt="Write a haiku", llm_provider="openai", llm_model="gpt-4o-mini"]
    done [shape=Msquare]
    start -> write -> done
}
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(tmp_path, heartbeat_s=0.2) as live:
        yield live


def _log_lines(server: LiveServer, run_id: str) -> list[str]:
    return (server.logs_root / run_id / "events.jsonl").read_text().splitlines()


def test_resume_by_last_event_id_loses_and_repeats_nothing(server: LiveServer) -> None:
    """A client drops mid-run, reconnects with Last-Event-ID and gets exactly the rest."""
    with server.client() as c:
        run_id = start(c, source=GATE_DOT)
        q = waiting_question(c, run_id)
        first = sse(c, f"/pipelines/{run_id}/events", stop_after=4)  # then the connection drops
        c.post(q["answer_url"], json={"answer": "A"})
        finished(c, run_id)
        last = first[-1].id
        assert last is not None
        rest = sse(c, f"/pipelines/{run_id}/events", headers={"Last-Event-ID": last})
    got = [e for e in first + rest if e.event == "entry"]
    lines = _log_lines(server, run_id)
    assert [e.data for e in got] == lines
    assert [int(e.id or 0) for e in got] == list(range(1, len(lines) + 1))


def test_resume_by_after_query_parameter(server: LiveServer) -> None:
    """`?after=SEQ` starts the stream at entry SEQ + 1."""
    with server.client() as c:
        run_id = start(c, source=LINEAR_DOT)
        finished(c, run_id)
        events = sse(c, f"/pipelines/{run_id}/events?after=7")
    entries = [e for e in events if e.event == "entry"]
    assert entries[0].id == "8"
    assert entries[-1].data == _log_lines(server, run_id)[-1]


def test_last_event_id_wins_over_after(server: LiveServer) -> None:
    """A reconnecting EventSource resends its URL's ?after; the header is the newer position."""
    with server.client() as c:
        run_id = start(c, source=LINEAR_DOT)
        finished(c, run_id)
        events = sse(c, f"/pipelines/{run_id}/events?after=2", headers={"Last-Event-ID": "9"})
    assert next(e for e in events if e.event == "entry").id == "10"


def test_live_client_gets_entries_as_they_are_appended_then_end(server: LiveServer) -> None:
    """A client connected before the run continues gets the later entries live, then `end`."""
    with server.client() as c, server.client() as answerer:
        run_id = start(c, source=GATE_DOT)
        q = waiting_question(c, run_id)
        with c.stream("GET", f"/pipelines/{run_id}/events") as response:
            answerer.post(q["answer_url"], json={"answer": "A"})
            body = b"".join(response.iter_bytes()).decode()
    assert body.rstrip().endswith("event: end\ndata: {}")
    assert '"type":"run.finished"' in body


def test_heartbeats_keep_a_waiting_stream_alive(server: LiveServer) -> None:
    """While nothing is appended, the stream sends `: heartbeat` comments."""
    with server.client() as c:
        run_id = start(c, source=GATE_DOT)
        waiting_question(c, run_id)
        seen: list[str] = []
        with c.stream("GET", f"/pipelines/{run_id}/events") as response:
            for line in response.iter_lines():
                seen.append(line)
                if line == ": heartbeat":
                    break
        c.post(f"/pipelines/{run_id}/cancel")
    assert ": heartbeat" in seen


def test_a_finished_run_streams_everything_and_ends(server: LiveServer) -> None:
    """Connecting after the end gives the whole log, then `end` at once."""
    with server.client() as c:
        run_id = start(c, source=LINEAR_DOT)
        finished(c, run_id)
        events = sse(c, f"/pipelines/{run_id}/events")
    assert events[-1].event == "end"
    assert len([e for e in events if e.event == "entry"]) == len(_log_lines(server, run_id))


def test_streamed_llm_text_arrives_as_deltas_and_stays_out_of_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the llm backend, text deltas reach SSE clients as `event: delta`; the log keeps
    only the completed response."""
    text = "old pond / a frog jumps in / the sound of water"
    with FakeProviderServer(Scenario(steps=(Step(text=text),))) as fake:
        for name, value in fake.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-secret")
        with live_server(tmp_path) as server, server.client() as c:
            run_id = start(c, source=LLM_DOT, backend="llm")
            events = sse(c, f"/pipelines/{run_id}/events")
            stage = c.get(f"/pipelines/{run_id}/stages/write").json()
    deltas = [e.json() for e in events if e.event == "delta"]
    assert deltas
    assert all(d["node"] == "write" and d["stream"] == "run" for d in deltas)
    assert "".join(d["text"] for d in deltas) == text
    assert all(e.id is None for e in events if e.event == "delta")
    assert stage["attempts"][0]["response"] == text
    assert '"delta"' not in (tmp_path / "runs" / run_id / "events.jsonl").read_text()
