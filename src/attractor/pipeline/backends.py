"""Pipeline layer (async shell): codergen backends — what answers a codergen node (spec §4.5).

Rule: a codergen node never calls a backend; it asks for `Call(name="codergen",
args=<CodergenCall>)`, and `as_call_performer(backend)` answers that call in the live
interpreter (`LiveInterpreter(calls={"codergen": as_call_performer(b)})`), returning the
`CodergenReply` as JSON builtins. The reply is recorded whole, so replay never runs a backend.

A backend that raises is not an effect failure: as spec §4.5 says, it is a FAIL outcome whose
`failure_reason` names the exception (`failure_reply`). Only arguments that are not a
`CodergenCall` (an engine bug) fail the effect itself.

Two backends live here: `SimulationBackend` (the spec's default, no LLM) and `ScriptedBackend`
(responses and outcomes per node and attempt from a JSON script; see docs/interviewers.md).
`LlmBackend` wraps the LLM layer's `UnifiedLlmCodergenBackend` for `--backend llm`;
`CliAgentBackend` (`agent_backends`) runs an installed CLI agent for `--backend claude-code`,
`codex` or `gemini-cli`. A node's `backend` attribute picks another backend for that node alone
(`NodeChoiceBackend`, which `as_call_performer` always puts in front).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

import msgspec

from attractor.agent.external import KINDS as CLI_AGENTS
from attractor.agent.external import CliAgentMissing
from attractor.llm.client import Client
from attractor.llm.codergen import UnifiedLlmCodergenBackend
from attractor.llm.errors import ConfigurationError
from attractor.pipeline.agent_backends import CliAgentBackend
from attractor.pipeline.model import CodergenCall, CodergenReply, Outcome, StageStatus

CODERGEN = "codergen"
"""The `Call` name codergen nodes use."""

DEFAULT_KEY = "*"
"""The script key whose entries answer nodes the script does not name."""


class CodergenBackend(Protocol):
    """Runs one codergen call: response text, an outcome, or both."""

    async def run(self, call: CodergenCall) -> CodergenReply:
        """Answer `call`. May raise: the performer turns an exception into a FAIL outcome."""
        ...


def simulated_response(node_id: str) -> str:
    """The simulation-mode response text (spec §4.5)."""
    return f"[Simulated] Response for stage: {node_id}"


class SimulationBackend:
    """The spec's simulation mode: every stage succeeds with a fixed response, no LLM."""

    async def run(self, call: CodergenCall) -> CodergenReply:
        """Reply `[Simulated] Response for stage: <node_id>`."""
        return CodergenReply(response=simulated_response(call.node_id))


# ---------------------------------------------------------------------------------------------
# Script file

StatusName = Literal["success", "partial_success", "retry", "fail", "skipped"]


class ScriptOutcome(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An outcome in status-file shape (spec Appendix C)."""

    outcome: StatusName
    preferred_label: str = ""
    suggested_next_ids: tuple[str, ...] = ()
    context_updates: dict[str, Any] = {}
    notes: str = ""
    failure_reason: str = ""

    def to_outcome(self) -> Outcome:
        """The engine's `Outcome` for this entry."""
        return Outcome(
            status=StageStatus(self.outcome),
            preferred_label=self.preferred_label,
            suggested_next_ids=self.suggested_next_ids,
            context_updates=self.context_updates,
            notes=self.notes,
            failure_reason=self.failure_reason,
        )


class ScriptEntry(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, rename={"fail": "raise"}
):
    """What the backend does on one attempt of one node."""

    response: str | None = None
    outcome: ScriptOutcome | None = None
    write_status: bool = False
    fail: str | None = None  # `"raise"` in the file: the backend raises with this message
    delay_ms: Annotated[int, msgspec.Meta(ge=0)] = 0
    usage: dict[str, int] = {}
    model: str = ""  # the model the reply says answered (prices its usage from the catalog)


class Script(msgspec.Struct, frozen=True):
    """A validated script: node id (or `*`) -> one entry per attempt, the last repeating."""

    source: str
    nodes: dict[str, tuple[ScriptEntry, ...]]

    def entry_for(self, node_id: str, attempt: int) -> ScriptEntry | None:
        """The entry for `attempt` (1-based) of `node_id`, falling back to `*`; None if neither."""
        entries = self.nodes.get(node_id) or self.nodes.get(DEFAULT_KEY)
        if entries is None:
            return None
        return entries[min(max(attempt, 1), len(entries)) - 1]


class ScriptFileError(ValueError):
    """A script file is not valid. Names the file and the JSON path of the problem."""

    def __init__(self, file: str, json_path: str, reason: str) -> None:
        self.file, self.json_path, self.reason = file, json_path, reason
        super().__init__(f"{file}: at {json_path}: {reason}")


_AT = re.compile(r"^(.*) - at `\$([^`]*)`$", re.DOTALL)
_ENTRY_FIELDS = "response, outcome, write_status, raise, delay_ms, usage, model"
_OUTCOME_FIELDS = (
    "outcome, preferred_label, suggested_next_ids, context_updates, notes, failure_reason"
)
_BYTE = re.compile(r"\(byte (\d+)\)")


def load_script(path: str | Path) -> Script:
    """Read and validate a scripted-backend file before the run starts.

    Raises:
        ScriptFileError: unreadable, not JSON, or not the documented shape; the error gives the
            JSON path (e.g. `$.review[1].outcome.outcome`) and what was expected there.
    """
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ScriptFileError(source, "$", f"cannot read the script: {exc.strerror}") from None
    try:
        data = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise ScriptFileError(source, "$", _malformed(raw, str(exc))) from None
    return script_from_mapping(data, source)


def script_from_mapping(data: Any, source: str = "<script>") -> Script:
    """Validate a decoded script (same rules as `load_script`): shapes, then combinations."""
    if not isinstance(data, dict):
        raise ScriptFileError(source, "$", 'must be a JSON object such as {"plan": {...}}')
    nodes: dict[str, tuple[ScriptEntry, ...]] = {}
    for node_id, value in data.items():
        base = _key_path(node_id)
        if not node_id.strip():
            raise ScriptFileError(source, base, "a node id is empty")
        try:
            typed = msgspec.convert(value, ScriptEntry | list[ScriptEntry])
        except msgspec.ValidationError as exc:
            raise _shape_error(source, base, str(exc)) from None
        entries = [typed] if isinstance(typed, ScriptEntry) else typed
        if not entries:
            raise ScriptFileError(source, base, "the list of attempts is empty")
        for i, entry in enumerate(entries):
            problem = _entry_problem(entry)
            if problem:
                where = base if isinstance(typed, ScriptEntry) else f"{base}[{i}]"
                raise ScriptFileError(source, where, problem)
        nodes[node_id] = tuple(entries)
    return Script(source=source, nodes=nodes)


def _entry_problem(entry: ScriptEntry) -> str:
    if entry.fail is not None and (entry.response is not None or entry.outcome is not None):
        return "`raise` cannot be combined with `response` or `outcome`"
    if entry.fail is None and entry.response is None and entry.outcome is None:
        return "an entry needs `response`, `outcome` or `raise`"
    if entry.write_status and entry.outcome is None:
        return "`write_status` needs an `outcome` to write"
    return ""


def _shape_error(source: str, base: str, message: str) -> ScriptFileError:
    found = _AT.match(message)
    reason, path = (found.group(1), base + found.group(2)) if found else (message, base)
    if "Invalid enum value" in reason:
        reason += " (expected one of: success, partial_success, retry, fail, skipped)"
    elif "unknown field" in reason:
        allowed = _OUTCOME_FIELDS if path.endswith(".outcome") else _ENTRY_FIELDS
        reason += f" (allowed: {allowed})"
    return ScriptFileError(source, path, reason)


def _malformed(raw: bytes, message: str) -> str:
    found = _BYTE.search(message)
    if not found:
        return message
    offset = int(found.group(1))
    line = raw.count(b"\n", 0, offset) + 1
    col = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
    return f"{message[: found.start()].rstrip()} (line {line}, column {col})"


def _key_path(key: str) -> str:
    return f"$.{key}" if key.isidentifier() else "$[" + msgspec.json.encode(key).decode() + "]"


# ---------------------------------------------------------------------------------------------
# Scripted backend


class ScriptedFailure(RuntimeError):
    """Raised by `ScriptedBackend` for an entry with `raise`: a backend that crashes."""


class ScriptedBackend:
    """Replies from a script: per node and attempt, the last entry repeating, `*` for the rest.

    Nodes the script does not name (and no `*`) get the simulation reply. With `write_status`,
    the backend writes the outcome as `status.json` into the stage directory itself (the
    status-file contract) and replies with the response text only; the engine reads the file.
    `calls` lists every call this instance ran, for tests.
    """

    def __init__(self, script: Script | str | Path) -> None:
        self.script = script if isinstance(script, Script) else load_script(script)
        self.calls: list[CodergenCall] = []

    async def run(self, call: CodergenCall) -> CodergenReply:
        """The scripted reply for this node and attempt."""
        self.calls.append(call)
        entry = self.script.entry_for(call.node_id, call.attempt)
        if entry is None:
            return CodergenReply(response=simulated_response(call.node_id))
        if entry.delay_ms:
            await asyncio.sleep(entry.delay_ms / 1000)
        if entry.fail is not None:
            raise ScriptedFailure(entry.fail)
        response = entry.response or ""
        if entry.outcome is not None and entry.write_status:
            write_status_file(call.stage_dir, entry.outcome)
            return CodergenReply(response=response, usage=entry.usage, model=entry.model)
        outcome = entry.outcome.to_outcome() if entry.outcome is not None else None
        return CodergenReply(
            response=response, outcome=outcome, usage=entry.usage, model=entry.model
        )


_status_encoder = msgspec.json.Encoder(order="deterministic")


def write_status_file(stage_dir: str, outcome: ScriptOutcome) -> Path:
    """Write `status.json` (spec Appendix C) into `stage_dir` atomically; returns its path."""
    if not stage_dir:
        raise ScriptedFailure("write_status needs the call's stage_dir, which is empty")
    target = Path(stage_dir) / "status.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    fields = {k: v for k, v in msgspec.to_builtins(outcome).items() if v or k == "outcome"}
    tmp = target.with_name(f".status.json.{os.getpid()}.tmp")
    tmp.write_bytes(_status_encoder.encode(fields) + b"\n")
    tmp.replace(target)
    return target


# ---------------------------------------------------------------------------------------------
# Plugging into the live interpreter


class CodergenArgsError(ValueError):
    """A `Call("codergen")` whose arguments are not a `CodergenCall`."""


class BackendSpecError(ValueError):
    """A `--backend` value that names no backend."""


def failure_reply(exc: BaseException) -> CodergenReply:
    """The reply for a backend that raised: a FAIL outcome naming the exception (spec §4.5)."""
    reason = f"backend raised {type(exc).__name__}: {exc}"
    return CodergenReply(outcome=Outcome(status=StageStatus.FAIL, failure_reason=reason))


def decode_call(args: Any) -> CodergenCall:
    """The `CodergenCall` in a `Call` effect's arguments; raises `CodergenArgsError`."""
    try:
        return msgspec.convert(args, CodergenCall)
    except msgspec.ValidationError as exc:
        raise CodergenArgsError(f"codergen call arguments are not valid: {exc}") from None


def as_call_performer(backend: CodergenBackend) -> Callable[[Any], Awaitable[Any]]:
    """The user function for `LiveInterpreter(calls={CODERGEN: ...})`.

    Decodes the arguments, runs the backend, and returns the `CodergenReply` as JSON builtins
    (decode it with `msgspec.convert(value, CodergenReply)`). A backend exception becomes
    `failure_reply(exc)`; bad arguments raise `CodergenArgsError`, which the interpreter records
    as a failed effect.
    """

    chooser = backend if isinstance(backend, NodeChoiceBackend) else NodeChoiceBackend(backend)

    async def codergen(args: Any) -> Any:
        call = decode_call(args)
        try:
            reply = await chooser.run(call)
        except Exception as exc:  # spec §4.5: a backend that raises is a FAIL outcome
            reply = failure_reply(exc)
        return msgspec.to_builtins(reply)

    return codergen


def backend_from_spec(spec: str) -> CodergenBackend:
    """The backend a `--backend` value names: `simulate`, `scripted:FILE` (loaded now), `llm`
    (the unified LLM client configured from the environment), or an installed CLI agent
    (`claude-code`, `codex`, `gemini-cli`).

    Raises:
        BackendSpecError: an unknown name, `llm` without any provider key set, or a CLI agent
            whose executable is not installed. `ScriptFileError` for a bad script file.
    """
    name, _, arg = spec.partition(":")
    if name == "simulate" and not arg:
        return SimulationBackend()
    if name == "scripted" and arg:
        return ScriptedBackend(load_script(arg))
    if name == "llm" and not arg:
        return llm_backend()
    if name in CLI_AGENTS and not arg:
        return cli_agent_backend(name)
    raise BackendSpecError(
        f"unknown backend {spec!r}: use 'simulate' or 'scripted:FILE', 'llm' for the unified "
        f"LLM client configured from the environment, or a CLI agent ({', '.join(CLI_AGENTS)})"
    )


def cli_agent_backend(kind: str) -> CliAgentBackend:
    """The backend running the CLI agent `kind`; BackendSpecError when it is not installed."""
    backend = CliAgentBackend(kind)
    try:
        backend.check()
    except CliAgentMissing as exc:
        raise BackendSpecError(f"backend {kind!r}: {exc}") from None
    return backend


NODE_BACKEND_ATTR = "backend"
"""The node attribute that picks a backend for one node (`backend="codex"`)."""


class NodeChoiceBackend:
    """The run's backend, except for nodes whose `backend` attribute names another one (built
    when first needed and kept for the run; a name that cannot be used is that stage's FAIL)."""

    def __init__(self, default: CodergenBackend) -> None:
        self.default = default
        self._chosen: dict[str, CodergenBackend] = {}

    async def run(self, call: CodergenCall) -> CodergenReply:
        """Answer with the backend the node names, or with the run's."""
        name = call.node_attrs.get(NODE_BACKEND_ATTR, "").strip()
        if not name:
            return await self.default.run(call)
        if name not in self._chosen:
            try:
                self._chosen[name] = backend_from_spec(name)
            except (BackendSpecError, ScriptFileError) as exc:
                reason = f"node {call.node_id!r} has backend={name!r}: {exc}"
                return CodergenReply(
                    outcome=Outcome(status=StageStatus.FAIL, failure_reason=reason)
                )
        return await self._chosen[name].run(call)


class LlmBackend:
    """`UnifiedLlmCodergenBackend` (LLM layer) with its reply typed as a `CodergenReply`."""

    def __init__(self, inner: UnifiedLlmCodergenBackend) -> None:
        self.inner = inner

    async def run(self, call: CodergenCall) -> CodergenReply:
        """Answer with the unified LLM client; errors are FAIL/RETRY outcomes."""
        reply = await self.inner.run(call)
        return msgspec.convert(msgspec.to_builtins(reply), CodergenReply)


def llm_backend(client: Client | None = None) -> LlmBackend:
    """The `llm` backend over `client`, or over `Client.from_env()` (BackendSpecError if empty)."""
    if client is None:
        try:
            client = Client.from_env()
        except ConfigurationError as exc:
            raise BackendSpecError(f"backend 'llm': {exc.message}") from None
        if not client.provider_names:
            raise BackendSpecError(
                "backend 'llm' needs a provider key: set OPENAI_API_KEY, ANTHROPIC_API_KEY, "
                "GEMINI_API_KEY (or GOOGLE_API_KEY), or OPENAI_COMPATIBLE_BASE_URL"
            )
    return LlmBackend(UnifiedLlmCodergenBackend(client))
