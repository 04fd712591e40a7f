"""The machine's quiet lock: two iree-matrix runs on one machine (each with its own cache) never
time a stage while the other computes. Real file locks, threads standing in for the other run."""

from __future__ import annotations

import fcntl
import io
import os
import threading
import time
import types
from pathlib import Path

import pytest

from iree_matrix import _locks, plan
from iree_matrix.execute import Executor, Options
from iree_matrix.outcome import Outcome
from iree_matrix.results import ResultsLog, Status
from iree_matrix.stages.base import StageBase
from tests.unit.test_execute import FakeBackend


def test_a_timed_stage_waits_for_another_runs_stage_and_says_so(tmp_path: Path) -> None:
    lock, said, order = tmp_path / "q.lock", [], []

    def timed() -> None:
        with _locks.machine_lock(True, lock, on_wait=lambda: said.append("waiting")):
            order.append("timed")

    with _locks.machine_lock(False, lock):  # another run compiles
        thread = threading.Thread(target=timed)
        thread.start()
        time.sleep(0.5)
        order.append("compile done")
    thread.join(timeout=5)
    assert order == ["compile done", "timed"] and said == ["waiting"]


def test_waiting_hears_ctrl_c(tmp_path: Path) -> None:
    lock, raised = tmp_path / "q.lock", []

    def timed() -> None:
        try:
            with _locks.machine_lock(True, lock, cancelled=lambda: True):
                raised.append("ran")
        except _locks.LockCancelled as exc:
            raised.append(str(exc))

    with _locks.machine_lock(False, lock):  # another run compiles for as long as it likes
        thread = threading.Thread(target=timed)
        thread.start()
        thread.join(timeout=5)
    assert raised == ["interrupted while waiting for the machine's quiet lock"]


def test_a_thread_that_holds_it_does_not_lock_again(tmp_path: Path) -> None:
    lock = tmp_path / "q.lock"
    with _locks.machine_lock(True, lock), _locks.machine_lock(True, lock):  # a worker, then its job
        pass
    with _locks.machine_lock(True, lock):  # and it was let go
        pass


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


class _Probe(StageBase):
    """Looks, while it executes, at whether the quiet lock is held (by its own run)."""

    name = "compile"
    rank = 30

    def __init__(self, lock: Path, exclusive: bool) -> None:
        self.lock, self.exclusive = lock, exclusive

    def key(self, job, ctx) -> str:
        return "k-" + job.cell

    def execute(self, job, ctx, out: Path) -> Outcome:
        return Outcome(Status.OK, metrics={"held": _held_by_someone(self.lock)})


@pytest.mark.parametrize("exclusive", [False, True])
def test_every_stage_the_executor_runs_holds_the_lock(tmp_path: Path, monkeypatch, exclusive: bool) -> None:
    lock = tmp_path / "q.lock"
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
    assert executor.run().counts() == {"ok": 1}
    (record,) = list(log)
    assert record.metrics["held"] is True and not _held_by_someone(lock)  # held while it ran, only then
