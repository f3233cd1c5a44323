"""Benchmark: `attractor serve`. Prints figures measured in one run (not a timed test).

- SSE latency: from an entry's append (its `at`, the store's clock just before the write) to
  its arrival at an SSE client, p50 and p99, with 1, 50 and 200 clients on one run. The run is
  driven by the server (a human gate first, so every client is connected before the measured
  part starts; then 40 scripted stages 15 ms apart), the clients are one asyncio process.
- The same entries read by tailing `events.jsonl` directly (a reader polling the file every
  millisecond in its own thread, in the clients' process), measured in the same run: the
  floor that SSE adds to.
- requests/s of `GET /pipelines/{id}` on a finished run (16 concurrent keep-alive clients).

The server is a child process (`python -m attractor serve`, own process group) on a free
loopback port, fsync on. Run: `python bench/bench_server.py` (`--quick`: 1 and 50 clients;
`--no-fsync`: the server appends without fsync).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

STAGES = 40
DELAY_MS = 15
REQUESTS = 2000
PIPELINE = (
    'digraph bench {\n  start [shape=Mdiamond]\n  gate [shape=hexagon, label="Go?"]\n'
    + "".join(f'  s{i} [prompt="stage {i}"]\n' for i in range(STAGES))
    + '  done [shape=Msquare]\n  start -> gate\n  gate -> s0 [label="[G] Go"]\n  '
    + " -> ".join(f"s{i}" for i in range(STAGES))
    + " -> done\n}\n"
)


def _at(line: str) -> float:
    """The append time of a log line (its `at`), as Unix seconds."""
    stamp = json.loads(line)["at"]
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """`attractor serve` in a child process."""

    def __init__(self, root: Path, extra: list[str]) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "attractor", "serve", "--port", str(self.port)]
        self.proc = subprocess.Popen(
            [*cmd, "--logs-root", str(root / "runs"), *extra],
            cwd=root,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(self.url + "/pipelines", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise SystemExit("attractor serve did not start")
            time.sleep(0.05)

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the server process has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL; reaped."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self.proc.poll() is not None:
                break
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                continue


def _tail(path: Path, stop: threading.Event, out: list[tuple[str, float]]) -> None:
    """Tail the log directly: poll every millisecond, record each complete line's arrival."""
    while not path.exists() and not stop.is_set():
        time.sleep(0.001)
    with open(path, "rb") as f:
        buffer = b""
        while not stop.is_set():
            chunk = f.read()
            if not chunk:
                time.sleep(0.001)
                continue
            now = time.time()
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            out.extend((line.decode(), now) for line in lines)


async def _client(
    client: httpx.AsyncClient, run_id: str, ready: asyncio.Event, out: list[Any]
) -> None:
    async with client.stream("GET", f"/pipelines/{run_id}/events?deltas=false") as response:
        ready.set()
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "entry":
                out.append((line[6:], time.time()))
            elif not line and event == "end":
                return


async def _latency(url: str, root: Path, clients: int) -> tuple[list[float], list[float]]:
    limits = httpx.Limits(max_connections=clients + 10)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as http:
        body = {"source": PIPELINE, "backend": "scripted:script.json"}
        run_id = (await http.post("/pipelines", json=body)).json()["id"]
        while not (await http.get(f"/pipelines/{run_id}/questions")).json():
            await asyncio.sleep(0.02)
        readies = [asyncio.Event() for _ in range(clients)]
        received: list[list[Any]] = [[] for _ in range(clients)]
        tasks = [
            asyncio.create_task(_client(http, run_id, r, o))
            for r, o in zip(readies, received, strict=True)
        ]
        await asyncio.gather(*(r.wait() for r in readies))
        await asyncio.sleep(0.3)  # every client has caught up with the prefix
        stop, tailed = threading.Event(), []
        tailer = threading.Thread(
            target=_tail, args=(root / "runs" / run_id / "events.jsonl", stop, tailed)
        )
        tailer.start()
        answer_at = time.time()
        q = (await http.get(f"/pipelines/{run_id}/questions")).json()[0]
        await http.post(q["answer_url"], json={"answer": "G"})
        await asyncio.gather(*tasks)
        stop.set()
        tailer.join(5)
    sse = [
        arrived - _at(line) for got in received for line, arrived in got if _at(line) >= answer_at
    ]
    direct = [arrived - _at(line) for line, arrived in tailed if _at(line) >= answer_at]
    return sse, direct


async def _requests_per_second(
    url: str, run_id: str, total: int = 2000, workers: int = 16
) -> float:
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        await http.get(f"/pipelines/{run_id}")  # warm the fold cache
        left = total

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                response = await http.get(f"/pipelines/{run_id}")
                assert response.status_code == 200

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(workers)))
        return total / (time.perf_counter() - began)


def main() -> None:
    """Run every measurement against one server and print the table."""
    counts = [1, 50] if "--quick" in sys.argv else [1, 50, 200]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "script.json").write_text(
            json.dumps({"*": {"response": "ok", "delay_ms": DELAY_MS}})
        )
        fsync = "--no-fsync" not in sys.argv
        server = Server(root, [] if fsync else ["--no-fsync"])
        try:
            how = "on" if fsync else "off"
            print(
                f"SSE latency, append -> arrival ({STAGES} stages {DELAY_MS} ms apart; fsync {how})"
            )
            heads = ("clients", "SSE p50 ms", "SSE p99 ms", "tail p50 ms", "tail p99 ms", "entries")
            print(" ".join(f"{h:>12}" for h in heads))
            for n in counts:
                sse, direct = asyncio.run(_latency(server.url, root, n))
                s50, s99 = _percentiles(sse)
                t50, t99 = _percentiles(direct)
                row = (
                    f"{n}",
                    f"{s50:.2f}",
                    f"{s99:.2f}",
                    f"{t50:.2f}",
                    f"{t99:.2f}",
                    f"{len(sse)}",
                )
                print(" ".join(f"{v:>12}" for v in row))
            run_id = httpx.get(server.url + "/pipelines").json()["items"][0]["id"]
            cpu = server.cpu_s()
            rps = asyncio.run(_requests_per_second(server.url, run_id, total=REQUESTS))
            per = (server.cpu_s() - cpu) / REQUESTS * 1000
            print(
                f"GET /pipelines/{{id}}: {rps:.0f} requests/s (16 concurrent keep-alive clients, "
                f"a finished run of {STAGES + 3} stages); server CPU {per:.2f} ms/request"
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
