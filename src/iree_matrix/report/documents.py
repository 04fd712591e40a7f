"""A results directory's documents, rendered from its log: the report (COMPATIBILITY.md, compat.json,
the site, BOARDS.md, CALIBRATION.md), PERFORMANCE.md, ANSWERS.md and README's table. A run's own
report is rendered again only when what it is rendered from changed (`report_inputs`)."""

from __future__ import annotations

import contextlib
import hashlib
from importlib import metadata
from pathlib import Path
from typing import Optional

from iree_matrix import __version__
from iree_matrix.core.atomic_files import write_atomically
from iree_matrix.core.console import Say
from iree_matrix.findings import results_folder
from iree_matrix.findings.results_folder import Results

# Beside a run's report: a digest of what it was rendered from, so a run that changed none of it does
# not render it again (a no-op re-run of the default matrix spent most of its time re-rendering).
REPORT_INPUTS = ".report-inputs"


def report_inputs(results: Results) -> str:
    """A digest of everything a folder's report is rendered from: its own inputs, the published logs
    it relates to (by size and time), the renderer's source and matplotlib's version (the SVGs' bytes)."""
    digest = hashlib.sha256(__version__.encode())
    own, published = results.inputs()[:2], results.inputs()[2:]
    for path in own:
        digest.update(path.name.encode() + (path.read_bytes() if path.is_file() else b"-"))
    for log in published:
        stat = log.stat()
        digest.update(f"{log}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    package = Path(__file__).resolve().parents[1]
    for source in sorted([*package.rglob("*.py"), *package.rglob("*.json")]):
        digest.update(str(source.relative_to(package)).encode() + source.read_bytes())
    with contextlib.suppress(metadata.PackageNotFoundError):
        digest.update(metadata.version("matplotlib").encode())
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


def write_report(
    results_dir: Path, say: Say, *, if_changed: bool = False, results: Optional[Results] = None
) -> Path:
    """COMPATIBILITY.md, compat.json and the site, each said; `if_changed` (a run's own report): not
    again when nothing it is rendered from changed since (`report_inputs`)."""
    results = results or results_folder.load(results_dir)
    stamp = Path(results_dir) / REPORT_INPUTS
    inputs = report_inputs(results) if if_changed else ""
    rendered = _rendered(results_dir) if if_changed else ""
    if rendered and stamp.is_file() and stamp.read_text().splitlines() == [inputs, rendered]:
        say(
            f"report: {results_dir / 'COMPATIBILITY.md'} and the site unchanged (same records, same renderer)"
        )
        return results_dir / "COMPATIBILITY.md"
    out = _write_report(results, say)
    if if_changed:
        write_atomically(stamp, f"{inputs}\n{_rendered(results_dir)}\n")
    return out


def write_documents(results_dir: Path, say: Say) -> None:
    """Every document of a results directory as `iree-matrix report` renders it: none reads stale."""
    results = results_folder.load(results_dir)  # once: the report and PERFORMANCE.md render it
    write_report(results_dir, say=say, results=results)
    if has_performance(results):
        from iree_matrix.report.performance import write_performance

        write_performance(results, results_dir / "PERFORMANCE.md")


def has_performance(results: Results) -> bool:
    """Whether PERFORMANCE.md has something to say: timed peers, dispatches, or a flag search's walks."""
    return bool(results.descents) or any(r.stage in ("peer", "dispatches") for r in results.logged)


def _write_report(results: Results, say: Say) -> Path:
    from iree_matrix import stages
    from iree_matrix.findings import calibration, compat
    from iree_matrix.report import boards, site, write_compatibility
    from iree_matrix.report.compatibility import generated_by

    results_dir, source = results.directory, results.source
    # Read and derived once: COMPATIBILITY.md, compat.json and the site render these records and this
    # document of their answers; PERFORMANCE.md reads the same log through the same parse.
    records = results.records
    answers = compat.derive(records, source, results.advised, results.gpu_advised)
    out = write_compatibility(source, results_dir / "COMPATIBILITY.md", stages.names(), answers, results)
    say(f"report: {out}")
    say(f"answers: {compat.write(records, results_dir / compat.FILENAME, source, answers)}")
    say(f"site: {site.write(source, results_dir / site.SITE_DIR, answers, results=results)}")
    logged = results.logged  # BOARDS.md: the records as logged (not cross-checked), the same parse
    if boards.has_boards(logged):
        # As COMPATIBILITY.md names it: relative to where the report runs, never the publisher's path.
        text = boards.render_markdown(logged, generated_by(source)[0])
        say(f"boards: {write_atomically(results_dir / boards.FILENAME, text)}")
    measured = results.calibration
    if measured is not None:  # `iree-matrix calibrate --out DIR` left one here: its page, rendered again
        page = write_atomically(results_dir / calibration.MARKDOWN, calibration.render(measured))
        say(f"calibration: {page}")
    return out


def render(results_dir: Path, performance: bool, say: Say) -> int:
    """`iree-matrix report`'s documents (and `publish`'s); PERFORMANCE.md with `performance`."""
    render_answers(results_dir, say)
    results = results_folder.load(results_dir)  # once: the report and PERFORMANCE.md render it
    write_report(results_dir, say, results=results)
    if performance:
        from iree_matrix.report.performance import write_performance

        out = results_dir / "PERFORMANCE.md"
        lines = write_performance(results, out)
        say("\n".join(lines) + f"\nreport: {out}" if lines else "no performance results yet: `nox -s bench`")
    return 0


def render_answers(results_dir: Path, say: Say) -> None:
    """ANSWERS.md of the published answers (RESULTS/answers), and the checkout's README table."""
    answers_dir = results_dir / "answers"
    if not answers_dir.is_dir():
        return
    from iree_matrix.report import answers

    if (out := answers.write(answers_dir)) is not None:
        say(f"report: {out}")
    readme = results_dir.resolve().parent / "README.md"  # the checkout's README: its first table
    if answers.write_readme(readme, answers_dir):
        say(f"report: {readme} (its answers table)")
