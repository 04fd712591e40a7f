"""A bare-metal Cortex-M4 run for real: tiny_cnn compiled by IREE 3.9.0 as a static library, IREE's
runtime cross-built from source with arm-none-eabi-gcc + newlib, linked into a firmware and run
under qemu-system-arm (mps2-an386) with semihosting output, checked against torch, with its flash
and RAM recorded and rendered. The runtime build is kept in the persistent cache
(`<cache>/cortex-m-runtime`), so only the first run on a machine pays for it (~4 min on 2 cores)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Status
from iree_matrix.envs.cache_usage import default_cache
from iree_matrix.source_builds import cortex_m

from .conftest import iree_matrix, iree_source, matrix_toml, records

pytestmark = [pytest.mark.integration, pytest.mark.cortex_m]

_missing = [tool for tool in (*cortex_m.TOOLS, "cmake", "ninja") if shutil.which(tool) is None]
if _missing and os.environ.get("CI") != "true":
    pytest.skip(f"{', '.join(_missing)} missing; bash images/setup-host.sh", allow_module_level=True)

MATRIX = matrix_toml(runtime="src:3.9.0", arch="cortex-m:cortex-m4", tables={"benchmark": {"repetitions": 1}})
RUN = "run:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/cortex-m-cortex-m4/default/rtsrc3.9.0"


def test_tiny_cnn_firmware_runs_on_a_cortex_m4_checked_and_sized(cache: Path, tmp_path: Path) -> None:
    shared = default_cache() / "cortex-m-runtime"  # built once per machine, like the environments
    shared.mkdir(parents=True, exist_ok=True)
    (cache / "cortex-m-runtime").symlink_to(shared)
    matrix = tmp_path / "cortex-m.toml"
    matrix.write_text(MATRIX)
    results = tmp_path / "results"
    source = iree_source()
    if "3.9.0" not in Path(source).name and not os.environ.get("IREE_MATRIX_IREE_SOURCE"):
        pytest.skip(f"{source} is not IREE 3.9.0's source")
    done = iree_matrix(
        "matrix", "--backend", "venv", "--matrix", str(matrix), "--iree-source", f"3.9.0={source}",
        cache=cache, results=results, timeout=3600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    got = records(results)
    compiled = got["compile:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/cortex-m-cortex-m4/default"]
    assert compiled.status is Status.OK, compiled.message
    assert "--iree-llvmcpu-link-static" in compiled.command
    run = got[RUN]
    assert run.status is Status.OK, run.message
    m = run.metrics
    assert m["matches"] is True and m["max_abs_err"] <= m["atol"] + m["rtol"] * 10
    assert m["machine"] == "mps2-an386" and m["device"] == "local-sync"
    # The firmware is the runtime + kernels + the 100 KB module: hundreds of KiB, under the machine's 4 MiB.
    assert 100_000 < m["flash_bytes"] < m["machine_flash_bytes"]
    assert m["sections"]["text"] > 50_000 and m["sections"]["rodata"] > m["module_bytes"]
    # tiny_cnn's 16x32x32 f32 activations alone are 64 KiB: the heap's peak has them.
    assert m["heap_peak_bytes"] > 64 * 1024 and 0 < m["stack_peak_bytes"] < cortex_m.STACK_BYTES
    assert m["ram_bytes"] >= m["heap_peak_bytes"] + m["stack_peak_bytes"]
    assert set(m["fits"]) == {b.name for b in cortex_m.boards() if b.target_cpu == "cortex-m4"}
    report = (results / "COMPATIBILITY.md").read_text()
    assert "## Bare-metal Cortex-M firmware" in report
    row = next(line for line in report.splitlines() if line.startswith("| tiny_cnn") and "mps2-an386" in line)
    assert "| ok " in row and "% of 4.00 MiB" in row
