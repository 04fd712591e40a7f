"""The estimate against recorded runs (issue #30): `nox -s matrix` on this machine from empty caches,
twice — tests/data/eta/first-run.jsonl (the Docker backend, one stage at a time, the load average
at ~17 from six other builds) and first-run-quiet.jsonl (host venvs, `--jobs 2`, load 1-5), each
compacted from its results.jsonl with the load average sampled beside it every 30 s. Replayed at
10 % and 50 % of its wall time with the estimator the run would have had — the published records'
stage times of then (frozen in tests/data/eta/published-stage-times.json), the load at that moment,
the factors of the stages finished by then — the estimate of what is left is within 1.5x of what was
really left. The estimator was tuned on the first run; the
second was recorded after, so it checks the estimate on a run it was not fitted to."""

from __future__ import annotations

import dataclasses
import datetime
import json
import time
from pathlib import Path
from typing import Optional

import pytest

from iree_matrix.core.model.results import Record, Status
from iree_matrix.execution import eta
from iree_matrix.execution.eta import COUPLING, LONG_CALLS, RELATIVE, Estimates, LoadTrace
from iree_matrix.execution.stage_times import StageTimes
from iree_matrix.matrix.plan import EnvSpec, Job

DATA = Path(__file__).resolve().parents[1] / "data" / "eta"
ENV = EnvSpec("runtime", "3.11", (), "r")
CORES = 2  # the machine the run was recorded on
TIMED = {"export", "run", "peer"}  # the runs' timed stages (they run alone; the first two had no peer)


def _t(iso: str) -> float:
    return datetime.datetime.fromisoformat(iso).timestamp()


# name -> (its files' stem, backend, --jobs it ran with, the published stage times it is replayed with)
RUNS = {
    "loaded-docker": ("first-run", "docker", 1, "published-stage-times.json"),
    "quiet-venv": ("first-run-quiet", "venv", 2, "published-stage-times.json"),
    # `nox -s matrix` from empty caches beside three busy loops (load 5-6 on 2 cores, 2026-11-25
    # 23:07-23:25): the first run's ETA read 1.6-5x the time left (its peer jobs took the published
    # four-peer jobs' times); replayed with the stage times once the quiet default run was published
    # (results/first-run/), which was recorded after it: the run is out of the basis' sample.
    "loaded-venv": ("first-run-trial", "venv", 2, "published-stage-times-trial.json"),
    # Two more such runs (2026-11-26 00:28-00:45 and 00:48-01:08, load median 5.4 and 5.1), read off
    # their console logs (`first-run-trial2/3`: each job from its start line to its end line, whole
    # seconds; labels and outcomes as the first's): live, their ETA read 0.81-1.44 and 0.73-1.05 of
    # the time left. Their short runs took 1.0-1.04x their quiet time, the Whisper encoder's 1.4-1.5x:
    # the runs' benchmark floor (`StageTimes.floor`), which the basis did not know then.
    "loaded-venv-2": ("first-run-trial2", "venv", 2, "published-stage-times-trial.json"),
    "loaded-venv-3": ("first-run-trial3", "venv", 2, "published-stage-times-trial.json"),
    # The first run with the floor shipped (2026-11-26 02:00-02:17, three busy loops, load median 4.6,
    # 16.9 min), read off its console log the same way: live, its ETA read 0.94-1.08 from 25 % on.
    "loaded-venv-4": ("first-run-trial4", "venv", 2, "published-stage-times-trial.json"),
    # And once more (02:19-02:37, three busy loops and the unit tests for its first seven minutes, load
    # median 4.7, at most 6.3, 18.6 min), compacted from its results.jsonl: live 0.95-1.03 from 25 % on.
    "loaded-venv-5": ("first-run-trial5", "venv", 2, "published-stage-times-trial.json"),
    # Issue #69's bar, live: `nox -s matrix` from a fresh clone and an empty cache (2026-11-27
    # 08:33-08:58, 24.8 min) beside the other helpers' tests and builds, load median 6.1 (0.65-11.9, the
    # 1-minute load average every 10 s), with the stage times it shipped with. Its own ETA lines read
    # real left / ETA 0.32-1.33 from 25 % on, 5 of 15 points within 0.75-1.25 (lab/first-run-timings.md).
    "live69": ("first-run-live69", "venv", 2, "published-stage-times-live69.json"),
    # And again with a run's rest and long calls hit less than a compile (`eta.RELATIVE`, commit 700c01c;
    # 09:01-09:28, 26.6 min, load median 8.1, 2.2-11.4): its lines read 0.58-1.49, 5 of 15. The same
    # stage times (its jobs' published times did not change).
    "live69b": ("first-run-live69b", "venv", 2, "published-stage-times-live69.json"),
    # A third, with the load ahead going back to the run's mean (`LoadTrace.ahead`, commit bb6d48b;
    # 11:15-11:55, 39.5 min, load median 7.8, 10-90 % 3.8-10.8, at most 13.3): its lines read 1.16-3.15,
    # 2 of 15 — other sessions' timed stages held the machine's quiet lock for 11 of its minutes.
    "live69c": ("first-run-live69c", "venv", 2, "published-stage-times-live69c.json"),
    # A fourth, with the quiet lock's waits to come (`LockWaits`, commit 5bfb469; 14:17-14:41, 23.9 min,
    # load median 5.0, 10-90 % 2.4-6.6, at most 6.9), beside the lead's advise sittings and a kernel
    # matrix's runs, which held the quiet lock in turns: its lines read 0.58-1.20, 9 of 15.
    "live69d": ("first-run-live69d", "venv", 2, "published-stage-times-live69d.json"),
    # A fifth, with the lock's holder's rest counted once (commit d3d943a's tree, before 03bd1b7; 17:39-18:07,
    # 27.5 min, load median 4.3, 10-90 % 3.1-4.8, at most 5.3), beside two helpers' advise sittings
    # and exports of their own models, which held the quiet lock in turns: its lines read 0.66-1.45, 9 of 15.
    "live69e": ("first-run-live69e", "venv", 2, "published-stage-times-live69e.json"),
    # A sixth, of the same tree as merged (31a917f; 18:44-18:59, 15.1 min) with the quiet lock to itself:
    # no other session ran, two busy loops beside it (load median 3.6, 2.6-5.7): its lines read
    # 0.86-1.06, 15 of 15. The same stage times as the fifth.
    "live69f": ("first-run-live69f", "venv", 2, "published-stage-times-live69e.json"),
    # A seventh, at a higher load (81ce323; 20:24-20:54, 29.3 min): six busy loops beside it and two
    # helpers' edits and unit tests, no other timed stage (load median 10.0, 10-90 % 8.6-12.2, at most
    # 13.5). The same stage times as the fifth.
    "live69g": ("first-run-live69g", "venv", 2, "published-stage-times-live69e.json"),
}


def _recorded(name: str) -> list[Record]:
    rows = [json.loads(line) for line in (DATA / f"{name}.jsonl").read_text().splitlines()]
    return [
        Record(r["job"], r["stage"], r["cell"], "k", Status(r["status"]), r["labels"], seconds=r["seconds"],
               started=r["started"], finished=r["finished"], blocked_by=r["blocked_by"],
               env={"backend": r["backend"]})
        for r in rows
    ]  # fmt: skip


def _load_at(moment: float, day: str, name: str) -> float:
    samples = []
    for line in (DATA / f"{name}-load.txt").read_text().splitlines():
        clock, load = line.split()
        samples.append((_t(f"{day}T{clock}+00:00"), float(load)))
    before = [load for when, load in samples if when <= moment] or [samples[0][1]]
    return max(1.0, before[-1] / CORES)


def _published(basis: str = "published-stage-times.json") -> StageTimes:
    """The published records' stage times the estimator was checked with, frozen (a file beside the
    recorded runs): the test is of the estimator; newer published sets (re-timed on a quieter host)
    change what a real run is told, which is data, not logic."""
    return StageTimes.from_json(json.loads((DATA / basis).read_text()))


# How each stage's time grew with the load in the loaded first run lab/first-run-timings.md
# describes, against the same jobs in the quiet run (each stage's total: exports 20x, compiles 8.4x,
# runs 3.6x at a load factor of ~8.4: L**k); the estimator takes them as the Docker backend's
# relation between stages (`progress.RELATIVE`), not as the exponents themselves, which it learns.
# `test_the_measured_exponents_are_the_recorded_runs` derives them.
MEASURED_K = {"export": 1.41, "compile": 1.0, "run": 0.6}
LOAD_6 = 6.0  # the issue's load: its median was 6.3 on this 2-core machine


def _at_load_6() -> list[Record]:
    """The quiet run's jobs (load 1) as they would have run at load 6 one at a time: each job's time
    grown as its stage grew with the load (`MEASURED_K`, others 0.5), back to back in the order
    they started. Its load samples read 6 throughout."""
    factor = LOAD_6 / CORES
    at = _t(min(r.started for r in _recorded("first-run-quiet") if r.started))
    out = []
    for r in sorted(_recorded("first-run-quiet"), key=lambda r: (r.started or "~", r.job)):
        if not r.started:  # never ran (blocked): no time
            out.append(r)
            continue
        seconds = (r.seconds or 0.0) * factor ** MEASURED_K.get(r.stage, 0.5)
        iso = lambda t: datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat()  # noqa: E731
        out.append(dataclasses.replace(r, seconds=seconds, started=iso(at), finished=iso(at + seconds)))
        at += seconds
    return out


def estimate_at(fraction: float, run: str = "loaded-docker") -> tuple[float, float]:
    """(estimated, real) seconds left at `fraction` of the recorded run's wall time."""
    basis = "published-stage-times.json"
    if run == "load-6":  # grown as the Docker run's stages grew: replayed with that backend's relation
        records, jobs_at_once, backend = _at_load_6(), 1, "docker"
        load_at = lambda moment: LOAD_6 / CORES  # noqa: E731
    else:
        name, backend, jobs_at_once, basis = RUNS[run]
        records = _recorded(name)
        day = records[0].started[:10]
        load_at = lambda moment: _load_at(moment, day, name)  # noqa: E731
    start = min(_t(r.started) for r in records if r.started)
    end = max(_t(r.finished) for r in records if r.finished)
    moment = start + fraction * (end - start)
    jobs = [Job(r.stage, r.cell, (), r.labels, ENV) for r in records]
    estimates = Estimates.of(jobs, {}, TIMED, jobs_at_once, published=_published(basis), backend=backend,
                             load=load_at(start))  # fmt: skip
    now, running, pending = time.monotonic(), {}, []
    for r in sorted(records, key=lambda r: _t(r.finished)):
        if _t(r.finished) <= moment:
            estimates.factor.load = load_at(_t(r.finished))  # as Progress.finished measures it
            if r.started:
                estimates.finished(r.job, r.seconds)
        elif r.started and _t(r.started) <= moment:
            running[r.job] = now - (moment - _t(r.started))
        else:
            pending.append(r.job)
    estimates.factor.load = load_at(moment)
    return estimates.left(pending, running), end - moment


@pytest.mark.parametrize(
    "run", sorted(set(RUNS) - {"live69", "live69b", "live69c", "live69d", "live69e", "live69f"})
)  # own tests below
@pytest.mark.parametrize("fraction", [0.1, 0.5])
def test_the_estimate_is_within_one_and_a_half_times_the_real_remainder(fraction: float, run: str) -> None:
    estimated, real = estimate_at(fraction, run)
    assert real / 1.5 <= estimated <= real * 1.5, (
        f"{run} at {fraction:.0%}: {estimated / 60:.1f} min vs {real / 60:.1f}"
    )


# Issue #52's bar: from the first quarter of the run on, the ETA within 25 % of the time left — at
# every 5 % of the run, not at a few chosen points. From 25 % on (ETA / time left):
#   quiet (load 1, --jobs 2), to 90 %:  0.95 1.05 1.06 1.12 1.05 0.91 1.02 0.96 0.95 0.86 0.85 0.88 1.02 1.04
#   load 6 (the quiet jobs, one at a time, grown as the loaded run's stages grew), to 90 %:
#     0.89 0.89 1.12 1.14 1.18 1.16 1.16 1.08 1.10 0.83 0.95 0.88 0.92 0.80
#   loaded (load ~17 on 2 cores), to 75 %: 1.10 1.09 1.20 1.19 1.16 1.11 1.04 1.03 0.88 0.81 0.89
#   loaded venv (the real first run at load 5-6), to 90 %: 1.15 1.20 1.21 0.99 1.02 0.89 0.88 0.85 0.93 0.92
#     0.98 1.04 1.23 1.10. With the published stage times it ran with (no time of the default's two-peer
#     jobs), it read 1.6-2.2 to 62 %, then 2.8-5; with a job's quiet time taken over sittings whatever
#     they measured, 1.27 and 1.39 at 80/85 % (the Whisper encoder's run: 19 s before runs also took one
#     thread's CPU time, 53 s since, under one job id).
# Before each job's basis was its quiet time (`stage_times.quiet_times`; it was the newest published
# record's) and the stages' load exponents their total time's (they were their median job's), load 6
# read 1.42 and 1.37 at 35/40 %: its pending compiles' newest published times (YOLOX's 79-88 s) were
# 2.4x what this host took quiet (35-37 s) while the first compiles here matched theirs. Past 75 % of
# the loaded run its last jobs, the Whisper encoder's runs, took 5-9x their basis where the stage's
# other runs took 1-4x: 0.72, 0.62, 0.52 at 80/85/90 % (said in HostFactor's docstring; not asserted:
# a factor by job size fitted to them put the quiet and load-6 replays out of bounds).
# With each run's benchmark floor (`StageTimes.floor`, `Estimates.finished`), the three real loaded
# runs read: loaded venv 1.05 1.08 1.08 1.08 1.11 1.07 1.07 1.05 1.11 1.14 1.11 1.10 1.16 1.10;
# the second 0.99 1.00 0.98 0.95 0.96 0.97 0.98 0.99 1.06 1.03 1.04 1.03 1.03 1.12; the third, to 80 %,
# 0.95 0.96 0.95 0.91 0.89 1.15 0.88 0.85 0.89 0.85 0.81 0.76, then 0.74 at 85 %: its nine ONNX
# Runtime peer jobs, the last three minutes, took 1.81x their quiet time where the other two sittings'
# took 1.20x and 1.32x at the same load (a peer sensitivity fitted to it puts the first out of bounds:
# not fitted). Without the floor the third read 0.74-0.94 from 40 % on: its encoder runs were estimated
# by the 7-s runs' 1.0x.
# The fourth, the first run with the floor shipped (out of every fit here): 0.99 1.02 1.03 0.99 0.99 0.97
# 0.99 0.99 1.05 1.06 1.07 1.06 1.09 1.15; the fifth 1.01 1.02 1.02 1.00 0.98 0.96 0.98 0.97 1.02 1.03
# 1.02 1.00 1.00 0.99.
# With the load's hit learned as the run goes (`HostFactor.coupling`, issue #61: a newcomer's run at
# load 10 read 0.47-0.78 with per-stage exponents fitted to the Docker run), from 25 %: loaded venv
# 1.10 1.12 1.08 1.07 1.11 1.05 1.04 1.02 1.04 1.06 1.06 1.07 1.11 0.99; the second 0.97-1.07; the
# third, to 80 %, 1.00 1.00 1.00 0.95 0.91 0.97 0.91 0.87 0.87 0.84 0.81 0.76; the fourth 1.01-1.12;
# the fifth 0.95-1.10; quiet 0.78-1.22; load 6, replayed with the Docker backend whose stages it grows
# as (`progress.RELATIVE`), 0.81-1.20 (with host venvs' relation, every stage alike, 1.49-1.63 to
# 55 %: that relation does not hold there). The Docker run reads 1.35-1.61 from 25 to 50 %, 1.22 1.22
# 0.98 0.83 1.01 from 55 %: two of its exports ran into the then 300-s timeout, and the 12 compiles
# and runs behind them, which never ran, count as pending until the timeouts end (left out, it reads
# 0.74-1.11 from 25 %); the exponents fitted to it read 1.09-1.20 by underestimating each job
# (exports 12x where they took 16-21x), which made up for those jobs.
# Read as issue #69 reads it (real left / ETA, the inverse of the figures above), the third run's 80 %
# is 1.31 with every stage alike and 1.32 with a run's rest and long calls hit less (`eta.RELATIVE`):
# out of the band either way (its peers, above); it is held to 75 %. From 25 % on, real left / ETA:
# quiet 0.85-1.25, load 6 0.83-1.24, loaded venv 0.90-1.06, the second 0.91-1.09, the third 1.08-1.23
# to 75 %, the fourth 0.88-1.06, the fifth 0.96-1.10; the Docker run 0.82-1.20 from 55 to 75 %.
HELD = {
    "quiet-venv": (0.25, 0.9),
    "load-6": (0.25, 0.9),
    "loaded-docker": (0.55, 0.75),
    "loaded-venv": (0.25, 0.9),
    "loaded-venv-2": (0.25, 0.9),
    "loaded-venv-3": (0.25, 0.75),
    "loaded-venv-4": (0.25, 0.9),
    "loaded-venv-5": (0.25, 0.9),
}


@pytest.mark.parametrize("run", sorted(HELD))
def test_from_the_first_quarter_on_the_estimate_is_within_25_percent(run: str) -> None:
    """Issue #52: at load 6 a first run's ETA was 0.58-0.78 of the time left. Read as issue #69's bar
    reads it: the time really left over the ETA, within 0.75-1.25."""
    first, last = HELD[run]
    steps = round((last - first) / 0.05) + 1
    ratios = {}
    for fraction in (first + 0.05 * i for i in range(steps)):
        estimated, real = estimate_at(fraction, run)
        ratios[f"{fraction:.0%}"] = real / estimated
    print(run, {at: round(r, 2) for at, r in ratios.items()})
    shown = {at: round(r, 3) for at, r in ratios.items()}
    assert all(0.75 <= ratio <= 1.25 for ratio in ratios.values()), shown


def test_the_measured_exponents_are_the_recorded_runs() -> None:
    """`MEASURED_K` (what the load-6 replay grows the quiet jobs by) is each stage's total time in the
    loaded run over the same jobs' in the quiet run, as a power of the loaded run's load factor."""
    import math
    import statistics

    loaded = _recorded("first-run")
    quiet = {r.job: r for r in _recorded("first-run-quiet")}
    samples = [float(line.split()[1]) for line in (DATA / "first-run-load.txt").read_text().splitlines()]
    factor = statistics.median(samples) / CORES
    for stage, k in MEASURED_K.items():
        pairs = [(quiet[r.job].seconds, r.seconds) for r in loaded
                 if r.stage == stage and r.job in quiet and r.seconds and quiet[r.job].seconds]  # fmt: skip
        grown = sum(b for _, b in pairs) / sum(a for a, _ in pairs)
        assert math.log(grown) / math.log(factor) == pytest.approx(k, abs=0.03), stage


def test_a_runs_benchmark_floor_is_not_stretched_and_teaches_nothing() -> None:
    """A 7.5-s run of which 6 s are the benchmark's min time is expected to take 6 s + 1.5 s x the
    factor; finishing, it does not move the factor (its stretch is a second or two of jitter), while
    a long run's does, by the part beyond its floor."""
    labels = {"model": "m"}
    short, long_ = (Job("run", cell, (), labels, ENV) for cell in ("short", "long"))
    published = StageTimes({short.id: 7.5, long_.id: 53.0}, {}, {"run": 7.5}, {short.id: 6.0})
    estimates = Estimates.of([short, long_], {}, TIMED, 1, published=published, load=4.0)
    relative = RELATIVE["venv"]  # a run of long calls is hit less than a short run's rest
    felt = 4.0 ** (COUPLING * relative["run"])  # nothing finished yet
    assert estimates.expected(short.id) == pytest.approx(6.0 + 1.5 * felt)
    assert estimates.expected(long_.id) == pytest.approx(53.0 * 4.0 ** (COUPLING * relative[LONG_CALLS]))
    estimates.finished(short.id, 30.0)  # far past its estimate: jitter of a floor, not the host
    assert estimates.factor.samples == 0
    estimates.finished(long_.id, 2 * estimates.expected(long_.id))
    assert estimates.factor.samples == 1
    assert estimates.expected(short.id) > 6.0 + 1.5 * felt  # the long run's 2x reaches the short's rest


def _samples(name: str, day: str) -> list[tuple[float, float]]:
    """The load factor sampled beside a recorded run: (epoch seconds, load average / CPUs, at least 1)."""
    rows = (line.split() for line in (DATA / f"{name}-load.txt").read_text().splitlines())
    return [(_t(f"{day}T{clock}+00:00"), max(1.0, float(load) / CORES)) for clock, load in rows]


class _Foresight(LoadTrace):
    """A load trace that knows the load to come: `ahead` is the mean of what was sampled over the time
    the estimate says is left, so the estimate's error is the model's, not the forecast's."""

    def __init__(self, samples: list[tuple[float, float]]) -> None:
        super().__init__()
        self._samples = samples

    def ahead(self, now: float, horizon: float) -> Optional[float]:
        came = [load for when, load in self._samples if now <= when <= now + max(horizon, 10.0)]
        return sum(came) / len(came) if came else self.recent(now)


def _without_waits(
    records: list[Record], samples: list[tuple[float, float]]
) -> tuple[list[Record], list[tuple[float, float]]]:
    """The run with its timed stages' waits for the machine's quiet lock cut out of its clock: a timed
    job's wall time beyond its `seconds` is its wait, at its start (other sessions' timed stages held
    the lock); every moment after it comes that much earlier, and the load samples taken during a
    wait are dropped. What is left is the estimate's error apart from the lock."""
    waits = sorted(
        (_t(r.started), _t(r.started) + wait)
        for r in records
        if r.started and r.finished and r.stage in TIMED
        for wait in [_t(r.finished) - _t(r.started) - (r.seconds or 0.0)]
        if wait > 1.0
    )

    def moved(when: float) -> float:
        return when - sum(min(when, until) - since for since, until in waits if when > since)

    def iso(when: float) -> str:
        return datetime.datetime.fromtimestamp(moved(when), datetime.timezone.utc).isoformat()

    cut = [
        dataclasses.replace(r, started=iso(_t(r.started)), finished=iso(_t(r.finished)))
        if r.started and r.finished
        else r
        for r in records
    ]
    kept = [(moved(when), load) for when, load in samples if not any(a <= when < b for a, b in waits)]
    return cut, kept


def _waits(records: list[Record]) -> dict[str, float]:
    """Each timed job's wait for the machine's quiet lock: its wall time beyond its own `seconds`
    (at its start; `_without_waits`), 0 where that is a second or less."""
    waits = {}
    for r in records:
        if r.started and r.finished and r.stage in TIMED:
            wait = _t(r.finished) - _t(r.started) - (r.seconds or 0.0)
            waits[r.job] = wait if wait > 1.0 else 0.0
    return waits


def live_at(
    fraction: float,
    run: str = "live69",
    foresight: bool = False,
    forecast: type[LoadTrace] = LoadTrace,
    waits: bool = True,
    lock_waits: bool = True,
    held: bool = False,
) -> tuple[float, float]:
    """(estimated, real) seconds left at `fraction` of a recorded run, the estimator fed as `Progress`
    feeds it live: the load samples into a `LoadTrace`, each job's end with the mean load over its span,
    what is left at the load ahead (`Estimates.left_ahead`, with `forecast`'s `ahead`); a timed job
    waiting for the quiet lock counts as pending, its clock starting when it has the lock, and each
    timed job that finished tells `Estimates.waits` its wait (`lock_waits` False: it does not, the
    estimate before `LockWaits`). `foresight`: the load to come is known; `waits` False: the quiet
    lock's waits cut out (`_without_waits`). The lock holder's expected rest, which `Progress.eta`
    adds while a job waits, is not recorded: without it a waiting job is expected the mean wait, as
    the estimate does where no holder says; `held` replays it as the real rest of the wait (a holder
    whose estimate was right), the waiting job then expected that once."""
    name, backend, jobs_at_once, basis = RUNS[run]
    records = _recorded(name)
    samples = _samples(name, records[0].started[:10])
    if not waits:
        records, samples = _without_waits(records, samples)
    waited = _waits(records)
    start = min(_t(r.started) for r in records if r.started)
    end = max(_t(r.finished) for r in records if r.finished)
    moment = start + fraction * (end - start)
    first = ([load for when, load in samples if when <= start] or [samples[0][1]])[-1]
    jobs = [Job(r.stage, r.cell, (), r.labels, ENV) for r in records]
    estimates = Estimates.of(jobs, {}, TIMED, jobs_at_once, published=_published(basis), backend=backend,
                             load=first)  # fmt: skip
    trace = _Foresight(samples) if foresight else forecast()
    trace.note(first, start)
    ended = [(_t(r.finished), 1, r) for r in records if r.started and _t(r.finished) <= moment]
    for when, _, event in sorted([(when, 0, load) for when, load in samples if when <= moment] + ended,
                                 key=lambda e: (e[0], e[1])):  # fmt: skip
        if isinstance(event, Record):
            estimates.factor.load = trace.recent(when) or estimates.factor.load
            began = _t(event.started or "") + waited.get(event.job, 0.0)
            estimates.finished(event.job, event.seconds, trace.mean(began, when))
            if lock_waits and event.job in waited:
                estimates.waits.note(waited[event.job], when)
        else:
            trace.note(event, when)
    running = {
        r.job: _t(r.started) + waited.get(r.job, 0.0)
        for r in records
        if r.started and _t(r.started) + waited.get(r.job, 0.0) <= moment < _t(r.finished)
    }
    pending = [
        r.job for r in records if r.job not in running and not (r.started and _t(r.finished) <= moment)
    ]
    rests = {  # a job waiting now for the lock: the rest of its wait
        r.job: _t(r.started) + waited[r.job] - moment
        for r in records
        if held and r.started and r.job in waited and _t(r.started) <= moment < _t(r.started) + waited[r.job]
    }
    pending = [job for job in pending if job not in rests]
    rest = max(rests.values(), default=0.0)
    return estimates.left_ahead(trace, pending, running, moment, list(rests), rest), end - moment


def _live_ratios(
    run: str,
    foresight: bool = False,
    forecast: type[LoadTrace] = LoadTrace,
    waits: bool = True,
    lock_waits: bool = True,
    held: bool = False,
) -> list[float]:
    """A live run, real left / ETA at every 5 % from 25 to 95 %."""
    at = (live_at(0.25 + 0.05 * i, run, foresight, forecast, waits, lock_waits, held) for i in range(15))
    return [real / estimated for estimated, real in at]


# Issue #69's two live cold runs (`RUNS`): (the least points in the band with the load that came, the
# most with every stage alike; the least point with the forecast, the most with every stage alike).
LIVE = {"live69": (12, 4, 0.55, 0.45), "live69b": (11, 8, 0.5, 0.5)}


@pytest.mark.parametrize("run", sorted(LIVE))
def test_issue_69s_live_runs_with_the_load_that_came(run: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue #69's live cold runs, replayed with the load that really came (`_Foresight`): what is
    left of the model's error. With a run's rest and long calls hit less than a compile
    (`eta.RELATIVE`), the first: 0.71-1.39, 12 of 15 points within 0.75-1.25 (25 %: 0.71, the exports'
    hosts and the compiles' first minutes; 80-85 %: 1.39 and 1.26, the ONNX Runtime peers at 2-3x
    their quiet time with the load rising again); every stage alike, as before: 0.57-1.48, 4 of 15 —
    the encoder runs expected at L**k of a compile. The second, run with the relation shipped (out of
    the sample it was measured on): 0.71-1.31, 11 of 15; alike 0.60-1.33, 8 of 15 (7 before a running
    job's overrun weighed one in n + 1 of its kind). Replayed without the
    quiet lock's waits to come (`LockWaits`), which are not the load model's error: with them the two
    read 12 and 10 of 15 (0.69-1.27, 0.71-1.29)."""
    least, alike_most, _, _ = LIVE[run]
    ratios = _live_ratios(run, foresight=True, lock_waits=False)
    print(run, "with the load that came", " ".join(f"{r:.2f}" for r in ratios))
    assert sum(0.75 <= r <= 1.25 for r in ratios) >= least and all(0.7 <= r <= 1.4 for r in ratios), ratios
    monkeypatch.setitem(eta.RELATIVE, "venv", {})
    alike = _live_ratios(run, foresight=True, lock_waits=False)
    print(run, "every stage alike", " ".join(f"{r:.2f}" for r in alike))
    assert sum(0.75 <= r <= 1.25 for r in alike) <= alike_most


@pytest.mark.parametrize("run", sorted(LIVE))
def test_issue_69s_live_runs_as_their_estimate_read_them(run: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same runs with the load forecast the estimator has (`LoadTrace.ahead`). In both the load was
    high while this run exported and compiled (others' work: ~7 before the second began) and fell to
    2-5 once its runs began (the first: ~11 from 12 to 17 min, 3-4 from 18 min; the second: 7-11 to
    17 min, 2-5 from 19 min); at 50-75 % the run's own mean load so far, which the recent load is
    expected to go back to, is itself high, and nothing in the load before says it will fall.
    Replayed, the first 0.57-1.59, 7 of 15 within 0.75-1.25 (its live lines, before the relation:
    0.32-1.33, 5 of 15), every stage alike 0.42-1.68; the second 0.57-1.36, 4 of 15 (its live lines,
    with the relation: 0.58-1.49, 5 of 15), alike 0.46-1.37. With the level of the last ten minutes
    carried over the rest (the forecast before), 0.52-1.79, 5 of 15 and 0.55-1.45, 2 of 15. With the
    quiet lock's waits to come (`LockWaits`, shipped after the third live run): 0.56-1.44, 8 of 15 and
    0.53-1.34, 4 of 15 (they waited 81 s and 39 s in all; the second's 19-s wait at 16 min lowers
    its 65 % from 0.57 to 0.53). Asserted: no point under 0.55 and 0.5, where every stage alike goes
    under 0.45 and 0.5; no point fewer in the band with the lock's waits than without; and without
    them, two points more than with the ten-minute level — not the bar."""
    from tests.unit.test_eta_replay import TenMinuteLevel

    _, _, least, alike_least = LIVE[run]
    ratios = _live_ratios(run)
    print(run, "as its estimate read it", " ".join(f"{r:.2f}" for r in ratios))
    assert min(ratios) >= least, ratios
    inside = lambda ratios: sum(0.75 <= r <= 1.25 for r in ratios)  # noqa: E731
    without = _live_ratios(run, lock_waits=False)  # the load forecasts compared apart from the lock
    assert inside(ratios) >= inside(without)
    assert inside(without) >= inside(_live_ratios(run, forecast=TenMinuteLevel, lock_waits=False)) + 2
    monkeypatch.setitem(eta.RELATIVE, "venv", {})
    assert min(_live_ratios(run)) < alike_least


def test_issue_69s_third_live_run_apart_from_the_quiet_locks_waits() -> None:
    """The third live run (`live69c`, the load ahead going back to the run's mean shipped) read 1.16-3.15
    of its ETA, 2 of 15 in the band: other sessions' advise and export stages held the machine's quiet
    lock, and its exports, runs and peers waited 650 s of its 39.5 min for it (the first two runs: ~80 s
    and ~40 s), which the estimate then counted only while a job waited (`Progress.eta`). Replayed as
    Progress saw it (a waiting job pending, its clock from its lock) without the waits to come, it
    reads so (1.17-3.27, 3 of 15), even with the load that came (1.19-3.37, 1 of 15). With the waits
    cut out of its clock (`_without_waits`): with the load that came 0.71-1.40, 12 of 15; with the
    shipped forecast 0.60-1.59, 11 of 15; with the ten-minute level before it 0.61-1.61, 9 of 15."""
    from tests.unit.test_eta_replay import TenMinuteLevel

    inside = lambda ratios: sum(0.75 <= r <= 1.25 for r in ratios)  # noqa: E731
    recorded = _live_ratios("live69c", foresight=True, lock_waits=False)
    assert inside(recorded) <= 3 and sorted(recorded)[len(recorded) // 2] > 1.4, recorded  # the waits
    came = _live_ratios("live69c", foresight=True, waits=False)
    shipped = _live_ratios("live69c", waits=False)
    before = _live_ratios("live69c", forecast=TenMinuteLevel, waits=False)
    for name, ratios in (("the load that came", came), ("shipped", shipped), ("ten-minute level", before)):
        print("live69c without its waits,", name, " ".join(f"{r:.2f}" for r in ratios))
    assert inside(came) >= 12 and inside(shipped) >= 11 and inside(shipped) > inside(before)


def test_issue_69s_third_live_run_with_the_quiet_locks_waits_to_come() -> None:
    """`LockWaits`: each pending timed job expected to wait the mean wait of the run's finished timed
    jobs. The third live run, replayed as Progress saw it: 1.01-2.30, 10 of 15 (without: 1.17-3.27, 3
    of 15); out, 25-30 % at 1.20-1.22 (its 9 exports had waited 5.4 s each, the 50 timed jobs to come
    waited 12 s each) and 70-80 % at 1.41-2.30 (the jobs done had waited 7-9 s each, the last 8-14
    were to wait 23-29 s each). Tried in the same replays (the three live runs' points in the band):
    no decay 8, 4, 10 alike; a prior of 1 job alike, of 4 jobs 8, 4, 8 with the decay, of 8 jobs 8, 4,
    8 without; a 10-min decay 8, 4, 8; per second of timed work instead of per job (each pending timed
    job's seconds stretched by waited / timed seconds so far, the try lab/first-run-timings.md names) at
    best 8, 4, 9 (with a 20-min decay 8, 3, 10)."""
    inside = lambda ratios: sum(0.75 <= r <= 1.25 for r in ratios)  # noqa: E731
    ratios = _live_ratios("live69c")
    without = _live_ratios("live69c", lock_waits=False)
    print("live69c with the lock's waits to come", " ".join(f"{r:.2f}" for r in ratios))
    print("live69c without", " ".join(f"{r:.2f}" for r in without))
    assert inside(ratios) >= 10 and inside(without) <= 3 and max(ratios) < max(without), ratios


def test_issue_69s_live_runs_count_a_waiting_jobs_wait_once() -> None:
    """A job waiting for the quiet lock now was expected both the lock holder's rest (`Progress.eta`)
    and the mean wait of the timed jobs yet to start (`LockWaits`): its wait counted twice. Now the
    holder's rest once, the mean where no holder says how long. The holder's estimate is not recorded;
    replayed as the real rest of each wait (`held`), the four live runs read 8, 4, 10, 10 of 15, against
    8, 4, 10, 9 without the holder's rest (the replay the bar is quoted from, where a waiting job's
    mean wait stands in for it); the first two had no job waiting at any 5 % point."""
    inside = lambda ratios: sum(0.75 <= r <= 1.25 for r in ratios)  # noqa: E731
    for run, least in (("live69", 8), ("live69b", 4), ("live69c", 10), ("live69d", 10)):
        ratios = _live_ratios(run, held=True)
        print(run, "with the holder's rest", " ".join(f"{r:.2f}" for r in ratios))
        assert inside(ratios) >= least and inside(ratios) >= inside(_live_ratios(run)), (run, ratios)


# The fourth live run's own ETA lines (`first-run-live69d`), real left / ETA at every 5 % from 25 %
# (`benchmarks/eta_from_log.py` on its console log: the first progress line at or after each 5 %).
LIVE69D_LINES = (1.20, 1.19, 1.12, 1.18, 1.10, 0.71, 0.80, 0.99, 0.95, 0.79, 0.73, 0.65, 0.58, 0.59, 0.73)


def test_issue_69s_fourth_live_run_with_the_quiet_locks_waits_to_come() -> None:
    """The first live run with `LockWaits` (out of every fit: the prior and the decay were chosen on the
    first three). The lead's advise sittings and a kernel matrix held the quiet lock in turns; its runs
    and peers waited 207 s in all, 193 of them runs between 8 and 13 min (one 140-s wait) and almost
    none after. Its lines read 0.58-1.20, 9 of 15; replayed as Progress saw it the same within 0.15 at
    every point (the lines' points are the first at or after each 5 %): 0.58-1.26, 9 of 15; without the
    waits to come 0.68-1.30, 10 (at 50-55 % the 140-s wait expected 8-10 s of each timed job to come,
    which then waited 1.4 s each); the waits cut out 0.58-1.13, 12; those and the load that came
    0.87-1.27, 14 (its 80-90 %, 0.58-0.70, are the load forecast: the load fell from 6-7 to 2-3 in its
    last two minutes). The four live runs: 8, 4, 10, 9 of 15 with the waits to come, 7, 4, 3, 10
    without."""
    inside = lambda ratios: sum(0.75 <= r <= 1.25 for r in ratios)  # noqa: E731
    ratios = _live_ratios("live69d")
    print("live69d with the lock's waits to come", " ".join(f"{r:.2f}" for r in ratios))
    assert all(abs(replayed - live) <= 0.15 for replayed, live in zip(ratios, LIVE69D_LINES)), ratios
    assert inside(ratios) >= 9 and inside(LIVE69D_LINES) == 9
    runs = ("live69", "live69b", "live69c", "live69d")
    with_waits = sum(inside(_live_ratios(run)) for run in runs)
    without = sum(inside(_live_ratios(run, lock_waits=False)) for run in runs)
    assert with_waits >= without + 5, (with_waits, without)


# The fifth live run's own ETA lines (`first-run-live69e`): real left / ETA at the first progress line
# at or after each 5 % from 25 %, and when each line was, in seconds of its 1648 (`eta_from_log.py`).
LIVE69E_LINES = (1.45, 1.44, 1.40, 1.31, 1.12, 1.17, 1.07, 1.10, 1.16, 1.18, 1.18, 1.27, 0.93, 0.85, 0.66)
LIVE69E_AT = tuple(
    s / 1648 for s in (412, 500, 582, 661, 756, 824, 960, 990, 1140, 1200, 1260, 1331, 1426, 1487, 1573)
)


def test_issue_69s_fifth_live_run_misses_by_the_quiet_locks_waits_alone() -> None:
    """The fifth live run (load median 4.3, 3.1-4.8: a steady load) beside two helpers' advise sittings
    and exports, which held the quiet lock in turns: its exports waited 2.2 s each (median), its runs
    and peers 4.9 s each and 418 s in all (three waits of 59-77 s), growing as the other sittings
    began — nothing the run had seen by 25 % said so. Its lines read 0.66-1.45, 9 of 15 (25-40 % at
    1.31-1.45: the waits to come expected at the exports' 2 s each); replayed at its lines' moments
    within 0.06 of each, 9 of 15. With the waits cut out, the forecast it had reads 0.77-1.25, 14 of 15;
    with the load that came as well, 0.82-1.21, 15 of 15: on this run the jobs' model and the load
    forecast held, and what missed was other sessions' turns at the lock."""
    inside = lambda ratios: sum(0.75 <= r <= 1.25 for r in ratios)  # noqa: E731
    replayed = [real / estimated for estimated, real in (live_at(f, "live69e") for f in LIVE69E_AT)]
    print("live69e at its lines' moments", " ".join(f"{r:.2f}" for r in replayed))
    assert all(abs(r - line) <= 0.08 for r, line in zip(replayed, LIVE69E_LINES)), replayed
    assert inside(replayed) == inside(LIVE69E_LINES) == 9
    cut = _live_ratios("live69e", waits=False)
    known = _live_ratios("live69e", foresight=True, waits=False)
    print("live69e, its waits cut out", " ".join(f"{r:.2f}" for r in cut))
    assert (
        inside(cut) >= 14 and inside(known) >= 14 and inside(_live_ratios("live69e", lock_waits=False)) <= 3
    )


# The sixth live run's own lines, and when each was, in seconds of its 905.
LIVE69F_LINES = (0.92, 0.91, 0.91, 0.92, 0.90, 0.89, 0.89, 0.86, 0.95, 0.94, 1.03, 1.06, 1.06, 0.95, 1.06)
LIVE69F_AT = tuple(
    s / 905 for s in (227, 277, 348, 364, 412, 455, 504, 546, 617, 660, 704, 747, 775, 822, 870)
)


def test_issue_69s_sixth_live_run_with_the_quiet_lock_to_itself_holds_the_bar() -> None:
    """Issue #69's bar where nothing else takes the machine's quiet lock: `nox -s matrix` cold from a
    fresh clone and an empty cache, two busy loops beside it (load median 3.6, 2.6-5.7), no other
    session. Its lines read real left / ETA 0.86-1.06 from 25 %, 15 of 15 within 0.75-1.25; replayed
    at its lines' moments as Progress saw it, 0.82-1.07, within 0.12 of each (no timed job waited)."""
    inside = lambda ratios: sum(0.75 <= r <= 1.25 for r in ratios)  # noqa: E731
    replayed = [real / estimated for estimated, real in (live_at(f, "live69f") for f in LIVE69F_AT)]
    print("live69f at its lines' moments", " ".join(f"{r:.2f}" for r in replayed))
    assert inside(LIVE69F_LINES) == 15 and inside(replayed) == 15
    assert all(abs(r - line) <= 0.15 for r, line in zip(replayed, LIVE69F_LINES)), replayed
    assert max(_waits(_recorded("first-run-live69f")).values()) < 2  # nothing waited for the lock


# The seventh live run's own lines, and when each was, in seconds of its 1758.
LIVE69G_LINES = (0.95, 1.02, 1.05, 1.05, 1.01, 0.42, 0.91, 0.86, 0.83, 0.96, 0.97, 0.96, 0.93, 0.90, 0.83)
LIVE69G_AT = tuple(
    s / 1758 for s in (463, 542, 617, 720, 813, 930, 974, 1083, 1147, 1257, 1336, 1410, 1496, 1591, 1683)
)


def test_issue_69s_seventh_live_run_at_load_10_and_its_straggler() -> None:
    """Issue #69's bar at a higher load: `nox -s matrix` cold from a fresh clone and an empty cache, six
    busy loops and two helpers' edits and unit tests beside it, no other timed stage (load median 10.0,
    10-90 % 8.6-12.2, at most 13.5; 29.3 min). Its lines read 0.83-1.05 from 25 %, but for one: at 53 %
    "ETA 0:32:43" for 13:48 left (0.42), while one run was held 64 s (its estimate 13 s) by a stall of
    the whole machine (the load sampler's 10-s beat missed 40 s), and every pending run of its kind was
    stretched 6x; 2 s later it ended and the ETA read 14:42. Replayed as Progress saw it, the same
    lines within 0.02; with a running job's overrun weighed as one job among those of its kind that
    finished (`Estimates.left`), that line reads 0.80: 15 of 15."""
    inside = lambda ratios: sum(0.75 <= r <= 1.25 for r in ratios)  # noqa: E731
    replayed = [real / estimated for estimated, real in (live_at(f, "live69g") for f in LIVE69G_AT)]
    print("live69g at its lines' moments", " ".join(f"{r:.2f}" for r in replayed))
    assert inside(LIVE69G_LINES) == 14 and inside(replayed) == 15
    same = [abs(r - line) <= 0.02 for r, line in zip(replayed, LIVE69G_LINES)]
    assert same.count(False) == 1 and not same[5] and 0.75 <= replayed[5] <= 0.85, replayed
    assert max(_waits(_recorded("first-run-live69g")).values()) < 2  # nothing waited for the lock


def test_a_plan_with_shorter_repetitions_expects_its_floor_shortened_as_much() -> None:
    """The published floor is at Google Benchmark's 0.5 s a repetition; a plan whose time budget gives
    its fast calls 1/6 s (`benchmark_tool.min_time`) expects a third of it, and the rest as before."""
    short = Job("run", "short", (), {"model": "m"}, ENV)
    published = StageTimes({short.id: 7.5}, {}, {"run": 7.5}, {short.id: 6.0})
    estimates = Estimates.of([short], {}, TIMED, 1, published=published, least=lambda: 1 / 6)
    assert estimates.floor[short.id] == pytest.approx(2.0)
    assert estimates.seconds[short.id] == pytest.approx(3.5)
    same = Estimates.of([short], {}, TIMED, 1, published=published)
    assert (same.floor[short.id], same.seconds[short.id]) == (6.0, 7.5)
