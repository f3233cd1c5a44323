"""Codergen backends: simulation, scripted per attempt, script validation, the call performer,
and both performers running under the live interpreter and the driver."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from attractor.effects import (
    AskHuman,
    Call,
    Called,
    EffectCompleted,
    EffectError,
    HumanAnswered,
    LiveInterpreter,
    Option,
    Question,
    Recording,
    drive,
    replay,
)
from attractor.events import BlobStore, MemoryStore
from attractor.pipeline.backends import (
    CODERGEN,
    BackendSpecError,
    CodergenArgsError,
    Script,
    ScriptedBackend,
    ScriptedFailure,
    ScriptFileError,
    SimulationBackend,
    as_call_performer,
    backend_from_spec,
    load_script,
)
from attractor.pipeline.interviewers import (
    QueueInterviewer,
    RecordingInterviewer,
    as_performer,
    load_answers,
)
from attractor.pipeline.model import (
    CodergenCall,
    CodergenReply,
    Outcome,
    StageStatus,
    outcome_from_status_json,
)
from attractor.testing.machines import ScriptMachine, Step

SCRIPT = {
    "implement": [
        {"response": "first try", "outcome": {"outcome": "retry", "failure_reason": "tests red"}},
        {"response": "fixed it", "usage": {"input_tokens": 7}},
    ],
    "review": {"outcome": {"outcome": "success", "preferred_label": "Approve"}},
    "crash": {"raise": "provider exploded"},
    "*": {"response": "default text"},
}


def _call(node: str, attempt: int = 1, stage_dir: str = "") -> CodergenCall:
    return CodergenCall(node_id=node, prompt="do it", attempt=attempt, stage_dir=stage_dir)


def _script_file(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "script.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_simulation_backend_replies_with_the_spec_text() -> None:
    """Simulation mode answers `[Simulated] Response for stage: <id>` and no outcome."""
    reply = _run(SimulationBackend().run(_call("plan")))
    assert reply == CodergenReply(response="[Simulated] Response for stage: plan")


def test_scripted_backend_answers_per_attempt_and_repeats_the_last(tmp_path: Path) -> None:
    """Attempt n takes entry n; attempts past the list take the last entry."""
    backend = ScriptedBackend(_script_file(tmp_path, SCRIPT))
    first, second, third = (_run(backend.run(_call("implement", n))) for n in (1, 2, 3))
    assert first == CodergenReply(
        response="first try",
        outcome=Outcome(status=StageStatus.RETRY, failure_reason="tests red"),
    )
    assert second == CodergenReply(response="fixed it", usage={"input_tokens": 7})
    assert third == second
    assert [c.attempt for c in backend.calls] == [1, 2, 3]


def test_a_single_entry_serves_every_attempt(tmp_path: Path) -> None:
    """A node given one entry (not a list) answers it on every attempt."""
    backend = ScriptedBackend(_script_file(tmp_path, SCRIPT))
    for attempt in (1, 4):
        reply = _run(backend.run(_call("review", attempt)))
        assert reply.outcome == Outcome(status=StageStatus.SUCCESS, preferred_label="Approve")


def test_star_entry_answers_unscripted_nodes(tmp_path: Path) -> None:
    """Nodes the script does not name take the `*` entry."""
    backend = ScriptedBackend(_script_file(tmp_path, SCRIPT))
    assert _run(backend.run(_call("anything"))) == CodergenReply(response="default text")


def test_without_star_unscripted_nodes_get_the_simulation_reply(tmp_path: Path) -> None:
    """With no `*`, an unscripted node gets the simulation text."""
    backend = ScriptedBackend(_script_file(tmp_path, {"plan": {"response": "p"}}))
    assert _run(backend.run(_call("other"))).response == "[Simulated] Response for stage: other"


def test_scripted_raise_raises(tmp_path: Path) -> None:
    """An entry with `raise` makes the backend raise with that message."""
    backend = ScriptedBackend(_script_file(tmp_path, SCRIPT))
    with pytest.raises(ScriptedFailure, match="provider exploded"):
        _run(backend.run(_call("crash")))


def test_write_status_writes_status_json_for_the_engine(tmp_path: Path) -> None:
    """With write_status, status.json lands in the stage dir and the reply carries no outcome."""
    script = {"gate": {"response": "done", "write_status": True, "outcome": {
        "outcome": "partial_success", "suggested_next_ids": ["fix"],
        "context_updates": {"score": 3}, "notes": "half"}}}  # fmt: skip
    stage_dir = tmp_path / "run" / "gate"
    backend = ScriptedBackend(_script_file(tmp_path, script))
    reply = _run(backend.run(_call("gate", stage_dir=str(stage_dir))))
    assert reply == CodergenReply(response="done")
    written = (stage_dir / "status.json").read_text()
    assert json.loads(written) == {
        "outcome": "partial_success",
        "suggested_next_ids": ["fix"],
        "context_updates": {"score": 3},
        "notes": "half",
    }
    assert outcome_from_status_json(written) == Outcome(
        status=StageStatus.PARTIAL_SUCCESS,
        suggested_next_ids=("fix",),
        context_updates={"score": 3},
        notes="half",
    )


def test_delay_ms_delays_the_reply(tmp_path: Path) -> None:
    """`delay_ms` makes the backend take at least that long (for concurrency tests)."""
    backend = ScriptedBackend(_script_file(tmp_path, {"slow": {"response": "x", "delay_ms": 60}}))

    async def timed() -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        await backend.run(_call("slow"))
        return loop.time() - start

    assert _run(timed()) >= 0.05


# --- script validation ------------------------------------------------------------------------


BAD_SCRIPTS = [
    ('{"plan": \n {"response": "x",}}', "$", "trailing comma in object (line 2, column 19)"),
    ("[1, 2]", "$", "must be a JSON object"),
    ('{"plan": 3}', "$.plan", "Expected `object | array`, got `int`"),
    ('{"plan": {"reponse": "x"}}', "$.plan", "`reponse` (allowed: response, outcome,"),
    (
        '{"plan": [{"response": "x"}, {"outcome": {"outcome": "sucess"}}]}',
        "$.plan[1].outcome.outcome",
        "Invalid enum value 'sucess' (expected one of: success, partial_success, retry,",
    ),
    (
        '{"plan": {"outcome": {"outcome": "fail", "reason": "x"}}}',
        "$.plan.outcome",
        "unknown field `reason` (allowed: outcome, preferred_label,",
    ),
    ('{"plan": [{"response": 3}]}', "$.plan[0].response", "Expected `str | null`, got `int`"),
    ('{"a b": {"response": "y", "delay_ms": -1}}', '$["a b"].delay_ms', "Expected `int` >= 0"),
    ('{"plan": []}', "$.plan", "the list of attempts is empty"),
    ('{"plan": [{"response": "x"}, {}]}', "$.plan[1]", "needs `response`, `outcome` or `raise`"),
    ('{"plan": {"raise": "x", "response": "y"}}', "$.plan", "`raise` cannot be combined"),
    ('{"plan": {"write_status": true, "response": "y"}}', "$.plan", "needs an `outcome`"),
    ('{"": {"response": "y"}}', '$[""]', "a node id is empty"),
]


@pytest.mark.parametrize(("content", "path", "reason"), BAD_SCRIPTS)
def test_malformed_scripts_name_file_and_json_path(
    tmp_path: Path, content: str, path: str, reason: str
) -> None:
    """Every malformed script gives ScriptFileError with the file, the JSON path and the reason."""
    file = _script_file(tmp_path, content)
    with pytest.raises(ScriptFileError) as info:
        load_script(file)
    assert (info.value.file, info.value.json_path) == (str(file), path)
    assert reason in info.value.reason
    assert str(info.value).startswith(f"{file}: at {path}: ")


def test_missing_script_file_is_a_clear_error(tmp_path: Path) -> None:
    """A script that cannot be read says so."""
    with pytest.raises(ScriptFileError, match="cannot read the script"):
        load_script(tmp_path / "nope.json")


def test_backend_from_spec_parses_cli_values(tmp_path: Path) -> None:
    """`simulate` and `scripted:FILE` name backends; anything else is a clear error."""
    assert isinstance(backend_from_spec("simulate"), SimulationBackend)
    scripted = backend_from_spec(f"scripted:{_script_file(tmp_path, SCRIPT)}")
    assert isinstance(scripted, ScriptedBackend)
    assert isinstance(scripted.script, Script)
    with pytest.raises(BackendSpecError, match="use 'simulate' or 'scripted:FILE'"):
        backend_from_spec("llm-please")
    with pytest.raises(ScriptFileError):
        backend_from_spec(f"scripted:{tmp_path / 'missing.json'}")


# --- the call performer -----------------------------------------------------------------------


def test_call_performer_returns_the_reply_as_builtins(tmp_path: Path) -> None:
    """The performer decodes the call and returns JSON builtins that decode back to the reply."""
    perform = as_call_performer(ScriptedBackend(_script_file(tmp_path, SCRIPT)))
    value = _run(perform(msgspec.to_builtins(_call("implement"))))
    assert value == {
        "response": "first try",
        "outcome": {"status": "retry", "failure_reason": "tests red"},
    }
    assert msgspec.convert(value, CodergenReply).outcome == Outcome(
        status=StageStatus.RETRY, failure_reason="tests red"
    )


def test_a_raising_backend_becomes_a_fail_outcome(tmp_path: Path) -> None:
    """Spec §4.5: a backend exception is a FAIL outcome whose reason names the exception."""
    perform = as_call_performer(ScriptedBackend(_script_file(tmp_path, SCRIPT)))
    value = _run(perform(msgspec.to_builtins(_call("crash"))))
    assert msgspec.convert(value, CodergenReply) == CodergenReply(
        outcome=Outcome(
            status=StageStatus.FAIL,
            failure_reason="backend raised ScriptedFailure: provider exploded",
        )
    )


def test_bad_call_arguments_are_a_typed_error() -> None:
    """Arguments that are not a CodergenCall raise CodergenArgsError naming the problem."""
    perform = as_call_performer(SimulationBackend())
    with pytest.raises(CodergenArgsError, match="missing required field `node_id`"):
        _run(perform({"prompt": "x"}))


def test_bad_call_arguments_fail_the_effect_in_the_interpreter(tmp_path: Path) -> None:
    """Under the live interpreter, bad arguments become a recorded EffectError, not a crash."""

    async def go() -> Any:
        interp = LiveInterpreter(
            BlobStore(tmp_path), calls={CODERGEN: as_call_performer(SimulationBackend())}
        )
        interp.start("run#c", Call(name=CODERGEN, args={"prompt": 1}))
        return (await interp.next_result())[1]

    outcome = _run(go())
    assert isinstance(outcome, EffectError)
    assert outcome.message.startswith("CodergenArgsError: codergen call arguments are not valid")


# --- integration: live interpreter + driver + replay ------------------------------------------

GATE = Question(
    id="review@0.1",
    text="Ship?",
    kind="multiple_choice",
    options=(Option(key="A", label="[A] Approve"), Option(key="R", label="[R] Revise")),
    stage="review",
)


def _pipeline_script() -> dict[str, list[Step]]:
    call = msgspec.to_builtins(_call("implement", 2))
    return {
        "run/node:implement": [Step(kind="effect", effect=Call(name=CODERGEN, args=call))],
        "run/node:review": [Step(kind="effect", effect=AskHuman(question=GATE))],
    }


def test_performers_run_under_the_driver_and_replay_without_asking(tmp_path: Path) -> None:
    """AskHuman and Call("codergen") are answered live, recorded, and replayed byte for byte
    without asking the interviewer or running the backend again."""
    backend = ScriptedBackend(_script_file(tmp_path, SCRIPT))
    interviewer = RecordingInterviewer(QueueInterviewer(["revise"]))
    interp = LiveInterpreter(
        BlobStore(tmp_path / "blobs"),
        performers={AskHuman: as_performer(interviewer)},
        calls={CODERGEN: as_call_performer(backend)},
    )
    ticks = iter(range(1000))
    store = MemoryStore(lambda: f"2026-01-01T00:00:00.{next(ticks):06d}Z")
    result = _run(drive(ScriptMachine(_pipeline_script()), store, interp))
    assert result.stopped == "done"
    results = [e.event.result for e in store.entries() if isinstance(e.event, EffectCompleted)]
    assert {type(r) for r in results} == {Called, HumanAnswered}
    called = next(r for r in results if isinstance(r, Called))
    assert msgspec.convert(called.value, CodergenReply).response == "fixed it"
    human = next(r for r in results if isinstance(r, HumanAnswered))
    assert (human.answer.value, human.answer.text) == ("R", "[R] Revise")

    replayed = _run(replay(ScriptMachine(_pipeline_script()), Recording.from_lines(store.lines)))
    assert replayed.stopped == "done"
    assert len(backend.calls) == 1
    assert len(interviewer.recordings) == 1


def test_the_documented_file_examples_load(tmp_path: Path) -> None:
    """The answers file and script shown in docs/interviewers.md are valid."""
    doc = (Path(__file__).parents[2] / "docs" / "interviewers.md").read_text()
    answers, script = (block.split("```")[0] for block in doc.split("```json\n")[1:3])
    assert load_answers(_script_file(tmp_path, answers)).answers["deploy_gate"] == ("yes",)
    loaded = load_script(_script_file(tmp_path, script))
    assert set(loaded.nodes) == {"plan", "implement", "review", "deploy", "*"}


def test_write_status_without_a_stage_dir_fails_the_stage(tmp_path: Path) -> None:
    """A status file cannot be written without a stage dir: the node FAILs and says why."""
    script = {"gate": {"write_status": True, "outcome": {"outcome": "success"}}}
    perform = as_call_performer(ScriptedBackend(_script_file(tmp_path, script)))
    reply = msgspec.convert(_run(perform(msgspec.to_builtins(_call("gate")))), CodergenReply)
    assert reply.outcome is not None
    assert reply.outcome.status is StageStatus.FAIL
    assert "write_status needs the call's stage_dir" in reply.outcome.failure_reason
