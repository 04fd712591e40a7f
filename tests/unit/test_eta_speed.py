"""The estimate learns the CPU (issue #97): published stage times come from faster CPUs, and on a
machine twice as slow the first jobs that finish here say so for every kind still to come — their
own kind first, the others through this CPU's speed (`HostFactor.speed`) — while the publication host
itself, or a faster one, is estimated as before. Fake job times, pure estimator."""

from __future__ import annotations

import pytest

from iree_matrix.execution.eta import SLOWER_CPU, Estimates
from iree_matrix.execution.stage_times import StageTimes
from iree_matrix.matrix.plan import EnvSpec, Job

ENV = EnvSpec("runtime", "3.11", (), "r")
TIMED = {"export", "run", "peer"}
MODELS = [f"m{i}" for i in range(7)]
# The published (prior) seconds of each stage's jobs: a first run's exports, then compiles, runs, peers.
PRIOR = {"export": 30.0, "compile": 20.0, "run": 8.0, "peer": 10.0}


def _plan() -> tuple[list[Job], StageTimes]:
    jobs = [
        Job(stage, f"{model}/{n}", (), {"model": model}, ENV)
        for stage, count in (("export", 1), ("compile", 2), ("run", 4), ("peer", 1))
        for model in MODELS
        for n in range(count)
    ]
    return jobs, StageTimes({job.id: PRIOR[job.stage] for job in jobs}, {}, {})


def _estimates(jobs: list[Job], published: StageTimes) -> Estimates:
    return Estimates.of(jobs, {}, TIMED, 1, published=published, backend="venv", load=1.0)


def _finish(estimates: Estimates, jobs: list[Job], slower: float) -> None:
    for job in jobs:
        estimates.finished(job.id, PRIOR[job.stage] * slower, load=1.0)


def test_a_cpu_twice_as_slow_doubles_every_kind_after_the_first_jobs() -> None:
    jobs, published = _plan()
    estimates = _estimates(jobs, published)
    exports = [j for j in jobs if j.stage == "export"]
    compiles = [j for j in jobs if j.stage == "compile"]
    pending = [j.id for j in jobs if j.stage != "export"]
    prior_left = estimates.left(pending, {})
    assert estimates.expected(compiles[0].id) == pytest.approx(20.0)  # nothing finished: the prior

    _finish(estimates, exports[:1], 2.0)  # the first export took twice its prior
    assert estimates.factor.speed() == pytest.approx(2**0.5)  # one job, weighed 1 to 1 against the prior
    assert estimates.expected(compiles[0].id) == pytest.approx(20.0 * 2**0.5)  # a kind none finished

    _finish(estimates, exports[1:], 2.0)  # every export: 7 jobs
    for job in (compiles[0], *(j for j in jobs if j.stage in ("run", "peer"))):
        assert estimates.expected(job.id) / PRIOR[job.stage] == pytest.approx(2 ** (7 / 8))  # 1.83x
    assert estimates.left(pending, {}) == pytest.approx(prior_left * 2 ** (7 / 8))

    _finish(estimates, compiles[:3], 2.0)  # the compiles' own: close to 2x, the rest too
    assert 1.95 <= estimates.expected(compiles[3].id) / 20.0 <= 2.0
    assert estimates.expected(pending[-1]) / PRIOR["peer"] == pytest.approx(2 ** (10 / 11))  # 1.88x
    assert "this CPU x1.9 slower" in estimates.basis()
    _finish(estimates, compiles[3:], 2.0)  # n jobs weigh n to 1: 2x in the limit
    assert estimates.expected(pending[-1]) / PRIOR["peer"] == pytest.approx(2 ** (21 / 22))  # 1.94x


def test_the_publication_host_and_a_faster_cpu_leave_the_kinds_to_come_as_they_were() -> None:
    """A host that reads as fast as the basis, or faster (its sittings' quiet times: the quiet replay's
    exports read 0.76 of them while its runs took 1.7x), changes no kind that has not run here; nor
    does a little slower, within `SLOWER_CPU`."""
    for slower in (1.0, 0.5, SLOWER_CPU * 0.95):
        jobs, published = _plan()
        estimates = _estimates(jobs, published)
        _finish(estimates, [j for j in jobs if j.stage == "export"], slower)
        assert estimates.factor.speed() == 1.0
        run = next(j for j in jobs if j.stage == "run")
        assert estimates.expected(run.id) == pytest.approx(8.0), slower


def test_downloads_neither_teach_nor_learn_the_cpus_speed() -> None:
    jobs, published = _plan()
    install = Job("install", "env", (), {}, ENV)
    published = StageTimes({**published.by_job, install.id: 60.0}, {}, {})
    estimates = _estimates([*jobs, install], published)
    estimates.finished(install.id, 240.0, load=1.0)  # a slow mirror: 4x
    assert estimates.factor.speed() == 1.0
    _finish(estimates, [j for j in jobs if j.stage == "export"], 2.0)
    assert estimates.factor.speed() == pytest.approx(2 ** (7 / 8))
    assert estimates.factor.of("install") == pytest.approx(2.0)  # its own 4x, 1 to 1 against none
