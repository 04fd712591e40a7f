"""`iree-matrix doctor`: what this machine lacks for each backend, and how to fix it."""

from __future__ import annotations

import argparse
from pathlib import Path

from iree_matrix import __version__
from iree_matrix.commands.option_types import taking
from iree_matrix.commands.options import BACKEND, CACHE, MATRIX, cache_dir, matrix_path
from iree_matrix.execution.workflow import resolver
from iree_matrix.matrix import spec_file

NAME = "doctor"
HELP = "what this machine lacks for each backend, and how to fix it"
add_arguments = taking(
    MATRIX.but(help="check the Pythons this matrix needs"),
    BACKEND.but(
        help="whose needs decide the exit code (auto: Docker's when its daemon answers, else the venvs')"
    ),
    CACHE,
)


def main(args: argparse.Namespace) -> int:
    return run(matrix_path(args), cache_dir(args), BACKEND.of(args) or "auto")


def run(matrix_path: Path, cache: Path, backend: str) -> int:
    from iree_matrix.core.system import containers
    from iree_matrix.envs import doctor

    matrix = spec_file.load(matrix_path, resolver=resolver(None))
    checks = doctor.run_checks(cache, sorted({cell.python for cell in matrix.cells}))
    print(f"iree-matrix {__version__} doctor ({doctor.env_summary()})")
    print(doctor.render(checks))
    decides = backend if backend != "auto" else ("docker" if containers.state().ok else "venv")
    return doctor.exit_code(checks, decides)
