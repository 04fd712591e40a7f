"""`iree-matrix results forget GLOB...`: remove records from a run's log (keeping a backup)."""

from __future__ import annotations

import argparse
from pathlib import Path

from iree_matrix.commands.base import write_report

NAME = "results"
HELP = "edit a results log: `results forget GLOB...`"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["forget"])
    parser.add_argument("globs", nargs="+", metavar="GLOB", help="job ids or cells to remove (fnmatch globs)")
    parser.add_argument("--results-dir", type=Path, required=True, help="the run directory whose log to edit")


def run(args: argparse.Namespace) -> int:
    from iree_matrix.answers.publish import forget

    removed, kept = forget(args.results_dir, args.globs)
    print(
        f"{args.results_dir}/results.jsonl: removed {removed} records, kept {kept} "
        "(the previous file is results.jsonl.bak)"
    )
    write_report(args.results_dir)
    return 0
