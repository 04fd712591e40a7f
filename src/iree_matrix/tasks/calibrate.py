"""The paired test's false-positive rate, measured on this host (`iree-matrix calibrate`): modules
of a results directory timed against byte-identical copies of themselves (null pairs), and two
builds of one function against each other (controls); calibration.json and CALIBRATION.md are
written where asked (findings/calibration.py reads and renders them)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, TextIO

from iree_matrix.core import console
from iree_matrix.core.errors import UserError
from iree_matrix.core.model import stats
from iree_matrix.core.model.outcome import now
from iree_matrix.core.system import host
from iree_matrix.execution import abtest
from iree_matrix.execution.workflow import EXIT_INTERRUPTED, recorded_cache
from iree_matrix.findings import calibration, identities, results_folder

if TYPE_CHECKING:
    from iree_matrix.core.model.results import Record
    from iree_matrix.execution.progress import Steps
    from iree_matrix.findings.results_folder import Results

logger = console.logger(__name__)


@dataclasses.dataclass(frozen=True)
class Settings:
    """Whose modules (`results_dir`), where the calibration goes (`out`, default `results_dir`), how
    many null pairs and controls, and each pair's paired rounds."""

    results_dir: Path
    out: Optional[Path] = None
    pairs: int = 54
    controls: int = 8
    rounds: int = 8
    repetitions: int = 3
    max_call_ms: float = 300.0  # modules slower than this per call are left out


def run(args: Settings, out: TextIO) -> int:
    """Time the pairs, keep the calibration, print its rate on `out`; 1 when the rate does not hold."""
    from iree_matrix.execution.progress import Steps, cost
    from iree_matrix.tasks.compare import expected_seconds

    if args.pairs < 1 or args.controls < 0:
        raise UserError(f"--pairs {args.pairs} --controls {args.controls}: expected pairs ≥ 1, controls ≥ 0")
    _writable(args.out or args.results_dir, "--out" if args.out else "--results-dir")
    caches = [c for c in (recorded_cache(args.results_dir)[0],) if c is not None]  # the run's own
    results = results_folder.load(args.results_dir)  # read once: the modules, and the source named
    found, latest = _modules(results, args.max_call_ms, caches)
    out_dir = args.out or args.results_dir
    nulls, controls = calibration.null_plan(found, args.pairs), calibration.control_plan(found, args.controls)
    here = host.identity()
    logger.info(
        f"calibrate: {len(nulls)} null pairs over {len(found)} modules, {len(controls)} controls, "
        f"{args.rounds} rounds x {args.repetitions} repetitions, on {identities.label(latest, here)}"
    )
    expected = expected_seconds([*nulls, *(a for a, _ in controls)], args.rounds, args.repetitions)
    logger.info(
        cost(
            "calibrate",
            f"{len(nulls) + len(controls)} pairs ({len(nulls)} null, {len(controls)} controls) "
            f"x {args.rounds} paired rounds x 2 arms x {args.repetitions} repetitions",
            sum(expected),
            "--pairs N (fewer null pairs; under 50 the rate is not a verdict), --controls 0, --rounds 6, "
            "--repetitions 1, --max-call-ms MS (leaves out slow modules)",
        )
    )
    data: dict[str, Any] = {
        "host": host.describe(),
        # With LLVM's name for the CPU, which the run's compile records know (no compile ran here).
        "identity_label": identities.label(latest, here),
        "settings": {
            "rounds": args.rounds,
            "repetitions": args.repetitions,
            "alpha": stats.ALPHA,
            "min_effect": stats.MIN_EFFECT,
            "source": str(results.source),
        },
        "started": now(),
        "load_average": {"start": round(os.getloadavg()[0], 2)},
        "nulls": [],
        "controls": [],
    }
    steps = Steps(expected)
    # Not under the machine's quiet lock: the test is calibrated as it is used, beside whatever else
    # the machine does (its signal is one thread's CPU time); the load is recorded with it.
    try:
        _pairs(nulls, controls, args, caches, data, out_dir, steps)
    except KeyboardInterrupt:  # what finished is kept (calibration.partial.json) and said
        timed = len(data["nulls"]) + len(data["controls"])
        logger.warning(
            f"interrupted: {timed} of {len(nulls) + len(controls)} pairs timed, kept in {out_dir / PARTIAL} "
            "(a calibration under way, never read as one); the finished calibration, if any, is "
            "unchanged; the same command calibrates again"
        )
        return EXIT_INTERRUPTED
    data["finished"] = now()
    data["load_average"] = {**data["load_average"], "end": round(os.getloadavg()[0], 2)}
    write(out_dir, data)
    print(calibration.rate_text(data), file=out)
    print(f"calibration: {out_dir / calibration.FILENAME}, {out_dir / calibration.MARKDOWN}", file=out)
    return 0 if calibration.summarize(data).holds or len(nulls) < 50 else 1


def _modules(results: Results, max_call_ms: float, caches: list[Path]) -> tuple[list[Record], list[Record]]:
    """The modules that can be timed here (passed native runs of this host whose module and runtime
    are still here), and the log's latest records."""
    from iree_matrix.core.model.results import latest_by_job

    source = results.source
    if not source.is_file():
        raise UserError(f"{source}: no such results file (run a matrix first, e.g. `nox -s matrix`)")
    here = host.identity()
    found = []
    latest = list(latest_by_job(results.records).values())
    for record in calibration.candidates(latest, max_call_ms):
        if record.host.identity != here:
            continue  # another machine's module may be built for a CPU this one lacks
        try:
            abtest.arm_of(record, caches=caches)
        except abtest.NotComparable as e:
            logger.info(f"  left out: {e}")
            continue
        found.append(record)
    if not found:
        raise UserError(
            f"{source}: no passed native run of this host whose module and runtime are still here"
        )
    return found, latest


def _pairs(
    nulls: list[Record],
    controls: list[tuple[Record, Record]],
    args: Settings,
    caches: list[Path],
    data: dict[str, Any],
    out_dir: Path,
    steps: Steps,
) -> None:
    """Time the null pairs, then the controls, each kept in `data` (and PARTIAL) as it finishes."""
    with tempfile.TemporaryDirectory(prefix="iree-matrix-calibrate-") as tmp:
        for i, record in enumerate(nulls, 1):
            a = abtest.arm_of(record, caches=caches)
            copy = Path(tmp) / f"copy{i}" / a.module.name
            copy.parent.mkdir()
            shutil.copyfile(a.module, copy)  # byte-identical, another file: timed as another build
            argv = tuple(f"--module={copy}" if x.startswith("--module=") else x for x in a.argv)
            b = abtest.Arm(f"{record.job} (copy)", argv, copy)
            result = abtest.compare(a, b, rounds=args.rounds, repetitions=args.repetitions, identical=False)
            data["nulls"].append(result.as_dict())
            steps.finished(f"null {i}/{len(nulls)} {record.label.model}: {result.result.describe()}")
            copy.unlink()
            write(out_dir, data, partial=True)  # kept as it grows: an interrupted calibration loses nothing
        for i, (ra, rb) in enumerate(controls, 1):
            a, b = abtest.arm_of(ra, caches=caches), abtest.arm_of(rb, caches=caches)
            result = abtest.compare(a, b, rounds=args.rounds, repetitions=args.repetitions)
            data["controls"].append(result.as_dict())
            steps.finished(f"control {i}/{len(controls)} {ra.label.model}: {result.result.describe()}")
            write(out_dir, data, partial=True)


PARTIAL = "calibration.partial.json"  # a calibration under way (or interrupted): never read as one


def _writable(out_dir: Path, option: str) -> None:
    """One line, before any timing, when the directory cannot be written (`--out /proc/x`)."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / f".{PARTIAL}.probe"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UserError(
            f"{option} {out_dir}: cannot write there ({exc.strerror}); give a writable directory"
        ) from None


def write(out_dir: Path, data: dict[str, object], partial: bool = False) -> None:
    """A calibration under way goes to PARTIAL; calibration.json and CALIBRATION.md are replaced only
    by a finished one, and at once (a new calibration's first pair once overwrote a finished one)."""
    import json

    from iree_matrix.core.atomic_files import write_atomically

    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    if partial:
        write_atomically(out_dir / PARTIAL, text)
        return
    write_atomically(out_dir / calibration.FILENAME, text)
    write_atomically(out_dir / calibration.MARKDOWN, calibration.render(data, calibration.FILENAME))
    (out_dir / PARTIAL).unlink(missing_ok=True)
