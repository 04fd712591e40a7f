"""Op by op, for real: tiny_cnn through IREE 3.13.0 with the runtime's HAL profiler in context, beside
torch eager's and ONNX Runtime's per-op profiles; and one batch of the flag search on it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from iree_matrix.bundle_runner import gap as runner_gap
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import Status
from iree_matrix.findings.gap import op_kind_times
from iree_matrix.iree import opkinds

from .conftest import TINY_BENCHMARK, iree_matrix, matrix_toml, records, run_matrix_text

pytestmark = pytest.mark.integration

CELL = "tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.13.0/x86_64"

MATRIX = matrix_toml(
    compiler="3.13.0",
    peers=["eager", "onnxruntime"],
    tables={"benchmark": {**TINY_BENCHMARK, "op_timings": ["tiny_cnn/default"]}},
)


def test_dispatches_in_context_beside_the_peers_ops(warm_cache: Path, tmp_path: Path) -> None:
    cache = warm_cache  # tiny_cnn's export and modules made once per run: not the subject here
    _, results, got = run_matrix_text(MATRIX, cache, tmp_path / "matrix.toml")

    ran = got[f"run:{CELL}/default"]
    assert ran.status is Status.OK, ran.message
    profile = ran.metrics["op_profile"]
    # As many calls as fit in about 2 s at the measured median (tiny_cnn: the most, 50).
    assert profile["calls"] == runner_gap.calls_for(ran.metrics["latency_ms"]["median"])
    names = [d["name"] for d in profile["dispatches"]]
    assert all("dispatch_" in n for n in names) and any("conv" in n for n in names)
    assert all(d["per_call"] >= 1 and d["ms_per_call"] > 0 for d in profile["dispatches"])
    # In context, the dispatches add up to less than the call (the rest is the runtime's own work).
    assert 0 < profile["sum_ms"] < 3 * ran.metrics["latency_ms"]["max"]
    assert op_kind_times(profile, "iree")["conv"] > 0

    peer = got["peer:tiny_cnn/py3.11-torch2.13.0-peers-onnxruntime"]  # eager needs no package of its own
    assert peer.status is Status.OK, peer.message
    eager = peer.metrics["peers"]["eager"]["op_profile"]
    assert eager["calls"] == TINY_BENCHMARK["repetitions"] and any(r["weight_shape"] for r in eager["ops"])
    assert op_kind_times(eager, "torch")["conv"] > 0
    ort = peer.metrics["peers"]["onnxruntime"]["op_profile"]
    assert {opkinds.of_onnx(r["op"], r["weight_shape"]) for r in ort["ops"]} >= {"conv"}

    argv = [sys.executable, "-m", "iree_matrix", "report", "--performance", "--results-dir", str(results)]
    report = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert report.returncode == 0, report.stderr
    assert "Where the time goes" in report.stdout and "| conv " in report.stdout


def test_search_batch_one_on_tiny_cnn(warm_cache: Path, tmp_path: Path) -> None:
    cache = warm_cache  # tiny_cnn's export and modules made once per run: not the subject here
    matrix = tmp_path / "search.toml"
    # A knob of the matrix file's own is searched beside the built-in ones (issue #37).
    own = '\n[search.knobs]\nunroll = ["--iree-llvmcpu-loop-unrolling=true"]\n'
    # No op profile: default's run shares its key with a null knob's only when neither profiles.
    plain = MATRIX.replace('peers = ["eager", "onnxruntime"]\n', "").replace(
        'op_timings = ["tiny_cnn/default"]\n', ""
    )
    assert "repetitions = 5\n" in plain
    plain = plain.replace("repetitions = 5\n", "repetitions = 3\n")  # fewer than the search's verdicts need
    matrix.write_text(plain + own)
    results = tmp_path / "results"
    done = iree_matrix(
        "search", "--matrix", str(matrix), "--knobs", "ukernels,im2col,no-data-tiling", "--backend", "venv",
        "--descent-batches", "1", cache=cache, results=results,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    got = records(results)
    for knob in ("default", "ukernels", "im2col", "unroll", "no-data-tiling"):
        assert got[f"run:{CELL}/{knob}"].status is Status.OK, got[f"run:{CELL}/{knob}"].message
    # Data tiling is off by default on 3.13.0 (iree-org/iree#21935): turning it off again gives
    # default's own module, whose timed run it shares, and the verdict says so without timing.
    null, base = got[f"run:{CELL}/no-data-tiling"], got[f"run:{CELL}/default"]
    assert null.metric.of(RunMetrics).module_sha256 == base.metric.of(RunMetrics).module_sha256
    assert null.key == base.key
    assert "flag search, batch 1" in done.stderr  # progress: stderr; the tables: stdout
    every = done.stdout.split("### Every candidate", 1)[1]
    rows = [
        [c.strip() for c in line.strip("|").split("|")] for line in every.splitlines() if "| tiny_cnn" in line
    ]
    verdicts = {row[2]: row[-1] for row in rows}
    assert verdicts["default"] == "baseline", rows
    # The file's three repetitions give no 90 % interval of a median: the search raises them to five
    # and says so (issue #51 item 3), so each knob gets a verdict the interval can carry.
    assert "warning: search: [benchmark] repetitions = 3" in done.stderr
    assert all(
        len(got[f"run:{CELL}/{k}"].metric.of(RunMetrics).cpu_times or []) >= 5 for k in ("default", "unroll")
    )
    assert {verdicts[k] for k in ("ukernels", "im2col", "unroll")} <= {"within noise", "faster", "slower"}, (
        rows
    )
    assert verdicts["no-data-tiling"] == "same module, no difference", rows
