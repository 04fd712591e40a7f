"""`iree-matrix doctor`: what this machine lacks for each backend, and how to fix it."""

from __future__ import annotations

import argparse

from iree_matrix import __version__
from iree_matrix.commands.base import resolver
from iree_matrix.commands.shared_options import BACKEND, CACHE, MATRIX, cache_dir
from iree_matrix.core import shipped
from iree_matrix.matrix import spec

NAME = "doctor"
HELP = "what this machine lacks for each backend, and how to fix it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    MATRIX.add(parser, help="check the Pythons this matrix needs")
    BACKEND.add(
        parser,
        help="whose needs decide the exit code (auto: Docker's when its daemon answers, else the venvs')",
    )
    CACHE.add(parser)


def main(args: argparse.Namespace) -> int:
    from iree_matrix.core import containers
    from iree_matrix.envs import doctor

    matrix = spec.load(args.matrix or shipped.matrix_dir() / "default.toml", resolver=resolver(None))
    pythons = sorted({cell.python for cell in matrix.cells})
    checks = doctor.run_checks(cache_dir(args), pythons)
    print(f"iree-matrix {__version__} doctor ({doctor.env_summary()})")
    print(doctor.render(checks))
    backend = args.backend if args.backend != "auto" else ("docker" if containers.state().ok else "venv")
    return doctor.exit_code(checks, backend)
