"""The machine's quiet lock: two iree-matrix runs on one machine (each with its own cache) never time
a stage at the same moment, and nothing else waits for it. Real file locks; another process (a
child Python holding the lock) or a thread stands in for the other run."""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

import pytest

from iree_matrix.core.model.outcome import Outcome
from iree_matrix.core.model.results import ResultsLog, Status
from iree_matrix.core.system import locks
from iree_matrix.execution.execute import Executor, Options, job_log
from iree_matrix.execution.progress import Progress
from iree_matrix.matrix import plan
from iree_matrix.stages.base import Stage
from tests.unit import builders
from tests.unit.test_execute import FakeBackend

pytestmark = pytest.mark.processes  # real file locks held by other processes, and waits of seconds

ROOT = Path(__file__).resolve().parents[2]
OTHER_JOB = "run:mobilenet_v2/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default"

# Another run's timed stage: holds the lock, as its job with its stage timeout, until its stdin closes.
_HOLD = """
import sys
from pathlib import Path
from iree_matrix.core.system import locks
timeout = float(sys.argv[3]) if sys.argv[3] else None
with locks.machine_lock(True, Path(sys.argv[1]), job=sys.argv[2], timeout=timeout):
    print("held", flush=True)
    sys.stdin.read()
"""


@contextlib.contextmanager
def another_run_times(lock: Path, job: str = OTHER_JOB, timeout: Optional[float] = None) -> Iterator[int]:
    """A process that takes the quiet lock for `job` and keeps it until the block ends: its pid."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    argv = [sys.executable, "-c", _HOLD, str(lock), job, "" if timeout is None else str(timeout)]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "held\n"
        yield proc.pid
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _within(seconds: float, lock: Path, **how) -> float:
    """A timed stage of this process takes `lock` (and lets go) in a thread, which must be done within
    `seconds` (a regression fails, not hangs): how long it took."""

    def take() -> None:
        with locks.machine_lock(True, lock, **how):
            pass

    start = time.monotonic()
    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    thread.join(timeout=seconds)
    assert not thread.is_alive(), f"still waiting after {seconds} s"
    return time.monotonic() - start


def _held_by_someone(lock: Path) -> bool:
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


class _Probe(Stage):
    """Looks, while it executes, at whether the quiet lock is held (by its own run, or another's)."""

    name = "compile"
    rank = 30

    def __init__(self, lock: Path, exclusive: bool) -> None:
        self.lock, self.exclusive = lock, exclusive

    def key(self, job, ctx) -> str:
        return "k-" + job.cell

    def execute(self, job, ctx, out: Path) -> Outcome:
        return Outcome(Status.OK, metrics={"held": _held_by_someone(self.lock)})


def _run(tmp_path: Path, monkeypatch, lock: Path, exclusive: bool, seconds: float = 20.0):
    """One probe job through a real Executor, in a thread (bounded: a regression must fail, not hang):
    (its record, what the run printed, the job's log, how long it took)."""
    monkeypatch.setenv("IREE_MATRIX_QUIET_LOCK", str(lock))
    probe = _Probe(lock, exclusive)
    monkeypatch.setattr("iree_matrix.stages.get", lambda name: probe)
    env = plan.EnvSpec("compiler", "3.11", (), "c", arch="x86_64")
    the_plan = plan.Plan((plan.Job("compile", "a-cell", (), {"model": "tiny_cnn"}, env),))
    log = ResultsLog(tmp_path / "results.jsonl")
    out = io.StringIO()
    executor = Executor(
        types.SimpleNamespace(timeouts={}), the_plan, cache=tmp_path / "cache", results=log,
        backend=FakeBackend(), options=Options(), out=out,
    )  # fmt: skip
    start = time.monotonic()
    thread = threading.Thread(target=executor.run, daemon=True)
    thread.start()
    thread.join(timeout=seconds)
    took = time.monotonic() - start
    assert not thread.is_alive(), f"the stage still waits after {seconds} s:\n{out.getvalue()}"
    (record,) = list(log)
    return record, out.getvalue(), job_log(tmp_path / "cache", record.job, record.started).read_text(), took


# -- (a) only timed stages take it ------------------------------------------------------------------


def test_a_stage_that_does_not_time_never_waits_for_another_runs_timing(tmp_path: Path, monkeypatch) -> None:
    lock = tmp_path / "q.lock"
    with another_run_times(lock):  # and never lets go while this test runs
        record, printed, _, took = _run(tmp_path, monkeypatch, lock, exclusive=False)
        assert record.status is Status.OK and record.metrics["held"] is True  # the other run's, all along
    assert took < 3.0 and "quiet lock" not in printed


@pytest.mark.parametrize("exclusive", [False, True])
def test_only_a_timed_stage_holds_the_lock(tmp_path: Path, monkeypatch, exclusive: bool) -> None:
    lock = tmp_path / "q.lock"
    record, _, _, _ = _run(tmp_path, monkeypatch, lock, exclusive)
    assert record.metrics["held"] is exclusive and not _held_by_someone(lock)  # held while it ran, only then
    assert not locks.holder_path(lock).exists()  # its holder file went with it


def test_ordinary_stages_take_nothing_and_timed_ones_take_turns(tmp_path: Path) -> None:
    turns = builders.timed_turns(locks.machine_lock, tmp_path / "q.lock", holds=0.5)
    assert turns == ["timed beside an ordinary stage", "first timed done", "second timed"]


# -- (b) a waiter says whose it is ------------------------------------------------------------------


def test_the_holder_says_who_it_is_in_a_file_beside_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / "q.lock"
    with another_run_times(lock, timeout=900) as pid:
        written = json.loads(locks.holder_path(lock).read_text())
        assert (written["pid"], written["job"], written["timeout"]) == (pid, OTHER_JOB, 900)
        assert time.time() - 30 < written["since"] <= time.time()
        assert locks.holder(lock) == locks.Holder(pid, OTHER_JOB, written["since"], 900, written["token"])
    assert not locks.holder_path(lock).exists() and locks.holder(lock) is None


def test_a_waiting_timed_stage_prints_the_holders_pid_and_job(tmp_path: Path, monkeypatch) -> None:
    lock = tmp_path / "q.lock"
    result: dict = {}

    def waiter() -> None:
        result["run"] = _run(tmp_path, monkeypatch, lock, exclusive=True)

    with another_run_times(lock) as pid:
        thread = threading.Thread(target=waiter)
        thread.start()
        # Until the stage says it waits (under load, starting the run may take longer than any fixed
        # sleep), then half a second more of waiting.
        logs, deadline = tmp_path / "cache" / "logs", time.monotonic() + 15
        while time.monotonic() < deadline and not any(
            "waiting for the machine's quiet lock" in f.read_text(errors="replace")
            for f in logs.rglob("*.log")
        ):
            time.sleep(0.05)
        time.sleep(0.5)
    thread.join(timeout=10)
    record, printed, job_log_text, took = result["run"]
    assert record.status is Status.OK and record.metrics["held"] is True and took >= 0.5
    said = re.search(
        rf"compile:a-cell: waiting for the machine's quiet lock: held by pid {pid} \({re.escape(OTHER_JOB)} "
        r"since \d\d:\d\d:\d\d, \d+ s\)",
        printed,
    )
    assert said, printed
    assert f"held by pid {pid} ({OTHER_JOB} since" in job_log_text  # the job's log says it too
    assert printed.count("waiting for the machine's quiet lock") == 1  # said once, not every poll


def test_a_long_wait_for_the_quiet_lock_says_it_still_waits(tmp_path: Path, monkeypatch) -> None:
    """As `--wait` on the cache does: every WAIT_NOTE_EVERY s the same holder is said again, with how
    long the stage has waited, so a user sees it alive."""
    monkeypatch.setattr(locks, "WAIT_NOTE_EVERY", 0.3)
    lock, result = tmp_path / "q.lock", {}
    with another_run_times(lock):
        thread = threading.Thread(target=lambda: result.update(run=_run(tmp_path, monkeypatch, lock, True)))
        thread.start()
        time.sleep(2.5)
    thread.join(timeout=10)
    printed = result["run"][1]
    again = re.findall(
        r"waiting for the machine's quiet lock: held by pid \d+ .*; waited \d+ s so far", printed
    )
    assert printed.count("waiting for the machine's quiet lock") >= 2 and again, printed


def test_a_holder_file_whose_process_is_gone_is_ignored(tmp_path: Path) -> None:
    lock, said = tmp_path / "q.lock", []
    gone = subprocess.Popen([sys.executable, "-c", ""])
    gone.wait()
    locks.holder_path(lock).write_text(json.dumps({"pid": gone.pid, "job": "run:old", "since": time.time()}))
    assert locks.holder(lock) is None
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    fcntl.flock(fd, fcntl.LOCK_EX)  # held by something that wrote no note (an older iree-matrix)
    try:
        _within(10, lock, timeout=1.5, report=said.append)
    finally:
        os.close(fd)
    assert said[0] == "waiting for the machine's quiet lock: held by a process that left no note of who it is"
    assert "run:old" not in " ".join(said) and said[1].startswith("going on without the machine's quiet lock")


def test_waiting_hears_ctrl_c(tmp_path: Path) -> None:
    lock, raised = tmp_path / "q.lock", []

    def timed() -> None:
        try:
            with locks.machine_lock(True, lock, cancelled=lambda: True):
                raised.append("ran")
        except locks.LockCancelled as exc:
            raised.append(str(exc))

    with locks.machine_lock(True, lock):  # another run times for as long as it likes
        thread = threading.Thread(target=timed)
        thread.start()
        thread.join(timeout=5)
    assert raised == ["interrupted while waiting for the machine's quiet lock"]


def test_a_thread_that_holds_it_does_not_lock_again(tmp_path: Path) -> None:
    """Re-entrant per thread: a worker that holds the lock around a whole job takes it again inside
    at once, without waiting for itself; the inner block's end keeps it held, the outer's lets go.
    In a thread joined with a limit: a lock that waited for itself would otherwise wait out the whole
    hold limit (an hour) and then go on without it, and the test would pass."""
    lock, said, held = tmp_path / "q.lock", [], {}

    def a_worker_then_its_job() -> None:
        with locks.machine_lock(True, lock, report=said.append):  # the worker
            with locks.machine_lock(True, lock, job="run:x", report=said.append):  # then its job
                held["inside"] = _held_by_someone(lock)
            held["after the job"] = _held_by_someone(lock)

    thread = threading.Thread(target=a_worker_then_its_job, daemon=True)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive(), f"the job waits for its own worker's lock: {said}"
    assert said == []  # never waited, so never said so
    assert held == {"inside": True, "after the job": True}
    assert not _held_by_someone(lock)  # and the worker's end let it go


# -- (c) a holder past its limit loses it ------------------------------------------------------------


def test_a_holder_past_its_own_stage_timeout_is_overtaken(tmp_path: Path, monkeypatch) -> None:
    lock = tmp_path / "q.lock"
    with another_run_times(lock, timeout=0.5) as pid:  # a model that never returns, its timeout 0.5 s
        record, printed, job_log_text, took = _run(tmp_path, monkeypatch, lock, exclusive=True)
        assert _held_by_someone(lock)  # still the stuck holder's: the waiter went on without it
    assert record.status is Status.OK and took < 5.0
    why = f"going on without the machine's quiet lock: pid {pid} ({OTHER_JOB} since "
    assert f"compile:a-cell: {why}" in printed and why in job_log_text
    assert "has held it past its limit (0 s; stuck?)" in printed


def test_a_holder_that_names_no_timeout_gets_the_waiters_own(tmp_path: Path) -> None:
    lock, said = tmp_path / "q.lock", []
    with another_run_times(lock, job="compare a b") as pid:  # `iree-matrix compare`: no stage timeout
        took = _within(10, lock, job="run:x", timeout=0.6, report=said.append)
    assert 0.5 <= took < 3.0
    assert said[0].startswith(f"waiting for the machine's quiet lock: held by pid {pid} (compare a b since ")
    assert said[1].startswith(f"going on without the machine's quiet lock: pid {pid} (compare a b since ")


def test_a_holder_within_its_limit_is_waited_for(tmp_path: Path, monkeypatch) -> None:
    lock, said, got = tmp_path / "q.lock", [], []
    monkeypatch.setattr(locks, "HOLD_LIMIT", 0.1)  # not used: the holder names its own timeout

    def waiter() -> None:
        with locks.machine_lock(True, lock, report=said.append):
            got.append("the lock")

    with locks.machine_lock(True, lock, job="run:first", timeout=30):
        thread = threading.Thread(target=waiter)
        thread.start()
        time.sleep(0.6)
        assert len(said) == 1 and "held by pid" in said[0] and not got  # still waiting, not overtaking
    thread.join(timeout=5)
    assert got == ["the lock"] and len(said) == 1


# -- what a person watching sees ---------------------------------------------------------------------


def test_the_heartbeat_says_waiting_not_running(tmp_path: Path) -> None:
    out = io.StringIO()
    progress = Progress(1, out=out, heartbeat=0.2, live=False)
    env = plan.EnvSpec("runtime", "3.11", (), "r", arch="x86_64")
    job = plan.Job("run", "a-cell", (), {"model": "tiny_cnn"}, env)
    progress.started(job)
    progress.waiting(job)
    time.sleep(0.5)
    progress.running(job)
    time.sleep(0.5)
    progress.close()
    printed = out.getvalue()
    assert "run     a-cell still waiting for the machine's quiet lock (0 min 00 s)" in printed
    assert "still running" in printed.split("still waiting")[-1]


def test_waiters_take_the_lock_in_turn_not_whoever_polls_first(tmp_path: Path):
    """A run whose timed stages follow each other lets go and takes the lock again at once; an
    earlier waiter (its ticket older) goes first, so another run is not starved behind the series."""
    lock = tmp_path / "quiet.lock"
    queue = locks.queue_path(lock)
    queue.mkdir()
    earlier = queue / f"{time.time_ns() - 10**9:020d}-{os.getpid()}-1"  # a live waiter (this pid), earlier
    earlier.touch()
    said: list[str] = []
    stop = time.monotonic() + 0.8
    with pytest.raises(locks.LockCancelled):  # the lock is free, but it is not this waiter's turn
        with locks.machine_lock(True, lock, cancelled=lambda: time.monotonic() > stop, report=said.append):
            pass
    assert said == ["waiting for the machine's quiet lock: an earlier waiter goes first"]
    earlier.unlink()
    with locks.machine_lock(True, lock):  # its turn now
        assert not any(p.name.startswith(f"{0:020d}") for p in queue.iterdir())
    assert list(queue.iterdir()) == []  # its ticket is gone once it let go


def test_a_dead_waiters_ticket_does_not_hold_up_the_queue(tmp_path: Path):
    lock = tmp_path / "quiet.lock"
    queue = locks.queue_path(lock)
    queue.mkdir()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = queue / f"{1:020d}-{int(dead.stdout)}-1"
    stale.touch()
    with locks.machine_lock(True, lock):
        pass
    assert not stale.exists()
