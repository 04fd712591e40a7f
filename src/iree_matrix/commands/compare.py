"""`iree-matrix compare A B`: two releases (or two profiles) of every function a results directory
ran, timed again here in paired rounds, with a calibrated verdict (tasks/compare.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from iree_matrix.commands.option_types import taking
from iree_matrix.commands.options import FUNCTIONS, JSON, RUN_RECORDS, A, B, add_paired_options, paired
from iree_matrix.tasks import compare

NAME = "compare"
HELP = "time two releases or profiles of each function against each other here, with a calibrated verdict"
add_arguments = taking(
    A,
    B,
    RUN_RECORDS,
    FUNCTIONS,
    add_paired_options,
    JSON.but(help="print the comparison as JSON"),
)


def main(args: argparse.Namespace) -> int:
    rounds, repetitions = paired(args)
    results = RUN_RECORDS.of(args) or Path("runs/default")
    what = compare.Comparison(results, A.of(args), B.of(args), FUNCTIONS.of(args) or "*", rounds, repetitions)
    return compare.run(what, sys.stdout, as_json=JSON.of(args))
