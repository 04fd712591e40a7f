"""`iree-matrix armv6-smoke`: a Raspberry Pi Zero (ARM1176) under qemu — the C hello world, IREE's runtime
built from source, then the armv6 matrix (the tables are `iree_matrix.tasks.pi_zero_session`'s)."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from iree_matrix.commands.option_types import taking
from iree_matrix.commands.options import NO_HELLO, add_matrix_options, plan_settings
from iree_matrix.core import console
from iree_matrix.core.model.results import folder_log
from iree_matrix.execution.workflow import PlanSettings, load_plan
from iree_matrix.tasks.runs import listed, run_plan

log = console.logger(__name__)

NAME = "armv6-smoke"
HELP = "Raspberry Pi Zero: hello world under qemu ARM1176, then the armv6 matrix"


add_arguments = taking(lambda parser: add_matrix_options(parser, "armv6.toml"), NO_HELLO)


def main(args: argparse.Namespace) -> int:
    return run(plan_settings(args), hello=not NO_HELLO.of(args))


def run(settings: PlanSettings, hello: bool) -> int:
    from iree_matrix.tasks import pi_zero_session

    cache = settings.cache
    built = bool(settings.armv6_runtime)
    adjust = None if built else (lambda m: pi_zero_session.on_source_runtime(m, cache))
    loaded = load_plan(settings, adjust=adjust)
    the_plan = loaded.plan
    if not built:
        # The static build is what the boards run; its dynamic twin is built too, for what it would
        # need from the board's C library (and the native build whose host tools both need).
        the_plan = pi_zero_session.with_dynamic_twins(the_plan, loaded.matrix)
    if settings.listing:
        return listed(loaded, sys.stdout, plan=the_plan)
    results = folder_log(loaded.results_dir)
    if hello:
        print("== armv6 toolchain: C hello world, static and dynamic, under qemu ARM1176")
        print(pi_zero_session.hello_table(pi_zero_session.hello(cache, results)), end="\n\n")
    log.info(
        "== IREE's runtime from source (native for its host tools, armv6 static and dynamic; stored after "
        "the first time), then the armv6 matrix: compile for arm1176jzf-s (+vfp2), check the kernels, run"
    )
    loaded = dataclasses.replace(loaded, plan=the_plan)
    code, summary = run_plan(loaded, settings.run, cache, out=sys.stdout)
    print("\n== runtime builds")
    print(pi_zero_session.builds_table(summary.records))
    print("\n== armv6 summary")
    print(pi_zero_session.summary_table(summary.records))
    return code
