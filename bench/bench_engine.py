"""Benchmark: the pipeline engine. Prints figures measured in one run (not a timed test).

- a linear pipeline of N simulated stages driven with the durable event log (`EventLog`), at
  N = 200 and N = 1,000: ms/node and nodes/s, with fsync and without. Two fsync policies:
  "engine" is what the engine does (one write + fsync per decider batch: every batch is durable
  before any effect it requests starts), "per-node" splits each batch at node boundaries so
  every node gets its own write + fsync (the strict reading of "fsync per node");
- resume of a 100k-event log: read + fold only (the time `attractor resume` needs before it can
  continue);
- LangGraph with SqliteSaver on an equivalent linear graph (N nodes, one state update each),
  measured in the same run, and the ratio.

Each figure is the best of 3 runs. Run: `python bench/bench_engine.py` (`--quick`: N = 200 only,
a 20k-event resume).
Target (issue 4): ≤ 0.5 ms/node with fsync per node, flat in N.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypedDict

from attractor.effects import LiveInterpreter, drive
from attractor.events import Emit, Entry, EventLog, fold, read_log
from attractor.pipeline.events import CheckpointSaved, RunStarted
from attractor.pipeline.machine import PipelineMachine
from attractor.pipeline.model import RunConfig

REPEATS = 3  # each figure is the best of this many runs (the machine is shared and noisy)


def linear_dot(n: int) -> str:
    """start -> s0 -> ... -> s{n-1} -> done."""
    nodes = "\n".join(f'  s{i} [prompt="stage {i}"]' for i in range(n))
    flow = " -> ".join(["start", *(f"s{i}" for i in range(n)), "done"])
    head = "digraph bench {\n  start [shape=Mdiamond]\n  done [shape=Msquare]\n"
    return f"{head}{nodes}\n  {flow}\n}}\n"


def started(source: str, run_dir: Path, limit: int) -> RunStarted:
    """The run.started of a simulated run."""
    return RunStarted(
        run_id="bench",
        name="bench",
        goal="",
        dot_source=source,
        dot_digest=hashlib.sha256(source.encode()).hexdigest(),
        dot_path="bench.dot",
        config=RunConfig(run_dir=str(run_dir), backend="simulate", max_node_executions=limit),
        attractor_version="bench",
    )


class PerNodeLog:
    """An `EventLog` whose appends are split at node boundaries: one write + fsync per node."""

    def __init__(self, log: EventLog) -> None:
        self.log = log
        self.name = log.name
        self.appends = 0

    def entries(self) -> Iterator[Entry]:
        """The log's entries."""
        return self.log.entries()

    def append(self, items: Sequence[Emit]) -> list[Entry]:
        """Append, cutting after every checkpoint.saved."""
        out: list[Entry] = []
        chunk: list[Emit] = []
        for item in items:
            chunk.append(item)
            if isinstance(item[1], CheckpointSaved):
                out += self.log.append(chunk)
                self.appends += 1
                chunk = []
        if chunk:
            out += self.log.append(chunk)
            self.appends += 1
        return out

    def close(self) -> None:
        """Close the log."""
        self.log.close()


class CountingLog:
    """An `EventLog` that counts its appends (= writes + fsyncs)."""

    def __init__(self, log: EventLog) -> None:
        self.log = log
        self.name = log.name
        self.appends = 0

    def entries(self) -> Iterator[Entry]:
        """The log's entries."""
        return self.log.entries()

    def append(self, items: Sequence[Emit]) -> list[Entry]:
        """Append as one write."""
        self.appends += 1
        return self.log.append(items)

    def close(self) -> None:
        """Close the log."""
        self.log.close()


def run_engine(
    tmp: Path, n: int, fsync: bool, per_node: bool, datasync: bool = False
) -> tuple[float, int, int]:
    """Seconds to drive an N-stage simulated run; appends; events. `datasync` makes the log's
    `os.fsync` an `os.fdatasync` for this run (what the log could use: it only appends)."""
    import os

    real = os.fsync
    if datasync:
        os.fsync = os.fdatasync
    try:
        return _drive_engine(tmp, n, fsync, per_node)
    finally:
        os.fsync = real


def _drive_engine(tmp: Path, n: int, fsync: bool, per_node: bool) -> tuple[float, int, int]:
    source = linear_dot(n)
    run_dir = tmp / f"run-{n}-{fsync}-{per_node}-{time.perf_counter_ns()}"
    machine = PipelineMachine(started(source, run_dir, 10 * n + 100))
    with EventLog.open(run_dir / "events.jsonl", fsync=fsync) as log:
        store: PerNodeLog | CountingLog = PerNodeLog(log) if per_node else CountingLog(log)
        began = time.perf_counter()
        result = asyncio.run(drive(machine, store, LiveInterpreter(log.blobs)))
        elapsed = time.perf_counter() - began
    assert result.stopped == "done"
    assert result.state.finished is not None
    assert result.state.finished.status == "success"
    return elapsed, store.appends, result.appended


LOOP = """digraph loop {
  start [shape=Mdiamond]
  done [shape=Msquare]
  a [prompt="a"]; b [prompt="b"]; c [prompt="c"]; d [prompt="d"]
  start -> a -> b -> c -> d -> a
  d -> done [condition="context.never=1"]
}
"""


def bench_resume(tmp: Path, events: int) -> tuple[float, int]:
    """Build a simulated run of about `events` events (a 4-stage loop stopped by the execution
    bound; ~4 events per stage), then time read + fold of its log."""
    n = events // 4
    source = LOOP
    run_dir = tmp / "resume"
    machine = PipelineMachine(started(source, run_dir, n + 10))
    with EventLog.open(run_dir / "events.jsonl", fsync=False) as log:
        asyncio.run(drive(machine, log, LiveInterpreter(log.blobs)))
    path = run_dir / "events.jsonl"
    began = time.perf_counter()
    entries = read_log(path)
    state = fold(entries, machine.initial(), machine.reduce)
    elapsed = time.perf_counter() - began
    assert state.finished is not None
    count = sum(1 for _ in read_log(path))
    return elapsed, count


class _State(TypedDict):
    log: list[str]
    last: str


def run_langgraph(tmp: Path, n: int, durability: str) -> float:
    """Seconds for LangGraph + SqliteSaver to run an N-node linear graph (one checkpoint per
    node; `durability` "async" is LangGraph's default, "sync" waits for each checkpoint)."""
    import sqlite3

    from langgraph.checkpoint.sqlite import SqliteSaver
    from langgraph.graph import END, START, StateGraph

    def stage(name: str) -> Any:
        def fn(state: _State) -> dict[str, Any]:
            return {"last": f"[Simulated] Response for stage: {name}"}

        return fn

    graph = StateGraph(_State)
    names = [f"s{i}" for i in range(n)]
    for name in names:
        graph.add_node(name, stage(name))
    graph.add_edge(START, names[0])
    for a, b in itertools.pairwise(names):
        graph.add_edge(a, b)
    graph.add_edge(names[-1], END)
    db = tmp / f"lg-{n}-{durability}-{time.perf_counter_ns()}.sqlite"
    conn = sqlite3.connect(str(db), check_same_thread=False)
    saver = SqliteSaver(conn)
    app = graph.compile(checkpointer=saver)
    config: Any = {
        "configurable": {"thread_id": f"bench-{n}-{durability}-{time.perf_counter_ns()}"}
    }
    config["recursion_limit"] = n + 10
    began = time.perf_counter()
    app.invoke(_State(log=[], last=""), config, durability=durability)  # type: ignore[call-overload]
    elapsed = time.perf_counter() - began
    conn.close()
    return elapsed


def raw_sync_ms(tmp: Path, fn_name: str, n: int = 200) -> float:
    """The cost of one small append + `os.fsync` / `os.fdatasync` on this disk, in ms."""
    import os

    sync = getattr(os, fn_name)
    with open(tmp / f"raw-{fn_name}", "ab") as fh:
        began = time.perf_counter()
        for _ in range(n):
            fh.write(b"x" * 200 + b"\n")
            fh.flush()
            sync(fh.fileno())
        return (time.perf_counter() - began) * 1000 / n


def _row(label: str, n: int, seconds: float, appends: int = 0) -> str:
    ms = seconds * 1000 / n
    extra = f"  ({appends / n:.2f} writes+fsyncs/node)" if appends else ""
    return f"  {label:<34} N={n:<5} {ms:7.3f} ms/node  {n / seconds:9.0f} nodes/s{extra}"


def main() -> None:
    """Measure and print."""
    sizes = [200] if "--quick" in sys.argv else [200, 1000]
    print("attractor pipeline engine benchmark (simulation backend, durable event log)")
    results: dict[tuple[str, int], float] = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        run_engine(tmp, 20, fsync=False, per_node=False)  # warm up imports and caches
        fsync_ms, fdatasync_ms = raw_sync_ms(tmp, "fsync"), raw_sync_ms(tmp, "fdatasync")
        print(
            f"  this disk: append+fsync {fsync_ms:.3f} ms, append+fdatasync {fdatasync_ms:.3f} ms"
        )
        for n in sizes:
            for label, fsync, per_node, datasync in (
                ("engine, no fsync", False, False, False),
                ("engine, fsync per batch", True, False, False),
                ("engine, fsync per node", True, True, False),
                ("engine, fdatasync per node", True, True, True),
            ):
                runs = [run_engine(tmp, n, fsync, per_node, datasync) for _ in range(REPEATS)]
                seconds, appends, _ = min(runs)
                results[(label, n)] = seconds
                print(_row(label, n, seconds, appends if fsync else 0))
            for durability in ("async", "sync"):
                seconds = min(run_langgraph(tmp, n, durability) for _ in range(REPEATS))
                results[(f"langgraph {durability}", n)] = seconds
                print(_row(f"langgraph + SqliteSaver ({durability})", n, seconds))
            lg = results[("langgraph async", n)]
            for label in (
                "engine, fsync per node",
                "engine, fdatasync per node",
                "engine, fsync per batch",
            ):
                ratio = lg / results[(label, n)]
                print(f"  ratio langgraph (default) / {label}, N={n}: {ratio:.1f}x")
        if len(sizes) > 1:
            small, big = sizes
            labels = (
                "engine, fsync per node",
                "engine, fdatasync per node",
                "engine, fsync per batch",
                "langgraph async",
            )
            for label in labels:
                growth = (results[(label, big)] / big) / (results[(label, small)] / small)
                print(f"  ms/node growth {small}->{big} ({label}): x{growth:.2f}")
        events = 20_000 if "--quick" in sys.argv else 100_000
        seconds, count = bench_resume(tmp, events)
        print(
            f"  resume (read + fold) of a {count}-event log: {seconds * 1000:.0f} ms "
            f"({count / seconds:,.0f} events/s)"
        )


if __name__ == "__main__":
    main()
