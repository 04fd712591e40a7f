"""Integration fixtures: real environments, shared between test runs on this machine.

The wheelhouse and the built environments are kept in a persistent cache (the user's
`~/.cache/iree-matrix`, or `$IREE_MATRIX_CACHE`), because downloading IREE for every test run
proves nothing new. The store (exports, modules, results) is fresh for every test, so every stage
after install really executes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Record, ResultsLog
from iree_matrix.envs.cache_usage import default_cache

REPO = Path(__file__).resolve().parents[2]
SMOKE = REPO / "matrix" / "smoke.toml"


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return shared_cache(tmp_path / "cache")


def shared_cache(fresh: Path) -> Path:
    """A cache at `fresh` whose wheelhouse, environments and images are the persistent cache's."""
    persistent = default_cache()
    fresh.mkdir()
    for shared in ("wheelhouse", "envs", "images"):
        (persistent / shared).mkdir(parents=True, exist_ok=True)
        (fresh / shared).symlink_to(persistent / shared)
    return fresh


def iree_matrix(
    *args: str, cache: Path, results: Path, timeout: float = 1800, run_label: str = ""
) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "iree_matrix", *args, "--cache", str(cache), "--results-dir", str(results)]
    env = {**os.environ, "IREE_MATRIX_RUN_LABEL": run_label} if run_label else None
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    print(done.stdout)
    print(done.stderr, file=sys.stderr)
    return done


def records(results: Path) -> dict[str, Record]:
    return ResultsLog(results / "results.jsonl").latest()


def raw_lines(results: Path) -> list[dict]:
    return [json.loads(line) for line in (results / "results.jsonl").read_text().splitlines()]


def env_without(*names: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in names}


def module_digests(latest: dict[str, Record], caches: list[Path]) -> dict[str, str]:
    """compile job -> sha256 of its module.vmfb, read from the SHA256SUMS of whichever cache's
    store holds the record's key."""
    found = {}
    for job, record in latest.items():
        if record.stage != "compile" or not record.key:
            continue
        for cache in caches:
            sums = cache / "store" / "compile" / record.key / "SHA256SUMS"
            if sums.is_file():
                lines = dict(reversed(line.split("  ", 1)) for line in sums.read_text().splitlines())
                found[job] = lines.get("module.vmfb", "")
                break
    return found


def run_matrix_text(text: str, cache: Path, tmp_path: Path) -> tuple[Path, dict[str, Record]]:
    """A matrix given as TOML text, run on host venvs: its results directory and latest records."""
    matrix = tmp_path / "matrix.toml"
    matrix.write_text(text)
    results = tmp_path / "results"
    done = iree_matrix("matrix", "--matrix", str(matrix), "--backend", "venv", cache=cache, results=results)
    assert done.returncode == 0, done.stderr
    return results, records(results)
