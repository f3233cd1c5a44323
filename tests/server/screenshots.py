"""Take the dashboard screenshots of docs/http.md with headless Debian Chromium.

    python -m tests.server.screenshots docs/images

Serves a scratch logs root with a few runs (finished, failed, one waiting at a human gate with
an LLM-style stage before it) and saves `dashboard-runs.png` and `dashboard-run.png`.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from tests.server.browser import chromium
from tests.server.kit import GATE_DOT, LINEAR_DOT, finished, live_server, start, waiting_question

REVIEW_DOT = """digraph release_review {
    graph [goal="Ship the 2.0 release notes"]
    start    [shape=Mdiamond]
    draft    [prompt="Draft the release notes for: $goal"]
    checks   [shape=component, label="Checks in parallel"]
    links    [shape=parallelogram, label="Check links", tool_command="echo 42 links ok"]
    spelling [prompt="Check the spelling"]
    merge    [shape=tripleoctagon, label="Merge the checks"]
    review   [shape=hexagon, label="Publish the notes?"]
    revise   [prompt="Revise the notes"]
    publish  [prompt="Publish"]
    done     [shape=Msquare]
    start -> draft -> checks
    checks -> links
    checks -> spelling
    links -> merge
    spelling -> merge
    merge -> review
    review -> publish [label="[A] Approve"]
    review -> revise  [label="[R] Request changes"]
    revise -> review
    publish -> done
}
"""
FAILING_DOT = """digraph nightly_build {
    start [shape=Mdiamond]
    build [shape=parallelogram, tool_command="echo compiling; exit 2"]
    done  [shape=Msquare]
    start -> build -> done
}
"""


def main(out: Path) -> None:
    """Make the runs and take both screenshots."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        script = {
            "draft": {
                "response": "## 2.0\n\n- faster\n- friendlier",
                "usage": {"total_tokens": 812},
            }
        }
        (root / "script.json").write_text(json.dumps(script))
        with live_server(root) as server, server.client() as c:
            for source in (LINEAR_DOT, FAILING_DOT, GATE_DOT):
                finished(c, start(c, source=source, auto_approve=True))
            run_id = start(c, source=REVIEW_DOT, backend="scripted:script.json")
            waiting_question(c, run_id)
            with chromium() as browser:
                page = browser.new_page(viewport={"width": 1360, "height": 900})
                page.goto(server.url + "/")
                page.wait_for_selector(f"#runs-body tr[data-id='{run_id}']")
                page.screenshot(path=str(out / "dashboard-runs.png"))
                page.goto(f"{server.url}/runs/{run_id}")
                page.wait_for_selector(".question button.option")
                page.locator("#stages-body tr", has_text="draft").click()
                page.wait_for_selector("#stage-panel:not([hidden])")
                page.wait_for_timeout(300)
                page.screenshot(path=str(out / "dashboard-run.png"), full_page=True)
            c.post(f"/pipelines/{run_id}/cancel")
    print(f"wrote {out / 'dashboard-runs.png'} and {out / 'dashboard-run.png'}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images"))
