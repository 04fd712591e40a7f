"""`iree-matrix images list|build|prune`: a matrix's environment images (Docker). `build` is the
matrix's install jobs run on the Docker backend."""

from __future__ import annotations

import argparse

from iree_matrix import stages
from iree_matrix.commands.base import add_output_options, default_results_dir, resolver
from iree_matrix.commands.shared_options import MATRIX, cache_dir
from iree_matrix.commands.workflow import Loaded, RunOptions, run_plan
from iree_matrix.core import formats, shipped
from iree_matrix.core.results import ResultsLog
from iree_matrix.matrix import plan, spec

NAME = "images"
HELP = "list, build or prune a matrix's environment images (Docker)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["list", "build", "prune"], nargs="?", default="list")
    MATRIX.add(parser, help="the matrix whose images (default: matrix/default.toml)")
    parser.add_argument("--all", action="store_true", help="prune: every environment image, not just unused")
    add_output_options(parser)


def main(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from iree_matrix.envs import image_inventory

    matrix_path = args.matrix or shipped.matrix_dir() / "default.toml"
    results_dir = default_results_dir(args.results_dir, matrix_path)
    matrix = spec.load(matrix_path, resolver=resolver(results_dir))
    cache = cache_dir(args)
    if args.action == "build":
        the_plan = plan.select(stages.plan(matrix), ["install:*"])
        results = ResultsLog(results_dir / "results.jsonl")
        loaded = Loaded(matrix_path, matrix, the_plan, results_dir)
        return run_plan(loaded, RunOptions(backend="docker"), cache, results, results_dir)[0]
    the_plan = stages.plan(matrix)
    if args.action == "prune":
        removed = image_inventory.prune(matrix, the_plan, cache, everything=args.all)
        print("\n".join(f"removed {tag}" for tag in removed) or "nothing to remove")
        return 0
    rows = image_inventory.inventory(matrix, the_plan, cache)
    table = [
        (r.env, r.state, r.tag, formats.size(r.size_bytes) if r.size_bytes else "", r.detail) for r in rows
    ]
    print(tabulate(table, headers=["environment", "state", "image", "size", "detail"]))
    return 0
