"""Pipeline layer (pure): token usage and cost per stage and per run, read from the log.

Rule: every codergen reply records its usage (`CodergenReply.usage`, the LLM layer's flat counts:
`input_tokens` includes cache reads and writes, `output_tokens` includes reasoning) and, when
known, the model that answered and the cost a CLI agent reported. `UsageBook` folds log entries
into one `StageSpend` per stage attempt and a run total; cost comes from the reply when the agent
reported it, else from the model catalog's prices (`price_of`), else it is unknown and only
tokens are shown. Nothing here reads a clock or a file: the same log gives the same figures in
`attractor status`, manifest.json, the run view and the HTTP API.
"""

from __future__ import annotations

from typing import Any

import msgspec

from attractor.effects import Call, Called, EffectCompleted, EffectRequested
from attractor.events import Entry
from attractor.llm.catalog import ModelInfo, get_model_info
from attractor.pipeline.model import CodergenReply, Outcome, StageStatus

COUNTS = (
    "input_tokens",
    "output_tokens",
    "reasoning_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
)
SPEND_CAP_ATTR = "max_cost_usd"
"""Graph attribute (the run's cap) or node attribute (that node's stages' cap), in US dollars."""


class StageSpend(msgspec.Struct, frozen=True, omit_defaults=True):
    """What one attempt of one codergen stage used."""

    node: str
    attempt: int
    stream: str = "run"
    model: str = ""
    tokens: dict[str, int] = {}
    cost_usd: float | None = None


class Spend(msgspec.Struct, frozen=True, omit_defaults=True):
    """Totals: tokens summed over stages; cost over the stages whose cost is known."""

    tokens: dict[str, int] = {}
    cost_usd: float = 0.0
    priced_stages: int = 0
    unpriced_stages: int = 0  # stages that used tokens on a model without a catalogued price


def price_of(model: str, tokens: dict[str, int], info: ModelInfo | None = None) -> float | None:
    """The catalog cost of `tokens` on `model` in US dollars; None when it has no prices.

    Cache reads and writes are charged at the input price (the catalog lists one input price; a
    provider's cache discount makes the true figure lower, never higher).
    """
    info = info if info is not None else (get_model_info(model) if model else None)
    if info is None or info.input_cost_per_million is None:
        return None
    if info.output_cost_per_million is None:
        return None
    inputs = tokens.get("input_tokens", 0)
    outputs = tokens.get("output_tokens", 0)
    return (inputs * info.input_cost_per_million + outputs * info.output_cost_per_million) / 1e6


def add_tokens(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    """Counts of `a` and `b` summed (only the known count names)."""
    return {k: a.get(k, 0) + b.get(k, 0) for k in COUNTS if a.get(k, 0) + b.get(k, 0)}


def total(stages: list[StageSpend]) -> Spend:
    """The run's totals over `stages`."""
    tokens: dict[str, int] = {}
    cost, priced, unpriced = 0.0, 0, 0
    for stage in stages:
        tokens = add_tokens(tokens, stage.tokens)
        if stage.cost_usd is not None:
            cost, priced = cost + stage.cost_usd, priced + 1
        elif stage.tokens:
            unpriced += 1
    return Spend(tokens=tokens, cost_usd=cost, priced_stages=priced, unpriced_stages=unpriced)


def spend_of(args: Any, value: Any) -> StageSpend | None:
    """The spend a codergen call (its arguments) and its reply (JSON builtins) record."""
    if not isinstance(args, dict) or not isinstance(value, dict):
        return None
    usage = value.get("usage")
    counts = (
        {k: v for k, v in usage.items() if k in COUNTS and isinstance(v, int)}
        if isinstance(usage, dict)
        else {}
    )
    attrs = args.get("node_attrs") if isinstance(args.get("node_attrs"), dict) else {}
    model = value.get("model") or (attrs.get("llm_model", "") if attrs else "")
    reported = value.get("cost_usd")
    cost = float(reported) if isinstance(reported, int | float) else price_of(str(model), counts)
    return StageSpend(
        node=str(args.get("node_id", "")),
        attempt=int(args.get("attempt", 1)),
        stream=str(args.get("stream") or "run"),
        model=str(model),
        tokens=counts,
        cost_usd=cost if counts or reported is not None else None,
    )


class UsageBook:
    """Folds log entries (in order) into each codergen stage's spend and the run's total."""

    def __init__(self) -> None:
        self._asked: dict[str, Any] = {}
        self.stages: list[StageSpend] = []

    def __call__(self, entry: Entry) -> None:
        """Fold one entry (an observer for the driver, or a loop over a log)."""
        event = entry.event
        if isinstance(event, EffectRequested):
            request = event.request
            if isinstance(request, Call) and request.name == "codergen":
                self._asked[event.effect_id] = request.args
        elif isinstance(event, EffectCompleted) and event.effect_id in self._asked:
            args = self._asked.pop(event.effect_id)
            if isinstance(event.result, Called):
                spend = spend_of(args, event.result.value)
                if spend is not None:
                    self.stages.append(spend)

    @property
    def total(self) -> Spend:
        """The run's totals so far."""
        return total(self.stages)

    def cost_of_node(self, node: str) -> float:
        """The known cost of every attempt of `node` so far."""
        return sum(s.cost_usd or 0.0 for s in self.stages if s.node == node)

    def summary(self) -> dict[str, Any]:
        """`{"stages": [...], "total": {...}}` as JSON builtins (manifest.json, status --json)."""
        return {"stages": [_plain(s) for s in self.stages], "total": _plain(self.total)}


def _plain(value: msgspec.Struct) -> dict[str, Any]:
    """A record as a dict without its empty fields (the same whether the values were decoded
    from a log or built in memory)."""
    data = msgspec.structs.asdict(value)
    return {
        k: v for k, v in data.items() if v not in (None, "", {}) and (k, v) != ("stream", "run")
    }


def format_spend(spend: Spend) -> str:
    """`in 1,200 · out 300 · cache read 50 — $0.0123` (tokens only when nothing is priced)."""
    names = {
        "input_tokens": "in",
        "output_tokens": "out",
        "reasoning_tokens": "reasoning",
        "cache_read_tokens": "cache read",
        "cache_write_tokens": "cache write",
    }
    parts = [f"{names[k]} {spend.tokens[k]:,}" for k in COUNTS if spend.tokens.get(k)]
    text = " · ".join(parts) or "no tokens"
    if spend.priced_stages:
        text += f" — ${spend.cost_usd:.4f}"
    if spend.unpriced_stages:
        text += f" ({spend.unpriced_stages} stage(s) on models without a price)"
    return text


def parse_cap(text: str | None) -> float | None:
    """A `max_cost_usd` value (`"2.50"`, `"$2.50"`); None when unset or not a number ≥ 0."""
    if text is None or not text.strip():
        return None
    try:
        value = float(text.strip().lstrip("$"))
    except ValueError:
        return None
    return value if value >= 0 else None


class SpendGuard:
    """Enforces `max_cost_usd` around codergen calls (live side; the reply it returns is what
    gets recorded, so replay repeats the decision without re-checking).

    Before a call: a run (graph attribute) or node (node attribute) whose known spend already
    reached its cap fails the stage without calling the backend. After a call: the stage whose
    reply takes the spend over a cap fails, naming the figures; its response is kept.
    """

    def __init__(self, book: UsageBook | None = None) -> None:
        self.book = book or UsageBook()

    def before(self, call: Any) -> str:
        """Why `call` must not run (a reason), or "" to go ahead."""
        for label, cap, spent in self._caps(call):
            if cap is not None and spent >= cap:
                return (
                    f"{label} spend ${spent:.4f} has reached its cap max_cost_usd={cap:g}; "
                    f"stage {call.node_id!r} was not started"
                )
        return ""

    def after(self, call: Any, reply_value: dict[str, Any]) -> str:
        """Record the reply's spend; the reason the stage fails if it crossed a cap, else ""."""
        spend = spend_of(msgspec.to_builtins(call), reply_value)
        if spend is not None:
            self.book.stages.append(spend)
        for label, cap, spent in self._caps(call):
            if cap is not None and spent > cap:
                return (
                    f"stage {call.node_id!r} took the {label} spend to ${spent:.4f}, over its cap "
                    f"max_cost_usd={cap:g}"
                )
        return ""

    def _caps(self, call: Any) -> list[tuple[str, float | None, float]]:
        node_cap = parse_cap(call.node_attrs.get(SPEND_CAP_ATTR))
        run_cap = parse_cap(getattr(call, "run_max_cost_usd", ""))
        return [
            ("run's", run_cap, self.book.total.cost_usd),
            (f"node {call.node_id!r}'s", node_cap, self.book.cost_of_node(call.node_id)),
        ]


def failed_reply(reason: str, value: dict[str, Any] | None = None) -> CodergenReply:
    """A FAIL reply for `reason`, keeping the response, usage and cost of `value` (a reply as
    JSON builtins) when there is one."""
    kept = msgspec.convert(value, CodergenReply) if value else CodergenReply()
    failed = Outcome(status=StageStatus.FAIL, failure_reason=reason)
    return msgspec.structs.replace(kept, outcome=failed)
