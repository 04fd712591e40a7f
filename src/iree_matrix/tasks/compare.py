"""Two releases (or two profiles) of every function a results directory ran, timed again here in paired,
interleaved rounds on one thread (`abtest`), with the calibrated verdict per function — "faster", "slower",
"no difference" or "same module" — instead of a ratio of two medians taken minutes apart (`iree-matrix compare
A B`). The comparison is kept in RESULTS_DIR/compare-A-B.json, which the site's comparisons page shows."""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional, TextIO

from iree_matrix.core import console, formats, shipped
from iree_matrix.core.errors import UserError
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import Record, latest_by_job, no_log
from iree_matrix.core.system import host, locks
from iree_matrix.execution import abtest
from iree_matrix.execution.workflow import EXIT_INTERRUPTED, recorded_cache
from iree_matrix.findings import calibration, identities, results_folder
from iree_matrix.report import site

logger = console.logger(__name__)

Pair = tuple[str, Record, Record]  # function, A's run, B's run


@dataclasses.dataclass(frozen=True)
class Comparison:
    """What to compare: A and B of the functions `functions` (comma-separated globs) names, from
    the records of `results_dir`, `rounds` paired rounds of `repetitions` calls each."""

    results_dir: Path
    a: str
    b: str
    functions: str = "*"
    rounds: int = 8
    repetitions: int = 3


def run(what: Comparison, out: TextIO, as_json: bool = False) -> int:
    """Compare, keep the comparison, render the site's page of it, and print the table (or JSON) on
    `out`."""
    records, chosen = _chosen(what)
    here = host.identity()
    rows, found, interrupted = _timed(what, chosen, here)
    document, kept = _keep(what, rows, found, len(chosen), interrupted)
    if as_json:
        print(json.dumps(document, indent=1), file=out)
        return EXIT_INTERRUPTED if interrupted else 0
    from tabulate import tabulate

    a, b, results_dir = what.a, what.b, what.results_dir
    print(
        f"\n{b} against {a} on {identities.label(records, here)}: one thread's CPU time per "
        f"call, {what.rounds} paired rounds; B / A above 1 is slower",
        file=out,
    )
    headers = ["function", a, b, "B / A", "verdict"]
    print(tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True), file=out)
    if interrupted:
        logger.warning(
            f"interrupted: {len(rows)} of {len(chosen)} functions compared (above, and in "
            f"{kept}); the same command compares them all again"
        )
        return EXIT_INTERRUPTED
    # Two lines: the rate is a sentence of its own ("no calibration … on record" read as "the test's
    # no calibration …" when it was put after "the test's").
    print(f"the paired test's calibration: {document['calibration']}", file=out)
    print(f"written to {kept} and {results_dir / 'site' / 'compare.html'}", file=out)
    return 0


def _chosen(what: Comparison) -> tuple[list[Record], list[Pair]]:
    """The results directory's latest records, and the pairs of runs to compare (a one-line error
    when there are none, before anything is timed)."""
    results = results_folder.load(what.results_dir)
    source = results.source
    if not source.is_file():
        raise UserError(no_log(source, "runs/default"))
    records = list(latest_by_job(results.records).values())
    if not (pairs := calibration.matched(records, what.a, what.b)):
        raise UserError(
            f"{source}: no function ran both as {what.a!r} and as {what.b!r} (two releases, each on its own "
            "runtime, or two profiles of one release)"
        )
    globs = [g.strip() for g in what.functions.split(",") if g.strip()]
    # A glob names a function ("mobilenet_v2", "whisper_tiny.encoder") or the row ("… on 3.13.0").
    # Checked before the quiet lock: a mistyped glob is said at once, not after another run's timing.
    chosen = [
        (function, ra, rb)
        for function, ra, rb in pairs
        if any(fnmatch.fnmatchcase(function, g) or fnmatch.fnmatchcase(ra.label.model, g) for g in globs)
    ]
    if not chosen:
        raise UserError(
            f"--functions {what.functions!r}: matches none of the functions that ran as both "
            f"{what.a!r} and {what.b!r} ({', '.join(sorted({ra.label.model for _, ra, _ in pairs}))})"
        )
    return records, chosen


def _timed(
    what: Comparison, chosen: Sequence[Pair], here: str
) -> tuple[list[list[str]], list[dict[str, object]], bool]:
    """Each pair timed under the machine's quiet lock: the table's rows, the comparisons, and
    whether Ctrl-C ended it (what finished is kept; the one under way is dropped)."""
    from iree_matrix.execution.progress import Steps, cost

    expected = expected_seconds([ra for _, ra, _ in chosen], what.rounds, what.repetitions)
    logger.info(
        cost(
            f"compare {what.a} {what.b}",
            f"{len(chosen)} function(s) x {what.rounds} paired rounds x 2 arms "
            f"x {what.repetitions} repetitions",
            sum(expected),
            "--functions GLOB (fewer functions), --rounds 6, --repetitions 1",
        )
    )
    steps = Steps(expected)
    rows: list[list[str]] = []
    found: list[dict[str, object]] = []
    try:
        job, expected_all = f"compare {what.a} {what.b}", sum(expected)
        with locks.machine_lock(True, job=job, report=logger.info, expected=expected_all):
            steps.begin()  # the wait for the lock is not the comparison's time
            for function, ra, rb in chosen:
                timed = len(found)
                rows.append(_compared(function, ra, rb, here, what, found))
                measured = len(found) > timed and bool(found[-1].get("rounds"))  # not "same module"
                steps.finished(f"{function}: {rows[-1][-1]}", learn=measured)
    except KeyboardInterrupt:  # what finished is kept and printed; the one under way is dropped
        return rows, found, True
    return rows, found, False


def expected_seconds(runs: Sequence[Record], rounds: int, repetitions: int) -> list[float]:
    """What timing each run's module against another costs here now (`abtest`'s estimate from its
    recorded latency), scaled by the load as the matrix's estimate takes it, until steps finish."""
    from iree_matrix.execution.eta import load_factor

    slower = math.sqrt(load_factor())
    return [
        abtest.expected_seconds(r.metric.of(RunMetrics).latency_median, rounds, repetitions) * slower
        for r in runs
    ]


def _keep(
    what: Comparison, rows: Sequence[object], found: list[dict[str, object]], chosen: int, interrupted: bool
) -> tuple[dict[str, Any], Path]:
    """The comparison written to RESULTS_DIR/compare-A-B.json (and the site's page of it, unless
    interrupted: done within 2 s, the next compare or report renders it)."""
    from iree_matrix.core.atomic_files import write_atomically

    rate = calibration.rate_text(calibration.read(what.results_dir / calibration.FILENAME) or _published())
    name = f"compare-{what.a}-{what.b}.json"
    # Two picks with kernels passed a name's 255 bytes (and the temporary's 14): named by a digest then
    if len(name.encode()) > 200:
        name = f"compare-{hashlib.sha256(f'{what.a} {what.b}'.encode()).hexdigest()[:16]}.json"
    path = what.results_dir / name
    document: dict[str, Any] = {
        "a": what.a,
        "b": what.b,
        "host": host.describe(),
        "calibration": rate,
        "functions": found,
    }
    if interrupted:
        document["interrupted"] = f"after {len(rows)} of {chosen} functions"
    write_atomically(path, json.dumps(document, indent=1, sort_keys=True) + "\n")
    if not interrupted:
        # Loaded again, not the one `_chosen` read: the verdicts just written are what the page shows.
        results = results_folder.load(what.results_dir)
        site.write(results.source, what.results_dir / "site", results=results)  # its compare.html
    return document, path


def _compared(
    function: str, ra: Record, rb: Record, here: str, what: Comparison, found: list[dict[str, object]]
) -> list[str]:
    """One function's row of the table (its comparison appended to `found`)."""
    import statistics

    if ra.host.identity != here or rb.host.identity != here:
        return [function, "", "", "", "not comparable: measured on another CPU identity"]
    try:
        caches = [c for c in (recorded_cache(what.results_dir)[0],) if c is not None]
        result = abtest.compare(
            abtest.arm_of(ra, what.a, caches),
            abtest.arm_of(rb, what.b, caches),
            rounds=what.rounds,
            repetitions=what.repetitions,
        )
    except abtest.NotComparable as e:
        return [function, "", "", "", f"not comparable: {e}"]
    r = result.result
    found.append({"function": function, **result.as_dict()})
    # Each arm's median over the rounds (an even count: the mean of the middle two).
    medians = [statistics.median(ms) if ms else None for ms in (result.a_ms, result.b_ms)]
    shown = [formats.duration_ms(median) if median else "" for median in medians]
    return [function, *shown, formats.ratio(r.ratio) if r.rounds else "", r.describe()]


def _published() -> Optional[dict[str, Any]]:
    """A published calibration of this machine's CPU identity (the test's false-positive rate is a
    property of the machine it was measured on), or None."""
    from iree_matrix.core.model.host_identity import HostIdentity

    for path in sorted(shipped.results_dir().glob(f"*/{calibration.FILENAME}")):
        data = calibration.read(path)
        if data is not None and HostIdentity.of(data.get("host")).identity == host.identity():
            return data
    return None
