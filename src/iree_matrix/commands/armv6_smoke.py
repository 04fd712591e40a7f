"""`iree-matrix armv6-smoke`: a Raspberry Pi Zero (ARM1176) under qemu — the C hello world, IREE's
runtime built from source, then the armv6 matrix (the tables are
`iree_matrix.execution.pi_zero_session`'s)."""

from __future__ import annotations

import argparse
import dataclasses

from iree_matrix import stages
from iree_matrix.commands.options import add_matrix_options
from iree_matrix.commands.shared_options import cache_dir
from iree_matrix.commands.workflow import RunOptions, load_plan, run_plan
from iree_matrix.core import console
from iree_matrix.core.results import ResultsLog, Status

log = console.logger(__name__)

NAME = "armv6-smoke"
HELP = "Raspberry Pi Zero: hello world under qemu ARM1176, then the armv6 matrix"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_matrix_options(parser, "armv6.toml")
    parser.add_argument("--no-hello", action="store_true", help="skip the C hello world (needs Docker)")


def main(args: argparse.Namespace) -> int:
    from iree_matrix.execution import pi_zero_session

    cache = cache_dir(args)
    transform = None if args.armv6_runtime else (lambda m: pi_zero_session.on_source_runtime(m, cache))
    loaded = load_plan(args, "armv6.toml", transform)
    the_plan = loaded.plan
    if not args.armv6_runtime:
        # The static build is what the boards run; its dynamic twin is built too, for what it would
        # need from the board's C library (and the native build whose host tools both need).
        the_plan = pi_zero_session.with_dynamic_twins(the_plan, loaded.matrix)
    results = ResultsLog(loaded.results_dir / "results.jsonl")
    if args.list:
        print(stages.describe(the_plan))
        return 0
    hello = None
    if not args.no_hello:
        print("== armv6 toolchain: C hello world, static and dynamic, under qemu ARM1176")
        hello = pi_zero_session.hello(cache, results)
        print(pi_zero_session.hello_table(hello), end="\n\n")
    log.info(
        "== IREE's runtime from source (native for its host tools, armv6 static and dynamic; stored after "
        "the first time), then the armv6 matrix: compile for arm1176jzf-s (+vfp2), check the kernels, run"
    )
    loaded = dataclasses.replace(loaded, plan=the_plan)
    code, summary = run_plan(loaded, RunOptions.from_args(args), cache, results, loaded.results_dir)
    print("\n== runtime builds")
    print(pi_zero_session.builds_table(summary.records))
    print("\n== armv6 summary")
    print(pi_zero_session.summary_table(summary.records))
    if hello is not None and hello.status is not Status.OK:
        return 1
    return code
