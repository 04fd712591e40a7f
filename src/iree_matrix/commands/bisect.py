"""`iree-matrix bisect JOB`: where a mismatching run's IREE output first leaves torch's, module by
module (tasks/bisect.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from iree_matrix.commands.option_types import taking
from iree_matrix.commands.options import JOB, JOBS_RESULTS, OUT, UNSANDBOXED
from iree_matrix.tasks import bisect

NAME = "bisect"
HELP = "a mismatching run: every module's output against torch's, and the first that differs"
add_arguments = taking(
    JOB,
    JOBS_RESULTS,
    OUT.but(help="where its MLIR, module and tensors go (default: a new temporary directory)"),
    UNSANDBOXED,
)


def main(args: argparse.Namespace) -> int:
    results_dir = JOBS_RESULTS.of(args) or Path("results")
    return bisect.run(
        JOB.of(args), results_dir, OUT.of(args), unsandboxed=UNSANDBOXED.of(args), out=sys.stdout
    )
