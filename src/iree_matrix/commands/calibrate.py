"""`iree-matrix calibrate`: measure the paired test's false-positive rate on this host, from the
modules of a results directory (tasks/calibrate.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from iree_matrix.commands import options
from iree_matrix.commands.option_types import taking
from iree_matrix.tasks import calibrate

NAME = "calibrate"
HELP = "measure how often the paired speed test calls a difference between a module and its copy"
add_arguments = taking(
    options.RUN_RECORDS,
    options.OUT,
    options.PAIRS,
    options.CONTROLS,
    options.add_paired_options,
    options.MAX_CALL_MS,
)


def main(args: argparse.Namespace) -> int:
    rounds, repetitions = options.paired(args)
    settings = calibrate.Settings(
        results_dir=options.RUN_RECORDS.of(args) or Path("runs/default"),
        out=options.OUT.of(args),
        pairs=options.PAIRS.of(args) or 0,
        controls=options.CONTROLS.of(args) or 0,
        rounds=rounds,
        repetitions=repetitions,
        max_call_ms=options.MAX_CALL_MS.of(args) or 0.0,
    )
    return calibrate.run(settings, sys.stdout)
