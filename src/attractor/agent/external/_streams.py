"""Agent layer (pure): the JSON-lines streams of installed CLI agents, read into one shape.

Rule: a parser is fed one line at a time and never does I/O. Each CLI's documented
non-interactive format — `claude -p --output-format stream-json --verbose`, `codex exec --json`,
`gemini -p --output-format stream-json` — becomes the same `Step`s (text, tool call, tool
result, note) and, at the end, one `Transcript`: the final answer, whether the agent says it
succeeded, the token usage and (when the CLI reports it) the cost. A line that is not JSON, or
JSON of an unknown type, is never fatal: CLIs print banners and add event types over time. It is
kept as a note with its line number; only a stream that ends without a final result fails.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

import msgspec

StepKind = Literal["text", "tool_call", "tool_result", "note"]

USAGE_KEYS = (
    "input_tokens",
    "output_tokens",
    "reasoning_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
)


class Step(msgspec.Struct, frozen=True, omit_defaults=True):
    """One thing the agent did, as watchers and the transcript see it."""

    kind: StepKind
    text: str = ""
    tool: str = ""


class Transcript(msgspec.Struct, frozen=True, omit_defaults=True):
    """How a CLI agent's session ended, read from its stream."""

    ok: bool
    final_text: str = ""
    error: str = ""
    session_id: str = ""
    usage: dict[str, int] = {}
    cost_usd: float | None = None
    steps: tuple[Step, ...] = ()
    malformed: tuple[int, ...] = ()  # line numbers that were not JSON objects


class StreamParser(Protocol):
    """Reads one CLI's stream line by line."""

    def feed(self, line: str) -> list[Step]:
        """The steps this line adds (none for bookkeeping lines)."""
        ...

    def finish(self) -> Transcript:
        """The session's end as the stream told it."""
        ...


class _Base:
    """Line bookkeeping shared by the three parsers: JSON decoding, malformed lines, steps."""

    name = "agent"

    def __init__(self) -> None:
        self.lineno = 0
        self.steps: list[Step] = []
        self.malformed: list[int] = []
        self.session_id = ""
        self.usage: dict[str, int] = {}
        self.cost: float | None = None
        self.texts: list[str] = []
        self.result: tuple[bool, str, str] | None = None  # (ok, final text, error)

    def feed(self, line: str) -> list[Step]:
        self.lineno += 1
        stripped = line.strip()
        if not stripped:
            return []
        try:
            data = msgspec.json.decode(stripped)
        except msgspec.DecodeError:
            data = None
        if not isinstance(data, dict):
            self.malformed.append(self.lineno)
            return []
        new = self.event(data)
        self.steps.extend(new)
        return new

    def event(self, data: dict[str, Any]) -> list[Step]:
        raise NotImplementedError

    def finish(self) -> Transcript:
        if self.result is None:
            error = f"the {self.name} stream ended without a final result"
            if self.malformed:
                error += f" (lines not JSON: {_lines(self.malformed)})"
            ok, final, err = False, "".join(self.texts), error
        else:
            ok, final, err = self.result
        return Transcript(
            ok=ok,
            final_text=final,
            error=err,
            session_id=self.session_id,
            usage={k: v for k, v in self.usage.items() if v},
            cost_usd=self.cost,
            steps=tuple(self.steps),
            malformed=tuple(self.malformed),
        )

    def add_usage(self, **counts: Any) -> None:
        for key, value in counts.items():
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                self.usage[key] = self.usage.get(key, 0) + value

    def set_usage(self, **counts: Any) -> None:
        self.usage = {}
        self.add_usage(**counts)


def _lines(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:5])
    return shown + (f" and {len(numbers) - 5} more" if len(numbers) > 5 else "")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _args(value: Any) -> str:
    if isinstance(value, str):
        return value
    return msgspec.json.encode(value).decode() if value is not None else ""


class ClaudeStream(_Base):
    """`claude -p --output-format stream-json --verbose`: system/assistant/user/result objects."""

    name = "claude-code"

    def event(self, data: dict[str, Any]) -> list[Step]:
        kind = data.get("type")
        self.session_id = _str(data.get("session_id")) or self.session_id
        if kind == "assistant":
            return self._assistant(data.get("message"))
        if kind == "user":
            return self._tool_results(data.get("message"))
        if kind == "result":
            self._result(data)
        return []

    def _assistant(self, message: Any) -> list[Step]:
        steps: list[Step] = []
        for block in _blocks(message):
            if block.get("type") == "text" and _str(block.get("text")):
                self.texts.append(block["text"])
                steps.append(Step("text", text=block["text"]))
            elif block.get("type") == "tool_use":
                steps.append(
                    Step("tool_call", tool=_str(block.get("name")), text=_args(block.get("input")))
                )
        return steps

    def _tool_results(self, message: Any) -> list[Step]:
        steps: list[Step] = []
        for block in _blocks(message):
            if block.get("type") == "tool_result":
                content = block.get("content")
                text = content if isinstance(content, str) else _args(content)
                steps.append(Step("tool_result", text=text))
        return steps

    def _result(self, data: dict[str, Any]) -> None:
        usage = _dict(data.get("usage"))
        read, write = usage.get("cache_read_input_tokens"), usage.get("cache_creation_input_tokens")
        fresh = sum(v for v in (usage.get("input_tokens"), read, write) if isinstance(v, int))
        self.set_usage(  # unified counts: input includes the cache reads and writes
            input_tokens=fresh,
            output_tokens=usage.get("output_tokens"),
            cache_read_tokens=read,
            cache_write_tokens=write,
        )
        cost = data.get("total_cost_usd")
        self.cost = float(cost) if isinstance(cost, int | float) else None
        final = _str(data.get("result")) or "".join(self.texts)
        failed = data.get("is_error") is True or _str(data.get("subtype")) not in ("", "success")
        error = ""
        if failed:
            error = final or f"claude-code ended with {data.get('subtype') or 'an error'}"
        self.result = (not failed, final, error)


def _blocks(message: Any) -> list[dict[str, Any]]:
    if not isinstance(message, dict):
        return []
    content = message.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


class CodexStream(_Base):
    """`codex exec --json`: thread.started, turn.*, item.* (agent_message, command_execution,
    file_change, ...) and error events."""

    name = "codex"

    def __init__(self) -> None:
        super().__init__()
        self.errors: list[str] = []

    def event(self, data: dict[str, Any]) -> list[Step]:
        kind = _str(data.get("type"))
        if kind == "thread.started":
            self.session_id = _str(data.get("thread_id"))
        elif kind == "item.completed" and isinstance(data.get("item"), dict):
            return self._item(data["item"])
        elif kind == "turn.completed":
            usage = _dict(data.get("usage"))
            self.add_usage(
                input_tokens=usage.get("input_tokens"),
                output_tokens=usage.get("output_tokens"),
                cache_read_tokens=usage.get("cached_input_tokens"),
                reasoning_tokens=usage.get("reasoning_output_tokens"),
            )
            self.result = (True, self.texts[-1] if self.texts else "", "")
        elif kind in ("turn.failed", "error"):
            error = data.get("error") if kind == "turn.failed" else data
            message = _str(error.get("message")) if isinstance(error, dict) else ""
            self.errors.append(message or kind)
            if kind == "turn.failed":
                self.result = (False, self.texts[-1] if self.texts else "", self.errors[-1])
        return []

    def _item(self, item: dict[str, Any]) -> list[Step]:
        kind = _str(item.get("type") or item.get("item_type"))
        if kind == "agent_message":
            text = _str(item.get("text"))
            self.texts.append(text)
            return [Step("text", text=text)]
        if kind == "command_execution":
            return [
                Step("tool_call", tool="shell", text=_str(item.get("command"))),
                Step("tool_result", text=_str(item.get("aggregated_output"))),
            ]
        if kind == "file_change":
            changes = _list(item.get("changes"))
            paths = [_str(c.get("path")) for c in changes if isinstance(c, dict)]
            return [Step("tool_call", tool="file_change", text=", ".join(p for p in paths if p))]
        if kind == "mcp_tool_call":
            tool, arguments = _str(item.get("tool")), _args(item.get("arguments"))
            return [Step("tool_call", tool=tool, text=arguments)]
        if kind == "error":
            return [Step("note", text=_str(item.get("message")))]
        return []


class GeminiStream(_Base):
    """`gemini -p --output-format stream-json`: init, message, tool_use, tool_result, error,
    result events."""

    name = "gemini-cli"

    def event(self, data: dict[str, Any]) -> list[Step]:
        kind = _str(data.get("type"))
        if kind == "init":
            self.session_id = _str(data.get("session_id") or data.get("sessionId"))
        elif kind == "message" and data.get("role") == "assistant":
            text = _str(data.get("content"))
            if text:
                self.texts.append(text)
                return [Step("text", text=text)]
        elif kind == "tool_use":
            params = data.get("parameters")
            return [Step("tool_call", tool=_str(data.get("tool_name")), text=_args(params))]
        elif kind == "tool_result":
            text = _str(data.get("output"))
            error = data.get("error")
            if isinstance(error, dict):
                text = text or _str(error.get("message"))
            return [Step("tool_result", text=text)]
        elif kind == "error":
            return [Step("note", text=_str(data.get("message")))]
        elif kind == "result":
            self._result(data)
        return []

    def _result(self, data: dict[str, Any]) -> None:
        stats = _dict(data.get("stats"))
        self.set_usage(
            input_tokens=stats.get("input_tokens"),
            output_tokens=stats.get("output_tokens"),
            cache_read_tokens=stats.get("cached"),
        )
        final = "".join(self.texts)
        ok = _str(data.get("status")) in ("", "success")
        error = data.get("error")
        message = _str(error.get("message")) if isinstance(error, dict) else ""
        self.result = (ok, final, "" if ok else message or f"gemini-cli ended {data.get('status')}")


PARSERS: dict[str, type[_Base]] = {
    "claude-code": ClaudeStream,
    "codex": CodexStream,
    "gemini-cli": GeminiStream,
}


def parser_for(kind: str) -> StreamParser:
    """A fresh parser for the CLI agent `kind` (`claude-code`, `codex`, `gemini-cli`)."""
    return PARSERS[kind]()
