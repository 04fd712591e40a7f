"""`iree-matrix calibrate`: measure the paired test's false-positive rate on this host, from the
modules of a results directory (tasks/calibrate.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from iree_matrix.commands.options import (
    CONTROLS,
    MAX_CALL_MS,
    OUT,
    PAIRS,
    RESULTS_DIR,
    add_paired_options,
    paired,
)
from iree_matrix.tasks import calibrate

NAME = "calibrate"
HELP = "measure how often the paired speed test calls a difference between a module and its copy"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    RESULTS_DIR.add(
        parser,
        default=Path("runs/default"),
        help="whose run records give the modules (default: %(default)s)",
    )
    for option in (OUT, PAIRS, CONTROLS):
        option.add(parser)
    add_paired_options(parser)
    MAX_CALL_MS.add(parser)


def main(args: argparse.Namespace) -> int:
    rounds, repetitions = paired(args)
    settings = calibrate.Settings(
        results_dir=RESULTS_DIR.of(args) or Path("runs/default"),
        out=OUT.of(args),
        pairs=PAIRS.of(args) or 0,
        controls=CONTROLS.of(args) or 0,
        rounds=rounds,
        repetitions=repetitions,
        max_call_ms=MAX_CALL_MS.of(args) or 0.0,
    )
    return calibrate.run(settings, sys.stdout)
