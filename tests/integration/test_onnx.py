"""The ONNX front door end to end on host venvs (issue #38 item 3): tiny_cnn exported with
torch.onnx.export at opset 17, imported by IREE 3.13.0's own iree-import-onnx, compiled, run and
checked against torch; then `query export --onnx-opset 17` names the compiler."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Status

from .conftest import matrix_toml, run_matrix_text

pytestmark = pytest.mark.integration

MATRIX = matrix_toml(
    compiler="3.13.0", runtime="same", forms=["onnx"], tables={"benchmark": {"repetitions": 3}}
)
CELL = "tiny_cnn/py3.11-torch2.13.0-turbine3.9.0+onnx1.23.2-opset17"


def test_tiny_cnn_through_onnx_and_iree_3_13_matches_torch(cache: Path, tmp_path: Path) -> None:
    _, results, got = run_matrix_text(MATRIX, cache, tmp_path / "matrix.toml")
    export = got[f"export:{CELL}"]
    assert export.status is Status.OK, export.message
    assert export.metrics["onnx_opset"] == 17 and len(export.metrics["onnx_sha256"]) == 64
    assert export.label.form == "onnx:17"
    compiled = got[f"compile:{CELL}/iree3.13.0/x86_64/default"]
    assert compiled.status is Status.OK, compiled.message
    assert compiled.env["packages"]["onnx"] == "1.23.2"
    assert "model.mlir" in compiled.metrics["artifact_sha256"]  # what iree-import-onnx wrote
    run = got[f"run:{CELL}/iree3.13.0/x86_64/default"]
    assert run.status is Status.OK, run.message
    assert run.metrics["matches"] is True and run.metrics["max_abs_err"] <= run.metrics["atol"]

    argv = [
        sys.executable,
        "-m",
        "iree_matrix",
        "query",
        "export",
        "--onnx-opset",
        "17",
        "--results-dir",
        str(results),
    ]
    answer = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert answer.returncode == 0, answer.stderr
    assert "imports and compiles: 3.13.0" in answer.stdout
    assert "runs and matches torch: 3.13.0" in answer.stdout
