"""Benchmark: the event log. Prints figures measured in one run (not a timed test).

- append throughput with fsync per event, and with one fsync per batch of 100;
- read + verify + fold of a 100k-event log: events/s and peak memory, at 10k and 100k events
  (memory must stay flat in log length: the reader streams);
- the keyed chain (ADR 0104): append and read+verify with a log key, as ratios to the plain chain.

Target (issue 2): ≥ 200,000 events/s for read + verify + fold.
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from attractor.effects import EffectCompleted, EffectRequested, IdMade, NewId, request_effect
from attractor.events import Entry, EventLog, fold, read_log
from attractor.testing.machines import ScriptNoted


def _events(n: int) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for i in range(n):
        kind = i % 3
        stream = "run" if i % 2 else "run/branch:a"
        if kind == 0:
            out.append((stream, request_effect(f"{stream}#step/{i}", NewId(prefix="x-"))))
        elif kind == 1:
            out.append(
                (
                    stream,
                    EffectCompleted(
                        effect_id=f"{stream}#step/{i - 1}", result=IdMade(id=f"x-{i:032x}")
                    ),
                )
            )
        else:
            out.append((stream, ScriptNoted(step=i, note="stage finished: ok")))
    return out


KEY = b"benchmark-log-key-0123456789abcdef"


def bench_append(tmp: Path, n: int, batch: int, fsync: bool, key: bytes | None = None) -> float:
    path = tmp / f"append-{batch}-{fsync}-{key is not None}.jsonl"
    events = _events(n)
    with EventLog.open(path, fsync=fsync, key=key) as log:
        start = time.perf_counter()
        for i in range(0, n, batch):
            log.append(events[i : i + batch])  # type: ignore[arg-type]
        elapsed = time.perf_counter() - start
    return n / elapsed


def _count(state: int, entry: Entry) -> int:
    event = entry.event
    return state + 1 if isinstance(event, EffectRequested | EffectCompleted) else state


def bench_read(tmp: Path, n: int, key: bytes | None = None) -> tuple[float, float, int]:
    path = tmp / f"read-{n}-{key is not None}.jsonl"
    with EventLog.open(path, fsync=False, key=key) as log:
        events = _events(n)
        for i in range(0, n, 1000):
            log.append(events[i : i + 1000])  # type: ignore[arg-type]
    size = path.stat().st_size
    tracemalloc.start()
    start = time.perf_counter()
    total = fold(read_log(path, key=key), 0, _count)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert total == n - n // 3
    # a second, untraced pass for the speed figure (tracemalloc slows allocation)
    start = time.perf_counter()
    fold(read_log(path, key=key), 0, _count)
    fast = time.perf_counter() - start
    del elapsed
    return n / fast, peak / 1024, size


def main() -> None:
    with tempfile.TemporaryDirectory(dir=".") as d:
        tmp = Path(d)
        print("event log benchmark (one run; figures, not assertions)")
        per_event = bench_append(tmp, 2_000, 1, True)
        per_batch = bench_append(tmp, 20_000, 100, True)
        no_sync = bench_append(tmp, 20_000, 100, False)
        print(f"  append, fsync per event:          {per_event:>10,.0f} events/s")
        speedup = per_batch / per_event
        print(f"  append, fsync per batch of 100:   {per_batch:>10,.0f} events/s  ({speedup:.1f}x)")
        print(f"  append, no fsync (batch of 100):  {no_sync:>10,.0f} events/s")
        rates = {}
        for n in (10_000, 100_000):
            rate, peak_kib, size = bench_read(tmp, n)
            rates[n] = rate
            print(
                f"  read+verify+fold {n:>7,} events ({size / 1e6:.1f} MB): "
                f"{rate:>10,.0f} events/s, peak traced memory {peak_kib:,.0f} KiB"
            )
        target = 200_000
        verdict = "meets" if rates[100_000] >= target else "MISSES"
        print(
            f"  target ≥ {target:,} events/s: {verdict} ({rates[100_000] / target:.2f}x of target)"
        )
        keyed_append = bench_append(tmp, 20_000, 100, False, KEY)
        keyed_read, _, _ = bench_read(tmp, 100_000, KEY)
        print(
            f"  keyed chain: append {keyed_append:>10,.0f} events/s ({keyed_append / no_sync:.2f}x "
            f"plain), read+verify+fold {keyed_read:>10,.0f} events/s "
            f"({keyed_read / rates[100_000]:.2f}x plain)"
        )


if __name__ == "__main__":
    sys.exit(main())
