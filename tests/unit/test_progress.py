"""The estimate of what is left, and what a person sees in a log and on a terminal."""

from __future__ import annotations

import io
import math
import time

import pytest

from iree_matrix.core.model.results import Record, Status
from iree_matrix.execution import progress as progress_module
from iree_matrix.execution.eta import (
    COUPLING,
    COUPLING_WEIGHT,
    LONG_CALLS,
    RELATIVE,
    REUSED_SECONDS,
    UNKNOWN_STAGE_SECONDS,
    Estimates,
)
from iree_matrix.execution.progress import Progress
from iree_matrix.execution.stage_times import StageTimes
from iree_matrix.matrix.plan import EnvSpec, Job

ENV = EnvSpec("compiler", "3.11", (), "c")


def _job(stage: str, model: str, compiler: str = "3.9.0") -> Job:
    return Job(stage, f"{model}/e/iree{compiler}/x86_64/default", (), {"model": model}, ENV)


def _record(job: Job, seconds: float, status: Status = Status.OK) -> Record:
    return Record(job.id, job.stage, job.cell, "k", status, {"model": job.labels["model"]}, seconds=seconds)


def test_a_straggler_stretches_its_kind_as_one_job_among_those_that_finished() -> None:
    """A running job 6x past its estimate: the first of its kind stretches every pending one 6x (nothing
    here says its kind runs on time); after three of its kind finished on time, 6**(1/4). Taken whole,
    one run held 64 s by a 40-s stall of the machine once read "ETA 32:43" for 14:55 (issue #69's
    seventh live run; tests/unit/test_eta.py replays it)."""
    runs = [_job("run", f"m{i}") for i in range(6)]
    published = StageTimes({}, {("run", f"m{i}"): 20.0 for i in range(6)}, {})
    e = Estimates.of(runs, {}, {"run"}, published=published, load=1.0)
    straggler, pending = runs[0], [r.id for r in runs[3:]]
    expected = e.expected(straggler.id)
    started = time.monotonic() - 6 * expected
    rest = 0.25 * 6 * expected
    whole = e.left(pending, {straggler.id: started}, now=started + 6 * expected)
    assert whole == pytest_approx(sum(e.expected(j) for j in pending) * 6 + rest)
    for done in runs[1:3]:
        e.finished(done.id, expected)
    e.finished(runs[5].id, expected)  # three on time
    pending = [r.id for r in runs[3:5]]
    now = started + 6 * expected
    assert e.factor.ended[e.kind(straggler.id)] == 3
    assert e.left(pending, {straggler.id: started}, now=now) == pytest_approx(
        sum(e.expected(j) for j in pending) * 6**0.25 + rest
    )


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


def test_on_a_terminal_a_live_status_line_stays_under_the_log(monkeypatch):
    monkeypatch.setattr(progress_module, "load_factor", lambda: 1.0)  # a quiet machine, whatever this one's
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
    """Before any job finished, every computing stage takes L**COUPLING (L the load over the CPUs);
    each job that finishes teaches how hard the load hits (k, for every stage) and its own kind's excess
    over that (n to 1 against none); a change of load moves every factor as L**k."""
    published = StageTimes({}, {("compile", "yolox"): 100.0, ("run", "yolox"): 4.0}, {"export": 15.0})
    compile_a, compile_b, run = (
        _job("compile", "yolox"),
        _job("compile", "yolox", "3.13.0"),
        _job("run", "yolox"),
    )
    export = _job("export", "tiny")
    e = Estimates.of([compile_a, compile_b, run, export], {}, {"run"}, published=published, load=3.0)
    assert e.source == {j.id: "published" for j in (compile_a, compile_b, run, export)}
    # Nothing finished: the load, as the publication's loaded runs felt it.
    assert e.expected(compile_a.id) == pytest_approx(100.0 * 3**COUPLING)
    assert e.expected(export.id) == pytest_approx(15.0 * 3**COUPLING)
    e.finished(compile_a.id, 150.0)  # the first compile took 1.5x its published time, at load 3
    x = math.log(3.0)
    k = (COUPLING * COUPLING_WEIGHT + x * math.log(1.5)) / (COUPLING_WEIGHT + x * x)
    assert e.factor.coupling() == pytest.approx(k) and k < COUPLING  # the load hits softer than thought
    # exports, none finished: the load as k says it hits
    assert e.expected(export.id) == pytest_approx(15.0 * 3**k)
    # compiles: also their own excess over that, weighed 1 to 1 against none (one job)
    excess = math.log(1.5) - k * x
    assert e.expected(compile_b.id) == pytest_approx(100.0 * math.exp(excess / 2 + k * x))
    before = e.expected(compile_b.id)
    e.factor.load = 6.0  # the load doubled since the compile finished: every stage as k says
    assert e.expected(compile_b.id) == pytest_approx(before * 2**k)
    assert e.expected(export.id) == pytest_approx(15.0 * 6**k)
    e.factor.load = 3.0
    assert "compile x1.7, other stages x1.9" in e.basis() and "4 from the published" in e.basis()
    # A running job past its estimate: pending jobs of its kind are expected to overrun alike, the
    # overrun weighed as one job more among the one of its kind that finished (in log space).
    long_ago = time.monotonic() - 300.0
    expected = e.expected(compile_b.id)
    assert e.left([compile_b.id], {compile_a.id: long_ago}) == pytest_approx(
        (300.0 / expected) ** 0.5 * expected + 75.0
    )


def test_long_calls_and_peers_learn_their_own_factor():
    """A run of long calls (the Whisper encoder's: 53 s, no benchmark floor) is its own kind: its
    overrun is learned from its own jobs, not from the 7-s runs that are mostly floor, and a peer's
    from the peers'. A newcomer's encoder runs and nine peers each outlasted their estimates."""
    labels = {"model": "m"}
    short, long_a, long_b = (Job("run", cell, (), labels, ENV) for cell in ("short", "long-a", "long-b"))
    peer_a, peer_b = (Job("peer", cell, (), {"model": "m", "peers": "onnxruntime"}, ENV) for cell in "ab")
    published = StageTimes(
        {short.id: 7.5, long_a.id: 53.0, long_b.id: 53.0, peer_a.id: 10.0, peer_b.id: 10.0},
        {},
        {"run": 7.5},
        {short.id: 6.0},
    )
    jobs = [short, long_a, long_b, peer_a, peer_b]
    e = Estimates.of(jobs, {}, {"run", "peer"}, published=published, load=5.0)
    assert e.kind(long_a.id) == LONG_CALLS and e.kind(short.id) == "run" and e.kind(peer_a.id) == "peer"
    long_before, peer_before = e.expected(long_b.id), e.expected(peer_b.id)
    # on host venvs a run of long calls feels the load less than a compile (issue #69's live run)
    assert long_before == pytest_approx(53.0 * 5 ** (COUPLING * RELATIVE["venv"][LONG_CALLS]))
    e.finished(long_a.id, long_before * 2)  # twice its estimate
    long_after, peer_after = e.expected(long_b.id), e.expected(peer_b.id)
    assert long_after / long_before > 1.6  # most of it, from one job of its own kind
    # the peers as the load now seems to hit harder (k is shared: no peer finished, so their change is
    # k's alone), the long calls by k's change at their relative exponent and by their own excess
    assert 1.0 < peer_after / peer_before
    assert long_after / long_before > (peer_after / peer_before) ** RELATIVE["venv"][LONG_CALLS] * 1.1
    e.finished(short.id, 60.0)  # a run that is mostly benchmark floor teaches nothing
    assert e.expected(long_b.id) == long_after
    e.finished(peer_a.id, peer_after * 1.5)
    assert e.expected(peer_b.id) / peer_after > 1.25  # the peers' own excess


def test_the_estimate_follows_the_load_as_it_changes(monkeypatch):
    """The ETA takes the recent load (a LoadTrace over the last two minutes), not the load of the
    run's start: a newcomer's first estimate took load 4.0, the load rose to 9-15 within two minutes."""
    loads = iter([2.0] + [2.0] * 3 + [6.0] * 200)
    monkeypatch.setattr(progress_module, "load_factor", lambda: next(loads))
    clock = [1000.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    job = _job("compile", "yolox")
    published = StageTimes({}, {("compile", "yolox"): 100.0}, {})
    estimates = Estimates.of([job], {}, published=published, load=2.0)
    progress = Progress(1, out=io.StringIO(), heartbeat=0, estimates=estimates, live=False)
    first = progress.eta()
    assert first == f"ETA {progress_module.clock(100.0 * 2**COUPLING)}"
    for _ in range(130):  # two minutes and more at load 6: the recent load is 6
        clock[0] += 1.0
        progress.eta()
    # Expected back toward the run's mean load so far (5.9: its first seconds at 2) over what is left
    # (`LoadTrace.ahead`): near 6, far from 2.
    h, m, s = (int(part) for part in progress.eta().removeprefix("ETA ").split(":"))
    assert 100.0 * 5.5**COUPLING < h * 3600 + m * 60 + s <= 100.0 * 6**COUPLING
    progress.close()


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
    from iree_matrix.execution.eta import DOCKER_BASE_IMAGE_SECONDS, DOCKER_IMAGE_SECONDS
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
