"""Where runs live: safe run ids confined to the logs root, and the line index that follows a
growing log (complete lines only, the seq of `run.finished`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from attractor.server._runs import (
    BadRunIdError,
    LineIndex,
    RunDirectory,
    UnknownRunError,
    check_run_id,
    line_head,
)

LINE = '{"seq":%d,"at":"2026-01-01T00:00:00Z","stream":"run","type":"%s","hash":"0123456789abcdef"}'


@pytest.mark.parametrize("bad", ["..", ".", ".hidden", "a/b", "a\\b", "", "x" * 129, "a\x00b", "é"])
def test_unsafe_run_ids_are_refused(bad: str) -> None:
    """Anything but one short segment of letters, digits and ._- is not a run id."""
    with pytest.raises(BadRunIdError, match="not a run id"):
        check_run_id(bad)


def test_a_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    """A run directory that is a symlink elsewhere does not resolve under the root."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "events.jsonl").write_text("")
    root = tmp_path / "runs"
    root.mkdir()
    (root / "sneaky").symlink_to(outside)
    with pytest.raises(BadRunIdError, match="outside"):
        RunDirectory(root).run_dir("sneaky")


def test_only_directories_with_a_log_are_runs(tmp_path: Path) -> None:
    """`_sources` and stray directories are not listed; an unknown id is UnknownRunError."""
    for name in ("20260101T000000-aaaa", "20260102T000000-bbbb", "_sources", "empty"):
        (tmp_path / name).mkdir()
    for name in ("20260101T000000-aaaa", "20260102T000000-bbbb"):
        (tmp_path / name / "events.jsonl").write_text("")
    runs = RunDirectory(tmp_path)
    assert runs.run_ids() == ["20260102T000000-bbbb", "20260101T000000-aaaa"]
    with pytest.raises(UnknownRunError):
        runs.log_path("empty")


def test_the_index_reads_only_complete_lines(tmp_path: Path) -> None:
    """A line still being written is left for the next refresh."""
    log = tmp_path / "events.jsonl"
    log.write_text(LINE % (1, "run.started") + "\n" + (LINE % (2, "stage.started"))[:30])
    index = LineIndex(log)
    assert index.refresh() == 1
    assert index.count == 1
    log.write_text(log.read_text() + (LINE % (2, "stage.started"))[30:] + "\n")
    assert index.refresh() == 1
    assert list(index.lines(1, 2)) == [
        (LINE % (i, t)).encode() for i, t in ((1, "run.started"), (2, "stage.started"))
    ]


def test_the_index_knows_where_the_run_finished(tmp_path: Path) -> None:
    """`finished_seq` is the seq of the `run.finished` line."""
    log = tmp_path / "events.jsonl"
    log.write_text(
        "".join(
            LINE % (i, t) + "\n"
            for i, t in enumerate(["run.started", "stage.started", "run.finished"], 1)
        )
    )
    index = LineIndex(log)
    index.refresh()
    assert index.finished_seq == 3
    assert line_head((LINE % (3, "run.finished")).encode()) == (3, "run", "run.finished")


def test_lines_reads_any_range(tmp_path: Path) -> None:
    """`lines(a, b)` gives exactly seqs a..b, clipped to what is indexed."""
    log = tmp_path / "events.jsonl"
    log.write_text("".join(LINE % (i, "x.y") + "\n" for i in range(1, 11)))
    index = LineIndex(log)
    index.refresh()
    assert [line_head(x)[0] for x in index.lines(4, 6)] == [4, 5, 6]
    assert [line_head(x)[0] for x in index.lines(9, 99)] == [9, 10]
    assert list(index.lines(11, 12)) == []
