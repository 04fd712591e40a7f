"""`iree-matrix search`: the two-round flag search. Round 1 measures default, each compile knob
alone and each export variant; round 2 combines the knobs that beat default beyond noise (the
verdicts are `iree_matrix.search`'s)."""

from __future__ import annotations

import argparse
import dataclasses

from iree_matrix import plan, spec
from iree_matrix.commands.base import EXIT_INTERRUPTED, default_cache
from iree_matrix.commands.options import add_matrix_options, add_profile_list
from iree_matrix.commands.workflow import RunOptions, load_plan, run_plan
from iree_matrix.flags import SEARCH_KNOBS
from iree_matrix.results import ResultsLog

NAME = "search"
HELP = "flag search: each compile knob and export variant against default, then the winners combined"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_matrix_options(parser, "search.toml")
    add_profile_list(
        parser,
        "--knobs",
        SEARCH_KNOBS,
        "comma-separated profiles tried one at a time against default (default: {default})",
    )


def run(args: argparse.Namespace) -> int:
    from iree_matrix import search
    from iree_matrix.report.performance import render_search

    knobs = [k.strip() for k in args.knobs.split(",") if k.strip() and k.strip() != search.BASELINE]
    args.profiles = ",".join([search.BASELINE, *knobs])

    def round_one(matrix: spec.MatrixSpec) -> spec.MatrixSpec:
        # An export variant is itself a knob: measured under default only in the first round.
        cells = tuple(
            c for c in matrix.cells if search.VARIANT not in c.model or c.profile == search.BASELINE
        )
        return dataclasses.replace(matrix, cells=cells)

    loaded = load_plan(args, "search.toml", adjust=round_one)
    if args.list:
        print(
            f"{loaded.path}: round 1, {len(loaded.matrix.cells)} cells (round 2 is planned from its results)"
        )
        print(plan.describe(loaded.plan))
        return 0
    cache = args.cache or default_cache()
    results = ResultsLog(args.results_dir / "results.jsonl")
    print(f"== flag search, round 1: default and {len(knobs)} knobs one at a time, export variants")
    code, summary = run_plan(loaded, RunOptions.from_args(args), cache, results, args.results_dir)
    if code == EXIT_INTERRUPTED:  # round 1 incomplete: the same command resumes it
        return code
    table = search.effects(search.candidates(summary.records.values()))
    combos = search.combinations(table)
    if combos:
        extra = [
            dataclasses.replace(c, profile=combos[(c.model, c.compiler)])
            for c in loaded.matrix.cells
            if (c.model, c.compiler) in combos and c.profile == search.BASELINE
        ]
        print(f"== flag search, round 2: the winners combined ({', '.join(sorted(set(combos.values())))})")

        def round_two(matrix: spec.MatrixSpec) -> spec.MatrixSpec:
            return spec.with_cells(round_one(matrix), extra)

        if args.retime:  # round 1 re-measured what it had to; round 2 re-measures only its own cells
            args.retime = sorted({f"run:*/{profile}" for profile in combos.values()})
        loaded = load_plan(args, "search.toml", adjust=round_two)
        code2, summary = run_plan(loaded, RunOptions.from_args(args), cache, results, args.results_dir)
        if code2 == EXIT_INTERRUPTED:  # as in round 1: no verdicts from a half-measured round
            return code2
        code = code or code2
    else:
        print("== flag search: no two changes both beat default beyond noise; no round 2")
    print("\n".join(render_search(summary.records.values())))
    return code
