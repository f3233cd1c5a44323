"""Testing: regenerate the golden logs under `fixtures/` (`just golden-update`).

Rule: golden logs are recordings; tests replay them and must reproduce them byte for byte.
Regenerate only for a deliberate change, and review the diff — an event shape change needs an
upcaster so the *old* golden log still replays, not a fresh recording.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from attractor.effects import DrawRandom, LiveInterpreter, NewId, ReadClock, RunShell, Sleep, drive
from attractor.events import EventLog
from attractor.testing.machines import ScriptMachine, Step

DEMO_SCRIPT: dict[str, list[Step]] = {
    "run": [
        Step("note", note="hello from the kernel demo"),
        Step("effect", effect=ReadClock()),
        Step("effect", effect=RunShell(command="echo hello from a shell effect", timeout_ms=5000)),
        Step("effect", effect=NewId(prefix="demo-")),
    ],
    "run/branch:a": [
        Step("effect", effect=DrawRandom()),
        Step("effect", effect=Sleep(ms=5)),
        Step("note", note="branch a finished"),
    ],
}


async def record_script(path: Path, script: dict[str, list[Step]]) -> int:
    """Record a live run of `script` into a fresh log at `path`; return the number of events."""
    path.unlink(missing_ok=True)
    with EventLog.open(path) as log:
        result = await drive(ScriptMachine(script), log, LiveInterpreter(log.blobs))
    path.with_name(path.name + ".lock").unlink(missing_ok=True)
    return result.appended


def update(root: Path) -> None:
    """Regenerate every kernel golden log under `root/fixtures/logs`."""
    target = root / "fixtures" / "logs" / "demo.jsonl"
    n = asyncio.run(record_script(target, DEMO_SCRIPT))
    print(f"wrote {target} ({n} events)")


if __name__ == "__main__":
    if sys.argv[1:] != ["update"]:
        sys.exit("usage: python -m attractor.testing.golden update")
    update(Path.cwd())
