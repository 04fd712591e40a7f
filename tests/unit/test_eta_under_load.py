"""The ETA under load (issue #52): on a 2-core machine at load 6, a first run's ETA was 0.58-0.78 of
the time actually left, right only in its last 2 minutes. Replayed here: a run of the published jobs
(their recorded quiet stage times, run/stage_times.json, are the load-1 run), and the same run at
load 6 — each stage slowed as the loaded first run of docs/first-run.md measured it (exports 13x,
compiles 6x, runs 2.4x at load 16.7 on 2 cores, brought to load 6 by the power law those figures
give), times a host of its own (1.15) and each job's own noise (lognormal, sigma 0.35, seeded). From
the first quarter of the run on, the ETA must be within 25 % of the time left."""

from __future__ import annotations

import math
import random
import statistics
from typing import Callable

import pytest

from iree_matrix.matrix.plan import EnvSpec, Job
from iree_matrix.run.progress import Estimates, published_times

CPUS = 2
MEASURED = {"export": 13.0, "compile": 6.0, "run": 2.4}  # docs/first-run.md, at load average 16.7
MEASURED_AT = 16.7 / CPUS
ENV = EnvSpec("compiler", "3.11", (), "c")


def _recorded_run() -> list[tuple[Job, float]]:
    """A default-sized run (7 models: their installs, exports, two compiles and runs each) in pipeline
    order, each job with its recorded quiet time."""
    times = published_times()
    models = sorted(
        {m for (stage, m) in times.by_model if stage == "export"}
        & {m for (stage, m) in times.by_model if stage == "run"}
    )[:7]
    jobs: list[tuple[Job, float]] = []
    for i in range(5):
        jobs.append((Job("install", f"env{i}", (), {"model": ""}, ENV), times.by_stage["install"]))
    for stage, per_model in (("export", 1), ("compile", 2), ("run", 2)):
        for m in models:
            for c in range(per_model):
                job = Job(stage, f"{m}/e/iree3.{9 + c}.0/x86_64/default", (), {"model": m}, ENV)
                jobs.append((job, times.by_model[(stage, m)]))
    return jobs


def _slowdown(stage: str, load_factor: float) -> float:
    """A stage's slowdown at `load_factor` (load average over the CPUs) from the measured one."""
    if stage not in MEASURED or load_factor <= 1:
        return 1.0
    return float(load_factor ** (math.log(MEASURED[stage]) / math.log(MEASURED_AT)))


def _replay(
    load: Callable[[int], float], host: float = 1.0, noise: float = 0.0, seed: int = 52
) -> list[tuple[float, float]]:
    """(share of the run done, ETA / time actually left) after each finished job; `load(i)` is the
    load average while job i runs (the ETA reads it as each job ends, as Progress does)."""
    rng = random.Random(seed)
    run = _recorded_run()
    factors = [max(1.0, load(i) / CPUS) for i in range(len(run))]
    actual = {
        job.id: basis * _slowdown(job.stage, f) * (host if f > 1 else 1.0) * rng.lognormvariate(0, noise)
        for (job, basis), f in zip(run, factors)
    }
    estimates = Estimates.of([job for job, _ in run], {}, published=published_times(), load=factors[0])
    total = sum(actual.values())
    done, points = 0.0, []
    pending = [job.id for job, _ in run]
    for i, (job, _) in enumerate(run):
        pending.remove(job.id)
        estimates.factor.load = factors[i]
        estimates.finished(job.id, actual[job.id])
        done += actual[job.id]
        left = sum(actual[j] for j in pending)
        if left > 0:
            points.append((done / total, estimates.left(pending, {}) / left))
    return points


def _first_eta(load: float, host: float = 1.0) -> float:
    """ETA / the run's whole time, before any job finished."""
    run = _recorded_run()
    f = max(1.0, load / CPUS)
    estimates = Estimates.of([job for job, _ in run], {}, published=published_times(), load=f)
    whole = sum(basis * _slowdown(job.stage, f) * (host if f > 1 else 1.0) for job, basis in run)
    return estimates.left([job.id for job, _ in run], {}) / whole


@pytest.mark.parametrize(("load", "host"), [(1.0, 1.0), (6.0, 1.15)])
def test_from_the_start_and_the_first_quarter_on_the_eta_is_within_25_percent(load, host):
    """Before: at load 6 the first ETA was 0.53 of the run (the issue saw 0.58-0.78)."""
    assert 0.75 <= _first_eta(load, host) <= 1.25
    late = [(round(at, 2), round(r, 2)) for at, r in _replay(lambda i: load, host) if at >= 0.25]
    assert late and not [(at, r) for at, r in late if not 0.75 <= r <= 1.25], late


@pytest.mark.parametrize("seed", range(10))
def test_each_jobs_own_noise_leaves_the_eta_unbiased(seed):
    """Each job off its stage's slowdown by its own noise (sigma 0.25): single points stray (a few
    big jobs decide the rest), the ETA's median from the first quarter on stays within 25 %."""
    ratios = [r for at, r in _replay(lambda i: 6.0, 1.15, 0.25, seed) if at >= 0.25]
    assert 0.75 <= statistics.median(ratios) <= 1.25


def test_a_load_that_rises_mid_run_is_followed_from_the_next_job_on():
    """Quiet for the installs and exports, load 6 from the compiles on: the stages measured quiet
    are expected slower at once, as each feels the new load."""
    run = _recorded_run()
    first_compile = next(i for i, (job, _) in enumerate(run) if job.stage == "compile")
    points = _replay(lambda i: 1.0 if i < first_compile else 6.0, 1.0)
    after = [r for _, r in points[first_compile:]]  # from the first compile's end on
    assert after and all(0.75 <= r <= 1.25 for r in after), [round(r, 2) for r in after]
