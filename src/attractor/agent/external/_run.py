"""Agent layer (async shell): run an installed CLI agent as a subprocess and read its stream.

Rule: the CLI runs in its own process group with stdin closed, in the working directory it is
given, with the environment's secrets filtered out except the variables its provider needs
(`KEY_VARIABLES`). Its stdout is read line by line into the kind's `StreamParser`; each step goes
to `on_step` as it happens (for live watchers). Past `timeout_s` the whole group gets SIGTERM,
then SIGKILL after a grace period, and is reaped: a hung agent never outlives its stage. A
missing executable is `CliAgentMissing`, naming it and how to point at another one.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import signal
from collections.abc import Callable, Mapping
from contextlib import suppress

import msgspec

from attractor.agent.external._streams import Step, Transcript, parser_for
from attractor.events.secrets import filter_env

KINDS = ("claude-code", "codex", "gemini-cli")
EXECUTABLES = {"claude-code": "claude", "codex": "codex", "gemini-cli": "gemini"}
OVERRIDE_VARIABLES = {
    "claude-code": "ATTRACTOR_CLAUDE_CODE_BIN",
    "codex": "ATTRACTOR_CODEX_BIN",
    "gemini-cli": "ATTRACTOR_GEMINI_CLI_BIN",
}
KEY_VARIABLES = {
    "claude-code": ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"),
    "codex": ("OPENAI_API_KEY", "CODEX_API_KEY"),
    "gemini-cli": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
}
KILL_GRACE_S = 2.0
LINE_LIMIT = 32 * 1024 * 1024  # one JSON line may carry a whole file the agent read
STDERR_TAIL = 2000

StepSink = Callable[[Step], None]


class CliAgentMissing(RuntimeError):
    """The CLI agent's executable is not installed (or the override names no file)."""

    def __init__(self, kind: str, executable: str) -> None:
        self.kind, self.executable = kind, executable
        variable = OVERRIDE_VARIABLES[kind]
        super().__init__(
            f"the {kind} executable {executable!r} was not found on PATH; install it, or set "
            f"{variable} to its path"
        )


class CliAgentRequest(msgspec.Struct, frozen=True, omit_defaults=True):
    """One non-interactive session of a CLI agent."""

    kind: str
    prompt: str
    cwd: str
    model: str = ""
    extra_args: tuple[str, ...] = ()
    timeout_s: float = 1800.0


def find_executable(kind: str, env: Mapping[str, str] | None = None) -> str:
    """The path of `kind`'s executable: the override variable, else PATH. Raises
    `CliAgentMissing`."""
    env = os.environ if env is None else env
    override = env.get(OVERRIDE_VARIABLES[kind], "").strip()
    name = override or EXECUTABLES[kind]
    found = shutil.which(name, path=env.get("PATH"))
    if found is None:
        raise CliAgentMissing(kind, name)
    return found


def argv_for(request: CliAgentRequest, executable: str) -> list[str]:
    """The documented non-interactive JSON-lines invocation of each CLI."""
    model = request.model
    match request.kind:
        case "claude-code":
            argv = [
                executable,
                "-p",
                request.prompt,
                "--output-format",
                "stream-json",
                "--verbose",
                "--permission-mode",
                "acceptEdits",
            ]
            argv += ["--model", model] if model else []
        case "codex":
            argv = [executable, "exec", "--json", "--full-auto", "--skip-git-repo-check"]
            argv += ["--model", model] if model else []
            argv += ["--", request.prompt]
        case "gemini-cli":
            argv = [
                executable,
                "-p",
                request.prompt,
                "--output-format",
                "stream-json",
                "--approval-mode",
                "auto_edit",
            ]
            argv += ["-m", model] if model else []
        case _:
            raise ValueError(f"unknown CLI agent {request.kind!r} (known: {', '.join(KINDS)})")
    return argv + list(request.extra_args)


def split_args(text: str) -> tuple[str, ...]:
    """Extra arguments written as one shell-quoted string (a node attribute)."""
    return tuple(shlex.split(text))


async def run_cli_agent(
    request: CliAgentRequest,
    *,
    env: Mapping[str, str] | None = None,
    on_step: StepSink | None = None,
) -> Transcript:
    """Run one session to its end (or its timeout) and return what its stream said."""
    base = os.environ if env is None else env
    executable = find_executable(request.kind, base)
    child_env = filter_env(base, KEY_VARIABLES[request.kind])
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv_for(request, executable),
            cwd=request.cwd or None,
            env=child_env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            limit=LINE_LIMIT,
        )
    except FileNotFoundError:
        raise CliAgentMissing(request.kind, executable) from None
    except PermissionError:
        raise CliAgentMissing(request.kind, f"{executable} (not executable)") from None
    parser = parser_for(request.kind)
    stderr = asyncio.ensure_future(_tail(proc.stderr))
    try:
        async with asyncio.timeout(request.timeout_s):
            await _read_stream(proc, parser.feed, on_step)
            await proc.wait()
    except TimeoutError:
        await _stop_group(proc)
        stderr.cancel()
        seen = parser.finish()
        reason = (
            f"{request.kind} did not finish within {request.timeout_s:g}s; its process group was "
            "stopped"
        )
        return msgspec.structs.replace(seen, ok=False, error=reason)
    except BaseException:
        await _stop_group(proc)
        stderr.cancel()
        raise
    tail = await stderr
    return _ended(request.kind, parser.finish(), proc.returncode or 0, tail)


async def _read_stream(
    proc: asyncio.subprocess.Process,
    feed: Callable[[str], list[Step]],
    on_step: StepSink | None,
) -> None:
    assert proc.stdout is not None
    while True:
        try:
            raw = await proc.stdout.readline()
        except ValueError:  # a line over LINE_LIMIT: count it as malformed and go on
            raw = b"\x00\n"
        if not raw:
            return
        for step in feed(raw.decode("utf-8", "replace")):
            if on_step is not None:
                on_step(step)


async def _tail(stream: asyncio.StreamReader | None) -> str:
    if stream is None:
        return ""
    data = await stream.read()
    return data.decode("utf-8", "replace")[-STDERR_TAIL:].strip()


def _ended(kind: str, seen: Transcript, code: int, stderr: str) -> Transcript:
    if code == 0:
        return seen
    detail = f": {stderr}" if stderr else ""
    error = seen.error or f"{kind} exited with status {code}{detail}"
    if seen.error and stderr:
        error += f" (stderr: {stderr})"
    return msgspec.structs.replace(seen, ok=False, error=error)


async def _stop_group(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM the agent's process group, SIGKILL it after `KILL_GRACE_S`, and reap it."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            await asyncio.wait_for(proc.wait(), KILL_GRACE_S)
            break
        except TimeoutError:
            continue
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers that outlived the leader
    await proc.wait()
