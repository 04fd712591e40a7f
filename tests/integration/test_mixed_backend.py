"""`--backend mixed` for real: the export and the compile in host venvs (where any Python pyenv or
uv has can serve, e.g. 3.10, which no Debian suite ships), the Pi 4's run in an arm64 image under
qemu-user — one run, each environment made by its own backend and recorded as such."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Status
from iree_matrix.core.system import binfmt, containers

from .conftest import iree_matrix, matrix_toml, records

pytestmark = [pytest.mark.integration, pytest.mark.docker, pytest.mark.qemu]

_missing = containers.problem() or binfmt.problem("qemu-aarch64")
if _missing and os.environ.get("CI") != "true":
    pytest.skip(f"{_missing}; bash images/setup-host.sh", allow_module_level=True)

MATRIX = matrix_toml(arch="aarch64:cortex-a72", tables={"benchmark": {"repetitions": 1}})
CELL = "tiny_cnn/py3.11-torch2.13.0-turbine3.9.0"


def test_host_stages_in_venvs_and_the_foreign_run_in_an_image(cache: Path, tmp_path: Path) -> None:
    matrix = tmp_path / "mixed.toml"
    matrix.write_text(MATRIX)
    results = tmp_path / "results"
    done = iree_matrix("matrix", "--backend", "mixed", "--matrix", str(matrix), cache=cache, results=results)
    assert done.returncode == 0, done.stderr
    assert "backend: mixed (as requested)" in done.stderr
    got = records(results)
    exported = got[f"export:{CELL}"]
    compiled = got[f"compile:{CELL}/iree3.9.0/aarch64-cortex-a72/default"]
    ran = got[f"run:{CELL}/iree3.9.0/aarch64-cortex-a72/default"]
    assert exported.status is Status.OK and exported.env["backend"] == "venv", exported.env
    assert compiled.status is Status.OK and compiled.env["backend"] == "venv", compiled.env
    assert ran.status is Status.OK, ran.message
    assert ran.env["backend"] == "docker" and ran.env["image"].startswith("iree-matrix-env:"), ran.env
    assert ran.metrics["timing"] == "emulated (qemu-user, cortex-a72)"
    assert ran.metrics["max_abs_err"] <= ran.metrics["atol"] + ran.metrics["rtol"]
