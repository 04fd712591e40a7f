"""Where the files that travel with the tool live: stage workers, models, shipped matrices.

From a checkout (editable install, nox) they are the repository's `scripts/` and `matrix/`; from a
wheel they are package data (`iree_matrix/_scripts`, `iree_matrix/_matrix`, see pyproject.toml).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]
_CHECKOUT = _PACKAGE.parents[1]


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"none of {', '.join(map(str, candidates))} exists; is the install broken?")


def scripts_dir() -> Path:
    return _first_existing(_PACKAGE / "_scripts", _CHECKOUT / "scripts")


def matrix_dir() -> Path:
    return _first_existing(_PACKAGE / "_matrix", _CHECKOUT / "matrix")


def kernels_dir() -> Path:
    """The kernel library (kernels/): what `advise` tries against an answer's gap unasked."""
    return _first_existing(_PACKAGE / "_kernels", _CHECKOUT / "kernels")


def results_dir() -> Path:
    """The published results (results/**/results.jsonl): the logs a published set's latencies are
    cross-checked against, and the bench a run's speed figures are related to (the wheel carries the
    reference bench only, results/bench-rocketlake: report/published.py PUBLISHED_SET)."""
    return _first_existing(_PACKAGE / "_results", _CHECKOUT / "results")


def command() -> str:
    """The command that runs this tool, as its user can type it: in a virtual environment, the
    launcher beside this interpreter, relative to the working directory where it is under it
    (`.nox/matrix/bin/iree-matrix` after `nox -s matrix`: nox's venv is on no shell's PATH but its
    own); else `iree-matrix`, which `pip install` put on the PATH."""
    launcher = Path(sys.prefix) / "bin" / "iree-matrix"
    if sys.prefix == sys.base_prefix or not launcher.is_file():
        return "iree-matrix"
    on_path = shutil.which("iree-matrix")  # an activated venv: the bare name runs this launcher
    if on_path and Path(on_path).resolve() == launcher.resolve():
        return "iree-matrix"
    shown = os.path.relpath(launcher)
    return shown if not shown.startswith("..") else str(launcher)
