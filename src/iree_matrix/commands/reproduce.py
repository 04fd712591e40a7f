"""`iree-matrix reproduce JOB…`: re-create published cells in a fresh cache from their records alone,
and say per cell whether the module and the outputs are the same bytes (tasks/reproduce.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from iree_matrix.commands.options import (
    BACKEND,
    CACHE,
    JOBS_GLOBS,
    RESULTS_DIR,
    THREADS,
    UNSANDBOXED,
    backend_names,
)
from iree_matrix.tasks import reproduce

NAME = "reproduce"
HELP = "re-create published cells in a fresh cache from their records; same module and output sha256?"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    JOBS_GLOBS.add(parser)
    RESULTS_DIR.add(parser, default=Path("results"), help="the published set (default: results)")
    CACHE.add(
        parser,
        help="a fresh cache to re-create the cells in, kept afterwards (default: a new temporary "
        "directory, removed at the end)",
    )
    BACKEND.add(
        parser,
        default=None,
        help="where stages run (default: the backend each record names)",
        choices=[name for name in backend_names() if name != "auto"],
    )
    THREADS.add(parser)
    UNSANDBOXED.add(parser)


def main(args: argparse.Namespace) -> int:
    results_dir = RESULTS_DIR.of(args) or Path("results")
    return reproduce.run(
        results_dir, JOBS_GLOBS.each(args), CACHE.of(args), BACKEND.of(args), THREADS.of(args),
        unsandboxed=UNSANDBOXED.of(args), out=sys.stdout,
    )  # fmt: skip
