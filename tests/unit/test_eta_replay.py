"""A newcomer's first run at load 10, replayed (issue #61): `nox -s matrix` (the default plan's 86 jobs)
on 2 cores with other work beside it, the load average 4.0 at the start, 9-15 from two minutes on
(median 10): the run took 43:45, and its ETA read 19:18 at the start, then real/ETA 1.47 at 10 %,
1.28 at 25 %, 1.58 at 50 %, 1.59 at 75 % and 2.12 at 90 %.

Its records were not kept, so the run is rebuilt from what was:
- the jobs and their quiet times: the default plan's quiet first run as published
  (results/first-run/results.jsonl: real durations on a 2-core Rocket Lake at load ~1.3, 14:11 in all),
  each run's benchmark floor from its own metrics (`stage_times.floors`);
- the basis the estimator had: the published stage times of then, frozen
  (tests/data/eta/published-stage-times-trial.json, as tests/unit/test_eta.py replays them);
- the order: as the quiet run ran them, installs and compiles two at a time (`--jobs 2`, the default
  on 2 cores), exports, runs and peers alone;
- a load trace: the 1-minute load average every 30 s, deterministic (`_rising` and the others below).

How the load slows a job is a model, not a measurement of that run: each job's time beyond its floor
is stretched by L**K while it runs, L = load average / 2 cores (at least 1) — a run's rest by
L**(0.8 K) and a run of long calls (the Whisper encoder's) by L**(0.6 K), as measured on host venvs
(execution/eta.py's RELATIVE: the loaded venv first run, issue #69's live cold run); an install
(downloads and disk) by L**0.5; a floor not at all. K = 0.95 because with it the rising replay lasts
what the newcomer's run did (44.0 min against 43:45: `test_the_model_lasts_as_long_as_the_newcomers_run`;
0.8 while every stage was stretched alike).
Not modelled: memory bandwidth and caches, the load average's one-minute lag (a job is slowed by the
trace as the estimator reads it), one job slowing the other beside it beyond what the trace says.
The estimator does not know K: it starts from `progress.COUPLING` and learns how hard the load hits
from the jobs that finish. It is also replayed with K = 0.4 and 1.2 (a host whose load hits softer or
harder), on a quiet trace, on a load that falls from 14 to 1.5-3 in two minutes and on a steady 10:
the time left within 25 % of the ETA (real left / ETA in 0.75-1.25, issue #69's measure) at every 5 %
from a quarter of the run on, in each. An estimator that
does not learn fails it (`test_an_estimator_that_does_not_learn_fails_the_replay`).

Issue #69 adds: its cold run's load (`_cold`), hosts 0.7-2x the publication's time at any load, and
others' work in episodes of minutes that the estimator reads through the 1-minute load average
(`_episodes`). `python benchmarks/eta_from_log.py --replays` prints every replay's ratios."""

from __future__ import annotations

import bisect
import dataclasses
import json
import math
import random
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Optional

import pytest

from iree_matrix.core.model.results import Record, read_log
from iree_matrix.execution import stage_times
from iree_matrix.execution.eta import LONG_CALLS_SECONDS, Estimates, LoadTrace
from iree_matrix.execution.stage_times import StageTimes
from iree_matrix.matrix.plan import EnvSpec, Job

REPO = Path(__file__).resolve().parents[2]
QUIET_RUN = REPO / "results" / "first-run" / "results.jsonl"
BASIS = REPO / "tests" / "data" / "eta" / "published-stage-times-trial.json"
ENV = EnvSpec("runtime", "3.11", (), "r")
CORES = 2
SLOTS = 2  # --jobs on 2 cores
TIMED = frozenset({"export", "run", "peer"})
K = 0.95  # the newcomer's run's: see the module docstring
# How a run's rest and a run of long calls feel the load against the other stages (the measured relation,
# execution/eta.py's RELATIVE for host venvs: the loaded venv first run, issue #69's live cold run).
RUN_RELATIVE, LONG_CALLS_RELATIVE = 0.8, 0.6


def _relative(stage: str, rest: float) -> float:
    if stage != "run":
        return 1.0
    return LONG_CALLS_RELATIVE if rest >= LONG_CALLS_SECONDS else RUN_RELATIVE


INSTALL_K = 0.5
NEWCOMER_SECONDS = 43 * 60 + 45
TICK = 0.5  # the simulated clock's step, seconds
SAMPLE = 2.0  # how often the load is read (the live status line redraws twice a second)


def _segments(seed: int, low: float, high: float, power: float) -> list[float]:
    draw = random.Random(seed)  # random() is reproducible for a seed across Python versions
    return [low + (high - low) * draw.random() ** power for _ in range(600)]


_HIGH = _segments(61, 9.0, 15.0, 2.4)  # median ~10, at most 15
_LOW = _segments(62, 1.5, 3.0, 1.0)


def _rising(t: float) -> float:
    """4.0 at the start, 10 two minutes later, then a new reading every 30 s in 9-15."""
    return 4.0 + 6.0 * t / 120.0 if t < 120.0 else _HIGH[int((t - 120.0) // 30.0)]


def _falling(t: float) -> float:
    """14 at the start (another build), 3 two minutes later, then 1.5-3."""
    return 14.0 - 11.0 * t / 120.0 if t < 120.0 else _LOW[int((t - 120.0) // 30.0)]


_COLD_MID = _segments(69, 6.0, 13.0, 1.3)
_COLD_LATE = _segments(70, 10.0, 17.0, 1.3)


def _cold(t: float) -> float:
    """Issue #69's cold `nox -s matrix` (40 min at load median 8.9, 3-17): 3 at the start, 9 three
    minutes later, a reading every 30 s in 6-13 to 20 min, then in 10-17."""
    if t < 180.0:
        return 3.0 + 6.0 * t / 180.0
    return (_COLD_MID if t < 1200.0 else _COLD_LATE)[int((t - 180.0) // 30.0)]


TRACES: dict[str, Callable[[float], float]] = {
    "rising": _rising,
    "quiet": lambda t: 1.0,
    "falling": _falling,
    "steady": lambda t: 10.0,
}


def _episodes(seed: int, level: float) -> tuple[Callable[[float], float], Callable[[float], float]]:
    """(the load that slows the jobs, the load the estimator reads) of a machine shared by others'
    work in episodes: a base that rises from 3 to `level` in three minutes, and every 4 min on
    average another job (a compile, a test run) adding 2-8 for 1-7 min; the reading is the kernel's
    1-minute load average of it (an exponential mean, 5-s steps)."""
    draw = random.Random(seed)
    episodes, at = [], 0.0
    while at < 4 * 3600:
        at += draw.expovariate(1 / 240)
        episodes.append((at, at + draw.uniform(60, 420), draw.uniform(2, 8)))
    felt, read, mean = [], [], 3.0
    for i in range(4 * 3600 // 5):
        now = i * 5.0
        base = 3.0 + (level - 3.0) * min(1.0, now / 180.0)
        value = max(
            1.0, min(18.0, base + sum(h for a, b, h in episodes if a <= now < b) + draw.uniform(-1, 1))
        )
        mean += (value - mean) * (1 - math.exp(-5 / 60))
        felt.append(value)
        read.append(mean)
    return (lambda t: felt[int(t // 5)]), (lambda t: read[int(t // 5)])


class TenMinuteLevel(LoadTrace):
    """The load forecast before the one shipped (issue #69's live runs were made with it), kept to
    compare with: the recent load for three minutes, then the median of the last ten minutes' samples
    for the rest of the horizon. It read those runs 0.52-1.79 and 0.55-1.45 of the time left, as
    others' load fell from 7-11 to 2-5 when their runs began (lab/first-run-timings.md)."""

    PERSISTS_SECONDS, LEVEL_SECONDS = 180.0, 600.0

    def ahead(self, now: float, horizon: float) -> Optional[float]:
        recent = self.recent(now)
        if recent is None or horizon <= self.PERSISTS_SECONDS:
            return recent
        with self._lock:
            first = max(0, bisect.bisect_right(self._at, now - self.LEVEL_SECONDS) - 1)
            window = sorted(self._load[first : bisect.bisect_right(self._at, now)] or self._load[-1:])
        level = window[len(window) // 2]
        return (self.PERSISTS_SECONDS * recent + (horizon - self.PERSISTS_SECONDS) * level) / horizon


def _records() -> list[Record]:
    return sorted(read_log(QUIET_RUN), key=lambda r: (r.started or "~", r.job))


@dataclasses.dataclass(frozen=True)
class Replay:
    seconds: float  # how long the simulated run took
    ratios: dict[float, float]  # fraction of the run -> the time really left / ETA


def _replay(
    load: Callable[[float], float],
    k: float = K,
    learn: bool = True,
    felt: Optional[Callable[[float], float]] = None,
    host: float = 1.0,
    ahead: bool = True,
    forecast: Callable[[], LoadTrace] = LoadTrace,
) -> Replay:
    """The quiet run's jobs under `load`, each stretched as the module docstring says; the estimator
    fed as `Progress` feeds it (the load sampled into a LoadTrace, each job's end with the mean load
    over its span) and read at every 5 % of the run. `felt`: the load that stretches the jobs, where it
    is not the one the estimator reads (`_episodes`); `host`: how much slower than the publication
    host this one is at any load (its computing stages); `ahead` False: the estimate carries the
    recent load over all that is left, as before `LoadTrace.ahead`; `forecast`: the LoadTrace whose
    `ahead` it takes (`TenMinuteLevel`: the forecast before the one shipped)."""
    records = _records()
    floors = stage_times.floors(records)
    factor = lambda t: max(1.0, load(t) / CORES)  # noqa: E731
    felt_factor = factor if felt is None else (lambda t: max(1.0, felt(t) / CORES))  # noqa: E731

    # The run, on a simulated clock: job id -> (start, end).
    spans: dict[str, tuple[float, float]] = {}
    queue, running, t = list(records), {}, 0.0  # running: job id -> [record, fraction done, start]
    while queue or running:
        while queue:
            timed = queue[0].stage in TIMED
            busy = any(r.stage in TIMED for r, _, _ in running.values())
            if (timed and running) or (not timed and (len(running) >= SLOTS or busy)):
                break
            record = queue.pop(0)
            running[record.job] = [record, 0.0, t]
        stretch = felt_factor(t)
        for job, state in list(running.items()):
            record = state[0]
            quiet = max(float(record.seconds or 0.0), 0.01)
            floor = min(floors.get(job, 0.0), quiet)
            power = INSTALL_K if record.stage == "install" else k * _relative(record.stage, quiet - floor)
            slower = 1.0 if record.stage == "install" else host
            state[1] += TICK / (floor + (quiet - floor) * slower * stretch**power)
            if state[1] >= 1.0:
                spans[job] = (state[2], t + TICK)
                del running[job]
        t += TICK
    end = max(finish for _, finish in spans.values())

    # The estimator, read at every 5 % of it.
    basis = StageTimes.from_json(json.loads(BASIS.read_text()))
    jobs = [Job(r.stage, r.cell, (), r.labels, ENV) for r in records]
    estimates = Estimates.of(jobs, {}, TIMED, SLOTS, published=basis, load=factor(0.0))
    trace = forecast()
    ends = sorted(spans.items(), key=lambda kv: kv[1][1])
    readings = [round(0.25 + 0.05 * i, 2) for i in range(15)]  # 25 % .. 95 %
    ratios: dict[float, float] = {}
    clock, done = 0.0, 0
    for fraction in readings:
        moment = fraction * end
        while clock <= moment:
            while done < len(ends) and ends[done][1][1] <= clock:
                job, (start, finish) = ends[done]
                if learn:
                    estimates.factor.load = trace.recent(finish) or estimates.factor.load
                    estimates.finished(job, finish - start, trace.mean(start, finish))
                done += 1
            if learn:
                trace.note(factor(clock), clock)
            clock += SAMPLE
        pending = [job for job, (start, _) in spans.items() if start > moment]
        started = {job: start for job, (start, finish) in spans.items() if start <= moment < finish}
        if learn and ahead:
            left = estimates.left_ahead(trace, pending, started, moment)
        else:
            estimates.factor.load = (trace.recent(moment) if learn else None) or estimates.factor.load
            left = estimates.left(pending, started, moment)
        ratios[fraction] = (end - moment) / left  # issue #69's measure: real left / ETA
    return Replay(end, ratios)


def test_the_model_lasts_as_long_as_the_newcomers_run() -> None:
    """K is the newcomer's: under the rising trace the quiet run's jobs take what their run took."""
    quiet, loaded = _replay(TRACES["quiet"]).seconds, _replay(TRACES["rising"]).seconds
    assert abs(quiet - (14 * 60 + 11)) < 60  # the quiet run, replayed at load 1, is itself
    assert abs(loaded - NEWCOMER_SECONDS) < 120, f"{loaded / 60:.1f} min"


@pytest.mark.parametrize("trace", sorted(TRACES))
def test_from_a_quarter_of_the_run_on_the_eta_is_within_25_percent(trace: str) -> None:
    replay = _replay(TRACES[trace])
    shown = {f"{f:.0%}": round(r, 2) for f, r in replay.ratios.items()}
    print(trace, f"{replay.seconds / 60:.1f} min", shown)
    assert all(0.75 <= r <= 1.25 for r in replay.ratios.values()), shown


@pytest.mark.parametrize("k", [0.4, 1.2])
def test_a_load_that_hits_softer_or_harder_is_learned(k: float) -> None:
    """The estimator is not fitted to K: the same rising load, hitting as L**0.4 (three busy loops in
    a session of their own hit a loaded first run about so: L**0.35) or as L**1.2 (harder than
    processor sharing)."""
    replay = _replay(TRACES["rising"], k)
    shown = {f"{f:.0%}": round(r, 2) for f, r in replay.ratios.items()}
    print(k, f"{replay.seconds / 60:.1f} min", shown)
    assert all(0.75 <= r <= 1.25 for r in replay.ratios.values()), shown


def test_an_estimator_that_does_not_learn_fails_the_replay() -> None:
    """The replay can fail: the estimate made at the start (the load of its moment, 4.0, nothing
    finished), only counting down, reads about half the time left, as the newcomer's did (but when a
    running job has overrun its own: `Estimates.left`): real left / ETA about 2 (1.0-2.5)."""
    ratios = list(_replay(TRACES["rising"], learn=False).ratios.values())
    assert statistics.median(ratios) > 1.6 and sum(r > 1.25 for r in ratios) >= len(ratios) - 2


@pytest.mark.parametrize("host", [0.7, 1.5, 2.0])
def test_a_host_slower_or_faster_than_the_publications_is_learned(host: float) -> None:
    """The jobs take `host` x what the load alone would make them (another CPU, a cold disk), from
    the first job on, under the rising load (first jobs slow at load 4 must not read as a load that
    hits hard, then multiplied by 9-15). A host 2x slower reads 1.18-1.27 from 25 to 60 %: a kind none
    of whose jobs finished (the runs, the peers) is expected at L**k without the excess the others
    showed (`HostFactor`); asserted within 1.3 there, 1.25 for the others."""
    replay = _replay(TRACES["rising"], 0.6 if host > 1 else K, host=host)
    shown = {f"{f:.0%}": round(r, 2) for f, r in replay.ratios.items()}
    print("rising", host, f"{replay.seconds / 60:.1f} min", shown)
    assert all(0.75 <= r <= (1.3 if host >= 2 else 1.25) for r in replay.ratios.values()), shown


@pytest.mark.parametrize("host", [0.7, 1.0, 1.5])
def test_issue_69s_cold_run_within_25_percent_once_the_load_has_risen(host: float) -> None:
    """Issue #69's load (`_cold`: 3-17, a rise from 6-13 to 10-17 at 20 min). Before that rise the
    time left holds load still to come, which no estimate knows: real left / ETA 1.12-1.42 there,
    asserted within 1.45; from two minutes after it on (the recent load's window) within 25 %. Not
    asserted: a host 2x slower at any load, hit as L**0.6, reads 0.87-1.46 (1.43 and 1.46 at 35-40 %)."""
    replay = _replay(_cold, 0.6 if host > 1 else K, host=host)
    shown = {f"{f:.0%}": round(r, 2) for f, r in replay.ratios.items()}
    print("cold", host, f"{replay.seconds / 60:.1f} min", shown)
    risen = (1200.0 + LoadTrace.RECENT_SECONDS) / replay.seconds
    assert all(0.75 <= r <= 1.45 for r in replay.ratios.values()), shown
    assert all(0.75 <= r <= 1.25 for f, r in replay.ratios.items() if f >= risen), shown


def _episode_ratios(ahead: bool, forecast: Callable[[], LoadTrace] = LoadTrace) -> list[float]:
    ratios = []
    for seed in (69, 70, 71, 72):
        for level in (4.0, 8.0):
            felt, read = _episodes(seed, level)
            for host, k in ((1.0, 0.8), (1.5, 0.6), (0.7, 0.8), (1.0, 0.4), (1.0, 1.0)):
                ratios.extend(
                    _replay(read, k, felt=felt, host=host, ahead=ahead, forecast=forecast).ratios.values()
                )
    return ratios


def test_the_load_ahead_goes_back_from_the_recent_one_to_the_runs_mean() -> None:
    """`LoadTrace.ahead`: a two-minute burst after ten minutes at 2 is expected to pass, going back to
    the run's mean so far over `REVERTS_SECONDS`: L(h) = M + (R - M) e^(-h/tau), averaged."""
    trace = LoadTrace()
    for t in range(0, 600, 2):
        trace.note(2.0, float(t))
    for t in range(600, 720, 2):
        trace.note(6.0, float(t))
    recent, level = trace.recent(720.0), trace.since_start(720.0)
    assert recent == pytest.approx(6.0, abs=0.1)
    assert level == pytest.approx((600 * 2.0 + 120 * 6.0) / 720, abs=0.02)
    assert level == pytest.approx(trace.mean(0.0, 720.0))  # the running sum is the mean
    assert trace.ahead(720.0, 1.0) == pytest.approx(recent, abs=0.01)  # within the burst's own minutes
    tau = LoadTrace.REVERTS_SECONDS
    horizon, steps = 1800.0, 10_000  # the mean of L(h) over 30 min, summed the long way
    hs = ((i + 0.5) * horizon / steps for i in range(steps))
    summed = sum(level + (recent - level) * math.exp(-h / tau) for h in hs)
    assert trace.ahead(720.0, horizon) == pytest.approx(summed / steps, rel=1e-4)
    assert level < trace.ahead(720.0, 1800.0) < trace.ahead(720.0, 600.0) < recent
    assert LoadTrace().ahead(0.0, 600.0) is None
