"""The ETA model: how long each job of a plan is expected to take on this host now, from how long the
same stages took here before or on the publication host (execution/stage_times.py), scaled by the
load (`HostFactor`, learned from the jobs as they finish), and what is left of a run (`Estimates`).
execution/progress.py shows it.
"""

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
from iree_matrix.execution import stage_times
from iree_matrix.execution.stage_times import StageTimes  # the estimate's basis (execution/stage_times.py)
from iree_matrix.iree import targets
from iree_matrix.matrix.plan import Job
from iree_matrix.stages.benchmark_tool import MIN_TIME_SECONDS

# A stage never seen here nor in the published records: a guess, said as one.
UNKNOWN_STAGE_SECONDS = {"install": 60.0, "export": 30.0, "compile": 30.0, "run": 10.0}
REUSED_SECONDS = 0.05
# A run that only checks (`[benchmark] time_cross_runtime = false`: a module on another release's
# runtime) against its timed time beyond the benchmark's min time: one call of the ten a budgeted
# timed run makes (the check, three wall, three one-thread calls at twice the wall), at least a second
# (process start and module load).
CHECKED_SHARE, CHECKED_LEAST = 0.15, 1.0
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


# How a job's time grows with the load, L the load average over the CPUs (at least 1): as L**k. Before
# a job finished, k is `COUPLING`, for every computing stage alike: the loaded venv first run
# docs/first-run.md describes (the default matrix's 86 jobs at load median 13.7 on 2 cores, L 6.85)
# against its quiet run (results/first-run/) grew exports 6.1x (k 0.94), compiles 6.3x (0.96), peers
# ~7x (1.0), runs beyond their benchmark floor 4.2x (0.74); a newcomer's first run at load median 10
# took 3.1x the quiet run's 14:11, as L**0.8 of every job would. Then k is learned from the jobs that
# finished (`HostFactor.coupling`): how hard a load hits differs more between hosts and loads than
# between stages (three busy loops in a session of their own at L 2.5: every stage L**0.35). Per-stage
# exponents fitted to the Docker run (exports 1.06, compiles 0.75, runs 0.45, never learned) read
# 0.52-0.66 of the time left from 25 to 85 % of a load-10 replay (tests/unit/test_eta_replay.py), as
# the newcomer's ETA did (real/ETA 1.28-2.12).
COUPLING = 0.85
# What the prior k weighs against the finished jobs', in their (ln L)**2: one job at L = e (load 5.4 on
# 2 CPUs). A job at L ~1 says nothing of k (a compile basis from a faster host reads 0.5x at any load).
COUPLING_WEIGHT = 1.0
# How a backend's stages feel the load against one another, as exponents over k (1 where not named).
# The Docker run at L 8.4 (tests/data/eta/first-run.jsonl against the quiet jobs: tests/unit/test_eta.py
# MEASURED_K): exports L**1.41 (each in a container), compiles 1.0, runs 0.6 (the Whisper encoder's long
# calls ~0.8). Host venvs: a run is hit less than a compile, and a run of long calls least (a timed
# stage runs alone: no compile of this run beside it). The loaded venv first run (L 6.85): compiles
# L**0.96, runs beyond their floor L**0.74 (0.77 of it); issue #69's live cold run
# (tests/data/eta/first-run-live69.jsonl, load median 6.1 on 2 cores): most compiles L**0.9-1.2 at L
# 3.3-4.9 (the MobileNets' 0.5-0.6), the Whisper encoder's runs 1.25-1.34x at L 2.9-3.4 on a host that
# ran them 0.7x the published time at L 1.4-2.2: L**0.55, 0.6 of the compiles'. Taken alike there, the
# four encoder runs were expected to take 16 min at L 5 where they took 3.5 min, and real left / ETA
# read 0.32-0.50 from 55 to 73 %.
RELATIVE = {
    "docker": {"export": 1.41, "compile": 1.0, "run": 0.6, "run (long calls)": 0.8},
    "venv": {"run": 0.8, "run (long calls)": 0.6},
}
# Downloads and disk (`IO_STAGES`, the installs): their own exponent, learned from their own jobs only.
IO_SENSITIVITY = 0.5
# A CPU that reads this much slower than the basis, over every computing job that finished here beyond
# the load's share (`HostFactor.speed`), is taken as that much slower at the kinds none of whose jobs
# finished yet, and as where their own times start from. A faster reading is not: the basis is each
# job's quiet time over sittings of the publication host, and the quiet replay's exports and compiles
# read 0.76 of it where its runs then took 1.7x (tests/unit/test_eta.py: carried over, the replays
# broke their bars; the loaded ones read 0.96-1.03 of the basis, beyond the load's share).
SLOWER_CPU = 1.25
LEARNS_FROM_SECONDS = 1.0  # the least stretchable time of a job the factor learns from (`Estimates.finished`)
# A run whose time beyond its benchmark floor is at least this long is its own kind ("long calls": the
# Whisper encoder's 53-s runs of 6-s calls) apart from the 7-s runs that are mostly floor, as peers are
# their own stage: each kind learns its own excess from its own jobs.
LONG_CALLS_SECONDS = 20.0
LONG_CALLS = "run (long calls)"
# How much a finished job weighs against the ones that finished after it: each later one leaves it this
# much. The host of now is what matters: a load that changed its kind (a build that ended, another that
# began) shows in the newest jobs first.
FORGET = 0.9


# What `Estimates.basis` says of each source of the jobs' estimates, in its order.
_BASES = {
    "published": "from the published records' stage times",
    "here": "from earlier runs here",
    "guess": "guessed",
    "stored": "stored (reused)",
}


def learns_as(stage: str, basis: float, floor: float = 0.0) -> str:
    """The kind whose factor a job's time teaches and is scaled by: its stage, and for a run whose
    time beyond its floor is long, `LONG_CALLS`."""
    return LONG_CALLS if stage == "run" and basis - floor >= LONG_CALLS_SECONDS else stage


class LoadTrace:
    """The load as a run goes (1-minute load average / CPUs, at least 1), sampled as the progress is drawn:
    the load a finished job ran at is the mean over its own span, not the reading at its end (a 5-min encoder
    run at load 9-15), and the load the rest is expected at (`ahead`) the recent one, the mean over the last
    `RECENT_SECONDS`, going back over minutes to the run's own mean load so far: the ETA follows a load that
    rose or fell without jumping with each reading or each burst of others' work."""

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
        the horizon. The load that others' work adds comes in episodes of minutes (a compile, a test run), and
        a loaded moment of a run is more likely followed by its usual load than by more of the same: an
        estimate that carries the last two minutes over the rest of a 40-min run rises and falls with each one
        (issue #69's cold run read 27:52 to 52:16 as the load touched 17, for a run of 40 min), and one that
        carried the last ten minutes' level over the rest read issue #69's live runs 0.52-1.79 and 0.55-1.45
        of the time left as the load fell from 7-11 to 2-5. M is what the run itself saw, no hindsight; τ 5-20
        min reads the replays alike (tests/unit/test_eta_replay.py, docs/first-run.md)."""
        recent = self.recent(now)
        level = self.since_start(now)
        if recent is None or level is None or horizon <= 0:
            return recent
        tau = self.REVERTS_SECONDS
        return level + (recent - level) * tau / horizon * (1.0 - math.exp(-horizon / tau))


class LockWaits:
    """The machine's quiet lock's waits still to come: other sessions' timed stages (their `advise` sittings,
    exports, runs) hold it, and each of this run's timed jobs waits for it before its own clock starts,
    however short the job (a 7-s run waited 5-112 s). Each timed job that finished says how long it waited (0
    when it had the lock at once: `Progress`); a pending timed job is expected to wait their mean, newer jobs
    weighing more (half-life `FORGETS_SECONDS` x ln 2), against `PRIOR_JOBS` jobs that waited nothing: one
    early wait does not stretch every job to come. Per job, not per second of timed work: a lock held in turns
    by another session makes each acquisition wait about one of its steps. Issue #69's third live run (650 s
    of its 39.5 min were waits) replayed: real left / ETA 10 of 15 points within 0.75-1.25 from 25 % on, 3
    without (tests/unit/test_eta.py, docs/first-run.md); the two runs that waited little move by a point or
    none; a fourth, live with it, read 9 of 15 (10 replayed without: its waits came in one burst and ended).
    The waits seen so far are what the run saw, no hindsight, nothing across runs."""

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
    """How much longer jobs take on this host, now, than their basis said: L**(k x the kind's relative
    exponent, `RELATIVE`) times the kind's excess. L is the recent load over the CPUs (`load`, from a
    `LoadTrace`); k, how hard this host's load hits (`coupling`), is learned from every computing job
    that finished, at the load it ran at (the mean over its span); a kind's excess (`learns_as`: a
    stage, and a run's long calls) is what its own jobs took beyond what L**k said — a host faster or
    slower than the publication's at that kind — weighed n to 1 against this CPU's speed (`speed`:
    every kind's jobs alike; n jobs: one job's time is noisy: a loaded run's first export read 13x,
    its later ones 2-19x). Newer jobs weigh more (`FORGET`). A kind none of whose jobs finished takes
    L**k times that speed: a first run's peers and long calls come last, and the load hits them as it
    hit the exports and compiles before them (a newcomer's: each outlasted an estimate that took runs
    as L**0.45), as does a slower CPU. And never less than a running job has already overrun its own
    (`Estimates.left`).

    Replayed in tests/unit/test_eta.py (recorded runs) and tests/unit/test_eta_replay.py (the default
    plan's quiet jobs under a load that rises to 10-15 on 2 cores, a quiet one, a falling one)."""

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

    def exponent(self, kind: str) -> float:
        """How the load stretches `kind` now: L**exponent."""
        return self._exponent(kind, self.coupling())

    def _exponent(self, kind: str, coupling: float) -> float:
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
        exponent = self.exponent(kind)
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
        finished here beyond the load's share, whatever its kind, weighed n to 1 against the basis' own; 1.0
        until that is `SLOWER_CPU` or more. A published time from a faster CPU is as much too short for the
        kinds still to come (a 2-core Zen 3's cold run took 2.0x its first estimate)."""
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
    stage_of: Mapping[str, str] = dataclasses.field(default_factory=dict)
    factor: HostFactor = dataclasses.field(default_factory=HostFactor, compare=False)
    own_time: frozenset[str] = frozenset()  # job ids estimated from their own earlier time (StageTimes.own)
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
            if job.stage == "install" and in_image(job) and source[job.id] != "here":
                seconds[job.id] += DOCKER_IMAGE_SECONDS + (DOCKER_BASE_IMAGE_SECONDS if base_image else 0.0)
                base_image = False
        exclusive = frozenset(j.id for j in plan_jobs if j.stage in set(exclusive_stages))
        stage_of = {j.id: j.stage for j in plan_jobs}
        kind_of = {j.id: learns_as(j.stage, seconds[j.id], floor.get(j.id, 0.0)) for j in plan_jobs}
        factor = HostFactor(load, RELATIVE.get(backend))
        return cls(
            seconds, exclusive, max(1, jobs), source, stage_of, factor, frozenset(own_time), floor, kind_of
        )

    def expected(self, job_id: str) -> float:
        """The job's seconds on this host now: its basis, scaled unless it was measured here (but for
        its `floor`, which no load stretches)."""
        basis = self.seconds.get(job_id, 0.0)
        if self.source.get(job_id) in ("published", "guess"):
            fixed = self.floor.get(job_id, 0.0)
            return fixed + (basis - fixed) * self.factor.of(self.kind(job_id))
        return basis

    def kind(self, job_id: str) -> str:
        return self.kind_of.get(job_id) or self.stage_of.get(job_id, "")

    def finished(self, job_id: str, seconds: Optional[float], load: Optional[float] = None) -> None:
        """A job of this run ended after `seconds`, at `load` (the mean over its span; None: the load
        now): what the host factor learns from — the part of it beyond its `floor`, and only when
        that part is at least a second and at least the floor: a
        7.5-s run of which 6 s are the benchmark's min time reads its factor off a second or two, and
        says nothing of how a 53-s run of long calls stretches (at load 5: 1.0x against 1.47x); a
        refused run (0.1 s published, 0.12-0.26 s at load 5) reads it off process start."""
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
        (`learns_as`) to overrun alike, weighed as one job more among those of its kind that finished here
        (`HostFactor.ended`: the first of a kind, whole) — unless it was expected to be reused: a stored
        result whose artifact is gone (another cache, a changed export) runs after all, which says nothing of
        how slow this host is (one such compile once multiplied every pending compile by 680: "ETA 43:31:57").
        An overrun of a coarse estimate (the model's or the stage's typical time) stretches only pending jobs
        estimated as coarsely: a job timed before keeps its own time (a lavapipe run estimated by its model's
        0.2-s "no CUDA device" runs once multiplied the next lavapipe run's own 1500 s by 1700: "ETA
        723:03:28"). `running`: job id -> when it started, on the clock `now` reads (`time.monotonic`)."""
        now = time.monotonic() if now is None else now
        overrun: dict[tuple[str, bool], float] = {}  # (kind, from the job's own time) -> factor
        rests: dict[str, float] = {}
        for job, since in running.items():
            ran, expected = now - since, self.expected(job)
            rests[job] = max(expected - ran, 0.25 * ran if ran > expected else 0.0)
            # An overrun of a second or less is a process start, not this host (a refused run: 0.1 s
            # published, 0.12-0.26 s at load 5, stretched every pending run 2x while it ran).
            overran = expected > 0 and ran - expected > LEARNS_FROM_SECONDS
            if overran and self.source.get(job) != "stored":
                kind = self.kind(job)
                key = (kind, job in self.own_time)
                # One job among the n of its kind that finished here (each already in `expected`):
                # its overrun weighs 1 in n + 1, in log space as the factor weighs them. Taken whole,
                # one run held 64 s by a 40-s stall of the machine stretched every pending run of
                # its kind 6x: "ETA 32:43" for 14:55 (a cold run at load 10, docs/first-run.md).
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
        """`left` at the load expected over that time (`LoadTrace.ahead`): at the recent load first,
        then at the load ahead for as long as that said; and the quiet lock's waits to come
        (`waits_ahead`). `waiting`: timed jobs started but waiting for the quiet lock, each counted
        whole, as pending; their wait is what the lock's holder is still expected to take (`held`,
        once), not the mean wait of a job yet to start as well: a job waiting now was counted twice,
        the holder's rest and the mean of waits to come. Where no holder says how long (`held` 0),
        they are expected the mean wait, as a pending timed job is."""
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
        """The quiet lock's waits the pending timed jobs are expected to have (`LockWaits`): what
        timed stages waited so far this run, which no load says (a live run waited 650 s of 39.5 min)."""
        return self.waits.per_job(now) * sum(job in self.exclusive for job in pending)

    def basis(self) -> str:
        """What the estimate rests on, for the first lines of a run."""
        counts = Counter(self.source.values())
        parts = [f"{counts[name]} {what}" for name, what in _BASES.items() if counts[name]]
        return f"estimate: {', '.join(parts)}; host factor {self.factor.describe()}"
