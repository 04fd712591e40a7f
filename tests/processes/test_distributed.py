"""The Dask executor with the executor tests' fake stages on an in-process cluster (threads, no
torch/IREE): same results as the serial executor, resources per job, timed stages alone on the
machine, one writer of results.jsonl; and its command-line errors."""

from __future__ import annotations

import contextlib
import io
import types
from pathlib import Path

import pytest

from iree_matrix import cli, stages
from iree_matrix.core.model.outcome import Outcome
from iree_matrix.core.model.results import ResultsLog, Status
from iree_matrix.envs import backends
from iree_matrix.execution.execute import Executor
from iree_matrix.matrix.plan import EnvSpec, Job, Plan
from tests.unit import builders
from tests.unit.test_execute import FakeBackend, FakeStage, World, _plan

distributed = pytest.importorskip("distributed", reason="pip install '.[distributed]'")
from iree_matrix.execution import distributed as dist  # noqa: E402 - only with Dask installed

pytestmark = pytest.mark.processes  # a real local Dask cluster's worker processes

SPEC = types.SimpleNamespace(timeouts={})


@pytest.fixture
def world(monkeypatch, tmp_path) -> World:
    world = World()
    timed = {"export", "run"}
    fakes = {name: FakeStage(name, name in timed, world) for name in ("install", "export", "compile", "run")}
    monkeypatch.setattr(stages, "get", lambda name: fakes[name])
    monkeypatch.setitem(backends.BACKENDS, "fake", lambda cache, spec: FakeBackend())
    monkeypatch.setenv("IREE_MATRIX_QUIET_LOCK", str(tmp_path / "quiet.lock"))
    # A worker keeps environments in $IREE_MATRIX_CACHE when set (distributed.run_task): the
    # tester's own cache would hand this run the installs of an earlier test run, never executed here.
    monkeypatch.delenv("IREE_MATRIX_CACHE", raising=False)
    dist._RUNS.clear()
    return world


@contextlib.contextmanager
def _cluster(workers: dict, nthreads: int = 2):
    """In-process workers (threads of this process: they see the fake stages), by name -> resources."""
    spec = {
        name: {"cls": distributed.Worker, "options": {"nthreads": nthreads, "resources": offered}}
        for name, offered in workers.items()
    }
    scheduler = {"cls": distributed.Scheduler, "options": {"dashboard_address": None}}
    with distributed.SpecCluster(workers=spec, scheduler=scheduler) as cluster:
        with distributed.Client(cluster) as client:
            yield client


def _in_process(workers: int = 2, resources=None):
    offered = resources or {"arch-x86_64": 1, "quiet": 1}
    return _cluster({f"w{i}": offered for i in range(workers)})


def _dask_run(tmp_path: Path, plan: Plan = None, client=_in_process, store=None):
    log = ResultsLog(tmp_path / "results.jsonl")
    executor = dist.DaskExecutor(
        SPEC, plan or _plan(), cache=tmp_path / "cache", results=log, backend=FakeBackend(),
        backend_name="fake", client=client, store=store, out=io.StringIO(),
    )  # fmt: skip
    return executor, executor.run(), log


def _serial_run(tmp_path: Path):
    log = ResultsLog(tmp_path / "results.jsonl")
    executor = Executor(
        SPEC, _plan(), cache=tmp_path / "cache", results=log, backend=FakeBackend(), out=io.StringIO()
    )
    return executor.run(), log


def test_same_records_as_the_serial_executor(world: World, tmp_path: Path):
    serial, _ = _serial_run(tmp_path / "serial")
    world.calls.clear()
    executor, summary, log = _dask_run(tmp_path / "dask")
    assert {j: r.status for j, r in summary.records.items()} == {
        j: r.status for j, r in serial.records.items()
    }
    assert {j: r.key for j, r in summary.records.items()} == {j: r.key for j, r in serial.records.items()}
    for job in _plan().jobs:  # dependencies first, on whichever worker
        assert all(world.calls.index(dep) < world.calls.index(job.id) for dep in job.deps)
    assert [r.job for r in log] and len(list(log)) == 6  # the orchestrator published each once
    assert set(executor.placement) == {j.id for j in _plan().jobs}


def test_the_store_is_shared_and_a_second_run_reuses_it(world: World, tmp_path: Path):
    shared = tmp_path / "shared-store"
    _dask_run(tmp_path / "one", store=shared)
    assert (shared / "compile").is_dir() and not (tmp_path / "one" / "cache" / "store" / "compile").exists()
    world.calls.clear()
    _, summary, _ = _dask_run(tmp_path / "two", store=shared)
    # Installs are each worker's own (environments live in its cache): only they are redone.
    assert all(job.startswith("install:") for job in world.calls)
    assert {j for j in summary.reused} >= {j.id for j in _plan().jobs if j.stage != "install"}


def test_a_timed_stage_is_alone_on_the_machine(world: World, tmp_path: Path):
    world.seconds = 0.15
    _, summary, _ = _dask_run(tmp_path)  # two workers x two threads
    assert summary.counts() == {"ok": 6}
    # Timed stages never overlap each other; a compile may run beside a timing on a cluster (the
    # module's docstring: its `other_load` shows it), so counting every stage would be a race.
    assert world.timed_peak == 1


def test_a_failed_dependency_is_not_sent_to_the_cluster(world: World, tmp_path: Path):
    broken = "compile:m/e/3.10.0"
    world.behaviour[broken] = lambda job: Outcome(Status.FAIL, error_class="compile-error", message="no")
    _, summary, _ = _dask_run(tmp_path)
    blocked = summary.records["run:m/e/3.10.0"]
    assert blocked.status is Status.NOT_RUN and blocked.blocked_by == broken
    assert "run:m/e/3.10.0" not in world.calls


def test_jobs_go_only_to_workers_with_their_architecture(world: World, tmp_path: Path):
    board = EnvSpec("runtime", "3.11", (), "r", arch="aarch64")
    plan = Plan((*_plan().jobs, Job("install", "board", (), {"model": "m"}, board)))

    def two_kinds():
        return _cluster({"x86": {"arch-x86_64": 1, "quiet": 1}, "board": {"arch-aarch64": 1}})

    executor, summary, _ = _dask_run(tmp_path, plan=plan, client=two_kinds)
    assert summary.counts() == {"ok": 7}
    assert executor.placement["install:board"] == "board"
    assert {w for j, w in executor.placement.items() if j != "install:board"} == {"x86"}


def test_no_worker_for_an_architecture_is_one_error(world: World, tmp_path: Path):
    def x86_only():
        return _in_process(1, {"arch-aarch64": 1, "quiet": 1})

    with pytest.raises(cli.UserError, match=r"no worker of the cluster offers arch-x86_64 \(6 jobs\)"):
        _dask_run(tmp_path, client=x86_only)


def test_resources_of_a_job():
    env = EnvSpec("runtime", "3.11", (), "r", arch="aarch64")
    run = Job("run", "m/e/3.9.0", (), {"model": "m"}, env)
    compile_ = Job(
        "compile", "m/e/3.9.0", (), {"model": "m"}, EnvSpec("compiler", "3.11", (), "c", arch="x86_64")
    )
    assert dist.resources(run, "venv") == {"arch-aarch64": dist.LABEL, "quiet": 1.0}
    assert dist.resources(compile_, "docker") == {"arch-x86_64": dist.LABEL, "docker": dist.LABEL}


def test_machine_resources_text():
    offered = dist.machine_resources(emulated=False, docker=False)
    assert dist.resources_text(offered) == "arch-x86_64=1 quiet=1" or "quiet=1" in dist.resources_text(
        offered
    )
    assert "quiet" not in dist.machine_resources(emulated=False, docker=False, quiet=False)


def test_machine_lock_is_taken_by_timed_stages_only(tmp_path: Path):
    turns = builders.timed_turns(dist.machine_lock, tmp_path / "q.lock", holds=0.2)
    assert turns == ["timed beside an ordinary stage", "first timed done", "second timed"]


@pytest.mark.parametrize("bad", ["local", "local:0", "local:x", "remote:2", ""])
def test_bad_cluster_is_one_line(bad, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("IREE_MATRIX_CACHE", str(tmp_path / "cache"))
    smoke = Path(__file__).resolve().parents[2] / "matrix" / "smoke.toml"
    argv = ["matrix", "--matrix", str(smoke), "--cluster", bad, "--results-dir", str(tmp_path / "r")]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("iree-matrix: error: --cluster") and "local:N" in err[0]


def test_an_unreachable_scheduler_is_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("IREE_MATRIX_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(dist, "connect", _refused)
    smoke = Path(__file__).resolve().parents[2] / "matrix" / "smoke.toml"
    argv = ["matrix", "--matrix", str(smoke), "--scheduler", "tcp://127.0.0.1:9", "--backend", "venv"]
    assert cli.main([*argv, "--results-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    # stderr also has the run's opening progress lines (core/console.py); the error is one line, last
    assert err[-1] == "iree-matrix: error: --scheduler tcp://127.0.0.1:9: cannot connect (refused)"
    assert [line for line in err if "error" in line or "Traceback" in line] == err[-1:]


@contextlib.contextmanager
def _refused(*args, **kwargs):
    raise cli.UserError("--scheduler tcp://127.0.0.1:9: cannot connect (refused)")
    yield


def test_store_without_a_cluster_is_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("IREE_MATRIX_CACHE", str(tmp_path / "cache"))
    smoke = Path(__file__).resolve().parents[2] / "matrix" / "smoke.toml"
    argv = ["matrix", "--matrix", str(smoke), "--store", str(tmp_path / "s"), "--backend", "venv"]
    assert cli.main([*argv, "--results-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--store is for --scheduler/--cluster" in err[0]
