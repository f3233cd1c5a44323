"""The dashboard in headless Chromium: start a run with a human gate from the form, watch the
node turn running, answer the gate by clicking, see the run finish and the graph turn green,
then move the time-travel slider and check the state shown."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.server.browser import chromium
from tests.server.kit import GATE_DOT, LiveServer, live_server

TIMEOUT_MS = 20_000
SCRIPT = {"write": {"response": "a first draft", "delay_ms": 1500}}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    (tmp_path / "gate.dot").write_text(GATE_DOT)
    (tmp_path / "script.json").write_text(json.dumps(SCRIPT))
    with live_server(tmp_path) as live:
        yield live


@pytest.fixture
def page(server: LiveServer) -> Iterator[Page]:
    with chromium() as browser:
        tab = browser.new_page(viewport={"width": 1400, "height": 1000})
        tab.set_default_timeout(TIMEOUT_MS)
        yield tab


def _node(page: Page, node: str) -> object:
    return page.locator("#graph g.node").filter(has=page.locator(f"title:text-is('{node}')"))


def _start_from_form(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/")
    page.check("input[name=kind][value=source]")
    page.fill("#dot-source", GATE_DOT)
    page.click("#validate-btn")
    expect(page.locator("#diagnostics")).to_contain_text("valid: 0 warning(s)")
    page.select_option("#backend", "scripted")
    page.fill("#script", str(server.logs_root.parent / "script.json"))
    page.click("#start-btn")
    page.wait_for_url("**/runs/*")


def test_a_gate_run_from_the_form_to_green_and_back_in_time(page: Page, server: LiveServer) -> None:
    """Form → running node → click the answer → succeeded and green → slider shows the past."""
    _start_from_form(page, server)
    expect(_node(page, "write")).to_have_class("node st-running current")
    expect(_node(page, "review")).to_have_class("node st-waiting current")
    page.locator(".question button.option", has_text="[A] Approve").click()
    expect(page.locator("#run-status")).to_have_text("succeeded")
    for node in ("start", "write", "review", "ship", "done"):
        expect(_node(page, node)).to_have_class("node st-success")
    expect(_node(page, "revise")).to_have_class("node st-pending")

    run_id = page.url.rsplit("/", 1)[1]
    lines = (server.logs_root / run_id / "events.jsonl").read_text().splitlines()
    write_started = next(
        i for i, line in enumerate(lines, 1) if '"stage.started","node":"write"' in line
    )
    page.locator("#seq-slider").fill(str(write_started))
    expect(page.locator("#seq-label")).to_contain_text(f"seq {write_started} · stage.started")
    expect(_node(page, "write")).to_have_class("node st-running current")
    expect(_node(page, "review")).to_have_class("node st-pending")
    expect(page.locator("#context")).to_contain_text('"current_node": "write"')
    expect(page.locator("#context")).not_to_contain_text("human.gate")
    page.click("#live-btn")
    expect(_node(page, "write")).to_have_class("node st-success")


def test_invalid_source_shows_compiler_style_diagnostics(page: Page, server: LiveServer) -> None:
    """The form validates first and shows `file:line:col: error[rule]` with the hint inline."""
    page.goto(server.url + "/")
    page.check("input[name=kind][value=source]")
    page.fill(
        "#dot-source", 'digraph x {\n  start [shape=Mdiamond]\n  a [prompt="x"]\n  start -> a\n}'
    )
    page.click("#start-btn")
    box = page.locator("#diagnostics")
    expect(box).to_contain_text("not valid")
    expect(box).to_contain_text("<pasted>:")
    expect(box).to_contain_text("error[terminal_node]")
    expect(page.locator("#start-status")).to_have_text("fix the errors above first")


def test_runs_list_updates_live_and_links_to_the_run(page: Page, server: LiveServer) -> None:
    """A run started elsewhere appears in the open runs list without a reload."""
    page.goto(server.url + "/")
    expect(page.locator("#page-info")).to_have_text("no runs yet")
    with server.client() as c:
        run_id = c.post("/pipelines", json={"source": GATE_DOT, "auto_approve": True}).json()["id"]
    row = page.locator(f"#runs-body tr[data-id='{run_id}']")
    expect(row).to_contain_text("succeeded")
    row.locator("a").click()
    page.wait_for_url(f"**/runs/{run_id}")
    expect(page.locator("#events-body tr")).not_to_have_count(0)


def test_cancel_resume_and_fork_from_here_buttons(page: Page, server: LiveServer) -> None:
    """Cancel stops the run, Resume continues it to the gate again, and "Fork from here" at an
    earlier seq opens a new run that waits at the same gate."""
    with server.client() as c:
        run_id = c.post("/pipelines", json={"source": GATE_DOT}).json()["id"]
    page.goto(f"{server.url}/runs/{run_id}")
    expect(page.locator(".question button.option")).to_have_count(2)
    page.click("#cancel-btn")
    expect(page.locator("#run-status")).to_have_text("cancelled")
    expect(page.locator(".question button.option").first).to_be_disabled()
    page.click("#resume-btn")
    expect(page.locator("#run-status")).to_have_text("running")
    expect(page.locator(".question button.option").first).to_be_enabled()
    page.locator("#seq-slider").fill("5")
    expect(page.locator("#seq-label")).to_contain_text("seq 5")
    page.click("#fork-btn")
    page.wait_for_url(lambda url: run_id not in url)
    expect(page.locator("#run-facts")).to_contain_text(f"forked from {run_id}@5")
    expect(page.locator(".question button.option")).to_have_count(2)
    page.locator(".question button.option", has_text="[A] Approve").click()
    expect(page.locator("#run-status")).to_have_text("succeeded")
