"""The pipeline on the Docker backend: debootstrap bases, environment images, stages in fresh
containers. Python is a real axis here (bullseye 3.9, bookworm 3.11)."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest

from iree_matrix import images
from iree_matrix.core.model.results import Status
from iree_matrix.core.system import containers

from .conftest import iree_matrix, matrix_toml, raw_lines, records, skip_module_without

pytestmark = [pytest.mark.integration, pytest.mark.docker]

skip_module_without(containers.problem() and f"no Docker daemon ({containers.problem()})")

MATRIX = matrix_toml(
    python=["3.9", "3.11"], compiler=["3.9.0", "3.13.0"], tables={"benchmark": {"repetitions": 2}}
)
PY311 = "tiny_cnn/py3.11-torch2.13.0-turbine3.9.0"


def test_python_axis_on_docker_green_cells_and_honest_install_failures(cache: Path, tmp_path: Path) -> None:
    matrix = tmp_path / "python.toml"
    matrix.write_text(MATRIX)
    results = tmp_path / "results"
    label = f"test-{uuid.uuid4().hex[:8]}"
    done = iree_matrix(
        "matrix",
        "--backend",
        "docker",
        "--matrix",
        str(matrix),
        cache=cache,
        results=results,
        run_label=label,
    )
    assert done.returncode == 0, done.stderr
    assert "backend: docker (as requested)" in done.stderr
    got = records(results)

    # Python 3.11 (bookworm): green, in containers, each record naming its image and manifest.
    for version in ("3.9.0", "3.13.0"):
        ran = got[f"run:{PY311}/iree{version}/x86_64/default"]
        assert ran.status is Status.OK, ran.message
        assert ran.env["backend"] == "docker"
        assert ran.env["image"].startswith("iree-matrix-env:") and ran.env["image_id"].startswith("sha256:")
        manifest = json.loads((results / "manifests" / Path(ran.env["manifest"]).name).read_text())
        assert manifest["python"].startswith("3.11")
        assert any(
            pkg["name"] == "iree-base-runtime" and pkg["version"] == version
            for pkg in manifest["python_packages"]
        )

    # Python 3.9 (bullseye): pip's own reasons, and everything downstream not run because of them.
    exporter = got["install:py3.9-torch2.13.0-turbine3.9.0"]
    assert exporter.status is Status.FAIL and exporter.error_class == "resolve"
    # pip's own words, which depend on the index: with Requires-Python data it finds no torch
    # 2.13.0 for Python 3.9; through a mirror without it (this machine's local one), the wheelhouse
    # excludes the releases that need a newer Python and pip then says the request cannot be met.
    assert "torch==2.13.0" in exporter.message and (
        "No matching distribution found for torch==2.13.0" in exporter.message
        or "ResolutionImpossible" in exporter.message
    ), exporter.message
    new_compiler = got["install:py3.9-iree-compiler3.13.0"]
    assert new_compiler.status is Status.FAIL
    assert "iree-base-compiler==3.13.0" in new_compiler.message
    old_compiler = got["install:py3.9-iree-compiler3.9.0"]
    assert old_compiler.status is Status.OK and old_compiler.env["python"].startswith("3.9")
    blocked = got["export:tiny_cnn/py3.9-torch2.13.0-turbine3.9.0"]
    assert blocked.status is Status.NOT_RUN and blocked.blocked_by == exporter.job

    leftovers = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label={images.LABEL}.run={label}"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert leftovers == "", "containers were left behind"

    # Second run: nothing built, nothing run, nothing new published.
    lines = len(raw_lines(results))
    again = iree_matrix(
        "matrix", "--backend", "docker", "--matrix", str(matrix), cache=cache, results=results
    )
    assert again.returncode == 0, again.stderr
    assert "(0 executed," in again.stdout and " ...\n" not in again.stderr and "stored result" in again.stderr
    assert len(raw_lines(results)) == lines
