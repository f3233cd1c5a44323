"""Pipeline layer (pure): the values every part of the engine shares — Outcome, StageStatus,
RunConfig, and the backend call that codergen nodes make.

Rule: these are plain frozen data. The status-file contract (spec Appendix C) is the JSON shape of
`Outcome`; `outcome_from_status_json` is the one place that parses it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import msgspec


class StageStatus(StrEnum):
    """How a stage ended (spec §5.2)."""

    SUCCESS = "success"
    PARTIAL_SUCCESS = "partial_success"
    RETRY = "retry"
    FAIL = "fail"
    SKIPPED = "skipped"

    @property
    def succeeded(self) -> bool:
        """SUCCESS and PARTIAL_SUCCESS count as success for routing and goal gates."""
        return self in (StageStatus.SUCCESS, StageStatus.PARTIAL_SUCCESS)


class Outcome(msgspec.Struct, frozen=True, omit_defaults=True):
    """The result of executing a node (spec §5.2); also the `status.json` shape (Appendix C)."""

    status: StageStatus
    preferred_label: str = ""
    suggested_next_ids: tuple[str, ...] = ()
    context_updates: dict[str, Any] = {}
    notes: str = ""
    failure_reason: str = ""


class StatusFileError(ValueError):
    """A `status.json` does not follow the status-file contract."""


class _StatusFile(msgspec.Struct, forbid_unknown_fields=False):
    outcome: str
    preferred_label: str = ""
    suggested_next_ids: list[str] = []
    context_updates: dict[str, Any] = {}
    notes: str = ""
    failure_reason: str = ""


def outcome_from_status_json(text: str) -> Outcome:
    """Parse a `status.json` written by a backend or an external tool (spec Appendix C)."""
    try:
        raw = msgspec.json.decode(text, type=_StatusFile)
    except msgspec.DecodeError as exc:
        raise StatusFileError(f"status.json is not valid: {exc}") from None
    try:
        status = StageStatus(raw.outcome.strip().lower())
    except ValueError:
        allowed = ", ".join(s.value for s in StageStatus)
        raise StatusFileError(
            f"status.json outcome {raw.outcome!r} is not one of {allowed}"
        ) from None
    return Outcome(
        status=status,
        preferred_label=raw.preferred_label,
        suggested_next_ids=tuple(raw.suggested_next_ids),
        context_updates=raw.context_updates,
        notes=raw.notes,
        failure_reason=raw.failure_reason,
    )


class RunConfig(msgspec.Struct, frozen=True, omit_defaults=True):
    """Everything about a run that is not in the DOT file, recorded in `run.started`.

    Never holds secrets. `backend` is `simulate`, `scripted` or `llm`.
    """

    run_dir: str
    workdir: str = ""
    backend: str = "simulate"
    max_node_executions: int = 10_000
    auto_approve: bool = False
    answers: str = ""  # the answers file (absolute path), so a resume answers the same way
    logs_root: str = ""
    extra: dict[str, str] = {}


class CodergenCall(msgspec.Struct, frozen=True, omit_defaults=True):
    """What a codergen node asks its backend (the `args` of a `Call(name="codergen")` effect)."""

    node_id: str
    prompt: str
    attempt: int
    stage_dir: str
    context: dict[str, Any] = {}
    node_attrs: dict[str, str] = {}
    purpose: str = "stage"  # "stage", or "fan_in" when ranking parallel candidates
    fidelity: str = "compact"
    thread_key: str = ""
    preamble: str = ""  # the carried-over context for non-`full` fidelity (spec §5.4)
    history: list[tuple[str, str]] = []  # earlier (prompt, response) turns of the thread, `full`
    history_turns: int = 0  # recorded instead of `history`; the performer fills history in
    stream: str = ""  # the traversal that asks (whose thread the history belongs to)
    run_max_cost_usd: str = ""  # the graph's `max_cost_usd` (the run's spend cap), when set


class CodergenReply(msgspec.Struct, frozen=True, omit_defaults=True):
    """What a backend answered: response text, or a whole outcome (or both), plus usage."""

    response: str = ""
    outcome: Outcome | None = None
    usage: dict[str, int] = {}
    model: str = ""  # the model that answered, when the backend knows it (for cost)
    cost_usd: float | None = None  # the cost the backend itself reported (a CLI agent)
