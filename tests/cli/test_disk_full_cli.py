"""`attractor run` on a full disk (issue 8, point 4): one `error:` line, exit 75, no traceback,
no temporary file; `attractor resume` after freeing space finishes the run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attractor.cli._app import _register, app
from tests.diskfull import FullDisk, leftovers
from tests.pipeline.test_disk_full import _pipeline

runner = CliRunner()
_register()


@pytest.mark.parametrize("site", ["log", "blob", "projection"])
def test_run_on_a_full_disk_is_one_error_line_then_resume_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, site: str
) -> None:
    """ENOSPC while recording: exit 75 with `error:` and a hint naming `attractor resume`."""
    dot = _pipeline(tmp_path, 100_000 if site == "blob" else 10)
    disk = FullDisk(monkeypatch, site, ("write",))
    disk.full_when = (tmp_path / "count").exists
    result = runner.invoke(app, ["run", str(dot), "--logs-root", str(tmp_path / "runs")])
    assert result.exit_code == 75, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "No space left on device" in errors[0]
    assert "attractor resume" in result.stderr
    assert "Traceback" not in result.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert leftovers(run_dir) == []
    disk.free()
    resumed = runner.invoke(app, ["resume", str(run_dir), "--quiet"])
    assert resumed.exit_code == 0, resumed.output
    assert resumed.stdout.startswith("succeeded")


_SCRIPT = """
set -e
mount -t tmpfs -o size={size} tmpfs {mnt}
cp {dot} {mnt}/p.dot
head -c {fill} /dev/zero > {mnt}/filler || true
set +e
{python} -m attractor run {mnt}/p.dot --logs-root {mnt}/runs > {out}/run.out 2> {out}/run.err
echo $? > {out}/run.rc
rm {mnt}/filler
{python} -m attractor resume {mnt}/runs/* --quiet > {out}/resume.out 2> {out}/resume.err
echo $? > {out}/resume.rc
find {mnt}/runs -name '*.tmp*' > {out}/tmp.list
{python} -m attractor log verify {mnt}/runs/* > {out}/verify.out 2>&1
echo $? > {out}/verify.rc
"""


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs util-linux unshare")
def test_a_real_full_tmpfs(tmp_path: Path) -> None:
    """On a real 1 MiB tmpfs (a private mount namespace): the run stops with exit 75, resume
    after `rm filler` finishes, the log verifies, no temporary file is left."""
    mnt, out = tmp_path / "mnt", tmp_path / "out"
    mnt.mkdir()
    out.mkdir()
    dot = _pipeline(tmp_path, 200_000)  # a 200 KB output: its blob cannot fit
    script = textwrap.dedent(_SCRIPT).format(
        size="1m", mnt=mnt, dot=dot, fill=850_000, python=sys.executable, out=out
    )
    done = subprocess.run(
        ["unshare", "--map-root-user", "--mount", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
        start_new_session=True,
        check=False,
    )
    if not (out / "run.rc").exists():  # no user/mount namespace, or tmpfs refused, here
        pytest.skip(f"cannot mount a private tmpfs here: {done.stderr.strip()}")
    assert (out / "run.rc").read_text().strip() == "75", (out / "run.err").read_text()
    assert "No space left on device" in (out / "run.err").read_text()
    assert "Traceback" not in (out / "run.err").read_text()
    assert (out / "resume.rc").read_text().strip() == "0", (out / "resume.err").read_text()
    assert (out / "tmp.list").read_text() == ""
    assert (out / "verify.rc").read_text().strip() == "0"
