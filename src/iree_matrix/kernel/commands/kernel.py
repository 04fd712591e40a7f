"""`iree-matrix kernel ir|spec MODEL`: the IR a kernel's transform spec runs on, or the spec the tool
writes from it (kernel/tasks/kernel_ir.py)."""

from __future__ import annotations

import argparse
import sys

from iree_matrix.commands.base import model_reference
from iree_matrix.commands.option_types import Option, Positional, taking
from iree_matrix.commands.options import CACHE, KERNEL, MODEL_REF, RELEASE, cache_dir
from iree_matrix.kernel.tasks import kernel_ir

NAME = "kernel"
PROFILE: Option[str] = Option("--profile", "the compile profile (default: default)", default="default")
KERNEL_ACTION: Positional[str] = Positional("action", None, choices=("ir", "spec"))
HELP = "ir: the IR a kernel's spec sees, each op with its torch module and line; spec: the spec made from it"
add_arguments = taking(
    KERNEL_ACTION,
    MODEL_REF,
    RELEASE.but(help="the IREE release (default: the newest the default matrix installs)"),
    PROFILE,
    KERNEL.but(repeat=False, help="with this kernel's requires_flags (and the C prototype it calls)"),
    CACHE,
)


def main(args: argparse.Namespace) -> int:
    model, profile = model_reference(MODEL_REF.of(args) or ""), PROFILE.of(args) or "default"
    release, kernel, cache = RELEASE.of(args) or "", KERNEL.of(args), cache_dir(args)
    return kernel_ir.run(model, release, profile, kernel, cache, sys.stdout, KERNEL_ACTION.of(args) == "spec")
