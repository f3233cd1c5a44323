"""Usage and cost per stage and per run: catalog prices, CLI-reported cost, totals that add up,
`attractor status` / `--json` / manifest.json showing them, and `max_cost_usd` stopping a run."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from attractor.cli._app import _register, app
from attractor.cli._events import load_event_types
from attractor.cli._live import RunView
from attractor.events import read_log
from attractor.llm.catalog import get_model_info
from attractor.pipeline.model import CodergenCall
from attractor.pipeline.projector import Projector
from attractor.pipeline.usage import (
    SpendGuard,
    StageSpend,
    format_spend,
    parse_cap,
    price_of,
    spend_of,
    total,
)

runner = CliRunner()
_register()
load_event_types()
SONNET = "claude-sonnet-4-5"  # catalogued at $3 in / $15 out per million tokens


def test_price_of_uses_the_catalog_and_unknown_models_have_none() -> None:
    info = get_model_info(SONNET)
    assert info is not None
    assert info.input_cost_per_million == 3.0
    assert price_of(SONNET, {"input_tokens": 1_000_000, "output_tokens": 100_000}) == 4.5
    assert price_of("no-such-model", {"input_tokens": 10}) is None
    assert price_of("", {"input_tokens": 10}) is None


def test_a_reported_cost_wins_over_the_catalog_and_node_model_is_the_fallback() -> None:
    args = {"node_id": "a", "attempt": 2, "node_attrs": {"llm_model": SONNET}}
    priced = spend_of(args, {"usage": {"input_tokens": 1000, "output_tokens": 200}})
    assert priced == StageSpend(
        node="a",
        attempt=2,
        model=SONNET,
        tokens={"input_tokens": 1000, "output_tokens": 200},
        cost_usd=pytest.approx(0.006),
    )
    reported = spend_of(args, {"usage": {"input_tokens": 5}, "cost_usd": 0.5, "model": "x"})
    assert reported is not None
    assert (reported.model, reported.cost_usd) == ("x", 0.5)


def test_totals_add_up_and_unpriced_stages_are_counted() -> None:
    stages = [
        StageSpend(node="a", attempt=1, tokens={"input_tokens": 10}, cost_usd=0.25),
        StageSpend(node="b", attempt=1, tokens={"input_tokens": 5, "output_tokens": 1}),
        StageSpend(node="c", attempt=1, tokens={"output_tokens": 2}, cost_usd=0.5),
    ]
    spend = total(stages)
    assert spend.tokens == {"input_tokens": 15, "output_tokens": 3}
    assert (spend.cost_usd, spend.priced_stages, spend.unpriced_stages) == (0.75, 2, 1)
    assert format_spend(spend) == "in 15 · out 3 — $0.7500 (1 stage(s) on models without a price)"


@pytest.mark.parametrize(
    ("text", "cap"), [("2.5", 2.5), ("$1", 1.0), ("", None), ("lots", None), ("-1", None)]
)
def test_parse_cap(text: str, cap: float | None) -> None:
    assert parse_cap(text) == cap


def test_the_guard_refuses_a_stage_once_a_cap_is_reached() -> None:
    guard = SpendGuard()
    call = CodergenCall(
        node_id="impl",
        prompt="p",
        attempt=1,
        stage_dir="",
        node_attrs={"llm_model": SONNET},
        run_max_cost_usd="0.01",
    )
    assert guard.before(call) == ""
    reply = {"usage": {"input_tokens": 1000, "output_tokens": 200}}
    assert guard.after(call, reply) == ""  # $0.006 of $0.01
    crossed = guard.after(call, reply)
    assert crossed == "stage 'impl' took the run's spend to $0.0120, over its cap max_cost_usd=0.01"
    refused = guard.before(call)
    assert refused.startswith("run's spend $0.0120 has reached its cap max_cost_usd=0.01")
    node_capped = CodergenCall(
        node_id="impl", prompt="p", attempt=3, stage_dir="", node_attrs={"max_cost_usd": "0.005"}
    )
    assert "node 'impl''s spend" in SpendGuard(guard.book).before(node_capped)


PIPELINE = """digraph spend {
  graph [goal="g"%s]
  start [shape=Mdiamond]
  plan [shape=box, prompt="plan"]
  implement [shape=box, prompt="implement"]
  review [shape=box, prompt="review"]
  done [shape=Msquare]
  start -> plan -> implement -> review -> done
}
"""
USAGE = {"input_tokens": 1000, "output_tokens": 200, "cache_read_tokens": 100}
SCRIPT = {
    "plan": {"response": "p", "usage": USAGE, "model": SONNET},
    "implement": {"response": "i", "usage": USAGE, "model": SONNET},
    "review": {"response": "r", "usage": {"input_tokens": 7}, "model": "unpriced-model"},
}


def _run(tmp_path: Path, graph_attrs: str = "") -> tuple[int, str, Path]:
    dot = tmp_path / "p.dot"
    dot.write_text(PIPELINE % graph_attrs)
    script = tmp_path / "script.json"
    script.write_text(json.dumps(SCRIPT))
    runs = tmp_path / "runs"
    result = runner.invoke(
        app,
        [
            "run",
            str(dot),
            "--backend",
            f"scripted:{script}",
            "--logs-root",
            str(runs),
            "--no-fsync",
            "--quiet",
        ],
    )
    return result.exit_code, result.stdout, next(runs.iterdir())


def test_status_and_manifest_show_spend_per_stage_that_adds_up_to_the_run(tmp_path: Path) -> None:
    code, _, run_dir = _run(tmp_path)
    assert code == 0
    shown = runner.invoke(app, ["status", str(run_dir), "--json"])
    usage = json.loads(shown.stdout)["usage"]
    stages = usage["stages"]
    assert [s["node"] for s in stages] == ["plan", "implement", "review"]
    assert sum(s.get("cost_usd", 0) for s in stages) == pytest.approx(usage["total"]["cost_usd"])
    assert usage["total"]["tokens"] == {
        "input_tokens": 2007,
        "output_tokens": 400,
        "cache_read_tokens": 200,
    }
    assert usage["total"]["cost_usd"] == pytest.approx(0.012)
    assert usage["total"]["unpriced_stages"] == 1
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["usage"] == usage
    text = runner.invoke(app, ["status", str(run_dir)]).stdout
    assert "spend    in 2,007 · out 400 · cache read 200 — $0.0120 (1 stage(s)" in text


def test_a_run_spend_cap_fails_the_stage_that_crosses_it(tmp_path: Path) -> None:
    code, _, run_dir = _run(tmp_path, ', max_cost_usd="0.01"')
    assert code == 1
    status = json.loads(runner.invoke(app, ["status", str(run_dir), "--json"]).stdout)
    assert status["status"] == "failed"
    assert "stage 'implement' took the run's spend to $0.0120" in status["failure_reason"]
    assert "review" not in status["completed_nodes"]


def test_the_live_run_view_shows_the_spend_so_far(tmp_path: Path) -> None:
    code, _, run_dir = _run(tmp_path)
    assert code == 0
    projector = Projector()
    console = Console(file=io.StringIO(), force_terminal=True, color_system=None, width=160)
    view = RunView("live", lambda: projector.state, console)
    for entry in read_log(run_dir / "events.jsonl"):
        projector(entry)
        view(entry)
    console.print(view.render())
    assert "in 2,007 · out 400 · cache read 200 — $0.0120" in console.file.getvalue()  # type: ignore[attr-defined]
