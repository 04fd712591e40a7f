"""`iree-matrix search`: the budgeted flag search (tasks/flag_search.py runs it)."""

from __future__ import annotations

import argparse
import sys

from iree_matrix.commands.options import (
    BUDGET,
    DESCENT_BATCHES,
    FUNCTIONS,
    KNOBS,
    MAX_MINUTES,
    REUSE_BATCH_1,
    WIDTH,
    add_matrix_options,
    add_profile_list,
    plan_settings,
)
from iree_matrix.iree.flags import SEARCH_KNOBS
from iree_matrix.tasks import flag_search

NAME = "search"
HELP = "flag search: each compile knob and export variant against default, then a budgeted descent"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_matrix_options(parser, "search.toml")
    add_profile_list(parser, KNOBS, SEARCH_KNOBS)
    for option in (BUDGET, WIDTH, DESCENT_BATCHES, MAX_MINUTES):
        option.add(parser)
    FUNCTIONS.add(
        parser,
        help="comma-separated globs over the functions that descend after batch 1 "
        "(e.g. 'mobilenet_v2,whisper_tiny.encoder'; default: all)",
    )
    REUSE_BATCH_1.add(parser)


def main(args: argparse.Namespace) -> int:
    settings = flag_search.Settings(
        knobs=KNOBS.of(args) or "",
        budget=BUDGET.of(args) or 0,
        width=WIDTH.of(args) or 0,
        batches=DESCENT_BATCHES.of(args) or 0,
        max_minutes=MAX_MINUTES.of(args),
        functions=FUNCTIONS.of(args) or "*",
        reuse_batch_1=REUSE_BATCH_1.of(args),
    )
    return flag_search.run(plan_settings(args), settings, sys.stdout)
