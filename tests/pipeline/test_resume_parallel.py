"""Resume in the middle of parallel branches: from every point a crash can leave (after any
append), the run finishes with the same outcome, completed nodes and context, and no branch
stage that had completed is run again."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pytest

from attractor.events import Emit, Entry, MemoryStore
from attractor.pipeline.events import StageCompleted
from tests.pipeline.kit import World, clock, reply, run_dot

SOURCE = """digraph p {
    start [shape=Mdiamond]; done [shape=Msquare]
    fan [shape=component, max_parallel=2]; join [shape=tripleoctagon]
    a1 [prompt="a1"]; a2 [prompt="a2"]; b1 [prompt="b1"]; c1 [prompt="c1"]; c2 [prompt="c2"]
    after [prompt="after"]
    start -> fan; fan -> a1; fan -> b1; fan -> c1
    a1 -> a2 -> join; b1 -> join; c1 -> c2 -> join
    join -> after -> done
}
"""


class BatchStore(MemoryStore):
    """Remembers where each append ended."""

    def __init__(self) -> None:
        super().__init__(clock())
        self.boundaries: list[int] = []

    def append(self, items: Sequence[Emit]) -> list[Entry]:
        out = super().append(items)
        self.boundaries.append(len(self.lines))
        return out


def world() -> World:
    """Every stage succeeds and records its own key."""
    names = ["a1", "a2", "b1", "c1", "c2", "after"]
    return World(
        replies={n: [reply("success", context_updates={f"k.{n}": n})] for n in names},
        by_attempt=True,
    )


def _whole() -> tuple[BatchStore, object]:
    store = BatchStore()
    ran = run_dot(SOURCE, world(), store=store)
    return store, ran


STORE, WHOLE = _whole()


@pytest.mark.parametrize("cut", STORE.boundaries[:-1])
def test_resume_mid_parallel(cut: int) -> None:
    """Cut after an append, resume: same end, no completed stage performed again."""
    entries = list(STORE.entries())
    resumed_store = MemoryStore(clock())
    resumed_store.append([(e.stream, e.event) for e in entries[:cut]])
    done_before = Counter(
        (e.stream, e.event.node) for e in entries[:cut] if isinstance(e.event, StageCompleted)
    )
    again = world()
    resumed = run_dot(SOURCE, again, store=resumed_store)
    assert resumed.stopped == "done"
    assert resumed.finished == WHOLE.finished  # type: ignore[attr-defined]
    assert resumed.context == WHOLE.context  # type: ignore[attr-defined]
    rerun = {c.node_id for c in again.calls} & {node for _, node in done_before}
    assert not rerun, f"completed stages ran again after resume: {rerun}"
