"""`python -m attractor.testing.fake_providers`: serve without the CLI (used by child processes).

Shell layer. Rule: SIGTERM and Ctrl-C both stop the server cleanly.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from attractor.testing.fake_providers._load import ScenarioError
from attractor.testing.fake_providers._server import NotLoopbackError, serve


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and serve until SIGTERM or Ctrl-C; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m attractor.testing.fake_providers")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--scenario", default=None)
    parser.add_argument("--validate-requests", action="store_true")
    args = parser.parse_args(argv)
    stop = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    try:
        serve(
            args.host,
            args.port,
            args.scenario,
            announce=lambda line: print(line, flush=True),
            stop=stop,
            validate_requests=args.validate_requests,
        )
    except (NotLoopbackError, ScenarioError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
