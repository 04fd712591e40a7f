"""`iree-matrix reproduce JOB…`: re-create published cells in a fresh cache from their records alone,
and say per cell whether the module and the outputs are the same bytes (tasks/reproduce.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from iree_matrix.commands import options
from iree_matrix.commands.option_types import taking
from iree_matrix.tasks import reproduce

NAME = "reproduce"
HELP = "re-create published cells in a fresh cache from their records; same module and output sha256?"
add_arguments = taking(
    options.JOBS_GLOBS,
    options.RESULTS_DIR.but(default=Path("results"), help="the published set (default: results)"),
    options.CACHE.but(
        help="a fresh cache to re-create the cells in, kept afterwards (default: a new temporary "
        "directory, removed at the end)"
    ),
    options.BACKEND.but(
        default=None,
        help="where stages run (default: the backend each record names)",
        choices=lambda: [name for name in options.backend_names() if name != "auto"],
    ),
    options.THREADS,
    options.UNSANDBOXED,
)


def main(args: argparse.Namespace) -> int:
    results_dir = options.RESULTS_DIR.of(args) or Path("results")
    return reproduce.run(
        results_dir,
        options.JOBS_GLOBS.each(args),
        options.CACHE.of(args),
        options.BACKEND.of(args),
        options.THREADS.of(args),
        unsandboxed=options.UNSANDBOXED.of(args),
        out=sys.stdout,
    )
