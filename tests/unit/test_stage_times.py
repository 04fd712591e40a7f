"""The progress estimate's published basis ships as a small summary (execution/stage_times.json), not as
the published logs (issue #40 item 5): it is current with results/, and the estimate reads it."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from iree_matrix.core.model.host_identity import HostIdentity
from iree_matrix.core.model.results import Record, ResultsLog, Status
from iree_matrix.execution import eta, stage_times
from iree_matrix.findings import results_folder
from iree_matrix.matrix.plan import EnvSpec, Job

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_summary_is_current_with_the_published_results():
    logs = [published.logged for published in results_folder.under(REPO / "results", published=None)]
    made = stage_times.render(stage_times.of_published(logs))
    assert stage_times.SUMMARY.read_text() == made, (
        "execution/stage_times.json is stale: regenerate it with `nox -s stage_times` "
        "(bin/update_stage_times.py) after publishing"
    )


def test_the_estimate_reads_the_summary_not_the_published_logs(monkeypatch):
    def no_log(self):
        raise AssertionError(f"the estimate read {self.path}")

    monkeypatch.setattr(ResultsLog, "__iter__", no_log)
    job_id, seconds = next(iter(stage_times.published().by_job.items()))
    stage = job_id.split(":", 1)[0]
    job = SimpleNamespace(id=job_id, stage=stage, label=SimpleNamespace(model="?"))
    times = stage_times.published()
    assert times.exact(job) == seconds and (times.by_stage.get(job.stage) or 0) > 0  # type: ignore[arg-type]
    assert stage_times.SUMMARY.stat().st_size < 1_000_000  # the published logs: ~12 MB


def test_a_runs_floor_is_its_benchmark_passes_of_short_calls():
    """Google Benchmark's min time (0.5 s a repetition, and its estimating pass) for each pass of calls
    shorter than that: the default device's and local-sync's; none for long calls, a software GPU's
    checked call, or a local-sync cell's one pass counted twice."""
    from iree_matrix.stages.benchmark_tool import min_time_seconds

    short, long_ = {"median": 45.0, "n": 5}, {"median": 6500.0, "n": 5}
    assert min_time_seconds({"latency_ms": short, "cpu_ms": short}) == 6.0
    assert min_time_seconds({"latency_ms": short, "cpu_ms": long_}) == 3.0
    assert min_time_seconds({"latency_ms": long_, "cpu_ms": long_}) == 0.0
    assert min_time_seconds({"latency_ms": short, "cpu_ms": short, "device": "local-sync"}) == 3.0
    assert min_time_seconds({"latency_ms": {**short, "n": 1, "of": "the checked call"}}) == 0.0
    assert min_time_seconds({"status": "refused"}) == 0.0


def test_the_summary_keeps_each_published_runs_floor():
    """The default matrix's 7-8-s runs carry their 6-s floor; the Whisper encoder's (3-7-s calls) none."""
    floor = stage_times.published().floor
    cell = "py3.11-torch2.13.0-turbine3.9.0/iree3.13.0/x86_64/default"
    prefix = f"run:whisper_tiny.encoder/{cell}"
    encoder = [job for job in stage_times.published().by_job if job.startswith(prefix)]
    decode = f"run:llama_stories15m.decode/{cell}"
    assert floor[decode] == 6.0
    assert encoder and all(job not in floor for job in encoder)
    assert stage_times.StageTimes.from_json({"by_job": {}, "by_model": [], "by_stage": {}}).floor == {}


def _timed(job: str, seconds: float, identity: str, finished: str = "2026-11-29T09:00:00") -> Record:
    stage = job.split(":", 1)[0]
    host = HostIdentity.of({"identity": identity, "machine": "x86_64", "cores": 2})
    return Record(job, stage, job.split(":", 1)[1], "k", Status.OK, {"model": "m"}, seconds=seconds,
                  host=host, finished=finished)  # fmt: skip


ZEN3 = "x86_64|AuthenticAMD|25|1|1|1ddebed04610ae65|2"
ROCKET = "x86_64|GenuineIntel|6|167|1|aaaa|2"


def test_an_identity_that_published_slower_jobs_gets_its_speed_and_its_cpu_models_neighbour_too():
    """Issue 97 item 3: the first estimate knows the CPU. A Zen 3 that took the shared compiles 2x a
    Rocket Lake's reads 2.0 and its times enter the basis halved; a job only it ran says nothing of its
    speed; too few shared jobs, no factor."""
    jobs = [f"compile:m{i}/c" for i in range(stage_times.SPEED_JOBS)]
    every = [_timed(j, 10.0, ROCKET) for j in jobs] + [_timed(j, 20.0, ZEN3) for j in jobs]
    every.append(_timed("compile:only/c", 99.0, ZEN3))
    times = stage_times.of_published([every])
    assert times.speed == {ZEN3: 2.0, ROCKET: 1.0}
    # the basis is in the fastest identity's time: the estimate scales it back by this CPU's speed
    assert times.by_job[jobs[0]] == 10.0 and times.by_job["compile:only/c"] == 49.5
    assert times.speed_of(ZEN3) == 2.0
    assert times.speed_of("x86_64|AuthenticAMD|25|1|1|ffff|16") == 2.0  # the same model, other flags
    assert times.speed_of("x86_64|AuthenticAMD|25|17|1|ffff|2") == 1.0  # another CPU: the basis
    assert stage_times.StageTimes.from_json(times.to_json()).speed == times.speed
    fewer = [r for r in every if r.job not in jobs[1:]]
    assert stage_times.of_published([fewer]).speed == {}


def test_the_estimate_scales_the_published_basis_by_the_cpus_speed_beyond_its_floor():
    env = EnvSpec("compiler", "3.11", (), "c")
    compile_, run, install = (Job(s, "m/c", (), {"model": "m"}, env) for s in ("compile", "run", "install"))
    published = stage_times.StageTimes(
        {compile_.id: 10.0, run.id: 7.5, install.id: 20.0}, {}, {}, {run.id: 6.0}
    )
    estimates = eta.Estimates.of([compile_, run, install], {}, published=published, speed=2.0)
    assert estimates.seconds[compile_.id] == 20.0
    assert estimates.seconds[run.id] == 6.0 + 1.5 * 2.0  # the benchmark's min time is no CPU's
    assert estimates.seconds[install.id] == 20.0  # downloads and disk
    faster = eta.Estimates.of([compile_], {}, published=published, speed=0.5)
    assert faster.seconds[compile_.id] == 10.0  # never faster than the basis (eta.SLOWER_CPU)
