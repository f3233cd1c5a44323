"""Effects layer (async shell): the live interpreter — effects carried out in the world.

Rule: this is where the clock, randomness, ids, the shell and the filesystem are touched, and
nowhere in the core. Human questions, LLM calls and user functions are delegated to performers
that their layers register (`performers={AskHuman: ..., CallLlm: ...}`, `calls={"name": fn}`).

Secrets: every outcome — shell output (before it reaches the blob store), file contents,
performer and function results, error messages — is scrubbed of the registered secret values
and of the environment's sensitive values before the driver records it, so the log, the blobs
and the core only ever hold `<redacted>` (and replay, which reads the log, stays exact).
Commands inherit the environment without its sensitive variables (`filter_env`) except the
ones a request passes through by name.
"""

from __future__ import annotations

import asyncio
import errno
import os
import random
import signal
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from attractor.effects._types import (
    Call,
    Called,
    ClockRead,
    DrawRandom,
    Effect,
    EffectError,
    EffectOutcome,
    FileRead,
    FileWritten,
    IdMade,
    NewId,
    RandomDrawn,
    ReadClock,
    ReadFile,
    RunShell,
    ShellRan,
    Sleep,
    Slept,
    WriteFile,
)
from attractor.effects.interpreter import TaskInterpreter
from attractor.effects.paths import RunDir
from attractor.events import BlobStore, recording_error, write_all
from attractor.events.secrets import Scrubber, filter_env, register_secret, sensitive_values

Performer = Callable[[Any], Awaitable[EffectOutcome]]
UserFunction = Callable[[Any], Any]

_KILL_GRACE_S = 2.0
_HEAD_BYTES = 16 * 1024
_JSON = msgspec.json.Encoder()
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})  # the disk, not the effect, failed


class LiveInterpreter(TaskInterpreter):
    """Carries effects out for real.

    Args:
        blobs: where large outputs (shell stdout, file contents) are stored.
        performers: extra performers by request type (e.g. `AskHuman`, `CallLlm`).
        calls: user functions for `Call` effects, by name (sync or async).
        env: the environment commands inherit, before filtering (default: `os.environ` as it is
            when each command starts). Its sensitive values are registered as secrets.
        run_dir: the run directory the log's paths are rebased onto and confined to
            (`attractor.effects.paths`); None leaves paths as they are.
    """

    def __init__(
        self,
        blobs: BlobStore,
        *,
        performers: Mapping[type[Any], Performer] | None = None,
        calls: Mapping[str, UserFunction] | None = None,
        env: Mapping[str, str] | None = None,
        run_dir: RunDir | None = None,
    ) -> None:
        super().__init__()
        self.blobs = blobs
        self.performers = dict(performers or {})
        self.calls = dict(calls or {})
        self._env = env
        self.run_dir = run_dir
        for value in sensitive_values(os.environ if env is None else env):
            register_secret(value)
        self._scrubber = Scrubber()

    async def perform(self, request: Effect) -> EffectOutcome:
        """Carry `request` out; the outcome comes back scrubbed of every secret."""
        return self.finish(await self._dispatch(request))

    def finish(self, outcome: EffectOutcome) -> EffectOutcome:
        """The outcome without secret values (a cheap byte search first: usually none)."""
        data = _JSON.encode(outcome)
        if not any(_JSON.encode(v)[1:-1] in data for v in self._scrubber.values()):
            return outcome
        clean = self._scrubber.value(msgspec.to_builtins(outcome))
        return msgspec.convert(clean, type(outcome))

    def _text(self, raw: bytes) -> str:
        return self._scrubber.text(raw.decode("utf-8", "replace"))

    async def _dispatch(self, request: Effect) -> EffectOutcome:
        paths = self.run_dir
        custom = self.performers.get(type(request))
        if custom is not None:
            return await custom(request)
        match request:
            case ReadClock():
                now = time.time()
                iso = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                return ClockRead(unix_ms=int(now * 1000), iso=iso)
            case NewId(prefix=prefix):
                return IdMade(id=prefix + uuid.uuid4().hex)
            case DrawRandom(low=low, high=high):
                return RandomDrawn(value=random.uniform(low, high))
            case Sleep(ms=ms):
                await asyncio.sleep(ms / 1000)
                return Slept(ms=ms)
            case RunShell():
                return await self._shell(request if paths is None else paths.shell(request))
            case ReadFile():
                return self._read((request if paths is None else paths.file(request)).path)
            case WriteFile():
                return self._write(request if paths is None else paths.file(request))
            case Call(name=name, args=args):
                return await self._call(name, args)
            case _:
                return EffectError(
                    kind="unsupported",
                    message=f"no performer is registered for {type(request).__name__} effects",
                )

    async def _shell(self, req: RunShell) -> EffectOutcome:
        inherited = os.environ if self._env is None else self._env
        env = {**filter_env(inherited, req.env_passthrough), **req.env}
        started = time.monotonic()
        for directory in req.ensure_dirs:  # the run's own directories: failing is not the tool's
            try:
                Path(directory).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise recording_error(directory, "create a stage directory", exc) from None
        try:
            proc = await asyncio.create_subprocess_shell(
                req.command,
                cwd=req.cwd or None,
                env=env,
                stdin=asyncio.subprocess.PIPE if req.stdin else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            return EffectError(kind="not_found", message=f"cannot start command: {exc}")
        assert proc.stdout is not None
        assert proc.stderr is not None
        if req.stdin and proc.stdin is not None:
            proc.stdin.write(req.stdin.encode())
            proc.stdin.close()
        reads = asyncio.gather(proc.stdout.read(), proc.stderr.read())
        timed_out = False
        try:
            await asyncio.wait_for(proc.wait(), req.timeout_ms / 1000)
        except TimeoutError:
            timed_out = True
            await _kill_group(proc)
        except asyncio.CancelledError:
            await _kill_group(proc)
            reads.cancel()
            raise
        try:  # a grandchild that left the process group may hold the pipes open: bound the wait
            out, err = await asyncio.wait_for(reads, None if not timed_out else _KILL_GRACE_S)
        except TimeoutError:
            out, err = b"", b"(output lost: a process outside the group kept the pipes open)"
        text = self._text(out)
        stdout = self.blobs.pack(text)
        head = "" if isinstance(stdout, str) else _head(text)
        return ShellRan(
            exit_code=proc.returncode if proc.returncode is not None else -1,
            stdout=stdout,
            stdout_head=head,
            stderr=self.blobs.pack(self._text(err)),
            duration_ms=int((time.monotonic() - started) * 1000),
            timed_out=timed_out,
        )

    def _read(self, path: str) -> EffectOutcome:
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            return EffectError(kind="not_found", message=f"{path}: no such file")
        except PermissionError:
            return EffectError(kind="permission", message=f"{path}: permission denied")
        except IsADirectoryError:
            return EffectError(kind="invalid", message=f"{path}: is a directory")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return EffectError(kind="invalid", message=f"{path}: not UTF-8 text ({exc.reason})")
        return FileRead(content=self.blobs.pack(self._scrubber.text(text)), size=len(data))

    def _write(self, req: WriteFile) -> EffectOutcome:
        data = self.blobs.unpack(req.content).encode("utf-8")
        target = Path(req.path)
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if req.append else os.O_TRUNC)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(target, flags, 0o644)
            try:
                write_all(fd, data)
            finally:
                os.close(fd)
        except PermissionError:
            return EffectError(kind="permission", message=f"{req.path}: permission denied")
        except OSError as exc:
            if exc.errno in _FULL and self._in_run_dir(req.path):
                raise recording_error(req.path, "write a file of the run", exc) from None
            return EffectError(kind="error", message=f"{req.path}: {exc.strerror}")
        return FileWritten(path=req.path, size=len(data))

    def _in_run_dir(self, path: str) -> bool:
        """Whether `path` (already rebased) is a file of the run directory itself."""
        root = self.run_dir.actual if self.run_dir is not None else str(self.blobs.root.parent)
        return path == root or path.startswith(root.rstrip("/") + "/")

    async def _call(self, name: str, args: Any) -> EffectOutcome:
        fn = self.calls.get(name)
        if fn is None:
            known = ", ".join(sorted(self.calls)) or "none"
            return EffectError(
                kind="not_found", message=f"no function {name!r} is registered (known: {known})"
            )
        value = fn(args)
        if asyncio.iscoroutine(value):
            value = await value
        return Called(value=value)


def _head(text: str) -> str:
    """The first 16 KiB of a large output (cut at a character boundary)."""
    return text.encode()[:_HEAD_BYTES].decode("utf-8", "ignore")


async def _kill_group(proc: asyncio.subprocess.Process) -> None:
    """Stop a command and everything it started: SIGTERM, then SIGKILL after a grace period."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            await asyncio.wait_for(proc.wait(), _KILL_GRACE_S)
            return
        except TimeoutError:
            continue
