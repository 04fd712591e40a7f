"""A read-only results directory, a full results directory and a full disk under the results log
(issue 29, items 3-5): real mounts (tmpfs, then remounted read-only), the real CLI. Each is one
line naming the directory and the fix, no traceback; nothing torn, nothing lost. Needs root."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Record, ResultsLog, Status

from .conftest import REPO, SMOKE, iree_matrix, matrix_toml, own_quiet_lock

pytestmark = [pytest.mark.integration]

SITE_RECORDS = REPO / "tests" / "data" / "site" / "results.jsonl"


def _mount(where: Path, size: str, *, read_only: bool = False) -> None:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")


def _remount_read_only(where: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)


@pytest.fixture
def mounts(tmp_path: Path):
    made: list[Path] = []

    def mount(name: str, size: str) -> Path:
        where = tmp_path / name
        _mount(where, size)
        made.append(where)
        return where

    yield mount
    for where in made:
        subprocess.run(["umount", "--lazy", str(where)], check=False)


def _cli(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "iree_matrix", *args], capture_output=True, text=True, timeout=600
    )
    print(done.stdout)
    print(done.stderr, file=sys.stderr)
    return done


def _one_error_line(done: subprocess.CompletedProcess, *needles: str) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("iree-matrix: error: ")]
    assert len(errors) == 1, done.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def test_a_read_only_results_dir_is_one_line(mounts, tmp_path: Path) -> None:
    results = mounts("ro", "1m")
    _remount_read_only(results)
    done = _cli("matrix", "--matrix", str(SMOKE), "--backend", "venv", "--select", "install:*",
                "--cache", str(tmp_path / "cache"), "--results-dir", str(results))  # fmt: skip
    assert done.returncode != 0
    _one_error_line(done, str(results), "Read-only file system", "--results-dir")


def test_a_full_results_dir_while_writing_the_report_is_one_line(mounts) -> None:
    results = mounts("full", "96k")  # the records fit (75 KB), the documents do not
    shutil.copyfile(SITE_RECORDS, results / "results.jsonl")
    before = (results / "results.jsonl").read_bytes()
    done = _cli("report", "--results-dir", str(results))
    assert done.returncode == 1
    _one_error_line(done, str(results), "No space left on device", "free some space")
    assert (results / "results.jsonl").read_bytes() == before
    assert not [p for p in results.rglob(".*.tmp")]  # no half-written document left behind


def _record(n: int, size: int = 600) -> Record:
    return Record(f"compile:m{n}", "compile", f"m{n}", f"k{n}", Status.OK, {"model": f"m{n}"},
                  message="x" * size)  # fmt: skip


def test_a_full_disk_during_an_append_leaves_whole_records_only(mounts, capsys) -> None:
    disk = mounts("tiny", "8k")
    log = ResultsLog(disk / "results.jsonl")
    written = 0
    with pytest.raises(Exception) as caught:
        for n in range(100):
            log.append(_record(n))
            written += 1
    assert "No space left on device" in str(caught.value) and "\n" not in str(caught.value)
    text = (disk / "results.jsonl").read_bytes()
    assert text.endswith(b"\n") and text.count(b"\n") == written  # no half record
    assert [r.job for r in log] == [f"compile:m{n}" for n in range(written)]
    assert "torn" not in capsys.readouterr().err


FILLS_TMPDIR = """
import tempfile
def build(seed=0):
    with tempfile.TemporaryFile() as f:  # in the job's TMPDIR, on the full file system
        for _ in range(64):
            f.write(b"x" * (1 << 20))
            f.flush()
"""


def test_a_full_tmpdir_is_named_not_the_cache(mounts, cache: Path, tmp_path: Path) -> None:
    """#51: a stage whose tool filled $TMPDIR was blamed on --cache, quoting the cache's free space.
    A real 8 MiB tmpfs as TMPDIR, a model writing 64 MiB there, the real CLI on host venvs."""
    tmpdir = mounts("tmpdir", "8M")
    # A folder others may read: the sandbox binds the model's folder and runs it as uid 65534 (as root),
    # and pytest's own tmp_path is 0700 (that is refused before the model starts, said so).
    models = tmp_path / "models"
    models.mkdir(mode=0o755)
    (models / "fills.py").write_text(FILLS_TMPDIR)
    matrix = tmp_path / "matrix.toml"
    matrix.write_text(
        matrix_toml(models=[f"{models / 'fills.py'}:build"], tables={"benchmark": {"repetitions": 1}})
    )
    argv = ("matrix", "--matrix", str(matrix), "--backend", "venv")
    env = {**own_quiet_lock(tmp_path), "TMPDIR": str(tmpdir)}
    done = iree_matrix(*argv, cache=cache, results=tmp_path / "results", env=env, timeout=1200)
    line = _one_error_line(done, str(tmpdir), "set TMPDIR to a bigger disk")
    assert "--cache" not in line and done.returncode != 0
