"""`iree-matrix advise MODEL`: the published answer made this machine's, in one paired sitting
(tasks/advise.py runs it)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Optional

from iree_matrix.advise.paired_rounds import Request
from iree_matrix.commands import options
from iree_matrix.core.errors import UserError
from iree_matrix.tasks import advise

NAME = "advise"
HELP = (
    "time default, the published picks, the naive build and ONNX Runtime here in one paired sitting "
    "(with --kernel, each kernel swapped into default and each pick too): this CPU's answer"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for option in (options.MODEL_REF, options.RELEASE, options.PICKS, options.FLEET):
        option.add(parser)
    options.add_paired_options(parser)
    for then in (options.NO_PROOF, options.PROOF_STEPS, options.NO_GAP, options.LIBRARY):
        then.add(parser)
    options.add_matrix_options(parser, advise.MATRIX)


def main(args: argparse.Namespace) -> int:
    from iree_matrix.commands.base import built_model, check_release

    rounds, repetitions = options.paired(args)
    if options.MODEL.each(args):  # it was dropped for MODEL, silently (and named the results folder)
        raise UserError(
            f"advise {options.MODEL_REF.of(args)}: --model {options.MODEL.each(args)[0]} is not taken here: "
            "advise times one model, the one it is given (run `iree-matrix advise MODEL` once per model)"
        )
    reference, base_model = built_model(options.MODEL_REF.of(args), "advise")
    plan = options.plan_settings(args)
    check_release("advise", options.RELEASE.of(args), plan.results_dir)
    settings = advise.Settings(
        sitting=Request(rounds, repetitions),
        no_proof=options.NO_PROOF.of(args),
        proof_steps=_proof_steps(options.PROOF_STEPS.of(args)),
        no_gap=options.NO_GAP.of(args),
        library=options.LIBRARY.of(args),
        release=options.RELEASE.of(args),
        picks=options.PICKS.of(args),
        fleet=_fleet(options.FLEET.each(args)),
    )
    return advise.run(plan, settings, reference, base_model, sys.stdout)


def _proof_steps(steps: Optional[int]) -> int:
    """`--proof-steps 0` or below was taken: a proof of no step, its neighbours compiled for nothing."""
    if steps is None:
        return 0
    if steps < 1:
        raise UserError(f"advise --proof-steps {steps}: expected 1 or more (--no-proof skips the proof)")
    return steps


def _fleet(cpus: Sequence[str]) -> tuple[str, ...]:
    """Each `--fleet CPU` one iree-compile takes: a misspelt one compiled nothing that ran, late."""
    from iree_matrix.iree import targets

    for cpu in cpus:
        if (why := targets.host_cpu_problem(cpu)) is not None:
            raise UserError(f"advise --fleet {cpu}: {why}")
    return tuple(cpus)
