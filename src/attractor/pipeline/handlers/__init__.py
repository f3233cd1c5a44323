"""Pipeline layer (pure): node handlers — the protocol, the registry and the nine built-ins."""

from attractor.pipeline.handlers.base import (
    BranchResult,
    ChildView,
    Done,
    Fork,
    Handler,
    HandlerInput,
    HandlerRegistry,
    Need,
    SpawnChild,
    Step,
    Thread,
    done,
)
from attractor.pipeline.handlers.basic import ConditionalHandler, ExitHandler, StartHandler
from attractor.pipeline.handlers.codergen import CodergenHandler
from attractor.pipeline.handlers.fan_in import FanInHandler
from attractor.pipeline.handlers.human import WaitForHumanHandler
from attractor.pipeline.handlers.manager import ManagerLoopHandler
from attractor.pipeline.handlers.parallel import ParallelHandler
from attractor.pipeline.handlers.tool import ToolHandler


def builtin_registry() -> HandlerRegistry:
    """A registry with the nine built-in handler types (spec §2.8)."""
    return HandlerRegistry(
        {
            "start": StartHandler(),
            "exit": ExitHandler(),
            "codergen": CodergenHandler(),
            "wait.human": WaitForHumanHandler(),
            "conditional": ConditionalHandler(),
            "parallel": ParallelHandler(),
            "parallel.fan_in": FanInHandler(),
            "tool": ToolHandler(),
            "stack.manager_loop": ManagerLoopHandler(),
        }
    )


__all__ = [
    "BranchResult",
    "ChildView",
    "CodergenHandler",
    "ConditionalHandler",
    "Done",
    "ExitHandler",
    "FanInHandler",
    "Fork",
    "Handler",
    "HandlerInput",
    "HandlerRegistry",
    "ManagerLoopHandler",
    "Need",
    "ParallelHandler",
    "SpawnChild",
    "StartHandler",
    "Step",
    "Thread",
    "ToolHandler",
    "WaitForHumanHandler",
    "builtin_registry",
    "done",
]
