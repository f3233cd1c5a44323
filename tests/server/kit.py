"""Test kit for the HTTP server: uvicorn on 127.0.0.1 in a thread of the test process, stopped
with a bounded wait; an SSE reader over httpx; pipelines used by the tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import msgspec
import uvicorn

from attractor.server import ServerConfig, create_app

STARTUP_S = 15.0
SHUTDOWN_S = 20.0

GATE_DOT = """digraph gate {
    graph [goal="Ship it"]
    start   [shape=Mdiamond]
    write   [prompt="Write it"]
    review  [shape=hexagon, label="Ship this?"]
    revise  [prompt="Revise it"]
    ship    [prompt="Ship it"]
    done    [shape=Msquare]
    start -> write -> review
    review -> ship   [label="[A] Approve"]
    review -> revise [label="[R] Request changes"]
    revise -> review
    ship -> done
}
"""

LINEAR_DOT = """digraph linear {
    graph [goal="Count"]
    start [shape=Mdiamond]
    a [prompt="one"]
    b [prompt="two"]
    done [shape=Msquare]
    start -> a -> b -> done
}
"""

TOOL_DOT = """digraph tools {
    start [shape=Mdiamond]
    hello [shape=parallelogram, tool_command="echo hello-from-tool"]
    done [shape=Msquare]
    start -> hello -> done
}
"""


class LiveServer:
    """A running server: its base URL, its config and a client."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, config: ServerConfig):
        self.server, self.thread, self.config = server, thread, config
        sock = server.servers[0].sockets[0]
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.logs_root = Path(config.logs_root)

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client for this server (bounded timeouts)."""
        return httpx.Client(base_url=self.url, timeout=httpx.Timeout(20.0), **kwargs)

    def stop(self) -> None:
        """Ask uvicorn to exit and wait (bounded) for its thread."""
        self.server.should_exit = True
        self.thread.join(SHUTDOWN_S)
        assert not self.thread.is_alive(), "the server did not stop in time"


@contextmanager
def live_server(tmp_path: Path, **overrides: Any) -> Iterator[LiveServer]:
    """Serve `tmp_path/runs` on an ephemeral loopback port; DOT files may come from `tmp_path`."""
    fields: dict[str, Any] = {
        "logs_root": str(tmp_path / "runs"),
        "allowed_roots": (str(tmp_path),),
        "fsync": False,
        "heartbeat_s": 1.0,
        "poll_s": 0.05,
        **overrides,
    }
    config = ServerConfig(**fields)
    app = create_app(config)
    uv = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=3,
        timeout_keep_alive=30,
        access_log=False,
    )
    server = uvicorn.Server(uv)
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_S
    while not server.started:
        assert thread.is_alive(), "the server thread died at startup"
        assert time.monotonic() < deadline, "the server did not start in time"
        time.sleep(0.02)
    live = LiveServer(server, thread, config)
    try:
        yield live
    finally:
        live.stop()


class SseEvent(msgspec.Struct):
    """One Server-Sent Event as received."""

    event: str
    data: str
    id: str | None = None

    def json(self) -> Any:
        """The data as JSON."""
        return msgspec.json.decode(self.data)


def sse(
    client: httpx.Client, path: str, *, headers: dict[str, str] | None = None,
    limit: int = 100_000, stop_after: int | None = None, timeout_s: float = 30.0,
) -> list[SseEvent]:  # fmt: skip
    """Read SSE events until `event: end`, `stop_after` entries (then drop the connection), or
    `timeout_s` (an AssertionError)."""
    out: list[SseEvent] = []
    entries = 0
    deadline = time.monotonic() + timeout_s
    with client.stream("GET", path, headers=headers or {}) as response:
        assert response.status_code == 200, response.read()
        for event in _events(response.iter_lines()):
            out.append(event)
            entries += event.event == "entry"
            if event.event == "end" or (stop_after is not None and entries >= stop_after):
                return out
            assert len(out) < limit, "the SSE stream did not end"
            assert time.monotonic() < deadline, "the SSE stream did not end in time"
    return out


def _events(lines: Iterator[str]) -> Iterator[SseEvent]:
    fields: dict[str, str] = {}
    for line in lines:
        if not line:
            if "data" in fields or "event" in fields:
                yield SseEvent(
                    event=fields.get("event", "message"),
                    data=fields.get("data", ""),
                    id=fields.get("id"),
                )
            fields = {}
            continue
        if line.startswith(":"):
            fields.setdefault("comment", line[1:].strip())
            continue
        name, _, value = line.partition(":")
        fields[name] = value[1:] if value.startswith(" ") else value


def wait_for(predicate: Any, timeout_s: float = 20.0, what: str = "a condition") -> Any:
    """Poll `predicate` until it returns something truthy (bounded)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def status_of(client: httpx.Client, run_id: str) -> dict[str, Any]:
    """`GET /pipelines/{id}` as JSON."""
    response = client.get(f"/pipelines/{run_id}")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def start(client: httpx.Client, **body: Any) -> str:
    """Start a run; its id."""
    response = client.post("/pipelines", json=body)
    assert response.status_code == 201, response.text
    run_id: str = response.json()["id"]
    return run_id


def waiting_question(client: httpx.Client, run_id: str) -> dict[str, Any]:
    """The first question the run waits on (polls, bounded)."""

    def first() -> dict[str, Any] | None:
        questions = client.get(f"/pipelines/{run_id}/questions").json()
        return questions[0] if questions and questions[0]["answerable"] else None

    found: dict[str, Any] = wait_for(first, what="a question")
    return found


def finished(client: httpx.Client, run_id: str) -> dict[str, Any]:
    """The run's status once it is no longer running (polls, bounded)."""

    def done() -> dict[str, Any] | None:
        s = status_of(client, run_id)
        return s if s["status"] not in ("running", "pausing") else None

    found: dict[str, Any] = wait_for(done, what="the run to end")
    return found
