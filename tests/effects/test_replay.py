"""Driver and replay: live runs replay byte for byte; a perturbed decider is caught exactly."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attractor.effects import (
    Call,
    Called,
    DrawRandom,
    EffectRequested,
    FakeInterpreter,
    NewId,
    NonDeterminismError,
    Recording,
    Sleep,
    drive,
    replay,
    request_effect,
)
from attractor.events import Emit, MemoryStore, fold, fold_from, state_hash
from attractor.testing.machines import ScriptMachine, ScriptState, Step
from tests.strategies import scripts

CLOCK = iter(range(10**9))


def _clock() -> str:
    return f"2026-01-01T00:00:00.{next(CLOCK) % 10**6:06d}Z"


def _fake(seed: int = 0, jitter: bool = False) -> FakeInterpreter:
    responders = {Call: lambda req: Called(value=req.args * 2)}
    delays = {Sleep: 0.002, DrawRandom: 0.001} if jitter else None
    return FakeInterpreter(responders, seed=seed, delay_s=delays)


def _record(
    script: Mapping[str, Sequence[Step]], seed: int = 0, jitter: bool = False
) -> MemoryStore:
    store = MemoryStore(_clock)
    result = asyncio.run(drive(ScriptMachine(script), store, _fake(seed, jitter)))
    assert result.stopped == "done"
    return store


@settings(max_examples=40)
@given(scripts, st.integers(0, 1000))
def test_replay_of_a_live_run_is_byte_identical(script: dict[str, list[Step]], seed: int) -> None:
    """Replaying any recorded run reproduces every line exactly and ends where it ended."""
    store = _record(script, seed, jitter=True)
    rec = Recording.from_lines(store.lines)
    produced: list[int] = []
    result = asyncio.run(
        replay(ScriptMachine(script), rec, observe=lambda e: produced.append(e.seq))
    )
    assert result.stopped == "done"
    assert produced == list(range(1, len(store.lines) + 1))


@settings(max_examples=40)
@given(scripts, st.integers(0, 1000))
def test_fold_is_compositional(script: dict[str, list[Step]], cut: int) -> None:
    """fold(a + b) == fold_from(fold(a), b) for every split of a recorded log."""
    entries = list(_record(script).entries())
    k = cut % (len(entries) + 1)
    machine = ScriptMachine()
    whole = fold(entries, machine.initial(), machine.reduce)
    split = fold_from(
        fold(entries[:k], machine.initial(), machine.reduce), entries[k:], machine.reduce
    )
    assert state_hash(whole) == state_hash(split)
    assert state_hash(whole) == state_hash(fold(entries, ScriptState(), machine.reduce))


class _Perturbed(ScriptMachine):
    """Asks for a different effect at one (stream, step) than the recorded run did."""

    def __init__(self, script: Mapping[str, Sequence[Step]], target: tuple[str, int]) -> None:
        super().__init__(script)
        self.target = target

    def decide(self, state: ScriptState) -> list[Emit]:
        out: list[Emit] = []
        for stream, event in super().decide(state):
            if (
                isinstance(event, EffectRequested)
                and event.effect_id.endswith(f"#step/{self.target[1]}")
                and stream == self.target[0]
            ):
                event = request_effect(event.effect_id, NewId(prefix="perturbed-"))
            out.append((stream, event))
        return out


@settings(max_examples=40)
@given(scripts, st.data())
def test_perturbed_decider_is_caught_at_first_divergent_effect(
    script: dict[str, list[Step]], data: st.DataObject
) -> None:
    """Changing one effect request stops replay at exactly that request's seq."""
    effects = [
        (stream, i)
        for stream, steps in script.items()
        for i, step in enumerate(steps)
        if step.kind == "effect"
    ]
    if not effects:
        return
    target = data.draw(st.sampled_from(effects))
    store = _record(script)
    where = next(
        e
        for e in store.entries()
        if isinstance(e.event, EffectRequested)
        and e.stream == target[0]
        and e.event.effect_id.endswith(f"#step/{target[1]}")
    )
    with pytest.raises(NonDeterminismError) as info:
        asyncio.run(replay(_Perturbed(script, target), Recording.from_lines(store.lines)))
    assert info.value.seq == where.seq
    assert info.value.stream == target[0]
    assert "perturbed-" in info.value.actual
    assert "request" in info.value.render()


def test_replay_until_stops_at_seq() -> None:
    """`until` replays a prefix and reports that the recording ended there."""
    script = {"run": [Step("effect", effect=NewId()), Step("note", note="x")]}
    store = _record(script)
    seen: list[int] = []
    rec = Recording.from_lines(store.lines, until=3)
    result = asyncio.run(replay(ScriptMachine(script), rec, observe=lambda e: seen.append(e.seq)))
    assert result.stopped == "recording-ended"
    assert seen == [1, 2, 3]


def test_machine_finishing_early_is_divergence() -> None:
    """If the replayed machine is done but the recording goes on, the next line is reported."""
    script = {"run": [Step("note", note="a"), Step("note", note="b")]}
    store = _record(script)

    class StopsEarly(ScriptMachine):
        def decide(self, state: ScriptState) -> list[Emit]:
            return [] if self.is_done(state) else super().decide(state)

        def is_done(self, state: ScriptState) -> bool:
            return bool(state.cursor)

    with pytest.raises(NonDeterminismError) as info:
        asyncio.run(replay(StopsEarly(script), Recording.from_lines(store.lines)))
    assert info.value.seq == 3
    assert info.value.actual == ""
    assert "the replay stopped" in info.value.render()


def test_resume_after_interruption_finishes_without_repeating_completed_effects() -> None:
    """Stopping mid-run and resuming completes the run; completed effects are never redone,
    effects requested but not answered are performed again (at least once)."""
    script = {
        "run": [Step("effect", effect=NewId()) for _ in range(4)],
        "run/branch:a": [Step("effect", effect=Sleep(ms=1)) for _ in range(3)],
    }
    for cut in range(1, 16):
        store = MemoryStore(_clock)
        first = _fake(jitter=True)
        asyncio.run(drive(ScriptMachine(script), store, first, max_steps=cut))
        completed = {
            e.event.effect_id
            for e in store.entries()
            if type(e.event).__name__ == "EffectCompleted"
        }
        second = _fake(jitter=True)
        result = asyncio.run(drive(ScriptMachine(script), store, second))
        assert result.stopped == "done"
        assert not completed & set(second.counts), f"cut {cut}: completed effects redone"
        replayed = asyncio.run(replay(ScriptMachine(script), Recording.from_lines(store.lines)))
        assert replayed.stopped == "done"


def test_stalled_machine_is_reported() -> None:
    """A machine that waits forever with nothing running is an error, not a hang."""
    from attractor.effects import StalledError

    class Waits(ScriptMachine):
        def decide(self, state: ScriptState) -> list[Emit]:
            return [] if state.streams is not None else super().decide(state)

    with pytest.raises(StalledError, match="no effect is running"):
        asyncio.run(drive(Waits({"run": [Step("note")]}), MemoryStore(_clock), _fake()))


def test_effect_ids_and_digests_are_stable() -> None:
    """The same request under the same id always has the same digest."""
    a = request_effect("run#x", Sleep(ms=5))
    b = request_effect("run#x", msgspec.json.decode(msgspec.json.encode(Sleep(ms=5)), type=Sleep))
    assert a == b
    assert a.digest != request_effect("run#x", Sleep(ms=6)).digest
