"""Run a plan: dependency order, parallel jobs, timed stages alone, reuse, resume, Ctrl-C. Every job is
reused (same key), executed, or not run (a dependency failed); records are appended as jobs finish, so
an interrupted run keeps what it completed and the next run resumes from there."""

from __future__ import annotations

import collections
import concurrent.futures as cf
import contextlib
import dataclasses
import fnmatch
import functools
import math
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Optional, TextIO

from iree_matrix import stages
from iree_matrix.core import console, excerpts
from iree_matrix.core.atomic_files import DISK_FULL_TEXT, fuller, is_disk_full, storage_error
from iree_matrix.core.cache_layout import CacheLayout
from iree_matrix.core.errors import EnvironmentFault, StorageError
from iree_matrix.core.model import host_identity
from iree_matrix.core.model.outcome import Outcome, from_exception, now
from iree_matrix.core.model.outcome import record as make_record
from iree_matrix.core.model.results import Record, ResultsLog, Status
from iree_matrix.core.model.store import Entry, Store, failure_is_stale, refused
from iree_matrix.core.system import host, processes
from iree_matrix.core.system.locks import LockCancelled, cache_lock, machine_lock
from iree_matrix.envs import Backend
from iree_matrix.execution import stage_times
from iree_matrix.execution.eta import Estimates, load_factor
from iree_matrix.execution.progress import Progress, cost
from iree_matrix.execution.quiet_turns import POLL, QuietTurns
from iree_matrix.execution.summary import Summary
from iree_matrix.matrix.plan import Job, Plan
from iree_matrix.matrix.spec import MatrixSpec
from iree_matrix.matrix.wheelhouse import Wheelhouse
from iree_matrix.stages import run as run_stage
from iree_matrix.stages.base import QuietLock, quiet_around
from iree_matrix.stages.benchmark_tool import min_time

logger = console.logger(__name__)
# What one job comes to: its record, its store entry when there is one, whether it was reused.
Processed = tuple[Record, Optional[Entry], bool]


@dataclasses.dataclass(frozen=True)
class Cluster:
    """Where a plan runs when not here: a scheduler's address or `local:N` workers started on this
    machine (exactly one of them), and the store every worker shares (default: CACHE/store)."""

    scheduler: Optional[str] = None
    cluster: Optional[str] = None
    store: Optional[Path] = None


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """How a plan is run, from the command line once: where, how many at once, what again, and
    what a failed cell exits with."""

    backend: str = "auto"
    jobs: int = 1
    retry_failed: bool = False  # re-run stages whose stored result is a failure
    # Globs over job ids: timed stages (run, export, peer, dispatches) to measure again even when
    # stored, e.g. all of a matrix's timings in one quiet sitting; nothing upstream is redone.
    retime: tuple[str, ...] = ()
    strict: bool = False
    cluster: Optional[Cluster] = None  # --scheduler/--cluster; None: on this machine
    wait: bool = False  # --wait: a cache another run uses is waited for
    cheaper: Optional[str] = None  # how to make it cheaper, said with its cost (default: CHEAPER)
    unsandboxed: bool = False  # --unsandboxed: model code may run without bubblewrap where it cannot run


Options = RunOptions  # the executor runs with the command line's options as they are
# How to make a run cheaper, said with its cost before it starts (a command may know better: `cheaper`).
CHEAPER = "--select GLOB or --model REF (fewer cells), fewer releases in the matrix file, --timeout"


def job_log(cache: Path, job_id: str, started: Optional[str] = None) -> Path:
    """Where a job's execution that started at `started` wrote its log: one file per execution, so a later run
    never overwrites the log an earlier record points to. Without `started`: the older one file per job."""
    name = job_id.replace("/", "__").replace(":", "--")
    if started is None:
        return CacheLayout(Path(cache)).logs / f"{name}.log"
    return CacheLayout(Path(cache)).logs / name / (started.replace(":", "-").replace("+", "Z") + ".log")


class Executor:
    def __init__(
        self,
        spec: MatrixSpec,
        plan: Plan,
        *,
        cache: Path,
        results: ResultsLog,
        backend: Backend,
        options: Optional[Options] = None,
        out: Optional[TextIO] = None,
    ) -> None:
        self.spec = spec
        self.plan = plan
        self.cache = Path(cache)
        self.store = Store(CacheLayout(self.cache).store)
        self.wheelhouse = Wheelhouse(CacheLayout(self.cache).wheelhouse)
        self.results = results
        self.backend = backend
        self.options = options = options or Options()
        self._published = results.latest()  # job id -> newest published record
        # Keys of timed stages measured in this run: `--retime` measures each key again once, and a
        # second job with the same key (a null knob's byte-identical module) takes that measurement.
        self._measured: set[str] = set()
        self.progress = Progress(len(plan), out=out, cache=self.cache, estimates=self._estimates())
        if hasattr(backend, "say"):  # a Docker base image's build is said as a progress line, once
            backend.say = self.progress.note
        self._say_cost()
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        # job id -> seconds its stage waited for the quiet lock it took itself (`_quiet_lock`): not
        # the stage's time, which the estimates learn from and its record keeps
        self._lock_waits: collections.defaultdict[str, float] = collections.defaultdict(float)
        self._turns = QuietTurns()  # a warming-up stage's turn at timing, among this run's jobs

    def _estimates(self) -> Estimates:
        backend = getattr(self.backend, "name", "venv")
        return plan_estimates(self.spec, self.plan, self._published, self.store, self.options, backend)

    def _say_cost(self) -> None:
        estimates, total = self.progress.estimates, len(self.plan)
        to_run = sum(source != "stored" for source in estimates.source.values()) if estimates else 0
        if estimates is not None and to_run:
            self.progress.note(estimates.basis())
            seconds = estimates.left(list(estimates.seconds), {})
            stored = f" ({total - to_run} stored)" if to_run < total else ""
            said = f"{to_run} of {total} jobs to run{stored}"
            self.progress.note(cost("this run", said, seconds, self.options.cheaper or CHEAPER))

    def run(self) -> Summary:
        start = time.monotonic()
        summary = Summary()
        with contextlib.ExitStack() as held:
            try:  # with --wait, after the run that holds the cache ends (a progress line names it)
                held.enter_context(cache_lock(self.cache, wait=self.options.wait, report=self.progress.note))
            except (KeyboardInterrupt, LockCancelled):  # Ctrl-C while it waited
                self.progress.close()
                summary.interrupted = True
                return summary
            if time.monotonic() - start > 1:  # it waited for another run: what that one stored is
                self.progress.restart(self._estimates())  # reused now, and the wait is not this run's
                self._say_cost()
            self.store.clean_staging()
            # A killed run's containers (its watchdog killed too).
            if orphans := self.backend.remove_orphans():
                self.progress.note(
                    f"removed {len(orphans)} container(s) a killed run left: {', '.join(orphans)}"
                )
            processes.resume()  # an earlier interrupted run in this process stopped new commands
            try:
                self._schedule(summary)
            except KeyboardInterrupt:
                summary.interrupted = True
            finally:
                self.progress.close()
        summary.seconds = time.monotonic() - start
        return summary

    # -- scheduling ---------------------------------------------------------------------------

    def _schedule(self, summary: Summary) -> None:
        entries: dict[str, Entry] = {}
        waiting = list(self.plan.jobs)
        running: dict[cf.Future[Processed], Job] = {}
        pool = cf.ThreadPoolExecutor(max_workers=max(1, self.options.jobs), thread_name_prefix="stage")
        try:
            while waiting or running:
                before = len(waiting)
                waiting = self._start_ready(waiting, running, entries, summary, pool)
                if not running:
                    if waiting and len(waiting) == before:
                        raise RuntimeError(f"scheduler stalled with {len(waiting)} jobs waiting")
                    continue
                # Woken now and then as well: a turn at timing that ends lets other jobs start.
                done, _ = cf.wait(running, timeout=POLL, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    job = running.pop(future)
                    record, entry, reused = future.result()
                    summary.records[job.id] = record
                    if reused:
                        summary.reused.add(job.id)
                    if entry is not None and record.status is Status.OK:
                        entries[job.id] = entry
        except (KeyboardInterrupt, StorageError) as exc:  # StorageError: a full disk stops the run alike
            self._cancel.set()
            why = "interrupted" if isinstance(exc, KeyboardInterrupt) else "cannot store results"
            self.progress.note(f"{why}: stopping running stages (completed results are kept)")
            processes.kill_all()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)

    def _ready(self, waiting: Sequence[Job], summary: Summary, blocked: list[Job]) -> Iterator[Job]:
        """The waiting jobs whose dependencies all succeeded, in order; one that some have no record
        for yet is appended to `blocked`, and one a dependency failed for is recorded not_run here.
        Both executors' ready/blocked rule: this one and the Dask one."""
        for job in waiting:
            deps = [summary.records.get(d) for d in job.deps]
            if any(r is None for r in deps):
                blocked.append(job)
                continue
            failed = next((r for r in deps if r is not None and r.status is not Status.OK), None)
            if failed is not None:
                summary.records[job.id] = self._done(job, blocked_record(job, failed))
                continue
            yield job

    def _start_ready(
        self,
        waiting: Sequence[Job],
        running: dict[cf.Future[Processed], Job],
        entries: Mapping[str, Entry],
        summary: Summary,
        pool: cf.ThreadPoolExecutor,
    ) -> list[Job]:
        still_waiting: list[Job] = []
        for job in self._ready(waiting, summary, still_waiting):
            stage = stages.get(job.stage)
            # A timed stage runs alone; one that warms up first (export, peer) runs beside others
            # until it asks for its turn at timing (`_quiet_lock`), and no job starts during a turn.
            timed_running = any(quiet_around(stages.get(j.stage)) for j in running.values())
            full = len(running) >= max(1, self.options.jobs)
            if full or timed_running or (quiet_around(stage) and running) or not self._turns.start(job.id):
                still_waiting.append(job)
                continue
            future = pool.submit(self.run_one, job, {d: entries[d] for d in job.deps})
            future.add_done_callback(functools.partial(self._turns.ended, job.id))
            running[future] = job
        return still_waiting

    # -- one job ------------------------------------------------------------------------------

    def run_one(self, job: Job, deps: Mapping[str, Entry]) -> Processed:
        """One job, its dependencies' entries given (this executor's unit, and a distributed worker's):
        (its record, its store entry when there is one, whether it was reused). The record is also
        published to this executor's results log."""
        stage = stages.get(job.stage)
        try:
            return self._attempt(job, stage, deps)
        except StorageError as exc:
            self._storage_failed(job, exc)
            raise  # a full disk is the run's problem, not this job's result: the run stops
        except Exception as exc:  # noqa: BLE001 - a bug in one job must not stop the matrix
            if is_disk_full(exc):  # e.g. the job's log in the cache: stop alike
                error = storage_error(Path(getattr(exc, "filename", None) or self.cache), exc)
                self._storage_failed(job, error)
                raise error from None
            return self._finish(job, from_exception(exc, job.stage)), None, False

    def _attempt(self, job: Job, stage: stages.Stage, deps: Mapping[str, Entry]) -> Processed:
        started = now()
        log = job_log(self.cache, job.id, started)
        log.parent.mkdir(parents=True, exist_ok=True)
        ctx = stages.Context(
            spec=self.spec,
            backend=self.backend,
            wheelhouse=self.wheelhouse,
            deps=deps,
            timeout=stages.timeout(self.spec, job.stage),
            log=log,
            cache=self.cache,
            quiet=self._quiet_lock(job, log) if stage.exclusive and stage.warms_up else None,
        )
        try:
            key = stage.key(job, ctx)
        except Exception as exc:  # noqa: BLE001 - becomes this job's recorded failure
            outcome = from_exception(exc)
            log.write_text(f"{outcome.message}\n")  # the printed log path must say something
            return self._done(job, self._record(job, ctx, outcome, started=started), ctx.log), None, False

        entry = self.store.get(job.stage, key)
        if entry is not None and self._reusable(job, stage, ctx, entry):
            logger.debug(f"store: {job.id}: reused {entry.path} (key {key[:12]})")
            record = entry.record if entry.record.job == job.id else _as_job(entry.record, job)
            self._publish(record)
            self.progress.reused(job, record)
            return record, entry, True
        logger.debug(
            f"store: {job.id}: "
            + ("no entry" if entry is None else f"{entry.path} ({entry.record.status.value}) not reused")
            + f" for key {key[:12]}: it runs"
        )

        # Only a stage that runs starts its log afresh: a reused result keeps the log of the run that
        # made it (also in the store, beside the result, as log.txt).
        log.write_text("")
        self.progress.started(job)
        try:  # the lock: else the stage takes it itself (`_quiet_lock`), or never
            with self._machine_lock(job, log, quiet_around(stage), self._cancel.is_set):
                self.progress.running(job)
                return self._execute(job, stage, ctx, key, log, started)
        except LockCancelled:  # Ctrl-C while it waited for another run's timed stage
            return self._interrupted(job), None, False

    def _quiet_lock(self, job: Job, log: Path) -> QuietLock:
        """The machine's quiet lock for a stage that takes it itself after its model's first call
        (`Stage.warms_up`), after its turn among this run's jobs (`QuietTurns`); the wait is not its time."""

        @contextlib.contextmanager
        def quiet(ended: Callable[[], bool]) -> Iterator[None]:
            asked = time.monotonic()

            def cancelled() -> bool:
                return self._cancel.is_set() or ended()

            with self._turns.turn(job.id, cancelled, lambda: self.progress.waiting(job)):
                with self._machine_lock(job, log, True, cancelled):
                    with self._lock:
                        self._lock_waits[job.id] += time.monotonic() - asked
                    self.progress.running(job)
                    yield

        return quiet

    def _machine_lock(
        self, job: Job, log: Path, take: bool, cancelled: Callable[[], bool]
    ) -> AbstractContextManager[None]:
        """The machine's quiet lock for `job` when `take`; what it says while the stage waits is a
        progress note and a line of the job's log."""

        def report(text: str) -> None:
            self.progress.note(f"{job.id}: {text}")
            processes.note(log, f"iree-matrix: {text}")

        return machine_lock(
            take,
            on_wait=lambda: self.progress.waiting(job),
            cancelled=cancelled,
            job=job.id,
            timeout=stages.timeout(self.spec, job.stage),
            report=report,
            expected=self.progress.expected(job),
        )

    def _execute(
        self, job: Job, stage: stages.Stage, ctx: stages.Context, key: str, log: Path, started: str
    ) -> Processed:
        """The stage itself (a timed one under the machine's quiet lock, so no other iree-matrix run on
        this machine times at the same moment); its seconds start here."""
        clock = time.monotonic()
        cpu_before = (*host.cpu_seconds(), self.backend.contained_cpu_seconds(), host.steal_seconds())
        load_before = os.getloadavg()[0]
        with self.store.staging() as out:
            try:
                # Inputs checked by content before and after: a result made from bytes that are not
                # the stored ones (a tool of another stage wrote into them) is never stored.
                outcome = self._changed_inputs(ctx) or self._attempts(job, stage, ctx, out)
            except StorageError:
                raise
            except Exception as exc:  # noqa: BLE001 - one place maps it: outcome.from_exception
                if is_disk_full(exc):
                    raise storage_error(Path(getattr(exc, "filename", None) or out), exc) from None
                outcome = from_exception(exc, job.stage)
            outcome = self._changed_inputs(ctx) or outcome
            # A tool ran out of space, whatever class the stage gave it: the disk's state, not the inputs'.
            full = outcome.status is Status.FAIL and any(t in (outcome.message or "") for t in DISK_FULL_TEXT)
            if full or outcome.error_class == "disk-full":
                raise storage_error(
                    fuller(out), outcome.message or "No space left on device", doing=f"{job.stage} failed"
                )
            if self._cancel.is_set():
                return self._interrupted(job), None, False
            outcome = _kept_as_data(out, outcome)
            with self._lock:  # what it waited for the quiet lock it took itself is not its time
                seconds = time.monotonic() - clock - self._lock_waits.pop(job.id, 0.0)
            if stage.exclusive:
                outcome = self._with_other_load(outcome, cpu_before, seconds, load_before)
            record = self._record(job, ctx, outcome, key=key, started=started, seconds=seconds)
            if log.is_file() and log.stat().st_size == 0:  # a stage that ran no command: the log says so
                said = excerpts.first_line(outcome.message)
                done = f"iree-matrix: {job.stage} {record.status.value}, without running a command"
                processes.note(log, done + (f": {said}" if said else ""))
            entry = None
            if outcome.cacheable:
                # Store first, publish second: a crash in between leaves a stored result that the
                # next run publishes, never a published result the store forgot.
                shutil.copyfile(log, out / "log.txt")
                entry = self.store.commit(job.stage, key, out, record)
                if stage.exclusive:
                    self._measured.add(key)
            return self._done(job, record, ctx.log), entry, False

    def _attempts(self, job: Job, stage: stages.Stage, ctx: stages.Context, out: Path) -> Outcome:
        """The stage, and once more when its environment failed it (a damaged venv is rebuilt
        when the stage asks for it again, `Context.environment`): an install is not retried (it is
        the one building the environment), and a second fault is the record (never stored)."""
        try:
            first = stage.execute(job, ctx, out)
        except EnvironmentFault as exc:
            first = from_exception(exc)
        if first.error_class != "environment-fault" or job.stage == "install" or self._cancel.is_set():
            return first
        processes.note(ctx.log, f"iree-matrix: {first.message}\niree-matrix: trying {job.id} once more")
        _empty(out)
        return stage.execute(job, ctx, out)

    def _changed_inputs(self, ctx: stages.Context) -> Optional[Outcome]:
        """A failure, never stored, when a dependency's stored artifact no longer has the bytes it was
        stored with; the changed entry is discarded, so the next run makes it again. None when every
        input is intact (a stat per file; a file is hashed only when it changed since it last matched)."""
        for dep, entry in ctx.deps.items():
            if (changed := self.store.changed(entry)) is not None:
                return Outcome(
                    Status.FAIL,
                    error_class="environment-fault",
                    cacheable=False,
                    message=(
                        f"{dep}'s stored {changed} changed after it was stored (its sha256 is not the one in "
                        f"{entry.path}/SHA256SUMS): nothing is stored from it; the entry is discarded and "
                        "the next run makes it again"
                    ),
                )
        return None

    # The metrics `_with_other_load` adds to a timed stage's record (whatever the stage).
    TIMING_CONTEXT = ("other_load", "load_average", "steal_cores")

    def _with_other_load(
        self, outcome: Outcome, before: tuple[float, ...], seconds: float, load_before: float = math.nan
    ) -> Outcome:
        """A timed stage runs alone in the matrix, but not on the machine: record how many cores other
        programs kept busy meanwhile (ours: our process tree's rusage and, on Docker, our containers'
        CPU), the load average around it and the hypervisor's steal, so a noisy figure shows as noisy."""
        if seconds <= 0:
            return outcome
        now = (*host.cpu_seconds(), self.backend.contained_cpu_seconds(), host.steal_seconds())
        busy, own, contained, steal = (after - start for after, start in zip(now, before))
        other = max(0.0, busy - own - contained) / seconds
        if math.isnan(other):  # /proc/stat unreadable
            return outcome
        facts: dict[str, Any] = {"other_load": round(other, 2)}  # TIMING_CONTEXT, in order
        facts["load_average"] = {"start": round(load_before, 2), "end": round(os.getloadavg()[0], 2)}
        if not math.isnan(steal):
            facts["steal_cores"] = round(max(0.0, steal) / seconds, 2)
        return dataclasses.replace(outcome, metrics={**outcome.metrics, **facts})

    def _reusable(self, job: Job, stage: stages.Stage, ctx: stages.Context, entry: Entry) -> bool:
        if self.options.retry_failed and entry.record.status is not Status.OK:
            return False
        # A failure whose inputs were made again since is redone; timed stages' inputs are left out
        # (`--retime` re-measures them with the same outputs).
        made = {d: e for d, e in ctx.deps.items() if not stages.get(d.split(":", 1)[0]).exclusive}
        if failure_is_stale(entry, made):
            return False
        if stage.exclusive and any(fnmatch.fnmatchcase(job.id, glob) for glob in self.options.retime):
            return entry.record.key in self._measured
        return stage.reusable(job, ctx, entry)

    def _record(self, job: Job, ctx: stages.Context, outcome: Outcome, **fields: Any) -> Record:
        # The environment it ran in: its install's (an install's own is in its outcome).
        install = [entry for dep, entry in ctx.deps.items() if dep.startswith("install:")]
        env = outcome.env or (install[0].record.env if install else {})
        return job_record(job, outcome, env=env, **fields)

    def _done(self, job: Job, record: Record, log: Optional[Path] = None) -> Record:
        """`record`, published and shown (with its log, when the stage ran)."""
        self._publish(record)
        self.progress.finished(job, record, log=log)
        return record

    def _storage_failed(self, job: Job, error: StorageError) -> None:
        """Record the stage the disk stopped as failed (never stored: the disk, not the inputs, said
        no), if the results log itself still takes a line."""
        why = Outcome(Status.FAIL, message=str(error), error_class="disk-full", cacheable=False)
        with contextlib.suppress(StorageError):
            self._finish(job, why)

    def _finish(self, job: Job, outcome: Outcome, **fields: Any) -> Record:
        """The record of a job that ended without its stage's result, published and shown."""
        return self._done(job, job_record(job, outcome, **fields))

    def _interrupted(self, job: Job) -> Record:
        return job_record(job, Outcome(Status.NOT_RUN, message="interrupted"))

    def _publish(self, record: Record) -> None:
        """Append unless the log's newest record for this job already says the same."""
        with self._lock:
            if (previous := self._published.get(record.job)) is not None and _same_result(previous, record):
                return
            self.results.append(record)
            self._published[record.job] = record


def job_record(job: Job, outcome: Outcome, **fields: Any) -> Record:
    """The record of `job` (its id, stage, cell and labels) for `outcome`."""
    return make_record(job.id, job.stage, job.cell, job.labels, outcome, **fields)


def blocked_record(job: Job, failed: Record, where: str = "") -> Record:
    """The not-run record of `job`, whose dependency ended `failed` (`where`: on which worker)."""
    said = f"not run because {failed.job} ended '{failed.status.value}'{where}"
    return job_record(job, Outcome(Status.NOT_RUN, message=said), blocked_by=failed.job)


def _as_job(record: Record, job: Job) -> Record:
    """A stored result reached through another job with the same key (an exporter that wrote
    byte-identical MLIR): published under this job's id and labels, naming the job that made it."""
    metrics = {**record.metrics, "same_result_as": record.job}
    return dataclasses.replace(record, job=job.id, cell=job.cell, labels=dict(job.labels), metrics=metrics)


def _same_result(a: Record, b: Record) -> bool:
    if a.status is Status.NOT_RUN or b.status is Status.NOT_RUN:
        return a.status == b.status and a.blocked_by == b.blocked_by and a.message == b.message
    return bool(a.key) and a.key == b.key and a.status == b.status and a.finished == b.finished


def _kept_as_data(out: Path, outcome: Outcome) -> Outcome:
    """`outcome`, or the failure that says why its stage's output may not be stored (a symbolic link,
    FIFO, device or setuid file in it: `store.refused`), its output then emptied: the failure is
    recorded and stored with the stage's log, nothing the stage wrote."""
    unsafe = refused(out)
    if unsafe is None:
        return outcome
    _empty(out)
    return Outcome(Status.FAIL, error_class="unsafe-output", message=unsafe, command=outcome.command)


def _empty(out: Path) -> None:
    """A stage's output folder emptied (its links removed, never followed)."""
    for left in list(out.iterdir()):
        if left.is_dir() and not left.is_symlink():
            shutil.rmtree(left, ignore_errors=True)
        else:
            left.unlink(missing_ok=True)


def plan_estimates(
    spec: MatrixSpec, plan: Plan, latest: Mapping[str, Record], store: Store, options: Options, backend: str
) -> Estimates:
    """Each job's expected seconds: stored ones none, the rest from this host's, the published or the
    stage's times (`latest`: job id -> its newest record in the results log); said by `advise` and the
    executor."""
    timed = {name for name in {j.stage for j in plan.jobs} if stages.get(name).exclusive}

    def still_stored(record: Record) -> bool:
        """Whether a results log's record is likely reused here: made on this CPU identity (timed keys
        and host-tuned compiles hash it) and its entry still in this cache's store."""
        if record.host.known and record.host.identity != host.identity():
            return False
        return bool(record.key) and store.entry_path(record.stage, record.key).is_dir()

    return Estimates.of(
        plan.jobs,
        latest,
        timed,
        options.jobs,
        redo=lambda job_id: any(fnmatch.fnmatchcase(job_id, g) for g in options.retime),
        published=(times := stage_times.published()),
        backend=backend,
        load=load_factor(),
        speed=times.speed_of(host_identity.here().identity),
        still_stored=still_stored,
        checked_only=lambda job: run_stage.checked_only(job, spec),
        least=lambda: min_time((bench := spec.benchmark).time_budget, bench.repetitions),
    )
