"""`iree-matrix bundle --to DIR`: compile here, pack what another machine needs to answer there
(tasks/bundling.py)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Optional

from iree_matrix.commands import options
from iree_matrix.core import shipped
from iree_matrix.core.errors import UserError
from iree_matrix.tasks import bundling

NAME = "bundle"
HELP = (
    "compile a matrix's cells here; pack them, a runtime (wheel, or tools built from source) and a "
    "numpy-only run.py for another machine"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    options.add_matrix_options(parser, "bundle.toml")
    options.TO.add(parser, help="the bundle's folder (its archive: DIR.tar.gz beside it)")
    options.PYTHON.add(
        parser,
        repeat=True,
        help="carry the runtime wheel for this Python of the target (repeatable; default: this one's)",
    )
    for option in (options.MACHINE, options.MAX_SIZE, options.ADVISE, options.CPU):
        option.add(parser)
    options.TARGET.add(
        parser,
        repeat=True,
        help="with --advise: a GPU sitting for this target instead of a CPU one (vulkan-spirv, cuda:sm_80, "
        "rocm:gfx942; repeatable): default by each --release, timed there beside torch on the GPU",
    )
    options.RELEASE.add(
        parser,
        help="with --advise: the IREE release (default: the published answer's); with --target, "
        "comma-separated releases (e.g. 3.9.0,3.13.0)",
    )
    options.REPETITIONS.add(
        parser, help="with --advise: the sitting's calls per arm and round (default: %(default)s)"
    )
    options.PICKS.add(
        parser,
        help="with --advise: comma-separated configurations instead of the published picks; the first "
        "is the one whose neighbourhood travels (e.g. a neighbour a bundle's proof found faster)",
    )
    options.NO_PROOF.add(
        parser,
        help="with --advise: leave the pick's neighbourhood out (its one-knob changes, 15-20 more modules "
        "checked and timed there beside it)",
    )


def main(args: argparse.Namespace) -> int:
    from iree_matrix.commands.base import built_model, check_release

    plan, advised = options.plan_settings(args), options.ADVISE.of(args)
    if advised and plan.models:  # it was dropped for --advise's model, silently
        raise UserError(
            f"bundle --advise {advised}: --model {plan.models[0]} is not taken with --advise "
            "(its sitting is one model's: bundle each model with its own --advise)"
        )
    _check_to(options.TO.of(args))
    check_release("bundle", options.RELEASE.of(args), plan.results_dir)
    if advised and options.MATRIX.of(args) is None:  # advise's arms: advise's matrix, the results here
        plan = dataclasses.replace(plan, matrix=shipped.matrix_dir() / "advise.toml")
    reference, name = built_model(advised, "bundle --advise") if advised else (None, None)
    settings = bundling.Settings(
        to=options.TO.of(args),
        python=options.PYTHON.each(args),
        machine=options.MACHINE.of(args),
        max_size=options.MAX_SIZE.of(args),
        advise=name,
        reference=reference,
        cpu=options.CPU.of(args),
        release=options.RELEASE.of(args),
        repetitions=options.REPETITIONS.of(args) or 3,
        picks=tuple(p for p in (options.PICKS.of(args) or "").split(",") if p.strip()),
        proof=not options.NO_PROOF.of(args),
        targets=options.TARGET.each(args),
    )
    return bundling.run(plan, settings, sys.stdout)


def _check_to(to: Optional[Path]) -> None:
    """`--to` checked before anything is compiled for it (a file there was refused only at packing)."""
    from iree_matrix.core.input_files import blocking_file
    from iree_matrix.execution.bundle import MANIFEST

    if to is None:
        return
    if to.exists() and not (to / MANIFEST).is_file():
        raise UserError(f"bundle --to {to}: exists and is not a bundle; name a new folder")
    if (parent := blocking_file(to.parent)) is not None:
        raise UserError(f"bundle --to {to}: {parent} is not a directory; name a new folder")
