"""What every command shares: the cache, where results go, how release selectors are kept, the report.
`default_cache` and `absolute` (the type of every path option a stage's tools see) are
`cache_usage`'s, named here for the commands."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Optional

from iree_matrix.commands.shared_options import CACHE, RESULTS_DIR
from iree_matrix.core.cache_layout import CacheLayout
from iree_matrix.core.errors import UserError
from iree_matrix.core.results import ResultsLog, read_log
from iree_matrix.envs.cache_usage import absolute, default_cache
from iree_matrix.matrix import releases

__all__ = [
    "EXIT_INTERRUPTED",
    "absolute",
    "add_output_options",
    "add_verbosity_options",
    "default_cache",
    "default_results_dir",
    "recorded_cache",
    "remember_cache",
    "resolver",
    "verbosity",
    "write_report",
]

EXIT_INTERRUPTED = 130
# Beside a run's results: the cache (and store) it ran with, so `show JOB --log` finds that run's
# logs and store entries without being told (a run on --cache /tmp/c writes nothing to the default).
RUN_CACHE = "cache.json"


def remember_cache(results_dir: Path, cache: Path, store: Optional[Path] = None) -> None:
    """Record where a run starting now keeps its logs and artifacts, in its results directory."""
    from iree_matrix.core.atomic_files import write_atomically

    found = {"cache": str(cache), "store": str(store or CacheLayout(Path(cache)).store)}
    write_atomically(Path(results_dir) / RUN_CACHE, json.dumps(found, indent=1, sort_keys=True) + "\n")


def recorded_cache(results_dir: Path) -> tuple[Optional[Path], Optional[Path]]:
    """(cache, store) the last run into `results_dir` used, or (None, None) when none is recorded."""
    try:
        found = json.loads((Path(results_dir) / RUN_CACHE).read_text())
    except (OSError, ValueError):
        return None, None
    if not isinstance(found, dict) or not isinstance(found.get("cache"), str):
        return None, None
    store = found.get("store")
    return Path(found["cache"]), Path(store) if isinstance(store, str) else None


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


# Beside a run's report: what it was rendered from (the records, the published logs it relates to,
# the renderer's code), so a run that changed none of it does not render it again (issue #39: a
# no-op re-run of the default matrix spent most of its time re-rendering identical pages).
REPORT_INPUTS = ".report-inputs"


def report_inputs(results_dir: Path) -> str:
    """A digest of everything a results directory's report is rendered from: its records and
    calibration, the published logs it relates its figures to (by size and time), the renderer's
    source and matplotlib's version (the SVGs' bytes)."""
    import hashlib
    from importlib import metadata

    from iree_matrix import __version__
    from iree_matrix.core import shipped

    digest = hashlib.sha256(__version__.encode())
    for name in ("results.jsonl", "calibration.json"):
        path = Path(results_dir) / name
        digest.update(name.encode() + (path.read_bytes() if path.is_file() else b"-"))
    try:
        published = sorted(shipped.results_dir().glob("**/results.jsonl"))
    except FileNotFoundError:
        published = []
    try:  # the published answers, which a run's report names for its CPU (report/machine.py)
        published += sorted(shipped.results_dir().glob("answers/*/*.json"))
    except FileNotFoundError:
        pass
    for log in published:
        stat = log.stat()
        digest.update(f"{log}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    package = Path(__file__).resolve().parents[1]
    for source in sorted([*package.rglob("*.py"), *package.rglob("*.json")]):
        digest.update(str(source.relative_to(package)).encode() + source.read_bytes())
    try:
        digest.update(metadata.version("matplotlib").encode())
    except metadata.PackageNotFoundError:
        pass
    return digest.hexdigest()


# What `_write_report` always writes (compat.FILENAME, site.SITE_DIR: named here without importing
# the renderers, which a run that renders nothing need not load; tests/unit/test_cli.py checks them).
REPORT_FILES = ("COMPATIBILITY.md", "compat.json", "site/index.html")


def _rendered(results_dir: Path) -> str:
    """The report's files as they are now (size and time of each), or "" when one is missing: a
    report another version rendered over this one's since is rendered again."""
    made = [Path(results_dir) / name for name in REPORT_FILES]
    if not all(path.is_file() for path in made):
        return ""
    return " ".join(f"{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in made)


def write_report(results_dir: Path, say: Callable[[str], None] = print, *, if_changed: bool = False) -> Path:
    """COMPATIBILITY.md, compat.json and the site from a results directory's log. `if_changed` (a
    run's own report): not again when nothing it is rendered from changed since it was last
    rendered here (`report_inputs`); `iree-matrix report` always renders."""
    from iree_matrix.core.atomic_files import write_atomically

    stamp = Path(results_dir) / REPORT_INPUTS
    inputs = report_inputs(results_dir) if if_changed else ""
    rendered = _rendered(results_dir) if if_changed else ""
    if rendered and stamp.is_file() and stamp.read_text().splitlines() == [inputs, rendered]:
        say(
            f"report: {results_dir / 'COMPATIBILITY.md'} and the site unchanged (same records, same renderer)"
        )
        return results_dir / "COMPATIBILITY.md"
    out = _write_report(results_dir, say)
    if if_changed:
        write_atomically(stamp, f"{inputs}\n{_rendered(results_dir)}\n")
    return out


def write_documents(results_dir: Path, say: Callable[[str], None] = print) -> None:
    """Every document of a results directory (the report, and PERFORMANCE.md when it holds timed
    peers or dispatches), as `publish` and `merge` leave it: the same as `iree-matrix report`
    renders, so a published set never reads stale."""
    write_report(results_dir, say=say)
    if has_performance(results_dir):
        from iree_matrix.report.performance import write_performance

        write_performance(results_dir / "results.jsonl", results_dir / "PERFORMANCE.md")


def has_performance(results_dir: Path) -> bool:
    return any(r.stage in ("peer", "dispatches") for r in ResultsLog(results_dir / "results.jsonl"))


def _write_report(results_dir: Path, say: Callable[[str], None]) -> Path:
    from iree_matrix import stages
    from iree_matrix.answers import compat, release_verdicts
    from iree_matrix.report import site, write_compatibility
    from iree_matrix.report.compatibility import generated_by

    source = results_dir / "results.jsonl"
    # Read and derived once: COMPATIBILITY.md, compat.json and the site render these records and this
    # document of their answers; PERFORMANCE.md reads the same log through the same parse.
    records = release_verdicts.read(source)
    advised = compat.advised_in(results_dir)
    answers = compat.derive(records, source, advised)
    out = write_compatibility(source, results_dir / "COMPATIBILITY.md", records, stages.names(), answers)
    say(f"report: {out}")
    say(f"answers: {compat.write(records, results_dir / compat.FILENAME, source, answers)}")
    say(f"site: {site.write(source, results_dir / site.SITE_DIR, records, answers, advised)}")
    from iree_matrix.core.atomic_files import write_atomically
    from iree_matrix.report import boards

    logged = read_log(source)  # BOARDS.md: the records as logged (not cross-checked), the same parse
    if boards.has_boards(logged):
        # As COMPATIBILITY.md names it: relative to where the report runs, never the publisher's path.
        text = boards.render_markdown(logged, generated_by(source)[0])
        say(f"boards: {write_atomically(results_dir / boards.FILENAME, text)}")
    from iree_matrix.answers import calibration

    measured = calibration.read(results_dir / calibration.FILENAME)
    if measured is not None:  # `iree-matrix calibrate --out DIR` left one here: its page, rendered again
        page = write_atomically(results_dir / calibration.MARKDOWN, calibration.render(measured))
        say(f"calibration: {page}")
    return out


def add_output_options(p: argparse.ArgumentParser) -> None:
    """`--results-dir` and `--cache` of the commands that run something (shared_options.py)."""
    RESULTS_DIR.add(p)
    CACHE.add(p)


# Before the command (`iree-matrix -q matrix`) the top parser's, after it (`iree-matrix matrix -q`)
# the command's: argparse copies a command's namespace over the top one's, so the two are kept
# under two names (given after the command only) and counted together (`verbosity`).
_AFTER = "_after_command"


def add_verbosity_options(p: argparse.ArgumentParser, after_command: bool = False) -> None:
    """`-v`/`-q`, counted (core/console.py says what each level shows): on `iree-matrix` itself and
    on every command."""
    dest = _AFTER if after_command else ""
    default = argparse.SUPPRESS if after_command else 0
    p.add_argument("-v", "--verbose", action="count", dest=f"verbose{dest}", default=default,
                   help="say more on stderr: -v the commands run and the cache's decisions, and "
                   "Python's warnings; -vv every library's debug log")  # fmt: skip
    p.add_argument("-q", "--quiet", action="count", dest=f"quiet{dest}", default=default,
                   help="say less on stderr: -q warnings and errors only (no progress), -qq errors "
                   "only; answers on stdout are the same")  # fmt: skip


def verbosity(args: argparse.Namespace) -> int:
    """-v count minus -q count, before and after the command together."""
    return sum(getattr(args, f"verbose{d}", 0) - getattr(args, f"quiet{d}", 0) for d in ("", _AFTER))


def model_reference(text: str, runs: Optional[Path] = None) -> str:
    """What to build for the model a command was given: a built-in name or `FILE:FACTORY` as it is;
    a user's model by the name the tool printed (`hf_models-vit`, the matrix summary's and the
    report's) as the reference its runs' records ran it by (models.references). A name no run
    knows is one line that says how to name a model of one's own."""
    from iree_matrix.answers.publish import RUNS_DIR
    from iree_matrix.matrix import export_recipes as recipes
    from iree_matrix.matrix import models

    base, recipe = models.split_recipe(text)
    if ":" in base or base in models.builtin_names():
        return text
    found: dict[str, str] = {}
    for log in sorted((runs or RUNS_DIR).glob("*/results.jsonl")):
        try:
            found.update({k: v for k, v in models.references(read_log(log)).items() if k not in found})
        except (OSError, ValueError):
            continue  # a log being written or not a log: the others may still name it
    if text in found:
        return found[text]
    if recipe and base in found:  # the model ran, not yet by this recipe
        return f"{models.split_recipe(found[base])[0]}{recipes.SEP}{recipe}"
    raise UserError(
        f"{text!r}: not a built-in model ({', '.join(models.builtin_names())}) nor one your runs under "
        f"{runs or RUNS_DIR}/ ran; name your own by its file and factory: path/to/file.py:factory"
    )
