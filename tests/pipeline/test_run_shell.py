"""The run shell with real effects: tool commands in a real shell, backends that raise, and bad
input (missing start/exit, bad conditions, hanging commands, bad run dirs, corrupted logs)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from attractor.events import LogCorruptError, read_log
from attractor.pipeline.events import RunFinished, StageCompleted
from attractor.pipeline.model import CodergenCall, CodergenReply, StageStatus
from attractor.pipeline.run import (
    RunError,
    RunOptions,
    RunResult,
    replay_run,
    resume_run,
    start_run,
)

SIMPLE = (
    'digraph x { start [shape=Mdiamond]; done [shape=Msquare]; a [prompt="a"]; start -> a -> done }'
)


def run(tmp_path: Path, source: str, **kwargs: object) -> RunResult:
    """Write `source` to a file and run it with the simulation backend, no fsync."""
    dot = tmp_path / "p.dot"
    dot.write_text(source)
    opts = RunOptions(logs_root=str(tmp_path / "runs"), fsync=False)
    return asyncio.run(start_run(dot, opts, **kwargs))  # type: ignore[arg-type]


def tool(command: str, attrs: str = "") -> str:
    """start -> t (tool) -> done."""
    return f"""digraph t {{
        start [shape=Mdiamond]; done [shape=Msquare]
        t [shape=parallelogram, tool_command="{command}" {attrs}]
        start -> t -> done
    }}"""


def finished(result: RunResult) -> RunFinished:
    """The run.finished of a run."""
    from attractor.events import read_log

    last = list(read_log(result.run_dir / "events.jsonl"))[-1].event
    assert isinstance(last, RunFinished)
    return last


def test_tool_stdout_in_context(tmp_path: Path) -> None:
    """A real command's stdout lands in `tool.output`."""
    result = run(tmp_path, tool("echo hello-tool"))
    top = result.state.top()
    assert top is not None
    assert top.context["tool.output"] == "hello-tool\n"
    assert finished(result).outcome.status == StageStatus.SUCCESS


def test_tool_exit_code_fails(tmp_path: Path) -> None:
    """A command exiting 4 FAILs the stage with the code and stderr."""
    result = run(tmp_path, tool("echo oops >&2; exit 4"))
    outcome = finished(result).outcome
    assert outcome.status == StageStatus.FAIL
    assert outcome.failure_reason == "tool_command exited with code 4: oops"


def test_tool_timeout_fails_quickly(tmp_path: Path) -> None:
    """`sleep 30` with timeout=300ms FAILs as timed out within a few seconds."""
    began = time.monotonic()
    result = run(tmp_path, tool("sleep 30", ', timeout="300ms"'))
    assert time.monotonic() - began < 8
    outcome = finished(result).outcome
    assert outcome.status == StageStatus.FAIL
    assert "timed out" in outcome.failure_reason


def test_tool_env_and_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command runs in the directory the run started from, with the stage dir in the env
    (created before it runs)."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = run(
        tmp_path,
        tool("pwd; echo $ATTRACTOR_STAGE_DIR; echo $ATTRACTOR_NODE_ID; ls -d $ATTRACTOR_STAGE_DIR"),
    )
    top = result.state.top()
    assert top is not None
    lines = top.context["tool.output"].splitlines()
    stage_dir = str(result.run_dir / "t")
    assert lines == [str(work.resolve()), stage_dir, "t", stage_dir]


def test_tool_pre_hook_refuses(tmp_path: Path) -> None:
    """A real pre hook exiting 1 skips the command (it leaves no mark)."""
    mark = tmp_path / "mark"
    result = run(tmp_path, tool(f"touch {mark}", ', tool_hooks.pre="exit 1"'))
    assert not mark.exists()
    completed = [e.event for e in read_log(result.run_dir / "events.jsonl")]
    skipped = [e for e in completed if isinstance(e, StageCompleted) and e.node == "t"]
    assert [e.outcome.status for e in skipped] == [StageStatus.SKIPPED]


class Raising:
    """A backend that raises."""

    async def run(self, call: CodergenCall) -> CodergenReply:
        raise ValueError(f"model exploded on {call.node_id}")


def test_backend_that_raises_is_a_fail_outcome(tmp_path: Path) -> None:
    """A raising backend gives a FAIL naming the exception, and the run ends normally."""
    dot = tmp_path / "b.dot"
    dot.write_text(SIMPLE.replace('a [prompt="a"]; start -> a', 'w [prompt="x"]; start -> w'))
    script = tmp_path / "s.json"
    script.write_text('{"w": {"raise": "model exploded"}}')
    opts = RunOptions(logs_root=str(tmp_path / "runs"), fsync=False, backend=f"scripted:{script}")
    result = asyncio.run(start_run(dot, opts))
    outcome = finished(result).outcome
    assert outcome.status == StageStatus.FAIL
    assert "model exploded" in outcome.failure_reason
    result = asyncio.run(start_run(dot, opts, backend=Raising()))
    outcome = finished(result).outcome
    assert outcome.failure_reason == "backend raised ValueError: model exploded on w"


# --- bad input


def test_missing_start_is_a_run_error_with_diagnostics(tmp_path: Path) -> None:
    """No start node: RunError before anything runs, with the diagnostics."""
    with pytest.raises(RunError) as err:
        run(tmp_path, 'digraph x { done [shape=Msquare]; a [prompt="a"]; a -> done }')
    assert "start_node" in [d.rule for d in err.value.diagnostics]
    assert err.value.hint
    assert not (tmp_path / "runs").exists()


def test_missing_exit_is_a_run_error(tmp_path: Path) -> None:
    """No exit node: RunError naming the terminal_node rule."""
    with pytest.raises(RunError) as err:
        run(tmp_path, 'digraph x { start [shape=Mdiamond]; a [prompt="a"]; start -> a }')
    assert "terminal_node" in [d.rule for d in err.value.diagnostics]


def test_bad_condition_is_a_run_error(tmp_path: Path) -> None:
    """A condition that does not parse is rejected before the run starts."""
    source = """digraph x { start [shape=Mdiamond]; done [shape=Msquare]
        start -> done [condition="outcome=="] }"""
    with pytest.raises(RunError) as err:
        run(tmp_path, source)
    assert "condition_syntax" in [d.rule for d in err.value.diagnostics]


def test_unknown_handler_type_is_reported(tmp_path: Path) -> None:
    """An unknown `type` is a validation warning and a FAIL outcome when reached."""
    result = run(
        tmp_path,
        SIMPLE.replace('a [prompt="a"]', 'a [type="warp"]'),
    )
    outcome = finished(result).outcome
    assert outcome.status == StageStatus.FAIL
    assert "'warp'" in outcome.failure_reason


def test_missing_dot_file_is_a_run_error(tmp_path: Path) -> None:
    """A DOT path that does not exist: RunError."""
    with pytest.raises(RunError, match="no such file"):
        asyncio.run(start_run(tmp_path / "nope.dot", RunOptions(logs_root=str(tmp_path))))


def test_resume_of_a_dir_that_is_not_a_run(tmp_path: Path) -> None:
    """Resuming a directory without events.jsonl: RunError with a hint."""
    with pytest.raises(RunError) as err:
        asyncio.run(resume_run(tmp_path))
    assert "not a run directory" in str(err.value)
    assert err.value.hint


def test_resume_of_a_log_that_is_not_a_pipeline_run(tmp_path: Path) -> None:
    """A log whose first event is not run.started: RunError."""
    from attractor.events import EventLog
    from attractor.pipeline.events import CheckpointSaved

    with EventLog.open(tmp_path / "events.jsonl") as log:
        log.append([("run", CheckpointSaved(node="x"))])
    with pytest.raises(RunError, match="not a pipeline run log"):
        asyncio.run(resume_run(tmp_path))


def test_corrupted_log_is_refused_and_left_unchanged(tmp_path: Path) -> None:
    """A log with a damaged line in the middle: LogCorruptError; the file is not modified."""
    result = run(
        tmp_path,
        SIMPLE,
    )
    log = result.run_dir / "events.jsonl"
    lines = log.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b'"checkpoint.saved"', b'"checkpoint.savex"')
    damaged = b"\n".join(lines)
    log.write_bytes(damaged)
    with pytest.raises(LogCorruptError):
        asyncio.run(resume_run(result.run_dir))
    with pytest.raises(LogCorruptError):
        asyncio.run(replay_run(result.run_dir))
    assert log.read_bytes() == damaged


def test_resume_of_a_finished_run_changes_nothing(tmp_path: Path) -> None:
    """Resuming a run that already finished appends nothing."""
    result = run(
        tmp_path,
        SIMPLE,
    )
    log = result.run_dir / "events.jsonl"
    before = log.read_bytes()
    again = asyncio.run(resume_run(result.run_dir))
    assert again.stopped == "done"
    assert log.read_bytes() == before


def test_answers_file_that_does_not_match_fails_the_gate(tmp_path: Path) -> None:
    """An answers-file reply that is no option: the gate FAILs naming the question and options."""
    answers = tmp_path / "answers.json"
    answers.write_text('{"review": "maybe"}')
    examples = Path(__file__).resolve().parents[2] / "examples"
    opts = RunOptions(logs_root=str(tmp_path / "runs"), fsync=False, answers=str(answers))
    result = asyncio.run(start_run(examples / "human_gate.dot", opts))
    outcome = finished(result).outcome
    assert outcome.status == StageStatus.FAIL
    assert "'maybe' is not an option" in outcome.failure_reason
    assert "review@3.1" in outcome.failure_reason


def test_fork_continues_live_in_a_new_run(tmp_path: Path) -> None:
    """fork_run at a node boundary: a new run dir whose log shares the prefix, then continues."""
    from attractor.events import read_log
    from attractor.pipeline.events import RunForked
    from attractor.pipeline.run import fork_run

    result = run(tmp_path, SIMPLE)
    original = (result.run_dir / "events.jsonl").read_bytes().split(b"\n")
    forked = asyncio.run(fork_run(result.run_dir, 5))
    assert forked.run_dir != result.run_dir
    lines = (forked.run_dir / "events.jsonl").read_bytes().split(b"\n")
    assert lines[:5] == original[:5]
    entries = list(read_log(forked.run_dir / "events.jsonl"))
    assert isinstance(entries[5].event, RunForked)
    top = forked.state.top()
    assert top is not None
    assert top.completed == ("start", "a", "done")


def test_forked_run_replays(tmp_path: Path) -> None:
    """A forked run's log replays byte for byte like any other."""
    from attractor.pipeline.run import fork_run

    result = run(tmp_path, SIMPLE)
    forked = asyncio.run(fork_run(result.run_dir, 5))
    assert asyncio.run(replay_run(forked.run_dir)).stopped == "done"
