"""Where the files that travel with the tool live: stage workers, models, shipped matrices.

From a checkout (editable install, nox) they are the repository's `scripts/` and `matrix/`; from a
wheel they are package data (`iree_matrix/_scripts`, `iree_matrix/_matrix`, see pyproject.toml).
"""

from __future__ import annotations

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


def results_dir() -> Path:
    """The published results (results/**/results.jsonl): the logs a published set's latencies are
    cross-checked against, and the bench a run's speed figures are related to (the wheel carries the
    reference bench only, results/bench-rocketlake: report/published.py PUBLISHED_SET)."""
    return _first_existing(_PACKAGE / "_results", _CHECKOUT / "results")
