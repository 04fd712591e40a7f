"""`iree-matrix tune`: a matrix under several compile profiles; the fastest correct one per model."""

from __future__ import annotations

import argparse

from iree_matrix.commands import matrix
from iree_matrix.commands.options import PROFILES, add_matrix_options, add_profile_list, plan_settings
from iree_matrix.iree.flags import TUNE_PROFILES

NAME = "tune"
HELP = "run a matrix under several compile profiles; the fastest correct one per model"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_matrix_options(parser, "bench.toml")
    add_profile_list(parser, PROFILES, TUNE_PROFILES)


def main(args: argparse.Namespace) -> int:
    from iree_matrix.report.sections.tune import render_tune

    code, summary = matrix.run(plan_settings(args))
    if summary is None:  # --list
        return code
    print("\n".join(render_tune(summary.records.values())) or "nothing to compare: one profile per model")
    return code
