"""Where the files that travel with the tool live: stage workers, models, shipped matrices.

From a checkout (editable install, nox) they are the repository's `scripts/` and `matrix/`; from a
wheel they are package data (`iree_matrix/_scripts`, `iree_matrix/_matrix`, see pyproject.toml).
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import sys
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]
_CHECKOUT = _PACKAGE.parents[1]


def _shipped(name: str) -> Path:
    """A wheel's `iree_matrix/_<name>`, else the checkout's `<name>/`."""
    candidates = (_PACKAGE / f"_{name}", _CHECKOUT / name)
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"none of {', '.join(map(str, candidates))} exists; is the install broken?")


scripts_dir = functools.partial(_shipped, "scripts")
matrix_dir = functools.partial(_shipped, "matrix")
kernels_dir = functools.partial(_shipped, "kernels")  # what `advise` tries against an answer's gap unasked
# The published results (results/**/results.jsonl; a wheel carries the reference bench only).
results_dir = functools.partial(_shipped, "results")


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
