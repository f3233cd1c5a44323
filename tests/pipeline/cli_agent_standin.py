"""A stand-in for the `claude`, `codex` and `gemini` executables: prints each CLI's documented
JSON-lines output (which one: the name it was started as). `STANDIN_MODE` picks the session:
`ok` (edits `hello.txt` in the working directory, then answers), `fail` (the CLI's own failure
result), `malformed` (a banner line that is not JSON, then `ok`), `truncated` (no final result),
`hang` (starts a child that sleeps, records both pids in `STANDIN_PIDS`, sleeps). Every start
appends its argv to `STANDIN_LOG`, so tests count how often the CLI really ran."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

KIND = Path(sys.argv[0]).name
MODE = os.environ.get("STANDIN_MODE", "ok")


def emit(obj: object) -> None:
    print(json.dumps(obj), flush=True)


def claude(ok: bool) -> None:
    emit({"type": "system", "subtype": "init", "session_id": "s-1", "model": "claude-x"})
    emit(
        {
            "type": "assistant",
            "session_id": "s-1",
            "message": {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Editing hello.txt."},
                    {
                        "type": "tool_use",
                        "id": "t1",
                        "name": "Write",
                        "input": {"file_path": "hello.txt"},
                    },
                ],
            },
        }
    )
    emit(
        {
            "type": "user",
            "session_id": "s-1",
            "message": {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "written"}],
            },
        }
    )
    emit(
        {
            "type": "result",
            "subtype": "success" if ok else "error_during_execution",
            "is_error": not ok,
            "result": "Done: hello.txt says hi." if ok else "could not edit",
            "session_id": "s-1",
            "total_cost_usd": 0.0123,
            "num_turns": 2,
            "usage": {"input_tokens": 70, "output_tokens": 30, "cache_read_input_tokens": 50},
        }
    )


def codex(ok: bool) -> None:
    emit({"type": "thread.started", "thread_id": "th-1"})
    emit({"type": "turn.started"})
    emit(
        {
            "type": "item.completed",
            "item": {
                "id": "i0",
                "type": "command_execution",
                "command": "ls",
                "aggregated_output": "hello.txt\n",
                "exit_code": 0,
                "status": "completed",
            },
        }
    )
    emit(
        {
            "type": "item.completed",
            "item": {
                "id": "i1",
                "type": "file_change",
                "changes": [{"path": "hello.txt", "kind": "add"}],
                "status": "completed",
            },
        }
    )
    if ok:
        emit(
            {
                "type": "item.completed",
                "item": {"id": "i2", "type": "agent_message", "text": "Done: hello.txt says hi."},
            }
        )
        emit(
            {
                "type": "turn.completed",
                "usage": {"input_tokens": 120, "cached_input_tokens": 50, "output_tokens": 30},
            }
        )
    else:
        emit({"type": "error", "message": "stream disconnected"})
        emit({"type": "turn.failed", "error": {"message": "model refused the edit"}})


def gemini(ok: bool) -> None:
    emit({"type": "init", "session_id": "g-1", "model": "gemini-x"})
    emit({"type": "message", "role": "user", "content": "prompt"})
    emit(
        {
            "type": "tool_use",
            "tool_name": "write_file",
            "tool_id": "w1",
            "parameters": {"file_path": "hello.txt"},
        }
    )
    emit({"type": "tool_result", "tool_id": "w1", "status": "success", "output": "ok"})
    emit({"type": "message", "role": "assistant", "content": "Done: ", "delta": True})
    emit({"type": "message", "role": "assistant", "content": "hello.txt says hi.", "delta": True})
    result = {
        "type": "result",
        "status": "success" if ok else "error",
        "stats": {"input_tokens": 120, "output_tokens": 30, "cached": 50},
    }
    if not ok:
        result["error"] = {"type": "FatalError", "message": "quota exhausted"}
    emit(result)


def hang() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    Path(os.environ["STANDIN_PIDS"]).write_text(f"{os.getpid()} {child.pid}")
    emit({"type": "system", "subtype": "init", "session_id": "h"})
    time.sleep(600)


def main() -> int:
    log = os.environ.get("STANDIN_LOG")
    if log:
        with open(log, "a") as fh:
            fh.write(json.dumps([KIND, *sys.argv[1:]]) + "\n")
    names = os.environ.get("STANDIN_ENV")
    if names:
        Path(names).write_text(json.dumps(sorted(os.environ)))
    if MODE == "hang":
        hang()
    if MODE == "malformed":
        print("Loaded cached credentials. (not JSON)", flush=True)
    if MODE in ("ok", "malformed"):
        Path("hello.txt").write_text("hi\n")
    run = {"claude": claude, "codex": codex, "gemini": gemini}[KIND]
    if MODE == "truncated":
        print('{"type": "init", "session_id": "cut', flush=True)
        return 1
    run(MODE != "fail")
    return 0 if MODE != "fail" or KIND == "claude" else 1


if __name__ == "__main__":
    sys.exit(main())
