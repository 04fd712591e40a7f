"""The quiet lock's waits still to come (`eta.LockWaits`, issue #69): other sessions' timed stages hold the
machine's quiet lock, and each of this run's timed jobs may wait for it; the estimate expects each
pending timed job to wait what this run's finished timed jobs waited, and `Progress` tells it each wait.
How it reads issue #69's live runs is in tests/unit/test_eta.py."""

from __future__ import annotations

import io
import math

import pytest

from iree_matrix.core.model.results import Record, Status
from iree_matrix.execution import progress as progress_module
from iree_matrix.execution.eta import Estimates, LoadTrace, LockWaits
from iree_matrix.execution.progress import Progress
from iree_matrix.execution.stage_times import StageTimes
from iree_matrix.matrix.plan import EnvSpec, Job

ENV = EnvSpec("runtime", "3.11", (), "r")


def _job(stage: str, model: str) -> Job:
    return Job(stage, f"{model}/e/iree3.13.0/x86_64/default", (), {"model": model}, ENV)


def test_no_wait_seen_expects_none() -> None:
    waits = LockWaits()
    assert waits.per_job(100.0) == 0.0
    for at in (10.0, 20.0, 30.0):
        waits.note(0.0, at)
    assert waits.per_job(100.0) == 0.0


def test_the_mean_wait_against_two_jobs_that_waited_nothing() -> None:
    """One early wait does not stretch every job to come by itself: 60 s over one job reads 20 s a
    job (two pseudo-jobs of no wait), over four jobs 60 / 6 = 10 s."""
    waits = LockWaits()
    waits.note(60.0, 100.0)
    assert waits.per_job(100.0) == pytest.approx(60.0 / (1 + LockWaits.PRIOR_JOBS))
    for _ in range(3):
        waits.note(0.0, 100.0)
    assert waits.per_job(100.0) == pytest.approx(60.0 / (4 + LockWaits.PRIOR_JOBS))


def test_newer_waits_weigh_more() -> None:
    """A session that held the lock twenty minutes ago and went counts less than one holding it now."""
    old_waits, new_waits = LockWaits(), LockWaits()
    old_waits.note(100.0, 0.0)
    old_waits.note(0.0, 1200.0)
    new_waits.note(0.0, 0.0)
    new_waits.note(100.0, 1200.0)
    assert old_waits.per_job(1200.0) < new_waits.per_job(1200.0)
    weight = math.exp(-1200.0 / LockWaits.FORGETS_SECONDS)
    assert old_waits.per_job(1200.0) == pytest.approx(100.0 * weight / (weight + 1 + LockWaits.PRIOR_JOBS))


def test_only_pending_timed_jobs_are_expected_to_wait() -> None:
    """The compiles never take the lock: the waits ahead are per pending export, run or peer."""
    jobs = [_job("compile", "a"), _job("run", "a"), _job("run", "b")]
    published = StageTimes({}, {}, {"compile": 30.0, "run": 10.0})
    estimates = Estimates.of(jobs, {}, exclusive_stages={"run"}, published=published)
    loads = LoadTrace()
    loads.note(1.0, 0.0)
    pending = [job.id for job in jobs]
    before = estimates.left_ahead(loads, pending, {}, 10.0)
    estimates.waits.note(30.0, 10.0)  # one timed job waited 30 s: 10 s a job ahead
    assert estimates.waits_ahead(pending, 10.0) == pytest.approx(2 * 10.0)
    assert estimates.left_ahead(loads, pending, {}, 10.0) == pytest.approx(before + 20.0)
    assert estimates.waits_ahead([jobs[0].id], 10.0) == 0.0


def test_progress_tells_the_estimate_each_timed_jobs_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run waits after its warm-up call (`running` is called before and after): its wait is the time
    between `waiting` and `running`, noted once when it finishes; a timed job that had the lock at once
    notes 0; a compile, nothing."""
    monkeypatch.setattr(progress_module, "load_factor", lambda: 1.0)
    clock = [1000.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    compile_, run, other = _job("compile", "a"), _job("run", "a"), _job("run", "b")
    published = StageTimes({}, {}, {"compile": 30.0, "run": 10.0})
    estimates = Estimates.of([compile_, run, other], {}, exclusive_stages={"run"}, published=published)
    progress = Progress(3, out=io.StringIO(), heartbeat=0, estimates=estimates, live=False)
    ok = lambda job: Record(job.id, job.stage, job.cell, "k", Status.OK, {}, seconds=10.0)  # noqa: E731

    progress.started(compile_)
    clock[0] += 30.0
    progress.finished(compile_, ok(compile_))
    assert estimates.waits.samples == 0

    progress.started(run)
    progress.running(run)  # no lock around the stage: it takes the lock itself after its warm-up
    clock[0] += 5.0
    progress.waiting(run)
    clock[0] += 45.0
    assert progress.eta() == f"ETA {progress_module.clock(10.0 + 10.0)}"  # waiting: counted whole, none seen
    progress.running(run)
    clock[0] += 10.0
    progress.finished(run, ok(run))
    assert estimates.waits.samples == 1
    assert estimates.waits.per_job(clock[0]) == pytest.approx(45.0 / (1 + LockWaits.PRIOR_JOBS), rel=0.01)
    assert progress.eta() == f"ETA {progress_module.clock(10.0 + estimates.waits.per_job(clock[0]))}"

    progress.started(other)
    progress.running(other)
    clock[0] += 10.0
    progress.finished(other, ok(other))
    assert estimates.waits.samples == 2
    progress.close()


def test_a_job_waiting_now_is_expected_the_holders_rest_once() -> None:
    """A timed job waiting for the quiet lock now waits what the lock's holder is still expected to
    take: it was also expected the mean wait of the jobs yet to start, its wait counted twice. Once
    now: the holder's rest; the mean, for the timed jobs yet to start only (and for a waiting one
    where no holder says how long)."""
    jobs = [_job("run", "a"), _job("run", "b"), _job("run", "c")]
    published = StageTimes({}, {}, {"run": 10.0})
    estimates = Estimates.of(jobs, {}, exclusive_stages={"run"}, published=published)
    loads = LoadTrace()
    loads.note(1.0, 0.0)
    estimates.waits.note(30.0, 10.0)  # 10 s a job to come
    per_job = estimates.waits.per_job(10.0)
    assert per_job == pytest.approx(10.0)
    waiting, pending = [jobs[0].id], [jobs[1].id, jobs[2].id]
    whole = estimates.left_ahead(loads, [*waiting, *pending], {}, 10.0) - 3 * per_job  # 3 jobs' own time
    assert whole == pytest.approx(30.0)
    left = estimates.left_ahead(loads, pending, {}, 10.0, waiting=waiting, held=40.0)
    assert left == pytest.approx(whole + 40.0 + 2 * per_job)  # the holder's rest once, 2 jobs to start
    unknown = estimates.left_ahead(loads, pending, {}, 10.0, waiting=waiting, held=0.0)
    assert unknown == pytest.approx(whole + 3 * per_job)  # no holder's word: the mean, as if pending


def test_progress_counts_a_waiting_jobs_wait_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """`Progress.eta` while a run waits for the lock that another session's stage holds: the
    holder's rest (40 s) and the job's own time, plus the mean wait for the job yet to start."""
    monkeypatch.setattr(progress_module, "load_factor", lambda: 1.0)
    clock = [1000.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    first, second, third = _job("run", "a"), _job("run", "b"), _job("run", "c")
    published = StageTimes({}, {}, {"run": 10.0})
    estimates = Estimates.of([first, second, third], {}, exclusive_stages={"run"}, published=published)
    progress = Progress(3, out=io.StringIO(), heartbeat=0, estimates=estimates, live=False)
    monkeypatch.setattr(progress, "_held_for", lambda: 40.0)
    ok = lambda job: Record(job.id, job.stage, job.cell, "k", Status.OK, {}, seconds=10.0)  # noqa: E731

    progress.started(first)
    progress.waiting(first)
    clock[0] += 30.0
    progress.running(first)
    clock[0] += 10.0
    progress.finished(first, ok(first))  # waited 30 s: 10 s a job to come
    per_job = estimates.waits.per_job(clock[0])
    assert per_job == pytest.approx(10.0, rel=0.01)

    progress.started(second)
    progress.waiting(second)
    assert progress.eta() == f"ETA {progress_module.clock(10.0 + 40.0 + 10.0 + per_job)}"
    progress.close()
