"""`--backend mixed` for real: the export and the compile in host venvs (where any Python pyenv or
uv has can serve, e.g. 3.10, which no Debian suite ships), the Pi 4's run in an arm64 image under
qemu-user — one run, each environment made by its own backend and recorded as such."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix.core.model.results import Status
from iree_matrix.core.system import binfmt, containers

from .conftest import matrix_toml, run_matrix_text, skip_module_without

pytestmark = [pytest.mark.integration, pytest.mark.docker, pytest.mark.qemu]

skip_module_without(containers.problem() or binfmt.problem("qemu-aarch64"))

MATRIX = matrix_toml(arch="aarch64:cortex-a72", tables={"benchmark": {"repetitions": 1}})
CELL = "tiny_cnn/py3.11-torch2.13.0-turbine3.9.0"


def test_host_stages_in_venvs_and_the_foreign_run_in_an_image(cache: Path, tmp_path: Path) -> None:
    done, _, got = run_matrix_text(MATRIX, cache, tmp_path / "mixed.toml", backend="mixed")
    assert "backend: mixed (as requested)" in done.stderr
    exported = got[f"export:{CELL}"]
    compiled = got[f"compile:{CELL}/iree3.9.0/aarch64-cortex-a72/default"]
    ran = got[f"run:{CELL}/iree3.9.0/aarch64-cortex-a72/default"]
    assert exported.status is Status.OK and exported.env["backend"] == "venv", exported.env
    assert compiled.status is Status.OK and compiled.env["backend"] == "venv", compiled.env
    assert ran.status is Status.OK, ran.message
    assert ran.env["backend"] == "docker" and ran.env["image"].startswith("iree-matrix-env:"), ran.env
    assert ran.metrics["timing"] == "emulated (qemu-user, cortex-a72)"
    assert ran.metrics["max_abs_err"] <= ran.metrics["atol"] + ran.metrics["rtol"]
