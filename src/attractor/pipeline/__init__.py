"""Pipeline layer: the Attractor engine — run state folded from events, a pure decider and pure
handlers, driven by the kernel's driver; plus the shell that starts, resumes, replays and forks
runs.
"""

from attractor.pipeline.events import (
    BranchCompleted,
    BranchStarted,
    CheckpointSaved,
    ChildFinished,
    ChildStarted,
    EdgeSelected,
    GoalGateUnsatisfied,
    InterviewCompleted,
    InterviewStarted,
    LoopRestarted,
    ParallelCompleted,
    ParallelStarted,
    RunFinished,
    RunForked,
    RunStarted,
    StageCompleted,
    StageFailed,
    StageRetrying,
    StageStarted,
)
from attractor.pipeline.handlers import (
    Done,
    Fork,
    Handler,
    HandlerInput,
    HandlerRegistry,
    Need,
    SpawnChild,
    builtin_registry,
)
from attractor.pipeline.machine import PipelineMachine
from attractor.pipeline.model import CodergenCall, CodergenReply, Outcome, RunConfig, StageStatus
from attractor.pipeline.state import RunState, Traversal

__all__ = [
    "BranchCompleted",
    "BranchStarted",
    "CheckpointSaved",
    "ChildFinished",
    "ChildStarted",
    "CodergenCall",
    "CodergenReply",
    "Done",
    "EdgeSelected",
    "Fork",
    "GoalGateUnsatisfied",
    "Handler",
    "HandlerInput",
    "HandlerRegistry",
    "InterviewCompleted",
    "InterviewStarted",
    "LoopRestarted",
    "Need",
    "Outcome",
    "ParallelCompleted",
    "ParallelStarted",
    "PipelineMachine",
    "RunConfig",
    "RunFinished",
    "RunForked",
    "RunStarted",
    "RunState",
    "SpawnChild",
    "StageCompleted",
    "StageFailed",
    "StageRetrying",
    "StageStarted",
    "StageStatus",
    "Traversal",
    "builtin_registry",
]
