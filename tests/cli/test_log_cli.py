"""`attractor log show|verify`: output, filters, exit codes, and clear errors for bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attractor.cli._app import _register, app

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "logs" / "demo.jsonl"
runner = CliRunner()
_register()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_show_prints_every_event() -> None:
    """The table lists each event with its type and a summary line at the end."""
    code, out, _ = _run("log", "show", str(DEMO))
    assert code == 0
    assert "script.started" in out
    assert "effect.completed" in out
    assert "14 event(s) shown" in out


def test_show_filters_by_stream_and_type_as_json() -> None:
    """Globs select streams and types; --json prints one object per line."""
    code, out, _ = _run(
        "log", "show", str(DEMO), "--stream", "run/*", "--type", "effect.*", "--json"
    )
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows
    assert all(r["stream"].startswith("run/") and r["type"].startswith("effect.") for r in rows)
    assert {"seq", "at", "effect_id"} <= set(rows[0])


def test_verify_ok() -> None:
    """A sound log verifies with exit 0 and its count."""
    code, out, _ = _run("log", "verify", str(DEMO))
    assert code == 0
    assert "ok" in out
    assert "14 event(s)" in out


def test_verify_accepts_a_run_directory(tmp_path: Path) -> None:
    """A directory holding events.jsonl is accepted."""
    shutil.copy(DEMO, tmp_path / "events.jsonl")
    assert _run("log", "verify", str(tmp_path))[0] == 0


def test_verify_torn_tail_warns_and_passes(tmp_path: Path) -> None:
    """A torn last line is a warning, not a failure, and the file is not modified."""
    path = tmp_path / "events.jsonl"
    data = DEMO.read_bytes() + b'{"seq":15,"at":"2026'
    path.write_bytes(data)
    code, _out, err = _run("log", "verify", str(path))
    assert code == 0
    assert "line 15 is torn" in err
    assert path.read_bytes() == data


def test_verify_corrupt_names_line_and_exits_1(tmp_path: Path) -> None:
    """A changed line is reported with file:line and reason, exit 1."""
    lines = DEMO.read_bytes().splitlines()
    lines[4] = lines[4].replace(b"effect.completed", b"effect.complete")
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    code, _, err = _run("log", "verify", str(path))
    assert code == 1
    assert f"{path}:5: hash chain broken" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "message", "code"),
    [
        (b"", "the log holds no event", 1),
        (b"not json\n", "not an event line", 1),
        (None, "is a directory, not a log file", 2),
    ],
)
def test_bad_inputs_are_clear(
    tmp_path: Path, content: bytes | None, message: str, code: int
) -> None:
    """Empty, non-JSON, and directory inputs each give one clear line, never a traceback."""
    target = tmp_path / "events.jsonl" if content is not None else tmp_path
    if content is not None:
        target.write_bytes(content)
    got, _, err = _run("log", "verify", str(target))
    assert got == code
    assert message in err
    assert "Traceback" not in err


def test_version_from_a_real_process() -> None:
    """`python -m attractor --version` works as a real command."""
    out = subprocess.run(
        [sys.executable, "-m", "attractor", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("attractor ")


def test_verify_from_a_real_process(tmp_path: Path) -> None:
    """`python -m attractor log verify` exits 1 on a corrupt log, with the message on stderr."""
    path = tmp_path / "events.jsonl"
    path.write_bytes(DEMO.read_bytes().splitlines()[1] + b"\n")
    out = subprocess.run(
        [sys.executable, "-m", "attractor", "log", "verify", str(path)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1
    assert "events.jsonl:1: hash chain broken" in out.stderr
