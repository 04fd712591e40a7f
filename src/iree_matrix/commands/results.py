"""`iree-matrix results forget GLOB...`: remove records from a run's log (keeping a backup).
`iree-matrix results archive-timings --results-dir SET --to ARCHIVE`: move the timings of records
that name no CPU family/model out of a published set, keeping what they answer (answers/archive.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from iree_matrix.commands.base import write_documents, write_report
from iree_matrix.commands.shared_options import RESULTS_DIR, WAIT_WRITER
from iree_matrix.core.errors import UserError

NAME = "results"
HELP = "edit a results log: `results forget GLOB...`, `results archive-timings --to DIR`"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["forget", "archive-timings"])
    parser.add_argument("globs", nargs="*", metavar="GLOB", help="forget: job ids or cells (globs)")
    RESULTS_DIR.add(parser, required=True, help="the run directory whose log to edit")
    parser.add_argument("--to", type=Path, metavar="DIR", help="archive-timings: the archive directory")
    WAIT_WRITER.add(parser)


def main(args: argparse.Namespace) -> int:
    if args.action == "archive-timings":
        return _archive(args)
    from iree_matrix.answers.publish import forget

    if not args.globs:
        raise UserError("results forget: name the job ids or cells to remove (GLOB...)")
    done = forget(args.results_dir, args.globs, wait=WAIT_WRITER.of(args), say=print)
    log = args.results_dir / "results.jsonl"
    print(
        f"{log}: removed {done.removed} records, kept {done.kept} (the previous file is results.jsonl.bak)"
        + (f"; matched nothing: {', '.join(map(repr, done.unmatched))}" if done.unmatched else "")
    )
    if done.kept:
        write_report(args.results_dir)
    else:  # nothing to render from: the documents are not rendered again (a report of nothing)
        print(
            f"{log} is empty now: COMPATIBILITY.md and the site beside it still show the records it "
            "had, until a run appends new ones (or restore results.jsonl.bak)"
        )
    return 0


def _archive(args: argparse.Namespace) -> int:
    from iree_matrix.answers.archive import archive_timings

    if args.globs or args.to is None:
        raise UserError(
            "results archive-timings: takes no GLOB, needs --to DIR (e.g. --to results/archive/microbench)"
        )
    moved = archive_timings(args.results_dir, args.to, wait=WAIT_WRITER.of(args), say=print)
    print(
        f"{args.results_dir}/results.jsonl: {moved.stripped} of {moved.records} records kept without their "
        f"timings (identity not recorded), {moved.removed} timing-only records removed; the records as they "
        f"were appended to {moved.archive}"
    )
    if moved.stripped or moved.removed:
        write_documents(args.results_dir)
    return 0
