"""With ATTRACTOR_LOG_KEY set, runs are MAC-chained and `log verify`, `resume` and `replay`
reject a re-hashed log naming its first bad line (issue 8, point 3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from attractor.cli._app import _register, app
from tests.events.test_keyed_log import _rehash_plain
from tests.pipeline.test_paths import PIPELINE, _crash_before_t
from tests.pipeline.test_run_shell import tool

KEY = "a-log-key-for-the-cli-tests-0042"
runner = CliRunner()
_register()


def _cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def keyed_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A run made with the log key set (the key stays set for the test)."""
    monkeypatch.setenv("ATTRACTOR_LOG_KEY", KEY)
    dot = tmp_path / "p.dot"
    dot.write_text(PIPELINE)
    code, out, err = _cli("run", str(dot), "--logs-root", str(tmp_path / "runs"), "--quiet")
    assert code == 0, err
    return Path(out.rsplit("run directory: ", 1)[1].split()[0])


def test_keyed_run_verifies_as_keyed(keyed_run: Path) -> None:
    """`log verify` with the key says the MAC chain is intact."""
    code, out, _ = _cli("log", "verify", str(keyed_run))
    assert code == 0
    assert "MAC chain (keyed)" in out
    assert b',"mac":"' in (keyed_run / "events.jsonl").read_bytes()


def test_verify_rejects_a_rehashed_log_naming_line_one(keyed_run: Path) -> None:
    """A log edited and re-hashed without the key: exit 1, `events.jsonl:1: not keyed`."""
    _rehash_plain(keyed_run / "events.jsonl", edit_line=4)
    code, _, err = _cli("log", "verify", str(keyed_run))
    assert code == 1
    assert "events.jsonl:1: not keyed" in err


def test_resume_rejects_a_rehashed_log(keyed_run: Path) -> None:
    """resume refuses it too (exit 2), naming the line, and leaves the log as it is."""
    _crash_before_t(keyed_run)
    _rehash_plain(keyed_run / "events.jsonl", edit_line=4)
    before = (keyed_run / "events.jsonl").read_bytes()
    code, _, err = _cli("resume", str(keyed_run))
    assert code == 2
    assert "events.jsonl:1: not keyed" in err
    assert (keyed_run / "events.jsonl").read_bytes() == before


def test_replay_rejects_a_rehashed_log(keyed_run: Path) -> None:
    """replay refuses it (exit 2), naming the line."""
    _rehash_plain(keyed_run / "events.jsonl")
    code, _, err = _cli("replay", str(keyed_run))
    assert code == 2
    assert "events.jsonl:1: not keyed" in err


def test_edit_inside_a_keyed_log_is_named(keyed_run: Path) -> None:
    """An edit that keeps the MACs breaks the chain at the edited line."""
    log = keyed_run / "events.jsonl"
    lines = log.read_bytes().splitlines()
    lines[3] = lines[3].replace(b'"run"', b'"run" ', 1)
    log.write_bytes(b"\n".join(lines) + b"\n")
    code, _, err = _cli("log", "verify", str(keyed_run))
    assert code == 1
    assert "events.jsonl:4: MAC chain broken" in err


def test_keyed_log_without_the_key(keyed_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the key, a keyed log is refused with a hint to set it (status: exit 2)."""
    monkeypatch.delenv("ATTRACTOR_LOG_KEY")
    code, _, err = _cli("log", "verify", str(keyed_run))
    assert code == 1
    assert "ATTRACTOR_LOG_KEY" in err
    code, _, err = _cli("status", str(keyed_run))
    assert code == 2
    assert "keyed" in err


def test_tools_do_not_see_the_log_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The key is filtered from tool environments and never recorded."""
    monkeypatch.setenv("ATTRACTOR_LOG_KEY", KEY)
    dot = tmp_path / "env.dot"
    dot.write_text(tool("env"))
    code, _, err = _cli("run", str(dot), "--logs-root", str(tmp_path / "runs"), "--quiet")
    assert code == 0, err
    files = [p for p in (tmp_path / "runs").rglob("*") if p.is_file()]
    assert any(b"PATH=" in p.read_bytes() for p in files)
    assert [p for p in files if KEY.encode() in p.read_bytes()] == []
