"""Release selectors against the real package index, through the user's pip configuration."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from .conftest import iree_matrix, matrix_toml

pytestmark = pytest.mark.integration


def test_selectors_resolve_against_the_index_and_are_kept(cache: Path, tmp_path: Path) -> None:
    matrix = tmp_path / "m.toml"
    matrix.write_text(matrix_toml(compiler=">=3.12,<3.14", runtime="all"))
    results = tmp_path / "results"
    listed = iree_matrix("matrix", "--matrix", str(matrix), "--list", cache=cache, results=results)
    assert listed.returncode == 0, listed.stderr
    assert "compile:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.12.0/x86_64/default" in listed.stdout
    assert "compile:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.13.0/x86_64/default" in listed.stdout
    assert "/iree3.13.0/x86_64/default/rt2.9.0" in listed.stdout  # the oldest runtime release
    assert re.search(r"iree-base-runtime: \d+ releases, 2\.9\.0 … \S+ \(asked the index", listed.stdout)
    assert not (results / "releases.json").exists()  # --list plans; it keeps nothing

    # A version the index does not have: one line at plan time, with the nearest releases.
    matrix.write_text(matrix.read_text().replace('">=3.12,<3.14"', '"3.99.0"'))
    wrong = iree_matrix("matrix", "--matrix", str(matrix), "--list", cache=cache, results=results)
    assert wrong.returncode == 2
    assert "no release 3.99.0 on the index (nearest: " in wrong.stderr
    assert "Traceback" not in wrong.stderr and len(wrong.stderr.strip().splitlines()) == 1


def test_a_kept_resolution_plans_the_same_releases_offline(cache: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    # What an earlier run kept: only two compiler releases existed then.
    (results / "releases.json").write_text(
        json.dumps(
            {
                "schema": 1,
                "packages": {
                    "iree-base-compiler": {"versions": ["3.9.0", "3.13.0"], "queried": "2026-01-01"}
                },
            }
        )  # fmt: skip
    )
    matrix = tmp_path / "m.toml"
    matrix.write_text(matrix_toml(compiler="all"))
    listed = iree_matrix("matrix", "--matrix", str(matrix), "--list", cache=cache, results=results)
    assert listed.returncode == 0, listed.stderr
    compiles = [ln for ln in listed.stdout.splitlines() if ln.startswith("  compile:")]
    assert len(compiles) == 2
    assert "iree-base-compiler: 2 releases, 3.9.0 … 3.13.0 (from " in listed.stdout
