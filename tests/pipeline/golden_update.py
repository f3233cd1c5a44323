"""Re-record the golden run logs under `fixtures/runs/`.

Run: `python -m tests.pipeline.golden_update`.

Each case copies its pipeline (and script / answers file) from `examples/` into
`fixtures/runs/<case>/`, runs it with `start_run` (simulation or scripted backend, no LLM), and
keeps the recorded `events.jsonl` (and `blobs/`). `tests/pipeline/test_golden.py` replays every
case byte for byte. Only re-record when a change of the log format is intended *and* has an
upcaster story (DESIGN.md §4); a diff in these files is a behaviour change to review.

The `divergent` case is the `linear` log next to a changed pipeline (`changed.dot`): replaying
it against the changed file must fail with a `NonDeterminismError`.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

from attractor.pipeline.run import RunOptions, start_run

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
FIXTURES = ROOT / "fixtures" / "runs"

# case -> (example, extra files copied beside it, backend script, answers file)
CASES: dict[str, tuple[str, tuple[str, ...], str, str]] = {
    "linear": ("linear", (), "", ""),
    "branching": ("branching", (), "branching.script.json", ""),
    "retries": ("retries", (), "retries.script.json", ""),
    "human_gate": ("human_gate", (), "", "human_gate.answers.json"),
    "parallel": ("parallel", (), "", ""),
    "manager": ("manager", ("manager_child.dot",), "", ""),
    "tools": ("tools", (), "", ""),
}

CHANGED = """// linear.dot with one more stage: replaying the linear log against this must diverge.
digraph linear {
    graph [goal="Summarise the release notes", label="Linear pipeline"]

    start     [shape=Mdiamond]
    gather    [prompt="Collect the changes for: $goal"]
    review    [prompt="Check the changes are complete"]
    draft     [prompt="Draft the summary"]
    polish    [prompt="Polish the wording"]
    done      [shape=Msquare]

    start -> gather -> review -> draft -> polish -> done
}
"""


def record(case: str) -> Path:
    """Record one case into fixtures/runs/<case>/ and return that directory."""
    example, extra, script, answers = CASES[case]
    target = FIXTURES / case
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in (f"{example}.dot", *extra, script, answers):
        if name:
            shutil.copy(EXAMPLES / name, target / name)
    dot = target / f"{example}.dot"
    with tempfile.TemporaryDirectory() as tmp:
        options = RunOptions(
            logs_root=tmp,
            fsync=False,
            backend=f"scripted:{target / script}" if script else "simulate",
            answers=str(target / answers) if answers else "",
        )
        result = asyncio.run(start_run(dot, options))
        shutil.copy(result.run_dir / "events.jsonl", target / "events.jsonl")
        if (result.run_dir / "blobs").is_dir():
            shutil.copytree(result.run_dir / "blobs", target / "blobs")
    return target


def record_divergent() -> Path:
    """The linear log beside a changed pipeline."""
    target = FIXTURES / "divergent"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shutil.copy(FIXTURES / "linear" / "events.jsonl", target / "events.jsonl")
    (target / "changed.dot").write_text(CHANGED)
    return target


def main() -> None:
    """Re-record every case."""
    for case in CASES:
        print(f"recorded {record(case).relative_to(ROOT)}")
    print(f"recorded {record_divergent().relative_to(ROOT)}")


if __name__ == "__main__":
    main()
