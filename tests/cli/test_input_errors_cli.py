"""Typed errors, never tracebacks, for the CLI and log items of issue 8, point 5."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from attractor.cli._app import _register, app
from tests.cli.test_run_cli import GATE, LINEAR

runner = CliRunner()
_register()


def _cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def _dot(tmp_path: Path, text: str = LINEAR) -> Path:
    path = tmp_path / "p.dot"
    path.write_text(text)
    return path


@pytest.mark.parametrize("root", ["a-file", "/proc/self", "/proc/x/y"])
def test_logs_root_that_cannot_hold_runs(tmp_path: Path, root: str) -> None:
    """`--logs-root` naming a file or a place under /proc: one `error:` line, exit 2."""
    (tmp_path / "a-file").write_text("not a directory")
    where = str(tmp_path / root) if not root.startswith("/") else root
    code, _, err = _cli("run", str(_dot(tmp_path)), "--logs-root", where)
    assert code == 2
    assert err.startswith(f"error: --logs-root {where}: cannot create a run directory there")
    assert "Traceback" not in err


@pytest.mark.parametrize("command", ["run", "resume", "fork"])
def test_answers_and_auto_approve_are_exclusive(tmp_path: Path, command: str) -> None:
    """`--answers` with `--auto-approve` is a usage error (exit 2), before anything runs."""
    answers = tmp_path / "answers.json"
    answers.write_text('{"gate": "Y"}')
    target = str(_dot(tmp_path, GATE)) if command == "run" else str(tmp_path)
    extra = ["--at", "1"] if command == "fork" else []
    code, _, err = _cli(command, target, *extra, "--answers", str(answers), "--auto-approve")
    assert code == 2
    assert "--answers" in err
    assert "--auto-approve" in err
    assert not (tmp_path / "runs").exists()


def test_verify_of_garbage_without_a_newline_names_the_line(tmp_path: Path) -> None:
    """A file of garbage and no newline is not an empty log with a torn tail: exit 1, line 1."""
    garbage = tmp_path / "g.jsonl"
    garbage.write_bytes(b"garbage")
    code, out, err = _cli("log", "verify", str(garbage))
    assert code == 1
    assert out == ""
    assert err.startswith(f"error: {garbage}:1: not an event line")


def test_verify_of_garbage_after_good_lines(tmp_path: Path) -> None:
    """Garbage appended after complete lines is named at its own line."""
    code, _, _ = _cli("run", str(_dot(tmp_path)), "--logs-root", str(tmp_path / "r"), "-q")
    assert code == 0
    log = next((tmp_path / "r").iterdir()) / "events.jsonl"
    lines = log.read_bytes().count(b"\n")
    log.write_bytes(log.read_bytes() + b"hello world")
    code, _, err = _cli("log", "verify", str(log))
    assert code == 1
    assert f"events.jsonl:{lines + 1}: not an event line" in err


def test_verify_of_a_log_whose_only_line_is_torn(tmp_path: Path) -> None:
    """A crash while writing the very first event leaves no event: not "ok, 0 events"."""
    log = tmp_path / "events.jsonl"
    log.write_bytes(b'{"seq":1,"at":"2026-')
    code, out, err = _cli("log", "verify", str(log))
    assert code == 1
    assert "no complete event" in err
    assert not out.startswith("ok")


def test_show_of_an_empty_log_says_so(tmp_path: Path) -> None:
    """`log show` on an empty file: exit 1, saying it is empty (no event, not a run log)."""
    empty = tmp_path / "events.jsonl"
    empty.write_bytes(b"")
    code, _, err = _cli("log", "show", str(empty))
    assert code == 1
    assert "empty" in err
    code, _, err = _cli("log", "show", "--json", str(empty))
    assert code == 1


def test_show_with_a_filter_that_matches_nothing_is_fine(tmp_path: Path) -> None:
    """A filter matching no event is not an error: the log itself has events."""
    code, out, _ = _cli("run", str(_dot(tmp_path)), "--logs-root", str(tmp_path / "r"), "-q")
    assert code == 0
    run_dir = next((tmp_path / "r").iterdir())
    code, out, _ = _cli("log", "show", str(run_dir), "--type", "no.such.type")
    assert code == 0
    assert "0 event(s) shown" in out
