"""`iree-matrix report`: render a results directory's COMPATIBILITY.md (and PERFORMANCE.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from iree_matrix.commands.option_types import taking
from iree_matrix.commands.options import PERFORMANCE, RESULTS_DIR
from iree_matrix.report.documents import render

NAME = "report"
HELP = "render COMPATIBILITY.md from a results file (default: results/)"
add_arguments = taking(
    RESULTS_DIR.but(default=Path("results"), help="the results set to render (default: results)"), PERFORMANCE
)


def main(args: argparse.Namespace) -> int:
    return render(RESULTS_DIR.of(args) or Path("results"), PERFORMANCE.of(args), print)
