"""`iree-matrix tune` and the op-wise bisection for real: tiny_cnn through IREE 3.9.0 under several
profiles on host venvs, each executable of its module benchmarked on its own by the real runtime."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Status

from .conftest import iree_matrix, matrix_toml, records, run_matrix_text

pytestmark = pytest.mark.integration

CELL = "tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64"

MATRIX = matrix_toml(
    tables={
        "profile.bogus": {"flags": ["--iree-no-such-flag=1"]},
        "benchmark": {"repetitions": 2, "dispatches": ["tiny_cnn/default"]},
    }
)


def test_tune_ranks_profiles_skips_unknown_flags_and_bisects_dispatches(
    warm_cache: Path, tmp_path: Path
) -> None:
    cache = warm_cache  # tiny_cnn's export and modules made once per run: not the subject here
    profiles = ("--profiles", "default,stripped,bogus")
    done, results, got = run_matrix_text(MATRIX, cache, tmp_path / "tune.toml", *profiles, command="tune")

    default = got[f"compile:{CELL}/default"]
    assert default.status is Status.OK, default.message
    # The compiler's own statistics, and iree-compile's resident set: a real process's (49.8 MiB and
    # over 50 MiB seen for this module; a shell or a Python stub would be a few MiB).
    assert default.metrics["dispatch_count"] >= default.metrics["executable_count"] > 0
    assert default.metrics["peak_memory_bytes"] > 32 * 2**20
    assert (
        default.metrics["dispatch_benchmarks"] + len(default.metrics["dispatch_benchmark_failures"])
        == (default.metrics["executable_count"])
    )
    stripped = got[f"compile:{CELL}/stripped"]
    assert stripped.status is Status.OK, stripped.message
    assert stripped.metrics["module_bytes"] < default.metrics["module_bytes"]
    assert "--iree-llvmcpu-debug-symbols=false" in stripped.command

    bogus = got[f"compile:{CELL}/bogus"]
    assert bogus.status is Status.SKIP
    assert "--iree-no-such-flag" in bogus.message and "3.9.0" in bogus.message

    ran = got[f"run:{CELL}/default"]
    assert ran.status is Status.OK and ran.metrics["peak_memory_bytes"] > 0

    bisect = got[f"dispatches:{CELL}/default"]
    assert bisect.status is Status.OK, bisect.message
    dispatches = bisect.metrics["dispatches"]
    assert len(dispatches) == bisect.metrics["benchmarked"] == default.metrics["dispatch_benchmarks"] > 0
    assert all("dispatch_" in d["name"] and d["median_us"] > 0 and d["n"] == 2 for d in dispatches)
    assert [d["median_us"] for d in dispatches] == sorted((d["median_us"] for d in dispatches), reverse=True)
    assert any(d["op"].startswith("conv_") for d in dispatches)  # tiny_cnn is convolutions

    assert "fastest correct IREE profile" in done.stdout
    best = next(line for line in done.stdout.splitlines() if line.startswith("| tiny_cnn | x86_64 | 3.9.0"))
    assert "bogus: skipped" in best

    argv = [sys.executable, "-m", "iree_matrix", "report", "--performance", "--results-dir", str(results)]
    report = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr
    performance = (results / "PERFORMANCE.md").read_text()
    assert "## Top dispatches: tiny_cnn (x86_64, profile default)" in performance
    assert dispatches[0]["op"] in performance


def test_retime_measures_stored_runs_again_without_recompiling(warm_cache: Path, tmp_path: Path) -> None:
    cache = warm_cache  # tiny_cnn's export and modules made once per run: not the subject here
    matrix = tmp_path / "retime.toml"
    matrix.write_text(matrix_toml(tables={"benchmark": {"repetitions": 2}}))
    results = tmp_path / "results"
    first = iree_matrix("matrix", "--matrix", str(matrix), "--backend", "venv", cache=cache, results=results)
    assert first.returncode == 0, first.stderr
    before = records(results)[f"run:{CELL}/default"]

    again = iree_matrix(
        "matrix",
        "--matrix",
        str(matrix),
        "--backend",
        "venv",
        "--retime",
        "run:*",
        cache=cache,
        results=results,
    )
    assert again.returncode == 0, again.stderr
    assert f"run     {CELL}/default ..." in again.stderr  # measured again (progress: stderr)
    assert f"compile {CELL}/default = ok (stored result)" in again.stderr  # not recompiled
    after = records(results)[f"run:{CELL}/default"]
    assert after.key == before.key  # the same measurement, taken again
    assert (after.started, after.seconds) != (before.started, before.seconds)
    assert after.status is Status.OK and "other_load" in after.metrics
