"""`attractor llm`, `attractor models`, and `attractor run --backend llm` end to end against the
fake provider server over loopback HTTP (subprocesses with the *_BASE_URL variables set)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attractor.cli import _llm
from attractor.cli._app import _register, app
from attractor.llm import errors as e
from attractor.llm.client import Client
from attractor.llm.runtime import ProviderConfig, Secret
from attractor.llm.types import StreamEvent, StreamEventType
from attractor.testing.fake_providers import Error, FakeProviderServer, Scenario, Step
from attractor.testing.scripted_llm import ScriptedAdapter, ScriptItem, text_response

runner = CliRunner()
_register()
KEY = "sk-cli-secret-42"
SMOKE = Path(__file__).resolve().parents[2] / "examples" / "smoke.dot"
KEY_VARS = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "OPENAI_COMPATIBLE_API_KEY",
    "OPENAI_COMPATIBLE_BASE_URL",
)


def _scripted(monkeypatch: pytest.MonkeyPatch, *script: ScriptItem) -> ScriptedAdapter:
    adapter = ScriptedAdapter(script, name="anthropic")
    configs = {"anthropic": ProviderConfig(api_key=Secret(KEY))}

    def make() -> Client:
        return Client({"anthropic": adapter}, default_provider="anthropic", configs=configs)

    monkeypatch.setattr(_llm, "make_client", make)
    return adapter


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_llm_prints_the_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """A prompt is sent to the given model and the answer text printed."""
    adapter = _scripted(monkeypatch, text_response("Hello!"))
    code, out, _ = _invoke("llm", "Say hi", "--model", "claude-haiku-4-5", "--system", "Be brief")
    assert (code, out) == (0, "Hello!\n")
    request = adapter.calls[0].request
    assert request.model == "claude-haiku-4-5"
    assert [m.text for m in request.messages] == ["Be brief", "Say hi"]


def test_llm_stream_prints_deltas(monkeypatch: pytest.MonkeyPatch) -> None:
    """--stream writes the text as it arrives, then a newline."""
    adapter = _scripted(monkeypatch, text_response("a streamed answer of some length"))
    code, out, _ = _invoke("llm", "go", "--stream")
    assert (code, out) == (0, "a streamed answer of some length\n")
    assert adapter.calls[0].method == "stream"
    assert adapter.calls[0].request.model == "claude-opus-4-6"  # the provider's latest


def test_llm_json_prints_the_response(monkeypatch: pytest.MonkeyPatch) -> None:
    """--json prints the unified Response (usage included, raw body left out)."""
    _scripted(monkeypatch, text_response("x"))
    code, out, _ = _invoke("llm", "go", "--json")
    body = json.loads(out)
    assert code == 0
    assert body["message"]["content"][0]["text"] == "x"
    assert body["usage"]["total_tokens"] > 0
    assert "raw" not in body


def test_llm_provider_error_is_one_line_without_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A typed provider error exits 1 with provider and status; the key is redacted."""
    error = e.AuthenticationError(f"invalid key {KEY}", provider="anthropic", status_code=401)
    _scripted(monkeypatch, error)
    code, out, err = _invoke("llm", "go")
    assert code == 1
    assert err.strip() == "error: anthropic 401: AuthenticationError: invalid key <redacted>"
    assert KEY not in out + err


def test_llm_mid_stream_error_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    """An error after some streamed text ends the line and reports the error."""
    events: list[StreamEvent | e.SDKError] = [
        StreamEvent(type=StreamEventType.STREAM_START),
        StreamEvent(type=StreamEventType.TEXT_DELTA, delta="part", text_id="t"),
        e.ServerError("overloaded", provider="anthropic", status_code=529),
    ]
    _scripted(monkeypatch, events)
    code, out, err = _invoke("llm", "go", "--stream")
    assert code == 1
    assert out == "part\n"
    assert "anthropic 529" in err


def test_llm_routes_a_catalogued_model_to_its_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    """--model naming another registered provider's model goes to that provider."""
    openai, anthropic = ScriptedAdapter(name="openai"), ScriptedAdapter([text_response("hi")])
    providers = {"openai": openai, "anthropic": anthropic}
    monkeypatch.setattr(_llm, "make_client", lambda: Client(providers, default_provider="openai"))
    assert _invoke("llm", "go", "--model", "claude-haiku-4-5")[:2] == (0, "hi\n")
    assert not openai.calls
    assert anthropic.calls[0].request.provider == "anthropic"


def test_llm_error_before_any_text_prints_no_blank_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stream that fails before text leaves stdout empty."""
    _scripted(monkeypatch, e.NotFoundError("no such model", provider="anthropic", status_code=404))
    code, out, err = _invoke("llm", "go", "--stream", "--model", "nope")
    assert (code, out) == (1, "")
    assert err.startswith("error: anthropic 404: NotFoundError: no such model")


def test_llm_without_keys_exits_2_naming_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """No provider configured: exit 2 and the environment variables to set."""
    monkeypatch.setattr(_llm, "make_client", lambda: Client.from_env({}))
    code, _, err = _invoke("llm", "go")
    assert code == 2
    assert "OPENAI_API_KEY" in err
    assert "ANTHROPIC_API_KEY" in err


def test_llm_unconfigured_provider_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    """--provider naming a provider without a key names that provider's variable."""
    _scripted(monkeypatch)
    code, _, err = _invoke("llm", "go", "--provider", "gemini")
    assert code == 2
    assert "GEMINI_API_KEY" in err


def test_models_lists_the_catalog() -> None:
    """`models` prints the catalog table; --provider filters it."""
    code, out, _ = _invoke("models")
    assert code == 0
    assert "claude-opus-4-6" in out
    assert "gpt-5.2" in out
    code, out, _ = _invoke("models", "--provider", "gemini")
    assert "gemini-2.5-pro" in out
    assert "claude" not in out


def test_models_json_and_unknown_provider() -> None:
    """--json prints model records; an unknown provider exits 2 listing the known ones."""
    code, out, _ = _invoke("models", "--provider", "openai", "--json")
    rows = json.loads(out)
    assert code == 0
    assert {r["provider"] for r in rows} == {"openai"}
    assert rows[0]["id"] == "gpt-5.2"
    code, _, err = _invoke("models", "--provider", "nope")
    assert code == 2
    assert "anthropic" in err


# ---------------------------------------------------------------------------------------------
# Over HTTP: subprocesses against the fake provider server.


@pytest.fixture(scope="module")
def server() -> Iterator[FakeProviderServer]:
    """One fake provider server for the module."""
    with FakeProviderServer() as fake:
        yield fake


def _env(server: FakeProviderServer, **keys: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in KEY_VARS}
    env.update(server.env())
    env.update(keys)
    env["COLUMNS"] = "200"
    return env


def _cli(
    env: dict[str, str], *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "attractor", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=cwd)


@pytest.mark.parametrize(
    ("provider", "key_var"),
    [
        ("openai", "OPENAI_API_KEY"),
        ("anthropic", "ANTHROPIC_API_KEY"),
        ("gemini", "GEMINI_API_KEY"),
        ("openai_compatible", "OPENAI_COMPATIBLE_API_KEY"),
    ],
)
def test_llm_streams_over_http(server: FakeProviderServer, provider: str, key_var: str) -> None:
    """`attractor llm --stream` reaches each provider's wire API on the fake server."""
    server.play(Scenario(steps=(Step(text="Hello from the fake."),)))
    env = _env(server, **{key_var: KEY}, OPENAI_COMPATIBLE_BASE_URL=server.url + "/v1")
    args = ("llm", "hi", "-p", provider, "--stream", "--model", "fake-model")
    done = _cli(env, *args)
    assert (done.returncode, done.stdout, done.stderr) == (0, "Hello from the fake.\n", "")
    assert server.requests[0].has_api_key(KEY)
    sent = server.requests[0]
    assert "fake-model" in (sent.path if provider == "gemini" else sent.body["model"])


def test_llm_http_error_is_one_clear_line(server: FakeProviderServer) -> None:
    """A 400 from the provider is one line naming provider, status and error class; exit 1."""
    server.play(Scenario(steps=(Step(error=Error(status=400, message="bad things"), repeat=True),)))
    done = _cli(_env(server, OPENAI_API_KEY=KEY), "llm", "hi")
    assert done.returncode == 1
    assert done.stderr.startswith("error: openai 400: InvalidRequestError: ")
    assert len(done.stderr.strip().splitlines()) == 1
    assert KEY not in done.stdout + done.stderr


def test_run_backend_llm_end_to_end(server: FakeProviderServer, tmp_path: Path) -> None:
    """`attractor run --backend llm` runs a pipeline on the fake server, records usage and no
    key, and `attractor replay` reproduces it without any request."""
    server.play()
    env = _env(server, ANTHROPIC_API_KEY=KEY)
    done = _cli(env, "run", str(SMOKE), "--backend", "llm", "--logs-root", "runs", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert [r.path for r in server.requests] == ["/v1/messages"] * 3
    (log,) = (tmp_path / "runs").glob("*/events.jsonl")
    text = log.read_text()
    assert KEY not in text
    assert text.count('"usage":{"input_tokens":') == 3
    before = len(server.requests)
    replayed = _cli(_env(server), "replay", str(log.parent))
    assert replayed.returncode == 0, replayed.stderr
    assert "identical" in replayed.stdout
    assert len(server.requests) == before


def test_run_backend_llm_without_keys_names_the_variables(
    server: FakeProviderServer, tmp_path: Path
) -> None:
    """`--backend llm` with no key set fails before the run with the variables to set."""
    done = _cli(_env(server), "run", str(SMOKE), "--backend", "llm", cwd=tmp_path)
    assert done.returncode != 0
    assert "OPENAI_API_KEY" in done.stderr
    assert "Traceback" not in done.stderr
