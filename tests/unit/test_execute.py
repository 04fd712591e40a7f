"""The executor with fake stages and a fake backend: ordering, parallelism, timed stages alone,
reuse, --retime, --retry-failed, not-run propagation, interruption. No torch, IREE or Docker:
the stages are stand-ins that record what the executor asked of them."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import threading
import time
import types
from pathlib import Path
from typing import Callable, Iterator, Optional

import pytest

from iree_matrix import cli, stages
from iree_matrix.core.model.outcome import Outcome
from iree_matrix.core.model.results import ResultsLog, Status
from iree_matrix.core.model.store import Store
from iree_matrix.core.system import processes
from iree_matrix.core.system.process_request import ProcessRequest
from iree_matrix.execution.execute import Executor, Options
from iree_matrix.matrix.plan import EnvSpec, Job, Plan
from tests.unit.builders import FakeBackend

ENV = EnvSpec("compiler", "3.11", (), "c", arch="x86_64")


class FakeStage:
    """Keys are the job id (plus a version, to model changed inputs); `behave` decides what an
    execution does. Every call is logged, with how many stages ran at that moment."""

    timeout = 60.0
    warms_up = False

    def __init__(self, name: str, exclusive: bool, world: World) -> None:
        self.name, self.exclusive, self.world = name, exclusive, world

    def key(self, job: Job, ctx: stages.Context) -> str:
        return _key(job.id, self.world)

    def execute(self, job: Job, ctx: stages.Context, out: Path) -> Outcome:
        with self.world.lock:
            self.world.running += 1
            self.world.peak = max(self.world.peak, self.world.running)
            self.world.overlaps[job.id] = self.world.running
            self.world.timed += self.exclusive
            self.world.timed_peak = max(self.world.timed_peak, self.world.timed)
            self.world.calls.append(job.id)
        try:
            time.sleep(self.world.seconds)
            (out / "artifact").write_text(job.id)
            with open(ctx.log, "a") as log:
                log.write(f"{job.id} inputs v{self.world.version}\n")
            behave = self.world.behaviour.get(job.id)
            return behave(job) if behave else Outcome(Status.OK, {"n": 1})
        finally:
            with self.world.lock:
                self.world.running -= 1
                self.world.timed -= self.exclusive

    def reusable(self, job: Job, ctx: stages.Context, entry) -> bool:
        return True


def _key(job_id: str, world: World) -> str:
    return hashlib.sha256(f"{job_id}@{world.version}".encode()).hexdigest()


class World:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[str] = []
        self.running = self.peak = 0
        self.timed = self.timed_peak = 0  # timed stages running at once (and the most ever)
        self.overlaps: dict[str, int] = {}
        self.behaviour: dict[str, Callable[[Job], Outcome]] = {}
        self.seconds = 0.0
        self.version = 1


def _job(stage: str, cell: str, *deps: str) -> Job:
    return Job(stage, cell, tuple(deps), {"model": cell.split("/")[0]}, ENV)


def _plan() -> Plan:
    """install -> export -> compile x2 -> run x2 (compile is shared work, run is timed)."""
    jobs = [_job("install", "env"), _job("export", "m/e", "install:env")]
    for c in ("3.9.0", "3.10.0"):
        jobs.append(_job("compile", f"m/e/{c}", "install:env", "export:m/e"))
        jobs.append(_job("run", f"m/e/{c}", "install:env", f"compile:m/e/{c}"))
    return Plan(tuple(jobs))


@pytest.fixture
def world(monkeypatch) -> Iterator[World]:
    world = World()
    timed = {"export", "run"}
    fakes = {name: FakeStage(name, name in timed, world) for name in ("install", "export", "compile", "run")}
    monkeypatch.setattr(stages, "get", lambda name: fakes[name])
    yield world
    processes.resume()  # an interrupted run leaves new commands refused until the next run starts


def _run(tmp_path: Path, options: Optional[Options] = None, plan: Optional[Plan] = None):
    spec = types.SimpleNamespace(timeouts={})
    log = ResultsLog(tmp_path / "results.jsonl")
    executor = Executor(
        spec, plan or _plan(), cache=tmp_path / "cache", results=log, backend=FakeBackend(),
        options=options or Options(), out=io.StringIO(),
    )  # fmt: skip
    return executor.run(), log


def test_every_job_after_its_dependencies_and_every_result_published(world: World, tmp_path: Path):
    summary, log = _run(tmp_path)
    order = world.calls
    for job in _plan().jobs:
        assert all(order.index(dep) < order.index(job.id) for dep in job.deps)
    assert summary.counts() == {"ok": 6} and summary.executed == 6
    assert {r.job for r in log} == {j.id for j in _plan().jobs}


def test_two_at_a_time_but_a_timed_stage_alone(world: World, tmp_path: Path):
    world.seconds = 0.15
    _run(tmp_path, Options(jobs=2))
    assert world.peak == 2  # the two compiles shared the workers
    assert all(world.overlaps[j] == 1 for j in world.overlaps if j.startswith(("run:", "export:")))


def test_a_second_run_reuses_everything_and_publishes_nothing_new(world: World, tmp_path: Path):
    _run(tmp_path)
    lines = (tmp_path / "results.jsonl").read_text()
    world.calls.clear()
    summary, _ = _run(tmp_path)
    assert world.calls == [] and len(summary.reused) == 6
    assert (tmp_path / "results.jsonl").read_text() == lines


def test_retime_measures_timed_stages_again_and_nothing_upstream(world: World, tmp_path: Path):
    _run(tmp_path)
    world.calls.clear()
    _run(tmp_path, Options(retime=("run:*",)))
    assert sorted(world.calls) == ["run:m/e/3.10.0", "run:m/e/3.9.0"]


def test_retime_measures_a_shared_key_once_per_run(world: World, tmp_path: Path, monkeypatch):
    """Two runs whose modules are byte-identical (a null knob) have one key: --retime measures it
    once in the run and the other job takes that measurement (issue #37: null knobs cost nothing)."""
    fake = stages.get("run")
    monkeypatch.setattr(fake, "key", lambda job, ctx: _key("run:same-module", world), raising=False)
    _run(tmp_path)
    assert sum(c.startswith("run:") for c in world.calls) == 1  # stored once, shared
    world.calls.clear()
    summary, _ = _run(tmp_path, Options(retime=("run:*",)))
    assert [c for c in world.calls if c.startswith("run:")] in (["run:m/e/3.9.0"], ["run:m/e/3.10.0"])
    assert summary.records["run:m/e/3.9.0"].key == summary.records["run:m/e/3.10.0"].key


def test_a_failure_blocks_its_dependants_and_is_kept_until_retry_failed(world: World, tmp_path: Path):
    broken = "compile:m/e/3.10.0"
    world.behaviour[broken] = lambda job: Outcome(
        Status.FAIL, message="error: boom", error_class="compile-error"
    )
    summary, _ = _run(tmp_path)
    blocked = summary.records["run:m/e/3.10.0"]
    assert blocked.status is Status.NOT_RUN and blocked.blocked_by == broken
    assert summary.records["run:m/e/3.9.0"].status is Status.OK  # the rest went on
    world.calls.clear()
    _run(tmp_path)
    assert world.calls == []  # a stored failure is a result: not redone by default
    del world.behaviour[broken]
    summary, _ = _run(tmp_path, Options(retry_failed=True))
    assert world.calls == [broken, "run:m/e/3.10.0"] and summary.records["run:m/e/3.10.0"].status is Status.OK


def test_a_bug_in_a_stage_is_a_recorded_failure_that_is_never_stored(world: World, tmp_path: Path):
    world.behaviour["export:m/e"] = lambda job: 1 / 0
    summary, _ = _run(tmp_path)
    record = summary.records["export:m/e"]
    assert (record.status, record.error_class) == (Status.FAIL, "internal")
    assert "ZeroDivisionError" in record.message
    world.calls.clear()
    world.behaviour.clear()
    _run(tmp_path)
    assert "export:m/e" in world.calls  # not cached: the next run tries again


def test_an_interrupted_run_keeps_what_finished_and_resumes(world: World, tmp_path: Path):
    def interrupt(job: Job) -> Outcome:
        raise KeyboardInterrupt

    world.behaviour["compile:m/e/3.10.0"] = interrupt
    summary, log = _run(tmp_path)
    assert summary.interrupted
    published = {r.job for r in log}
    assert "compile:m/e/3.10.0" not in published and "compile:m/e/3.9.0" in published
    world.calls.clear()
    world.behaviour.clear()
    summary, _ = _run(tmp_path)
    assert not summary.interrupted and "compile:m/e/3.9.0" not in world.calls
    assert "compile:m/e/3.10.0" in world.calls and summary.counts() == {"ok": 6}


def test_changed_inputs_make_new_keys_and_every_stage_runs_again(world: World, tmp_path: Path):
    _run(tmp_path)
    world.calls.clear()
    world.version = 2
    summary, _ = _run(tmp_path)
    assert len(world.calls) == 6 and not summary.reused


def test_sigterm_mid_stage_stores_nothing_for_that_job_and_resumes(world: World, tmp_path: Path):
    """The real path of a SIGTERM (or Ctrl-C): the signal reaches the main thread while a stage's
    command runs in a worker; the command is killed, and whatever the stage then makes of it (here:
    an 'ok' it should not be trusted with) is neither stored nor published."""
    victim, commands = "compile:m/e/3.10.0", []

    def killed_mid_command(job: Job) -> Outcome:
        # The command itself sends the signal: it is surely running (and known to processes) by then.
        argv = ["sh", "-c", f"kill -TERM {os.getpid()}; exec sleep 30"]
        commands.append(processes.run(ProcessRequest(argv, timeout=60, check=False)))
        return Outcome(Status.OK, {"n": 1})

    world.behaviour[victim] = killed_mid_command
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    cli._interruptible()  # what `iree-matrix matrix` installs: both signals stop the run alike
    try:
        summary, log = _run(tmp_path)
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    assert summary.interrupted and victim in world.calls
    (killed,) = commands
    assert killed.returncode == -signal.SIGTERM and killed.seconds < 10  # stopped, not waited for
    assert victim not in {r.job for r in log} and "compile:m/e/3.9.0" in {r.job for r in log}
    store = Store(tmp_path / "cache" / "store")
    assert store.get("compile", _key(victim, world)) is None
    assert store.get("compile", _key("compile:m/e/3.9.0", world)) is not None
    world.calls.clear()
    world.behaviour.clear()
    summary, _ = _run(tmp_path)
    assert not summary.interrupted and victim in world.calls and "compile:m/e/3.9.0" not in world.calls
    assert summary.counts() == {"ok": 6}


def test_a_later_run_of_a_job_keeps_the_earlier_runs_log(world: World, tmp_path: Path, monkeypatch):
    """Issue 29: logs were one file per job id, so a later run with other settings overwrote the
    log an earlier record points to. Each execution now has its own, found from its record."""
    from iree_matrix.execution import execute
    from iree_matrix.execution.execute import job_log

    clock = iter(f"2026-11-23T17:{m:02d}:00+00:00" for m in range(60))
    monkeypatch.setattr(execute, "now", lambda: next(clock))
    _, log = _run(tmp_path)
    first = log.latest()["compile:m/e/3.9.0"]
    world.version = 2  # other settings: new keys, every stage runs again
    _, log = _run(tmp_path)
    second = log.latest()["compile:m/e/3.9.0"]
    cache = tmp_path / "cache"
    assert job_log(cache, first.job, first.started) != job_log(cache, second.job, second.started)
    assert job_log(cache, first.job, first.started).read_text() == "compile:m/e/3.9.0 inputs v1\n"
    assert job_log(cache, second.job, second.started).read_text() == "compile:m/e/3.9.0 inputs v2\n"


def test_a_stage_that_changed_its_input_stores_nothing_and_the_input_is_made_again(
    world: World, tmp_path: Path
):
    """#51: a compile's knob wrote a dump over the stored export; the compile then failed. Neither
    that failure nor anything else made from the changed bytes is stored; the next run exports again."""
    spoiler = "compile:m/e/3.9.0"

    def spoil(job: Job) -> Outcome:
        export = Store(tmp_path / "cache" / "store").entry_path("export", _key("export:m/e", world))
        (export / "artifact").write_text("digraph G {}")
        return Outcome(
            Status.FAIL, message="error: custom op 'digraph' is unknown", error_class="compile-error"
        )

    world.behaviour[spoiler] = spoil
    summary, _ = _run(tmp_path, Options(jobs=1))
    record = summary.records[spoiler]
    assert (record.status, record.error_class) == (Status.FAIL, "environment-fault")
    assert "export:m/e's stored artifact changed after it was stored" in record.message
    other = summary.records["compile:m/e/3.10.0"]  # ran before (ok) or found the export discarded
    assert other.status is Status.OK or other.error_class == "environment-fault"
    del world.behaviour[spoiler]
    world.calls.clear()
    summary, _ = _run(tmp_path, Options(jobs=1))
    assert "export:m/e" in world.calls and spoiler in world.calls  # made again, then compiled
    assert summary.records[spoiler].status is Status.OK


def test_a_stage_that_ran_no_command_still_leaves_a_log_that_says_so(
    world: World, tmp_path: Path, monkeypatch
):
    """Issue #52: `nox -s armv6_smoke` left a 0-byte job log (the install of a runtime built from
    source installs nothing): every executed job's log says what happened."""
    from iree_matrix.execution.execute import job_log

    quiet = "install:env"
    real = FakeStage.execute

    def silent(self, job, ctx, out):
        if job.id != quiet:
            return real(self, job, ctx, out)
        return Outcome(Status.OK, {"n": 1})

    monkeypatch.setattr(FakeStage, "execute", silent)
    _, log = _run(tmp_path)
    record = log.latest()[quiet]
    text = job_log(tmp_path / "cache", record.job, record.started).read_text()
    assert text == "iree-matrix: install ok, without running a command\n"
    compiled = log.latest()["compile:m/e/3.9.0"]
    assert job_log(tmp_path / "cache", compiled.job, compiled.started).read_text().startswith("compile:m/e")


def test_a_run_states_its_cost_before_it_starts_and_a_command_its_own_levers(world: World, tmp_path: Path):
    """Issue #52: jobs, the estimated time on this machine now, and how to make it cheaper."""
    out = io.StringIO()
    log = ResultsLog(tmp_path / "results.jsonl")
    cheaper = "--budget N (a shorter descent)"
    Executor(
        types.SimpleNamespace(timeouts={}), _plan(), cache=tmp_path / "cache", results=log,
        backend=FakeBackend(), options=Options(cheaper=cheaper), out=out,
    ).run()  # fmt: skip
    said = [line for line in out.getvalue().splitlines() if "this run: " in line]
    assert len(said) == 1 and "this run: 6 of 6 jobs to run, about 0:" in said[0]
    assert said[0].endswith(f"CPUs); cheaper: {cheaper}")
    out = io.StringIO()  # everything stored now: nothing to state
    Executor(
        types.SimpleNamespace(timeouts={}), _plan(), cache=tmp_path / "cache", results=log,
        backend=FakeBackend(), options=Options(), out=out,
    ).run()  # fmt: skip
    assert "this run: " not in out.getvalue()


class WarmingStage(FakeStage):
    """An export: a first part (the model's first call), its timing in its turn (`ctx.quiet`), then a
    long untimed part (turbine's export). Notes how many stages ran during its timing."""

    warms_up = True

    def execute(self, job: Job, ctx: stages.Context, out: Path) -> Outcome:
        with self.world.lock:
            self.world.running += 1
            self.world.calls.append(job.id)
        try:
            time.sleep(self.world.seconds)
            assert ctx.quiet is not None
            with self.world.lock:  # waiting for its turn, its worker idle (as a real one waits for GO)
                self.world.running -= 1
            with ctx.quiet(lambda: False):
                with self.world.lock:
                    self.world.running += 1
                    self.world.overlaps[job.id] = self.world.running
                time.sleep(self.world.seconds)
                with self.world.lock:
                    self.world.overlaps[job.id] = max(self.world.overlaps[job.id], self.world.running)
            time.sleep(self.world.seconds * 4)  # the export: others may run beside it
            (out / "artifact").write_text(job.id)
            return Outcome(Status.OK, {"n": 1})
        finally:
            with self.world.lock:
                self.world.running -= 1


def test_an_export_runs_beside_compiles_but_times_alone(world: World, tmp_path: Path, monkeypatch):
    """Issue 97: exports (which time torch eager) ran alone from start to end, so on 2 cores a first
    run's compiles waited behind every export. Now an export runs beside others except for its
    timing, which waits for the others to end, and during which nothing starts."""
    world.seconds = 0.2
    fakes = {name: FakeStage(name, name == "run", world) for name in ("install", "compile", "run")}
    fakes["export"] = WarmingStage("export", True, world)
    monkeypatch.setattr(stages, "get", lambda name: fakes[name])
    jobs = [_job("install", "env")]
    for m in ("a", "b", "c"):
        jobs += [_job("export", f"{m}/e", "install:env"), _job("compile", f"{m}/e/3.9.0", f"export:{m}/e")]
    summary, _ = _run(tmp_path, Options(jobs=2), Plan(tuple(jobs)))
    assert summary.counts() == {"ok": 7}
    exports = [j for j in world.overlaps if j.startswith("export:")]
    assert len(exports) == 3 and all(world.overlaps[j] == 1 for j in exports)  # each timed alone
    assert world.peak == 2  # and something ran beside an export's untimed parts
