"""Server layer (async shell): the runs this server drives — start, resume, fork, cancel, pause.

Rule: an action starts the very driver the CLI uses (`start_run`, `resume_run`, `fork_run`),
in this process, as one asyncio task per run; several run at once. Each drive gets the
projector (so the run directory holds the same files as after `attractor run`), the run's
feed as observer (the server's views fold each entry once, with the engine's state), a
`ParkingInterviewer` (questions wait for `POST .../answer`), a pause gate around the engine,
and a delta sink (streamed LLM text goes to the run's SSE clients, never to the log).

Cancel and pause are driver controls (ADR 0183): cancel stops the drive now — effects in
flight are abandoned and done again on resume (at least once, as after a crash); pause stops
at the next node boundary. Neither writes to the log, so both leave a log that `attractor
resume` (or `POST .../resume`, or unpause) continues exactly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec

from attractor.effects import deltas
from attractor.events import Entry
from attractor.pipeline.backends import (
    BackendSpecError,
    CodergenBackend,
    LlmBackend,
    ScriptFileError,
    backend_from_spec,
)
from attractor.pipeline.events import RunForked, RunStarted, StageStarted
from attractor.pipeline.interviewers import Interviewer, ParkingInterviewer
from attractor.pipeline.machine import PipelineMachine
from attractor.pipeline.projector import Projector
from attractor.pipeline.run import (
    RunOptions,
    RunResult,
    fork_run,
    interviewer_for,
    resume_run,
    start_run,
)
from attractor.server._feed import FeedHub, RunFeed
from attractor.server._pause import PauseGate
from attractor.server._problems import ProblemError

_log = logging.getLogger("attractor.server")
_START_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 10.0
Drive = Callable[
    [list[Callable[[Entry], None]], Interviewer | None, Any, CodergenBackend], Awaitable[RunResult]
]


class LiveRun:
    """A drive in progress (or just ended) in this process."""

    def __init__(self, parking: ParkingInterviewer) -> None:
        self.run_id = ""
        self.feed: RunFeed | None = None
        self.parking = parking
        self.gate: PauseGate | None = None
        self.task: asyncio.Task[RunResult] | None = None
        self.control = "running"  # running | pausing | paused | cancelled | stopped | done
        self.error = ""
        self.ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    @property
    def active(self) -> bool:
        """Whether the drive is still going."""
        return self.task is not None and not self.task.done()

    def wrap(self, machine: PipelineMachine) -> PauseGate:
        """The pause gate around this drive's engine (a node starts at `stage.started`)."""
        self.gate = PauseGate(machine, lambda event: isinstance(event, StageStarted))
        return self.gate

    def publish(self, delta: deltas.Delta) -> None:
        """Hand a streamed delta to the run's SSE clients."""
        if self.feed is not None:
            self.feed.publish_delta(delta)


class RunManager:
    """Every run this server drives, by run id."""

    def __init__(self, hub: FeedHub, logs_root: Path, *, fsync: bool = True) -> None:
        self.hub = hub
        self.logs_root = logs_root
        self.fsync = fsync
        self.live: dict[str, LiveRun] = {}

    def get(self, run_id: str) -> LiveRun | None:
        """The drive of `run_id` in this process, now or stopped by a control (a drive that
        ran to its end is forgotten: its log says everything)."""
        live = self.live.get(run_id)
        return live if live is not None and live.run_id == run_id else None

    def driving(self, run_id: str) -> bool:
        """Whether this process is driving `run_id` now (not: a run it loop-restarted from)."""
        live = self.get(run_id)
        return live is not None and live.active

    # --- starting drives

    async def start(self, dot_path: Path, options: RunOptions) -> str:
        """Start a new run of `dot_path`; returns its id once `run.started` is in its log."""
        options = msgspec.structs.replace(options, logs_root=str(self.logs_root), fsync=self.fsync)

        def drive(observers: list[Any], asker: Interviewer | None, wrap: Any, backend: Any) -> Any:
            return start_run(
                dot_path,
                options,
                observers=observers,
                interviewer=asker,
                wrap=wrap,
                backend=backend,
            )

        human = None if options.auto_approve else "parking"
        return await self._launch(drive, options.backend, Projector(), human)

    async def resume(self, run_id: str, run_dir: Path, options: RunOptions) -> str:
        """Continue a stopped run (also: unpause)."""
        self._refuse_if_driving(run_id)
        human = None if (options.auto_approve or options.answers) else "parking"

        def drive(observers: list[Any], asker: Interviewer | None, wrap: Any, backend: Any) -> Any:
            chosen = asker or interviewer_for(options)
            return resume_run(
                run_dir, observers=observers, interviewer=chosen, wrap=wrap, backend=backend
            )

        projector = Projector(run_dir)
        return await self._launch(drive, options.backend, projector, human, run_id=run_id)

    async def fork(self, run_dir: Path, at: int, options: RunOptions) -> str:
        """A new run sharing the first `at` events of `run_dir`, continued live."""
        human = None if (options.auto_approve or options.answers) else "parking"

        def drive(observers: list[Any], asker: Interviewer | None, wrap: Any, backend: Any) -> Any:
            chosen = asker or interviewer_for(options)
            return fork_run(
                run_dir,
                at,
                logs_root=self.logs_root,
                observers=observers,
                interviewer=chosen,
                wrap=wrap,
                backend=backend,
            )

        return await self._launch(drive, options.backend, Projector(), human)

    async def _launch(
        self, drive: Drive, spec: str, projector: Projector, human: str | None, run_id: str = ""
    ) -> str:
        try:
            backend = backend_from_spec(spec)
        except (BackendSpecError, ScriptFileError) as exc:
            raise ProblemError(
                422, "bad-backend", f"the run's backend cannot work: {exc}"
            ) from None
        live = LiveRun(ParkingInterviewer())
        if run_id:
            self._bind(live, run_id)

        def observe(entry: Entry) -> None:
            event = entry.event
            if (isinstance(event, RunStarted) and entry.seq == 1) or isinstance(event, RunForked):
                self._bind(live, event.run_id)
            if live.feed is not None:
                live.feed.observe(entry, projector.state)

        interviewer = live.parking if human else None

        async def run() -> RunResult:
            try:
                with deltas.deltas_to(live.publish):
                    return await drive([projector, observe], interviewer, live.wrap, backend)
            finally:
                if isinstance(backend, LlmBackend):  # its HTTP connections end with the drive
                    await backend.inner.client.close()

        live.task = asyncio.create_task(run())
        live.task.add_done_callback(lambda task: self._ended(live, task, projector))
        try:
            return await asyncio.wait_for(asyncio.shield(live.ready), _START_TIMEOUT_S)
        except TimeoutError:
            raise ProblemError(503, "start-timeout", "the run did not start in time") from None

    def _bind(self, live: LiveRun, run_id: str) -> None:
        """Attach the drive to `run_id` (its first event, a fork's `run.forked`, a restart)."""
        if live.feed is not None:
            live.feed.driven = False
            live.feed.poke()
        live.run_id = run_id
        live.feed = self.hub.feed(run_id)
        live.feed.driven = True
        self.live[run_id] = live
        if not live.ready.done():
            live.ready.set_result(run_id)

    def _ended(self, live: LiveRun, task: asyncio.Task[RunResult], projector: Projector) -> None:
        projector.flush()
        if task.cancelled():
            live.control = "paused" if live.control == "pausing" else "cancelled"
        elif (exc := task.exception()) is not None:
            live.control, live.error = "stopped", f"{type(exc).__name__}: {exc}"
            if not live.ready.done():
                live.ready.set_exception(_start_problem(exc))
            else:
                _log.warning("run %s stopped: %s", live.run_id, live.error)
        else:
            gate = live.gate
            live.control = "paused" if gate is not None and gate.paused else "done"
        if not live.ready.done():
            live.ready.set_exception(ProblemError(500, "not-started", "the run never started"))
        if live.feed is not None:
            live.feed.driven = False
            live.feed.poke()
            live.feed.wake()
        if live.control == "done":  # nothing to remember: the log says how it ended
            for run_id in [k for k, v in self.live.items() if v is live]:
                del self.live[run_id]

    # --- controls

    def _refuse_if_driving(self, run_id: str) -> None:
        if self.driving(run_id):
            raise ProblemError(409, "run-active", f"run {run_id} is already running here")

    def _active(self, run_id: str, action: str) -> LiveRun:
        live = self.get(run_id)
        if live is None or not live.active:
            raise ProblemError(
                409,
                "run-not-active",
                f"cannot {action} run {run_id}: this server is not driving it",
                hint="only runs started or resumed by this server can be controlled here",
            )
        return live

    async def cancel(self, run_id: str) -> LiveRun:
        """Stop the drive now (resume continues it; effects in flight are done again)."""
        live = self._active(run_id, "cancel")
        live.control = "cancelled"
        await self._stop(live)
        return live

    async def pause(self, run_id: str) -> LiveRun:
        """Stop at the next node boundary; a run waiting only on humans stops at once."""
        live = self._active(run_id, "pause")
        if live.gate is None:
            raise ProblemError(409, "run-not-active", f"run {run_id} has not started its engine")
        live.gate.pause()
        live.control = "pausing"
        if live.gate.idle:
            await self._stop(live)
        return live

    async def _stop(self, live: LiveRun) -> None:
        assert live.task is not None
        live.task.cancel()
        await asyncio.wait([live.task], timeout=_STOP_TIMEOUT_S)

    def answer(self, run_id: str, question_id: str, reply: str) -> Any:
        """Answer a parked question of a run this server drives."""
        live = self._active(run_id, "answer a question of")
        return live.parking.answer(question_id, reply)

    async def aclose(self) -> None:
        """Stop every drive (the logs stay resumable)."""
        running = [live for live in self.live.values() if live.active]
        for live in running:
            live.control = "stopped"
            assert live.task is not None
            live.task.cancel()
        if running:
            await asyncio.wait([lv.task for lv in running if lv.task], timeout=_STOP_TIMEOUT_S)


def _start_problem(exc: BaseException) -> ProblemError:
    """Why a run could not start, as a problem (a bad graph is 422 with its diagnostics)."""
    diagnostics = list(getattr(exc, "diagnostics", ()))
    hint = getattr(exc, "hint", "") or ""
    if diagnostics:
        return ProblemError(422, "invalid-pipeline", str(exc), diagnostics=diagnostics, hint=hint)
    return ProblemError(422, "cannot-start", f"the run could not start: {exc}", hint=hint)
