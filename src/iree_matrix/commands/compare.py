"""`iree-matrix compare A B`: two releases (or two profiles) of every function a results directory
ran, timed again here in paired, interleaved rounds on one thread (`abtest`), with the calibrated
verdict per function — "faster", "slower", "no difference" or "same module" — instead of a ratio of
two medians taken minutes apart."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from iree_matrix.commands.base import EXIT_INTERRUPTED, recorded_cache
from iree_matrix.commands.shared_options import REPETITIONS, RESULTS_DIR, ROUNDS, paired_sitting
from iree_matrix.core import console
from iree_matrix.core.errors import UserError
from iree_matrix.core.results import Record

logger = console.logger(__name__)

NAME = "compare"
HELP = "time two releases or profiles of each function against each other here, with a calibrated verdict"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", metavar="A", help="a release (3.12.0) or a profile (default)")
    parser.add_argument("b", metavar="B", help="the other one (3.13.0, channels-last); B is compared to A")
    RESULTS_DIR.add(
        parser,
        default=Path("runs/default"),
        help="whose run records give the modules (default: %(default)s)",
    )
    parser.add_argument(
        "--functions", default="*", metavar="GLOBS", help="comma-separated globs (default: all)"
    )
    ROUNDS.add(parser)
    REPETITIONS.add(parser)
    parser.add_argument("--json", action="store_true", help="print the comparison as JSON")


def main(args: argparse.Namespace) -> int:
    import fnmatch
    import math

    from tabulate import tabulate

    from iree_matrix.answers import calibration, identities, release_verdicts
    from iree_matrix.core import host, locks
    from iree_matrix.core.atomic_files import write_atomically
    from iree_matrix.core.results import latest_by_job
    from iree_matrix.execution import abtest
    from iree_matrix.execution.progress import Steps, cost, load_factor

    paired_sitting(args)
    source = args.results_dir / "results.jsonl"
    if not source.is_file():
        raise UserError(f"{source}: no such results file (pass --results-dir, e.g. runs/default)")
    records = list(latest_by_job(release_verdicts.read(source)).values())
    pairs = calibration.matched(records, args.a, args.b)
    if not pairs:
        raise UserError(
            f"{source}: no function ran both as {args.a!r} and as {args.b!r} (two releases, each on its own "
            "runtime, or two profiles of one release)"
        )
    globs = [g.strip() for g in args.functions.split(",") if g.strip()]
    here = host.identity()
    rows: list[list[str]] = []
    found: list[dict[str, object]] = []
    # A glob names a function ("mobilenet_v2", "whisper_tiny.encoder") or the row ("… on 3.13.0").
    # Checked before the quiet lock: a mistyped glob is said at once, not after another run's timing.
    chosen = [
        (function, ra, rb) for function, ra, rb in pairs
        if any(fnmatch.fnmatchcase(function, g) or fnmatch.fnmatchcase(ra.label.model, g) for g in globs)
    ]  # fmt: skip
    if not chosen:
        raise UserError(
            f"--functions {args.functions!r}: matches none of the functions that ran as both "
            f"{args.a!r} and {args.b!r} ({', '.join(sorted({ra.label.model for _, ra, _ in pairs}))})"
        )
    slower = math.sqrt(load_factor())  # as the matrix's estimate takes the load, until steps finish
    expected = [
        abtest.expected_seconds(ra.metric.latency_median, args.rounds, args.repetitions) * slower
        for _, ra, _ in chosen
    ]
    logger.info(cost(
        f"compare {args.a} {args.b}",
        f"{len(chosen)} function(s) x {args.rounds} paired rounds x 2 arms x {args.repetitions} repetitions",
        sum(expected),
        "--functions GLOB (fewer functions), --rounds 6, --repetitions 1",
    ))  # fmt: skip
    steps = Steps(expected)
    interrupted = False
    try:
        job, expected_all = f"compare {args.a} {args.b}", sum(expected)
        with locks.machine_lock(True, job=job, report=logger.info, expected=expected_all):
            steps.begin()  # the wait for the lock is not the comparison's time
            for function, ra, rb in chosen:
                timed = len(found)
                rows.append(_compared(function, ra, rb, here, args, found))
                measured = len(found) > timed and bool(found[-1].get("rounds"))  # not "same module"
                steps.finished(f"{function}: {rows[-1][-1]}", learn=measured)
    except KeyboardInterrupt:  # what finished is kept and printed; the one under way is dropped
        interrupted = True
    rate = calibration.rate_text(calibration.read(args.results_dir / calibration.FILENAME) or _published())
    out = args.results_dir / f"compare-{args.a}-{args.b}.json"
    document = {"a": args.a, "b": args.b, "host": host.describe(), "calibration": rate, "functions": found}
    if interrupted:
        document["interrupted"] = f"after {len(rows)} of {len(chosen)} functions"
    write_atomically(out, json.dumps(document, indent=1, sort_keys=True) + "\n")
    if not interrupted:  # out within 2 s: the site is rendered by the next compare or report
        from iree_matrix.report import site

        site.write(source, args.results_dir / "site")  # its page of comparisons (compare.html)
    if args.json:
        print(json.dumps(document, indent=1))
        return EXIT_INTERRUPTED if interrupted else 0
    print(f"\n{args.b} against {args.a} on {identities.label(records, here)}: one thread's CPU time per "
          f"call, {args.rounds} paired rounds; B / A above 1 is slower")  # fmt: skip
    print(tabulate(rows, headers=["function", args.a, args.b, "B / A", "verdict"], tablefmt="github",
                   disable_numparse=True))  # fmt: skip
    if interrupted:
        logger.warning(f"interrupted: {len(rows)} of {len(chosen)} functions compared (above, and in {out}); "
              "the same command compares them all again")  # fmt: skip
        return EXIT_INTERRUPTED
    # Two lines: the rate is a sentence of its own ("no calibration … on record" read as "the test's
    # no calibration …" when it was put after "the test's").
    print(f"the paired test's calibration: {rate}")
    print(f"written to {out} and {args.results_dir / 'site' / 'compare.html'}")
    return 0


def _compared(
    function: str, ra: Record, rb: Record, here: str, args: argparse.Namespace, found: list
) -> list:
    """One function's row of the table (its comparison appended to `found`)."""
    import statistics

    from iree_matrix.core import formats, host
    from iree_matrix.execution import abtest

    if host.identity_of(ra.host) != here or host.identity_of(rb.host) != here:
        return [function, "", "", "", "not comparable: measured on another CPU identity"]
    try:
        caches = [c for c in (recorded_cache(args.results_dir)[0],) if c is not None]
        result = abtest.compare(abtest.arm_of(ra, args.a, caches), abtest.arm_of(rb, args.b, caches),
                                rounds=args.rounds, repetitions=args.repetitions)  # fmt: skip
    except abtest.NotComparable as e:
        return [function, "", "", "", f"not comparable: {e}"]
    r = result.result
    found.append({"function": function, **result.as_dict()})
    # Each arm's median over the rounds (an even count: the mean of the middle two).
    a_ms = statistics.median(result.a_ms) if result.a_ms else None
    b_ms = statistics.median(result.b_ms) if result.b_ms else None
    return [
        function,
        formats.duration_ms(a_ms) if a_ms else "",
        formats.duration_ms(b_ms) if b_ms else "",
        formats.ratio(r.ratio) if r.rounds else "",
        r.describe(),
    ]


def _published() -> dict | None:
    """A published calibration of this machine's CPU identity (the test's false-positive rate is a
    property of the machine it was measured on), or None."""
    from iree_matrix.answers import calibration
    from iree_matrix.core import host, shipped

    for path in sorted(shipped.results_dir().glob(f"*/{calibration.FILENAME}")):
        data = calibration.read(path)
        if data is not None and host.identity_of(data.get("host") or {}) == host.identity():
            return data
    return None
