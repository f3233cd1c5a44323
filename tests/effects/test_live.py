"""The live interpreter: shell, files, user functions, blobs, and failures as data."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from attractor.effects import (
    AskHuman,
    Call,
    Called,
    ClockRead,
    Effect,
    EffectError,
    EffectOutcome,
    FileRead,
    FileWritten,
    IdMade,
    LiveInterpreter,
    NewId,
    Question,
    ReadClock,
    ReadFile,
    RunShell,
    ShellRan,
    WriteFile,
)
from attractor.events import BlobRef, BlobStore


def _perform(tmp_path: Path, request: Effect, **kw: object) -> EffectOutcome:
    interp = LiveInterpreter(BlobStore(tmp_path / "blobs", threshold=1024), **kw)  # type: ignore[arg-type]
    return asyncio.run(interp.perform(request))


def test_shell_records_exit_code_and_both_streams(tmp_path: Path) -> None:
    """A command's exit code, stdout and stderr are all recorded."""
    out = _perform(tmp_path, RunShell(command="echo out; echo err >&2; exit 3"))
    assert isinstance(out, ShellRan)
    assert (out.exit_code, out.stdout, out.stderr, out.timed_out) == (3, "out\n", "err\n", False)


def test_shell_runs_in_cwd_with_added_env(tmp_path: Path) -> None:
    """`cwd` and `env` reach the command."""
    out = _perform(
        tmp_path,
        RunShell(command="pwd; echo $STAGE_DIR", cwd=str(tmp_path), env={"STAGE_DIR": "/s"}),
    )
    assert isinstance(out, ShellRan)
    assert out.stdout == f"{tmp_path}\n/s\n"


def test_shell_timeout_kills_the_process_group(tmp_path: Path) -> None:
    """A hanging command and its children are killed at the timeout and marked timed out."""
    marker = tmp_path / "child-survived"
    cmd = f"(sleep 2; touch {marker}) & echo started; sleep 30"
    out = _perform(tmp_path, RunShell(command=cmd, timeout_ms=300))
    assert isinstance(out, ShellRan)
    assert out.timed_out
    assert out.stdout == "started\n"
    assert out.duration_ms < 5000
    asyncio.run(asyncio.sleep(2.2))
    assert not marker.exists()


def test_large_output_goes_to_a_blob(tmp_path: Path) -> None:
    """Output above the threshold is stored by digest, not inline."""
    out = _perform(tmp_path, RunShell(command="head -c 5000 /dev/zero | tr '\\0' x"))
    assert isinstance(out, ShellRan)
    assert isinstance(out.stdout, BlobRef)
    assert BlobStore(tmp_path / "blobs").unpack(out.stdout) == "x" * 5000


def test_write_then_read_a_file(tmp_path: Path) -> None:
    """WriteFile creates parents; ReadFile reads the text back."""
    target = tmp_path / "a" / "b.txt"
    assert _perform(tmp_path, WriteFile(path=str(target), content="hi")) == FileWritten(
        path=str(target), size=2
    )
    assert _perform(tmp_path, ReadFile(path=str(target))) == FileRead(content="hi", size=2)


@pytest.mark.parametrize(
    ("make", "kind", "text"),
    [
        (lambda p: p / "missing.txt", "not_found", "no such file"),
        (lambda p: p, "invalid", "is a directory"),
    ],
)
def test_read_failures_are_data(tmp_path: Path, make, kind: str, text: str) -> None:  # type: ignore[no-untyped-def]
    """A missing file or a directory is an EffectError with a clear message, not an exception."""
    out = _perform(tmp_path, ReadFile(path=str(make(tmp_path))))
    assert isinstance(out, EffectError)
    assert out.kind == kind
    assert text in out.message


def test_binary_file_is_rejected_clearly(tmp_path: Path) -> None:
    """Non-UTF-8 content is an `invalid` error naming the file."""
    (tmp_path / "bin").write_bytes(b"\xff\xfe\x00")
    out = _perform(tmp_path, ReadFile(path=str(tmp_path / "bin")))
    assert isinstance(out, EffectError)
    assert "not UTF-8" in out.message


def test_call_runs_registered_sync_and_async_functions(tmp_path: Path) -> None:
    """User functions are called by name, sync or async."""

    async def triple(x: int) -> int:
        return x * 3

    calls = {"double": lambda x: x * 2, "triple": triple}
    assert _perform(tmp_path, Call(name="double", args=4), calls=calls) == Called(value=8)
    assert _perform(tmp_path, Call(name="triple", args=4), calls=calls) == Called(value=12)


def test_unknown_call_lists_known_names(tmp_path: Path) -> None:
    """Calling an unregistered function says which ones exist."""
    out = _perform(tmp_path, Call(name="nope"), calls={"double": abs})
    assert isinstance(out, EffectError)
    assert out.message == "no function 'nope' is registered (known: double)"


def test_effect_without_performer_is_unsupported(tmp_path: Path) -> None:
    """AskHuman without an interviewer fails as data, naming the effect."""
    out = _perform(tmp_path, AskHuman(question=Question(id="q1", text="ok?")))
    assert isinstance(out, EffectError)
    assert out.kind == "unsupported"
    assert "AskHuman" in out.message


def test_clock_and_ids_come_from_the_world(tmp_path: Path) -> None:
    """Clock readings are ISO UTC; ids are fresh and prefixed."""
    clock = _perform(tmp_path, ReadClock())
    assert isinstance(clock, ClockRead)
    assert clock.iso.endswith("Z")
    a, b = _perform(tmp_path, NewId(prefix="r-")), _perform(tmp_path, NewId(prefix="r-"))
    assert isinstance(a, IdMade)
    assert isinstance(b, IdMade)
    assert a.id.startswith("r-")
    assert a.id != b.id


def test_performer_exception_becomes_an_error_result(tmp_path: Path) -> None:
    """A bug in a performer is recorded as a failure instead of killing the run."""

    async def broken(_: object) -> EffectOutcome:
        raise RuntimeError("boom")

    async def go() -> tuple[str, EffectOutcome]:
        interp = LiveInterpreter(BlobStore(tmp_path), performers={AskHuman: broken})
        interp.start("run#q", AskHuman(question=Question(id="q", text="?")))
        return await interp.next_result()

    eid, outcome = asyncio.run(go())
    assert eid == "run#q"
    assert outcome == EffectError(kind="error", message="RuntimeError: boom")


def test_disk_full_inside_the_run_dir_stops_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC writing a file of the run itself is a RecordingError, not the effect's failure;
    outside the run directory it is the effect's failure (data)."""
    from attractor.events import RecordingError
    from tests.diskfull import FullDisk

    interp = LiveInterpreter(BlobStore(tmp_path / "run" / "blobs"))
    FullDisk(monkeypatch, "projection", ("write",))
    with pytest.raises(RecordingError, match="No space left"):
        asyncio.run(
            interp.perform(WriteFile(path=str(tmp_path / "run/a/status.json"), content="x"))
        )
    out = asyncio.run(
        interp.perform(WriteFile(path=str(tmp_path / "elsewhere/status.json"), content="x"))
    )
    assert isinstance(out, EffectError)
    assert "No space left" in out.message
