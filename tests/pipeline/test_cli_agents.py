"""CLI-agent backends (`claude-code`, `codex`, `gemini-cli`): each CLI's documented stream read
into the stage's reply, run against stand-in executables that print those formats — success,
the CLI's own failure, a malformed line, a stream cut short, a hang past the stage timeout (the
whole process group stopped), the executable missing — and from `attractor run` end to end, where
replay never starts the CLI again."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from attractor.agent.external import (
    ClaudeStream,
    CliAgentRequest,
    CodexStream,
    GeminiStream,
    argv_for,
    find_executable,
    parser_for,
)
from attractor.pipeline.agent_backends import CliAgentBackend
from attractor.pipeline.backends import (
    BackendSpecError,
    NodeChoiceBackend,
    SimulationBackend,
    backend_from_spec,
)
from attractor.pipeline.model import CodergenCall, StageStatus

STANDIN = Path(__file__).with_name("cli_agent_standin.py")
KINDS = {"claude-code": "claude", "codex": "codex", "gemini-cli": "gemini"}
ANSWER = "Done: hello.txt says hi."


@pytest.fixture
def standins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """`claude`, `codex` and `gemini` stand-ins first on PATH; the env the backend sees."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    body = f"#!{sys.executable}\n" + STANDIN.read_text()
    for name in KINDS.values():
        exe = bin_dir / name
        exe.write_text(body)
        exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("STANDIN_LOG", str(tmp_path / "starts.log"))
    for variable in (
        "ATTRACTOR_CLAUDE_CODE_BIN",
        "ATTRACTOR_CODEX_BIN",
        "ATTRACTOR_GEMINI_CLI_BIN",
    ):
        monkeypatch.delenv(variable, raising=False)
    return dict(os.environ)


def _call(stage_dir: Path, **attrs: str) -> CodergenCall:
    return CodergenCall(
        node_id="implement",
        prompt="Make hello.txt say hi",
        attempt=1,
        stage_dir=str(stage_dir),
        node_attrs=attrs,
    )


def _work(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return work


def _starts(tmp_path: Path) -> int:
    log = tmp_path / "starts.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


# --- the streams, line by line (pure) ------------------------------------------------------


def test_claude_stream_reads_text_tools_usage_and_cost() -> None:
    parser = ClaudeStream()
    lines = [
        {"type": "system", "subtype": "init", "session_id": "s"},
        {
            "type": "assistant",
            "message": {
                "content": [
                    {"type": "text", "text": "a"},
                    {"type": "tool_use", "name": "Bash", "input": {"command": "ls"}},
                ]
            },
        },
        {
            "type": "result",
            "subtype": "success",
            "is_error": False,
            "result": "final",
            "total_cost_usd": 0.5,
            "usage": {"input_tokens": 3, "output_tokens": 4, "cache_creation_input_tokens": 2},
        },
    ]
    steps = [step for line in lines for step in parser.feed(json.dumps(line))]
    assert [(s.kind, s.tool) for s in steps] == [("text", ""), ("tool_call", "Bash")]
    end = parser.finish()
    assert (end.ok, end.final_text, end.session_id, end.cost_usd) == (True, "final", "s", 0.5)
    assert end.usage == {"input_tokens": 5, "output_tokens": 4, "cache_write_tokens": 2}


def test_codex_turn_failed_is_a_failure_with_its_message() -> None:
    parser = CodexStream()
    for line in (
        {"type": "thread.started", "thread_id": "t"},
        {"type": "item.completed", "item": {"type": "agent_message", "text": "trying"}},
        {"type": "turn.failed", "error": {"message": "usage limit reached"}},
    ):
        parser.feed(json.dumps(line))
    end = parser.finish()
    assert (end.ok, end.error, end.final_text, end.session_id) == (
        False,
        "usage limit reached",
        "trying",
        "t",
    )


def test_gemini_deltas_join_into_the_final_answer() -> None:
    parser = GeminiStream()
    for line in (
        {"type": "message", "role": "assistant", "content": "Hel", "delta": True},
        {"type": "message", "role": "assistant", "content": "lo", "delta": True},
        {"type": "result", "status": "success", "stats": {"input_tokens": 9}},
    ):
        parser.feed(json.dumps(line))
    end = parser.finish()
    assert (end.ok, end.final_text, end.usage) == (True, "Hello", {"input_tokens": 9})


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_lines_that_are_not_json_objects_are_noted_not_fatal(kind: str) -> None:
    parser = parser_for(kind)
    for line in ("Loaded cached credentials.", "[1, 2]", "", '{"type": "unknown.kind"}'):
        assert parser.feed(line) == []
    end = parser.finish()
    assert end.malformed == (1, 2)
    assert not end.ok
    assert "ended without a final result" in end.error
    assert "lines not JSON: 1, 2" in end.error


def test_argv_follows_each_cli_documented_non_interactive_mode() -> None:
    def argv(kind: str) -> list[str]:
        request = CliAgentRequest(kind=kind, prompt="P", cwd=".", model="m1", extra_args=("-x",))
        return argv_for(request, "/bin/" + KINDS[kind])

    assert argv("claude-code") == [
        "/bin/claude",
        "-p",
        "P",
        "--output-format",
        "stream-json",
        "--verbose",
        "--permission-mode",
        "acceptEdits",
        "--model",
        "m1",
        "-x",
    ]
    assert argv("codex") == [
        "/bin/codex",
        "exec",
        "--json",
        "--full-auto",
        "--skip-git-repo-check",
        "--model",
        "m1",
        "--",
        "P",
        "-x",
    ]
    assert argv("gemini-cli") == [
        "/bin/gemini",
        "-p",
        "P",
        "--output-format",
        "stream-json",
        "--approval-mode",
        "auto_edit",
        "-m",
        "m1",
        "-x",
    ]


# --- the backends against stand-in executables --------------------------------------------


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_success_edits_the_workdir_and_answers(
    kind: str, tmp_path: Path, standins: dict[str, str]
) -> None:
    work = _work(tmp_path)
    backend = CliAgentBackend(kind, workdir=str(work))
    reply = asyncio.run(backend.run(_call(tmp_path / "stage", llm_model="m9")))
    assert reply.outcome is None  # the engine reads status.json, else success
    assert reply.response == ANSWER
    assert reply.usage == {"input_tokens": 120, "output_tokens": 30, "cache_read_tokens": 50}
    assert (work / "hello.txt").read_text() == "hi\n"
    started = json.loads((tmp_path / "starts.log").read_text().splitlines()[0])
    assert started[0] == KINDS[kind]
    assert "m9" in started
    transcript = (tmp_path / "stage" / "transcript.md").read_text()
    assert "Make hello.txt say hi" in transcript
    assert "The session succeeded." in transcript


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("claude-code", "could not edit"),
        ("codex", "model refused the edit"),
        ("gemini-cli", "quota exhausted"),
    ],
)
def test_the_cli_own_failure_fails_the_stage_with_its_message(
    kind: str,
    message: str,
    tmp_path: Path,
    standins: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STANDIN_MODE", "fail")
    reply = asyncio.run(
        CliAgentBackend(kind, workdir=str(_work(tmp_path))).run(_call(tmp_path / "stage"))
    )
    assert reply.outcome is not None
    assert reply.outcome.status is StageStatus.FAIL
    assert message in reply.outcome.failure_reason


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_banner_line_is_tolerated_and_noted(
    kind: str, tmp_path: Path, standins: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STANDIN_MODE", "malformed")
    reply = asyncio.run(
        CliAgentBackend(kind, workdir=str(_work(tmp_path))).run(_call(tmp_path / "stage"))
    )
    assert reply.outcome is None
    assert reply.response == ANSWER
    assert "not JSON: [1]" in (tmp_path / "stage" / "transcript.md").read_text()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_stream_cut_short_fails_naming_the_bad_line_and_exit_status(
    kind: str, tmp_path: Path, standins: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STANDIN_MODE", "truncated")
    reply = asyncio.run(
        CliAgentBackend(kind, workdir=str(_work(tmp_path))).run(_call(tmp_path / "stage"))
    )
    assert reply.outcome is not None
    assert reply.outcome.status is StageStatus.FAIL
    assert "ended without a final result (lines not JSON: 1)" in reply.outcome.failure_reason


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_hang_past_the_timeout_stops_the_whole_process_group(
    kind: str, tmp_path: Path, standins: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pids = tmp_path / "pids"
    monkeypatch.setenv("STANDIN_MODE", "hang")
    monkeypatch.setenv("STANDIN_PIDS", str(pids))
    backend = CliAgentBackend(kind, workdir=str(_work(tmp_path)))
    reply = asyncio.run(backend.run(_call(tmp_path / "stage", timeout="1s")))
    assert reply.outcome is not None
    assert reply.outcome.status is StageStatus.FAIL
    assert f"{kind} did not finish within 1s" in reply.outcome.failure_reason
    leader, child = (int(p) for p in pids.read_text().split())
    assert _gone(leader)
    for _ in range(100):  # the orphaned child gets SIGTERM with its group; wait for it to exit
        if _gone(child):
            break
        asyncio.run(asyncio.sleep(0.05))
    if not _gone(child):
        os.kill(child, signal.SIGKILL)
        pytest.fail("the agent's child outlived the stage timeout")


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_missing_executable_is_a_clear_error_naming_it(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BackendSpecError, match=f"'{KINDS[kind]}' was not found on PATH"):
        backend_from_spec(kind)
    reply = asyncio.run(CliAgentBackend(kind).run(_call(tmp_path / "stage")))
    assert reply.outcome is not None
    assert reply.outcome.status is StageStatus.FAIL
    assert f"the {kind} executable '{KINDS[kind]}' was not found" in reply.outcome.failure_reason


def test_an_override_variable_points_at_another_executable(
    tmp_path: Path, standins: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    codex = find_executable("codex")
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    monkeypatch.setenv("ATTRACTOR_CODEX_BIN", codex)
    assert find_executable("codex") == codex


def test_secrets_are_filtered_from_the_agent_env_except_its_provider_key(
    tmp_path: Path, standins: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    names = tmp_path / "env.json"
    monkeypatch.setenv("STANDIN_ENV", str(names))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai-0123456789")
    monkeypatch.setenv("DEPLOY_TOKEN", "deploy-0123456789abcdef")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-0123456789abcdef")
    asyncio.run(
        CliAgentBackend("codex", workdir=str(_work(tmp_path))).run(_call(tmp_path / "stage"))
    )
    seen = set(json.loads(names.read_text()))
    assert "OPENAI_API_KEY" in seen
    assert not seen & {"DEPLOY_TOKEN", "ANTHROPIC_API_KEY"}


def test_a_node_attribute_picks_the_cli_agent_for_that_node(
    tmp_path: Path, standins: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(_work(tmp_path))
    chooser = NodeChoiceBackend(SimulationBackend())
    plain = asyncio.run(chooser.run(_call(tmp_path / "a")))
    assert plain.response.startswith("[Simulated]")
    picked = asyncio.run(chooser.run(_call(tmp_path / "b", backend="gemini-cli")))
    assert picked.response == ANSWER
    unknown = asyncio.run(chooser.run(_call(tmp_path / "c", backend="nope")))
    assert unknown.outcome is not None
    assert "node 'implement' has backend='nope': unknown backend" in unknown.outcome.failure_reason


# --- end to end from the CLI -----------------------------------------------------------------

PIPELINE = """digraph factory {
  start [shape=Mdiamond]
  implement [shape=box, prompt="Make hello.txt say hi"]
  check [shape=parallelogram, tool_command="grep -q hi hello.txt"]
  done [shape=Msquare]
  start -> implement -> check -> done
}
"""


def _attractor(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "attractor", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=10)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.parametrize("kind", ["codex", "claude-code"])
def test_attractor_run_with_a_cli_agent_end_to_end_and_replay_never_starts_it(
    kind: str, tmp_path: Path, standins: dict[str, str]
) -> None:
    work = _work(tmp_path)
    (work / "p.dot").write_text(PIPELINE)
    env = {**standins, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    runs = tmp_path / "runs"
    done = _attractor(
        "run", "p.dot", "--backend", kind, "--logs-root", str(runs), cwd=work, env=env
    )
    assert done.returncode == 0, done.stderr
    assert (work / "hello.txt").read_text() == "hi\n"
    run_dir = next(runs.iterdir())
    assert (run_dir / "implement" / "response.md").read_text().strip() == ANSWER
    assert "The session succeeded." in (run_dir / "implement" / "transcript.md").read_text()
    assert _starts(tmp_path) == 1
    again = _attractor("replay", str(run_dir), cwd=work, env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert _starts(tmp_path) == 1


def test_attractor_run_with_a_missing_cli_agent_exits_2_naming_it(
    tmp_path: Path, standins: dict[str, str]
) -> None:
    work = _work(tmp_path)
    (work / "p.dot").write_text(PIPELINE)
    env = {
        **standins,
        "PATH": str(Path(sys.executable).parent),
        "PYTHONPATH": str(Path(__file__).parents[2] / "src"),
    }
    done = _attractor(
        "run",
        "p.dot",
        "--backend",
        "gemini-cli",
        "--logs-root",
        str(tmp_path / "runs"),
        cwd=work,
        env=env,
    )
    assert done.returncode == 2
    assert "'gemini' was not found on PATH" in done.stderr
    assert "ATTRACTOR_GEMINI_CLI_BIN" in done.stderr
    assert "Traceback" not in done.stderr
