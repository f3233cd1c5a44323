"""Tool stages and backends never put a secret into a run directory (issue 8, point 1)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from attractor.events.secrets import REDACTED
from attractor.pipeline.model import CodergenCall, CodergenReply
from attractor.pipeline.projector import rebuild
from attractor.pipeline.run import RunOptions, RunResult, replay_run, start_run
from tests.pipeline.test_run_shell import tool

MARKER = "mk-tool-secret-5532-zyxwvu"


def _run(tmp_path: Path, source: str, spec: str = "simulate", **kwargs: object) -> RunResult:
    dot = tmp_path / "p.dot"
    dot.write_text(source)
    opts = RunOptions(logs_root=str(tmp_path / "runs"), fsync=False, backend=spec)
    return asyncio.run(start_run(dot, opts, **kwargs))  # type: ignore[arg-type]


def _hits(run_dir: Path) -> list[str]:
    return [str(p) for p in run_dir.rglob("*") if p.is_file() and MARKER.encode() in p.read_bytes()]


def test_tool_stage_does_not_inherit_sensitive_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tool_command does not see *_API_KEY variables of the environment by default."""
    monkeypatch.setenv("DEPLOY_API_KEY", MARKER)
    result = _run(tmp_path, tool("echo key=[$DEPLOY_API_KEY]"))
    top = result.state.top()
    assert top is not None
    assert top.context["tool.output"] == "key=[]\n"
    assert _hits(result.run_dir) == []


def test_passthrough_attribute_passes_a_named_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`tool_env_passthrough` hands the named variable to the command; its echo is scrubbed."""
    monkeypatch.setenv("DEPLOY_API_KEY", MARKER)
    command = 'test -n \\"$DEPLOY_API_KEY\\" && echo key=[$DEPLOY_API_KEY]'
    result = _run(tmp_path, tool(command, ', tool_env_passthrough="DEPLOY_API_KEY"'))
    top = result.state.top()
    assert top is not None
    assert top.context["tool.output"] == f"key=[{REDACTED}]\n"
    assert _hits(result.run_dir) == []


def test_graph_level_passthrough(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The graph attribute applies to every tool stage that sets none."""
    monkeypatch.setenv("NPM_TOKEN", MARKER)
    source = tool('test -n \\"$NPM_TOKEN\\"').replace(
        "digraph t {", 'digraph t { graph [tool_env_passthrough="NPM_TOKEN, OTHER_TOKEN"]'
    )
    result = _run(tmp_path, source)
    top = result.state.top()
    assert top is not None
    assert top.context["tool.exit_code"] == 0


def test_backend_echoing_a_key_leaves_no_trace_and_replays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A codergen backend that answers with a configured key is scrubbed before the log; the
    scrubbed run replays exactly."""
    monkeypatch.setenv("SOME_PROVIDER_API_KEY", MARKER)

    class Leaky:
        async def run(self, call: CodergenCall) -> CodergenReply:
            return CodergenReply(response=f"your key is {MARKER}")

    source = (
        'digraph x { start [shape=Mdiamond]; done [shape=Msquare]; a [prompt="a"]; '
        "start -> a -> done }"
    )
    result = _run(tmp_path, source, "llm", backend=Leaky())
    rebuild(result.run_dir)
    assert _hits(result.run_dir) == []
    assert f"your key is {REDACTED}" in (result.run_dir / "a" / "response.md").read_text()
    replayed = asyncio.run(replay_run(result.run_dir))
    assert replayed.stopped == "done"
