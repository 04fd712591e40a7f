"""The published results (`results/`, committed) apart from a user's runs (`runs/<matrix>/`).

A run only ever writes its own directory. `publish` is the one step that writes a published
directory: it replaces that directory's records with the run's, copies the manifests and the
release list the run planned with, and renders the documents from those records alone — so a
published table is always exactly its own `results.jsonl`. `forget` removes cells from a log
(a mistaken `compiler = ["3.99.0"]`), keeping the previous file as `results.jsonl.bak`.
"""

from __future__ import annotations

import fnmatch
import shutil
from collections.abc import Sequence
from pathlib import Path

from iree_matrix.core._files import write_atomically
from iree_matrix.core.errors import UserError
from iree_matrix.core.results import ResultsLog

RUNS_DIR = Path("runs")
PUBLISHED_DIR = Path("results")
RESULTS = "results.jsonl"
RELEASES = "releases.json"
MANIFESTS = "manifests"


def run_dir(matrix_path: Path) -> Path:
    """Where a user's run of `matrix_path` keeps its records and report: never the published tree."""
    return RUNS_DIR / Path(matrix_path).stem


def publish(run: Path, to: Path) -> list[Path]:
    """Copy a run's records (and manifests, release list) into a published directory; the caller
    renders the documents. Returns the files written."""
    run, to = Path(run), Path(to)
    source = run / RESULTS
    if not source.is_file():
        raise UserError(
            f"{source}: no such results file; publish the directory a run wrote (e.g. runs/default)"
        )
    if not any(True for _ in ResultsLog(source)):
        raise UserError(f"{source}: no records to publish")
    if run.resolve() == to.resolve():
        raise UserError(f"publish {run} --to {to}: the run and the published directory are the same")
    to.mkdir(parents=True, exist_ok=True)
    written = [_copy_atomically(source, to / RESULTS)]
    if (run / RELEASES).is_file():
        written.append(_copy_atomically(run / RELEASES, to / RELEASES))
    for manifest in sorted((run / MANIFESTS).glob("*.json")) if (run / MANIFESTS).is_dir() else []:
        (to / MANIFESTS).mkdir(exist_ok=True)
        written.append(_copy_atomically(manifest, to / MANIFESTS / manifest.name))
    return written


def forget(results_dir: Path, globs: Sequence[str]) -> tuple[int, int]:
    """Drop every record whose job id or cell matches a glob. Returns (removed, kept)."""
    path = Path(results_dir) / RESULTS
    if not path.is_file():
        raise UserError(f"{path}: no such results file")
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
    records = {r.job: r for r in ResultsLog(path)}
    doomed = {
        job
        for job, r in records.items()
        if any(fnmatch.fnmatchcase(job, g) or fnmatch.fnmatchcase(r.cell, g) for g in globs)
    }
    if not doomed:
        raise UserError(f"{path}: no record matches {', '.join(map(repr, globs))}; nothing forgotten")
    import json

    kept, removed = [], 0
    for line in lines:
        try:
            job = json.loads(line).get("job")
        except (ValueError, AttributeError):
            job = None
        if job in doomed:
            removed += 1
        else:
            kept.append(line)
    shutil.copyfile(path, path.with_name(RESULTS + ".bak"))
    write_atomically(path, "".join(kept))
    return removed, len(kept)


def _copy_atomically(source: Path, target: Path) -> Path:
    return write_atomically(target, source.read_bytes())
