"""Which release should I use? Per model, each release's outcome and figures, the newest passing, the
fastest beyond noise (and what decided it) and the smallest module. Pure: records in, plain data out;
every answer names the job ids of the cells it rests on.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Optional

from iree_matrix.core.errors import EnvironmentFault
from iree_matrix.core.model import stats
from iree_matrix.core.model.metrics.compile import CompileMetrics
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import paired
from iree_matrix.findings.runs_view import (
    NOISE_RATIO,
    NOISY_LOAD,
    Runs,
    grouped_by,
    identified,
    measured,
    sorted_versions,
    timing,
    version_key,
    why,
)
from iree_matrix.iree import hints


@dataclasses.dataclass(frozen=True)
class FunctionTiming:
    """One function's latency per call on a release, as the answers show it."""

    function: str
    ms: float  # the median
    noisy: bool
    measured: str  # when and where (`measured`)
    why_noisy: str = ""


@dataclasses.dataclass(frozen=True)
class ReleaseResult:
    compiler: str
    passes: bool  # every function compiled, ran and matched torch (runtime = same)
    latency_ms: Optional[float]  # sum of the functions' medians (None unless all ran)
    noisy: bool
    module_bytes: Optional[int]
    evidence: tuple[str, ...]
    failed: tuple[str, ...]  # job ids of the stages that failed (the compile, not its not-run runs)
    why: tuple[str, ...] = ()  # one line per failed stage, uncut: "compile: failed to legalize …"
    # The sum of the functions' one-thread CPU time per call (None unless every run measured it):
    # what "fastest" is decided on where present, as the load moves it least.
    cpu_ms: Optional[float] = None
    # What to do about each failure a known signature matches (iree/hints.py), in `why`'s order.
    hints: tuple[str, ...] = ()
    # Not passing, yet nothing of it failed (a stage never run): no evidence either way, listed apart.
    not_run: bool = False
    # How the release was fed where the exporter's own MLIR did not compile or pass there: "linalg
    # lowered by 20231113.707" (`with_lowered`); "" for the exporter's MLIR itself.
    via: str = ""
    # Each function's own figure where every function passed: a prefill and a decode step are two
    # figures, not one sum, and each says when and where it was measured.
    timings: tuple[FunctionTiming, ...] = ()


@dataclasses.dataclass(frozen=True)
class Recommendation:
    model: str
    functions: tuple[str, ...]
    releases: tuple[ReleaseResult, ...]  # oldest first
    newest_passing: Optional[ReleaseResult]
    fastest: Optional[ReleaseResult]  # only when faster than the newest passing beyond noise
    fastest_ratio: Optional[float]
    smallest: Optional[ReleaseResult]
    # What "fastest" was decided on (`FASTEST_PAIRED` "on" a CPU, or `FASTEST_SITTING`), named or
    # not; "" when nothing could decide it (`_fastest`).
    fastest_basis: str = ""


def release_results(runs: Runs, functions: Sequence[str], exporter: str) -> list[ReleaseResult]:
    out = []
    for compiler in sorted_versions(c for (f, e, c) in runs.compiles if f in functions and e == exporter):
        cells = [
            (f, runs.same(f, exporter, compiler), runs.compiles.get((f, exporter, compiler)))
            for f in functions
        ]
        passing = [run is not None and run.status is Status.OK for _, run, _ in cells]
        passes = all(passing)
        timings = [timing(run) for _, run, _ in cells]
        sizes = [c.metric.of(CompileMetrics).module_bytes if c is not None else None for _, _, c in cells]
        evidence = tuple(r.job if (r := run or c) else f"{f}@{compiler}" for f, run, c in cells)
        causes = [
            runs.index.cause(r) for (_, run, c), ok in zip(cells, passing) if not ok and (r := run or c)
        ]
        out.append(
            ReleaseResult(
                compiler=compiler,
                passes=passes,
                latency_ms=_total([t.median if t else None for t in timings]) if passes else None,
                noisy=any(t.noisy for t in timings if t is not None),
                module_bytes=int(total) if (total := _total(sizes)) is not None else None,
                evidence=evidence,
                failed=tuple(dict.fromkeys(r.job for r in causes))
                or tuple(e for e, ok in zip(evidence, passing) if not ok),
                why=tuple(dict.fromkeys(why(r) for r in causes)),
                cpu_ms=_total([_cpu_median(run) for _, run, _ in cells]) if passes else None,
                hints=_advice(causes),
                not_run=not passes and not any(failed(r) for r in causes),
                # Each function's own timed figure, where every function passed.
                timings=tuple(
                    FunctionTiming(f, t.median, t.noisy, measured(run), t.why_noisy() if t.noisy else "")
                    for (f, run, _), t in zip(cells, timings)
                    if passes and run is not None and t is not None
                ),
            )
        )
    return out


# stages/lower.py names a lowered export "<exporter>+linalg-iree<release>" (a `linalg:<release>` form).
LOWERED_MARK = "+linalg-iree"


def lowered_by(exporter: str, source: str) -> Optional[str]:
    """The IREE release that lowered `exporter`'s MLIR when it is `source`'s export lowered to
    linalg-on-tensors, else None."""
    prefix = source + LOWERED_MARK
    return exporter[len(prefix) :] or None if exporter.startswith(prefix) else None


def with_lowered(
    runs: Runs, functions: Sequence[str], exporter: str, results: Sequence[ReleaseResult]
) -> list[ReleaseResult]:
    """`results` (one exporter's, oldest first) with each compiler that did not pass on the exporter's
    own MLIR answered by the same export lowered to linalg where the results hold it (matrix/history.toml):
    passing there, it passes `via` the lowering; failing, its reasons are both forms'."""
    lowered: dict[str, list[ReleaseResult]] = {}
    for other in sorted({e for (f, e, _) in runs.compiles if f in functions}):
        if (release := lowered_by(other, exporter)) is not None:
            for result in release_results(runs, functions, other):
                via = f"linalg lowered by {release}"
                lowered.setdefault(result.compiler, []).append(dataclasses.replace(result, via=via))
    out = {r.compiler: r for r in results}
    for compiler, found in lowered.items():
        if (own := out.get(compiler)) is not None and own.passes:
            continue
        if (passing := next((r for r in found if r.passes), None)) is not None or own is None:
            out[compiler] = passing or found[0]
            continue
        why = tuple(f"via {r.via}: {w}" for r in found for w in r.why or ("did not pass",))
        out[compiler] = dataclasses.replace(
            own,
            failed=own.failed + tuple(job for r in found for job in r.failed),
            why=own.why + why,
            hints=tuple(dict.fromkeys(own.hints + tuple(h for r in found for h in r.hints))),
            not_run=own.not_run and all(r.not_run for r in found),
        )
    return [out[c] for c in sorted_versions(out)]


def _advice(causes: Sequence[Record]) -> tuple[str, ...]:
    """What to do about the failures, one advice per known failure (the first of each kind: an LSTM
    and a GRU are one piece of advice)."""
    found: dict[str, str] = {}
    for h in filter(None, map(hint, causes)):
        found.setdefault(h.name, h.advice)
    return tuple(found.values())


def failed(record: Record) -> bool:
    """A stage that ran and did not pass (a failure, a timeout, a mismatch): a cell's outcome. Neither a
    failed install (its cells never ran) nor an environment fault says what the model does."""
    return (
        record.status in (Status.FAIL, Status.TIMEOUT, Status.MISMATCH)
        and record.stage != "install"
        and record.error_class != EnvironmentFault.CLASS
    )


def hint(record: Record) -> Optional[hints.Found]:
    """What to do about a failed stage, when a known signature matches its words (iree/hints.py)."""
    return None if record.status in (Status.OK, Status.NOT_RUN) else hints.of_record(record)


def _cpu_median(record: Optional[Record]) -> Optional[float]:
    figure = record.metric.of(RunMetrics).cpu_time if record is not None else None
    return figure.median if figure is not None else None


def _total(values: Sequence[Optional[float]]) -> Optional[float]:
    """The sum, or None when any value is missing."""
    present = [v for v in values if v is not None]
    return sum(present) if len(present) == len(values) else None


def recommendations(runs: Runs) -> list[Recommendation]:
    out = []
    for model, functions in sorted(grouped_by((runs.model_of(f), f) for f in runs.functions()).items()):
        exporter = runs.main_exporter(functions)
        results = release_results(runs, functions, exporter)
        passing = [r for r in results if r.passes]
        newest = passing[-1] if passing else None
        fastest, ratio, basis = _fastest(runs, functions, exporter, passing)
        sized = [r for r in passing if r.module_bytes is not None]
        smallest = min(sized, key=lambda r: (r.module_bytes, version_key(r.compiler))) if sized else None
        out.append(
            Recommendation(model, tuple(functions), tuple(results), newest, fastest, ratio, smallest, basis)
        )
    return out


FASTEST_PAIRED = "paired rounds"
FASTEST_SITTING = "one quiet sitting's one-thread CPU time"
# Runs started within this long of each other count as one sitting (a matrix run times its cells
# one after another: the release-history runs of one model took minutes).
SITTING = 3600.0  # seconds


def _fastest(
    runs: Runs, functions: Sequence[str], exporter: str, passing: Sequence[ReleaseResult]
) -> tuple[Optional[ReleaseResult], Optional[float], str]:
    """(the release faster than the newest passing one, newest's time over its, what decided it), named
    only from paired rounds (`compare NEWEST OTHER`: every function timed, none slower, one faster), else
    from one quiet sitting of one identified CPU (one-thread CPU times, load under `NOISY_LOAD`, runs
    within `SITTING`, beyond `NOISE_RATIO`): a loaded sitting's medians named releases 1.7x faster."""
    newest = passing[-1] if passing else None
    if newest is None:
        return None, None, ""
    best: Optional[tuple[float, ReleaseResult]] = None
    decided = ""  # where the paired rounds were timed
    for release in passing[:-1]:
        if (found := _paired_against(runs, functions, exporter, release, newest)) is None:
            continue
        decided, speedup = found
        if speedup is not None and (best is None or speedup > best[0]):
            best = (speedup, release)
    # A release paired-faster than the one found is faster than the newest too: the chain is
    # followed (3.6.0 beat 3.7.0 4.16x, 3.7.0 beat 3.8.0 1.36x: the fastest is 3.6.0, 5.7x).
    seen = {newest.compiler}
    while best is not None and best[1].compiler not in seen:
        seen.add(best[1].compiler)
        for release in passing[:-1]:
            found = _paired_against(runs, functions, exporter, release, best[1])
            if release.compiler not in seen and found is not None and found[1] is not None:
                best = (best[0] * found[1], release)
                break
    if best is not None:
        return best[1], best[0], f"{FASTEST_PAIRED} on {decided}"
    if decided:
        return None, None, f"{FASTEST_PAIRED} on {decided}"
    if (sitting := _quiet_sitting(runs, newest)) is None:
        return None, None, ""
    identity, start = sitting
    same = [
        r
        for r in passing[:-1]
        if (s := _quiet_sitting(runs, r)) is not None and s[0] == identity and abs(s[1] - start) <= SITTING
    ]
    fastest = min(same, key=lambda r: r.cpu_ms or math.inf, default=None)
    if fastest is None or not fastest.cpu_ms or not newest.cpu_ms:
        return None, None, FASTEST_SITTING if same else ""
    ratio = newest.cpu_ms / fastest.cpu_ms
    return (fastest, ratio, FASTEST_SITTING) if ratio >= NOISE_RATIO else (None, None, FASTEST_SITTING)


def _paired_against(
    runs: Runs, functions: Sequence[str], exporter: str, release: ReleaseResult, other: ReleaseResult
) -> Optional[tuple[str, Optional[float]]]:
    """(where, the speed-up of `release` over `other`) when paired rounds compared them on every
    function (the speed-up None unless none slower and one faster); else None."""
    verdicts = [paired.against(runs.same(f, exporter, release.compiler), other.compiler) for f in functions]
    found = [v for v in verdicts if v is not None and v.verdict in paired.DECIDED]
    if not verdicts or len(found) != len(verdicts):
        return None
    if any(v.verdict == stats.SLOWER for v in found) or not any(v.verdict == stats.FASTER for v in found):
        return found[0].where, None
    mine, theirs = _total([v.ms for v in found]), _total([v.other_ms for v in found])
    return found[0].where, theirs / mine if mine and theirs else 1.0 / max(v.ratio for v in found)


def _quiet_sitting(runs: Runs, release: ReleaseResult) -> Optional[tuple[str, float]]:
    """(identity, start time in seconds) when every run of the release measured one thread's CPU
    time on one identified CPU with other programs under NOISY_LOAD cores; else None."""
    records = [runs.by_job.get(job) for job in release.evidence]
    if not release.cpu_ms or not records or any(r is None or r.stage != "run" for r in records):
        return None
    found = [r for r in records if r is not None]
    identities = {identified(r) for r in found}
    loaded = any((load := r.metric.of(RunMetrics).other_load) is None or load >= NOISY_LOAD for r in found)
    times = [_seconds(r.started) for r in found]
    if loaded or len(identities) != 1 or None in identities or None in times:
        return None
    return identities.pop() or "", min(t for t in times if t is not None)


def _seconds(stamp: Optional[str]) -> Optional[float]:
    from datetime import datetime

    try:
        return datetime.fromisoformat(stamp).timestamp() if stamp else None
    except ValueError:
        return None
