"""A hung model holds up nobody for long (issue #52): a timed stage that overruns its expected time by
far gives the machine's quiet lock back; a waiter takes a holder that far past its expected time for
stuck; and a wait for the lock shows in the ETA instead of stretching it as slowness."""

from __future__ import annotations

import io
import json
import os
import threading
import time
from pathlib import Path

from iree_matrix.core.model.results import Record, Status
from iree_matrix.core.system import locks
from iree_matrix.execution import progress as progress_module
from iree_matrix.execution.eta import Estimates
from iree_matrix.execution.progress import Progress
from iree_matrix.execution.stage_times import StageTimes
from iree_matrix.matrix.plan import EnvSpec, Job


def test_the_overrun_limit_is_far_past_the_expected_time():
    assert locks.overrun_limit(None) is None and locks.overrun_limit(0) is None
    assert locks.overrun_limit(10.0) == 130.0  # at least 2 min past it
    assert locks.overrun_limit(60.0) == 300.0  # 5x
    hung = locks.Holder(1, "export:hangs/e", since=0.0, timeout=900.0, expected=16.0)
    assert hung.limit() == 136.0 + locks.GIVE_BACK_GRACE  # not its 900-s timeout
    assert locks.Holder(1, "x", 0.0, timeout=900.0).limit() == 900.0
    assert locks.Holder(1, "x", 0.0).limit(fallback=50.0) == 50.0


def test_a_waiter_takes_a_holder_for_stuck_only_after_its_own_give_back_had_time_to_fire(monkeypatch):
    """At the same instant the two raced: on a loaded machine (CI at load 8) the holder's give-back
    timer ran late, the waiter went on without the lock, and the hung holder's note stayed."""
    monkeypatch.setattr(locks, "OVERRUN", 2.0)
    monkeypatch.setattr(locks, "OVERRUN_FLOOR", 0.0)
    hung = locks.Holder(1, "export:hangs/e", since=0.0, expected=0.3)
    assert locks.overrun_limit(0.3) == 0.6  # when the holder gives it back itself
    assert hung.limit() == 0.6 + locks.GIVE_BACK_GRACE  # when a waiter goes on without it
    assert locks.GIVE_BACK_GRACE >= 2.0


def test_a_holder_far_past_its_expected_time_gives_the_lock_back(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(locks, "OVERRUN", 2.0)
    monkeypatch.setattr(locks, "OVERRUN_FLOOR", 0.0)
    lock = tmp_path / "quiet.lock"
    said: list[str] = []
    hung = threading.Event()
    stop = threading.Event()

    def hung_model() -> None:  # expected 0.3 s, never returns until told
        with locks.machine_lock(True, lock, job="export:hangs/e", expected=0.3, report=said.append):
            hung.set()
            stop.wait(20)

    holder = threading.Thread(target=hung_model, daemon=True)
    holder.start()
    assert hung.wait(5)
    assert locks.holder(lock).expected == 0.3  # the file names it for waiters
    start = time.monotonic()
    with locks.machine_lock(True, lock, job="run:other/e"):  # another run's timed stage
        waited = time.monotonic() - start
        assert locks.holder(lock).job == "run:other/e"  # it holds it now, the hung one does not
    stop.set()
    holder.join(5)
    assert waited < 3.0, f"waited {waited:.1f} s for a lock that should be given back after 0.6 s"
    assert said and said[0].startswith("giving the machine's quiet lock back: this stage has run ")
    assert "far past the 0.300 s it was expected to take (stuck?)" in said[0]


def test_a_stage_that_ends_in_time_lets_go_once_and_the_give_back_never_fires(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(locks, "OVERRUN", 1.0)
    monkeypatch.setattr(locks, "OVERRUN_FLOOR", 0.2)
    lock = tmp_path / "quiet.lock"
    said: list[str] = []
    with locks.machine_lock(True, lock, job="run:quick/e", expected=0.1, report=said.append):
        pass
    time.sleep(0.5)
    assert said == [] and not locks.holder_path(lock).exists()


def test_a_waiter_goes_on_past_a_stopped_holders_overrun(tmp_path: Path, monkeypatch):
    """A holder that cannot give it back itself (stopped with Ctrl-Z): its file's expected time."""
    lock = tmp_path / "quiet.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_EX)  # held by "another process", as the file below says
    try:
        since = time.time() - 200.0
        locks.holder_path(lock).write_text(json.dumps(
            {"pid": os.getppid(), "job": "export:hangs/e", "since": since, "timeout": 900.0, "expected": 16.0}
        ))  # fmt: skip
        said: list[str] = []
        start = time.monotonic()
        with locks.machine_lock(True, lock, report=said.append):
            pass
        assert time.monotonic() - start < 3.0  # 200 s held > 136 s: stuck, not its 900-s timeout
        assert any("going on without the machine's quiet lock" in s for s in said)
    finally:
        os.close(fd)


ENV = EnvSpec("runtime", "3.11", (), "r")


def test_a_wait_for_the_lock_counts_whole_plus_the_holders_rest_never_as_slowness(tmp_path, monkeypatch):
    lock = tmp_path / "quiet.lock"
    monkeypatch.setenv("IREE_MATRIX_QUIET_LOCK", str(lock))
    monkeypatch.setattr(
        progress_module, "load_factor", lambda: 1.0
    )  # a quiet machine, whatever this one's load
    run, later = (Job("run", f"m{i}/e", (), {"model": f"m{i}"}, ENV) for i in (1, 2))
    estimates = Estimates.of([run, later], {}, {"run"}, published=StageTimes({}, {}, {"run": 10.0}))
    progress = Progress(2, out=io.StringIO(), heartbeat=0, estimates=estimates, live=False)
    progress.started(run)
    progress.waiting(run)
    progress._running[run.id] = (run, time.monotonic() - 100.0)  # it has waited 100 s
    assert progress.eta() == "ETA 0:00:20"  # both runs whole: the wait stretched nothing
    locks.holder_path(lock).write_text(json.dumps(
        {"pid": os.getppid(), "job": "export:x/e", "since": time.time() - 30.0, "expected": 90.0}
    ))  # fmt: skip
    assert progress.eta() == "ETA 0:01:20"  # plus the holder's 60 s still expected
    progress.running(run)
    progress.finished(run, Record(run.id, "run", run.cell, "k", Status.OK, {"model": "m1"}, seconds=10.0))
    assert progress.eta() == "ETA 0:00:10"
    progress.close()
