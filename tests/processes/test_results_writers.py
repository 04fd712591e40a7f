"""One writer at a time of a results directory: a running matrix appends its records while a user
runs `results forget` and `merge --to` against the same directory. The drill lost 1 and 5 of the
run's records that way, every command exit 0: each rewrite read the log, and renamed its copy over
the file the matrix had appended to meanwhile. Real processes, real locks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Record, ResultsLog, Status
from iree_matrix.core.system import locks

pytestmark = pytest.mark.processes  # processes that append, rewrite and hold locks at once

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}

# A running matrix, as far as its results directory sees it: a record appended every few
# milliseconds (ResultsLog.append, as the executor appends) until its stdin closes; then it prints
# how many it appended.
_MATRIX = """
import select, sys, time
from pathlib import Path
from iree_matrix.core.model.results import Record, ResultsLog, Status
log = ResultsLog(Path(sys.argv[1]) / "results.jsonl")
sys.argv = ["/venv/bin/iree-matrix", "matrix", "--matrix", "m.toml"]
print("running", flush=True)
n = 0
while not select.select([sys.stdin], [], [], 0)[0]:
    log.append(Record(f"run:w/{n}", "run", f"w/{n}", f"k{n}", Status.OK, {"model": "w"},
                      started="2026-01-01T00:00:00", finished="2026-01-01T00:00:00"))
    n += 1
    time.sleep(0.01)
print(n, flush=True)
"""

# Another writer holding the directory's lock, as `iree-matrix publish` would, until its stdin closes.
_HOLDER = """
import sys
from pathlib import Path
from iree_matrix.core.system import locks
sys.argv = ["/venv/bin/iree-matrix", "publish", "runs/x", "--to", "results/x"]
with locks.results_lock(Path(sys.stdin.readline().strip())):
    print("held", flush=True)
    sys.stdin.read()
"""


def _record(job: str) -> Record:
    stage, _, cell = job.partition(":")
    return Record(job, stage, cell, "k", Status.OK, {"model": cell.split("/")[0]},
                  started="2026-01-01T00:00:00", finished="2026-01-01T00:00:00")  # fmt: skip


def _write(directory: Path, *jobs: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "results.jsonl").write_text("".join(_record(job).to_json() + "\n" for job in jobs))
    return directory


def _cli(*argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "iree_matrix", *argv],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV,
    )  # fmt: skip


def test_forget_and_merge_beside_a_running_matrix_lose_none_of_its_records(tmp_path: Path) -> None:
    results = _write(tmp_path / "runs" / "default", "run:junk/0", "run:junk/1", "run:junk/2")
    shards = [_write(tmp_path / f"shard{i}", f"run:s/{i}") for i in range(3)]
    matrix = subprocess.Popen(
        [sys.executable, "-c", _MATRIX, str(results)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    assert matrix.stdout is not None and matrix.stdin is not None
    assert matrix.stdout.readline() == "running\n"
    try:
        done = []
        for i in range(3):  # each a rewrite of the whole log while records are appended
            forget = _cli("results", "forget", f"run:junk/{i}", "--results-dir", str(results))
            merge = _cli("merge", str(shards[i]), "--to", str(results))
            done += [(forget, forget.communicate(timeout=300)[0]), (merge, merge.communicate(timeout=300)[0])]
    finally:
        matrix.stdin.close()
        appended = int(matrix.stdout.readline())
        matrix.wait(timeout=30)
    for proc, said in done:
        assert proc.returncode == 0, said
    assert appended > 50  # the rewrites ran while records were appended
    jobs = [r.job for r in ResultsLog(results / "results.jsonl")]
    lost = [f"run:w/{n}" for n in range(appended) if f"run:w/{n}" not in jobs]
    assert lost == [], f"{len(lost)} of the running matrix's {appended} records lost"
    assert len(jobs) == len(set(jobs)) == appended + 3
    assert {"run:s/0", "run:s/1", "run:s/2"} <= set(jobs) and not [j for j in jobs if "junk" in j]


def _hold(directory: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV
    )
    assert holder.stdin is not None and holder.stdout is not None
    holder.stdin.write(f"{directory}\n")
    holder.stdin.flush()
    assert holder.stdout.readline() == "held\n"
    return holder


def _let_go(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(timeout=30)


def test_a_second_writer_is_refused_in_one_line_naming_the_holder(tmp_path: Path) -> None:
    results = _write(tmp_path / "runs" / "default", "run:junk/0", "run:m/1")
    holder = _hold(results)
    try:
        for argv in (
            ["results", "forget", "run:junk/*", "--results-dir", str(results)],
            ["merge", str(_write(tmp_path / "shard", "run:s/0")), "--to", str(results)],
            ["publish", str(_write(tmp_path / "run", "run:s/0")), "--to", str(results)],
        ):
            proc = _cli(*argv)
            said = proc.communicate(timeout=120)[0]
            assert proc.returncode == 2, said
            assert "Traceback" not in said and len(said.splitlines()) == 1, said
            assert said.startswith(
                f"iree-matrix: error: another iree-matrix command is writing {results}: pid {holder.pid} "
                "(iree-matrix publish runs/x --to results/x since "
            )
            assert said.rstrip().endswith("wait for it (--wait waits for it)")
    finally:
        _let_go(holder)
    assert [r.job for r in ResultsLog(results / "results.jsonl")] == ["run:junk/0", "run:m/1"]  # untouched


def test_wait_waits_for_the_holder_saying_whom_for_then_writes(tmp_path: Path) -> None:
    results = _write(tmp_path / "runs" / "default", "run:junk/0", "run:m/1")
    holder = _hold(results)
    try:
        forget = _cli("results", "forget", "run:junk/*", "--results-dir", str(results), "--wait")
        assert forget.stdout is not None
        said = forget.stdout.readline()
        assert said.startswith(
            f"waiting for {results}: in use by pid {holder.pid} "
            "(iree-matrix publish runs/x --to results/x since "
        )
        time.sleep(0.5)
        assert forget.poll() is None  # still waiting
        assert [r.job for r in ResultsLog(results / "results.jsonl")] == ["run:junk/0", "run:m/1"]
    finally:
        _let_go(holder)
    rest = forget.communicate(timeout=120)[0]
    assert forget.returncode == 0, rest
    assert "removed 1 records, kept 1" in rest
    assert [r.job for r in ResultsLog(results / "results.jsonl")] == ["run:m/1"]
    assert not (results / locks.RESULTS_HOLDER).exists()


def test_an_append_waits_for_a_rewrite_and_is_kept(tmp_path: Path) -> None:
    """In-process: a rewrite holds the lock from its read to its rename; the append made meanwhile
    lands in the file the rename left."""
    import threading

    from iree_matrix.core.atomic_files import write_atomically
    from iree_matrix.core.system.locks import results_lock

    results = _write(tmp_path / "r", "run:a/0")
    log = ResultsLog(results / "results.jsonl")
    with results_lock(results, wait=True):
        before = (results / "results.jsonl").read_text()
        appender = threading.Thread(target=log.append, args=(_record("run:a/1"),))
        appender.start()
        appender.join(timeout=0.5)
        assert appender.is_alive()  # waits for the rewrite
        write_atomically(results / "results.jsonl", before)
    appender.join(timeout=30)
    assert [r.job for r in log] == ["run:a/0", "run:a/1"]
