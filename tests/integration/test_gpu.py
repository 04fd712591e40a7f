"""GPU targets end to end (issue #42, docs/gpu.md): matrix/gpu-ci.toml's tiny CNN through IREE
3.13.0 for vulkan-spirv runs on lavapipe (Debian's mesa-vulkan-drivers, images/setup-host.sh) and
matches torch; its cuda:sm_80 cell compiles and, on a machine without a CUDA device, its run is
"not run: no CUDA device here", never a failure. 3.11.0's runtime hides lavapipe: its Vulkan cell runs
on SwiftShader (chromium-common's ICD, iree/devices.py) and matches torch too."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix.core.model.results import Status
from iree_matrix.iree import devices

from .conftest import REPO, iree_matrix, records

pytestmark = pytest.mark.integration

GPU_CI = REPO / "matrix" / "gpu-ci.toml"
BASE = "tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.13.0"


def _lavapipe() -> bool:
    return any(Path("/usr/share/vulkan/icd.d").glob("lvp_icd*.json"))


def _swiftshader() -> bool:
    return devices.SWIFTSHADER_ICD.is_file()


@pytest.mark.skipif(not _lavapipe(), reason="no lavapipe: run images/setup-host.sh (mesa-vulkan-drivers)")
@pytest.mark.skipif(not _swiftshader(), reason="no SwiftShader: run images/setup-host.sh (chromium-common)")
def test_vulkan_runs_on_lavapipe_and_cuda_compiles_without_a_device(warm_cache: Path, tmp_path: Path) -> None:
    cache = warm_cache  # tiny_cnn's export and modules made once per run: not the subject here
    results = tmp_path / "results"
    done = iree_matrix("matrix", "--matrix", str(GPU_CI), cache=cache, results=results)
    assert done.returncode == 0, done.stderr
    got = records(results)

    vulkan = got[f"compile:{BASE}/vulkan-spirv/default"]
    assert vulkan.status is Status.OK, vulkan.message
    assert "--iree-hal-target-backends=vulkan-spirv" in vulkan.command
    assert vulkan.metrics["module_bytes"] > 10_000
    run = got[f"run:{BASE}/vulkan-spirv/default"]
    assert run.status is Status.OK, run.message
    assert run.metrics["matches"] and run.metrics["max_abs_err"] < 1e-4
    assert any(arg.startswith("--device=vulkan://") for arg in run.command), run.command
    assert run.metrics["timing"].startswith("emulated (software Vulkan device: llvmpipe")

    cuda = got[f"compile:{BASE}/cuda-sm_80/default"]
    assert cuda.status is Status.OK, cuda.message
    assert {"--iree-hal-target-backends=cuda", "--iree-cuda-target=sm_80"} <= set(cuda.command)
    assert cuda.metrics["module_bytes"] > 10_000 and cuda.metrics["seconds"] > 0
    cuda_run = got[f"run:{BASE}/cuda-sm_80/default"]
    if cuda_run.status is Status.SKIP:  # this machine has no CUDA device
        assert (cuda_run.message or "").startswith("not run: no CUDA device here")
    else:  # a machine with one runs the same cell
        assert cuda_run.status is Status.OK, cuda_run.message

    old = got["run:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.11.0/vulkan-spirv/default"]
    assert old.status is Status.OK, old.message
    assert old.metrics["matches"] and old.metrics["max_abs_err"] < 1e-4
    assert old.metrics["timing"].startswith("emulated (software Vulkan device: SwiftShader")

    report = (results / "COMPATIBILITY.md").read_text()
    assert "## GPU targets" in report and "matches torch" in report
