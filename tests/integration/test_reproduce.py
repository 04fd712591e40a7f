"""`iree-matrix reproduce` for real: one published cell of the smoke matrix (tiny_cnn, IREE 3.9.0, on
host venvs) re-created from its records alone in a fresh cache at another path, with the same module
and output sha256. If a module's bytes depended on where the store lives, or an output on anything
but the cell, this fails (the comparison itself is unit-tested in tests/unit/test_reproduce.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix.envs.cache_usage import default_cache

from .conftest import SMOKE, iree_matrix, records

pytestmark = pytest.mark.integration

CELL = "tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default"


def test_a_published_cell_is_the_same_bytes_when_made_again_elsewhere(
    warm_cache: Path, tmp_path: Path
) -> None:
    cache = warm_cache  # tiny_cnn's export and modules made once per run: not the subject here
    published = tmp_path / "published"
    made = iree_matrix(
        "matrix", "--matrix", str(SMOKE), "--select", f"run:{CELL}", "--backend", "venv",
        cache=cache, results=published,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    run, compiled = records(published)[f"run:{CELL}"], records(published)[f"compile:{CELL}"]
    assert run.metrics["module_sha256"] == compiled.metrics["module_sha256"]
    assert len(run.metrics["outputs_sha256"]) == 64 and "module.fb" in compiled.metrics["module_parts_sha256"]

    # Another cache at another path: a store of its own (the environments' wheels may be shared).
    fresh = tmp_path / "somewhere" / "else" / "cache"
    fresh.mkdir(parents=True)
    (fresh / "wheelhouse").symlink_to(default_cache() / "wheelhouse")
    again = iree_matrix("reproduce", f"run:{CELL}", f"compile:{CELL}", cache=fresh, results=published)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count(f"module  same sha256 {compiled.metrics['module_sha256'][:12]}") == 2
    assert f"outputs same sha256 {run.metrics['outputs_sha256'][:12]}" in again.stdout
    assert "env     same pins" in again.stdout
    assert again.stdout.rstrip().endswith(
        "2 cell(s): 2/2 same module sha256, 1/1 runs same outputs sha256; no difference"
    )
    # It was made there, not read from the first store.
    assert list((fresh / "store" / "compile").iterdir())

    refused = iree_matrix("reproduce", f"run:{CELL}", cache=fresh, results=published)
    assert refused.returncode == 2 and "its store already holds results" in refused.stderr
