"""A Raspberry Pi 4 (Cortex-A72) run for real: cross-compiled here, run in an arm64 image under
qemu-user pinned to the board's CPU, checked against torch. Then the same run with the runtime
taken from a directory of tools (here: the aarch64 wheel's own binaries) — the path an armv6
user's self-built runtime takes."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Status
from iree_matrix.core.system import binfmt, containers

from .conftest import iree_matrix, matrix_toml, records, skip_module_without

pytestmark = [pytest.mark.integration, pytest.mark.docker, pytest.mark.qemu]

skip_module_without(containers.problem() or binfmt.problem("qemu-aarch64"))

MATRIX = matrix_toml(arch="aarch64:cortex-a72", tables={"benchmark": {"repetitions": 2}})
RUN = "run:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/aarch64-cortex-a72/default"


def test_cortex_a72_run_is_green_checked_and_labelled_emulated_also_from_a_tools_dir(
    cache: Path, tmp_path: Path
) -> None:
    matrix = tmp_path / "a72.toml"
    matrix.write_text(MATRIX)
    results = tmp_path / "results"
    done = iree_matrix("matrix", "--backend", "docker", "--matrix", str(matrix), cache=cache, results=results)
    assert done.returncode == 0, done.stderr
    got = records(results)
    compiled = got["compile:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/aarch64-cortex-a72/default"]
    assert "--iree-llvmcpu-target-triple=aarch64-unknown-linux-gnu" in compiled.command
    assert "--iree-llvmcpu-target-cpu=cortex-a72" in compiled.command
    ran = got[RUN]
    assert ran.status is Status.OK, ran.message
    assert ran.metrics["max_abs_err"] <= ran.metrics["atol"] + ran.metrics["rtol"]
    assert ran.metrics["timing"] == "emulated (qemu-user, cortex-a72)"
    assert ran.env["packages"]["iree-base-runtime"] == "3.9.0" and ran.env["image"].startswith(
        "iree-matrix-env:"
    )
    assert "(emulated)" in (results / "COMPATIBILITY.md").read_text()

    # The runtime-directory path: the same run with tools from the aarch64 wheel's binaries.
    wheel = next((cache / "wheelhouse" / "files").glob("iree_base_runtime-3.9.0-*aarch64*.whl"))
    tools = tmp_path / "aarch64-tools"
    tools.mkdir(mode=0o755)
    with zipfile.ZipFile(wheel) as zf:
        for tool in ("iree-run-module", "iree-benchmark-module"):
            (tools / tool).write_bytes(zf.read(f"iree/_runtime_libs/{tool}"))
            (tools / tool).chmod(0o755)
    again = iree_matrix(
        "matrix", "--backend", "docker", "--matrix", str(matrix), "--runtime-dir", f"aarch64={tools}",
        cache=cache, results=results,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    from_dir = [r for r in records(results).values() if r.stage == "run" and r.labels.get("runtime_tools")]
    assert len(from_dir) == 1
    assert from_dir[0].labels["runtime_tools"] == str(tools)
    assert from_dir[0].labels["runtime"].startswith("source build ")
    assert from_dir[0].status is Status.OK, from_dir[0].message
    assert from_dir[0].env["tools"] == str(tools)
    assert from_dir[0].metrics["timing"] == "emulated (qemu-user, cortex-a72)"
