"""Live deltas: a sink installed for a block receives what is published inside it (and in the
tasks it starts), nothing leaks into other contexts, and a failing sink never breaks a run."""

from __future__ import annotations

import asyncio

from attractor.effects.deltas import Delta, deltas_to, publish, watching

D = Delta(stream="run", node="write", text="hel")


def test_published_deltas_reach_the_sink_of_the_block() -> None:
    """Inside `deltas_to(sink)` deltas reach the sink; outside nobody is watching."""
    got: list[Delta] = []
    with deltas_to(got.append):
        assert watching()
        publish(D)
    publish(D)
    assert got == [D]
    assert not watching()


def test_tasks_started_in_the_block_publish_to_its_sink() -> None:
    """An effect task created inside the block (as the interpreter does) shares the sink."""
    got: list[Delta] = []

    async def run() -> None:
        with deltas_to(got.append):
            await asyncio.ensure_future(asyncio.sleep(0, publish(D)))  # type: ignore[func-returns-value]

    asyncio.run(run())
    assert got == [D]


def test_two_runs_never_see_each_others_deltas() -> None:
    """Concurrent blocks with their own sinks stay apart."""
    a: list[Delta] = []
    b: list[Delta] = []

    async def one(sink: list[Delta], node: str) -> None:
        with deltas_to(sink.append):
            for _ in range(3):
                publish(Delta(stream="run", node=node, text="x"))
                await asyncio.sleep(0)

    async def both() -> None:
        await asyncio.gather(one(a, "a"), one(b, "b"))

    asyncio.run(both())
    assert {d.node for d in a} == {"a"}
    assert {d.node for d in b} == {"b"}


def test_a_failing_sink_is_ignored() -> None:
    """A watcher's bug does not raise into the stage that published."""

    def broken(_: Delta) -> None:
        raise RuntimeError("watcher bug")

    with deltas_to(broken):
        publish(D)
