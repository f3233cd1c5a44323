"""Crash safety of whole pipeline runs: a process running `start_run` is SIGKILLed at a random
instant; `resume_run` then reaches the same outcome and completed nodes as an uninterrupted run,
and no tool command that had completed before the kill is performed again."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from attractor.effects import EffectCompleted, EffectRequested, RunShell
from attractor.events import read_log, verify_log
from attractor.pipeline.run import RunError, RunOptions, replay_run, resume_run, start_run

ROOT = Path(__file__).resolve().parents[2]
TOOLS = [f"t{i}" for i in range(8)]

DRIVER = """
import asyncio, sys
from attractor.pipeline.run import RunOptions, start_run
dot, root = sys.argv[1], sys.argv[2]
print("ready", flush=True)
asyncio.run(start_run(dot, RunOptions(logs_root=root)))
"""


def pipeline(marks: Path) -> str:
    """Tool stages that each append their id to `marks`, with LLM stages between them."""
    nodes = ["start [shape=Mdiamond]", "done [shape=Msquare]"]
    for t in TOOLS:
        cmd = f"sleep 0.01; echo {t} >> {marks}"
        nodes.append(f'{t} [shape=parallelogram, tool_command="{cmd}"]')
        nodes.append(f'{t}_llm [prompt="think about {t}"]')
    flow = " -> ".join(["start", *(x for t in TOOLS for x in (t, f"{t}_llm")), "done"])
    return "digraph crash {\n  " + "\n  ".join([*nodes, flow]) + "\n}\n"


def _completed_and_requested(log: Path) -> tuple[set[str], set[str]]:
    """Tool ids whose shell effect completed / was requested in `log`."""
    requests: dict[str, str] = {}
    done: set[str] = set()
    for entry in read_log(log):
        event = entry.event
        if isinstance(event, EffectRequested) and isinstance(event.request, RunShell):
            requests[event.effect_id] = event.request.command.split("echo ")[1].split()[0]
        elif isinstance(event, EffectCompleted) and event.effect_id in requests:
            done.add(requests[event.effect_id])
    return done, set(requests.values())


def _spawn(dot: Path, root: Path, cli: bool, rng: random.Random) -> subprocess.Popen[bytes]:
    """Start the run in a child process and wait a random time inside its run."""
    if cli:
        args = ["-m", "attractor", "run", str(dot), "--logs-root", str(root), "--quiet"]
    else:
        args = ["-c", DRIVER, str(dot), str(root)]
    proc = subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert proc.stdout is not None
    if cli:
        root.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + 20
        while not any(root.iterdir()) and time.monotonic() < deadline:  # the run has begun
            time.sleep(0.005)
    else:
        assert proc.stdout.readline().strip() == b"ready"
    time.sleep(rng.uniform(0.0, 0.3))
    return proc


def kill_and_resume(
    tmp: Path, rng: random.Random, expected: tuple[str, ...], cli: bool = False
) -> None:
    """One kill at a random instant, then resume and check."""
    marks, root, dot = tmp / "marks", tmp / "runs", tmp / "crash.dot"
    dot.write_text(pipeline(marks))
    proc = _spawn(dot, root, cli, rng)
    assert proc.stdout is not None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    runs = list(root.iterdir()) if root.exists() else []
    if not runs or not (runs[0] / "events.jsonl").exists():
        return  # killed before the run existed: nothing to resume
    run_dir = runs[0]
    log = run_dir / "events.jsonl"
    if b"\n" not in log.read_bytes():  # killed before the first line was complete
        with pytest.raises(RunError):
            asyncio.run(resume_run(run_dir))
        return
    verify_log(log)  # only a torn tail is tolerated
    completed, requested = _completed_and_requested(log)
    result = asyncio.run(resume_run(run_dir))
    assert result.stopped == "done"
    assert result.state.finished is not None
    assert result.state.finished.status == "success"
    top = result.state.top()
    assert top is not None
    assert top.completed == expected
    counts = Counter(marks.read_text().split())
    assert set(counts) == set(TOOLS)
    for tool_id, n in counts.items():
        if tool_id in completed:
            assert n == 1, f"{tool_id} had completed before the kill but ran again"
        elif tool_id in requested:
            assert n in (1, 2), f"{tool_id} was in flight: at least once, at most twice"
        else:
            assert n == 1
    assert asyncio.run(replay_run(run_dir)).stopped == "done"


def uninterrupted(tmp: Path) -> tuple[str, ...]:
    """The completed nodes of a run that is never killed."""
    tmp.mkdir()
    dot = tmp / "crash.dot"
    dot.write_text(pipeline(tmp / "marks"))
    result = asyncio.run(start_run(dot, RunOptions(logs_root=str(tmp / "runs"), fsync=False)))
    top = result.state.top()
    assert top is not None
    assert sorted(Counter((tmp / "marks").read_text().split()).values()) == [1] * len(TOOLS)
    return top.completed


def _kills(tmp_path: Path, n: int, seed: int, cli: bool) -> None:
    expected = uninterrupted(tmp_path / "whole")
    rng = random.Random(seed)
    for i in range(n):
        case = tmp_path / f"kill{i}"
        case.mkdir()
        kill_and_resume(case, rng, expected, cli)


def test_sigkill_attractor_run_then_resume_10_times(tmp_path: Path) -> None:
    """Ten kills of `python -m attractor run` at random instants: every run resumes to the
    same end, and no completed tool command runs twice."""
    _kills(tmp_path, 10, seed=4, cli=True)


@pytest.mark.slow
def test_sigkill_attractor_run_then_resume_50_times(tmp_path: Path) -> None:
    """Fifty kills of `python -m attractor run` (slow suite)."""
    _kills(tmp_path, 50, seed=45, cli=True)


@pytest.mark.slow
def test_sigkill_start_run_then_resume_60_times(tmp_path: Path) -> None:
    """Sixty kills of a process inside `start_run` (slow suite)."""
    _kills(tmp_path, 60, seed=44, cli=False)
