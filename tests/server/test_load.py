"""Load on loopback: 100 concurrent runs and 200 SSE clients against one `attractor serve`
process — every client gets every event of its run in order, no run is lost, and the
server's peak RSS stays bounded (printed; run with -s to see it). About 10 s on a loaded
2-core machine, so it runs in the fast suite."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx

from tests.server.served import served

RUNS = 100
CLIENTS_PER_RUN = 2
DEADLINE_S = 240.0
MAX_RSS_MIB = 1024.0
PIPELINE = """digraph load {
    start [shape=Mdiamond]
    a [prompt="one"]
    b [prompt="two"]
    c [prompt="three"]
    done [shape=Msquare]
    start -> a -> b -> c -> done
}
"""


RECONNECTS = [0]


async def _follow(client: httpx.AsyncClient, run_id: str) -> list[tuple[int, str]]:
    """Every (seq, line) of the run's SSE stream until `event: end`, reconnecting with
    Last-Event-ID as EventSource does when a pooled keep-alive connection was closed under it."""
    got: list[tuple[int, str]] = []
    for _ in range(5):
        try:
            if await _read(client, run_id, got):
                return got
        except (httpx.RemoteProtocolError, httpx.ReadError):
            RECONNECTS[0] += 1
    raise AssertionError(f"the stream of {run_id} ended without `event: end`")


async def _read(client: httpx.AsyncClient, run_id: str, got: list[tuple[int, str]]) -> bool:
    event, seq = "", 0
    headers = {"Last-Event-ID": str(got[-1][0])} if got else {}
    async with client.stream("GET", f"/pipelines/{run_id}/events", headers=headers) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("id: "):
                seq = int(line[4:])
            elif line.startswith("data: ") and event == "entry":
                got.append((seq, line[6:]))
            elif not line and event == "end":
                return True
    return False


async def _load(url: str) -> tuple[list[str], dict[str, list[list[tuple[int, str]]]]]:
    limits = httpx.Limits(max_connections=RUNS * CLIENTS_PER_RUN + 20)
    timeout = httpx.Timeout(DEADLINE_S)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout) as client:

        async def one_run() -> tuple[str, list[list[tuple[int, str]]]]:
            body = {"source": PIPELINE, "backend": "scripted:script.json"}
            response = await client.post("/pipelines", json=body)
            assert response.status_code == 201, response.text
            run_id: str = response.json()["id"]
            streams = await asyncio.gather(
                *(_follow(client, run_id) for _ in range(CLIENTS_PER_RUN))
            )
            return run_id, list(streams)

        results = await asyncio.wait_for(
            asyncio.gather(*(one_run() for _ in range(RUNS))), DEADLINE_S
        )
    return [r for r, _ in results], dict(results)


def test_hundred_runs_and_two_hundred_clients(tmp_path: Path) -> None:
    """100 concurrent runs, 2 SSE clients each: every event in order, every run succeeded."""
    (tmp_path / "script.json").write_text(json.dumps({"*": {"response": "ok", "delay_ms": 300}}))
    logs = tmp_path / "runs"
    began = time.monotonic()
    with served(logs, "--no-fsync", cwd=tmp_path) as server:
        try:
            run_ids, streams = asyncio.run(_load(server.url))
        except httpx.HTTPError:
            print(server.stderr())
            raise
        took = time.monotonic() - began
        page = httpx.get(server.url + "/pipelines", params={"status": "succeeded", "limit": 500})
        rss = server.peak_rss_mib()
    print(
        f"\nload: {RUNS} runs x {CLIENTS_PER_RUN} clients in {took:.1f}s, peak RSS {rss:.0f} MiB, "
        f"{RECONNECTS[0]} reconnect(s) by Last-Event-ID"
    )
    assert len(set(run_ids)) == RUNS
    assert page.json()["total"] == RUNS
    for run_id, clients in streams.items():
        lines = (logs / run_id / "events.jsonl").read_text().splitlines()
        expected = list(enumerate(lines, 1))
        assert all(got == expected for got in clients), f"{run_id}: a client missed or reordered"
    assert rss < MAX_RSS_MIB
