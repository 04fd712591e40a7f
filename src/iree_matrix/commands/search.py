"""`iree-matrix search`: the budgeted flag search (tasks/flag_search.py runs it)."""

from __future__ import annotations

import argparse
import sys

from iree_matrix.commands import options
from iree_matrix.commands.option_types import taking
from iree_matrix.iree.flags import SEARCH_KNOBS
from iree_matrix.tasks import flag_search

NAME = "search"
HELP = "flag search: each compile knob and export variant against default, then a budgeted descent"
add_arguments = taking(
    lambda parser: options.add_matrix_options(parser, "search.toml"),
    lambda parser: options.add_profile_list(parser, options.KNOBS, SEARCH_KNOBS),
    options.BUDGET,
    options.WIDTH,
    options.DESCENT_BATCHES,
    options.MAX_MINUTES,
    options.FUNCTIONS.but(
        help="comma-separated globs over the functions that descend after batch 1 "
        "(e.g. 'mobilenet_v2,whisper_tiny.encoder'; default: all)"
    ),
    options.REUSE_BATCH_1,
)


def main(args: argparse.Namespace) -> int:
    settings = flag_search.Settings(
        knobs=options.KNOBS.of(args) or "",
        budget=options.BUDGET.of(args) or 0,
        width=options.WIDTH.of(args) or 0,
        batches=options.DESCENT_BATCHES.of(args) or 0,
        max_minutes=options.MAX_MINUTES.of(args),
        functions=options.FUNCTIONS.of(args) or "*",
        reuse_batch_1=options.REUSE_BATCH_1.of(args),
    )
    return flag_search.run(options.plan_settings(args), settings, sys.stdout)
