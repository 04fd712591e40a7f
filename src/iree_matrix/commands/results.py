"""`iree-matrix results forget GLOB...`: remove records from a run's log (keeping a backup).
`iree-matrix results archive-timings --results-dir SET --to ARCHIVE`: move the timings of records
that name no CPU family/model out of a published set, keeping what they answer (findings/archive.py)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional

from iree_matrix.commands.options import GLOBS, RESULTS_ACTION, RESULTS_DIR, TO, WAIT, WAIT_WRITER_HELP
from iree_matrix.core.errors import UserError
from iree_matrix.report.documents import write_documents, write_report

NAME = "results"
HELP = "edit a results log: `results forget GLOB...`, `results archive-timings --to DIR`"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    RESULTS_ACTION.add(parser)
    GLOBS.add(parser)
    RESULTS_DIR.add(parser, required=True, help="the run directory whose log to edit")
    TO.add(parser, help="archive-timings: the archive directory")
    WAIT.add(parser, help=WAIT_WRITER_HELP)


def main(args: argparse.Namespace) -> int:
    results_dir, globs = RESULTS_DIR.of(args), list(GLOBS.each(args))
    assert results_dir is not None  # required
    if RESULTS_ACTION.of(args) == "archive-timings":
        return archive(results_dir, globs, TO.of(args), wait=WAIT.of(args))
    return forget(results_dir, globs, wait=WAIT.of(args))


def forget(results_dir: Path, globs: list[str], *, wait: bool = False) -> int:
    from iree_matrix.findings import publish, results_folder

    if not globs:
        raise UserError("results forget: name the job ids or cells to remove (GLOB...)")
    done = publish.forget(results_dir, globs, wait=wait, say=print)
    log = results_folder.load(results_dir, None).source
    print(
        f"{log}: removed {done.removed} records, kept {done.kept} (the previous file is results.jsonl.bak)"
        + (f"; matched nothing: {', '.join(map(repr, done.unmatched))}" if done.unmatched else "")
    )
    if done.kept:
        write_report(results_dir, print)
    else:  # nothing to render from: the documents are not rendered again (a report of nothing)
        print(
            f"{log} is empty now: COMPATIBILITY.md and the site beside it still show the records it "
            "had, until a run appends new ones (or restore results.jsonl.bak)"
        )
    publish.rendered(results_dir)  # marked by `forget` before it wrote the log
    return 0


def archive(results_dir: Path, globs: list[str], to: Optional[Path], *, wait: bool = False) -> int:
    from iree_matrix.findings import results_folder
    from iree_matrix.findings.archive import archive_timings

    if globs or to is None:
        raise UserError(
            "results archive-timings: takes no GLOB, needs --to DIR (e.g. --to results/archive/microbench)"
        )
    moved = archive_timings(results_dir, to, wait=wait, say=print)
    log = results_folder.load(results_dir, None).source
    print(
        f"{log}: {moved.stripped} of {moved.records} records kept without their "
        f"timings (identity not recorded), {moved.removed} timing-only records removed; the records as they "
        f"were appended to {moved.archive}"
    )
    if moved.stripped or moved.removed:
        write_documents(results_dir, print)
    return 0
