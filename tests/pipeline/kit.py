"""Test kit for the pipeline engine: run a DOT source in memory with scripted effects.

`run_dot(source, ...)` drives a `PipelineMachine` on a `MemoryStore` with a `FakeInterpreter`
whose responders answer codergen calls, human questions, shell commands and file effects from
plain Python data — so every engine behaviour can be checked without touching the world.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from attractor.effects import (
    Answer,
    AskHuman,
    Call,
    Called,
    DrawRandom,
    EffectError,
    FakeInterpreter,
    FileRead,
    FileWritten,
    HumanAnswered,
    RandomDrawn,
    ReadFile,
    RunShell,
    ShellRan,
    WriteFile,
    drive,
    replay,
)
from attractor.effects.replay import Recording
from attractor.events import Entry, MemoryStore
from attractor.pipeline.events import RunFinished, RunStarted
from attractor.pipeline.handlers import HandlerRegistry
from attractor.pipeline.machine import PipelineMachine
from attractor.pipeline.model import CodergenCall, CodergenReply, Outcome, RunConfig, StageStatus
from attractor.pipeline.state import RunState
from attractor.pipeline.threads import ThreadBook

Reply = CodergenReply | Callable[[CodergenCall], CodergenReply]


def clock() -> Callable[[], str]:
    """A deterministic store clock (one second a line)."""
    n = 0

    def now() -> str:
        nonlocal n
        n += 1
        return f"2026-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}.000000Z"

    return now


def started(
    source: str,
    *,
    backend: str = "scripted",
    run_dir: str = "/runs/r1",
    max_node_executions: int = 10_000,
    dot_path: str = "/pipelines/p.dot",
    run_id: str = "r1",
    start_at: str = "",
) -> RunStarted:
    """A `run.started` event for an in-memory run of `source`."""
    return RunStarted(
        run_id=run_id,
        name="t",
        goal="",
        dot_source=source,
        dot_digest=hashlib.sha256(source.encode()).hexdigest(),
        dot_path=dot_path,
        config=RunConfig(
            run_dir=run_dir,
            workdir="/work",
            backend=backend,
            max_node_executions=max_node_executions,
        ),
        attractor_version="test",
        start_at=start_at,
    )


def reply(status: str | None = None, response: str = "ok", **fields: Any) -> CodergenReply:
    """A codergen reply, with an outcome when `status` is given."""
    outcome = Outcome(status=StageStatus(status), **fields) if status else None
    return CodergenReply(response=response, outcome=outcome)


@dataclass
class World:
    """Scripted answers for every effect the engine may ask for, and what it asked."""

    replies: Mapping[str, Sequence[Reply]] = field(default_factory=dict)
    answers: Sequence[Answer | str] = ()
    shell: Callable[[RunShell], ShellRan | EffectError] | None = None
    files: dict[str, str] = field(default_factory=dict)
    functions: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    by_attempt: bool = False  # pick replies by the call's attempt, not by how many came before
    random_value: float | None = None  # answer every DrawRandom with this
    calls: list[CodergenCall] = field(default_factory=list)
    questions: list[Any] = field(default_factory=list)
    commands: list[RunShell] = field(default_factory=list)
    writes: list[WriteFile] = field(default_factory=list)
    book: ThreadBook = field(default_factory=ThreadBook)  # fills `full` history, as run.py does
    _attempts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _answer_i: int = 0

    def codergen(self, request: Call) -> Called | EffectError:
        """Answer a `Call("codergen")` from `replies` (the last reply repeats); other names
        from `functions`."""
        if request.name != "codergen":
            fn = self.functions.get(request.name)
            if fn is None:
                return EffectError(kind="not_found", message=f"no function {request.name!r}")
            return Called(value=fn(request.args))
        call = self.book.expand(msgspec.convert(request.args, CodergenCall))
        self.calls.append(call)
        script = self.replies.get(call.node_id) or self.replies.get("*")
        if not script:
            return Called(value=msgspec.to_builtins(CodergenReply(response=f"re {call.node_id}")))
        i = call.attempt - 1 if self.by_attempt else self._attempts[call.node_id]
        self._attempts[call.node_id] += 1
        r = script[min(i, len(script) - 1)]
        value = r(call) if callable(r) else r
        return Called(value=msgspec.to_builtins(value))

    def ask(self, request: AskHuman) -> HumanAnswered:
        """Answer questions in order (the last answer repeats)."""
        self.questions.append(request.question)
        if not self.answers:
            return HumanAnswered(answer=Answer(value="", skipped=True))
        a = self.answers[min(self._answer_i, len(self.answers) - 1)]
        self._answer_i += 1
        return HumanAnswered(answer=a if isinstance(a, Answer) else Answer(value=a))

    def run_shell(self, request: RunShell) -> ShellRan | EffectError:
        """Answer shell commands with `shell`, else exit 0 echoing the command."""
        self.commands.append(request)
        if self.shell is not None:
            return self.shell(request)
        return ShellRan(exit_code=0, stdout=f"ran {request.command}", stderr="", duration_ms=1)

    def write(self, request: WriteFile) -> FileWritten:
        """Record a file write in `files`."""
        self.writes.append(request)
        content = request.content if isinstance(request.content, str) else ""
        old = self.files.get(request.path, "") if request.append else ""
        self.files[request.path] = old + content
        return FileWritten(path=request.path, size=len(content))

    def read(self, request: ReadFile) -> FileRead | EffectError:
        """Read from `files`."""
        if request.path not in self.files:
            return EffectError(kind="not_found", message=f"{request.path}: no such file")
        text = self.files[request.path]
        return FileRead(content=text, size=len(text))

    def interpreter(self, seed: int = 0) -> FakeInterpreter:
        """A fake interpreter answering from this world."""
        responders: dict[type[Any], Callable[[Any], Any]] = {
            Call: self.codergen,
            AskHuman: self.ask,
            RunShell: self.run_shell,
            WriteFile: self.write,
            ReadFile: self.read,
        }
        if self.random_value is not None:
            value = self.random_value
            responders[DrawRandom] = lambda _: RandomDrawn(value=value)
        return FakeInterpreter(responders, seed=seed)


@dataclass
class Ran:
    """A finished in-memory run."""

    state: RunState
    store: MemoryStore
    world: World
    fake: FakeInterpreter
    stopped: str

    @property
    def entries(self) -> list[Entry]:
        """Every entry of the log."""
        return list(self.store.entries())

    def events(self, kind: type[Any] | tuple[type[Any], ...]) -> list[Any]:
        """The events of one kind, in log order."""
        return [e.event for e in self.store.entries() if isinstance(e.event, kind)]

    def where(self, kind: type[Any]) -> list[tuple[str, Any]]:
        """(stream, event) of one kind, in log order."""
        return [(e.stream, e.event) for e in self.store.entries() if isinstance(e.event, kind)]

    @property
    def finished(self) -> RunFinished:
        """The `run.finished` event."""
        (event,) = self.events(RunFinished)
        return event

    @property
    def outcome(self) -> Outcome:
        """The run's outcome."""
        return self.finished.outcome

    @property
    def completed(self) -> tuple[str, ...]:
        """The completed nodes of the top traversal."""
        return self.finished.completed_nodes

    @property
    def context(self) -> dict[str, Any]:
        """The top traversal's final context."""
        top = self.state.top()
        assert top is not None
        return dict(top.context)


def run_dot(
    source: str,
    world: World | None = None,
    *,
    registry: HandlerRegistry | None = None,
    store: MemoryStore | None = None,
    max_steps: int | None = None,
    seed: int = 0,
    **start: Any,
) -> Ran:
    """Drive `source` to the end (or `max_steps` appends) in memory."""
    world = world or World()
    store = store if store is not None else MemoryStore(clock())
    first = next(iter(store.entries()), None)
    if first is not None:
        machine = PipelineMachine.from_log([first], registry)
    else:
        machine = PipelineMachine(started(source, **start), registry)
    fake = world.interpreter(seed)
    for entry in store.entries():
        world.book(entry)
    result = asyncio.run(drive(machine, store, fake, max_steps=max_steps, observe=world.book))
    return Ran(result.state, store, world, fake, result.stopped)


def replay_lines(lines: Sequence[bytes], registry: HandlerRegistry | None = None) -> str:
    """Replay an in-memory log; returns how it stopped (raises on divergence)."""
    rec = Recording.from_lines(lines)
    first = next(iter(Recording.from_lines(lines[:1]).peek() or ()), None)
    assert isinstance(first, Entry)
    machine = PipelineMachine.from_log([first], registry)
    return asyncio.run(replay(machine, rec)).stopped


def ok(stdout: str = "", code: int = 0) -> Callable[[RunShell], ShellRan]:
    """A shell responder with a fixed result."""

    def respond(_: RunShell) -> ShellRan:
        return ShellRan(exit_code=code, stdout=stdout, stderr="", duration_ms=1)

    return respond
