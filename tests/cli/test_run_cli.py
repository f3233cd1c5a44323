"""`attractor run|resume|status|replay|fork|project`: exit codes, output, and clear errors."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from rich.console import Console
from typer.testing import CliRunner

from attractor.cli._app import _register, app
from attractor.cli._events import load_event_types
from attractor.cli._live import PausingInterviewer, RunView
from attractor.effects import Answer, Question
from attractor.events import GENESIS, LineCodec, read_log
from attractor.pipeline.events import StageCompleted
from attractor.pipeline.projector import Projector
from attractor.pipeline.state import RunState

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "examples" / "smoke.dot"
runner = CliRunner()
_register()
load_event_types()

LINEAR = """digraph lin {
  graph [goal="say hi"]
  start [shape=Mdiamond]
  hello [shape=box, prompt="Say hi for $goal"]
  bye [shape=box, prompt="Say bye"]
  done [shape=Msquare]
  start -> hello -> bye -> done
}
"""
FAILING = """digraph f {
  start [shape=Mdiamond]
  broken [shape=parallelogram, tool_command="exit 3"]
  done [shape=Msquare]
  start -> broken -> done
}
"""
GATE = """digraph g {
  start [shape=Mdiamond]
  gate [shape=hexagon, label="Ship it?"]
  shipped [shape=box, prompt="ship"]
  done [shape=Msquare]
  start -> gate
  gate -> shipped [label="[Y] Yes"]
  gate -> done [label="[N] No"]
  shipped -> done
}
"""


def _cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _python(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "attractor", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
        check=False,
    )


def _dot(tmp_path: Path, text: str, name: str = "p.dot") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _run_dir(out: str) -> Path:
    return Path(out.rsplit("run directory: ", 1)[1].split()[0])


def _run(tmp_path: Path, text: str = LINEAR, *extra: str) -> tuple[int, str, str]:
    dot = _dot(tmp_path, text)
    return _cli("run", str(dot), "--logs-root", str(tmp_path / "runs"), "--no-fsync", *extra)


@pytest.fixture
def finished(tmp_path: Path) -> Path:
    """The run directory of a finished linear run."""
    code, out, _ = _run(tmp_path, LINEAR, "--quiet")
    assert code == 0
    return _run_dir(out)


def test_run_success_prints_stages_and_the_run_directory(tmp_path: Path) -> None:
    """Off a terminal, one plain line per completed stage, then the final line; exit 0."""
    code, out, _ = _run(tmp_path)
    assert code == 0
    lines = out.splitlines()
    assert [line.split("] ", 1)[1] for line in lines[:4]] == [
        "start: success",
        "hello: success",
        "bye: success",
        "done: success",
    ]
    assert lines[-1].startswith("succeeded: lin - 4 stage(s)")
    assert (_run_dir(out) / "manifest.json").is_file()


def test_run_quiet_prints_only_the_final_line(tmp_path: Path) -> None:
    """--quiet: a single line naming the outcome and the run directory."""
    code, out, _ = _run(tmp_path, LINEAR, "--quiet")
    assert code == 0
    assert len(out.splitlines()) == 1
    assert "run directory: " in out


def test_run_json_prints_the_summary(tmp_path: Path) -> None:
    """--json: the run summary as JSON, with the run directory."""
    code, out, _ = _run(tmp_path, LINEAR, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["status"] == "succeeded"
    assert data["completed_nodes"] == ["start", "hello", "bye", "done"]
    assert Path(data["run_dir"]).is_dir()


def test_failing_pipeline_exits_1(tmp_path: Path) -> None:
    """A pipeline that ends in FAIL exits 1 and says why."""
    code, out, _ = _run(tmp_path, FAILING, "--quiet")
    assert code == 1
    assert out.startswith("failed (tool_command exited with code 3")


def test_invalid_graph_exits_2_with_diagnostics(tmp_path: Path) -> None:
    """A graph that fails validation prints every diagnostic, like `attractor validate`."""
    code, _, err = _run(tmp_path, "digraph x { a [shape=box]; b [shape=box]; a -> b }\n")
    assert code == 2
    assert "error[start_node]" in err
    assert "error[terminal_node]" in err
    assert "add: start [shape=Mdiamond]" in err


def test_missing_file_exits_2(tmp_path: Path) -> None:
    """A DOT file that does not exist is invalid input."""
    code, _, err = _cli("run", str(tmp_path / "nope.dot"))
    assert code == 2
    assert "nope.dot: no such file" in err


@pytest.mark.parametrize(
    ("option", "content", "message"),
    [
        ("--backend", None, "unknown backend 'magic'"),
        ("--backend", '{"hello": 3}', "at $.hello"),
        ("--answers", "[1]", "must be a JSON object"),
    ],
)
def test_bad_backend_script_or_answers_exit_2(
    tmp_path: Path, option: str, content: str | None, message: str
) -> None:
    """An unknown backend, a malformed script or answers file: a clear error and exit 2."""
    value = "magic"
    if content is not None:
        file = tmp_path / "input.json"
        file.write_text(content)
        value = f"scripted:{file}" if option == "--backend" else str(file)
    code, _, err = _run(tmp_path, LINEAR, option, value)
    assert code == 2
    assert message in err


def test_resume_of_a_directory_that_is_not_a_run_exits_2(tmp_path: Path) -> None:
    """Resuming a directory without events.jsonl names the problem and gives a hint."""
    code, _, err = _cli("resume", str(tmp_path))
    assert code == 2
    assert "not a run directory" in err
    assert "hint:" in err


def test_status_json_fields(finished: Path) -> None:
    """`status --json` gives run id, status, nodes, retries, questions, times and counts."""
    code, out, _ = _cli("status", str(finished), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["run_id"] == finished.name
    assert data["status"] == "succeeded"
    assert data["completed_nodes"] == ["start", "hello", "bye", "done"]
    assert data["current"] == {}
    assert data["pending_questions"] == []
    assert data["event_count"] == data["last_seq"] > 0
    assert data["started_at"] <= data["finished_at"]


def test_status_text(finished: Path) -> None:
    """Plain `status` prints one labelled line per fact."""
    code, out, _ = _cli("status", str(finished))
    assert code == 0
    assert "status   succeeded" in out
    assert "done     start, hello, bye, done" in out


def test_replay_until_shows_the_state_at_that_seq(finished: Path) -> None:
    """`replay --until` stops early and shows where the run stood."""
    code, out, _ = _cli("replay", str(finished), "--until", "5")
    assert code == 0
    assert "identical: 5 event(s)" in out
    assert "current  hello [run]" in out


def test_replay_json(finished: Path) -> None:
    """`replay --json` reports identity, the event count and whether it ended early."""
    code, out, _ = _cli("replay", str(finished / "events.jsonl"), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["identical"] is True
    assert data["ended_early"] is False
    assert data["events"] == data["summary"]["event_count"]


def _rechain(log: Path, node: str, response: str) -> None:
    """Rewrite a log with one stage's response changed and a valid hash chain."""
    codec, prev, lines = LineCodec(), GENESIS, []
    for e in read_log(log):
        event = e.event
        if isinstance(event, StageCompleted) and event.node == node:
            event = msgspec.structs.replace(event, response=response)
        line, prev = codec.encode(e.seq, e.at, e.stream, event, prev)
        lines.append(line)
    log.write_bytes(b"\n".join(lines) + b"\n")


def test_replay_of_a_modified_log_exits_1_with_a_report(finished: Path) -> None:
    """A log whose recorded behaviour differs from the engine's: exit 1, expected vs actual."""
    _rechain(finished / "events.jsonl", "bye", "tampered")
    code, _, err = _cli("replay", str(finished))
    assert code == 1
    assert "non-determinism at seq" in err
    assert 'response: expected "tampered"' in err


def test_corrupt_log_exits_2_and_is_left_untouched(finished: Path) -> None:
    """A broken hash chain: replay, resume, status and project exit 2; the log is unchanged."""
    log = finished / "events.jsonl"
    damaged = log.read_bytes().replace(b'"reason":"weight"', b'"reason":"wxight"', 1)
    log.write_bytes(damaged)
    for command in ("replay", "resume", "status", "project"):
        code, _, err = _cli(command, str(finished))
        assert code == 2, command
        assert "hash chain broken" in err
    assert log.read_bytes() == damaged


def test_fork_continues_live_in_a_new_run(finished: Path, tmp_path: Path) -> None:
    """`fork --at` starts a new run sharing the prefix; it finishes and names its source."""
    code, out, _ = _cli("fork", str(finished), "--at", "9", "--logs-root", str(tmp_path / "f"))
    assert code == 0
    fork = _run_dir(out)
    assert fork.parent == tmp_path / "f"
    manifest = json.loads((fork / "manifest.json").read_text())
    assert manifest["forked_from"] == {"run_id": finished.name, "at_seq": 9}
    data = json.loads(_cli("status", str(fork), "--json")[1])
    assert data["forked_from"] == f"{finished.name}@9"
    assert data["status"] == "succeeded"


def test_fork_outside_the_log_exits_2(finished: Path) -> None:
    """--at beyond the log is invalid input."""
    code, _, err = _cli("fork", str(finished), "--at", "999")
    assert code == 2
    assert "outside the log" in err


def test_resume_finishes_a_run_cut_short(finished: Path) -> None:
    """A log cut after a few events resumes to the end; projections are complete again."""
    log = finished / "events.jsonl"
    log.write_bytes(b"".join(log.read_bytes().splitlines(keepends=True)[:8]))
    code, out, _ = _cli("resume", str(finished), "--quiet")
    assert code == 0
    assert out.startswith("succeeded")
    assert json.loads((finished / "manifest.json").read_text())["status"] == "succeeded"


def test_project_rebuilds_deleted_files(finished: Path) -> None:
    """`project` rewrites every projection from the log."""
    before = (finished / "checkpoint.json").read_bytes()
    (finished / "checkpoint.json").unlink()
    code, out, _ = _cli("project", str(finished))
    assert code == 0
    assert "rebuilt" in out
    assert (finished / "checkpoint.json").read_bytes() == before


def test_answers_file_drives_a_human_gate(tmp_path: Path) -> None:
    """--answers answers the gate by stage id; the chosen branch runs."""
    answers = tmp_path / "answers.json"
    answers.write_text('{"gate": "N"}')
    code, out, _ = _run(tmp_path, GATE, "--answers", str(answers), "--json")
    assert code == 0
    assert json.loads(out)["completed_nodes"] == ["start", "gate", "done"]


def test_live_view_renders_counts_and_current_nodes(finished: Path) -> None:
    """The rich panel shows done/running/pending counts and the stages seen so far."""
    projector = Projector()
    console = Console(file=io.StringIO(), force_terminal=True, color_system=None, width=100)
    view = RunView("live", lambda: projector.state, console)
    log = list(read_log(finished / "events.jsonl"))[:9]
    for entry in log:
        projector(entry)
        view(entry)
    console.print(view.render())
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "done 2" in text
    assert "running 1" in text
    assert "pending" in text
    assert "hello" in text


# -- real processes ------------------------------------------------------------------------


def test_subprocess_run_and_replay_of_the_smoke_example(tmp_path: Path) -> None:
    """`python -m attractor run` succeeds end to end and `replay` reproduces it exactly."""
    ran = _python("run", str(SMOKE), "--auto-approve", "--logs-root", "runs", cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    run_dir = _run_dir(ran.stdout)
    replayed = _python("replay", str(run_dir), cwd=tmp_path)
    assert replayed.returncode == 0, replayed.stderr
    assert "identical: 21 event(s) reproduced byte for byte; the run finished" in replayed.stdout


def test_subprocess_failure_syntax_error_and_changed_pipeline(tmp_path: Path) -> None:
    """Exit 1 for a failing pipeline, 2 with the syntax error for bad DOT, and a replay
    against a changed DOT file reports where behaviour changes."""
    failing = _python("run", str(_dot(tmp_path, FAILING, "f.dot")), "-q", cwd=tmp_path)
    assert failing.returncode == 1
    bad = _python("run", str(_dot(tmp_path, "digraph x { a -> \n", "bad.dot")), cwd=tmp_path)
    assert bad.returncode == 2
    assert "bad.dot:2:1: error: unexpected end of input" in bad.stderr
    ok = _python("run", str(_dot(tmp_path, LINEAR, "lin.dot")), "-q", cwd=tmp_path)
    changed = _dot(tmp_path, LINEAR.replace("Say bye", "Say goodbye"), "lin2.dot")
    diverged = _python("replay", str(_run_dir(ok.stdout)), "--pipeline", str(changed), cwd=tmp_path)
    assert diverged.returncode == 1
    assert 'prompt: expected "Say bye"' in diverged.stderr
    assert 'actual   "Say goodbye"' in diverged.stderr


def test_subprocess_console_interviewer_reads_stdin(tmp_path: Path) -> None:
    """Without --answers or --auto-approve, the console interviewer asks and reads the reply."""
    ran = _python("run", str(_dot(tmp_path, GATE)), "--json", cwd=tmp_path, stdin="Y\n")
    assert ran.returncode == 0, ran.stderr
    assert "Ship it?" in ran.stderr
    assert json.loads(ran.stdout)["completed_nodes"] == ["start", "gate", "shipped", "done"]


def test_answers_that_fit_no_choice_exit_2_before_the_run(tmp_path: Path) -> None:
    """An answers file whose reply matches no option of its gate is refused up front."""
    answers = tmp_path / "answers.json"
    answers.write_text('{"gate": "Z"}')
    code, _, err = _run(tmp_path, GATE, "--answers", str(answers))
    assert code == 2
    assert "'Z' is not an option" in err
    assert "[Y] Yes" in err
    assert not (tmp_path / "runs").exists()


def test_replay_of_a_fork_is_identical(finished: Path, tmp_path: Path) -> None:
    """A fork's log replays byte for byte, like any other run's."""
    code, out, _ = _cli("fork", str(finished), "--at", "9", "--logs-root", str(tmp_path / "f"))
    assert code == 0
    code, _, err = _cli("replay", str(_run_dir(out)))
    assert code == 0, err


def test_loop_restart_continues_in_a_linked_run(tmp_path: Path) -> None:
    """A loop_restart edge ends the run as `restarted`; the new run finishes and names it."""
    loop = """digraph l {
      start [shape=Mdiamond]; a [shape=box, prompt=A]; b [shape=box, prompt=B]
      done [shape=Msquare]
      start -> a; a -> b [loop_restart=true]; b -> done
    }"""
    code, out, _ = _run(tmp_path, loop)
    assert code == 0
    assert "a: loop restart at b" in out
    last = _run_dir(out)
    data = json.loads(_cli("status", str(last), "--json")[1])
    first = tmp_path / "runs" / data["parent_run"]
    assert data["completed_nodes"] == ["b", "done"]
    assert "restart  at b, in a new linked run" in _cli("status", str(first))[1]


def test_torn_last_line_is_a_warning_not_an_error(finished: Path) -> None:
    """A crash mid-write leaves a torn last line: status and replay warn and carry on."""
    with (finished / "events.jsonl").open("ab") as log:
        log.write(b'{"seq":99,"at":"2026')
    code, out, err = _cli("status", str(finished))
    assert code == 0
    assert "status   succeeded" in out
    assert "is torn" in err
    code, out, _ = _cli("replay", str(finished))
    assert code == 0
    assert "identical" in out


def test_plain_view_reports_retries(tmp_path: Path) -> None:
    """A retried attempt prints its own line with the next attempt number and the reason."""
    script = tmp_path / "script.json"
    script.write_text(
        '{"hello": [{"outcome": {"outcome": "retry", "failure_reason": "flaky"}},'
        ' {"response": "hi"}]}'
    )
    code, out, _ = _run(tmp_path, LINEAR.replace('prompt="Say hi', 'max_retries=1, prompt="Say hi'),
                        "--backend", f"scripted:{script}")  # fmt: skip
    assert code == 0
    assert "hello: retry, retrying (attempt 2) - flaky" in out
    assert "1 retry(ies)" in out


def test_interviewer_pauses_the_live_panel() -> None:
    """While a question is asked the live panel is stopped, and started again after."""
    events: list[str] = []

    class Inner:
        async def ask(self, question: Question) -> Answer:
            events.append(f"ask live={view._live is not None and view._live.is_started}")
            return Answer(value="Y")

    console = Console(file=io.StringIO(), force_terminal=True, color_system=None)
    view = RunView("live", lambda: RunState(), console)
    view.start()
    try:
        asker = PausingInterviewer(Inner(), view)  # type: ignore[arg-type]
        question = Question(id="q", text="Go?", kind="yes_no")
        answer = asyncio.run(asker.ask(question))
        events.append(f"after live={view._live is not None and view._live.is_started}")
    finally:
        view.stop()
    assert answer.value == "Y"
    assert events == ["ask live=False", "after live=True"]


def test_replay_never_runs_the_shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Replaying a run with a tool stage answers the command from the log: it does not run."""
    monkeypatch.chdir(tmp_path)
    tool = """digraph t {
      start [shape=Mdiamond]
      mark [shape=parallelogram, tool_command="echo ran >> marker.txt"]
      done [shape=Msquare]
      start -> mark -> done
    }"""
    code, out, _ = _run(tmp_path, tool, "--quiet")
    assert code == 0
    assert (tmp_path / "marker.txt").read_text() == "ran\n"
    code, _, _ = _cli("replay", str(_run_dir(out)))
    assert code == 0
    assert (tmp_path / "marker.txt").read_text() == "ran\n"
