"""`iree-matrix results forget GLOB...`: remove records from a run's log (keeping a backup).
`iree-matrix results archive-timings --results-dir SET --to ARCHIVE`: move the timings of records
that name no CPU family/model out of a published set, keeping what they answer (answers/archive.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from iree_matrix.commands.base import write_documents, write_report
from iree_matrix.commands.shared_options import RESULTS_DIR
from iree_matrix.core.errors import UserError

NAME = "results"
HELP = "edit a results log: `results forget GLOB...`, `results archive-timings --to DIR`"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["forget", "archive-timings"])
    parser.add_argument("globs", nargs="*", metavar="GLOB", help="forget: job ids or cells (globs)")
    RESULTS_DIR.add(parser, required=True, help="the run directory whose log to edit")
    parser.add_argument("--to", type=Path, metavar="DIR", help="archive-timings: the archive directory")


def main(args: argparse.Namespace) -> int:
    if args.action == "archive-timings":
        return _archive(args)
    from iree_matrix.answers.publish import forget

    if not args.globs:
        raise UserError("results forget: name the job ids or cells to remove (GLOB...)")
    removed, kept = forget(args.results_dir, args.globs)
    print(
        f"{args.results_dir}/results.jsonl: removed {removed} records, kept {kept} "
        "(the previous file is results.jsonl.bak)"
    )
    write_report(args.results_dir)
    return 0


def _archive(args: argparse.Namespace) -> int:
    from iree_matrix.answers.archive import archive_timings

    if args.globs or args.to is None:
        raise UserError(
            "results archive-timings: takes no GLOB, needs --to DIR (e.g. --to results/archive/microbench)"
        )
    moved = archive_timings(args.results_dir, args.to)
    print(
        f"{args.results_dir}/results.jsonl: {moved.stripped} of {moved.records} records kept without their "
        f"timings (identity not recorded), {moved.removed} timing-only records removed; the records as they "
        f"were appended to {moved.archive}"
    )
    if moved.stripped or moved.removed:
        write_documents(args.results_dir)
    return 0
