"""`iree-matrix doctor`: what this machine lacks for each backend, and how to fix it."""

from __future__ import annotations

import argparse
from pathlib import Path

from iree_matrix import __version__
from iree_matrix.commands.base import add_cache_option, default_cache, resolver
from iree_matrix.core import shipped
from iree_matrix.matrix import spec

NAME = "doctor"
HELP = "what this machine lacks for each backend, and how to fix it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--matrix", type=Path, default=None, help="check the Pythons this matrix needs")
    parser.add_argument("--backend", choices=["auto", "docker", "venv"], default="auto")
    add_cache_option(parser)


def main(args: argparse.Namespace) -> int:
    from iree_matrix.core import containers
    from iree_matrix.envs import doctor

    matrix = spec.load(args.matrix or shipped.matrix_dir() / "default.toml", resolver=resolver(None))
    pythons = sorted({cell.python for cell in matrix.cells})
    checks = doctor.run_checks(args.cache or default_cache(), pythons)
    print(f"iree-matrix {__version__} doctor ({doctor.env_summary()})")
    print(doctor.render(checks))
    backend = args.backend if args.backend != "auto" else ("docker" if containers.state().ok else "venv")
    return doctor.exit_code(checks, backend)
