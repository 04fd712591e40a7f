"""`iree-matrix images list|build|prune`: a matrix's environment images (Docker). `build` is the
matrix's install jobs run on the Docker backend."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from iree_matrix import stages
from iree_matrix.commands import options
from iree_matrix.commands.option_types import taking
from iree_matrix.core import formats
from iree_matrix.execution.workflow import Loaded, RunOptions, resolver
from iree_matrix.matrix import plan, spec_file
from iree_matrix.tasks.runs import run_plan

NAME = "images"
HELP = "list, build or prune a matrix's environment images (Docker)"
add_arguments = taking(
    options.IMAGES_ACTION,
    options.MATRIX.but(help="the matrix whose images (default: matrix/default.toml)"),
    options.ALL,
    options.RESULTS_DIR,
    options.CACHE,
)


def main(args: argparse.Namespace) -> int:
    matrix_path = options.matrix_path(args)
    results_dir = options.default_results_dir(options.RESULTS_DIR.of(args), matrix_path)
    action, everything = options.IMAGES_ACTION.of(args), options.ALL.of(args)
    return run(action, matrix_path, results_dir, options.cache_dir(args), everything=everything)


def run(action: str, matrix_path: Path, results_dir: Path, cache: Path, everything: bool = False) -> int:
    from tabulate import tabulate

    from iree_matrix.envs import image_inventory

    matrix = spec_file.load(matrix_path, resolver=resolver(results_dir))
    if action == "build":
        the_plan = plan.select(stages.plan(matrix), ["install:*"])
        loaded = Loaded(matrix_path, matrix, the_plan, results_dir)
        return run_plan(loaded, RunOptions(backend="docker"), cache, out=sys.stdout)[0]
    the_plan = stages.plan(matrix)
    if action == "prune":
        removed = image_inventory.prune(matrix, the_plan, cache, everything=everything)
        print("\n".join(f"removed {tag}" for tag in removed) or "nothing to remove")
        return 0
    rows = image_inventory.inventory(matrix, the_plan, cache)
    table = [
        (r.env, r.state, r.tag, formats.size(r.size_bytes) if r.size_bytes else "", r.detail) for r in rows
    ]
    print(tabulate(table, headers=["environment", "state", "image", "size", "detail"]))
    return 0
