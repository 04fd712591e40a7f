"""`iree-matrix matrix`: plan a matrix file, run it, write the report."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Optional

from iree_matrix import stages
from iree_matrix.commands.options import add_matrix_options, add_scale_options
from iree_matrix.commands.shared_options import cache_dir
from iree_matrix.commands.workflow import RunOptions, load_plan, run_plan, with_states
from iree_matrix.core.results import ResultsLog

if TYPE_CHECKING:
    from iree_matrix.execution.execute import Summary

NAME = "matrix"
HELP = "plan and run a matrix, then write the report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_matrix_options(parser, "default.toml")
    add_scale_options(parser)


def main(args: argparse.Namespace) -> int:
    return run_matrix(args, "default.toml")[0]


def run_matrix(args: argparse.Namespace, default_matrix: str) -> tuple[int, Optional[Summary]]:
    """Plan, then `--list` it with each job's state (no summary), or run it (also `tune`'s first part)."""
    loaded = load_plan(args, default_matrix)
    if args.list:
        print(f"{loaded.path}: {len(loaded.matrix.cells)} cells")
        print(with_states(stages.describe(loaded.plan), loaded.results_dir / "results.jsonl"))
        if loaded.releases:
            print("releases (what the version axes mean):", *loaded.releases, sep="\n")
        return 0, None
    cache = cache_dir(args)
    results = ResultsLog(loaded.results_dir / "results.jsonl")
    if getattr(args, "shard", None) and not loaded.plan.jobs:
        # More shards than chains: an empty log, so `merge` of every shard's directory still works.
        loaded.results_dir.mkdir(parents=True, exist_ok=True)
        results.path.touch()
        print(f"shard {args.shard}: no jobs (the plan has fewer chains than shards); wrote {results.path}")
        return 0, None
    return run_plan(loaded, RunOptions.from_args(args), cache, results, loaded.results_dir)
