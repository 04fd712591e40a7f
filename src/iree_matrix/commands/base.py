"""What every command shares: the cache, where results go, how release selectors are kept, the report.
`default_cache` and `absolute` (the type of every path option a stage's tools see) are
`cache_usage`'s, named here for the commands."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from iree_matrix.core.errors import UserError
from iree_matrix.core.results import read_log
from iree_matrix.envs.cache_usage import absolute, default_cache
from iree_matrix.matrix import releases

__all__ = [
    "EXIT_INTERRUPTED",
    "absolute",
    "add_output_options",
    "default_cache",
    "default_results_dir",
    "resolver",
    "write_report",
]

EXIT_INTERRUPTED = 130


def default_results_dir(given: Path | None, matrix_path: Path) -> Path:
    """`--results-dir` (`given`) or runs/<matrix file name>; the published results/ only via `publish`."""
    from iree_matrix.answers.publish import run_dir

    results_dir = given if given is not None else run_dir(matrix_path)
    if results_dir.exists() and not results_dir.is_dir():
        raise UserError(f"--results-dir {results_dir}: exists and is not a directory")
    return results_dir


def resolver(results_dir: Path | None, refresh: bool = False) -> releases.Resolver:
    """Release selectors are resolved against the index once and kept beside the results
    (`results_dir`, else results/); `refresh`: --refresh-releases."""
    return releases.Resolver((results_dir or Path("results")) / "releases.json", refresh=refresh)


def write_report(results_dir: Path, say: Callable[[str], None] = print) -> Path:
    """COMPATIBILITY.md, compat.json and the site from a results directory's log."""
    from iree_matrix import stages
    from iree_matrix.answers import answers, compat
    from iree_matrix.report import site, write_compatibility

    source = results_dir / "results.jsonl"
    # Read once: COMPATIBILITY.md and compat.json are rendered from these records; the site and
    # PERFORMANCE.md read the same log through the same parse (results.read_log).
    records = answers.read(source)
    out = write_compatibility(source, results_dir / "COMPATIBILITY.md", records, stages.names())
    say(f"report: {out}")
    say(f"answers: {compat.write(records, results_dir / compat.FILENAME, source)}")
    say(f"site: {site.write(source, results_dir / site.SITE_DIR)}")
    from iree_matrix.core._files import write_atomically
    from iree_matrix.report import boards

    logged = read_log(source)  # BOARDS.md: the records as logged (not cross-checked), the same parse
    if boards.has_boards(logged):
        text = boards.render_markdown(logged, str(source))
        say(f"boards: {write_atomically(results_dir / boards.FILENAME, text)}")
    from iree_matrix.answers import calibration

    measured = calibration.read(results_dir / calibration.FILENAME)
    if measured is not None:  # `iree-matrix calibrate --out DIR` left one here: its page, rendered again
        page = write_atomically(results_dir / calibration.MARKDOWN, calibration.render(measured))
        say(f"calibration: {page}")
    return out


def add_output_options(p: argparse.ArgumentParser) -> None:
    """`--results-dir` and `--cache` of the commands that run something."""
    # Absolute where they are parsed: a stage runs its tools in other directories (#41).
    p.add_argument(
        "--results-dir",
        type=absolute,
        default=None,
        help="where results.jsonl and the report go (default: runs/<matrix file name>; the published "
        "results/ are written only by `iree-matrix publish`)",
    )
    p.add_argument(
        "--cache",
        type=absolute,
        default=None,
        help="wheelhouse, environments and artifacts (default: ~/.cache/iree-matrix, or $IREE_MATRIX_CACHE)",
    )
