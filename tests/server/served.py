"""`attractor serve` as a child process in its own process group, on a free loopback port,
stopped with SIGTERM then SIGKILL (bounded) and reaped; its peak RSS read from /proc."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

STARTUP_S = 30.0
STOP_S = 15.0


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ServedProcess:
    """A running `attractor serve` child."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int, errors: Path) -> None:
        self.proc, self.port, self.errors = proc, port, errors
        self.url = f"http://127.0.0.1:{port}"

    def stderr(self) -> str:
        """What the server wrote to stderr so far."""
        return self.errors.read_text(errors="replace")

    def peak_rss_mib(self) -> float:
        """The child's peak resident set size so far (VmHWM), in MiB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0


@contextmanager
def served(logs_root: Path, *extra: str, cwd: Path | None = None) -> Iterator[ServedProcess]:
    """Run `attractor serve` on a free port until the block ends."""
    port = free_port()
    cmd = [sys.executable, "-m", "attractor", "serve", "--port", str(port)]
    cmd += ["--logs-root", str(logs_root), *extra]
    errors = logs_root.parent / "serve.stderr"
    with open(errors, "wb") as err:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env={**os.environ},
        )
    try:
        child = ServedProcess(proc, port, errors)
        _wait_ready(child)
        yield child
    finally:
        _stop(proc)


def _wait_ready(child: ServedProcess) -> None:
    deadline = time.monotonic() + STARTUP_S
    while True:
        if child.proc.poll() is not None:
            raise AssertionError(f"attractor serve exited at startup: {child.stderr()}")
        try:
            if httpx.get(child.url + "/pipelines", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "attractor serve did not start in time"
        time.sleep(0.05)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if proc.poll() is not None:
            break
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(STOP_S)
        except subprocess.TimeoutExpired:
            continue
    proc.wait(STOP_S)
