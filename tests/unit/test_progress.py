"""The estimate of what is left, and what a person sees in a log and on a terminal."""

from __future__ import annotations

import io
import time

from iree_matrix.core.results import Record, Status
from iree_matrix.execution.progress import REUSED_SECONDS, UNKNOWN_STAGE_SECONDS, Estimates, Progress
from iree_matrix.matrix.plan import EnvSpec, Job

ENV = EnvSpec("compiler", "3.11", (), "c")


def _job(stage: str, model: str, compiler: str = "3.9.0") -> Job:
    return Job(stage, f"{model}/e/iree{compiler}/x86_64/default", (), {"model": model}, ENV)


def _record(job: Job, seconds: float, status: Status = Status.OK) -> Record:
    return Record(job.id, job.stage, job.cell, "k", status, {"model": job.labels["model"]}, seconds=seconds)


def test_estimates_come_from_the_same_stage_and_model_before():
    old = [_job("compile", "yolox", c) for c in ("3.7.0", "3.8.0")] + [_job("compile", "tiny", "3.8.0")]
    history = {j.id: _record(j, s) for j, s in zip(old, (100.0, 140.0, 2.0))}
    new_yolox, new_tiny, new_run = (
        _job("compile", "yolox", "3.13.0"),
        _job("compile", "tiny"),
        _job("run", "m"),
    )
    stored = old[0]
    e = Estimates.of([new_yolox, new_tiny, new_run, stored], history, exclusive_stages={"run"}, jobs=2)
    assert e.seconds[new_yolox.id] == 120.0  # median of yolox's compiles, not of every compile
    assert e.seconds[new_tiny.id] == 2.0
    assert e.seconds[new_run.id] == UNKNOWN_STAGE_SECONDS["run"]  # never seen: a stated guess
    assert e.seconds[stored.id] == REUSED_SECONDS  # stored and ok: it will be reused
    # Two compiles share the two workers; the timed run runs alone.
    pending = [new_yolox.id, new_tiny.id, new_run.id]
    assert e.left(pending, {}) == (120.0 + 2.0) / 2 + UNKNOWN_STAGE_SECONDS["run"]
    # A running job counts for what it still needs.
    assert e.left([], {new_yolox.id: time.monotonic() - 100.0}) == pytest_approx(10.0)


def pytest_approx(value: float):
    import pytest

    return pytest.approx(value, abs=0.5)


def test_log_lines_carry_the_estimate_and_shrink_it_as_jobs_end():
    jobs = [_job("compile", "a"), _job("compile", "b")]
    history = {
        f"compile:{m}/e/iree3.8.0/x86_64/default": _record(_job("compile", m, "3.8.0"), 60.0) for m in "ab"
    }
    out = io.StringIO()
    progress = Progress(2, out=out, heartbeat=0, estimates=Estimates.of(jobs, history), live=False)
    progress.started(jobs[0])
    progress.finished(jobs[0], _record(jobs[0], 60.0))
    progress.close()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[0/2 0:00:00 ETA 0:02:00] compile a/")
    assert lines[1].startswith("[1/2 0:00:00 ETA 0:01:00] compile a/")


def test_on_a_terminal_a_live_status_line_stays_under_the_log():
    out = io.StringIO()
    job = _job("compile", "yolox")
    progress = Progress(3, out=out, heartbeat=0, estimates=Estimates.of([job], {}), live=True)
    progress.started(job)
    status = progress._status()
    assert status.startswith("1/3 jobs" if progress.done else "0/3 jobs")
    assert "running: compile yolox/e/iree3.9.0" in status and "ETA 0:00:30" in status
    progress.close()
    assert "compile yolox/e/iree3.9.0/x86_64/default ..." in out.getvalue()  # the line itself, via rich


def test_a_stage_never_seen_here_takes_the_published_time_times_this_hosts_factor():
    from iree_matrix.execution.progress import StageTimes, sensitivity

    published = StageTimes({}, {("compile", "yolox"): 100.0, ("run", "yolox"): 4.0}, {"export": 15.0})
    compile_a, compile_b, run = (
        _job("compile", "yolox"),
        _job("compile", "yolox", "3.13.0"),
        _job("run", "yolox"),
    )
    export = _job("export", "tiny")
    e = Estimates.of([compile_a, compile_b, run, export], {}, {"run"}, published=published, load=3.0)
    kc, ke = sensitivity("compile"), sensitivity("export")
    assert e.source == {j.id: "published" for j in (compile_a, compile_b, run, export)}
    # Nothing finished: the load as compiles feel it (issue #52: exports more, runs less).
    assert e.expected(compile_a.id) == pytest_approx(100.0 * 3**kc)
    e.finished(compile_a.id, 150.0)  # the first compile took 1.5x its published time
    # compiles: as compiles did here, weighed 1 to 1 against the load as compiles feel it (one job)
    assert e.expected(compile_b.id) == pytest_approx(100.0 * (1.5 * 3**kc) ** 0.5)
    e.finished(compile_b.id, 150.0)
    assert e.expected(compile_b.id) == pytest_approx(100.0 * (1.5**2 * 3**kc) ** (1 / 3))  # 2 to 1
    # exports: between the load as they feel it and the square root of what the compiles showed
    assert e.expected(export.id) == pytest_approx(15.0 * (3**ke * 1.5**0.5) ** 0.5)
    assert "compile x1.7 (from 2 finished here)" in e.basis() and "4 from the published" in e.basis()
    e.factor.load = 6.0  # the load doubled since the compiles finished: compiles as they feel that
    assert e.expected(compile_b.id) == pytest_approx(100.0 * (1.5**2 * 3**kc) ** (1 / 3) * 2**kc)
    e.factor.load = 3.0
    # A running job past its estimate: pending jobs of its stage are expected to overrun alike.
    long_ago = time.monotonic() - 300.0
    expected = e.expected(compile_b.id)
    assert e.left([compile_b.id], {compile_a.id: long_ago}) == pytest_approx(
        300.0 / expected * expected + 75.0
    )


def test_a_stored_job_that_runs_after_all_does_not_stretch_its_stage():
    """A job expected to be reused (a stored result) whose artifact is gone runs for real: its overrun
    of the 0.05 s reuse estimate says nothing of this host, so pending compiles keep their estimate
    (it once multiplied every pending compile by 680: "ETA 43:31:57")."""
    stored, pending = _job("compile", "yolox"), _job("compile", "yolox", "3.13.0")
    e = Estimates.of([stored, pending], {stored.id: _record(stored, 60.0)})
    assert e.source[stored.id] == "stored" and e.expected(pending.id) == 60.0
    running_since = time.monotonic() - 34.0
    assert e.left([pending.id], {stored.id: running_since}) == pytest_approx(60.0 + 0.25 * 34.0)


def test_a_mixed_run_adds_image_time_only_to_its_foreign_installs():
    """`--backend mixed`: this host's environments are venvs, the foreign CPUs' are Docker images
    (each built from a base image the first time): only those installs expect an image build."""
    from iree_matrix.execution.progress import DOCKER_BASE_IMAGE_SECONDS, DOCKER_IMAGE_SECONDS
    from iree_matrix.iree import targets

    host = targets.host_arch()
    foreign = "armv6" if host != "armv6" else "x86_64"
    here, there = (
        Job("install", f"py3.11-iree-runtime3.9.0-{a}", (), {}, EnvSpec("runtime", "3.11", (), "r", arch=a))
        for a in (host, foreign)
    )
    e = Estimates.of([here, there], {}, backend="mixed")
    guess = UNKNOWN_STAGE_SECONDS["install"]
    assert e.seconds[here.id] == guess
    assert e.seconds[there.id] == guess + DOCKER_IMAGE_SECONDS + DOCKER_BASE_IMAGE_SECONDS


def test_a_logged_result_no_longer_in_the_store_is_expected_to_run():
    """A results log's record of a job counts as reused only where `still_stored` says its result is
    still there (same CPU identity, entry in this cache): after an upgrade that changed every key the
    first run read "ETA 0:00:01" with 60 jobs to go."""
    job = _job("compile", "yolox")
    history = {job.id: _record(job, 60.0)}
    assert Estimates.of([job], history).source[job.id] == "stored"
    gone = Estimates.of([job], history, still_stored=lambda record: False)
    assert gone.source[job.id] == "here" and gone.expected(job.id) == 60.0


def test_a_coarse_estimates_overrun_leaves_a_job_timed_before_its_own_time():
    """A lavapipe run estimated from its model's typical run (0.2-s "no CUDA device" runs) overran
    1700x; the next lavapipe run has its own earlier time (a 1500-s timeout) and keeps it ("ETA
    723:03:28" before), while a pending run estimated as coarsely is stretched alike."""
    first, timed_before, coarse = (
        _job("run", "yolox", "3.12.0"),
        _job("run", "yolox", "3.13.0"),
        _job("run", "yolox", "3.11.0"),
    )
    history = {
        timed_before.id: _record(timed_before, 1500.0, Status.TIMEOUT),
        **{f"run:yolox/{chip}": _record(_job("run", "yolox", chip), 0.2) for chip in ("sm_80", "gfx942")},
    }
    e = Estimates.of([first, timed_before, coarse], history, {"run"})
    assert e.own_time == {timed_before.id}
    assert e.expected(timed_before.id) == 1500.0
    model_time = e.expected(first.id)
    assert model_time == 0.2  # the median of its model's runs here
    running = {first.id: time.monotonic() - 360.0}
    left = e.left([timed_before.id, coarse.id], running)
    stretched = model_time * 360.0 / model_time  # the coarse pending run: as long as the running one
    assert abs(left - (1500.0 + stretched + 0.25 * 360.0)) < 5.0
