"""Instruction counts and the roofline for real: tiny_cnn through IREE 3.13.0, counted by valgrind's
callgrind on the wheel's own iree-benchmark-module (local-sync) — the avx2 module counted, and on an
AVX-512 host the default module refused by valgrind with the fix said; its FLOPs counted by torch,
and the host's peak measured by the C kernel built here."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Status
from iree_matrix.core.system import host
from iree_matrix.iree import targets

from .conftest import TINY_BENCHMARK, matrix_toml, run_matrix_text

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("valgrind") is None, reason="valgrind is not installed (images/setup-host.sh)"
    ),
]

CELL = "tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.13.0/x86_64"

MATRIX = matrix_toml(
    compiler="3.13.0",
    profiles=["default", "avx2"],
    tables={
        "benchmark": {**TINY_BENCHMARK, "instructions": ["tiny_cnn/*"], "roofline": ["tiny_cnn/default"]}
    },
)


def test_callgrind_counts_one_call_of_the_avx2_module(warm_cache: Path, tmp_path: Path) -> None:
    cache = warm_cache  # tiny_cnn's export and modules made once per run: not the subject here
    *_, got = run_matrix_text(MATRIX, cache, tmp_path / "matrix.toml")

    counted = got[f"instructions:{CELL}/avx2"]
    assert counted.status is Status.OK, counted.message
    assert counted.labels["device"] == "local-sync"
    figures = counted.metrics["instructions"]
    (run,) = figures["runs"]
    assert run["iterations"] == 1 and figures["per_call"] == run["total"]
    assert figures["counted"] == "iree_vm_invoke"
    # One call of a tiny CNN: millions of instructions (7.2 M on IREE 3.13.0 here), not billions.
    assert 1e5 < figures["per_call"] < 1e9
    assert figures["tool"].startswith("callgrind (valgrind-")
    assert got[f"run:{CELL}/avx2"].status is Status.OK  # the counted module is also timed

    default = got[f"instructions:{CELL}/default"]
    if "avx512f" in host.describe()["cpu_features"]:
        assert default.status is Status.FAIL and default.error_class == "valgrind-isa"
        assert "`avx2` profile" in (default.message or "")
    else:
        assert default.status is Status.OK, default.message

    counted_flops = got["flops:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0"]
    assert counted_flops.status is Status.OK, counted_flops.message
    assert counted_flops.metrics["flops"] > 0 and counted_flops.metrics["kinds"]["conv"]["flops"] > 0
    measured = got[f"peak:{targets.host_arch()}"]
    assert measured.status is Status.OK, measured.message
    assert measured.metrics["gflops_all"] > 0 and measured.metrics["triad_gbs_1"] > 0
    assert "-march=native" in measured.metrics["method"] and measured.metrics["load_average"]
