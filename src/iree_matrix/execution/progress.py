"""What a person watching a long run sees: which stage of which cell, n of N, elapsed time and an
estimate of what is left (from how long the same stages took before).

Every event is a plain line (a log, a pipe, CI); on a terminal a live status line from `rich`
stays under them: jobs done of total, the stages running now, elapsed, and the estimate. The lines
are the log's (stderr, core/console.py): `-q` hides them, and the live line with them."""

from __future__ import annotations

import dataclasses
import math
import os
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Optional, TextIO

from iree_matrix import stages
from iree_matrix.core import console, formats, locks, refusals
from iree_matrix.core.cache_layout import CacheLayout
from iree_matrix.core.results import Record, Status
from iree_matrix.execution import stage_times
from iree_matrix.execution.stage_times import StageTimes  # the estimate's basis (execution/stage_times.py)
from iree_matrix.iree import compile_errors, hints, targets
from iree_matrix.matrix.plan import Job

logger = console.logger(__name__)

MARKS = {
    Status.OK: "ok",
    Status.FAIL: "FAIL",
    Status.MISMATCH: "MISMATCH",
    Status.TIMEOUT: "TIMEOUT",
    Status.SKIP: "skip",
    Status.NOT_RUN: "not run",
}


def mark(record: Record) -> str:
    """How a finished job's outcome is printed: a cross cell's refusal is an answer, not a FAIL."""
    return refusals.EXPECTED if refusals.is_answer(record) else MARKS[record.status]


_LOCATED = re.compile(r"^(?P<where>\S+?:\d+(?::\d+)?):\s*(?P<what>(?:error|warning)\b.*)$", re.IGNORECASE)


def headline(message: Optional[str], cache: Optional[Path] = None, width: int = 160) -> str:
    """The line a person needs first: the tool's own error, not the path it was found at.
    `…/store/export/cfbc…/model.mlir:525:12: error: 'linalg.generic' op …` becomes
    `error: 'linalg.generic' op … (at <store>/export/cfbc…/model.mlir:525:12)`."""
    lines = [ln.strip() for ln in (message or "").strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    found = hints.find(message)  # the line a known failure signature matches, else the first error
    line = found.line if found is not None else next((ln for ln in lines if "error" in ln.lower()), lines[0])
    if cache is not None:
        line = line.replace(str(CacheLayout(Path(cache)).store), "<store>").replace(str(cache), "<cache>")
    # pip lists every version it knows, oldest first; the newest are the ones a reader needs.
    versions = _FROM_VERSIONS.search(line)
    if versions:
        known = [v.strip() for v in versions.group(1).split(",") if v.strip()]
        if len(known) > 6:
            line = line.replace(versions.group(0), f"(from versions: {known[0]} … {', '.join(known[-4:])})")
    located = _LOCATED.match(line)
    if located:
        line = f"{located['what']} (at {located['where']})"
    return line if len(line) <= width else line[: width - 1] + "…"


def first_words(record: Record, cache: Optional[Path] = None) -> str:
    """A failed job's line: a compile's first error and the op it names, uncut, else `headline`."""
    named = compile_errors.of_record(record.metrics, None) if record.stage == "compile" else None
    return named.text() if named is not None else headline(record.message, cache)


_FROM_VERSIONS = re.compile(r"\(from versions: ([^)]*)\)")


HEARTBEAT_SECONDS = 60.0
# A stage never seen here nor in the published records: a guess, said as one.
UNKNOWN_STAGE_SECONDS = {"install": 60.0, "export": 30.0, "compile": 30.0, "run": 10.0}
REUSED_SECONDS = 0.05
# The published records' installs are host venvs; an environment image costs more: the image itself
# (its venv installed offline, .pyc compiled once: IREE-NOTES, +35 s for torch) and, once per run
# that has none, the Debian base image (debootstrap: 41 s quiet, 158 s with the machine shared).
DOCKER_IMAGE_SECONDS = 40.0
DOCKER_BASE_IMAGE_SECONDS = 120.0


def published_times() -> StageTimes:
    """The stage times of the published records, from the summary that ships with the tool
    (execution/stage_times.json): what the jobs took on the publication host, the basis for jobs never
    run here."""
    return stage_times.published()


def load_factor() -> float:
    """How many times over this host's CPUs are asked for now (1-minute load average / CPUs, at least
    1): what a stage not yet seen here is expected to be slowed by."""
    try:
        return max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
    except OSError:
        return 1.0


# Stages whose time is downloads and disk (`io_bound`): their factor says nothing of how fast this
# host computes.
IO_STAGES = frozenset(stage.name for stage in stages.ordered() if stage.io_bound)


# How a stage's time grows with the load before any stage finished here: as L**k, L the load average
# over the CPUs (at least 1). From the loaded first run docs/first-run.md describes, against the same
# jobs run quiet on the same host (tests/data/eta: load average median 16.7 on 2 cores), each stage's
# total time, not its median job: exports 20x (k 1.41), compiles 8.4x (1.0), runs 3.6x (0.6; their
# median job only 2.65x: a long run, Whisper's encoder, slows 5-9x where a short one's interpreter
# start slows 2-3x, and the ETA is the sum). Three quarters of those, which the recorded runs of
# tests/unit/test_eta.py favour: from a quarter of each run on, ETA / time left within 0.80-1.20 (the whole
# exponents read up to 2.17 on the loaded run, half of them 0.63-0.95 there). Others: 0.5.
LOAD_SENSITIVITY = {"export": 1.06, "compile": 0.75, "run": 0.45}
DEFAULT_SENSITIVITY = 0.5
LEARNS_FROM_SECONDS = 1.0  # the least stretchable time of a job the factor learns from (`Estimates.finished`)


def sensitivity(stage: str) -> float:
    return LOAD_SENSITIVITY.get(stage, DEFAULT_SENSITIVITY)


class HostFactor:
    """How much longer stages take on this host, now, than the basis said. For a stage some of whose
    jobs finished here: the seconds they took over their basis, moved by how the load changed since
    they ran (as that stage feels the load, `sensitivity`), weighed against the load as that stage
    feels it as n to 1 (n jobs finished: one job's time is noisy; a loaded run's first export read
    13x, its later ones 2-19x). For a stage none of which has finished here: the geometric middle of
    the load as it feels it and the square root of what the other computing stages show. Before any
    stage finished, the load as each stage feels it (`load`: `load_factor`, measured as the run goes);
    and never less than a running job has already overrun its own (`Estimates.left`).

    Replayed on the recorded runs of tests/unit/test_eta.py, at every 5 % of the run from its first
    quarter: the quiet run (load 1, `--jobs 2`), the quiet jobs grown to load 6 and two of the three
    real first runs at load 5-6 stay within 25 % of the time left to 90 %, the third to 80 % (its peer
    jobs took 1.8x their quiet time where the others' took 1.2-1.3x: 0.74 at 85 %); the Docker run at
    load ~17 on 2 cores to 75 % (its last jobs, the Whisper encoder's runs, took 5-9x their basis where
    the stage's others took 1-4x: 0.72 at 80 %)."""

    def __init__(self, load: float = 1.0) -> None:
        self._seen: dict[str, list[tuple[float, float, float]]] = {}  # stage -> (basis, actual, load)
        self.load = load

    def observe(self, stage: str, basis: float, actual: float) -> None:
        if basis > 0 and actual > 0:
            self._seen.setdefault(stage, []).append((basis, actual, max(1.0, self.load)))

    def of(self, stage: str) -> float:
        now = max(1.0, self.load)
        felt = now ** sensitivity(stage)
        own = self._seen.get(stage)
        if own:
            basis = sum(b for b, _, _ in own)
            then = sum(b * load for b, _, load in own) / basis  # the load they ran at, by weight
            seen = sum(a for _, a, _ in own) / basis * (now / then) ** sensitivity(stage)
            weight = len(own) / (len(own) + 1)
            return math.exp(weight * math.log(seen) + (1 - weight) * math.log(felt))
        # A stage not seen yet. Contention slows stages unequally (here, at a load factor of ~8:
        # exports 13x, compiles 6x, runs 2.4x (medians)), and a host faster than the publication's
        # speeds up compiles but hardly runs (quiet here: compiles 0.5x, runs 1.1x): the middle of
        # what the load alone says and the square root of what the other computing stages show.
        others = [p for name, seen in self._seen.items() if name not in IO_STAGES for p in seen]
        if others:
            return math.sqrt(felt * math.sqrt(sum(a for _, a, _ in others) / sum(b for b, _, _ in others)))
        return felt

    @property
    def samples(self) -> int:
        return sum(len(v) for v in self._seen.values())

    def describe(self) -> str:
        load = f"the load (x{max(1.0, self.load):.2g} the CPUs) as each stage feels it"
        if not self.samples:
            return f"{load}, until stages finish here"
        stages = ", ".join(f"{stage} x{self.of(stage):.2g}" for stage in sorted(self._seen))
        computing = [s for s in self._seen if s not in IO_STAGES]
        rest = f"x{self.of('?'):.2g} (between the load and the square root of those)" if computing else load
        return f"{stages} (from {self.samples} finished here), other stages {rest}"


@dataclasses.dataclass(frozen=True)
class Estimates:
    """Seconds each job of a plan is expected to take, and on what basis: a job with a stored result
    that will be reused almost nothing; a job run before in this results directory, what it (or the
    same stage of the same model) took here; otherwise what it took on the publication host (the
    published records ship with the tool) scaled by this host's factor, measured as the run goes;
    else a stated guess (`redo`: jobs that will run although stored, e.g. `--retime`). Timed stages run
    alone, the rest `jobs` at a time: the estimate of what is left divides only those."""

    seconds: Mapping[str, float]  # job id -> expected seconds (basis, before the host factor)
    exclusive: frozenset[str]  # job ids of timed stages
    jobs: int = 1
    source: Mapping[str, str] = dataclasses.field(default_factory=dict)  # job id -> "here" | ...
    stage_of: Mapping[str, str] = dataclasses.field(default_factory=dict)
    factor: HostFactor = dataclasses.field(default_factory=HostFactor, compare=False)
    own_time: frozenset[str] = frozenset()  # job ids estimated from their own earlier time (StageTimes.own)
    # job id -> seconds of its basis no load stretches (a run's benchmark min time, StageTimes.floor)
    floor: Mapping[str, float] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(
        cls,
        plan_jobs: Sequence[Job],
        history: Mapping[str, Record],
        exclusive_stages: Iterable[str] = (),
        jobs: int = 1,
        redo: Callable[[str], bool] = lambda job_id: False,
        published: Optional[StageTimes] = None,
        backend: str = "venv",
        load: float = 1.0,
        still_stored: Callable[[Record], bool] = lambda record: True,
    ) -> Estimates:
        here = StageTimes.of(history.values())
        published = published or StageTimes({}, {}, {})
        seconds: dict[str, float] = {}
        source: dict[str, str] = {}
        own_time: set[str] = set()  # jobs whose basis is their own earlier time, not their model's or stage's
        floor: dict[str, float] = {}

        def in_image(job: Job) -> bool:  # `mixed` installs only the foreign CPUs' environments in images
            return backend == "docker" or (backend == "mixed" and job.env.arch != targets.host_arch())

        base_image = backend in ("docker", "mixed") and not any(
            r.stage == "install" and r.status is Status.OK and r.env.get("backend") == "docker"
            for r in history.values()
        )
        for job in plan_jobs:
            stored = history.get(job.id)
            # Reused only if its result is still where that record left it: a record of another CPU
            # identity or another cache (whose keys differ) would make every job look free — an
            # upgraded tool's first run showed "ETA 0:00:01" with 60 jobs to go.
            if (
                stored is not None
                and stored.status is Status.OK
                and not redo(job.id)
                and still_stored(stored)
            ):
                seconds[job.id], source[job.id] = REUSED_SECONDS, "stored"
                continue
            for origin, value, own in (
                ("here", here.exact(job), here.own(job)),
                ("published", published.exact(job), published.own(job)),
                ("here", here.stage(job), None),
                ("published", published.stage(job), None),
                ("guess", UNKNOWN_STAGE_SECONDS.get(job.stage, 30.0), None),
            ):
                if value:
                    seconds[job.id], source[job.id] = value, origin
                    if own:
                        own_time.add(job.id)
                        fixed = published.floor_of(job) if origin == "published" else 0.0
                        if fixed:
                            floor[job.id] = min(value, fixed)
                    break
            if job.stage == "install" and in_image(job) and source[job.id] != "here":
                seconds[job.id] += DOCKER_IMAGE_SECONDS + (DOCKER_BASE_IMAGE_SECONDS if base_image else 0.0)
                base_image = False
        exclusive = frozenset(j.id for j in plan_jobs if j.stage in set(exclusive_stages))
        stage_of = {j.id: j.stage for j in plan_jobs}
        return cls(
            seconds, exclusive, max(1, jobs), source, stage_of, HostFactor(load), frozenset(own_time), floor
        )

    def expected(self, job_id: str, running_for: float = 0.0) -> float:
        """The job's seconds on this host now: its basis, scaled unless it was measured here (but for
        its `floor`, which no load stretches)."""
        basis = self.seconds.get(job_id, 0.0)
        if self.source.get(job_id) in ("published", "guess"):
            fixed = self.floor.get(job_id, 0.0)
            return fixed + (basis - fixed) * self.factor.of(self.stage_of.get(job_id, ""))
        return basis

    def finished(self, job_id: str, seconds: Optional[float]) -> None:
        """A job of this run ended after `seconds`: what the host factor learns from — the part of it
        beyond its `floor`, and only when that part is at least a second and at least the floor: a
        7.5-s run of which 6 s are the benchmark's min time reads its factor off a second or two, and
        says nothing of how a 53-s run of long calls stretches (at load 5: 1.0x against 1.47x); a
        refused run (0.1 s published, 0.12-0.26 s at load 5) reads it off process start."""
        if self.source.get(job_id) not in ("published", "guess") or not isinstance(seconds, (int, float)):
            return
        basis, fixed = self.seconds[job_id], self.floor.get(job_id, 0.0)
        if basis - fixed >= max(fixed, LEARNS_FROM_SECONDS):
            self.factor.observe(self.stage_of.get(job_id, ""), basis - fixed, seconds - fixed)

    def left(self, pending: Iterable[str], running: Mapping[str, float]) -> float:
        """Seconds until the run ends: pending jobs, plus what running ones still need. A running job
        past its estimate is expected to need a quarter of what it has run so far, and pending jobs
        of its stage to overrun alike — unless it was expected to be reused: a stored result whose
        artifact is gone (another cache, a changed export) runs after all, which says nothing of how
        slow this host is (one such compile once multiplied every pending compile by 680: "ETA 43:31:57").
        An overrun of a coarse estimate (the model's or the stage's typical time) stretches only pending
        jobs estimated as coarsely: a job timed before keeps its own time (a lavapipe run estimated by
        its model's 0.2-s "no CUDA device" runs once multiplied the next lavapipe run's own 1500 s by
        1700: "ETA 723:03:28")."""
        now = time.monotonic()
        overrun: dict[tuple[str, bool], float] = {}  # (stage, from the job's own time) -> factor
        rests: dict[str, float] = {}
        for job, since in running.items():
            ran, expected = now - since, self.expected(job)
            rests[job] = max(expected - ran, 0.25 * ran if ran > expected else 0.0)
            if expected > 0 and ran > expected and self.source.get(job) != "stored":
                key = (self.stage_of.get(job, ""), job in self.own_time)
                overrun[key] = max(overrun.get(key, 1.0), ran / expected)
        alone = shared = 0.0
        for job in pending:
            stage = self.stage_of.get(job, "")
            stretch = overrun.get((stage, True), 1.0)
            if job not in self.own_time:
                stretch = max(stretch, overrun.get((stage, False), 1.0))
            value = self.expected(job) * stretch
            alone, shared = (alone + value, shared) if job in self.exclusive else (alone, shared + value)
        for job, rest in rests.items():
            alone, shared = (alone + rest, shared) if job in self.exclusive else (alone, shared + rest)
        return alone + shared / self.jobs

    def basis(self) -> str:
        """What the estimate rests on, for the first lines of a run."""
        counts = Counter(self.source.values())
        parts = [
            f"{counts[name]} {what}"
            for name, what in (
                ("published", "from the published records' stage times"),
                ("here", "from earlier runs here"),
                ("guess", "guessed"),
                ("stored", "stored (reused)"),
            )
            if counts[name]
        ]
        return f"estimate: {', '.join(parts)}; host factor {self.factor.describe()}"


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """One line per job start and end, and a heartbeat for stages that run long (a compile of
    YOLOX takes minutes): a person watching knows it is working, and on what."""

    def __init__(
        self,
        total: int,
        out: Optional[TextIO] = None,
        cache: Optional[Path] = None,
        heartbeat: float = HEARTBEAT_SECONDS,
        estimates: Optional[Estimates] = None,
        live: Optional[bool] = None,
    ) -> None:
        self.total = total
        self.cache = cache
        self.done = 0
        self.out = out  # None: the log
        self.start = time.monotonic()
        self._lock = threading.Lock()
        self._running: dict[str, tuple[Job, float]] = {}
        self._waiting: set[str] = set()  # started, but waiting for the machine's quiet lock
        self._stop = threading.Event()
        self._heartbeat = heartbeat
        self._beat: Optional[threading.Thread] = None
        self.estimates = estimates
        self._pending = set(estimates.seconds) if estimates is not None else set()
        use_live = live if live is not None else out is None and console.shows() and _is_terminal(sys.stderr)
        self._live = _LiveLine(out or sys.stderr, self._status) if use_live else None

    def close(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=2)
        if self._live is not None:
            self._live.stop()

    def expected(self, job: Job) -> Optional[float]:
        """The job's expected seconds on this host now (None without estimates)."""
        return self.estimates.expected(job.id) if self.estimates is not None else None

    def eta(self) -> str:
        """ "ETA 0:12:30" (from stored stage durations), or "" when there is nothing to go on. A job
        waiting for the machine's quiet lock counts whole (its wait is not slowness), plus what the
        lock's holder is still expected to take."""
        if self.estimates is None:
            return ""
        # Copies, not the lock: the live display's refresh thread calls this while another thread
        # may hold the lock and wait on the display (dict and set copies are atomic in CPython).
        waiting = set(self._waiting)
        running = {
            job_id: since for job_id, (_, since) in dict(self._running).items() if job_id not in waiting
        }
        left = self.estimates.left(set(self._pending) | waiting, running)
        if waiting:
            left += self._held_for()
        return f"ETA {clock(left)}"

    def _held_for(self) -> float:
        """What another run's timed stage, holding the machine's quiet lock, is still expected to take."""
        who = locks.holder(locks.quiet_lock_path())
        return who.left() if who is not None and who.pid != os.getpid() else 0.0

    def _beats(self) -> None:
        while not self._stop.wait(self._heartbeat):
            with self._lock:
                running = list(self._running.values())
            for job, since in running:
                if time.monotonic() - since < self._heartbeat / 2:
                    continue  # it just started: its start line is news enough
                minutes, seconds = divmod(int(time.monotonic() - since), 60)
                doing = "waiting for the machine's quiet lock" if job.id in self._waiting else "running"
                self._line(f"{job.stage:<7} {job.cell} still {doing} ({minutes} min {seconds:02d} s)")

    def _line(self, text: str) -> None:
        stamp = clock(time.monotonic() - self.start)
        eta = self.eta()
        width = len(str(self.total))
        line = f"[{self.done:>{width}}/{self.total} {stamp}{' ' + eta if eta else ''}] {text}"
        if self._live is not None:
            self._live.print(line)
            return
        with self._lock:
            _say(line, self.out)

    def _status(self) -> str:
        """The live line under the log, redrawn twice a second by rich's refresh thread."""
        running = ", ".join(f"{job.stage} {job.cell}" for job, _ in list(self._running.values())) or "-"
        eta = f" · {self.eta()}" if self.estimates is not None else ""
        elapsed = clock(time.monotonic() - self.start)
        return f"{self.done}/{self.total} jobs · {elapsed} elapsed{eta} · running: {running}"

    def note(self, text: str) -> None:
        self._line(text)

    def started(self, job: Job) -> None:
        with self._lock:
            self._pending.discard(job.id)
            self._running[job.id] = (job, time.monotonic())
            if self._beat is None and self._heartbeat > 0:
                self._beat = threading.Thread(target=self._beats, name="heartbeat", daemon=True)
                self._beat.start()
        self._line(f"{job.stage:<7} {job.cell} ...")

    def waiting(self, job: Job) -> None:
        """A started timed stage waits for the machine's quiet lock (another run times): the
        heartbeat says so rather than "still running"."""
        with self._lock:
            self._waiting.add(job.id)

    def running(self, job: Job) -> None:
        """It has the lock (or goes on without it): its clock, which the estimate reads, starts now."""
        with self._lock:
            if job.id in self._waiting:
                self._waiting.discard(job.id)
                self._running[job.id] = (job, time.monotonic())

    def reused(self, job: Job, record: Record) -> None:
        with self._lock:
            self._pending.discard(job.id)
            self.done += 1
        self._line(f"{job.stage:<7} {job.cell} = {mark(record)} (stored result)")

    def finished(self, job: Job, record: Record, log: Optional[Path] = None) -> None:
        with self._lock:
            self._pending.discard(job.id)
            self.done += 1
            ran = self._running.pop(job.id, None)
            self._waiting.discard(job.id)
        # A timeout's seconds are its limit, not how fast this host is (a hung model's 180 s once made
        # the factor x11): it teaches the factor nothing.
        learns = record.status not in (Status.NOT_RUN, Status.TIMEOUT)
        if self.estimates is not None and ran is not None and learns:
            before = self.estimates.factor.of(job.stage)
            self.estimates.factor.load = load_factor()
            self.estimates.finished(job.id, record.seconds)
            after = self.estimates.factor.of(job.stage)
            if self.estimates.source.get(job.id) == "published" and abs(after / before - 1) > 0.25:
                self._line(f"estimate: host factor {self.estimates.factor.describe()}")
        seconds, median = record.metric.seconds, record.metric.latency_median
        detail = f" {seconds:.1f} s" if seconds is not None else ""
        if median is not None:
            detail += f", {formats.duration_ms(median)}/call"
        self._line(f"{job.stage:<7} {job.cell} -> {mark(record)}{detail}")
        if refusals.is_answer(record):
            self._line(f"        the runtime says: {refusals.reason(record.message)}")
        elif record.status not in (Status.OK, Status.NOT_RUN) and record.message:
            first = first_words(record, self.cache)
            where = f" (log: {log})" if log is not None and record.status is not Status.SKIP else ""
            self._line(f"        {record.error_class or record.status.value}: {first}{where}")


def _say(line: str, out: Optional[TextIO]) -> None:
    if out is None:
        logger.info(line)
    else:
        print(line, file=out, flush=True)


def _is_terminal(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


class _LiveLine:
    """rich's live display: log lines scroll above one status line that is redrawn in place."""

    def __init__(self, out: TextIO, status: Callable[[], str]) -> None:
        from rich.console import Console
        from rich.live import Live
        from rich.text import Text

        class _Status:
            def __rich__(self) -> Text:
                return Text(status(), overflow="ellipsis", no_wrap=True)

        self._text = Text
        self.live = Live(
            _Status(),
            console=Console(file=out, highlight=False),
            refresh_per_second=2,
            transient=True,
            redirect_stdout=False,  # an answer printed meanwhile stays on stdout
        )
        self.live.start()

    def print(self, line: str) -> None:
        self.live.console.print(self._text(line), soft_wrap=True)

    def stop(self) -> None:
        self.live.stop()


# --- commands made of steps (compare, calibrate, reproduce) ----------------------------------------


def cost(what: str, count: str, seconds: float, cheaper: str) -> str:
    """What a long command says before it starts: "compare: 10 functions x 8 paired rounds, about
    0:08:20 on this machine now (load 3.1 on 2 CPUs); cheaper: --functions GLOB, --rounds 6"."""
    try:
        load = f"load {os.getloadavg()[0]:.1f} on {os.cpu_count() or 1} CPUs"
    except OSError:
        load = "load unknown"
    return f"{what}: {count}, about {clock(seconds)} on this machine now ({load}); cheaper: {cheaper}"


class Steps:
    """A command's steps, each with its expected seconds, as they finish: "[3/10 0:02:31 ETA
    0:04:10] mobilenet_v2: no difference". The ETA is the steps still to come at their expected
    times, scaled by how the finished ones ran against theirs (the slowdown measured here, now)."""

    def __init__(self, expected: Sequence[float], out: Optional[TextIO] = None) -> None:
        self.expected = list(expected)
        self.out = out  # None: the log
        self.start = self._last = time.monotonic()
        self.done = 0
        self._took = 0.0  # seconds the finished steps took
        self._thought = 0.0  # and what they were expected to take

    @property
    def total(self) -> int:
        return len(self.expected)

    def begin(self) -> None:
        """The steps start now (after a wait that is not theirs, e.g. for the machine's quiet lock)."""
        self.start = self._last = time.monotonic()

    def slowdown(self) -> float:
        return self._took / self._thought if self._thought > 0 and self._took > 0 else 1.0

    def left(self) -> float:
        return sum(self.expected[self.done :]) * self.slowdown()

    def finished(self, text: str, learn: bool = True) -> None:
        """The next step ended, taking the time since the previous one did; `learn` False: a step
        that did not do its work (not comparable, skipped), which says nothing of the slowdown."""
        now = time.monotonic()
        took = now - self._last
        self._last = now
        if learn and self.done < self.total:
            self._thought += self.expected[self.done]
            self._took += took
        self.done += 1
        width = len(str(self.total))
        stamp = clock(now - self.start)
        _say(f"[{self.done:>{width}}/{self.total} {stamp} ETA {clock(self.left())}] {text}", self.out)
