"""Where the files that travel with the tool live: stage workers, models, shipped matrices.

From a checkout (editable install, nox) they are the repository's `scripts/` and `matrix/`; from a
wheel they are package data (`iree_matrix/_scripts`, `iree_matrix/_matrix`, see pyproject.toml).
"""

from __future__ import annotations

import os
import shlex
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
    """The published results (results/**/results.jsonl; a wheel carries the reference bench only)."""
    return _first_existing(_PACKAGE / "_results", _CHECKOUT / "results")


def command() -> str:
    """The command that runs this very tool from any directory, as every printed command starts
    (`pasted.invoked`): `iree-matrix` where that name on the PATH is the entry point running now, else
    that entry point's absolute path, or this interpreter's `-m iree_matrix`."""
    if (running := _entry_point()) is None:
        return "iree-matrix"
    on_path = shutil.which("iree-matrix")
    if len(running) == 1 and on_path and Path(on_path).resolve() == Path(running[0]).resolve():
        return "iree-matrix"
    return shlex.join(running)


def _entry_point() -> list[str] | None:
    """The argv that runs this tool: the launcher run, else the one beside this interpreter, else this
    interpreter with `-m iree_matrix`; None for a library call with no launcher."""
    first = sys.argv[0] if sys.argv and sys.argv[0] else ""
    if Path(first).name == "iree-matrix" and Path(first).is_file():
        return [os.path.abspath(first)]
    if (launcher := Path(sys.prefix) / "bin" / "iree-matrix").is_file():
        return [str(launcher)]
    if Path(first).name == "__main__.py" and Path(first).parent.name == "iree_matrix":
        return [os.path.abspath(sys.executable), "-m", "iree_matrix"]
    return None
