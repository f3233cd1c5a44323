"""The live interpreter keeps secrets out of every result and out of commands' environments."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from attractor.effects import (
    Answer,
    AskHuman,
    Call,
    Called,
    Effect,
    EffectError,
    EffectOutcome,
    FileRead,
    HumanAnswered,
    LiveInterpreter,
    Question,
    ReadFile,
    RunShell,
    ShellRan,
)
from attractor.events import BlobRef, BlobStore
from attractor.events.secrets import REDACTED

SECRET = "sk-live-marker-4471-abcdefghijkl"
ENV = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "MARKER_API_KEY": SECRET, "PLAIN": "visible"}


def _perform(tmp_path: Path, request: Effect, **kw: Any) -> EffectOutcome:
    interp = LiveInterpreter(BlobStore(tmp_path / "blobs", threshold=1024), env=ENV, **kw)
    return asyncio.run(interp.perform(request))


def test_commands_do_not_inherit_sensitive_variables(tmp_path: Path) -> None:
    """*_API_KEY and friends are filtered from the inherited environment (spec §4.2)."""
    out = _perform(tmp_path, RunShell(command="env"))
    assert isinstance(out, ShellRan)
    assert isinstance(out.stdout, str)
    assert "PLAIN=visible" in out.stdout
    assert "MARKER_API_KEY" not in out.stdout


def test_passthrough_names_reach_the_command(tmp_path: Path) -> None:
    """A variable named in env_passthrough is inherited; its echoed value is still scrubbed."""
    out = _perform(
        tmp_path,
        RunShell(command='test -n "$MARKER_API_KEY" && echo "got $MARKER_API_KEY"',
                 env_passthrough=("MARKER_API_KEY",)),
    )  # fmt: skip
    assert isinstance(out, ShellRan)
    assert out.exit_code == 0
    assert out.stdout == f"got {REDACTED}\n"


def test_large_output_is_scrubbed_before_it_reaches_the_blob(tmp_path: Path) -> None:
    """A secret inside an output big enough for the blob store never reaches the blob file."""
    script = tmp_path / "big.txt"
    script.write_text(("x" * 100 + "\n") * 30 + SECRET + "\n")
    out = _perform(tmp_path, RunShell(command=f"cat {script}"))
    assert isinstance(out, ShellRan)
    assert isinstance(out.stdout, BlobRef)
    for blob in (tmp_path / "blobs").iterdir():
        assert SECRET.encode() not in blob.read_bytes()
    assert SECRET not in out.stdout_head


def test_file_reads_are_scrubbed(tmp_path: Path) -> None:
    """A file that quotes a secret is read back without it."""
    (tmp_path / "status.json").write_text(f'{{"notes": "{SECRET}"}}')
    out = _perform(tmp_path, ReadFile(path=str(tmp_path / "status.json")))
    assert out == FileRead(content=f'{{"notes": "{REDACTED}"}}', size=len(SECRET) + 13)


def test_performer_and_call_results_are_scrubbed(tmp_path: Path) -> None:
    """Results from registered performers and user functions are scrubbed deeply."""

    async def echo_key(_: object) -> EffectOutcome:
        return HumanAnswered(answer=Answer(value=SECRET, text=SECRET))

    calls = {"leak": lambda _: {"text": f"the key is {SECRET}", "n": [SECRET, 3]}}
    called = _perform(tmp_path, Call(name="leak"), calls=calls)
    assert called == Called(value={"text": f"the key is {REDACTED}", "n": [REDACTED, 3]})
    answered = _perform(
        tmp_path, AskHuman(question=Question(id="q", text="?")), performers={AskHuman: echo_key}
    )
    assert SECRET not in repr(answered)


def test_error_messages_are_scrubbed(tmp_path: Path) -> None:
    """A performer that fails quoting a secret records a scrubbed error."""

    async def broken(_: object) -> EffectOutcome:
        raise RuntimeError(f"auth failed for {SECRET}")

    async def go() -> EffectOutcome:
        interp = LiveInterpreter(BlobStore(tmp_path), performers={AskHuman: broken}, env=ENV)
        interp.start("run#q", AskHuman(question=Question(id="q", text="?")))
        return (await interp.next_result())[1]

    outcome = asyncio.run(go())
    assert isinstance(outcome, EffectError)
    assert outcome.message == f"RuntimeError: auth failed for {REDACTED}"
