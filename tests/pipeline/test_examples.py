"""Every example in `examples/` runs through `start_run` and ends as examples/README.md says."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from attractor.dot import apply_transforms, parse_dot
from attractor.pipeline.model import StageStatus
from attractor.pipeline.run import RunOptions, RunResult, replay_run, start_run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# example -> (options, completed nodes of the top-level run)
CASES: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {
    "linear": ({}, ("start", "gather", "draft", "polish", "done")),
    "branching": (
        {"backend": "scripted:branching.script.json"},
        ("start", "lint", "fix", "test", "route", "fast", "done"),
    ),
    "retries": (
        {"backend": "scripted:retries.script.json"},
        ("start", "fetch", "mirror", "report", "done"),
    ),
    "goal_gate": (
        {},
        ("start", "prepare", "build", "report", "prepare", "build", "report", "done"),
    ),
    "human_gate": (
        {"answers": "human_gate.answers.json"},
        ("start", "write", "review", "revise", "review", "publish", "done"),
    ),
    "parallel": ({}, ("start", "fan", "pick", "summarise", "done")),
    "manager": ({}, ("start", "supervise", "report", "done")),
    "tools": ({}, ("start", "hello", "note", "check", "recover", "done")),
    "stylesheet": ({}, ("start", "outline", "write", "review", "pinned", "done")),
    "fidelity": ({}, ("start", "draft", "critique", "revise", "final", "done")),
    "smoke": ({}, ("start", "plan", "implement", "review", "done")),
}


def run_example(name: str, tmp_path: Path) -> RunResult:
    """Run one example as examples/README.md shows (paths relative to examples/)."""
    options, _ = CASES[name]
    resolved = {
        k: (f"scripted:{EXAMPLES / v.split(':', 1)[1]}" if k == "backend" else str(EXAMPLES / v))
        for k, v in options.items()
    }
    opts = RunOptions(logs_root=str(tmp_path / "runs"), fsync=False, **resolved)  # type: ignore[arg-type]
    return asyncio.run(start_run(EXAMPLES / f"{name}.dot", opts))


def test_every_example_is_listed() -> None:
    """Each .dot in examples/ (except child pipelines) has a case and a README row."""
    readme = (EXAMPLES / "README.md").read_text()
    dots = {p.stem for p in EXAMPLES.glob("*.dot")} - {"manager_child"}
    assert dots == set(CASES)
    for name in dots:
        assert f"examples/{name}.dot" in readme


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_runs_as_documented(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example succeeds with the documented path and replays byte for byte."""
    monkeypatch.chdir(tmp_path)
    result = run_example(name, tmp_path)
    assert result.stopped == "done"
    assert result.state.finished is not None
    assert result.state.finished.status == StageStatus.SUCCESS
    top = result.state.top()
    assert top is not None
    assert top.completed == CASES[name][1]
    assert asyncio.run(replay_run(result.run_dir)).stopped == "done"


def test_retries_example_details(tmp_path: Path) -> None:
    """fetch took three attempts; mirror ended partial_success."""
    top = run_example("retries", tmp_path).state.top()
    assert top is not None
    assert top.outcomes["mirror"].status == StageStatus.PARTIAL_SUCCESS
    assert top.outcomes["fetch"].status == StageStatus.SUCCESS


def test_parallel_example_picks_security(tmp_path: Path) -> None:
    """The heuristic fan-in picks the lexically first successful branch."""
    top = run_example("parallel", tmp_path).state.top()
    assert top is not None
    assert top.context["parallel.fan_in.best_id"] == "security"


def test_stylesheet_example_models() -> None:
    """Shape, class, id and explicit attribute resolve as documented."""
    graph = apply_transforms(parse_dot((EXAMPLES / "stylesheet.dot").read_text()))
    models = {
        n: graph.nodes[n].attrs.get("llm_model") for n in ("outline", "write", "review", "pinned")
    }
    assert models == {
        "outline": "gemini-3-flash-preview",
        "write": "claude-sonnet-4-5",
        "review": "claude-opus-4-6",
        "pinned": "gpt-5.2",
    }


def test_tools_example_wrote_into_its_stage_dir(tmp_path: Path) -> None:
    """`note` wrote note.txt into its own stage directory."""
    result = run_example("tools", tmp_path)
    assert (result.run_dir / "note" / "note.txt").read_text() == "noted\n"


def _readme_commands() -> list[str]:
    """The `attractor run …` command lines of the README table."""
    import re

    readme = (EXAMPLES / "README.md").read_text()
    return re.findall(r"`(attractor run [^`]+)`", readme)


@pytest.mark.parametrize("command", _readme_commands())
def test_readme_command_line_works(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each README command, run from the repository root through the CLI, exits 0."""
    import shlex

    from typer.testing import CliRunner

    from attractor.cli._app import _register, app

    _register()
    monkeypatch.chdir(EXAMPLES.parent)
    args = [*shlex.split(command)[1:], "--logs-root", str(tmp_path / "runs"), "--quiet"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "runs").iterdir())) == 1
