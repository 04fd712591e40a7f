"""Stage times: the median seconds of a set of records per job, per (stage, model) and per stage, the basis
of the progress estimate; and the published records' own, shipped as `stage_times.json` beside this module
(`bin/update_stage_times.py` or `nox -s stage_times` regenerates it; tests/unit/test_stage_times.py checks
it is current)."""

from __future__ import annotations

import dataclasses
import json
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core.model.records import Labels
from iree_matrix.core.model.results import Record, Status, latest_by_job
from iree_matrix.matrix.plan import Job
from iree_matrix.stages.benchmark_tool import MIN_TIME_SECONDS, least_of, min_time_seconds

SUMMARY = Path(__file__).with_name("stage_times.json")
DIGITS = 2  # seconds kept to the hundredth: the summary's size, not the estimate, is what it changes


@dataclasses.dataclass(frozen=True)
class StageTimes:
    """Median seconds of a set of records: per job id, per (stage, model), per stage."""

    by_job: Mapping[str, float]
    by_model: Mapping[tuple[str, str], float]
    by_stage: Mapping[str, float]
    # Per job, the seconds of it no load stretches (a run's benchmark min time, at Google Benchmark's
    # own: `own_floor`); only the published summary's, since a time measured here is never scaled.
    floor: Mapping[str, float] = dataclasses.field(default_factory=dict)
    # Per CPU identity that published timings, how much longer its jobs took than the basis (`speeds`).
    speed: Mapping[str, float] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, records: Iterable[Record]) -> StageTimes:
        jobs: dict[str, list[float]] = {}
        models: dict[tuple[str, str], list[float]] = {}
        stages: dict[str, list[float]] = {}
        for record in records:
            if isinstance(record.seconds, (int, float)) and record.seconds > 0:
                jobs.setdefault(record.job, []).append(record.seconds)
                if record.status is Status.TIMEOUT:
                    continue  # its limit, not a time: it stands for itself only (it may time out again)
                models.setdefault((record.stage, kind(record.stage, record.label)), []).append(record.seconds)
                stages.setdefault(record.stage, []).append(record.seconds)
        med = statistics.median
        return cls(
            {k: med(v) for k, v in jobs.items()},
            {k: med(v) for k, v in models.items()},
            {k: med(v) for k, v in stages.items()},
        )

    def exact(self, job: Job) -> Optional[float]:
        return self.by_job.get(job.id) or self.by_model.get((job.stage, kind(job.stage, job.label)))

    def to_json(self) -> dict[str, Any]:
        """The summary's form: sorted, seconds to `DIGITS`, by_model as [[stage, model, s], ...]."""
        return {
            "by_job": {k: round(v, DIGITS) for k, v in sorted(self.by_job.items())},
            "by_model": [[s, m, round(v, DIGITS)] for (s, m), v in sorted(self.by_model.items())],
            "by_stage": {k: round(v, DIGITS) for k, v in sorted(self.by_stage.items())},
            "floor": {k: round(v, DIGITS) for k, v in sorted(self.floor.items())},
            "speed": {k: round(v, DIGITS) for k, v in sorted(self.speed.items())},
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> StageTimes:
        return cls(
            dict(doc["by_job"]),
            {(s, m): v for s, m, v in doc["by_model"]},
            dict(doc["by_stage"]),
            dict(doc.get("floor", {})),  # a summary from before floors were kept: none
            dict(doc.get("speed", {})),
        )

    def speed_of(self, identity: str) -> float:
        """How much longer than the basis jobs take on this CPU identity: its own published factor,
        else that of the same CPU model with other flags (`machine|vendor|family|model|…`), else 1."""
        same_model = [v for k, v in sorted(self.speed.items()) if k.split("|")[:4] == identity.split("|")[:4]]
        return self.speed.get(identity) or (same_model or [1.0])[0]


def floors(records: Iterable[Record]) -> dict[str, float]:
    """Per run job, the seconds of its newest record that no load stretches (none: not named)."""
    runs: dict[str, list[Record]] = {}
    for record in records:
        if record.stage == "run":
            runs.setdefault(record.job, []).append(record)
    found = {job: min_time_seconds(_newest(rs).metrics or {}, MIN_TIME_SECONDS) for job, rs in runs.items()}
    return {job: seconds for job, seconds in found.items() if seconds > 0}


def own_floor(record: Record, floor: Mapping[str, float]) -> float:
    """The floor of `record`'s job at the min time its own repetitions had."""
    return floor.get(record.job, 0.0) * least_of(record.metrics or {}) / MIN_TIME_SECONDS


def kind(stage: str, label: Labels) -> str:
    """What a job's time is typical of, beside its stage: its model's function; for a peer job also the
    peers it runs (four peers' conversions take minutes where two take seconds)."""
    return f"{label.model} [{label.peers}]" if stage == "peer" and label.peers else str(label.model)


def of_published(logs: Iterable[Sequence[Record]]) -> StageTimes:
    """The stage times of the published logs: per (stage, model) and per stage the median of each job's
    newest record; per job its `quiet_times` over every sitting that published it. A run that was
    checked and not timed is left out: the estimate takes its share of the timed one (eta.CHECKED_SHARE)."""
    newest: list[Record] = []
    every: list[Record] = []
    for records in logs:
        records = [
            r for r in records if (r.stage, r.status) != ("run", Status.OK) or "latency_ms" in r.metrics
        ]
        every += records
        newest += latest_by_job(records).values()
    speed = speeds(every, floor := floors(every))

    def at_basis(r: Record) -> Record:  # in the fastest identity's time (the estimate scales it back)
        if (factor := speed.get(r.host.identity, 1.0)) == 1.0 or not r.seconds:
            return r
        fixed = min(own_floor(r, floor), r.seconds)
        return dataclasses.replace(r, seconds=fixed + (r.seconds - fixed) / factor)

    # a job's, a model's and a stage's time alike in the fastest identity's
    quiet = quiet_times(at_basis(r) for r in every)
    return dataclasses.replace(StageTimes.of(map(at_basis, newest)), by_job=quiet, floor=floor, speed=speed)


SPEED_JOBS = 10  # the fewest jobs shared with another identity a factor is read from


def speeds(every: Iterable[Record], floor: Mapping[str, float]) -> dict[str, float]:
    """Per CPU identity, the median over its compiles and runs that another identity also published
    of its own quiet time over the fastest identity's, beyond the run's floor; an identity with fewer
    than `SPEED_JOBS` such jobs is not named."""
    own: dict[str, dict[str, float]] = {}  # identity -> job -> its quiet time beyond the floor
    for r in every:
        if r.stage in ("compile", "run") and r.status is Status.OK and r.host.known and not r.host.legacy:
            own.setdefault(r.host.identity, {})[r.job] = own_floor(r, floor)
    for identity, jobs in own.items():
        mine = quiet_times(r for r in every if r.job in jobs and r.host.identity == identity)
        jobs.update({job: mine[job] - fixed for job, fixed in jobs.items()})
    fastest = {job: min(o[job] for o in own.values() if job in o) for jobs in own.values() for job in jobs}
    shared = Counter(job for jobs in own.values() for job in jobs)
    ratios = {
        i: [o[j] / fastest[j] for j in o if shared[j] > 1 and fastest[j] >= 1.0] for i, o in own.items()
    }
    return {identity: statistics.median(r) for identity, r in ratios.items() if len(r) >= SPEED_JOBS}


QUIET_QUANTILE = 0.25


def quiet_times(every: Iterable[Record]) -> dict[str, float]:
    """Per job, the lower quartile of its seconds over the published sittings that did what its newest
    sitting did (the same outcome and the same metrics recorded: a run that also takes `cpu_ms` does a
    second timed pass). Such records repeat the same work, so their spread is each sitting's load, which
    only adds: the lower quartile is near the quiet time for every job, so one host factor scales them all."""
    records: dict[str, list[Record]] = {}
    for record in every:
        if isinstance(record.seconds, (int, float)) and record.seconds > 0:
            records.setdefault(record.job, []).append(record)
    quiet: dict[str, float] = {}
    for job, found in records.items():
        newest = _newest(found)
        kept = sorted(
            float(r.seconds or 0.0)
            for r in found
            if r.status is newest.status and set(r.metrics or {}) == set(newest.metrics or {})
        )
        quiet[job] = kept[int(QUIET_QUANTILE * (len(kept) - 1))]
    return quiet


def _newest(records: Iterable[Record]) -> Record:
    """A job's newest record, by when it finished (the published logs are read in path order)."""
    return max(records, key=lambda r: r.finished or "")


def render(times: StageTimes) -> str:
    """The summary file's text: one key a line, so a re-publication's diff is readable."""
    return json.dumps(times.to_json(), indent=0, sort_keys=True) + "\n"


def published() -> StageTimes:
    """The shipped summary of the published records' stage times, the basis for jobs never run here (empty
    when an install lacks it)."""
    try:
        return StageTimes.from_json(json.loads(SUMMARY.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return StageTimes({}, {}, {})
