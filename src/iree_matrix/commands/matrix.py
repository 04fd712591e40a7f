"""`iree-matrix matrix`: plan a matrix file, run it, write the report."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Optional

from iree_matrix import stages
from iree_matrix.commands.option_types import taking
from iree_matrix.commands.options import add_matrix_options, add_scale_options, plan_settings
from iree_matrix.core.model.results import folder_log
from iree_matrix.execution.workflow import PlanSettings, listed_settings, load_plan, with_states
from iree_matrix.findings import results_folder
from iree_matrix.tasks.runs import run_plan

if TYPE_CHECKING:
    from iree_matrix.execution.summary import Summary

NAME = "matrix"
HELP = "plan and run a matrix, then write the report"


add_arguments = taking(lambda parser: add_matrix_options(parser, "default.toml"), add_scale_options)


def main(args: argparse.Namespace) -> int:
    return run(plan_settings(args))[0]


def run(settings: PlanSettings) -> tuple[int, Optional[Summary]]:
    """Plan, then `--list` it with each job's state (no summary), or run it (also `tune`'s first part)."""
    loaded = load_plan(settings)
    if settings.listing:
        print(f"{loaded.path}: {len(loaded.matrix.cells)} cells")
        run_dir = results_folder.load(loaded.results_dir, None)
        print(with_states(stages.describe(loaded.plan), run_dir.logged, run_dir.source))
        if loaded.releases:
            print("releases (what the version axes mean):", *loaded.releases, sep="\n")
        print(listed_settings(loaded))
        return 0, None
    results = folder_log(loaded.results_dir)
    if settings.shard and not loaded.plan.jobs:
        # More shards than chains: an empty log, so `merge` of every shard's directory still works.
        loaded.results_dir.mkdir(parents=True, exist_ok=True)
        results.path.touch()
        print(
            f"shard {settings.shard}: no jobs (the plan has fewer chains than shards); wrote {results.path}"
        )
        return 0, None
    return run_plan(loaded, settings.run, settings.cache, out=sys.stdout)
