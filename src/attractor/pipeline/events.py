"""Pipeline layer (pure): the events of a pipeline run — the spec §9.6 kinds and the engine's own.

Rule: events are past-tense facts with stable tags. A run's whole state is the fold of these
events plus the effect events of `attractor.effects`; `run.started` embeds everything needed to
replay (the DOT source, its digest, the resolved config, the package version).
"""

from __future__ import annotations

from typing import Any

from attractor.events import Event
from attractor.pipeline.model import Outcome, RunConfig


class RunStarted(Event, frozen=True, tag="run.started"):
    """A run began (spec PipelineStarted). Everything replay needs is here."""

    run_id: str
    name: str
    goal: str
    dot_source: str
    dot_digest: str
    dot_path: str
    config: RunConfig
    attractor_version: str
    start_at: str = ""
    parent_run: str = ""


class RunForked(Event, frozen=True, tag="run.forked"):
    """This log is a fork: its first `at_seq` events were copied from `source_run`; from here on
    the run is `run_id`, living in `run_dir`."""

    run_id: str
    run_dir: str
    source_run: str
    at_seq: int


class StageStarted(Event, frozen=True, tag="stage.started"):
    """A node's handler began an attempt (spec StageStarted)."""

    node: str
    attempt: int
    index: int
    handler: str


class StageCompleted(Event, frozen=True, tag="stage.completed"):
    """A node finished with a final outcome (success, partial, skipped, or fail without retry).

    `prompt` and `response` are what a codergen stage sent and got (for `prompt.md` and
    `response.md`).
    """

    node: str
    attempt: int
    index: int
    outcome: Outcome
    prompt: str = ""
    response: str = ""
    thread_key: str = ""


class StageFailed(Event, frozen=True, tag="stage.failed"):
    """An attempt ended in RETRY or FAIL and the node will be tried again (spec StageFailed with
    will_retry=true). A final failure is a `stage.completed` with a FAIL outcome."""

    node: str
    attempt: int
    outcome: Outcome
    will_retry: bool = True


class StageRetrying(Event, frozen=True, tag="stage.retrying"):
    """The next attempt follows after `delay_ms` (the jittered delay actually chosen)."""

    node: str
    attempt: int
    delay_ms: int
    outcome: Outcome


class EdgeSelected(Event, frozen=True, tag="edge.selected"):
    """The engine chose where to go next, and why (spec §3.3 steps, failure routing, gates)."""

    source: str
    target: str
    label: str
    reason: str


class GoalGateUnsatisfied(Event, frozen=True, tag="goal_gate.unsatisfied"):
    """Exit was reached but a goal gate had not succeeded; the run jumps to `retry_target`."""

    gate: str
    retry_target: str


class CheckpointSaved(Event, frozen=True, tag="checkpoint.saved"):
    """A node boundary: the checkpoint projection is current up to here (spec CheckpointSaved)."""

    node: str


class InterviewStarted(Event, frozen=True, tag="interview.started"):
    """A question was put to a human (spec InterviewStarted)."""

    node: str
    question_id: str
    text: str


class InterviewCompleted(Event, frozen=True, tag="interview.completed"):
    """A human answered, or the question timed out (spec InterviewCompleted/InterviewTimeout)."""

    node: str
    question_id: str
    answer: str
    timed_out: bool = False


class ParallelStarted(Event, frozen=True, tag="parallel.started"):
    """A parallel node fanned out (spec ParallelStarted)."""

    node: str
    branches: tuple[str, ...]
    join_policy: str
    max_parallel: int


class BranchStarted(Event, frozen=True, tag="parallel.branch_started"):
    """One branch began on its own stream with a clone of the context."""

    node: str
    branch: str
    index: int
    stream: str
    target: str


class BranchCompleted(Event, frozen=True, tag="parallel.branch_completed"):
    """One branch reached its join point (or ended): its outcome and its context changes."""

    node: str
    branch: str
    index: int
    outcome: Outcome
    stopped_at: str
    context_changes: dict[str, Any] = {}


class ParallelCompleted(Event, frozen=True, tag="parallel.completed"):
    """The join policy is satisfied (spec ParallelCompleted)."""

    node: str
    success_count: int
    failure_count: int
    cancelled: tuple[str, ...] = ()


class ChildStarted(Event, frozen=True, tag="child.started"):
    """A manager loop started its child pipeline on its own stream."""

    node: str
    stream: str
    dot_path: str
    dot_source: str


class ChildFinished(Event, frozen=True, tag="child.finished"):
    """The child pipeline ended."""

    node: str
    stream: str
    outcome: Outcome


class LoopRestarted(Event, frozen=True, tag="run.loop_restarted"):
    """An edge with `loop_restart=true` ended this run; a new linked run starts at `target`."""

    source: str
    target: str


class RunFinished(Event, frozen=True, tag="run.finished"):
    """The run ended (spec PipelineCompleted / PipelineFailed)."""

    outcome: Outcome
    completed_nodes: tuple[str, ...]
