"""`iree-matrix armv6-smoke` end to end (the matrix part; the hello world has its own test):
real turbine export, real IREE cross-compile for the Pi Zero, the kernel ELF checked, a model
that needs integer division recorded as a link failure naming the missing symbol, and runs
skipped with the reason because IREE publishes no armv6 runtime."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix.results import Status

from .conftest import iree_matrix, records

pytestmark = pytest.mark.integration

IDIV = """
import torch
from models.api import ModelSpec


class IntDiv(torch.nn.Module):
    def forward(self, a, b):
        return torch.div(a, b, rounding_mode="trunc")


def build(seed=0):
    a = torch.arange(1, 33, dtype=torch.int32).reshape(4, 8)
    b = torch.full((4, 8), 3, dtype=torch.int32)
    return ModelSpec(IntDiv(), (a, b), atol=0, rtol=0)
"""
MATRIX = """
python = "3.11"
torch = "2.13.0"
turbine = "3.9.0"
compiler = "3.9.0"
arch = "armv6"
models = "tiny_cnn"
"""
BASE = "py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/armv6-arm1176jzf-s/default"


def test_armv6_smoke_builds_checks_kernels_and_names_link_gaps(cache: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir(mode=0o755)
    (models / "idiv.py").write_text(IDIV)
    (models / "idiv.py").chmod(0o644)
    matrix = tmp_path / "armv6.toml"
    matrix.write_text(MATRIX)
    results = tmp_path / "results"
    done = iree_matrix(
        "armv6-smoke", "--no-hello", "--matrix", str(matrix),
        "--model", "tiny_cnn", "--model", f"{models / 'idiv.py'}:build",
        cache=cache, results=results,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    got = records(results)

    tiny = got[f"compile:tiny_cnn/{BASE}"]
    assert tiny.status is Status.OK, tiny.message
    assert "--iree-llvmcpu-target-cpu=arm1176jzf-s" in tiny.command
    assert "--iree-llvmcpu-target-cpu-features=+vfp2" in tiny.command
    kernel = tiny.metrics["kernel"]
    assert kernel["armv6_ok"] and kernel["Tag_CPU_arch"] == "v6" and kernel["Tag_FP_arch"] == "VFPv2"
    assert not kernel["Tag_Advanced_SIMD_arch"]

    idiv = got[f"compile:idiv/{BASE}"]
    assert idiv.status is Status.FAIL and idiv.error_class == "link-error"
    assert idiv.message.startswith("undefined symbols at link: __aeabi_idiv")

    run = got[f"run:tiny_cnn/{BASE}"]
    assert run.status is Status.SKIP
    assert "IREE publishes no armv6 runtime; pass --armv6-runtime DIR" in run.message

    assert "== armv6 summary" in done.stdout
    summary = done.stdout.split("== armv6 summary", 1)[1]
    assert (
        "v6, VFPv2, no NEON" in summary and "link-error: undefined symbols at link: __aeabi_idiv" in summary
    )
