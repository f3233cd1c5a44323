"""Load on loopback: 100 concurrent runs and 200 SSE clients against one `attractor serve`
process — every client gets every event of its run in order, no run is lost, and the
server's peak RSS stays bounded (printed; run with -s to see it)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest

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


async def _follow(client: httpx.AsyncClient, run_id: str) -> list[tuple[int, str]]:
    """Every (seq, line) of the run's SSE stream until `event: end`."""
    got: list[tuple[int, str]] = []
    event, seq = "", 0
    async with client.stream("GET", f"/pipelines/{run_id}/events") as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("id: "):
                seq = int(line[4:])
            elif line.startswith("data: ") and event == "entry":
                got.append((seq, line[6:]))
            elif not line and event == "end":
                return got
    raise AssertionError(f"the stream of {run_id} ended without `event: end`")


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


@pytest.mark.slow
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
    print(f"\nload: {RUNS} runs x {CLIENTS_PER_RUN} clients in {took:.1f}s, peak RSS {rss:.0f} MiB")
    assert len(set(run_ids)) == RUNS
    assert page.json()["total"] == RUNS
    for run_id, clients in streams.items():
        lines = (logs / run_id / "events.jsonl").read_text().splitlines()
        expected = list(enumerate(lines, 1))
        assert all(got == expected for got in clients), f"{run_id}: a client missed or reordered"
    assert rss < MAX_RSS_MIB
