"""Human gates answered over HTTP: by key, by label, in parallel branches (ids with `/`), with
typed refusals for wrong answers and unknown questions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.kit import (
    GATE_DOT,
    LiveServer,
    finished,
    live_server,
    start,
    status_of,
    wait_for,
    waiting_question,
)

BRANCH_GATES = """digraph branches {
    start [shape=Mdiamond]
    fan   [shape=component]
    left  [shape=hexagon, label="Left ok?"]
    right [shape=hexagon, label="Right ok?"]
    join  [shape=tripleoctagon]
    done  [shape=Msquare]
    start -> fan
    fan -> left
    fan -> right
    left -> join  [label="[Y] Yes"]
    right -> join [label="[Y] Yes"]
    join -> done
}
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(tmp_path) as live:
        yield live


def test_answer_by_label_prefix_takes_that_edge(server: LiveServer) -> None:
    """`request` (a unique label prefix) picks "[R] Request changes"; the run revises."""
    with server.client() as c:
        run_id = start(c, source=GATE_DOT)
        first = waiting_question(c, run_id)
        c.post(first["answer_url"], json={"answer": "request"})
        second = wait_for(
            lambda: next(
                (
                    q
                    for q in c.get(f"/pipelines/{run_id}/questions").json()
                    if q["id"] != first["id"]
                ),
                None,
            ),
            what="the second question",
        )
        c.post(second["answer_url"], json={"answer": "A"})
        final = finished(c, run_id)
    assert final["status"] == "succeeded"
    assert final["completed_nodes"][:5] == ["start", "write", "review", "revise", "review"]


def test_wrong_answer_is_422_naming_the_options_and_the_question_stays(server: LiveServer) -> None:
    """A reply that fits no option is refused with the valid options; the gate still waits."""
    with server.client() as c:
        run_id = start(c, source=GATE_DOT)
        q = waiting_question(c, run_id)
        refused = c.post(q["answer_url"], json={"answer": "maybe"})
        still = c.get(f"/pipelines/{run_id}/questions").json()
        c.post(f"/pipelines/{run_id}/cancel")
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert "[A] Approve" in refused.json()["detail"]
    assert "maybe" in refused.json()["detail"]
    assert [x["id"] for x in still] == [q["id"]]


def test_unknown_question_is_404_listing_the_waiting_ones(server: LiveServer) -> None:
    """An answer to a question that is not waiting is a 404 naming those that are."""
    with server.client() as c:
        run_id = start(c, source=GATE_DOT)
        q = waiting_question(c, run_id)
        refused = c.post(f"/pipelines/{run_id}/questions/nope@1.1/answer", json={"answer": "A"})
        c.post(f"/pipelines/{run_id}/cancel")
    assert refused.status_code == 404
    assert q["id"] in refused.json()["detail"]


def test_questions_in_parallel_branches_are_answered_by_their_path_ids(server: LiveServer) -> None:
    """Branch questions have stream-qualified ids (with `/`); `path_id` writes them with `~`."""
    with server.client() as c:
        run_id = start(c, source=BRANCH_GATES)
        asked = wait_for(
            lambda: (lambda qs: qs if len(qs) == 2 else None)(
                c.get(f"/pipelines/{run_id}/questions").json()
            ),
            what="both branch questions",
        )
        for q in asked:
            assert "/" in q["id"]
            assert "~" in q["path_id"]
            assert "/" not in q["path_id"]
            assert c.post(q["answer_url"], json={"answer": "Y"}).status_code == 200
        final = finished(c, run_id)
    assert final["status"] == "succeeded"


def test_a_stopped_runs_question_is_shown_but_not_answerable(server: LiveServer) -> None:
    """After cancel the question is still pending in the log, marked not answerable (409)."""
    with server.client() as c:
        run_id = start(c, source=GATE_DOT)
        q = waiting_question(c, run_id)
        c.post(f"/pipelines/{run_id}/cancel")
        pending = status_of(c, run_id)["pending_questions"]
        refused = c.post(q["answer_url"], json={"answer": "A"})
    assert [p["answerable"] for p in pending] == [False]
    assert refused.status_code == 409
    assert "resume" in refused.json()["hint"]
