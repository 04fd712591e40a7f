"""The ETA model: each job's expected seconds on this host now (from earlier times here or on the
publication host, scaled by the load: `HostFactor`), and what is left of a run (`Estimates`)."""

from __future__ import annotations

import bisect
import dataclasses
import math
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Optional

from iree_matrix import stages
from iree_matrix.core.model.results import Record, Status
from iree_matrix.execution.stage_times import StageTimes
from iree_matrix.iree import targets
from iree_matrix.matrix.plan import Job
from iree_matrix.stages.benchmark_tool import MIN_TIME_SECONDS

# A stage never seen here nor in the published records: a guess, said as one.
UNKNOWN_STAGE_SECONDS = {"install": 60.0, "export": 30.0, "compile": 30.0, "run": 10.0}
REUSED_SECONDS = 0.05
# A run that only checks (`time_cross_runtime = false`) makes one call of a timed run's ten, beyond
# the benchmark's min time; at least a second (process start and module load).
CHECKED_SHARE, CHECKED_LEAST = 0.15, 1.0
# The published installs are host venvs; an image costs more, and the first one's Debian base more still.
DOCKER_IMAGE_SECONDS = 40.0
DOCKER_BASE_IMAGE_SECONDS = 120.0


def load_factor() -> float:
    """How many times over this host's CPUs are asked for now (1-minute load average / CPUs, at least
    1): what a stage not yet seen here is expected to be slowed by."""
    try:
        return max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
    except OSError:
        return 1.0


# Stages whose time is downloads and disk: their factor says nothing of how fast this host computes.
IO_STAGES = frozenset(stage.name for stage in stages.ordered() if stage.io_bound)


# A job's time grows with the load L (the load average over the CPUs, at least 1) as L**k: k starts at
# `COUPLING` for every computing stage (loaded first runs grew exports, compiles and peers L**0.94-1.0,
# runs beyond their floor L**0.74; docs/first-run.md), then is learned from the jobs that finished
# (`HostFactor.coupling`): how hard a load hits differs more between hosts than between stages.
COUPLING = 0.85
# What the prior k weighs against the finished jobs', in their (ln L)**2: one job at L = e.
COUPLING_WEIGHT = 1.0
# How a backend's stages feel the load against one another, as exponents over k (1 where not named),
# fitted to recorded first runs (tests/unit/test_eta.py MEASURED_K): in Docker each export runs in a
# container; on host venvs a timed run runs alone, so it is hit less than a compile, long calls least.
RELATIVE = {
    "docker": {"export": 1.41, "compile": 1.0, "run": 0.6, "run (long calls)": 0.8},
    "venv": {"run": 0.8, "run (long calls)": 0.6},
}
IO_SENSITIVITY = 0.5
# A CPU that reads this much slower than the basis (`HostFactor.speed`) is taken as that much slower at
# the kinds none of whose jobs finished yet. A faster reading is not: the basis is already each job's
# quiet time, and carried over, a quiet replay's fast compiles made its runs' estimates far too short.
SLOWER_CPU = 1.25
LEARNS_FROM_SECONDS = 1.0  # the least stretchable time of a job the factor learns from (`Estimates.finished`)
# A run whose time beyond its benchmark floor is at least this long is its own kind ("long calls"), apart
# from the runs that are mostly floor: each kind learns its own excess from its own jobs.
LONG_CALLS_SECONDS = 20.0
LONG_CALLS = "run (long calls)"
# How much a finished job weighs against each that finished after it: the host of now is what matters.
FORGET = 0.9


# What `Estimates.basis` says of each source of the jobs' estimates, in its order.
_BASES = {
    "published": "from the published records' stage times",
    "here": "from earlier runs here",
    "guess": "guessed",
    "stored": "stored (reused)",
}


def in_image(job: Job, backend: str) -> bool:
    """Whether `job` runs in a container: `mixed` installs only the foreign CPUs' environments in images."""
    return backend == "docker" or (backend == "mixed" and job.env.arch != targets.host_arch())


def learns_as(stage: str, basis: float, floor: float = 0.0) -> str:
    """The kind whose factor a job's time teaches and is scaled by: its stage, and for a run whose
    time beyond its floor is long, `LONG_CALLS`."""
    return LONG_CALLS if stage == "run" and basis - floor >= LONG_CALLS_SECONDS else stage


class LoadTrace:
    """The load as a run goes (1-minute load average / CPUs, at least 1), sampled as the progress is drawn:
    a finished job ran at the mean over its own span, and the rest is expected at the recent load going
    back to the run's own mean (`ahead`), so the ETA follows the load without jumping with each reading."""

    RECENT_SECONDS = 120.0
    # How long a departure of the recent load from the run's mean takes to shrink e-fold (`ahead`).
    REVERTS_SECONDS = 600.0
    SPACING_SECONDS = 2.0  # samples kept at most this often: a day-long run keeps a few 10 000

    def __init__(self) -> None:
        self._at: list[float] = []  # monotonic seconds, ascending
        self._load: list[float] = []  # the load factor from then until the next sample
        self._area = 0.0  # the load integrated from the first sample to the last (`since_start`)
        self._lock = threading.Lock()  # the live line's refresh thread and the stages' threads note

    def note(self, load: float, at: float) -> None:
        load = max(1.0, load)
        with self._lock:
            if self._at and at < self._at[-1] + self.SPACING_SECONDS:
                self._load[-1] = load if at >= self._at[-1] else self._load[-1]
                return
            if self._at:
                self._area += self._load[-1] * (at - self._at[-1])
            self._at.append(at)
            self._load.append(load)

    def mean(self, since: float, until: float) -> Optional[float]:
        """The mean load over [since, until] (before the first sample: the first); None: no sample."""
        with self._lock:
            return self._mean(since, until)

    def _mean(self, since: float, until: float) -> Optional[float]:
        if not self._at:
            return None
        if until <= since:
            return self._load[max(0, bisect.bisect_right(self._at, until) - 1)]
        i = max(0, bisect.bisect_right(self._at, since) - 1)
        total, at = 0.0, since
        while i < len(self._at) and at < until:
            upto = min(until, self._at[i + 1]) if i + 1 < len(self._at) else until
            total += self._load[i] * max(0.0, upto - at)
            at, i = max(at, upto), i + 1
        return total / (until - since)

    def recent(self, now: float) -> Optional[float]:
        return self.mean(now - self.RECENT_SECONDS, now)

    def since_start(self, now: float) -> Optional[float]:
        """The mean load from the first sample (the run's start) to `now` (not before the last
        sample): kept as a running sum, since the ETA asks twice a second over a day-long run."""
        with self._lock:
            if not self._at:
                return None
            if (span := now - self._at[0]) <= 0 or now < self._at[-1]:
                return self._mean(self._at[0], now) if span > 0 else self._load[0]
            return (self._area + self._load[-1] * (now - self._at[-1])) / span

    def ahead(self, now: float, horizon: float) -> Optional[float]:
        """The mean load expected over the next `horizon` seconds: the recent load R going back to the run's
        own mean so far M (`since_start`) as L(h) = M + (R - M) e^(-h/τ), τ `REVERTS_SECONDS`, averaged over
        the horizon. Others' work comes in episodes of minutes, so a loaded moment is more likely followed by
        the run's usual load than by more of the same (tests/unit/test_eta_replay.py)."""
        recent = self.recent(now)
        level = self.since_start(now)
        if recent is None or level is None or horizon <= 0:
            return recent
        tau = self.REVERTS_SECONDS
        return level + (recent - level) * tau / horizon * (1.0 - math.exp(-horizon / tau))


class LockWaits:
    """The machine's quiet lock's waits still to come: other sessions' timed stages hold it, and each of this
    run's timed jobs waits for it before its own clock starts, however short the job. A pending timed job is
    expected to wait the mean of the finished ones' waits (0 when it had the lock at once: `Progress`), newer
    ones weighing more (`FORGETS_SECONDS`), against `PRIOR_JOBS` jobs that waited nothing, so one early wait
    does not stretch every job to come. Per job, not per second: a lock held in turns by another session
    makes each acquisition wait about one of its steps."""

    PRIOR_JOBS = 2.0
    FORGETS_SECONDS = 1200.0

    def __init__(self) -> None:
        self._seen: list[tuple[float, float]] = []  # (when the job finished, seconds it waited)
        self._lock = threading.Lock()  # stages' threads note, the live line's thread reads

    def note(self, waited: float, at: float) -> None:
        with self._lock:
            self._seen.append((at, max(0.0, waited)))

    def per_job(self, now: float) -> float:
        """The wait a pending timed job is expected to have, in seconds."""
        with self._lock:
            seen = list(self._seen)
        total = weights = 0.0
        for at, waited in seen:
            weight = math.exp(-max(0.0, now - at) / self.FORGETS_SECONDS)
            total += weight * waited
            weights += weight
        return total / (weights + self.PRIOR_JOBS) if total else 0.0

    @property
    def samples(self) -> int:
        return len(self._seen)


class HostFactor:
    """How much longer jobs take on this host, now, than their basis said: L**(k x the kind's `RELATIVE`
    exponent) times the kind's excess. L is the recent load over the CPUs; k (`coupling`) is learned from
    every computing job that finished, at the load it ran at; a kind's excess (`learns_as`) is what its own
    jobs took beyond L**k, weighed n to 1 against this CPU's `speed` (one job's time is noisy), newer jobs
    weighing more (`FORGET`). A kind none of whose jobs finished takes L**k times that speed. Replayed in
    tests/unit/test_eta.py and tests/unit/test_eta_replay.py."""

    def __init__(self, load: float = 1.0, relative: Optional[Mapping[str, float]] = None) -> None:
        self._seen: list[tuple[str, float, float, float]] = []  # (kind, basis, actual, load it ran at)
        # kind -> how many of its jobs finished here (`Estimates.finished`), whether or not they taught
        # it (a run's time is mostly its benchmark floor: few runs do)
        self.ended: Counter[str] = Counter()
        self.load = load
        self.relative = dict(relative or {})
        # kind -> factor, for the jobs seen and the load it was made with: an ETA asks for every
        # pending job's (1700 of a release-history run), twice a second
        self._memo: tuple[tuple[int, float], dict[str, float]] = ((-1, 0.0), {})
        self._excess_memo: tuple[int, list[tuple[str, float]]] = (-1, [])  # `_excesses`, by jobs seen

    def observe(self, kind: str, basis: float, actual: float, load: Optional[float] = None) -> None:
        """A job of `kind` took `actual` seconds for a `basis` of them, at `load` (None: `self.load`)."""
        if basis > 0 and actual > 0:
            self._seen.append((kind, basis, actual, max(1.0, load if load is not None else self.load)))

    def coupling(self) -> float:
        """k: the least-squares slope of ln(actual / basis) on the kind's ln L (through the origin, newer
        jobs weighing more), and `COUPLING` weighing `COUPLING_WEIGHT` of (ln L)**2."""
        num, den = COUPLING * COUPLING_WEIGHT, COUPLING_WEIGHT
        computing = [seen for seen in self._seen if seen[0] not in IO_STAGES]
        for age, (kind, basis, actual, load) in enumerate(reversed(computing)):
            weight, x = FORGET**age, self.relative.get(kind, 1.0) * math.log(load)
            num += weight * x * math.log(actual / basis)
            den += weight * x * x
        return num / den

    def _exponent(self, kind: str, coupling: float) -> float:
        """How the load stretches `kind` at that `coupling`: L**exponent."""
        return IO_SENSITIVITY if kind in IO_STAGES else coupling * self.relative.get(kind, 1.0)

    def of(self, kind: str) -> float:
        key, memo = self._memo
        if key != (len(self._seen), self.load):
            key, memo = (len(self._seen), self.load), {}
            self._memo = (key, memo)
        if kind not in memo:
            memo[kind] = self._of(kind)
        return memo[kind]

    def _of(self, kind: str) -> float:
        exponent = self._exponent(kind, self.coupling())
        own = [excess for k, excess in self._excesses() if k == kind]
        # A kind none of whose jobs finished takes this CPU's speed (`speed`); one whose did goes from
        # it to its own. Downloads and disk say nothing of the CPU, nor it of them.
        prior = 0.0 if kind in IO_STAGES else self._speed()
        return math.exp(_shrunk(own, prior) + exponent * math.log(max(1.0, self.load)))

    def _excesses(self) -> list[tuple[str, float]]:
        """Each finished job's kind and ln of what it took beyond what its basis and the load said
        (k once for all: the ETA asks twice a second), kept until another job finishes."""
        seen, memo = self._excess_memo
        if seen != len(self._seen):
            k = self.coupling()
            memo = [
                (kind, math.log(actual / basis) - self._exponent(kind, k) * math.log(load))
                for kind, basis, actual, load in self._seen
            ]
            self._excess_memo = (len(self._seen), memo)
        return memo

    def speed(self) -> float:
        """How much slower this CPU is than the basis' (2.0: twice as slow), from every computing job that
        finished here beyond the load's share, weighed n to 1 against the basis' own; 1.0 until that is
        `SLOWER_CPU` or more."""
        return math.exp(self._speed())

    def _speed(self) -> float:
        found = _shrunk([e for k, e in self._excesses() if k not in IO_STAGES], 0.0)
        return found if found >= math.log(SLOWER_CPU) else 0.0

    @property
    def samples(self) -> int:
        return len(self._seen)

    def describe(self) -> str:
        """ "x1.8: the load (x2 the CPUs) to the power 0.85, until jobs finish here", then each kind's."""
        load = f"the load (x{max(1.0, self.load):.2g} the CPUs) to the power {self.coupling():.2g}"
        if not self.samples:
            return f"x{self.of('?'):.2g}: {load}, until jobs finish here"
        kinds = sorted({kind for kind, _, _, _ in self._seen})
        factors = ", ".join(f"{kind} x{self.of(kind):.2g}" for kind in kinds)
        rest = f"other stages x{self.of('?'):.2g}" + (
            f" (this CPU x{speed:.2g} slower)" if (speed := self.speed()) > 1 else ""
        )
        return f"{factors}, {rest} ({load}, learned from {self.samples} finished here)"


def _shrunk(values: Sequence[float], prior: float) -> float:
    """The mean of `values` (newer, later ones weighing more: `FORGET`), weighed n to 1 against `prior`."""
    if not values:
        return prior
    total = weights = 0.0
    for age, value in enumerate(reversed(values)):
        total += FORGET**age * value
        weights += FORGET**age
    return (total / weights * len(values) + prior) / (len(values) + 1)


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
    factor: HostFactor = dataclasses.field(default_factory=HostFactor, compare=False)
    own_time: frozenset[str] = frozenset()  # job ids estimated from their own earlier time (by_job)
    # job id -> seconds of its basis no load stretches (a run's benchmark min time, StageTimes.floor)
    floor: Mapping[str, float] = dataclasses.field(default_factory=dict)
    kind_of: Mapping[str, str] = dataclasses.field(default_factory=dict)  # job id -> `learns_as`
    waits: LockWaits = dataclasses.field(default_factory=LockWaits, compare=False)  # timed jobs' lock waits

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
        checked_only: Callable[[Job], bool] = lambda job: False,
        speed: float = 1.0,
        least: Callable[[], float] = lambda: MIN_TIME_SECONDS,  # the plan's min time a repetition
    ) -> Estimates:
        here = StageTimes.of(history.values())
        published = published or StageTimes({}, {}, {})
        seconds: dict[str, float] = {}
        source: dict[str, str] = {}
        own_time: set[str] = set()  # jobs whose basis is their own earlier time, not their model's or stage's
        floor: dict[str, float] = {}

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
                ("here", here.exact(job), here.by_job.get(job.id)),
                ("published", published.exact(job), published.by_job.get(job.id)),
                ("here", here.by_stage.get(job.stage), None),
                ("published", published.by_stage.get(job.stage), None),
                ("guess", UNKNOWN_STAGE_SECONDS.get(job.stage, 30.0), None),
            ):
                if value:
                    seconds[job.id], source[job.id] = value, origin
                    if own:
                        own_time.add(job.id)
                        # at the plan's min time a repetition (`least`), not the basis's
                        if fixed := published.floor.get(job.id, 0.0) if origin == "published" else 0.0:
                            cut = min(value, fixed) * (1.0 - min(1.0, least() / MIN_TIME_SECONDS))
                            floor[job.id], seconds[job.id] = min(value, fixed) - cut, value - cut
                    break
            if source[job.id] == "published" and job.stage not in IO_STAGES:  # this CPU's (speed_of)
                seconds[job.id] = (f := floor.get(job.id, 0.0)) + (seconds[job.id] - f) * max(1.0, speed)
            if checked_only(job) and source[job.id] == "published":  # no published matrix leaves them untimed
                share = CHECKED_SHARE * (seconds[job.id] - floor.pop(job.id, 0.0))
                seconds[job.id] = max(CHECKED_LEAST, share)
            if job.stage == "install" and in_image(job, backend) and source[job.id] != "here":
                seconds[job.id] += DOCKER_IMAGE_SECONDS + (DOCKER_BASE_IMAGE_SECONDS if base_image else 0.0)
                base_image = False
        exclusive = frozenset(j.id for j in plan_jobs if j.stage in set(exclusive_stages))
        kind_of = {j.id: learns_as(j.stage, seconds[j.id], floor.get(j.id, 0.0)) for j in plan_jobs}
        factor = HostFactor(load, RELATIVE.get(backend))
        return cls(seconds, exclusive, max(1, jobs), source, factor, frozenset(own_time), floor, kind_of)

    def expected(self, job_id: str) -> float:
        """The job's seconds on this host now: its basis, scaled unless it was measured here (but for
        its `floor`, which no load stretches)."""
        basis = self.seconds.get(job_id, 0.0)
        if self.source.get(job_id) in ("published", "guess"):
            fixed = self.floor.get(job_id, 0.0)
            return fixed + (basis - fixed) * self.factor.of(self.kind(job_id))
        return basis

    def kind(self, job_id: str) -> str:
        return self.kind_of.get(job_id, "")

    def finished(self, job_id: str, seconds: Optional[float], load: Optional[float] = None) -> None:
        """A job of this run ended after `seconds`, at `load` (the mean over its span; None: the load
        now): the host factor learns from the part beyond its `floor`, only when that part is at least a
        second and at least the floor (a run that is mostly benchmark min time, or a refused run's process
        start, says nothing of how the load stretches computing)."""
        if self.source.get(job_id) not in ("published", "guess") or not isinstance(seconds, (int, float)):
            return
        self.factor.ended[self.kind(job_id)] += 1
        basis, fixed = self.seconds[job_id], self.floor.get(job_id, 0.0)
        if basis - fixed >= max(fixed, LEARNS_FROM_SECONDS):
            self.factor.observe(self.kind(job_id), basis - fixed, seconds - fixed, load)

    def left(
        self, pending: Iterable[str], running: Mapping[str, float], now: Optional[float] = None
    ) -> float:
        """Seconds until the run ends: pending jobs, plus what running ones still need. A running job past its
        estimate is expected to need a quarter of what it has run so far, and pending jobs of its kind
        (`learns_as`) to overrun alike, weighed as one job more among those of its kind that finished here —
        unless it was expected to be reused (a stored result whose artifact is gone says nothing of this
        host). An overrun of a coarse estimate (the model's or stage's typical time) stretches only pending
        jobs estimated as coarsely: a job timed before keeps its own time. `running`: job id -> when it
        started, on the clock `now` reads (`time.monotonic`)."""
        now = time.monotonic() if now is None else now
        overrun: dict[tuple[str, bool], float] = {}  # (kind, from the job's own time) -> factor
        rests: dict[str, float] = {}
        for job, since in running.items():
            ran, expected = now - since, self.expected(job)
            rests[job] = max(expected - ran, 0.25 * ran if ran > expected else 0.0)
            # An overrun of a second or less is a process start, not this host.
            overran = expected > 0 and ran - expected > LEARNS_FROM_SECONDS
            if overran and self.source.get(job) != "stored":
                kind = self.kind(job)
                key = (kind, job in self.own_time)
                # One job among the n of its kind that finished here: its overrun weighs 1 in n + 1, in
                # log space as the factor weighs them (taken whole, one stalled run stretched them all).
                stretch = (ran / expected) ** (1.0 / (self.factor.ended[kind] + 1))
                overrun[key] = max(overrun.get(key, 1.0), stretch)
        alone = shared = 0.0
        for job in pending:
            kind = self.kind(job)
            stretch = overrun.get((kind, True), 1.0)
            if job not in self.own_time:
                stretch = max(stretch, overrun.get((kind, False), 1.0))
            value = self.expected(job) * stretch
            alone, shared = (alone + value, shared) if job in self.exclusive else (alone, shared + value)
        for job, rest in rests.items():
            alone, shared = (alone + rest, shared) if job in self.exclusive else (alone, shared + rest)
        return alone + shared / self.jobs

    def left_ahead(
        self,
        loads: LoadTrace,
        pending: Iterable[str],
        running: Mapping[str, float],
        now: float,
        waiting: Iterable[str] = (),
        held: float = 0.0,
    ) -> float:
        """`left` at the load expected over that time (`LoadTrace.ahead`), and the quiet lock's waits to
        come (`waits_ahead`). `waiting`: timed jobs waiting for the quiet lock, each counted whole, as
        pending; their wait is what the lock's holder is still expected to take (`held`, once), or where
        no holder says (`held` 0) the mean wait, as a pending timed job's."""
        waiting = list(waiting)
        counted = [*pending, *waiting]
        self.factor.load = loads.recent(now) or self.factor.load
        left = self.left(counted, running, now)
        if (expected := loads.ahead(now, left)) is not None and expected != self.factor.load:
            self.factor.load = expected
            left = self.left(counted, running, now)
        if waiting and held > 0:
            return left + held + self.waits_ahead(pending, now)
        return left + self.waits_ahead(counted, now)

    def waits_ahead(self, pending: Iterable[str], now: float) -> float:
        """The quiet lock's waits the pending timed jobs are expected to have (`LockWaits`)."""
        return self.waits.per_job(now) * sum(job in self.exclusive for job in pending)

    def basis(self) -> str:
        """What the estimate rests on, for the first lines of a run."""
        counts = Counter(self.source.values())
        parts = [f"{counts[name]} {what}" for name, what in _BASES.items() if counts[name]]
        return f"estimate: {', '.join(parts)}; host factor {self.factor.describe()}"
